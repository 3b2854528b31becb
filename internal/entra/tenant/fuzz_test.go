package tenant

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/go-json-experiment/json/jsontext"

	"github.com/miscim/miscim/internal/yamltree"
)

// Every loader takes any bytes and returns a snapshot or a *LoadError that
// names the file: never a panic, never another error type.

const seedYAML = `format: miscim-tenant/1
users:
  - objectId: u1
    userPrincipalName: a@x
    accountEnabled: true
    otherMails: [b@x]
    onPremisesExtensionAttributes: {extensionAttribute1: power}
    attributes: {department: Sales, n: 5, ok: true, list: [a, b]}
  - {objectId: u2, userPrincipalName: b@x, softDeleted: true, deletedDateTime: 2026-01-10T08:30:00Z}
groups:
  - objectId: g1
    displayName: G
    membersFromExpand: true
    members: [u1, b@x, {id: g2, type: group}, {id: d1, type: device}]
  - {objectId: g2, displayName: H}
assignments:
  - {principalId: g1, appRoleId: r1}
`

const seedJSON = `{"format":"miscim-tenant/1","users":[{"objectId":"u1","userPrincipalName":"a@x","accountEnabled":true,
"onPremisesExtensionAttributes":{"extensionAttribute1":"power"},"attributes":{"department":"Sales","list":["a",1,true]}}],
"groups":[{"objectId":"g1","displayName":"G","members":["u1",{"id":"g1","type":"group"}]}],
"assignments":[{"principalId":"u1","principalType":"User"}]}`

func checkLoadResult(t *testing.T, tn *Tenant, err error) {
	t.Helper()
	if err != nil {
		var le *LoadError
		if !errors.As(err, &le) {
			t.Fatalf("error %T %v is not a *LoadError", err, err)
		}
		if le.Source.File == "" {
			t.Fatalf("error %q names no file", le)
		}
		return
	}
	for u := range tn.Users() {
		if got, ok := tn.UserByID(u.ObjectID()); !ok || got != u {
			t.Fatalf("UserByID(%q) does not find the user", u.ObjectID())
		}
		for _, n := range u.AttrNames() {
			if v, ok := u.Attr(n); !ok || len(v) == 0 {
				t.Fatalf("attribute %q listed but empty", n)
			}
			_ = u.AttrSource(n).String()
		}
		_ = u.Groups()
		_ = u.Assignments()
		_ = tn.EffectiveAssignments(u)
		_, _ = tn.FindUser(u.UserPrincipalName())
	}
	for g := range tn.Groups() {
		if got, ok := tn.GroupByID(g.ObjectID()); !ok || got != g {
			t.Fatalf("GroupByID(%q) does not find the group", g.ObjectID())
		}
		_ = g.MemberUsers()
		_ = g.MemberGroups()
		_ = g.ParentGroups()
		_ = g.Source().String()
		_, _ = tn.FindObject(g.DisplayName())
	}
	for a := range tn.Assignments() {
		_ = a.Source()
		_, _ = a.User(), a.Group()
	}
	for _, f := range tn.Findings() {
		_ = f.String()
	}
}

func FuzzNativeYAML(f *testing.F) {
	f.Add([]byte(seedYAML))
	f.Add([]byte("users:\n  - &a {objectId: u1}\n  - *a\n"))
	f.Add([]byte("users:\n- objectId: !!str 123\n  attributes: {x: !!binary aGk=}\n"))
	f.Add([]byte("{users: [{objectId: u1, accountEnabled: yes}]}"))
	f.Fuzz(func(t *testing.T, data []byte) {
		b := newBuilder("t.yaml", FormatNative)
		err := loadNativeYAML(b, data, "t.yaml")
		var tn *Tenant
		if err == nil {
			tn, err = b.build()
		}
		checkLoadResult(t, tn, err)
	})
}

