package mapping

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// schemaNode is the part of docs/mapping.schema.json the test reads.
type schemaNode struct {
	Ref                  string                 `json:"$ref"`
	Required             []string               `json:"required"`
	Properties           map[string]*schemaNode `json:"properties"`
	AdditionalProperties any                    `json:"additionalProperties"`
	Items                *schemaNode            `json:"items"`
	Enum                 []any                  `json:"enum"`
	Const                any                    `json:"const"`
	Defs                 map[string]*schemaNode `json:"$defs"`
}

func (s *schemaNode) resolve(t *testing.T, root *schemaNode) *schemaNode {
	t.Helper()
	if s == nil {
		t.Fatal("missing schema node")
	}
	if s.Ref == "" {
		return s
	}
	name, ok := strings.CutPrefix(s.Ref, "#/$defs/")
	if !ok || root.Defs[name] == nil {
		t.Fatalf("unresolvable $ref %q", s.Ref)
	}
	return root.Defs[name]
}

// TestSchemaMatchesLoader keeps docs/mapping.schema.json and the loader in
// step: the same keys at every level, closed objects (the loader rejects
// unknown keys), the same required keys, and every enum value accepted.
func TestSchemaMatchesLoader(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "..", "docs", "mapping.schema.json"))
	if err != nil {
		t.Fatal(err)
	}
	var root schemaNode
	if err := json.Unmarshal(b, &root); err != nil {
		t.Fatalf("mapping.schema.json: %v", err)
	}
	users := root.Properties["users"]
	groups := root.Properties["groups"]
	filter := users.Properties["scopingFilters"].resolve(t, &root).Items.resolve(t, &root)
	clause := filter.Properties["clauses"].Items.resolve(t, &root)
	attribute := users.Properties["attributes"].resolve(t, &root).Items.resolve(t, &root)
	for _, c := range []struct {
		what     string
		node     *schemaNode
		keys     []string
		required []string
	}{
		{"file", &root, fileKeys, nil},
		{"users", users, userKeys, []string{"attributes"}},
		{"groups", groups, groupKeys, []string{"attributes"}},
		{"filter", filter, filterKeys, []string{"clauses"}},
		{"clause", clause, clauseKeys, []string{"attribute", "operator"}},
		{"attribute", attribute, attributeKeys, []string{"target"}},
	} {
		var got []string
		for k := range c.node.Properties {
			got = append(got, k)
		}
		slices.Sort(got)
		if want := slices.Sorted(slices.Values(c.keys)); !slices.Equal(got, want) {
			t.Errorf("%s: schema properties %v, loader keys %v", c.what, got, want)
		}
		if c.node.AdditionalProperties != false {
			t.Errorf("%s: the schema must set additionalProperties false: the loader rejects unknown keys", c.what)
		}
		if got := slices.Sorted(slices.Values(c.node.Required)); !slices.Equal(got, c.required) {
			t.Errorf("%s: schema requires %v, the loader %v", c.what, got, c.required)
		}
	}
	if root.Properties["format"].Const != FileFormat {
		t.Errorf("schema format %v, loader %s", root.Properties["format"].Const, FileFormat)
	}
	enums := func(n *schemaNode) []string {
		var out []string
		for _, v := range n.Enum {
			out = append(out, v.(string))
		}
		return out
	}
	ops := enums(clause.Properties["operator"])
	if len(ops) != len(Operators) {
		t.Errorf("schema lists %d operators, the loader %d", len(ops), len(Operators))
	}
	for _, o := range ops {
		if _, ok := parseOperator(o); !ok {
			t.Errorf("schema operator %q is not accepted", o)
		}
	}
	for _, v := range enums(attribute.Properties["mappingType"]) {
		if _, ok := parseMappingType(v); !ok {
			t.Errorf("schema mappingType %q is not accepted", v)
		}
	}
	for _, v := range enums(attribute.Properties["apply"]) {
		if _, ok := parseApply(v); !ok {
			t.Errorf("schema apply %q is not accepted", v)
		}
	}
	if tt := enums(attribute.Properties["targetType"]); len(tt) != len(targetTypes) {
		t.Errorf("schema target types %v, loader %v", tt, targetTypes)
	}
	for _, v := range enums(attribute.Properties["targetType"]) {
		if _, ok := parseTargetType(v); !ok {
			t.Errorf("schema targetType %q is not accepted", v)
		}
	}
	if got := enums(users.Properties["actions"].resolve(t, &root).Items); !slices.Equal(got, actionNames) {
		t.Errorf("schema actions %v, loader %v", got, actionNames)
	}
}
