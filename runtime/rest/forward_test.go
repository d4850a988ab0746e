package rest

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestForwardToLeader sends writes to a follower, which forwards them,
// signed, to the leader; reads stay on the follower, and the leader
// refuses requests whose signature does not verify.
func TestForwardToLeader(t *testing.T) {
	key := []byte("inter-worker-key")
	leader := newFixture(t, Options{InterWorkerKey: key, BearerToken: "tok",
		Leader: func() (string, bool) { return "", true }})
	follower := newFixture(t, Options{InterWorkerKey: key, BearerToken: "tok",
		Leader: func() (string, bool) { return leader.http.URL, false }})
	auth := []string{"Authorization", "Bearer tok"}

	cfg := map[string]any{"connector.class": "fake", "topics": follower.topic,
		"fake.required": "x"}
	status, body, hdr := follower.do("POST", "/connectors",
		map[string]any{"name": "fwd", "config": cfg}, auth...)
	if status != http.StatusCreated {
		t.Fatalf("forwarded create: %d %s", status, body)
	}
	if loc := hdr.Get("Location"); !strings.HasSuffix(loc, "/connectors/fwd") {
		t.Fatalf("Location %q", loc)
	}
	if got := leader.w.Connectors(); len(got) != 1 || got[0] != "fwd" {
		t.Fatalf("leader holds %v, want [fwd]", got)
	}
	if got := follower.w.Connectors(); len(got) != 0 {
		t.Fatalf("follower created %v itself", got)
	}
	// A read is served where it arrives: this follower's store is its own.
	if status, _, _ := follower.do("GET", "/connectors/fwd", nil, auth...); status != 404 {
		t.Fatalf("read on the follower: %d, want 404 from its own view", status)
	}
	// The caller's credentials travel along and the leader checks them.
	if status, _, _ := follower.do("DELETE", "/connectors/fwd", nil); status != 401 {
		t.Fatalf("forwarded delete without credentials: %d, want 401", status)
	}

	// Signed requests the leader must refuse: a wrong key, a stale time.
	now := strconv.FormatInt(time.Now().UnixMilli(), 10)
	stale := strconv.FormatInt(time.Now().Add(-2*time.Minute).UnixMilli(), 10)
	for _, tc := range []struct {
		name, at, sig string
	}{
		{"wrong key", now, Sign([]byte("other"), "DELETE", "/connectors/fwd", now, nil)},
		{"stale", stale, Sign(key, "DELETE", "/connectors/fwd", stale, nil)},
		{"other path", now, Sign(key, "DELETE", "/connectors/other", now, nil)},
	} {
		status, _, _ := leader.do("DELETE", "/connectors/fwd", nil, "Authorization", "Bearer tok",
			HeaderForwardedAt, tc.at, HeaderSignature, tc.sig)
		if status != http.StatusForbidden {
			t.Errorf("%s: %d, want 403", tc.name, status)
		}
	}
	// A valid signature is served.
	status, _, _ = leader.do("DELETE", "/connectors/fwd", nil, "Authorization", "Bearer tok",
		HeaderForwardedAt, now, HeaderSignature, Sign(key, "DELETE", "/connectors/fwd", now, nil))
	if status != http.StatusNoContent {
		t.Fatalf("signed delete: %d, want 204", status)
	}
}

// TestForwardWithoutLeader answers 409, as Kafka Connect does during a
// rebalance, when no leader is known yet.
func TestForwardWithoutLeader(t *testing.T) {
	f := newFixture(t, Options{InterWorkerKey: []byte("k"),
		Leader: func() (string, bool) { return "", false }})
	status, body, _ := f.do("DELETE", "/connectors/x", nil)
	if status != http.StatusConflict || !strings.Contains(string(body), "rebalance") {
		t.Fatalf("got %d %s, want 409", status, body)
	}
}
