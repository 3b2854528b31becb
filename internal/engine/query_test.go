package engine

import (
	"slices"
	"testing"
	"time"

	"github.com/miscim/miscim/internal/scim"
)

// qryUserNames returns the userNames of a page, in order.
func qryUserNames(lr *scim.ListResponse) []string {
	names := []string{}
	for _, r := range lr.Resources {
		names = append(names, r["userName"].(string))
	}
	return names
}

func qryIDs(lr *scim.ListResponse) []string {
	ids := []string{}
	for _, r := range lr.Resources {
		ids = append(ids, r["id"].(string))
	}
	return ids
}

// qryCheck asserts the shape of a ListResponse: totalResults, itemsPerPage
// equal to the page length, a non-nil Resources array.
func qryCheck(t *testing.T, lr *scim.ListResponse, total, items int) {
	t.Helper()
	if lr.Resources == nil {
		t.Fatal("Resources is nil: an empty answer must be an empty array")
	}
	if lr.TotalResults != total || lr.ItemsPerPage != items || len(lr.Resources) != items {
		t.Fatalf("totalResults %d, itemsPerPage %d, %d resources; want %d, %d, %d",
			lr.TotalResults, lr.ItemsPerPage, len(lr.Resources), total, items, items)
	}
	if len(lr.Schemas) != 1 || lr.Schemas[0] != scim.ListResponseSchema {
		t.Fatalf("schemas %v", lr.Schemas)
	}
}

func TestListUsersFilterMatching(t *testing.T) {
	f := newFixture(t)
	alice := f.createUser("Alice.Smith", map[string]any{"externalId": "Ext-1"})["id"].(string)
	bob := f.createUser("bob.jones", map[string]any{"externalId": "shared"})["id"].(string)
	carol := f.createUser("carol.white", map[string]any{"externalId": "shared"})["id"].(string)
	// Soft delete in mode N: disabled, still found by its userName.
	if _, err := f.e.PatchUser(f.ctx, bob, grpPatch(map[string]any{"op": "Replace", "path": "active", "value": "False"}), ""); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name   string
		filter string
		want   []string
	}{
		{"userName exact", `userName eq "Alice.Smith"`, []string{alice}},
		{"userName other case", `userName eq "ALICE.smith"`, []string{alice}},
		{"attribute name in any case", `USERNAME Eq "alice.smith"`, []string{alice}},
		{"disabled user found", `userName eq "BOB.Jones"`, []string{bob}},
		{"Entra probe with a random GUID", `userName eq "1f3e7c2a-9b5d-4e6f-8a1b-2c3d4e5f6a7b"`, []string{}},
		{"externalId exact", `externalId eq "Ext-1"`, []string{alice}},
		{"externalId is case-sensitive", `externalId eq "ext-1"`, []string{}},
		{"duplicate externalIds both returned", `externalId eq "shared"`, []string{bob, carol}},
		{"id", `id eq "` + carol + `"`, []string{carol}},
		{"id is case-sensitive", `id eq "` + "X" + carol[1:] + `"`, []string{}},
		{"disabled users by active", `active eq false`, []string{bob}},
		{"userName and active", `userName eq "bob.jones" and active eq true`, []string{}},
		{"or across indexes", `userName eq "alice.smith" or externalId eq "shared"`, []string{alice, bob, carol}},
		{"work email value path", `emails[type eq "work"].value eq "CAROL.white@example.com"`, []string{carol}},
		{"not", `not (externalId eq "shared")`, []string{alice}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lr := f.list(Query{Filter: tt.filter})
			qryCheck(t, lr, len(tt.want), len(tt.want))
			if got := qryIDs(lr); !slices.Equal(got, tt.want) {
				t.Errorf("ids %v, want %v", got, tt.want)
			}
			if lr.StartIndex != 1 {
				t.Errorf("startIndex %d, want 1", lr.StartIndex)
			}
		})
	}
	// A disabled user keeps its userName in SCIM while MI shows the prefix.
	lr := f.list(Query{Filter: `userName eq "bob.jones"`})
	if r := lr.Resources[0]; r["active"] != false || r["userName"] != "bob.jones" {
		t.Errorf("disabled user listed as %v", r)
	}
}

