package storage

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // timezone must resolve in images without a zoneinfo database

	"github.com/hamba/avro/v2"

	"github.com/tributary-io/tributary/connectors"
	"github.com/tributary-io/tributary/schemas"
)

// Config keys of the partitioners, spelled as in Confluent's
// kafka-connect-storage-common. The time zone is KeyTimezone.
const (
	KeyPartitionerClass   = "partitioner.class"
	KeyPartitionFieldName = "partition.field.name"
	KeyPathFormat         = "path.format"
	KeyPartitionDuration  = "partition.duration.ms"
	KeyLocale             = "locale"
	KeyTimestampExtractor = "timestamp.extractor"
	KeyTimestampField     = "timestamp.field"
)

// Partitioner maps a record to the partition of the object store it is
// written under: the directory between the topic and the file name.
//
// A Partitioner keeps a small cache of its last answer and is not safe for
// concurrent use; each task builds its own.
type Partitioner interface {
	// Partition returns the encoded partition of r, a relative path without
	// leading or trailing '/', such as "partition=3" or
	// "year=2015/month=07/day=01". An error means r cannot be placed (a
	// missing or null field, a value of the wrong type): retrying the same
	// record gives the same error.
	Partition(r *connectors.Record) (string, error)
}

// TimestampExtractor returns the time a record belongs to: the time-based
// partitioners bucket it, and record-time rotation (rotate.interval.ms)
// measures it. Like a Partitioner it caches and is not safe for concurrent
// use.
type TimestampExtractor func(r *connectors.Record) (time.Time, error)

// NewPartitioner builds the partitioner that config's partitioner.class
// names (default when unset), accepting Confluent's class names and the
// short names default, field, time, hourly and daily. It checks every key
// the partitioner reads and returns all the problems at once.
func NewPartitioner(config map[string]string) (Partitioner, []connectors.FieldError) {
	class := strings.TrimSpace(config[KeyPartitionerClass])
	const pkg = "io.confluent.connect.storage.partitioner."
	switch strings.ToLower(strings.TrimPrefix(class, pkg)) {
	case "", "default", "defaultpartitioner":
		return &defaultPartitioner{}, nil
	case "field", "fieldpartitioner":
		return newFieldPartitioner(config)
	case "time", "timebased", "timebasedpartitioner":
		return newTimePartitioner(config, "", 0)
	case "hourly", "hourlypartitioner":
		return newTimePartitioner(config, "'year'=YYYY/'month'=MM/'day'=dd/'hour'=HH", time.Hour)
	case "daily", "dailypartitioner":
		return newTimePartitioner(config, "'year'=YYYY/'month'=MM/'day'=dd", 24*time.Hour)
	}
	return nil, []connectors.FieldError{{Key: KeyPartitionerClass, Message: fmt.Sprintf(
		"unknown partitioner %q: want default, field, time, hourly, daily or a Confluent "+
			"partitioner class name", class)}}
}

// defaultPartitioner is Confluent's DefaultPartitioner: one directory per
// Kafka partition.
type defaultPartitioner struct {
	names []string // "partition=N" by N, filled as partitions show up
}

func (p *defaultPartitioner) Partition(r *connectors.Record) (string, error) {
	n := int(r.Partition)
	if n < 0 || n >= 1<<16 {
		return "partition=" + strconv.Itoa(n), nil
	}
	if n >= len(p.names) {
		p.names = append(p.names, make([]string, n+1-len(p.names))...)
	}
	if p.names[n] == "" {
		p.names[n] = "partition=" + strconv.Itoa(n)
	}
	return p.names[n], nil
}

// fieldPartitioner is Confluent's FieldPartitioner: name=value directories
// for each field of partition.field.name, in the order listed.
//
// Values render as: strings and enums as they are, integers in decimal,
// booleans as true or false, dates as 2006-01-02. '/' and '%' in a value
// are escaped as %2F and %25 so that a value never adds a directory level.
// Null, missing and other types are errors, as in Confluent's.
type fieldPartitioner struct {
	fields []fieldRef
	buf    []byte
	last   string
	dates  schemaLookup // which fields are dates, per value schema
}

// fieldRef is one configured field: its dotted name and the name's parts.
type fieldRef struct {
	name  string
	parts []string
}

