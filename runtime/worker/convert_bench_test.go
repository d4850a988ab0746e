package worker

import (
	"context"
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"
)

// BenchmarkConvert measures the convert step of a keyed record without
// headers and without transforms, the shape of the bench pipeline's records.
func BenchmarkConvert(b *testing.B) {
	tk := newDeliverTask(&recordingSink{})
	kr := kafkaRecords(1)[0]
	kr.Key = []byte("user-42")
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := tk.convert(ctx, kr); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkConvertHeaders is BenchmarkConvert with two headers.
func BenchmarkConvertHeaders(b *testing.B) {
	tk := newDeliverTask(&recordingSink{})
	kr := kafkaRecords(1)[0]
	kr.Key = []byte("user-42")
	kr.Headers = []kgo.RecordHeader{{Key: "source", Value: []byte("web")},
		{Key: "attempt", Value: []byte("3")}}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := tk.convert(ctx, kr); err != nil {
			b.Fatal(err)
		}
	}
}
