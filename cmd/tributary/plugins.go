package main

import (
	"fmt"
	"strings"

	"github.com/tributary-io/tributary/connectors"
	"github.com/tributary-io/tributary/connectors/file"
	"github.com/tributary-io/tributary/connectors/s3"
	"github.com/tributary-io/tributary/runtime/config"
	"github.com/tributary-io/tributary/runtime/worker"
	"github.com/tributary-io/tributary/schemas"
	"github.com/tributary-io/tributary/schemas/registry"
)

// keyRegistryURL is the AvroConverter's registry setting, as Kafka Connect
// spells it.
const keyRegistryURL = "value.converter.schema.registry.url"

// sinkPlugins lists the sink connectors this binary ships, by the short
// names config.CanonicalClass maps Kafka Connect's class names to.
func sinkPlugins() map[string]connectors.SinkConnector {
	return map[string]connectors.SinkConnector{
		"s3":   s3.NewConnector(),
		"file": file.NewConnector(),
	}
}

// decoders returns the worker's converter factory. value.converter picks
// the converter; for the AvroConverter, a connector's
// value.converter.schema.registry.url wins over the worker's registry URLs.
func decoders(workerURLs []string) func(map[string]string) (worker.Decoder, error) {
	cache := map[string]*schemas.Converter{}
	return func(cfg map[string]string) (worker.Decoder, error) {
		cm, errs := (&config.Connector{Config: cfg}).Common()
		for _, e := range errs {
			if strings.HasPrefix(e.Key, "value.converter") {
				return nil, fmt.Errorf("value converter: %s", e.Error())
			}
		}
		switch cm.ValueConverter {
		case config.ConverterJSON:
			return &schemas.JSONConverter{SchemasEnable: cm.ValueSchemasEnable}, nil
		case config.ConverterString:
			return schemas.StringConverter{}, nil
		case config.ConverterByteArray:
			return schemas.ByteArrayConverter{}, nil
		}

		urls := workerURLs
		if u := strings.TrimSpace(cfg[keyRegistryURL]); u != "" {
			urls = strings.Split(u, ",")
		}
		if len(urls) == 0 {
			return nil, fmt.Errorf("no schema registry URL: set schema.registry.url or %s",
				keyRegistryURL)
		}
		key := strings.Join(urls, ",")
		if c, ok := cache[key]; ok {
			return c, nil
		}
		client, err := registry.NewClient(urls)
		if err != nil {
			return nil, err
		}
		c := schemas.NewConverter(client)
		cache[key] = c
		return c, nil
	}
}
