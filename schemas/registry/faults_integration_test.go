//go:build integration

package registry

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sr"

	"github.com/tributary-io/tributary/schemas"
)

// cable carries one registry instance's Kafka connections and can be cut,
// which to Kafka looks like the process died: no goodbye to the group,
// only heartbeats that stop.
type cable struct {
	mu    sync.Mutex
	cut   bool
	conns []net.Conn
}

func (c *cable) dial(ctx context.Context, network, host string) (net.Conn, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cut {
		return nil, errors.New("cable cut")
	}
	conn, err := (&net.Dialer{}).DialContext(ctx, network, host)
	if err == nil {
		c.conns = append(c.conns, conn)
	}
	return conn, err
}

func (c *cable) snip() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.cut = true
	for _, conn := range c.conns {
		_ = conn.Close()
	}
}

// startCabled starts an instance whose Kafka connections go through a
// cable.
func startCabled(t *testing.T, brokers []string, topic string) (*Server, *cable) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c := &cable{}
	s, err := Start(ctx, ServerConfig{Brokers: brokers, Topic: topic, Addr: "127.0.0.1:0",
		SessionTimeout: 6 * time.Second, WriteTimeout: 20 * time.Second,
		KafkaOpts: []kgo.Opt{kgo.Dialer(c.dial)}})
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s, c
}

