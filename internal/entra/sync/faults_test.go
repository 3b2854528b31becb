package sync

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/miscim/miscim/internal/entra/provlog"
	"github.com/miscim/miscim/internal/scim"
	"github.com/miscim/miscim/internal/testkit/faulttarget"
)

// sleeps records the waits of the retry policy.
type sleeps struct {
	mu sync0
	d  []time.Duration
}

func (s *sleeps) sleep(_ context.Context, d time.Duration) error {
	s.mu.Lock()
	s.d = append(s.d, d)
	s.mu.Unlock()
	return nil
}

func TestConflictOnCreateIsEscrowedAndMatchedAgain(t *testing.T) {
	h := newFaultHarness(t, "N")
	c := faulttarget.Conflict("POST", "/Users")
	c.Detail, c.Times = "userName ann@contoso.com is already taken", 1
	h.ft.Script(c)
	tt := &tTenant{users: []tUser{{id: idAnn, upn: "ann@contoso.com", given: "Ann", sur: "Lee"}}, assigned: []string{idAnn}}
	h.setTenant(tt.yaml())
	cr := h.run("")
	if cr.err != nil {
		t.Fatal(cr.err)
	}
	h.wantLines(cr.lines(), userProbe, groupProbe, matchUser("ann@contoso.com"), postAnn)
	r := wantRecord(t, h, "ann@contoso.com", provlog.ActionCreate, provlog.StatusFailure)
	ei := r.ProvisioningStatusInfo.ErrorInformation
	if ei.ErrorCode != CodeEntryConflict || !strings.Contains(ei.Reason, "StatusCode: Conflict") || !strings.Contains(ei.Reason, "already taken") ||
		!strings.Contains(ei.Reason, "It will be retried again after this date: 2026-12-01T09:30:00Z UTC") || ei.ErrorCategory != provlog.CategoryNonServiceFailure {
		t.Errorf("error information %+v", ei)
	}
	if !cr.res.Problems() || cr.res.Escrowed != 1 {
		t.Errorf("escrowed %d", cr.res.Escrowed)
	}
	// The next cycle (40 minutes later on the job clock) retries: match,
	// then create.
	cr = h.mustRun()
	h.wantLines(cr.lines(), userProbe, groupProbe, matchUser("ann@contoso.com"), postAnn)
	if cr.res.Escrowed != 0 || cr.res.Problems() {
		t.Errorf("after the retry: escrowed %d", cr.res.Escrowed)
	}
}

func TestConflictThenTheTargetUserIsMatched(t *testing.T) {
	h := newFaultHarness(t, "N")
	c := faulttarget.Conflict("POST", "/Users")
	c.Times = 1
	h.ft.Script(c)
	tt := &tTenant{users: []tUser{{id: idAnn, upn: "ann@contoso.com", given: "Ann", sur: "Lee"}}, assigned: []string{idAnn}}
	h.setTenant(tt.yaml())
	h.run("")
	// Someone creates the account in the target meanwhile: the retry's
	// match finds it, links it and updates what differs.
	res, err := h.e.CreateUser(context.Background(), []byte(`{"userName":"ann@contoso.com","emails":[{"value":"ann@contoso.com","type":"work"}],"active":true}`))
	if err != nil {
		t.Fatal(err)
	}
	id := res["id"].(string)
	cr := h.mustRun()
	h.wantLines(cr.lines(), userProbe, groupProbe, matchUser("ann@contoso.com"),
		patch("/Users/"+id, `{"op":"Add","path":"externalId","value":"`+idAnn+`"},{"op":"Add","path":"name.givenName","value":"Ann"},{"op":"Add","path":"name.familyName","value":"Lee"}`))
	if h.link(mappingUsers, idAnn) != id {
		t.Error("not linked to the matched user")
	}
}

func TestThrottlingIsRetriedHonouringRetryAfter(t *testing.T) {
	h := newFaultHarness(t, "N")
	throttle := faulttarget.TooManyRequests("GET", "/Users", "7")
	throttle.Filter, throttle.Times = `userName eq "ann`, 2
	h.ft.Script(throttle, faulttarget.Fault{Method: "POST", Path: "/Users", Status: 503, Detail: "busy", Times: 1})
	tt := &tTenant{users: []tUser{{id: idAnn, upn: "ann@contoso.com", given: "Ann", sur: "Lee"}}, assigned: []string{idAnn}}
	h.setTenant(tt.yaml())
	var s sleeps
	cr := h.run("", func(o *Options) { o.Sleep = s.sleep })
	if cr.err != nil {
		t.Fatal(cr.err)
	}
	h.wantLines(cr.lines(), userProbe, groupProbe, matchUser("ann@contoso.com"), matchUser("ann@contoso.com"), matchUser("ann@contoso.com"), postAnn, postAnn)
	if len(s.d) != 3 || s.d[0] != 7*time.Second || s.d[1] != 7*time.Second || s.d[2] != time.Second {
		t.Errorf("waits %v, want [7s 7s 1s] (Retry-After, then the back-off)", s.d)
	}
	if cr.res.Requests["GET"] != 5 || cr.res.Requests["POST"] != 2 { // two probes, three match attempts
		t.Errorf("requests %v", cr.res.Requests)
	}
	wantRecord(t, h, "ann@contoso.com", provlog.ActionCreate, provlog.StatusSuccess)
}

