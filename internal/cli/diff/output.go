package diff

import (
	"fmt"
	"strings"

	"github.com/miscim/miscim/internal/diff"
	"github.com/miscim/miscim/internal/iostreams"
	"github.com/miscim/miscim/internal/render"
)

// header says what was compared with what.
type header struct {
	Tenant  string `json:"tenant,omitempty"`
	Format  string `json:"format,omitempty"`
	Mapping string `json:"mapping"`
	Scope   string `json:"scope,omitempty"`
	Target  string `json:"target"`
	Against string `json:"against,omitempty"`
	Only    string `json:"only,omitempty"`
	// State is the simulator's state file whose connector space was
	// read ("" none).
	State string `json:"state,omitempty"`
}

// Output is the document -o json prints (docs/diff.md).
type Output struct {
	header
	Identical bool         `json:"identical"`
	Summary   diff.Summary `json:"summary"`
	Notes     []string     `json:"notes"`
	Changes   []changeOut  `json:"changes"`
	// Plan is there with --plan.
	Plan *planOut `json:"plan,omitempty"`
}

// changeOut is a change as -o json lists it: with --plan, the requests
// the next cycle would send for it.
type changeOut struct {
	diff.Change
	Plan []plannedRequest `json:"plan,omitempty"`
}

// ExplainOutput is -o json with --identity: what was compared, and the
// explanation.
type ExplainOutput struct {
	Comparison header `json:"comparison"`
	*diff.Explanation
}

// reference names what the target is compared with.
func (h header) reference() string {
	if h.Against != "" {
		return h.Against
	}
	return "the tenant"
}

func renderReport(o *Options, rep *diff.Report, h header) error {
	ios := o.IO
	changes := rep.Changes
	if changes == nil {
		changes = []diff.Change{}
	}
	notes := rep.Notes
	if notes == nil {
		notes = []string{}
	}
	var po *planOut
	if o.plan != nil {
		po = newPlanOut(o.plan)
	}
	if o.Format == render.FormatJSON || o.Format == render.FormatYAML {
		out := Output{header: h, Identical: rep.Identical(), Summary: rep.Summary, Notes: notes, Changes: make([]changeOut, len(changes)), Plan: po}
		for i := range changes {
			out.Changes[i].Change = changes[i]
			if o.plan != nil {
				out.Changes[i].Plan = requestsFor(o.plan, &changes[i])
			}
		}
		_, err := render.Structured(ios.Out, o.Format, out)
		return err
	}
	if !ios.IsStdoutTTY() {
		if err := writeRecords(ios, changes); err != nil {
			return err
		}
	} else {
		if err := writeGrouped(ios, changes, o.Limit); err != nil {
			return err
		}
		if len(changes) > 0 {
			fmt.Fprintln(ios.Out)
		}
		if err := summaryTable(ios, rep.Summary, h).Render(ios); err != nil {
			return err
		}
	}
	if po != nil {
		if err := renderPlan(ios, po); err != nil {
			return err
		}
	}
	return verdict(ios, rep, h)
}

// writeRecords prints one tab-separated record per change and attribute:
// kind, object, action, identity, sourceId, targetId, attribute, target,
// desired, reason. A membership's member is the desired value of an
// addition and the target value of a removal.
func writeRecords(ios *iostreams.IOStreams, changes []diff.Change) error {
	var b strings.Builder
	clean := strings.NewReplacer("\t", " ", "\n", " ", "\r", " ")
	rec := func(c *diff.Change, attr, target, desired string) {
		fields := []string{string(c.Kind), c.Object, string(c.Action), c.Identity, c.SourceID, c.TargetID, attr, target, desired, c.Reason}
		for i, f := range fields {
			if i > 0 {
				b.WriteByte('\t')
			}
			b.WriteString(clean.Replace(f))
		}
		b.WriteByte('\n')
	}
	for i := range changes {
		c := &changes[i]
		switch {
		case c.Member != nil && c.Kind == diff.MemberAdded:
			rec(c, "members", "", c.Member.Identity)
		case c.Member != nil:
			rec(c, "members", c.Member.Identity, "")
		case len(c.Attributes) > 0:
			for _, a := range c.Attributes {
				rec(c, a.Attribute, diff.Show(a.Target), diff.Show(a.Desired))
			}
		default:
			rec(c, "", "", "")
		}
	}
	_, err := fmt.Fprint(ios.Out, b.String())
	return err
}

