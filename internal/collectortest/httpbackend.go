package collectortest

import (
	"compress/gzip"
	"context"
	"io"
	"net"
	"net/http"

	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	"go.opentelemetry.io/collector/pdata/pmetric/pmetricotlp"
)

// ServeOTLPHTTP serves the same backend over OTLP/HTTP (protobuf, gzip or not) on addr
// ("127.0.0.1:0" for any port), for the otlp_http exporter, and returns its base URL;
// Down stops it too.
func (b *Backend) ServeOTLPHTTP(addr string) (string, error) {
	lis, err := net.Listen("tcp", addr)
	if err != nil {
		return "", err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/logs", func(w http.ResponseWriter, r *http.Request) {
		req := plogotlp.NewExportRequest()
		if !decodeOTLP(w, r, req.UnmarshalProto) {
			return
		}
		resp, _ := b.Export(r.Context(), req)
		writeOTLP(w, resp.MarshalProto)
	})
	mux.HandleFunc("POST /v1/metrics", func(w http.ResponseWriter, r *http.Request) {
		req := pmetricotlp.NewExportRequest()
		if !decodeOTLP(w, r, req.UnmarshalProto) {
			return
		}
		resp, _ := (&metricsService{b: b}).Export(r.Context(), req)
		writeOTLP(w, resp.MarshalProto)
	})
	srv := &http.Server{Handler: mux}
	b.mu.Lock()
	b.httpServers = append(b.httpServers, srv)
	b.mu.Unlock()
	go func() { _ = srv.Serve(lis) }()
	return "http://" + lis.Addr().String(), nil
}

// decodeOTLP reads a protobuf request body, gunzipped if so encoded; a body it cannot
// read is answered 400, which the exporter does not retry.
func decodeOTLP(w http.ResponseWriter, r *http.Request, unmarshal func([]byte) error) bool {
	var body io.Reader = r.Body
	if r.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return false
		}
		defer zr.Close()
		body = zr
	}
	data, err := io.ReadAll(body)
	if err == nil {
		err = unmarshal(data)
	}
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return false
	}
	return true
}

func writeOTLP(w http.ResponseWriter, marshal func() ([]byte, error)) {
	data, err := marshal()
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/x-protobuf")
	_, _ = w.Write(data)
}

// downHTTP closes the OTLP/HTTP servers and their connections.
func (b *Backend) downHTTP() {
	b.mu.Lock()
	servers := b.httpServers
	b.httpServers = nil
	b.mu.Unlock()
	for _, srv := range servers {
		_ = srv.Shutdown(context.Background())
	}
}
