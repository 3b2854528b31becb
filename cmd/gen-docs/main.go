// Command gen-docs writes miscim's generated files: the command reference
// (docs/cli/*.md and docs/man/*.1) and the shell completion scripts
// (completions/). `make docs completions` runs it; `make check-generated`
// fails when the committed files differ from what it writes.
//
// It lives apart from cmd/miscim so that cobra/doc and go-md2man never ship
// inside the miscim binary.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/cobra/doc"

	"github.com/miscim/miscim/internal/app"
	"github.com/miscim/miscim/internal/config"
	"github.com/miscim/miscim/internal/iostreams"
)

// manDate is printed in the man pages' footer. It is fixed, not today's
// date, so that regenerating the pages changes nothing unless the commands
// changed.
var manDate = time.Date(2026, time.November, 27, 0, 0, 0, 0, time.UTC)

func main() {
	docsDir := flag.String("docs", "docs", "directory for cli/ (Markdown) and man/ (man pages)")
	compDir := flag.String("completions", "completions", "directory for completion scripts")
	flag.Parse()
	if err := run(*docsDir, *compDir); err != nil {
		fmt.Fprintln(os.Stderr, "gen-docs:", err)
		os.Exit(1)
	}
}

func newRoot() *cobra.Command {
	ios, _, _, _ := iostreams.Test()
	// A fixed environment: generated text must not depend on who runs it.
	env := config.Env{Getenv: func(string) string { return "" }, ReadFile: os.ReadFile, HomeDir: "/home/user"}
	cmd := app.NewRoot(app.NewFactory(ios, env))
	cmd.DisableAutoGenTag = true
	return cmd
}

func run(docsDir, compDir string) error {
	cli := filepath.Join(docsDir, "cli")
	man := filepath.Join(docsDir, "man")
	for _, d := range []string{cli, man, compDir} {
		if err := os.RemoveAll(d); err != nil {
			return err
		}
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}
	if err := doc.GenMarkdownTree(newRoot(), cli); err != nil {
		return fmt.Errorf("markdown: %w", err)
	}
	header := &doc.GenManHeader{Title: "MISCIM", Section: "1", Source: "miscim", Manual: "miscim manual", Date: &manDate}
	if err := doc.GenManTree(newRoot(), header, man); err != nil {
		return fmt.Errorf("man pages: %w", err)
	}
	scripts := map[string]func(*cobra.Command, *bytes.Buffer) error{
		"miscim.bash": func(c *cobra.Command, b *bytes.Buffer) error { return c.GenBashCompletionV2(b, true) },
		"_miscim":     func(c *cobra.Command, b *bytes.Buffer) error { return c.GenZshCompletion(b) },
		"miscim.fish": func(c *cobra.Command, b *bytes.Buffer) error { return c.GenFishCompletion(b, true) },
		"miscim.ps1":  func(c *cobra.Command, b *bytes.Buffer) error { return c.GenPowerShellCompletionWithDesc(b) },
	}
	for name, gen := range scripts {
		var b bytes.Buffer
		if err := gen(newRoot(), &b); err != nil {
			return fmt.Errorf("completion %s: %w", name, err)
		}
		if err := os.WriteFile(filepath.Join(compDir, name), b.Bytes(), 0o644); err != nil {
			return err
		}
	}
	return nil
}
