package storage

import (
	"strings"
	"testing"
	"time"

	"github.com/tributary-io/tributary/connectors"
)

const partitionSchema = `{"type": "record", "name": "Click", "fields": [
	{"name": "country", "type": ["null", "string"]},
	{"name": "page", "type": "string"},
	{"name": "n", "type": "long"},
	{"name": "ok", "type": "boolean"},
	{"name": "day", "type": {"type": "int", "logicalType": "date"}},
	{"name": "at", "type": {"type": "long", "logicalType": "timestamp-millis"}},
	{"name": "ms", "type": "long"},
	{"name": "iso", "type": "string"},
	{"name": "score", "type": "double"},
	{"name": "user", "type": {"type": "record", "name": "User", "fields": [
		{"name": "id", "type": "int"},
		{"name": "region", "type": ["null", "string"]}]}}
]}`

func clickRecord(t testing.TB) *connectors.Record {
	s := mustSchema(t, partitionSchema)
	return &connectors.Record{
		Topic: "clicks", Partition: 5, Offset: 42,
		Timestamp:   time.Date(2015, 7, 1, 23, 30, 15, 0, time.UTC),
		ValueSchema: s,
		Value: map[string]any{
			"country": "PRT", "page": "/home/a%b", "n": int64(-7), "ok": true,
			"day": date(2015, 7, 1), "at": time.Date(2015, 7, 2, 1, 2, 3, 0, time.UTC),
			"ms": int64(1435795200000), "iso": "2015-07-02T00:00:00+02:00", "score": 1.5,
			"user": map[string]any{"id": 9, "region": nil},
		},
	}
}

