package engine

import (
	"errors"
	"testing"

	"github.com/miscim/miscim/internal/scim"
)

// The engine must answer any malformed input with a SCIM client error
// (4xx) and write nothing: never a plain error, which the server would turn
// into a 500 (DESIGN §9).

func wantClientError(t *testing.T, err error) {
	t.Helper()
	var se *scim.Error
	if !errors.As(err, &se) {
		t.Fatalf("want a SCIM error, got %T %v", err, err)
	}
	if se.Status < 400 || se.Status > 499 {
		t.Fatalf("want a 4xx, got %d: %s", se.Status, se.Detail)
	}
}

func FuzzCreateUser(f *testing.F) {
	f.Add([]byte(entraCreateUser))
	f.Add([]byte(`{"userName":"a","emails":[{"value":"a@x","type":"work","primary":"True"}],"active":"0","miUserType":"power"}`))
	f.Add([]byte(`{"userName":"a","emails":{"value":"a@x"},"name":{"givenName":null},"externalId":null}`))
	f.Add([]byte(`{"userName":7}`))
	f.Add([]byte(`[]`))
	fx := newFixture(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		fx.t = t
		before := fx.snapshot()
		u, err := fx.e.CreateUser(fx.ctx, b)
		if err != nil {
			wantClientError(t, err)
			if fx.snapshot() != before {
				t.Fatal("a rejected create wrote")
			}
			return
		}
		got := fx.user(u["id"].(string))
		if describe(got) != describe(u) {
			t.Fatalf("GET differs from the create response:\n%v\n%v", got, u)
		}
		if err := fx.e.DeleteUser(fx.ctx, u["id"].(string), ""); err != nil {
			t.Fatal(err)
		}
	})
}

func FuzzPatchUser(f *testing.F) {
	seeds := []string{
		`{"Operations":[{"op":"Replace","path":"active","value":"False"}]}`,
		`{"Operations":[{"op":"replace","value":{"name.givenName":"K","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber":"A"}}]}`,
		`{"Operations":[{"op":"Add","path":"emails[type eq \"work\"].value","value":"x@y"}]}`,
		`{"Operations":[{"op":"remove","path":"emails[type eq \"work\"]"}]}`,
		`{"Operations":[{"op":"replace","path":"id","value":"x"}]}`,
		`{"Operations":[{"op":"replace","path":"userName","value":"other"}]}`,
		`{"Operations":[{"op":"add","path":"name","value":{"givenName":1}}]}`,
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	fx := newFixture(f)
	fx.createUser("other", nil)
	for _, mode := range []string{"N", "Y"} {
		f.Add([]byte(`{"Operations":[{"op":"replace","path":"active","value":false},{"op":"replace","path":"userName","value":"` + mode + `"}]}`))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		fx.t = t
		u := fx.createUser("target", nil)
		id := u["id"].(string)
		defer func() { _ = fx.e.DeleteUser(fx.ctx, id, "") }()
		before := fx.snapshot()
		r, err := fx.e.PatchUser(fx.ctx, id, b, "")
		if err != nil {
			wantClientError(t, err)
			if fx.snapshot() != before {
				t.Fatal("a rejected PATCH wrote")
			}
			return
		}
		if r["active"] == true {
			if got := fx.user(id); describe(got) != describe(r) {
				t.Fatalf("GET differs from the PATCH response:\n%v\n%v", got, r)
			}
		}
	})
}

func FuzzPatchGroup(f *testing.F) {
	seeds := []string{
		`{"Operations":[{"op":"Add","path":"members","value":[{"$ref":null,"value":"M"}]}]}`,
		`{"Operations":[{"op":"remove","path":"members[value eq \"M\"]"}]}`,
		`{"Operations":[{"op":"Remove","path":"members","value":[{"value":"M"}]}]}`,
		`{"Operations":[{"op":"remove","path":"members"}]}`,
		`{"Operations":[{"op":"replace","value":{"displayName":"X","members":["M"]}}]}`,
		`{"Operations":[{"op":"add","path":"members","value":"string id 1"}]}`,
		`{"Operations":[{"op":"replace","path":"displayName","value":"Other"}]}`,
		`{"Operations":[{"op":"remove","path":"members[display sw \"m\"]"}]}`,
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	fx := newFixture(f)
	fx.createGroup("Other")
	f.Fuzz(func(t *testing.T, b []byte) {
		fx.t = t
		g := fx.createGroup("Target")
		id := g["id"].(string)
		defer func() { _ = fx.e.DeleteGroup(fx.ctx, id, "") }()
		before := fx.snapshot()
		if _, err := fx.e.PatchGroup(fx.ctx, id, b, ""); err != nil {
			wantClientError(t, err)
			if fx.snapshot() != before {
				t.Fatal("a rejected PATCH wrote")
			}
		}
	})
}
