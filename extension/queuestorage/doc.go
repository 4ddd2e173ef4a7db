// Package queuestorage is a storage extension for the exporter's persistent sending
// queue. The queue writes each request once, reads it once and deletes it once; this
// storage appends each of those to a segment file and removes a segment when nothing in
// it is live, where file_storage's bbolt rewrites whole B+tree leaves, with every queued
// request in them, on each of the three (docs/performance.md, "What the disk queue
// writes").
//
//go:generate mdatagen metadata.yaml
package queuestorage
