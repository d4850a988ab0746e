package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// ProtocolType is the group protocol type of Tributary's workers, the one
// Kafka Connect's workers use; Protocol names the metadata layout.
const (
	ProtocolType = "connect"
	Protocol     = "tributary-v1"
)

// Config is a Member's settings.
type Config struct {
	// Group is the workers' group.id.
	Group string
	// URL is this worker's REST URL, which other workers forward to.
	URL               string
	HeartbeatInterval time.Duration
	SessionTimeout    time.Duration
	RebalanceTimeout  time.Duration
	// Delay is scheduled.rebalance.max.delay.ms.
	Delay  time.Duration
	Logger *slog.Logger
	// Now returns the time; nil uses time.Now.
	Now func() time.Time
}

// Assignment is what a member receives in a rebalance.
type Assignment struct {
	Generation int32  `json:"-"`
	Leader     string `json:"leader"`
	LeaderURL  string `json:"leader_url"`
	// ConfigOffset is the config topic offset the leader assigned from;
	// a member reads the topic up to it before starting anything.
	ConfigOffset int64 `json:"config_offset"`
	// Assigned is everything the member runs from now on.
	Assigned []Unit `json:"assigned"`
	// Revoked is what the member must stop.
	Revoked []Unit `json:"revoked"`
}

// Handler is the worker side of a Member. The Member calls it from the
// goroutine running Run, one call at a time.
type Handler interface {
	// ConfigOffset returns the config topic offset the worker has read.
	ConfigOffset() int64
	// Work is called on the leader: it reads the config topic up to at
	// least offset and returns every unit that should run and the offset
	// read. An error fails the rebalance, which is retried.
	Work(ctx context.Context, offset int64) ([]Unit, int64, error)
	// Revoke stops units before the member rejoins, so that another member
	// may start them. It returns once they are stopped or abandoned.
	Revoke(ctx context.Context, units []Unit)
	// Assign starts what a's Assigned holds that is not running yet, after
	// reading the config topic up to a.ConfigOffset.
	Assign(ctx context.Context, a Assignment) error
}

// metadata is a member's JoinGroup metadata.
type metadata struct {
	URL          string `json:"url"`
	ConfigOffset int64  `json:"config_offset"`
	Owned        []Unit `json:"owned"`
}

// Member is one worker's membership in the cluster's group. Run drives
// it; the other methods may be called from any goroutine.
type Member struct {
	client *kgo.Client
	cfg    Config
	h      Handler
	log    *slog.Logger

	// Owned by Run's goroutine.
	id       string
	gen      int32
	owned    []Unit
	previous map[Unit]string // leader only
	held     map[Unit]time.Time
	// nextRebalance is, on the leader, when held work is due.
	nextRebalance time.Duration

	// rejoin asks Run's goroutine for a rebalance.
	rejoin chan struct{}

	mu       sync.Mutex
	leader   string
	leaderOf string // URL of the leader
}

// NewMember returns a member of cfg.Group that talks to Kafka through
// client; h runs what the member is assigned.
func NewMember(client *kgo.Client, cfg Config, h Handler) *Member {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Member{client: client, cfg: cfg, h: h, log: cfg.Logger,
		rejoin: make(chan struct{}, 1)}
}

// Rebalance asks for a rebalance, as a worker does when the connectors or
// their task counts changed; requests made before it starts coalesce.
func (m *Member) Rebalance() {
	select {
	case m.rejoin <- struct{}{}:
	default:
	}
}

// Leader returns the leader's member id and REST URL, empty before the
// first rebalance completes.
func (m *Member) Leader() (id, url string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.leader, m.leaderOf
}

// IsLeader reports whether this member leads the group.
func (m *Member) IsLeader() bool {
	id, _ := m.Leader()
	return id != "" && id == m.memberID()
}

func (m *Member) memberID() string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.id
}

// Run joins the group and runs rebalances until ctx is done; it then
// revokes everything the member runs and leaves the group, so that the
// others take the work over at once. It returns nil after a clean leave.
func (m *Member) Run(ctx context.Context) error {
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil {
		err := m.round(ctx)
		if err == nil || ctx.Err() != nil {
			backoff = 100 * time.Millisecond
			continue
		}
		m.log.Warn("cluster rebalance failed", "group", m.cfg.Group, "err", err)
		if errors.Is(err, kerr.UnknownMemberID) || errors.Is(err, kerr.IllegalGeneration) ||
			errors.Is(err, kerr.FencedInstanceID) {
			// The group forgot us: what we run may already be given away.
			m.revokeAll(ctx, "lost membership")
			m.setID("")
		}
		select {
		case <-ctx.Done():
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 5*time.Second)
	}
	m.revokeAll(context.WithoutCancel(ctx), "leaving")
	return m.leave(context.WithoutCancel(ctx))
}

