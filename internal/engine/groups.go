package engine

import (
	"context"
	"errors"
	"strings"

	"github.com/miscim/miscim/internal/scim"
	"github.com/miscim/miscim/internal/store"
)

// GroupResource renders a group. members is nil when the caller did not
// load them (excludedAttributes=members); the attribute is then left out.
func GroupResource(g store.Group, members []store.Member) scim.Resource {
	doc := scim.Resource{
		"schemas":     []any{scim.GroupSchema},
		"id":          g.ID,
		"displayName": g.DisplayName,
		"meta": map[string]any{
			"resourceType": "Group",
			"created":      FormatTime(g.Created),
			"lastModified": FormatTime(g.Modified),
			"version":      ETag(g.Version),
		},
	}
	if g.ExternalID != "" {
		doc["externalId"] = g.ExternalID
	}
	if g.Description != "" {
		doc["description"] = g.Description
	}
	if members != nil {
		list := make([]any, len(members))
		for i, m := range members {
			list[i] = map[string]any{"value": m.UserID, "display": m.UserName, "type": "User"}
		}
		doc["members"] = list
	}
	return doc
}

// groupFromResource reads what MI keeps of a group: Name, Group Alias,
// Description. Members are handled apart, so that they are never loaded to
// change one.
func groupFromResource(doc scim.Resource, base store.Group) (store.Group, error) {
	g := base
	v, _, ok := scim.Get(doc, "displayName")
	s, isStr := v.(string)
	switch {
	case !ok || v == nil:
		return g, scim.BadRequest(scim.ScimTypeInvalidValue, "displayName is required: send the MI group name")
	case !isStr:
		return g, scim.BadRequest(scim.ScimTypeInvalidValue, "displayName must be a string, got %s", kindOf(v))
	case strings.TrimSpace(s) == "":
		return g, scim.BadRequest(scim.ScimTypeInvalidValue, "displayName must not be empty")
	}
	g.DisplayName = s
	var err error
	if g.ExternalID, err = optString(doc, "externalId"); err != nil {
		return g, err
	}
	if g.Description, err = optString(doc, "description"); err != nil {
		return g, err
	}
	return g, nil
}

// memberIDs reads member references: an array of {"value": id} objects, a
// single object, or plain strings (Microsoft's test collection sends
// "value":"string id 1"). Unknown ids are dropped later, not here.
func memberIDs(v any) ([]string, error) {
	var list []any
	switch t := v.(type) {
	case nil:
		return nil, nil
	case []any:
		list = t
	default:
		list = []any{t}
	}
	ids := make([]string, 0, len(list))
	for i, e := range list {
		id, ok := scim.ElementValue(e)
		if !ok {
			return nil, scim.BadRequest(scim.ScimTypeInvalidValue, `members[%d] must be a user id or an object {"value":"<user id>"}, got %s`, i, describe(e))
		}
		ids = append(ids, id)
	}
	return ids, nil
}

func groupNameFree(tx store.Tx, name, selfID string) error {
	others, err := tx.GroupsBy(store.ByDisplayName, []string{name})
	if err != nil {
		return err
	}
	for _, o := range others {
		if o.ID != selfID {
			return scim.Conflict("displayName %q is already taken by group %s (%q); group names are unique regardless of case", name, o.ID, o.DisplayName)
		}
	}
	return nil
}

