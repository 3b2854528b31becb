package mapping

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/miscim/miscim/internal/entra/expr"
	"github.com/miscim/miscim/internal/entra/tenant"
)

// ScopeMode is the job's scope setting: "Sync only assigned users and
// groups" or "Sync all users and groups".
type ScopeMode string

const (
	ScopeAssigned ScopeMode = "assigned"
	ScopeAll      ScopeMode = "all"
)

// ScopeModes lists the values --scope takes.
var ScopeModes = []string{string(ScopeAssigned), string(ScopeAll)}

// ParseScopeMode reads --scope, in any case; "" is assigned (DESIGN §5).
func ParseScopeMode(s string) (ScopeMode, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "assigned":
		return ScopeAssigned, nil
	case "all":
		return ScopeAll, nil
	}
	return "", fmt.Errorf("unknown scope %q: use assigned (sync only assigned users and groups) or all", s)
}

// Causes are the reasons an object is out of scope, as a set.
type Causes uint8

const (
	// NotAssigned: with scope assigned, neither the user nor a group it is
	// a direct member of is assigned to the app (for a group: the group
	// itself is not assigned).
	NotAssigned Causes = 1 << iota
	// FilteredOut: the object passes none of the scoping filters.
	FilteredOut
	// SoftDeleted: the object is in the recycle bin.
	SoftDeleted
	// Disabled: the user's accountEnabled is false (blocked sign-in).
	Disabled
	// ProvisioningOff: group provisioning is turned off in the mapping.
	ProvisioningOff
)

var causeNames = []struct {
	c          Causes
	code, text string
}{
	{ProvisioningOff, "group-provisioning-off", "group provisioning is turned off in the mapping"},
	{NotAssigned, "not-assigned", "not assigned to the app"},
	{FilteredOut, "scoping-filter", "passes no scoping filter"},
	{SoftDeleted, "soft-deleted", "soft-deleted"},
	{Disabled, "disabled", "disabled (accountEnabled false)"},
}

// Has reports whether c holds x.
func (c Causes) Has(x Causes) bool { return c&x != 0 }

// Codes lists the causes as stable names: not-assigned, scoping-filter,
// soft-deleted, disabled, group-provisioning-off.
func (c Causes) Codes() []string {
	var out []string
	for _, n := range causeNames {
		if c.Has(n.c) {
			out = append(out, n.code)
		}
	}
	return out
}

// String lists the causes for people.
func (c Causes) String() string {
	var out []string
	for _, n := range causeNames {
		if c.Has(n.c) {
			out = append(out, n.text)
		}
	}
	return strings.Join(out, "; ")
}

// Scope is the scope decision for one object: what the "Determine if user
// is in scope" step of provisioning on demand shows (POD; G-POD's
// EntrySynchronizationScoping).
type Scope struct {
	Kind ObjectKind
	// InScope is Entra's "effectively entitled for provisioning": the
	// object is provisioned, and for a user IsSoftDeleted is False.
	InScope bool
	// Causes say why not, every one that applies.
	Causes Causes
	// Assigned: the object has an effective assignment (a user its own or
	// a direct group's; nested groups do not count), whatever the mode.
	Assigned bool
	// ScopeAll: the mode is "sync all", so assignment is not required.
	ScopeAll bool
	// Filters is how many scoping filters the mapping has; FilterPassed is
	// the 1-based index of the first one the object passes, 0 for none.
	Filters, FilterPassed int
	// AccountEnabled is the user's, Unknown when the export left it out
	// (read as enabled: docs/mapping.md).
	AccountEnabled tenant.Bool
	SoftDeleted    bool
}

// IsSoftDeleted is the computed attribute of that name: true for a user
// that is unassigned, out of the scoping filters, soft-deleted or disabled
// (entra-behavior §5.4, MAP "What you should know").
func (s Scope) IsSoftDeleted() bool { return s.Kind == Users && !s.InScope }

// Active is POD's IsActive: not soft-deleted, and not disabled.
func (s Scope) Active() bool { return !s.SoftDeleted && s.AccountEnabled != tenant.False }

// SkipReason is the provisioning log's skip reason for an object Entra does
// not provision: NotEffectivelyEntitled (SAPPLAN, NOPROV); "" in scope.
func (s Scope) SkipReason() string {
	if s.InScope {
		return ""
	}
	return "NotEffectivelyEntitled"
}

// String says why the object is in scope or not, for people.
func (s Scope) String() string {
	if !s.InScope {
		return "out of scope: " + s.Causes.String()
	}
	var why []string
	switch {
	case s.ScopeAll:
		why = append(why, "scope is all users and groups")
	case s.Assigned:
		why = append(why, "assigned")
	}
	if s.Filters > 0 {
		why = append(why, fmt.Sprintf("passes scoping filter %d", s.FilterPassed))
	}
	if s.Kind == Users && s.AccountEnabled == tenant.Unknown {
		why = append(why, "accountEnabled not exported: read as enabled")
	}
	return "in scope: " + strings.Join(why, ", ")
}

// attrReader is what a scoping filter reads: an object's attributes.
type attrReader interface {
	Attr(name string) expr.Value
}

// passes evaluates scoping filters, OR of AND-ed clauses, and returns the
// 1-based index of the first filter passed (0: none). No filters pass
// everything; the first index is then 0 too, with ok true.
func passes(filters []Filter, attrs attrReader) (index int, ok bool) {
	if len(filters) == 0 {
		return 0, true
	}
	for i := range filters {
		all := true
		for j := range filters[i].Clauses {
			if !filters[i].Clauses[j].holds(attrs.Attr(filters[i].Clauses[j].Attribute)) {
				all = false
				break
			}
		}
		if all {
			return i + 1, true
		}
	}
	return 0, false
}

// holds evaluates one clause on the attribute's value (SCOPE): a null or
// empty value makes every clause false except IS NULL, which is true
// exactly then ("Scoping filters will return false if the value is null /
// empty"); a multi-valued attribute makes every clause false ("Filtering is
// not supported for multi-valued attributes"). Comparisons are
// case-sensitive, as EQUALS and Includes are documented to be.
func (c *Clause) holds(v expr.Value) bool {
	if v.Kind() == expr.KindMulti {
		return false
	}
	s, _ := v.Single()
	empty := v.IsNull() || s == ""
	switch {
	case c.Operator == OpIsNull:
		return empty
	case empty:
		return false
	}
	switch c.Operator {
	case OpIsNotNull:
		return true
	case OpEquals:
		return s == c.Value
	case OpNotEquals:
		return s != c.Value
	case OpEndsWith:
		return strings.HasSuffix(s, c.Value)
	case OpIncludes:
		return strings.Contains(s, c.Value)
	case OpContainedIn:
		// "true if the evaluated attribute exists in the input string
		// value" (SCOPE): the attribute's value within the clause's.
		return strings.Contains(c.Value, s)
	case OpNotContainedIn:
		return !strings.Contains(c.Value, s)
	case OpIsTrue:
		return strings.EqualFold(strings.TrimSpace(s), "True")
	case OpIsFalse:
		return strings.EqualFold(strings.TrimSpace(s), "False")
	case OpGreaterThan, OpGreaterOrEquals:
		// "the attribute on the user must be an integer": anything else
		// does not pass.
		n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
		if err != nil {
			return false
		}
		if c.Operator == OpGreaterThan {
			return n > c.num
		}
		return n >= c.num
	case OpRegexMatch, OpNotRegexMatch:
		m, err := c.re.MatchString(s)
		if err != nil {
			// A match that times out decides nothing: not in scope.
			return false
		}
		return m == (c.Operator == OpRegexMatch)
	}
	return false
}
