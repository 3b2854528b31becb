package mapping

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"github.com/miscim/miscim/internal/entra/expr"
	"github.com/miscim/miscim/internal/entra/tenant"
	"github.com/miscim/miscim/internal/scim"
)

// Options bind a mapping to a run.
type Options struct {
	// Scope is the job's scope setting; "" is assigned.
	Scope ScopeMode
	// Env is the expression environment (clock of Now(), randomness of
	// Guid()); nil is the system clock and crypto/rand.
	Env *expr.Env
}

// Mapper maps the objects of one tenant snapshot through one mapping. It
// is immutable and safe for concurrent use.
type Mapper struct {
	t    *tenant.Tenant
	m    *Mapping
	mode ScopeMode
	env  *expr.Env

	// inScope[i] is user i's scope, computed once when a group's members
	// are first mapped.
	once    sync.Once
	inScope []bool
}

// New returns a Mapper of t through m.
func New(t *tenant.Tenant, m *Mapping, opts Options) (*Mapper, error) {
	mode, err := ParseScopeMode(string(opts.Scope))
	if err != nil {
		return nil, err
	}
	return &Mapper{t: t, m: m, mode: mode, env: opts.Env}, nil
}

// Tenant is the snapshot the Mapper maps.
func (mp *Mapper) Tenant() *tenant.Tenant { return mp.t }

// Mapping is the mapping it maps through.
func (mp *Mapper) Mapping() *Mapping { return mp.m }

// Mode is the scope setting.
func (mp *Mapper) Mode() ScopeMode { return mp.mode }

// Flow says when a mapped value reaches the target.
type Flow uint8

const (
	// FlowNone: nothing flows. The value is null (Entra does not flow
	// nulls), IgnoreFlowIfNullOrEmpty dropped it, the expression failed,
	// or a None mapping has no default.
	FlowNone Flow = iota
	// FlowAlways: sent on create, and on update when it differs from the
	// target's value.
	FlowAlways
	// FlowOnCreate: sent on create only: the mapping applies "only during
	// object creation", or the value is the default (MAP: "only
	// provisioned when a user is created").
	FlowOnCreate
	// FlowIfTargetEmpty: a None mapping's default: sent on create, and on
	// update only when the target has no value (MAP, mapping type None).
	FlowIfTargetEmpty
)

var flowNames = [...]string{"none", "always", "on-create", "if-target-empty"}

func (f Flow) String() string {
	if int(f) < len(flowNames) {
		return flowNames[f]
	}
	return "none"
}

// AttrValue is one target attribute of a desired resource, with where its
// value came from.
type AttrValue struct {
	// Attribute is the mapping that produced it.
	Attribute *Attribute
	Flow      Flow
	// Source is the value before a default: a Direct mapping's source
	// attribute, an Expression's result (null when it failed), a
	// Constant's constant. Value is what flows.
	Source expr.Value
	// DefaultUsed: Source was null and the default value flows instead.
	DefaultUsed bool
	// IgnoreFlow: IgnoreFlowIfNullOrEmpty dropped the attribute.
	IgnoreFlow bool
	// Redacted: Redact() contributed; provisioning logs show [Redact].
	Redacted bool
	// Err is the expression's failure on this object (*expr.EvalError):
	// Entra fails the object's export.
	Err error
	// Tree is the expression's call tree, with Mapper.Explain only.
	Tree *expr.Step
}

// Target is the SCIM path the value goes to.
func (v *AttrValue) Target() string { return v.Attribute.Target }

// Value is what flows: the source, or the default value when DefaultUsed;
// null when Flow is FlowNone. Booleans are "True"/"False", numbers
// strings, as Entra's engine holds them; JSON gives the value as the
// target attribute's type.
func (v *AttrValue) Value() expr.Value {
	switch {
	case v.Flow == FlowNone:
		return expr.Null()
	case v.DefaultUsed:
		return expr.Str(*v.Attribute.Default)
	}
	return v.Source
}

// OnCreate reports whether the value is in the create (POST) body.
func (v *AttrValue) OnCreate() bool { return v.Flow != FlowNone }

// OnUpdate reports whether an update sends the value when the target's
// differs (FlowIfTargetEmpty: only when the target has none).
func (v *AttrValue) OnUpdate() bool { return v.Flow == FlowAlways }

