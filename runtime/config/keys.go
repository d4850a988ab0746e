package config

import (
	"slices"
	"sort"
	"strings"

	"github.com/tributary-io/tributary/connectors"
	"github.com/tributary-io/tributary/connectors/transform"
)

// Groups of the framework keys, named as Kafka Connect names them.
const (
	GroupCommon        = "Common"
	GroupTransforms    = "Transforms"
	GroupPredicates    = "Predicates"
	GroupErrorHandling = "Error Handling"
)

// frameworkKeys describes the keys every sink shares, in Kafka Connect's
// order and groups.
var frameworkKeys = []connectors.ConfigKey{
	{Name: "name", Type: connectors.TypeString, Required: true,
		Importance: connectors.ImportanceHigh, Group: GroupCommon, DisplayName: "Connector name",
		Documentation: "Globally unique name to use for this connector."},
	{Name: KeyConnectorClass, Type: connectors.TypeString, Required: true,
		Importance: connectors.ImportanceHigh, Group: GroupCommon, DisplayName: "Connector class",
		Documentation: "Class name or alias of the connector: " +
			"io.confluent.connect.s3.S3SinkConnector, s3 or file."},
	{Name: KeyTasksMax, Type: connectors.TypeInt, Default: "1",
		Importance: connectors.ImportanceHigh, Group: GroupCommon, DisplayName: "Tasks max",
		Documentation: "Maximum number of tasks to use for this connector, at most 1000."},
	{Name: KeyTopics, Type: connectors.TypeList, Importance: connectors.ImportanceHigh,
		Group: GroupCommon, DisplayName: "Topics",
		Documentation: "Topics to consume, separated by commas; set this or topics.regex."},
	{Name: KeyTopicsRegex, Type: connectors.TypeString, Importance: connectors.ImportanceHigh,
		Group: GroupCommon, DisplayName: "Topics regex",
		Documentation: "Regular expression (RE2 syntax) of the topics to consume; " +
			"set this or topics."},
	{Name: KeyKeyConverter, Type: connectors.TypeClass, Default: ConverterAvro,
		Importance: connectors.ImportanceLow, Group: GroupCommon,
		DisplayName: "Key converter class",
		Documentation: "Converter of record keys: the AvroConverter, JsonConverter, " +
			"StringConverter or ByteArrayConverter, by class name or as avro, json, " +
			"string, bytearray."},
	{Name: KeyValueConverter, Type: connectors.TypeClass, Default: ConverterAvro,
		Importance: connectors.ImportanceLow, Group: GroupCommon,
		DisplayName:   "Value converter class",
		Documentation: "Converter of record values; takes the same values as key.converter."},
	{Name: KeyHeaderConverter, Type: connectors.TypeClass, Default: ConverterSimpleHeader,
		Importance: connectors.ImportanceLow, Group: GroupCommon,
		DisplayName:   "Header converter class",
		Documentation: "Converter of record headers: SimpleHeaderConverter, the only one."},
	{Name: KeyValueRegistryURL, Type: connectors.TypeList, Importance: connectors.ImportanceMedium,
		Group: GroupCommon, DisplayName: "Schema Registry URLs",
		Documentation: "Schema Registry URLs of the AvroConverter, separated by commas; " +
			"unset uses the worker's registry."},
	{Name: transform.KeyTransforms, Type: connectors.TypeList,
		Importance: connectors.ImportanceLow, Group: GroupTransforms, DisplayName: "Transforms",
		Documentation: "Aliases of the transformations to apply to records, in order; " +
			"transforms.<alias>.type names each one's class."},
	{Name: transform.KeyPredicates, Type: connectors.TypeList,
		Importance: connectors.ImportanceLow, Group: GroupPredicates, DisplayName: "Predicates",
		Documentation: "Aliases of the predicates transformations may be conditioned on; " +
			"predicates.<alias>.type names each one's class."},
	{Name: KeyErrorsRetryTimeout, Type: connectors.TypeLong, NoDefault: true,
		Importance: connectors.ImportanceMedium, Group: GroupErrorHandling,
		DisplayName: "Retry Timeout for Errors",
		Documentation: "Milliseconds to retry a failed operation: 0 retries nothing, -1 " +
			"forever. Unset, a registry outage is retried forever and a storage " +
			"write for 5 minutes."},
	{Name: KeyErrorsRetryDelayMax, Type: connectors.TypeLong, Default: "60000",
		Importance: connectors.ImportanceMedium, Group: GroupErrorHandling,
		DisplayName:   "Maximum Delay Between Retries for Errors",
		Documentation: "Longest wait in milliseconds between two attempts of a failed operation."},
	{Name: KeyErrorsTolerance, Type: connectors.TypeString, Default: ToleranceNone,
		Importance: connectors.ImportanceMedium, Group: GroupErrorHandling,
		DisplayName: "Error Tolerance",
		Documentation: "none fails the task on a record it cannot convert or transform; " +
			"all skips the record."},
	{Name: KeyErrorsLogEnable, Type: connectors.TypeBoolean, Default: "false",
		Importance: connectors.ImportanceMedium, Group: GroupErrorHandling,
		DisplayName:   "Log Errors",
		Documentation: "Log each record failure that errors.tolerance lets pass."},
	{Name: KeyErrorsLogMessages, Type: connectors.TypeBoolean, Default: "false",
		Importance: connectors.ImportanceLow, Group: GroupErrorHandling,
		DisplayName:   "Log Error Details",
		Documentation: "Add the record's raw key and value to those log lines."},
	{Name: KeyDeadLetterTopic, Type: connectors.TypeString,
		Importance: connectors.ImportanceMedium, Group: GroupErrorHandling,
		DisplayName: "Dead Letter Queue Topic Name",
		Documentation: "Topic that receives the records errors.tolerance=all skips, as " +
			"consumed; empty sends them nowhere."},
	{Name: KeyDeadLetterReplication, Type: connectors.TypeShort, Default: "3",
		Importance: connectors.ImportanceLow, Group: GroupErrorHandling,
		DisplayName: "Dead Letter Queue Topic Replication Factor",
		Documentation: "Replication factor of the dead letter queue topic when the worker " +
			"creates it, capped by the number of brokers."},
	{Name: KeyDeadLetterHeaders, Type: connectors.TypeBoolean, Default: "false",
		Importance: connectors.ImportanceLow, Group: GroupErrorHandling,
		DisplayName: "Enable Error Context Headers",
		Documentation: "Add __connect.errors.* headers naming the failure to each dead " +
			"letter."},
}

