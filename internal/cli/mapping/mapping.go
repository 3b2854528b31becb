// Package mapping implements `miscim mapping show`: the effective
// attribute mappings — Metric Insights' documented mapping, or a mapping
// file — as a table, or as a mapping file (-o yaml, -o json) that --mapping
// reads back.
package mapping

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/miscim/miscim/internal/cli/cmdutil"
	entramapping "github.com/miscim/miscim/internal/entra/mapping"
	"github.com/miscim/miscim/internal/iostreams"
	"github.com/miscim/miscim/internal/render"
)

// NewCmdMapping returns the mapping command group.
func NewCmdMapping(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "mapping <command>",
		Short: "Show the attribute mappings Entra provisions Metric Insights with",
		Long: `The app's attribute mappings, scoping filters and target object actions, as
Entra's provisioning service applies them (docs/mapping.md). Without
--mapping, Metric Insights' documented mapping.`,
		Example: `  miscim mapping show
  miscim mapping show -o yaml > mapping.yaml`,
		Args: cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return cmd.Help() },
	}
	cmd.AddCommand(NewCmdShow(f, nil))
	return cmd
}

// ShowOptions are the inputs of showRun.
type ShowOptions struct {
	IO     *iostreams.IOStreams
	Format render.Format
	// Mapping is the --mapping file, "" for Metric Insights' default.
	Mapping string
}

// NewCmdShow returns `mapping show`.
func NewCmdShow(f *cmdutil.Factory, runF func(*ShowOptions) error) *cobra.Command {
	opts := &ShowOptions{IO: f.IO}
	cmd := &cobra.Command{
		Use:   "show [--mapping F]",
		Short: "Show the effective attribute mappings",
		Long: `Show the effective mapping: the settings (SkipOutOfScopeDeletions, each
object mapping's actions and scoping filters, whether groups are
provisioned), then one row per attribute mapping: OBJECT, TARGET (the
SCIM attribute), SOURCE (the source attribute in brackets, the
expression, or the quoted constant), TYPE (Direct, Expression, Constant,
None), and FLAGS: matching precedence, "on create only", the default
value, the target type when it is not String.

-o yaml prints a mapping file, and -o json the same keys as JSON: both
read back with --mapping to the same mapping, so "mapping show -o yaml"
is where a custom mapping starts. Exit codes: 0, or 2 when the mapping
file cannot be read (the message names the file and line, and shows an
expression that does not parse with a caret under the character).`,
		Example: `  miscim mapping show
  miscim mapping show -o yaml > mapping.yaml   # then edit, and use --mapping mapping.yaml
  miscim mapping show --mapping mapping.yaml`,
		Args: cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			var err error
			if opts.Format, err = f.Output(); err != nil {
				return err
			}
			if runF != nil {
				return runF(opts)
			}
			return showRun(opts)
		},
	}
	cmd.Flags().StringVar(&opts.Mapping, "mapping", "", "attribute mappings file (docs/mapping.md); default: Metric Insights' documented mapping")
	_ = cmd.MarkFlagFilename("mapping", "yaml", "yml", "json")
	return cmd
}

func showRun(opts *ShowOptions) error {
	m, err := cmdutil.LoadMapping(opts.Mapping)
	if err != nil {
		return err
	}
	switch opts.Format {
	case render.FormatYAML:
		_, err := opts.IO.Out.Write(m.YAML())
		return err
	case render.FormatJSON:
		return render.JSON(opts.IO.Out, fileOf(m))
	}
	if err := render.WriteFields(opts.IO, settings(m)); err != nil {
		return err
	}
	if opts.IO.IsStdoutTTY() {
		fmt.Fprintln(opts.IO.Out)
	}
	tbl := render.NewTable(
		render.Column{Header: "object"},
		render.Column{Header: "target"},
		render.Column{Header: "source", Fit: render.Wrap},
		render.Column{Header: "type", Hide: 1},
		render.Column{Header: "flags", Fit: render.Wrap},
	)
	for _, om := range []*entramapping.ObjectMapping{&m.Users, &m.Groups} {
		for _, a := range om.Attributes {
			tbl.AddRow(string(om.Kind), a.Target, a.SourceText(), string(a.Type), flags(a))
		}
	}
	return tbl.Render(opts.IO)
}

// flags says what is not the default about an attribute mapping.
func flags(a *entramapping.Attribute) string {
	var out []string
	if a.Matching > 0 {
		out = append(out, "matching "+strconv.Itoa(a.Matching))
	}
	if a.Apply == entramapping.ApplyOnCreate {
		out = append(out, "on create only")
	}
	if a.Default != nil {
		out = append(out, "default "+strconv.Quote(*a.Default))
	}
	if a.TargetType != entramapping.TypeString {
		out = append(out, string(a.TargetType))
	}
	return strings.Join(out, ", ")
}

func actionsText(a entramapping.Actions) string {
	var out []string
	for _, x := range []struct {
		on   bool
		name string
	}{{a.Create, "create"}, {a.Update, "update"}, {a.Delete, "delete"}} {
		if x.on {
			out = append(out, x.name)
		}
	}
	if len(out) == 0 {
		return "none"
	}
	return strings.Join(out, ", ")
}

