package engine

import (
	"context"
	"errors"
	"strings"
	"unicode/utf8"

	"github.com/miscim/miscim/internal/scim"
	"github.com/miscim/miscim/internal/store"
)

// MaxUserNameLength is MI's limit on usernames, in characters.
const MaxUserNameLength = 100

// User types MI knows (MI help "What types of users exist").
const (
	UserTypeRegular = "regular"
	UserTypePower   = "power"
	UserTypeAdmin   = "admin"
)

// Sources and authentication methods shown in the miscim extension.
const (
	SourceSCIM     = "scim"
	SourceLocal    = "local"
	AuthSSO        = "sso"
	AuthPassword   = "password"
	softDeleteVar  = VarRemoveUserOnSoftDelete
	deletedPrefix  = "scim-deleted-"
	deletedIDChars = 8
)

// SoftDeletePrefix is the prefix the MI username gets while a user is
// disabled by soft delete in mode N (DESIGN §3.3). The original userName
// stays what SCIM shows and matches, so Entra finds the user again.
func SoftDeletePrefix(id string) string {
	if len(id) > deletedIDChars {
		id = id[:deletedIDChars]
	}
	return deletedPrefix + id + "-"
}

func miUsername(u store.User) string {
	if u.Active {
		return u.UserName
	}
	return SoftDeletePrefix(u.ID) + u.UserName
}

// UserResource renders a user as its SCIM document: what MI keeps plus the
// read-only miscim extension (DESIGN §3.1).
func UserResource(u store.User) scim.Resource {
	// Sized for every attribute up front: a map that grows past eight
	// entries is rebuilt, and this runs for every user a request touches.
	doc := make(scim.Resource, 9)
	doc["schemas"] = []any{scim.UserSchema, scim.MiscimUserSchema}
	doc["id"] = u.ID
	doc["userName"] = u.UserName
	doc["active"] = u.Active
	doc["meta"] = map[string]any{
		"resourceType": "User",
		"created":      FormatTime(u.Created),
		"lastModified": FormatTime(u.Modified),
		"version":      ETag(u.Version),
	}
	doc[scim.MiscimUserSchema] = map[string]any{
		"miUsername": u.MIUsername,
		"userType":   u.UserType,
		"authMethod": u.AuthMethod,
		"source":     u.Source,
	}
	if u.ExternalID != "" {
		doc["externalId"] = u.ExternalID
	}
	if u.GivenName != "" || u.FamilyName != "" {
		name := map[string]any{}
		if u.GivenName != "" {
			name["givenName"] = u.GivenName
		}
		if u.FamilyName != "" {
			name["familyName"] = u.FamilyName
		}
		doc["name"] = name
	}
	if u.Email != "" {
		email := map[string]any{"value": u.Email, "primary": true}
		if u.EmailType != "" {
			email["type"] = u.EmailType
		}
		doc["emails"] = []any{email}
	}
	return doc
}

