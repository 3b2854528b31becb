package diff

import (
	"context"
	"errors"
	"testing"

	"github.com/miscim/miscim/internal/client"
)

func TestExplain(t *testing.T) {
	ctx := context.Background()
	tt := newTarget(t)
	tt.provision(t, mapper(t, baseTenant, nil, ""))
	if _, err := tt.c.Create(ctx, client.Users, []byte(`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"hand@contoso.com","emails":[{"value":"hand@contoso.com"}]}`)); err != nil {
		t.Fatal(err)
	}
	mp := mapper(t, edit(baseTenant, "surname: Lee", "surname: Leigh"), nil, "")
	read := func(ref string) *Report {
		snap, err := Read(ctx, tt.c, "embedded", ReadOptions{Mapping: mp.Mapping(), Users: true, Groups: true, Members: true, Keep: Keep(ref, mp.Tenant())})
		if err != nil {
			t.Fatal(err)
		}
		return Compare(mp, snap, Options{})
	}

	t.Run("a tenant user, by objectId", func(t *testing.T) {
		e, err := read(annID).Explain(annID)
		if err != nil {
			t.Fatal(err)
		}
		if e.Identity != "ann@contoso.com" || e.Tenant == nil || !e.Tenant.InScope || e.Target == nil || e.Target.Resource == nil || e.PairedBy != "userName" {
			t.Fatalf("explanation %+v", e)
		}
		var differs []string
		for _, a := range e.Attributes {
			if a.Differs {
				differs = append(differs, a.Attribute)
			}
			if !a.Compared || a.Source == "" {
				t.Errorf("attribute %+v", a)
			}
		}
		if len(differs) != 1 || differs[0] != "name.familyName" || len(e.Changes) != 1 || e.Changes[0].Kind != Changed {
			t.Errorf("differs %q, changes %+v", differs, e.Changes)
		}
	})
	t.Run("a user only in the target, by userName in another case", func(t *testing.T) {
		e, err := read("HAND@contoso.com").Explain("HAND@contoso.com")
		if err != nil {
			t.Fatal(err)
		}
		if e.Tenant != nil || e.Target == nil || e.Target.Resource == nil || len(e.Changes) != 1 || e.Changes[0].Kind != Unmanaged {
			t.Errorf("explanation %+v", e)
		}
	})
	t.Run("out of scope and not in the target", func(t *testing.T) {
		e, err := read("carol@contoso.com").Explain("carol@contoso.com")
		if err != nil {
			t.Fatal(err)
		}
		if e.Tenant == nil || e.Tenant.InScope || len(e.Tenant.Causes) != 1 || e.Tenant.Causes[0] != "not-assigned" || e.Target != nil || len(e.Changes) != 0 {
			t.Errorf("explanation %+v", e)
		}
	})
	t.Run("a group with its memberships", func(t *testing.T) {
		e, err := read("Sales").Explain("Sales")
		if err != nil {
			t.Fatal(err)
		}
		if e.Object != "group" || len(e.Tenant.Members) != 2 || len(e.Tenant.Skipped) != 1 || len(e.Target.Members) != 2 {
			t.Errorf("explanation %+v", e)
		}
	})
	t.Run("nothing", func(t *testing.T) {
		_, err := read("nobody").Explain("nobody")
		var le *LookupError
		if !errors.As(err, &le) {
			t.Errorf("err = %v", err)
		}
	})
}