// round runs one rebalance, then heartbeats until the next one is due.
func (m *Member) round(ctx context.Context) error {
	join, err := m.join(ctx)
	if err != nil {
		return err
	}
	var plans []kmsg.SyncGroupRequestGroupAssignment
	if join.LeaderID == join.MemberID {
		if plans, err = m.lead(ctx, join.Members); err != nil {
			return err
		}
	} else {
		m.previous, m.held, m.nextRebalance = nil, nil, 0
	}
	a, err := m.sync(ctx, plans)
	if err != nil {
		return err
	}
	a.Generation = m.gen
	m.mu.Lock()
	m.leader, m.leaderOf = join.LeaderID, a.LeaderURL
	m.mu.Unlock()
	m.log.Info("cluster assignment", "group", m.cfg.Group, "generation", m.gen,
		"leader", a.Leader == m.id, "assigned", len(a.Assigned), "revoked", len(a.Revoked))

	// Stopping and starting tasks may take longer than the session: keep
	// the membership alive meanwhile.
	hbCtx, stopHeartbeat := context.WithCancel(ctx)
	type beat struct {
		due bool
		err error
	}
	hb := make(chan beat, 1)
	go func() {
		due, err := m.heartbeat(hbCtx)
		hb <- beat{due, err}
	}()
	if len(a.Revoked) > 0 {
		m.h.Revoke(ctx, a.Revoked)
	}
	m.owned = a.Assigned
	err = m.h.Assign(ctx, a)
	stopHeartbeat()
	b := <-hb
	switch {
	case err != nil:
		return fmt.Errorf("apply assignment of generation %d: %w", m.gen, err)
	case b.err != nil:
		return b.err
	case b.due || len(a.Revoked) > 0:
		return nil // rejoin at once, so that revoked units move
	}
	_, err = m.heartbeat(ctx)
	return err
}

func (m *Member) setID(id string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.id = id
}

// join sends JoinGroup until the coordinator accepts the member.
func (m *Member) join(ctx context.Context) (*kmsg.JoinGroupResponse, error) {
	md, err := json.Marshal(metadata{
		URL: m.cfg.URL, ConfigOffset: m.h.ConfigOffset(), Owned: m.owned,
	})
	if err != nil {
		return nil, fmt.Errorf("encode group metadata: %w", err)
	}
	for {
		req := kmsg.NewPtrJoinGroupRequest()
		req.Group = m.cfg.Group
		req.SessionTimeoutMillis = int32(m.cfg.SessionTimeout.Milliseconds())
		req.RebalanceTimeoutMillis = int32(m.cfg.RebalanceTimeout.Milliseconds())
		req.MemberID = m.memberID()
		req.ProtocolType = ProtocolType
		p := kmsg.NewJoinGroupRequestProtocol()
		p.Name, p.Metadata = Protocol, md
		req.Protocols = append(req.Protocols, p)
		resp, err := req.RequestWith(ctx, m.client)
		if err != nil {
			return nil, fmt.Errorf("join group %s: %w", m.cfg.Group, err)
		}
		err = kerr.ErrorForCode(resp.ErrorCode)
		if errors.Is(err, kerr.MemberIDRequired) {
			m.setID(resp.MemberID)
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("join group %s: %w", m.cfg.Group, err)
		}
		m.setID(resp.MemberID)
		m.gen = resp.Generation
		return resp, nil
	}
}

