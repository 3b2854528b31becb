package sync

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	gosync "sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"golang.org/x/time/rate"

	"github.com/miscim/miscim/internal/client"
	"github.com/miscim/miscim/internal/entra/mapping"
	"github.com/miscim/miscim/internal/entra/provlog"
	"github.com/miscim/miscim/internal/entra/tenant"
	"github.com/miscim/miscim/internal/scim"
)

// Doer sends a request as given: internal/client's Client. The simulator
// reaches the target through it only (DESIGN §5).
type Doer interface {
	Do(ctx context.Context, r client.RawRequest) (*client.RawResponse, error)
}

// Defaults of the executor.
const (
	// DefaultConcurrency is how many requests Entra was observed to keep
	// in flight (entra-edge-cases §5: "up to 5 requests at a time").
	DefaultConcurrency = 5
	// DefaultRetries is how often a throttled or failed request is
	// retried within a cycle before the object fails and is escrowed.
	DefaultRetries = 3
	// DefaultMaxRetryAfter caps the wait a Retry-After may ask for; a
	// longer one fails the object (TooManyRequests), to be retried on a
	// later cycle.
	DefaultMaxRetryAfter = 60 * time.Second
	// DefaultInterval is the time between cycles (SCIM-TUT: every 40
	// minutes).
	DefaultInterval = 40 * time.Minute
	// QuarantineMaxAge is how long a job stays in quarantine before it is
	// disabled (QUAR: more than four weeks).
	QuarantineMaxAge = 28 * 24 * time.Hour
)

// Thresholds are quarantine's escrow thresholds (QUAR, "subject to
// change"): evaluation starts at Start failures; the job is quarantined
// when more than Proportion of the cycle's objects fail or more than Total
// objects are in escrow (reference failures excluded), or more than Cap
// failures counting reference failures.
type Thresholds struct {
	Start, Total, Cap int
	Proportion        float64
}

// DefaultThresholds are QUAR's: 5,000 / 40,000 / 60,000 / 40 %.
var DefaultThresholds = Thresholds{Start: 5000, Total: 40000, Cap: 60000, Proportion: 0.4}

// Options configure a cycle.
type Options struct {
	// Client sends the requests; unused in a dry run.
	Client Doer
	State  *State
	Mapper *mapping.Mapper
	// Sink receives one record per object evaluated; nil drops them.
	Sink   provlog.Sink
	Policy Policy
	// Concurrency is how many objects are evaluated at once (default 5).
	Concurrency int
	// Rate caps requests per second (0: no cap).
	Rate float64
	// Retries is how often a request answered 429 or 503, or a read or
	// delete answered 500/502/504 or not at all, is retried; 0 is
	// DefaultRetries, negative none.
	Retries       int
	MaxRetryAfter time.Duration
	// DeleteThreshold stages a cycle's disables and deletes when they
	// are more than it (0: no threshold), unless AllowDeletes.
	DeleteThreshold int
	AllowDeletes    bool
	// DryRun decides every object against the connector space alone
	// (a linked object is assumed to hold what was last exported, a new
	// one to match nothing), sends nothing and changes nothing.
	DryRun bool
	// Interval advances the job's clock by at least this much per cycle
	// (default 40m), so that escrow back-off and quarantine run on
	// Entra's schedule when cycles are run back to back.
	Interval   time.Duration
	Thresholds Thresholds
	App        App
	Now        func() time.Time
	Sleep      func(ctx context.Context, d time.Duration) error
	NewID      func() string
	// Progress is called after each object (evaluated, total).
	Progress func(done, total int)
	// OnExchange sees every request and its answer (or, in a dry run,
	// every planned request).
	OnExchange func(Exchange)
}

// CycleKind says which kind of cycle ran.
type CycleKind string

const (
	CycleInitial     CycleKind = "initial"
	CycleIncremental CycleKind = "incremental"
	CycleOnDemand    CycleKind = "onDemand"
)

// Result is what a cycle did.
type Result struct {
	CycleID string
	Seq     int64
	Kind    CycleKind
	JobID   string
	DryRun  bool
	// Restarted says why the cycle restarted the job on its own (the
	// mappings changed); "" when it did not.
	Restarted         string
	Started, Finished time.Time
	// JobTime is the job clock of the cycle.
	JobTime time.Time
	// Counts are the records by action and status.
	Counts map[provlog.Action]map[provlog.Status]int
	// Requests counts the requests sent (retries included) by method.
	Requests map[string]int
	// Objects is how many objects were evaluated (records written).
	Objects int
	// Escrowed is how many objects are in escrow after the cycle; Staged
	// how many removals the deletion threshold held back; Removals how
	// many the cycle counted against it.
	Escrowed, Staged, Removals int
	// ReferenceFailures are memberships that could not be resolved.
	ReferenceFailures int
	// Quarantine is the job's quarantine after the cycle, nil if none.
	Quarantine *Quarantine
	// Interrupted: the cycle was stopped before it evaluated everything
	// (its finished objects are saved; the next run resumes).
	Interrupted bool
}

// Count is the number of records of an action and status.
func (r *Result) Count(a provlog.Action, s provlog.Status) int { return r.Counts[a][s] }

// StatusCount is the number of records of a status.
func (r *Result) StatusCount(s provlog.Status) int {
	n := 0
	for _, m := range r.Counts {
		n += m[s]
	}
	return n
}

// TotalRequests is the number of requests sent.
func (r *Result) TotalRequests() int {
	n := 0
	for _, c := range r.Requests {
		n += c
	}
	return n
}

// Problems reports what makes the run exit 3: a failed object, an object
// in escrow, a quarantine, staged deletes.
// On demand only the objects provisioned count.
func (r *Result) Problems() bool {
	if r.StatusCount(provlog.StatusFailure) > 0 || r.Escrowed > 0 || r.Staged > 0 {
		return true
	}
	return r.Quarantine != nil && r.Kind != CycleOnDemand
}