func FuzzNativeJSON(f *testing.F) {
	f.Add([]byte(seedJSON))
	f.Add([]byte(`{"users":[{"objectId":"u1"},{"objectId":"U1"}]}`))
	f.Add([]byte(`{"users":[{"objectId":"u1","mail":5}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		b := newBuilder("t.json", FormatNative)
		err := loadNativeJSON(b, bytes.NewReader(data), "t.json")
		var tn *Tenant
		if err == nil {
			tn, err = b.build()
		}
		checkLoadResult(t, tn, err)
	})
}

// graphFiles are the files a fuzzed Graph export is split into: the input
// holds them separated by NUL bytes.
var graphFiles = []string{"users.json", "groups.json", "members/g1.json", "deletedItems.json", "assignments.json", "users-2.json"}

func FuzzGraph(f *testing.F) {
	f.Add([]byte(`{"@odata.context":"https://graph.microsoft.com/v1.0/$metadata#users","@odata.nextLink":"x","value":[{"id":"u1","userPrincipalName":"a@x","accountEnabled":true,"businessPhones":["1"],"onPremisesExtensionAttributes":{"extensionAttribute1":"p","extensionAttribute2":null},"customSecurityAttributes":{"S":{"@odata.type":"#x","A":["a"]}}}]}` +
		"\x00" + `{"value":[{"id":"g1","displayName":"G","members":[{"@odata.type":"#microsoft.graph.user","id":"u1"},{"@odata.type":"#microsoft.graph.device","id":"d"}]},{"id":"g2","members@delta":[{"id":"u1","@removed":{"reason":"deleted"}}]}]}` +
		"\x00" + `{"value":[{"@odata.type":"#microsoft.graph.user","id":"u1"},{"@odata.type":"#microsoft.graph.group","id":"g2"}]}` +
		"\x00" + `{"@odata.context":"https://graph.microsoft.com/v1.0/$metadata#directory/deletedItems/microsoft.graph.user","value":[{"id":"u2","userPrincipalName":"u2a@x","deletedDateTime":"2026-01-10T08:30:00Z"}]}` +
		"\x00" + `{"value":[{"principalId":"g1","principalType":"Group","appRoleId":"r","deletedDateTime":null}]}` +
		"\x00" + `{"@odata.deltaLink":"x","value":[{"id":"u1","@removed":{"reason":"changed"}},{"id":"u3","userPrincipalName":"c@x"}]}`))
	f.Add([]byte(`[{"id":"u1"}]`))
	f.Add([]byte(`{"error":{"code":"x","message":"y"}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		fsys := fstest.MapFS{}
		for i, part := range bytes.SplitN(data, []byte{0}, len(graphFiles)) {
			fsys[graphFiles[i]] = &fstest.MapFile{Data: part}
		}
		tn, err := LoadFS(fsys, ".")
		checkLoadResult(t, tn, err)
	})
}

var csvFiles = []string{"users.csv", "groups.csv", "members/g1.csv", "assignments.csv", "deletedUsers.csv", "memberships.csv"}

func FuzzCSV(f *testing.F) {
	f.Add([]byte("\uFEFFuserPrincipalName,displayName,id,accountEnabled,alternateEmailAddress,onPremisesExtensionAttributes\na@x,\"A, B\",u1,True,a@y;b@y,\"{\"\"extensionAttribute1\"\":\"\"p\"\"}\"\n" +
		"\x00id,displayName,groupTypes,securityEnabled\ng1,G,Unified,TRUE\n" +
		"\x00Object ID,User principal name,Display name,Member type\nu1,a@x,A,User\n,b@x,,Device\n" +
		"\x00#TYPE x\n\"PrincipalId\",\"PrincipalType\",\"AppRoleId\"\n\"g1\",\"Group\",\"\"\n" +
		"\x00version:v1.0,,\nName [displayName] Required,User name [userPrincipalName] Required,Block sign in (Yes/No) [accountEnabled] Required,id,deletedDateTime\nX,x@x,Yes,u9,1/2/2026 3:04:05 PM\n" +
		"\x00groupId;memberId\ng1;u1\n"))
	f.Add([]byte("id,userPrincipalName\nu1,a\"b\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		fsys := fstest.MapFS{}
		for i, part := range bytes.SplitN(data, []byte{0}, len(csvFiles)) {
			fsys[csvFiles[i]] = &fstest.MapFile{Data: part}
		}
		tn, err := LoadFS(fsys, ".")
		checkLoadResult(t, tn, err)
	})
}

// FuzzParse feeds any bytes to format detection and whichever loader it
// picks, as --tenant FILE does.
func FuzzParse(f *testing.F) {
	for _, s := range []string{seedYAML, seedJSON, `{"value":[{"id":"u1"}]}`, "id,userPrincipalName\nu1,a@x\n", "#TYPE x\n\"Id\"\n", "- a\n", "# only a comment\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		tn, err := Parse("tenant", data)
		checkLoadResult(t, tn, err)
	})
}

