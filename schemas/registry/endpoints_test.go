package registry

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/tributary-io/tributary/internal/compacted"
)

// Schemas that import one another through references.
const (
	addressV1 = `{"type":"record","name":"Address","namespace":"acme","fields":[{"name":"city","type":"string"}]}`
	customer  = `{"type":"record","name":"Customer","namespace":"acme",` +
		`"fields":[{"name":"home","type":"acme.Address"}]}`
)

func refsBody(text string, refs string) string {
	return `{"schema":` + mustJSON(text) + `,"references":` + refs + `}`
}

// TestServerEndpoints covers the endpoints and error codes the other
// scripted tests leave out: references and what they guard, the schema
// list, normalize, the single-version compatibility check and the small
// endpoints.
func TestServerEndpoints(t *testing.T) {
	_, ts := startServer(t, newCluster(t), "_schemas")
	addrRef := `[{"name":"acme.Address","subject":"address","version":1}]`
	latestRef := `[{"name":"acme.Address","subject":"address","version":-1}]`
	play(t, ts, []step{
		{"GET", "/", "", 200, 0, map[string]any{}},
		{"POST", "/", `{}`, 200, 0, map[string]any{}},
		{"GET", "/contexts", "", 200, 0, []any{"."}},
		{"GET", "/v1/metadata/version", "", 200, 0, map[string]any{"version": serverVersion}},
		{"DELETE", "/contexts/.", "", 204, 0, nil},
		{"DELETE", "/contexts/.other", "", 404, 40401, nil},

		// References: resolved against registered versions, pinned, served.
		{"POST", "/subjects/address/versions", schemaBody(addressV1), 200, 0, id(1)},
		{"POST", "/subjects/customer/versions", refsBody(customer, addrRef), 200, 0, id(2)},
		{"POST", "/subjects/customer2/versions", refsBody(customer, latestRef), 200, 0, id(2)},
		{"GET", "/schemas/ids/2", "", 200, 0, map[string]any{"schema": customer, "references": []any{
			map[string]any{"name": "acme.Address", "subject": "address", "version": 1.0}}}},
		{"POST", "/subjects/customer", refsBody(customer, addrRef), 200, 0, id(2)},
		{"POST", "/subjects/customer", schemaBody(customer), 422, 42201, nil},
		{"POST", "/subjects/x/versions", refsBody(customer, `[{"name":"acme.Address","subject":"address"}]`),
			422, 42201, nil},
		{"POST", "/subjects/x/versions", refsBody(customer,
			`[{"name":"acme.Address","subject":"address","version":9}]`), 422, 42201, nil},
		{"GET", "/subjects/address/versions/1/referencedby", "", 200, 0, []any{2.0}},
		{"GET", "/subjects/address/versions/latest/referencedby", "", 200, 0, []any{2.0}},
		{"GET", "/subjects/customer/versions/1/referencedby", "", 200, 0, []any{}},
		{"GET", "/subjects/address/versions/3/referencedby", "", 404, 40402, nil},
		{"DELETE", "/subjects/address/versions/1", "", 422, 42206, nil},
		{"DELETE", "/subjects/address", "", 422, 42206, nil},
		// The importers go, softly: a soft delete of the import is allowed,
		// a permanent one is not while soft-deleted importers remain.
		{"DELETE", "/subjects/customer", "", 200, 0, []any{1.0}},
		{"DELETE", "/subjects/customer2", "", 200, 0, []any{1.0}},
		{"GET", "/subjects/address/versions/1/referencedby", "", 200, 0, []any{}},
		{"GET", "/subjects/address/versions/1/referencedby?deleted=true", "", 200, 0, []any{2.0}},
		{"DELETE", "/subjects/address/versions/1", "", 200, 0, 1.0},
		{"DELETE", "/subjects/address/versions/1?permanent=true", "", 422, 42206, nil},
		{"GET", "/schemas/ids/2/schema", "", 200, 0, nil},

		// The schema list and its filters.
		{"POST", "/subjects/orders/versions", schemaBody(orderV1), 200, 0, id(3)},
		{"POST", "/subjects/orders/versions", schemaBody(orderV2), 200, 0, id(4)},
		{"GET", "/schemas", "", 200, 0, []any{
			map[string]any{"subject": "orders", "version": 1.0, "id": 3.0, "schema": canonical(t, orderV1)},
			map[string]any{"subject": "orders", "version": 2.0, "id": 4.0, "schema": canonical(t, orderV2)}}},
		{"GET", "/schemas?latestOnly=true&subjectPrefix=ord", "", 200, 0, []any{
			map[string]any{"subject": "orders", "version": 2.0, "id": 4.0, "schema": canonical(t, orderV2)}}},
		{"GET", "/schemas?subjectPrefix=nothing", "", 200, 0, []any{}},
		{"GET", "/schemas?deleted=true&limit=1&offset=1", "", 200, 0, []any{
			map[string]any{"subject": "customer", "version": 1.0, "id": 2.0, "schema": customer,
				"references": []any{map[string]any{"name": "acme.Address", "subject": "address", "version": 1.0}}}}},
		{"GET", "/subjects?subjectPrefix=cust&deleted=true", "", 200, 0, []any{"customer", "customer2"}},
		{"GET", "/subjects?limit=1", "", 200, 0, []any{"orders"}},
		{"DELETE", "/contexts/.", "", 422, 42211, nil},

		// Compatibility against one version.
		{"POST", "/compatibility/subjects/orders/versions/1", schemaBody(orderV2), 200, 0,
			map[string]any{"is_compatible": true}},
		{"POST", "/compatibility/subjects/orders/versions/latest?verbose=true", schemaBody(clickV1), 200, 0, nil},
		{"POST", "/compatibility/subjects/orders/versions/7", schemaBody(orderV2), 404, 40402, nil},
		{"POST", "/compatibility/subjects/nobody/versions/1", schemaBody(orderV2), 404, 40402, nil},
		{"POST", "/compatibility/subjects/nobody/versions/latest", schemaBody(orderV2), 200, 0,
			map[string]any{"is_compatible": true}},
		{"POST", "/compatibility/subjects/nobody/versions", schemaBody(orderV2), 200, 0,
			map[string]any{"is_compatible": true}},
		{"POST", "/compatibility/subjects/orders/versions/", schemaBody(orderV2), 200, 0,
			map[string]any{"is_compatible": true}},
		{"POST", "/compatibility/subjects/orders/versions/0", schemaBody(orderV2), 422, 42202, nil},
		{"POST", "/compatibility/subjects/orders/versions", schemaBody(`{"type":"record"}`), 422, 42201, nil},

		// normalize=true: aliases sorted, so alias order makes no new schema.
		{"POST", "/subjects/n/versions?normalize=true",
			schemaBody(`{"type":"record","name":"N","aliases":["b","a"],"fields":[]}`), 200, 0, id(5)},
		{"POST", "/subjects/n/versions?normalize=true",
			schemaBody(`{"type":"record","name":"N","aliases":["a","b"],"fields":[]}`), 200, 0, id(5)},
		{"POST", "/subjects/n?normalize=true",
			schemaBody(`{"type":"record","name":"N","aliases":["b","a"],"fields":[]}`), 200, 0, id(5)},
		{"PUT", "/config/n2", `{"compatibility":"NONE","normalize":true}`, 200, 0,
			map[string]any{"compatibility": "NONE", "normalize": true}},
		{"POST", "/subjects/n2/versions",
			schemaBody(`{"type":"record","name":"N","aliases":["b","a"],"fields":[]}`), 200, 0, id(5)},

		// Data contracts are refused, each with its code.
		{"POST", "/subjects/x/versions", `{"schema":"\"int\"","ruleSet":{"domainRules":[]}}`, 422, 42210, nil},
		{"POST", "/subjects/x/versions", `{"schema":"\"int\"","metadata":{"properties":{}}}`, 422, 42201, nil},
		{"POST", "/subjects/x/versions", schemaBody(`"` + strings.Repeat("x", 2<<20) + `"`), 422, 42201, nil},
		{"POST", "/subjects/x/versions", schemaBody(`{"type":"enum","name":"Big","symbols":["` +
			strings.Repeat("A", 1<<20) + `"]}`), 422, 42209, nil},
	})

	// A verbose check of an unparseable schema answers why, with 200.
	status, got := call(t, ts, "POST", "/compatibility/subjects/orders/versions?verbose=true",
		schemaBody(`{"type":"record"}`))
	m, _ := got.(map[string]any)
	msgs, _ := m["messages"].([]any)
	if status != 200 || m["is_compatible"] != false || len(msgs) != 1 {
		t.Errorf("verbose check of an invalid schema = %d %v, want 200, false and its reason", status, got)
	}
	status, got = call(t, ts, "POST", "/compatibility/subjects/orders/versions/latest?verbose=true",
		schemaBody(clickV1))
	m, _ = got.(map[string]any)
	msgs, _ = m["messages"].([]any)
	if status != 200 || m["is_compatible"] != false || len(msgs) < 3 ||
		!strings.Contains(fmt.Sprint(msgs), "{oldSchemaVersion: 2}") {
		t.Errorf("verbose check of an incompatible schema = %d %v", status, got)
	}
	if status, raw := callRaw(t, ts, "GET", "/schemas/ids/2/schema", "", ""); status != 200 ||
		string(raw) != customer {
		t.Errorf("GET /schemas/ids/2/schema = %d %s, want %s", status, raw, customer)
	}
}

