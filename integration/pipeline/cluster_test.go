//go:build integration

package pipeline

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tributary-io/tributary/integration/registrytest"
	"github.com/tributary-io/tributary/integration/services"
)

// startClusterWorker starts `tributary worker` in distributed mode, in
// group, on a REST port of its own.
func startClusterWorker(t *testing.T, name, group, registryURL string) (*workerProc, string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	must(t, err)
	addr := ln.Addr().String()
	ln.Close()
	dir := t.TempDir()
	spool := filepath.Join(dir, "spool")
	workerYAML := fmt.Sprintf(`bootstrap.servers: %s
group.id: %s
listeners: http://%s
schema.registry.url: %s
registry.listener: ""
config.storage.topic: %s-configs
config.storage.replication.factor: 1
offset.storage.topic: %s-offsets
offset.storage.replication.factor: 1
status.storage.topic: %s-status
status.storage.replication.factor: 1
scheduled.rebalance.max.delay.ms: 3000
inter.worker.key: %s-key
heartbeat.interval.ms: 500
session.timeout.ms: 6000
offset.flush.interval.ms: 1000
consumer.session.timeout.ms: 6000
task.shutdown.graceful.timeout.ms: 10000
spool.dir: %s
`, strings.Join(env.KafkaBrokers, ","), group, addr, registryURL, group, group, group, group,
		spool)
	must(t, os.WriteFile(filepath.Join(dir, "worker.yaml"), []byte(workerYAML), 0o600))
	p := &workerProc{t: t, name: name, dir: dir, spool: spool,
		args: []string{"worker", "--config", filepath.Join(dir, "worker.yaml")}}
	p.start()
	t.Cleanup(func() {
		if p.cmd.ProcessState == nil {
			p.kill()
		}
		if t.Failed() {
			reportLog(t, name, p.logText())
		}
	})
	return p, "http://" + addr
}

// clusterStatus is GET /connectors/{name}/status as a worker answers it.
type clusterStatus struct {
	Connector struct {
		State    string `json:"state"`
		WorkerID string `json:"worker_id"`
	} `json:"connector"`
	Tasks []struct {
		ID       int    `json:"id"`
		State    string `json:"state"`
		WorkerID string `json:"worker_id"`
	} `json:"tasks"`
}

// statusOf returns connector's status as the worker at url reports it,
// false when it does not answer.
func statusOf(url, connector string) (clusterStatus, bool) {
	var st clusterStatus
	resp, err := http.Get(url + "/connectors/" + connector + "/status")
	if err != nil {
		return st, false
	}
	defer resp.Body.Close()
	ok := resp.StatusCode == http.StatusOK && json.NewDecoder(resp.Body).Decode(&st) == nil
	return st, ok
}

// owners returns which worker runs each task of st, from the status of
// one worker, or "" when the connector or a task is not RUNNING on one of
// live.
func owners(st clusterStatus, n int, live map[string]bool) (map[int]string, string) {
	if st.Connector.State != "RUNNING" || !live[st.Connector.WorkerID] {
		return nil, fmt.Sprintf("connector %s on %q", st.Connector.State,
			st.Connector.WorkerID)
	}
	out := map[int]string{}
	for _, ts := range st.Tasks {
		if ts.State != "RUNNING" || !live[ts.WorkerID] {
			return nil, fmt.Sprintf("task %d %s on %q", ts.ID, ts.State, ts.WorkerID)
		}
		out[ts.ID] = ts.WorkerID
	}
	if len(out) != n {
		return nil, fmt.Sprintf("tasks %v, want %d", out, n)
	}
	for id := range n {
		if _, ok := out[id]; !ok {
			return nil, fmt.Sprintf("tasks %v, want ids 0 to %d", out, n-1)
		}
	}
	return out, ""
}

// spread polls until every worker at urls reports, for the whole cluster,
// the connector and its n tasks RUNNING, each on one of these workers,
// all of them the same way, with shares that differ by at most one. A
// worker reports its own REST address as worker_id, so a task of a
// stopped or killed worker counts only once it moved.
func spread(t *testing.T, connector string, n int, urls ...string) {
	t.Helper()
	live := map[string]bool{}
	for _, u := range urls {
		live[strings.TrimPrefix(u, "http://")] = true
	}
	var last string
	defer func() {
		if t.Failed() {
			t.Logf("last status seen: %s", last)
		}
	}()
	eventually(t, 2*time.Minute, "tasks spread over the workers", func() bool {
		var first map[int]string
		for _, u := range urls {
			st, ok := statusOf(u, connector)
			if !ok {
				last = u + " does not answer"
				return false
			}
			own, why := owners(st, n, live)
			if own == nil {
				last = u + ": " + why
				return false
			}
			if first != nil && !maps.Equal(first, own) {
				last = fmt.Sprintf("%s sees %v, %s sees %v", urls[0], first, u, own)
				return false
			}
			first = own
		}
		shares := map[string][]int{}
		for id := range n {
			shares[first[id]] = append(shares[first[id]], id)
		}
		lo, hi := n, 0
		for w := range live {
			lo, hi = min(lo, len(shares[w])), max(hi, len(shares[w]))
		}
		last = fmt.Sprint(shares)
		return hi-lo <= 1
	})
	t.Logf("tasks per worker: %s", last)
}