func TestListUsersInvalid(t *testing.T) {
	f := newFixture(t)
	f.createUser("alice", nil)
	tests := []struct {
		name     string
		q        Query
		scimType string
	}{
		{"unknown operator", Query{Filter: `userName xx "a"`}, scim.ScimTypeInvalidFilter},
		{"unterminated string", Query{Filter: `userName eq "a`}, scim.ScimTypeInvalidFilter},
		{"dangling and", Query{Filter: `userName eq "a" and`}, scim.ScimTypeInvalidFilter},
		{"unbalanced parenthesis", Query{Filter: `(userName eq "a"`}, scim.ScimTypeInvalidFilter},
		{"sortBy not a path", Query{SortBy: `userName[`}, ""},
		{"sortBy value filter", Query{SortBy: `emails[type eq "work"]`}, ""},
		{"sortOrder unknown", Query{SortBy: "userName", SortOrder: "sideways"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := f.e.ListUsers(f.ctx, tt.q)
			wantSCIMError(t, err, 400, tt.scimType)
			_, err = f.e.ListGroups(f.ctx, tt.q)
			wantSCIMError(t, err, 400, tt.scimType)
		})
	}
}

func TestListUsersPaging(t *testing.T) {
	f := newFixture(t)
	var all []string
	for _, n := range []string{"u1", "u2", "u3", "u4", "u5"} {
		f.createUser(n, nil)
		all = append(all, n)
	}
	tests := []struct {
		name       string
		q          Query
		want       []string
		startIndex int
	}{
		{"no paging", Query{}, all, 1},
		{"startIndex 1 count 2", Query{StartIndex: 1, Count: 2, CountGiven: true}, all[:2], 1},
		{"second page", Query{StartIndex: 3, Count: 2, CountGiven: true}, all[2:4], 3},
		{"last partial page", Query{StartIndex: 5, Count: 2, CountGiven: true}, all[4:], 5},
		{"startIndex beyond total", Query{StartIndex: 6, Count: 2, CountGiven: true}, []string{}, 6},
		{"startIndex far beyond total", Query{StartIndex: 1000}, []string{}, 1000},
		{"count 0", Query{Count: 0, CountGiven: true}, []string{}, 1},
		{"negative count", Query{Count: -3, CountGiven: true}, []string{}, 1},
		{"startIndex 0 treated as 1", Query{StartIndex: 0, Count: 1, CountGiven: true}, all[:1], 1},
		{"negative startIndex treated as 1", Query{StartIndex: -4, Count: 1, CountGiven: true}, all[:1], 1},
		{"count above MaxResults", Query{Count: MaxResults + 50, CountGiven: true}, all, 1},
		{"filtered page", Query{Filter: `userName sw "u"`, StartIndex: 2, Count: 2, CountGiven: true}, all[1:3], 2},
		{"filtered beyond total", Query{Filter: `userName sw "u"`, StartIndex: 9, Count: 2, CountGiven: true}, []string{}, 9},
		{"filtered count 0", Query{Filter: `userName sw "u"`, Count: 0, CountGiven: true}, []string{}, 1},
		{"sorted page", Query{SortBy: "userName", SortOrder: "descending", StartIndex: 2, Count: 2, CountGiven: true}, []string{"u4", "u3"}, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lr := f.list(tt.q)
			qryCheck(t, lr, len(all), len(tt.want))
			if got := qryUserNames(lr); !slices.Equal(got, tt.want) {
				t.Errorf("page %v, want %v", got, tt.want)
			}
			if lr.StartIndex != tt.startIndex {
				t.Errorf("startIndex %d, want %d", lr.StartIndex, tt.startIndex)
			}
		})
	}
}

