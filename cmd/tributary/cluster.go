package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tributary-io/tributary/runtime/cluster"
	"github.com/tributary-io/tributary/runtime/config"
	"github.com/tributary-io/tributary/runtime/store"
	"github.com/tributary-io/tributary/runtime/worker"
)

// distributed is a distributed worker's cluster side: the shared config
// store, the group membership and the set of tasks assigned to this worker.
// It implements cluster.Handler.
type distributed struct {
	store    *store.Kafka
	statuses *store.KafkaStatus
	client   *kgo.Client
	member   *cluster.Member
	log      *slog.Logger
	w        *worker.Worker // set before run

	mu    sync.Mutex
	owned map[cluster.Unit]bool
	units []cluster.Unit // the work as last computed, to notice changes
	gen   int32          // generation of the last assignment

	// reportMu serializes report; reported is what this worker wrote to
	// the status topic last, per key.
	reportMu sync.Mutex
	reported map[store.StatusKey]store.Status
}

// openDistributed creates the storage topics when missing and opens the
// shared config store.
func openDistributed(ctx context.Context, wc *config.Worker, log *slog.Logger,
) (*distributed, error) {
	client, err := kgo.NewClient(kgo.SeedBrokers(wc.BootstrapServers...))
	if err != nil {
		return nil, fmt.Errorf("kafka client: %w", err)
	}
	if err := store.EnsureTopic(ctx, kadm.NewClient(client), store.Topic{
		Name: wc.OffsetStorageTopic, Partitions: int32(wc.OffsetStoragePartitions),
		ReplicationFactor: int16(wc.OffsetStorageReplication),
	}); err != nil {
		client.Close()
		return nil, err
	}
	statuses, err := store.OpenKafkaStatus(ctx, store.Topic{
		Name: wc.StatusStorageTopic, Partitions: int32(wc.StatusStoragePartitions),
		ReplicationFactor: int16(wc.StatusStorageReplication),
	}, log, kgo.SeedBrokers(wc.BootstrapServers...))
	if err != nil {
		client.Close()
		return nil, err
	}
	st, err := store.OpenKafka(ctx, wc.ConfigStorageTopic, int16(wc.ConfigStorageReplication),
		log, kgo.SeedBrokers(wc.BootstrapServers...))
	if err != nil {
		statuses.Close()
		client.Close()
		return nil, err
	}
	d := &distributed{store: st, statuses: statuses, client: client, log: log,
		owned: map[cluster.Unit]bool{}, reported: map[store.StatusKey]store.Status{}}
	scheme := "http://"
	if wc.RESTTLS() {
		scheme = "https://"
	}
	d.member = cluster.NewMember(client, cluster.Config{
		Group:             wc.GroupID,
		URL:               scheme + wc.RESTAddr(),
		HeartbeatInterval: config.Millis(wc.HeartbeatIntervalMS),
		SessionTimeout:    config.Millis(wc.SessionTimeoutMS),
		RebalanceTimeout:  config.Millis(wc.RebalanceTimeoutMS),
		Delay:             config.Millis(wc.ScheduledRebalanceMaxDelayMS),
		Logger:            log,
	}, d)
	return d, nil
}

// owns reports whether this worker is assigned task id of a connector.
func (d *distributed) owns(name string, id int) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.owned[cluster.Unit{Connector: name, Task: id}]
}

// leader returns the REST URL of the cluster's leader, empty until the
// first rebalance, and whether this worker leads.
func (d *distributed) leader() (string, bool) {
	_, url := d.member.Leader()
	return url, d.member.IsLeader()
}

// run takes part in the cluster until ctx ends, then stops this worker's
// tasks and leaves the group. Meanwhile it follows the config store:
// every change is applied to the worker, and a change of the work asks
// for a rebalance. It reports the states of what this worker runs to the
// status topic after each change and every reportInterval, as a task may
// fail at any time.
func (d *distributed) run(ctx context.Context) error {
	// Take the channel before the member joins: a record applied after the
	// first rebalance read the store, and before the channel was taken,
	// would otherwise change the work unseen, and no rebalance would
	// assign the new tasks.
	progress := d.store.Progress()
	done := make(chan error, 1)
	go func() { done <- d.member.Run(ctx) }()
	tick := time.NewTicker(reportInterval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return <-done
		case <-tick.C:
			d.report(ctx)
			continue
		case <-progress:
		}
		// Take the next channel before reading the store: a record applied
		// from here on closes it, so no change goes unseen.
		progress = d.store.Progress()
		if err := d.w.Sync(ctx); err != nil && ctx.Err() == nil {
			d.log.Warn("sync connectors", "err", err)
		}
		d.report(ctx)
		conns, _ := d.store.Snapshot()
		units := d.work(conns)
		d.mu.Lock()
		changed := !slices.Equal(units, d.units)
		d.units = units
		d.mu.Unlock()
		if changed {
			d.member.Rebalance()
		}
	}
}

// close closes the stores and the client; call after run returned.
func (d *distributed) close() {
	d.store.Close()
	d.statuses.Close()
	d.client.Close()
}

// work lists the units of the stored connectors: each connector and, unless
// it is stopped, its tasks.
func (d *distributed) work(conns []store.Connector) []cluster.Unit {
	counts := map[string]int{}
	for _, c := range conns {
		counts[c.Name] = 0
		if c.Target != store.TargetStopped {
			counts[c.Name] = d.w.TaskCount(c.Name, c.Config)
		}
	}
	return cluster.Units(counts)
}

// ConfigOffset implements cluster.Handler.
func (d *distributed) ConfigOffset() int64 { return d.store.Offset() }

