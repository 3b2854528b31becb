package sync

import (
	"testing"

	"github.com/miscim/miscim/internal/entra/mapping"
	"github.com/miscim/miscim/internal/entra/provlog"
	"github.com/miscim/miscim/internal/jsonappend"
)

const mappingUsers = mapping.Users

// The bodies Entra sends for the base tenant (legacy dialect, Metric
// Insights' mapping: active from the "1"/"0" Switch, sent verbatim).
const (
	postAnn   = `POST /Users {"schemas":["urn:ietf:params:scim:schemas:core:2.0:User","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],"externalId":"` + idAnn + `","userName":"ann@contoso.com","active":"1","name":{"givenName":"Ann","familyName":"Lee"},"emails":[{"primary":true,"type":"work","value":"ann@contoso.com"}],"meta":{"resourceType":"User"}}`
	postBob   = `POST /Users {"schemas":["urn:ietf:params:scim:schemas:core:2.0:User","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],"externalId":"` + idBob + `","userName":"bob@contoso.com","active":"1","name":{"givenName":"Bob","familyName":"Ray"},"emails":[{"primary":true,"type":"work","value":"bob@contoso.com"}],"meta":{"resourceType":"User"}}`
	postCarl  = `POST /Users {"schemas":["urn:ietf:params:scim:schemas:core:2.0:User","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],"externalId":"` + idCarl + `","userName":"carl@contoso.com","active":"1","name":{"givenName":"Carl","familyName":"Orr"},"emails":[{"primary":true,"type":"work","value":"carl@contoso.com"}],"meta":{"resourceType":"User"}}`
	postSales = `POST /Groups {"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group","http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group"],"externalId":"` + idSales + `","displayName":"Sales","description":"Sales team","meta":{"resourceType":"Group"}}`
)

func matchUser(upn string) string {
	return "GET /Users?filter=userName%20eq%20%22" + queryEscape(upn) + "%22"
}

func matchGroup(name string) string {
	return "GET /Groups?excludedAttributes=members&filter=displayName%20eq%20%22" + queryEscape(name) + "%22"
}

// initial provisions the base tenant and checks the initial cycle.
func initial(t *testing.T, h *harness, tt *tTenant) {
	t.Helper()
	h.setTenant(tt.yaml())
	cr := h.mustRun()
	addBob, addCarl := `PATCH /Groups/<gid:Sales> {"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Add","path":"members","value":[{"$ref":null,"value":"<id:bob@contoso.com>"}]}]}`,
		`PATCH /Groups/<gid:Sales> {"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Add","path":"members","value":[{"$ref":null,"value":"<id:carl@contoso.com>"}]}]}`
	if h.policy.Dialect == DialectFlag {
		addBob, addCarl = `PATCH /Groups/<gid:Sales> {"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"add","path":"members","value":[{"$ref":null,"value":"<id:bob@contoso.com>"}]}]}`,
			`PATCH /Groups/<gid:Sales> {"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"add","path":"members","value":[{"$ref":null,"value":"<id:carl@contoso.com>"}]}]}`
	}
	h.wantLines(cr.lines(),
		userProbe, groupProbe,
		matchUser("ann@contoso.com"), postAnn,
		matchUser("bob@contoso.com"), postBob,
		matchUser("carl@contoso.com"), postCarl,
		matchGroup("Sales"), postSales,
		addBob, addCarl,
	)
	if cr.res.Kind != CycleInitial {
		t.Errorf("kind %s, want initial", cr.res.Kind)
	}
	if n := count(cr.res, provlog.ActionCreate, provlog.StatusSuccess); n != 4 {
		t.Errorf("%d creates, want 4", n)
	}
	if got := h.memberNames("Sales"); len(got) != 2 || got[0] != "bob@contoso.com" || got[1] != "carl@contoso.com" {
		t.Errorf("Sales members %v", got)
	}
}

func TestInitialThenNoChange(t *testing.T) {
	for _, d := range []Dialect{DialectLegacy, DialectFlag} {
		t.Run(string(d), func(t *testing.T) {
			h := newHarness(t, "N")
			h.policy.Dialect = d
			tt := baseTenant()
			initial(t, h, tt)
			cr := h.mustRun()
			h.wantLines(cr.lines(), userProbe, groupProbe)
			if cr.res.Kind != CycleIncremental || cr.res.Objects != 0 || cr.res.Problems() {
				t.Errorf("second cycle: kind %s, %d objects, problems %v", cr.res.Kind, cr.res.Objects, cr.res.Problems())
			}
		})
	}
}

// patch renders a PATCH request line.
func patch(path, ops string) string {
	return "PATCH " + path + ` {"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[` + ops + `]}`
}

