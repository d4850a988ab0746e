package transform

import (
	"slices"

	"github.com/tributary-io/tributary/connectors"
)

// Shorthands for the key descriptions below.
const (
	high   = connectors.ImportanceHigh
	medium = connectors.ImportanceMedium
	low    = connectors.ImportanceLow
)

// required describes a key that must be set.
func requiredKey(name string, typ connectors.ConfigType, imp connectors.Importance, doc string) connectors.ConfigKey {
	return connectors.ConfigKey{Name: name, Type: typ, Required: true, Importance: imp,
		Documentation: doc}
}

// optionalKey describes a key that, unset, has no value.
func optionalKey(name string, typ connectors.ConfigType, imp connectors.Importance, doc string) connectors.ConfigKey {
	return connectors.ConfigKey{Name: name, Type: typ, NoDefault: true, Importance: imp,
		Documentation: doc}
}

// defaultKey describes a key with a default value.
func defaultKey(name string, typ connectors.ConfigType, def string, imp connectors.Importance, doc string) connectors.ConfigKey {
	return connectors.ConfigKey{Name: name, Type: typ, Default: def, Importance: imp,
		Documentation: doc}
}

var replaceNullKey = defaultKey(keyReplaceNullWithDefault, connectors.TypeBoolean, "true", medium,
	"Whether a null field that has a default in its schema takes that default (true) or stays null.")

func insertFieldKey(name, what string) connectors.ConfigKey {
	return optionalKey(name, connectors.TypeString, medium, "Field to hold "+what+
		"; unset inserts none. A trailing ! makes the field required in the schema, "+
		"a trailing ? optional (the default).")
}

