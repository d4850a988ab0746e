package connectors

import (
	"fmt"
	"time"

	"github.com/tributary-io/tributary/schemas"
)

// TopicPartition names one partition of one Kafka topic.
type TopicPartition struct {
	Topic     string
	Partition int32
}

// String renders tp as topic/partition, the form used in logs and errors.
func (tp TopicPartition) String() string {
	return fmt.Sprintf("%s/%d", tp.Topic, tp.Partition)
}

// Header is one Kafka record header.
//
// Value holds the bytes as Kafka delivered them. Data holds the value as
// the connector's header.converter read it (SimpleHeaderConverter: a bool,
// an int64, a float64, a JSON array or object, or the string itself); it is
// nil for a null value and for headers added after conversion without one.
type Header struct {
	Key   string
	Value []byte
	Data  any
}

// Record is one Kafka record after conversion.
//
// Value holds the decoded value in the generic form of github.com/hamba/avro:
// map[string]any for records, []any for arrays, map[string]any for maps, the
// plain branch value for unions (nil for null), *big.Rat for decimals,
// time.Time for dates and timestamps, time.Duration for times and string for
// uuids. ValueSchema is the writer schema the value was decoded with; it is
// nil for tombstones and for values without a schema.
//
// Key holds the key's bytes. When the connector sets key.converter, the
// key is also decoded: KeyConverted is set and KeySchema and KeyData hold
// the key in the same generic form as Value. Without key.converter the key
// stays bytes only (ByteArrayConverter semantics), as it always did.
type Record struct {
	Topic     string
	Partition int32
	Offset    int64
	Timestamp time.Time
	Key       []byte
	Headers   []Header

	KeyConverted bool
	KeySchema    *schemas.Schema
	KeyData      any

	ValueSchema *schemas.Schema
	Value       any
}

// TopicPartition returns the partition the record was read from.
func (r *Record) TopicPartition() TopicPartition {
	return TopicPartition{Topic: r.Topic, Partition: r.Partition}
}

// Position renders the record's coordinates as topic/partition@offset.
func (r *Record) Position() string {
	return fmt.Sprintf("%s/%d@%d", r.Topic, r.Partition, r.Offset)
}
