package engine

import (
	"context"
	"sort"
	"strings"
	"time"

	"github.com/miscim/miscim/internal/scim"
	"github.com/miscim/miscim/internal/store"
)

// The SCIM system variables of Metric Insights (DESIGN §3.6).
const (
	VarRequestLogger          = "ENABLE_SCIM_REQUEST_LOGGER"
	VarRemoveUserOnSoftDelete = "SCIM_REMOVE_USER_ON_SOFT_DELETE"
)

// VarDef describes a system variable.
type VarDef struct {
	Name        string
	Default     string
	Allowed     []string
	Description string
}

// VarDefs lists the variables the engine knows, by name.
var VarDefs = []VarDef{
	{Name: VarRequestLogger, Default: "N", Allowed: []string{"Y", "N"},
		Description: "Log every SCIM request and response to the request-log directory."},
	{Name: VarRemoveUserOnSoftDelete, Default: "N", Allowed: []string{"Y", "N"},
		Description: "On soft delete (active=false): Y deletes the MI user; N disables it and prefixes its MI username."},
}

// VarState is a variable's definition, its effective value and its last
// change.
type VarState struct {
	VarDef
	Value      string
	IsSet      bool // false: Value is the default
	LastChange *store.VarChange
}

func lookupVar(name string) (VarDef, error) {
	for _, d := range VarDefs {
		if strings.EqualFold(d.Name, strings.TrimSpace(name)) {
			return d, nil
		}
	}
	names := make([]string, len(VarDefs))
	for i, d := range VarDefs {
		names[i] = d.Name
	}
	return VarDef{}, scim.BadRequest(scim.ScimTypeInvalidValue, "unknown system variable %q: the SCIM system variables are %s", name, strings.Join(names, ", "))
}

// normalizeValue checks a value against the definition; values are
// case-insensitive on input and stored upper-case.
func normalizeValue(d VarDef, value string) (string, error) {
	v := strings.ToUpper(strings.TrimSpace(value))
	for _, a := range d.Allowed {
		if v == a {
			return v, nil
		}
	}
	return "", scim.BadRequest(scim.ScimTypeInvalidValue, "invalid value %q for %s: allowed values are %s", value, d.Name, strings.Join(d.Allowed, ", "))
}

func varValue(tx store.Tx, name string) (string, error) {
	d, err := lookupVar(name)
	if err != nil {
		return "", err
	}
	v, ok, err := tx.Var(d.Name)
	if err != nil || !ok {
		return d.Default, err
	}
	return v, nil
}

func varState(tx store.Tx, d VarDef) (VarState, error) {
	st := VarState{VarDef: d, Value: d.Default}
	v, ok, err := tx.Var(d.Name)
	if err != nil {
		return st, err
	}
	if ok {
		st.Value, st.IsSet = v, true
	}
	hist, err := tx.VarHistory(d.Name)
	if err != nil {
		return st, err
	}
	if len(hist) > 0 {
		last := hist[len(hist)-1]
		st.LastChange = &last
	}
	return st, nil
}

// Vars returns every variable's state, sorted by name.
func (e *Engine) Vars(ctx context.Context) ([]VarState, error) {
	defs := append([]VarDef(nil), VarDefs...)
	sort.Slice(defs, func(i, j int) bool { return defs[i].Name < defs[j].Name })
	out := make([]VarState, 0, len(defs))
	err := e.store.View(ctx, func(tx store.Tx) error {
		for _, d := range defs {
			st, err := varState(tx, d)
			if err != nil {
				return err
			}
			out = append(out, st)
		}
		return nil
	})
	return out, storeError(err, "read system variables")
}

// Var returns one variable's state; an unknown name is 400 invalidValue
// with the list of known names.
func (e *Engine) Var(ctx context.Context, name string) (VarState, error) {
	d, err := lookupVar(name)
	if err != nil {
		return VarState{}, err
	}
	var st VarState
	err = e.store.View(ctx, func(tx store.Tx) error {
		st, err = varState(tx, d)
		return err
	})
	return st, storeError(err, "read system variable")
}

// SetVar sets a variable and records the change (time, who, old → new).
// Setting the value it already has records nothing.
func (e *Engine) SetVar(ctx context.Context, name, value, who string) (VarState, error) {
	d, err := lookupVar(name)
	if err != nil {
		return VarState{}, err
	}
	v, err := normalizeValue(d, value)
	if err != nil {
		return VarState{}, err
	}
	return e.changeVar(ctx, d, v, who)
}

// UnsetVar removes a variable's value, so that its default applies again.
func (e *Engine) UnsetVar(ctx context.Context, name, who string) (VarState, error) {
	d, err := lookupVar(name)
	if err != nil {
		return VarState{}, err
	}
	return e.changeVar(ctx, d, "", who)
}

func (e *Engine) changeVar(ctx context.Context, d VarDef, value, who string) (VarState, error) {
	var st VarState
	err := e.store.Update(ctx, func(tx store.Tx) error {
		old, _, err := tx.Var(d.Name)
		if err != nil {
			return err
		}
		if old != value {
			if err := tx.SetVar(store.VarChange{Name: d.Name, Old: old, New: value, Who: who, At: e.clock()}); err != nil {
				return err
			}
		}
		st, err = varState(tx, d)
		return err
	})
	if err != nil {
		return VarState{}, storeError(err, "set system variable")
	}
	e.cacheMu.Lock()
	delete(e.varCache, d.Name)
	e.cacheMu.Unlock()
	return st, nil
}

// VarHistory returns the recorded changes, oldest first; name "" means all
// variables.
func (e *Engine) VarHistory(ctx context.Context, name string) ([]store.VarChange, error) {
	if name != "" {
		d, err := lookupVar(name)
		if err != nil {
			return nil, err
		}
		name = d.Name
	}
	var out []store.VarChange
	err := e.store.View(ctx, func(tx store.Tx) error {
		var err error
		out, err = tx.VarHistory(name)
		return err
	})
	return out, storeError(err, "read system variable history")
}

type cachedVar struct {
	value string
	read  time.Time
}

// CachedVar returns a variable's effective value, read from the store at
// most once per TTL (500ms by default). The request path uses it, so that
// logging decisions cost no query per request, yet a change made by another
// process on the same database shows within one second.
func (e *Engine) CachedVar(ctx context.Context, name string) (string, error) {
	d, err := lookupVar(name)
	if err != nil {
		return "", err
	}
	now := time.Now()
	e.cacheMu.Lock()
	c, ok := e.varCache[d.Name]
	e.cacheMu.Unlock()
	if ok && now.Sub(c.read) < e.cacheTTL {
		return c.value, nil
	}
	var v string
	err = e.store.View(ctx, func(tx store.Tx) error {
		v, err = varValue(tx, d.Name)
		return err
	})
	if err != nil {
		return "", storeError(err, "read system variable")
	}
	e.cacheMu.Lock()
	e.varCache[d.Name] = cachedVar{value: v, read: now}
	e.cacheMu.Unlock()
	return v, nil
}
