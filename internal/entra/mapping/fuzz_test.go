package mapping

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzLoad: any bytes are a mapping or a *LoadError that names the file;
// never a panic. A mapping that loads writes YAML that loads back to the
// same mapping, and maps an object without failing.
func FuzzLoad(f *testing.F) {
	f.Add(Default().YAML())
	for _, p := range []string{filepath.Join("testdata", "every-field.yaml")} {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	files, _ := filepath.Glob(filepath.Join("..", "..", "..", "docs", "examples", "mapping", "*.yaml"))
	for _, p := range files {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte("users:\n  attributes:\n    - {target: userName, expression: 'Switch([a], , \"x\"', matching: 1}\n"))
	f.Add([]byte("users:\n  scopingFilters:\n    - clauses:\n        - {attribute: a, operator: REGEX MATCH, value: '(?<x>a)\\1'}\n  attributes: [{target: userName, source: b, matching: 1}]\n"))
	f.Add([]byte("groups: {enabled: false, attributes: [{target: 'emails[type eq \"x\"].value', constant: 1, matching: 3}]}\n"))
	f.Add([]byte("{\"users\": {\"attributes\": [{\"target\": \"userName\", \"source\": \"upn\", \"matching\": 1}]}}"))
	mp := mapperOf(f, scopeTenant, "", ScopeAssigned)
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := Parse("fuzz.yaml", data)
		if err != nil {
			var le *LoadError
			if !errors.As(err, &le) || le.File != "fuzz.yaml" || !strings.HasPrefix(err.Error(), "fuzz.yaml") || le.Msg == "" {
				t.Fatalf("error %T %q does not name the file", err, err)
			}
			return
		}
		back, err := Parse("show.yaml", m.YAML())
		if err != nil {
			t.Fatalf("YAML does not load back: %v\n%s", err, m.YAML())
		}
		equalMappings(t, m, back)
		fm, err := New(mp.Tenant(), m, Options{})
		if err != nil {
			t.Fatal(err)
		}
		for u := range fm.Tenant().Users() {
			d := fm.User(u)
			_ = d.Resource(true)
			_ = d.Matching()
			for i := range d.Values {
				_ = d.Values[i].Explanation()
			}
		}
		for g := range fm.Tenant().Groups() {
			_ = fm.Group(g).Resource(true)
		}
	})
}
