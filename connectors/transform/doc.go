// Package transform holds Kafka Connect's single message transforms and
// predicates, configured with Kafka Connect's keys, class names and
// defaults, so that a connector config written for Kafka Connect carries
// over unchanged.
//
// On the data path it sits between the converter and the sink: the sink
// task loop (runtime/worker) decodes each record with its value converter,
// runs the connector's Chain on it, and hands what comes out to the
// connector's SinkTask. A record a transform drops (Filter) never reaches
// the sink, but its offset counts as consumed: the runtime commits past it
// once every record it handed the sink before it is durable.
//
// # Configuration
//
//	transforms=mask,route
//	transforms.mask.type=org.apache.kafka.connect.transforms.MaskField$Value
//	transforms.mask.fields=email
//	transforms.route.type=RegexRouter
//	transforms.route.regex=(.*)-raw
//	transforms.route.replacement=$1
//	transforms.route.predicate=isRaw
//	transforms.route.negate=false
//	predicates=isRaw
//	predicates.isRaw.type=TopicNameMatches
//	predicates.isRaw.pattern=.*-raw
//
// A type is the full class name (org.apache.kafka.connect.transforms.Cast$Value,
// org.apache.kafka.connect.transforms.predicates.HasHeaderKey) or its simple
// name (Cast$Value, HasHeaderKey). The transforms are Cast, DropHeaders,
// ExtractField, Filter, Flatten, HeaderFrom, HoistField, InsertField,
// InsertHeader, MaskField, RegexRouter, ReplaceField, SetSchemaMetadata,
// TimestampConverter, TimestampRouter and ValueToKey, with $Key and $Value
// variants where Kafka Connect has them; the predicates are
// TopicNameMatches, HasHeaderKey and RecordIsTombstone. Parse reports every
// problem at once: unknown types, missing or malformed keys, keys a
// transform does not take, aliases listed twice or not listed at all.
//
// # Values and schemas
//
// Values are in the generic form of hamba/avro that connectors.Record
// describes; a struct is a record value (map[string]any with a record
// schema), a map without a schema is a schemaless struct, as Kafka
// Connect's transforms see a java.util.Map. A transform that changes the
// shape of a value derives the matching Avro schema and sets it as the
// record's ValueSchema, so that sinks writing files from the schema write
// the transformed shape. A derived schema is not registered: its ID is
// negative and determined by the schema's content (see derive), so one
// shape keeps one ID across tasks and restarts. Each transform derives the
// schema for an input schema once and caches it.
//
// Where Kafka Connect reads Connect types, Avro's are used: int8, int16 and
// int32 are Avro int, int64 long, float32 float, float64 double; Date, Time
// and Timestamp are the date, time-millis and timestamp-millis logical
// types; an optional field is a union with null first and a null default.
// Patterns of TimestampConverter and TimestampRouter are
// java.text.SimpleDateFormat patterns, evaluated in UTC; regexes are
// compiled with Go's RE2 syntax and must match the whole topic name, as
// Java's Matcher.matches does.
//
// # Keys
//
// When the connector sets key.converter, the worker decodes each key as
// Kafka Connect does, and the $Key variants work on that key and its
// schema (Record.KeyData and KeySchema): a StringConverter key is a
// string, a JsonConverter or AvroConverter key a struct or map. A
// transformed key is also written back to Record.Key, as JSON or as the
// bare string when it is one. ValueToKey builds the key from the selected
// fields, with a ConnectDefault record schema when the value has one.
//
// Without key.converter the key stays bytes, as in earlier releases, and
// the $Key variants see it the way a schemaless converter would: a key
// holding a JSON object or array is decoded as JSON (as Kafka Connect's
// JsonConverter with schemas.enable=false does), any other key is a string
// (as with the StringConverter).
//
// Header values are read by the header converter (SimpleHeaderConverter)
// into Header.Data; InsertHeader and HeaderFrom set it on the headers they
// add.
//
// # Limitations
//
//   - Without key.converter, keys have no schema, so the $Key variants only
//     see schemaless keys (see Keys).
//   - RegexRouter and TimestampRouter rename Record.Topic; the storage sinks
//     (connectors/storage) keep their state per consumed topic partition,
//     so their validation refuses these transforms, as Confluent's S3 sink
//     documents for its own topic-renaming transforms.
//   - Flatten with a schema joins names with the delimiter, and Avro names
//     allow only letters, digits and '_': use delimiter=_ with Avro-backed
//     values, since the default '.' yields invalid field names.
//   - MaskField cannot mask enum fields (the empty string is not a symbol)
//     nor whole structs, and masks bytes to empty bytes.
//   - SetSchemaMetadata renames record schemas only; schema.version is kept
//     in the connect.version property, as Confluent's Avro converter does.
//   - SimpleDateFormat patterns are translated to Go layouts: literal
//     digits, and fractions of a second that do not follow '.' or ',', are
//     rejected at config load.
//   - InsertHeader stores value.literal as the header's bytes, which is what
//     Kafka Connect's simple header converter writes for it; HeaderFrom
//     writes field values in the same string form.
//   - Values of transforms.* keys are checked before ${provider:...}
//     references are resolved; a reference is checked as its literal text.
//   - Changing the chain while a storage segment's plan is pending may make
//     the rebuilt segment differ from its plan; the sink then fails the task
//     rather than guess (see connectors/storage).
package transform
