// Package store defines how the engine persists Metric Insights state:
// users, tombstones of users deleted by soft delete, groups, memberships,
// API tokens and system variables with their change history.
//
// The interface is transactional and has two implementations with the same
// semantics, proven by one test suite (store/storetest): store/sqlite, the
// embedded default, and store/postgres, which several `miscim serve`
// replicas share. The store knows nothing of SCIM documents or HTTP; it
// must not import net/http.
package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
)

// ErrNotFound is returned when a record does not exist.
var ErrNotFound = errors.New("not found")

// ErrDuplicate is returned when a write would break a uniqueness rule
// (userName or group displayName, case-insensitively).
var ErrDuplicate = errors.New("duplicate")

// ErrInvalidText is returned when a write holds text the database cannot
// store: a NUL character, or bytes that are not UTF-8 (PostgreSQL's text
// holds neither).
var ErrInvalidText = errors.New("text with a NUL character or invalid UTF-8")

// ErrUnavailable is matched (errors.Is) by the errors of a store that
// cannot reach its database for now: the server is down, restarting or
// unreachable, or a commit's outcome was lost with the connection. Such an
// error says nothing was acknowledged; the request may be retried once the
// database is back (the server answers 503 with Retry-After).
var ErrUnavailable = errors.New("the database is unavailable")

// UnavailableError is an ErrUnavailable with the reason, in words that
// hold no SQL and no credentials (/healthz shows it).
type UnavailableError struct {
	Reason string // e.g. "connection refused"
	Where  string // the database, e.g. "miscim@127.0.0.1:5432/miscim", for logs
	Err    error  // the driver's error, for logs
}

