package render

import (
	"strconv"
	"strings"
	"testing"

	"github.com/miscim/miscim/internal/entra/provlog"
	"github.com/miscim/miscim/internal/iostreams"
	"github.com/miscim/miscim/internal/testkit"
)

// lines are live lines of every kind: a create, a failure with a long
// reason, a skip, a long identity, wide runes, a control character.
var lines = []provlog.Line{
	{Action: provlog.ActionCreate, Status: provlog.StatusSuccess, Type: "User", Identity: "ana.lee@contoso.com", Detail: `userName, active, emails[type eq "work"].value, name.givenName`},
	{Action: provlog.ActionCreate, Status: provlog.StatusFailure, Type: "User", Identity: "bjorn.angstrom@contoso.com", Detail: `EntryConflict: StatusCode: Conflict Message: Processing of the HTTP request resulted in an exception.`},
	{Action: provlog.ActionOther, Status: provlog.StatusSkipped, Type: "User", Identity: "eve@contoso.com", Detail: "RedundantExport"},
	{Action: provlog.ActionStagedDelete, Status: provlog.StatusWarning, Type: "Group", Identity: "Sales & Marketing", Detail: "TooManyDeletes: 512 deletes exceed the threshold of 500"},
	{Action: provlog.ActionUpdate, Status: provlog.StatusSuccess, Type: "User", Identity: "a.very.long.user.principal.name.that.goes.on@subsidiary.contoso.com", Detail: `displayName: "A" → "B"`},
	{Action: provlog.ActionDisable, Status: provlog.StatusSuccess, Type: "User", Identity: "渡辺さん@contoso.com", Detail: "active: \"True\" → \"False\"\x1b[31m"},
	{Action: provlog.ActionDelete, Status: provlog.StatusSuccess, Type: "Group", Identity: "Old Project"},
}

func TestProvisioningLine(t *testing.T) {
	for _, width := range []int{80, 160} {
		ios, _, _, _ := iostreams.Test()
		th := NewTheme(ios)
		var b strings.Builder
		for _, l := range lines {
			b.WriteString(ProvisioningLine(th, l, width))
			b.WriteByte('\n')
		}
		testkit.FitsTerminal(t, []byte(b.String()), width, DisplayWidth)
		testkit.Golden(t, "provisioning-lines-"+strconv.Itoa(width), []byte(b.String()))
	}
	// No limit: nothing is cut.
	ios, _, _, _ := iostreams.Test()
	if got := ProvisioningLine(NewTheme(ios), lines[1], 0); !strings.HasSuffix(got, "resulted in an exception.") {
		t.Errorf("unlimited line cut: %q", got)
	}
	// Too narrow for the detail: left out, the identity whole.
	if got := ProvisioningLine(NewTheme(ios), lines[4], 100); strings.Contains(got, "displayName") || !strings.HasSuffix(got, "contoso.com") {
		t.Errorf("narrow line: %q", got)
	}
	// Colour: the status only.
	ios.SetColorEnabled(true)
	got := ProvisioningLine(NewTheme(ios), lines[1], 80)
	if !strings.Contains(got, "\x1b[31mFailure\x1b[0m") || strings.Count(got, "\x1b[") != 2 {
		t.Errorf("styled line: %q", got)
	}
}

func TestProvisioningSummary(t *testing.T) {
	c := provlog.Counts{
		{Action: provlog.ActionCreate, Status: provlog.StatusSuccess}:       99712,
		{Action: provlog.ActionCreate, Status: provlog.StatusFailure}:       288,
		{Action: provlog.ActionUpdate, Status: provlog.StatusSuccess}:       1000,
		{Action: provlog.ActionOther, Status: provlog.StatusSkipped}:        37,
		{Action: provlog.ActionStagedDelete, Status: provlog.StatusWarning}: 3,
	}
	ios, o, _ := terminal(80)
	th := NewTheme(ios)
	if err := ProvisioningSummary(th, c).Render(ios); err != nil {
		t.Fatal(err)
	}
	testkit.FitsTerminal(t, []byte(o.String()), 80, DisplayWidth)
	testkit.Golden(t, "provisioning-summary", []byte(o.String()))
	ios, o, _ = terminal(80)
	if err := ProvisioningSummary(NewTheme(ios), provlog.Counts{}).Render(ios); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(o.String(), "Total   0        0        0        0        0") {
		t.Errorf("empty summary:\n%s", o)
	}
}
