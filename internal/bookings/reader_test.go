package bookings

import (
	"bytes"
	"encoding/csv"
	"errors"
	"io"
	"math/big"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hamba/avro/v2"

	"github.com/tributary-io/tributary/schemas/actions"
)

func date(y int, m time.Month, d int) time.Time {
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// TestEmbeddedDataset reads the whole embedded file, recomputes the published
// figures, and encodes every row with the Booking schema both as a Booking
// struct and in generic form, so a row the schema rejects, a lost row or a
// struct that drifted from the schema fails here rather than in a sink.
func TestEmbeddedDataset(t *testing.T) {
	rc, err := Open()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	r, err := NewReader(rc)
	if err != nil {
		t.Fatal(err)
	}
	schema := avro.MustParse(actions.Booking)

	var values []map[string]any
	ids := map[string]int{}
	for i := 0; ; i++ {
		var b Booking
		line, err := r.ReadBooking(&b)
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("row %d: %v", i, err)
		}
		if line != i+2 {
			t.Fatalf("row %d has line %d, want %d", i, line, i+2)
		}
		if prev, dup := ids[b.ActionID]; dup {
			t.Fatalf("lines %d and %d share action id %s", prev, line, b.ActionID)
		}
		ids[b.ActionID] = line

		v := b.Map()
		values = append(values, v)
		fromMap, err := avro.Marshal(schema, v)
		if err != nil {
			t.Fatalf("encode line %d: %v", line, err)
		}
		fromStruct, err := avro.Marshal(schema, &b)
		if err != nil {
			t.Fatalf("encode line %d as a struct: %v", line, err)
		}
		if !bytes.Equal(fromMap, fromStruct) {
			t.Fatalf("line %d encodes to %x as a map, %x as a struct", line, fromMap, fromStruct)
		}
		if i%10000 == 0 {
			checkRoundTrip(t, schema, fromMap, Row{Line: line, Value: v})
		}
	}

	got, err := Summarize(values)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range got.Diff(Reference()) {
		t.Error(d)
	}
	if got.ADRString() != "12157617.60" {
		t.Errorf("adr sum %s, want 12157617.60", got.ADRString())
	}
}

// checkRoundTrip decodes b and compares a few fields with the row it came
// from, down to the decimal and the dates.
func checkRoundTrip(t *testing.T, schema avro.Schema, b []byte, row Row) {
	t.Helper()
	var back map[string]any
	if err := avro.Unmarshal(schema, b, &back); err != nil {
		t.Fatalf("decode line %d: %v", row.Line, err)
	}
	for _, name := range []string{"hotel", "lead_time", "action_id"} {
		if back[name] != row.Value[name] {
			t.Errorf("line %d: %s decoded as %v, want %v",
				row.Line, name, back[name], row.Value[name])
		}
	}
	if back["adr"].(*big.Rat).Cmp(row.Value["adr"].(*big.Rat)) != 0 {
		t.Errorf("line %d: adr decoded as %v, want %v", row.Line, back["adr"], row.Value["adr"])
	}
	for _, name := range []string{"arrival_date", "reservation_status_date", "event_time"} {
		if !back[name].(time.Time).Equal(row.Value[name].(time.Time)) {
			t.Errorf("line %d: %s decoded as %v, want %v",
				row.Line, name, back[name], row.Value[name])
		}
	}
}

