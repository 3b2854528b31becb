package main

import (
	"bytes"
	"context"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

const sampleFile = "../../docs/examples/tenant/native/tenant.yaml"

// buildMiscim builds the real binary the demo drives.
func buildMiscim(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds miscim and runs the whole demo")
	}
	bin := filepath.Join(t.TempDir(), "miscim")
	if out, err := exec.Command("go", "build", "-o", bin, "github.com/miscim/miscim/cmd/miscim").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	return bin
}

// transcript is the demo's output cut into each miscim command and what
// it printed.
type transcript []entry

type entry struct{ cmd, out string }

func parse(out string) transcript {
	var tr transcript
	capturing := false
	for _, line := range strings.Split(out, "\n") {
		if cmd, ok := strings.CutPrefix(line, "$ miscim "); ok {
			tr, capturing = append(tr, entry{cmd: cmd}), true
			continue
		}
		if strings.HasPrefix(line, "$ ") || strings.HasPrefix(line, "# ") || strings.HasPrefix(line, "== ") || line == "" {
			capturing = false
			continue
		}
		if capturing {
			tr[len(tr)-1].out += line + "\n"
		}
	}
	return tr
}

// outputs returns the outputs of the commands that start with prefix.
func (tr transcript) outputs(prefix string) []string {
	var out []string
	for _, c := range tr {
		if strings.HasPrefix(c.cmd, prefix) {
			out = append(out, c.out)
		}
	}
	return out
}

// rows splits piped table output into its tab-separated fields.
func rows(out string) [][]string {
	var rs [][]string
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if strings.Contains(line, "\t") {
			rs = append(rs, strings.Split(line, "\t"))
		}
	}
	return rs
}

func tempDir(t *testing.T, out string) string {
	t.Helper()
	for _, line := range strings.Split(out, "\n") {
		if d, ok := strings.CutPrefix(line, "$ cd "); ok && !strings.HasPrefix(d, "-") {
			return d
		}
	}
	t.Fatal("no cd line in the transcript")
	return ""
}

func serverURL(t *testing.T, out string) *url.URL {
	t.Helper()
	for _, line := range strings.Split(out, "\n") {
		if rest, ok := strings.CutPrefix(line, "$ export MISCIM_URL="); ok {
			u, err := url.Parse(strings.Fields(rest)[0])
			if err != nil {
				t.Fatal(err)
			}
			return u
		}
	}
	t.Fatal("no MISCIM_URL in the transcript")
	return nil
}

// assertCleanedUp checks that the demo left nothing behind: its directory
// is gone and its server no longer listens.
func assertCleanedUp(t *testing.T, out string) {
	t.Helper()
	if _, err := os.Stat(tempDir(t, out)); !os.IsNotExist(err) {
		t.Errorf("the demo's directory is still there: %v", err)
	}
	if c, err := net.DialTimeout("tcp", serverURL(t, out).Host, time.Second); err == nil {
		c.Close()
		t.Errorf("miscim serve still listens on %s", serverURL(t, out).Host)
	}
}

