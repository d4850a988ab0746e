package config

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"
	"github.com/spf13/viper"

	"github.com/tributary-io/tributary/connectors"
)

// EnvPrefix starts the name of every environment variable the worker reads.
const EnvPrefix = "TRIBUTARY_"

// KeyConfigFile is the flag and (as TRIBUTARY_CONFIG) environment variable
// holding the path of the worker config file.
const KeyConfigFile = "config"

// ViperConfigFile is the viper key of the config file path; set it to load
// a file. It is not "config", because viper would then hide every key under
// config., such as config.providers, behind the file path.
const ViperConfigFile = "worker_config_file"

// Worker is the configuration of one worker process. The mapstructure tags
// are the keys, spelt as in Kafka Connect where Kafka Connect has the
// setting; the help of the flags AddFlags defines says what each one means.
type Worker struct {
	BootstrapServers              []string `mapstructure:"bootstrap.servers"`
	GroupID                       string   `mapstructure:"group.id"`
	Listeners                     []string `mapstructure:"listeners"`
	OffsetFlushIntervalMS         int64    `mapstructure:"offset.flush.interval.ms"`
	TaskShutdownGracefulTimeoutMS int64    `mapstructure:"task.shutdown.graceful.timeout.ms"`
	ConnectorsDir                 string   `mapstructure:"connectors.dir"`
	ConnectorFiles                []string `mapstructure:"connectors.files"`
	SchemaRegistryURLs            []string `mapstructure:"schema.registry.url"`
	RegistryListener              string   `mapstructure:"registry.listener"`
	RegistryTopic                 string   `mapstructure:"registry.topic"`
	ConsumerSessionTimeoutMS      int64    `mapstructure:"consumer.session.timeout.ms"`
	ConsumerMaxPollRecords        int      `mapstructure:"consumer.max.poll.records"`
	MetricsListener               string   `mapstructure:"metrics.listener"`
	LogLevel                      string   `mapstructure:"log.level"`
	LogFormat                     string   `mapstructure:"log.format"`
	SpoolDir                      string   `mapstructure:"spool.dir"`
	ConfigStorageFile             string   `mapstructure:"config.storage.file.filename"`
	ConfigProviders               []string `mapstructure:"config.providers"`
	FileProviderAllowedPaths      []string `mapstructure:"config.providers.file.param.allowed.paths"`
	EnvProviderAllowlist          string   `mapstructure:"config.providers.env.param.allowlist.pattern"`
	RESTTLSCertFile               string   `mapstructure:"rest.tls.cert.file"`
	RESTTLSKeyFile                string   `mapstructure:"rest.tls.key.file"`
	RESTTLSClientCAFile           string   `mapstructure:"rest.tls.client.ca.file"`
	RESTBasicUsername             string   `mapstructure:"rest.auth.basic.username"`
	RESTBasicPassword             string   `mapstructure:"rest.auth.basic.password"`
	RESTBearerToken               string   `mapstructure:"rest.auth.bearer.token"`
	RegistryTLSCertFile           string   `mapstructure:"registry.tls.cert.file"`
	RegistryTLSKeyFile            string   `mapstructure:"registry.tls.key.file"`
	RegistryBasicUser             string   `mapstructure:"registry.basic.auth.user"`
	RegistryBasicPassword         string   `mapstructure:"registry.basic.auth.password"`
	RegistryBearerToken           string   `mapstructure:"registry.bearer.token"`
	SchemaRegistryUserInfo        string   `mapstructure:"schema.registry.basic.auth.user.info"`
	SchemaRegistryBearerToken     string   `mapstructure:"schema.registry.bearer.auth.token"`
	SchemaRegistryCALocation      string   `mapstructure:"schema.registry.ssl.ca.location"`

	// Distributed mode, on when ConfigStorageTopic is set.
	ConfigStorageTopic           string `mapstructure:"config.storage.topic"`
	ConfigStorageReplication     int64  `mapstructure:"config.storage.replication.factor"`
	OffsetStorageTopic           string `mapstructure:"offset.storage.topic"`
	OffsetStoragePartitions      int64  `mapstructure:"offset.storage.partitions"`
	OffsetStorageReplication     int64  `mapstructure:"offset.storage.replication.factor"`
	StatusStorageTopic           string `mapstructure:"status.storage.topic"`
	StatusStoragePartitions      int64  `mapstructure:"status.storage.partitions"`
	StatusStorageReplication     int64  `mapstructure:"status.storage.replication.factor"`
	ScheduledRebalanceMaxDelayMS int64  `mapstructure:"scheduled.rebalance.max.delay.ms"`
	HeartbeatIntervalMS          int64  `mapstructure:"heartbeat.interval.ms"`
	SessionTimeoutMS             int64  `mapstructure:"session.timeout.ms"`
	RebalanceTimeoutMS           int64  `mapstructure:"rebalance.timeout.ms"`
	InterWorkerKey               string `mapstructure:"inter.worker.key"`

	// ConverterDefaults holds the worker file's key.converter,
	// value.converter and header.converter keys and the settings below
	// them: the converters of connectors that name none (see
	// WithConverterDefaults). References stay unresolved.
	ConverterDefaults map[string]string `mapstructure:"-"`

	// Warnings name the Kafka Connect keys of the worker file that were
	// ignored, each with its file and line and why.
	Warnings []string `mapstructure:"-"`

	// Source is the worker config file read, or "" when there was none.
	Source string `mapstructure:"-"`

	// origins records where values that may be wrong came from, for errors.
	origins map[string]origin
}