// readJSONDocument reads a whole document through jsonReader the way the
// loaders do (the envelope by tokens, values whole) and converts it to
// what encoding/json's Unmarshal into any gives. It checks the line of
// every value read against the lines counted in data.
func readJSONDocument(t *testing.T, data []byte, r io.Reader) (any, error) {
	s := newJSONReader(r, "t.json")
	defer s.release()
	checkLine := func(raw []byte, line int) {
		start := s.dec.InputOffset() - int64(len(raw))
		if want := 1 + bytes.Count(data[:start], []byte{'\n'}); line != want {
			t.Fatalf("value at offset %d read at line %d, want %d, in %q", start, line, want, data)
		}
	}
	read := func(path string) (any, error) {
		tok, err := s.token(path)
		if err != nil {
			return nil, err
		}
		switch tok.Kind() {
		case '{':
			m := map[string]any{}
			for s.more() {
				k, err := s.token(path)
				if err != nil {
					return nil, err
				}
				key := k.String()
				raw, line, err := s.element(path + "." + key)
				if err != nil {
					return nil, err
				}
				checkLine(raw, line)
				m[key] = nodeValue(jsonNode(raw, line, jv{b: raw}))
			}
			if _, err := s.token(path); err != nil {
				return nil, err
			}
			return m, nil
		case '[':
			a := []any{}
			for i := 0; s.more(); i++ {
				raw, line, err := s.elementAt(path, i)
				if err != nil {
					return nil, err
				}
				checkLine(raw, line)
				a = append(a, nodeValue(jsonNode(raw, line, jv{b: raw})))
			}
			if _, err := s.token(path); err != nil {
				return nil, err
			}
			return a, nil
		case '0':
			return json.Number(tok.String()), nil
		case '"':
			return tok.String(), nil
		case 't', 'f':
			return tok.Bool(), nil
		}
		return nil, nil
	}
	v, err := read("$")
	if err != nil {
		return nil, err
	}
	return v, s.end()
}

// nodeValue turns a tree node back into Unmarshal's shapes (numbers as
// json.Number, with UseNumber).
func nodeValue(n yamltree.Node) any {
	switch n.Kind {
	case yamltree.Null:
		return nil
	case yamltree.String:
		return n.Text
	case yamltree.Number:
		return json.Number(n.Text)
	case yamltree.Bool:
		return n.True
	case yamltree.List:
		a := make([]any, len(n.Items))
		for i, it := range n.Items {
			a[i] = nodeValue(it)
		}
		return a
	}
	m := map[string]any{}
	for i, k := range n.Keys {
		m[k] = nodeValue(n.Vals[i])
	}
	return m
}

