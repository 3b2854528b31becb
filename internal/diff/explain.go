package diff

import (
	"errors"
	"fmt"
	esync "github.com/miscim/miscim/internal/entra/sync"
	"strings"

	"github.com/miscim/miscim/internal/entra/mapping"
	"github.com/miscim/miscim/internal/entra/tenant"
	"github.com/miscim/miscim/internal/scim"
)

// Explanation is one object explained in full (--identity): both sides,
// how they were paired, every mapped attribute with where its value comes
// from and how it compares, and the changes that concern the object.
type Explanation struct {
	Object   string `json:"object"` // "user" or "group"
	Identity string `json:"identity"`
	// Tenant is the tenant object, nil when there is none (or against a
	// second target).
	Tenant *TenantSide `json:"tenant"`
	// Against is the reference target's object (against a second
	// target), nil when there is none or no second target.
	Against *TargetSide `json:"against,omitempty"`
	// Target is the target object, nil when there is none.
	Target *TargetSide `json:"target"`
	// PairedBy is the attribute the two were paired by, "" when they are
	// not paired.
	PairedBy   string             `json:"pairedBy"`
	Attributes []ExplainAttribute `json:"attributes"`
	// Changes are the report's changes of the object, memberships
	// included.
	Changes []Change `json:"changes"`
}

// TenantSide is the tenant's object of an explanation.
type TenantSide struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	// InScope and Scope say whether Entra provisions the object and why.
	InScope bool     `json:"inScope"`
	Scope   string   `json:"scope"`
	Causes  []string `json:"causes"`
	// Members are a group's desired members (their UPNs); Skipped the
	// direct members Entra leaves out, with why.
	Members []string `json:"members,omitempty"`
	Skipped []string `json:"skippedMembers,omitempty"`
}

// TargetSide is the target's object of an explanation.
type TargetSide struct {
	ID     string `json:"id"`
	Name   string `json:"name"`
	Active bool   `json:"active"`
	// Prefixed: the target showed the soft-delete prefix in userName.
	Prefixed bool   `json:"prefixed,omitempty"`
	MIName   string `json:"miUsername,omitempty"`
	Source   string `json:"source,omitempty"`
	// Members are a group's members (their userNames, or ids).
	Members  []string      `json:"members,omitempty"`
	Resource scim.Resource `json:"resource"`
}

// ExplainAttribute is one mapped attribute of an explained object.
type ExplainAttribute struct {
	Attribute string `json:"attribute"`
	// Desired is the value that flows (or the reference's), Target the
	// target's.
	Desired any `json:"desired"`
	Target  any `json:"target"`
	// Flow is when the value flows: always, on-create, if-target-empty,
	// none.
	Flow string `json:"flow,omitempty"`
	// Source is the mapping's source ([mail], an expression, a
	// constant); Provenance says how the value came out of it.
	Source     string `json:"source,omitempty"`
	Provenance string `json:"provenance,omitempty"`
	// Compared reports whether the comparison looks at the attribute,
	// Differs whether it differs; Note says why it is not compared.
	Compared bool   `json:"compared"`
	Differs  bool   `json:"differs"`
	Note     string `json:"note,omitempty"`
}

// LookupError is an --identity that names nothing, or several objects.
type LookupError struct{ Msg string }

func (e *LookupError) Error() string { return e.Msg }

// Keep returns the predicate ReadOptions.Keep takes to keep the resources
// an explanation of ref needs: the objects ref names by id, name or
// externalId, and those of the tenant object it names (t may be nil).
func Keep(ref string, t *tenant.Tenant) func(*Object) bool {
	names := []string{ref}
	ids := []string{ref}
	if t != nil {
		if o, err := t.FindObject(ref); err == nil {
			if o.User != nil {
				names = append(names, o.User.UserPrincipalName(), o.User.TombstoneUPN())
				ids = append(ids, o.User.ObjectID())
			} else {
				names = append(names, o.Group.DisplayName())
				ids = append(ids, o.Group.ObjectID())
			}
		}
	}
	return func(o *Object) bool {
		for _, id := range ids {
			if o.ID == id || (o.ExternalID != "" && o.ExternalID == id) {
				return true
			}
		}
		for _, n := range names {
			if n != "" && strings.EqualFold(o.Name, n) {
				return true
			}
		}
		return false
	}
}

// Explain explains the object ref names: a tenant user or group (by
// objectId, UPN or displayName), else a target object (by id, userName,
// displayName or externalId; the reference's too against a second
// target). The snapshot must have been read with Keep(ref, …) for the
// target's resource to be shown.
func (r *Report) Explain(ref string) (*Explanation, error) {
	if r.mp != nil {
		return r.explainTenant(ref)
	}
	return r.explainTargets(ref)
}

