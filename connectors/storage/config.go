package storage

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/tributary-io/tributary/connectors"
)

// Config keys shared by the storage sinks, spelled as Confluent's storage
// connectors spell them where they exist.
const (
	KeyTopicsDir        = "topics.dir"
	KeyFlushSize        = "flush.size"
	KeyRotateInterval   = "rotate.interval.ms"
	KeyRotateSchedule   = "rotate.schedule.interval.ms"
	KeyFormatClass      = "format.class"
	KeyTimezone         = "timezone"
	KeyZeroPadWidth     = "filename.offset.zero.pad.width"
	KeyKafkaMetadata    = "store.kafka.metadata"
	KeyNullValues       = "behavior.on.null.values"
	KeyParquetCodec     = "parquet.codec"
	KeyAvroCodec        = "avro.codec"
	KeyBufferBytes      = "format.buffer.bytes"
	KeyMaxOpenFiles     = "max.open.files.per.partition"
	KeyRetryTimeout     = "errors.retry.timeout"
	KeySpoolDir         = "spool.dir"
	KeyUploadConcur     = "upload.concurrency"
	KeyCompatibility    = "schema.compatibility"
	defaultTopicsDir    = "topics"
	defaultZeroPad      = 10
	defaultBufferBytes  = 1 << 20
	defaultMaxOpenFiles = 1000
)

// Groups of the storage keys, as Confluent's storage sinks group them.
const (
	groupConnector   = "Connector"
	groupStorage     = "Storage"
	groupPartitioner = "Partitioner"
)

// key declares a storage key with no default.
func key(name string, typ connectors.ConfigType, imp connectors.Importance, group,
	doc string,
) connectors.ConfigKey {
	return connectors.ConfigKey{Name: name, Type: typ, Importance: imp, Group: group,
		Documentation: doc}
}

// keyDefault declares a storage key with a default.
func keyDefault(name string, typ connectors.ConfigType, def string, imp connectors.Importance,
	group, doc string,
) connectors.ConfigKey {
	k := key(name, typ, imp, group, doc)
	k.Default = def
	return k
}