func TestKnownRows(t *testing.T) {
	tests := []struct {
		line int
		want map[string]any
	}{
		{2, map[string]any{
			"hotel": "Resort Hotel", "is_canceled": 0, "lead_time": 342,
			"arrival_date_month": "July", "children": 0, "country": "PRT",
			"agent": nil, "company": nil, "adr": big.NewRat(0, 1),
			"reservation_status":      "Check-Out",
			"reservation_status_date": date(2015, time.July, 1),
			"arrival_date":            date(2015, time.July, 1),
			"event_time":              date(2014, time.July, 24),
			"action_id":               ActionID(0, 2),
		}},
		{20, map[string]any{
			"country": "FRA", "agent": nil, "company": 110, "adr": big.NewRat(10742, 100),
			"assigned_room_type": "G", "event_time": date(2015, time.July, 1),
		}},
		{14971, map[string]any{
			"lead_time": 195, "adr": big.NewRat(-638, 100), "agent": 273,
			"is_repeated_guest": 1, "arrival_date": date(2017, time.March, 5),
			"event_time":              date(2016, time.August, 22),
			"reservation_status_date": date(2017, time.March, 15),
		}},
		{40602, map[string]any{
			"hotel": "City Hotel", "is_canceled": 1, "children": nil,
			"market_segment": "Undefined", "reservation_status": "Canceled",
		}},
		{48517, map[string]any{"adr": big.NewRat(5400, 1), "deposit_type": "Non Refund"}},
		{119391, map[string]any{
			"hotel": "City Hotel", "adr": big.NewRat(1512, 10), "agent": 9,
			"meal": "HB", "total_of_special_requests": 2,
			"arrival_date":            date(2017, time.August, 29),
			"reservation_status_date": date(2017, time.September, 7),
		}},
	}
	byLine := map[int]map[string]any{}
	for _, tt := range tests {
		byLine[tt.line] = nil
	}
	rc, err := Open()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	r, err := NewReader(rc)
	if err != nil {
		t.Fatal(err)
	}
	for {
		var b Booking
		line, err := r.ReadBooking(&b)
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := byLine[line]; ok {
			byLine[line] = b.Map()
		}
	}

	for _, tt := range tests {
		got := byLine[tt.line]
		if got == nil {
			t.Errorf("line %d not read", tt.line)
			continue
		}
		for name, want := range tt.want {
			if !sameValue(got[name], want) {
				t.Errorf("line %d: %s = %#v, want %#v", tt.line, name, got[name], want)
			}
		}
	}
}

func sameValue(got, want any) bool {
	switch w := want.(type) {
	case *big.Rat:
		g, ok := got.(*big.Rat)
		return ok && g.Cmp(w) == 0
	case time.Time:
		g, ok := got.(time.Time)
		return ok && g.Equal(w) && g.Location() == time.UTC
	default:
		return got == want
	}
}

// TestSchemaMatchesBooking checks that the schema lists the CSV columns
// first, in file order, and that Booking's avro tags name every schema field
// in schema order, so that struct and map encode to the same bytes.
func TestSchemaMatchesBooking(t *testing.T) {
	fields := avro.MustParse(actions.Booking).(*avro.RecordSchema).Fields()
	typ := reflect.TypeFor[Booking]()
	if len(fields) != typ.NumField() {
		t.Fatalf("schema has %d fields, Booking has %d", len(fields), typ.NumField())
	}
	for i, f := range fields {
		if tag := typ.Field(i).Tag.Get("avro"); tag != f.Name() {
			t.Errorf("schema field %d is %s, Booking field %d is tagged %s", i, f.Name(), i, tag)
		}
	}
	for i, name := range Columns() {
		if fields[i].Name() != name {
			t.Errorf("schema field %d is %s, CSV column is %s", i, fields[i].Name(), name)
		}
	}
}

const header = "hotel,is_canceled,lead_time,arrival_date_year,arrival_date_month," +
	"arrival_date_week_number,arrival_date_day_of_month,stays_in_weekend_nights," +
	"stays_in_week_nights,adults,children,babies,meal,country,market_segment," +
	"distribution_channel,is_repeated_guest,previous_cancellations," +
	"previous_bookings_not_canceled,reserved_room_type,assigned_room_type,booking_changes," +
	"deposit_type,agent,company,days_in_waiting_list,customer_type,adr," +
	"required_car_parking_spaces,total_of_special_requests,reservation_status," +
	"reservation_status_date"

const goodRow = "Resort Hotel,0,7,2015,July,27,1,0,1,1,0,0,BB,GBR,Direct,Direct,0,0,0,A,C,0," +
	"No Deposit,NULL,NULL,0,Transient,75,0,0,Check-Out,02-07-2015"

