package engine

import (
	"fmt"
	"strings"
	"testing"

	"github.com/miscim/miscim/internal/scim"
)

// TestBodiesMustBeUTF8 sends bodies that are not UTF-8, hold half a
// surrogate pair or nest too deeply to every engine entry point that takes
// a body: each is 400 invalidSyntax with the byte offset, and nothing is
// written (issue: `\xff\xfe` in a userName used to be stored as U+FFFD).
func TestBodiesMustBeUTF8(t *testing.T) {
	fx := newFixture(t)
	uid := fx.createUser("ann", nil)["id"].(string)
	gid := fx.createGroup("Staff", uid)["id"].(string)

	user := func(userName string) string {
		return `{"userName":"` + userName + `","emails":[{"value":"a@example.com","type":"work"}]}`
	}
	group := func(name string) string { return `{"displayName":"` + name + `","members":[{"value":"` + uid + `"}]}` }
	patch := func(path, value string) string {
		return `{"Operations":[{"op":"replace","path":"` + path + `","value":"` + value + `"}]}`
	}
	deep := strings.Repeat("[", scim.MaxJSONDepth)
	entries := []struct {
		name string
		call func(body []byte) error
		body func(s string) string
	}{
		{"CreateUser", func(b []byte) error { _, err := fx.e.CreateUser(fx.ctx, b); return err }, user},
		{"ReplaceUser", func(b []byte) error { _, err := fx.e.ReplaceUser(fx.ctx, uid, b, ""); return err }, user},
		{"PatchUser", func(b []byte) error { _, err := fx.e.PatchUser(fx.ctx, uid, b, ""); return err },
			func(s string) string { return patch("userName", s) }},
		{"CreateGroup", func(b []byte) error { _, err := fx.e.CreateGroup(fx.ctx, b); return err }, group},
		{"ReplaceGroup", func(b []byte) error { _, err := fx.e.ReplaceGroup(fx.ctx, gid, b, ""); return err }, group},
		{"PatchGroup", func(b []byte) error { _, err := fx.e.PatchGroup(fx.ctx, gid, b, ""); return err },
			func(s string) string { return patch("displayName", s) }},
	}
	values := []struct {
		name, value, detail string
		at                  string // what the offset points at
	}{
		{"bytes FF FE", "\xff\xfe", "not valid UTF-8: byte 0xff at byte offset ", "\xff"},
		{"Latin-1 é", "Zo\xeb", "not valid UTF-8: byte 0xeb at byte offset ", "\xeb"},
		{"lone surrogate escape", `x\ud800`, `the escape \ud800 at byte offset `, `\ud800`},
		{"nested too deeply", `", "x": ` + deep + `"`, "more than 32 levels deep (at byte offset ", "["},
	}
	before := fx.snapshot()
	for _, ep := range entries {
		for _, v := range values {
			body := ep.body(v.value)
			err := ep.call([]byte(body))
			se := wantSCIMError(t, err, 400, scim.ScimTypeInvalidSyntax)
			if !strings.Contains(se.Detail, v.detail) {
				t.Errorf("%s with %s: detail %q, want %q", ep.name, v.name, se.Detail, v.detail)
			}
			// The offset points at the offending byte.
			var off int
			if _, err := fmt.Sscanf(se.Detail[strings.Index(se.Detail, "offset "):], "offset %d", &off); err != nil || off >= len(body) {
				t.Errorf("%s with %s: no offset in %q", ep.name, v.name, se.Detail)
				continue
			}
			if !strings.HasPrefix(body[off:], v.at) {
				t.Errorf("%s with %s: offset %d points at %q, want %q", ep.name, v.name, off, body[off:min(off+6, len(body))], v.at)
			}
		}
	}
	if fx.snapshot() != before {
		t.Fatal("a refused body wrote")
	}

	// Valid text of every kind is kept byte for byte, U+FFFD included when
	// the client sent it.
	for _, name := range []string{"Zoë 😀 日本", "\ufffd literal", `escaped \u00e9 \ud83d\ude00 \ufffd`} {
		u, err := fx.e.CreateUser(fx.ctx, []byte(user(name)))
		if err != nil {
			t.Fatalf("%q: %v", name, err)
		}
		want, _ := scim.DecodeObject([]byte(`{"s":"` + name + `"}`))
		if got := fx.user(u["id"].(string))["userName"]; got != want["s"] {
			t.Errorf("stored %q, want %q", got, want["s"])
		}
	}
}

// TestFiltersMustBeUTF8: a filter that is not UTF-8 (after the server's
// percent-decoding) is 400 invalidFilter with the byte offset; so is a
// filter string holding half a surrogate pair.
func TestFiltersMustBeUTF8(t *testing.T) {
	fx := newFixture(t)
	fx.createUser("Zoë", nil)
	for _, tt := range []struct{ filter, detail string }{
		{"userName eq \"Zo\xeb\"", `invalid filter: byte 0xeb at byte offset 15, after "userName eq \"Zo"`},
		{"displayName eq \"\xff\"", "byte 0xff at byte offset 16"},
		{`userName eq "\udc00"`, `invalid filter at position 14: the escape \udc00 is half of a UTF-16 surrogate pair`},
	} {
		_, err := fx.e.ListUsers(fx.ctx, Query{Filter: tt.filter})
		se := wantSCIMError(t, err, 400, scim.ScimTypeInvalidFilter)
		if !strings.Contains(se.Detail, tt.detail) {
			t.Errorf("users %q: detail %q, want %q", tt.filter, se.Detail, tt.detail)
		}
		_, err = fx.e.ListGroups(fx.ctx, Query{Filter: tt.filter})
		wantSCIMError(t, err, 400, scim.ScimTypeInvalidFilter)
	}
	if lr := fx.list(Query{Filter: `userName eq "zoË"`}); lr.TotalResults != 1 {
		t.Errorf("a UTF-8 filter found %d users, want 1", lr.TotalResults)
	}
}
