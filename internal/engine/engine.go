// Package engine owns Metric Insights semantics behind miscim's SCIM
// endpoint: users, groups and memberships, soft delete in both
// SCIM_REMOVE_USER_ON_SOFT_DELETE modes, system variables, API tokens,
// validation and optimistic versions (DESIGN §3).
//
// It speaks SCIM documents (scim.Resource) and persists through
// store.Store, one write transaction per operation. It never imports
// net/http or terminal code and never prints: the HTTP server and the CLI
// build on it.
package engine

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/miscim/miscim/internal/scim"
	"github.com/miscim/miscim/internal/store"
)

// Engine is the Metric Insights mirror.
type Engine struct {
	store store.Store
	now   func() time.Time
	newID func() string

	positions *positionCache // startIndex → store key (paging.go)

	cacheMu   sync.Mutex
	varCache  map[string]cachedVar
	authCache map[string]cachedAuth
	cacheTTL  time.Duration
}

// Option configures an Engine.
type Option func(*Engine)

// WithClock sets the clock (tests pin it for stable meta times).
func WithClock(now func() time.Time) Option { return func(e *Engine) { e.now = now } }

// WithIDGenerator sets how resource ids are made (tests use sequences).
func WithIDGenerator(gen func() string) Option { return func(e *Engine) { e.newID = gen } }

// WithVarCacheTTL sets how long CachedVar may serve a value before reading
// the store again. The default, 500ms, keeps a `miscim vars set` visible to
// a running server within one second (DESIGN §3.6).
func WithVarCacheTTL(d time.Duration) Option { return func(e *Engine) { e.cacheTTL = d } }

// New returns an engine over st.
func New(st store.Store, opts ...Option) *Engine {
	e := &Engine{
		store:     st,
		positions: newPositionCache(),
		now:       time.Now,
		newID:     func() string { return uuid.NewString() },
		varCache:  map[string]cachedVar{},
		authCache: map[string]cachedAuth{},
		cacheTTL:  500 * time.Millisecond,
	}
	for _, o := range opts {
		o(e)
	}
	return e
}

// Ping checks that the store answers with one cheap read (a variable by
// key); the server's /healthz reports it.
func (e *Engine) Ping(ctx context.Context) error {
	return e.store.View(ctx, func(tx store.Tx) error {
		_, _, err := tx.Var(VarRequestLogger)
		return err
	})
}

// Store returns the store the engine writes to.
func (e *Engine) Store() store.Store { return e.store }

func (e *Engine) clock() time.Time { return e.now().UTC() }

// FormatTime renders meta timestamps: RFC 3339 in UTC with milliseconds
// (RFC 7643 §2.3.5 dateTime).
func FormatTime(t time.Time) string {
	return t.UTC().Format("2006-01-02T15:04:05.000Z07:00")
}

// ETag renders a version as a weak entity tag (RFC 7644 §3.14).
func ETag(version int64) string { return `W/"` + strconv.FormatInt(version, 10) + `"` }

// checkIfMatch applies an If-Match precondition (RFC 7644 §3.14, RFC 9110
// §13.1.1): "*" or any listed tag equal to the current version passes; weak
// and strong forms of the same tag compare equal. A mismatch is 412.
func checkIfMatch(ifMatch string, version int64) error {
	ifMatch = strings.TrimSpace(ifMatch)
	if ifMatch == "" || ifMatch == "*" {
		return nil
	}
	want := strconv.FormatInt(version, 10)
	for _, tag := range strings.Split(ifMatch, ",") {
		tag = strings.TrimSpace(tag)
		tag = strings.TrimPrefix(tag, "W/")
		tag = strings.Trim(tag, `"`)
		if tag == want {
			return nil
		}
	}
	return scim.Errorf(412, "", "the resource has changed: If-Match %s does not match the current version %s; read it again and retry", ifMatch, ETag(version))
}

// storeError turns store errors into SCIM errors where they have a protocol
// meaning; others pass through as failures of the engine.
func storeError(err error, what string) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, store.ErrDuplicate):
		return scim.Conflict("%s is already taken (names are unique regardless of case)", what)
	case errors.Is(err, store.ErrInvalidText):
		return scim.BadRequest(scim.ScimTypeInvalidValue, "a value holds a NUL character (or bytes that are not UTF-8), which Metric Insights cannot store: remove it")
	case errors.Is(err, store.ErrUnavailable):
		// Nothing was acknowledged; Entra retries a 503 (the server adds
		// Retry-After).
		reason := "it cannot be reached"
		var ue *store.UnavailableError
		if errors.As(err, &ue) {
			reason = ue.Reason
		}
		return &scim.Error{Status: 503, Detail: "the database is unavailable (" + reason + "); retry later"}
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return err
	}
	var se *scim.Error
	if errors.As(err, &se) {
		return err
	}
	return fmt.Errorf("%s: %w", what, err)
}
