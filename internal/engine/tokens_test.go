package engine

import (
	"bytes"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/miscim/miscim/internal/store"
	"github.com/miscim/miscim/internal/store/sqlite"
)

// tokTokens reads the stored tokens directly from the store.
func (f *fixture) tokTokens() []store.Token {
	f.t.Helper()
	var out []store.Token
	err := f.st.Store.View(f.ctx, func(tx store.Tx) error {
		var err error
		out, err = tx.Tokens()
		return err
	})
	if err != nil {
		f.t.Fatal(err)
	}
	return out
}

func TestCreateTokenNewUser(t *testing.T) {
	tests := []struct {
		role, wantType string
		authStatus     int // 0: authenticates
	}{
		{"admin", UserTypeAdmin, 0},
		{"Administrator", UserTypeAdmin, 0},
		{" ADMIN ", UserTypeAdmin, 0},
		{"power", UserTypePower, 403},
		{"Regular", UserTypeRegular, 403},
	}
	for _, tt := range tests {
		t.Run(tt.role, func(t *testing.T) {
			f := newFixture(t)
			info, secret, err := f.e.CreateToken(f.ctx, " ci-bot ", tt.role, 0)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(secret, tokenPrefix) || len(secret) < len(tokenPrefix)+40 {
				t.Errorf("secret %q is not a long miscim_ token", secret)
			}
			if info.ID == "" || info.UserID == "" || info.User != "ci-bot" || info.Role != tt.wantType || !info.Expires.IsZero() || !info.Created.Equal(f.clock.now()) {
				t.Errorf("token info %+v", info)
			}
			lr := f.list(Query{Filter: `userName eq "ci-bot"`})
			qryCheck(t, lr, 1, 1)
			u := lr.Resources[0]
			x := ext(u)
			if u["id"] != info.UserID || u["active"] != true || x["source"] != SourceLocal || x["authMethod"] != AuthPassword || x["userType"] != tt.wantType || x["miUsername"] != "ci-bot" {
				t.Errorf("token user listed as %v", u)
			}
			if all := f.list(Query{}); all.TotalResults != 1 {
				t.Errorf("/Users lists %d users, want the token's owner", all.TotalResults)
			}

			p, err := f.e.Authenticate(f.ctx, secret)
			if tt.authStatus != 0 {
				se := wantSCIMError(t, err, tt.authStatus, "")
				if !strings.Contains(se.Detail, "Admin") {
					t.Errorf("403 detail %q does not say an Admin token is needed", se.Detail)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if p.UserID != info.UserID || p.UserName != "ci-bot" || p.Role != UserTypeAdmin || p.Builtin {
				t.Errorf("principal %+v", p)
			}
		})
	}
}

func TestCreateTokenExistingUser(t *testing.T) {
	f := newFixture(t)
	scimUser := f.createUser("Jane.Doe", nil)
	id := scimUser["id"].(string)

	info, secret, err := f.e.CreateToken(f.ctx, "JANE.DOE", "admin", 0)
	if err != nil {
		t.Fatal(err)
	}
	if info.UserID != id || info.User != "Jane.Doe" || info.Role != UserTypeRegular {
		t.Errorf("token for an existing user: %+v", info)
	}
	got := f.user(id)
	if x := ext(got); x["userType"] != UserTypeRegular || x["source"] != SourceSCIM || x["authMethod"] != AuthSSO {
		t.Errorf("CreateToken changed the SCIM user: %v", got)
	}
	if got["meta"].(map[string]any)["version"] != scimUser["meta"].(map[string]any)["version"] {
		t.Errorf("CreateToken wrote the user: %v", got["meta"])
	}
	if f.list(Query{}).TotalResults != 1 {
		t.Error("CreateToken created a second user")
	}
	_, err = f.e.Authenticate(f.ctx, secret)
	wantSCIMError(t, err, 403, "")

	// A second token for the same user is another token, same user.
	info2, secret2, err := f.e.CreateToken(f.ctx, "jane.doe", "admin", 0)
	if err != nil {
		t.Fatal(err)
	}
	if info2.ID == info.ID || secret2 == secret || info2.UserID != id {
		t.Errorf("second token %+v", info2)
	}
	tokens, err := f.e.Tokens(f.ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(tokens) != 2 {
		t.Fatalf("tokens %+v", tokens)
	}
	for _, tk := range tokens {
		if tk.UserID != id || tk.User != "Jane.Doe" || tk.Role != UserTypeRegular {
			t.Errorf("listed token %+v", tk)
		}
	}
}

func TestCreateTokenRejected(t *testing.T) {
	tests := []struct {
		name, user, role string
		ttl              time.Duration
	}{
		{"invalid role", "bot", "superuser", 0},
		{"empty role", "bot", "", 0},
		{"empty user", "  ", "admin", 0},
		{"user name too long", strings.Repeat("x", MaxUserNameLength+1), "admin", 0},
		{"negative lifetime", "bot", "admin", -time.Hour},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			before := f.snapshot()
			_, secret, err := f.e.CreateToken(f.ctx, tt.user, tt.role, tt.ttl)
			wantSCIMError(t, err, 400, "invalidValue")
			if secret != "" {
				t.Errorf("a rejected token has a secret")
			}
			if after := f.snapshot(); after != before || len(f.tokTokens()) != 0 {
				t.Errorf("a rejected token wrote:\n%s", after)
			}
		})
	}
}

func TestAuthenticateRejected(t *testing.T) {
	tests := []struct {
		name   string
		ttl    time.Duration
		before func(f *fixture, info TokenInfo) // runs after the token is made
		secret func(secret string) string
		status int
	}{
		{"valid", 0, nil, nil, 0},
		{"unknown secret", 0, nil, func(string) string { return tokenPrefix + "not-a-token" }, 401},
		{"secret with a changed letter", 0, nil, func(s string) string { return s[:len(s)-1] + string(rune(s[len(s)-1])^1) }, 401},
		{"empty", 0, nil, func(string) string { return "" }, 401},
		{"hash of the secret", 0, nil, func(s string) string { return hashToken(s) }, 401},
		{"not yet expired", time.Hour, func(f *fixture, _ TokenInfo) { f.clock.advance(time.Hour - time.Second) }, nil, 0},
		{"expired at the instant", time.Hour, func(f *fixture, _ TokenInfo) { f.clock.advance(time.Hour) }, nil, 401},
		{"expired", time.Hour, func(f *fixture, _ TokenInfo) { f.clock.advance(25 * time.Hour) }, nil, 401},
		{"revoked", 0, func(f *fixture, info TokenInfo) {
			if err := f.e.RevokeToken(f.ctx, info.ID); err != nil {
				f.t.Fatal(err)
			}
		}, nil, 401},
		{"user disabled", 0, func(f *fixture, info TokenInfo) {
			// The token's local user has no email, which PATCH requires
			// (see TestPatchTokenUserWithoutEmail): send one.
			if _, err := f.e.PatchUser(f.ctx, info.UserID, grpPatch(
				map[string]any{"op": "add", "path": `emails[type eq "work"].value`, "value": "admin@example.com"},
				map[string]any{"op": "replace", "path": "active", "value": false}), ""); err != nil {
				f.t.Fatal(err)
			}
		}, nil, 401},
		{"user deleted", 0, func(f *fixture, info TokenInfo) {
			if err := f.e.DeleteUser(f.ctx, info.UserID, ""); err != nil {
				f.t.Fatal(err)
			}
		}, nil, 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			info, secret, err := f.e.CreateToken(f.ctx, "admin", "admin", tt.ttl)
			if err != nil {
				t.Fatal(err)
			}
			if tt.ttl > 0 && !info.Expires.Equal(f.clock.now().Add(tt.ttl)) {
				t.Errorf("expires %v, want created + %v", info.Expires, tt.ttl)
			}
			if tt.before != nil {
				tt.before(f, info)
			}
			if tt.secret != nil {
				secret = tt.secret(secret)
			}
			p, err := f.e.Authenticate(f.ctx, secret)
			if tt.status == 0 {
				if err != nil || p.UserID != info.UserID {
					t.Fatalf("Authenticate = %+v, %v", p, err)
				}
				return
			}
			se := wantSCIMError(t, err, tt.status, "")
			if secret != "" && strings.Contains(se.Detail, secret) {
				t.Errorf("the error detail echoes the secret: %s", se.Detail)
			}
			if p != (Principal{}) {
				t.Errorf("a rejected token gave principal %+v", p)
			}
		})
	}
}

