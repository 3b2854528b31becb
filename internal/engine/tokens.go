package engine

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base32"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"strings"
	"time"

	"github.com/miscim/miscim/internal/scim"
	"github.com/miscim/miscim/internal/store"
)

// tokenPrefix marks miscim API tokens, so that a leaked one is easy to
// recognise in logs and secret scanners.
const tokenPrefix = "miscim_"

// Principal is who a request runs as.
type Principal struct {
	UserID   string
	UserName string
	Role     string
	Builtin  bool // the built-in administrator: in-process calls and serve --admin-token-file

	expires time.Time // of the token, for the authentication cache
}

// LocalAdmin is the built-in administrator that in-process calls run as.
var LocalAdmin = Principal{UserName: "local-admin", Role: UserTypeAdmin, Builtin: true}

// TokenInfo describes a token; the secret itself is never stored.
type TokenInfo struct {
	ID      string
	UserID  string
	User    string
	Role    string
	Created time.Time
	Expires time.Time // zero: never
}

func hashToken(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

func randomString(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
	return base64.RawURLEncoding.EncodeToString(b)
}

// newTokenID returns a token's id: 8 characters of lower-case base32 (40
// random bits), so that an id never begins with '-' — `miscim tokens
// revoke -abc` would read it as flags — and holds nothing a shell or a
// URL treats specially. (Ids were lower-cased base64url, which begins with
// '-' one time in 64; those already issued keep working.)
func newTokenID() string {
	b := make([]byte, 5)
	_, _ = rand.Read(b)
	return strings.ToLower(base32.StdEncoding.EncodeToString(b))
}

// CreateToken issues an API token for the user called userName, creating
// it as a local user of type role when it does not exist (an existing
// user's type is left alone). ttl 0 means the token never expires. The
// secret is returned once; only its SHA-256 is stored, which is enough for
// a 256-bit random secret.
func (e *Engine) CreateToken(ctx context.Context, userName, role string, ttl time.Duration) (TokenInfo, string, error) {
	userName = strings.TrimSpace(userName)
	if userName == "" || len([]rune(userName)) > MaxUserNameLength {
		return TokenInfo{}, "", scim.BadRequest(scim.ScimTypeInvalidValue, "a token needs a user name of 1 to %d characters", MaxUserNameLength)
	}
	t, ok := ParseUserType(role)
	if !ok {
		return TokenInfo{}, "", scim.BadRequest(scim.ScimTypeInvalidValue, "role %q is not a Metric Insights user type: use admin, power or regular", role)
	}
	if ttl < 0 {
		return TokenInfo{}, "", scim.BadRequest(scim.ScimTypeInvalidValue, "token lifetime must not be negative")
	}
	now := e.clock()
	secret := tokenPrefix + randomString(32)
	info := TokenInfo{ID: newTokenID(), Created: now}
	if ttl > 0 {
		info.Expires = now.Add(ttl)
	}
	err := e.store.Update(ctx, func(tx store.Tx) error {
		users, err := tx.UsersBy(store.ByUserName, []string{userName})
		if err != nil {
			return err
		}
		var u store.User
		if len(users) > 0 {
			u = users[0]
		} else {
			u = store.User{ID: e.newID(), UserName: userName, MIUsername: userName, Active: true, UserType: t,
				AuthMethod: AuthPassword, Source: SourceLocal, Created: now, Modified: now, Version: 1}
			if err := tx.InsertUser(u); err != nil {
				return err
			}
		}
		info.UserID, info.User, info.Role = u.ID, u.UserName, u.UserType
		return tx.InsertToken(store.Token{ID: info.ID, UserID: u.ID, Hash: hashToken(secret), Created: now, Expires: info.Expires})
	})
	if err != nil {
		return TokenInfo{}, "", storeError(err, "create token")
	}
	return info, secret, nil
}

// Tokens lists the tokens with their users.
func (e *Engine) Tokens(ctx context.Context) ([]TokenInfo, error) {
	var out []TokenInfo
	err := e.store.View(ctx, func(tx store.Tx) error {
		tokens, err := tx.Tokens()
		if err != nil {
			return err
		}
		for _, tk := range tokens {
			info := TokenInfo{ID: tk.ID, UserID: tk.UserID, Created: tk.Created, Expires: tk.Expires}
			if u, err := tx.User(tk.UserID); err == nil {
				info.User, info.Role = u.UserName, u.UserType
			} else if !errors.Is(err, store.ErrNotFound) {
				return err
			}
			out = append(out, info)
		}
		return nil
	})
	return out, storeError(err, "list tokens")
}

// RevokeToken deletes a token; an unknown id is 404.
func (e *Engine) RevokeToken(ctx context.Context, id string) error {
	err := e.store.Update(ctx, func(tx store.Tx) error { return tx.DeleteToken(id) })
	e.forgetAll()
	if errors.Is(err, store.ErrNotFound) {
		return scim.Errorf(404, "", "token %q not found: list tokens to see their ids", id)
	}
	return storeError(err, "revoke token")
}

// Authenticate checks a bearer token (DESIGN §3.5): 401 when it is
// unknown, expired or its user is gone or disabled; 403 when its user is
// not an Admin, since MI accepts only Admin tokens for SCIM.
func (e *Engine) Authenticate(ctx context.Context, secret string) (Principal, error) {
	if secret == "" {
		return Principal{}, scim.Errorf(401, "", "authentication required: send Authorization: Bearer <API token of an MI Admin>")
	}
	hash := hashToken(secret)
	if p, ok := e.cachedPrincipal(hash); ok {
		return p, nil
	}
	var p Principal
	err := e.store.View(ctx, func(tx store.Tx) error {
		tk, err := tx.TokenByHash(hash)
		if errors.Is(err, store.ErrNotFound) || (err == nil && subtle.ConstantTimeCompare([]byte(tk.Hash), []byte(hash)) != 1) {
			return scim.Errorf(401, "", "the bearer token is not valid: create one with `miscim tokens create --user NAME --role admin`")
		}
		if err != nil {
			return err
		}
		if !tk.Expires.IsZero() && !e.clock().Before(tk.Expires) {
			return scim.Errorf(401, "", "the bearer token expired on %s: create a new one", FormatTime(tk.Expires))
		}
		u, err := tx.User(tk.UserID)
		if errors.Is(err, store.ErrNotFound) {
			return scim.Errorf(401, "", "the bearer token's user no longer exists")
		}
		if err != nil {
			return err
		}
		if !u.Active {
			return scim.Errorf(401, "", "the bearer token's user %q is disabled", u.UserName)
		}
		if u.UserType != UserTypeAdmin {
			return scim.Errorf(403, "", "the bearer token belongs to %q, a %s user: SCIM needs the API token of an Admin user", u.UserName, u.UserType)
		}
		p = Principal{UserID: u.ID, UserName: u.UserName, Role: u.UserType, expires: tk.Expires}
		return nil
	})
	if err != nil {
		return Principal{}, storeError(err, "authenticate")
	}
	e.cachePrincipal(hash, p)
	return p, nil
}

type cachedAuth struct {
	p       Principal
	read    time.Time
	expires time.Time
}

// cachedPrincipal returns a successful authentication of the same token
// made within the cache TTL (500ms by default), so that Entra's stream of
// requests does not cost two queries each. A revoked token, or one whose
// user was disabled or demoted, is refused again within that TTL — the same
// bound as for system variables — and an expired one at once.
func (e *Engine) cachedPrincipal(hash string) (Principal, bool) {
	now := time.Now()
	e.cacheMu.Lock()
	defer e.cacheMu.Unlock()
	c, ok := e.authCache[hash]
	if !ok || now.Sub(c.read) >= e.cacheTTL || (!c.expires.IsZero() && !e.clock().Before(c.expires)) {
		return Principal{}, false
	}
	return c.p, true
}

// forgetUser drops cached authentications of a user that changed or went
// away, and forgetAll every one (a token was revoked): within this process
// such changes apply at once; another process sees them within the TTL.
func (e *Engine) forgetUser(id string) {
	e.cacheMu.Lock()
	defer e.cacheMu.Unlock()
	for h, c := range e.authCache {
		if c.p.UserID == id {
			delete(e.authCache, h)
		}
	}
}

func (e *Engine) forgetAll() {
	e.cacheMu.Lock()
	clear(e.authCache)
	e.cacheMu.Unlock()
}

func (e *Engine) cachePrincipal(hash string, p Principal) {
	e.cacheMu.Lock()
	defer e.cacheMu.Unlock()
	if len(e.authCache) > 1024 {
		clear(e.authCache) // a bound, not an LRU: real deployments use one or two tokens
	}
	e.authCache[hash] = cachedAuth{p: p, read: time.Now(), expires: p.expires}
}