// op renders one operation in the dialect's spelling.
func op(d Dialect, name, path, value string) string {
	o := OpAdd
	switch name {
	case "Replace":
		o = OpReplace
	case "Remove":
		o = OpRemove
	}
	s := `{"op":"` + o.Name(d) + `"`
	if path != "" {
		s += `,"path":` + string(jsonappend.String(nil, path))
	}
	if value != "" {
		s += `,"value":` + value
	}
	return s + "}"
}

func q(s string) string { return string(jsonappend.String(nil, s)) }

// each runs a test in both dialects and both soft-delete modes.
func each(t *testing.T, f func(t *testing.T, h *harness, d Dialect, mode string)) {
	for _, d := range []Dialect{DialectLegacy, DialectFlag} {
		for _, mode := range []string{"N", "Y"} {
			t.Run(string(d)+"/SCIM_REMOVE_USER_ON_SOFT_DELETE="+mode, func(t *testing.T) {
				h := newHarness(t, mode)
				h.policy.Dialect = d
				f(t, h, d, mode)
			})
		}
	}
}

func wantRecord(t *testing.T, h *harness, name string, action provlog.Action, status provlog.Status) provlog.Record {
	t.Helper()
	r := h.sink.find(t, name)
	if r.ProvisioningAction != action || r.ProvisioningStatusInfo.Status != status {
		t.Errorf("%s: record %s/%s, want %s/%s (%+v)", name, r.ProvisioningAction, r.ProvisioningStatusInfo.Status, action, status, r.ProvisioningStatusInfo.ErrorInformation)
	}
	return r
}

func TestRenameIsOneReplaceToTheCachedID(t *testing.T) {
	each(t, func(t *testing.T, h *harness, d Dialect, mode string) {
		tt := baseTenant()
		initial(t, h, tt)
		ann := tt.userRef(idAnn)
		ann.upn, ann.mail = "ann.lee@contoso.com", "ann@contoso.com"
		h.setTenant(tt.yaml())
		cr := h.mustRun()
		h.wantLines(cr.lines(), userProbe, groupProbe,
			"GET /Users/<id:ann.lee@contoso.com>",
			patch("/Users/<id:ann.lee@contoso.com>", op(d, "Replace", "userName", q("ann.lee@contoso.com"))))
		r := wantRecord(t, h, "ann.lee@contoso.com", provlog.ActionUpdate, provlog.StatusSuccess)
		if len(r.ModifiedProperties) != 1 || *r.ModifiedProperties[0].OldValue != "ann@contoso.com" || *r.ModifiedProperties[0].NewValue != "ann.lee@contoso.com" {
			t.Errorf("modified properties %+v", r.ModifiedProperties)
		}
		if h.user("ann@contoso.com") != nil || h.user("ann.lee@contoso.com") == nil {
			t.Error("the engine does not hold the new userName")
		}
	})
}

