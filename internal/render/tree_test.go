package render

import (
	"testing"

	"github.com/miscim/miscim/internal/iostreams"
	"github.com/miscim/miscim/internal/testkit"
)

func TestTree(t *testing.T) {
	tree := &TreeNode{Label: "root", Children: []*TreeNode{
		{Label: "a", Children: []*TreeNode{{Label: "a1"}, {Label: "a2\nsplit", Failed: true}}},
		{Label: "b", Muted: true, Children: []*TreeNode{{Label: "b1"}}},
	}}
	ios, _, out, _ := iostreams.Test()
	if err := WriteTree(ios, tree); err != nil {
		t.Fatal(err)
	}
	testkit.Golden(t, "tree", out.Bytes())
}
