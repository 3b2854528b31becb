package engine

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/miscim/miscim/internal/store"
	"github.com/miscim/miscim/internal/store/storetest"
)

func TestVarDefaults(t *testing.T) {
	f := newFixture(t)
	states, err := f.e.Vars(f.ctx)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, st := range states {
		names = append(names, st.Name)
		if st.Value != "N" || st.Default != "N" || st.IsSet || st.LastChange != nil {
			t.Errorf("%s: %+v, want the default N, not set, no change", st.Name, st)
		}
		if !slices.Equal(st.Allowed, []string{"Y", "N"}) || st.Description == "" {
			t.Errorf("%s: allowed %v, description %q", st.Name, st.Allowed, st.Description)
		}
	}
	if want := []string{VarRequestLogger, VarRemoveUserOnSoftDelete}; !slices.Equal(names, want) {
		t.Errorf("variables %v, want %v sorted by name", names, want)
	}
	for _, name := range []string{VarRequestLogger, VarRemoveUserOnSoftDelete} {
		st, err := f.e.Var(f.ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		if st.Value != "N" || st.IsSet {
			t.Errorf("%s: %+v", name, st)
		}
		v, err := f.e.CachedVar(f.ctx, name)
		if err != nil || v != "N" {
			t.Errorf("CachedVar(%s) = %q, %v", name, v, err)
		}
	}
}

func TestSetVar(t *testing.T) {
	tests := []struct {
		name, varName, value, want string
	}{
		{"lower-case y", VarRemoveUserOnSoftDelete, "y", "Y"},
		{"upper-case Y", VarRequestLogger, "Y", "Y"},
		{"blanks around", VarRequestLogger, " y ", "Y"},
		{"variable name in any case", strings.ToLower(VarRemoveUserOnSoftDelete), "Y", "Y"},
		{"explicit N", VarRequestLogger, "n", "N"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			st, err := f.e.SetVar(f.ctx, tt.varName, tt.value, "alice")
			if err != nil {
				t.Fatal(err)
			}
			if st.Value != tt.want || !st.IsSet || !strings.EqualFold(st.Name, tt.varName) {
				t.Errorf("SetVar returned %+v, want value %s set", st, tt.want)
			}
			got, err := f.e.Var(f.ctx, tt.varName)
			if err != nil {
				t.Fatal(err)
			}
			if got.Value != tt.want || !got.IsSet {
				t.Errorf("Var after SetVar %+v", got)
			}
			if got.LastChange == nil || got.LastChange.New != tt.want || got.LastChange.Who != "alice" {
				t.Errorf("last change %+v", got.LastChange)
			}
		})
	}
}

func TestSetVarRejected(t *testing.T) {
	tests := []struct {
		name, varName, value string
		detail               []string // every string must appear in the detail
	}{
		{"unknown name", "SCIM_LOGGER", "Y", []string{"SCIM_LOGGER", VarRequestLogger, VarRemoveUserOnSoftDelete}},
		{"empty name", "", "Y", []string{VarRequestLogger, VarRemoveUserOnSoftDelete}},
		{"invalid value", VarRemoveUserOnSoftDelete, "maybe", []string{"maybe", "Y", "N", VarRemoveUserOnSoftDelete}},
		{"empty value", VarRequestLogger, "", []string{"Y", "N"}},
		{"true is not Y", VarRequestLogger, "true", []string{"Y", "N"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			if _, err := f.e.SetVar(f.ctx, VarRemoveUserOnSoftDelete, "Y", "setup"); err != nil {
				t.Fatal(err)
			}
			before, _ := f.e.VarHistory(f.ctx, "")
			_, err := f.e.SetVar(f.ctx, tt.varName, tt.value, "alice")
			se := wantSCIMError(t, err, 400, "invalidValue")
			for _, s := range tt.detail {
				if !strings.Contains(se.Detail, s) {
					t.Errorf("detail %q does not mention %q", se.Detail, s)
				}
			}
			after, err := f.e.VarHistory(f.ctx, "")
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(after, before) {
				t.Errorf("a rejected change was recorded: %+v", after)
			}
			st, err := f.e.Var(f.ctx, VarRemoveUserOnSoftDelete)
			if err != nil || st.Value != "Y" {
				t.Errorf("value changed to %+v, %v", st, err)
			}
			if tt.varName == "" || tt.varName == "SCIM_LOGGER" {
				for _, call := range []func() error{
					func() error { _, err := f.e.UnsetVar(f.ctx, tt.varName, "alice"); return err },
					func() error { _, err := f.e.Var(f.ctx, tt.varName); return err },
					func() error { _, err := f.e.VarHistory(f.ctx, tt.varName+"X"); return err },
					func() error { _, err := f.e.CachedVar(f.ctx, tt.varName); return err },
				} {
					wantSCIMError(t, call(), 400, "invalidValue")
				}
			}
		})
	}
}

