package storage

import (
	"bytes"
	"fmt"
	"io"
	"math/big"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go"

	"github.com/tributary-io/tributary/connectors"
	"github.com/tributary-io/tributary/schemas"
	"github.com/tributary-io/tributary/schemas/actions"
)

// leafValues reads every value of one leaf column, with its levels, as
// "r/d:value" strings.
func leafValues(t *testing.T, f *parquet.File, path ...string) []string {
	t.Helper()
	leaf, ok := f.Schema().Lookup(path...)
	if !ok {
		t.Fatalf("no column %v", path)
	}
	var out []string
	for _, rg := range f.RowGroups() {
		pages := rg.ColumnChunks()[leaf.ColumnIndex].Pages()
		for {
			page, err := pages.ReadPage()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			vals := make([]parquet.Value, page.NumValues())
			if _, err := page.Values().ReadValues(vals); err != nil && err != io.EOF {
				t.Fatal(err)
			}
			for _, v := range vals {
				s := "null"
				if !v.IsNull() {
					switch v.Kind() {
					case parquet.ByteArray, parquet.FixedLenByteArray:
						s = fmt.Sprintf("%x", v.ByteArray())
						if leaf.Node.Type().Kind() == parquet.ByteArray {
							s = string(v.ByteArray())
						}
					default:
						s = v.String()
					}
				}
				out = append(out,
					fmt.Sprintf("%d/%d:%s", v.RepetitionLevel(), v.DefinitionLevel(), s))
			}
		}
		pages.Close()
	}
	return out
}

func openParquet(t *testing.T, data []byte) *parquet.File {
	t.Helper()
	f, err := parquet.OpenFile(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatalf("open parquet: %v", err)
	}
	return f
}

func TestParquetSchema(t *testing.T) {
	s := mustSchema(t, orderSchema)
	data := writeFile(t, parquetFormat{}, s, WriterOptions{KafkaMetadata: true}, orderRecords(s))
	f := openParquet(t, data)

	// Columns keep the Avro field order, metadata last.
	var names []string
	for _, field := range f.Schema().Fields() {
		names = append(names, field.Name())
	}
	want := "[id customer status price big small day at at_us local clock ref ok ratio score " +
		"blob hash tags attrs address lines _kafka_topic _kafka_partition _kafka_offset " +
		"_kafka_timestamp]"
	if got := fmt.Sprint(names); got != want {
		t.Errorf("columns = %s\nwant      %s", got, want)
	}

	types := []struct {
		path []string
		want string
	}{
		{[]string{"id"}, "INT(64,true)"},
		{[]string{"customer"}, "STRING"},
		{[]string{"status"}, "ENUM"},
		{[]string{"price"}, "DECIMAL(10,2)"},
		{[]string{"big"}, "DECIMAL(30,4)"},
		{[]string{"small"}, "DECIMAL(5,1)"},
		{[]string{"day"}, "DATE"},
		{[]string{"at"}, "TIMESTAMP(isAdjustedToUTC=true,unit=MILLIS)"},
		{[]string{"at_us"}, "TIMESTAMP(isAdjustedToUTC=true,unit=MICROS)"},
		{[]string{"local"}, "TIMESTAMP(isAdjustedToUTC=false,unit=MILLIS)"},
		{[]string{"clock"}, "TIME(isAdjustedToUTC=false,unit=MILLIS)"},
		{[]string{"ref"}, "UUID"},
		{[]string{"_kafka_timestamp"}, "TIMESTAMP(isAdjustedToUTC=true,unit=MILLIS)"},
	}
	for _, tt := range types {
		leaf, ok := f.Schema().Lookup(tt.path...)
		if !ok {
			t.Errorf("no column %v", tt.path)
			continue
		}
		if got := leaf.Node.Type().String(); got != tt.want {
			t.Errorf("column %v type = %s, want %s", tt.path, got, tt.want)
		}
	}
	physical := map[string]parquet.Kind{
		"price": parquet.Int64, "small": parquet.Int32, "big": parquet.FixedLenByteArray,
		"ref": parquet.FixedLenByteArray,
	}
	for name, kind := range physical {
		leaf, _ := f.Schema().Lookup(name)
		if got := leaf.Node.Type().Kind(); got != kind {
			t.Errorf("column %s physical type = %s, want %s", name, got, kind)
		}
	}
}