func TestNewReaderHeader(t *testing.T) {
	tests := []struct {
		name    string
		header  string
		wantErr string
	}{
		{"exact", header, ""},
		{"byte order mark", "\ufeff" + header, ""},
		{"renamed", strings.Replace(header, "arrival_date_month", "month", 1),
			`bookings header: column 5 is "month", want "arrival_date_month"`},
		{"missing last", strings.TrimSuffix(header, ",reservation_status_date"),
			`bookings header: column 32 missing, want "reservation_status_date"`},
		{"extra", header + ",extra",
			`bookings header: column 33 is "extra", want no more than 32 columns`},
		{"empty", "", "read bookings header: empty input"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := ""
			if tt.header != "" {
				in = tt.header + "\r\n" + goodRow + "\r\n"
			}
			_, err := NewReader(strings.NewReader(in))
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if err == nil || err.Error() != tt.wantErr {
				t.Fatalf("error %v, want %s", err, tt.wantErr)
			}
		})
	}
}

// TestBadRows feeds rows with one fault each, every one after a good row,
// and checks that each fault names its line and column and that reading goes
// on with the next row.
func TestBadRows(t *testing.T) {
	with := func(changes map[int]string) string {
		f := strings.Split(goodRow, ",")
		for col, v := range changes {
			f[col] = v
		}
		return strings.Join(f, ",")
	}
	bad := []struct {
		row     string
		wantErr string
		is      error
	}{
		{with(map[int]string{27: "abc"}),
			`column adr: "abc" is not a decimal with at most 2 decimals`, ErrNotDecimal},
		{with(map[int]string{27: "1.234"}),
			`column adr: "1.234" is not a decimal with at most 2 decimals`, ErrNotDecimal},
		{with(map[int]string{27: "-"}),
			`column adr: "-" is not a decimal with at most 2 decimals`, ErrNotDecimal},
		{with(map[int]string{27: "123456789012"}),
			`column adr: "123456789012" is out of range`, ErrOutOfRange},
		{with(map[int]string{2: "x1"}), `column lead_time: "x1" is not an integer`, ErrNotInt},
		{with(map[int]string{2: "9999999999"}),
			`column lead_time: "9999999999" is out of range`, ErrOutOfRange},
		{with(map[int]string{10: "NULL"}), `column children: "NULL" is not an integer`, ErrNotInt},
		{with(map[int]string{4: "Julyy"}),
			`column arrival_date_month: "Julyy" is not an English month name`, ErrNotMonth},
		{with(map[int]string{4: "June", 6: "31"}),
			`column arrival_date_day_of_month: "31" is not a day of that month`, ErrNoSuchDay},
		{with(map[int]string{31: "2015-07-02"}),
			`column reservation_status_date: "2015-07-02" is not a day-month-year date`,
			ErrNotDate},
		{with(map[int]string{31: "31-02-2015"}),
			`column reservation_status_date: "31-02-2015" is not a day of that month`,
			ErrNoSuchDay},
		{strings.TrimSuffix(goodRow, ",02-07-2015"),
			"31 fields, want 32: wrong number of fields", csv.ErrFieldCount},
		{goodRow + `,x"y`, `bare " in non-quoted-field`, csv.ErrBareQuote},
	}

	var in strings.Builder
	in.WriteString(header + "\r\n")
	for _, b := range bad {
		in.WriteString(goodRow + "\r\n" + b.row + "\r\n")
	}
	in.WriteString(goodRow + "\r\n")

	r, err := NewReader(strings.NewReader(in.String()))
	if err != nil {
		t.Fatal(err)
	}
	next := func(wantLine int) {
		t.Helper()
		row, err := r.Next()
		if err != nil {
			t.Fatalf("line %d: %v", wantLine, err)
		}
		if row.Line != wantLine || row.Value["lead_time"] != 7 {
			t.Fatalf("read line %d with lead_time %v, want line %d with 7",
				row.Line, row.Value["lead_time"], wantLine)
		}
	}
	for i, b := range bad {
		next(2 + 2*i)
		line := 3 + 2*i
		_, err := r.Next()
		var re *RowError
		if !errors.As(err, &re) {
			t.Fatalf("line %d: error %v, want a *RowError", line, err)
		}
		want := "line " + strconv.Itoa(line) + ": " + b.wantErr
		if err.Error() != want || re.Line != line || !errors.Is(err, b.is) {
			t.Errorf("error %q (line %d), want %q wrapping %v", err, re.Line, want, b.is)
		}
	}
	next(2 + 2*len(bad))
	if _, err := r.Next(); err != io.EOF {
		t.Fatalf("after the last row: %v, want io.EOF", err)
	}
}