// TestServerStoreErrors checks the 500 answers: a write that Kafka does
// not take in time (50002), no leader to forward to (50004), a leader
// that fails the forwarded request (50003), and how a store failure maps
// to its code.
func TestServerStoreErrors(t *testing.T) {
	t.Run("timeout", func(t *testing.T) {
		c := newKfake(t)
		s, err := NewServer(context.Background(), ServerConfig{Brokers: c.ListenAddrs(),
			WriteTimeout: 500 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		ts := httptest.NewServer(s)
		defer func() { ts.Close(); _ = s.Close() }()
		waitFor(t, s.lead.isLeader)
		c.Close()
		play(t, ts, []step{{"POST", "/subjects/a/versions", schemaBody(orderV1), 500, 50002, nil}})
	})

	t.Run("no leader", func(t *testing.T) {
		// Neither instance has a URL to be forwarded to, so the follower,
		// whichever the election made it, knows of no leader.
		brokers := newCluster(t)
		_, follower := settledPair(t, brokers, "", "")
		play(t, follower, []step{
			{"POST", "/subjects/a/versions", schemaBody(orderV1), 500, 50004, nil},
			{"PUT", "/config", `{"compatibility":"NONE"}`, 500, 50004, nil},
		})
	})

	t.Run("forwarding", func(t *testing.T) {
		// Each instance advertises a URL whose server drops every request.
		drop := func() string {
			ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				conn, _, _ := w.(http.Hijacker).Hijack()
				_ = conn.Close()
			}))
			t.Cleanup(ts.Close)
			return ts.URL
		}
		_, follower := settledPair(t, newCluster(t), drop(), drop())
		play(t, follower, []step{{"POST", "/subjects/a/versions", schemaBody(orderV1), 500, 50003, nil}})
	})

	t.Run("classification", func(t *testing.T) {
		for _, tt := range []struct {
			err  error
			code int
		}{
			{context.DeadlineExceeded, 50002},
			{fmt.Errorf("write: %w", kerr.MessageTooLarge), 42209},
			{&net.OpError{Op: "dial", Err: errors.New("refused")}, 50001},
			{compacted.ErrClosed, 50001},
		} {
			if got := writeFailure(tt.err); got.code != tt.code {
				t.Errorf("writeFailure(%v) = %d, want %d", tt.err, got.code, tt.code)
			}
		}
	})
}

// settledPair starts two instances advertising urls a and b and returns
// the one the election made leader and the other, each served over HTTP,
// once the group has both members and is stable: a member that joins
// later may take the lead, so who leads is only known then.
func settledPair(t *testing.T, brokers []string, a, b string) (leader, follower *httptest.Server) {
	t.Helper()
	var servers [2]*Server
	var hs [2]*httptest.Server
	for i, url := range []string{a, b} {
		s, err := NewServer(context.Background(), ServerConfig{Brokers: brokers,
			AdvertisedURL: url, WriteTimeout: 500 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		servers[i], hs[i] = s, httptest.NewServer(s)
		t.Cleanup(func() { hs[i].Close(); _ = s.Close() })
	}
	lead := -1
	waitFor(t, func() bool {
		groups, err := servers[0].lead.adm.DescribeGroups(context.Background(),
			servers[0].cfg.GroupID)
		g := groups[servers[0].cfg.GroupID]
		l0, l1 := servers[0].lead.isLeader(), servers[1].lead.isLeader()
		if err != nil || g.State != "Stable" || len(g.Members) != 2 || l0 == l1 {
			return false
		}
		lead = map[bool]int{true: 0, false: 1}[l0]
		return true
	})
	return hs[lead], hs[1-lead]
}
