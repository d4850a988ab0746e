package main

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tributary-io/tributary/connectors"
	"github.com/tributary-io/tributary/connectors/storage"
	"github.com/tributary-io/tributary/internal/bookings"
	"github.com/tributary-io/tributary/internal/loader"
	"github.com/tributary-io/tributary/internal/verify"
	"github.com/tributary-io/tributary/runtime/worker"
	"github.com/tributary-io/tributary/schemas/registry"
)

// demoOptions are the demo's flags.
type demoOptions struct {
	brokers     []string
	regTopic    string // the registry's topic
	out         string
	s3Endpoint  string
	s3Bucket    string
	s3AccessKey string
	s3SecretKey string
	rows        int
	allRows     bool // load every booking; rows is ignored
	partitions  int32
	flushSize   int
	format      string
	verbose     bool
}

func newDemoCmd() *cobra.Command {
	var o demoOptions
	cmd := &cobra.Command{
		Use:   "demo",
		Args:  cobra.NoArgs,
		Short: "Run the main job in one process: bookings through Kafka into Parquet files",
		Long: `Run the whole pipeline in one process with nothing installed: an embedded
Kafka-compatible broker, the Schema Registry, the booking loader, a worker
and a local-directory sink with the S3 sink's layout. It loads the bundled
hotel booking dataset (119,390 bookings), writes Parquet partitioned by
month of arrival, checks that every record landed exactly once, and prints what
it wrote. --bootstrap-servers and --s3-endpoint point it at a real Kafka and
a real S3 or MinIO instead.

Each run writes to a new topic, bookings-<unix seconds>-<random suffix>,
through a connector of the same name, so that runs on one cluster never
mix. The demo's registry keeps its schemas in --registry-topic, not in the
_schemas topic of a registry the cluster may already have.

With --s3-endpoint, the keys default to TRIBUTARY_S3_ACCESS_KEY and
TRIBUTARY_S3_SECRET_KEY (what "integration/services.sh env" exports), then
AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY; without any, the S3 client
falls back to the AWS credential files and instance roles.`,
		PreRunE: func(cmd *cobra.Command, _ []string) error {
			// The first variable set wins, as for the flag of each.
			return flagsFromEnv(cmd, []envFlag{
				{"s3-access-key", "TRIBUTARY_S3_ACCESS_KEY"},
				{"s3-access-key", "AWS_ACCESS_KEY_ID"},
				{"s3-secret-key", "TRIBUTARY_S3_SECRET_KEY"},
				{"s3-secret-key", "AWS_SECRET_ACCESS_KEY"},
			})
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			o.allRows = !cmd.Flags().Changed("rows")
			return runDemo(cmd.Context(), cmd.OutOrStdout(), o)
		},
	}
	f := cmd.Flags()
	f.StringSliceVar(&o.brokers, "bootstrap-servers", nil, "Kafka brokers (default: an embedded broker)")
	f.StringVar(&o.regTopic, "registry-topic", "_tributary_demo_schemas",
		"topic the demo's Schema Registry stores its schemas in")
	f.StringVar(&o.out, "out", "tributary-demo", "directory the local sink writes to")
	f.StringVar(&o.s3Endpoint, "s3-endpoint", "", "S3 or MinIO URL, or host:port for http (default: the local directory)")
	f.StringVar(&o.s3Bucket, "s3-bucket", "tributary", "bucket, with --s3-endpoint")
	f.StringVar(&o.s3AccessKey, "s3-access-key", "",
		"access key, with --s3-endpoint ($TRIBUTARY_S3_ACCESS_KEY, $AWS_ACCESS_KEY_ID)")
	f.StringVar(&o.s3SecretKey, "s3-secret-key", "",
		"secret key, with --s3-endpoint ($TRIBUTARY_S3_SECRET_KEY, $AWS_SECRET_ACCESS_KEY)")
	f.IntVar(&o.rows, "rows", 0, "load only the first N bookings (default: all)")
	f.Int32Var(&o.partitions, "partitions", 4, "partitions of the bookings topic")
	f.IntVar(&o.flushSize, "flush-size", 10000, "records per segment (flush.size)")
	f.StringVar(&o.format, "format", "parquet", "parquet, avro or json")
	f.BoolVarP(&o.verbose, "verbose", "v", false, "log what the worker does")
	return cmd
}

