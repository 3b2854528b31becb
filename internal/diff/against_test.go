package diff

import (
	"context"
	"slices"
	"testing"

	"github.com/miscim/miscim/internal/client"
	"github.com/miscim/miscim/internal/entra/mapping"
)

func (tt *testTarget) snapshot(t *testing.T, name string) *Snapshot {
	t.Helper()
	s, err := Read(context.Background(), tt.c, name, ReadOptions{Mapping: mapping.Default(), Users: true, Groups: true, Members: true})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// Two targets compare with the same pairing: their own ids differ, the
// objects and memberships pair through userName and displayName.
func TestCompareTargets(t *testing.T) {
	a, b := newTarget(t), newTarget(t)
	// b's ids differ from a's: it creates one user more first.
	if _, err := b.c.Create(context.Background(), client.Users, []byte(`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"first@contoso.com","emails":[{"value":"first@contoso.com"}]}`)); err != nil {
		t.Fatal(err)
	}
	a.provision(t, mapper(t, baseTenant, nil, ""))
	b.provision(t, mapper(t, baseTenant, nil, ""))
	if r := CompareTargets(mapping.Default(), a.snapshot(t, "a"), b.snapshot(t, "b"), Options{}); !slices.Equal(briefs(r), []string{"missing user first@contoso.com"}) {
		t.Fatalf("provisioned alike: %q", briefs(r))
	}
	a.disable(t, "fay@contoso.com")
	bob := a.id(t, client.Users, "userName", "bob@contoso.com")
	a.patch(t, client.Users, bob, map[string]any{"op": "replace", "path": "name.familyName", "value": "Stoner"})
	sales := a.id(t, client.Groups, "displayName", "Sales")
	a.patch(t, client.Groups, sales, map[string]any{"op": "remove", "path": `members[value eq "` + bob + `"]`})
	fay := a.id(t, client.Users, "userName", "fay@contoso.com")
	a.patch(t, client.Groups, sales, map[string]any{"op": "add", "path": "members", "value": []any{map[string]any{"value": fay}}})
	if _, err := a.c.Create(context.Background(), client.Groups, []byte(`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"Extra"}`)); err != nil {
		t.Fatal(err)
	}
	r := CompareTargets(mapping.Default(), a.snapshot(t, "a"), b.snapshot(t, "b"), Options{})
	want := []string{
		"missing user first@contoso.com",
		`changed user bob@contoso.com name.familyName:"Stoner"→"Stone"`,
		"changed user fay@contoso.com active:false→true",
		"extra group Extra",
		"memberAdded group Sales member bob@contoso.com",
		"memberRemoved group Sales member fay@contoso.com",
	}
	if got := briefs(r); !slices.Equal(got, want) {
		t.Errorf("changes\n got %q\nwant %q", got, want)
	}
	if s := r.Summary; s.Users.Paired != 3 || s.Users.Identical != 1 || s.Groups.Extra != 1 || s.Members.Added != 1 || s.Members.Removed != 1 {
		t.Errorf("summary %+v", s)
	}
	e, err := r.Explain("fay@contoso.com")
	if err != nil {
		t.Fatal(err)
	}
	if e.Against == nil || e.Target == nil || e.PairedBy != "userName" || len(e.Changes) != 2 {
		t.Errorf("explanation %+v", e)
	}
}
