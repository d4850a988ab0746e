package registry

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tributary-io/tributary/internal/compacted"
)

// headerForward marks a write a follower forwarded to the leader. The
// leader serves it; an instance that is not the leader any more refuses it
// rather than forwarding it again.
const headerForward = "X-Forward"

// headerOffset carries, on the leader's answer to a forwarded write, the
// offset of the last record the write made. The follower waits until its
// own view has applied it before relaying the answer, so that a client
// reads its writes from the instance it wrote through.
const headerOffset = "X-Registry-Offset"

// offsetKey is the context key under which commit records the offset of
// the last record it wrote, for headerOffset.
type offsetKey struct{}

// offsetWriter sets headerOffset from the recorded offset when the
// answer starts.
type offsetWriter struct {
	http.ResponseWriter
	offset *int64
}

func (w offsetWriter) WriteHeader(status int) {
	if *w.offset >= 0 {
		w.Header().Set(headerOffset, strconv.FormatInt(*w.offset, 10))
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w offsetWriter) Write(b []byte) (int, error) { return w.ResponseWriter.Write(b) }

// recordOffset notes the offset of a write for the request ctx belongs to.
func recordOffset(ctx context.Context, offset int64) {
	if p, ok := ctx.Value(offsetKey{}).(*int64); ok {
		*p = offset
	}
}

// leadership elects the one instance that writes, through a Kafka consumer
// group over the schemas topic. The topic has one partition, so exactly one
// member of the group is assigned something, and that member is the
// leader. Each member's client id is the URL it serves on, which is how
// followers find where to forward writes: any member can describe the
// group and see who holds the partition.
//
// Leadership changes through the group's eager rebalances: the old leader
// gives up the partition before the new one is assigned it, so two live
// instances do not both lead. One that stalls past the session timeout may
// still write once after being replaced; the view then keeps the first
// record for an id, and the late writer answers its client with a store
// error to retry.
type leadership struct {
	cl    *kgo.Client
	adm   *kadm.Client
	group string
	topic string
	self  string // advertised URL; "" when this instance cannot be reached
	log   *slog.Logger

	mu      sync.Mutex
	leading bool
	term    int    // counts the times this instance was elected
	synced  bool   // has read the whole topic since it started leading
	leader  string // URL of the leader last found; "" when unknown

	syncMu sync.Mutex // one catch-up at a time
}

// clientIDPrefix starts the client id of group members; the advertised URL
// follows it.
const clientIDPrefix = "tributary-registry "

func startLeadership(cfg ServerConfig) (*leadership, error) {
	l := &leadership{group: cfg.GroupID, topic: cfg.Topic, self: cfg.AdvertisedURL, log: cfg.Logger}
	opts := append([]kgo.Opt{
		kgo.SeedBrokers(cfg.Brokers...),
		kgo.ClientID(clientIDPrefix + cfg.AdvertisedURL),
		kgo.ConsumerGroup(cfg.GroupID),
		kgo.ConsumeTopics(cfg.Topic),
		kgo.Balancers(kgo.RangeBalancer()),
		kgo.DisableAutoCommit(),
		kgo.SessionTimeout(cfg.SessionTimeout),
		kgo.HeartbeatInterval(cfg.SessionTimeout / 10),
		kgo.OnPartitionsAssigned(l.assigned),
		kgo.OnPartitionsRevoked(l.revoked),
		kgo.OnPartitionsLost(l.revoked),
	}, cfg.KafkaOpts...)
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return nil, fmt.Errorf("create leader election client: %w", err)
	}
	// Membership is all this client is for: it never fetches records.
	cl.PauseFetchTopics(cfg.Topic)
	l.cl, l.adm = cl, kadm.NewClient(cl)
	return l, nil
}

func (l *leadership) assigned(_ context.Context, _ *kgo.Client, parts map[string][]int32) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.leader = ""
	if len(parts[l.topic]) > 0 && !l.leading {
		l.leading, l.synced = true, false
		l.term++
		l.log.Info("schema registry leader elected", "url", l.self, "why", "assigned")
	}
}

func (l *leadership) revoked(_ context.Context, _ *kgo.Client, parts map[string][]int32) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.leader = ""
	if len(parts[l.topic]) > 0 && l.leading {
		l.leading = false
		l.log.Info("schema registry leadership given up", "url", l.self, "why", "revoked")
	}
}

func (l *leadership) isLeader() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.leading
}

// catchUp makes a new leader read the whole topic before its first write,
// so that it assigns ids and versions from everything its predecessor
// wrote. It reads back a record of its own, as at start.
func (l *leadership) catchUp(ctx context.Context, st *compacted.Follower) error {
	l.syncMu.Lock()
	defer l.syncMu.Unlock()
	for {
		l.mu.Lock()
		done, term := l.synced, l.term
		l.mu.Unlock()
		if done {
			return nil
		}
		if err := readBack(ctx, st); err != nil {
			return err
		}
		// Leadership may have moved away and back meanwhile, and the
		// records of the leader in between follow our own: the read counts
		// only for the term it started in.
		l.mu.Lock()
		again := l.leading && l.term != term
		l.synced = l.leading && l.term == term
		l.mu.Unlock()
		if !again {
			return nil
		}
	}
}

