package render

import (
	"strings"

	"github.com/miscim/miscim/internal/iostreams"
)

// TreeNode is one line of a tree and the lines under it.
type TreeNode struct {
	Label string
	// Muted renders the line dimmed (what did not run); Failed in the
	// error style.
	Muted, Failed bool
	Children      []*TreeNode
}

// WriteTree prints a tree with box-drawing guides, the root first. The
// guides are plain text, so piped output is the same without styling.
func WriteTree(ios *iostreams.IOStreams, root *TreeNode) error {
	th := NewTheme(ios)
	var b strings.Builder
	var walk func(n *TreeNode, prefix, guide string)
	walk = func(n *TreeNode, prefix, guide string) {
		label := strings.NewReplacer("\n", " ", "\r", " ", "\t", " ").Replace(n.Label)
		switch {
		case n.Failed:
			label = th.Err.Render(label)
		case n.Muted:
			label = th.Muted.Render(label)
		}
		b.WriteString(prefix + guide + label + "\n")
		next := prefix
		switch guide {
		case "├─ ":
			next += "│  "
		case "└─ ":
			next += "   "
		}
		for i, c := range n.Children {
			g := "├─ "
			if i == len(n.Children)-1 {
				g = "└─ "
			}
			walk(c, next, g)
		}
	}
	walk(root, "", "")
	_, err := ios.Out.Write([]byte(b.String()))
	return err
}
