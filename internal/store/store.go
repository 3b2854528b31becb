// Package store defines how the engine persists Metric Insights state:
// users, tombstones of users deleted by soft delete, groups, memberships,
// API tokens and system variables with their change history.
//
// The interface is transactional and small enough for a PostgreSQL
// implementation to satisfy, so that several `miscim serve` replicas can
// share one database. store/sqlite is the embedded default. The store knows
// nothing of SCIM documents or HTTP; it must not import net/http.
package store

import (
	"context"
	"errors"
	"strings"
	"time"
	"unicode"
)

// ErrNotFound is returned when a record does not exist.
var ErrNotFound = errors.New("not found")

// ErrDuplicate is returned when a write would break a uniqueness rule
// (userName or group displayName, case-insensitively).
var ErrDuplicate = errors.New("duplicate")

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
	ScanUsers(fn func(User) error) error
	CountUsers() (int, error)
	InsertUser(u User) error
	UpdateUser(u User) error
	DeleteUser(id string) error

	Tombstone(id string) (User, error)
	PutTombstone(u User) error
	DeleteTombstone(id string) error

	Group(id string) (Group, error)
	GroupsBy(f Field, values []string) ([]Group, error)
	ScanGroups(fn func(Group) error) error
	CountGroups() (int, error)
	InsertGroup(g Group) error
	UpdateGroup(g Group) error
	DeleteGroup(id string) error

	// AddMembers adds the users that exist and are not members yet; it
	// returns how many it added. Unknown ids are skipped.
	AddMembers(groupID string, userIDs []string) (int, error)
	RemoveMembers(groupID string, userIDs []string) (int, error)
	RemoveAllMembers(groupID string) (int, error)
	Members(groupID string) ([]Member, error)

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