// ProbeError is a cycle's probe that failed: the cycle was not run.
// Unwrap gives the cause the CLI turns into an exit code: a *scim.Error
// (401/403: authentication), client.ErrUnavailable (the target cannot be
// reached or answers 5xx), or nil (a non-compliant answer).
type ProbeError struct {
	Exchange Exchange
	Msg      string
	err      error
}

func (e *ProbeError) Error() string { return e.Msg }
func (e *ProbeError) Unwrap() error { return e.err }

// JobDisabledError is a job that was in quarantine for more than four
// weeks: Entra disables it (QUAR).
type JobDisabledError struct{ Quarantine *Quarantine }

func (e *JobDisabledError) Error() string {
	return fmt.Sprintf("the provisioning job has been in quarantine since %s (%s) and is disabled, as Entra disables a job quarantined for more than four weeks",
		e.Quarantine.SeriesBegan.Format(time.RFC3339), e.Quarantine.Reason)
}

// OnDemandError is a subject provisioning on demand does not accept.
type OnDemandError struct{ Msg string }

func (e *OnDemandError) Error() string { return e.Msg }

// Run runs one provisioning cycle: the probe, then every object that
// changed since the last synced snapshot (every object in an initial
// cycle), in three phases — users and groups, then group memberships,
// then group deletions — as Entra orders them (HOW: objects first, then
// references; ACQ-G: member disables before DELETE /Groups).
func Run(ctx context.Context, opts Options) (*Result, error) {
	r, err := newRunner(opts)
	if err != nil {
		return nil, err
	}
	return r.run(ctx, nil)
}

// RunOnDemand provisions one object on demand (POD; G-POD): a user, or a
// group of at most five members with those members. Its escrow and
// back-off are cleared, it is evaluated whatever the connector space
// says, in the legacy dialect (COMPAT: the aadOptscim062020 flag does not
// apply to provisioning on demand), and the group's members travel in one
// request.
func RunOnDemand(ctx context.Context, opts Options, ref string) (*Result, error) {
	t := opts.Mapper.Tenant()
	obj, err := t.FindObject(ref)
	if err != nil {
		return nil, &OnDemandError{Msg: err.Error()}
	}
	sel := &onDemand{}
	switch {
	case obj.User != nil:
		u := obj.User
		if u.SoftDeleted() || u.AccountEnabled() == tenant.False {
			return nil, &OnDemandError{Msg: fmt.Sprintf("user %s is %s in Entra: provisioning on demand cannot find disabled or deleted users (POD); run a cycle to disable it", u.UserPrincipalName(), disabledOrDeleted(u))}
		}
		sel.users = []*tenant.User{u}
	default:
		g := obj.Group
		members := g.MemberUsers()
		if len(members) > onDemandMaxMembers {
			return nil, &OnDemandError{Msg: fmt.Sprintf("group %s has %d user members: provisioning on demand takes a group of at most %d (POD); run a cycle instead", g.DisplayName(), len(members), onDemandMaxMembers)}
		}
		sel.users = members
		sel.group = g
	}
	opts.Policy.Dialect = DialectLegacy
	opts.Policy.MemberBatch = onDemandMaxMembers
	r, err := newRunner(opts)
	if err != nil {
		return nil, err
	}
	return r.run(ctx, sel)
}

const onDemandMaxMembers = 5

func disabledOrDeleted(u *tenant.User) string {
	if u.SoftDeleted() {
		return "deleted"
	}
	return "disabled"
}

type onDemand struct {
	users []*tenant.User
	group *tenant.Group
}

// runner is one cycle's execution.
type runner struct {
	opts    Options
	policy  Policy
	mp      *mapping.Mapper
	st      *State
	limiter *rate.Limiter
	retries int

	// stop is the caller's context: cancelling it stops dispatching new
	// objects and retry waits; work is never cancelled, so that the
	// objects in flight finish and are saved.
	stop, work context.Context

	seq     int64
	jobTime time.Time
	meta    recordMeta
	stage   bool

	mu       gosync.Mutex
	users    map[string]*Entry
	groups   map[string]*Entry
	members  map[string][]MemberRef
	res      *Result
	failErr  error
	refFails int

	writer *committer
}

