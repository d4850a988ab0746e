package storage

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path"
	"strconv"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/tributary-io/tributary/connectors"
)

// planVersion is the version of the plan object's JSON layout.
const planVersion = 1

// plan is the write-once record of one segment: the offsets it covers and
// the files its records render to. See the package documentation.
type plan struct {
	Version   int        `json:"version"`
	Topic     string     `json:"topic"`
	Partition int32      `json:"partition"`
	Start     int64      `json:"start"`
	Last      int64      `json:"last"`
	Records   int        `json:"records"`
	Files     []planFile `json:"files"`
}

// planFile is one data file of a plan.
type planFile struct {
	Key     string `json:"key"`
	Records int    `json:"records"`
}

// sameCut reports whether q cuts the same records into the same files as p.
// File sizes are not compared: a newer binary may encode the same records
// differently, which is harmless because no record is written twice.
func (p *plan) sameCut(q *plan) bool {
	if p.Start != q.Start || p.Last != q.Last || len(p.Files) != len(q.Files) {
		return false
	}
	for i := range p.Files {
		if p.Files[i] != q.Files[i] {
			return false
		}
	}
	return true
}

func (p *plan) String() string {
	return fmt.Sprintf("%s/%d [%d, %d]", p.Topic, p.Partition, p.Start, p.Last)
}

// planPrefix is where the plans of one Kafka partition live. The leading
// underscore keeps Hive-style readers (Spark, Trino, DuckDB's hive
// partitioning) from taking it for data.
func planPrefix(topicsDir string, tp connectors.TopicPartition) string {
	return fmt.Sprintf("%s/_tributary/plans/%s/%d/", topicsDir, tp.Topic, tp.Partition)
}

func planKey(topicsDir string, tp connectors.TopicPartition, start int64) string {
	return fmt.Sprintf("%s%020d.json", planPrefix(topicsDir, tp), start)
}

// dataKey names a data file the way Confluent's storage sinks do:
// <topics.dir>/<topic>/<encoded partition>/<topic>+<partition>+<offset>.<ext>.
func dataKey(c *Config, tp connectors.TopicPartition, encoded string, first int64) string {
	off := strconv.FormatInt(first, 10)
	for len(off) < c.ZeroPad {
		off = "0" + off
	}
	name := tp.Topic + "+" + strconv.Itoa(int(tp.Partition)) + "+" + off + c.Format.Extension()
	return path.Join(c.TopicsDir, tp.Topic, encoded, name)
}

// latestPlan returns the newest plan of tp whose start is at or after from,
// or nil when there is none.
func (t *Task) latestPlan(ctx context.Context, tp connectors.TopicPartition, from int64) (*plan, error) {
	prefix := planPrefix(t.cfg.TopicsDir, tp)
	after := ""
	if from > 0 {
		after = planKey(t.cfg.TopicsDir, tp, from-1)
	}
	var keys []string
	err := t.retry(ctx, "list "+prefix, func() error {
		var err error
		keys, err = t.store.List(ctx, prefix, after)
		return err
	})
	if err != nil || len(keys) == 0 {
		return nil, err
	}
	return t.readPlan(ctx, keys[len(keys)-1])
}

func (t *Task) readPlan(ctx context.Context, key string) (*plan, error) {
	var raw []byte
	err := t.retry(ctx, "get "+key, func() error {
		var err error
		raw, err = t.store.Get(ctx, key)
		return err
	})
	if err != nil {
		return nil, err
	}
	var p plan
	if err := json.Unmarshal(raw, &p); err != nil {
		return nil, fmt.Errorf("read plan %s: %w", key, err)
	}
	if p.Version != planVersion {
		return nil, fmt.Errorf("read plan %s: unknown version %d", key, p.Version)
	}
	return &p, nil
}