func TestListUsersPagingCapped(t *testing.T) {
	f := newFixture(t)
	for i := range MaxResults + 1 {
		f.createUser("p"+itoa(i), nil)
	}
	for _, q := range []Query{{}, {Count: MaxResults + 1, CountGiven: true}, {Filter: `userName sw "p"`, Count: 5000, CountGiven: true}} {
		lr := f.list(q)
		qryCheck(t, lr, MaxResults+1, MaxResults)
	}
}

func TestListUsersSort(t *testing.T) {
	f := newFixture(t)
	for _, u := range []struct{ name, family string }{{"charlie", "Zed"}, {"Alice", ""}, {"bob", "adams"}, {"Dave", "Brown"}} {
		extra := map[string]any{}
		if u.family != "" {
			extra["name"] = map[string]any{"familyName": u.family}
		}
		f.createUser(u.name, extra)
	}
	tests := []struct {
		name string
		q    Query
		want []string
	}{
		{"userName ascending, case-insensitive", Query{SortBy: "userName"}, []string{"Alice", "bob", "charlie", "Dave"}},
		{"explicit ascending", Query{SortBy: "userName", SortOrder: "ascending"}, []string{"Alice", "bob", "charlie", "Dave"}},
		{"userName descending", Query{SortBy: "userName", SortOrder: "descending"}, []string{"Dave", "charlie", "bob", "Alice"}},
		{"attribute name in any case", Query{SortBy: "USERNAME", SortOrder: "Descending"}, []string{"Dave", "charlie", "bob", "Alice"}},
		{"sub-attribute, missing last", Query{SortBy: "name.familyName"}, []string{"bob", "Dave", "charlie", "Alice"}},
		{"sub-attribute descending, missing last", Query{SortBy: "name.familyName", SortOrder: "descending"}, []string{"charlie", "Dave", "bob", "Alice"}},
		{"sorted and filtered", Query{SortBy: "userName", SortOrder: "descending", Filter: `userName ne "bob"`}, []string{"Dave", "charlie", "Alice"}},
		{"no sortBy keeps creation order", Query{SortOrder: "descending"}, []string{"charlie", "Alice", "bob", "Dave"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lr := f.list(tt.q)
			if got := qryUserNames(lr); !slices.Equal(got, tt.want) {
				t.Errorf("order %v, want %v", got, tt.want)
			}
		})
	}
}

func TestListProjection(t *testing.T) {
	f := newFixture(t)
	uid := f.createUser("alice", map[string]any{"externalId": "e1", "name": map[string]any{"givenName": "Alice"}})["id"].(string)
	f.createGroup("Alpha", uid)

	t.Run("users attributes=userName", func(t *testing.T) {
		p, err := scim.ParseProjection(scim.User, "userName", "")
		if err != nil {
			t.Fatal(err)
		}
		lr := f.list(Query{Projection: p})
		qryCheck(t, lr, 1, 1)
		r := lr.Resources[0]
		for _, k := range []string{"id", "userName"} {
			if _, ok := r[k]; !ok {
				t.Errorf("%s missing from %v", k, r)
			}
		}
		for _, k := range []string{"emails", "name", "externalId", "active", scim.MiscimUserSchema} {
			if _, ok := r[k]; ok {
				t.Errorf("attributes=userName returned %s: %v", k, r)
			}
		}
		// The stored user is untouched by the projection.
		if _, ok := f.user(uid)["emails"]; !ok {
			t.Error("projection changed the stored user")
		}
	})
	t.Run("users excludedAttributes=emails on a filtered list", func(t *testing.T) {
		p, err := scim.ParseProjection(scim.User, "", "emails")
		if err != nil {
			t.Fatal(err)
		}
		lr := f.list(Query{Filter: `userName eq "alice"`, Projection: p})
		qryCheck(t, lr, 1, 1)
		if _, ok := lr.Resources[0]["emails"]; ok {
			t.Errorf("emails returned: %v", lr.Resources[0])
		}
		if lr.Resources[0]["userName"] != "alice" {
			t.Errorf("userName missing: %v", lr.Resources[0])
		}
	})

	groupTests := []struct {
		name        string
		filter      string
		attributes  string
		excluded    string
		wantMembers bool
	}{
		{"groups default", "", "", "", true},
		{"groups excludedAttributes=members", "", "", "members", false},
		{"groups excludedAttributes=members with filter", `displayName eq "alpha"`, "", "members", false},
		{"groups attributes=displayName", "", "displayName", "", false},
		{"groups attributes=members", "", "members", "", true},
		{"groups filter on members", `members[value eq "` + uid + `"]`, "", "", true},
		{"groups filter on members, excluded", `members[value eq "` + uid + `"]`, "", "members", false},
	}
	for _, tt := range groupTests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := scim.ParseProjection(scim.Group, tt.attributes, tt.excluded)
			if err != nil {
				t.Fatal(err)
			}
			lr, err := f.e.ListGroups(f.ctx, Query{Filter: tt.filter, Projection: p})
			if err != nil {
				t.Fatal(err)
			}
			qryCheck(t, lr, 1, 1)
			mv, ok := lr.Resources[0]["members"]
			if ok != tt.wantMembers {
				t.Fatalf("members present %v, want %v: %v", ok, tt.wantMembers, lr.Resources[0])
			}
			if ok {
				list := mv.([]any)
				if len(list) != 1 || list[0].(map[string]any)["value"] != uid {
					t.Errorf("members %v", mv)
				}
			}
		})
	}
}