func newRunner(opts Options) (*runner, error) {
	if opts.State == nil || opts.Mapper == nil {
		return nil, errors.New("sync: Options need a State and a Mapper")
	}
	if opts.Client == nil && !opts.DryRun {
		return nil, errors.New("sync: Options need a Client unless DryRun")
	}
	if opts.Concurrency <= 0 {
		opts.Concurrency = DefaultConcurrency
	}
	if opts.MaxRetryAfter <= 0 {
		opts.MaxRetryAfter = DefaultMaxRetryAfter
	}
	if opts.Interval <= 0 {
		opts.Interval = DefaultInterval
	}
	if opts.Thresholds == (Thresholds{}) {
		opts.Thresholds = DefaultThresholds
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Sleep == nil {
		opts.Sleep = sleepCtx
	}
	if opts.NewID == nil {
		opts.NewID = randomID
	}
	if opts.App.Name == "" {
		opts.App.Name = "Metric Insights"
	}
	r := &runner{opts: opts, policy: opts.Policy.withDefaults(), mp: opts.Mapper, st: opts.State}
	switch {
	case opts.Retries == 0:
		r.retries = DefaultRetries
	case opts.Retries > 0:
		r.retries = opts.Retries
	}
	r.limiter = rate.NewLimiter(rate.Inf, 1)
	if opts.Rate > 0 {
		r.limiter = rate.NewLimiter(rate.Limit(opts.Rate), 1)
	}
	return r, nil
}

func randomID() string { return uuid.Must(uuid.NewRandomFromReader(rand.Reader)).String() }

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// item is one object to evaluate.
type item struct {
	kind   mapping.ObjectKind
	key    string
	user   *tenant.User
	group  *tenant.Group
	entry  *Entry
	digest uint64
	// object: the object itself is evaluated; members: its memberships.
	object, members bool
	mdigest         uint64
	removes         bool
	forced          bool
}

func (r *runner) run(ctx context.Context, sel *onDemand) (*Result, error) {
	o := &r.opts
	r.stop, r.work = ctx, context.WithoutCancel(ctx)
	started := o.Now().UTC()
	job := r.st.Job()
	q, err := r.st.Quarantine(ctx)
	if err != nil {
		return nil, err
	}
	res := &Result{Started: started, DryRun: o.DryRun, JobID: job.ID, Counts: map[provlog.Action]map[provlog.Status]int{}, Requests: map[string]int{}}
	r.res = res

	// The job clock: a cycle runs at least an interval after the last.
	jt := started
	if sel != nil {
		if job.Time.After(jt) {
			jt = job.Time
		}
	} else if next := job.Time.Add(o.Interval); !job.Time.IsZero() && next.After(jt) {
		jt = next
	}
	r.jobTime = jt
	res.JobTime = jt
	if q != nil && sel == nil && jt.Sub(q.SeriesBegan) > QuarantineMaxAge {
		return nil, &JobDisabledError{Quarantine: q}
	}

	md := MappingDigest(r.mp.Mapping())
	if sel == nil && job.MappingDigest != 0 && job.MappingDigest != md && !o.DryRun {
		if err := r.st.Reset(ctx, false); err != nil {
			return nil, err
		}
		res.Restarted = "the attribute mappings or scoping filters changed"
		job = r.st.Job()
		q = nil
	}
	res.Kind = CycleIncremental
	switch {
	case sel != nil:
		res.Kind = CycleOnDemand
	case job.Watermark == 0:
		res.Kind = CycleInitial
	}
	res.CycleID = o.NewID()
	r.meta = recordMeta{job: job.ID, cycle: res.CycleID, app: o.App, initiator: systemInitiator, newID: o.NewID}
	if sel != nil {
		r.meta.initiator = onDemandInitiator
	}
	if o.DryRun {
		r.seq = job.Cycles + 1
	} else {
		if r.seq, err = r.st.beginCycle(ctx, res.CycleID, string(res.Kind), started, jt, md, sel == nil); err != nil {
			return nil, err
		}
	}
	res.Seq = r.seq

	finish := func(complete bool) {
		res.Finished = o.Now().UTC()
		if !o.DryRun {
			if err := r.st.finishCycle(ctx, r.seq, res.Finished, complete, sel == nil, summaryOf(res)); err != nil && r.failErr == nil {
				r.failErr = err
			}
		}
	}

	if perr := r.probe(q); perr != nil {
		finish(false)
		return res, perr
	}
	if err := r.load(ctx); err != nil {
		finish(false)
		return res, err
	}
	items := r.scan(sel)
	r.writer = newCommitter(r.st, o.DryRun)

	var removals int
	for i := range items {
		if items[i].removes {
			removals++
		}
	}
	res.Removals = removals
	if sel == nil && o.DeleteThreshold > 0 && removals > o.DeleteThreshold && !o.AllowDeletes {
		r.stage = true
	}
	if !r.stage && !o.DryRun && sel == nil {
		if err := r.st.clearStaged(ctx); err != nil {
			return res, err
		}
	}

	var phaseA, phaseC []*item
	var memberGroups []*item
	for i := range items {
		it := &items[i]
		switch {
		case it.kind == mapping.Groups && it.object && it.removes:
			phaseC = append(phaseC, it)
		case it.object:
			phaseA = append(phaseA, it)
		}
		if it.kind == mapping.Groups && it.members {
			memberGroups = append(memberGroups, it)
		}
	}
	total := len(phaseA) + len(memberGroups) + len(phaseC)
	var doneN atomic.Int64
	progress := func() {
		n := doneN.Add(1)
		if o.Progress != nil {
			o.Progress(int(n), total)
		}
	}

	r.pool(len(phaseA), func(i int) { r.evaluate(phaseA[i]); progress() })
	if r.proceed() {
		mjobs := r.planMembers(memberGroups)
		r.runMembers(mjobs, progress)
	}
	if r.proceed() {
		r.pool(len(phaseC), func(i int) { r.evaluate(phaseC[i]); progress() })
	}
	if err := r.writer.close(); err != nil && r.failErr == nil {
		r.failErr = err
	}
	interrupted := ctx.Err() != nil
	res.Interrupted = interrupted
	res.ReferenceFailures = r.refFails
	res.Escrowed = r.escrowCount(sel, items)
	if err := r.quarantineAfter(ctx, q, sel != nil); err != nil && r.failErr == nil {
		r.failErr = err
	}
	finish(!interrupted && r.failErr == nil)
	if r.failErr != nil {
		return res, r.failErr
	}
	if interrupted {
		return res, ctx.Err()
	}
	return res, nil
}

// proceed reports whether the cycle goes on: not interrupted, no log or
// state failure.
func (r *runner) proceed() bool {
	if r.stop.Err() != nil {
		return false
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.failErr == nil
}

func (r *runner) fail(err error) {
	r.mu.Lock()
	if r.failErr == nil {
		r.failErr = err
	}
	r.mu.Unlock()
}

// pool runs fn(0..n-1) on Concurrency workers, in no particular order
// between objects (entra-edge-cases §5); once the cycle stops, no new
// index is started, the running ones finish.
func (r *runner) pool(n int, fn func(i int)) {
	if n == 0 {
		return
	}
	workers := min(r.opts.Concurrency, n)
	next := make(chan int)
	var wg gosync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				fn(i)
			}
		}()
	}
	for i := 0; i < n && r.proceed(); i++ {
		select {
		case next <- i:
		case <-r.stop.Done():
		}
	}
	close(next)
	wg.Wait()
}