// origin is where a worker setting came from.
type origin struct {
	where    string // "path:line" or "$TRIBUTARY_..."
	fromFile bool
}

// workerUsage explains each worker key; it is the help text of the flags.
var workerUsage = map[string]string{
	"bootstrap.servers":                            "Kafka brokers, host:port, as a list or comma-separated",
	"group.id":                                     "consumer group of the workers of one cluster",
	"listeners":                                    "REST API listener, http://host:port or host:port",
	"offset.flush.interval.ms":                     "how often tasks commit what is durable (PreCommit)",
	"task.shutdown.graceful.timeout.ms":            "how long tasks may take to stop before being abandoned",
	"connectors.dir":                               "directory of connector files (*.yaml, *.yml, *.json, *.properties; other files are reported, not read)",
	"connectors.files":                             "connector files, in addition to connectors.dir",
	"schema.registry.url":                          "Schema Registry URLs; empty uses the built-in registry",
	"registry.listener":                            "address the built-in registry serves; empty disables it",
	"registry.topic":                               "topic the built-in registry stores schemas in",
	"consumer.session.timeout.ms":                  "Kafka consumer group session timeout",
	"consumer.max.poll.records":                    "most records handed to a task in one Put",
	"metrics.listener":                             "Prometheus /metrics address; empty disables it",
	"log.level":                                    "debug, info, warn or error",
	"log.format":                                   "text or json",
	"spool.dir":                                    "local directory where sinks buffer files before upload",
	"config.storage.file.filename":                 "file where connectors created through the REST API are kept",
	"config.providers":                             "config providers connector configs may reference: env, file",
	"config.providers.file.param.allowed.paths":    "directories ${file:path:key} may read under",
	"config.providers.env.param.allowlist.pattern": "regexp the names ${env:NAME} may use must match",
	"rest.tls.cert.file":                           "PEM certificate of the REST API; requires an https:// listener",
	"rest.tls.key.file":                            "PEM private key of the REST API",
	"rest.tls.client.ca.file":                      "PEM CAs whose client certificates the REST API requires (mTLS)",
	"rest.auth.basic.username":                     "user the REST API requires with HTTP basic auth",
	"rest.auth.basic.password":                     "password of rest.auth.basic.username; ${env:...} or ${file:...}",
	"rest.auth.bearer.token":                       "bearer token the REST API accepts; ${env:...} or ${file:...}",
	"config.storage.topic":                         "compacted topic of a cluster's connectors; set, the worker runs distributed",
	"config.storage.replication.factor":            "replication of config.storage.topic; -1 uses the broker's default",
	"offset.storage.topic":                         "compacted topic of source offsets (distributed)",
	"offset.storage.partitions":                    "partitions of offset.storage.topic",
	"offset.storage.replication.factor":            "replication of offset.storage.topic; -1 uses the broker's default",
	"status.storage.topic":                         "compacted topic of connector and task statuses (distributed)",
	"status.storage.partitions":                    "partitions of status.storage.topic",
	"status.storage.replication.factor":            "replication of status.storage.topic; -1 uses the broker's default",
	"scheduled.rebalance.max.delay.ms":             "how long a departed worker's tasks wait for it before moving",
	"heartbeat.interval.ms":                        "how often a distributed worker heartbeats to its group",
	"session.timeout.ms":                           "how long the group waits for a silent worker before dropping it",
	"rebalance.timeout.ms":                         "how long a worker may take to rejoin during a rebalance",
	"inter.worker.key":                             "key that signs requests forwarded to the leader; ${env:...} or ${file:...}",
	"registry.tls.cert.file":                       "PEM certificate the built-in registry serves https with",
	"registry.tls.key.file":                        "PEM private key of registry.tls.cert.file",
	"registry.basic.auth.user":                     "user the built-in registry requires with HTTP basic auth",
	"registry.basic.auth.password":                 "password of registry.basic.auth.user; ${env:...} or ${file:...}",
	"registry.bearer.token":                        "bearer token the built-in registry accepts; ${env:...} or ${file:...}",
	"schema.registry.basic.auth.user.info":         "user:password for schema.registry.url; ${env:...} or ${file:...}",
	"schema.registry.bearer.auth.token":            "bearer token for schema.registry.url; ${env:...} or ${file:...}",
	"schema.registry.ssl.ca.location":              "PEM CAs to trust for an https:// schema.registry.url",
}

