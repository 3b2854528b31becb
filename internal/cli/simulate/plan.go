package simulate

import (
	"context"
	"os"
	"strings"
	gosync "sync"
	"time"

	"github.com/miscim/miscim/internal/config"
	"github.com/miscim/miscim/internal/entra/mapping"
	"github.com/miscim/miscim/internal/entra/provlog"
	entrasync "github.com/miscim/miscim/internal/entra/sync"
)

// PlanOptions are simulate's options with the defaults of its flags, for
// a command that plans the next cycle as `simulate --dry-run` does (diff
// --plan): the policies that shape what a cycle sends, the target's
// settings and the state file.
func PlanOptions(cfg config.Resolved, getenv func(string) string, now func() time.Time) *Options {
	return &Options{
		Config: cfg, Getenv: getenv, Now: now,
		Dialect: string(entrasync.DialectLegacy), MemberBatch: 1, Concurrency: entrasync.DefaultConcurrency,
		Interval: entrasync.DefaultInterval, Retries: entrasync.DefaultRetries,
		BooleanValues: string(entrasync.BooleanVerbatim), SkipScope: string(entrasync.SkipAllCauses),
		TombstoneRename: true, EscrowSchedule: "30m,1h,2h,4h,8h,16h,24h",
	}
}

// Plan is what the next cycle would send, as a dry run decides it.
type Plan struct {
	// State is the state file the plan was made from ("" when there is
	// none yet: the next cycle is an initial one).
	State string
	// Requests are every request in the order the cycle would send them,
	// the probe first; Objects the same requests by the object they are
	// for, with the outcome the dry run recorded.
	Requests []entrasync.Request
	Objects  []PlannedObject
	Result   *entrasync.Result
	// Users and Groups are the connector space as the cycle found it,
	// keyed by entrasync.SourceKey.
	Users, Groups map[string]*entrasync.Entry
}

// PlannedObject is one object's evaluation in a dry run: its record's
// identities and outcome, and the requests it would send.
type PlannedObject struct {
	// Kind is the object kind; Members is set for a group's membership
	// record (reference resolution).
	Kind     mapping.ObjectKind
	Members  bool
	SourceID string
	TargetID string
	Name     string
	Action   provlog.Action
	Status   provlog.Status
	Requests []entrasync.Request
}

// PlanNext plans the next cycle exactly as `simulate --dry-run` runs it —
// sync.Run in dry-run mode on a copy of the state file of the target o
// names (--state, else where simulate keeps it), with o's policies and
// the tenant mp maps — and returns its requests by object. It sends
// nothing and changes nothing. The objects are evaluated one at a time,
// so that each request is known to belong to the record that follows it
// (the decisions do not depend on the order).
func PlanNext(ctx context.Context, o *Options, mp *mapping.Mapper) (*Plan, error) {
	w := locate(o)
	dialect, _ := entrasync.ParseDialect(o.Dialect)
	if w.flag && !o.dialectSet {
		dialect = entrasync.DialectFlag
	}
	st, cleanup, err := openState(ctx, w, true)
	if err != nil {
		return nil, err
	}
	defer cleanup()
	p := &Plan{}
	if _, err := os.Stat(w.state); err == nil {
		p.State = w.state
	}
	if p.Users, err = st.Entries(ctx, mapping.Users, false); err != nil {
		return nil, stateError(err)
	}
	if p.Groups, err = st.Entries(ctx, mapping.Groups, false); err != nil {
		return nil, stateError(err)
	}
	now := o.Now
	if now == nil {
		now = time.Now
	}
	col := &planCollector{plan: p}
	opts := entrasync.Options{
		State: st, Mapper: mp, Sink: col, Policy: policyOf(o, dialect),
		Concurrency: 1, Retries: -1, DeleteThreshold: o.DeleteThreshold, AllowDeletes: o.AllowDeletes,
		DryRun: true, Interval: o.Interval, App: appOf(mp), Now: now,
		OnExchange: col.exchange,
	}
	res, err := entrasync.Run(ctx, opts)
	if err != nil {
		return nil, runError(err)
	}
	p.Result = res
	return p, nil
}

// planCollector files a dry run's requests under the records that follow
// them; membership PATCHes go to their group's membership record by the
// group id in their path.
type planCollector struct {
	mu      gosync.Mutex
	plan    *Plan
	pending []entrasync.Request
	members map[string][]entrasync.Request
}

func (c *planCollector) exchange(x entrasync.Exchange) {
	c.mu.Lock()
	defer c.mu.Unlock()
	req := x.Request
	c.plan.Requests = append(c.plan.Requests, req)
	switch req.Purpose {
	case entrasync.PurposeProbe:
	case entrasync.PurposeMembers:
		if c.members == nil {
			c.members = map[string][]entrasync.Request{}
		}
		id := strings.TrimPrefix(req.Path, "/Groups/")
		c.members[id] = append(c.members[id], req)
	default:
		c.pending = append(c.pending, req)
	}
}

func (c *planCollector) Add(_ context.Context, r provlog.Record) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	po := PlannedObject{Kind: mapping.Users, SourceID: r.SourceIdentity.ID, TargetID: r.TargetIdentity.ID, Name: r.SourceIdentity.DisplayName,
		Action: r.ProvisioningAction, Status: r.ProvisioningStatusInfo.Status}
	if strings.EqualFold(r.SourceIdentity.IdentityType, "group") {
		po.Kind = mapping.Groups
	}
	for _, st := range r.ProvisioningSteps {
		if st.ProvisioningStepType == provlog.StepReferenceResolution {
			po.Members = true
		}
	}
	if po.Members {
		po.Requests = c.members[po.TargetID]
		delete(c.members, po.TargetID)
	} else {
		po.Requests, c.pending = c.pending, nil
	}
	c.plan.Objects = append(c.plan.Objects, po)
	return nil
}

// SetDialect sets the dialect as --dialect does: chosen, it overrides
// ?aadOptscim062020 on the URL.
func (o *Options) SetDialect(d string) { o.Dialect, o.dialectSet = d, true }

// ConnectorSpace reads the connector space of the target o names, from a
// copy of its state file as a dry run reads it; nil maps (and no error)
// when there is no state file.
func ConnectorSpace(ctx context.Context, o *Options) (path string, users, groups map[string]*entrasync.Entry, err error) {
	w := locate(o)
	if _, err := os.Stat(w.state); err != nil {
		return "", nil, nil, nil
	}
	st, cleanup, err := openState(ctx, w, true)
	if err != nil {
		return "", nil, nil, err
	}
	defer cleanup()
	if users, err = st.Entries(ctx, mapping.Users, false); err != nil {
		return "", nil, nil, stateError(err)
	}
	if groups, err = st.Entries(ctx, mapping.Groups, false); err != nil {
		return "", nil, nil, stateError(err)
	}
	return w.state, users, groups, nil
}
