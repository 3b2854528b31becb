package mapping

import (
	"errors"
	"fmt"
	"strings"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
)

// node is one value of a mapping file, with the line it is on.
type node struct {
	kind  nodeKind
	text  string // a scalar's text
	b     bool
	items []node
	keys  []string
	vals  []node
	line  int
}

type nodeKind uint8

const (
	kNull nodeKind = iota
	kString
	kNumber
	kBool
	kList
	kMap
)

func (n *node) describe() string {
	switch n.kind {
	case kNull:
		return "null"
	case kString:
		return "a string"
	case kNumber:
		return "a number"
	case kBool:
		return "a boolean"
	case kList:
		return "a list"
	}
	return "a mapping"
}

func (n *node) get(key string) (*node, bool) {
	for i, k := range n.keys {
		if k == key {
			return &n.vals[i], true
		}
	}
	return nil, false
}

// maxDepth bounds nesting: a mapping file is four levels deep.
const maxDepth = 32

// parseYAML parses one YAML (or JSON) document with goccy/go-yaml's
// parser, which keeps the line of every node.
func parseYAML(data []byte, file string) (root node, err error) {
	defer func() {
		// A third-party parser: whatever input makes it fail must still
		// give an error, not a crash.
		if r := recover(); r != nil {
			err = &LoadError{File: file, Msg: fmt.Sprintf("not valid YAML (the parser failed: %v)", r)}
		}
	}()
	f, perr := parser.ParseBytes(data, 0)
	if perr != nil {
		var ye yaml.Error
		if errors.As(perr, &ye) {
			le := &LoadError{File: file, Msg: "not valid YAML: " + ye.GetMessage(), Err: perr}
			if tok := ye.GetToken(); tok != nil && tok.Position != nil {
				le.Line = tok.Position.Line
			}
			return root, le
		}
		msg, _, _ := strings.Cut(perr.Error(), "\n")
		return root, &LoadError{File: file, Msg: "not valid YAML: " + msg, Err: perr}
	}
	var docs []ast.Node
	for _, d := range f.Docs {
		if d != nil && d.Body != nil {
			docs = append(docs, d.Body)
		}
	}
	switch len(docs) {
	case 0:
		return root, &LoadError{File: file, Line: 1, Msg: "the mapping file is empty",
			Hint: "write users: and groups: sections (docs/mapping.md), or leave --mapping out for Metric Insights' default"}
	case 1:
	default:
		return root, &LoadError{File: file, Msg: fmt.Sprintf("want one YAML document, found %d", len(docs)),
			Hint: "a mapping file is one document with users: and groups:"}
	}
	return yamlNode(docs[0], file, 0)
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

func yamlNode(n ast.Node, file string, depth int) (node, error) {
	out := node{line: lineOf(n)}
	if depth > maxDepth {
		return out, &LoadError{File: file, Line: out.line, Msg: "YAML nested too deeply"}
	}
	switch v := n.(type) {
	case nil, *ast.NullNode:
		out.kind = kNull
	case *ast.StringNode:
		out.kind, out.text = kString, v.Value
	case *ast.LiteralNode:
		out.kind = kString
		if v.Value != nil {
			out.text = v.Value.Value
		}
	case *ast.IntegerNode, *ast.FloatNode, *ast.InfinityNode, *ast.NanNode:
		out.kind, out.text = kNumber, n.GetToken().Value
	case *ast.BoolNode:
		out.kind, out.b, out.text = kBool, v.Value, n.GetToken().Value
	case *ast.TagNode:
		inner, err := yamlNode(v.Value, file, depth+1)
		if err != nil {
			return out, err
		}
		if n.GetToken().Value == "!!str" && inner.kind != kList && inner.kind != kMap {
			inner.kind = kString
		}
		return inner, nil
	case *ast.AnchorNode:
		return yamlNode(v.Value, file, depth+1)
	case *ast.AliasNode:
		return out, &LoadError{File: file, Line: out.line, Msg: "YAML aliases (*name) are not supported in a mapping file",
			Hint: "write the values out in full"}
	case *ast.SequenceNode:
		out.kind = kList
		for _, it := range v.Values {
			c, err := yamlNode(it, file, depth+1)
			if err != nil {
				return out, err
			}
			if c.line == 0 {
				c.line = out.line
			}
			out.items = append(out.items, c)
		}
	case *ast.MappingNode:
		out.kind = kMap
		for _, mv := range v.Values {
			if err := yamlPair(&out, mv, file, depth); err != nil {
				return out, err
			}
		}
	case *ast.MappingValueNode:
		out.kind = kMap
		if err := yamlPair(&out, v, file, depth); err != nil {
			return out, err
		}
	default:
		return out, &LoadError{File: file, Line: out.line, Msg: fmt.Sprintf("unsupported YAML construct (%s)", n.Type())}
	}
	return out, nil
}

func yamlPair(out *node, mv *ast.MappingValueNode, file string, depth int) error {
	if out.line == 0 {
		out.line = lineOf(mv.Key)
	}
	var key string
	switch k := mv.Key.(type) {
	case *ast.StringNode:
		key = k.Value
	case *ast.MergeKeyNode:
		return &LoadError{File: file, Line: lineOf(mv.Key), Msg: "YAML merge keys (<<) are not supported in a mapping file", Hint: "write the values out in full"}
	case ast.ScalarNode:
		key = k.GetToken().Value
	default:
		return &LoadError{File: file, Line: lineOf(mv.Key), Msg: "a mapping key must be a plain name"}
	}
	for _, k := range out.keys {
		if k == key {
			return &LoadError{File: file, Line: lineOf(mv.Key), Msg: fmt.Sprintf("the key %q is given twice", key)}
		}
	}
	c, err := yamlNode(mv.Value, file, depth+1)
	if err != nil {
		return err
	}
	if c.line == 0 {
		c.line = lineOf(mv.Key)
	}
	out.keys = append(out.keys, key)
	out.vals = append(out.vals, c)
	return nil
}