// kafkaOnlyKeys explains Kafka Connect worker keys that ask for something
// this worker does another way; setting one is an error.
var kafkaOnlyKeys = map[string]string{
	"rest.host.name": "use listeners",
	"rest.port":      "use listeners",
	"connectors":     "use connectors.files for a list of files",
}

// ignoredKafkaKeys explains Kafka Connect worker keys that have nothing to
// do here, so that a worker file copied from Kafka Connect's works: each
// is ignored with a warning, as Kafka Connect warns about keys it does not
// know.
var ignoredKafkaKeys = map[string]string{
	"plugin.path":      "connectors are built into tributary",
	"plugin.discovery": "connectors are built into tributary",
	"offset.storage.file.filename": "a sink's offsets live in its consumer group " +
		"(connect-<name>) in Kafka; no file is used",
	"offset.flush.timeout.ms":                 "offsets are committed when the sink reports them durable",
	"rest.advertised.host.name":               "workers forward to the address they listen on",
	"rest.advertised.port":                    "workers forward to the address they listen on",
	"rest.advertised.listener":                "workers forward to the address they listen on",
	"topic.creation.enable":                   "sink connectors create no topics",
	"connector.client.config.override.policy": "connectors may override the consumer keys Tributary lists, never security settings",
	"metric.reporters":                        "metrics are served to Prometheus on metrics.listener",
	"auto.include.jmx.reporter":               "metrics are served to Prometheus on metrics.listener",
}

// pathKeys hold file paths; relative ones in the worker file are taken
// relative to that file, so a config works from any directory.
var pathKeys = map[string]bool{
	"connectors.dir": true, "connectors.files": true, "spool.dir": true,
	"config.storage.file.filename": true, "rest.tls.cert.file": true, "rest.tls.key.file": true,
	"rest.tls.client.ca.file": true, "registry.tls.cert.file": true, "registry.tls.key.file": true,
	"schema.registry.ssl.ca.location": true,
}

// workerField is one key of Worker and the index of its struct field.
type workerField struct {
	key   string
	index int
}

// workerFields lists Worker's keys in field order, from the mapstructure
// tags, so that the struct stays the only list of keys.
var workerFields = func() []workerField {
	var fields []workerField
	t := reflect.TypeFor[Worker]()
	for i := range t.NumField() {
		if key := t.Field(i).Tag.Get("mapstructure"); key != "" && key != "-" {
			fields = append(fields, workerField{key: key, index: i})
		}
	}
	return fields
}()

func workerKeys() []string {
	keys := make([]string, len(workerFields))
	for i, f := range workerFields {
		keys[i] = f.key
	}
	return keys
}

func isWorkerKey(key string) bool {
	for _, f := range workerFields {
		if f.key == key {
			return true
		}
	}
	return false
}

// EnvName returns the environment variable for a worker key:
// bootstrap.servers is read from TRIBUTARY_BOOTSTRAP_SERVERS.
func EnvName(key string) string {
	return EnvPrefix + strings.ToUpper(strings.NewReplacer(".", "_", "-", "_").Replace(key))
}

// DefaultWorker returns the settings used for every key left unset.
func DefaultWorker() *Worker {
	return &Worker{
		BootstrapServers:              []string{"127.0.0.1:9092"},
		GroupID:                       "tributary",
		Listeners:                     []string{"http://127.0.0.1:8083"},
		OffsetFlushIntervalMS:         10_000,
		TaskShutdownGracefulTimeoutMS: 5_000,
		RegistryListener:              "127.0.0.1:8081",
		RegistryTopic:                 "_schemas",
		ConsumerSessionTimeoutMS:      45_000,
		ConsumerMaxPollRecords:        10_000,
		LogLevel:                      "info",
		LogFormat:                     "text",
		SpoolDir:                      filepath.Join(os.TempDir(), "tributary-spool"),
		ConfigProviders:               []string{ProviderEnv},
		ConfigStorageReplication:      -1,
		OffsetStoragePartitions:       25,
		OffsetStorageReplication:      -1,
		StatusStoragePartitions:       5,
		StatusStorageReplication:      -1,
		ScheduledRebalanceMaxDelayMS:  300_000,
		HeartbeatIntervalMS:           3_000,
		SessionTimeoutMS:              10_000,
		RebalanceTimeoutMS:            60_000,
	}
}

// AddFlags defines one flag per worker key, named with dashes
// (--bootstrap-servers), plus --config. Bind them with BindFlags.
func AddFlags(fs *pflag.FlagSet) {
	fs.String(KeyConfigFile, "", "worker config file (YAML, or Java .properties)")
	def := reflect.ValueOf(DefaultWorker()).Elem()
	for _, f := range workerFields {
		name, usage := strings.ReplaceAll(f.key, ".", "-"), workerUsage[f.key]
		switch v := def.Field(f.index).Interface().(type) {
		case string:
			fs.String(name, v, usage)
		case []string:
			fs.StringSlice(name, v, usage)
		case int:
			fs.Int(name, v, usage)
		case int64:
			fs.Int64(name, v, usage)
		}
	}
}