// marks are the signs of the grouped diff.
func mark(c *diff.Change) string {
	switch c.Kind {
	case diff.Missing, diff.MemberAdded:
		return "+"
	case diff.Changed:
		return "~"
	case diff.OutOfScope, diff.Removed, diff.MemberRemoved:
		return "-"
	case diff.Duplicate:
		return "!"
	}
	return "?"
}

// styleOf is the style of a change's mark and action: additions green,
// updates yellow, removals and failures red, what the next cycle leaves
// muted.
func styleOf(th render.Theme, c *diff.Change) func(...string) string {
	switch {
	case c.Action == diff.ActionNone:
		return th.Muted.Render
	case c.Action == diff.ActionFail || c.Kind == diff.Duplicate:
		return th.Err.Render
	}
	switch c.Kind {
	case diff.Missing, diff.MemberAdded:
		return th.OK.Render
	case diff.Changed:
		return th.Warn.Render
	case diff.OutOfScope, diff.Removed, diff.MemberRemoved:
		return th.Err.Render
	}
	return th.Muted.Render
}

// word is what the grouped diff says of a change: the next cycle's
// action, or the kind of change when the cycle does nothing about it (or
// two targets are compared).
func word(c *diff.Change) string {
	switch c.Action {
	case diff.ActionCreate, diff.ActionUpdate, diff.ActionDisable, diff.ActionDelete:
		return string(c.Action)
	case diff.ActionAddMember:
		return "add"
	case diff.ActionRemoveMember:
		return "remove"
	}
	switch c.Kind {
	case diff.OutOfScope:
		return "out of scope"
	case diff.MemberAdded:
		return "missing"
	case diff.MemberRemoved:
		return "extra"
	}
	return string(c.Kind)
}

// writeGrouped prints the grouped diff of a terminal: users, groups and
// memberships, each entry a mark, the action and the object, then its
// reason and attributes beneath, folded to the terminal's width; each
// section at most limit entries (0: all).
func writeGrouped(ios *iostreams.IOStreams, changes []diff.Change, limit int) error {
	th := render.NewTheme(ios)
	width := ios.TerminalWidth()
	var b strings.Builder
	// line writes prose, wrapped at spaces; value writes an attribute's
	// values, cut where the width ends (they may hold spaces that matter).
	write := func(indent string, parts []string, style func(...string) string) {
		for i, part := range parts {
			if style != nil {
				part = style(part)
			}
			if i > 0 && !strings.HasPrefix(parts[i], " ") {
				b.WriteString(indent + "  " + part + "\n")
				continue
			}
			b.WriteString(indent + part + "\n")
		}
	}
	room := func(indent string) int { return max(width-render.DisplayWidth(indent), 20) }
	line := func(indent, text string, style func(...string) string) {
		write(indent, render.WrapText(text, room(indent)-2), style)
	}
	value := func(indent, text string) {
		write(indent, render.Fold(text, room(indent), "  "), nil)
	}
	sections := []struct {
		title string
		keep  func(*diff.Change) bool
	}{
		{"users", func(c *diff.Change) bool { return c.Member == nil && c.Object == "user" }},
		{"groups", func(c *diff.Change) bool { return c.Member == nil && c.Object == "group" }},
		{"memberships", func(c *diff.Change) bool { return c.Member != nil }},
	}
	first := true
	for _, s := range sections {
		var in []*diff.Change
		for i := range changes {
			if s.keep(&changes[i]) {
				in = append(in, &changes[i])
			}
		}
		if len(in) == 0 {
			continue
		}
		if !first {
			b.WriteString("\n")
		}
		first = false
		line("", fmt.Sprintf("%s: %s", s.title, plural(len(in), "change")), th.Bold.Render)
		shown := in
		if limit > 0 && len(shown) > limit {
			shown = shown[:limit]
		}
		group := ""
		for _, c := range shown {
			st := styleOf(th, c)
			if c.Member != nil {
				if c.Identity+c.TargetID != group {
					group = c.Identity + c.TargetID
					line("  ", c.Identity, th.Bold.Render)
				}
				line("    ", mark(c)+" "+word(c)+" "+c.Member.Identity, st)
				line("        ", c.Reason, th.Muted.Render)
				continue
			}
			line("  ", mark(c)+" "+word(c)+" "+c.Identity, st)
			line("      ", c.Reason, th.Muted.Render)
			if len(c.Attributes) > 0 {
				aw := 0
				for _, a := range c.Attributes {
					aw = max(aw, render.DisplayWidth(a.Attribute))
				}
				for _, a := range c.Attributes {
					pad := strings.Repeat(" ", aw-render.DisplayWidth(a.Attribute))
					value("      ", a.Attribute+pad+"  "+diff.Show(a.Target)+" → "+diff.Show(a.Desired))
				}
			}
			for _, r := range c.Objects {
				line("      ", r.Side+": "+r.Identity+" ("+r.ID+")", nil)
			}
		}
		if n := len(in) - len(shown); n > 0 {
			line("  ", fmt.Sprintf("… and %d more (--limit 0 shows every one; piped or -o json output lists them all)", n), th.Muted.Render)
		}
	}
	_, err := fmt.Fprint(ios.Out, b.String())
	return err
}