// userFromResource reads the attributes MI keeps from doc into a copy of
// base. Everything else in doc is ignored ("only documented fields are
// supported; unsupported fields will be ignored"). An absent active keeps
// base.Active, so a replace that omits it never re-enables a soft-deleted
// account; an absent miUserType keeps base.UserType.
func userFromResource(doc scim.Resource, base store.User) (store.User, error) {
	u := base
	v, _, ok := scim.Get(doc, "userName")
	s, isStr := v.(string)
	switch {
	case !ok || v == nil:
		return u, scim.BadRequest(scim.ScimTypeInvalidValue, "userName is required: send the MI username (Entra maps userPrincipalName to it)")
	case !isStr:
		return u, scim.BadRequest(scim.ScimTypeInvalidValue, "userName must be a string, got %s", kindOf(v))
	case strings.TrimSpace(s) == "":
		return u, scim.BadRequest(scim.ScimTypeInvalidValue, "userName must not be empty")
	case utf8.RuneCountInString(s) > MaxUserNameLength:
		return u, scim.BadRequest(scim.ScimTypeInvalidValue, "userName is %d characters long; Metric Insights allows at most %d", utf8.RuneCountInString(s), MaxUserNameLength)
	}
	u.UserName = s

	var err error
	if u.ExternalID, err = optString(doc, "externalId"); err != nil {
		return u, err
	}
	u.GivenName, u.FamilyName = "", ""
	if nv, _, ok := scim.Get(doc, "name"); ok && nv != nil {
		name, isObj := nv.(map[string]any)
		if !isObj {
			return u, scim.BadRequest(scim.ScimTypeInvalidValue, "name must be an object with givenName and familyName, got %s", kindOf(nv))
		}
		if u.GivenName, err = optString(name, "givenName"); err != nil {
			return u, err
		}
		if u.FamilyName, err = optString(name, "familyName"); err != nil {
			return u, err
		}
	}
	var found bool
	if u.Email, u.EmailType, found, err = pickEmail(doc); err != nil {
		return u, err
	}
	// MI requires an email of every user it provisions; a local user that
	// never had one (a token's owner) may still be changed.
	if !found && (base.Email != "" || base.Source != SourceLocal) {
		return u, scim.BadRequest(scim.ScimTypeInvalidValue, `an email address is required: send emails [{"value":"…","type":"work"}] (Entra maps mail to emails[type eq "work"].value)`)
	}
	if av, _, ok := scim.Get(doc, "active"); ok && av != nil {
		b, valid := scim.ParseBool(av)
		if !valid {
			return u, scim.BadRequest(scim.ScimTypeInvalidValue, `active must be true or false ("True"/"False" and "1"/"0" are accepted too), got %s`, describe(av))
		}
		u.Active = b
	}
	if t, found, err := findUserType(doc); err != nil {
		return u, err
	} else if found {
		u.UserType = t
	}
	return u, nil
}

// pickEmail applies MI's rule: the work address, else the primary one,
// else the first (DESIGN §3.1). found is false when there is no address.
func pickEmail(doc scim.Resource) (value, typ string, found bool, err error) {
	ev, _, _ := scim.Get(doc, "emails")
	var list []any
	switch t := ev.(type) {
	case nil:
	case []any:
		list = t
	case map[string]any:
		list = []any{t}
	default:
		return "", "", false, scim.BadRequest(scim.ScimTypeInvalidValue, "emails must be an array of objects such as [{\"value\":\"a@example.com\",\"type\":\"work\"}], got %s", kindOf(ev))
	}
	type cand struct {
		value, typ string
		primary    bool
	}
	var cands []cand
	for i, e := range list {
		m, isObj := e.(map[string]any)
		if !isObj {
			return "", "", false, scim.BadRequest(scim.ScimTypeInvalidValue, "emails[%d] must be an object with a value, got %s", i, kindOf(e))
		}
		val, err := optString(m, "value")
		if err != nil {
			return "", "", false, err
		}
		typ, err := optString(m, "type")
		if err != nil {
			return "", "", false, err
		}
		pv, _, _ := scim.Get(m, "primary")
		primary, _ := scim.ParseBool(pv)
		if strings.TrimSpace(val) != "" {
			cands = append(cands, cand{val, typ, primary})
		}
	}
	if len(cands) == 0 {
		return "", "", false, nil
	}
	for _, c := range cands {
		if strings.EqualFold(c.typ, "work") {
			return c.value, c.typ, true, nil
		}
	}
	for _, c := range cands {
		if c.primary {
			return c.value, c.typ, true, nil
		}
	}
	return cands[0].value, cands[0].typ, true, nil
}