// probe is the request every cycle starts with (entra-edge-cases §9):
// the user query with a random GUID on the first matching attribute, and
// the group one when groups are provisioned. It must answer 200 with a
// ListResponse; otherwise the cycle stops, and credential and compliance
// failures quarantine the job.
func (r *runner) probe(q *Quarantine) error {
	m := r.mp.Mapping()
	reqs := []Request{{Method: "GET", Path: FilterPath(mapping.Users, firstMatching(&m.Users, "userName"), r.opts.NewID()), Purpose: PurposeProbe}}
	if m.Groups.Enabled {
		reqs = append(reqs, Request{Method: "GET", Path: FilterPath(mapping.Groups, firstMatching(&m.Groups, "displayName"), r.opts.NewID()), Purpose: PurposeProbe})
	}
	for _, req := range reqs {
		resp := r.send(req)
		x := Exchange{Request: req, Response: resp}
		if r.opts.DryRun {
			continue
		}
		var perr *ProbeError
		switch {
		case resp.Status == 401 || resp.Status == 403:
			se := &scim.Error{Status: resp.Status, Detail: strings.TrimSpace(string(resp.Body))}
			perr = &ProbeError{Exchange: x, err: se, Msg: fmt.Sprintf("the cycle's probe %s %s was refused (%d): the target does not accept the credentials; the job is quarantined (EncounteredQuarantineException)", req.Method, req.Path, resp.Status)}
		case resp.Status == 0:
			perr = &ProbeError{Exchange: x, err: fmt.Errorf("%w: %v", client.ErrUnavailable, resp.Err), Msg: fmt.Sprintf("the cycle's probe %s %s failed: %v", req.Method, req.Path, resp.Err)}
		case resp.Status >= 500:
			perr = &ProbeError{Exchange: x, err: fmt.Errorf("%w: %d", client.ErrUnavailable, resp.Status), Msg: fmt.Sprintf("the cycle's probe %s %s answered %d after %d retries: the target is unavailable", req.Method, req.Path, resp.Status, resp.Retries)}
		case !resp.OK():
			perr = &ProbeError{Exchange: x, Msg: fmt.Sprintf("the cycle's probe %s %s answered %d instead of 200 with an empty ListResponse (SCIM compliance: a query that matches nothing must answer 200); the job is quarantined", req.Method, req.Path, resp.Status)}
		default:
			if _, err := decodeList(resp.Body); err != nil {
				perr = &ProbeError{Exchange: x, Msg: fmt.Sprintf("the cycle's probe %s %s answered %d with a body that is not a ListResponse (%v): %s", req.Method, req.Path, resp.Status, err, CodeIncompatible)}
			}
		}
		if perr == nil {
			continue
		}
		if resp.Status != 0 && resp.Status < 500 && !r.opts.DryRun {
			nq := r.quarantine(q, "EncounteredQuarantineException", perr.Msg)
			if err := r.st.SetQuarantine(r.work, nq); err != nil {
				return err
			}
			r.res.Quarantine = nq
		}
		return perr
	}
	return nil
}

func firstMatching(om *mapping.ObjectMapping, fallback string) string {
	if ms := om.MatchingAttributes(); len(ms) > 0 {
		return ms[0].Target
	}
	return fallback
}

// quarantine continues or starts a quarantine series with a reason.
func (r *runner) quarantine(q *Quarantine, reason, msg string) *Quarantine {
	jt := r.jobTime
	nq := &Quarantine{Reason: reason, Error: msg, CurrentBegan: jt, SeriesBegan: jt, SeriesCount: 1}
	if q != nil {
		nq.SeriesBegan, nq.SeriesCount = q.SeriesBegan, q.SeriesCount+1
		nq.CurrentBegan = q.CurrentBegan
		if q.Reason != reason {
			nq.CurrentBegan = jt
		}
	}
	// The schedule is reduced gradually to once a day (QUAR).
	wait := r.opts.Interval << min(nq.SeriesCount, 10)
	nq.NextAttempt = jt.Add(min(wait, 24*time.Hour))
	return nq
}

// quarantineAfter decides the job's quarantine at the end of a cycle:
// staged deletes (TooManyDeletes) or escrow thresholds start or continue
// one; a cycle without either lifts it (QUAR: the job leaves quarantine
// when the errors are fixed and the next cycle runs).
func (r *runner) quarantineAfter(ctx context.Context, q *Quarantine, onDemand bool) error {
	res := r.res
	if r.opts.DryRun {
		res.Quarantine = q
		return nil
	}
	th := r.opts.Thresholds
	failures := res.Escrowed
	var reason, msg string
	switch {
	case r.stage:
		reason = "TooManyDeletes"
		msg = fmt.Sprintf("the cycle would disable or delete %d objects, more than the deletion threshold of %d: they are staged (StagedDelete) until deletes are allowed (--allow-deletes)", res.Removals, r.opts.DeleteThreshold)
	case failures+res.ReferenceFailures > th.Cap:
		reason, msg = "EncounteredTotalEscrowThreshold", fmt.Sprintf("%d failures, reference failures included, exceed %d", failures+res.ReferenceFailures, th.Cap)
	case failures >= th.Start && failures > th.Total:
		reason, msg = "EncounteredBaseEscrowThreshold", fmt.Sprintf("%d objects in escrow exceed %d", failures, th.Total)
	case failures >= th.Start && res.Objects > 0 && float64(res.StatusCount(provlog.StatusFailure)) > th.Proportion*float64(res.Objects):
		reason, msg = "EncounteredEscrowProportionThreshold", fmt.Sprintf("%d of the cycle's %d objects failed, more than %.0f%%", res.StatusCount(provlog.StatusFailure), res.Objects, th.Proportion*100)
	}
	if reason == "" {
		if onDemand {
			res.Quarantine = q
			return nil
		}
		res.Quarantine = nil
		if q == nil {
			return nil
		}
		return r.st.SetQuarantine(ctx, nil)
	}
	nq := r.quarantine(q, reason, msg)
	res.Quarantine = nq
	return r.st.SetQuarantine(context.WithoutCancel(ctx), nq)
}

