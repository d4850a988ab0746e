package storage

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"math"
	"strings"
	"testing"
)

func TestJSONLines(t *testing.T) {
	s := mustSchema(t, orderSchema)
	data := writeFile(t, jsonFormat{}, s, WriterOptions{}, orderRecords(s))
	lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
	if len(lines) != 3 {
		t.Fatalf("%d lines, want 3", len(lines))
	}
	want := `{"id":2,"customer":null,"status":"PAID","price":-0.01,"big":null,"small":0.0,` +
		`"day":"1969-12-31","at":"2015-06-29T12:34:56.789Z","at_us":null,` +
		`"local":"2015-07-01T13:34:56.789","clock":"00:00:00.000",` +
		`"ref":"00000000-0000-0000-0000-000000000000","ok":false,"ratio":-1.5,"score":null,` +
		`"blob":"","hash":"AQIDBA==","tags":[],"attrs":{},"address":null,"lines":[]}`
	if lines[1] != want {
		t.Errorf("line 2 =\n%s\nwant\n%s", lines[1], want)
	}
	for i, line := range lines {
		if !json.Valid([]byte(line)) {
			t.Errorf("line %d is not valid JSON: %s", i+1, line)
		}
	}
}

func TestJSONScalars(t *testing.T) {
	tests := []struct {
		schema string
		value  any
		want   string
	}{
		{`"double"`, 1e21, `1e+21`},
		{`"double"`, 123456.0, `123456`},
		{`"double"`, 0.000001, `0.000001`},
		{`"double"`, 1e-7, `1e-07`},
		{`"double"`, math.NaN(), `"NaN"`},
		{`"double"`, math.Inf(-1), `"-Infinity"`},
		{`"float"`, float32(0.1), `0.1`},
		{`"string"`, "tab\there \u2028 \x01 \xff é", `"tab\there \u2028 \u0001 \ufffd é"`},
		{`{"type":"bytes","logicalType":"decimal","precision":4,"scale":3}`,
			rat("-0.005"), `-0.005`},
		{`{"type":"bytes","logicalType":"decimal","precision":30,"scale":2}`,
			rat("-123456789012345678901234.5"), `-123456789012345678901234.50`},
		{`{"type":"bytes","logicalType":"decimal","precision":4,"scale":0}`, rat("12"), `12`},
		{`{"type":"long","logicalType":"time-micros"}`, int64(0), ``},
		{`["null","long"]`, map[string]any{"long": int64(4)}, `4`},
		{`{"type":"map","values":"int"}`, map[string]any{"b": 2, "a": 1}, `{"a":1,"b":2}`},
	}
	for _, tt := range tests {
		s := mustSchema(t, tt.schema)
		var buf bytes.Buffer
		w, err := jsonFormat{}.NewWriter(&buf, s, WriterOptions{})
		if err != nil {
			t.Fatal(err)
		}
		err = w.Write(orderRecordsWith(s, tt.value)[0])
		if tt.want == "" {
			if err == nil {
				t.Errorf("%s %v: wrong type accepted", tt.schema, tt.value)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%s %v: %v", tt.schema, tt.value, err)
		}
		_ = w.Close()
		if got := strings.TrimSuffix(buf.String(), "\n"); got != tt.want {
			t.Errorf("%s %v = %s, want %s", tt.schema, tt.value, got, tt.want)
		}
	}
}

func TestJSONGzip(t *testing.T) {
	s := mustSchema(t, orderSchema)
	plainData := writeFile(t, jsonFormat{}, s, WriterOptions{KafkaMetadata: true}, orderRecords(s))
	gz := writeFile(t, jsonFormat{}, s, WriterOptions{KafkaMetadata: true, Codec: "gzip"},
		orderRecords(s))
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, plainData) {
		t.Error("gzip stream does not hold the plain lines")
	}
	if _, err := (jsonFormat{}).NewWriter(io.Discard, s, WriterOptions{Codec: "lzo"}); err == nil {
		t.Error("unknown codec accepted")
	}
}

func BenchmarkJSONWrite(b *testing.B) { benchmarkFormat(b, jsonFormat{}, "") }