func (r *Report) explainTenant(ref string) (*Explanation, error) {
	t := r.mp.Tenant()
	obj, err := t.FindObject(ref)
	var le *tenant.LookupError
	if err != nil && errors.As(err, &le) && len(le.Ambiguous) > 0 {
		return nil, &LookupError{Msg: err.Error()}
	}
	if err == nil {
		if obj.User != nil {
			return r.explainDesired(mapping.Users, obj.User.Index(), r.mp.ExplainUser(obj.User))
		}
		if !r.mp.Mapping().Groups.Enabled || r.groups == nil {
			return nil, &LookupError{Msg: fmt.Sprintf("%q is a group, and groups are not compared (group provisioning is off, or --only users)", ref)}
		}
		return r.explainDesired(mapping.Groups, obj.Group.Index(), r.mp.ExplainGroup(obj.Group))
	}
	kind, j, err := findTarget(r.snap, ref, r.groups != nil)
	if err != nil {
		return nil, err
	}
	p := r.users
	if kind == mapping.Groups {
		p = r.groups
	}
	if i := p.right[j]; i >= 0 {
		if kind == mapping.Groups {
			g := t.Group(int(i))
			return r.explainDesired(kind, int(i), r.mp.ExplainGroup(g))
		}
		u := t.User(int(i))
		return r.explainDesired(kind, int(i), r.mp.ExplainUser(u))
	}
	o := r.snap.objects(kind)[j]
	e := &Explanation{Object: kind.Singular(), Identity: o.Name, Target: r.targetSide(o)}
	for k, a := range r.snap.Attributes(kind) {
		e.Attributes = append(e.Attributes, ExplainAttribute{Attribute: a.Target, Target: o.Values[k], Source: a.SourceText(), Note: "no tenant object pairs with it"})
	}
	e.Changes = r.changesOf(kind, "", o.ID)
	return e, nil
}

// explainDesired explains tenant object i, mapped as d.
func (r *Report) explainDesired(kind mapping.ObjectKind, i int, d *mapping.Desired) (*Explanation, error) {
	p := r.users
	if kind == mapping.Groups {
		p = r.groups
	}
	e := &Explanation{Object: kind.Singular(), Identity: d.Name,
		Tenant: &TenantSide{ID: d.ObjectID, Name: d.Name, InScope: d.Scope.InScope, Scope: d.Scope.String(), Causes: d.Scope.Causes.Codes()}}
	if e.Tenant.Causes == nil {
		e.Tenant.Causes = []string{}
	}
	if kind == mapping.Groups {
		for _, id := range d.Members {
			if u, ok := r.mp.Tenant().UserByID(id); ok {
				e.Tenant.Members = append(e.Tenant.Members, u.UserPrincipalName())
			}
		}
		for _, s := range d.SkippedMembers {
			name := s.ID
			if u, ok := r.mp.Tenant().UserByID(s.ID); ok {
				name = u.UserPrincipalName()
			}
			e.Tenant.Skipped = append(e.Tenant.Skipped, name+": "+s.Reason)
		}
	}
	var o *Object
	if j := p.left[i]; j >= 0 {
		o = r.snap.objects(kind)[j]
		e.Target, e.PairedBy = r.targetSide(o), p.pairedBy(i)
	}
	for k := range d.Values {
		v := &d.Values[k]
		a := ExplainAttribute{Attribute: v.Attribute.Target, Desired: v.JSON(), Flow: v.Flow.String(), Source: v.Attribute.SourceText(), Provenance: v.Explanation()}
		if v.Flow == mapping.FlowNone {
			a.Desired = nil
		}
		if o != nil && k < len(o.Values) {
			a.Target = o.Values[k]
		}
		switch {
		case o == nil:
			a.Note = "no target object pairs with it"
		case v.Err != nil:
			a.Note = "the expression fails: the export fails"
		case v.Flow == mapping.FlowAlways:
			a.Compared, a.Differs = true, !esync.HoldsValue(v.Value(), v.Attribute.TargetType, a.Target)
		case v.Flow == mapping.FlowIfTargetEmpty:
			a.Compared, a.Differs = true, esync.EmptyTarget(a.Target)
		case v.Flow == mapping.FlowOnCreate:
			a.Note = "flows on create only: not compared"
		default:
			a.Note = "does not flow: not compared"
		}
		e.Attributes = append(e.Attributes, a)
	}
	tid := ""
	if o != nil {
		tid = o.ID
	}
	e.Changes = r.changesOf(kind, d.ObjectID, tid)
	return e, nil
}

func (r *Report) targetSide(o *Object) *TargetSide { return r.sideOf(o, r.snap) }

// sideOf describes an object of snapshot s, a group's members by their
// userNames.
func (r *Report) sideOf(o *Object, s *Snapshot) *TargetSide {
	ts := &TargetSide{ID: o.ID, Name: o.Name, Active: o.Active, Prefixed: o.Prefixed, MIName: o.MIName, Source: o.Source, Resource: o.Resource}
	if o.Kind == mapping.Groups {
		names := make(map[string]string, len(s.Users))
		for _, u := range s.Users {
			names[u.ID] = u.Name
		}
		for _, m := range o.Members {
			if n, ok := names[m]; ok {
				ts.Members = append(ts.Members, n)
			} else {
				ts.Members = append(ts.Members, m)
			}
		}
	}
	return ts
}

