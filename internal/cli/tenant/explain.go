package tenant

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/miscim/miscim/internal/cli/cmdutil"
	"github.com/miscim/miscim/internal/entra/expr"
	"github.com/miscim/miscim/internal/entra/mapping"
	entratenant "github.com/miscim/miscim/internal/entra/tenant"
	"github.com/miscim/miscim/internal/iostreams"
	"github.com/miscim/miscim/internal/render"
)

// explainJSON is `tenant show --explain`'s JSON (docs/tenant.md).
type explainJSON struct {
	Kind           string              `json:"kind"`
	ObjectID       string              `json:"objectId"`
	Name           string              `json:"name"`
	Source         string              `json:"source"`
	Scope          explainScopeJSON    `json:"scope"`
	Values         []valueJSON         `json:"values"`
	Matching       []matchJSON         `json:"matching"`
	Resource       map[string]any      `json:"resource"`
	MembersMapped  bool                `json:"membersMapped,omitempty"`
	Members        []string            `json:"members,omitempty"`
	SkippedMembers []skippedMemberJSON `json:"skippedMembers,omitempty"`
}

type explainScopeJSON struct {
	InScope       bool             `json:"inScope"`
	Reason        string           `json:"reason"`
	OutOfScope    []string         `json:"outOfScope,omitempty"`
	SkipReason    string           `json:"skipReason,omitempty"`
	IsSoftDeleted *bool            `json:"isSoftDeleted,omitempty"`
	Assignments   []assignmentJSON `json:"assignments"`
}

type assignmentJSON struct {
	PrincipalType        string `json:"principalType"`
	PrincipalID          string `json:"principalId"`
	PrincipalDisplayName string `json:"principalDisplayName,omitempty"`
	AppRoleID            string `json:"appRoleId"`
}

type valueJSON struct {
	Target      string `json:"target"`
	MappingType string `json:"mappingType"`
	Source      string `json:"source"`
	SourceValue any    `json:"sourceValue"`
	Value       any    `json:"value"`
	Flow        string `json:"flow"`
	DefaultUsed bool   `json:"defaultUsed,omitempty"`
	IgnoreFlow  bool   `json:"ignoreFlow,omitempty"`
	Redacted    bool   `json:"redacted,omitempty"`
	Error       string `json:"error,omitempty"`
	Explanation string `json:"explanation,omitempty"`
}

type matchJSON struct {
	Target     string `json:"target"`
	Precedence int    `json:"precedence"`
	Value      string `json:"value"`
	Present    bool   `json:"present"`
}

type skippedMemberJSON struct {
	Kind   string `json:"kind"`
	ID     string `json:"id"`
	Reason string `json:"reason"`
}

// exprJSON is an expression value in JSON: a string, an array, or null.
func exprJSON(v expr.Value) any {
	switch v.Kind() {
	case expr.KindNull:
		return nil
	case expr.KindMulti:
		return v.Values()
	}
	s, _ := v.Single()
	return s
}

// explainOf maps one object with its provenance.
func explainOf(mp *mapping.Mapper, ref string) (*mapping.Desired, error) {
	obj, err := mp.Tenant().FindObject(ref)
	if err != nil {
		return nil, &cmdutil.InputError{Err: fmt.Errorf("--explain: %w", err),
			Hints: []string{"give a user's objectId or userPrincipalName, or a group's objectId or displayName (tenant show --users, --groups lists them)"}}
	}
	if obj.User != nil {
		return mp.ExplainUser(obj.User), nil
	}
	return mp.ExplainGroup(obj.Group), nil
}

func explainJSONOf(d *mapping.Desired) explainJSON {
	src := ""
	if d.User != nil {
		src = d.User.Source().String()
	} else {
		src = d.Group.Source().String()
	}
	j := explainJSON{Kind: d.Kind.Singular(), ObjectID: d.ObjectID, Name: d.Name, Source: src,
		Scope: explainScopeJSON{InScope: d.Scope.InScope, Reason: d.Scope.String(), OutOfScope: d.Scope.Causes.Codes(),
			SkipReason: d.Scope.SkipReason(), Assignments: []assignmentJSON{}},
		Values: []valueJSON{}, Matching: []matchJSON{}, Resource: d.Resource(true), MembersMapped: d.MembersMapped, Members: d.Members}
	if d.Kind == mapping.Users {
		soft := d.Scope.IsSoftDeleted()
		j.Scope.IsSoftDeleted = &soft
	}
	for _, a := range d.Assignments {
		j.Scope.Assignments = append(j.Scope.Assignments, assignmentJSON{PrincipalType: string(a.PrincipalType), PrincipalID: a.PrincipalID,
			PrincipalDisplayName: a.PrincipalDisplayName, AppRoleID: a.AppRoleID})
	}
	for i := range d.Values {
		v := &d.Values[i]
		vj := valueJSON{Target: v.Target(), MappingType: string(v.Attribute.Type), Source: v.Attribute.SourceText(),
			SourceValue: exprJSON(v.Source), Value: v.JSON(), Flow: v.Flow.String(), DefaultUsed: v.DefaultUsed,
			IgnoreFlow: v.IgnoreFlow, Redacted: v.Redacted, Explanation: v.Explanation()}
		if v.Err != nil {
			vj.Error = v.Err.Error()
		}
		j.Values = append(j.Values, vj)
	}
	for _, m := range d.Matching() {
		j.Matching = append(j.Matching, matchJSON{Target: m.Attribute.Target, Precedence: m.Precedence, Value: m.Value, Present: m.Present})
	}
	for _, s := range d.SkippedMembers {
		j.SkippedMembers = append(j.SkippedMembers, skippedMemberJSON{Kind: s.Kind.String(), ID: s.ID, Reason: s.Reason})
	}
	return j
}