// Explanation says, in one line, how the value flows or why it does not:
// the provenance --explain and tenant check show.
func (v *AttrValue) Explanation() string {
	a := v.Attribute
	var ee *expr.EvalError
	switch {
	case v.Err != nil && errors.As(v.Err, &ee):
		return "the expression fails: " + ee.Msg
	case v.Err != nil:
		return "the expression fails: " + v.Err.Error()
	case a.Type == None && v.Flow == FlowNone:
		return "None: the target's value is left as it is"
	case a.Type == None:
		return "None: the default fills the target when it is empty"
	case v.IgnoreFlow:
		return "IgnoreFlowIfNullOrEmpty: null or empty, dropped from the flow"
	}
	var parts []string
	if v.Source.IsNull() {
		what := "the expression returned null"
		if a.Type == Direct {
			what = "[" + a.Source + "] is null"
		}
		if v.DefaultUsed {
			parts = append(parts, what+": the default flows, on create only")
		} else {
			parts = append(parts, what+": Entra does not flow nulls")
		}
	}
	if a.Apply == ApplyOnCreate && v.Flow != FlowNone {
		parts = append(parts, "applied only during creation")
	}
	if v.Redacted {
		parts = append(parts, "shown as [Redact] in provisioning logs")
	}
	return strings.Join(parts, "; ")
}

// JSON returns the value as the target attribute's type, for a request
// body: Boolean "True"/"False" (any case, as .NET's Boolean.Parse reads
// them) as a JSON boolean, an Integer as a number; other strings as they
// are — a Boolean target given "1"/"0", as Metric Insights' active
// mapping gives it, stays the string (entra-edge-cases §10: verbatim).
// A multi-valued value is an array of strings; null is nil.
func (v *AttrValue) JSON() any {
	return typedJSON(v.Value(), v.Attribute.TargetType)
}

func typedJSON(val expr.Value, tt TargetType) any {
	if val.IsNull() {
		return nil
	}
	if val.Kind() == expr.KindMulti {
		vs := val.Values()
		out := make([]any, len(vs))
		for i, s := range vs {
			out[i] = typedScalar(s, tt)
		}
		return out
	}
	s, _ := val.Single()
	return typedScalar(s, tt)
}

func typedScalar(s string, tt TargetType) any {
	switch tt {
	case TypeBoolean:
		switch strings.ToLower(strings.TrimSpace(s)) {
		case "true":
			return true
		case "false":
			return false
		}
	case TypeInteger:
		if n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64); err == nil {
			return json.Number(strconv.FormatInt(n, 10))
		}
	}
	return s
}

// SkippedMember is a direct member of a group that Entra does not add to
// the target group, and why.
type SkippedMember struct {
	ID   string
	Kind tenant.MemberKind
	// Reason: "nested group" (Entra provisions direct user members only),
	// "not a user" (a device, contact or service principal), "not in the
	// tenant", or the user's scope causes.
	Reason string
	// Causes are the user's scope causes, for a user member out of scope.
	Causes Causes
}

// Desired is what Entra would want the target to hold for one object: its
// scope, every mapped value with its provenance, and for a group the
// members it would add.
type Desired struct {
	Kind     ObjectKind
	ObjectID string
	// Name is the user's UPN (UserPrincipalName, not the tombstone form)
	// or the group's displayName, for messages.
	Name  string
	User  *tenant.User  // set for a user
	Group *tenant.Group // set for a group
	Scope Scope
	// Values are the mapped attributes in the mapping's order; a group's
	// members are in Members instead.
	Values []AttrValue
	// MembersMapped: the group mapping maps members, so Entra provisions
	// memberships.
	MembersMapped bool
	// Members are the objectIds of the group's direct user members that
	// are in scope, in the tenant's order: the memberships Entra would
	// add after the group and its users exist. Nested groups are never
	// expanded.
	Members []string
	// SkippedMembers are the other direct members, and why.
	SkippedMembers []SkippedMember
	// Assignments are the effective assignments, with Explain only.
	Assignments []tenant.Assignment

	attrs userAttrs
}