// BindFlags binds every flag of fs that names a worker key, with dashes or
// dots (--log-level or --log.level), and --config to v. Flags the user did
// not set do not override the file or the environment.
func BindFlags(v *viper.Viper, fs *pflag.FlagSet) error {
	var errs []error
	fs.VisitAll(func(f *pflag.Flag) {
		key := strings.ReplaceAll(f.Name, "-", ".")
		if key == KeyConfigFile {
			key = ViperConfigFile
		}
		if key == ViperConfigFile || isWorkerKey(key) {
			if err := v.BindPFlag(key, f); err != nil {
				errs = append(errs, fmt.Errorf("bind flag %s: %w", f.Name, err))
			}
		}
	})
	return errors.Join(errs...)
}

// LoadWorker builds the worker config from, in increasing precedence,
// DefaultWorker, the YAML file named by the config key (flag --config or
// TRIBUTARY_CONFIG), TRIBUTARY_* environment variables (see EnvName) and the
// flags bound to v (see BindFlags). It reads the file itself, so the caller
// must not read it into v too.
//
// The file is read strictly: unknown and duplicate keys, anchors and
// aliases are errors. Keys may be written dotted (log.level: debug) or
// nested (log: {level: debug}). Every problem, from the file and from
// Validate, is reported at once in a *connectors.ConfigError, with the file
// and line, or the environment variable, each bad value came from. With
// that error it returns the worker config as far as it could be read, for a
// check that goes on to the connector files; a file that cannot be read at
// all yields none.
func LoadWorker(v *viper.Viper) (*Worker, error) {
	for _, key := range workerKeys() {
		if err := v.BindEnv(key, EnvName(key)); err != nil {
			return nil, fmt.Errorf("bind %s to the environment: %w", key, err)
		}
	}
	if err := v.BindEnv(ViperConfigFile, EnvName(KeyConfigFile)); err != nil {
		return nil, fmt.Errorf("bind %s to the environment: %w", KeyConfigFile, err)
	}

	w := DefaultWorker()
	w.origins = map[string]origin{}
	var (
		file  map[string]string
		lines map[string]int
		errs  []connectors.FieldError
	)
	if path := v.GetString(ViperConfigFile); path != "" {
		w.Source = path
		var err error
		file, lines, errs, err = readWorkerFile(path)
		if err != nil {
			return nil, fmt.Errorf("read worker config %s: %w", path, err)
		}
		keys := sortedKeys(file)
		sort.SliceStable(keys, func(i, j int) bool { return lines[keys[i]] < lines[keys[j]] })
		for _, k := range keys {
			if hint := ignoredKafkaKeys[k]; hint != "" {
				w.Warnings = append(w.Warnings, position(path, lines[k], k)+
					": ignored: "+hint)
				delete(file, k)
			}
		}
		for k, s := range file {
			if isConverterKey(k) {
				if w.ConverterDefaults == nil {
					w.ConverterDefaults = map[string]string{}
				}
				w.ConverterDefaults[k] = s
				delete(file, k)
			}
		}
		errs = append(errs, checkConverterDefaults(path, w.ConverterDefaults, lines)...)
		cfg := make(map[string]any, len(file))
		for k, s := range file {
			cfg[k] = s
		}
		if err := v.MergeConfigMap(cfg); err != nil {
			return nil, fmt.Errorf("merge worker config %s: %w", path, err)
		}
	}

	fields := reflect.ValueOf(w).Elem()
	for _, f := range workerFields {
		if !v.IsSet(f.key) {
			continue
		}
		raw := v.Get(f.key)
		w.noteOrigin(f.key, raw, file, lines)
		if msg := setField(fields.Field(f.index), raw); msg != "" {
			errs = append(errs, connectors.FieldError{Key: w.fieldKey(f.key), Message: msg})
		}
	}
	w.resolvePaths()

	errs = append(errs, w.validate()...)
	if len(errs) > 0 {
		sortByLine(w.Source, errs)
		return w, &connectors.ConfigError{Source: w.source(), Errors: errs}
	}
	return w, nil
}