// validate reports every bad flag at once, so that a demo never starts
// half configured.
func (o demoOptions) validate() error {
	var bad []string
	if !o.allRows && o.rows < 1 {
		bad = append(bad, fmt.Sprintf("--rows must be at least 1, got %d; "+
			"leave it out to load every booking", o.rows))
	}
	if o.partitions < 1 {
		bad = append(bad, fmt.Sprintf("--partitions must be at least 1, got %d", o.partitions))
	}
	if o.flushSize < 1 {
		bad = append(bad, fmt.Sprintf("--flush-size must be at least 1, got %d", o.flushSize))
	}
	if o.regTopic == "" {
		bad = append(bad, "--registry-topic must not be empty")
	}
	if (o.s3AccessKey == "") != (o.s3SecretKey == "") {
		bad = append(bad, "--s3-access-key and --s3-secret-key go together: "+
			"give both or neither")
	}
	if _, err := storage.NewFormat(o.format); err != nil {
		bad = append(bad, "--format: "+err.Error())
	}
	if len(bad) > 0 {
		return fmt.Errorf("invalid demo flags:\n  %s", strings.Join(bad, "\n  "))
	}
	return nil
}

func runDemo(ctx context.Context, out io.Writer, o demoOptions) error {
	if err := o.validate(); err != nil {
		return err
	}
	if o.s3Endpoint == "" {
		// Before anything runs: a directory the tasks cannot create
		// would fail each of them, after the load.
		if err := os.MkdirAll(o.out, 0o755); err != nil {
			return fmt.Errorf("--out: %w", err)
		}
	}
	limit := o.rows
	if o.allRows {
		limit = 0
	}
	level := slog.LevelWarn
	if o.verbose {
		level = slog.LevelInfo
	}
	log := newLogger(os.Stderr, level, "text")
	say := func(format string, args ...any) { fmt.Fprintf(out, format+"\n", args...) }

	// 1. Kafka: embedded unless given.
	brokers := o.brokers
	if len(brokers) == 0 {
		cluster, err := kfake.NewCluster(kfake.NumBrokers(1))
		if err != nil {
			return fmt.Errorf("start embedded broker: %w", err)
		}
		defer cluster.Close()
		brokers = cluster.ListenAddrs()
		say("kafka      embedded broker at %s", strings.Join(brokers, ","))
	} else {
		say("kafka      %s", strings.Join(brokers, ","))
	}

	// 2. The Schema Registry, stored in Kafka.
	reg, err := registry.Start(ctx, registry.ServerConfig{
		Brokers: brokers, Topic: o.regTopic, Addr: "127.0.0.1:0", Logger: log,
	})
	if err != nil {
		return fmt.Errorf("start schema registry: %w", err)
	}
	defer reg.Close()
	say("registry   %s", reg.URL())

	// 3. The bookings, produced in the Confluent wire format.
	topic := demoTopic()
	client, err := registry.NewClient([]string{reg.URL()})
	if err != nil {
		return err
	}
	src, err := bookings.Open()
	if err != nil {
		return err
	}
	defer src.Close()
	loaded, err := loader.Load(ctx, loader.Config{
		Brokers: brokers, Topic: topic, Partitions: o.partitions, Registry: client,
		// Keyed by hotel, the records would use one of the four partitions.
		Key: loader.KeyActionID, Limit: limit, Progress: progressWriter(), Logger: log,
	}, src)
	if err != nil {
		return err
	}
	parts := "partitions"
	if o.partitions == 1 {
		parts = "partition"
	}
	say("loaded     %d bookings into topic %s (%d %s, schema id %d) in %v",
		loaded.Produced, topic, o.partitions, parts, loaded.SchemaID,
		loaded.Elapsed.Round(time.Millisecond))

	// 4. The sink, until it has committed everything.
	cfg, where, err := demoSinkConfig(o, topic)
	if err != nil {
		return err
	}
	if o.s3Endpoint != "" && o.s3AccessKey == "" {
		say("s3         no access key given: using the AWS credential chain")
	}
	w := worker.New(worker.Options{
		Brokers: brokers, Plugins: sinkPlugins(), NewDecoder: decoders(registryAccess{urls: []string{reg.URL()}}),
		Logger: log, CommitInterval: 500 * time.Millisecond,
	})
	start := time.Now()
	if err := w.Start(ctx, topic, cfg); err != nil {
		return o.explainSinkError(err)
	}
	if err := waitForSink(ctx, w, brokers, topic); err != nil {
		_ = w.Close(context.Background())
		return o.explainSinkError(err)
	}
	elapsed := time.Since(start)
	if err := w.Close(ctx); err != nil {
		return err
	}

	// 5. The oracle, then the summary.
	sc, _ := storage.ParseConfig(cfg)
	store, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	rep, err := verify.Run(ctx, verify.Source{Brokers: brokers, Topic: topic},
		verify.Sink{Store: store, TopicsDir: sc.TopicsDir, Format: sc.Format})
	if err != nil {
		return err
	}
	keys, err := store.List(ctx, sc.TopicsDir+"/"+topic+"/", "")
	if err != nil {
		return err
	}
	dirs := map[string]bool{}
	for _, k := range keys {
		dirs[path.Dir(k)] = true
	}
	records, rows, missing, dup := rep.Totals()
	say("wrote      %d rows in %d %s files across %d monthly partitions",
		rows, rep.Objects, sc.Format.Name(), len(dirs))
	say("sink       %d records in %v: %.0f records/s", records, elapsed.Round(time.Millisecond),
		float64(records)/elapsed.Seconds())
	say("verified   %d missing, %d duplicated offsets", missing, dup)
	say("output     %s/%s/%s/", where, sc.TopicsDir, topic)
	if !rep.OK() {
		verify.Print(out, rep)
		return errReported
	}
	if o.s3Endpoint == "" && sc.Format.Name() == "parquet" {
		say("\nquery it, e.g. with DuckDB:\n  SELECT hotel, count(*), sum(adr) FROM read_parquet('%s/%s/%s/**/*.parquet') GROUP BY hotel;",
			where, sc.TopicsDir, topic)
	}
	return nil
}

