package schemas

import (
	"fmt"

	"github.com/hamba/avro/v2"
)

// Confluent's subject name strategies, as key.subject.name.strategy and
// value.subject.name.strategy name them. Short names without the package
// are accepted too.
const (
	TopicNameStrategy       = "io.confluent.kafka.serializers.subject.TopicNameStrategy"
	RecordNameStrategy      = "io.confluent.kafka.serializers.subject.RecordNameStrategy"
	TopicRecordNameStrategy = "io.confluent.kafka.serializers.subject.TopicRecordNameStrategy"
)

// SubjectStrategy names the registry subject a schema is registered under.
type SubjectStrategy func(topic string, isKey bool, s avro.Schema) (string, error)

var strategies = map[string]SubjectStrategy{
	TopicNameStrategy:         topicName,
	RecordNameStrategy:        recordName,
	TopicRecordNameStrategy:   topicRecordName,
	"TopicNameStrategy":       topicName,
	"RecordNameStrategy":      recordName,
	"TopicRecordNameStrategy": topicRecordName,
}

// NewSubjectStrategy returns the strategy a class name names; the empty
// name is TopicNameStrategy, Confluent's default.
func NewSubjectStrategy(class string) (SubjectStrategy, error) {
	if class == "" {
		return topicName, nil
	}
	s, ok := strategies[class]
	if !ok {
		return nil, fmt.Errorf("unknown subject name strategy %q; use %s, %s or %s",
			class, TopicNameStrategy, RecordNameStrategy, TopicRecordNameStrategy)
	}
	return s, nil
}

// topicName is <topic>-key or <topic>-value.
func topicName(topic string, isKey bool, _ avro.Schema) (string, error) {
	if isKey {
		return topic + "-key", nil
	}
	return topic + "-value", nil
}

// recordName is the full name of the record schema.
func recordName(_ string, _ bool, s avro.Schema) (string, error) {
	named, ok := s.(avro.NamedSchema)
	if !ok {
		return "", fmt.Errorf("record name strategy: %s schema has no name", s.Type())
	}
	return named.FullName(), nil
}

// topicRecordName is <topic>-<record full name>.
func topicRecordName(topic string, isKey bool, s avro.Schema) (string, error) {
	name, err := recordName(topic, isKey, s)
	if err != nil {
		return "", err
	}
	return topic + "-" + name, nil
}
