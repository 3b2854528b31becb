package replay

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"sync"
	"sync/atomic"
	"time"

	"github.com/miscim/miscim/internal/client"
	"github.com/miscim/miscim/internal/reqlog"
	"github.com/miscim/miscim/internal/scim"
)

// Filter chooses the logged requests to replay.
type Filter struct {
	// Since and Until bound the request time (inclusive, exclusive); zero
	// means no bound. A record without a time is judged by the time it is
	// ordered by (reqlog.Exchange.OrderTime); one from a file without any
	// time is outside every bound.
	Since, Until time.Time
	// Match, when set, must match "METHOD path?query" with the path
	// relative to the SCIM base and the query unescaped:
	// `PATCH /Groups/42`, `GET /Users?filter=userName eq "ann"`.
	Match *regexp.Regexp
}

// Request is one logged request in the plan.
type Request struct {
	// Index is the request's place in replay order, from 1.
	Index int
	X     *reqlog.Exchange
	// Rel is the logged target relative to the SCIM base, raw query as
	// logged: /Users/42?attributes=userName.
	Rel string
	// Display is "METHOD path?query", query unescaped.
	Display string
	Write   bool
	// Skip says why the request is not sent; "" when it is. SkipAuth: the
	// log shows it rejected (401/403); the log holds no credential, so the
	// replay cannot reproduce that.
	Skip string
}

// Skip reasons.
const SkipAuth = "rejected in the log (401/403): credentials are not logged"

// Filtered counts the logged requests left out of a plan, by reason.
type Filtered struct {
	Time    int `json:"time"`
	Match   int `json:"match"`
	NotSCIM int `json:"notScim"`
}

// Total is the number of requests filtered out.
func (f Filtered) Total() int { return f.Time + f.Match + f.NotSCIM }

// Plan is what a replay sends, in order.
type Plan struct {
	Requests []*Request
	Filtered Filtered
}

// Writes counts the requests of the plan that change the target.
func (p *Plan) Writes() int {
	n := 0
	for _, r := range p.Requests {
		if r.Write && r.Skip == "" {
			n++
		}
	}
	return n
}

// NewPlan chooses and orders the requests to replay from what reqlog.Read
// returned: SCIM requests only (under the /scim/v2 base, or logged
// relative to it), within the filter.
func NewPlan(set *reqlog.Set, f Filter) *Plan {
	p := &Plan{}
	for i := range set.Exchanges {
		x := &set.Exchanges[i]
		t := x.OrderTime
		rel, ok := relativeTarget(x.Target)
		if !ok {
			p.Filtered.NotSCIM++
			continue
		}
		bounded := !f.Since.IsZero() || !f.Until.IsZero()
		if bounded && t.IsZero() || !f.Since.IsZero() && t.Before(f.Since) || !f.Until.IsZero() && !t.Before(f.Until) {
			p.Filtered.Time++
			continue
		}
		d := display(x.Method, rel)
		if f.Match != nil && !f.Match.MatchString(d) {
			p.Filtered.Match++
			continue
		}
		r := &Request{Index: len(p.Requests) + 1, X: x, Rel: rel, Display: d, Write: isWrite(x.Method, rel)}
		if x.Status == 401 || x.Status == 403 {
			r.Skip = SkipAuth
		}
		p.Requests = append(p.Requests, r)
	}
	return p
}

// Options configure a run.
type Options struct {
	Client *client.Client
	// Concurrency is how many requests may be in flight (1: log order).
	Concurrency int
	// Rate caps requests per second; 0: no cap.
	Rate float64
	// StopOnMismatch stops sending after the first mismatch (or failure).
	StopOnMismatch bool
	// Ignore are the body paths left out of comparisons, DefaultIgnore
	// included (see Ignores).
	Ignore []IgnorePath
	// Progress, when set, is called after each request (from the
	// workers).
	Progress func()
	// Now is the clock (tests).
	Now func() time.Time
}