func TestParseCents(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		err  error
	}{
		{"0", 0, nil},
		{"75", 7500, nil},
		{"151.2", 15120, nil},
		{"-6.38", -638, nil},
		{"+1.05", 105, nil},
		{"5400", 540000, nil},
		{"99999999.99", 9999999999, nil},
		{"100000000", 0, ErrOutOfRange},
		{"", 0, ErrNotDecimal},
		{"1.", 0, ErrNotDecimal},
		{".5", 0, ErrNotDecimal},
		{"1e3", 0, ErrNotDecimal},
		{"1,5", 0, ErrNotDecimal},
	}
	for _, tt := range tests {
		got, err := parseCents(tt.in)
		if got != tt.want || err != tt.err {
			t.Errorf("parseCents(%q) = %d, %v; want %d, %v", tt.in, got, err, tt.want, tt.err)
		}
	}
}

func TestActionID(t *testing.T) {
	// The ids are a contract: a reload must give the same ids, so they are
	// pinned here rather than recomputed. Python's uuid.uuid5 gives the same.
	tests := []struct {
		repetition, line int
		want             string
	}{
		{0, 2, "57308c92-ec00-5f25-9d91-afe51ec934d3"},
		{0, 119391, "07e60fe4-7811-5d01-a98d-e71ab83fd5a3"},
		{1, 2, "78571250-75fd-53ee-8225-9a7208d377bd"},
	}
	seen := map[string]bool{}
	for _, tt := range tests {
		got := ActionID(tt.repetition, tt.line)
		if got != tt.want {
			t.Errorf("ActionID(%d, %d) = %s, want %s", tt.repetition, tt.line, got, tt.want)
		}
		if seen[got] {
			t.Errorf("ActionID(%d, %d) = %s repeats an earlier id", tt.repetition, tt.line, got)
		}
		seen[got] = true
		if got[14] != '5' {
			t.Errorf("ActionID(%d, %d) = %s is not a version 5 UUID", tt.repetition, tt.line, got)
		}
	}
}

func TestReaderRepetition(t *testing.T) {
	r, err := NewReader(strings.NewReader(header + "\n" + goodRow + "\n"))
	if err != nil {
		t.Fatal(err)
	}
	r.Repetition = 3
	row, err := r.Next()
	if err != nil {
		t.Fatal(err)
	}
	if got, want := row.Value["action_id"], ActionID(3, 2); got != want {
		t.Errorf("action_id %v, want %v", got, want)
	}
}

func BenchmarkReader(b *testing.B) {
	raw := func() []byte {
		rc, err := Open()
		if err != nil {
			b.Fatal(err)
		}
		defer rc.Close()
		data, err := io.ReadAll(rc)
		if err != nil {
			b.Fatal(err)
		}
		return data
	}()
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	rows := 0
	for b.Loop() {
		r, err := NewReader(bytes.NewReader(raw))
		if err != nil {
			b.Fatal(err)
		}
		var bk Booking
		for {
			_, err := r.ReadBooking(&bk)
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			rows++
		}
	}
	b.ReportMetric(float64(rows)/b.Elapsed().Seconds(), "rows/s")
}

func BenchmarkEncodeBooking(b *testing.B) {
	rc, err := Open()
	if err != nil {
		b.Fatal(err)
	}
	defer rc.Close()
	r, err := NewReader(rc)
	if err != nil {
		b.Fatal(err)
	}
	var bk Booking
	if _, err := r.ReadBooking(&bk); err != nil {
		b.Fatal(err)
	}
	schema := avro.MustParse(actions.Booking)
	w := avro.NewWriter(nil, 512)
	b.ReportAllocs()
	for b.Loop() {
		w.Reset(nil)
		w.WriteVal(schema, &bk)
		if w.Error != nil {
			b.Fatal(w.Error)
		}
	}
}