func parseFieldRef(name string) (fieldRef, bool) {
	parts := strings.Split(name, ".")
	for _, p := range parts {
		if p == "" {
			return fieldRef{}, false
		}
	}
	return fieldRef{name: name, parts: parts}, true
}

func newFieldPartitioner(config map[string]string) (Partitioner, []connectors.FieldError) {
	raw := strings.TrimSpace(config[KeyPartitionFieldName])
	if raw == "" {
		return nil, []connectors.FieldError{{Key: KeyPartitionFieldName,
			Message: "is required for the field partitioner"}}
	}
	p := &fieldPartitioner{}
	var errs []connectors.FieldError
	for _, name := range strings.Split(raw, ",") {
		name = strings.TrimSpace(name)
		ref, ok := parseFieldRef(name)
		if !ok {
			errs = append(errs, connectors.FieldError{Key: KeyPartitionFieldName,
				Message: fmt.Sprintf("%q is not a field name (a.b.c for nested fields)", name)})
			continue
		}
		p.fields = append(p.fields, ref)
	}
	if len(errs) > 0 {
		return nil, errs
	}
	p.dates.refs = p.fields
	return p, nil
}

func (p *fieldPartitioner) Partition(r *connectors.Record) (string, error) {
	dates := p.dates.lookup(r.ValueSchema)
	p.buf = p.buf[:0]
	for i, f := range p.fields {
		v, err := fieldValue(r, f)
		if err != nil {
			return "", err
		}
		if i > 0 {
			p.buf = append(p.buf, '/')
		}
		p.buf = append(p.buf, f.name...)
		p.buf = append(p.buf, '=')
		if p.buf, err = appendFieldValue(p.buf, v, dates[i]); err != nil {
			return "", fmt.Errorf("partition record %s by field %s: %w", r.Position(), f.name, err)
		}
	}
	// Consecutive records mostly share a partition: reuse the last string.
	if string(p.buf) != p.last {
		p.last = string(p.buf)
	}
	return p.last, nil
}

// fieldValue walks f through the record's value.
func fieldValue(r *connectors.Record, f fieldRef) (any, error) {
	v := r.Value
	for _, part := range f.parts {
		m, ok := v.(map[string]any)
		if !ok {
			if v == nil && r.Value != nil {
				return nil, fmt.Errorf("record %s: field %s is null", r.Position(), f.name)
			}
			return nil, fmt.Errorf("record %s: field %s: value is not a record", r.Position(), f.name)
		}
		if v, ok = m[part]; !ok {
			return nil, fmt.Errorf("record %s: no field %s", r.Position(), f.name)
		}
	}
	if v == nil {
		return nil, fmt.Errorf("record %s: field %s is null", r.Position(), f.name)
	}
	return v, nil
}

func appendFieldValue(dst []byte, v any, isDate bool) ([]byte, error) {
	switch x := v.(type) {
	case string:
		for i := 0; i < len(x); i++ {
			switch c := x[i]; c {
			case '/':
				dst = append(dst, "%2F"...)
			case '%':
				dst = append(dst, "%25"...)
			default:
				dst = append(dst, c)
			}
		}
		return dst, nil
	case bool:
		return strconv.AppendBool(dst, x), nil
	case time.Time:
		if !isDate {
			return dst, fmt.Errorf("timestamps cannot name a partition; use a time-based partitioner")
		}
		return x.UTC().AppendFormat(dst, "2006-01-02"), nil
	}
	if n, ok := asInt64(v); ok {
		return strconv.AppendInt(dst, n, 10), nil
	}
	return dst, fmt.Errorf("type %T cannot name a partition: want a string, integer, "+
		"boolean or date", v)
}

// schemaLookup tells, for each of refs, whether the value schema declares
// it a date. It remembers the last schema, which rarely changes.
type schemaLookup struct {
	refs   []fieldRef
	schema *schemas.Schema
	dates  []bool
}

func (l *schemaLookup) lookup(s *schemas.Schema) []bool {
	if s == l.schema && l.dates != nil {
		return l.dates
	}
	l.schema = s
	l.dates = make([]bool, len(l.refs))
	if s == nil || s.Avro == nil {
		return l.dates
	}
	for i, ref := range l.refs {
		l.dates[i] = isDateField(s.Avro, ref.parts)
	}
	return l.dates
}