func TestListGroupsFilter(t *testing.T) {
	f := newFixture(t)
	u := f.createUser("alice", nil)["id"].(string)
	alpha := f.createGroup("Alpha Team", u)["id"].(string)
	beta, err := f.e.CreateGroup(f.ctx, []byte(`{"displayName":"beta","externalId":"Alias-B"}`))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		filter string
		want   []string
	}{
		{"displayName exact", `displayName eq "Alpha Team"`, []string{alpha}},
		{"displayName other case", `DisplayName eq "ALPHA team"`, []string{alpha}},
		{"displayName no match", `displayName eq "Gamma"`, []string{}},
		{"externalId exact", `externalId eq "Alias-B"`, []string{beta["id"].(string)}},
		{"externalId is case-sensitive", `externalId eq "alias-b"`, []string{}},
		{"id", `id eq "` + alpha + `"`, []string{alpha}},
		{"members value", `members[value eq "` + u + `"]`, []string{alpha}},
		{"members value, unknown", `members.value eq "nobody"`, []string{}},
		{"displayName sw", `displayName sw "B"`, []string{beta["id"].(string)}},
		{"all", "", []string{alpha, beta["id"].(string)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lr, err := f.e.ListGroups(f.ctx, Query{Filter: tt.filter})
			if err != nil {
				t.Fatal(err)
			}
			qryCheck(t, lr, len(tt.want), len(tt.want))
			if got := qryIDs(lr); !slices.Equal(got, tt.want) {
				t.Errorf("ids %v, want %v", got, tt.want)
			}
		})
	}
	t.Run("paging", func(t *testing.T) {
		lr, err := f.e.ListGroups(f.ctx, Query{StartIndex: 2, Count: 5, CountGiven: true, SortBy: "displayName", SortOrder: "descending"})
		if err != nil {
			t.Fatal(err)
		}
		qryCheck(t, lr, 2, 1)
		if lr.Resources[0]["id"] != alpha || lr.StartIndex != 2 {
			t.Errorf("page %v startIndex %d", qryIDs(lr), lr.StartIndex)
		}
	})
}