// readWorkerFile reads the worker file into flat keys. Problems with its
// content come back as field errors; err is for files that cannot be read.
func readWorkerFile(path string) (map[string]string, map[string]int,
	[]connectors.FieldError, error,
) {
	data, err := readFile(path)
	if errors.Is(err, errTooLarge) {
		return nil, nil, []connectors.FieldError{fieldErr(path, 0, "", "%v", err)}, nil
	}
	if err != nil {
		return nil, nil, nil, err
	}
	d := &document{path: path}
	root := d.parse(data, true)
	if root == nil {
		return nil, nil, d.errs, nil
	}
	f := newFlattener(d, "")
	f.add("", root)

	// Report unknown keys in file order, and keep them out of viper.
	keys := sortedKeys(f.out)
	sort.SliceStable(keys, func(i, j int) bool { return f.lines[keys[i]] < f.lines[keys[j]] })
	for _, k := range keys {
		if isWorkerKey(k) || isConverterKey(k) || ignoredKafkaKeys[k] != "" {
			continue
		}
		if hint, ok := kafkaOnlyKeys[k]; ok {
			d.errorf(f.lines[k], k, "unknown key: %s", hint)
		} else {
			d.errorf(f.lines[k], k, "unknown key%s", suggest(k, workerKeys()))
		}
		delete(f.out, k)
	}
	return f.out, f.lines, d.errs, nil
}

// noteOrigin records where the value of key came from. viper does not say,
// so the value is matched against the environment and the file, in viper's
// order of precedence after flags; a value set that neither holds, or a
// typed one, came from a flag.
func (w *Worker) noteOrigin(key string, raw any, file map[string]string, lines map[string]int) {
	if s, ok := raw.(string); ok {
		env := EnvName(key)
		if e, set := os.LookupEnv(env); set && e == s {
			w.origins[key] = origin{where: "$" + env}
			return
		}
		if fv, ok := file[key]; ok && fv == s {
			w.origins[key] = origin{where: position(w.Source, lines[key], ""), fromFile: true}
			return
		}
	}
	w.origins[key] = origin{where: "--" + strings.ReplaceAll(key, ".", "-")}
}

// fieldKey renders key with where its value came from, when known.
func (w *Worker) fieldKey(key string) string {
	if o := w.origins[key].where; o != "" {
		return o + ": " + key
	}
	return key
}

func (w *Worker) source() string {
	if w.Source == "" {
		return "worker config"
	}
	return w.Source
}

// resolvePaths makes relative paths from the worker file relative to the
// file's directory.
func (w *Worker) resolvePaths() {
	if w.Source == "" {
		return
	}
	base := filepath.Dir(w.Source)
	rel := func(key, p string) string {
		if !w.origins[key].fromFile || p == "" || filepath.IsAbs(p) {
			return p
		}
		return filepath.Join(base, p)
	}
	w.ConnectorsDir = rel("connectors.dir", w.ConnectorsDir)
	w.SpoolDir = rel("spool.dir", w.SpoolDir)
	w.ConfigStorageFile = rel("config.storage.file.filename", w.ConfigStorageFile)
	w.RESTTLSCertFile = rel("rest.tls.cert.file", w.RESTTLSCertFile)
	w.RESTTLSKeyFile = rel("rest.tls.key.file", w.RESTTLSKeyFile)
	w.RESTTLSClientCAFile = rel("rest.tls.client.ca.file", w.RESTTLSClientCAFile)
	w.RegistryTLSCertFile = rel("registry.tls.cert.file", w.RegistryTLSCertFile)
	w.RegistryTLSKeyFile = rel("registry.tls.key.file", w.RegistryTLSKeyFile)
	w.SchemaRegistryCALocation = rel("schema.registry.ssl.ca.location", w.SchemaRegistryCALocation)
	for i, p := range w.ConnectorFiles {
		w.ConnectorFiles[i] = rel("connectors.files", p)
	}
}

// setField stores a value from viper (a string from the file or the
// environment, or a typed flag value) in a Worker field and returns what is
// wrong with it.
func setField(field reflect.Value, raw any) string {
	switch field.Kind() {
	case reflect.String:
		s, msg := toString(raw)
		if msg == "" {
			field.SetString(s)
		}
		return msg
	case reflect.Slice:
		list, msg := toList(raw)
		if msg == "" {
			field.Set(reflect.ValueOf(list))
		}
		return msg
	case reflect.Int, reflect.Int64:
		n, msg := toInt(raw)
		if msg == "" {
			field.SetInt(n)
		}
		return msg
	default:
		panic("config: unsupported Worker field kind " + field.Kind().String())
	}
}

// asJSON quotes a value of a config file as JSON, so that messages show
// what the user wrote ([1,2], {"a":1}) rather than Go's notation for it.
func asJSON(raw any) string {
	b, err := json.Marshal(raw)
	if err != nil {
		return fmt.Sprintf("%q", fmt.Sprint(raw))
	}
	return string(b)
}

func toString(raw any) (string, string) {
	switch v := raw.(type) {
	case string:
		return v, ""
	case int, int64, bool:
		return fmt.Sprint(v), ""
	default:
		return "", fmt.Sprintf("want a single value, got %s", asJSON(raw))
	}
}