// findUserType reads the optional miUserType attribute, at the top level
// or inside any extension object (MI help article 1984030, revision R2 maps
// it from extensionAttribute1).
func findUserType(doc scim.Resource) (string, bool, error) {
	v, _, ok := scim.Get(doc, "miUserType")
	if !ok {
		for k, ext := range doc {
			m, isObj := ext.(map[string]any)
			if !isObj || !strings.HasPrefix(strings.ToLower(k), "urn:") {
				continue
			}
			if v, _, ok = scim.Get(m, "miUserType"); ok {
				break
			}
		}
	}
	if !ok || v == nil {
		return "", false, nil
	}
	s, isStr := v.(string)
	if !isStr {
		return "", false, scim.BadRequest(scim.ScimTypeInvalidValue, "miUserType must be a string (regular, power or admin), got %s", kindOf(v))
	}
	t, valid := ParseUserType(s)
	if !valid {
		return "", false, scim.BadRequest(scim.ScimTypeInvalidValue, "miUserType %q is not a Metric Insights user type: use regular, power or admin", s)
	}
	return t, true, nil
}

// ParseUserType reads a user type in any case; "administrator" is
// accepted for admin, as MI's REST API spells it.
func ParseUserType(s string) (string, bool) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "regular":
		return UserTypeRegular, true
	case "power":
		return UserTypePower, true
	case "admin", "administrator":
		return UserTypeAdmin, true
	}
	return "", false
}

func optString(obj map[string]any, key string) (string, error) {
	v, k, ok := scim.Get(obj, key)
	if !ok || v == nil {
		return "", nil
	}
	s, isStr := v.(string)
	if !isStr {
		return "", scim.BadRequest(scim.ScimTypeInvalidValue, "%s must be a string, got %s", k, kindOf(v))
	}
	return s, nil
}

// CreateUser handles POST /Users (RFC 7644 §3.3). Every SCIM-created user
// is a Regular user unless miUserType says otherwise, and authenticates
// with SSO.
func (e *Engine) CreateUser(ctx context.Context, body []byte) (scim.Resource, error) {
	doc, err := scim.DecodeObject(body)
	if err != nil {
		return nil, err
	}
	now := e.clock()
	u, err := userFromResource(doc, store.User{
		ID: e.newID(), Active: true, UserType: UserTypeRegular, AuthMethod: AuthSSO, Source: SourceSCIM,
		Created: now, Modified: now, Version: 1,
	})
	if err != nil {
		return nil, err
	}
	u.MIUsername = miUsername(u)
	err = e.store.Update(ctx, func(tx store.Tx) error {
		if err := userNameFree(tx, u.UserName, ""); err != nil {
			return err
		}
		return tx.InsertUser(u)
	})
	if err != nil {
		return nil, storeError(err, "userName "+quote(u.UserName))
	}
	return UserResource(u), nil
}

// userNameFree enforces case-insensitive uniqueness of userName across all
// users, disabled ones included (409 uniqueness, RFC 7644 §3.3).
func userNameFree(tx store.Tx, name, selfID string) error {
	others, err := tx.UsersBy(store.ByUserName, []string{name})
	if err != nil {
		return err
	}
	for _, o := range others {
		if o.ID != selfID {
			return scim.Conflict("userName %q is already taken by user %s (%q); userName is unique regardless of case, disabled users included", name, o.ID, o.UserName)
		}
	}
	return nil
}

// GetUser handles GET /Users/{id}.
func (e *Engine) GetUser(ctx context.Context, id string) (scim.Resource, error) {
	var u store.User
	err := e.store.View(ctx, func(tx store.Tx) error {
		var err error
		u, err = tx.User(id)
		return err
	})
	if errors.Is(err, store.ErrNotFound) {
		return nil, scim.NotFound("user", id)
	}
	if err != nil {
		return nil, storeError(err, "read user")
	}
	return UserResource(u), nil
}

// ReplaceUser handles PUT /Users/{id} (RFC 7644 §3.5.1).
func (e *Engine) ReplaceUser(ctx context.Context, id string, body []byte, ifMatch string) (scim.Resource, error) {
	doc, err := scim.DecodeObject(body)
	if err != nil {
		return nil, err
	}
	return e.modifyUser(ctx, id, ifMatch, func(store.User) (scim.Resource, error) { return doc, nil })
}