// TestIntegrationTwoInstancesKilledLeader runs two instances over one topic
// of a real Kafka. Twenty clients register at once through both: pairs
// register one schema under one subject through either instance, others
// different schemas under one shared subject. Both instances end up with
// the same subjects, versions and ids. Then the leader dies without
// leaving its group; the survivor has every schema and takes writes once
// the group has noticed.
func TestIntegrationTwoInstancesKilledLeader(t *testing.T) {
	brokers := integrationBrokers(t)
	topic := fmt.Sprintf("_schemas_it_kill_%d", time.Now().UnixNano())
	t.Cleanup(func() { deleteTopic(t, brokers, topic) })
	a, cutA := startCabled(t, brokers, topic)
	b, cutB := startCabled(t, brokers, topic)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	clients := map[*Server]*sr.Client{a: srClient(t, a), b: srClient(t, b)}

	if res := clients[a].SetCompatibility(ctx, sr.SetCompatibility{Level: sr.CompatNone},
		"shared"); res[0].Err != nil {
		t.Fatalf("set shared to NONE: %v", res[0].Err)
	}
	record := func(name string) sr.Schema {
		return sr.Schema{Type: sr.TypeAvro,
			Schema: fmt.Sprintf(`{"type":"record","name":"%s","fields":[]}`, name)}
	}
	const clients2 = 20
	type answer struct {
		subject string
		version int
		id      int
	}
	answers := make([]answer, clients2)
	var wg sync.WaitGroup
	for g := range clients2 {
		via := []*Server{a, b}[g%2]
		wg.Go(func() {
			// Goroutines 2k and 2k+1 send one schema to one subject, one
			// through each instance; the others each send their own
			// schema to the shared subject.
			subject, s := "shared", record(fmt.Sprintf("Own%d", g))
			if g < clients2/2 {
				subject, s = fmt.Sprintf("pair%d", g/2), record(fmt.Sprintf("Pair%d", g/2))
			}
			ss, err := clients[via].CreateSchema(ctx, subject, s)
			if err != nil {
				t.Errorf("client %d: register %s through %s: %v", g, subject, via.URL(), err)
				return
			}
			answers[g] = answer{subject, ss.Version, ss.ID}
		})
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	ids := map[int]string{}
	versions := map[int]bool{}
	for g, ans := range answers {
		if g < clients2/2 {
			if g%2 == 1 && ans != answers[g-1] {
				t.Errorf("one schema through both instances: %+v and %+v", answers[g-1], ans)
			}
			if ans.version != 1 {
				t.Errorf("client %d: %s version %d, want 1", g, ans.subject, ans.version)
			}
			if g%2 == 1 {
				continue
			}
		} else {
			if versions[ans.version] || ans.version < 1 || ans.version > clients2/2 {
				t.Errorf("client %d: shared version %d repeated or out of [1, %d]", g,
					ans.version, clients2/2)
			}
			versions[ans.version] = true
		}
		if other, dup := ids[ans.id]; dup {
			t.Errorf("client %d: id %d already given to %s", g, ans.id, other)
		}
		ids[ans.id] = ans.subject
	}
	if len(ids) != 15 {
		t.Errorf("%d distinct ids, want 15 (5 pairs and 10 own schemas)", len(ids))
	}

	// Both views agree on every subject, version and id.
	var all []sr.SubjectSchema
	waitFor(t, func() bool {
		sa, errA := clients[a].AllSchemas(ctx)
		sb, errB := clients[b].AllSchemas(ctx)
		all = sa
		return errA == nil && errB == nil && len(sa) == 15 && reflect.DeepEqual(sa, sb)
	})
	t.Logf("both instances hold the same %d subject versions under %d ids", len(all), len(ids))

	// The leader dies: its HTTP server and its Kafka connections go at
	// once, without leaving the group.
	// While the group rebalances, as when the second instance joined only
	// after the writes, neither leads.
	waitFor(t, func() bool { return a.lead.isLeader() != b.lead.isLeader() })
	leader, survivor, cut := a, b, cutA
	if b.lead.isLeader() {
		leader, survivor, cut = b, a, cutB
	}
	cut.snip()
	_ = leader.http.Close()

	// The survivor answers a write once the group has expired the dead
	// leader's session and elected it; until then it keeps trying.
	var next sr.SubjectSchema
	killed := time.Now()
	deadline := killed.Add(45 * time.Second)
	for attempt := 1; ; attempt++ {
		var err error
		next, err = clients[survivor].CreateSchema(ctx, "after", record("After"))
		if err == nil {
			t.Logf("the survivor took a write %v after the leader died, at attempt %d",
				time.Since(killed).Round(time.Millisecond), attempt)
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("register after the leader died: %v", err)
		}
		time.Sleep(200 * time.Millisecond)
	}
	if next.ID != len(ids)+1 || next.Version != 1 {
		t.Errorf("register after the leader died = id %d version %d, want id %d version 1",
			next.ID, next.Version, len(ids)+1)
	}
	if !survivor.lead.isLeader() {
		t.Error("the survivor does not lead")
	}
	after, err := clients[survivor].AllSchemas(ctx)
	if err != nil || len(after) != len(all)+1 ||
		!reflect.DeepEqual(withoutSubject(after, "after"), all) {
		t.Errorf("after the leader died the survivor holds %d schemas (%v), want the %d "+
			"before and one more", len(after), err, len(all))
	}

	// A new instance reads the same state from the topic.
	fresh := startInstance(t, brokers, topic)
	got, err := srClient(t, fresh).AllSchemas(ctx)
	if err != nil || !reflect.DeepEqual(got, after) {
		t.Errorf("a new instance holds %d schemas (%v), want the survivor's %d",
			len(got), err, len(after))
	}
}

func withoutSubject(ss []sr.SubjectSchema, subject string) []sr.SubjectSchema {
	var out []sr.SubjectSchema
	for _, s := range ss {
		if s.Subject != subject {
			out = append(out, s)
		}
	}
	return out
}

func srClient(t *testing.T, s *Server) *sr.Client {
	t.Helper()
	cl, err := sr.NewClient(sr.URLs(s.URL()), sr.HTTPClient(testClient))
	if err != nil {
		t.Fatal(err)
	}
	return cl
}

// TestIntegrationConverterRegistryFaults checks how the converter, through
// Tributary's registry client, sees a real registry that is down, that
// refuses credentials, or that is read-only: the first is transient, and
// decoding resumes once the registry is back; the others fail at once
// with a permanent error that says why.
func TestIntegrationConverterRegistryFaults(t *testing.T) {
	brokers := integrationBrokers(t)
	topic := fmt.Sprintf("_schemas_it_faults_%d", time.Now().UnixNano())
	t.Cleanup(func() { deleteTopic(t, brokers, topic) })
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()

	reg := startInstance(t, brokers, topic)
	writer, err := NewClient([]string{reg.URL()})
	if err != nil {
		t.Fatal(err)
	}
	s, err := writer.Register(ctx, "faults-value", actionV1)
	if err != nil {
		t.Fatal(err)
	}
	value := actionRecords(1)[0]
	framed, err := schemas.NewConverter(nil).Encode(s, value)
	if err != nil {
		t.Fatal(err)
	}

	// Down: a transient error, not remembered.
	addr := strings.TrimPrefix(reg.URL(), "http://")
	if err := reg.Close(); err != nil {
		t.Fatal(err)
	}
	client, err := NewClient([]string{reg.URL()}, WithTimeout(2*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	conv := schemas.NewConverter(client)
	_, _, err = conv.Decode(ctx, framed)
	if !schemas.IsTransient(err) || !errors.Is(err, schemas.ErrRegistryUnavailable) {
		t.Fatalf("decode with the registry down: err = %v, want ErrRegistryUnavailable", err)
	}
	back, err := Start(ctx, ServerConfig{Brokers: brokers, Topic: topic, Addr: addr})
	if err != nil {
		t.Fatalf("restart the registry on %s: %v", addr, err)
	}
	t.Cleanup(func() { _ = back.Close() })
	_, got, err := conv.Decode(ctx, framed)
	if err != nil || !reflect.DeepEqual(got, value) {
		t.Errorf("decode once the registry is back = %v, %v; want %v", got, err, value)
	}

	// Refused credentials: 401 without, 403 with the wrong ones.
	guard := authProxy(t, back.URL(), "reader", "secret")
	for _, tt := range []struct {
		name   string
		opts   []ClientOption
		status string
	}{
		{"no credentials", nil, "HTTP 401"},
		{"wrong password", []ClientOption{WithBasicAuth("reader", "nope")}, "HTTP 403"},
	} {
		cl, err := NewClient([]string{guard}, tt.opts...)
		if err != nil {
			t.Fatal(err)
		}
		_, _, err = schemas.NewConverter(cl).Decode(ctx, framed)
		if !errors.Is(err, ErrAccessDenied) || schemas.IsTransient(err) ||
			!strings.Contains(err.Error(), tt.status) {
			t.Errorf("%s: err = %v, want permanent ErrAccessDenied with %s", tt.name, err,
				tt.status)
		}
	}
	allowed, err := NewClient([]string{guard}, WithBasicAuth("reader", "secret"))
	if err != nil {
		t.Fatal(err)
	}
	if _, got, err := schemas.NewConverter(allowed).Decode(ctx, framed); err != nil ||
		!reflect.DeepEqual(got, value) {
		t.Errorf("decode with the right credentials = %v, %v", got, err)
	}

	// Read-only: reads and re-registering known content go on, a new
	// schema is refused for good.
	modes := srClient(t, back).SetMode(ctx, sr.ModeReadOnly)
	if modes[0].Err != nil {
		t.Fatalf("set READONLY: %v", modes[0].Err)
	}
	ro, err := NewClient([]string{back.URL()})
	if err != nil {
		t.Fatal(err)
	}
	if _, got, err := schemas.NewConverter(ro).Decode(ctx, framed); err != nil ||
		!reflect.DeepEqual(got, value) {
		t.Errorf("decode from a read-only registry = %v, %v", got, err)
	}
	if again, err := ro.Register(ctx, "faults-value", actionV1); err != nil || again.ID != s.ID {
		t.Errorf("register known content when read-only = %+v, %v; want id %d", again, err,
			s.ID)
	}
	_, err = ro.Register(ctx, "faults-value", actionV2)
	if err == nil || schemas.IsTransient(err) || !strings.Contains(err.Error(), "42205") ||
		!strings.Contains(err.Error(), "read-only") {
		t.Errorf("register a new schema when read-only: err = %v, want permanent 42205 "+
			"read-only", err)
	}
}

// authProxy serves target behind HTTP basic authentication, answering 401
// without credentials and 403 with wrong ones, as a registry behind an
// authenticating gateway does.
func authProxy(t *testing.T, target, user, password string) string {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	proxy := httputil.NewSingleHostReverseProxy(u)
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotUser, gotPassword, ok := r.BasicAuth()
		w.Header().Set("Content-Type", mediaV1)
		switch {
		case !ok:
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = w.Write([]byte(`{"error_code":401,"message":"Unauthorized"}`))
		case gotUser != user || gotPassword != password:
			w.WriteHeader(http.StatusForbidden)
			_, _ = w.Write([]byte(`{"error_code":403,"message":"Forbidden"}`))
		default:
			proxy.ServeHTTP(w, r)
		}
	}), ReadHeaderTimeout: 5 * time.Second}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return "http://" + ln.Addr().String()
}