// configKeys describes every key ParseConfig and the partitioners read but
// errors.retry.timeout, which the runtime describes.
var configKeys = []connectors.ConfigKey{
	{Name: KeyFlushSize, Type: connectors.TypeInt, Required: true,
		Importance: connectors.ImportanceHigh, Group: groupConnector,
		Documentation: "Records of a Kafka partition written to a file before it is " +
			"committed."},
	keyDefault(KeyRotateInterval, connectors.TypeLong, "-1", connectors.ImportanceHigh,
		groupConnector, "Commit a file once its records' times span this many "+
			"milliseconds, as timestamp.extractor reads them; -1 turns it off."),
	keyDefault(KeyRotateSchedule, connectors.TypeLong, "-1", connectors.ImportanceMedium,
		groupConnector, "Commit open files every this many milliseconds of wall-clock "+
			"time, in timezone; -1 turns it off."),
	keyDefault(KeyFormatClass, connectors.TypeClass, "parquet", connectors.ImportanceHigh,
		groupConnector, "Format of the data files: parquet, avro or json, or Confluent's "+
			"format class names."),
	keyDefault(KeyParquetCodec, connectors.TypeString, "snappy", connectors.ImportanceLow,
		groupConnector, "Compression of Parquet files: none, snappy, gzip, zstd, lz4 or "+
			"brotli."),
	keyDefault(KeyAvroCodec, connectors.TypeString, "null", connectors.ImportanceLow,
		groupConnector, "Compression of Avro files: null, deflate, snappy or zstandard."),
	keyDefault(KeyKafkaMetadata, connectors.TypeBoolean, "true", connectors.ImportanceLow,
		groupConnector, "Add the columns _kafka_topic, _kafka_partition, _kafka_offset "+
			"and _kafka_timestamp to each row."),
	keyDefault(KeyNullValues, connectors.TypeString, "fail", connectors.ImportanceLow,
		groupConnector, "What a record with a null value does: fail fails the task, "+
			"ignore skips the record."),
	keyDefault(KeyCompatibility, connectors.TypeString, CompatNone,
		connectors.ImportanceLow, groupConnector, "NONE writes each schema version to "+
			"its own files; BACKWARD, FORWARD and FULL let records of compatible "+
			"versions share a file."),
	keyDefault(KeyTopicsDir, connectors.TypeString, defaultTopicsDir,
		connectors.ImportanceMedium, groupStorage,
		"Top-level directory of the data files in the store."),
	keyDefault(KeyZeroPadWidth, connectors.TypeInt, strconv.Itoa(defaultZeroPad),
		connectors.ImportanceLow, groupStorage,
		"Digits the start offset in file names is padded to with zeros."),
	keyDefault(KeyBufferBytes, connectors.TypeInt, strconv.Itoa(defaultBufferBytes),
		connectors.ImportanceLow, groupStorage,
		"Bytes a file writer buffers in memory before writing them to the spool file."),
	keyDefault(KeyMaxOpenFiles, connectors.TypeInt, strconv.Itoa(defaultMaxOpenFiles),
		connectors.ImportanceLow, groupStorage,
		"Files a Kafka partition may have open at once before they are committed."),
	key(KeySpoolDir, connectors.TypeString, connectors.ImportanceLow, groupStorage,
		"Local directory files are written to before upload; unset uses the worker's."),
	keyDefault(KeyUploadConcur, connectors.TypeInt, "8", connectors.ImportanceLow,
		groupStorage, "Uploads of one commit in flight at once."),
	keyDefault(KeyPartitionerClass, connectors.TypeClass, "default",
		connectors.ImportanceHigh, groupPartitioner, "How records map to directories: "+
			"default (by Kafka partition), field, time, hourly, daily, or Confluent's "+
			"partitioner class names."),
	key(KeyPartitionFieldName, connectors.TypeList, connectors.ImportanceMedium,
		groupPartitioner, "Fields whose values name the directory with the field "+
			"partitioner, separated by commas."),
	key(KeyPathFormat, connectors.TypeString, connectors.ImportanceMedium,
		groupPartitioner, "Directory pattern of the time partitioner in Joda-Time "+
			"syntax, such as 'year'=YYYY/'month'=MM/'day'=dd."),
	key(KeyPartitionDuration, connectors.TypeLong, connectors.ImportanceMedium,
		groupPartitioner, "Length in milliseconds of a time partitioner's directory."),
	key(KeyTimezone, connectors.TypeString, connectors.ImportanceMedium, groupPartitioner,
		"IANA time zone of time-based directories and rotate.schedule.interval.ms, "+
			"such as UTC."),
	key(KeyLocale, connectors.TypeString, connectors.ImportanceLow, groupPartitioner,
		"Locale of month names in path.format; only English names are available."),
	keyDefault(KeyTimestampExtractor, connectors.TypeString, "Record",
		connectors.ImportanceMedium, groupPartitioner, "Time of a record for the time "+
			"partitioners and rotate.interval.ms: Record (its Kafka timestamp) or "+
			"RecordField (timestamp.field)."),
	key(KeyTimestampField, connectors.TypeString, connectors.ImportanceMedium,
		groupPartitioner, "Field holding a record's time with "+
			"timestamp.extractor=RecordField; a.b.c names a nested field."),
}

// Config is the parsed, validated configuration of a storage sink task.
type Config struct {
	TopicsDir      string
	FlushSize      int
	RotateInterval time.Duration // record time; 0 when off
	RotateSchedule time.Duration // wall clock; 0 when off
	Location       *time.Location
	ZeroPad        int
	KafkaMetadata  bool
	IgnoreNulls    bool
	Codec          string
	BufferBytes    int
	MaxOpenFiles   int
	RetryTimeout   time.Duration
	SpoolDir       string
	// UploadConcurrency bounds the uploads of one segment in flight.
	UploadConcurrency int
	// Compatibility is schema.compatibility: NONE, BACKWARD, FORWARD or
	// FULL. See evolution.go.
	Compatibility string

	Format      Format
	Partitioner Partitioner
	// RecordTime extracts the time rotate.interval.ms measures.
	RecordTime func(*connectors.Record) (time.Time, error)
}

