package mapping

import (
	"encoding/json"
	"errors"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/miscim/miscim/internal/entra/expr"
	"github.com/miscim/miscim/internal/entra/tenant"
	"github.com/miscim/miscim/internal/entra/tenant/tenantgen"
)

var examples = filepath.Join("..", "..", "..", "docs", "examples", "tenant")

func sampleMapper(t testing.TB, format string) *Mapper {
	t.Helper()
	tn, err := tenant.Load(filepath.Join(examples, format))
	if err != nil {
		t.Fatal(err)
	}
	mp, err := New(tn, Default(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	return mp
}

func jsonOf(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestSampleTenant maps the bundled sample with Metric Insights' mapping
// and checks what the sample is there to show (docs/tenant.md).
func TestSampleTenant(t *testing.T) {
	mp := sampleMapper(t, "native")
	tn := mp.Tenant()
	user := func(upn string) *Desired {
		u, err := tn.FindUser(upn)
		if err != nil {
			t.Fatal(err)
		}
		return mp.User(u)
	}
	// An assigned user in scope: the POST body MI's mapping gives.
	adele := user("adele.siciliani@contoso.com")
	if !adele.Scope.InScope || adele.Scope.IsSoftDeleted() {
		t.Errorf("adele: %v", adele.Scope)
	}
	want := `{"active":"1","emails":[{"type":"work","value":"adele.siciliani@contoso.com"}],"externalId":"` + adele.ObjectID +
		`","name":{"familyName":"Siciliani","givenName":"Adele"},"userName":"adele.siciliani@contoso.com"}`
	if got := jsonOf(t, adele.Resource(true)); got != want {
		t.Errorf("adele's create body:\n got %s\nwant %s", got, want)
	}
	if got := jsonOf(t, adele.Resource(false)); got != want {
		t.Errorf("every default mapping applies always: update %s", got)
	}
	if ms := adele.Matching(); len(ms) != 1 || ms[0].Attribute.Target != "userName" || ms[0].Value != "adele.siciliani@contoso.com" || !ms[0].Present {
		t.Errorf("matching = %+v", ms)
	}
	// The soft-deleted user: tombstone UPN, active "0", out of scope.
	nestor := user(tenantgen.SampleSoftDeleted)
	un, _ := nestor.Value("userName")
	if s, _ := un.Value().Single(); !strings.HasSuffix(s, tenantgen.SampleSoftDeleted) || len(s) != 32+len(tenantgen.SampleSoftDeleted) {
		t.Errorf("soft-deleted userName = %q, want the tombstone form", s)
	}
	if !nestor.Scope.Causes.Has(SoftDeleted) || nestor.Name != tenantgen.SampleSoftDeleted {
		t.Errorf("nestor: %v (%s)", nestor.Scope, nestor.Name)
	}
	// The disabled user.
	diego := user(tenantgen.SampleDisabled)
	if a, _ := diego.Value("active"); !diego.Scope.Causes.Has(Disabled) || !a.Value().Equal(expr.Str("0")) {
		t.Errorf("diego: %v, active %v", diego.Scope, a.Value())
	}
	// The guest: #EXT# and the tenant's domain stripped (HOW).
	bo := user(tenantgen.SampleGuestUPN)
	if un, _ := bo.Value("userName"); !un.Value().Equal(expr.Str("bo.chan@fabrikam.com")) {
		t.Errorf("guest userName = %v, want bo.chan@fabrikam.com", un.Value())
	}
	if v := mp.UserAttributes(bo.User).Attr(AttrOriginalUPN); !v.Equal(expr.Str(tenantgen.SampleGuestUPN)) {
		t.Errorf("originalUserPrincipalName = %v", v)
	}
	// Users without mail have no email in the body, and say why.
	noMail := 0
	for u := range tn.Users() {
		d := mp.User(u)
		if u.Mail() != "" {
			continue
		}
		noMail++
		e, _ := d.Value(`emails[type eq "work"].value`)
		if e.Flow != FlowNone || d.Resource(true)["emails"] != nil || e.Explanation() != "[mail] is null: Entra does not flow nulls" {
			t.Errorf("%s without mail: flow %v, %q", d.Name, e.Flow, e.Explanation())
		}
	}
	if noMail == 0 {
		t.Error("the sample has users without mail")
	}
	// Groups: MI Analysts has a nested group, which is skipped; the
	// possibly truncated Contractors has its 20.
	analysts, _ := tn.FindGroup(tenantgen.SampleNested)
	ga := mp.Group(analysts)
	if !ga.Scope.InScope || len(ga.SkippedMembers) != 1 || !strings.Contains(ga.SkippedMembers[0].Reason, "nested group") {
		t.Errorf("MI Analysts: %v, skipped %+v", ga.Scope, ga.SkippedMembers)
	}
	if want := `{"description":"Dashboards and reports: analysts and the data science team","displayName":"MI Analysts","externalId":"` + ga.ObjectID + `"}`; jsonOf(t, ga.Resource(true)) != want {
		t.Errorf("MI Analysts body %s", jsonOf(t, ga.Resource(true)))
	}
	contractors, _ := tn.FindGroup(tenantgen.SampleTruncated)
	if gc := mp.Group(contractors); len(gc.Members) != 20 {
		t.Errorf("Contractors: %d members", len(gc.Members))
	}
	allStaff, _ := tn.FindGroup(tenantgen.SampleAllStaffGroup)
	if gs := mp.Group(allStaff); gs.Scope.InScope {
		t.Errorf("All Staff is not assigned: %v", gs.Scope)
	}
}

// TestFormatsMapAlike: the three formats of the sample give the same
// desired resources, scopes and members.
func TestFormatsMapAlike(t *testing.T) {
	type mapped struct {
		scope   Scope
		body    map[string]any
		members []string
	}
	all := func(mp *Mapper) map[string]mapped {
		out := map[string]mapped{}
		for u := range mp.Tenant().Users() {
			d := mp.User(u)
			out["u:"+d.ObjectID] = mapped{d.Scope, d.Resource(true), nil}
		}
		for g := range mp.Tenant().Groups() {
			d := mp.Group(g)
			out["g:"+d.ObjectID] = mapped{d.Scope, d.Resource(true), d.Members}
		}
		return out
	}
	native := all(sampleMapper(t, "native"))
	for _, f := range []string{"graph", "csv"} {
		got := all(sampleMapper(t, f))
		if len(got) != len(native) {
			t.Fatalf("%s: %d objects, native %d", f, len(got), len(native))
		}
		for k, w := range native {
			g := got[k]
			if !reflect.DeepEqual(g.body, w.body) || g.scope != w.scope || !reflect.DeepEqual(g.members, w.members) {
				t.Errorf("%s: %s differs:\n %v %v %v\n %v %v %v", f, k, g.scope, g.body, g.members, w.scope, w.body, w.members)
			}
		}
	}
}

// TestValueFlows: each kind of mapping, and when and what it sends.
func TestValueFlows(t *testing.T) {
	const tn = `users:
  - {objectId: u1, userPrincipalName: ann@contoso.com, accountEnabled: true, mail: ann@contoso.com, attributes: {department: Sales, employeeId: "0042", proxyAddresses: ["smtp:a@x", "SMTP:b@x"]}}
assignments:
  - {principalId: u1}
`
	const m = `users:
  attributes:
    - {target: userName, source: userPrincipalName, matching: 1}
    - {target: externalId, expression: '[employeeId]', matching: 2}
    - {target: title, source: jobTitle}
    - {target: nickName, source: jobTitle, default: Staff}
    - {target: displayName, mappingType: None, default: Unknown}
    - {target: locale, mappingType: None}
    - {target: preferredLanguage, constant: en-US, apply: OnlyDuringCreation}
    - {target: profileUrl, expression: 'IgnoreFlowIfNullOrEmpty([jobTitle])', default: never}
    - {target: userType, expression: 'IIF([jobTitle]="x", "a", "b")'}
    - {target: urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber, source: employeeId, targetType: Integer}
    - {target: urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department, expression: 'Redact([department])'}
    - {target: 'emails[type eq "work"].value', source: mail}
    - {target: 'emails[type eq "other"].value', source: proxyAddresses}
    - {target: active, source: IsSoftDeleted}
`
	mp := mapperOf(t, tn, m, ScopeAssigned)
	u, _ := mp.Tenant().FindUser("ann@contoso.com")
	d := mp.User(u)
	tests := []struct {
		target string
		value  expr.Value
		flow   Flow
		expl   string
	}{
		{"userName", expr.Str("ann@contoso.com"), FlowAlways, ""},
		{"externalId", expr.Str("0042"), FlowAlways, ""},
		{"title", expr.Null(), FlowNone, "[jobTitle] is null: Entra does not flow nulls"},
		{"nickName", expr.Str("Staff"), FlowOnCreate, "[jobTitle] is null: the default flows, on create only"},
		{"displayName", expr.Str("Unknown"), FlowIfTargetEmpty, "None: the default fills the target when it is empty"},
		{"locale", expr.Null(), FlowNone, "None: the target's value is left as it is"},
		{"preferredLanguage", expr.Str("en-US"), FlowOnCreate, "applied only during creation"},
		{"profileUrl", expr.Null(), FlowNone, "IgnoreFlowIfNullOrEmpty: null or empty, dropped from the flow"},
		{"userType", expr.Null(), FlowNone, "the expression fails: the condition reads [jobTitle], which is null"},
		{"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department", expr.Str("Sales"), FlowAlways, "shown as [Redact] in provisioning logs"},
		{`emails[type eq "other"].value`, expr.Multi("smtp:a@x", "SMTP:b@x"), FlowAlways, ""},
		{"active", expr.Str("False"), FlowAlways, ""},
	}
	for _, tt := range tests {
		v, ok := d.Value(tt.target)
		if !ok {
			t.Fatalf("no value for %s", tt.target)
		}
		if !v.Value().Equal(tt.value) || v.Flow != tt.flow || !strings.HasPrefix(v.Explanation(), tt.expl) {
			t.Errorf("%s: %v %v %q; want %v %v %q", tt.target, v.Value(), v.Flow, v.Explanation(), tt.value, tt.flow, tt.expl)
		}
	}
	if v, _ := d.Value("userType"); v.Err == nil || !errors.As(v.Err, new(*expr.EvalError)) || d.Err() != v.Err {
		t.Errorf("userType: the evaluation error is kept: %v", v.Err)
	}
	if v, _ := d.Value("userType"); v.OnCreate() || v.OnUpdate() {
		t.Error("a failed expression flows")
	}
	create := jsonOf(t, d.Resource(true))
	want := `{"active":false,"displayName":"Unknown","emails":[{"type":"work","value":"ann@contoso.com"},{"type":"other","value":["smtp:a@x","SMTP:b@x"]}],"externalId":"0042","nickName":"Staff","preferredLanguage":"en-US",` +
		`"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"department":"Sales","employeeNumber":42},"userName":"ann@contoso.com"}`
	if create != want {
		t.Errorf("create body:\n got %s\nwant %s", create, want)
	}
	update := jsonOf(t, d.Resource(false))
	if strings.Contains(update, "Staff") || strings.Contains(update, "en-US") || strings.Contains(update, "Unknown") || !strings.Contains(update, `"userName"`) {
		t.Errorf("update body has create-only values or lacks others: %s", update)
	}
	ms := d.Matching()
	if len(ms) != 2 || ms[0].Attribute.Target != "userName" || ms[1].Value != "0042" {
		t.Errorf("matching = %+v", ms)
	}
}

// TestJSONTypes: values become the target attribute's type; MI's "1"/"0"
// into a Boolean stays a string (entra-edge-cases §10).
func TestJSONTypes(t *testing.T) {
	for _, c := range []struct {
		v    expr.Value
		tt   TargetType
		want any
	}{
		{expr.Str("True"), TypeBoolean, true},
		{expr.Str("false"), TypeBoolean, false},
		{expr.Str("1"), TypeBoolean, "1"},
		{expr.Str("42"), TypeInteger, json.Number("42")},
		{expr.Str("4.2"), TypeInteger, "4.2"},
		{expr.Str("True"), TypeString, "True"},
		{expr.Multi("a", "b"), TypeString, []any{"a", "b"}},
		{expr.Null(), TypeString, nil},
	} {
		if got := typedJSON(c.v, c.tt); !reflect.DeepEqual(got, c.want) {
			t.Errorf("%v as %s = %#v, want %#v", c.v, c.tt, got, c.want)
		}
	}
}

func TestGuestUPN(t *testing.T) {
	for in, want := range map[string]string{
		"bo.chan_fabrikam.com#EXT#@contoso.onmicrosoft.com": "bo.chan@fabrikam.com",
		"a_b_c.org#ext#@contoso.com":                        "a_b@c.org",
		"ann@contoso.com":                                   "ann@contoso.com",
		"noalias#EXT#@contoso.com":                          "noalias",
	} {
		if got := GuestUPN(in); got != want {
			t.Errorf("GuestUPN(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestExplain: Explain adds call trees and assignments and changes
// nothing else.
func TestExplain(t *testing.T) {
	mp := sampleMapper(t, "native")
	u, _ := mp.Tenant().FindUser("adele.siciliani@contoso.com")
	plain, ex := mp.User(u), mp.ExplainUser(u)
	a, _ := ex.Value("active")
	if a.Tree == nil || a.Tree.Name != "Switch" || len(ex.Assignments) == 0 {
		t.Fatalf("explain: tree %v, assignments %v", a.Tree, ex.Assignments)
	}
	if !reflect.DeepEqual(plain.Resource(true), ex.Resource(true)) || plain.Scope != ex.Scope {
		t.Error("Explain maps differently")
	}
	g, _ := mp.Tenant().FindGroup("MI Admins")
	if eg := mp.ExplainGroup(g); len(eg.Assignments) != 1 || !reflect.DeepEqual(eg.Members, mp.Group(g).Members) {
		t.Errorf("explain group: %v", eg.Assignments)
	}
}

func TestOverlay(t *testing.T) {
	base := expr.Map{"a": expr.Str("1"), "b": expr.Str("2")}
	o := Overlay(expr.Map{"b": expr.Str("x"), "c": expr.Str("")}, base)
	if !o.Attr("a").Equal(expr.Str("1")) || !o.Attr("b").Equal(expr.Str("x")) || !o.Attr("c").Equal(expr.Str("")) || !o.Attr("d").IsNull() {
		t.Error("Overlay reads the wrong layer")
	}
}

// TestConcurrentMapping: one Mapper on many goroutines gives what one
// goroutine gives (run with -race).
func TestConcurrentMapping(t *testing.T) {
	mp := sampleMapper(t, "graph")
	want := map[string]string{}
	for g := range mp.Tenant().Groups() {
		want[g.ObjectID()] = strings.Join(mp.Group(g).Members, ",")
	}
	fresh := sampleMapper(t, "graph")
	var wg sync.WaitGroup
	errs := make(chan string, 64)
	for range 8 {
		wg.Go(func() {
			for g := range fresh.Tenant().Groups() {
				if got := strings.Join(fresh.Group(g).Members, ","); got != want[g.ObjectID()] {
					errs <- g.DisplayName()
				}
			}
			for u := range fresh.Tenant().Users() {
				_ = fresh.User(u).Resource(true)
			}
		})
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Errorf("%s: members differ under concurrency", e)
	}
}

// TestUserToReuses: UserTo gives what User gives, into reused storage.
func TestUserToReuses(t *testing.T) {
	mp := sampleMapper(t, "native")
	var d Desired
	for u := range mp.Tenant().Users() {
		mp.UserTo(&d, u)
		want := mp.User(u)
		if !reflect.DeepEqual(d.Resource(true), want.Resource(true)) || d.Scope != want.Scope || d.ObjectID != want.ObjectID {
			t.Fatalf("%s: UserTo differs from User", u.UserPrincipalName())
		}
	}
	if allocs := testing.AllocsPerRun(100, func() { mp.UserTo(&d, mp.Tenant().User(0)) }); allocs != 0 {
		t.Errorf("UserTo allocates %v times per user, want 0", allocs)
	}
}
