package sync

import (
	"fmt"
	"strings"
	"time"
)

// Dialect is the PATCH dialect the provisioning job speaks
// (entra-behavior §2.5).
type Dialect string

const (
	// DialectLegacy is what Entra sends by default: title-case ops, one
	// op per attribute with a path, booleans as "True"/"False" strings,
	// member removal by a value array.
	DialectLegacy Dialect = "legacy"
	// DialectFlag is what Entra sends with ?aadOptscim062020 on the Tenant
	// URL: lower-case ops, active as a JSON boolean, several attribute
	// replacements merged into one path-less op with dotted and URN keys,
	// one member removal per op by members[value eq "…"] (COMPAT).
	DialectFlag Dialect = "aadOptscim062020"
)

// Dialects lists the values --dialect takes.
var Dialects = []string{string(DialectLegacy), string(DialectFlag)}

// ParseDialect reads --dialect, in any case; "" is legacy.
func ParseDialect(s string) (Dialect, error) {
	switch {
	case s == "" || strings.EqualFold(s, string(DialectLegacy)):
		return DialectLegacy, nil
	case strings.EqualFold(s, string(DialectFlag)):
		return DialectFlag, nil
	}
	return "", fmt.Errorf("unknown dialect %q: use legacy (Entra's default) or aadOptscim062020 (the SCIM-compliant PATCH flag)", s)
}

// BooleanPolicy is how a Boolean-typed target attribute whose mapped
// value is not "True" or "False" — Metric Insights' active mapping gives
// "1"/"0" — is sent. Entra's behaviour is not documented
// (entra-edge-cases §10); the default passes the string through, which
// is what the captures of non-canonical strings show.
type BooleanPolicy string

const (
	// BooleanVerbatim sends the string as it is: POST "active":"1",
	// PATCH "value":"0", in both dialects.
	BooleanVerbatim BooleanPolicy = "verbatim-string"
	// BooleanCoerce reads it as a boolean ("1", "0", "true", "FALSE" …)
	// and sends it as Entra sends canonical values.
	BooleanCoerce BooleanPolicy = "coerce-boolean"
	// BooleanError fails the object's export, as .NET's strict
	// Boolean.Parse would.
	BooleanError BooleanPolicy = "export-error"
)

// BooleanPolicies lists the values --boolean-values takes.
var BooleanPolicies = []string{string(BooleanVerbatim), string(BooleanCoerce), string(BooleanError)}

// ParseBooleanPolicy reads --boolean-values; "" is verbatim-string.
func ParseBooleanPolicy(s string) (BooleanPolicy, error) {
	for _, p := range BooleanPolicies {
		if s == "" || strings.EqualFold(s, p) {
			if s == "" {
				return BooleanVerbatim, nil
			}
			return BooleanPolicy(p), nil
		}
	}
	return "", fmt.Errorf("unknown boolean policy %q: use %s", s, strings.Join(BooleanPolicies, ", "))
}

// SkipScope says which scope exits SkipOutOfScopeDeletions suppresses the
// disable for. Microsoft documents unassignment and scoping-filter exits;
// whether disabled and soft-deleted users are spared too is not
// documented (entra-edge-cases §10).
type SkipScope string

const (
	// SkipAllCauses: all four IsSoftDeleted causes (unassigned, filtered
	// out, soft-deleted, disabled) go through the out-of-scope path.
	SkipAllCauses SkipScope = "all"
	// SkipUnassignOnly: only unassignment and scoping-filter exits.
	SkipUnassignOnly SkipScope = "unassigned"
)

// SkipScopes lists the values --skip-out-of-scope-deletions-for takes.
var SkipScopes = []string{string(SkipAllCauses), string(SkipUnassignOnly)}

// Policy holds the choices where Entra's behaviour is open or
// configurable; the zero value is Entra's default for each
// (docs/simulate.md lists the evidence).
type Policy struct {
	Dialect Dialect
	Boolean BooleanPolicy
	// SkipOutOfScopeDeletions overrides the mapping's job setting when
	// set (true: users leaving scope are not disabled).
	SkipOutOfScopeDeletions *bool
	SkipScope               SkipScope
	// RemoveMembersOnSoftDelete removes a soft-deleted user from the
	// target groups it was exported to; off, Entra sends no member
	// removal for a soft delete (entra-edge-cases §1).
	RemoveMembersOnSoftDelete bool
	// TombstoneRename: a soft-deleted user's userName (mapped from its
	// UPN) flows as the tombstone UPN Graph shows; off, the UPN it had
	// is kept (entra-edge-cases §1, "tombstone-rename").
	NoTombstoneRename bool
	// MemberBatch is how many members one membership PATCH carries
	// (default 1; provisioning on demand uses up to 5).
	MemberBatch int
	// EscrowSchedule is the back-off between retries of a failed object,
	// in job time; after the last step every retry waits the last step.
	EscrowSchedule []time.Duration
	// EscrowExpiry is how long an object stays in escrow before it is
	// dropped (QUAR: 28 days).
	EscrowExpiry time.Duration
}

// DefaultEscrowSchedule is the per-object back-off Microsoft staff
// describe (QA-BACKOFF: about 30 minutes, then 1, 2, 4, 8 hours),
// continued to a day, QUAR's longest step.
var DefaultEscrowSchedule = []time.Duration{30 * time.Minute, time.Hour, 2 * time.Hour, 4 * time.Hour, 8 * time.Hour, 16 * time.Hour, 24 * time.Hour}

// DefaultEscrowExpiry is QUAR's 28 days.
const DefaultEscrowExpiry = 28 * 24 * time.Hour

// withDefaults fills the zero fields.
func (p Policy) withDefaults() Policy {
	if p.Dialect == "" {
		p.Dialect = DialectLegacy
	}
	if p.Boolean == "" {
		p.Boolean = BooleanVerbatim
	}
	if p.SkipScope == "" {
		p.SkipScope = SkipAllCauses
	}
	if p.MemberBatch <= 0 {
		p.MemberBatch = 1
	}
	if len(p.EscrowSchedule) == 0 {
		p.EscrowSchedule = DefaultEscrowSchedule
	}
	if p.EscrowExpiry <= 0 {
		p.EscrowExpiry = DefaultEscrowExpiry
	}
	return p
}

// ParseSchedule reads a comma-separated list of durations (30m,1h,2h).
func ParseSchedule(s string) ([]time.Duration, error) {
	var out []time.Duration
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		d, err := time.ParseDuration(f)
		if err != nil || d <= 0 {
			return nil, fmt.Errorf("invalid duration %q: use positive durations such as 30m,1h,2h", f)
		}
		out = append(out, d)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("empty schedule: give durations such as 30m,1h,2h")
	}
	return out, nil
}

// backoff is the wait after the n-th failure (n ≥ 1).
func (p *Policy) backoff(n int) time.Duration {
	if n < 1 {
		n = 1
	}
	if n > len(p.EscrowSchedule) {
		n = len(p.EscrowSchedule)
	}
	return p.EscrowSchedule[n-1]
}
