package config

import (
	"errors"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"
	"github.com/spf13/viper"

	"github.com/tributary-io/tributary/connectors"
)

// clearWorkerEnv unsets every worker variable for the test, so that the
// environment the tests run in cannot change their outcome.
func clearWorkerEnv(t *testing.T) {
	t.Helper()
	for _, key := range append(workerKeys(), KeyConfigFile) {
		t.Setenv(EnvName(key), "") // restores the old value afterwards
		os.Unsetenv(EnvName(key))
	}
}

// loadWorker runs LoadWorker as cmd/tributary does: flags from AddFlags,
// parsed from args and bound with BindFlags.
func loadWorker(t *testing.T, args ...string) (*Worker, error) {
	t.Helper()
	fs := pflag.NewFlagSet("tributary", pflag.ContinueOnError)
	AddFlags(fs)
	if err := fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	v := viper.New()
	if err := BindFlags(v, fs); err != nil {
		t.Fatal(err)
	}
	return LoadWorker(v)
}

func TestLoadWorkerDefaults(t *testing.T) {
	clearWorkerEnv(t)
	w, err := loadWorker(t)
	if err != nil {
		t.Fatal(err)
	}
	want := DefaultWorker()
	want.origins = map[string]origin{}
	if !workersEqual(w, want) {
		t.Errorf("got %+v\nwant %+v", w, want)
	}
	if w.RESTAddr() != "127.0.0.1:8083" || w.OffsetFlushInterval() != 10*time.Second ||
		w.TaskShutdownGracefulTimeout() != 5*time.Second ||
		w.ConsumerSessionTimeout() != 45*time.Second {
		t.Errorf("rest %q flush %v shutdown %v session %v", w.RESTAddr(), w.OffsetFlushInterval(),
			w.TaskShutdownGracefulTimeout(), w.ConsumerSessionTimeout())
	}
	if err := DefaultWorker().Validate(); err != nil {
		t.Errorf("DefaultWorker().Validate() = %v", err)
	}
}

func workersEqual(a, b *Worker) bool {
	a2, b2 := *a, *b
	a2.origins, b2.origins = nil, nil
	return reflect.DeepEqual(a2, b2)
}

// A flag beats the environment, which beats the file, which beats the
// defaults.
func TestLoadWorkerPrecedence(t *testing.T) {
	clearWorkerEnv(t)
	t.Setenv("TRIBUTARY_GROUP_ID", "from-env")
	t.Setenv("TRIBUTARY_LOG_LEVEL", "warn")
	t.Setenv("TRIBUTARY_SCHEMA_REGISTRY_URL", "http://r1:8081, http://r2:8081")
	t.Setenv("TRIBUTARY_CONSUMER_SESSION_TIMEOUT_MS", "6000")

	w, err := loadWorker(t, "--config", "testdata/worker/good.yaml",
		"--log-level", "error", "--connectors-files", "a.yaml,b.yaml", "--connectors-files", "c.yaml")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		key       string
		got, want any
	}{
		{"bootstrap.servers (file)", w.BootstrapServers, []string{"kafka-1:9092", "kafka-2:9092"}},
		{"group.id (env over file)", w.GroupID, "from-env"},
		{"log.level (flag over env and file)", w.LogLevel, "error"},
		{"log.format (file, nested)", w.LogFormat, "json"},
		{"offset.flush.interval.ms (file)", w.OffsetFlushIntervalMS, int64(2000)},
		{"consumer.max.poll.records (file)", w.ConsumerMaxPollRecords, 500},
		{"consumer.session.timeout.ms (env)", w.ConsumerSessionTimeoutMS, int64(6000)},
		{"schema.registry.url (env list)", w.SchemaRegistryURLs, []string{"http://r1:8081", "http://r2:8081"}},
		{"connectors.files (flag)", w.ConnectorFiles, []string{"a.yaml", "b.yaml", "c.yaml"}},
		{"connectors.dir (file, relative to it)", w.ConnectorsDir, filepath.Join("testdata", "worker", "conns")},
		{"spool.dir (file, absolute)", w.SpoolDir, "/var/spool/tributary"},
		{"registry.topic (default)", w.RegistryTopic, "_schemas"},
		{"source", w.Source, "testdata/worker/good.yaml"},
	}
	for _, tt := range tests {
		if !equalValues(tt.got, tt.want) {
			t.Errorf("%s = %#v, want %#v", tt.key, tt.got, tt.want)
		}
	}
}

