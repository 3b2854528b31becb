package server

import (
	"slices"
	"strings"
	"testing"

	"github.com/miscim/miscim/internal/scim"
)

// The requests in this file are the shapes Microsoft Entra ID sends
// (reference/entra-behavior.md §1–§3), byte for byte where it matters.

// TestEntraProbe is Test Connection: a filter on a random GUID must answer
// 200 with an empty ListResponse, in both encodings Entra and Microsoft's
// tests use, with or without the aadOptscim062020 flag.
func TestEntraProbe(t *testing.T) {
	v := newEnv(t, Options{})
	for _, target := range []string{
		`/scim/v2/Users?filter=userName+eq+%226f1c0c4e-7d1a-4b5e-9a51-0c1e9c3f2a10%22`,
		`/scim/v2/Users?filter=userName%20eq%20%226f1c0c4e-7d1a-4b5e-9a51-0c1e9c3f2a10%22`,
		`/scim/v2/Users?filter=userName+eq+"6f1c0c4e-7d1a-4b5e-9a51-0c1e9c3f2a10"`,
		`/scim/v2/Users?filter=userName+eq+%226f1c0c4e-7d1a-4b5e-9a51-0c1e9c3f2a10%22&aadOptscim062020`,
		`/scim/v2/Users?aadOptscim062020&filter=userName%20eq%20%226f1c0c4e-7d1a-4b5e-9a51-0c1e9c3f2a10%22`,
		`/scim/v2/Groups?excludedAttributes=members&filter=displayName+eq+%226f1c0c4e-7d1a-4b5e-9a51-0c1e9c3f2a10%22`,
	} {
		r := v.req("GET", target, nil).expect(t, 200)
		if ct := r.Header().Get("Content-Type"); ct != "application/scim+json; charset=utf-8" {
			t.Errorf("%s: Content-Type %q", target, ct)
		}
		if r.num("totalResults") != 0 || r.num("itemsPerPage") != 0 || r.num("startIndex") != 1 {
			t.Errorf("%s: %s", target, r)
		}
		res, ok := r.body["Resources"].([]any)
		if !ok || len(res) != 0 {
			t.Errorf("%s: Resources = %#v, want []", target, r.body["Resources"])
		}
		if s := r.body["schemas"].([]any); len(s) != 1 || s[0] != scim.ListResponseSchema {
			t.Errorf("%s: schemas = %v", target, s)
		}
	}
}