func TestPartitioners(t *testing.T) {
	tests := []struct {
		name   string
		config map[string]string
		want   string
		err    string // substring of the Partition error
	}{
		{"default", map[string]string{}, "partition=5", ""},
		{"default class", map[string]string{
			"partitioner.class": "io.confluent.connect.storage.partitioner.DefaultPartitioner",
		}, "partition=5", ""},
		{"field", map[string]string{"partitioner.class": "field",
			"partition.field.name": "country"}, "country=PRT", ""},
		{"fields", map[string]string{
			"partitioner.class":    "io.confluent.connect.storage.partitioner.FieldPartitioner",
			"partition.field.name": "country, n,ok,day,user.id",
		}, "country=PRT/n=-7/ok=true/day=2015-07-01/user.id=9", ""},
		{"field escapes slashes", map[string]string{"partitioner.class": "field",
			"partition.field.name": "page"}, "page=%2Fhome%2Fa%25b", ""},
		{"field null", map[string]string{"partitioner.class": "field",
			"partition.field.name": "user.region"}, "",
			"record clicks/5@42: field user.region is null"},
		{"field missing", map[string]string{"partitioner.class": "field",
			"partition.field.name": "nope"}, "", "record clicks/5@42: no field nope"},
		{"field not a record", map[string]string{"partitioner.class": "field",
			"partition.field.name": "page.x"}, "", "field page.x: value is not a record"},
		{"field double", map[string]string{"partitioner.class": "field",
			"partition.field.name": "score"}, "", "type float64 cannot name a partition"},
		{"field timestamp", map[string]string{"partitioner.class": "field",
			"partition.field.name": "at"}, "", "timestamps cannot name a partition"},
		{"hourly", map[string]string{"partitioner.class": "hourly", "timezone": "UTC"},
			"year=2015/month=07/day=01/hour=23", ""},
		{"hourly in Lisbon summer time", map[string]string{
			"partitioner.class": "io.confluent.connect.storage.partitioner.HourlyPartitioner",
			"timezone":          "Europe/Lisbon", "locale": "en-US",
		}, "year=2015/month=07/day=02/hour=00", ""},
		{"daily Kolkata", map[string]string{"partitioner.class": "daily",
			"timezone": "Asia/Kolkata"}, "year=2015/month=07/day=02", ""},
		{"daily New York", map[string]string{"partitioner.class": "DailyPartitioner",
			"timezone": "America/New_York"}, "year=2015/month=07/day=01", ""},
		{"time 15 minutes", map[string]string{"partitioner.class": "time",
			"timezone": "UTC", "partition.duration.ms": "900000",
			"path.format": "'dt'=YYYY-MM-dd/'t'=HHmm/"}, "dt=2015-07-01/t=2330", ""},
		{"time month names", map[string]string{"partitioner.class": "TimeBasedPartitioner",
			"timezone": "UTC", "partition.duration.ms": "86400000", "locale": "en",
			"path.format": "yyyy/MMM/MMMM/D/''yy''"}, "2015/Jul/July/182/'15'", ""},
		{"time 2 hours Kolkata", map[string]string{"partitioner.class": "time",
			"timezone": "Asia/Kolkata", "partition.duration.ms": "7200000",
			"path.format": "'y'=YYYY/'d'=dd/'h'=HH/'m'=mm"}, "y=2015/d=02/h=04/m=00", ""},
		{"record field timestamp", map[string]string{"partitioner.class": "hourly",
			"timezone": "UTC", "timestamp.extractor": "RecordField",
			"timestamp.field": "at"}, "year=2015/month=07/day=02/hour=01", ""},
		{"record field date in a zone behind UTC", map[string]string{
			"partitioner.class": "daily", "timezone": "America/New_York",
			"timestamp.extractor": "RecordField", "timestamp.field": "day",
		}, "year=2015/month=07/day=01", ""},
		{"record field millis", map[string]string{"partitioner.class": "daily",
			"timezone": "UTC", "timestamp.extractor": "RecordField",
			"timestamp.field": "ms"}, "year=2015/month=07/day=02", ""},
		{"record field RFC 3339", map[string]string{"partitioner.class": "hourly",
			"timezone": "UTC", "timestamp.extractor": "RecordField",
			"timestamp.field": "iso"}, "year=2015/month=07/day=01/hour=22", ""},
		{"record field wrong type", map[string]string{"partitioner.class": "hourly",
			"timezone": "UTC", "timestamp.extractor": "RecordField",
			"timestamp.field": "score"}, "", "field score: type float64 is not a time"},
		{"record field bad string", map[string]string{"partitioner.class": "hourly",
			"timezone": "UTC", "timestamp.extractor": "RecordField",
			"timestamp.field": "page"}, "", "is not an RFC 3339 time"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, errs := NewPartitioner(tt.config)
			if len(errs) > 0 {
				t.Fatalf("NewPartitioner: %v", errs)
			}
			r := clickRecord(t)
			got, err := p.Partition(r)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("Partition = %q, %v; want error containing %q", got, err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Partition: %v", err)
			}
			if got != tt.want {
				t.Errorf("Partition = %q, want %q", got, tt.want)
			}
			// A second call hits the cache and must agree.
			if again, _ := p.Partition(r); again != got {
				t.Errorf("second Partition = %q, want %q", again, got)
			}
		})
	}
}

