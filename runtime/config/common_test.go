package config

import (
	"maps"
	"slices"
	"strings"
	"testing"
)

func TestCommonValues(t *testing.T) {
	c, err := LoadConnector("testdata/connectors/good.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cm, errs := c.Common()
	if len(errs) > 0 {
		t.Fatalf("errors: %v", errs)
	}
	if cm.Class != "s3" || cm.TasksMax != 3 || cm.TopicsRegex != nil ||
		!slices.Equal(cm.Topics, []string{"bookings", "clicks"}) {
		t.Errorf("class %q tasks %d topics %v regex %v",
			cm.Class, cm.TasksMax, cm.Topics, cm.TopicsRegex)
	}
	if cm.KeyConverter != ConverterAvro || cm.ValueConverter != ConverterAvro ||
		!slices.Equal(cm.SchemaRegistryURLs, []string{"http://127.0.0.1:8081"}) {
		t.Errorf("converters %q %q, registry %v",
			cm.KeyConverter, cm.ValueConverter, cm.SchemaRegistryURLs)
	}
	if cm.ErrorsTolerance != ToleranceAll {
		t.Errorf("errors.tolerance %q, want all", cm.ErrorsTolerance)
	}
	if want := map[string]string{"max.poll.records": "500"}; !maps.Equal(cm.ConsumerOverrides, want) {
		t.Errorf("overrides %v, want %v", cm.ConsumerOverrides, want)
	}
}

func TestCommonConverters(t *testing.T) {
	c := &Connector{Name: "j", Config: map[string]string{
		"connector.class": "s3", "topics": "t",
		"key.converter":                  "org.apache.kafka.connect.storage.StringConverter",
		"value.converter":                "org.apache.kafka.connect.json.JsonConverter",
		"header.converter":               "org.apache.kafka.connect.storage.SimpleHeaderConverter",
		"value.converter.schemas.enable": "false",
		"value.converter.value.subject.name.strategy": "io.confluent.kafka.serializers." +
			"subject.RecordNameStrategy",
		"key.converter.key.subject.name.strategy": "TopicRecordNameStrategy",
	}}
	cm, errs := c.Common()
	if len(errs) > 0 {
		t.Fatalf("errors: %v", errs)
	}
	if cm.KeyConverter != ConverterString || cm.ValueConverter != ConverterJSON ||
		cm.HeaderConverter != ConverterSimpleHeader || cm.ValueSchemasEnable ||
		!cm.KeySchemasEnable ||
		cm.ValueSubjectStrategy != "io.confluent.kafka.serializers.subject.RecordNameStrategy" ||
		cm.KeySubjectStrategy != "TopicRecordNameStrategy" {
		t.Errorf("converters: %+v", cm)
	}
	c.Config["value.converter"] = "org.apache.kafka.connect.converters.ByteArrayConverter"
	c.Config["header.converter"] = "org.apache.kafka.connect.json.JsonConverter"
	cm, errs = c.Common()
	if cm.ValueConverter != ConverterByteArray || len(errs) != 1 ||
		errs[0].Key != "header.converter" {
		t.Errorf("value %q, errors %v; want bytearray and one header.converter error",
			cm.ValueConverter, errs)
	}
}

func TestCommonDefaults(t *testing.T) {
	c := &Connector{Name: "r", Config: map[string]string{
		"connector.class": "custom", "topics.regex": "book(ing)?s",
	}}
	cm, errs := c.Common()
	if len(errs) > 0 {
		t.Fatalf("errors: %v", errs)
	}
	if cm.Class != "custom" || cm.TasksMax != 1 || cm.Topics != nil ||
		cm.KeyConverter != ConverterAvro || cm.ValueConverter != ConverterAvro ||
		cm.SchemaRegistryURLs != nil || cm.ErrorsTolerance != ToleranceNone ||
		cm.ConsumerOverrides != nil {
		t.Errorf("defaults: %+v", cm)
	}
	if !cm.TopicsRegex.MatchString("bookings") || cm.TopicsRegex.MatchString("clicks") {
		t.Errorf("topics.regex %v", cm.TopicsRegex)
	}
}

// Connectors created through the REST API have no file: errors carry plain keys.
func TestCommonErrors(t *testing.T) {
	tests := []struct {
		name   string
		config map[string]string
		want   []string
	}{
		{"empty", map[string]string{}, []string{
			"connector.class: required",
			"topics: required: set topics or topics.regex",
		}},
		{"values", map[string]string{
			"connector.class":                     "s3",
			"tasks.max":                           "-2",
			"topics":                              "a, ,b c",
			"key.converter":                       "io.confluent.connect.protobuf.ProtobufConverter",
			"value.converter":                     "io.confluent.connect.avro.AvroConverter",
			"value.converter.schemas.enable":      "yes",
			"value.subject.name.strategy":         "ByTopic",
			"value.converter.schema.registry.url": "http://ok:8081,ftp://x,http://",
			"errors.tolerance":                    "some",
			"consumer.override.auto.offset.reset": "newest",
			"consumer.override.fetch.max.bytes":   "0",
			"admin.override.sasl.jaas.config":     "x",
		}, []string{
			"tasks.max: must be at least 1, got -2",
			"topics: empty topic name in the list",
			`topics: topic name "b c" may hold only ASCII letters, digits, '.', '_' and '-'`,
			`key.converter: unsupported converter "io.confluent.connect.protobuf.ProtobufConverter"; ` +
				"use one of io.confluent.connect.avro.AvroConverter, " +
				"org.apache.kafka.connect.converters.ByteArrayConverter, " +
				"org.apache.kafka.connect.json.JsonConverter, " +
				"org.apache.kafka.connect.storage.StringConverter",
			`value.converter.schemas.enable: want true or false, got "yes"`,
			`value.subject.name.strategy: unknown subject name strategy "ByTopic"; use ` +
				"io.confluent.kafka.serializers.subject.TopicNameStrategy, " +
				"io.confluent.kafka.serializers.subject.RecordNameStrategy or " +
				"io.confluent.kafka.serializers.subject.TopicRecordNameStrategy",
			`value.converter.schema.registry.url: URL "ftp://x" must start with http:// or https://`,
			`value.converter.schema.registry.url: URL "http://" has no host`,
			`errors.tolerance: must be one of none, all; got "some"`,
			"admin.override.sasl.jaas.config: security settings cannot be overridden per " +
				"connector; set them on the worker",
			`consumer.override.auto.offset.reset: must be one of earliest, latest; got "newest"`,
			"consumer.override.fetch.max.bytes: must be at least 1, got 0",
		}},
		{"regex", map[string]string{
			"connector.class": "s3", "topics.regex": "(", "tasks.max": "1.5",
		}, []string{
			`tasks.max: want an integer, got "1.5"`,
			"topics.regex: error parsing regexp: missing closing ): `(`",
		}},
		{"tasks", map[string]string{
			"connector.class": "s3", "topics": "t", "tasks.max": "100000",
		}, []string{
			"tasks.max: must be at most 1000, got 100000: each task is a Kafka consumer, " +
				"and tasks beyond the partitions of the topics read nothing",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, errs := (&Connector{Name: tt.name, Config: tt.config}).Common()
			got := make([]string, len(errs))
			for i, fe := range errs {
				got[i] = fe.Error()
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("errors:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

func TestCanonicalClass(t *testing.T) {
	for in, want := range map[string]string{
		"s3": "s3",
		"io.confluent.connect.s3.S3SinkConnector":                "s3",
		"S3SinkConnector":                                        "s3",
		"io.confluent.connect.hdfs3.Hdfs3SinkConnector":          "hdfs",
		"com.wepay.kafka.connect.bigquery.BigQuerySinkConnector": "bigquery",
		"org.apache.kafka.connect.file.FileStreamSinkConnector":  "file",
		"com.example.Other":                                      "com.example.Other",
	} {
		if got := CanonicalClass(in); got != want {
			t.Errorf("CanonicalClass(%q) = %q, want %q", in, got, want)
		}
	}
}
