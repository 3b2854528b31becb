package render

import (
	"fmt"
	"strings"

	"github.com/charmbracelet/lipgloss"

	"github.com/miscim/miscim/internal/entra/provlog"
)

// Widths of the live provisioning-log line's first columns: the longest
// action (StagedDelete), status (Success, Failure, Skipped, Warning) and
// identity type (Group); an identity shorter than identityPad is padded
// to it, so that the details of most lines start in one column.
const (
	lineActionWidth = 12
	lineStatusWidth = 7
	lineTypeWidth   = 5
	identityPad     = 28
	lineDetailMin   = 10 // narrower than this, the detail is left out
)

// ProvisioningLine lays out one live provisioning-log line (simulate, one
// per object, as each finishes): action, status and type in columns of
// their own, the identity, then the detail — changed properties, or the
// error code and reason, or why it was skipped — cut with "…" to fit
// width columns (0: no limit). The identity is cut only when the line
// cannot hold it after the first columns; the detail is left out when
// fewer than 10 columns remain for it. The status is styled with th (green success, red
// failure, muted skipped, yellow warning).
func ProvisioningLine(th Theme, l provlog.Line, width int) string {
	identity := terminalText(l.Identity)
	detail := terminalText(l.Detail)
	var b strings.Builder
	b.WriteString(pad(l.Action.Display(), lineActionWidth))
	b.WriteString("  ")
	status := l.Status.Display()
	b.WriteString(StatusStyle(th, l.Status).Render(status))
	b.WriteString(strings.Repeat(" ", max(lineStatusWidth-DisplayWidth(status), 0)+2))
	b.WriteString(pad(terminalText(l.Type), lineTypeWidth))
	b.WriteString("  ")
	used := lineActionWidth + lineStatusWidth + lineTypeWidth + 6
	if width > 0 && used+DisplayWidth(identity) > width {
		identity = truncate(identity, max(width-used, 1))
	}
	b.WriteString(identity)
	used += DisplayWidth(identity)
	if detail == "" {
		return b.String()
	}
	gap := max(identityPad-DisplayWidth(identity), 0) + 2
	room := width - used - gap
	if width > 0 && room < lineDetailMin {
		return b.String()
	}
	b.WriteString(strings.Repeat(" ", gap))
	if width > 0 {
		detail = truncate(detail, room)
	}
	b.WriteString(detail)
	return b.String()
}

// pad left-aligns s in width columns.
func pad(s string, width int) string {
	if w := DisplayWidth(s); w < width {
		return s + strings.Repeat(" ", width-w)
	}
	return s
}

// StatusStyle is the style a provisioning status is shown in.
func StatusStyle(th Theme, s provlog.Status) lipgloss.Style {
	switch s {
	case provlog.StatusSuccess:
		return th.OK
	case provlog.StatusFailure:
		return th.Err
	case provlog.StatusWarning:
		return th.Warn
	}
	return th.Muted
}

// ProvisioningSummary is the summary of a run or a cycle: one row per
// action that has records (in provlog.Actions order), a column per status
// and the total, and a last row of totals. Counts that are not zero are
// styled as their status (a failure red); zeros are muted.
func ProvisioningSummary(th Theme, c provlog.Counts) *Table {
	cols := []Column{{Header: "action"}}
	for _, s := range provlog.Statuses {
		cols = append(cols, Column{Header: string(s)})
	}
	cols = append(cols, Column{Header: "total"})
	t := NewTable(cols...)
	cell := func(n int, s provlog.Status) Cell {
		st := th.Muted
		if n > 0 {
			st = StatusStyle(th, s)
		}
		return Cell{Text: fmt.Sprint(n), Style: &st}
	}
	row := func(name string, count func(provlog.Status) int, total int) {
		cells := []Cell{{Text: name}}
		for _, s := range provlog.Statuses {
			cells = append(cells, cell(count(s), s))
		}
		cells = append(cells, Cell{Text: fmt.Sprint(total)})
		t.AddCells(cells...)
	}
	for _, a := range provlog.Actions {
		if n := c.ByAction(a); n > 0 {
			row(a.Display(), func(s provlog.Status) int { return c.Get(a, s) }, n)
		}
	}
	row("Total", c.ByStatus, c.Total())
	return t
}
