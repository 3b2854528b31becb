// Package yamltree owns reading one YAML document as a tree of plain
// values that keep their line, for loaders that check a file key by key
// and point at the line of what is wrong (the mapping file, the native
// tenant snapshot). It reads with goccy/go-yaml's parser, which keeps the
// position of every node, and refuses what such a loader could not point
// at or would read wrongly: text that is not UTF-8, aliases and merge keys
// (a value written elsewhere), a key given twice, several documents, and
// nesting deeper than the loader allows. Whatever the bytes, Parse gives a
// tree or an *Error, never a panic.
//
// The tree is plain data: another reader may build it too (the tenant
// loader builds one from each element of a JSON snapshot).
package yamltree

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
)

// Kind is what a Node holds.
type Kind uint8

const (
	Null Kind = iota
	String
	Number
	Bool
	List
	Map
)

// Node is one value with the line it is on.
type Node struct {
	Kind Kind
	// Text is a scalar's text: a string's value, a number's digits as
	// written, a boolean's word (an unquoted 0123 stays "0123").
	Text  string
	True  bool     // a Bool's value
	Items []Node   // a List's elements
	Keys  []string // a Map's keys in file order, each once
	Vals  []Node   // a Map's values: Vals[i] is under Keys[i]
	Line  int      // 1-based; 0 when not known
}

// Describe names the kind of value for a "want X, got Y" message.
func (n *Node) Describe() string {
	switch n.Kind {
	case Null:
		return "null"
	case String:
		return "a string"
	case Number:
		return "a number"
	case Bool:
		return "a boolean"
	case List:
		return "a list"
	}
	return "a mapping"
}

// Get returns the value of a Map under key.
func (n *Node) Get(key string) (*Node, bool) {
	for i, k := range n.Keys {
		if k == key {
			return &n.Vals[i], true
		}
	}
	return nil, false
}

// DefaultMaxDepth bounds nesting when Options.MaxDepth is 0.
const DefaultMaxDepth = 64

// Options say what the document is, for the messages, and how deep it
// may nest.
type Options struct {
	// What names the file with its article, as messages say it: "a
	// mapping file" gives "YAML aliases (*name) are not supported in a
	// mapping file".
	What string
	// Holds is what the one document holds, for the hint when there are
	// several: "users: and groups:" gives "a mapping file is one document
	// with users: and groups:".
	Holds string
	// MaxDepth bounds nesting (DefaultMaxDepth when 0).
	MaxDepth int
}

// Error is input that is not one tree: the line at fault (0 when not
// known), what is wrong, how to fix it, and the parser's error when it
// was the parser that refused.
type Error struct {
	Line int
	Msg  string
	Hint string
	Err  error
}

func (e *Error) Error() string {
	if e.Line > 0 {
		return "line " + strconv.Itoa(e.Line) + ": " + e.Msg
	}
	return e.Msg
}

func (e *Error) Unwrap() error { return e.Err }

// Parse reads data as one YAML document (JSON is YAML too). It returns nil
// and no error when data holds no document (empty, or only comments);
// every error is an *Error.
func Parse(data []byte, o Options) (root *Node, err error) {
	if err := checkUTF8(data); err != nil {
		return nil, err
	}
	if o.MaxDepth == 0 {
		o.MaxDepth = DefaultMaxDepth
	}
	defer func() {
		// A third-party parser: whatever input makes it fail must still
		// give an error, not a crash.
		if r := recover(); r != nil {
			root, err = nil, &Error{Msg: fmt.Sprintf("not valid YAML (the parser failed: %v)", r)}
		}
	}()
	// Repeated keys are refused below, in the words and at the line the
	// loaders' JSON readers use, rather than in the parser's.
	f, perr := parser.ParseBytes(data, 0, parser.AllowDuplicateMapKey())
	if perr != nil {
		return nil, syntaxError(perr)
	}
	var docs []ast.Node
	for _, d := range f.Docs {
		if d != nil && d.Body != nil {
			docs = append(docs, d.Body)
		}
	}
	switch len(docs) {
	case 0:
		return nil, nil
	case 1:
	default:
		e := &Error{Msg: fmt.Sprintf("want one YAML document, found %d", len(docs))}
		if o.Holds != "" {
			e.Hint = o.What + " is one document with " + o.Holds
		}
		return nil, e
	}
	b := builder{o: o}
	n, err := b.node(docs[0], 0)
	if err != nil {
		return nil, err
	}
	return &n, nil
}

// checkUTF8 refuses bytes that are not UTF-8: the parser would turn them
// into U+FFFD, silently changing a value (YAML 1.2 §5.2 allows only
// Unicode encodings). The byte is counted from 0, as a file offset.
func checkUTF8(data []byte) error {
	if utf8.Valid(data) {
		return nil
	}
	off := 0
	for off < len(data) {
		r, n := utf8.DecodeRune(data[off:])
		if r == utf8.RuneError && n <= 1 {
			break
		}
		off += n
	}
	return &Error{Line: 1 + bytes.Count(data[:off], []byte{'\n'}), Msg: fmt.Sprintf("not UTF-8 text at byte %d", off),
		Hint: "save the file as UTF-8"}
}

