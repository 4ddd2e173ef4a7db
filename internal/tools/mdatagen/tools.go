//go:build tools

// Package mdatagen pins the mdatagen command for `make generate`.
package mdatagen

import _ "go.opentelemetry.io/collector/cmd/mdatagen"
