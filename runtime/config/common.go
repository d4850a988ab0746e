package config

import (
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/tributary-io/tributary/connectors"
	"github.com/tributary-io/tributary/connectors/transform"
	"github.com/tributary-io/tributary/schemas"
)

// Keys every sink shares, spelt as in Kafka Connect.
const (
	KeyConnectorClass   = "connector.class"
	KeyTasksMax         = "tasks.max"
	KeyTopics           = "topics"
	KeyTopicsRegex      = "topics.regex"
	KeyKeyConverter     = "key.converter"
	KeyValueConverter   = "value.converter"
	KeyValueRegistryURL = "value.converter.schema.registry.url"
	KeyHeaderConverter  = "header.converter"
	// KeyKeySchemasEnable and KeyValueSchemasEnable are JsonConverter's
	// schemas.enable for keys and values (default true, as in Kafka Connect).
	KeyKeySchemasEnable   = "key.converter.schemas.enable"
	KeyValueSchemasEnable = "value.converter.schemas.enable"
	// KeyValueSubjectStrategy is the AvroConverter's subject name strategy
	// for values; the unprefixed value.subject.name.strategy is accepted too.
	KeyValueSubjectStrategy = "value.converter.value.subject.name.strategy"
	KeyKeySubjectStrategy   = "key.converter.key.subject.name.strategy"
	KeyErrorsTolerance      = "errors.tolerance"
)

// MaxTasks is the largest tasks.max a connector may ask for: each task
// holds a Kafka client and its connections, so that a mistyped tasks.max
// would otherwise exhaust the worker's and the brokers' file descriptors.
const MaxTasks = 1000

// Values of errors.tolerance.
const (
	// ToleranceNone fails the task on the first record it cannot convert,
	// transform or write.
	ToleranceNone = "none"
	// ToleranceAll skips such records (and sends them to the dead letter
	// queue when one is configured).
	ToleranceAll = "all"
)

// Short names of the converters, by which Common reports them.
const (
	// ConverterAvro reads Confluent's wire format (AvroConverter).
	ConverterAvro = "avro"
	// ConverterJSON is Kafka Connect's JsonConverter.
	ConverterJSON = "json"
	// ConverterString is Kafka Connect's StringConverter.
	ConverterString = "string"
	// ConverterByteArray is Kafka Connect's ByteArrayConverter.
	ConverterByteArray = "bytearray"
	// ConverterSimpleHeader is SimpleHeaderConverter, the only header
	// converter.
	ConverterSimpleHeader = "simple"
)

// Common holds the keys every sink shares, parsed and defaulted.
type Common struct {
	// Class is connector.class; see CanonicalClass.
	Class string
	// TasksMax is tasks.max, at least 1.
	TasksMax int
	// Topics is the topics list; nil when TopicsRegex is set.
	Topics []string
	// TopicsRegex is topics.regex, compiled with Go's regexp (RE2) syntax;
	// nil when Topics is set.
	TopicsRegex *regexp.Regexp
	// KeyConverter, ValueConverter and HeaderConverter are the short
	// converter names.
	KeyConverter    string
	ValueConverter  string
	HeaderConverter string
	// KeySchemasEnable and ValueSchemasEnable are the JsonConverter's
	// schemas.enable settings.
	KeySchemasEnable   bool
	ValueSchemasEnable bool
	// KeySubjectStrategy and ValueSubjectStrategy are the AvroConverter's
	// subject name strategies, as class names; empty means
	// TopicNameStrategy.
	KeySubjectStrategy   string
	ValueSubjectStrategy string
	// SchemaRegistryURLs is value.converter.schema.registry.url; empty means
	// the worker's registry.
	SchemaRegistryURLs []string
	// RegistryAuth holds the value converter's registry credentials and
	// CAs; zero means the worker's, when the registry is the worker's.
	RegistryAuth RegistryAuth
	// ErrorsTolerance is ToleranceNone or ToleranceAll, as Errors.Tolerance.
	ErrorsTolerance string
	// Errors holds every errors.* key.
	Errors ErrorHandling
	// ConsumerOverrides holds the consumer.override.* keys without their
	// prefix. Only max.poll.records, fetch.max.bytes,
	// max.partition.fetch.bytes, fetch.max.wait.ms, session.timeout.ms and
	// auto.offset.reset may be overridden; security settings never.
	ConsumerOverrides map[string]string
}