// changesOf are the report's changes of an object, by its tenant
// objectId or its target id: the object's own, and for a user the
// memberships it is the member of, for a group its memberships.
func (r *Report) changesOf(kind mapping.ObjectKind, sourceID, targetID string) []Change {
	is := func(s, t string) bool {
		return sourceID != "" && s == sourceID || targetID != "" && t == targetID
	}
	out := []Change{}
	for _, c := range r.Changes {
		switch {
		case c.Member != nil && kind == mapping.Users:
			if is(c.Member.SourceID, c.Member.TargetID) {
				out = append(out, c)
			}
		case c.kind == kind && is(c.SourceID, c.TargetID):
			out = append(out, c)
		case c.kind == kind && c.Kind == Duplicate:
			for _, o := range c.Objects {
				if o.ID == sourceID || o.ID == targetID && targetID != "" {
					out = append(out, c)
					break
				}
			}
		}
	}
	return out
}

// findTarget finds the target object ref names: by id, then by name
// (case-insensitively), then by externalId; users first.
func findTarget(s *Snapshot, ref string, groups bool) (mapping.ObjectKind, int, error) {
	kinds := []mapping.ObjectKind{mapping.Users}
	if groups {
		kinds = append(kinds, mapping.Groups)
	}
	for _, match := range []func(*Object) bool{
		func(o *Object) bool { return o.ID == ref },
		func(o *Object) bool { return strings.EqualFold(o.Name, ref) },
		func(o *Object) bool { return o.ExternalID != "" && o.ExternalID == ref },
	} {
		var found []struct {
			k mapping.ObjectKind
			j int
		}
		for _, k := range kinds {
			for j, o := range s.objects(k) {
				if match(o) {
					found = append(found, struct {
						k mapping.ObjectKind
						j int
					}{k, j})
				}
			}
		}
		switch {
		case len(found) == 1:
			return found[0].k, found[0].j, nil
		case len(found) > 1:
			var ids []string
			for _, f := range found {
				ids = append(ids, f.k.Singular()+" "+s.objects(f.k)[f.j].ID)
			}
			return "", 0, &LookupError{Msg: fmt.Sprintf("%q names %d objects of %s (%s): use an id", ref, len(found), s.Name, strings.Join(ids, ", "))}
		}
	}
	return "", 0, &LookupError{Msg: fmt.Sprintf("no user or group %q in the tenant or in %s", ref, s.Name)}
}

func (s *Snapshot) objects(k mapping.ObjectKind) []*Object {
	if k == mapping.Groups {
		return s.Groups
	}
	return s.Users
}

// explainTargets explains an object of two compared targets.
func (r *Report) explainTargets(ref string) (*Explanation, error) {
	kind, i, errRef := findTarget(r.ref, ref, r.groups != nil)
	p := r.users
	var o, ro *Object
	if errRef == nil {
		if kind == mapping.Groups {
			p = r.groups
		}
		ro = r.ref.objects(kind)[i]
		if j := p.left[i]; j >= 0 {
			o = r.snap.objects(kind)[j]
		}
	} else {
		var j int
		var err error
		kind, j, err = findTarget(r.snap, ref, r.groups != nil)
		if err != nil {
			return nil, &LookupError{Msg: fmt.Sprintf("no user or group %q in %s or in %s", ref, r.ref.Name, r.snap.Name)}
		}
		if kind == mapping.Groups {
			p = r.groups
		}
		o = r.snap.objects(kind)[j]
		if li := p.right[j]; li >= 0 {
			i, ro = int(li), r.ref.objects(kind)[li]
		}
	}
	e := &Explanation{Object: kind.Singular()}
	if ro != nil {
		e.Identity = ro.Name
		e.Against = r.sideOf(ro, r.ref)
		e.PairedBy = p.pairedBy(i)
	}
	if o != nil {
		if e.Identity == "" {
			e.Identity = o.Name
		}
		e.Target = r.sideOf(o, r.snap)
	}
	for k, a := range r.snap.Attributes(kind) {
		ea := ExplainAttribute{Attribute: a.Target}
		if ro != nil {
			ea.Desired = ro.Values[k]
		}
		if o != nil {
			ea.Target = o.Values[k]
		}
		if ro != nil && o != nil {
			ea.Compared, ea.Differs = true, !sameJSON(ea.Desired, ea.Target, a.TargetType)
		} else {
			ea.Note = "not in both targets"
		}
		e.Attributes = append(e.Attributes, ea)
	}
	sid, tid := "", ""
	if ro != nil {
		sid = ro.ID
	}
	if o != nil {
		tid = o.ID
	}
	e.Changes = r.changesOf(kind, sid, tid)
	return e, nil
}