// TestDemo runs the demo against the real binary and checks what a reader
// is told to notice: every cycle succeeds, the logs record each scripted
// change, and Metric Insights ends up with the renamed user, the Y-mode
// soft-deleted user gone, the N-mode one disabled with MI's prefix, the
// restored one active again, the unassigned users disabled and the deleted
// group gone.
func TestDemo(t *testing.T) {
	bin := buildMiscim(t)
	var buf bytes.Buffer
	if err := run(context.Background(), Options{Miscim: bin, Sample: sampleFile, Out: &buf}); err != nil {
		t.Fatalf("demo: %v\n%s", err, buf.String())
	}
	out := buf.String()
	tr := parse(out)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("transcript:\n%s", out)
		}
	})
	assertCleanedUp(t, out)

	sims := tr.outputs("simulate ")
	if len(sims) != 3 {
		t.Fatalf("%d simulate runs, want 3", len(sims))
	}
	for i, want := range []string{"initial cycle 1 ", "incremental cycle 2 ", "incremental cycle 3 "} {
		if !strings.HasPrefix(sims[i], want) {
			t.Errorf("simulate run %d: %q, want it to start with %q", i+1, firstLine(sims[i]), want)
		}
		for _, r := range rows(sims[i]) {
			if r[0] == "Total" && (len(r) < 3 || r[2] != "0") {
				t.Errorf("simulate run %d: failures %v", i+1, r)
			}
		}
	}

	logs := tr.outputs("logs ")
	if len(logs) != 2 {
		t.Fatalf("%d logs runs, want 2", len(logs))
	}
	for i, want := range [][]string{
		{"Update User " + renamedTo, "Disable User " + softDeletedN, "Disable User " + restored, "Disable User " + unassigned,
			"Disable User " + lostScope, "Update Group Sales", "Update Group Finance", "Delete Group " + deletedGroup},
		{"Disable User " + softDeletedY, "Update User " + restored},
	} {
		var got []string
		for _, r := range rows(logs[i]) {
			if r[2] != "Success" {
				t.Errorf("cycle %d: %v", i+2, r)
			}
			got = append(got, r[1]+" "+r[3]+" "+r[4])
		}
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("logs of cycle %d:\n got %q\nwant %q", i+2, got, want)
		}
	}

	users := tr.outputs("users list ")
	if len(users) != 1 {
		t.Fatalf("%d users list runs, want 1", len(users))
	}
	// Piped: userName, active, MI username, type, auth, source, email, id.
	byName := map[string][]string{}
	for _, r := range rows(users[0]) {
		byName[r[0]] = r
	}
	expect := func(userName, active, miUsernamePrefix string) {
		t.Helper()
		r, ok := byName[userName]
		if !ok {
			t.Errorf("users list has no %s", userName)
			return
		}
		if r[1] != active || !strings.HasPrefix(r[2], miUsernamePrefix) {
			t.Errorf("%s: %s, MI username %s; want %s, MI username %s…", userName, r[1], r[2], active, miUsernamePrefix)
		}
	}
	expect(renamedTo, "enabled", renamedTo)
	expect(restored, "enabled", restored)
	expect(moved, "enabled", moved)
	expect(unassigned, "disabled", "scim-deleted-")
	expect(lostScope, "disabled", "scim-deleted-")
	var lynne []string
	for name, r := range byName {
		switch {
		case strings.Contains(name, "sakura.vance"):
			t.Errorf("the user soft-deleted while SCIM_REMOVE_USER_ON_SOFT_DELETE=Y is still there: %v", r)
		case strings.Contains(name, "lidia.vance"):
			t.Errorf("the renamed user is still there under its old name: %v", r)
		case strings.HasSuffix(name, softDeletedN):
			lynne = r
		}
	}
	// Entra renamed the soft-deleted user to its tombstone UPN; Metric
	// Insights disabled it and prefixed its own username.
	if lynne == nil || lynne[1] != "disabled" || !strings.HasPrefix(lynne[2], "scim-deleted-") || lynne[0] == softDeletedN {
		t.Errorf("the user soft-deleted while SCIM_REMOVE_USER_ON_SOFT_DELETE=N: %v, want disabled with the tombstone userName and MI's prefix", lynne)
	}

	groups := tr.outputs("groups list")
	if len(groups) != 1 {
		t.Fatalf("%d groups list runs, want 1", len(groups))
	}
	var names []string
	for _, r := range rows(groups[0]) {
		names = append(names, r[0])
	}
	slices.Sort(names)
	if want := []string{"Contractors", "Finance", "MI Analysts", "MI Power Users", "Sales"}; !slices.Equal(names, want) {
		t.Errorf("groups %q, want %q", names, want)
	}
}

// TestDemoFailsOnAFailingStep runs the demo with simulate made to stage
// its deletes (exit 3): the demo must stop with an error naming the step,
// and still stop the server and remove its directory.
func TestDemoFailsOnAFailingStep(t *testing.T) {
	bin := buildMiscim(t)
	wrapper := filepath.Join(t.TempDir(), "miscim")
	script := "#!/bin/sh\nif [ \"$1\" = simulate ]; then exec " + bin + " \"$@\" --delete-threshold 1; fi\nexec " + bin + " \"$@\"\n"
	if err := os.WriteFile(wrapper, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	err := run(context.Background(), Options{Miscim: wrapper, Sample: sampleFile, Out: &buf})
	if err == nil || !strings.Contains(err.Error(), "simulate --tenant tenant.yaml --state simulate.db: exit code 3") {
		t.Fatalf("demo: %v, want simulate's exit code 3\n%s", err, buf.String())
	}
	if strings.Contains(buf.String(), "incremental cycle 3") {
		t.Errorf("the demo went on after the failing step:\n%s", buf.String())
	}
	assertCleanedUp(t, buf.String())
}

// TestDemoRefusesAStaleSample: the demo rewrites the tenant from
// tenantgen.Sample, so a sample file that differs is refused up front.
func TestDemoRefusesAStaleSample(t *testing.T) {
	stale := filepath.Join(t.TempDir(), "tenant.yaml")
	b, err := os.ReadFile(sampleFile)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(stale, bytes.Replace(b, []byte("adele.vance@contoso.com"), []byte("adele.smith@contoso.com"), 1), 0o644); err != nil {
		t.Fatal(err)
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	err = run(context.Background(), Options{Miscim: self, Sample: stale, Out: &buf})
	if err == nil || !strings.Contains(err.Error(), "run make docs") {
		t.Fatalf("demo: %v, want the stale sample refused", err)
	}
	if buf.Len() != 0 {
		t.Errorf("output before the refusal:\n%s", buf.String())
	}
}

func firstLine(s string) string { line, _, _ := strings.Cut(s, "\n"); return line }