// Work implements cluster.Handler.
func (d *distributed) Work(ctx context.Context, offset int64) ([]cluster.Unit, int64, error) {
	if err := d.store.WaitFor(ctx, offset); err != nil {
		return nil, 0, err
	}
	conns, off := d.store.Snapshot()
	return d.work(conns), off, nil
}

// Revoke implements cluster.Handler: the revoked tasks stop before the
// member rejoins.
func (d *distributed) Revoke(ctx context.Context, units []cluster.Unit) {
	d.mu.Lock()
	for _, u := range units {
		delete(d.owned, u)
	}
	d.mu.Unlock()
	if err := d.w.Sync(ctx); err != nil {
		d.log.Warn("stop revoked tasks", "err", err)
	}
	d.report(ctx)
}

// Assign implements cluster.Handler.
func (d *distributed) Assign(ctx context.Context, a cluster.Assignment) error {
	if err := d.store.WaitFor(ctx, a.ConfigOffset); err != nil {
		return err
	}
	d.mu.Lock()
	d.owned = map[cluster.Unit]bool{}
	for _, u := range a.Assigned {
		d.owned[u] = true
	}
	d.gen = a.Generation
	d.mu.Unlock()
	err := d.w.Sync(ctx)
	d.report(ctx)
	return err
}

// reportInterval is how often a worker compares the states of what it runs
// with what it last wrote to the status topic.
const reportInterval = time.Second

// reportTimeout bounds one report.
const reportTimeout = 15 * time.Second

// report writes to the status topic the states of the connectors and
// tasks this worker runs that changed since it last wrote them.
// A unit it wrote before and no longer runs becomes UNASSIGNED, and once
// its connector is deleted, every status of that connector is deleted.
func (d *distributed) report(ctx context.Context) {
	// A worker that leaves still reports what it gives up; a Kafka that
	// does not answer must not hold the shutdown.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), reportTimeout)
	defer cancel()
	d.reportMu.Lock()
	defer d.reportMu.Unlock()
	d.mu.Lock()
	gen := d.gen
	d.mu.Unlock()

	running := map[store.StatusKey]store.Status{}
	for _, name := range d.w.Connectors() {
		st, err := d.w.Status(name)
		if err != nil {
			continue // deleted meanwhile
		}
		if d.owns(name, cluster.ConnectorUnit) {
			running[store.StatusKey{Connector: name, Task: store.ConnectorUnit}] =
				store.Status{State: st.State, Trace: st.Trace, WorkerID: st.WorkerID}
		}
		for _, ts := range st.Tasks {
			running[store.StatusKey{Connector: name, Task: ts.ID}] =
				store.Status{State: ts.State, Trace: ts.Trace, WorkerID: ts.WorkerID}
		}
	}
	deleted := map[string]bool{}
	for k, was := range d.reported {
		if _, ok := running[k]; ok {
			continue
		}
		if _, err := d.w.Info(k.Connector); err != nil {
			deleted[k.Connector] = true
			delete(d.reported, k)
			continue
		}
		running[k] = store.Status{State: worker.StateUnassigned, WorkerID: was.WorkerID}
	}
	for name := range deleted {
		if err := d.statuses.Delete(ctx, name); err != nil {
			d.log.Warn("delete connector statuses", "connector", name, "err", err)
		}
	}

	for k, st := range running {
		was, ok := d.reported[k]
		if ok && was.State == st.State && was.Trace == st.Trace && was.WorkerID == st.WorkerID {
			continue
		}
		st.Generation = gen
		err := d.statuses.Put(ctx, k, st)
		switch {
		case errors.Is(err, store.ErrStaleStatus):
			d.log.Debug("status not written", "key", k.String(), "err", err)
		case err != nil:
			d.log.Warn("write status", "key", k.String(), "err", err)
			continue // try again at the next report
		}
		if st.State == worker.StateUnassigned {
			delete(d.reported, k)
		} else {
			d.reported[k] = st
		}
	}
}

// status is a connector's status across the cluster, as the status topic
// holds it: the connector's state comes from the worker that runs the
// connector unit, each task's from the worker that runs it. A unit no
// worker reported yet is UNASSIGNED.
func (d *distributed) status(w *worker.Worker, name string) (worker.ConnectorStatus, error) {
	local, err := w.Status(name)
	if err != nil {
		return local, err
	}
	info, err := w.Info(name)
	if err != nil {
		return local, err
	}
	out := worker.ConnectorStatus{Name: name, State: worker.StateUnassigned,
		Type: local.Type, Tasks: []worker.TaskStatus{}}
	if st, ok := d.statuses.Get(store.StatusKey{Connector: name,
		Task: store.ConnectorUnit}); ok {
		out.State, out.WorkerID, out.Trace = st.State, st.WorkerID, st.Trace
	}
	tasks := d.statuses.Tasks(name)
	for i := range info.Tasks {
		st, ok := tasks[i]
		if !ok {
			st.State = worker.StateUnassigned
		}
		out.Tasks = append(out.Tasks, worker.TaskStatus{ID: i, State: st.State,
			WorkerID: st.WorkerID, Trace: st.Trace})
	}
	return out, nil
}

// clusterHerder is the worker as the REST API of a distributed worker
// drives it: statuses come from the status topic, so that every worker
// answers for the whole cluster.
type clusterHerder struct {
	*worker.Worker
	d *distributed
}

// Status implements rest.Herder.
func (h clusterHerder) Status(name string) (worker.ConnectorStatus, error) {
	return h.d.status(h.Worker, name)
}
