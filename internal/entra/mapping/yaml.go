package mapping

import "github.com/miscim/miscim/internal/yamltree"

// maxDepth bounds nesting: a mapping file is four levels deep.
const maxDepth = 32

var yamlOptions = yamltree.Options{What: "a mapping file", Holds: "users: and groups:", MaxDepth: maxDepth}

// parseYAML reads the one YAML (or JSON) document of a mapping file.
func parseYAML(data []byte, file string) (*yamltree.Node, error) {
	root, err := yamltree.Parse(data, yamlOptions)
	if err != nil {
		ye := err.(*yamltree.Error)
		return nil, &LoadError{File: file, Line: ye.Line, Msg: ye.Msg, Hint: ye.Hint, Err: ye.Err}
	}
	if root == nil {
		return nil, &LoadError{File: file, Line: 1, Msg: "the mapping file is empty",
			Hint: "write users: and groups: sections (docs/mapping.md), or leave --mapping out for Metric Insights' default"}
	}
	return root, nil
}