func (e *UnavailableError) Error() string {
	msg := "the database"
	if e.Where != "" {
		msg += " " + e.Where
	}
	msg += " is unavailable: " + e.Reason
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

// Is makes errors.Is(err, ErrUnavailable) true.
func (e *UnavailableError) Is(target error) bool { return target == ErrUnavailable }

// Unwrap returns the driver's error.
func (e *UnavailableError) Unwrap() error { return e.Err }

// User is one Metric Insights user.
type User struct {
	ID         string
	ExternalID string // "" when absent; not unique
	UserName   string // the SCIM userName, unique case-insensitively
	GivenName  string
	FamilyName string
	Email      string
	EmailType  string
	Active     bool
	UserType   string // "regular", "power" or "admin"
	AuthMethod string // "sso" for SCIM users, "password" for local ones
	Source     string // "scim" or "local"
	MIUsername string // the MI Username: userName, or prefixed while soft-deleted
	Created    time.Time
	Modified   time.Time
	Version    int64
	// Seq is the user's place in the listing order, set by the store when
	// it reads the user (ignored on writes; see Tx.UsersPage).
	Seq int64 `json:"-"`
}

// Group is one Metric Insights group.
type Group struct {
	ID          string
	DisplayName string // the MI group Name, unique case-insensitively
	ExternalID  string // the MI Group Alias
	Description string
	Created     time.Time
	Modified    time.Time
	Version     int64
	// Seq is the group's place in the listing order, set by the store when
	// it reads the group (ignored on writes; see Tx.GroupsPage).
	Seq int64
}

// Member is one member of a group.
type Member struct {
	UserID   string
	UserName string
}

// Token is an API token; only a hash of the secret is stored.
type Token struct {
	ID      string
	UserID  string
	Hash    string
	Created time.Time
	Expires time.Time // zero: never
}

// VarChange is one change of a system variable. Old or New is "" when the
// variable was unset before or after.
type VarChange struct {
	Name string
	Old  string
	New  string
	Who  string
	At   time.Time
}

// Field names an indexed attribute a lookup may use without scanning.
type Field int

// Indexed fields. UserName and DisplayName match case-insensitively.
const (
	ByID Field = iota
	ByUserName
	ByExternalID
	ByDisplayName
)

// Listing names a kind of record that is listed page by page.
type Listing int

// Listings.
const (
	UserListing Listing = iota
	GroupListing
)

// String names the listing ("users", "groups").
func (l Listing) String() string {
	switch l {
	case UserListing:
		return "users"
	case GroupListing:
		return "groups"
	}
	return fmt.Sprintf("listing(%d)", int(l))
}

// Paging. Users and groups are listed in one order per kind, the listing
// order: the order they were inserted in. Each record read carries its Seq,
// a positive integer that grows along the listing order, and a page is
// asked for by the Seq it follows (keyset paging), so that reading page k
// costs the page, not the k-1 pages before it.
//
// A store guarantees:
//   - Seq is unique per kind and never changes while the record exists
//     (updates keep a record in its place);
//   - a record inserted later sorts after every record already visible to
//     any reader (records are appended to the listing), so inserts move no
//     record's position;
//   - ListingVersion grows whenever a record may have moved: at least on
//     every delete, and also on an insert that could land before records a
//     reader has seen. While it stays the same, the record at position p of
//     the listing stays at p (engine: the startIndex position cache).
//
// SQLite satisfies them with the rowid, taken from a counter that never
// goes back, and a version kept by triggers; PostgreSQL with a sequence
// whose values are drawn under a lock held to the commit, so that inserts
// become visible in Seq order (docs/storage.md).

// Store opens transactions. Update runs fn in one write transaction that
// commits when fn returns nil and rolls back otherwise; View runs fn in a
// read-only snapshot.
type Store interface {
	View(ctx context.Context, fn func(Tx) error) error
	Update(ctx context.Context, fn func(Tx) error) error
	Close() error
}

// Tx is what a transaction can do. Methods that change data fail in a View.
type Tx interface {
	User(id string) (User, error)
	UsersBy(f Field, values []string) ([]User, error)
	// ScanUsers calls fn for every user, in listing order.
	ScanUsers(fn func(User) error) error
	// UsersPage returns up to limit users in listing order whose Seq is
	// greater than after (0: from the first), skipping the first skip of
	// them. The skip costs what it skips; the seek to after does not.
	UsersPage(after int64, skip, limit int) ([]User, error)
	CountUsers() (int, error)
	InsertUser(u User) error
	UpdateUser(u User) error
	DeleteUser(id string) error

	Tombstone(id string) (User, error)
	PutTombstone(u User) error
	DeleteTombstone(id string) error

	Group(id string) (Group, error)
	GroupsBy(f Field, values []string) ([]Group, error)
	// ScanGroups calls fn for every group, in listing order.
	ScanGroups(fn func(Group) error) error
	// GroupsPage is UsersPage for groups.
	GroupsPage(after int64, skip, limit int) ([]Group, error)
	CountGroups() (int, error)
	InsertGroup(g Group) error
	UpdateGroup(g Group) error
	DeleteGroup(id string) error

	// AddMembers adds the users that exist and are not members yet; it
	// returns how many it added. Unknown ids are skipped.
	AddMembers(groupID string, userIDs []string) (int, error)
	RemoveMembers(groupID string, userIDs []string) (int, error)
	RemoveAllMembers(groupID string) (int, error)
	// MembersPage returns up to limit members of the group in user id
	// order, those whose user id sorts after the given one ("": from the
	// first): a keyset page on the membership key (group, user), so that
	// reading a group of 250,000 members page by page costs each page alone.
	MembersPage(groupID, after string, limit int) ([]Member, error)

	// ListingVersion is the number that grows whenever a record of the
	// listing may have moved (see Paging above).
	ListingVersion(l Listing) (int64, error)

	Var(name string) (string, bool, error)
	Vars() (map[string]string, error)
	SetVar(c VarChange) error
	VarHistory(name string) ([]VarChange, error)

	InsertToken(t Token) error
	TokenByHash(hash string) (Token, error)
	Tokens() ([]Token, error)
	DeleteToken(id string) error
}

// FoldKey is the key under which userName and displayName are unique:
// each rune replaced by the smallest rune of its Unicode simple case-folding
// orbit, so that two names share a key exactly when strings.EqualFold says
// they are equal.
func FoldKey(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		min := r
		for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
			if f < min {
				min = f
			}
		}
		b.WriteRune(min)
	}
	return b.String()
}

// membersPerRead is how many members AllMembers asks for at a time.
const membersPerRead = 5000

// AllMembers reads every member of a group through MembersPage, in user id
// order; a group without members gives an empty, non-nil slice.
func AllMembers(tx Tx, groupID string) ([]Member, error) {
	out := []Member{}
	after := ""
	for {
		page, err := tx.MembersPage(groupID, after, membersPerRead)
		if err != nil {
			return nil, err
		}
		out = append(out, page...)
		if len(page) < membersPerRead {
			return out, nil
		}
		after = page[len(page)-1].UserID
	}
}