func TestParquetValues(t *testing.T) {
	s := mustSchema(t, orderSchema)
	data := writeFile(t, parquetFormat{}, s, WriterOptions{KafkaMetadata: true}, orderRecords(s))
	f := openParquet(t, data)
	if f.NumRows() != 3 {
		t.Fatalf("rows = %d, want 3", f.NumRows())
	}
	tests := []struct {
		path []string
		want string
	}{
		{[]string{"id"}, "[0/0:1 0/0:2 0/0:3]"},
		{[]string{"customer"}, "[0/1:alice 0/0:null 0/1:\"bob\"\n<&>]"},
		{[]string{"status"}, "[0/0:NEW 0/0:PAID 0/0:SHIPPED]"},
		{[]string{"price"}, "[0/0:7550 0/0:-1 0/0:9999999999]"},
		{[]string{"big"}, "[0/1:0000000000001a249b1f10a06c96aff2 0/0:null " +
			"0/1:ffffffffffffffffffffffffffffffff]"},
		{[]string{"small"}, "[0/0:-125 0/0:0 0/0:99999]"},
		{[]string{"day"}, "[0/0:16617 0/0:-1 0/0:19782]"},
		{[]string{"at"}, "[0/0:1435754096789 0/0:1435581296789 0/0:1467290096789]"},
		{[]string{"at_us"}, "[0/1:1435754096789123 0/0:null 0/1:1435754096789000]"},
		{[]string{"clock"}, "[0/0:47107008 0/0:0 0/0:86340000]"},
		{[]string{"ref"}, "[0/0:6ba7b8109dad11d180b400c04fd430c8 " +
			"0/0:00000000000000000000000000000000 0/0:f47ac10b58cc4372a5670e02b2c3d479]"},
		{[]string{"ok"}, "[0/0:true 0/0:false 0/0:true]"},
		{[]string{"score"}, "[0/1:99.5 0/0:null 0/1:1e-09]"},
		{[]string{"tags", "list", "element"}, "[0/1:a 1/1:b/c 0/0:null 0/1:x]"},
		{[]string{"attrs", "key_value", "key"}, "[0/1:a 1/1:z 0/0:null 0/1:only]"},
		{[]string{"attrs", "key_value", "value"}, "[0/1:null 1/2:26 0/0:null 0/2:-7]"},
		{[]string{"address", "city"}, "[0/1:Lisbon 0/0:null 0/1:Porto]"},
		{[]string{"address", "zip"}, "[0/2:1000 0/0:null 0/1:null]"},
		{[]string{"lines", "list", "element", "sku"}, "[0/1:X-1 1/1:Y-2 0/0:null 0/1:Z]"},
		{[]string{"lines", "list", "element", "qty"}, "[0/1:2 1/1:1 0/0:null 0/1:10]"},
		{[]string{"_kafka_offset"}, "[0/0:1207 0/0:1208 0/0:1209]"},
	}
	for _, tt := range tests {
		if got := fmt.Sprint(leafValues(t, f, tt.path...)); got != tt.want {
			t.Errorf("column %v = %s\nwant %s", tt.path, got, tt.want)
		}
	}
}

func TestParquetBigDecimalBytes(t *testing.T) {
	s := mustSchema(t, orderSchema)
	data := writeFile(t, parquetFormat{}, s, WriterOptions{}, orderRecords(s))
	vals := leafValues(t, openParquet(t, data), "big")
	// 12345678901234567890.1234 scaled by 10^4, as 16 big-endian bytes.
	want := new(big.Int)
	want.SetString("123456789012345678901234", 10)
	var b [16]byte
	want.FillBytes(b[:])
	if vals[0] != fmt.Sprintf("0/1:%x", b) {
		t.Errorf("big[0] = %s, want 0/1:%x", vals[0], b)
	}
}

func TestParquetRejectsWideUnions(t *testing.T) {
	s := mustSchema(t, `{"type":"record","name":"U","fields":[
		{"name":"v","type":["null","string","long"]}]}`)
	_, err := parquetFormat{}.NewWriter(io.Discard, s, WriterOptions{})
	if err == nil {
		t.Fatal("union of string and long accepted")
	}
}

// countingWriter counts what reached it.
type countingWriter struct{ n int64 }

func (w *countingWriter) Write(p []byte) (int, error) {
	w.n += int64(len(p))
	return len(p), nil
}