// classAliases maps Kafka Connect class names of the sinks Tributary ships to
// their short names, so that configs written for Kafka Connect run as is.
var classAliases = map[string]string{
	"io.confluent.connect.s3.S3SinkConnector": "s3",
	"S3SinkConnector":                         "s3",
	"S3Sink":                                  "s3",
	"io.confluent.connect.hdfs.HdfsSinkConnector":            "hdfs",
	"io.confluent.connect.hdfs3.Hdfs3SinkConnector":          "hdfs",
	"HdfsSinkConnector":                                      "hdfs",
	"Hdfs3SinkConnector":                                     "hdfs",
	"com.wepay.kafka.connect.bigquery.BigQuerySinkConnector": "bigquery",
	"BigQuerySinkConnector":                                  "bigquery",
	"org.apache.kafka.connect.file.FileStreamSinkConnector":  "file",
	"FileStreamSinkConnector":                                "file",
	"FileStreamSink":                                         "file",
}

// CanonicalClass returns the short name for a connector.class value: the
// Kafka Connect class names of the sinks Tributary ships map to s3, hdfs,
// bigquery and file; any other value is returned as is.
func CanonicalClass(class string) string {
	if short, ok := classAliases[class]; ok {
		return short
	}
	return class
}

// pluginClasses maps the short names of the sinks Tributary ships to the
// class names the REST API lists them by: Kafka Connect's, where the sink
// takes that connector's keys. The file sink is Tributary's own (Kafka
// Connect's FileStreamSinkConnector writes lines to one file) and keeps its
// short name.
var pluginClasses = map[string]string{
	"s3": "io.confluent.connect.s3.S3SinkConnector",
}

// PluginClass returns the class name a connector plugin is listed by: the
// full class name for a short name that has one, else short itself.
// CanonicalClass maps it back.
func PluginClass(short string) string {
	if class, ok := pluginClasses[short]; ok {
		return class
	}
	return short
}

// converterAliases maps accepted converter names to their short names.
var converterAliases = map[string]string{
	"avro":                          ConverterAvro,
	schemas.ClassAvroConverter:      ConverterAvro,
	"json":                          ConverterJSON,
	schemas.ClassJSONConverter:      ConverterJSON,
	"string":                        ConverterString,
	schemas.ClassStringConverter:    ConverterString,
	"bytearray":                     ConverterByteArray,
	schemas.ClassByteArrayConverter: ConverterByteArray,
}

// headerConverterAliases maps accepted header converter names to their
// short names.
var headerConverterAliases = map[string]string{
	"simple":                  ConverterSimpleHeader,
	schemas.ClassSimpleHeader: ConverterSimpleHeader,
}

// consumerOverrides lists the consumer settings a connector may override
// with consumer.override.*, with a check of each value. Everything else,
// security settings above all, is the worker's: a connector must not be able
// to change the identity the worker connects with.
var consumerOverrides = map[string]func(string) string{
	"max.poll.records":          positiveInt,
	"fetch.max.bytes":           positiveInt,
	"max.partition.fetch.bytes": positiveInt,
	"fetch.max.wait.ms":         positiveInt,
	"session.timeout.ms":        positiveInt,
	"auto.offset.reset":         oneOf("earliest", "latest"),
}

// Common parses the keys every sink shares the way Kafka Connect does, and
// returns every problem found. Field errors carry the file and line when c
// was read from a file.
func (c *Connector) Common() (Common, []connectors.FieldError) {
	p := &commonParser{c: c}
	cm := Common{
		Class:           strings.TrimSpace(c.Config[KeyConnectorClass]),
		TasksMax:        1,
		KeyConverter:    ConverterAvro,
		ValueConverter:  ConverterAvro,
		ErrorsTolerance: ToleranceNone,
	}
	if cm.Class == "" {
		p.errorf(KeyConnectorClass, "required")
	}
	cm.Class = CanonicalClass(cm.Class)

	if s, ok := c.Config[KeyTasksMax]; ok {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		switch {
		case err != nil:
			p.errorf(KeyTasksMax, "want an integer, got %q", s)
		case n < 1:
			p.errorf(KeyTasksMax, "must be at least 1, got %d", n)
		case n > MaxTasks:
			p.errorf(KeyTasksMax, "must be at most %d, got %d: each task is a Kafka "+
				"consumer, and tasks beyond the partitions of the topics read nothing",
				MaxTasks, n)
		default:
			cm.TasksMax = n
		}
	}

	cm.Topics, cm.TopicsRegex = p.topics()
	p.converters(&cm)

	p.regex = cm.TopicsRegex
	cm.Errors = p.errorHandling(cm.Topics)
	cm.ErrorsTolerance = cm.Errors.Tolerance

	cm.ConsumerOverrides = p.overrides()
	p.transforms()
	return cm, p.errs
}