// PatchUser handles PATCH /Users/{id} (RFC 7644 §3.5.2) in both of Entra's
// dialects. It answers with the resource (200), as Microsoft's stricter
// tests require.
func (e *Engine) PatchUser(ctx context.Context, id string, body []byte, ifMatch string) (scim.Resource, error) {
	ops, err := scim.ParsePatch(body)
	if err != nil {
		return nil, err
	}
	return e.modifyUser(ctx, id, ifMatch, func(cur store.User) (scim.Resource, error) {
		doc := UserResource(cur) // a new document each time: nothing to copy
		if err := scim.ApplyPatch(doc, scim.User, ops); err != nil {
			return nil, err
		}
		return doc, nil
	})
}

// modifyUser is the one write path of PUT and PATCH: read the current user
// (or its tombstone) inside the write transaction, compute the new state,
// apply the soft-delete rules, write. Nothing is written when any step
// fails.
func (e *Engine) modifyUser(ctx context.Context, id, ifMatch string, next func(store.User) (scim.Resource, error)) (scim.Resource, error) {
	var out store.User
	err := e.store.Update(ctx, func(tx store.Tx) error {
		cur, err := tx.User(id)
		fromTombstone := false
		if errors.Is(err, store.ErrNotFound) {
			if cur, err = tx.Tombstone(id); errors.Is(err, store.ErrNotFound) {
				return scim.NotFound("user", id)
			}
			fromTombstone = true
		}
		if err != nil {
			return err
		}
		if err := checkIfMatch(ifMatch, cur.Version); err != nil {
			return err
		}
		doc, err := next(cur)
		if err != nil {
			return err
		}
		u, err := userFromResource(doc, cur)
		if err != nil {
			return err
		}
		u.Modified, u.Version = e.clock(), cur.Version+1
		u.MIUsername = miUsername(u)
		if u.UserName != cur.UserName || fromTombstone {
			if err := userNameFree(tx, u.UserName, u.ID); err != nil {
				return err
			}
		}
		out = u
		switch {
		case fromTombstone && !u.Active:
			// Deleted from MI by a soft delete in mode Y: only turning it
			// active again brings it back (DESIGN §3.3).
			return scim.Errorf(404, "", "user %s was deleted by a soft delete (SCIM_REMOVE_USER_ON_SOFT_DELETE=Y); set active to true to re-create it", id)
		case fromTombstone:
			if err := tx.InsertUser(u); err != nil {
				return err
			}
			return tx.DeleteTombstone(id)
		case cur.Active && !u.Active:
			mode, err := varValue(tx, softDeleteVar)
			if err != nil {
				return err
			}
			if mode == "Y" {
				if err := tx.DeleteUser(id); err != nil {
					return err
				}
				return tx.PutTombstone(u)
			}
		}
		return tx.UpdateUser(u)
	})
	e.forgetUser(id)
	if err != nil {
		return nil, storeError(err, "userName")
	}
	return UserResource(out), nil
}

// DeleteUser handles DELETE /Users/{id}: the user is removed in both
// soft-delete modes, without tombstone. Deleting the tombstone of a user
// that a soft delete already removed also succeeds, since the client's
// intent (the user is gone) holds.
func (e *Engine) DeleteUser(ctx context.Context, id, ifMatch string) error {
	err := e.store.Update(ctx, func(tx store.Tx) error {
		cur, err := tx.User(id)
		if errors.Is(err, store.ErrNotFound) {
			if err := tx.DeleteTombstone(id); errors.Is(err, store.ErrNotFound) {
				return scim.NotFound("user", id)
			} else {
				return err
			}
		}
		if err != nil {
			return err
		}
		if err := checkIfMatch(ifMatch, cur.Version); err != nil {
			return err
		}
		// A user and a tombstone never share an id (a soft delete in
		// mode Y deletes the user as it writes the tombstone; a restore
		// deletes the tombstone as it inserts the user), so there is no
		// tombstone to remove here.
		return tx.DeleteUser(id)
	})
	e.forgetUser(id)
	return storeError(err, "delete user")
}