// TestParquetBoundedBuffer writes far more than the buffer bound and
// checks that bytes reach the writer as rows come, in several row groups,
// while the writer never holds much more than the bound.
func TestParquetBoundedBuffer(t *testing.T) {
	s := mustSchema(t, actions.Booking)
	recs := bookingRecords(s, 1000)
	const limit = 256 << 10
	var out bytes.Buffer
	w, err := parquetFormat{}.NewWriter(&out, s, WriterOptions{KafkaMetadata: true,
		MaxBufferBytes: limit})
	if err != nil {
		t.Fatal(err)
	}
	pw := w.(*parquetWriter).pw
	var maxHeld int64
	for i := 0; i < 50_000; i++ {
		r := recs[i%len(recs)]
		r.Offset = int64(i)
		if err := w.Write(r); err != nil {
			t.Fatal(err)
		}
		if held := pw.Size() - int64(out.Len()); held > maxHeld {
			maxHeld = held
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if maxHeld > limit {
		t.Errorf("writer held %d bytes, bound %d", maxHeld, limit)
	}
	f := openParquet(t, out.Bytes())
	if f.NumRows() != 50_000 || len(f.RowGroups()) < 3 {
		t.Errorf("rows %d in %d row groups; want 50000 in several", f.NumRows(), len(f.RowGroups()))
	}
	pos, err := parquetFormat{}.ReadPositions(bytes.NewReader(out.Bytes()), int64(out.Len()))
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range pos {
		if p.Offset != int64(i) || p.Topic != "bookings" || p.Partition != int32(i%1000%4) {
			t.Fatalf("position %d = %+v", i, p)
		}
	}
}

// bookingRecords makes n bookings with varied values and some nulls.
func bookingRecords(s *schemas.Schema, n int) []*connectors.Record {
	hotels := []string{"City Hotel", "Resort Hotel"}
	months := []string{"January", "February", "March", "July", "August"}
	countries := []any{"PRT", "GBR", nil, "FRA", "ESP"}
	recs := make([]*connectors.Record, n)
	base := time.Date(2015, 7, 1, 0, 0, 0, 0, time.UTC)
	for i := range recs {
		arrival := base.AddDate(0, 0, i%700)
		var children, agent, company any = i % 3, 9 + i%40, nil
		if i%17 == 0 {
			children = nil
		}
		if i%5 == 0 {
			agent = nil
		}
		if i%11 == 0 {
			company = 40 + i%9
		}
		v := map[string]any{
			"hotel": hotels[i%2], "is_canceled": i % 2, "lead_time": i % 300,
			"arrival_date_year": arrival.Year(), "arrival_date_month": months[i%len(months)],
			"arrival_date_week_number": 27 + i%20, "arrival_date_day_of_month": arrival.Day(),
			"stays_in_weekend_nights": i % 3, "stays_in_week_nights": i % 6, "adults": 2,
			"children": children, "babies": 0, "meal": "BB", "country": countries[i%5],
			"market_segment": "Online TA", "distribution_channel": "TA/TO",
			"is_repeated_guest": 0, "previous_cancellations": 0,
			"previous_bookings_not_canceled": 0, "reserved_room_type": "A",
			"assigned_room_type": "C", "booking_changes": i % 4, "deposit_type": "No Deposit",
			"agent": agent, "company": company, "days_in_waiting_list": 0,
			"customer_type": "Transient", "adr": big.NewRat(int64(5000+i*7%30000), 100),
			"required_car_parking_spaces": 0, "total_of_special_requests": i % 3,
			"reservation_status": "Check-Out", "reservation_status_date": arrival.AddDate(0, 0, 3),
			"arrival_date": arrival, "event_time": arrival.AddDate(0, 0, -(i % 300)),
			"action_id": fmt.Sprintf("%08x-9dad-51d1-80b4-00c04fd430c8", i),
		}
		recs[i] = &connectors.Record{Topic: "bookings", Partition: int32(i % 4),
			Offset: int64(i), Timestamp: arrival, ValueSchema: s, Value: v}
	}
	return recs
}

func benchmarkFormat(b *testing.B, f Format, codec string) {
	s := mustSchema(b, actions.Booking)
	recs := bookingRecords(s, 4096)
	opts := WriterOptions{KafkaMetadata: true, Codec: codec}
	var out countingWriter
	w, err := f.NewWriter(&out, s, opts)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := w.Write(recs[i%len(recs)]); err != nil {
			b.Fatal(err)
		}
		// Files are cut at about 100k records, as a sink would.
		if (i+1)%100_000 == 0 {
			if err := w.Close(); err != nil {
				b.Fatal(err)
			}
			if w, err = f.NewWriter(&out, s, opts); err != nil {
				b.Fatal(err)
			}
		}
	}
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	b.ReportMetric(float64(out.n)/float64(b.N), "bytes/record")
}

// BenchmarkParquetWrite writes booking records (35 fields: nullable strings
// and ints, a bytes decimal(10,2), dates, a timestamp-millis and a uuid)
// plus the Kafka metadata columns, with snappy.
func BenchmarkParquetWrite(b *testing.B) { benchmarkFormat(b, parquetFormat{}, "") }