// Value returns the value mapped to a target path (compared
// case-insensitively).
func (d *Desired) Value(target string) (*AttrValue, bool) {
	key := canonicalTarget(target)
	for i := range d.Values {
		if canonicalTarget(d.Values[i].Attribute.Target) == key {
			return &d.Values[i], true
		}
	}
	return nil, false
}

// Err is the first expression failure, nil when every mapping evaluated.
func (d *Desired) Err() error {
	for i := range d.Values {
		if d.Values[i].Err != nil {
			return d.Values[i].Err
		}
	}
	return nil
}

// Match is one matching attribute of an object, with the value Entra
// queries the target with.
type Match struct {
	Attribute  *Attribute
	Precedence int
	// Value is the mapped value before any default; Present is false when
	// it is null or empty: Entra then tries the next matching attribute.
	Value   string
	Present bool
}

// Matching returns the object's matching attributes in precedence order,
// the order Entra queries the target in (MAP, "Matching precedence").
func (d *Desired) Matching() []Match {
	var out []Match
	for i := range d.Values {
		v := &d.Values[i]
		if v.Attribute.Matching == 0 {
			continue
		}
		s, ok := v.Source.Single()
		if v.Err != nil || v.IgnoreFlow {
			s, ok = "", false
		}
		out = append(out, Match{Attribute: v.Attribute, Precedence: v.Attribute.Matching, Value: s, Present: ok && s != ""})
	}
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j].Precedence < out[j-1].Precedence; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

// Resource returns the desired attributes as a SCIM resource body:
// create=true what a POST carries (every value that flows), false what an
// update keeps in step (FlowAlways values only). Paths nest as RFC 7644
// §3.5.2 reads them: name.givenName under name, emails[type eq
// "work"].value as the element {"type":"work","value":…}, an extension's
// attributes under its URN. schemas, meta and a group's members are left
// to the caller.
func (d *Desired) Resource(create bool) map[string]any {
	out := map[string]any{}
	for i := range d.Values {
		v := &d.Values[i]
		if !(create && v.OnCreate() || !create && v.OnUpdate()) {
			continue
		}
		setPath(out, v.Attribute.path, v.JSON())
	}
	return out
}

// setPath puts value at a target path of a resource.
func setPath(doc map[string]any, p scim.AttrPath, value any) {
	obj := doc
	if p.URI != "" {
		ext, _ := obj[p.URI].(map[string]any)
		if ext == nil {
			ext = map[string]any{}
			obj[p.URI] = ext
		}
		obj = ext
	}
	if p.ValueFilter != nil {
		ce := p.ValueFilter.(*scim.CompareExpr)
		key, want := ce.Path.Name, ce.Value
		list, _ := obj[p.Name].([]any)
		var elem map[string]any
		for _, e := range list {
			if m, ok := e.(map[string]any); ok && m[key] == want {
				elem = m
			}
		}
		if elem == nil {
			elem = map[string]any{key: want}
			list = append(list, elem)
			obj[p.Name] = list
		}
		elem[p.SubAttr] = value
		return
	}
	if p.SubAttr == "" {
		obj[p.Name] = value
		return
	}
	sub, _ := obj[p.Name].(map[string]any)
	if sub == nil {
		sub = map[string]any{}
		obj[p.Name] = sub
	}
	sub[p.SubAttr] = value
}

// User maps one user: its scope and desired resource.
func (mp *Mapper) User(u *tenant.User) *Desired { return mp.user(u, false) }

// ExplainUser is User with each expression's call tree and the user's
// effective assignments: slower, for --explain.
func (mp *Mapper) ExplainUser(u *tenant.User) *Desired { return mp.user(u, true) }

// Group maps one group: its scope, desired resource and members.
func (mp *Mapper) Group(g *tenant.Group) *Desired { return mp.group(g, false) }

// ExplainGroup is Group with call trees and assignments.
func (mp *Mapper) ExplainGroup(g *tenant.Group) *Desired { return mp.group(g, true) }

// UserScope decides one user's scope without mapping its attributes.
func (mp *Mapper) UserScope(u *tenant.User) Scope {
	a := userAttrs{u: u}
	return mp.userScope(u, &a)
}