// pluginKeys describes the keys of each transformation and predicate, by
// simple class name, in the order the plugin's own description lists them.
// The test holds it to the keys each plugin reads.
var pluginKeys = map[string][]connectors.ConfigKey{
	"Cast": {
		requiredKey("spec", connectors.TypeList, high, "Casts to apply: a single type for "+
			"the whole key or value, or field:type pairs separated by commas. Types: int8, "+
			"int16, int32, int64, float32, float64, boolean, string."),
		replaceNullKey,
	},
	"DropHeaders": {
		requiredKey("headers", connectors.TypeList, high, "Names of the headers to remove."),
	},
	"ExtractField": {
		requiredKey(keyField, connectors.TypeString, medium, "Field to replace the key or "+
			"value with; with field.syntax.version V2, a dotted path into nested structs."),
		defaultKey("field.syntax.version", connectors.TypeString, "V1", high,
			"V1 reads field names as written; V2 reads dots as steps into nested structs "+
				"(backquotes keep a dot in a name)."),
		replaceNullKey,
	},
	"Filter": nil,
	"Flatten": {
		defaultKey("delimiter", connectors.TypeString, ".", medium,
			"Text put between the names of a nested field and its parents."),
	},
	"HeaderFrom": {
		requiredKey(keyFields, connectors.TypeList, high, "Fields to copy or move into headers."),
		requiredKey("headers", connectors.TypeList, high, "Header names, one per field, in order."),
		requiredKey("operation", connectors.TypeString, high,
			"copy keeps the fields in the record; move removes them."),
		replaceNullKey,
	},
	"HoistField": {
		requiredKey(keyField, connectors.TypeString, medium,
			"Name of the single field of the struct or map that wraps the key or value."),
	},
	"InsertField": {
		insertFieldKey("topic.field", "the record's topic"),
		insertFieldKey("partition.field", "the record's Kafka partition"),
		insertFieldKey("offset.field", "the record's Kafka offset (sink connectors only)"),
		insertFieldKey("timestamp.field", "the record's timestamp"),
		insertFieldKey("static.field", "static.value"),
		optionalKey("static.value", connectors.TypeString, medium, "Value of static.field."),
		replaceNullKey,
	},
	"InsertHeader": {
		requiredKey("header", connectors.TypeString, high, "Name of the header to add."),
		requiredKey("value.literal", connectors.TypeString, high,
			"Value of the header, read as SimpleHeaderConverter reads text."),
	},
	"MaskField": {
		requiredKey(keyFields, connectors.TypeList, high, "Fields to replace with the empty "+
			"value of their type, or with replacement."),
		optionalKey("replacement", connectors.TypeString, low, "Value to put in place of "+
			"the masked fields; unset uses the empty value of each field's type."),
		replaceNullKey,
	},
	"RegexRouter": {
		requiredKey("regex", connectors.TypeString, high,
			"Regular expression the whole topic name must match."),
		defaultKey("replacement", connectors.TypeString, "", high,
			"New topic name; $1, $2 and so on stand for the groups of regex."),
	},
	"ReplaceField": {
		defaultKey("exclude", connectors.TypeList, "", medium, "Fields to drop."),
		defaultKey("include", connectors.TypeList, "", medium,
			"Fields to keep; empty keeps every field not excluded."),
		defaultKey("renames", connectors.TypeList, "", medium,
			"Renames as old:new pairs, separated by commas."),
		replaceNullKey,
		defaultKey("blacklist", connectors.TypeList, "", low, "Former name of exclude."),
		defaultKey("whitelist", connectors.TypeList, "", low, "Former name of include."),
	},
	"SetSchemaMetadata": {
		optionalKey("schema.name", connectors.TypeString, high,
			"Name to give the schema; unset keeps its name."),
		optionalKey("schema.version", connectors.TypeInt, high,
			"Version to give the schema; unset keeps its version."),
		replaceNullKey,
	},
	"TimestampConverter": {
		defaultKey(keyField, connectors.TypeString, "", high,
			"Field holding the timestamp; empty converts the whole key or value."),
		requiredKey("target.type", connectors.TypeString, high,
			"Type to convert to: string, unix, Date, Time or Timestamp."),
		defaultKey("format", connectors.TypeString, "", medium, "SimpleDateFormat pattern "+
			"for string timestamps, read and written; required when target.type is string."),
		defaultKey("unix.precision", connectors.TypeString, "milliseconds", low,
			"Unit of unix timestamps: seconds, milliseconds, microseconds or nanoseconds."),
		replaceNullKey,
	},
	"TimestampRouter": {
		defaultKey("topic.format", connectors.TypeString, "${topic}-${timestamp}", high,
			"New topic name; ${topic} stands for the topic, ${timestamp} for the record's "+
				"timestamp in timestamp.format."),
		defaultKey("timestamp.format", connectors.TypeString, "yyyyMMdd", high,
			"SimpleDateFormat pattern of ${timestamp}, in UTC."),
	},
	"ValueToKey": {
		requiredKey(keyFields, connectors.TypeList, high,
			"Fields of the value that make up the new key."),
		replaceNullKey,
	},

	"HasHeaderKey": {
		requiredKey("name", connectors.TypeString, medium, "Header name the record must carry."),
	},
	"RecordIsTombstone": nil,
	"TopicNameMatches": {
		requiredKey("pattern", connectors.TypeString, medium,
			"Regular expression the whole topic name must match."),
	},
}

// TransformKeys describes the keys of the transformation with the given
// full or simple class name (InsertField$Value), as Kafka Connect's
// GET /connector-plugins/{plugin}/config lists a transformation's. It
// returns the full class name, and false for no known transformation.
func TransformKeys(class string) ([]connectors.ConfigKey, string, bool) {
	p, _, canonical, err := lookupTransform(class)
	if err != nil {
		return nil, "", false
	}
	return slices.Clone(pluginKeys[p.name]), canonical, true
}

// PredicateKeys describes the keys of the predicate with the given full or
// simple class name, as TransformKeys does for transformations.
func PredicateKeys(class string) ([]connectors.ConfigKey, string, bool) {
	p, canonical, err := lookupPredicate(class)
	if err != nil {
		return nil, "", false
	}
	return slices.Clone(pluginKeys[p.name]), canonical, true
}
