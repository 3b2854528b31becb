package mapping

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"unicode"
)

// YAML renders the mapping as a mapping file that Parse reads back to the
// same mapping (miscim mapping show -o yaml): every setting spelled out,
// attributes in their order, a key left out only where it has its
// default (apply: Always, no default value, no matching).
func (m *Mapping) YAML() []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "# Attribute mappings of the Metric Insights app: %s.\n", m.Name())
	b.WriteString("# The format is docs/mapping.md; miscim reads this file back with --mapping.\n")
	fmt.Fprintf(&b, "format: %s\n", FileFormat)
	fmt.Fprintf(&b, "skipOutOfScopeDeletions: %t\n", m.SkipOutOfScopeDeletions)
	for _, om := range []*ObjectMapping{&m.Users, &m.Groups} {
		fmt.Fprintf(&b, "%s:\n", om.Kind)
		if om.Kind == Groups {
			fmt.Fprintf(&b, "  enabled: %t\n", om.Enabled)
		}
		var acts []string
		for _, a := range []struct {
			on   bool
			name string
		}{{om.Actions.Create, "create"}, {om.Actions.Update, "update"}, {om.Actions.Delete, "delete"}} {
			if a.on {
				acts = append(acts, a.name)
			}
		}
		fmt.Fprintf(&b, "  actions: [%s]\n", strings.Join(acts, ", "))
		if len(om.Scoping) == 0 {
			b.WriteString("  scopingFilters: []\n")
		} else {
			b.WriteString("  scopingFilters:\n")
			for _, f := range om.Scoping {
				prefix := "    - "
				if f.Title != "" {
					fmt.Fprintf(&b, "%stitle: %s\n", prefix, yamlString(f.Title))
					prefix = "      "
				}
				fmt.Fprintf(&b, "%sclauses:\n", prefix)
				for _, c := range f.Clauses {
					fmt.Fprintf(&b, "        - attribute: %s\n", yamlString(c.Attribute))
					fmt.Fprintf(&b, "          operator: %s\n", yamlString(string(c.Operator)))
					if c.Operator.takesValue() {
						fmt.Fprintf(&b, "          value: %s\n", yamlString(c.Value))
					}
				}
			}
		}
		if len(om.Attributes) == 0 {
			b.WriteString("  attributes: []\n")
			continue
		}
		b.WriteString("  attributes:\n")
		for _, a := range om.Attributes {
			fmt.Fprintf(&b, "    - target: %s\n", yamlString(a.Target))
			switch a.Type {
			case Direct:
				fmt.Fprintf(&b, "      source: %s\n", yamlString(a.Source))
			case Constant:
				fmt.Fprintf(&b, "      constant: %s\n", yamlString(a.Constant))
			case Expression:
				fmt.Fprintf(&b, "      expression: %s\n", yamlString(a.Expression.Source()))
			case None:
				b.WriteString("      mappingType: None\n")
			}
			if a.Default != nil {
				fmt.Fprintf(&b, "      default: %s\n", yamlString(*a.Default))
			}
			if a.Apply != ApplyAlways {
				fmt.Fprintf(&b, "      apply: %s\n", a.Apply)
			}
			fmt.Fprintf(&b, "      targetType: %s\n", a.TargetType)
			if a.Matching > 0 {
				fmt.Fprintf(&b, "      matching: %d\n", a.Matching)
			}
		}
	}
	return b.Bytes()
}

var plainYAML = regexp.MustCompile(`^[A-Za-z_$][A-Za-z0-9_.$/-]*$`)

// yamlWords are plain scalars YAML reads as something other than a string.
var yamlWords = map[string]bool{"true": true, "false": true, "null": true, "yes": true, "no": true, "on": true, "off": true,
	"y": true, "n": true, "~": true}

// yamlString renders s so that YAML reads it back as exactly s: plain
// when it is a simple name, single-quoted when it is printable text on one
// line, double-quoted with escapes otherwise.
func yamlString(s string) string {
	if plainYAML.MatchString(s) && !yamlWords[strings.ToLower(s)] {
		return s
	}
	printable := s != "" && strings.TrimSpace(s) == s
	for _, r := range s {
		if !unicode.IsPrint(r) || r == unicode.ReplacementChar {
			printable = false
			break
		}
	}
	if printable {
		return "'" + strings.ReplaceAll(s, "'", "''") + "'"
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(s); err != nil {
		return strconv.Quote(s)
	}
	return strings.TrimSuffix(buf.String(), "\n")
}