// escrowCount is how many objects are in escrow after the cycle: the
// job's, or on demand the selected objects'.
func (r *runner) escrowCount(sel *onDemand, items []item) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	if sel != nil {
		for i := range items {
			entries := r.users
			if items[i].kind == mapping.Groups {
				entries = r.groups
			}
			if e := entries[items[i].key]; e != nil && e.Escrow != nil {
				n++
			}
		}
		return n
	}
	for _, m := range []map[string]*Entry{r.users, r.groups} {
		for _, e := range m {
			if e.Escrow != nil {
				n++
			}
		}
	}
	return n
}

// load reads the connector space.
func (r *runner) load(ctx context.Context) error {
	var err error
	if r.users, err = r.st.Entries(ctx, mapping.Users, r.opts.DryRun); err != nil {
		return err
	}
	if r.groups, err = r.st.Entries(ctx, mapping.Groups, r.opts.DryRun); err != nil {
		return err
	}
	// Exported memberships are read per group, for the groups whose
	// members are evaluated (planMembers): O(changes).
	r.members = map[string][]MemberRef{}
	return nil
}

// scan finds what to evaluate: every object whose digest differs from the
// synced one, every escrowed object that is due, every object gone from
// the tenant that the connector space links; on demand, the selected
// objects.
func (r *runner) scan(sel *onDemand) []item {
	t := r.mp.Tenant()
	m := r.mp.Mapping()
	var items []item
	scratch := &mapping.Desired{}
	due := func(e *Entry) bool { return e != nil && e.Escrow != nil && !e.Escrow.Next.After(r.jobTime) }
	consider := func(it item, d *mapping.Desired) {
		c := r.caseOf(&it, d)
		it.removes = c.Removes()
		items = append(items, it)
	}
	if sel != nil {
		for _, u := range sel.users {
			key := SourceKey(u.ObjectID())
			e := r.users[key]
			r.mp.UserTo(scratch, u)
			consider(item{kind: mapping.Users, key: key, user: u, entry: e, digest: ObjectDigest(scratch), object: true, forced: true}, scratch)
		}
		if g := sel.group; g != nil {
			key := SourceKey(g.ObjectID())
			d := r.mp.GroupObject(g)
			consider(item{kind: mapping.Groups, key: key, group: g, entry: r.groups[key], digest: ObjectDigest(d), object: true,
				members: d.MembersMapped, mdigest: MembersDigest(g), forced: true}, d)
		}
		return items
	}
	for u := range t.Users() {
		key := SourceKey(u.ObjectID())
		e := r.users[key]
		r.mp.UserTo(scratch, u)
		dg := ObjectDigest(scratch)
		if e != nil {
			e.seen = true
			if e.Digest == dg && !due(e) {
				continue
			}
		}
		consider(item{kind: mapping.Users, key: key, user: u, entry: e, digest: dg, object: true}, scratch)
	}
	for key, e := range r.users {
		if !e.seen {
			r.nameOf(mapping.Users, key, e)
			consider(item{kind: mapping.Users, key: key, entry: e, object: true}, nil)
		}
	}
	for g := range t.Groups() {
		key := SourceKey(g.ObjectID())
		e := r.groups[key]
		if e != nil {
			e.seen = true
		}
		d := r.mp.GroupObject(g)
		dg := ObjectDigest(d)
		it := item{kind: mapping.Groups, key: key, group: g, entry: e, digest: dg}
		it.object = e == nil || e.Digest != dg || due(e)
		if d.MembersMapped && d.Scope.InScope && m.Groups.Enabled {
			it.mdigest = MembersDigest(g)
			it.members = e == nil || e.MembersDigest != it.mdigest
		}
		if it.object || it.members {
			consider(it, d)
		}
	}
	for key, e := range r.groups {
		if !e.seen {
			r.nameOf(mapping.Groups, key, e)
			consider(item{kind: mapping.Groups, key: key, entry: e, object: true}, nil)
		}
	}
	return items
}

// nameOf reads the name of an object that left the tenant, for its
// record.
func (r *runner) nameOf(k mapping.ObjectKind, key string, e *Entry) {
	if e.Name != "" {
		return
	}
	name, err := r.st.EntryName(r.work, k, key)
	if err != nil {
		r.fail(err)
		return
	}
	e.Name = name
}

// caseOf builds the decision's input for an item (d: its mapped object,
// nil when it left the tenant).
func (r *runner) caseOf(it *item, d *mapping.Desired) *Case {
	m := r.mp.Mapping()
	om := m.Object(it.kind)
	skip := m.SkipOutOfScopeDeletions
	if r.policy.SkipOutOfScopeDeletions != nil {
		skip = *r.policy.SkipOutOfScopeDeletions
	}
	return &Case{Kind: it.kind, Desired: d, Entry: it.entry, Actions: om.Actions, Policy: &r.policy,
		SkipOutOfScopeDeletions: skip, Stage: r.stage && it.removes}
}

// evaluate runs one object's evaluation to its outcome and saves it.
func (r *runner) evaluate(it *item) {
	started := r.opts.Now()
	var d *mapping.Desired
	switch {
	case it.user != nil:
		d = r.mp.User(it.user)
	case it.group != nil:
		d = r.mp.GroupObject(it.group)
	}
	if it.forced && it.entry != nil && it.entry.Escrow != nil {
		// On demand clears the back-off (QA-BACKOFF).
		cp := *it.entry
		cp.Escrow = nil
		it.entry = &cp
	}
	c := r.caseOf(it, d)
	var out *Outcome
	for steps := 0; ; steps++ {
		dec := Decide(c)
		if dec.Outcome != nil {
			out = dec.Outcome
			break
		}
		if steps > 16 {
			out = &Outcome{Action: provlog.ActionOther, Status: provlog.StatusFailure, ErrorCode: CodeIncompatible, Detail: "the evaluation did not end"}
			break
		}
		resp := r.send(*dec.Next)
		c.History = append(c.History, Exchange{Request: *dec.Next, Response: resp})
	}
	r.finish(it, c, d, out, started)
}