// FrameworkKeys describes the connector config keys the runtime reads
// itself, whatever the connector, as Kafka Connect describes its own.
func FrameworkKeys() []connectors.ConfigKey { return slices.Clone(frameworkKeys) }

// runtimeKeys are the connector config keys the runtime reads itself:
// frameworkKeys, and the converter keys that have no description. Those
// under runtimePrefixes are listed too, so that a misspelt prefix still
// gets a suggestion.
var runtimeKeys = append(connectors.ConfigDef{Keys: frameworkKeys}.Names(),
	KeyValueSchemasEnable, KeyKeySchemasEnable,
	KeyKeySubjectStrategy, KeyValueSubjectStrategy,
	"key.subject.name.strategy", "value.subject.name.strategy",
	KeyValueBasicAuthSource, KeyValueBasicAuthUserInfo, KeyValueBearerAuthSource,
	KeyValueBearerAuthToken, KeyValueRegistryCALocation,
)

// runtimePrefixes are the prefixes of keys the runtime owns: converter
// settings, one transform's or predicate's settings, and client overrides.
// Each is checked where it is read, not here.
var runtimePrefixes = []string{
	"key.converter.", "value.converter.", "header.converter.",
	transform.KeyTransforms + ".", transform.KeyPredicates + ".",
	"consumer.override.", "producer.override.", "admin.override.",
}

// UnknownKey is a connector config key that neither the runtime nor the
// connector reads.
type UnknownKey struct {
	Key string
	// Closest is the known key within two edits of Key, or "".
	Closest string
}

// UnknownKeys returns, sorted, the keys of cfg that neither the runtime nor
// def declares. Kafka Connect accepts such keys, and configs copied from it
// carry other plugins' keys, so they are never an error; but a misspelt key
// silently falls back to a default, so callers warn about each.
func UnknownKeys(cfg map[string]string, def connectors.ConfigDef) []UnknownKey {
	known := slices.Concat(runtimeKeys, def.Names())
	prefixes := slices.Concat(runtimePrefixes, def.Prefixes)
	var out []UnknownKey
	for k := range cfg {
		if slices.Contains(known, k) || slices.ContainsFunc(prefixes, func(p string) bool {
			return strings.HasPrefix(k, p)
		}) {
			continue
		}
		out = append(out, UnknownKey{Key: k, Closest: Closest(k, known)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out
}
