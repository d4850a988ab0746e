// Package pipeline holds the end-to-end tests of the main job: booking
// actions from real Kafka into Parquet on real MinIO, read back by an
// independent reader, through crashes, restarts and zombie workers. The
// tests carry the build tag integration; `make test` starts the services.
package pipeline