// toList splits comma-separated values, so that a YAML list, a comma
// string, a repeated flag and an environment variable all work.
func toList(raw any) ([]string, string) {
	var parts []string
	switch v := raw.(type) {
	case string:
		parts = strings.Split(v, ",")
	case []string:
		for _, s := range v {
			parts = append(parts, strings.Split(s, ",")...)
		}
	default:
		return nil, fmt.Sprintf("want a list, got %s", asJSON(raw))
	}
	out := []string{}
	for _, p := range parts {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out, ""
}

func toInt(raw any) (int64, string) {
	switch v := raw.(type) {
	case int:
		return int64(v), ""
	case int64:
		return v, ""
	case string:
		n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		if err != nil {
			return 0, fmt.Sprintf("want an integer, got %q", v)
		}
		return n, ""
	default:
		return 0, fmt.Sprintf("want an integer, got %s", asJSON(raw))
	}
}

// Validate checks every setting and returns a *connectors.ConfigError
// naming each bad key, or nil.
func (w *Worker) Validate() error {
	if errs := w.validate(); len(errs) > 0 {
		return &connectors.ConfigError{Source: w.source(), Errors: errs}
	}
	return nil
}

func (w *Worker) validate() []connectors.FieldError {
	var errs []connectors.FieldError
	bad := func(key, format string, args ...any) {
		errs = append(errs, connectors.FieldError{
			Key:     w.fieldKey(key),
			Message: fmt.Sprintf(format, args...),
		})
	}
	check := func(key, msg string) {
		if msg != "" {
			bad(key, "%s", msg)
		}
	}

	if len(w.BootstrapServers) == 0 {
		bad("bootstrap.servers", "required")
	}
	for _, s := range w.BootstrapServers {
		check("bootstrap.servers", hostPort(s, true))
	}
	if w.GroupID == "" {
		bad("group.id", "must not be empty")
	}
	switch len(w.Listeners) {
	case 0:
		bad("listeners", "required")
	case 1:
		_, msg := listenerAddr(w.Listeners[0])
		check("listeners", msg)
		w.validateREST(bad)
	default:
		bad("listeners", "only one listener is supported, got %d", len(w.Listeners))
	}

	check("offset.flush.interval.ms", atLeast(w.OffsetFlushIntervalMS, 1))
	check("task.shutdown.graceful.timeout.ms", atLeast(w.TaskShutdownGracefulTimeoutMS, 0))
	check("consumer.session.timeout.ms", atLeast(w.ConsumerSessionTimeoutMS, 1))
	check("consumer.max.poll.records", atLeast(int64(w.ConsumerMaxPollRecords), 1))

	w.validateDistributed(bad, check)

	for _, u := range w.SchemaRegistryURLs {
		check("schema.registry.url", httpURL(u))
	}
	if w.RegistryListener != "" {
		check("registry.listener", hostPort(w.RegistryListener, false))
	}
	check("registry.topic", topicName(w.RegistryTopic))
	w.validateRegistry(bad)
	if w.MetricsListener != "" {
		check("metrics.listener", hostPort(w.MetricsListener, false))
	}
	check("log.level", oneOf("debug", "info", "warn", "error")(strings.ToLower(w.LogLevel)))
	check("log.format", oneOf("text", "json")(strings.ToLower(w.LogFormat)))
	if w.SpoolDir == "" {
		bad("spool.dir", "must not be empty")
	}
	for _, p := range w.ConfigProviders {
		check("config.providers", oneOf(ProviderEnv, ProviderFile)(p))
	}
	for _, p := range w.FileProviderAllowedPaths {
		if !filepath.IsAbs(p) {
			bad("config.providers.file.param.allowed.paths", "%q is not an absolute path", p)
		}
	}
	if _, err := regexp.Compile(w.EnvProviderAllowlist); err != nil {
		bad("config.providers.env.param.allowlist.pattern", "%v", err)
	}

	// Two listeners on one address would fail at bind time with a less
	// helpful message. Port 0 picks a free port, so it never clashes.
	used := map[string]string{}
	for _, l := range []struct{ key, addr string }{
		{"listeners", w.RESTAddr()},
		{"registry.listener", w.RegistryListener},
		{"metrics.listener", w.MetricsListener},
	} {
		if _, port, err := net.SplitHostPort(l.addr); err != nil || port == "0" {
			continue
		}
		if prev, ok := used[l.addr]; ok {
			bad(l.key, "%s is also the address of %s", l.addr, prev)
		}
		used[l.addr] = l.key
	}
	return errs
}

// hostPort checks a host:port address and returns what is wrong with it.
// Listen addresses (needHost false) may leave out the host and use port 0.
func hostPort(s string, needHost bool) string {
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		return fmt.Sprintf("want host:port, got %q", s)
	}
	if needHost && host == "" {
		return fmt.Sprintf("missing host in %q", s)
	}
	n, err := strconv.Atoi(port)
	if err != nil || n < 0 || n > 65535 || (needHost && n == 0) {
		return fmt.Sprintf("invalid port in %q", s)
	}
	return ""
}

