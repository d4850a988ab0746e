package storage

import (
	"bytes"
	"errors"
	"flag"
	"math/big"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/hamba/avro/v2"

	"github.com/tributary-io/tributary/connectors"
	"github.com/tributary-io/tributary/schemas"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// orderSchema covers every Avro type and logical type the formats map.
const orderSchema = `{
  "type": "record", "name": "Order", "namespace": "io.tributary.test",
  "fields": [
    {"name": "id", "type": "long"},
    {"name": "customer", "type": ["null", "string"], "default": null},
    {"name": "status", "type": {"type": "enum", "name": "Status",
      "symbols": ["NEW", "PAID", "SHIPPED"]}},
    {"name": "price", "type": {"type": "bytes", "logicalType": "decimal",
      "precision": 10, "scale": 2}},
    {"name": "big", "type": ["null", {"type": "fixed", "name": "Big", "size": 16,
      "logicalType": "decimal", "precision": 30, "scale": 4}]},
    {"name": "small", "type": {"type": "bytes", "logicalType": "decimal",
      "precision": 5, "scale": 1}},
    {"name": "day", "type": {"type": "int", "logicalType": "date"}},
    {"name": "at", "type": {"type": "long", "logicalType": "timestamp-millis"}},
    {"name": "at_us", "type": ["null", {"type": "long",
      "logicalType": "timestamp-micros"}]},
    {"name": "local", "type": {"type": "long", "logicalType": "local-timestamp-millis"}},
    {"name": "clock", "type": {"type": "int", "logicalType": "time-millis"}},
    {"name": "ref", "type": {"type": "string", "logicalType": "uuid"}},
    {"name": "ok", "type": "boolean"},
    {"name": "ratio", "type": "float"},
    {"name": "score", "type": ["null", "double"]},
    {"name": "blob", "type": "bytes"},
    {"name": "hash", "type": {"type": "fixed", "name": "Hash", "size": 4}},
    {"name": "tags", "type": {"type": "array", "items": "string"}},
    {"name": "attrs", "type": {"type": "map", "values": ["null", "long"]}},
    {"name": "address", "type": ["null", {"type": "record", "name": "Address",
      "fields": [{"name": "city", "type": "string"},
                 {"name": "zip", "type": ["null", "int"]}]}]},
    {"name": "lines", "type": {"type": "array", "items": {"type": "record",
      "name": "Line", "fields": [{"name": "sku", "type": "string"},
                                 {"name": "qty", "type": "int"}]}}}
  ]
}`

func mustSchema(t testing.TB, text string) *schemas.Schema {
	t.Helper()
	s, err := avro.ParseWithCache(text, "", &avro.SchemaCache{})
	if err != nil {
		t.Fatalf("parse schema: %v", err)
	}
	return &schemas.Schema{ID: 1, Avro: s, Text: text}
}

func rat(s string) *big.Rat {
	r, ok := new(big.Rat).SetString(s)
	if !ok {
		panic("bad decimal " + s)
	}
	return r
}

func date(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

// orderRecords returns a fixed set of records: nulls, empty collections,
// negative decimals and nested values all appear at least once.
func orderRecords(s *schemas.Schema) []*connectors.Record {
	base := time.Date(2015, 7, 1, 12, 34, 56, 789_000_000, time.UTC)
	values := []map[string]any{
		{
			"id": int64(1), "customer": "alice", "status": "NEW", "price": rat("75.50"),
			"big": rat("12345678901234567890.1234"), "small": rat("-12.5"),
			"day": date(2015, 7, 1), "at": base, "at_us": base.Add(123 * time.Microsecond),
			"local": base, "clock": 13*time.Hour + 5*time.Minute + 7*time.Second + 8*time.Millisecond,
			"ref": "6ba7b810-9dad-11d1-80b4-00c04fd430c8", "ok": true,
			"ratio": float32(0.25), "score": 99.5, "blob": []byte{0, 1, 2},
			"hash":    [4]byte{0xde, 0xad, 0xbe, 0xef},
			"tags":    []any{"a", "b/c"},
			"attrs":   map[string]any{"z": int64(26), "a": nil},
			"address": map[string]any{"city": "Lisbon", "zip": 1000},
			"lines": []any{
				map[string]any{"sku": "X-1", "qty": 2},
				map[string]any{"sku": "Y-2", "qty": 1},
			},
		},
		{
			"id": int64(2), "customer": nil, "status": "PAID", "price": rat("-0.01"),
			"big": nil, "small": rat("0"),
			"day": date(1969, 12, 31), "at": base.Add(-48 * time.Hour), "at_us": nil,
			"local": base.Add(time.Hour), "clock": time.Duration(0),
			"ref": "00000000-0000-0000-0000-000000000000", "ok": false,
			"ratio": float32(-1.5), "score": nil, "blob": []byte{},
			"hash":    [4]byte{1, 2, 3, 4},
			"tags":    []any{},
			"attrs":   map[string]any{},
			"address": nil,
			"lines":   []any{},
		},
		{
			"id": int64(3), "customer": "\"bob\"\n<&>", "status": "SHIPPED",
			"price": rat("99999999.99"), "big": rat("-0.0001"), "small": rat("9999.9"),
			"day": date(2024, 2, 29), "at": base.Add(365 * 24 * time.Hour),
			"at_us": base, "local": base, "clock": 23*time.Hour + 59*time.Minute,
			"ref": "F47AC10B-58CC-4372-A567-0E02B2C3D479", "ok": true,
			"ratio": float32(3), "score": 1e-9, "blob": []byte("héllo"),
			"hash": [4]byte{}, "tags": []any{"x"},
			"attrs":   map[string]any{"only": int64(-7)},
			"address": map[string]any{"city": "Porto", "zip": nil},
			"lines":   []any{map[string]any{"sku": "Z", "qty": 10}},
		},
	}
	recs := make([]*connectors.Record, len(values))
	for i, v := range values {
		recs[i] = &connectors.Record{
			Topic: "orders", Partition: 3, Offset: int64(1207 + i),
			Timestamp:   base.Add(time.Duration(i) * time.Second),
			ValueSchema: s, Value: v,
		}
	}
	return recs
}

// writeFile writes recs with f and returns the file's bytes.
func writeFile(t testing.TB, f Format, s *schemas.Schema, opts WriterOptions,
	recs []*connectors.Record,
) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := f.NewWriter(&buf, s, opts)
	if err != nil {
		t.Fatalf("%s: new writer: %v", f.Name(), err)
	}
	for _, r := range recs {
		if err := w.Write(r); err != nil {
			t.Fatalf("%s: write: %v", f.Name(), err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatalf("%s: close: %v", f.Name(), err)
	}
	return buf.Bytes()
}

func allFormats(t *testing.T) []Format {
	var out []Format
	for _, name := range []string{"parquet", "avro", "json"} {
		f, err := NewFormat(name)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, f)
	}
	return out
}

func TestNewFormat(t *testing.T) {
	tests := []struct {
		name, want, ext string
	}{
		{"parquet", "parquet", ".parquet"},
		{"io.confluent.connect.s3.format.parquet.ParquetFormat", "parquet", ".parquet"},
		{"avro", "avro", ".avro"},
		{"io.confluent.connect.s3.format.avro.AvroFormat", "avro", ".avro"},
		{"JSON", "json", ".json"},
		{"io.confluent.connect.s3.format.json.JsonFormat", "json", ".json"},
	}
	for _, tt := range tests {
		f, err := NewFormat(tt.name)
		if err != nil {
			t.Fatalf("NewFormat(%q): %v", tt.name, err)
		}
		if f.Name() != tt.want || f.Extension() != tt.ext {
			t.Errorf("NewFormat(%q) = %s %s, want %s %s", tt.name, f.Name(), f.Extension(),
				tt.want, tt.ext)
		}
	}
	if _, err := NewFormat("csv"); err == nil {
		t.Error("NewFormat(csv) succeeded")
	}
}

// TestGolden compares each format's output for the fixed records with the
// files in testdata/, byte for byte. Run with -update to rewrite them.
func TestGolden(t *testing.T) {
	s := mustSchema(t, orderSchema)
	recs := orderRecords(s)
	for _, f := range allFormats(t) {
		t.Run(f.Name(), func(t *testing.T) {
			got := writeFile(t, f, s, WriterOptions{KafkaMetadata: true}, recs)
			path := filepath.Join("testdata", "orders"+f.Extension())
			if *update {
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("read golden file (run go test -update to create it): %v", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s differs from %s (%d bytes, want %d); run go test -update if the "+
					"change is intended", f.Name(), path, len(got), len(want))
			}
		})
	}
}

// TestDeterministic writes the same records twice per format and codec,
// with buffers small enough to cut many blocks and row groups, and wants
// identical bytes.
func TestDeterministic(t *testing.T) {
	s := mustSchema(t, orderSchema)
	var recs []*connectors.Record
	for i := 0; i < 300; i++ {
		recs = append(recs, orderRecords(s)...)
	}
	codecs := map[string][]string{
		"parquet": {"", "none", "gzip", "zstd", "lz4", "brotli"},
		"avro":    {"", "deflate", "snappy", "zstandard"},
		"json":    {"", "gzip"},
	}
	for _, f := range allFormats(t) {
		for _, codec := range codecs[f.Name()] {
			opts := WriterOptions{KafkaMetadata: true, Codec: codec, MaxBufferBytes: 16 << 10}
			a := writeFile(t, f, s, opts, recs)
			b := writeFile(t, f, s, opts, recs)
			if !bytes.Equal(a, b) {
				t.Errorf("%s codec %q: two writes of the same records differ", f.Name(), codec)
			}
			pos, err := f.ReadPositions(bytes.NewReader(a), int64(len(a)))
			if err != nil {
				t.Fatalf("%s codec %q: read positions: %v", f.Name(), codec, err)
			}
			if len(pos) != len(recs) {
				t.Fatalf("%s codec %q: %d positions, want %d", f.Name(), codec, len(pos), len(recs))
			}
		}
	}
}

func TestReadPositions(t *testing.T) {
	s := mustSchema(t, orderSchema)
	recs := orderRecords(s)
	recs[1].Partition, recs[2].Topic = 7, "other"
	want := []Position{
		{Topic: "orders", Partition: 3, Offset: 1207},
		{Topic: "orders", Partition: 7, Offset: 1208},
		{Topic: "other", Partition: 3, Offset: 1209},
	}
	for _, f := range allFormats(t) {
		data := writeFile(t, f, s, WriterOptions{KafkaMetadata: true}, recs)
		got, err := f.ReadPositions(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			t.Fatalf("%s: %v", f.Name(), err)
		}
		if len(got) != len(want) {
			t.Fatalf("%s: got %v, want %v", f.Name(), got, want)
		}
		for i := range want {
			if got[i] != want[i] {
				t.Errorf("%s: position %d = %+v, want %+v", f.Name(), i, got[i], want[i])
			}
		}

		plain := writeFile(t, f, s, WriterOptions{}, recs)
		_, err = f.ReadPositions(bytes.NewReader(plain), int64(len(plain)))
		if !errors.Is(err, ErrNoKafkaMetadata) {
			t.Errorf("%s without metadata: err = %v, want ErrNoKafkaMetadata", f.Name(), err)
		}
	}
}

func TestWriteErrorsNameRecordAndField(t *testing.T) {
	s := mustSchema(t, orderSchema)
	for _, f := range allFormats(t) {
		recs := orderRecords(s)
		recs[0].Value.(map[string]any)["price"] = "75.50"
		w, err := f.NewWriter(&bytes.Buffer{}, s, WriterOptions{})
		if err != nil {
			t.Fatal(err)
		}
		err = w.Write(recs[0])
		if err == nil {
			t.Fatalf("%s: wrong type accepted", f.Name())
		}
		want := "encode record orders/3@1207: field price: want decimal (*big.Rat), got string"
		if err.Error() != want {
			t.Errorf("%s: err = %q, want %q", f.Name(), err, want)
		}
	}
}

func TestDecimalEncoding(t *testing.T) {
	tests := []struct {
		value string
		scale int
		size  int
		want  []byte
		err   bool
	}{
		{"75.50", 2, 0, []byte{0x1d, 0x7e}, false},
		{"-0.01", 2, 0, []byte{0xff}, false},
		{"1.28", 2, 0, []byte{0x00, 0x80}, false},
		{"-1.28", 2, 0, []byte{0x80}, false},
		{"-1.29", 2, 0, []byte{0xff, 0x7f}, false},
		{"0", 2, 0, []byte{0x00}, false},
		{"1.5", 2, 4, []byte{0, 0, 0, 0x96}, false},
		{"-1.5", 2, 4, []byte{0xff, 0xff, 0xff, 0x6a}, false},
		{"-1", 0, 10, []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, false},
		{"1.234", 2, 0, nil, true},
		{"99999999999999999999", 0, 0,
			[]byte{0x05, 0x6b, 0xc7, 0x5e, 0x2d, 0x63, 0x0f, 0xff, 0xff}, false},
		{"-99999999999999999999", 0, 0,
			[]byte{0xfa, 0x94, 0x38, 0xa1, 0xd2, 0x9c, 0xf0, 0x00, 0x01}, false},
		{"300", 0, 1, nil, true},
	}
	for _, tt := range tests {
		got, err := appendDecimalBytes(nil, rat(tt.value), tt.scale, tt.size)
		if (err != nil) != tt.err {
			t.Errorf("%s scale %d size %d: err = %v", tt.value, tt.scale, tt.size, err)
			continue
		}
		if !tt.err && !bytes.Equal(got, tt.want) {
			t.Errorf("%s scale %d size %d = %x, want %x", tt.value, tt.scale, tt.size, got, tt.want)
		}
	}
}

func TestEpochDays(t *testing.T) {
	tests := []struct {
		t    time.Time
		want int64
	}{
		{date(1970, 1, 1), 0},
		{date(1970, 1, 2), 1},
		{date(1969, 12, 31), -1},
		{date(2015, 7, 1), 16617},
		{time.Date(1969, 12, 31, 23, 0, 0, 0, time.UTC), -1},
	}
	for _, tt := range tests {
		if got := epochDays(tt.t); got != tt.want {
			t.Errorf("epochDays(%v) = %d, want %d", tt.t, got, tt.want)
		}
	}
}

// orderRecordsWith wraps values in records of schema s.
func orderRecordsWith(s *schemas.Schema, values ...any) []*connectors.Record {
	recs := make([]*connectors.Record, len(values))
	for i, v := range values {
		recs[i] = &connectors.Record{Topic: "t", Offset: int64(i), ValueSchema: s, Value: v,
			Timestamp: time.UnixMilli(int64(i))}
	}
	return recs
}