// clauseText renders a clause as the portal lists it: department EQUALS "Sales".
func clauseText(c entramapping.Clause) string {
	s := c.Attribute + " " + string(c.Operator)
	switch c.Operator {
	case entramapping.OpIsNull, entramapping.OpIsNotNull, entramapping.OpIsTrue, entramapping.OpIsFalse:
		return s
	}
	return s + " " + strconv.Quote(c.Value)
}

func settings(m *entramapping.Mapping) []render.Field {
	fields := []render.Field{
		{Key: "mapping", Value: m.Name()},
		{Key: "skipOutOfScopeDeletions", Value: strconv.FormatBool(m.SkipOutOfScopeDeletions)},
	}
	for _, om := range []*entramapping.ObjectMapping{&m.Users, &m.Groups} {
		k := string(om.Kind)
		if om.Kind == entramapping.Groups {
			state := "provisioned"
			if !om.Enabled {
				state = "not provisioned (group provisioning off)"
			}
			fields = append(fields, render.Field{Key: k, Value: state})
		}
		fields = append(fields, render.Field{Key: k + " actions", Value: actionsText(om.Actions)})
		if len(om.Scoping) == 0 {
			fields = append(fields, render.Field{Key: k + " scoping", Value: "none: every " + om.Kind.Singular() + " passes"})
		}
		for i, f := range om.Scoping {
			clauses := make([]string, len(f.Clauses))
			for j, c := range f.Clauses {
				clauses[j] = clauseText(c)
			}
			v := strings.Join(clauses, " AND ")
			if f.Title != "" {
				v = f.Title + ": " + v
			}
			if i > 0 {
				v = "OR " + v
			}
			fields = append(fields, render.Field{Key: fmt.Sprintf("%s scoping %d", k, i+1), Value: v})
		}
	}
	return fields
}

// The JSON form has the mapping file's keys (docs/mapping.schema.json),
// so that --mapping reads it back.
type fileJSON struct {
	Format                  string     `json:"format"`
	SkipOutOfScopeDeletions bool       `json:"skipOutOfScopeDeletions"`
	Users                   objectJSON `json:"users"`
	Groups                  objectJSON `json:"groups"`
}

type objectJSON struct {
	Enabled        *bool           `json:"enabled,omitempty"`
	Actions        []string        `json:"actions"`
	ScopingFilters []filterJSON    `json:"scopingFilters"`
	Attributes     []attributeJSON `json:"attributes"`
}

type filterJSON struct {
	Title   string       `json:"title,omitempty"`
	Clauses []clauseJSON `json:"clauses"`
}

type clauseJSON struct {
	Attribute string  `json:"attribute"`
	Operator  string  `json:"operator"`
	Value     *string `json:"value,omitempty"`
}

type attributeJSON struct {
	Target      string  `json:"target"`
	MappingType string  `json:"mappingType"`
	Source      string  `json:"source,omitempty"`
	Constant    *string `json:"constant,omitempty"`
	Expression  string  `json:"expression,omitempty"`
	Default     *string `json:"default,omitempty"`
	Apply       string  `json:"apply"`
	TargetType  string  `json:"targetType"`
	Matching    int     `json:"matching,omitempty"`
}

func fileOf(m *entramapping.Mapping) fileJSON {
	out := fileJSON{Format: entramapping.FileFormat, SkipOutOfScopeDeletions: m.SkipOutOfScopeDeletions}
	for _, om := range []*entramapping.ObjectMapping{&m.Users, &m.Groups} {
		o := objectJSON{Actions: []string{}, ScopingFilters: []filterJSON{}, Attributes: []attributeJSON{}}
		if om.Kind == entramapping.Groups {
			enabled := om.Enabled
			o.Enabled = &enabled
		}
		for _, x := range []struct {
			on   bool
			name string
		}{{om.Actions.Create, "create"}, {om.Actions.Update, "update"}, {om.Actions.Delete, "delete"}} {
			if x.on {
				o.Actions = append(o.Actions, x.name)
			}
		}
		for _, f := range om.Scoping {
			fj := filterJSON{Title: f.Title}
			for _, c := range f.Clauses {
				cj := clauseJSON{Attribute: c.Attribute, Operator: string(c.Operator)}
				if clauseText(c) != c.Attribute+" "+string(c.Operator) {
					v := c.Value
					cj.Value = &v
				}
				fj.Clauses = append(fj.Clauses, cj)
			}
			o.ScopingFilters = append(o.ScopingFilters, fj)
		}
		for _, a := range om.Attributes {
			aj := attributeJSON{Target: a.Target, MappingType: string(a.Type), Default: a.Default, Apply: string(a.Apply),
				TargetType: string(a.TargetType), Matching: a.Matching}
			switch a.Type {
			case entramapping.Direct:
				aj.Source = a.Source
			case entramapping.Constant:
				c := a.Constant
				aj.Constant = &c
			case entramapping.Expression:
				aj.Expression = a.Expression.Source()
			}
			o.Attributes = append(o.Attributes, aj)
		}
		if om.Kind == entramapping.Users {
			out.Users = o
		} else {
			out.Groups = o
		}
	}
	return out
}
