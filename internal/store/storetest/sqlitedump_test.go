package storetest

import "testing"

func TestMaskColumn(t *testing.T) {
	in := "== listings (2 rows)\nlisting=\"groups\" version=4 records=1\nlisting=\"users\" version=9 records=3\n== users (1 rows)\nid=\"1\" version=2\n"
	want := "== listings (2 rows)\nlisting=\"groups\" version=* records=1\nlisting=\"users\" version=* records=3\n== users (1 rows)\nid=\"1\" version=2\n"
	if got := MaskColumn(in, "listings", "version"); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	if got := MaskColumn(in, "listings", "records"); got == in || MaskColumn(got, "listings", "version") == MaskColumn(in, "listings", "version") {
		t.Errorf("masking records left records visible:\n%s", got)
	}
}
