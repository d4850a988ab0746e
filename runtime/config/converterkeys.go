package config

import (
	"slices"
	"strings"

	"github.com/tributary-io/tributary/connectors"
	"github.com/tributary-io/tributary/schemas"
)

// Kafka Connect's names of the two kinds of converter plugin.
const (
	PluginTypeConverter       = "converter"
	PluginTypeHeaderConverter = "header_converter"
)

// converterKeys describes the keys each converter reads, without the
// key.converter. or value.converter. prefix a connector config gives them,
// as Kafka Connect describes a converter's own keys.
var converterKeys = map[string][]connectors.ConfigKey{
	schemas.ClassAvroConverter: {
		{Name: "schema.registry.url", Type: connectors.TypeList, NoDefault: true,
			Importance: connectors.ImportanceHigh,
			Documentation: "Schema Registry URLs, separated by commas; unset uses the " +
				"worker's registry. Read under value.converter. for keys and values."},
		{Name: "basic.auth.credentials.source", Type: connectors.TypeString,
			NoDefault: true, Importance: connectors.ImportanceMedium,
			Documentation: "Where basic credentials for the registry come from: " +
				"USER_INFO (basic.auth.user.info) or URL (user:password@ in the URLs)."},
		{Name: "basic.auth.user.info", Type: connectors.TypePassword, NoDefault: true,
			Importance:    connectors.ImportanceMedium,
			Documentation: "user:password for the registry; ${env:...} or ${file:...}."},
		{Name: "bearer.auth.credentials.source", Type: connectors.TypeString,
			NoDefault: true, Importance: connectors.ImportanceMedium,
			Documentation: "STATIC_TOKEN sends bearer.auth.token to the registry."},
		{Name: "bearer.auth.token", Type: connectors.TypePassword, NoDefault: true,
			Importance:    connectors.ImportanceMedium,
			Documentation: "Bearer token for the registry; ${env:...} or ${file:...}."},
		{Name: "schema.registry.ssl.ca.location", Type: connectors.TypeString,
			NoDefault: true, Importance: connectors.ImportanceLow,
			Documentation: "PEM file of the CAs that sign the registry's certificate; " +
				"unset trusts the system's."},
		{Name: "key.subject.name.strategy", Type: connectors.TypeClass,
			Default: schemas.TopicNameStrategy, Importance: connectors.ImportanceMedium,
			Documentation: "How the subject of a key schema is named: TopicNameStrategy, " +
				"RecordNameStrategy or TopicRecordNameStrategy."},
		{Name: "value.subject.name.strategy", Type: connectors.TypeClass,
			Default: schemas.TopicNameStrategy, Importance: connectors.ImportanceMedium,
			Documentation: "How the subject of a value schema is named; takes the same " +
				"values as key.subject.name.strategy."},
	},
	schemas.ClassJSONConverter: {
		{Name: "schemas.enable", Type: connectors.TypeBoolean, Default: "true",
			Importance: connectors.ImportanceHigh,
			Documentation: "Whether each value is a {\"schema\", \"payload\"} envelope " +
				"(true) or plain JSON with no schema (false)."},
	},
	schemas.ClassStringConverter:    nil,
	schemas.ClassByteArrayConverter: nil,
	schemas.ClassSimpleHeader:       nil,
}

// ConverterKeys describes the keys of the converter or header converter
// with the given class name or alias: the full class name, the simple one
// (JsonConverter), the simple one without its Converter or HeaderConverter
// suffix (Json, Simple), or Tributary's short name (json). It returns the
// full class name and Kafka Connect's plugin type, and false for no known
// converter.
func ConverterKeys(name string) (keys []connectors.ConfigKey, class, typ string, ok bool) {
	name = strings.TrimSpace(name)
	for c, ks := range converterKeys {
		typ := PluginTypeConverter
		aliases := converterAliases
		if c == schemas.ClassSimpleHeader {
			typ, aliases = PluginTypeHeaderConverter, headerConverterAliases
		}
		simple := c[strings.LastIndex(c, ".")+1:]
		short := strings.TrimSuffix(simple, "Converter")
		if typ == PluginTypeHeaderConverter {
			short = strings.TrimSuffix(simple, "HeaderConverter")
		}
		if name == c || name == simple || name == short ||
			(aliases[name] != "" && aliases[name] == aliases[c]) {
			return slices.Clone(ks), c, typ, true
		}
	}
	return nil, "", "", false
}
