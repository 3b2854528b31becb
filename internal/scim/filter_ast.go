package scim

// This file declares the filter and attribute-path syntax tree shared by the
// filter parser (filter_parse.go), the evaluator (filter_eval.go) and the
// PATCH applier (patch.go).

// AttrPath is an attribute path as RFC 7644 §3.4.2.2 (attrPath, valuePath)
// and §3.5.2 (PATCH "path") define it:
//
//	[URI ":"] name ["[" valFilter "]"] ["." subAttr]
//
// Examples: `userName`, `name.givenName`, `emails[type eq "work"].value`,
// `members[value eq "42"]`,
// `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber`.
type AttrPath struct {
	URI         string // schema URN, "" when the path is not qualified
	Name        string // top-level attribute name, as written
	ValueFilter Expr   // the bracketed filter of a value path, nil otherwise
	SubAttr     string // sub-attribute name, "" when none
}

// Expr is a node of a parsed filter.
type Expr interface {
	// String renders the node back to filter syntax that parses to an
	// equal tree.
	String() string
	isExpr()
}

// LogicalOp is "and" or "or".
type LogicalOp string

// Logical operators.
const (
	And LogicalOp = "and"
	Or  LogicalOp = "or"
)

// CompareOp is a comparison operator of RFC 7644 §3.4.2.2, Table 3.
type CompareOp string

// Comparison operators.
const (
	OpEq CompareOp = "eq"
	OpNe CompareOp = "ne"
	OpCo CompareOp = "co"
	OpSw CompareOp = "sw"
	OpEw CompareOp = "ew"
	OpGt CompareOp = "gt"
	OpGe CompareOp = "ge"
	OpLt CompareOp = "lt"
	OpLe CompareOp = "le"
)

// LogicalExpr is `Left and Right` or `Left or Right`.
type LogicalExpr struct {
	Op          LogicalOp
	Left, Right Expr
}

// NotExpr is `not (X)`.
type NotExpr struct{ X Expr }

// CompareExpr is `Path op Value`. Value is a string, float64, bool or nil
// (null). A bare unquoted word that is not true, false, null or a number is
// taken as a string, as Microsoft's reference server and tests allow
// (`userName sw O`).
type CompareExpr struct {
	Path  AttrPath
	Op    CompareOp
	Value any
}

// PresentExpr is `Path pr`.
type PresentExpr struct{ Path AttrPath }

// ValuePathExpr is a value path used as a whole filter, `emails[type eq
// "work"]`: true when some element of the multi-valued attribute matches
// Path.ValueFilter. Path.SubAttr is always empty.
type ValuePathExpr struct{ Path AttrPath }

func (*LogicalExpr) isExpr()   {}
func (*NotExpr) isExpr()       {}
func (*CompareExpr) isExpr()   {}
func (*PresentExpr) isExpr()   {}
func (*ValuePathExpr) isExpr() {}