// demoTopic names a new bookings topic: the time makes it easy to find, the
// random suffix keeps two runs in the same second apart.
func demoTopic() string {
	return fmt.Sprintf("bookings-%d-%s", time.Now().Unix(), strings.ToLower(rand.Text()[:6]))
}

// explainSinkError adds to an error of the sink that no S3 keys were
// given, since that is the usual reason an S3 or MinIO endpoint refuses
// the demo. A config error stands alone: it names its own cause.
func (o demoOptions) explainSinkError(err error) error {
	var ce *connectors.ConfigError
	if o.s3Endpoint == "" || o.s3AccessKey != "" || errors.As(err, &ce) {
		return err
	}
	return fmt.Errorf("%w\nno S3 access key was given: pass --s3-access-key and "+
		"--s3-secret-key, or export TRIBUTARY_S3_ACCESS_KEY and TRIBUTARY_S3_SECRET_KEY "+
		`(eval "$(integration/services.sh env)" does for its MinIO)`, err)
}

// demoSinkConfig is the main job's connector config, pointed at a local
// directory or at S3.
func demoSinkConfig(o demoOptions, topic string) (map[string]string, string, error) {
	cfg := map[string]string{
		"topics":                       topic,
		"tasks.max":                    "2",
		"format.class":                 o.format,
		"flush.size":                   fmt.Sprint(o.flushSize),
		"rotate.schedule.interval.ms":  "1000",
		"partitioner.class":            "io.confluent.connect.storage.partitioner.TimeBasedPartitioner",
		"path.format":                  "'year'=YYYY/'month'=MM",
		"partition.duration.ms":        "86400000",
		"timezone":                     "UTC",
		"locale":                       "en-US",
		"timestamp.extractor":          "RecordField",
		"timestamp.field":              "arrival_date",
		"max.open.files.per.partition": "1000",
	}
	if o.s3Endpoint != "" {
		cfg["connector.class"] = "io.confluent.connect.s3.S3SinkConnector"
		cfg["store.url"] = o.s3Endpoint
		if !strings.Contains(o.s3Endpoint, "://") {
			// A bare host:port, as TRIBUTARY_S3_ENDPOINT holds it.
			cfg["store.url"] = "http://" + o.s3Endpoint
		}
		cfg["s3.bucket.name"] = o.s3Bucket
		cfg["aws.access.key.id"] = o.s3AccessKey
		cfg["aws.secret.access.key"] = o.s3SecretKey
		return cfg, "s3://" + o.s3Bucket, nil
	}
	dir, err := filepath.Abs(o.out)
	if err != nil {
		return nil, "", err
	}
	cfg["connector.class"] = "file"
	cfg["file.dir"] = dir
	return cfg, dir, nil
}

// waitForSink returns once the connector named topic has committed the end
// of every partition of topic, or fails when a task fails.
func waitForSink(ctx context.Context, w *worker.Worker, brokers []string, topic string) error {
	group := "connect-" + topic
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...))
	if err != nil {
		return err
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
		st, err := w.Status(topic)
		if err != nil {
			return err
		}
		for _, ts := range st.Tasks {
			if ts.State == worker.StateFailed {
				return fmt.Errorf("task %d failed: %s", ts.ID, ts.Trace)
			}
		}
		done, _, err := verify.CaughtUp(ctx, adm, group, topic)
		if err != nil {
			continue // the broker may be busy; try again
		}
		if done {
			return nil
		}
	}
}
