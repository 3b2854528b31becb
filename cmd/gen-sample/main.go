// Command gen-sample writes the bundled sample tenant
// (internal/entra/tenant/tenantgen.Sample) in its three formats under
// -out: native/tenant.yaml, graph/ (a Microsoft Graph export directory)
// and csv/ (the admin center's downloads). make docs runs it; make
// check-generated runs it into a temporary directory and compares.
//
//	go run ./cmd/gen-sample -out docs/examples/tenant
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/miscim/miscim/internal/entra/tenant/tenantgen"
)

// sampleDate is the date in the CSV download names, fixed so the files
// do not change from one run to the next.
const sampleDate = "2026-1-15"

func main() {
	out := flag.String("out", "docs/examples/tenant", "directory to write native/, graph/ and csv/ under")
	flag.Parse()
	if err := run(*out); err != nil {
		fmt.Fprintln(os.Stderr, "gen-sample:", err)
		os.Exit(1)
	}
}

func run(out string) error {
	t := tenantgen.Sample()
	for _, sub := range []string{"native", "graph", "csv"} {
		// Rewrite each format from scratch so that no stale page survives.
		if err := os.RemoveAll(filepath.Join(out, sub)); err != nil {
			return err
		}
		if err := os.MkdirAll(filepath.Join(out, sub), 0o755); err != nil {
			return err
		}
	}
	f, err := os.Create(filepath.Join(out, "native", "tenant.yaml"))
	if err != nil {
		return err
	}
	if err := tenantgen.WriteNative(f, t, false); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	// Graph's default page size (100) splits users into several pages.
	if err := tenantgen.WriteGraph(filepath.Join(out, "graph"), t, 100); err != nil {
		return err
	}
	return tenantgen.WriteCSV(filepath.Join(out, "csv"), t, sampleDate)
}