func (mp *Mapper) userScope(u *tenant.User, a *userAttrs) Scope {
	om := &mp.m.Users
	s := Scope{Kind: Users, ScopeAll: mp.mode == ScopeAll, Filters: len(om.Scoping),
		AccountEnabled: u.AccountEnabled(), SoftDeleted: u.SoftDeleted(), Assigned: mp.t.Assigned(u)}
	if !s.Assigned && !s.ScopeAll {
		s.Causes |= NotAssigned
	}
	var ok bool
	if s.FilterPassed, ok = passes(om.Scoping, a); !ok {
		s.Causes |= FilteredOut
	}
	if s.SoftDeleted {
		s.Causes |= SoftDeleted
	}
	// An export without accountEnabled says nothing about it: Unknown is
	// enabled, never disabled (docs/mapping.md).
	if s.AccountEnabled == tenant.False {
		s.Causes |= Disabled
	}
	s.InScope = s.Causes == 0
	return s
}

// GroupScope decides one group's scope.
func (mp *Mapper) GroupScope(g *tenant.Group) Scope {
	om := &mp.m.Groups
	s := Scope{Kind: Groups, ScopeAll: mp.mode == ScopeAll, Filters: len(om.Scoping),
		SoftDeleted: g.SoftDeleted(), Assigned: mp.t.GroupAssigned(g)}
	if !om.Enabled {
		s.Causes |= ProvisioningOff
	}
	if !s.Assigned && !s.ScopeAll {
		s.Causes |= NotAssigned
	}
	var ok bool
	if s.FilterPassed, ok = passes(om.Scoping, groupAttrs{g}); !ok {
		s.Causes |= FilteredOut
	}
	if s.SoftDeleted {
		s.Causes |= SoftDeleted
	}
	s.InScope = s.Causes == 0
	return s
}

// UserAttributes returns what an expression reads for the user: the
// tenant's attributes, with IsSoftDeleted computed from the user's scope
// and userPrincipalName as Entra reads it for guests.
func (mp *Mapper) UserAttributes(u *tenant.User) expr.Attributes {
	a := &userAttrs{u: u}
	a.soft = expr.Bool(mp.userScope(u, a).IsSoftDeleted())
	return a
}

// UserAttributeNames lists the attributes UserAttributes gives the user,
// sorted as the tenant sorts them, the computed ones last.
func (mp *Mapper) UserAttributeNames(u *tenant.User) []string {
	names := u.AttrNames()
	if _, ok := u.Attr(AttrOriginalUPN); !ok {
		if _, ok := u.Attr("userPrincipalName"); ok {
			names = append(names, AttrOriginalUPN)
		}
	}
	return append(names, AttrIsSoftDeleted)
}

// UserTo is User into d, reusing d's storage: the loop that maps every
// user of a cycle without keeping them allocates nothing. d must not be
// in use elsewhere.
func (mp *Mapper) UserTo(d *Desired, u *tenant.User) {
	values := d.Values[:0]
	*d = Desired{}
	mp.fillUser(d, u, values, false)
}

func (mp *Mapper) user(u *tenant.User, explain bool) *Desired {
	d := &Desired{}
	mp.fillUser(d, u, nil, explain)
	return d
}

func (mp *Mapper) fillUser(d *Desired, u *tenant.User, values []AttrValue, explain bool) {
	om := &mp.m.Users
	d.Kind, d.ObjectID, d.Name, d.User = Users, u.ObjectID(), u.UserPrincipalName(), u
	d.attrs.u = u
	d.Scope = mp.userScope(u, &d.attrs)
	d.attrs.soft = expr.Bool(d.Scope.IsSoftDeleted())
	if explain {
		d.Assignments = mp.t.EffectiveAssignments(u)
	}
	d.Values = mp.values(om, &d.attrs, values, explain)
}

// GroupObject is Group without the members: the group object's scope
// and values, what a change of the group itself is judged on (simulate
// compares it every cycle for every group, and members are looked at
// only where the membership changed).
func (mp *Mapper) GroupObject(g *tenant.Group) *Desired {
	om := &mp.m.Groups
	d := &Desired{Kind: Groups, ObjectID: g.ObjectID(), Name: g.DisplayName(), Group: g}
	d.Scope = mp.GroupScope(g)
	d.Values = mp.values(om, groupAttrs{g}, nil, false)
	for _, a := range om.Attributes {
		if a.IsMembers() {
			d.MembersMapped = true
		}
	}
	return d
}