func TestServerErrorsAreRetriedForReadsOnlyThenEscrowed(t *testing.T) {
	h := newFaultHarness(t, "N")
	tt := baseTenant()
	h.setTenant(tt.yaml())
	h.mustRun()
	h.ft.Script(faulttarget.ServerError("GET", "/Users/*"))
	tt.userRef(idAnn).sur = "Lee-Smith"
	h.setTenant(tt.yaml())
	var s sleeps
	cr := h.run("", func(o *Options) { o.Sleep = s.sleep })
	if cr.err != nil {
		t.Fatal(cr.err)
	}
	if n := strings.Count(strings.Join(cr.lines(), "\n"), "GET /Users/"); n != 1+DefaultRetries {
		t.Errorf("%d attempts, want %d", n, 1+DefaultRetries)
	}
	if len(s.d) != 3 || s.d[0] != time.Second || s.d[1] != 2*time.Second || s.d[2] != 4*time.Second {
		t.Errorf("waits %v", s.d)
	}
	r := wantRecord(t, h, "ann@contoso.com", provlog.ActionUpdate, provlog.StatusFailure)
	if r.ProvisioningStatusInfo.ErrorInformation.ErrorCode != CodeInternalServerError {
		t.Errorf("code %s", r.ProvisioningStatusInfo.ErrorInformation.ErrorCode)
	}

	// A PATCH answered 500 is not repeated: it may have been applied.
	h.ft.ClearScript()
	h.ft.Script(faulttarget.ServerError("PATCH", "/Users/*"))
	h.clock.advance(time.Hour)
	cr = h.run("")
	if n := h.countLines(cr, "PATCH /Users/"); n != 1 {
		t.Errorf("the PATCH was sent %d times", n)
	}
	if cr.res.Escrowed != 1 {
		t.Errorf("escrowed %d", cr.res.Escrowed)
	}
}

func TestTimeoutFailsTheObject(t *testing.T) {
	h := newFaultHarness(t, "N")
	hang := faulttarget.Hang("POST", "/Users")
	hang.Times = 1
	h.ft.Script(hang)
	tt := &tTenant{users: []tUser{{id: idAnn, upn: "ann@contoso.com", given: "Ann", sur: "Lee"}}, assigned: []string{idAnn}}
	h.setTenant(tt.yaml())
	h.timeout = 200 * time.Millisecond
	cr := h.run("")
	if cr.err != nil {
		t.Fatal(cr.err)
	}
	r := wantRecord(t, h, "ann@contoso.com", provlog.ActionCreate, provlog.StatusFailure)
	if r.ProvisioningStatusInfo.ErrorInformation.ErrorCode != CodeTimeout {
		t.Errorf("code %+v", r.ProvisioningStatusInfo.ErrorInformation)
	}
	if n := h.countLines(cr, "POST /Users"); n != 1 {
		t.Errorf("the POST was sent %d times; a POST that timed out is not repeated", n)
	}
}

func TestInvalidAnchorIsEscrowedNeverRecreated(t *testing.T) {
	h := newFaultHarness(t, "N")
	tt := baseTenant()
	initial(t, h, tt)
	annID := h.user("ann@contoso.com")["id"].(string)
	// Deleted in the target behind provisioning's back: a real 404.
	if err := h.e.DeleteUser(context.Background(), annID, ""); err != nil {
		t.Fatal(err)
	}
	tt.userRef(idAnn).sur = "Lee-Smith"
	h.setTenant(tt.yaml())
	for cycle := 1; cycle <= 4; cycle++ {
		cr := h.mustRun()
		want := []string{userProbe, groupProbe}
		// Failures at cycles 1 and 2 back off 30 minutes, then an hour: the
		// third cycle (40 minutes after the second) does not retry yet.
		if cycle != 3 {
			want = append(want, "GET /Users/"+annID)
		}
		h.wantLines(cr.lines(), want...)
		if cr.res.Escrowed != 1 {
			t.Errorf("cycle %d: escrowed %d", cycle, cr.res.Escrowed)
		}
	}
	r := wantRecord(t, h, "ann@contoso.com", provlog.ActionUpdate, provlog.StatusFailure)
	ei := r.ProvisioningStatusInfo.ErrorInformation
	if ei.ErrorCode != CodeInvalidAnchor || !strings.Contains(ei.Reason, "retried 2 times") {
		t.Errorf("error %+v", ei)
	}
	if h.user("ann@contoso.com") != nil {
		t.Error("the user was re-created")
	}
	// Restarting with a full reset re-matches: nothing matches, so the
	// user is created again.
	if err := h.state.Reset(context.Background(), true); err != nil {
		t.Fatal(err)
	}
	cr := h.mustRun()
	if !strings.Contains(strings.Join(cr.lines(), "\n"), "POST /Users") {
		t.Errorf("after a full reset the user is created: %v", cr.lines())
	}
}