// CreateGroup handles POST /Groups. Members that are not users of this
// engine are ignored (DESIGN §3.2).
func (e *Engine) CreateGroup(ctx context.Context, body []byte) (scim.Resource, error) {
	doc, err := scim.DecodeObject(body)
	if err != nil {
		return nil, err
	}
	now := e.clock()
	g, err := groupFromResource(doc, store.Group{ID: e.newID(), Created: now, Modified: now, Version: 1})
	if err != nil {
		return nil, err
	}
	mv, _, _ := scim.Get(doc, "members")
	ids, err := memberIDs(mv)
	if err != nil {
		return nil, err
	}
	var members []store.Member
	err = e.store.Update(ctx, func(tx store.Tx) error {
		if err := groupNameFree(tx, g.DisplayName, ""); err != nil {
			return err
		}
		if err := tx.InsertGroup(g); err != nil {
			return err
		}
		if len(ids) == 0 {
			return nil
		}
		if _, err := tx.AddMembers(g.ID, ids); err != nil {
			return err
		}
		members, err = store.AllMembers(tx, g.ID)
		return err
	})
	if err != nil {
		return nil, storeError(err, "displayName "+quote(g.DisplayName))
	}
	if members == nil {
		members = []store.Member{}
	}
	return GroupResource(g, members), nil
}

// GetGroup handles GET /Groups/{id}. With withMembers false the members are
// not read at all: Entra always reads groups with excludedAttributes=members
// (entra-behavior §3), and a group may have 250,000 of them.
func (e *Engine) GetGroup(ctx context.Context, id string, withMembers bool) (scim.Resource, error) {
	var g store.Group
	var members []store.Member
	err := e.store.View(ctx, func(tx store.Tx) error {
		var err error
		if g, err = tx.Group(id); err != nil {
			return err
		}
		if withMembers {
			members, err = store.AllMembers(tx, id)
		}
		return err
	})
	if errors.Is(err, store.ErrNotFound) {
		return nil, scim.NotFound("group", id)
	}
	if err != nil {
		return nil, storeError(err, "read group")
	}
	return GroupResource(g, members), nil
}

// ReplaceGroup handles PUT /Groups/{id}: name, alias, description and the
// member list are replaced; an absent externalId or members list is
// cleared (RFC 7644 §3.5.1).
func (e *Engine) ReplaceGroup(ctx context.Context, id string, body []byte, ifMatch string) (scim.Resource, error) {
	doc, err := scim.DecodeObject(body)
	if err != nil {
		return nil, err
	}
	mv, _, _ := scim.Get(doc, "members")
	ids, err := memberIDs(mv)
	if err != nil {
		return nil, err
	}
	var out store.Group
	var members []store.Member
	err = e.store.Update(ctx, func(tx store.Tx) error {
		cur, err := groupToChange(tx, id, ifMatch)
		if err != nil {
			return err
		}
		g, err := groupFromResource(doc, cur)
		if err != nil {
			return err
		}
		if err := groupNameFree(tx, g.DisplayName, id); err != nil {
			return err
		}
		g.Modified, g.Version = e.clock(), cur.Version+1
		if err := tx.UpdateGroup(g); err != nil {
			return err
		}
		if _, err := tx.RemoveAllMembers(id); err != nil {
			return err
		}
		if _, err := tx.AddMembers(id, ids); err != nil {
			return err
		}
		out = g
		members, err = store.AllMembers(tx, id)
		return err
	})
	if err != nil {
		return nil, storeError(err, "displayName")
	}
	return GroupResource(out, members), nil
}

// memberOp is one membership change taken out of a PATCH request.
type memberOp struct {
	op     string   // scim.PatchAdd, scim.PatchRemove or scim.PatchReplace
	ids    []string // for add/replace, and remove by value
	all    bool     // remove every member
	filter scim.Expr
}

