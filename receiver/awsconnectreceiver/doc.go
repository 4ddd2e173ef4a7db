// Package awsconnectreceiver reads the Amazon Connect agent event stream from Amazon
// Kinesis and emits each agent event as an OTLP log record.
//
//go:generate mdatagen metadata.yaml
package awsconnectreceiver