func equalValues(a, b any) bool {
	if as, ok := a.([]string); ok {
		bs, ok := b.([]string)
		return ok && slices.Equal(as, bs)
	}
	return a == b
}

func TestLoadWorkerErrors(t *testing.T) {
	clearWorkerEnv(t)
	t.Setenv("TRIBUTARY_CONSUMER_MAX_POLL_RECORDS", "0")
	t.Setenv("TRIBUTARY_CONFIG", "testdata/worker/unknown.yaml")

	w, err := loadWorker(t, "--listeners", "https://0.0.0.0:8443")
	// The config comes back as far as it was read, for a check that goes
	// on to the connector files.
	if w == nil || w.Source != "testdata/worker/unknown.yaml" {
		t.Errorf("worker config with errors = %+v, want the one read", w)
	}
	var ce *connectors.ConfigError
	if !errors.As(err, &ce) || ce.Source != "testdata/worker/unknown.yaml" {
		t.Fatalf("error %v, want a *connectors.ConfigError for testdata/worker/unknown.yaml", err)
	}
	want := []string{
		`--listeners: listeners: an https:// listener needs rest.tls.cert.file and rest.tls.key.file`,
		"$TRIBUTARY_CONSUMER_MAX_POLL_RECORDS: consumer.max.poll.records: must be at least 1, got 0",
		"testdata/worker/unknown.yaml:2: bootstap.servers: unknown key (did you mean bootstrap.servers?)",
		`testdata/worker/unknown.yaml:5: log.level: must be one of debug, info, warn, error; got "loud"`,
		`testdata/worker/unknown.yaml:6: offset.flush.interval.ms: want an integer, got "soon"`,
	}
	if got := errorLines(t, err); !slices.Equal(got, want) {
		t.Errorf("errors:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// A Kafka Connect key with nothing to do here is ignored, with a warning.
	if want := []string{"testdata/worker/unknown.yaml:3: plugin.path: ignored: connectors " +
		"are built into tributary"}; !slices.Equal(w.Warnings, want) {
		t.Errorf("warnings %q, want %q", w.Warnings, want)
	}
}

func TestLoadWorkerFileProblems(t *testing.T) {
	clearWorkerEnv(t)
	dir := t.TempDir()
	write := func(name, content string) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}

	// An empty file means all defaults.
	empty := write("empty.yaml", "# defaults only\n")
	if w, err := loadWorker(t, "--config", empty); err != nil || w.GroupID != "tributary" {
		t.Errorf("empty file: %+v, %v", w, err)
	}

	dup := write("dup.yaml", "log.level: debug\nlog:\n  level: info\nx: &a 1\n")
	want := []string{
		dup + ":3: log.level: duplicate key (first at line 1)",
		dup + ":4: anchors (&a) are not allowed",
		dup + ":4: x: unknown key",
	}
	_, err := loadWorker(t, "--config", dup)
	if got := errorLines(t, err); !slices.Equal(got, want) {
		t.Errorf("errors:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	_, err = loadWorker(t, "--config", filepath.Join(dir, "absent.yaml"))
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("absent file: got %v, want an error wrapping os.ErrNotExist", err)
	}
}

func TestWorkerValidate(t *testing.T) {
	tests := []struct {
		name   string
		change func(w *Worker)
		want   []string
	}{
		{"defaults", func(*Worker) {}, nil},
		{"port zero everywhere", func(w *Worker) {
			w.Listeners = []string{"127.0.0.1:0"}
			w.RegistryListener = "127.0.0.1:0"
			w.MetricsListener = ":0"
		}, nil},
		{"brokers", func(w *Worker) {
			w.BootstrapServers = []string{"kafka", ":9092", "k:0", "k:x"}
		}, []string{
			`bootstrap.servers: want host:port, got "kafka"`,
			`bootstrap.servers: missing host in ":9092"`,
			`bootstrap.servers: invalid port in "k:0"`,
			`bootstrap.servers: invalid port in "k:x"`,
		}},
		{"empty", func(w *Worker) {
			w.BootstrapServers, w.GroupID, w.Listeners, w.SpoolDir, w.RegistryTopic = nil, "", nil, "", ""
		}, []string{
			"bootstrap.servers: required",
			"group.id: must not be empty",
			"listeners: required",
			"registry.topic: empty topic name in the list",
			"spool.dir: must not be empty",
		}},
		{"distributed", func(w *Worker) {
			w.ConfigStorageTopic, w.OffsetStorageTopic = "connect-configs", "connect-offsets"
			w.StatusStorageTopic, w.InterWorkerKey = "connect-status", "${env:KEY}"
		}, nil},
		{"distributed, wrong", func(w *Worker) {
			w.ConfigStorageTopic, w.StatusStorageTopic = "connect-configs", "bad topic"
			w.ConnectorsDir = "/pipelines"
			w.ConfigStorageReplication, w.StatusStoragePartitions = 0, 0
			w.HeartbeatIntervalMS, w.SessionTimeoutMS = 3000, 3000
		}, []string{
			"offset.storage.topic: required with config.storage.topic",
			`status.storage.topic: topic name "bad topic" may hold only ASCII letters, digits,` +
				` '.', '_' and '-'`,
			"config.storage.topic: connector files are not supported in distributed mode;" +
				" create connectors through the REST API",
			"config.storage.replication.factor: must be -1 or from 1 to 32767, got 0",
			"status.storage.partitions: must be at least 1, got 0",
			"session.timeout.ms: must be at least 3001, got 3000",
			"inter.worker.key: required with config.storage.topic",
		}},
		{"numbers", func(w *Worker) {
			w.OffsetFlushIntervalMS, w.TaskShutdownGracefulTimeoutMS = 0, -1
			w.ConsumerSessionTimeoutMS, w.ConsumerMaxPollRecords = 0, 0
		}, []string{
			"offset.flush.interval.ms: must be at least 1, got 0",
			"task.shutdown.graceful.timeout.ms: must be at least 0, got -1",
			"consumer.session.timeout.ms: must be at least 1, got 0",
			"consumer.max.poll.records: must be at least 1, got 0",
		}},
		{"addresses", func(w *Worker) {
			w.Listeners = []string{"http://127.0.0.1:8081", "127.0.0.1:9"}
			w.SchemaRegistryURLs = []string{"registry:8081"}
			w.MetricsListener = "127.0.0.1:8081"
		}, []string{
			"listeners: only one listener is supported, got 2",
			`schema.registry.url: URL "registry:8081" must start with http:// or https://`,
			"registry.listener: 127.0.0.1:8081 is also the address of listeners",
			"metrics.listener: 127.0.0.1:8081 is also the address of registry.listener",
		}},
		{"clash", func(w *Worker) { w.RegistryListener = "127.0.0.1:8083" }, []string{
			"registry.listener: 127.0.0.1:8083 is also the address of listeners",
		}},
		{"built-in registry secured", func(w *Worker) {
			w.RegistryTLSCertFile, w.RegistryTLSKeyFile = "r.crt", "r.key"
			w.RegistryBasicUser, w.RegistryBasicPassword = "eng", "${env:PW}"
			w.RegistryBearerToken = "tok"
		}, nil},
		{"external registry credentials", func(w *Worker) {
			w.SchemaRegistryURLs = []string{"https://registry:8081"}
			w.SchemaRegistryUserInfo = "eng:pw"
			w.SchemaRegistryCALocation = "ca.pem"
		}, nil},
		{"registry half set", func(w *Worker) {
			w.RegistryTLSKeyFile = "r.key"
			w.RegistryBasicUser = "eng"
			w.SchemaRegistryUserInfo = "no-colon"
			w.SchemaRegistryBearerToken = "${env:TOKEN}"
		}, []string{
			"registry.tls.cert.file: set both registry.tls.cert.file and registry.tls.key.file",
			"registry.basic.auth.user: set both registry.basic.auth.user and " +
				"registry.basic.auth.password",
			"schema.registry.basic.auth.user.info: applies to schema.registry.url, which is " +
				"not set; the built-in registry uses registry.* settings",
			"schema.registry.bearer.auth.token: applies to schema.registry.url, which is " +
				"not set; the built-in registry uses registry.* settings",
			"schema.registry.basic.auth.user.info: want user:password",
		}},
		{"built-in registry settings with an external one", func(w *Worker) {
			w.SchemaRegistryURLs = []string{"http://registry:8081"}
			w.RegistryTLSCertFile, w.RegistryTLSKeyFile = "r.crt", "r.key"
			w.RegistryBearerToken = "tok"
		}, []string{
			"registry.tls.cert.file: applies to the built-in registry, which " +
				"schema.registry.url turns off",
			"registry.bearer.token: applies to the built-in registry, which " +
				"schema.registry.url turns off",
		}},
		{"logging", func(w *Worker) { w.LogLevel, w.LogFormat = "DEBUG", "xml" }, []string{
			`log.format: must be one of text, json; got "xml"`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := DefaultWorker()
			tt.change(w)
			err := w.Validate()
			if tt.want == nil {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			if got := errorLines(t, err); !slices.Equal(got, tt.want) {
				t.Errorf("errors:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

// Registry secrets and paths load from the file like the REST ones: paths
// relative to the file, secrets as written, references left for the worker
// to resolve.
func TestLoadWorkerRegistryKeys(t *testing.T) {
	clearWorkerEnv(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "worker.yaml")
	content := "registry.tls.cert.file: tls/r.crt\n" +
		"registry.tls.key.file: tls/r.key\n" +
		"registry:\n  basic.auth.user: eng\n  basic.auth.password: ${env:REGISTRY_PW}\n"
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	w, err := loadWorker(t, "--config", path)
	if err != nil {
		t.Fatal(err)
	}
	if w.RegistryTLSCertFile != filepath.Join(dir, "tls/r.crt") ||
		w.RegistryTLSKeyFile != filepath.Join(dir, "tls/r.key") ||
		w.RegistryBasicUser != "eng" || w.RegistryBasicPassword != "${env:REGISTRY_PW}" {
		t.Errorf("got cert %q key %q user %q password %q", w.RegistryTLSCertFile,
			w.RegistryTLSKeyFile, w.RegistryBasicUser, w.RegistryBasicPassword)
	}
	for _, key := range []string{"registry.basic.auth.password", "registry.bearer.token",
		"schema.registry.basic.auth.user.info", "schema.registry.bearer.auth.token"} {
		if !IsSecretKey(key) {
			t.Errorf("%s is not password-typed", key)
		}
	}

	t.Setenv("TRIBUTARY_SCHEMA_REGISTRY_URL", "https://registry:8081")
	t.Setenv("TRIBUTARY_SCHEMA_REGISTRY_BASIC_AUTH_USER_INFO", "eng")
	_, err = loadWorker(t, "--config", path)
	want := []string{
		"$TRIBUTARY_SCHEMA_REGISTRY_BASIC_AUTH_USER_INFO: schema.registry.basic.auth.user.info: " +
			"want user:password",
		path + ":1: registry.tls.cert.file: applies to the built-in registry, which " +
			"schema.registry.url turns off",
		path + ":4: registry.basic.auth.user: applies to the built-in registry, which " +
			"schema.registry.url turns off",
	}
	if got := errorLines(t, err); !slices.Equal(got, want) {
		t.Errorf("errors:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestEnvName(t *testing.T) {
	for key, want := range map[string]string{
		"bootstrap.servers":                 "TRIBUTARY_BOOTSTRAP_SERVERS",
		"task.shutdown.graceful.timeout.ms": "TRIBUTARY_TASK_SHUTDOWN_GRACEFUL_TIMEOUT_MS",
		"config":                            "TRIBUTARY_CONFIG",
	} {
		if got := EnvName(key); got != want {
			t.Errorf("EnvName(%q) = %q, want %q", key, got, want)
		}
	}
}

// Every key documents itself in its flag's help.
func TestWorkerUsage(t *testing.T) {
	for _, key := range workerKeys() {
		if workerUsage[key] == "" {
			t.Errorf("key %s has no usage text", key)
		}
	}
	if len(workerUsage) != len(workerFields) {
		t.Errorf("%d usage texts for %d keys", len(workerUsage), len(workerFields))
	}
}

// TestValueMessagesQuoteJSON checks that a config file value of the wrong
// shape is quoted as the user wrote it, not in Go's notation.
func TestValueMessagesQuoteJSON(t *testing.T) {
	for _, c := range []struct {
		got, want string
	}{
		{second(toString(map[string]any{"a": 1})), `want a single value, got {"a":1}`},
		{second(toString(nil)), "want a single value, got null"},
		{second(toList(map[string]any{"a": "b"})), `want a list, got {"a":"b"}`},
		{second(toInt([]any{1, 2})), "want an integer, got [1,2]"},
	} {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
}

func second[T any](_ T, msg string) string { return msg }

// TestLoadKafkaConnectStandaloneWorker reads the worker file Kafka Connect
// ships for its standalone mode: its converters become the connectors'
// defaults, each key that means nothing here is ignored with a warning that
// says why, at its line, and the keys in common are read.
func TestLoadKafkaConnectStandaloneWorker(t *testing.T) {
	clearWorkerEnv(t)
	const file = "testdata/worker/connect-standalone.properties"
	t.Setenv("TRIBUTARY_CONFIG", file)
	w, err := loadWorker(t)
	if w == nil || w.OffsetFlushIntervalMS != 15000 {
		t.Fatalf("worker config = %+v, want offset.flush.interval.ms read", w)
	}
	wantConv := map[string]string{
		"key.converter":                  "org.apache.kafka.connect.json.JsonConverter",
		"value.converter":                "org.apache.kafka.connect.json.JsonConverter",
		"key.converter.schemas.enable":   "true",
		"value.converter.schemas.enable": "true",
	}
	if !maps.Equal(w.ConverterDefaults, wantConv) {
		t.Errorf("converter defaults = %v, want %v", w.ConverterDefaults, wantConv)
	}
	if err != nil {
		t.Errorf("error %v, want the file accepted", err)
	}
	want := []string{
		file + ":7: offset.storage.file.filename: ignored: a sink's offsets live in its " +
			"consumer group (connect-<name>) in Kafka; no file is used",
		file + ":9: plugin.path: ignored: connectors are built into tributary",
	}
	if !slices.Equal(w.Warnings, want) {
		t.Errorf("warnings:\n%s\nwant:\n%s", strings.Join(w.Warnings, "\n"),
			strings.Join(want, "\n"))
	}
}

// TestLoadWorkerConverterDefaults checks the converter settings of a
// worker file as a connector's are checked, each error at its line.
func TestLoadWorkerConverterDefaults(t *testing.T) {
	clearWorkerEnv(t)
	path := filepath.Join(t.TempDir(), "worker.yaml")
	if err := os.WriteFile(path, []byte(`bootstrap.servers: 127.0.0.1:9092
value.converter: io.confluent.connect.avro.AvroConverter
value.converter.schema.registry.url: http://registry:8081
value.converter.basic.auth.user.info: ${env:SR_USER_INFO}
key.converter: org.apache.kafka.connect.protobuf.ProtobufConverter
key.converter.schemas.enabled: "false"
header.converter: simple
value.converter.value.subject.name.strategy: NoSuchStrategy
`), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("TRIBUTARY_CONFIG", path)
	w, err := loadWorker(t)
	if w == nil || len(w.ConverterDefaults) != 7 ||
		w.ConverterDefaults["value.converter.basic.auth.user.info"] != "${env:SR_USER_INFO}" {
		t.Fatalf("worker config = %+v", w)
	}
	want := []string{
		path + ":5: key.converter: unsupported converter \"org.apache.kafka.connect.protobuf." +
			"ProtobufConverter\"; use one of io.confluent.connect.avro.AvroConverter, " +
			"org.apache.kafka.connect.converters.ByteArrayConverter, " +
			"org.apache.kafka.connect.json.JsonConverter, " +
			"org.apache.kafka.connect.storage.StringConverter",
		path + ":6: key.converter.schemas.enabled: unknown converter setting " +
			"(did you mean key.converter.schemas.enable?)",
		path + ":8: value.converter.value.subject.name.strategy: unknown subject name " +
			"strategy \"NoSuchStrategy\"; use " +
			"io.confluent.kafka.serializers.subject.TopicNameStrategy, " +
			"io.confluent.kafka.serializers.subject.RecordNameStrategy or " +
			"io.confluent.kafka.serializers.subject.TopicRecordNameStrategy",
	}
	if got := errorLines(t, err); !slices.Equal(got, want) {
		t.Errorf("errors:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestWithConverterDefaults(t *testing.T) {
	defaults := map[string]string{
		"key.converter":                       "org.apache.kafka.connect.storage.StringConverter",
		"value.converter":                     "org.apache.kafka.connect.json.JsonConverter",
		"value.converter.schemas.enable":      "false",
		"value.converter.schema.registry.url": "http://worker:8081",
		"header.converter":                    "simple",
	}
	for _, c := range []struct {
		name      string
		cfg, want map[string]string
	}{
		{"none set: all the worker's", map[string]string{"topics": "t"}, map[string]string{
			"topics": "t", "key.converter": defaults["key.converter"],
			"value.converter": defaults["value.converter"], "value.converter.schemas.enable": "false",
			"value.converter.schema.registry.url": "http://worker:8081", "header.converter": "simple"}},
		{"a converter named: its own settings only", map[string]string{
			"value.converter": "org.apache.kafka.connect.json.JsonConverter",
		}, map[string]string{
			"value.converter": "org.apache.kafka.connect.json.JsonConverter",
			"key.converter":   defaults["key.converter"], "header.converter": "simple"}},
		{"a setting without its converter: the setting wins", map[string]string{
			"value.converter.schemas.enable": "true",
		}, map[string]string{
			"key.converter": defaults["key.converter"], "value.converter": defaults["value.converter"],
			"value.converter.schemas.enable":      "true",
			"value.converter.schema.registry.url": "http://worker:8081", "header.converter": "simple"}},
	} {
		cfg := maps.Clone(c.cfg)
		if got := WithConverterDefaults(cfg, defaults); !maps.Equal(got, c.want) {
			t.Errorf("%s: got %v, want %v", c.name, got, c.want)
		}
		if !maps.Equal(cfg, c.cfg) {
			t.Errorf("%s: the connector's config changed: %v", c.name, cfg)
		}
	}
	cfg := map[string]string{"topics": "t"}
	if got := WithConverterDefaults(cfg, nil); !maps.Equal(got, cfg) {
		t.Errorf("no defaults: got %v", got)
	}
}