// Ignores parses DefaultIgnore and the user's paths.
func Ignores(extra []string) ([]IgnorePath, error) {
	var out []IgnorePath
	for _, s := range append(append([]string(nil), DefaultIgnore...), extra...) {
		p, err := ParseIgnore(s)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

// Outcome is what became of one planned request.
type Outcome string

// Outcomes.
const (
	Matched    Outcome = "matched"
	Mismatched Outcome = "mismatched"
	// Failed: no answer (transport failure, timeout).
	Failed Outcome = "failed"
	// Unchecked: sent, but the log holds no response to compare with.
	Unchecked Outcome = "unchecked"
	// Skipped: not sent (Request.Skip).
	Skipped Outcome = "skipped"
	// NotSent: left after --stop-on-mismatch, a lost target or an
	// interruption.
	NotSent Outcome = "notSent"
)

// Result is the outcome of one request.
type Result struct {
	Request *Request
	Outcome Outcome
	// Sent is the target as sent, ids remapped (relative to the base).
	Sent     string
	Status   int
	Duration time.Duration
	// Differences, Expected and Actual (the compared bodies, normalized
	// and indented) are set for mismatches.
	Differences      []Difference
	Expected, Actual string
	// Notes explain a mismatch where the replay knows more: ids the log
	// used but the replay never saw created.
	Notes []string
	Err   error
}

// Report is the outcome of a run.
type Report struct {
	Results  []Result // one per planned request, in plan order
	Duration time.Duration
	// Stopped says why the run ended before the end of the plan: "" (it
	// did not), "mismatch" (--stop-on-mismatch), "unavailable" (the target
	// could not be reached; Err says why), "auth" (the target refused the
	// credentials: 401 or 403 where the log has another status; Err is the
	// *scim.Error), "interrupted".
	Stopped string
	Err     error
	// IDs is how many logged ids were remapped.
	IDs int
}

// Count returns how many results have outcome o.
func (r *Report) Count(o Outcome) int {
	n := 0
	for i := range r.Results {
		if r.Results[i].Outcome == o {
			n++
		}
	}
	return n
}

// Sent is how many requests reached the target or failed trying.
func (r *Report) Sent() int {
	return r.Count(Matched) + r.Count(Mismatched) + r.Count(Failed) + r.Count(Unchecked)
}

// pacer spaces requests out to a rate.
type pacer struct {
	mu       sync.Mutex
	interval time.Duration
	next     time.Time
}

func newPacer(rate float64) *pacer {
	if rate <= 0 {
		return nil
	}
	return &pacer{interval: time.Duration(float64(time.Second) / rate)}
}

func (p *pacer) wait(ctx context.Context) error {
	if p == nil {
		return nil
	}
	p.mu.Lock()
	now := time.Now()
	t := p.next
	if t.Before(now) {
		t = now
	}
	p.next = t.Add(p.interval)
	p.mu.Unlock()
	d := time.Until(t)
	if d <= 0 {
		return nil
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// run is the state of one replay.
type run struct {
	opts    Options
	plan    *Plan
	ids     *idMap
	pace    *pacer
	results []Result
	stop    atomic.Bool
	mu      sync.Mutex
	stopped string
	err     error
}

// Run sends the plan's requests and compares the answers. It returns an
// error only when it could not start; a target lost on the way ends the
// run with Report.Stopped "unavailable".
func Run(ctx context.Context, plan *Plan, opts Options) (*Report, error) {
	if opts.Client == nil {
		return nil, errors.New("replay: no client")
	}
	if opts.Concurrency < 1 {
		opts.Concurrency = 1
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	r := &run{opts: opts, plan: plan, ids: newIDMap(), pace: newPacer(opts.Rate), results: make([]Result, len(plan.Requests))}
	deps := dependencies(plan.Requests)
	done := make([]chan struct{}, len(plan.Requests))
	for i := range done {
		done[i] = make(chan struct{})
	}
	start := now()
	work := make(chan int)
	var wg sync.WaitGroup
	for range opts.Concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				for _, d := range deps[i] {
					<-done[d]
				}
				r.results[i] = r.one(ctx, i)
				close(done[i])
				if opts.Progress != nil {
					opts.Progress()
				}
			}
		}()
	}
	// Requests are handed out in plan order, so that whatever a request
	// waits for was handed out before it: no worker waits for a request
	// that no worker holds.
	for i := range plan.Requests {
		work <- i
	}
	close(work)
	wg.Wait()
	rep := &Report{Results: r.results, Duration: now().Sub(start), Stopped: r.stopped, Err: r.err, IDs: r.ids.len()}
	if rep.Stopped == "" && ctx.Err() != nil {
		rep.Stopped = "interrupted"
	}
	return rep, nil
}

func (r *run) halt(why string, err error) {
	r.mu.Lock()
	if r.stopped == "" {
		r.stopped, r.err = why, err
	}
	r.mu.Unlock()
	r.stop.Store(true)
}

// one sends request i and judges the answer.
func (r *run) one(ctx context.Context, i int) Result {
	req := r.plan.Requests[i]
	res := Result{Request: req}
	if r.stop.Load() || ctx.Err() != nil {
		res.Outcome = NotSent
		return res
	}
	if req.Skip != "" {
		res.Outcome = Skipped
		return res
	}
	if err := r.pace.wait(ctx); err != nil {
		res.Outcome = NotSent
		return res
	}
	x := req.X
	rw := r.ids.rewrite(req.Rel, sendHeader(x), x.RequestBody)
	res.Sent = rw.rel
	resp, err := r.opts.Client.Do(ctx, client.RawRequest{Method: x.Method, Path: rw.rel, Header: rw.header, Body: rw.body})
	if err != nil {
		if ctx.Err() != nil {
			res.Outcome = NotSent
			return res
		}
		res.Outcome, res.Err = Failed, err
		if errors.Is(err, client.ErrUnavailable) {
			r.halt("unavailable", err)
		} else if r.opts.StopOnMismatch {
			r.halt("mismatch", nil)
		}
		return res
	}
	res.Status, res.Duration = resp.Status, resp.Duration
	if (resp.Status == http.StatusUnauthorized || resp.Status == http.StatusForbidden) && x.Status != resp.Status {
		// The log shows the request accepted and the target refuses our
		// credentials: nothing after it can be compared.
		r.halt("auth", &scim.Error{Status: resp.Status, Detail: fmt.Sprintf("the target answered %d to %s, which the log shows answered %d: check --token", resp.Status, req.Display, x.Status)})
	}
	exp, act := parseBody(x.ResponseBody), parseBody(resp.Body)
	if !x.HasResponse() {
		res.Outcome = Unchecked
		return res
	}
	r.ids.learn(i, x.Method, x.Status, x.ResponseHeader, exp.doc, resp.Status, resp.Header, act.doc)
	if exp.isJSON {
		exp.doc = r.ids.translate(exp.doc)
	}
	_, sorted := queryParam(req.Rel, "sortBy")
	v := comparison{ignore: r.opts.Ignore, ordered: sorted}.compare(x.Status, exp, resp.Status, act)
	if v.equal {
		res.Outcome = Matched
		return res
	}
	res.Outcome = Mismatched
	res.Differences, res.Expected, res.Actual = v.differences, v.expected, v.actual
	for _, id := range rw.unknown {
		if by, ok := r.ids.lostBy(id); ok {
			res.Notes = append(res.Notes, fmt.Sprintf("uses id %s, whose creation (request #%d) did not succeed on the replay", id, by+1))
		} else {
			res.Notes = append(res.Notes, fmt.Sprintf("uses id %s, which no logged response before it introduced: the resource existed before the log begins", id))
		}
	}
	if r.opts.StopOnMismatch {
		r.halt("mismatch", nil)
	}
	return res
}
