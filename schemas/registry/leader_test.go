package registry

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"
)

func TestTwoInstancesOneLeader(t *testing.T) {
	playTwoInstances(t, newCluster(t), "_schemas")
}

// startInstance starts a registry listening on a free port.
func startInstance(t *testing.T, brokers []string, topic string) *Server {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s, err := Start(ctx, ServerConfig{Brokers: brokers, Topic: topic, Addr: "127.0.0.1:0",
		SessionTimeout: 6 * time.Second})
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// testClient opens a connection per request: a pooled client may dial a
// connection it never uses, which holds a server's graceful Close for
// seconds.
var testClient = &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}

// post sends a JSON request to a registry URL and decodes the answer.
func post(t *testing.T, method, url, body string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", mediaV1)
	resp, err := testClient.Do(req)
	if err != nil {
		t.Errorf("%s %s: %v", method, url, err)
		return 0, nil
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var m map[string]any
	_ = json.Unmarshal(raw, &m)
	return resp.StatusCode, m
}

// playTwoInstances runs two instances over one topic: registrations
// through both at once must agree, and closing the leader must lose
// nothing and leave the other taking writes.
func playTwoInstances(t *testing.T, brokers []string, topic string) {
	a, b := startInstance(t, brokers, topic), startInstance(t, brokers, topic)
	const n = 12
	schemaOf := func(i int) string {
		return schemaBody(fmt.Sprintf(`{"type":"record","name":"R%d","fields":[]}`, i))
	}

	// Every schema goes in twice at once, through each instance under its
	// own subject: the two must get the same id, and ids must not collide.
	ids := make([][2]float64, n)
	var wg sync.WaitGroup
	for i := range n {
		for j, s := range []*Server{a, b} {
			wg.Go(func() {
				url := fmt.Sprintf("%s/subjects/s%d-%d/versions", s.URL(), i, j)
				status, m := post(t, "POST", url, schemaOf(i))
				if status != http.StatusOK {
					t.Errorf("register through instance %d: %d %v", j, status, m)
					return
				}
				ids[i][j], _ = m["id"].(float64)
			})
		}
	}
	wg.Wait()
	seen := map[float64]int{}
	for i, pair := range ids {
		if pair[0] != pair[1] || pair[0] == 0 {
			t.Errorf("schema %d got ids %v through the two instances, want one id", i, pair)
		}
		if other, dup := seen[pair[0]]; dup {
			t.Errorf("schemas %d and %d share id %v", other, i, pair[0])
		}
		seen[pair[0]] = i
	}
	if t.Failed() {
		return
	}

	// Both views agree, read from each instance: each has what was written
	// through it at once, and what went through the other soon after.
	agree := func(s *Server, report bool) bool {
		t.Helper()
		ok := true
		for i := range n {
			for j := range 2 {
				status, m := post(t, "POST", fmt.Sprintf("%s/subjects/s%d-%d", s.URL(), i, j), schemaOf(i))
				if status != http.StatusOK || m["id"] != ids[i][0] || m["version"] != 1.0 {
					ok = false
					if report {
						t.Errorf("%s: lookup s%d-%d = %d %v, want id %v version 1",
							s.URL(), i, j, status, m, ids[i][0])
					}
				}
			}
		}
		return ok
	}
	waitFor(t, func() bool { return agree(a, false) && agree(b, false) })
	check := func(s *Server) { agree(s, true) }

	// The second instance may join the election only now, after every
	// write went through the first: while the group rebalances, neither
	// leads.
	waitFor(t, func() bool { return a.lead.isLeader() != b.lead.isLeader() })
	leader, follower := a, b
	if b.lead.isLeader() {
		leader, follower = b, a
	}
	if err := leader.Close(); err != nil {
		t.Fatalf("close the leader: %v", err)
	}

	// The follower takes over: nothing is lost and it takes writes.
	check(follower)
	status, m := post(t, "POST", follower.URL()+"/subjects/after/versions", schemaOf(n))
	if status != http.StatusOK || m["id"] != float64(n+1) {
		t.Errorf("register after the leader closed = %d %v, want id %d", status, m, n+1)
	}
	if !follower.lead.isLeader() {
		t.Error("the remaining instance does not lead")
	}

	// A new instance rebuilds the same view from the topic.
	c := startInstance(t, brokers, topic)
	check(c)
}

// TestCatchUpReadsAgainInANewTerm takes leadership away and back while a
// new leader catches up: the records of the leader in between may follow
// the catch-up's own, so the catch-up reads the topic again before the
// leader writes.
func TestCatchUpReadsAgainInANewTerm(t *testing.T) {
	c := newKfake(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s, err := NewServer(ctx, ServerConfig{Brokers: c.ListenAddrs()})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = s.Close() }()
	waitFor(t, s.lead.isLeader)

	parts := map[string][]int32{s.cfg.Topic: {0}}
	var writes atomic.Int32
	c.ControlKey(int16(kmsg.Produce), func(kmsg.Request) (kmsg.Response, error, bool) {
		c.KeepControl()
		if writes.Add(1) == 1 {
			// Another instance led between the group's two rebalances.
			s.lead.revoked(ctx, nil, parts)
			s.lead.assigned(ctx, nil, parts)
		}
		return nil, nil, false
	})
	if err := s.lead.catchUp(ctx, s.store); err != nil {
		t.Fatal(err)
	}
	if n := writes.Load(); n != 2 {
		t.Errorf("the catch-up wrote %d records, want 2: one in each term", n)
	}
	s.lead.mu.Lock()
	synced := s.lead.synced
	s.lead.mu.Unlock()
	if !synced {
		t.Error("the leader is not synced after its catch-up")
	}
}