// finish records an object's outcome: the log record, the connector
// space's entry, its escrow.
func (r *runner) finish(it *item, c *Case, d *mapping.Desired, out *Outcome, started time.Time) {
	old := it.entry
	name := ""
	switch {
	case d != nil:
		name = d.Name
	case old != nil:
		name = old.Name
	}
	u := Unit{Kind: it.kind, Key: it.key, Cycle: r.seq}
	var escrow *Escrow
	switch {
	case out.Escrow:
		escrow = &Escrow{ErrorCode: out.ErrorCode, Reason: out.Detail, Failures: 1, First: r.jobTime, Last: r.jobTime}
		if old != nil && old.Escrow != nil {
			escrow.Failures, escrow.First = old.Escrow.Failures+1, old.Escrow.First
		}
		escrow.Next = r.jobTime.Add(r.policy.backoff(escrow.Failures))
		u.SetEscrow, u.Escrow = true, escrow
		if r.jobTime.Sub(escrow.First) > r.policy.EscrowExpiry {
			// Out of escrow after 28 days: not retried until it changes.
			escrow = nil
			u.Escrow = nil
		}
	case old != nil && old.Escrow != nil:
		u.SetEscrow = true
	}
	if out.Link == LinkForget {
		u.Forget = true
	} else {
		ne := &Entry{Kind: it.kind, SourceID: sourceID(c), Name: name, Digest: it.digest, Escrow: escrow}
		if old != nil {
			ne.TargetID, ne.Disabled, ne.MembersDigest = old.TargetID, old.Disabled, old.MembersDigest
		}
		switch out.Link {
		case LinkSet:
			ne.TargetID = out.TargetID
		case LinkDrop:
			ne.TargetID, ne.Disabled = "", false
		}
		success := out.Status == provlog.StatusSuccess || out.SkipReason == SkipRedundant
		if success && ne.TargetID != "" {
			ne.Disabled = out.Disabled
			u.Exported = exportedValues(d, c.valueFunc())
		}
		if out.Action == provlog.ActionStagedDelete {
			// Staged: evaluated again until deletes are allowed.
			if old != nil {
				ne.Digest = old.Digest
			} else {
				ne.Digest = 0
			}
			u.SetStaged, u.Staged = true, &Staged{Kind: it.kind, Key: it.key, Name: name, Action: stagedAction(c), Cycle: r.seq}
			r.mu.Lock()
			r.res.Staged++
			r.mu.Unlock()
		}
		u.Entry = ne
	}
	if it.kind == mapping.Groups && out.Action == provlog.ActionDelete && out.Status == provlog.StatusSuccess {
		u.ClearMembers = true
	}

	ended := r.opts.Now()
	if !out.NoRecord {
		rec := r.meta.objectRecord(c, name, out, started, ended, escrow)
		if r.opts.Sink != nil {
			if err := r.opts.Sink.Add(r.work, rec); err != nil {
				r.fail(fmt.Errorf("write the provisioning log: %w", err))
				return
			}
		}
	}
	r.mu.Lock()
	if !out.NoRecord {
		r.countLocked(out.Action, out.Status)
	}
	entries := r.users
	if it.kind == mapping.Groups {
		entries = r.groups
		if u.ClearMembers {
			delete(r.members, it.key)
		}
	}
	if u.Forget {
		delete(entries, it.key)
	} else {
		entries[it.key] = u.Entry
	}
	r.mu.Unlock()
	r.writer.add(u)
}

func stagedAction(c *Case) string {
	if c.Desired == nil || c.Kind == mapping.Groups {
		return string(provlog.ActionDelete)
	}
	return string(provlog.ActionDisable)
}

func (r *runner) countLocked(a provlog.Action, s provlog.Status) {
	m := r.res.Counts[a]
	if m == nil {
		m = map[provlog.Status]int{}
		r.res.Counts[a] = m
	}
	m[s]++
	r.res.Objects++
}

// exportedValues are the values the target holds after a successful
// export, as far as the service knows: what flows on update, by target
// path (for dry runs).
func exportedValues(d *mapping.Desired, valueOf valueFunc) map[string]string {
	out := map[string]string{}
	if d == nil {
		return out
	}
	for i := range d.Values {
		v := &d.Values[i]
		if v.Flow == mapping.FlowNone || v.Err != nil || v.Attribute.IsMembers() {
			continue
		}
		if s, ok := valueOf(v).Single(); ok {
			out[v.Attribute.Target] = s
		}
	}
	return out
}

// memberJob is one group's membership evaluation.
type memberJob struct {
	it      *item
	d       *mapping.Desired
	groupID string
	plan    MemberPlan
	reqs    []Request
	refs    [][]MemberRef
	started time.Time

	left    atomic.Int32
	mu      gosync.Mutex
	added   []MemberRef
	removed []MemberRef
	failed  *Exchange
}

// planMembers plans the membership phase: for every group whose direct
// members changed (or that is new), in scope and linked after the object
// phase, the memberships to add and to remove.
func (r *runner) planMembers(groups []*item) []*memberJob {
	t := r.mp.Tenant()
	m := r.mp.Mapping()
	if !m.Groups.Enabled || !m.Groups.Actions.Update {
		return nil
	}
	var jobs []*memberJob
	for _, it := range groups {
		ge := r.groups[it.key]
		if ge == nil || ge.TargetID == "" || it.group == nil {
			continue
		}
		d := r.mp.Group(it.group)
		if !d.Scope.InScope || !d.MembersMapped {
			continue
		}
		direct := map[string]bool{}
		for _, mm := range it.group.Members() {
			if mm.Kind == tenant.MemberUser {
				direct[SourceKey(mm.ID)] = true
			}
		}
		var desired []MemberRef
		for _, id := range d.Members {
			key := SourceKey(id)
			tid := ""
			if ue := r.users[key]; ue != nil {
				tid = ue.TargetID
			}
			desired = append(desired, MemberRef{UserKey: key, TargetID: tid})
		}
		exported, ok := r.members[it.key]
		if !ok {
			var err error
			if exported, err = r.st.GroupMembers(r.work, it.key); err != nil {
				r.fail(err)
				return nil
			}
			r.members[it.key] = exported
		}
		mc := &MemberCase{
			Desired: desired,
			Direct:  func(k string) bool { return direct[k] },
			SoftDeleted: func(k string) bool {
				u, ok := t.UserByID(k)
				return ok && u.SoftDeleted()
			},
			Exported: exported,
			Policy:   &r.policy,
		}
		plan := PlanMembers(mc)
		j := &memberJob{it: it, d: d, groupID: ge.TargetID, plan: plan}
		j.reqs, j.refs = plan.Requests(ge.TargetID, r.policy.Dialect, r.policy.MemberBatch)
		jobs = append(jobs, j)
	}
	return jobs
}