// splitGroupPatch separates membership operations from attribute
// operations, keeping their order, so that members are changed row by row
// and never loaded (DESIGN §3.2).
func splitGroupPatch(ops []scim.PatchOperation) (attrOps []scim.PatchOperation, steps []any, err error) {
	for i, op := range ops {
		fail := func(e *scim.Error) error {
			if len(ops) > 1 {
				e.Detail = "PATCH operation " + itoa(i+1) + ": " + e.Detail
			}
			return e
		}
		if op.Path == nil {
			ids, found, rest, err := pathlessMembers(op.Value.(map[string]any))
			if err != nil {
				return nil, nil, fail(err)
			}
			if !found {
				steps = append(steps, op)
				continue
			}
			steps = append(steps, memberOp{op: op.Op, ids: ids})
			if len(rest) > 0 {
				op.Value = rest
				steps = append(steps, op)
			}
			continue
		}
		p := *op.Path
		if !strings.EqualFold(p.Name, "members") || !scim.Group.IsCore(p.URI) {
			steps = append(steps, op)
			continue
		}
		if p.SubAttr != "" || (p.ValueFilter != nil && op.Op != scim.PatchRemove) {
			return nil, nil, fail(scim.BadRequest(scim.ScimTypeInvalidPath, "path %q: members can only be added, removed or replaced as a whole (value is a user id)", op.RawPath))
		}
		if p.ValueFilter != nil {
			steps = append(steps, memberOp{op: scim.PatchRemove, filter: p.ValueFilter})
			continue
		}
		// No value, or null, removes every member (as ApplyPatch treats
		// any multi-valued attribute).
		if op.Op == scim.PatchRemove && (!op.HasValue || op.Value == nil) {
			steps = append(steps, memberOp{op: scim.PatchRemove, all: true})
			continue
		}
		ids, err := memberIDs(op.Value)
		if err != nil {
			return nil, nil, fail(err.(*scim.Error))
		}
		steps = append(steps, memberOp{op: op.Op, ids: ids})
	}
	for _, s := range steps {
		if op, ok := s.(scim.PatchOperation); ok {
			attrOps = append(attrOps, op)
		}
	}
	return attrOps, steps, nil
}

// pathlessMembers takes the member references out of a path-less PATCH
// value, under any of the keys that name members: "members", its
// URN-qualified form, or "members" inside an object keyed by the core
// schema URN (DESIGN §3.4: path-less values with dotted and URN keys).
// rest holds the other attributes. A key naming part of a member is 400
// invalidPath, as the same path would be.
func pathlessMembers(value map[string]any) (ids []string, found bool, rest map[string]any, err *scim.Error) {
	take := func(v any) *scim.Error {
		more, err := memberIDs(v)
		if err != nil {
			return err.(*scim.Error)
		}
		ids, found = append(ids, more...), true
		return nil
	}
	rest = make(map[string]any, len(value))
	for k, v := range value {
		if strings.EqualFold(k, "members") {
			if err := take(v); err != nil {
				return nil, false, nil, err
			}
			continue
		}
		if obj, isObj := v.(map[string]any); isObj && strings.EqualFold(k, scim.GroupSchema) {
			inner := make(map[string]any, len(obj))
			for ik, iv := range obj {
				if strings.EqualFold(ik, "members") {
					if err := take(iv); err != nil {
						return nil, false, nil, err
					}
					continue
				}
				inner[ik] = iv
			}
			if len(inner) > 0 {
				rest[k] = inner
			}
			continue
		}
		if p, perr := scim.ParsePath(k); perr == nil && strings.EqualFold(p.Name, "members") && scim.Group.IsCore(p.URI) {
			if p.SubAttr != "" || p.ValueFilter != nil {
				return nil, false, nil, scim.BadRequest(scim.ScimTypeInvalidPath, "value key %q: members can only be added or replaced as a whole (value is a user id)", k)
			}
			if err := take(v); err != nil {
				return nil, false, nil, err
			}
			continue
		}
		rest[k] = v
	}
	return ids, found, rest, nil
}

// filterMemberIDs returns the ids a `members[value eq "…"]` filter names,
// without reading the members, when the filter is made of value
// equalities joined by "or" (Entra's aadOptscim062020 dialect sends one).
func filterMemberIDs(e scim.Expr) ([]string, bool) {
	switch t := e.(type) {
	case *scim.CompareExpr:
		s, isStr := t.Value.(string)
		if t.Op == scim.OpEq && isStr && strings.EqualFold(t.Path.Name, "value") && t.Path.SubAttr == "" && t.Path.ValueFilter == nil && t.Path.URI == "" {
			return []string{s}, true
		}
	case *scim.LogicalExpr:
		if t.Op == scim.Or {
			l, ok1 := filterMemberIDs(t.Left)
			r, ok2 := filterMemberIDs(t.Right)
			return append(l, r...), ok1 && ok2
		}
	}
	return nil, false
}

