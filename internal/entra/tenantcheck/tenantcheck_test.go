package tenantcheck

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/miscim/miscim/internal/entra/mapping"
	"github.com/miscim/miscim/internal/entra/tenant"
	"github.com/miscim/miscim/internal/entra/tenant/tenantgen"
)

func check(t *testing.T, tenantYAML, mappingYAML string) *Report {
	t.Helper()
	tn, err := tenant.Parse("tenant.yaml", []byte(tenantYAML))
	if err != nil {
		t.Fatal(err)
	}
	m := mapping.Default()
	if mappingYAML != "" {
		if m, err = mapping.Parse("mapping.yaml", []byte(mappingYAML)); err != nil {
			t.Fatal(err)
		}
	}
	mp, err := mapping.New(tn, m, mapping.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return Check(mp)
}

// found lists "severity code object" for each finding.
func found(r *Report) []string {
	var out []string
	for _, f := range r.Findings {
		out = append(out, f.Severity.String()+" "+f.Code+" "+f.Object.Name)
	}
	return out
}

const long = "a-user-name-that-is-just-over-one-hundred-characters-long-which-metric-insights-rejects@contoso.com"

// problems is a tenant with one object per problem tenant check finds.
var problems = `users:
  - {objectId: u-ok, userPrincipalName: ok@contoso.com, accountEnabled: true, mail: ok@contoso.com, givenName: Ok, surname: Fine}
  - {objectId: u-nomail, userPrincipalName: nomail@contoso.com, accountEnabled: true}
  - {objectId: u-long, userPrincipalName: xx` + long + `, accountEnabled: true, mail: long@contoso.com}
  - {objectId: u-dup1, userPrincipalName: Dup@contoso.com, accountEnabled: true, mail: d1@contoso.com}
  - {objectId: u-dup2, userPrincipalName: dup@CONTOSO.com, accountEnabled: true, mail: d2@contoso.com}
  - {objectId: u-disabled, userPrincipalName: disabled@contoso.com, accountEnabled: false, mail: x@contoso.com}
  - {objectId: u-deleted, userPrincipalName: y` + long + `, accountEnabled: true, softDeleted: true, mail: y@contoso.com}
  - {objectId: u-unknown, userPrincipalName: unknown@contoso.com, mail: u@contoso.com}
groups:
  - {objectId: g-1, displayName: Team, description: The team, members: [u-ok, u-disabled, g-2]}
  - {objectId: g-2, displayName: TEAM, members: [u-ok]}
  - {objectId: g-3, displayName: M365, attributes: {securityEnabled: false}}
assignments:
  - {principalId: u-ok}
  - {principalId: u-nomail}
  - {principalId: u-long}
  - {principalId: u-dup1}
  - {principalId: u-dup2}
  - {principalId: u-deleted}
  - {principalId: u-unknown}
  - {principalId: g-1}
  - {principalId: g-2}
  - {principalId: g-3}
`

func TestFindings(t *testing.T) {
	r := check(t, problems, "")
	got := found(r)
	want := []string{
		"error duplicate-username dup@CONTOSO.com",
		"error no-email nomail@contoso.com",
		"error username-too-long xx" + long,
		"error duplicate-group-name TEAM",
		"warning tombstone-username-too-long y" + long,
		"warning group-not-security-enabled M365",
		"warning members-not-in-scope Team",
		"info account-enabled-unknown ",
		"info nested-groups Team",
	}
	if !slices.Equal(got, want) {
		t.Errorf("findings:\n got %s\nwant %s", strings.Join(got, "\n     "), strings.Join(want, "\n     "))
	}
	if r.Count(Error) != 4 || r.Count(Warning) != 3 || r.Count(Info) != 2 {
		t.Errorf("counts %d/%d/%d", r.Count(Error), r.Count(Warning), r.Count(Info))
	}
	if r.Users != 8 || r.UsersInScope != 6 || r.Groups != 3 || r.GroupsInScope != 3 {
		t.Errorf("counts: %d users (%d in scope), %d groups (%d in scope)", r.Users, r.UsersInScope, r.Groups, r.GroupsInScope)
	}
	for _, f := range r.Findings {
		if f.Problem == "" || f.Fix == "" {
			t.Errorf("%s: every finding says what is wrong and what to do: %+v", f.Code, f)
		}
		if f.Object.Kind == "user" && !strings.HasPrefix(f.Source, "tenant.yaml:") {
			t.Errorf("%s: source %q does not name the file and line", f.Code, f.Source)
		}
	}
	for _, f := range r.Findings {
		if f.Code == CodeDuplicateUserName && !strings.Contains(f.Problem, "Dup@contoso.com (u-dup1)") {
			t.Errorf("the duplicate names the other user: %s", f.Problem)
		}
		if f.Code == CodeMembersNotInScope && !strings.Contains(f.Problem, "disabled@contoso.com (disabled)") {
			t.Errorf("members-not-in-scope names the member and why: %s", f.Problem)
		}
	}
}

// TestMappingFindings: problems of the mapping itself, and those that
// only a custom mapping can cause.
func TestMappingFindings(t *testing.T) {
	const tn = `users:
  - {objectId: u-1, userPrincipalName: a@contoso.com, accountEnabled: true, mail: a@contoso.com}
  - {objectId: u-2, userPrincipalName: b@contoso.com, accountEnabled: true, mail: a@contoso.com, attributes: {department: Sales}}
  - {objectId: u-3, userPrincipalName: c@contoso.com, accountEnabled: false, mail: c@contoso.com}
assignments:
  - {principalId: u-1}
  - {principalId: u-2}
  - {principalId: u-3}
`
	tests := []struct {
		name, mapping string
		want          []string
	}{
		{"no email, no active", `users:
  attributes:
    - {target: userName, source: userPrincipalName, matching: 1}
    - {target: externalId, source: mail, matching: 2}
groups:
  enabled: false
  attributes: []
`, []string{"error no-email-mapping Metric Insights' default mapping", "error duplicate-matching-value b@contoso.com", "warning active-not-mapped Metric Insights' default mapping"}},
		{"active typo and failing expression", `users:
  actions: [create, update]
  attributes:
    - {target: userName, source: userPrincipalName, matching: 1}
    - {target: 'emails[type eq "work"].value', source: mail}
    - {target: active, expression: 'Switch([IsSoftDeleted], , "false", "1", "true", "0")'}
    - {target: title, expression: 'IIF([department]="Sales", "S", "O")'}
    - {target: nickName, source: Department}
`, []string{"error expression-failed a@contoso.com", "warning attribute-never-present", "warning active-null a@contoso.com", "warning active-null b@contoso.com"}},
		{"active not a boolean", `users:
  actions: [create]
  attributes:
    - {target: userName, source: userPrincipalName, matching: 1}
    - {target: 'emails[type eq "work"].value', source: mail}
    - {target: active, expression: 'Switch([IsSoftDeleted], , "False", "yes", "True", "no")'}
`, []string{"error active-not-boolean a@contoso.com", "error active-not-boolean b@contoso.com", "warning disable-needs-update", "warning active-not-false c@contoso.com"}},
		{"no matching value", `users:
  attributes:
    - {target: userName, source: userPrincipalName}
    - {target: externalId, source: employeeId, matching: 1}
    - {target: 'emails[type eq "work"].value', source: mail}
    - {target: active, expression: 'Not([IsSoftDeleted])'}
`, []string{"error matching-value-empty a@contoso.com", "error matching-value-empty b@contoso.com", "warning attribute-never-present"}},
		{"pitfall", `users:
  attributes:
    - {target: userName, source: userPrincipalName, matching: 1}
    - {target: 'emails[type eq "work"].value', source: mail}
    - {target: active, expression: 'Not([IsSoftDeleted])'}
    - {target: title, expression: 'Switch(IsPresent([mail]), "none", "True", [mail])'}
`, []string{"warning expression-pitfall mapping.yaml"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := found(check(t, tn, tt.mapping))
			for i := range got {
				got[i] = strings.TrimSuffix(got[i], " mapping.yaml")
			}
			for i := range tt.want {
				tt.want[i] = strings.TrimSuffix(strings.Replace(tt.want[i], "Metric Insights' default mapping", "mapping.yaml", 1), " mapping.yaml")
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("findings:\n got %s\nwant %s", strings.Join(got, "\n     "), strings.Join(tt.want, "\n     "))
			}
		})
	}
}

// TestSample: the bundled sample's known problems, the same in every
// format but for what only Graph exports can lose.
func TestSample(t *testing.T) {
	for _, f := range []string{"native", "graph", "csv"} {
		tn, err := tenant.Load(filepath.Join("..", "..", "..", "docs", "examples", "tenant", f))
		if err != nil {
			t.Fatal(err)
		}
		mp, _ := mapping.New(tn, mapping.Default(), mapping.Options{})
		r := Check(mp)
		got := map[string]bool{}
		for _, x := range r.Findings {
			got[x.Code+" "+x.Object.Name] = true
		}
		for _, w := range []string{CodeUserNameTooLong + " " + tenantgen.SampleLongUPN, CodeMembersNotInScope + " Sales",
			CodeNestedGroups + " " + tenantgen.SampleNested} {
			if !got[w] {
				t.Errorf("%s: no %s", f, w)
			}
		}
		if truncated := got[tenant.FindingPossiblyTruncated+" "+tenantgen.SampleTruncated]; truncated != (f != "csv") {
			t.Errorf("%s: possibly-truncated Contractors = %v", f, truncated)
		}
		if r.Count(Error) == 0 || r.UsersInScope == 0 || r.GroupsInScope != 6 {
			t.Errorf("%s: %d errors, %d users and %d groups in scope", f, r.Count(Error), r.UsersInScope, r.GroupsInScope)
		}
	}
}

func TestMaxUserNameLengthIsMIs(t *testing.T) {
	// The engine (DESIGN §3.1) and the check use one limit.
	if MaxUserNameLength != 100 {
		t.Fatal("Metric Insights allows 100 characters")
	}
}