func syntaxError(err error) error {
	var ye yaml.Error
	if errors.As(err, &ye) {
		e := &Error{Msg: "not valid YAML: " + ye.GetMessage(), Err: err}
		if tok := ye.GetToken(); tok != nil && tok.Position != nil {
			e.Line = tok.Position.Line
		}
		return e
	}
	msg, _, _ := strings.Cut(err.Error(), "\n")
	return &Error{Msg: "not valid YAML: " + msg, Err: err}
}

func lineOf(n ast.Node) int {
	if n == nil {
		return 0
	}
	if t := n.GetToken(); t != nil && t.Position != nil {
		return t.Position.Line
	}
	return 0
}

type builder struct{ o Options }

func (b *builder) node(n ast.Node, depth int) (Node, error) {
	out := Node{Line: lineOf(n)}
	if depth > b.o.MaxDepth {
		return out, &Error{Line: out.Line, Msg: "YAML nested too deeply"}
	}
	switch v := n.(type) {
	case nil, *ast.NullNode:
		out.Kind = Null
	case *ast.StringNode:
		out.Kind, out.Text = String, v.Value
	case *ast.LiteralNode:
		out.Kind = String
		if v.Value != nil {
			out.Text = v.Value.Value
		}
	case *ast.IntegerNode, *ast.FloatNode, *ast.InfinityNode, *ast.NanNode:
		out.Kind, out.Text = Number, n.GetToken().Value
	case *ast.BoolNode:
		out.Kind, out.True, out.Text = Bool, v.Value, n.GetToken().Value
	case *ast.TagNode:
		inner, err := b.node(v.Value, depth+1)
		if err != nil {
			return out, err
		}
		if n.GetToken().Value == "!!str" && inner.Kind != List && inner.Kind != Map {
			inner.Kind, inner.True = String, false
		}
		return inner, nil
	case *ast.AnchorNode:
		return b.node(v.Value, depth+1)
	case *ast.AliasNode:
		return out, b.alias(out.Line)
	case *ast.SequenceNode:
		out.Kind = List
		for _, it := range v.Values {
			c, err := b.node(it, depth+1)
			if err != nil {
				return out, err
			}
			if c.Line == 0 {
				c.Line = out.Line
			}
			out.Items = append(out.Items, c)
		}
	case *ast.MappingNode:
		out.Kind = Map
		var seen map[string]bool
		if len(v.Values) > 16 {
			seen = make(map[string]bool, len(v.Values))
		}
		for _, mv := range v.Values {
			if err := b.pair(&out, mv, seen, depth); err != nil {
				return out, err
			}
		}
	case *ast.MappingValueNode:
		out.Kind = Map
		if err := b.pair(&out, v, nil, depth); err != nil {
			return out, err
		}
	default:
		return out, &Error{Line: out.Line, Msg: fmt.Sprintf("unsupported YAML construct (%s)", n.Type())}
	}
	return out, nil
}

func (b *builder) alias(line int) error {
	return &Error{Line: line, Msg: "YAML aliases (*name) are not supported in " + b.o.What, Hint: "write the values out in full"}
}

// keyNode is the key itself under its tags and anchor (!!str a, &x a),
// as the parser checks it: otherwise the key would read as the tag's or
// the anchor's token.
func keyNode(n ast.Node) ast.Node {
	for {
		switch v := n.(type) {
		case *ast.TagNode:
			n = v.Value
		case *ast.AnchorNode:
			n = v.Value
		default:
			return n
		}
	}
}

// pair adds one key and its value to out. seen, when not nil, holds the
// keys so far, so that a large mapping is not checked key against key.
func (b *builder) pair(out *Node, mv *ast.MappingValueNode, seen map[string]bool, depth int) error {
	line := lineOf(mv.Key)
	if out.Line == 0 {
		out.Line = line
	}
	var key string
	switch k := keyNode(mv.Key).(type) {
	case *ast.StringNode:
		key = k.Value
	case *ast.MergeKeyNode:
		return &Error{Line: line, Msg: "YAML merge keys (<<) are not supported in " + b.o.What, Hint: "write the values out in full"}
	case *ast.AliasNode:
		return b.alias(line)
	case ast.ScalarNode:
		key = k.GetToken().Value
	default:
		return &Error{Line: line, Msg: "a mapping key must be a plain name"}
	}
	// YAML 1.2 §3.2.1.1: the keys of a mapping are unique; reading one of
	// two values silently would hide the mistake.
	var dup bool
	if seen != nil {
		dup, seen[key] = seen[key], true
	} else {
		dup = slices.Contains(out.Keys, key)
	}
	if dup {
		return &Error{Line: line, Msg: fmt.Sprintf("the key %q is given twice", key)}
	}
	c, err := b.node(mv.Value, depth+1)
	if err != nil {
		return err
	}
	if c.Line == 0 {
		c.Line = line
	}
	out.Keys = append(out.Keys, key)
	out.Vals = append(out.Vals, c)
	return nil
}
