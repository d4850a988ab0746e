package storage

import (
	"bytes"
	"fmt"
	"math/big"
	"reflect"
	"testing"
	"time"

	"github.com/hamba/avro/v2"
	"github.com/hamba/avro/v2/ocf"
)

// readOCF decodes a container file with hamba/avro's reader.
func readOCF(t *testing.T, data []byte) (avro.Schema, map[string][]byte, []map[string]any) {
	t.Helper()
	dec, err := ocf.NewDecoder(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("open container: %v", err)
	}
	var rows []map[string]any
	for dec.HasNext() {
		var row map[string]any
		if err := dec.Decode(&row); err != nil {
			t.Fatalf("decode row %d: %v", len(rows), err)
		}
		rows = append(rows, row)
	}
	if err := dec.Error(); err != nil {
		t.Fatalf("read container: %v", err)
	}
	return dec.Schema(), dec.Metadata(), rows
}

// plain strips hamba's {"branch": value} union wrappers, recursively, so
// decoded rows compare with the values that were written.
func plain(v any) any {
	switch x := v.(type) {
	case map[string]any:
		if len(x) == 1 {
			for k, inner := range x {
				switch k {
				case "string", "long", "int", "double", "long.timestamp-micros",
					"io.tributary.test.Address", "io.tributary.test.Big":
					return plain(inner)
				}
			}
		}
		out := make(map[string]any, len(x))
		for k, inner := range x {
			out[k] = plain(inner)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, inner := range x {
			out[i] = plain(inner)
		}
		return out
	}
	return v
}

func TestAvroRoundTrip(t *testing.T) {
	s := mustSchema(t, orderSchema)
	recs := orderRecords(s)
	for _, codec := range []string{"", "null", "deflate", "snappy", "zstandard"} {
		t.Run("codec "+codec, func(t *testing.T) {
			data := writeFile(t, avroFormat{}, s, WriterOptions{KafkaMetadata: true, Codec: codec},
				recs)
			schema, meta, rows := readOCF(t, data)
			wantCodec := codec
			if codec == "" {
				wantCodec = "null"
			}
			if got := string(meta["avro.codec"]); got != wantCodec {
				t.Errorf("avro.codec = %q, want %q", got, wantCodec)
			}
			rec := schema.(*avro.RecordSchema)
			fields := rec.Fields()
			if n := len(fields); n != 25 {
				t.Fatalf("file schema has %d fields, want 21 + 4", n)
			}
			if f := fields[24]; f.Name() != KafkaTimestampField ||
				f.Type().(*avro.PrimitiveSchema).Logical().Type() != avro.TimestampMillis {
				t.Errorf("last field = %s, want %s timestamp-millis", f.Name(), KafkaTimestampField)
			}
			if len(rows) != len(recs) {
				t.Fatalf("%d rows, want %d", len(rows), len(recs))
			}
			for i, row := range rows {
				got := plain(row).(map[string]any)
				want := recs[i].Value.(map[string]any)
				for name, w := range want {
					if !sameValue(got[name], w) {
						t.Errorf("row %d field %s = %#v, want %#v", i, name, got[name], w)
					}
				}
				if got[KafkaTopicField] != "orders" || got[KafkaPartitionField] != 3 ||
					got[KafkaOffsetField] != int64(1207+i) ||
					!got[KafkaTimestampField].(time.Time).Equal(recs[i].Timestamp) {
					t.Errorf("row %d metadata = %v %v %v %v", i, got[KafkaTopicField],
						got[KafkaPartitionField], got[KafkaOffsetField], got[KafkaTimestampField])
				}
			}
		})
	}
}

// sameValue compares a decoded value with a written one, across the forms
// that differ but mean the same (int widths, times, decimals).
func sameValue(got, want any) bool {
	switch w := want.(type) {
	case *big.Rat:
		g, ok := got.(*big.Rat)
		return ok && g.Cmp(w) == 0
	case time.Time:
		g, ok := got.(time.Time)
		return ok && g.Equal(w)
	case int:
		return fmt.Sprint(got) == fmt.Sprint(w)
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			return false
		}
		for i := range w {
			if !sameValue(g[i], w[i]) {
				return false
			}
		}
		return true
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok || len(g) != len(w) {
			return false
		}
		for k := range w {
			if !sameValue(g[k], w[k]) {
				return false
			}
		}
		return true
	case string:
		// uuid strings decode as written.
		return got == w
	}
	return reflect.DeepEqual(got, want)
}

func TestAvroHeaderIsDeterministic(t *testing.T) {
	s := mustSchema(t, orderSchema)
	a := writeFile(t, avroFormat{}, s, WriterOptions{}, nil)
	b := writeFile(t, avroFormat{}, s, WriterOptions{}, nil)
	if !bytes.Equal(a, b) {
		t.Fatal("two empty files differ")
	}
	other := mustSchema(t, `{"type":"record","name":"Other","fields":[{"name":"x","type":"int"}]}`)
	c := writeFile(t, avroFormat{}, other, WriterOptions{}, nil)
	if bytes.Equal(a[len(a)-16:], c[len(c)-16:]) {
		t.Error("different schemas share a sync marker")
	}
	_, _, rows := readOCF(t, a)
	if len(rows) != 0 {
		t.Errorf("empty file has %d rows", len(rows))
	}
}

func TestAvroNonRecordSchema(t *testing.T) {
	s := mustSchema(t, `"string"`)
	data := writeFile(t, avroFormat{}, s, WriterOptions{}, orderRecordsWith(s, "a", "b"))
	dec, err := ocf.NewDecoder(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for dec.HasNext() {
		var v string
		if err := dec.Decode(&v); err != nil {
			t.Fatal(err)
		}
		got = append(got, v)
	}
	if fmt.Sprint(got) != "[a b]" {
		t.Errorf("values = %v", got)
	}
	if _, err := (avroFormat{}).NewWriter(&bytes.Buffer{}, s,
		WriterOptions{KafkaMetadata: true}); err == nil {
		t.Error("kafka metadata accepted for a string schema")
	}
}

func TestAvroWideUnion(t *testing.T) {
	s := mustSchema(t, `{"type":"record","name":"U","fields":[
		{"name":"v","type":["null","string","long",{"type":"record","name":"R",
		  "fields":[{"name":"x","type":"int"}]}]}]}`)
	values := []any{nil, "s", int64(5), map[string]any{"x": 1}, map[string]any{"long": int64(6)}}
	recs := orderRecordsWith(s)
	for _, v := range values {
		recs = append(recs, orderRecordsWith(s, map[string]any{"v": v})...)
	}
	data := writeFile(t, avroFormat{}, s, WriterOptions{}, recs)
	_, _, rows := readOCF(t, data)
	want := []any{nil, map[string]any{"string": "s"}, map[string]any{"long": int64(5)},
		map[string]any{"R": map[string]any{"x": 1}}, map[string]any{"long": int64(6)}}
	for i := range want {
		if !reflect.DeepEqual(rows[i]["v"], want[i]) {
			t.Errorf("row %d = %#v, want %#v", i, rows[i]["v"], want[i])
		}
	}
}

func BenchmarkAvroWrite(b *testing.B) { benchmarkFormat(b, avroFormat{}, "") }