// runMembers sends the membership PATCHes, several at once, also on the
// same group (SDK646, SCIMMY #79: Entra sends one member per request,
// concurrently); each exported change is saved as it is acknowledged, and
// a group's membership digest once all of it is in step.
func (r *runner) runMembers(jobs []*memberJob, progress func()) {
	type task struct {
		j *memberJob
		i int
	}
	var tasks []task
	for _, j := range jobs {
		j.started = r.opts.Now()
		if len(j.reqs) == 0 {
			r.finishMembers(j)
			progress()
			continue
		}
		j.left.Store(int32(len(j.reqs)))
		for i := range j.reqs {
			tasks = append(tasks, task{j, i})
		}
	}
	started := make([]atomic.Bool, len(tasks))
	r.pool(len(tasks), func(k int) {
		started[k].Store(true)
		t := tasks[k]
		j := t.j
		req := j.reqs[t.i]
		resp := r.send(req)
		refs := j.refs[t.i]
		add := t.i < (len(j.plan.Add)+r.policy.MemberBatch-1)/r.policy.MemberBatch
		j.mu.Lock()
		if resp.OK() {
			u := Unit{Kind: mapping.Groups, Key: j.it.key, Cycle: r.seq}
			if add {
				j.added = append(j.added, refs...)
				u.AddMembers = refs
			} else {
				j.removed = append(j.removed, refs...)
				for _, m := range refs {
					u.RemoveMembers = append(u.RemoveMembers, m.UserKey)
				}
			}
			r.writer.add(u)
		} else if j.failed == nil {
			j.failed = &Exchange{Request: req, Response: resp}
		}
		j.mu.Unlock()
		if j.left.Add(-1) == 0 {
			r.finishMembers(j)
			progress()
		}
	})
	// Tasks never started (the cycle was stopped) leave their group's
	// digest as it was: the next cycle evaluates its memberships again.
	for k := range tasks {
		if !started[k].Load() {
			j := tasks[k].j
			if j.left.Add(-1) == 0 {
				j.mu.Lock()
				if j.failed == nil {
					j.failed = &Exchange{Request: j.reqs[tasks[k].i], Response: Response{Err: context.Canceled}}
				}
				j.mu.Unlock()
				r.finishMembers(j)
			}
		}
	}
}

// finishMembers records a group's membership evaluation.
func (r *runner) finishMembers(j *memberJob) {
	j.mu.Lock()
	defer j.mu.Unlock()
	inStep := j.failed == nil && len(j.plan.Unresolved) == 0
	r.mu.Lock()
	r.refFails += len(j.plan.Unresolved)
	cur := r.members[j.it.key]
	cur = append(cur, j.added...)
	if len(j.removed) > 0 {
		gone := map[string]bool{}
		for _, m := range j.removed {
			gone[m.UserKey] = true
		}
		kept := cur[:0]
		for _, m := range cur {
			if !gone[m.UserKey] {
				kept = append(kept, m)
			}
		}
		cur = kept
	}
	r.members[j.it.key] = cur
	if inStep {
		if e := r.groups[j.it.key]; e != nil {
			// Entries are shared with the committer: copy, never mutate.
			cp := *e
			cp.MembersDigest = j.it.mdigest
			r.groups[j.it.key] = &cp
		}
	}
	r.mu.Unlock()
	if inStep {
		r.writer.add(Unit{Kind: mapping.Groups, Key: j.it.key, SetMembersDigest: true, MembersDigest: j.it.mdigest, Cycle: r.seq})
	}
	if len(j.added) == 0 && len(j.removed) == 0 && j.failed == nil && len(j.plan.Unresolved) == 0 {
		return // nothing changed: no record
	}
	rec := r.meta.membersRecord(j.d, j.groupID, j.added, j.removed, j.plan.Unresolved, j.failed, j.started, r.opts.Now())
	if r.opts.Sink != nil {
		if err := r.opts.Sink.Add(r.work, rec); err != nil {
			r.fail(fmt.Errorf("write the provisioning log: %w", err))
			return
		}
	}
	r.mu.Lock()
	r.countLocked(rec.ProvisioningAction, rec.ProvisioningStatusInfo.Status)
	r.mu.Unlock()
}

// send sends one request with the simulator's retry policy: a 429 or 503
// (the target did not process it) is retried whatever the method; a GET
// or DELETE is also retried after a 500, 502, 504 or no answer; the wait
// is the target's Retry-After (seconds or an HTTP date, RFC 9110
// §10.2.3), else 1 s doubling, and a Retry-After above MaxRetryAfter is
// not waited for. A POST or PATCH is never repeated after an answer that
// may mean it was processed: the object fails and is escrowed, and its
// retry on a later cycle matches first (entra-edge-cases §7, QA-60S).
func (r *runner) send(req Request) Response {
	if r.opts.DryRun {
		resp := r.plan(req)
		r.mu.Lock()
		r.res.Requests[req.Method]++
		r.mu.Unlock()
		if r.opts.OnExchange != nil {
			r.opts.OnExchange(Exchange{Request: req, Response: resp})
		}
		return resp
	}
	var resp Response
	for attempt := 0; ; attempt++ {
		_ = r.limiter.Wait(r.work)
		start := time.Now()
		raw, err := r.opts.Client.Do(r.work, client.RawRequest{Method: req.Method, Path: req.Path, Body: req.Body})
		resp = Response{Duration: time.Since(start), Retries: attempt}
		if err != nil {
			resp.Err = err
			resp.Timeout = isTimeout(err)
		} else {
			resp.Status, resp.Body = raw.Status, raw.Body
			resp.RetryAfter = parseRetryAfter(raw.Header.Get("Retry-After"), r.opts.Now())
		}
		r.mu.Lock()
		r.res.Requests[req.Method]++
		r.mu.Unlock()
		if r.opts.OnExchange != nil {
			r.opts.OnExchange(Exchange{Request: req, Response: resp})
		}
		if attempt >= r.retries || !retryable(req.Method, &resp) {
			break
		}
		wait := resp.RetryAfter
		if wait == 0 {
			wait = time.Second << min(attempt, 5)
		}
		if wait > r.opts.MaxRetryAfter {
			break
		}
		if r.opts.Sleep(r.stop, wait) != nil {
			break
		}
	}
	return resp
}

