package tenant

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/miscim/miscim/internal/yamltree"
)

// schemaNode is the part of docs/tenant.schema.json the tests read.
type schemaNode struct {
	Ref                  string                 `json:"$ref"`
	Type                 any                    `json:"type"`
	Required             []string               `json:"required"`
	Properties           map[string]*schemaNode `json:"properties"`
	AdditionalProperties any                    `json:"additionalProperties"`
	Items                *schemaNode            `json:"items"`
	OneOf                []*schemaNode          `json:"oneOf"`
	Enum                 []any                  `json:"enum"`
	Const                any                    `json:"const"`
	Defs                 map[string]*schemaNode `json:"$defs"`
}

func readTenantSchema(t *testing.T) *schemaNode {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "..", "docs", "tenant.schema.json"))
	if err != nil {
		t.Fatal(err)
	}
	var s schemaNode
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatalf("tenant.schema.json: %v", err)
	}
	return &s
}

func (s *schemaNode) def(t *testing.T, root *schemaNode) *schemaNode {
	t.Helper()
	if s.Ref == "" {
		return s
	}
	name, ok := strings.CutPrefix(s.Ref, "#/$defs/")
	if !ok || root.Defs[name] == nil {
		t.Fatalf("unresolvable $ref %q", s.Ref)
	}
	return root.Defs[name]
}

func propNames(s *schemaNode) []string {
	var out []string
	for k := range s.Properties {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// TestSchemaMatchesLoader keeps docs/tenant.schema.json and the native
// loader in step: the same keys at every level, closed objects (the
// loader rejects unknown keys), the same required keys, and every enum
// value of the schema accepted by the loader.
func TestSchemaMatchesLoader(t *testing.T) {
	root := readTenantSchema(t)
	user := root.Defs["user"]
	group := root.Defs["group"]
	assignment := root.Defs["assignment"]
	var memberObj *schemaNode
	for _, alt := range root.Defs["member"].OneOf {
		if alt.Properties != nil {
			memberObj = alt
		}
	}
	if user == nil || group == nil || assignment == nil || memberObj == nil {
		t.Fatal("schema lacks a user, group, assignment or member object definition")
	}
	ext := user.Properties[onPremExtensionAttrs]
	for _, c := range []struct {
		what     string
		node     *schemaNode
		keys     []string
		required []string
	}{
		{"snapshot", root, nativeTopKeys, nil},
		{"user", user, nativeUserKeys, []string{attrObjectID}},
		{"group", group, nativeGroupKeys, []string{attrObjectID}},
		{"assignment", assignment, nativeAssignmentKeys, []string{"principalId"}},
		{"member", memberObj, nativeMemberKeys, []string{"id"}},
		{"onPremisesExtensionAttributes", ext, extensionAttributeNames[:], nil},
	} {
		if got, want := propNames(c.node), slices.Sorted(slices.Values(c.keys)); !slices.Equal(got, want) {
			t.Errorf("%s: schema properties %v, loader keys %v", c.what, got, want)
		}
		if c.node.AdditionalProperties != false {
			t.Errorf("%s: the schema must set additionalProperties false: the loader rejects unknown keys", c.what)
		}
		if got := slices.Sorted(slices.Values(c.node.Required)); !slices.Equal(got, c.required) {
			t.Errorf("%s: schema requires %v, the loader %v", c.what, got, c.required)
		}
	}
	if root.Properties["format"].Const != NativeFormat {
		t.Errorf("schema format %v, loader %s", root.Properties["format"].Const, NativeFormat)
	}
	for _, v := range memberObj.Properties["type"].Enum {
		if _, ok := parseMemberKind(v.(string)); !ok {
			t.Errorf("schema member type %q is not accepted by the loader", v)
		}
	}
	for _, v := range assignment.Properties["principalType"].Enum {
		s, _ := v.(string)
		if _, ok := parsePrincipalType(s); !ok {
			t.Errorf("schema principalType %q is not accepted by the loader", v)
		}
	}
	// Booleans and strings where the loader wants them.
	for _, k := range []string{attrAccountEnabled, nativeSoftDelete} {
		if typ := user.Properties[k].def(t, root).Type; !slices.Contains(typeList(typ), "boolean") {
			t.Errorf("user.%s: schema type %v, the loader wants a boolean", k, typ)
		}
	}
	for _, k := range []string{attrUPN, attrDisplayName, attrGivenName, attrSurname, attrMail, attrMailNickname} {
		if typ := user.Properties[k].def(t, root).Type; !slices.Contains(typeList(typ), "string") {
			t.Errorf("user.%s: schema type %v", k, typ)
		}
	}
	if typ := group.Properties[nativeFromExpand].def(t, root).Type; !slices.Contains(typeList(typ), "boolean") {
		t.Errorf("group.membersFromExpand: schema type %v", typ)
	}
}

func typeList(t any) []string {
	switch v := t.(type) {
	case string:
		return []string{v}
	case []any:
		var out []string
		for _, x := range v {
			s, _ := x.(string)
			out = append(out, s)
		}
		return out
	}
	return nil
}

// TestSampleMatchesSchema checks the bundled native sample against the
// schema's key sets, walking the YAML itself (the loader's own checks
// are what TestSchemaMatchesLoader ties to the schema).
func TestSampleMatchesSchema(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "..", "..", "docs", "examples", "tenant", "native", "tenant.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	b := newBuilder("tenant.yaml", FormatNative)
	if err := loadNativeYAML(b, data, "tenant.yaml"); err != nil {
		t.Fatal(err)
	}
	root := readTenantSchema(t)
	f, err := yamlRoot(data)
	if err != nil {
		t.Fatal(err)
	}
	for i, k := range f.Keys {
		if root.Properties[k] == nil {
			t.Errorf("top-level key %q is not in the schema", k)
		}
		def := map[string]string{"users": "user", "groups": "group", "assignments": "assignment"}[k]
		if def == "" {
			continue
		}
		for _, item := range f.Vals[i].Items {
			for _, ik := range item.Keys {
				if root.Defs[def].Properties[ik] == nil {
					t.Errorf("%s key %q is not in the schema", def, ik)
				}
			}
		}
	}
}

func yamlRoot(data []byte) (*yamltree.Node, error) { return parseYAMLDoc(data, "tenant.yaml") }
