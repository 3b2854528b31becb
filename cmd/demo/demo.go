package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/miscim/miscim/internal/entra/tenant/tenantgen"
)

// Options are what run needs.
type Options struct {
	Miscim string    // the miscim binary
	Sample string    // the bundled sample tenant, native snapshot
	Out    io.Writer // the transcript; an *os.File is handed to the commands as their stdout
}

// The users and groups the demo changes, all of them in the app's scope
// after the initial cycle.
const (
	renamed      = "lidia.vance@contoso.com" // Sales
	renamedTo    = "lidia.moreno@contoso.com"
	softDeletedN = "lynne.vance@contoso.com"  // Finance; soft-deleted while N
	restored     = "grady.vance@contoso.com"  // Finance; soft-deleted while N, restored while Y
	softDeletedY = "sakura.vance@contoso.com" // Finance; soft-deleted while Y
	unassigned   = "megan.holloway@contoso.com"
	moved        = "rosa.vance@contoso.com" // Sales → Finance
	deletedGroup = "MI Admins"
	lostScope    = "allan.vance@contoso.com" // in scope only through MI Admins

	// The sample's users that Metric Insights rejects (tenant check says
	// so): the demo fixes them before the initial cycle, which would
	// otherwise escrow them and exit 3.
	noMail1  = "ben.cline@contoso.com"
	noMail2  = "rosa.rossi@contoso.com"
	shortUPN = "max.hohenzollern@research.contoso.com" // for tenantgen.SampleLongUPN
)

// usersFilter selects the users the demo touched, for users list.
var usersFilter = `userName co "vance" or userName co "moreno" or userName eq "` + unassigned + `"`

