package config

import (
	"reflect"
	"testing"

	"github.com/tributary-io/tributary/connectors"
)

func TestUnknownKeys(t *testing.T) {
	def := connectors.ConfigDef{
		Keys:     []connectors.ConfigKey{{Name: "flush.size"}, {Name: "s3.bucket.name"}},
		Prefixes: []string{"s3.sse."}}
	cfg := map[string]string{
		// Known: the runtime's, the connector's and those under a prefix.
		"connector.class": "s3", "tasks.max": "1", "topics": "t", "name": "n",
		"flush.size": "10", "s3.bucket.name": "b", "s3.sse.kms.key.id": "k",
		"errors.tolerance": "all", "errors.deadletterqueue.topic.name": "dlq",
		"transforms": "mask", "transforms.mask.type": "MaskField$Value",
		"predicates": "p", "predicates.p.type": "TopicNameMatches",
		"value.converter": "avro", "value.converter.schema.registry.url": "http://r",
		"value.converter.enhanced.avro.schema.support": "true",
		"key.converter.schemas.enable":                 "false", "header.converter.x": "y",
		"consumer.override.max.poll.records": "10",
		// Unknown: typos, one with no close key, and another plugin's key.
		"flush.sise": "10", "errors.tolerence": "all",
		"value.convertor.schema.registry.url": "http://r", "s3.bucket.nmae": "b",
		"hdfs.url": "hdfs://x",
	}
	want := []UnknownKey{
		{Key: "errors.tolerence", Closest: "errors.tolerance"},
		{Key: "flush.sise", Closest: "flush.size"},
		{Key: "hdfs.url"},
		{Key: "s3.bucket.nmae", Closest: "s3.bucket.name"},
		{Key: "value.convertor.schema.registry.url",
			Closest: "value.converter.schema.registry.url"},
	}
	if got := UnknownKeys(cfg, def); !reflect.DeepEqual(got, want) {
		t.Errorf("UnknownKeys:\n got %+v\nwant %+v", got, want)
	}
}