// listenerAddr turns a listener (http://host:port, https://host:port or
// host:port) into its address.
func listenerAddr(l string) (string, string) {
	addr := strings.TrimPrefix(strings.TrimPrefix(l, "http://"), "https://")
	if strings.Contains(addr, "://") {
		return "", fmt.Sprintf("listener %q: only http:// and https:// are supported", l)
	}
	return addr, hostPort(addr, false)
}

// ConfigStorePath is config.storage.file.filename or, when that is empty,
// a file under the system's temporary directory named after group.id and
// the REST port, so that two workers on one machine never share a store.
func (w *Worker) ConfigStorePath() string {
	if w.ConfigStorageFile != "" {
		return w.ConfigStorageFile
	}
	_, port, _ := net.SplitHostPort(w.RESTAddr())
	dir := strings.Map(func(r rune) rune {
		if r == '/' || r == os.PathSeparator || r < ' ' {
			return '_'
		}
		return r
	}, w.GroupID+"-"+port)
	return filepath.Join(os.TempDir(), "tributary-state", dir, "connectors.json")
}

// RESTTLS reports whether the REST listener is https://.
func (w *Worker) RESTTLS() bool {
	return len(w.Listeners) == 1 && strings.HasPrefix(w.Listeners[0], "https://")
}

// validateREST checks the REST API's TLS and authentication settings.
func (w *Worker) validateREST(bad func(key, format string, args ...any)) {
	tls := w.RESTTLS()
	switch {
	case tls && (w.RESTTLSCertFile == "" || w.RESTTLSKeyFile == ""):
		bad("listeners", "an https:// listener needs rest.tls.cert.file and rest.tls.key.file")
	case !tls && (w.RESTTLSCertFile != "" || w.RESTTLSKeyFile != "" || w.RESTTLSClientCAFile != ""):
		bad("rest.tls.cert.file", "TLS settings need an https:// listener")
	}
	bothOrNeither(bad, "rest.auth.basic.username", w.RESTBasicUsername,
		"rest.auth.basic.password", w.RESTBasicPassword)
}

// bothOrNeither reports keyA when only one of a pair of settings that work
// together, such as a user and its password, is set.
func bothOrNeither(bad func(key, format string, args ...any), keyA, a, keyB, b string) {
	if (a == "") != (b == "") {
		bad(keyA, "set both %s and %s", keyA, keyB)
	}
}

// Distributed reports whether the worker runs in distributed mode.
func (w *Worker) Distributed() bool { return w.ConfigStorageTopic != "" }

// validateDistributed checks the distributed mode's settings.
func (w *Worker) validateDistributed(bad func(key, format string, args ...any),
	check func(key, msg string),
) {
	if !w.Distributed() {
		return
	}
	for _, t := range []struct{ key, name string }{
		{"config.storage.topic", w.ConfigStorageTopic},
		{"offset.storage.topic", w.OffsetStorageTopic},
		{"status.storage.topic", w.StatusStorageTopic},
	} {
		if t.name == "" {
			bad(t.key, "required with config.storage.topic")
			continue
		}
		check(t.key, topicName(t.name))
	}
	if len(w.ConnectorFiles) > 0 || w.ConnectorsDir != "" {
		bad("config.storage.topic", "connector files are not supported in distributed mode;"+
			" create connectors through the REST API")
	}
	for _, r := range []struct {
		key string
		rf  int64
	}{
		{"config.storage.replication.factor", w.ConfigStorageReplication},
		{"offset.storage.replication.factor", w.OffsetStorageReplication},
		{"status.storage.replication.factor", w.StatusStorageReplication},
	} {
		if r.rf == 0 || r.rf < -1 || r.rf > 32767 {
			bad(r.key, "must be -1 or from 1 to 32767, got %d", r.rf)
		}
	}
	check("offset.storage.partitions", atLeast(w.OffsetStoragePartitions, 1))
	check("status.storage.partitions", atLeast(w.StatusStoragePartitions, 1))
	check("scheduled.rebalance.max.delay.ms", atLeast(w.ScheduledRebalanceMaxDelayMS, 0))
	check("heartbeat.interval.ms", atLeast(w.HeartbeatIntervalMS, 1))
	check("session.timeout.ms", atLeast(w.SessionTimeoutMS, w.HeartbeatIntervalMS+1))
	check("rebalance.timeout.ms", atLeast(w.RebalanceTimeoutMS, 1))
	if w.InterWorkerKey == "" {
		bad("inter.worker.key", "required with config.storage.topic")
	}
}

