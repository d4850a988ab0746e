package connectors

import (
	"context"
	"log/slog"
	"time"
)

// SinkConnector describes a sink and splits its work into task configs.
type SinkConnector interface {
	// Validate checks a connector config and returns every problem found,
	// each naming its key. A nil slice means the config is valid.
	Validate(config map[string]string) []FieldError

	// TaskConfigs returns up to maxTasks task configs. The runtime starts one
	// task per config; partitions are shared among the tasks by Kafka's group
	// protocol, so sinks usually return maxTasks copies of config.
	TaskConfigs(config map[string]string, maxTasks int) []map[string]string

	// NewTask creates a task. The runtime calls Start on it before anything else.
	NewTask() SinkTask
}

// ConfigDef declares the config keys a connector reads, as Kafka Connect's
// ConfigDef does, so that the runtime can warn about a key nothing reads,
// such as a misspelt flush.size, and the REST API can describe each key.
// The keys every sink shares (tasks.max, topics, the converters,
// transforms, errors.*) are the runtime's and need no declaring.
type ConfigDef struct {
	// Keys are the keys the connector reads, in the order users should
	// read about them.
	Keys []ConfigKey
	// Prefixes are key prefixes, such as "s3.sse.", every key under which
	// belongs to the connector.
	Prefixes []string
}

// Names returns the names of the declared keys.
func (d ConfigDef) Names() []string {
	out := make([]string, len(d.Keys))
	for i, k := range d.Keys {
		out[i] = k.Name
	}
	return out
}

// ConfigType is the type a config value is parsed as, by Kafka Connect's
// names for the types.
type ConfigType string

// The config types.
const (
	TypeString   ConfigType = "STRING"
	TypeInt      ConfigType = "INT"
	TypeLong     ConfigType = "LONG"
	TypeShort    ConfigType = "SHORT"
	TypeBoolean  ConfigType = "BOOLEAN"
	TypeList     ConfigType = "LIST"
	TypeClass    ConfigType = "CLASS"
	TypePassword ConfigType = "PASSWORD"
)

// Importance says how much a user needs to know about a key, as Kafka
// Connect's HIGH, MEDIUM and LOW do.
type Importance string

// The importance levels.
const (
	ImportanceHigh   Importance = "HIGH"
	ImportanceMedium Importance = "MEDIUM"
	ImportanceLow    Importance = "LOW"
)

// ConfigKey describes one config key, as Kafka Connect's ConfigKey does.
type ConfigKey struct {
	// Name is the key, spelt exactly.
	Name string
	Type ConfigType
	// Required is set when the key has no default and must be given.
	Required bool
	// Default is the value an unset key takes, in its string form; empty
	// when it has none or when it is empty.
	Default string
	// NoDefault marks an optional key that, unset, has no value at all
	// (Kafka Connect's null default) rather than an empty one.
	NoDefault  bool
	Importance Importance
	// Documentation says in a sentence or two what the key does and which
	// values it takes.
	Documentation string
	// Group gathers related keys for display, such as "S3" or
	// "Partitioner".
	Group string
	// DisplayName is a short title for the key; empty shows the name.
	DisplayName string
}

// ConfigDefiner is implemented by a SinkConnector that declares its config
// keys. The runtime calls ConfigDef when it creates, reconfigures or loads a
// connector, never per record, and logs a warning for each key that neither
// it nor the connector declares; the key is kept and the connector runs.
// The REST API calls it, possibly concurrently, to describe the plugin's
// keys and to validate a config. A connector that does not implement
// ConfigDefiner gets no warnings, and the API describes only the runtime's
// keys for it.
type ConfigDefiner interface {
	ConfigDef() ConfigDef
}

// SinkTaskContext is what the runtime offers a running sink task.
type SinkTaskContext struct {
	Connector string
	TaskID    int
	Logger    *slog.Logger

	// Rewind asks the runtime to consume tp again from offset once the
	// current call returns, as Kafka Connect's SinkTaskContext.offset does.
	// The task skips whatever the current batch still holds of tp.
	Rewind func(tp TopicPartition, offset int64)

	// Metrics receives what the task measures of its writes; nil when the
	// runtime exports none.
	Metrics SinkMetrics
}

// SinkMetrics receives the measurements a sink task makes of the data it
// makes durable, which the runtime exports with the connector and task as
// labels. Sinks that write objects (the storage sinks) report each upload
// and each commit; other sinks may report nothing. Each call costs an
// atomic add and is meant per object, commit or batch, never per record.
// Methods are safe for concurrent use, so a task may call them from the
// goroutines that upload for it.
type SinkMetrics interface {
	// Uploaded counts one object written to the external system, of size
	// bytes. An object found there already is not counted.
	Uploaded(bytes int64)

	// Committed counts one commit (a flush, in Kafka Connect's words): the
	// objects it made durable and how long it took.
	Committed(objects int, took time.Duration)

	// OpenSegments sets how many segments (offset ranges whose files are
	// still being written) the task holds.
	OpenSegments(n int)
}

// NopSinkMetrics is a SinkMetrics that records nothing.
type NopSinkMetrics struct{}

// Uploaded implements SinkMetrics.
func (NopSinkMetrics) Uploaded(int64) {}

// Committed implements SinkMetrics.
func (NopSinkMetrics) Committed(int, time.Duration) {}

// OpenSegments implements SinkMetrics.
func (NopSinkMetrics) OpenSegments(int) {}

// SinkTask writes records to an external system. The runtime calls its
// methods from one goroutine, never concurrently, in this order: Start, then
// any sequence of Open, Put, PreCommit and Close, then Stop.
//
// Every context passed bounds the call; a task returns ctx.Err() promptly once
// it is done. An error wrapping ErrRetriable makes the runtime back off and
// call again with the same records; any other error fails the task.
type SinkTask interface {
	// Start configures the task. It is called once.
	Start(ctx context.Context, tc SinkTaskContext, config map[string]string) error

	// Open is called when partitions are assigned to the task, before any of
	// their records are passed to Put. committed holds the offset Kafka has
	// committed for each partition (-1 when none). Open returns the offset to
	// resume each partition from where the sink knows better than Kafka (its
	// own durable position may be ahead of the committed offset); partitions
	// missing from the result resume from the committed offset.
	Open(ctx context.Context, committed map[TopicPartition]int64) (map[TopicPartition]int64, error)

	// Put hands the task a batch of records, in offset order per partition.
	// The task may buffer them; nothing is durable until PreCommit says so.
	Put(ctx context.Context, records []*Record) error

	// PreCommit is called periodically and before partitions are closed. It
	// returns, for each open partition, the next offset to consume such that
	// every earlier record is durable in the sink. The runtime commits
	// exactly these offsets. Time-driven work (wall-clock rotation) happens
	// here too.
	PreCommit(ctx context.Context) (map[TopicPartition]int64, error)

	// Close is called when partitions are revoked or lost. The task drops
	// whatever it buffered for them; another task may own them already.
	Close(ctx context.Context, partitions []TopicPartition) error

	// Stop releases everything. It is called once, last.
	Stop(ctx context.Context) error
}
