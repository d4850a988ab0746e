package cluster

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"go.uber.org/goleak"
)

// fakeWorker is a Handler that records what its member runs.
type fakeWorker struct {
	work []Unit

	mu      sync.Mutex
	running map[Unit]bool
	starts  int
}

func (f *fakeWorker) ConfigOffset() int64 { return 0 }

func (f *fakeWorker) Work(context.Context, int64) ([]Unit, int64, error) {
	return f.work, 0, nil
}

func (f *fakeWorker) Revoke(_ context.Context, units []Unit) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, u := range units {
		delete(f.running, u)
	}
}

func (f *fakeWorker) Assign(_ context.Context, a Assignment) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, u := range a.Assigned {
		if !f.running[u] {
			f.running[u] = true
			f.starts++
		}
	}
	return nil
}

func (f *fakeWorker) snapshot() ([]Unit, int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var us []Unit
	for u := range f.running {
		us = append(us, u)
	}
	slices.SortFunc(us, compareUnits)
	return us, f.starts
}

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// testLogger logs to stderr under -v and nowhere otherwise.
func testLogger() *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	return slog.New(slog.DiscardHandler)
}

// testCluster runs members of one group against kfake.
type testCluster struct {
	t       *testing.T
	brokers []string
	work    []Unit
	delay   time.Duration
	group   string
	members map[string]*testMember
}

type testMember struct {
	m      *Member
	w      *fakeWorker
	cl     *kgo.Client
	cancel context.CancelFunc
	done   chan error
}

func newTestCluster(t *testing.T, work []Unit, delay time.Duration) *testCluster {
	kc, err := kfake.NewCluster(kfake.NumBrokers(1),
		kfake.GroupMinSessionTimeout(100*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(kc.Close)
	tc := &testCluster{t: t, brokers: kc.ListenAddrs(), work: work, delay: delay,
		group: "workers", members: map[string]*testMember{}}
	t.Cleanup(func() {
		for name := range tc.members {
			tc.stop(name, true)
		}
	})
	return tc
}

func (tc *testCluster) start(name string) {
	cl, err := kgo.NewClient(kgo.SeedBrokers(tc.brokers...))
	if err != nil {
		tc.t.Fatal(err)
	}
	w := &fakeWorker{work: tc.work, running: map[Unit]bool{}}
	m := NewMember(cl, Config{
		Group: tc.group, URL: "http://" + name, HeartbeatInterval: 50 * time.Millisecond,
		SessionTimeout: 6 * time.Second, RebalanceTimeout: 6 * time.Second, Delay: tc.delay,
		Logger: testLogger().With("member", name),
	}, w)
	ctx, cancel := context.WithCancel(context.Background())
	tm := &testMember{m: m, w: w, cl: cl, cancel: cancel, done: make(chan error, 1)}
	go func() { tm.done <- m.Run(ctx) }()
	tc.members[name] = tm
}

// stop ends a member: cleanly (revoke and leave) or as a crash would,
// closing its client without leaving.
func (tc *testCluster) stop(name string, clean bool) {
	tm := tc.members[name]
	delete(tc.members, name)
	if !clean {
		tm.cl.Close() // requests fail from now on: no leave reaches Kafka
	}
	tm.cancel()
	err := <-tm.done
	if clean {
		if err != nil {
			tc.t.Errorf("member %s: %v", name, err)
		}
		tm.cl.Close()
	}
}

// waitBalanced polls until every unit runs on exactly one member and the
// members' task counts differ by at most one.
func (tc *testCluster) waitBalanced() map[string][]Unit {
	tc.t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		got, why := tc.balanced()
		if why == "" {
			return got
		}
		if time.Now().After(deadline) {
			tc.t.Fatalf("not balanced: %s", why)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (tc *testCluster) balanced() (map[string][]Unit, string) {
	got := map[string][]Unit{}
	runs := map[Unit]int{}
	lo, hi := len(tc.work), 0
	for name, tm := range tc.members {
		us, _ := tm.w.snapshot()
		got[name] = us
		tasks := 0
		for _, u := range us {
			runs[u]++
			if !u.IsConnector() {
				tasks++
			}
		}
		lo, hi = min(lo, tasks), max(hi, tasks)
	}
	for _, u := range tc.work {
		if runs[u] != 1 {
			return got, fmt.Sprintf("%v runs %d times: %s", u, runs[u], showMap(got))
		}
	}
	if hi-lo > 1 {
		return got, fmt.Sprintf("task shares from %d to %d: %s", lo, hi, showMap(got))
	}
	return got, ""
}

func TestMemberJoinLeave(t *testing.T) {
	work := Units(map[string]int{"a": 6})
	tc := newTestCluster(t, work, time.Hour)
	tc.start("w1")
	got := tc.waitBalanced()
	if len(got["w1"]) != 7 {
		t.Fatalf("w1 runs %s, want all 7 units", show(got["w1"]))
	}

	tc.start("w2")
	tc.start("w3")
	before := tc.waitBalanced()
	for name, us := range before {
		if n := len(us); n < 2 || n > 3 {
			t.Fatalf("%s runs %d units: %s", name, n, showMap(before))
		}
	}
	leader := ""
	for name, tm := range tc.members {
		if tm.m.IsLeader() {
			leader = name
		}
	}
	if leader == "" {
		t.Fatal("no member leads")
	}
	_, url := tc.members[leader].m.Leader()
	if url != "http://"+leader {
		t.Fatalf("leader URL %q, want http://%s", url, leader)
	}

	// A clean leave hands the work over after the delay only; with an
	// hour's delay, a newcomer takes it at once instead.
	leaving := "w1"
	if leader == "w1" {
		leaving = "w2"
	}
	_, startsBefore := tc.members[leader].w.snapshot()
	tc.stop(leaving, true)
	tc.start("w4")
	after := tc.waitBalanced()
	if !slices.Equal(after[leader], before[leader]) {
		t.Fatalf("leader's units moved: %s, then %s", show(before[leader]), show(after[leader]))
	}
	if _, starts := tc.members[leader].w.snapshot(); starts != startsBefore {
		t.Fatalf("leader started %d units, want none", starts-startsBefore)
	}
	if !slices.Equal(after["w4"], before[leaving]) {
		t.Fatalf("w4 runs %s, want %s's %s", show(after["w4"]), leaving, show(before[leaving]))
	}
}

func TestMemberCrashHeldThenReassigned(t *testing.T) {
	work := Units(map[string]int{"a": 6})
	tc := newTestCluster(t, work, 1500*time.Millisecond)
	tc.start("w1")
	tc.waitBalanced()
	tc.start("w2")
	tc.start("w3")
	before := tc.waitBalanced()

	// Crash a follower: its units stay unassigned until the session times
	// out and the delay passes, then the others take them.
	victim := ""
	for name, tm := range tc.members {
		if !tm.m.IsLeader() {
			victim = name
		}
	}
	tc.stop(victim, false)
	after := tc.waitBalanced()
	for name, us := range after {
		for _, u := range before[name] {
			if !slices.Contains(us, u) {
				t.Fatalf("%s lost %v: %s, then %s", name, u, show(before[name]), show(us))
			}
		}
	}
}