// isDateField reports whether the field at path has the date logical type.
func isDateField(s avro.Schema, path []string) bool {
	for _, name := range path {
		rec, ok := nonNull(s).(*avro.RecordSchema)
		if !ok {
			return false
		}
		var next avro.Schema
		for _, f := range rec.Fields() {
			if f.Name() == name {
				next = f.Type()
				break
			}
		}
		if next == nil {
			return false
		}
		s = next
	}
	lts, ok := nonNull(s).(avro.LogicalTypeSchema)
	return ok && lts.Logical() != nil && lts.Logical().Type() == avro.Date
}

// nonNull unwraps references and nullable unions.
func nonNull(s avro.Schema) avro.Schema {
	s = deref(s)
	if u, ok := s.(*avro.UnionSchema); ok {
		if inner, ok := nullableBranch(u); ok {
			return deref(inner)
		}
	}
	return s
}

// timePartitioner is Confluent's TimeBasedPartitioner (and, with a fixed
// format and duration, its Hourly and Daily ones). A record's time is
// rounded down to a multiple of the duration in local time of the
// configured zone, and that bucket's start is rendered with path.format.
type timePartitioner struct {
	extract  TimestampExtractor
	loc      *time.Location
	duration int64 // milliseconds
	format   []pathToken

	hasLast    bool
	lastBucket int64 // local milliseconds of the last bucket rendered
	last       string
	buf        []byte
}

func newTimePartitioner(
	config map[string]string, fixedFormat string, fixedDuration time.Duration,
) (Partitioner, []connectors.FieldError) {
	var errs []connectors.FieldError
	fail := func(key, msg string) {
		errs = append(errs, connectors.FieldError{Key: key, Message: msg})
	}
	p := &timePartitioner{}

	// Hourly and daily ignore path.format and partition.duration.ms, as
	// Confluent's do.
	pattern := fixedFormat
	if pattern == "" {
		pattern = strings.TrimSpace(config[KeyPathFormat])
		if pattern == "" {
			fail(KeyPathFormat, "is required for the time-based partitioner")
		}
	}
	if pattern != "" {
		var err error
		if p.format, err = parsePathFormat(pattern); err != nil {
			fail(KeyPathFormat, err.Error())
		}
	}

	p.duration = fixedDuration.Milliseconds()
	if fixedDuration == 0 {
		raw, ok := config[KeyPartitionDuration]
		n, err := strconv.ParseInt(strings.TrimSpace(raw), 10, 64)
		switch {
		case !ok:
			fail(KeyPartitionDuration, "is required for the time-based partitioner")
		case err != nil || n <= 0:
			fail(KeyPartitionDuration,
				fmt.Sprintf("%q is not a positive number of milliseconds", raw))
		default:
			p.duration = n
		}
	}

	if tz := strings.TrimSpace(config[KeyTimezone]); tz == "" {
		fail(KeyTimezone, "is required for time-based partitioners (an IANA zone such as UTC "+
			"or Europe/Paris)")
	} else if loc, err := time.LoadLocation(tz); err != nil {
		fail(KeyTimezone, fmt.Sprintf("unknown time zone %q", tz))
	} else {
		p.loc = loc
	}

	if locale := strings.TrimSpace(config[KeyLocale]); locale != "" && usesMonthNames(p.format) {
		lang := strings.ToLower(locale)
		if lang != "en" && !strings.HasPrefix(lang, "en_") && !strings.HasPrefix(lang, "en-") {
			fail(KeyLocale, fmt.Sprintf("month names (MMM) are only available in English, not %q",
				locale))
		}
	}

	extract, extractErrs := NewTimestampExtractor(config)
	errs = append(errs, extractErrs...)
	if len(errs) > 0 {
		return nil, errs
	}
	p.extract = extract
	return p, nil
}