func (mp *Mapper) group(g *tenant.Group, explain bool) *Desired {
	om := &mp.m.Groups
	d := &Desired{Kind: Groups, ObjectID: g.ObjectID(), Name: g.DisplayName(), Group: g}
	d.Scope = mp.GroupScope(g)
	if explain {
		d.Assignments = g.Assignments()
	}
	d.Values = mp.values(om, groupAttrs{g}, nil, explain)
	for _, a := range om.Attributes {
		if a.IsMembers() {
			d.MembersMapped = true
		}
	}
	if d.MembersMapped {
		mp.members(d, g)
	}
	return d
}

// members fills a group's desired members: its direct user members in
// scope (Entra adds no others; nested groups are not expanded, HOW).
func (mp *Mapper) members(d *Desired, g *tenant.Group) {
	mp.once.Do(func() {
		mp.inScope = make([]bool, mp.t.UserCount())
		for i := range mp.inScope {
			mp.inScope[i] = mp.UserScope(mp.t.User(i)).InScope
		}
	})
	for _, m := range g.Members() {
		switch {
		case m.Kind == tenant.MemberUser && m.Resolved():
			u, _ := mp.t.UserByID(m.ID)
			if mp.inScope[u.Index()] {
				d.Members = append(d.Members, u.ObjectID())
				continue
			}
			c := mp.UserScope(u).Causes
			d.SkippedMembers = append(d.SkippedMembers, SkippedMember{ID: m.ID, Kind: m.Kind, Reason: "out of scope: " + c.String(), Causes: c})
		case m.Kind == tenant.MemberGroup:
			d.SkippedMembers = append(d.SkippedMembers, SkippedMember{ID: m.ID, Kind: m.Kind, Reason: "nested group: Entra provisions the direct user members of a group only"})
		case !m.Resolved() && (m.Kind == tenant.MemberUser || m.Kind == tenant.MemberUnknown):
			d.SkippedMembers = append(d.SkippedMembers, SkippedMember{ID: m.ID, Kind: m.Kind, Reason: "not in the tenant export"})
		default:
			d.SkippedMembers = append(d.SkippedMembers, SkippedMember{ID: m.ID, Kind: m.Kind, Reason: fmt.Sprintf("a %s: Entra provisions users only as members", m.Kind)})
		}
	}
}

// values evaluates every attribute mapping of om but members, appending
// to out.
func (mp *Mapper) values(om *ObjectMapping, attrs expr.Attributes, out []AttrValue, explain bool) []AttrValue {
	if out == nil {
		n := 0
		for _, a := range om.Attributes {
			if !a.IsMembers() {
				n++
			}
		}
		out = make([]AttrValue, 0, n)
	}
	for _, a := range om.Attributes {
		if a.IsMembers() {
			continue
		}
		out = append(out, mp.value(a, attrs, explain))
	}
	return out
}

func (mp *Mapper) value(a *Attribute, attrs expr.Attributes, explain bool) AttrValue {
	v := AttrValue{Attribute: a}
	switch a.Type {
	case Direct:
		v.Source = attrs.Attr(a.Source)
	case Constant:
		v.Source = expr.Str(a.Constant)
	case Expression:
		var r expr.Result
		var err error
		if explain {
			r, v.Tree, err = a.Expression.Explain(attrs, mp.env)
		} else {
			r, err = a.Expression.Eval(attrs, mp.env)
		}
		if err != nil {
			v.Err = err
			return v
		}
		v.Source, v.IgnoreFlow, v.Redacted = r.Value, r.IgnoreFlow, r.Redacted
		if v.IgnoreFlow {
			// Dropped from the flow: no default either (docs/mapping.md).
			return v
		}
	case None:
		if a.Default != nil {
			v.Flow, v.DefaultUsed = FlowIfTargetEmpty, true
		}
		return v
	}
	switch {
	case !v.Source.IsNull():
		v.Flow = FlowAlways
		if a.Apply == ApplyOnCreate {
			v.Flow = FlowOnCreate
		}
	case a.Default != nil:
		v.Flow, v.DefaultUsed = FlowOnCreate, true
	}
	return v
}