// clusterRun is a sink connector with six tasks on three distributed
// workers, over a topic of six partitions holding the first bookings.
type clusterRun struct {
	t                     *testing.T
	ctx                   context.Context
	topic, bucket, regURL string
	name                  string
	procs                 []*workerProc
	urls                  []string
}

func startClusterRun(t *testing.T) *clusterRun {
	t.Helper()
	env = services.Require(t)
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	t.Cleanup(cancel)
	r := &clusterRun{t: t, ctx: ctx, topic: newTopic(t, 6), bucket: newBucket(t),
		regURL: registrytest.Start(t, env)}
	group := fmt.Sprintf("tributary-cluster-%d", time.Now().UnixNano())
	loadBookings(t, ctx, r.topic, r.regURL, 40000)
	for i := range 3 {
		p, u := startClusterWorker(t, fmt.Sprintf("w%d", i+1), group, r.regURL)
		r.procs, r.urls = append(r.procs, p), append(r.urls, u)
	}

	r.name = "cluster-" + r.topic
	body, _ := json.Marshal(map[string]any{"name": r.name, "config": sinkConfig(r.topic,
		r.bucket, map[string]string{"tasks.max": "6", "flush.size": "3000",
			"rotate.schedule.interval.ms": "2000"})})
	eventually(t, time.Minute, "the REST API to create the connector", func() bool {
		resp, err := http.Post(r.urls[1]+"/connectors", "application/json",
			bytes.NewReader(body))
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusCreated
	})
	spread(t, r.name, 6, r.urls...)
	return r
}

// finish loads the rest of the bookings, waits until the connector
// committed them all, checks the bucket with the sink oracle and stops the
// workers cleanly.
func (r *clusterRun) finish() {
	r.t.Helper()
	loadBookingsFrom(r.t, r.ctx, r.topic, r.regURL, 40000)
	waitCommitted(r.t, "connect-"+r.name, r.topic, 5*time.Minute)
	if rep := verifyBucket(r.t, r.topic, r.bucket); rep.Objects == 0 {
		r.t.Fatal("the oracle saw no objects")
	}
	for _, p := range r.procs {
		p.stop()
	}
}

// TestClusterMovesTasks runs three distributed workers, creates a sink
// connector with six tasks through one worker's REST API, kills a worker
// with SIGKILL, checks that its tasks move to the others and come back
// when it restarts, and then checks with the sink oracle that every
// offset landed exactly once.
func TestClusterMovesTasks(t *testing.T) {
	r := startClusterRun(t)

	// Writes through any worker: at least one of the three is not the
	// leader and forwards, signed, to it.
	for i, action := range []string{"pause", "resume", "pause", "resume"} {
		u := r.urls[i%len(r.urls)]
		req, _ := http.NewRequest(http.MethodPut, u+"/connectors/"+r.name+"/"+action, nil)
		resp, err := http.DefaultClient.Do(req)
		must(t, err)
		resp.Body.Close()
		if resp.StatusCode != http.StatusAccepted {
			t.Fatalf("%s through %s: %d, want 202", action, u, resp.StatusCode)
		}
	}
	spread(t, r.name, 6, r.urls...)

	// A crashed worker's tasks move to the others after the delay.
	r.procs[2].kill()
	spread(t, r.name, 6, r.urls[0], r.urls[1])

	// Back again, it takes its share.
	r.procs[2].start()
	spread(t, r.name, 6, r.urls...)
	r.finish()
}

// TestClusterRollingRestarts restarts every worker in turn, two rounds
// with SIGTERM and two with SIGKILL, the last without waiting for the
// tasks to settle, then checks with the sink oracle that every offset
// landed exactly once.
func TestClusterRollingRestarts(t *testing.T) {
	r := startClusterRun(t)
	for round := range 4 {
		for _, i := range rand.Perm(len(r.procs)) {
			if round < 2 {
				r.procs[i].stop()
			} else {
				r.procs[i].kill()
			}
			r.procs[i].start()
			if round < 3 {
				spread(t, r.name, 6, r.urls...)
			}
		}
	}
	spread(t, r.name, 6, r.urls...)
	r.finish()
}