func run(ctx context.Context, o Options) (err error) {
	bin, err := filepath.Abs(o.Miscim)
	if err != nil {
		return err
	}
	if _, err := os.Stat(bin); err != nil {
		return fmt.Errorf("the miscim binary: %w (make demo builds it)", err)
	}
	sample, err := filepath.Abs(o.Sample)
	if err != nil {
		return err
	}
	sampleBytes, err := checkSample(sample)
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "miscim-demo-")
	if err != nil {
		return err
	}
	defer func() {
		if rmErr := os.RemoveAll(dir); rmErr != nil && err == nil {
			err = rmErr
		}
	}()
	s := newSession(ctx, bin, dir, o.Out)

	s.printf("miscim demo: Microsoft Entra's provisioning of the bundled sample tenant into a Metric\n" +
		"Insights stand-in (miscim serve), simulated by miscim simulate. Every command runs for real\n" +
		"and is followed by its own output; in a shell, the lines after $ do the same.\n")
	s.heading("Set-up: a temporary directory, the sample tenant, a server")
	s.shown("export PATH=" + shellQuote(filepath.Dir(bin)) + ":$PATH")
	s.shown("cd " + shellQuote(dir))
	s.shown("cp " + shellQuote(sample) + " tenant.yaml")
	if err := os.WriteFile(filepath.Join(dir, "tenant.yaml"), sampleBytes, 0o644); err != nil {
		return err
	}
	s.explain("An Admin user's API token: what Entra's Secret Token field holds.")
	if err := s.run(step{args: []string{"tokens", "create", "--db", "miscim.db", "--user", "admin@contoso.com", "--role", "admin"}, to: "token"}); err != nil {
		return err
	}
	s.explain("The embedded engine over HTTP on a free port: the Metric Insights /scim/v2 endpoint Entra is pointed at.")
	srv, url, err := s.serve("serve", "--db", "miscim.db", "--addr", "127.0.0.1:0", "--ready-file", "ready", "--quiet", "--log-dir", "scim-log")
	defer func() {
		if stopErr := srv.stop(); stopErr != nil && err == nil {
			err = stopErr
		}
	}()
	if err != nil {
		return err
	}
	s.setenv("MISCIM_URL", url, "MISCIM_TOKEN_FILE", "token")
	s.explain("Entra's Test Connection: a user and a group that cannot exist must come back as empty lists.")
	if err := s.run(step{args: []string{"test-connection", "--entra-only"}}); err != nil {
		return err
	}

	tn := tenantgen.Sample()
	edit := func(intro string, changes ...change) error {
		s.explain(intro)
		s.shown("$EDITOR tenant.yaml")
		for _, c := range changes {
			if err := c.apply(tn); err != nil {
				return err
			}
			s.printf("  %s\n", c.what)
		}
		return writeTenant(filepath.Join(dir, "tenant.yaml"), tn)
	}
	simulate := step{args: []string{"simulate", "--tenant", "tenant.yaml", "--state", "simulate.db"}}
	logs := step{args: []string{"logs", "--state", "simulate.db", "--cycle", "latest"}}

	s.heading("The initial cycle")
	if err := edit("Three sample users Metric Insights would reject (see miscim tenant check) are fixed in Entra first:",
		giveMail(noMail1), giveMail(noMail2), renameUPN(tenantgen.SampleLongUPN, shortUPN)); err != nil {
		return err
	}
	s.explain("The probe, each assigned user and group matched by filter and created, then the members added one PATCH each.")
	if err := s.run(simulate); err != nil {
		return err
	}

	s.heading("Incremental cycle 1, SCIM_REMOVE_USER_ON_SOFT_DELETE=N")
	s.explain("Metric Insights' soft-delete mode: N, the default, disables a soft-deleted user and prefixes its MI username.")
	if err := s.run(step{args: []string{"vars", "get", "SCIM_REMOVE_USER_ON_SOFT_DELETE"}}); err != nil {
		return err
	}
	if err := edit("Changes in Entra (the demo edits its copy of the tenant to match):",
		rename(renamed, "Lidia", "Moreno"),
		softDelete(softDeletedN, ""), softDelete(restored, " (restored in the next cycle)"),
		unassign(unassigned),
		moveMember(moved, "Sales", "Finance"),
		deleteGroup(deletedGroup, ", with its assignment: "+lostScope+" was in scope only through it")); err != nil {
		return err
	}
	s.explain("Only what changed is evaluated; each soft delete PATCHes the tombstone userName with active, the group's DELETE comes last.")
	if err := s.run(simulate); err != nil {
		return err
	}
	s.explain("That cycle's provisioning logs, one record per object, as the portal lists them.")
	if err := s.run(logs); err != nil {
		return err
	}

	s.heading("Incremental cycle 2, SCIM_REMOVE_USER_ON_SOFT_DELETE=Y")
	s.explain("With Y, Metric Insights deletes a soft-deleted user instead: a second cycle, so that each mode has its soft delete.")
	if err := s.run(step{args: []string{"vars", "set", "SCIM_REMOVE_USER_ON_SOFT_DELETE", "Y"}}); err != nil {
		return err
	}
	if err := edit("Changes in Entra:", softDelete(softDeletedY, ""), restore(restored)); err != nil {
		return err
	}
	s.explain("The same soft-delete PATCH now deletes the user; the restore PATCHes userName and active back on the same id.")
	if err := s.run(simulate); err != nil {
		return err
	}
	s.explain("That cycle's provisioning logs.")
	if err := s.run(logs); err != nil {
		return err
	}

	s.heading("The result in Metric Insights")
	s.explain("Lidia renamed; Sakura gone (Y); Lynne disabled, MI username prefixed scim-deleted- (N); Grady active again; Megan, Allan disabled.")
	if err := s.run(step{args: []string{"users", "list", "--filter", usersFilter}}); err != nil {
		return err
	}
	s.explain("The groups Entra created for the assigned groups, " + deletedGroup + " deleted.")
	if err := s.run(step{args: []string{"groups", "list"}}); err != nil {
		return err
	}

	s.heading("Clean-up")
	s.shown("kill -INT %1")
	if err := srv.stop(); err != nil {
		return err
	}
	s.flush(srv)
	s.shown("cd - && rm -r " + shellQuote(dir))
	return nil
}
