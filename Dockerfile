# The otelcol-amazonconnect image: the binary `make build` leaves, on a distroless base
# (CA certificates, a nonroot user, nothing else). Build the binary first, for the
# nodes' OS and architecture (a Linux host of the same architecture, or GOOS/GOARCH):
#   make build
#   docker build -t REGISTRY/otelcol-amazonconnect:VERSION .
# The binary is statically linked (CGO off), so no libc is needed.
FROM gcr.io/distroless/static-debian12:nonroot
COPY _build/otelcol-amazonconnect /otelcol-amazonconnect
USER nonroot:nonroot
ENTRYPOINT ["/otelcol-amazonconnect"]