// converters parses the converter keys into cm.
func (p *commonParser) converters(cm *Common) {
	cm.KeyConverter = p.converter(KeyKeyConverter, cm.KeyConverter, converterAliases)
	cm.ValueConverter = p.converter(KeyValueConverter, cm.ValueConverter, converterAliases)
	cm.HeaderConverter = p.converter(KeyHeaderConverter, ConverterSimpleHeader,
		headerConverterAliases)
	cm.KeySchemasEnable = p.boolean(KeyKeySchemasEnable, true)
	cm.ValueSchemasEnable = p.boolean(KeyValueSchemasEnable, true)
	cm.KeySubjectStrategy = p.strategy(KeyKeySubjectStrategy, "key.subject.name.strategy")
	cm.ValueSubjectStrategy = p.strategy(KeyValueSubjectStrategy, "value.subject.name.strategy")
	cm.SchemaRegistryURLs = p.urls(KeyValueRegistryURL)
	cm.RegistryAuth = p.registryAuth(cm.SchemaRegistryURLs)
}

// transforms checks the transform chain: transforms, predicates and the
// keys of each alias. The tasks build the chain again from the config with
// references resolved.
func (p *commonParser) transforms() {
	_, errs := transform.Parse(p.c.Config)
	for _, fe := range errs {
		line, ok := p.c.Lines[fe.Key]
		if !ok {
			// A missing key is placed at the type of its alias.
			parts := strings.SplitN(fe.Key, ".", 3)
			if len(parts) == 3 {
				line, ok = p.c.Lines[parts[0]+"."+parts[1]+"."+transform.KeyType]
			}
		}
		if !ok || p.c.Source == "" {
			p.errorf(fe.Key, "%s", fe.Message)
			continue
		}
		p.errs = append(p.errs, fieldErr(p.c.Source, line, joinKey("config", fe.Key), "%s", fe.Message))
	}
}

// commonParser collects the problems found by Common.
type commonParser struct {
	c     *Connector
	errs  []connectors.FieldError
	regex *regexp.Regexp
}

func (p *commonParser) errorf(key, format string, args ...any) {
	p.errs = append(p.errs, p.c.fieldError(key, format, args...))
}

// topics parses topics and topics.regex, of which exactly one must be set.
func (p *commonParser) topics() ([]string, *regexp.Regexp) {
	list := strings.TrimSpace(p.c.Config[KeyTopics])
	expr := p.c.Config[KeyTopicsRegex]
	switch {
	case list != "" && expr != "":
		p.errorf(KeyTopicsRegex, "set either topics or topics.regex, not both")
		return nil, nil
	case list == "" && expr == "":
		p.errorf(KeyTopics, "required: set topics or topics.regex")
		return nil, nil
	case expr != "":
		re, err := regexp.Compile(expr)
		if err != nil {
			p.errorf(KeyTopicsRegex, "%v", err)
			return nil, nil
		}
		return nil, re
	}
	var topics []string
	for _, t := range strings.Split(list, ",") {
		t = strings.TrimSpace(t)
		if msg := topicName(t); msg != "" {
			p.errorf(KeyTopics, "%s", msg)
			continue
		}
		topics = append(topics, t)
	}
	return topics, nil
}

// legalTopic matches the characters Kafka allows in a topic name.
var legalTopic = regexp.MustCompile(`^[a-zA-Z0-9._-]+$`)

// topicName checks a Kafka topic name and returns what is wrong with it.
func topicName(t string) string {
	switch {
	case t == "":
		return "empty topic name in the list"
	case len(t) > 249:
		return "topic name longer than 249 characters"
	case t == "." || t == "..":
		return "topic name may not be . or .."
	case !legalTopic.MatchString(t):
		return "topic name " + strconv.Quote(t) +
			" may hold only ASCII letters, digits, '.', '_' and '-'"
	}
	return ""
}

