package diff

import (
	"testing"
)

func TestShow(t *testing.T) {
	for v, want := range map[any]string{nil: "(none)", "a&b<c>": `"a&b<c>"`, true: "true", "1": `"1"`} {
		if got := Show(v); got != want {
			t.Errorf("Show(%v) = %s, want %s", v, got, want)
		}
	}
}