// commit ends pw's segment: it finishes the files, creates the plan (or
// checks the rebuilt segment against the plan it re-executes), uploads the
// files and advances the durable offset. A commit interrupted by an error
// resumes where it stopped when called again.
func (t *Task) commit(ctx context.Context, pw *partitionWriter) error {
	seg := pw.seg
	if !seg.closed {
		if err := t.render(pw.tp, seg); err != nil {
			return fmt.Errorf("finish segment of %s: %w", pw.tp, err)
		}
		if err := seg.finish(); err != nil {
			return fmt.Errorf("finish segment of %s: %w", pw.tp, err)
		}
		seg.plan = t.planOf(pw.tp, seg)
	}

	if pw.pending != nil {
		if !pw.pending.sameCut(seg.plan) {
			return fmt.Errorf("re-execute plan %s: rebuilt segment differs from the plan "+
				"(were the partitioner or format changed while it was pending?): "+
				"have %d files, plan has %d", pw.pending, len(seg.plan.Files), len(pw.pending.Files))
		}
	} else if !seg.planned {
		adopted, err := t.createPlan(ctx, pw, seg.plan)
		if err != nil || adopted {
			return err
		}
		seg.planned = true
	}

	// Files of one plan are independent: upload them side by side, which
	// matters when a segment spans many small output partitions.
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(t.cfg.UploadConcurrency)
	for _, f := range seg.files {
		if f.uploaded {
			continue
		}
		g.Go(func() error {
			if err := t.upload(gctx, f); err != nil {
				return err
			}
			f.uploaded = true
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}

	files := len(seg.files)
	t.metrics.Committed(files, time.Since(seg.closedAt))
	seg.discard()
	pw.durable = seg.last + 1
	pw.seg, pw.pending = nil, nil
	t.log.Info("segment committed", "topic", pw.tp.Topic, "partition", pw.tp.Partition,
		"start", seg.start, "last", seg.last, "records", seg.records, "files", files)
	return nil
}

func (t *Task) planOf(tp connectors.TopicPartition, seg *segment) *plan {
	p := &plan{
		Version: planVersion, Topic: tp.Topic, Partition: tp.Partition,
		Start: seg.start, Last: seg.last, Records: seg.records,
	}
	for _, f := range seg.files {
		p.Files = append(p.Files, planFile{Key: f.key, Records: f.records})
	}
	return p
}

// createPlan writes p create-only. When another writer created the plan for
// the same start first, its cut wins: createPlan drops the local segment,
// makes that plan pending and rewinds the partition to its start, and
// reports adopted.
func (t *Task) createPlan(ctx context.Context, pw *partitionWriter, p *plan) (adopted bool, err error) {
	body, err := json.Marshal(p)
	if err != nil {
		return false, err
	}
	key := planKey(t.cfg.TopicsDir, pw.tp, p.Start)
	err = t.retry(ctx, "create "+key, func() error {
		return t.store.PutIfAbsent(ctx, key, bytes.NewReader(body), int64(len(body)))
	})
	if err == nil {
		return false, nil
	}
	if !errors.Is(err, ErrExist) {
		return false, err
	}

	theirs, err := t.readPlan(ctx, key)
	if err != nil {
		return false, err
	}
	if theirs.sameCut(p) {
		// Our own earlier attempt: its response was lost, the write was not.
		return false, nil
	}
	t.log.Warn("segment planned by another writer; adopting its plan",
		"topic", pw.tp.Topic, "partition", pw.tp.Partition, "start", p.Start,
		"their_last", theirs.Last, "our_last", p.Last,
		"why", "a newer owner of the partition, or this task resumed as a zombie")
	pw.seg.discard()
	pw.seg = nil
	pw.pending = theirs
	pw.durable = theirs.Start
	t.rewind(pw, theirs.Start)
	return true, nil
}

// upload copies a finished file from the spool to the store. An object that
// exists already holds the same records: an earlier execution of the same
// plan put it there.
func (t *Task) upload(ctx context.Context, f *openFile) error {
	err := t.retry(ctx, "upload "+f.key, func() error {
		if _, err := f.spool.Seek(0, 0); err != nil {
			return err
		}
		return t.store.PutIfAbsent(ctx, f.key, f.spool, f.size)
	})
	if errors.Is(err, ErrExist) {
		t.log.Debug("file exists already", "key", f.key, "why", "plan re-executed")
		return nil
	}
	if err == nil {
		t.metrics.Uploaded(f.size)
	}
	return err
}

// retry runs op until it succeeds, fails permanently, or the retry budget
// (errors.retry.timeout) is spent, backing off exponentially with jitter.
func (t *Task) retry(ctx context.Context, what string, op func() error) error {
	deadline := time.Now().Add(t.cfg.RetryTimeout)
	delay := 100 * time.Millisecond
	for attempt := 1; ; attempt++ {
		err := op()
		if err == nil || !connectors.IsRetriable(err) {
			return err
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s: gave up after %d attempts: %w", what, attempt, err)
		}
		t.log.Warn("store operation failed; retrying", "op", what, "attempt", attempt,
			"err", err, "hint", "check that "+t.store.String()+" is reachable")
		sleep := delay/2 + rand.N(delay/2+1)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(sleep):
		}
		delay = min(delay*2, 10*time.Second)
	}
}

// removeSpool deletes a spool file, ignoring one that is gone already.
func removeSpool(f *os.File) {
	name := f.Name()
	_ = f.Close()
	_ = os.Remove(name)
}
