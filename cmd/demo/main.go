// Command demo shows miscim doing its main job on a fresh machine: it
// serves the embedded engine over HTTP as a stand-in for Metric Insights,
// runs Entra's initial provisioning cycle of the bundled sample tenant
// against it with `miscim simulate`, changes the tenant the way an Entra
// admin would (a rename, soft deletes in both SCIM_REMOVE_USER_ON_SOFT_DELETE
// modes, a restore, an unassignment, a membership change, a group
// deletion), runs the incremental cycles, and reads the result back with
// `miscim logs`, `users list` and `groups list`. It drives the real binary
// only: every line of output after a command is what that command printed.
// `make demo` runs it.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	miscim := flag.String("miscim", "bin/miscim", "the miscim binary to run")
	sample := flag.String("sample", "docs/examples/tenant/native/tenant.yaml", "the bundled sample tenant (native snapshot)")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, Options{Miscim: *miscim, Sample: *sample, Out: os.Stdout})
	stop()
	switch {
	case err == nil:
	case errors.Is(err, context.Canceled):
		fmt.Fprintln(os.Stderr, "demo: interrupted")
		os.Exit(130)
	default:
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
}