// validateRegistry checks the built-in registry's TLS and authentication
// settings and the credentials for an external one. The first apply only
// when the worker serves the registry, the second only when it does not.
func (w *Worker) validateRegistry(bad func(key, format string, args ...any)) {
	bothOrNeither(bad, "registry.tls.cert.file", w.RegistryTLSCertFile,
		"registry.tls.key.file", w.RegistryTLSKeyFile)
	bothOrNeither(bad, "registry.basic.auth.user", w.RegistryBasicUser,
		"registry.basic.auth.password", w.RegistryBasicPassword)
	external := len(w.SchemaRegistryURLs) > 0
	for _, s := range []struct{ key, value string }{
		{"registry.tls.cert.file", w.RegistryTLSCertFile},
		{"registry.basic.auth.user", w.RegistryBasicUser},
		{"registry.bearer.token", w.RegistryBearerToken},
	} {
		if external && s.value != "" {
			bad(s.key, "applies to the built-in registry, which schema.registry.url turns off")
		}
	}
	for _, s := range []struct{ key, value string }{
		{"schema.registry.basic.auth.user.info", w.SchemaRegistryUserInfo},
		{"schema.registry.bearer.auth.token", w.SchemaRegistryBearerToken},
		{"schema.registry.ssl.ca.location", w.SchemaRegistryCALocation},
	} {
		if !external && s.value != "" {
			bad(s.key, "applies to schema.registry.url, which is not set; "+
				"the built-in registry uses registry.* settings")
		}
	}
	check := func(key, msg string) {
		if msg != "" {
			bad(key, "%s", msg)
		}
	}
	check("schema.registry.basic.auth.user.info", UserInfo(w.SchemaRegistryUserInfo))
}

func atLeast(n, lowest int64) string {
	if n < lowest {
		return fmt.Sprintf("must be at least %d, got %d", lowest, n)
	}
	return ""
}

// RESTAddr returns the host:port the REST API listens on, or "" when
// Listeners is not valid.
func (w *Worker) RESTAddr() string {
	if len(w.Listeners) == 0 {
		return ""
	}
	addr, msg := listenerAddr(w.Listeners[0])
	if msg != "" {
		return ""
	}
	return addr
}

// OffsetFlushInterval is offset.flush.interval.ms as a duration.
func (w *Worker) OffsetFlushInterval() time.Duration {
	return time.Duration(w.OffsetFlushIntervalMS) * time.Millisecond
}

// TaskShutdownGracefulTimeout is task.shutdown.graceful.timeout.ms as a
// duration.
func (w *Worker) TaskShutdownGracefulTimeout() time.Duration {
	return time.Duration(w.TaskShutdownGracefulTimeoutMS) * time.Millisecond
}

// ConsumerSessionTimeout is consumer.session.timeout.ms as a duration.
func (w *Worker) ConsumerSessionTimeout() time.Duration {
	return time.Duration(w.ConsumerSessionTimeoutMS) * time.Millisecond
}

// Millis returns a *.ms setting as a duration.
func Millis(ms int64) time.Duration { return time.Duration(ms) * time.Millisecond }

// SlogLevel is log.level as a slog level; unknown levels read as info.
func (w *Worker) SlogLevel() slog.Level {
	switch strings.ToLower(w.LogLevel) {
	case "debug":
		return slog.LevelDebug
	case "warn":
		return slog.LevelWarn
	case "error":
		return slog.LevelError
	default:
		return slog.LevelInfo
	}
}

// LoadConnectors loads the connector files of connectors.dir and
// connectors.files, reporting the problems of all of them at once, and
// connector names used twice.
func (w *Worker) LoadConnectors() ([]*Connector, error) {
	paths, err := w.connectorPaths()
	if err != nil {
		return nil, err
	}
	return allOrNothing(loadConnectors(paths, true, nil))
}

// ReadConnectors is LoadConnectors with check in place of the check of the
// keys every sink shares, for a caller that validates each connector in
// full (shared keys and the connector's own together). check runs on every
// file whose config could be read, even when the file has other problems
// (a bad name, a duplicate key), and its errors are placed in the file and
// reported with those. A nil check checks nothing more than the syntax.
// Unlike LoadConnectors it returns, along with the problems of the files
// that have any, the connectors of those that have none, so that a check
// goes on with them and reports everything in one run.
func (w *Worker) ReadConnectors(check Check) ([]*Connector, error) {
	paths, err := w.connectorPaths()
	if err != nil {
		return nil, err
	}
	return loadConnectors(paths, false, check)
}

// connectorPaths lists the files of connectors.dir, then those of
// connectors.files not already listed.
func (w *Worker) connectorPaths() ([]string, error) {
	var paths []string
	if w.ConnectorsDir != "" {
		var err error
		if paths, err = connectorFiles(w.ConnectorsDir); err != nil {
			return nil, err
		}
	}
	seen := map[string]bool{}
	for _, p := range paths {
		seen[filepath.Clean(p)] = true
	}
	for _, p := range w.ConnectorFiles {
		if !seen[filepath.Clean(p)] {
			seen[filepath.Clean(p)] = true
			paths = append(paths, p)
		}
	}
	return paths, nil
}