func (p *timePartitioner) Partition(r *connectors.Record) (string, error) {
	t, err := p.extract(r)
	if err != nil {
		return "", err
	}
	_, offset := t.In(p.loc).Zone()
	local := t.UnixMilli() + int64(offset)*1000
	bucket := floorDiv(local, p.duration) * p.duration
	if p.hasLast && bucket == p.lastBucket {
		return p.last, nil
	}
	// The bucket start as a UTC time carries the local wall clock fields.
	wall := time.UnixMilli(bucket).UTC()
	p.buf = appendPathFormat(p.buf[:0], p.format, wall)
	p.last = strings.Trim(string(p.buf), "/")
	p.lastBucket, p.hasLast = bucket, true
	return p.last, nil
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

// pathToken is one piece of a compiled path.format: a literal, or a date
// field with its Joda letter and width.
type pathToken struct {
	literal string
	letter  byte
	width   int
}

// parsePathFormat compiles the subset of Joda-Time patterns that dates a
// directory: quoted literals ('year'=, two quotes for a quote), y and Y (year;
// yy is two digits), M (MM padded, MMM and MMMM English names), d (day of
// month), D (day of year), H (hour 0-23), m (minute) and s (second). Any
// other character that is not a letter is literal.
func parsePathFormat(pattern string) ([]pathToken, error) {
	var tokens []pathToken
	var lit strings.Builder
	flush := func() {
		if lit.Len() > 0 {
			tokens = append(tokens, pathToken{literal: lit.String()})
			lit.Reset()
		}
	}
	for i := 0; i < len(pattern); {
		c := pattern[i]
		switch {
		case c == '\'':
			// A quoted run ends at a lone quote; '' is a quote, inside a
			// run or outside one.
			if i+1 < len(pattern) && pattern[i+1] == '\'' {
				lit.WriteByte('\'')
				i += 2
				continue
			}
			j := i + 1
			for {
				if j >= len(pattern) {
					return nil, fmt.Errorf("path format %q: unterminated quote", pattern)
				}
				if pattern[j] != '\'' {
					lit.WriteByte(pattern[j])
					j++
					continue
				}
				if j+1 < len(pattern) && pattern[j+1] == '\'' {
					lit.WriteByte('\'')
					j += 2
					continue
				}
				break
			}
			i = j + 1
		case 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z':
			j := i
			for j < len(pattern) && pattern[j] == c {
				j++
			}
			if !strings.ContainsRune("yYMdDHms", rune(c)) {
				return nil, fmt.Errorf("path format %q: pattern letter %q is not supported "+
					"(use y, M, d, D, H, m, s and quoted literals)", pattern, c)
			}
			flush()
			tokens = append(tokens, pathToken{letter: c, width: j - i})
			i = j
		default:
			lit.WriteByte(c)
			i++
		}
	}
	flush()
	if strings.Trim(renderPattern(tokens), "/") == "" {
		return nil, fmt.Errorf("path format %q renders an empty path", pattern)
	}
	return tokens, nil
}

// renderPattern renders tokens at a fixed time, to check the format makes
// a path at all.
func renderPattern(tokens []pathToken) string {
	return string(appendPathFormat(nil, tokens, time.Date(2015, 7, 1, 12, 0, 0, 0, time.UTC)))
}

func usesMonthNames(tokens []pathToken) bool {
	for _, t := range tokens {
		if t.letter == 'M' && t.width >= 3 {
			return true
		}
	}
	return false
}

func appendPathFormat(dst []byte, tokens []pathToken, t time.Time) []byte {
	for _, tok := range tokens {
		switch tok.letter {
		case 0:
			dst = append(dst, tok.literal...)
		case 'y', 'Y':
			if tok.width == 2 {
				dst = appendPadded(dst, t.Year()%100, 2)
			} else {
				dst = appendPadded(dst, t.Year(), tok.width)
			}
		case 'M':
			switch {
			case tok.width >= 4:
				dst = append(dst, t.Month().String()...)
			case tok.width == 3:
				dst = append(dst, t.Month().String()[:3]...)
			default:
				dst = appendPadded(dst, int(t.Month()), tok.width)
			}
		case 'd':
			dst = appendPadded(dst, t.Day(), tok.width)
		case 'D':
			dst = appendPadded(dst, t.YearDay(), tok.width)
		case 'H':
			dst = appendPadded(dst, t.Hour(), tok.width)
		case 'm':
			dst = appendPadded(dst, t.Minute(), tok.width)
		case 's':
			dst = appendPadded(dst, t.Second(), tok.width)
		}
	}
	return dst
}

func appendPadded(dst []byte, n, width int) []byte {
	if n < 0 {
		dst = append(dst, '-')
		n = -n
	}
	var digits [20]byte
	s := strconv.AppendInt(digits[:0], int64(n), 10)
	for i := len(s); i < width; i++ {
		dst = append(dst, '0')
	}
	return append(dst, s...)
}

// NewTimestampExtractor builds the extractor named by timestamp.extractor:
//
//   - Record (the default): the Kafka record's timestamp.
//   - RecordField: the field named by timestamp.field (dots for nested
//     fields), which may hold a timestamp, a date, a long of epoch
//     milliseconds or an RFC 3339 string. A date has no zone; it is read
//     as midnight of that day in the configured timezone, so a record
//     dated 2015-07-01 lands in that day's partition whatever the zone.
//
// Wallclock is rejected: the time a record is processed differs between a
// run and its replay, so files cut on it could not be rewritten
// identically, which exactly-once delivery relies on.
func NewTimestampExtractor(config map[string]string) (TimestampExtractor, []connectors.FieldError) {
	kind := strings.TrimSpace(config[KeyTimestampExtractor])
	const pkg = "io.confluent.connect.storage.partitioner.timebasedpartitioner$"
	switch strings.TrimPrefix(strings.ToLower(kind), pkg) {
	case "", "record", "recordtimestampextractor":
		return recordTimestamp, nil
	case "recordfield", "recordfieldtimestampextractor":
	case "wallclock", "wallclocktimestampextractor":
		return nil, []connectors.FieldError{{Key: KeyTimestampExtractor, Message: "Wallclock " +
			"is not supported: processing time changes when records are replayed, so files " +
			"could not be rewritten identically and exactly-once delivery would break; " +
			"use Record or RecordField"}}
	default:
		return nil, []connectors.FieldError{{Key: KeyTimestampExtractor, Message: fmt.Sprintf(
			"unknown timestamp extractor %q: want Record or RecordField", kind)}}
	}

	var errs []connectors.FieldError
	ref, ok := parseFieldRef(strings.TrimSpace(config[KeyTimestampField]))
	if !ok {
		errs = append(errs, connectors.FieldError{Key: KeyTimestampField,
			Message: "is required with timestamp.extractor=RecordField (a.b.c for nested fields)"})
	}
	loc := time.UTC
	if tz := strings.TrimSpace(config[KeyTimezone]); tz != "" {
		l, err := time.LoadLocation(tz)
		if err != nil {
			errs = append(errs, connectors.FieldError{Key: KeyTimezone,
				Message: fmt.Sprintf("unknown time zone %q", tz)})
		}
		loc = l
	}
	if len(errs) > 0 {
		return nil, errs
	}
	f := &fieldTimestamp{ref: ref, loc: loc}
	f.dates.refs = []fieldRef{ref}
	return f.extract, nil
}

func recordTimestamp(r *connectors.Record) (time.Time, error) {
	// Kafka marks a missing timestamp with -1.
	if r.Timestamp.IsZero() || r.Timestamp.UnixMilli() == -1 {
		return time.Time{}, fmt.Errorf("record %s has no timestamp", r.Position())
	}
	return r.Timestamp, nil
}

type fieldTimestamp struct {
	ref   fieldRef
	loc   *time.Location
	dates schemaLookup
}

func (f *fieldTimestamp) extract(r *connectors.Record) (time.Time, error) {
	v, err := fieldValue(r, f.ref)
	if err != nil {
		return time.Time{}, err
	}
	switch x := v.(type) {
	case time.Time:
		if f.dates.lookup(r.ValueSchema)[0] {
			y, m, d := x.UTC().Date()
			return time.Date(y, m, d, 0, 0, 0, 0, f.loc), nil
		}
		return x, nil
	case string:
		t, err := time.Parse(time.RFC3339Nano, x)
		if err != nil {
			return time.Time{}, fmt.Errorf("record %s: field %s: %q is not an RFC 3339 time",
				r.Position(), f.ref.name, x)
		}
		return t, nil
	}
	if ms, ok := asInt64(v); ok {
		return time.UnixMilli(ms), nil
	}
	return time.Time{}, fmt.Errorf("record %s: field %s: type %T is not a time: want a "+
		"timestamp, date, long of epoch milliseconds or RFC 3339 string", r.Position(), f.ref.name, v)
}