func assignmentText(a entratenant.Assignment) string {
	who := strings.ToLower(string(a.PrincipalType)) + " " + a.PrincipalID
	if a.PrincipalDisplayName != "" {
		who = strings.ToLower(string(a.PrincipalType)) + " " + a.PrincipalDisplayName
	}
	if a.AppRoleID == entratenant.DefaultAccessRole {
		return who + " (default access)"
	}
	return who + " (app role " + a.AppRoleID + ")"
}

// renderExplain prints one object: what it is, its scope, then one row per
// mapped attribute (TARGET, SOURCE, VALUE, FLOW, NOTE), then a group's
// members.
func renderExplain(ios *iostreams.IOStreams, mp *mapping.Mapper, d *mapping.Desired) error {
	src := ""
	if d.User != nil {
		src = d.User.Source().String()
	} else {
		src = d.Group.Source().String()
	}
	fields := []render.Field{
		{Key: "object", Value: fmt.Sprintf("%s %s (%s)", d.Kind.Singular(), d.Name, d.ObjectID)},
		{Key: "source", Value: src},
		{Key: "scope", Value: d.Scope.String()},
	}
	var via []string
	for _, a := range d.Assignments {
		via = append(via, assignmentText(a))
	}
	if len(via) == 0 {
		via = []string{"none"}
	}
	fields = append(fields, render.Field{Key: "assignments", Value: strings.Join(via, "; ")})
	if d.Kind == mapping.Users {
		fields = append(fields, render.Field{Key: "IsSoftDeleted", Value: expr.Bool(d.Scope.IsSoftDeleted()).Values()[0]})
	}
	if r := d.Scope.SkipReason(); r != "" {
		fields = append(fields, render.Field{Key: "skip reason", Value: r})
	}
	var ms []string
	for _, m := range d.Matching() {
		v := strconv.Quote(m.Value)
		if !m.Present {
			v = "(none)"
		}
		ms = append(ms, fmt.Sprintf("%d. %s = %s", m.Precedence, m.Attribute.Target, v))
	}
	fields = append(fields, render.Field{Key: "matching", Value: strings.Join(ms, "; ")})
	if d.MembersMapped {
		fields = append(fields, render.Field{Key: "members", Value: fmt.Sprintf("%d in scope, %d left out", len(d.Members), len(d.SkippedMembers))})
	}
	if err := render.WriteFields(ios, fields); err != nil {
		return err
	}
	if ios.IsStdoutTTY() {
		fmt.Fprintln(ios.Out)
	}
	tbl := render.NewTable(
		render.Column{Header: "target"},
		render.Column{Header: "source", Fit: render.Wrap, Hide: 2},
		render.Column{Header: "value", Fit: render.Wrap},
		render.Column{Header: "flow"},
		render.Column{Header: "note", Fit: render.Wrap, Hide: 1},
	)
	for i := range d.Values {
		v := &d.Values[i]
		val := v.Value().String()
		if v.Flow == mapping.FlowNone {
			val = "-"
		}
		tbl.AddRow(v.Target(), v.Attribute.SourceText(), val, v.Flow.String(), v.Explanation())
	}
	if err := tbl.Render(ios); err != nil {
		return err
	}
	if !d.MembersMapped || len(d.SkippedMembers) == 0 {
		return nil
	}
	if ios.IsStdoutTTY() {
		fmt.Fprintln(ios.Out)
	}
	mt := render.NewTable(render.Column{Header: "left out"}, render.Column{Header: "kind"}, render.Column{Header: "why", Fit: render.Wrap})
	t := mp.Tenant()
	for _, s := range d.SkippedMembers {
		name := s.ID
		if u, ok := t.UserByID(s.ID); ok && s.Kind == entratenant.MemberUser {
			name = u.UserPrincipalName()
		} else if g, ok := t.GroupByID(s.ID); ok && s.Kind == entratenant.MemberGroup {
			name = g.DisplayName()
		}
		mt.AddRow(name, s.Kind.String(), s.Reason)
	}
	return mt.Render(ios)
}