// FuzzJSONRead checks the loaders' JSON reading (jsontext's Decoder read
// as the loaders read it, lineReader's lines and the jv walker) against
// encoding/json and against jsontext reading the whole value at once: a
// document is read when both accept it, as the same values; what only
// encoding/json accepts is refused for its text (invalid UTF-8, a lone
// surrogate) or a repeated key, which jsontext refuses and encoding/json
// does not.
func FuzzJSONRead(f *testing.F) {
	for _, s := range []string{seedJSON, `{"value":[1,-0.5e+10,"a\"\\\/\b\f\n\r\t\u00e9\ud83d\ude00",true,false,null,{},[]]}`,
		`[1,]`, `{"a":1,}`, `{"a" 1}`, `"\ud800"`, "\"\xff\"", `01`, `1.`, `-`, `1e`, ` `, `{"a":[1,2}`, `[[[]]]`, `123`, "{\"a\":\n\t1}",
		`{"a":1,"a":2}`, `{"a\u0062":1,"ab":2}`, "[\n\"x\",\n\n{\"k\":\n[1,\n2]}\r\n]\n", "{}\n\n{}"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		got, err := readJSONDocument(t, data, bytes.NewReader(data))
		if whole := jsontext.Value(data).IsValid(); (err == nil) != whole {
			t.Fatalf("read error %v, jsontext.Value.IsValid %v, for %q", err, whole, data)
		}
		valid := json.Valid(data)
		if err != nil {
			var le *LoadError
			if !errors.As(err, &le) || le.Source.File != "t.json" || le.Source.Line < 1 {
				t.Fatalf("error %T %v does not name the file and line", err, err)
			}
			if n := bytes.Count(data, []byte{'\n'}) + 1; le.Source.Line > n {
				t.Fatalf("error at line %d of a %d-line input", le.Source.Line, n)
			}
			var se *jsontext.SyntacticError
			if errors.As(le.Err, &se) {
				if want := 1 + bytes.Count(data[:min(se.ByteOffset, int64(len(data)))], []byte{'\n'}); le.Source.Line != want {
					t.Fatalf("error %v at line %d, want %d (offset %d)", err, le.Source.Line, want, se.ByteOffset)
				}
			}
			if valid && !strings.Contains(le.Msg, "given twice") && !strings.Contains(le.Msg, "UTF-8") && !strings.Contains(le.Msg, "surrogate") {
				t.Fatalf("error %v for a document encoding/json reads, %q", err, data)
			}
			return
		}
		if !valid {
			t.Fatalf("read %q, which encoding/json refuses", data)
		}
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.UseNumber()
		var want any
		if err := dec.Decode(&want); err != nil {
			t.Fatalf("encoding/json: %v", err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("read %#v, encoding/json %#v, for %q", got, want, data)
		}
	})
}

// TestJSONReaderBuffering reads documents whose values straddle the read
// buffers, one byte per Read, and checks the lines.
func TestJSONReaderBuffering(t *testing.T) {
	doc := `{"value":[` + strings.Repeat(`{"id":"`+strings.Repeat("x", 100)+`","n":12345,`+"\n"+`"b":[true,false,null]},`+"\n", 2000) + `{}]}`
	for _, r := range []io.Reader{strings.NewReader(doc), oneByteReader{strings.NewReader(doc)}} {
		got, err := readJSONDocument(t, []byte(doc), r)
		if err != nil {
			t.Fatal(err)
		}
		var want any
		dec := json.NewDecoder(strings.NewReader(doc))
		dec.UseNumber()
		if err := dec.Decode(&want); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatal("documents differ")
		}
	}
	s := newJSONReader(oneByteReader{strings.NewReader("{\n\"value\":\n[\n1,\n{\"a\":\n[2]}\n]\n}\n")}, "t.json")
	defer s.release()
	for _, want := range []jsontext.Kind{'{', '"', '['} {
		if tok, err := s.token("$"); err != nil || tok.Kind() != want {
			t.Fatalf("token %v %v, want %v", tok, err, want)
		}
	}
	raw, line, err := s.elementAt("$.value", 0)
	if err != nil || string(raw) != "1" || line != 4 {
		t.Fatalf("element %q line %d %v", raw, line, err)
	}
	raw, line, err = s.elementAt("$.value", 1)
	if err != nil || string(raw) != "{\"a\":\n[2]}" || line != 5 {
		t.Fatalf("element %q line %d %v", raw, line, err)
	}
	if s.more() {
		t.Fatal("more after the last element")
	}
}

type oneByteReader struct{ r *strings.Reader }

func (o oneByteReader) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	return o.r.Read(p[:1])
}