func (p *commonParser) converter(key, def string, aliases map[string]string) string {
	s, ok := p.c.Config[key]
	if !ok {
		return def
	}
	short, ok := aliases[strings.TrimSpace(s)]
	if !ok {
		var classes []string
		for name := range aliases {
			if strings.Contains(name, ".") {
				classes = append(classes, name)
			}
		}
		sort.Strings(classes)
		p.errorf(key, "unsupported converter %q; use one of %s", s, strings.Join(classes, ", "))
		return def
	}
	return short
}

// strategy checks a subject name strategy class, under its converter-
// prefixed key or, failing that, its plain one.
func (p *commonParser) strategy(key, plain string) string {
	s, ok := p.c.Config[key]
	if !ok {
		if s, ok = p.c.Config[plain]; !ok {
			return ""
		}
		key = plain
	}
	s = strings.TrimSpace(s)
	if _, err := schemas.NewSubjectStrategy(s); err != nil {
		p.errorf(key, "%s", err.Error())
		return ""
	}
	return s
}

// urls parses a comma-separated list of http or https URLs.
func (p *commonParser) urls(key string) []string {
	s, ok := p.c.Config[key]
	if !ok {
		return nil
	}
	var out []string
	for _, u := range strings.Split(s, ",") {
		u = strings.TrimSpace(u)
		if msg := httpURL(u); msg != "" {
			p.errorf(key, "%s", msg)
			continue
		}
		out = append(out, u)
	}
	return out
}

// httpURL checks an http or https URL and returns what is wrong with it.
func httpURL(s string) string {
	u, err := url.Parse(s)
	shown := strconv.Quote(MaskURLPasswords(s))
	switch {
	case s == "":
		return "empty URL in the list"
	case err != nil:
		return "invalid URL " + shown
	case u.Scheme != "http" && u.Scheme != "https":
		return "URL " + shown + " must start with http:// or https://"
	case u.Host == "":
		return "URL " + shown + " has no host"
	}
	return ""
}

// overrides checks the client override keys, in key order.
func (p *commonParser) overrides() map[string]string {
	keys := make([]string, 0, len(p.c.Config))
	for k := range p.c.Config {
		keys = append(keys, k)
	}
	sort.Strings(keys)

	var out map[string]string
	for _, k := range keys {
		client, setting, ok := overrideKey(k)
		if !ok {
			continue
		}
		if isSecuritySetting(setting) {
			p.errorf(k, "security settings cannot be overridden per connector; "+
				"set them on the worker")
			continue
		}
		if client != "consumer" {
			p.errorf(k, "sinks have no per-connector %s client to override", client)
			continue
		}
		check, ok := consumerOverrides[setting]
		if !ok {
			p.errorf(k, "%s cannot be overridden per connector; allowed: %s",
				setting, strings.Join(sortedKeys(consumerOverrides), ", "))
			continue
		}
		if msg := check(p.c.Config[k]); msg != "" {
			p.errorf(k, "%s", msg)
			continue
		}
		if out == nil {
			out = map[string]string{}
		}
		out[setting] = strings.TrimSpace(p.c.Config[k])
	}
	return out
}

// overrideKey splits consumer.override.fetch.max.bytes into its client and
// setting.
func overrideKey(k string) (client, setting string, ok bool) {
	for _, c := range []string{"consumer", "producer", "admin"} {
		if s, found := strings.CutPrefix(k, c+".override."); found {
			return c, s, true
		}
	}
	return "", "", false
}

// isSecuritySetting reports whether a Kafka client setting concerns
// authentication or encryption.
func isSecuritySetting(s string) bool {
	return strings.HasPrefix(s, "sasl.") || strings.HasPrefix(s, "ssl.") ||
		s == "security.protocol" || s == "jaas.config" || strings.HasSuffix(s, ".jaas.config")
}

func positiveInt(s string) string {
	n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	switch {
	case err != nil:
		return "want an integer, got " + strconv.Quote(s)
	case n < 1:
		return "must be at least 1, got " + strconv.FormatInt(n, 10)
	}
	return ""
}

func oneOf(values ...string) func(string) string {
	return func(s string) string {
		for _, v := range values {
			if s == v {
				return ""
			}
		}
		return "must be one of " + strings.Join(values, ", ") + "; got " + strconv.Quote(s)
	}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