func TestPartitionerConfigErrors(t *testing.T) {
	tests := []struct {
		name   string
		config map[string]string
		want   []string // "key: message substring", all expected at once
	}{
		{"unknown class", map[string]string{"partitioner.class": "Weekly"},
			[]string{"partitioner.class: unknown partitioner \"Weekly\""}},
		{"field without fields", map[string]string{"partitioner.class": "field"},
			[]string{"partition.field.name: is required"}},
		{"field bad name", map[string]string{"partitioner.class": "field",
			"partition.field.name": "a,,b..c"},
			[]string{"partition.field.name: \"\" is not a field name",
				"partition.field.name: \"b..c\" is not a field name"}},
		{"time without anything", map[string]string{"partitioner.class": "time"},
			[]string{"path.format: is required", "partition.duration.ms: is required",
				"timezone: is required"}},
		{"time bad values", map[string]string{"partitioner.class": "time",
			"path.format": "'year'=YYYY/'week'=ww", "partition.duration.ms": "-5",
			"timezone": "Mars/Olympus", "timestamp.extractor": "Wallclock"},
			[]string{"path.format: path format \"'year'=YYYY/'week'=ww\": pattern letter 'w'",
				"partition.duration.ms: \"-5\" is not a positive number",
				"timezone: unknown time zone \"Mars/Olympus\"",
				"timestamp.extractor: Wallclock is not supported"}},
		{"unterminated quote", map[string]string{"partitioner.class": "time",
			"path.format": "'year=YYYY", "partition.duration.ms": "1000", "timezone": "UTC"},
			[]string{"path.format: path format \"'year=YYYY\": unterminated quote"}},
		{"empty path", map[string]string{"partitioner.class": "time",
			"path.format": "'/'", "partition.duration.ms": "1000", "timezone": "UTC"},
			[]string{"renders an empty path"}},
		{"month names in French", map[string]string{"partitioner.class": "time",
			"path.format": "MMM", "partition.duration.ms": "1000", "timezone": "UTC",
			"locale": "fr_FR"}, []string{"locale: month names (MMM) are only available in English"}},
		{"hourly without timezone", map[string]string{"partitioner.class": "hourly"},
			[]string{"timezone: is required"}},
		{"record field without field", map[string]string{"partitioner.class": "daily",
			"timezone": "UTC", "timestamp.extractor": "RecordField"},
			[]string{"timestamp.field: is required"}},
		{"unknown extractor", map[string]string{"partitioner.class": "daily",
			"timezone": "UTC", "timestamp.extractor": "Kafka"},
			[]string{"timestamp.extractor: unknown timestamp extractor \"Kafka\""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, errs := NewPartitioner(tt.config)
			if p != nil {
				t.Fatalf("NewPartitioner accepted the config")
			}
			var got []string
			for _, e := range errs {
				got = append(got, e.Error())
			}
			if len(got) != len(tt.want) {
				t.Fatalf("errors = %q, want %d errors like %q", got, len(tt.want), tt.want)
			}
			for i := range tt.want {
				if !strings.Contains(got[i], tt.want[i]) {
					t.Errorf("error %d = %q, want it to contain %q", i, got[i], tt.want[i])
				}
			}
		})
	}
}

func TestTimestampExtractor(t *testing.T) {
	extract, errs := NewTimestampExtractor(map[string]string{})
	if errs != nil {
		t.Fatal(errs)
	}
	r := clickRecord(t)
	if got, err := extract(r); err != nil || !got.Equal(r.Timestamp) {
		t.Errorf("Record extractor = %v, %v; want %v", got, err, r.Timestamp)
	}
	r.Timestamp = time.Time{}
	if _, err := extract(r); err == nil || !strings.Contains(err.Error(), "has no timestamp") {
		t.Errorf("Record extractor on a record without timestamp: err = %v", err)
	}

	extract, errs = NewTimestampExtractor(map[string]string{
		"timestamp.extractor": "RecordField", "timestamp.field": "day",
		"timezone": "Asia/Tokyo",
	})
	if errs != nil {
		t.Fatal(errs)
	}
	tokyo, _ := time.LoadLocation("Asia/Tokyo")
	want := time.Date(2015, 7, 1, 0, 0, 0, 0, tokyo)
	if got, err := extract(clickRecord(t)); err != nil || !got.Equal(want) {
		t.Errorf("date field = %v, %v; want %v", got, err, want)
	}
}

func BenchmarkPartitionHourly(b *testing.B) {
	p, errs := NewPartitioner(map[string]string{"partitioner.class": "hourly",
		"timezone": "Europe/Paris"})
	if errs != nil {
		b.Fatal(errs)
	}
	r := clickRecord(b)
	start := r.Timestamp
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		// A new hour every 3600 records, as a steady stream would see.
		r.Timestamp = start.Add(time.Duration(i) * time.Second)
		if _, err := p.Partition(r); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkPartitionField(b *testing.B) {
	p, errs := NewPartitioner(map[string]string{"partitioner.class": "field",
		"partition.field.name": "country,user.id"})
	if errs != nil {
		b.Fatal(errs)
	}
	r := clickRecord(b)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := p.Partition(r); err != nil {
			b.Fatal(err)
		}
	}
}
