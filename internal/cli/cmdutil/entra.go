package cmdutil

import (
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/miscim/miscim/internal/entra/expr"
	"github.com/miscim/miscim/internal/entra/mapping"
	"github.com/miscim/miscim/internal/entra/tenant"
)

// TenantFlags are --tenant, --mapping and --scope: what every command that
// maps a tenant as Entra would takes (tenant check, tenant show, expr,
// simulate, diff).
type TenantFlags struct {
	Tenant  string
	Mapping string
	Scope   string
}

// Register adds the flags to cmd. The run checks that --tenant is given
// (LoadTenant), so that a missing one is a usage error, exit 2.
func (tf *TenantFlags) Register(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVar(&tf.Tenant, "tenant", "", "the tenant export: a native snapshot, a Microsoft Graph export directory or Entra CSV downloads (docs/tenant.md)")
	fl.StringVar(&tf.Mapping, "mapping", "", "attribute mappings file (docs/mapping.md); default: Metric Insights' documented mapping")
	fl.StringVar(&tf.Scope, "scope", string(mapping.ScopeAssigned), "assigned (sync only assigned users and groups) or all")
	_ = cmd.MarkFlagFilename("mapping", "yaml", "yml", "json")
	EnumFlag(cmd, "scope", mapping.ScopeModes)
}

// Check validates the flags' values before anything is read.
func (tf *TenantFlags) Check() error {
	if _, err := mapping.ParseScopeMode(tf.Scope); err != nil {
		return FlagErrorf("invalid --scope %q: use assigned or all", tf.Scope)
	}
	return nil
}

// Load reads the tenant and the mapping and binds them. Unreadable input
// is an InputError (exit 2) naming the file and position; now is the clock
// of expressions (nil: the system clock).
func (tf *TenantFlags) Load(now func() time.Time) (*mapping.Mapper, error) {
	if err := tf.Check(); err != nil {
		return nil, err
	}
	m, err := LoadMapping(tf.Mapping)
	if err != nil {
		return nil, err
	}
	t, err := LoadTenant(tf.Tenant)
	if err != nil {
		return nil, err
	}
	mp, err := mapping.New(t, m, mapping.Options{Scope: mapping.ScopeMode(tf.Scope), Env: &expr.Env{Now: now}})
	if err != nil {
		return nil, FlagErrorf("%v", err)
	}
	return mp, nil
}

// LoadTenant reads --tenant; errors are InputErrors with the loader's hint.
func LoadTenant(path string) (*tenant.Tenant, error) {
	if path == "" {
		return nil, FlagErrorf("--tenant is required: the tenant export to read (docs/tenant.md)")
	}
	t, err := tenant.Load(path)
	if err != nil {
		var le *tenant.LoadError
		if errors.As(err, &le) {
			ie := &InputError{Err: le}
			if le.Hint != "" {
				ie.Hints = []string{le.Hint}
			}
			return nil, ie
		}
		return nil, err
	}
	return t, nil
}

// LoadMapping reads --mapping, or gives Metric Insights' default for "".
// An expression that does not parse is shown with a caret under the
// character.
func LoadMapping(path string) (*mapping.Mapping, error) {
	if path == "" {
		return mapping.Default(), nil
	}
	m, err := mapping.Load(path)
	if err != nil {
		var le *mapping.LoadError
		if errors.As(err, &le) {
			ie := &InputError{Err: le}
			if le.Expr != "" {
				ie.Err = fmt.Errorf("%s\n%s", le.Error(), expr.Caret(le.Expr, le.Pos))
			}
			if le.Hint != "" {
				ie.Hints = []string{le.Hint}
			}
			return nil, ie
		}
		return nil, err
	}
	return m, nil
}
