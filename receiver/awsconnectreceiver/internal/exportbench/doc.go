// Package exportbench measures the export path alone, in process: the receiver's log
// requests through the shipped OTLP exporter and its sending_queue, on disk (file_storage,
// and queue_storage as shipped), on a storage that costs nothing, and in memory. It holds
// benchmarks only.
package exportbench