// ParseConfig reads the keys every storage sink shares and returns every
// problem at once.
func ParseConfig(m map[string]string) (*Config, []connectors.FieldError) {
	p := parser{m: m}
	c := &Config{
		TopicsDir:     strings.Trim(p.str(KeyTopicsDir, defaultTopicsDir), "/"),
		FlushSize:     p.integer(KeyFlushSize, -1, 1),
		ZeroPad:       p.integer(KeyZeroPadWidth, defaultZeroPad, 1),
		KafkaMetadata: p.boolean(KeyKafkaMetadata, true),
		BufferBytes:   p.integer(KeyBufferBytes, defaultBufferBytes, 64<<10),
		MaxOpenFiles:  p.integer(KeyMaxOpenFiles, defaultMaxOpenFiles, 1),
		SpoolDir:      p.str(KeySpoolDir, ""),

		UploadConcurrency: p.integer(KeyUploadConcur, 8, 1),
	}
	if _, ok := m[KeyFlushSize]; !ok {
		p.fail(KeyFlushSize, "is required")
	}
	c.RotateInterval = p.millis(KeyRotateInterval)
	c.RotateSchedule = p.millis(KeyRotateSchedule)
	c.RetryTimeout = p.retryTimeout()
	if c.TopicsDir == "" {
		p.fail(KeyTopicsDir, "must not be empty")
	}

	switch v := p.str(KeyNullValues, "fail"); v {
	case "fail":
	case "ignore":
		c.IgnoreNulls = true
	default:
		p.fail(KeyNullValues, fmt.Sprintf("%q is not one of fail, ignore", v))
	}

	c.Location = time.UTC
	if tz, ok := m[KeyTimezone]; ok && tz != "" {
		loc, err := time.LoadLocation(tz)
		if err != nil {
			p.fail(KeyTimezone, fmt.Sprintf("unknown time zone %q", tz))
		} else {
			c.Location = loc
		}
	} else if c.RotateSchedule > 0 {
		p.fail(KeyTimezone, "is required with "+KeyRotateSchedule)
	}

	switch c.Compatibility = strings.ToUpper(p.str(KeyCompatibility, CompatNone)); c.Compatibility {
	case CompatNone, CompatBackward, CompatForward, CompatFull:
	default:
		p.fail(KeyCompatibility, fmt.Sprintf("%q is not one of NONE, BACKWARD, FORWARD, FULL",
			m[KeyCompatibility]))
	}

	formatName := p.str(KeyFormatClass, "parquet")
	format, err := NewFormat(formatName)
	if err != nil {
		p.fail(KeyFormatClass, err.Error())
	} else {
		c.Format = format
		switch format.Name() {
		case "parquet":
			c.Codec = p.str(KeyParquetCodec, "")
		case "avro":
			c.Codec = p.str(KeyAvroCodec, "")
		}
	}

	part, errs := NewPartitioner(m)
	p.errs = append(p.errs, errs...)
	c.Partitioner = part
	if c.RotateInterval > 0 {
		extract, errs := NewTimestampExtractor(m)
		p.errs = append(p.errs, errs...)
		c.RecordTime = extract
	}
	if len(p.errs) > 0 {
		return nil, dedupe(p.errs)
	}
	return c, nil
}

// dedupe drops repeated errors: the partitioner and the timestamp extractor
// check some keys alike.
func dedupe(errs []connectors.FieldError) []connectors.FieldError {
	seen := make(map[connectors.FieldError]bool, len(errs))
	out := errs[:0]
	for _, e := range errs {
		if !seen[e] {
			seen[e] = true
			out = append(out, e)
		}
	}
	return out
}

// parser reads typed values out of a flat config and collects the problems.
type parser struct {
	m    map[string]string
	errs []connectors.FieldError
}

func (p *parser) fail(key, msg string) {
	p.errs = append(p.errs, connectors.FieldError{Key: key, Message: msg})
}

func (p *parser) str(key, def string) string {
	if v, ok := p.m[key]; ok {
		return strings.TrimSpace(v)
	}
	return def
}

func (p *parser) integer(key string, def, min int) int {
	v, ok := p.m[key]
	if !ok {
		return def
	}
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil {
		p.fail(key, fmt.Sprintf("%q is not an integer", v))
		return def
	}
	if n < min {
		p.fail(key, fmt.Sprintf("%d is below the minimum %d", n, min))
	}
	return n
}

func (p *parser) boolean(key string, def bool) bool {
	v, ok := p.m[key]
	if !ok {
		return def
	}
	b, err := strconv.ParseBool(strings.TrimSpace(v))
	if err != nil {
		p.fail(key, fmt.Sprintf("%q is not true or false", v))
		return def
	}
	return b
}

// millis reads a duration in milliseconds where -1 (Kafka Connect's "off")
// and 0 both mean off.
// retryTimeout reads errors.retry.timeout with the runtime's meaning: how
// long a failed operation is retried, 0 for never and -1 for forever. Unset,
// store operations are retried for 5 minutes.
func (p *parser) retryTimeout() time.Duration {
	v, ok := p.m[KeyRetryTimeout]
	if !ok {
		return 5 * time.Minute
	}
	if strings.TrimSpace(v) == "-1" {
		return 100 * 365 * 24 * time.Hour // forever, without overflowing time.Time
	}
	return p.millis(KeyRetryTimeout)
}

func (p *parser) millis(key string) time.Duration {
	v, ok := p.m[key]
	if !ok {
		return 0
	}
	n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
	if err != nil || n < -1 {
		p.fail(key, fmt.Sprintf("%q is not a duration in milliseconds (-1 for off)", v))
		return 0
	}
	if n <= 0 {
		return 0
	}
	return time.Duration(n) * time.Millisecond
}