// lead computes the assignment of every member.
func (m *Member) lead(ctx context.Context, joined []kmsg.JoinGroupResponseMember,
) ([]kmsg.SyncGroupRequestGroupAssignment, error) {
	var owned []Owned
	urls := map[string]string{}
	var top int64 = -1
	for _, j := range joined {
		var md metadata
		if err := json.Unmarshal(j.ProtocolMetadata, &md); err != nil {
			return nil, fmt.Errorf("decode metadata of member %s: %w", j.MemberID, err)
		}
		owned = append(owned, Owned{Member: j.MemberID, Units: md.Owned})
		urls[j.MemberID] = md.URL
		top = max(top, md.ConfigOffset)
	}
	work, offset, err := m.h.Work(ctx, top)
	if err != nil {
		return nil, fmt.Errorf("read the cluster's connectors: %w", err)
	}
	res := Assign(Plan{
		Members: owned, Work: work, Previous: m.previous, Held: m.held,
		Now: m.cfg.Now(), Delay: m.cfg.Delay,
	})
	m.previous, m.held = map[Unit]string{}, res.Held
	var out []kmsg.SyncGroupRequestGroupAssignment
	for _, o := range owned {
		for _, u := range res.Assigned[o.Member] {
			m.previous[u] = o.Member
		}
		a := Assignment{
			Leader: m.id, LeaderURL: urls[m.id], ConfigOffset: offset,
			Assigned: res.Assigned[o.Member], Revoked: res.Revoked[o.Member],
		}
		data, err := json.Marshal(a)
		if err != nil {
			return nil, fmt.Errorf("encode assignment: %w", err)
		}
		sa := kmsg.NewSyncGroupRequestGroupAssignment()
		sa.MemberID, sa.MemberAssignment = o.Member, data
		out = append(out, sa)
	}
	// Held units keep the previous owner, so that they stay recognised as a
	// departed member's until their deadline.
	for u := range res.Held {
		m.previous[u] = "departed"
	}
	if res.Next > 0 {
		m.log.Info("cluster work held for a departed worker", "group", m.cfg.Group,
			"units", len(res.Held), "delay", res.Next)
	}
	m.nextRebalance = res.Next
	return out, nil
}

// sync sends SyncGroup and decodes this member's assignment.
func (m *Member) sync(ctx context.Context, plans []kmsg.SyncGroupRequestGroupAssignment,
) (Assignment, error) {
	req := kmsg.NewPtrSyncGroupRequest()
	req.Group, req.Generation, req.MemberID = m.cfg.Group, m.gen, m.id
	req.ProtocolType, req.Protocol = kmsg.StringPtr(ProtocolType), kmsg.StringPtr(Protocol)
	req.GroupAssignment = plans
	resp, err := req.RequestWith(ctx, m.client)
	if err == nil {
		err = kerr.ErrorForCode(resp.ErrorCode)
	}
	if err != nil {
		return Assignment{}, fmt.Errorf("sync group %s: %w", m.cfg.Group, err)
	}
	var a Assignment
	if err := json.Unmarshal(resp.MemberAssignment, &a); err != nil {
		return Assignment{}, fmt.Errorf("decode assignment of group %s: %w", m.cfg.Group, err)
	}
	return a, nil
}

// heartbeat keeps the membership alive until a rebalance is due (true):
// the group rebalances, one is asked for, or, on the leader, held work's
// delay ends; or until ctx ends (false).
func (m *Member) heartbeat(ctx context.Context) (bool, error) {
	tick := time.NewTicker(m.cfg.HeartbeatInterval)
	defer tick.Stop()
	var due <-chan time.Time
	if m.nextRebalance > 0 {
		t := time.NewTimer(m.nextRebalance)
		defer t.Stop()
		due = t.C
	}
	for {
		select {
		case <-ctx.Done():
			return false, nil
		case <-due:
			return true, nil // rejoining makes the group rebalance
		case <-m.rejoin:
			return true, nil
		case <-tick.C:
		}
		req := kmsg.NewPtrHeartbeatRequest()
		req.Group, req.Generation, req.MemberID = m.cfg.Group, m.gen, m.id
		resp, err := req.RequestWith(ctx, m.client)
		if err == nil {
			err = kerr.ErrorForCode(resp.ErrorCode)
		}
		if errors.Is(err, kerr.RebalanceInProgress) {
			return true, nil
		}
		if err != nil && ctx.Err() == nil {
			return false, fmt.Errorf("heartbeat group %s: %w", m.cfg.Group, err)
		}
	}
}

// revokeAll stops everything the member runs.
func (m *Member) revokeAll(ctx context.Context, why string) {
	if len(m.owned) == 0 {
		return
	}
	m.log.Info("cluster work revoked", "group", m.cfg.Group, "units", len(m.owned), "why", why)
	m.h.Revoke(ctx, slices.Clone(m.owned))
	m.owned = nil
}

// leave tells the coordinator the member is gone, so the group rebalances
// without waiting for the session to time out.
func (m *Member) leave(ctx context.Context) error {
	id := m.memberID()
	if id == "" {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req := kmsg.NewPtrLeaveGroupRequest()
	req.Group, req.MemberID = m.cfg.Group, id
	lm := kmsg.NewLeaveGroupRequestMember()
	lm.MemberID = id
	req.Members = append(req.Members, lm)
	resp, err := req.RequestWith(ctx, m.client)
	if err == nil {
		err = kerr.ErrorForCode(resp.ErrorCode)
	}
	if err != nil && !errors.Is(err, kerr.UnknownMemberID) {
		return fmt.Errorf("leave group %s: %w", m.cfg.Group, err)
	}
	m.setID("")
	return nil
}