func TestSoftDeleteThenRestore(t *testing.T) {
	each(t, func(t *testing.T, h *harness, d Dialect, mode string) {
		tt := baseTenant()
		initial(t, h, tt)
		bobID := h.user("bob@contoso.com")["id"].(string)
		tt.userRef(idBob).deleted = true
		h.setTenant(tt.yaml())
		cr := h.mustRun()
		tomb := "aaaaaaaa000040008000000000000002bob@contoso.com"
		ops := op(d, "Replace", "userName", q(tomb)) + "," + op(d, "Replace", "active", `"0"`)
		if d == DialectFlag {
			ops = `{"op":"replace","value":{"userName":` + q(tomb) + `,"active":"0"}}`
		}
		h.wantLines(cr.lines(), userProbe, groupProbe, "GET /Users/"+bobID, patch("/Users/"+bobID, ops))
		r := wantRecord(t, h, "bob@contoso.com", provlog.ActionDisable, provlog.StatusSuccess)
		if r.ProvisioningSteps[1].Details["IsSoftDeleted"] != "True" {
			t.Errorf("scoping step %+v", r.ProvisioningSteps[1])
		}
		u, err := h.userByID(bobID)
		switch mode {
		case "N":
			if err != nil || u["active"] != false || u["userName"] != tomb {
				t.Errorf("mode N: the user should be disabled and renamed: %v %v", u, err)
			}
			if h.memberNames("Sales")[0] != tomb {
				t.Errorf("mode N: the user keeps its membership: %v", h.memberNames("Sales"))
			}
		case "Y":
			if err == nil {
				t.Errorf("mode Y: the user should be gone from MI: %v", u)
			}
		}

		// Restore: PATCH userName back and active on the same id — which
		// fails when Metric Insights deleted the user (mode Y): GET 404 is
		// InvalidAnchor, escrowed, and nothing is re-created.
		tt.userRef(idBob).deleted = false
		h.setTenant(tt.yaml())
		cr = h.mustRun()
		if mode == "Y" {
			h.wantLines(cr.lines(), userProbe, groupProbe, "GET /Users/"+bobID)
			r := wantRecord(t, h, "bob@contoso.com", provlog.ActionUpdate, provlog.StatusFailure)
			if r.ProvisioningStatusInfo.ErrorInformation.ErrorCode != CodeInvalidAnchor {
				t.Errorf("error %+v", r.ProvisioningStatusInfo.ErrorInformation)
			}
			if cr.res.Escrowed != 1 || !cr.res.Problems() {
				t.Errorf("escrowed %d", cr.res.Escrowed)
			}
			return
		}
		ops = op(d, "Replace", "userName", q("bob@contoso.com")) + "," + op(d, "Replace", "active", `"1"`)
		if d == DialectFlag {
			ops = `{"op":"replace","value":{"userName":"bob@contoso.com","active":"1"}}`
		}
		h.wantLines(cr.lines(), userProbe, groupProbe, "GET /Users/"+bobID, patch("/Users/"+bobID, ops))
		wantRecord(t, h, "bob@contoso.com", provlog.ActionUpdate, provlog.StatusSuccess)
		if u, err := h.userByID(bobID); err != nil || u["active"] != true || u["userName"] != "bob@contoso.com" {
			t.Errorf("restored user %v %v", u, err)
		}
		if got := h.memberNames("Sales"); len(got) != 2 {
			t.Errorf("memberships after restore %v (no membership request is sent)", got)
		}
	})
}

func TestUnassignDisablesThenReassignMatchesAgain(t *testing.T) {
	each(t, func(t *testing.T, h *harness, d Dialect, mode string) {
		tt := baseTenant()
		initial(t, h, tt)
		annID := h.user("ann@contoso.com")["id"].(string)
		tt.unassign(idAnn)
		h.setTenant(tt.yaml())
		cr := h.mustRun()
		h.wantLines(cr.lines(), userProbe, groupProbe, "GET /Users/"+annID, patch("/Users/"+annID, op(d, "Replace", "active", `"0"`)))
		wantRecord(t, h, "ann@contoso.com", provlog.ActionDisable, provlog.StatusSuccess)
		if h.link(mappingUsers, idAnn) != "" {
			t.Error("the link of an unassigned user is kept")
		}
		if mode == "Y" {
			if _, err := h.userByID(annID); err == nil {
				t.Error("mode Y keeps the disabled user")
			}
		}

		tt.assigned = append(tt.assigned, idAnn)
		h.setTenant(tt.yaml())
		cr = h.mustRun()
		if mode == "Y" {
			// MI deleted the user: the match finds nothing, Entra creates it.
			h.wantLines(cr.lines(), userProbe, groupProbe, matchUser("ann@contoso.com"), postAnn)
			return
		}
		h.wantLines(cr.lines(), userProbe, groupProbe, matchUser("ann@contoso.com"), patch("/Users/"+annID, op(d, "Replace", "active", `"1"`)))
		wantRecord(t, h, "ann@contoso.com", provlog.ActionUpdate, provlog.StatusSuccess)
		if h.link(mappingUsers, idAnn) != annID {
			t.Error("the user is not linked again")
		}
	})
}

func TestDisabledAccountIsDisabledAndEnabledOnItsID(t *testing.T) {
	each(t, func(t *testing.T, h *harness, d Dialect, mode string) {
		tt := baseTenant()
		initial(t, h, tt)
		annID := h.user("ann@contoso.com")["id"].(string)
		tt.userRef(idAnn).disabled = true
		h.setTenant(tt.yaml())
		cr := h.mustRun()
		h.wantLines(cr.lines(), userProbe, groupProbe, "GET /Users/"+annID, patch("/Users/"+annID, op(d, "Replace", "active", `"0"`)))
		if h.link(mappingUsers, idAnn) != annID {
			t.Error("a disabled user must stay linked")
		}
		tt.userRef(idAnn).disabled = false
		h.setTenant(tt.yaml())
		cr = h.mustRun()
		if mode == "Y" {
			h.wantLines(cr.lines(), userProbe, groupProbe, "GET /Users/"+annID)
			return
		}
		h.wantLines(cr.lines(), userProbe, groupProbe, "GET /Users/"+annID, patch("/Users/"+annID, op(d, "Replace", "active", `"1"`)))
	})
}