func retryable(method string, r *Response) bool {
	switch r.Status {
	case http.StatusTooManyRequests, http.StatusServiceUnavailable:
		return true
	case 0, http.StatusInternalServerError, http.StatusBadGateway, http.StatusGatewayTimeout:
		if r.Status == 0 && errors.Is(r.Err, context.Canceled) {
			return false
		}
		return method == http.MethodGet || method == http.MethodDelete
	}
	return false
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()) || strings.Contains(err.Error(), "(timeout)")
}

func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if n, err := strconv.Atoi(v); err == nil && n > 0 {
		return time.Duration(n) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// plan answers a request in a dry run from the connector space: a
// linked object holds what was last exported, a query matches nothing,
// every write succeeds.
func (r *runner) plan(req Request) Response {
	switch req.Purpose {
	case PurposeProbe, PurposeMatch:
		return Response{Status: 200, Body: []byte(`{"schemas":["` + scim.ListResponseSchema + `"],"totalResults":0,"itemsPerPage":0,"startIndex":1,"Resources":[]}`)}
	case PurposeRead:
		id := strings.TrimPrefix(req.Path, "/Users/")
		kind := mapping.Users
		if strings.HasPrefix(req.Path, "/Groups/") {
			kind = mapping.Groups
			id = strings.TrimPrefix(strings.TrimSuffix(req.Path, "?excludedAttributes=members"), "/Groups/")
		}
		res := r.assumed(kind, id)
		return Response{Status: 200, Body: appendJSON(nil, res)}
	case PurposeCreate:
		return Response{Status: 201, Body: []byte(`{"id":"` + plannedID + r.opts.NewID() + `"}`)}
	case PurposeUpdate:
		return Response{Status: 200, Body: []byte(`{}`)}
	}
	return Response{Status: 204}
}

// plannedID prefixes the ids a dry run gives the objects it would create.
const plannedID = "planned-"

// assumed is a linked object as the connector space remembers it.
func (r *runner) assumed(kind mapping.ObjectKind, id string) any {
	r.mu.Lock()
	entries := r.users
	if kind == mapping.Groups {
		entries = r.groups
	}
	var e *Entry
	for _, x := range entries {
		if x.TargetID == id {
			e = x
			break
		}
	}
	r.mu.Unlock()
	res := map[string]any{"id": id}
	if e == nil {
		return res
	}
	var d *mapping.Desired
	t := r.mp.Tenant()
	if kind == mapping.Groups {
		if g, ok := t.GroupByID(e.SourceID); ok {
			d = r.mp.Group(g)
		}
	} else if u, ok := t.UserByID(e.SourceID); ok {
		d = r.mp.User(u)
	}
	if d == nil {
		return res
	}
	for k, v := range exportedResource(e.Exported, d) {
		res[k] = v
	}
	if kind == mapping.Users {
		// active as the service last exported it.
		res["active"] = !e.Disabled
	}
	return res
}

// committer writes units to the state database in batches, each unit
// whole: under load several objects share a transaction, and a unit is
// never split.
type committer struct {
	st    *State
	in    chan Unit
	done  chan struct{}
	err   error
	errMu gosync.Mutex
	dry   bool
}

func newCommitter(st *State, dry bool) *committer {
	c := &committer{st: st, in: make(chan Unit, 4096), done: make(chan struct{}), dry: dry}
	go c.loop()
	return c
}

func (c *committer) add(u Unit) {
	if c.dry {
		return
	}
	c.in <- u
}

func (c *committer) loop() {
	defer close(c.done)
	// A batch waits up to linger for more units: over a network units
	// arrive a few hundred a second, and a transaction each cost most of
	// the simulator's own CPU. The units are already past their requests
	// and held in memory either way, and a unit the state lacks after a
	// crash is matched again by the next cycle (as one never written).
	const maxBatch = 512
	const linger = 5 * time.Millisecond
	batch := make([]Unit, 0, maxBatch)
	timer := time.NewTimer(linger)
	timer.Stop()
	for u := range c.in {
		batch = append(batch[:0], u)
		timer.Reset(linger)
	drain:
		for len(batch) < maxBatch {
			select {
			case u, ok := <-c.in:
				if !ok {
					break drain
				}
				batch = append(batch, u)
			case <-timer.C:
				break drain
			}
		}
		timer.Stop()
		if err := c.st.Apply(context.Background(), batch); err != nil {
			c.errMu.Lock()
			if c.err == nil {
				c.err = err
			}
			c.errMu.Unlock()
		}
	}
}

func (c *committer) close() error {
	close(c.in)
	<-c.done
	c.errMu.Lock()
	defer c.errMu.Unlock()
	return c.err
}

// summaryOf is what the cycles table keeps of a result.
func summaryOf(r *Result) map[string]any {
	counts := map[string]int{}
	for a, m := range r.Counts {
		for s, n := range m {
			counts[string(a)+"/"+string(s)] = n
		}
	}
	return map[string]any{"kind": r.Kind, "objects": r.Objects, "counts": counts, "requests": r.Requests,
		"escrowed": r.Escrowed, "staged": r.Staged, "interrupted": r.Interrupted}
}