func TestProbeFailures(t *testing.T) {
	h := newFaultHarness(t, "N")
	h.ft.Script(faulttarget.Fault{Method: "GET", Path: "/Users", Filter: `userName eq "00000000`, Status: 401, Detail: "bad token", Times: 1})
	h.setTenant(baseTenant().yaml())
	cr := h.run("")
	var pe *ProbeError
	var se *scim.Error
	if !errors.As(cr.err, &pe) || !errors.As(cr.err, &se) || se.Status != 401 {
		t.Fatalf("err %v", cr.err)
	}
	q, _ := h.state.Quarantine(context.Background())
	if q == nil || q.Reason != "EncounteredQuarantineException" {
		t.Fatalf("quarantine %+v", q)
	}
	if len(cr.lines()) != 1 {
		t.Errorf("after the failed probe nothing is sent: %v", cr.lines())
	}
	// The next cycle succeeds and lifts the quarantine.
	cr = h.mustRun()
	if cr.res.Quarantine != nil {
		t.Errorf("still quarantined: %+v", cr.res.Quarantine)
	}
	if q, _ := h.state.Quarantine(context.Background()); q != nil {
		t.Errorf("quarantine kept: %+v", q)
	}
	if cr.res.Kind != CycleInitial {
		t.Errorf("the failed cycle did not count: kind %s", cr.res.Kind)
	}

	// A 404 instead of 200 with an empty list is a compliance failure.
	h.ft.Script(faulttarget.Fault{Method: "GET", Path: "/Groups", Filter: `displayName eq "00000000`, Status: 404, Detail: "no", Times: 1})
	cr = h.run("")
	if !errors.As(cr.err, &pe) || errors.As(cr.err, &se) || !strings.Contains(cr.err.Error(), "SCIM compliance") {
		t.Fatalf("err %v", cr.err)
	}
}

func TestEscrowThresholdQuarantines(t *testing.T) {
	h := newFaultHarness(t, "N")
	h.ft.Script(faulttarget.ServerError("POST", "/Users"))
	h.setTenant(baseTenant().yaml())
	cr := h.run("", func(o *Options) { o.Thresholds = Thresholds{Start: 2, Total: 100, Cap: 1000, Proportion: 0.4} })
	if cr.err != nil {
		t.Fatal(cr.err)
	}
	if q := cr.res.Quarantine; q == nil || q.Reason != "EncounteredEscrowProportionThreshold" {
		t.Fatalf("quarantine %+v", cr.res.Quarantine)
	}
}

func TestDeletionThresholdStagesThenAllows(t *testing.T) {
	h := newHarness(t, "N")
	tt := baseTenant()
	initial(t, h, tt)
	tt.unassign(idSales) // Bob and Carl disabled, Sales deleted: 3 removals
	h.setTenant(tt.yaml())
	cr := h.mustRun(func(o *Options) { o.DeleteThreshold = 2 })
	h.wantLines(cr.lines(), userProbe, groupProbe)
	if cr.res.Staged != 3 || cr.res.Removals != 3 || cr.res.Quarantine == nil || cr.res.Quarantine.Reason != "TooManyDeletes" || !cr.res.Problems() {
		t.Fatalf("staged %d, removals %d, quarantine %+v", cr.res.Staged, cr.res.Removals, cr.res.Quarantine)
	}
	wantRecord(t, h, "bob@contoso.com", provlog.ActionStagedDelete, provlog.StatusSkipped)
	staged, _ := h.state.Staged(context.Background())
	if len(staged) != 3 {
		t.Errorf("staged %+v", staged)
	}
	// Still staged on the next cycle, until deletes are allowed.
	cr = h.mustRun(func(o *Options) { o.DeleteThreshold = 2 })
	if cr.res.Staged != 3 {
		t.Errorf("second cycle staged %d", cr.res.Staged)
	}
	cr = h.mustRun(func(o *Options) { o.DeleteThreshold = 2; o.AllowDeletes = true })
	if cr.res.Staged != 0 || cr.res.Quarantine != nil || count(cr.res, provlog.ActionDisable, provlog.StatusSuccess) != 2 || count(cr.res, provlog.ActionDelete, provlog.StatusSuccess) != 1 {
		t.Errorf("allowed: %+v", cr.res.Counts)
	}
	if staged, _ := h.state.Staged(context.Background()); len(staged) != 0 {
		t.Errorf("still staged %+v", staged)
	}
}
