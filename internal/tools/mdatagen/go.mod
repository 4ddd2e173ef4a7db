// mdatagen at the collector's pinned version, built for `make generate`. Its config
// schema package, schemagen v0.161.0, is refused by the module proxy here; v0.159.0
// builds the same generator (the receiver's generated code came out byte for byte the
// same with it).
module github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/tools/mdatagen

go 1.26.0

require go.opentelemetry.io/collector/cmd/mdatagen v0.161.0

replace go.opentelemetry.io/collector/internal/schemagen => go.opentelemetry.io/collector/internal/schemagen v0.159.0