// PatchGroup handles PATCH /Groups/{id} (RFC 7644 §3.5.2) and returns the
// group without members: Entra expects 204 and the member list can be
// huge. The operations apply in order and all-or-nothing.
func (e *Engine) PatchGroup(ctx context.Context, id string, body []byte, ifMatch string) (scim.Resource, error) {
	ops, err := scim.ParsePatch(body)
	if err != nil {
		return nil, err
	}
	attrOps, steps, err := splitGroupPatch(ops)
	if err != nil {
		return nil, err
	}
	var out store.Group
	err = e.store.Update(ctx, func(tx store.Tx) error {
		cur, err := groupToChange(tx, id, ifMatch)
		if err != nil {
			return err
		}
		g := cur
		if len(attrOps) > 0 {
			doc := scim.Clone(GroupResource(cur, nil)).(map[string]any)
			if err := scim.ApplyPatch(doc, scim.Group, attrOps); err != nil {
				return err
			}
			if g, err = groupFromResource(doc, cur); err != nil {
				return err
			}
			if err := groupNameFree(tx, g.DisplayName, id); err != nil {
				return err
			}
		}
		for _, s := range steps {
			m, ok := s.(memberOp)
			if !ok {
				continue
			}
			if err := applyMemberOp(tx, id, m); err != nil {
				return err
			}
		}
		g.Modified, g.Version = e.clock(), cur.Version+1
		out = g
		return tx.UpdateGroup(g)
	})
	if err != nil {
		return nil, storeError(err, "displayName")
	}
	return GroupResource(out, nil), nil
}

func applyMemberOp(tx store.Tx, groupID string, m memberOp) error {
	switch {
	case m.all:
		_, err := tx.RemoveAllMembers(groupID)
		return err
	case m.filter != nil:
		ids, ok := filterMemberIDs(m.filter)
		if !ok {
			// Any other filter is evaluated against the members, which
			// must then be read: rare, and never sent by Entra.
			members, err := store.AllMembers(tx, groupID)
			if err != nil {
				return err
			}
			for _, mem := range members {
				elem := map[string]any{"value": mem.UserID, "display": mem.UserName, "type": "User"}
				if scim.MatchElement(m.filter, elem, scim.Group.Lookup("", "members")) {
					ids = append(ids, mem.UserID)
				}
			}
		}
		_, err := tx.RemoveMembers(groupID, ids)
		return err
	case m.op == scim.PatchRemove:
		_, err := tx.RemoveMembers(groupID, m.ids)
		return err
	case m.op == scim.PatchReplace:
		if _, err := tx.RemoveAllMembers(groupID); err != nil {
			return err
		}
	}
	_, err := tx.AddMembers(groupID, m.ids)
	return err
}

// groupToChange reads the group a PUT, PATCH or DELETE changes, inside its
// write transaction: 404 when there is none, 412 when If-Match names
// another version.
func groupToChange(tx store.Tx, id, ifMatch string) (store.Group, error) {
	cur, err := tx.Group(id)
	if errors.Is(err, store.ErrNotFound) {
		return store.Group{}, scim.NotFound("group", id)
	}
	if err != nil {
		return store.Group{}, err
	}
	if err := checkIfMatch(ifMatch, cur.Version); err != nil {
		return store.Group{}, err
	}
	return cur, nil
}

// DeleteGroup handles DELETE /Groups/{id}; memberships go with it.
func (e *Engine) DeleteGroup(ctx context.Context, id, ifMatch string) error {
	err := e.store.Update(ctx, func(tx store.Tx) error {
		if _, err := groupToChange(tx, id, ifMatch); err != nil {
			return err
		}
		return tx.DeleteGroup(id)
	})
	return storeError(err, "delete group")
}
