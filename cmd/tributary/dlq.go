package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tributary-io/tributary/connectors"
	"github.com/tributary-io/tributary/runtime/config"
	"github.com/tributary-io/tributary/runtime/worker"
)

func newDLQCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "dlq",
		Short: "Inspect and replay a sink connector's dead letter queue",
	}
	cmd.AddCommand(newDLQListCmd(), newDLQReplayCmd())
	return cmd
}

func newDLQListCmd() *cobra.Command {
	var brokers []string
	cmd := &cobra.Command{
		Use:   "list --bootstrap-servers HOST:PORT TOPIC",
		Short: "Show the records of a dead letter queue topic",
		Long: `List every record of a dead letter queue topic, oldest first: its own
partition and offset (DLQ), when it was dead-lettered (DEAD-LETTERED), the
timestamp of the record it holds (TIMESTAMP), that record's source topic,
partition and offset, the stage that failed and why.

Tributary stamps a dead letter with the time it dead-lettered it and keeps
the record's own timestamp in the tributary.dlq.original.timestamp header.
A dead letter without that header, as Kafka Connect writes them, carries
the record's timestamp as its own: DEAD-LETTERED is then "-". The source
and reason come from the __connect.errors.* headers, written when
errors.deadletterqueue.context.headers.enable=true.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...))
			if err != nil {
				return err
			}
			defer cl.Close()
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "DLQ\tDEAD-LETTERED\tTIMESTAMP\tSOURCE\tSTAGE\tREASON")
			err = readDLQ(cmd.Context(), cl, args[0], func(r *kgo.Record) {
				h := dlqHeaders(r)
				ts, stamped := originalTimestamp(r)
				deadLettered := "-"
				if stamped {
					deadLettered = r.Timestamp.UTC().Format(millisUTC)
				}
				fmt.Fprintf(tw, "%d@%d\t%s\t%s\t%s\t%s\t%s\n", r.Partition, r.Offset,
					deadLettered, ts.UTC().Format(millisUTC), dlqSource(h),
					orDash(h[worker.HeaderErrorsStage]),
					orDash(oneLine(h[worker.HeaderErrorsExcMessage])))
			})
			if err != nil {
				return err // the table so far is dropped with its header
			}
			return tw.Flush()
		},
	}
	cmd.Flags().StringSliceVar(&brokers, "bootstrap-servers", []string{"127.0.0.1:9092"},
		"Kafka brokers")
	return cmd
}

// millisUTC renders times as Kafka stores them, to the millisecond, in
// columns of one width.
const millisUTC = "2006-01-02T15:04:05.000Z07:00"

// originalTimestamp returns the timestamp of the record dead letter r holds,
// and whether r carries it in a header, as Tributary's dead letters do;
// otherwise it is r's own, as in Kafka Connect's.
func originalTimestamp(r *kgo.Record) (time.Time, bool) {
	for _, kh := range r.Headers {
		if kh.Key != worker.HeaderOriginalTimestamp {
			continue
		}
		if ms, err := strconv.ParseInt(string(kh.Value), 10, 64); err == nil {
			return time.UnixMilli(ms), true
		}
	}
	return r.Timestamp, false
}

// readDLQ calls fn for every record of topic up to its end offsets at the
// start.
func readDLQ(ctx context.Context, cl *kgo.Client, topic string, fn func(*kgo.Record)) error {
	ends, err := kadm.NewClient(cl).ListEndOffsets(ctx, topic)
	if err == nil {
		err = ends.Error()
	}
	if errors.Is(err, kerr.UnknownTopicOrPartition) {
		return fmt.Errorf("topic %s does not exist: a connector creates its dead letter "+
			"queue with the first record it dead-letters", topic)
	}
	if err != nil {
		return fmt.Errorf("list end offsets of %s: %w", topic, err)
	}
	upTo := map[int32]int64{}
	ends.Each(func(o kadm.ListedOffset) { upTo[o.Partition] = o.Offset })
	return readUpTo(ctx, cl, topic, upTo, fn)
}

// readUpTo calls fn for every record of topic from the start of each
// partition up to, not including, its offset in upTo.
func readUpTo(ctx context.Context, cl *kgo.Client, topic string, upTo map[int32]int64,
	fn func(*kgo.Record),
) error {
	starts, err := kadm.NewClient(cl).ListStartOffsets(ctx, topic)
	if err == nil {
		err = starts.Error()
	}
	if err != nil {
		return fmt.Errorf("list start offsets of %s: %w", topic, err)
	}
	left := map[int32]int64{}
	parts := map[int32]kgo.Offset{}
	for p, end := range upTo {
		// Retention may have deleted the whole range.
		if start, ok := starts.Lookup(topic, p); ok && end > start.Offset {
			left[p] = end
			parts[p] = kgo.NewOffset().AtStart()
		}
	}
	if len(left) == 0 {
		return nil
	}
	cl.AddConsumePartitions(map[string]map[int32]kgo.Offset{topic: parts})
	for len(left) > 0 {
		fs := cl.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := fs.Err(); err != nil {
			return fmt.Errorf("read %s: %w", topic, err)
		}
		fs.EachRecord(func(r *kgo.Record) {
			end, ok := left[r.Partition]
			if !ok || r.Offset >= end {
				return
			}
			fn(r)
			if r.Offset+1 >= end {
				delete(left, r.Partition)
			}
		})
	}
	return nil
}

// dlqHeaders returns a dead letter's context headers by name.
func dlqHeaders(r *kgo.Record) map[string]string {
	h := map[string]string{}
	for _, kh := range r.Headers {
		if strings.HasPrefix(kh.Key, "__connect.errors.") {
			h[kh.Key] = string(kh.Value)
		}
	}
	return h
}

func dlqSource(h map[string]string) string {
	if h[worker.HeaderErrorsTopic] == "" {
		return "-"
	}
	return h[worker.HeaderErrorsTopic] + "/" + h[worker.HeaderErrorsPartition] + "@" +
		h[worker.HeaderErrorsOffset]
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func oneLine(s string) string {
	s = strings.ReplaceAll(s, "\n", " ")
	if len(s) > 160 {
		s = s[:157] + "..."
	}
	return s
}

func newDLQReplayCmd() *cobra.Command {
	var brokers []string
	var connector, restURL string
	var timeout time.Duration
	cmd := &cobra.Command{
		Use: "replay --bootstrap-servers HOST:PORT --connector FILE_OR_NAME DLQ_TOPIC",
		Short: "Send dead-lettered records back through their connector, " +
			"once the cause is fixed",
		Long: `Replay a sink connector's dead letter queue once the cause of the failures
is fixed (the missing schema registered, the transform corrected): each
dead letter's original key, value and headers are produced again to the
topic and partition it came from, named by its __connect.errors.topic and
__connect.errors.partition headers, so the connector reads it again as a new
record. The queue must have been written with
errors.deadletterqueue.context.headers.enable=true, and every source topic
must be one the connector reads.

--connector is the connector's YAML, JSON or .properties file, or its
name, looked up through the REST API at --url. Its
errors.deadletterqueue.topic.name must be DLQ_TOPIC.

The records are produced in Kafka transactions that also commit the dead
letter queue's offsets for the consumer group
tributary-dlq-replay-<connector>, so a replay that is repeated or
interrupted and run again never sends one dead letter twice. The queue
itself is at least once: a task that restarts before committing
dead-letters a record again. Replay sends each source record (its
__connect.errors.topic, partition and offset) at most once: it skips the
copies within a run, and the copies of a record an earlier replay sent
while the queue still holds that earlier dead letter. A replay goes up to
the end of the queue as it was when it started. Each record goes back with
its original timestamp (the tributary.dlq.original.timestamp header, else
the dead letter's own). Records that fail again go back to the queue as new
dead letters, and a later replay sends those. Replayed records carry a
tributary.dlq.replayed header naming the dead letter (topic/partition@offset).`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx, cancel := context.WithTimeout(cmd.Context(), timeout)
			defer cancel()
			c, err := loadReplayConnector(ctx, connector, restURL)
			if err != nil {
				return err
			}
			r := &replayer{brokers: brokers, dlq: args[0], out: cmd.OutOrStdout()}
			return r.run(ctx, c)
		},
	}
	f := cmd.Flags()
	f.StringSliceVar(&brokers, "bootstrap-servers", []string{"127.0.0.1:9092"}, "Kafka brokers")
	f.StringVar(&connector, "connector", "", "the connector's file, or its name")
	f.StringVar(&restURL, "url", "http://127.0.0.1:8083",
		"REST API base URL, to look a connector up by name")
	f.DurationVar(&timeout, "timeout", 5*time.Minute, "give up after this long")
	_ = cmd.MarkFlagRequired("connector")
	return cmd
}

// loadReplayConnector reads a connector from its file or, when no such file
// exists, from the REST API by name.
func loadReplayConnector(ctx context.Context, ref, restURL string) (*config.Connector, error) {
	if _, err := os.Stat(ref); err == nil {
		return config.LoadConnector(ref)
	}
	url := strings.TrimSuffix(restURL, "/") + "/connectors/" + ref
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("get connector %s: %w", ref, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return nil, fmt.Errorf("get connector %s: %w", ref, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("get connector %s: %w", ref, apiFailure(resp.StatusCode, body))
	}
	var info struct {
		Name   string            `json:"name"`
		Config map[string]string `json:"config"`
	}
	if err := json.Unmarshal(body, &info); err != nil {
		return nil, fmt.Errorf("get connector %s: %w", ref, err)
	}
	return &config.Connector{Name: info.Name, Config: info.Config}, nil
}

// HeaderReplayed names the dead letter a replayed record came from.
const HeaderReplayed = "tributary.dlq.replayed"

// replayer sends a dead letter queue's records back to their source topics.
type replayer struct {
	brokers []string
	dlq     string
	out     io.Writer
	// skipped counts the dead letters not sent as copies of others.
	skipped int
}

func (r *replayer) run(ctx context.Context, c *config.Connector) error {
	cm, errs := c.Common()
	if len(errs) > 0 {
		return &connectors.ConfigError{Source: "connector " + c.Name, Errors: errs}
	}
	if cm.Errors.DeadLetterTopic != r.dlq {
		return fmt.Errorf("connector %s: its dead letter queue is %q, not %q", c.Name,
			cm.Errors.DeadLetterTopic, r.dlq)
	}
	group := "tributary-dlq-replay-" + c.Name
	sess, err := kgo.NewGroupTransactSession(
		kgo.SeedBrokers(r.brokers...),
		kgo.ConsumerGroup(group),
		kgo.ConsumeTopics(r.dlq),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		kgo.RequireStableFetchOffsets(),
		kgo.TransactionalID(group+"-"+r.dlq),
		kgo.RecordPartitioner(kgo.ManualPartitioner()),
	)
	if err != nil {
		return err
	}
	defer sess.Close()

	left, done, err := r.pending(ctx, kadm.NewClient(sess.Client()), group)
	if err != nil {
		return err
	}
	seen, err := r.replayedSources(ctx, done)
	if err != nil {
		return err
	}
	total := 0
	for len(left) > 0 {
		fs := sess.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("replay %s: %d records replayed, more left: %w", r.dlq, total, err)
		}
		if err := fs.Err(); err != nil {
			return fmt.Errorf("read %s: %w", r.dlq, err)
		}
		n, err := r.replayBatch(ctx, sess, &cm, fs.Records(), left, seen)
		if err != nil {
			return err
		}
		total += n
	}
	fmt.Fprintf(r.out, "replayed %d records from %s (group %s)", total, r.dlq, group)
	if r.skipped > 0 {
		fmt.Fprintf(r.out, "; skipped %d copies of records already replayed", r.skipped)
	}
	fmt.Fprintln(r.out)
	return nil
}

// source names the record a dead letter holds by its source coordinates.
type source struct {
	topic     string
	partition int32
	offset    int64
}

// sourceOf returns the source coordinates of dead letter dl, from its
// context headers.
func sourceOf(dl *kgo.Record) (source, bool) {
	h := dlqHeaders(dl)
	part, perr := strconv.ParseInt(h[worker.HeaderErrorsPartition], 10, 32)
	off, oerr := strconv.ParseInt(h[worker.HeaderErrorsOffset], 10, 64)
	if h[worker.HeaderErrorsTopic] == "" || perr != nil || oerr != nil {
		return source{}, false
	}
	return source{h[worker.HeaderErrorsTopic], int32(part), off}, true
}

// replayedSources returns the sources of the dead letters earlier replays
// went past, up to the group's offsets in done, that the queue still holds.
func (r *replayer) replayedSources(ctx context.Context, done map[int32]int64,
) (map[source]struct{}, error) {
	seen := map[source]struct{}{}
	if len(done) == 0 {
		return seen, nil
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(r.brokers...))
	if err != nil {
		return nil, err
	}
	defer cl.Close()
	err = readUpTo(ctx, cl, r.dlq, done, func(dl *kgo.Record) {
		if src, ok := sourceOf(dl); ok {
			seen[src] = struct{}{}
		}
	})
	if err != nil {
		return nil, fmt.Errorf("read replayed dead letters: %w", err)
	}
	return seen, nil
}

// pending returns, per partition of the queue, the end offset still to be
// reached by the group.
func (r *replayer) pending(ctx context.Context, adm *kadm.Client, group string,
) (left, done map[int32]int64, err error) {
	ends, err := adm.ListEndOffsets(ctx, r.dlq)
	if err == nil {
		err = ends.Error()
	}
	if err != nil {
		return nil, nil, fmt.Errorf("list end offsets of %s: %w", r.dlq, err)
	}
	committed, err := adm.FetchOffsets(ctx, group)
	if err == nil {
		err = committed.Error()
	}
	if errors.Is(err, kerr.GroupIDNotFound) {
		err = nil // never replayed: everything is left
	}
	if err != nil {
		return nil, nil, fmt.Errorf("fetch offsets of group %s: %w", group, err)
	}
	left, done = map[int32]int64{}, map[int32]int64{}
	ends.Each(func(o kadm.ListedOffset) {
		at, ok := committed.Lookup(r.dlq, o.Partition)
		if ok && at.At > 0 {
			done[o.Partition] = at.At
		}
		if o.Offset > at.At {
			left[o.Partition] = o.Offset
		}
	})
	return left, done, nil
}

// replayBatch produces rs back to their sources in one transaction that
// commits their offsets, and returns how many it sent. A dead letter whose
// source record is in seen, or earlier in rs, is a copy and is not sent;
// the sources sent are added to seen once committed.
func (r *replayer) replayBatch(ctx context.Context, sess *kgo.GroupTransactSession,
	cm *config.Common, rs []*kgo.Record, left map[int32]int64, seen map[source]struct{},
) (int, error) {
	if len(rs) == 0 {
		return 0, nil
	}
	out := make([]*kgo.Record, 0, len(rs))
	sent := map[source]struct{}{}
	for _, dl := range rs {
		rec, src, err := r.original(cm, dl)
		if err != nil {
			return 0, err
		}
		if _, dup := seen[src]; dup {
			continue
		}
		if _, dup := sent[src]; dup {
			continue
		}
		sent[src] = struct{}{}
		out = append(out, rec)
	}
	if err := sess.Begin(); err != nil {
		return 0, fmt.Errorf("begin transaction: %w", err)
	}
	perr := sess.ProduceSync(ctx, out...).FirstErr()
	committed, err := sess.End(ctx, kgo.TransactionEndTry(perr == nil))
	switch {
	case perr != nil:
		return 0, fmt.Errorf("replay to source topics: %w", perr)
	case err != nil:
		return 0, fmt.Errorf("commit replay transaction: %w", err)
	case !committed:
		return 0, nil // a rebalance aborted it; the records come again
	}
	for _, dl := range rs {
		if end, ok := left[dl.Partition]; ok && dl.Offset+1 >= end {
			delete(left, dl.Partition)
		}
	}
	maps.Copy(seen, sent)
	r.skipped += len(rs) - len(out)
	return len(out), nil
}

// original rebuilds the record a dead letter holds, addressed to where it
// came from.
// original rebuilds the record a dead letter holds, addressed to where it
// came from and with its original timestamp, and returns its source.
func (r *replayer) original(cm *config.Common, dl *kgo.Record) (*kgo.Record, source, error) {
	where := fmt.Sprintf("%s/%d@%d", dl.Topic, dl.Partition, dl.Offset)
	src, ok := sourceOf(dl)
	if !ok {
		return nil, src, fmt.Errorf("dead letter %s has no __connect.errors.topic, partition "+
			"and offset headers; set errors.deadletterqueue.context.headers.enable=true", where)
	}
	if !readsTopic(cm, src.topic) {
		return nil, src, fmt.Errorf("dead letter %s came from %s, which the connector does "+
			"not read", where, src.topic)
	}
	// Sinks partition by the Kafka timestamp: the record goes back with its
	// own, not the time it was dead-lettered.
	ts, _ := originalTimestamp(dl)
	rec := &kgo.Record{Topic: src.topic, Partition: src.partition, Key: dl.Key,
		Value: dl.Value, Timestamp: ts}
	for _, kh := range dl.Headers {
		if !strings.HasPrefix(kh.Key, "__connect.errors.") && kh.Key != HeaderReplayed &&
			kh.Key != worker.HeaderOriginalTimestamp {
			rec.Headers = append(rec.Headers, kh)
		}
	}
	rec.Headers = append(rec.Headers, kgo.RecordHeader{Key: HeaderReplayed, Value: []byte(where)})
	return rec, src, nil
}

func readsTopic(cm *config.Common, topic string) bool {
	if cm.TopicsRegex != nil {
		return cm.TopicsRegex.MatchString(topic)
	}
	for _, t := range cm.Topics {
		if t == topic {
			return true
		}
	}
	return false
}