func TestVarHistory(t *testing.T) {
	f := newFixture(t)
	t0 := f.clock.now()
	steps := []struct {
		do     func() (VarState, error)
		record *store.VarChange // nil: nothing recorded
		value  string
		isSet  bool
	}{
		{func() (VarState, error) { return f.e.SetVar(f.ctx, VarRemoveUserOnSoftDelete, "y", "alice") },
			&store.VarChange{Name: VarRemoveUserOnSoftDelete, Old: "", New: "Y", Who: "alice", At: t0}, "Y", true},
		{func() (VarState, error) { return f.e.SetVar(f.ctx, VarRemoveUserOnSoftDelete, "Y", "bob") },
			nil, "Y", true},
		{func() (VarState, error) { return f.e.SetVar(f.ctx, VarRequestLogger, "Y", "bob") },
			&store.VarChange{Name: VarRequestLogger, Old: "", New: "Y", Who: "bob", At: t0.Add(2 * time.Minute)}, "Y", true},
		{func() (VarState, error) { return f.e.SetVar(f.ctx, VarRemoveUserOnSoftDelete, "n", "carol") },
			&store.VarChange{Name: VarRemoveUserOnSoftDelete, Old: "Y", New: "N", Who: "carol", At: t0.Add(3 * time.Minute)}, "N", true},
		{func() (VarState, error) { return f.e.UnsetVar(f.ctx, VarRemoveUserOnSoftDelete, "dave") },
			&store.VarChange{Name: VarRemoveUserOnSoftDelete, Old: "N", New: "", Who: "dave", At: t0.Add(4 * time.Minute)}, "N", false},
		{func() (VarState, error) { return f.e.UnsetVar(f.ctx, VarRemoveUserOnSoftDelete, "dave") },
			nil, "N", false},
		{func() (VarState, error) { return f.e.UnsetVar(f.ctx, VarRequestLogger, "erin") },
			&store.VarChange{Name: VarRequestLogger, Old: "Y", New: "", Who: "erin", At: t0.Add(6 * time.Minute)}, "N", false},
	}
	var want []store.VarChange
	for i, s := range steps {
		st, err := s.do()
		if err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		if st.Value != s.value || st.IsSet != s.isSet {
			t.Errorf("step %d: state %+v, want value %s set %v", i, st, s.value, s.isSet)
		}
		if s.record != nil {
			want = append(want, *s.record)
			if st.LastChange == nil || !varChangeEq(*st.LastChange, *s.record) {
				t.Errorf("step %d: last change %+v, want %+v", i, st.LastChange, s.record)
			}
		}
		f.clock.advance(time.Minute)
	}
	all, err := f.e.VarHistory(f.ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.EqualFunc(all, want, varChangeEq) {
		t.Errorf("history of all variables:\n%+v\nwant\n%+v", all, want)
	}
	for _, name := range []string{VarRemoveUserOnSoftDelete, strings.ToLower(VarRequestLogger)} {
		one, err := f.e.VarHistory(f.ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		var wantOne []store.VarChange
		for _, c := range want {
			if strings.EqualFold(c.Name, name) {
				wantOne = append(wantOne, c)
			}
		}
		if !slices.EqualFunc(one, wantOne, varChangeEq) {
			t.Errorf("history of %s: %+v, want %+v", name, one, wantOne)
		}
	}
}

// TestSoftDeleteModeFollowsVar proves SetVar takes effect on the next
// request: in mode Y a soft delete removes the user.
func TestSoftDeleteModeFollowsVar(t *testing.T) {
	deactivate := grpPatch(map[string]any{"op": "Replace", "path": "active", "value": "False"})
	tests := []struct {
		name    string
		value   string // "" leaves the variable unset
		removed bool
	}{
		{"default N", "", false},
		{"set N", "n", false},
		{"set Y", "y", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			id := f.createUser("alice", nil)["id"].(string)
			// Read through the cache first, so a stale cached value would show.
			if _, err := f.e.CachedVar(f.ctx, VarRemoveUserOnSoftDelete); err != nil {
				t.Fatal(err)
			}
			if tt.value != "" {
				if _, err := f.e.SetVar(f.ctx, VarRemoveUserOnSoftDelete, tt.value, "admin"); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := f.e.PatchUser(f.ctx, id, deactivate, ""); err != nil {
				t.Fatal(err)
			}
			got, err := f.e.GetUser(f.ctx, id)
			lr := f.list(Query{Filter: `userName eq "alice"`})
			if tt.removed {
				wantSCIMError(t, err, 404, "")
				qryCheck(t, lr, 0, 0)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got["active"] != false || !strings.HasPrefix(ext(got)["miUsername"].(string), "scim-deleted-") {
				t.Errorf("mode N soft delete gave %v", got)
			}
			qryCheck(t, lr, 1, 1)
		})
	}
}

// TestCachedVarAcrossProcesses: a change made through another store on the
// same database (`miscim vars set` beside `miscim serve`) shows within the
// cache TTL.
func TestCachedVarAcrossProcesses(t *testing.T) {
	f := newFixture(t)
	writer := New(storetest.Again(t, f.raw))
	reader := New(storetest.Again(t, f.raw), WithVarCacheTTL(50*time.Millisecond))

	if v, err := reader.CachedVar(f.ctx, VarRequestLogger); err != nil || v != "N" {
		t.Fatalf("CachedVar = %q, %v", v, err)
	}
	if _, err := writer.SetVar(f.ctx, VarRequestLogger, "y", "cli"); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond)
	if v, err := reader.CachedVar(f.ctx, VarRequestLogger); err != nil || v != "Y" {
		t.Fatalf("CachedVar after the TTL = %q, %v; want Y", v, err)
	}
	// The writer's own cache is dropped at once.
	if v, err := writer.CachedVar(f.ctx, VarRequestLogger); err != nil || v != "Y" {
		t.Fatalf("writer's CachedVar = %q, %v", v, err)
	}
	if _, err := writer.UnsetVar(f.ctx, VarRequestLogger, "cli"); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond)
	if v, err := reader.CachedVar(f.ctx, VarRequestLogger); err != nil || v != "N" {
		t.Fatalf("CachedVar after unset = %q, %v; want N", v, err)
	}
	// The fixture's engine sees the writer's history too.
	h, err := f.e.VarHistory(f.ctx, "")
	if err != nil || len(h) != 2 || h[0].Who != "cli" {
		t.Fatalf("history %+v, %v", h, err)
	}
}

func varChangeEq(a, b store.VarChange) bool {
	return a.Name == b.Name && a.Old == b.Old && a.New == b.New && a.Who == b.Who && a.At.Equal(b.At)
}