func TestTokenSecretNeverStored(t *testing.T) {
	f := newFixture(t)
	var secrets []string
	for _, role := range []string{"admin", "power"} {
		_, secret, err := f.e.CreateToken(f.ctx, "bot-"+role, role, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		secrets = append(secrets, secret)
	}
	snap := f.snapshot()
	tokens := f.tokTokens()
	if len(tokens) != len(secrets) {
		t.Fatalf("%d tokens stored, want %d", len(tokens), len(secrets))
	}
	infos, err := f.e.Tokens(f.ctx)
	if err != nil {
		t.Fatal(err)
	}
	// The database's own files too, where there are files (SQLite).
	var files []byte
	if sq, ok := f.raw.(*sqlite.Store); ok {
		for _, suffix := range []string{"", "-wal"} {
			b, err := os.ReadFile(sq.Path() + suffix)
			if err != nil && !os.IsNotExist(err) {
				t.Fatal(err)
			}
			files = append(files, b...)
		}
	}
	for _, secret := range secrets {
		body := strings.TrimPrefix(secret, tokenPrefix)
		if strings.Contains(snap, body) {
			t.Errorf("the store holds the secret")
		}
		for _, tk := range tokens {
			if strings.Contains(tk.Hash, body) || strings.Contains(tk.ID, body) || tk.Hash == secret {
				t.Errorf("token %s stores the secret", tk.ID)
			}
		}
		for _, info := range infos {
			if strings.Contains(info.ID, body) {
				t.Errorf("token id %s holds the secret", info.ID)
			}
		}
		if bytes.Contains(files, []byte(body)) {
			t.Errorf("the database file holds the secret")
		}
	}
}

func TestRevokeToken(t *testing.T) {
	f := newFixture(t)
	keep, keepSecret, err := f.e.CreateToken(f.ctx, "admin", "admin", 0)
	if err != nil {
		t.Fatal(err)
	}
	gone, _, err := f.e.CreateToken(f.ctx, "admin", "admin", 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.e.RevokeToken(f.ctx, gone.ID); err != nil {
		t.Fatal(err)
	}
	tests := []struct{ name, id string }{
		{"unknown id", "nope"},
		{"empty id", ""},
		{"already revoked", gone.ID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantSCIMError(t, f.e.RevokeToken(f.ctx, tt.id), 404, "")
		})
	}
	tokens, err := f.e.Tokens(f.ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(tokens) != 1 || tokens[0].ID != keep.ID {
		t.Errorf("tokens after revoke %+v", tokens)
	}
	if _, err := f.e.Authenticate(f.ctx, keepSecret); err != nil {
		t.Errorf("revoking one token broke another: %v", err)
	}
	// Revoking keeps the user.
	if f.list(Query{Filter: `userName eq "admin"`}).TotalResults != 1 {
		t.Error("revoking a token deleted its user")
	}
}

// TestPatchTokenUserWithoutEmail: /Users lists a token's local user so that
// Entra can adopt it (DESIGN §3.1), but that user has no email, and every
// PATCH that does not also set one fails, even disabling it.
func TestPatchTokenUserWithoutEmail(t *testing.T) {
	f := newFixture(t)
	info, _, err := f.e.CreateToken(f.ctx, "bot", "admin", 0)
	if err != nil {
		t.Fatal(err)
	}
	got, err := f.e.PatchUser(f.ctx, info.UserID, grpPatch(map[string]any{"op": "replace", "path": "active", "value": false}), "")
	if err != nil {
		t.Fatal(err)
	}
	if got["active"] != false {
		t.Errorf("user %v", got)
	}
}

// TestAuthenticationCacheFollowsChanges: a token that authenticated a
// moment ago is refused at once once revoked, or once its user is disabled,
// in the same process.
func TestAuthenticationCacheFollowsChanges(t *testing.T) {
	f := newFixture(t)
	info, secret, err := f.e.CreateToken(f.ctx, "ops@example.com", "admin", 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.e.Authenticate(f.ctx, secret); err != nil {
		t.Fatal(err)
	}
	if _, err := f.e.PatchUser(f.ctx, info.UserID, []byte(`{"Operations":[{"op":"replace","path":"active","value":false}]}`), ""); err != nil {
		t.Fatal(err)
	}
	_, err = f.e.Authenticate(f.ctx, secret)
	wantSCIMError(t, err, 401, "")

	_, secret2, err := f.e.CreateToken(f.ctx, "ops2@example.com", "admin", 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.e.Authenticate(f.ctx, secret2); err != nil {
		t.Fatal(err)
	}
	tokens, _ := f.e.Tokens(f.ctx)
	for _, tk := range tokens {
		if tk.User == "ops2@example.com" {
			if err := f.e.RevokeToken(f.ctx, tk.ID); err != nil {
				t.Fatal(err)
			}
		}
	}
	_, err = f.e.Authenticate(f.ctx, secret2)
	wantSCIMError(t, err, 401, "")
}

// TestTokenIDsAreCommandLineSafe: a token's id is what `miscim tokens
// revoke ID` takes, so none may begin with '-' (read as flags) or hold
// anything but lower-case letters and digits; and ids do not repeat.
func TestTokenIDsAreCommandLineSafe(t *testing.T) {
	seen := map[string]bool{}
	for range 5000 {
		id := newTokenID()
		if len(id) != 8 || strings.Trim(id, "abcdefghijklmnopqrstuvwxyz234567") != "" {
			t.Fatalf("token id %q: want 8 characters of lower-case base32", id)
		}
		if seen[id] {
			t.Fatalf("token id %q issued twice in 5,000", id)
		}
		seen[id] = true
	}
}
