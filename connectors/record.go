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
type Header struct {
	Key   string
	Value []byte
}

// Record is one Kafka record after conversion.
//
// Value holds the decoded value in the generic form of github.com/hamba/avro:
// map[string]any for records, []any for arrays, map[string]any for maps, the
// plain branch value for unions (nil for null), *big.Rat for decimals,
// time.Time for dates and timestamps, time.Duration for times and string for
// uuids. ValueSchema is the writer schema the value was decoded with; it is
// nil for tombstones and for values without a schema.
type Record struct {
	Topic     string
	Partition int32
	Offset    int64
	Timestamp time.Time
	Key       []byte
	Headers   []Header

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
