package tenant

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
)

// Severity ranks a finding.
type Severity uint8

const (
	SeverityInfo    Severity = iota // worth knowing; nothing will go wrong because of it
	SeverityWarning                 // the snapshot may not be what Entra sees
)

func (s Severity) String() string {
	if s == SeverityWarning {
		return "warning"
	}
	return "info"
}

// Finding codes: stable names for what a loader noticed.
const (
	// A group's members came from $expand=members and number exactly 20.
	FindingPossiblyTruncated = "possibly-truncated"
	// Some groups have exported members, this one has none exported.
	FindingMembersNotExported = "members-not-exported"
	// The export has groups but no membership information at all.
	FindingNoMemberships = "no-memberships"
	// A member's objectId is not a user or group of the export.
	FindingUnknownMember = "unknown-member"
	// Members that are service principals, devices or contacts: Entra
	// does not provision them to a SCIM app.
	FindingUnsupportedMembers = "unsupported-members"
	// The same member is listed twice in one group.
	FindingDuplicateMember = "duplicate-member"
	// A members file names a group the export does not have.
	FindingMembersOfUnknownGroup = "members-of-unknown-group"
	// An assignment's principal is not in the export.
	FindingUnknownPrincipal = "unknown-principal"
	// An assignment carries a deletedDateTime: it no longer applies.
	FindingDeletedAssignment = "deleted-assignment"
	// Assignments to more than one app (resourceId) in one export.
	FindingSeveralApps = "several-apps"
	// The last page of a collection still has an @odata.nextLink.
	FindingIncompletePages = "incomplete-pages"
	// A file in an export directory that no loader reads.
	FindingIgnoredFile = "ignored-file"
	// A CSV column holds .NET type names: PowerShell did not export it.
	FindingNotExported = "not-exported"
	// An object listed both as live and in deletedItems.
	FindingDeletedAndLive = "deleted-and-live"
	// No user's accountEnabled was exported: disabled users cannot be told.
	FindingNoAccountEnabled = "no-account-enabled"
)

// ObjectRef names what a finding is about.
type ObjectRef struct {
	Kind string // "user", "group", "assignment", "file" or "tenant"
	ID   string // objectId, or the file name
	Name string // UPN or displayName, when known
}

func (o ObjectRef) String() string {
	switch {
	case o.Name != "" && o.ID != "":
		return fmt.Sprintf("%s %s (%s)", o.Kind, o.Name, o.ID)
	case o.ID != "":
		return o.Kind + " " + o.ID
	}
	return o.Kind
}

// Finding is something a loader noticed that is not an error: the
// snapshot is usable, but may differ from what Entra sees.
type Finding struct {
	Severity Severity
	Code     string
	Object   ObjectRef
	Message  string // what is wrong
	Fix      string // what to do about it
	Source   Source
}

func (f Finding) String() string {
	s := fmt.Sprintf("%s: %s: %s", f.Severity, f.Object, f.Message)
	if src := f.Source.String(); src != "" {
		s += " (" + src + ")"
	}
	return s
}

func sortFindings(fs []Finding) {
	slices.SortStableFunc(fs, func(a, b Finding) int {
		return cmp.Or(
			cmp.Compare(b.Severity, a.Severity),
			cmp.Compare(a.Object.Kind, b.Object.Kind),
			cmp.Compare(strings.ToLower(a.Object.ID), strings.ToLower(b.Object.ID)),
			cmp.Compare(a.Code, b.Code),
		)
	})
}

// LoadError is input miscim cannot read: it names the file and the line
// or JSON path, says what is wrong and, in Hint, how to fix it.
type LoadError struct {
	Source Source
	Msg    string
	Hint   string
	Err    error // the underlying error (I/O, syntax), if any
}

func (e *LoadError) Error() string {
	if src := e.Source.String(); src != "" {
		return src + ": " + e.Msg
	}
	return e.Msg
}

func (e *LoadError) Unwrap() error { return e.Err }

// LookupError is a reference (objectId, UPN, group name) that names no
// object, or several.
type LookupError struct {
	Ref       string
	Kind      string   // "user", "group", "user or group"
	Ambiguous []string // the objectIds it could mean, when several
}

func (e *LookupError) Error() string {
	if len(e.Ambiguous) > 0 {
		return fmt.Sprintf("%q names %d objects (%s): use an objectId", e.Ref, len(e.Ambiguous), strings.Join(e.Ambiguous, ", "))
	}
	return fmt.Sprintf("no %s %q in the tenant", e.Kind, e.Ref)
}
