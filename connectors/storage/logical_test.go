package storage

import (
	"fmt"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/tributary-io/tributary/connectors"
	"github.com/tributary-io/tributary/schemas"
)

// logicalCases pair each Avro logical type, with a value as the converter
// decodes it, with the Parquet logical type, the Parquet value and the JSON
// text it must become.
var logicalCases = []struct {
	name, avro  string
	value       any
	pqType, pqV string
	json        string
}{
	{"decimal bytes", `{"type":"bytes","logicalType":"decimal","precision":9,"scale":2}`,
		big.NewRat(-123, 100), "DECIMAL(9,2)", "-123", "-1.23"},
	{"decimal fixed", `{"type":"fixed","name":"F","size":9,"logicalType":"decimal",
		"precision":20,"scale":3}`, big.NewRat(-1, 1000), "DECIMAL(20,3)",
		"ffffffffffffffffff", "-0.001"},
	{"date", `{"type":"int","logicalType":"date"}`,
		time.Date(1969, 12, 31, 0, 0, 0, 0, time.UTC), "DATE", "-1", `"1969-12-31"`},
	{"time-millis", `{"type":"int","logicalType":"time-millis"}`, 1500 * time.Millisecond,
		"TIME(isAdjustedToUTC=false,unit=MILLIS)", "1500", `"00:00:01.500"`},
	{"time-micros", `{"type":"long","logicalType":"time-micros"}`, 1500 * time.Microsecond,
		"TIME(isAdjustedToUTC=false,unit=MICROS)", "1500", `"00:00:00.001500"`},
	{"timestamp-millis", `{"type":"long","logicalType":"timestamp-millis"}`,
		time.UnixMilli(1714953600123).UTC(), "TIMESTAMP(isAdjustedToUTC=true,unit=MILLIS)",
		"1714953600123", `"2024-05-06T00:00:00.123Z"`},
	{"timestamp-micros", `{"type":"long","logicalType":"timestamp-micros"}`,
		time.UnixMicro(-1).UTC(), "TIMESTAMP(isAdjustedToUTC=true,unit=MICROS)", "-1",
		`"1969-12-31T23:59:59.999999Z"`},
	{"local-timestamp-millis", `{"type":"long","logicalType":"local-timestamp-millis"}`,
		time.UnixMilli(5).UTC(), "TIMESTAMP(isAdjustedToUTC=false,unit=MILLIS)", "5",
		`"1970-01-01T00:00:00.005"`},
	{"local-timestamp-micros", `{"type":"long","logicalType":"local-timestamp-micros"}`,
		time.UnixMicro(7).UTC(), "TIMESTAMP(isAdjustedToUTC=false,unit=MICROS)", "7",
		`"1970-01-01T00:00:00.000007"`},
	{"uuid", `{"type":"string","logicalType":"uuid"}`, "9b2f0c1e-5b1e-4b7f-8a3d-9a0e6d1c2b44",
		"UUID", "9b2f0c1e5b1e4b7f8a3d9a0e6d1c2b44", `"9b2f0c1e-5b1e-4b7f-8a3d-9a0e6d1c2b44"`},
}

func logicalRecord(t *testing.T, avroType string, v any) (*schemas.Schema, []*connectors.Record) {
	t.Helper()
	s := mustSchema(t, `{"type":"record","name":"R","fields":[{"name":"v","type":`+avroType+`}]}`)
	return s, []*connectors.Record{{Topic: "t", ValueSchema: s, Value: map[string]any{"v": v}}}
}

func TestLogicalTypesParquet(t *testing.T) {
	for _, tc := range logicalCases {
		t.Run(tc.name, func(t *testing.T) {
			s, recs := logicalRecord(t, tc.avro, tc.value)
			f := openParquet(t, writeFile(t, parquetFormat{}, s, WriterOptions{}, recs))
			leaf, _ := f.Schema().Lookup("v")
			if got := fmt.Sprint(leaf.Node.Type().LogicalType()); got != tc.pqType {
				t.Errorf("parquet logical type %s, want %s", got, tc.pqType)
			}
			vals := leafValues(t, f, "v")
			if len(vals) != 1 || !strings.HasSuffix(vals[0], ":"+tc.pqV) {
				t.Errorf("parquet values %v, want %s", vals, tc.pqV)
			}
		})
	}
}

func TestLogicalTypesJSON(t *testing.T) {
	for _, tc := range logicalCases {
		t.Run(tc.name, func(t *testing.T) {
			s, recs := logicalRecord(t, tc.avro, tc.value)
			got := string(writeFile(t, jsonFormat{}, s, WriterOptions{}, recs))
			if want := `{"v":` + tc.json + "}\n"; got != want {
				t.Errorf("json %s, want %s", got, want)
			}
		})
	}
}