// TestListIndexRule proves DESIGN §3.4: a filter on an indexed attribute
// (userName, externalId, id, group displayName) never scans the table.
func TestListIndexRule(t *testing.T) {
	f := newFixture(t)
	for _, n := range []string{"a", "b", "x"} {
		f.createUser(n, map[string]any{"externalId": n})
	}
	f.createGroup("x")
	tests := []struct {
		name   string
		groups bool
		filter string
		scans  int
		total  int
	}{
		{"userName eq", false, `userName eq "x"`, 0, 1},
		{"userName eq, other case", false, `userName eq "X"`, 0, 1},
		{"userName eq, no match", false, `userName eq "nobody"`, 0, 0},
		{"externalId eq", false, `externalId eq "x"`, 0, 1},
		{"id eq", false, `id eq "x"`, 0, 0},
		{"userName and active", false, `userName eq "x" and active eq true`, 0, 1},
		{"active and userName", false, `active eq true and userName eq "x"`, 0, 1},
		{"userName or externalId", false, `userName eq "a" or externalId eq "b"`, 0, 2},
		{"qualified userName", false, `urn:ietf:params:scim:schemas:core:2.0:User:userName eq "x"`, 0, 1},
		{"groups displayName eq", true, `displayName eq "x"`, 0, 1},
		{"groups displayName eq, no match", true, `displayName eq "y"`, 0, 0},
		{"groups externalId eq", true, `externalId eq "x"`, 0, 0},
		{"name.givenName eq", false, `name.givenName eq "x"`, 1, 0},
		{"userName or name.givenName", false, `userName eq "a" or name.givenName eq "b"`, 1, 1},
		{"userName sw", false, `userName sw "x"`, 1, 1},
		{"groups displayName co", true, `displayName co "x"`, 1, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f.st.reset()
			var lr *scim.ListResponse
			var err error
			if tt.groups {
				lr, err = f.e.ListGroups(f.ctx, Query{Filter: tt.filter})
			} else {
				lr, err = f.e.ListUsers(f.ctx, Query{Filter: tt.filter})
			}
			if err != nil {
				t.Fatal(err)
			}
			if scans := f.st.reset(); scans != tt.scans {
				t.Errorf("%d table scans, want %d", scans, tt.scans)
			}
			qryCheck(t, lr, tt.total, tt.total)
		})
	}
}

// TestListMicrosoftFilters runs the filters of Microsoft's SCIM test
// collection (#63-65) on a five-user dataset. MI keeps one email per user,
// the work address.
func TestListMicrosoftFilters(t *testing.T) {
	f := newFixture(t)
	users := []struct {
		userName, family, email string
	}{
		{"OMalley", "OMalley", "anna33@example.com"},
		{"emp1", "Employee", "emp1@example.com"},
		{"emp2", "Employee", "emp2@example.org"},
		{"emp3", "employee", "emp3@EXAMPLE.COM"},
		{"enterprise", "Employee", "ent@example.net"},
	}
	for _, u := range users {
		doc := map[string]any{
			"userName": u.userName,
			"name":     map[string]any{"givenName": "Darl", "familyName": u.family},
			"emails":   []any{map[string]any{"type": "work", "primary": true, "value": u.email}},
		}
		if _, err := f.e.CreateUser(f.ctx, body(doc)); err != nil {
			t.Fatal(err)
		}
		f.clock.advance(time.Minute) // created 10:00, 10:01, ... UTC
	}
	tests := []struct {
		name   string
		filter string
		want   []string
	}{
		{"eq and (co or co)", `name.FamilyName eq Employee and (emails.Value co example.com or emails.Value co example.org)`, []string{"emp1", "emp2", "emp3"}},
		{"sw bare word", `userName sw O`, []string{"OMalley"}},
		{"gt dateTime with offset and 7 fraction digits", `meta.Created gt 2015-10-10T14:38:21.8617979-07:00`, []string{"OMalley", "emp1", "emp2", "emp3", "enterprise"}},
		{"gt dateTime in the middle", `meta.created gt 2026-11-27T03:01:30.5-07:00`, []string{"emp2", "emp3", "enterprise"}},
		{"le dateTime", `meta.created le "2026-11-27T10:01:00Z"`, []string{"OMalley", "emp1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lr, err := f.e.ListUsers(f.ctx, Query{Filter: tt.filter})
			if err != nil {
				t.Fatal(err)
			}
			qryCheck(t, lr, len(tt.want), len(tt.want))
			if got := qryUserNames(lr); !slices.Equal(got, tt.want) {
				t.Errorf("users %v, want %v", got, tt.want)
			}
		})
	}
}
