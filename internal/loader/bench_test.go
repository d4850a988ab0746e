package loader

import (
	"bytes"
	"context"
	"io"
	"testing"

	"github.com/tributary-io/tributary/internal/bookings"
)

// BenchmarkLoad loads the whole dataset into an in-process kfake broker. It
// measures the loader's own cost (parsing, encoding, batching) more than a
// broker's; the integration test reports the rate against real Kafka.
func BenchmarkLoad(b *testing.B) {
	rc, err := bookings.Open()
	if err != nil {
		b.Fatal(err)
	}
	data, err := io.ReadAll(rc)
	rc.Close()
	if err != nil {
		b.Fatal(err)
	}
	c := newClusterB(b)
	b.ReportAllocs()
	var produced int64
	for b.Loop() {
		res, err := Load(context.Background(), Config{
			Brokers: c.ListenAddrs(), Topic: "bench", Partitions: 2, Registry: &fakeRegistry{},
		}, bytes.NewReader(data))
		if err != nil {
			b.Fatal(err)
		}
		produced += res.Produced
	}
	b.ReportMetric(float64(produced)/b.Elapsed().Seconds(), "records/s")
}
