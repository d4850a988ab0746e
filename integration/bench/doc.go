// Package bench measures the main job end to end: booking actions
// replicated to millions of records, from real Kafka into Parquet on real
// MinIO, exactly once. Run it with `make bench`; it reports the worker's
// records per second, CPU microseconds per record and peak memory.
package bench