// summaryTable counts the comparison: per kind of object, how many each
// side has, how many are identical, and each kind of change.
func summaryTable(ios *iostreams.IOStreams, s diff.Summary, h header) *render.Table {
	th := render.NewTheme(ios)
	t := render.NewTable(render.Column{Header: ""}, render.Column{Header: "users"}, render.Column{Header: "groups"}, render.Column{Header: "memberships"})
	num := func(n int, changes bool) render.Cell {
		c := render.Cell{Text: fmt.Sprint(n)}
		if changes && n > 0 {
			c.Style = &th.Warn
		}
		return c
	}
	none := render.Cell{Text: "-", Style: &th.Muted}
	in := "in scope"
	if h.Against != "" {
		in = "in " + h.Against
	}
	t.AddCells(render.Cell{Text: in}, num(s.Users.InScope, false), num(s.Groups.InScope, false), num(s.Members.Desired, false))
	t.AddCells(render.Cell{Text: "in " + h.Target}, num(s.Users.Target, false), num(s.Groups.Target, false), num(s.Members.Target, false))
	t.AddCells(render.Cell{Text: "identical"}, num(s.Users.Identical, false), num(s.Groups.Identical, false), none)
	rows := []struct {
		name string
		u, g int
	}{
		{"missing", s.Users.Missing, s.Groups.Missing},
		{"changed", s.Users.Changed, s.Groups.Changed},
		{"out of scope", s.Users.OutOfScope, s.Groups.OutOfScope},
		{"removed", s.Users.Removed, s.Groups.Removed},
		{"unmanaged", s.Users.Unmanaged, s.Groups.Unmanaged},
		{"extra", s.Users.Extra, s.Groups.Extra},
		{"duplicate", s.Users.Duplicate, s.Groups.Duplicate},
	}
	for _, r := range rows {
		if r.u+r.g == 0 && r.name != "missing" && r.name != "changed" {
			continue
		}
		t.AddCells(render.Cell{Text: r.name}, num(r.u, true), num(r.g, true), none)
	}
	t.AddCells(render.Cell{Text: "to add"}, none, none, num(s.Members.Added, true))
	t.AddCells(render.Cell{Text: "to remove"}, none, none, num(s.Members.Removed, true))
	return t
}

// verdict is the last line, on stderr.
func verdict(ios *iostreams.IOStreams, rep *diff.Report, h header) error {
	eth := render.NewErrTheme(ios)
	for _, n := range rep.Notes {
		fmt.Fprintln(ios.ErrOut, eth.Muted.Render("note: "+n))
	}
	s := rep.Summary
	if rep.Identical() {
		_, err := fmt.Fprintln(ios.ErrOut, eth.OK.Render(fmt.Sprintf("diff: %s holds what %s has: %s, %s, %s",
			h.Target, h.reference(), plural(s.Users.Paired, "user"), plural(s.Groups.Paired, "group"), plural(s.Members.Desired, "membership"))))
		return err
	}
	var parts []string
	add := func(n int, what string) {
		if n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, what))
		}
	}
	u, g := s.Users, s.Groups
	add(u.Missing+g.Missing, "missing")
	add(u.Changed+g.Changed, "changed")
	add(u.OutOfScope+g.OutOfScope, "out of scope")
	add(u.Removed+g.Removed, "removed")
	add(u.Unmanaged+g.Unmanaged, "unmanaged")
	add(u.Extra+g.Extra, "extra")
	add(u.Duplicate+g.Duplicate, "duplicate")
	if n := s.Members.Added; n > 0 {
		parts = append(parts, plural(n, "membership")+" to add")
	}
	if n := s.Members.Removed; n > 0 {
		parts = append(parts, plural(n, "membership")+" to remove")
	}
	_, err := fmt.Fprintln(ios.ErrOut, eth.Warn.Render(fmt.Sprintf("diff: %s between %s and %s (%s)",
		plural(s.Changes, "difference"), h.Target, h.reference(), strings.Join(parts, ", "))))
	return err
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}