func TestEntraUserLifecycle(t *testing.T) {
	v := newEnv(t, Options{})
	r := v.req("POST", "/scim/v2/Users", userBody("Test_User_00aa00aa@contoso.com")).expect(t, 201)
	id := r.str("id")
	if loc := r.Header().Get("Location"); loc != "http://example.com/scim/v2/Users/"+id {
		t.Errorf("Location = %q", loc)
	}
	if et := r.Header().Get("ETag"); et != `W/"1"` {
		t.Errorf("ETag = %q", et)
	}
	meta := r.body["meta"].(map[string]any)
	if meta["location"] != "http://example.com/scim/v2/Users/"+id {
		t.Errorf("meta.location = %v", meta["location"])
	}

	// Matching finds it, whatever the case of the userName (entra-behavior §2.2).
	r = v.req("GET", `/scim/v2/Users?filter=userName+eq+%22test_user_00AA00AA@contoso.com%22`, nil).expect(t, 200)
	if r.num("totalResults") != 1 {
		t.Fatalf("match: %s", r)
	}
	found := r.body["Resources"].([]any)[0].(map[string]any)
	if found["meta"].(map[string]any)["location"] != "http://example.com/scim/v2/Users/"+id {
		t.Errorf("list meta.location = %v", found["meta"])
	}

	// Legacy multi-operation PATCH (no flag).
	v.req("PATCH", "/scim/v2/Users/"+id, patchBody(
		op("Replace", `emails[type eq "work"].value`, "updatedEmail@contoso.com"),
		op("Replace", "name.familyName", "updatedFamilyName"),
		op("Replace", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber", "Eqpj"),
		op("Add", "nickName", "Babs"),
	)).expect(t, 200)
	// aadOptscim062020: one path-less op with dotted and URN keys.
	r = v.req("PATCH", "/scim/v2/Users/"+id+"?aadOptscim062020", patchBody(
		op("replace", "", map[string]any{
			"displayName":     "Bjfe",
			"name.givenName":  "Kkom",
			"name.familyName": "Unua",
			"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber": "Aklq",
		}),
	)).expect(t, 200)
	if name := r.body["name"].(map[string]any); name["givenName"] != "Kkom" || name["familyName"] != "Unua" {
		t.Errorf("name after PATCH = %v", name)
	}
	if r.Header().Get("ETag") != `W/"3"` || r.body["meta"].(map[string]any)["location"] == nil {
		t.Errorf("PATCH answer: ETag %q, meta %v", r.Header().Get("ETag"), r.body["meta"])
	}

	// Disable in the three spellings, re-enabling in between.
	for _, off := range []any{"False", false, "0"} {
		r = v.req("PATCH", "/scim/v2/Users/"+id, patchBody(op("Replace", "active", off))).expect(t, 200)
		if r.body["active"] != false {
			t.Errorf("active %v: answer %s", off, r)
		}
		r = v.req("GET", "/scim/v2/Users/"+id, nil).expect(t, 200)
		if r.body["active"] != false {
			t.Errorf("active %v: GET %s", off, r)
		}
		v.req("PATCH", "/scim/v2/Users/"+id, patchBody(op("replace", "active", true))).expect(t, 200)
	}

	v.req("DELETE", "/scim/v2/Users/"+id, nil).expect(t, 204)
	v.req("GET", "/scim/v2/Users/"+id, nil).expect(t, 404)
}

func TestEntraGroupFlow(t *testing.T) {
	v := newEnv(t, Options{})
	u1, u2, u3 := v.createUser("u1@contoso.com"), v.createUser("u2@contoso.com"), v.createUser("u3@contoso.com")
	r := v.req("POST", "/scim/v2/Groups", map[string]any{
		"schemas":     []any{scim.GroupSchema, "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group"},
		"externalId":  "8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159",
		"displayName": "Sales",
		"meta":        map[string]any{"resourceType": "Group"},
	}).expect(t, 201)
	gid := r.str("id")
	if m, ok := r.body["members"].([]any); !ok || len(m) != 0 {
		t.Errorf("created group members = %#v, want []", r.body["members"])
	}
	if r.Header().Get("Location") != "http://example.com/scim/v2/Groups/"+gid || r.Header().Get("ETag") == "" {
		t.Errorf("Location %q ETag %q", r.Header().Get("Location"), r.Header().Get("ETag"))
	}

	// Add members as Entra does: {"$ref":null,"value":id}.
	r = v.req("PATCH", "/scim/v2/Groups/"+gid, patchBody(op("Add", "members", []any{
		map[string]any{"$ref": nil, "value": u1},
		map[string]any{"$ref": nil, "value": u2},
		map[string]any{"$ref": nil, "value": u3},
	}))).expect(t, 204)
	if r.Header().Get("ETag") != `W/"2"` || r.Body.Len() != 0 {
		t.Errorf("204 answer: ETag %q body %q", r.Header().Get("ETag"), r.Body.String())
	}
	if got := v.memberIDs(gid); !slices.Equal(sorted(got), sorted([]string{u1, u2, u3})) {
		t.Errorf("members %v", got)
	}
	// Remove by value array (legacy) and by value filter (aadOptscim062020).
	v.req("PATCH", "/scim/v2/Groups/"+gid, patchBody(op("Remove", "members", []any{map[string]any{"value": u1}}))).expect(t, 204)
	v.req("PATCH", "/scim/v2/Groups/"+gid, patchBody(op("remove", `members[value eq "`+u2+`"]`, nil))).expect(t, 204)
	if got := v.memberIDs(gid); !slices.Equal(got, []string{u3}) {
		t.Errorf("members after removes %v, want [%s]", got, u3)
	}
	// Rename.
	v.req("PATCH", "/scim/v2/Groups/"+gid, patchBody(op("Replace", "displayName", "Sales EMEA"))).expect(t, 204)

	// Entra's group reads never return members.
	r = v.req("GET", `/scim/v2/Groups?excludedAttributes=members&filter=displayName+eq+%22sales%20emea%22`, nil).expect(t, 200)
	if r.num("totalResults") != 1 {
		t.Fatalf("group match: %s", r)
	}
	g := r.body["Resources"].([]any)[0].(map[string]any)
	if _, has := g["members"]; has || g["displayName"] != "Sales EMEA" {
		t.Errorf("group from list: %v", g)
	}
	r = v.req("GET", "/scim/v2/Groups/"+gid+"?excludedAttributes=members", nil).expect(t, 200)
	if _, has := r.body["members"]; has {
		t.Errorf("GET excludedAttributes=members returned members: %s", r)
	}
	if r.body["meta"].(map[string]any)["location"] != "http://example.com/scim/v2/Groups/"+gid {
		t.Errorf("meta = %v", r.body["meta"])
	}
	r = v.req("GET", "/scim/v2/Groups/"+gid, nil).expect(t, 200)
	if m := r.body["members"].([]any); len(m) != 1 {
		t.Errorf("GET members = %v", m)
	}

	// RFC 7644 §3.5.2: with attributes, PATCH answers 200 with the resource.
	r = v.req("PATCH", "/scim/v2/Groups/"+gid+"?attributes=members", patchBody(op("Add", "members", []any{map[string]any{"value": u1}}))).expect(t, 200)
	if m, _ := r.body["members"].([]any); len(m) != 2 || r.str("id") != gid {
		t.Errorf("PATCH ?attributes=members answer: %s", r)
	}
	r = v.req("PATCH", "/scim/v2/Groups/"+gid+"?attributes=displayName", patchBody(op("Replace", "description", "d"))).expect(t, 200)
	if _, has := r.body["members"]; has || r.str("displayName") != "Sales EMEA" {
		t.Errorf("PATCH ?attributes=displayName answer: %s", r)
	}

	v.req("DELETE", "/scim/v2/Groups/"+gid, nil).expect(t, 204)
	v.req("GET", "/scim/v2/Groups/"+gid, nil).expect(t, 404)
}

func sorted(s []string) []string {
	out := slices.Clone(s)
	slices.Sort(out)
	return out
}

// TestForwardedProto checks the scheme of Location behind a TLS proxy.
func TestForwardedProto(t *testing.T) {
	v := newEnv(t, Options{})
	r := v.req("POST", "/scim/v2/Users", userBody("fp@contoso.com"), "X-Forwarded-Proto", "https").expect(t, 201)
	if loc := r.Header().Get("Location"); !strings.HasPrefix(loc, "https://example.com/scim/v2/Users/") {
		t.Errorf("Location = %q", loc)
	}
	r = v.req("GET", "/scim/v2/ServiceProviderConfig", nil, "X-Forwarded-Proto", "javascript").expect(t, 200)
	if loc := r.body["meta"].(map[string]any)["location"]; loc != "http://example.com/scim/v2/ServiceProviderConfig" {
		t.Errorf("meta.location = %v", loc)
	}
}
