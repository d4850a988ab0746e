package main

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sync"

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
	store  *store.Kafka
	client *kgo.Client
	member *cluster.Member
	log    *slog.Logger
	w      *worker.Worker // set before run

	mu    sync.Mutex
	owned map[cluster.Unit]bool
	units []cluster.Unit // the work as last computed, to notice changes
}

// openDistributed creates the storage topics when missing and opens the
// shared config store.
func openDistributed(ctx context.Context, wc *config.Worker, log *slog.Logger,
) (*distributed, error) {
	client, err := kgo.NewClient(kgo.SeedBrokers(wc.BootstrapServers...))
	if err != nil {
		return nil, fmt.Errorf("kafka client: %w", err)
	}
	adm := kadm.NewClient(client)
	for _, t := range []store.Topic{
		{Name: wc.OffsetStorageTopic, Partitions: int32(wc.OffsetStoragePartitions),
			ReplicationFactor: int16(wc.OffsetStorageReplication)},
		{Name: wc.StatusStorageTopic, Partitions: int32(wc.StatusStoragePartitions),
			ReplicationFactor: int16(wc.StatusStorageReplication)},
	} {
		if err := store.EnsureTopic(ctx, adm, t); err != nil {
			client.Close()
			return nil, err
		}
	}
	st, err := store.OpenKafka(ctx, wc.ConfigStorageTopic, int16(wc.ConfigStorageReplication),
		log, kgo.SeedBrokers(wc.BootstrapServers...))
	if err != nil {
		client.Close()
		return nil, err
	}
	d := &distributed{store: st, client: client, log: log, owned: map[cluster.Unit]bool{}}
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
// for a rebalance.
func (d *distributed) run(ctx context.Context) error {
	done := make(chan error, 1)
	go func() { done <- d.member.Run(ctx) }()
	for {
		progress := d.store.Progress()
		select {
		case <-ctx.Done():
			return <-done
		case <-progress:
		}
		if err := d.w.Sync(ctx); err != nil && ctx.Err() == nil {
			d.log.Warn("sync connectors", "err", err)
		}
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

// close closes the store and the client; call after run returned.
func (d *distributed) close() {
	d.store.Close()
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
	d.mu.Unlock()
	return d.w.Sync(ctx)
}