func TestHardDeleteSendsDeleteThenTheMemberRemoval(t *testing.T) {
	each(t, func(t *testing.T, h *harness, d Dialect, mode string) {
		tt := baseTenant()
		initial(t, h, tt)
		carlID := h.user("carl@contoso.com")["id"].(string)
		salesID := h.group("Sales")["id"].(string)
		tt.removeUser(idCarl)
		h.setTenant(tt.yaml())
		cr := h.mustRun()
		remove := op(d, "Remove", "members", `[{"value":"`+carlID+`"}]`)
		if d == DialectFlag {
			remove = op(d, "Remove", `members[value eq "`+carlID+`"]`, "")
		}
		h.wantLines(cr.lines(), userProbe, groupProbe, "DELETE /Users/"+carlID, patch("/Groups/"+salesID, remove))
		wantRecord(t, h, "carl@contoso.com", provlog.ActionDelete, provlog.StatusSuccess)
		if _, err := h.userByID(carlID); err == nil {
			t.Error("the user is still there")
		}
		if es, _ := h.state.Entries(t.Context(), mappingUsers, false); es[SourceKey(idCarl)] != nil {
			t.Error("the connector space still holds the deleted user")
		}
	})
}

func TestMembershipChanges(t *testing.T) {
	each(t, func(t *testing.T, h *harness, d Dialect, mode string) {
		tt := baseTenant()
		initial(t, h, tt)
		annID := h.user("ann@contoso.com")["id"].(string)
		bobID := h.user("bob@contoso.com")["id"].(string)
		salesID := h.group("Sales")["id"].(string)
		// Ann joins Sales; Bob leaves it, and with it the app's scope: Bob
		// is disabled first, then removed from the group (ACQ-U).
		g := tt.groupRef(idSales)
		g.members = []string{idAnn, idCarl}
		h.setTenant(tt.yaml())
		cr := h.mustRun()
		remove := op(d, "Remove", "members", `[{"value":"`+bobID+`"}]`)
		if d == DialectFlag {
			remove = op(d, "Remove", `members[value eq "`+bobID+`"]`, "")
		}
		h.wantLines(cr.lines(), userProbe, groupProbe,
			"GET /Users/"+bobID, patch("/Users/"+bobID, op(d, "Replace", "active", `"0"`)),
			patch("/Groups/"+salesID, op(d, "Add", "members", `[{"$ref":null,"value":"`+annID+`"}]`)),
			patch("/Groups/"+salesID, remove))
		if mode == "N" {
			if got := h.memberNames("Sales"); len(got) != 2 || got[0] != "ann@contoso.com" || got[1] != "carl@contoso.com" {
				t.Errorf("members %v", got)
			}
		}
		r := wantRecord(t, h, "Sales", provlog.ActionUpdate, provlog.StatusSuccess)
		if mp := r.ModifiedProperties; len(mp) != 1 || *mp[0].NewValue != annID || *mp[0].OldValue != bobID {
			t.Errorf("members modified %+v", mp)
		}
	})
}

func TestGroupRenameAndUnassign(t *testing.T) {
	each(t, func(t *testing.T, h *harness, d Dialect, mode string) {
		tt := baseTenant()
		initial(t, h, tt)
		salesID := h.group("Sales")["id"].(string)
		bobID := h.user("bob@contoso.com")["id"].(string)
		carlID := h.user("carl@contoso.com")["id"].(string)
		tt.groupRef(idSales).name = "Sales EMEA"
		h.setTenant(tt.yaml())
		cr := h.mustRun()
		h.wantLines(cr.lines(), userProbe, groupProbe, "GET /Groups/"+salesID+"?excludedAttributes=members",
			patch("/Groups/"+salesID, op(d, "Replace", "displayName", `"Sales EMEA"`)))
		if h.group("Sales EMEA") == nil {
			t.Error("not renamed")
		}
		// Unassigned: its members lose scope and are disabled, then the
		// group is deleted; no member requests (entra-edge-cases §2).
		tt.unassign(idSales)
		h.setTenant(tt.yaml())
		cr = h.mustRun()
		h.wantLines(cr.lines(), userProbe, groupProbe,
			"GET /Users/"+bobID, patch("/Users/"+bobID, op(d, "Replace", "active", `"0"`)),
			"GET /Users/"+carlID, patch("/Users/"+carlID, op(d, "Replace", "active", `"0"`)),
			"DELETE /Groups/"+salesID)
		wantRecord(t, h, "Sales EMEA", provlog.ActionDelete, provlog.StatusSuccess)
		if h.group("Sales EMEA") != nil {
			t.Error("the group is still there")
		}
	})
}