// await waits until this instance leads, or another one is known to, and
// returns that one's URL ("" when this instance leads).
func (l *leadership) await(ctx context.Context) (string, error) {
	for {
		l.mu.Lock()
		leading, known := l.leading, l.leader
		l.mu.Unlock()
		switch {
		case leading:
			return "", nil
		case known != "":
			return known, nil
		}
		url, err := l.describe(ctx)
		if url != "" && url != l.self {
			l.mu.Lock()
			l.leader = url
			l.mu.Unlock()
			return url, nil
		}
		select {
		case <-ctx.Done():
			if err == nil {
				err = ctx.Err()
			}
			return "", err
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func (l *leadership) describe(ctx context.Context) (string, error) {
	groups, err := l.adm.DescribeGroups(ctx, l.group)
	if err != nil {
		return "", fmt.Errorf("describe group %s: %w", l.group, err)
	}
	for _, m := range groups[l.group].Members {
		c, ok := m.Assigned.AsConsumer()
		if !ok {
			continue
		}
		for _, t := range c.Topics {
			url := strings.TrimPrefix(m.ClientID, clientIDPrefix)
			if t.Topic == l.topic && len(t.Partitions) > 0 && strings.HasPrefix(url, "http") {
				return url, nil
			}
		}
	}
	return "", nil
}

// forget drops the leader's URL after it failed to answer.
func (l *leadership) forget() {
	l.mu.Lock()
	l.leader = ""
	l.mu.Unlock()
}

// close leaves the group, which hands leadership to another instance at
// once instead of after the session timeout.
func (l *leadership) close() {
	l.cl.Close()
}

// leaderOnly serves a write on the leader and forwards it from a follower.
// A write that arrives before any instance leads waits for the election.
func (s *Server) leaderOnly(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), s.cfg.WriteTimeout)
		defer cancel()
		var leader string
		var err error
		if r.Header.Get(headerForward) == "" {
			leader, err = s.lead.await(ctx)
		} else if !s.lead.isLeader() {
			err = errors.New("forwarded to an instance that does not lead")
		}
		if leader != "" {
			s.forward(ctx, w, r, leader)
			return
		}
		switch {
		case err != nil:
			writeError(w, r, errUnknownLeader)
		default:
			if err := s.lead.catchUp(ctx, s.store); err != nil {
				writeError(w, r, writeFailure(err))
				return
			}
			off := int64(-1)
			h(offsetWriter{w, &off}, r.WithContext(context.WithValue(r.Context(), offsetKey{}, &off)))
		}
	}
}

// forwardHeaders are the request headers a forwarded write keeps.
var forwardHeaders = []string{"Content-Type", "Accept", "Authorization"}

// forward relays a write to the leader and its answer to the client. A
// leader that cannot be dialled has gone: the write waits for the next
// election and goes to the new leader, or is served here if that is this
// instance.
func (s *Server) forward(ctx context.Context, w http.ResponseWriter, r *http.Request, leader string) {
	body, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, maxBodySize))
	if err != nil {
		writeError(w, r, &apiError{http.StatusRequestEntityTooLarge, 413, err.Error()})
		return
	}
	for {
		resp, err := s.send(ctx, r, leader, body)
		var op *net.OpError
		if errors.As(err, &op) && op.Op == "dial" && ctx.Err() == nil {
			s.lead.forget()
			if leader, err = s.lead.await(ctx); err != nil {
				writeError(w, r, errUnknownLeader)
				return
			}
			if leader == "" {
				r.Body = io.NopCloser(bytes.NewReader(body))
				r.Header.Set(headerForward, "true")
				s.mux.ServeHTTP(w, r)
				return
			}
			continue
		}
		if err != nil {
			writeError(w, r, errForwarding(err))
			return
		}
		defer resp.Body.Close()
		if off, err := strconv.ParseInt(resp.Header.Get(headerOffset), 10, 64); err == nil {
			if err := s.store.WaitFor(ctx, 0, off); err != nil {
				writeError(w, r, writeFailure(err))
				return
			}
		}
		if ct := resp.Header.Get("Content-Type"); ct != "" {
			w.Header().Set("Content-Type", ct)
		}
		w.WriteHeader(resp.StatusCode)
		_, _ = io.Copy(w, io.LimitReader(resp.Body, maxBodySize))
		return
	}
}

// send makes one forwarded request.
func (s *Server) send(ctx context.Context, r *http.Request, leader string, body []byte) (
	*http.Response, error,
) {
	req, err := http.NewRequestWithContext(ctx, r.Method, leader+r.URL.RequestURI(),
		bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	for _, h := range forwardHeaders {
		if v := r.Header.Get(h); v != "" {
			req.Header.Set(h, v)
		}
	}
	req.Header.Set(headerForward, "true")
	return s.forwarder.Do(req)
}
