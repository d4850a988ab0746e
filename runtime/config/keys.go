package config

import (
	"slices"
	"sort"
	"strings"

	"github.com/tributary-io/tributary/connectors"
	"github.com/tributary-io/tributary/connectors/transform"
)

// runtimeKeys are the connector config keys the runtime reads itself,
// whatever the connector. Those under runtimePrefixes are listed too, so
// that a misspelt prefix still gets a suggestion.
var runtimeKeys = []string{
	"name", KeyConnectorClass, KeyTasksMax, KeyTopics, KeyTopicsRegex,
	KeyKeyConverter, KeyValueConverter, KeyHeaderConverter,
	KeyValueRegistryURL, KeyKeySchemasEnable, KeyValueSchemasEnable,
	KeyKeySubjectStrategy, KeyValueSubjectStrategy,
	"key.subject.name.strategy", "value.subject.name.strategy",
	KeyValueBasicAuthSource, KeyValueBasicAuthUserInfo, KeyValueBearerAuthSource,
	KeyValueBearerAuthToken, KeyValueRegistryCALocation,
	KeyErrorsTolerance, KeyErrorsRetryTimeout, KeyErrorsRetryDelayMax, KeyErrorsLogEnable,
	KeyErrorsLogMessages, KeyDeadLetterTopic, KeyDeadLetterReplication, KeyDeadLetterHeaders,
	transform.KeyTransforms, transform.KeyPredicates,
}

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
	known := slices.Concat(runtimeKeys, def.Keys)
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