// renderExplanation prints one object: its two sides, the attributes, the
// changes.
func renderExplanation(o *Options, e *diff.Explanation, h header) error {
	ios := o.IO
	if done, err := render.Structured(ios.Out, o.Format, ExplainOutput{Comparison: h, Explanation: e}); done {
		return err
	}
	fields := []render.Field{{Key: "object", Value: e.Object + " " + e.Identity}}
	if e.Tenant != nil {
		fields = append(fields, render.Field{Key: "tenant", Value: e.Tenant.Name + " (" + e.Tenant.ID + ")"}, render.Field{Key: "scope", Value: e.Tenant.Scope})
		if e.Object == "group" {
			fields = append(fields, render.Field{Key: "members", Value: fmt.Sprintf("%d in scope, %d left out", len(e.Tenant.Members), len(e.Tenant.Skipped))})
		}
	} else if h.Against == "" {
		fields = append(fields, render.Field{Key: "tenant", Value: "none: no tenant object pairs with it"})
	}
	side := func(key string, s *diff.TargetSide, where string) {
		if s == nil {
			fields = append(fields, render.Field{Key: key, Value: "none: not in " + where})
			return
		}
		v := s.Name + " (" + s.ID + ")"
		if e.Object == "user" {
			state := "active"
			if !s.Active {
				state = "disabled"
			}
			v += "; " + state
			if s.MIName != "" && s.MIName != s.Name {
				v += "; MI username " + s.MIName
			}
			if s.Source != "" {
				v += "; source " + s.Source
			}
		} else {
			v += fmt.Sprintf("; %d members", len(s.Members))
		}
		fields = append(fields, render.Field{Key: key, Value: v})
	}
	if h.Against != "" {
		side("against", e.Against, h.Against)
	}
	side("target", e.Target, h.Target)
	paired := e.PairedBy
	if paired == "" {
		paired = "not paired"
	}
	fields = append(fields, render.Field{Key: "paired by", Value: paired})
	result := "identical"
	if len(e.Changes) > 0 {
		result = plural(len(e.Changes), "change")
	}
	fields = append(fields, render.Field{Key: "result", Value: result})
	if err := render.WriteFields(ios, fields); err != nil {
		return err
	}
	if ios.IsStdoutTTY() {
		fmt.Fprintln(ios.Out)
	}
	th := render.NewTheme(ios)
	want := "desired"
	if h.Against != "" {
		want = h.Against
	}
	t := render.NewTable(render.Column{Header: "attribute"}, render.Column{Header: want, Fit: render.Wrap}, render.Column{Header: "target", Fit: render.Wrap},
		render.Column{Header: "result"}, render.Column{Header: "source", Fit: render.Wrap, Hide: 1})
	for _, a := range e.Attributes {
		res := render.Cell{Text: "same", Style: &th.OK}
		switch {
		case !a.Compared:
			res = render.Cell{Text: a.Note, Style: &th.Muted}
		case a.Differs:
			res = render.Cell{Text: "differs", Style: &th.Warn}
		}
		src := a.Source
		if a.Provenance != "" {
			src += "; " + a.Provenance
		}
		t.AddCells(render.Cell{Text: a.Attribute}, render.Cell{Text: diff.Show(a.Desired)}, render.Cell{Text: diff.Show(a.Target)}, res, render.Cell{Text: src})
	}
	if err := t.Render(ios); err != nil {
		return err
	}
	if len(e.Changes) > 0 {
		if ios.IsStdoutTTY() {
			fmt.Fprintln(ios.Out)
			return writeGrouped(ios, e.Changes, 0)
		}
		return writeRecords(ios, e.Changes)
	}
	return nil
}
