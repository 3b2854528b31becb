package cmdutil

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/miscim/miscim/internal/client"
	"github.com/miscim/miscim/internal/scim"
)

// Reading SCIM resources for commands: paging with a limit, the exit code of
// a rejected --filter, id-or-name arguments and name completion. users,
// groups and later commands share them.

// completionTimeout bounds shell completion: a slow or unreachable target
// must not freeze the user's shell.
const completionTimeout = 2 * time.Second

// completionLimit caps the names offered; completion narrows by prefix
// first, so this only matters for a very short prefix.
const completionLimit = 200

// errStop ends a ListAll walk once the limit is reached.
var errStop = errors.New("limit reached")

// Collect pages through a resource (client.Users, client.Groups) as the
// target pages best (client.ListAll: by cursor when it offers them, in
// pages of its maxResults), stopping after limit resources (0: all).
func Collect(ctx context.Context, c *client.Client, resource string, p client.ListParams, limit int, fn func(scim.Resource)) error {
	size := 0 // the target's largest page
	if limit > 0 {
		size = limit // do not fetch 1000 users to show 5
	}
	n := 0
	err := c.ListAll(ctx, resource, p, size, func(r scim.Resource) error {
		fn(r)
		if n++; limit > 0 && n >= limit {
			return errStop
		}
		return nil
	})
	if errors.Is(err, errStop) {
		return nil
	}
	return err
}

// FilterError turns the target's rejection of a --filter (400, normally
// scimType invalidFilter) into an input error (exit 2) carrying the
// server's own detail. A 400 without a filter is not the user's doing and
// passes through.
func FilterError(err error, filter string) error {
	var se *scim.Error
	if filter == "" || !errors.As(err, &se) || se.Status != 400 {
		return err
	}
	return &InputError{
		Err:   fmt.Errorf("the target rejected the filter %q: %s", filter, se.Detail),
		Hints: []string{`SCIM filters look like: userName eq "alice@example.com", userName sw "a" and active eq true`},
	}
}

// IDArg is ExactArgs(1) that also refuses an empty argument, which would
// turn GET /Users/{id} into a list of everyone.
func IDArg(what string) cobra.PositionalArgs {
	exact := ExactArgs(1, what)
	return func(cmd *cobra.Command, args []string) error {
		if err := exact(cmd, args); err != nil {
			return err
		}
		if strings.TrimSpace(args[0]) == "" {
			return FlagErrorf("%s: the argument is empty; expected %s", cmd.CommandPath(), what)
		}
		return nil
	}
}

// CompleteNames returns a completion function offering the values of attr
// (userName, displayName) of a resource, each with its id as description,
// narrowed by the typed prefix. It reads with a 2-second timeout: a slow
// or unreachable target must not freeze the shell, and completion never
// fails loudly, so every error yields no suggestions.
func CompleteNames(f *Factory, resource, attr string) cobra.CompletionFunc {
	return func(cmd *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
		if len(args) > 0 {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		ctx := cmd.Context()
		if ctx == nil {
			ctx = context.Background()
		}
		ctx, cancel := context.WithTimeout(ctx, completionTimeout)
		defer cancel()
		var out []cobra.Completion
		_ = f.WithClient(ctx, func(c *client.Client) error {
			out = Names(ctx, c, resource, attr, toComplete)
			return nil
		})
		return out, cobra.ShellCompDirectiveNoFileComp
	}
}

// Names lists up to 200 values of attr starting with prefix (any case),
// each with the resource's id as description. Only attr is asked for, so
// groups are read without members. A target that rejects "sw" is asked
// for everything and the prefix applied here.
func Names(ctx context.Context, c *client.Client, resource, attr, prefix string) []cobra.Completion {
	var out []cobra.Completion
	add := func(r scim.Resource) {
		if n := scim.GetString(r, attr); n != "" && strings.HasPrefix(strings.ToLower(n), strings.ToLower(prefix)) {
			out = append(out, cobra.CompletionWithDesc(n, scim.GetString(r, "id")))
		}
	}
	p := client.ListParams{Attributes: []string{attr}}
	if prefix != "" {
		p.Filter = attr + " sw " + scim.QuoteString(prefix)
	}
	if err := Collect(ctx, c, resource, p, completionLimit, add); err != nil && prefix != "" {
		// Here the limit counts matches, not users read; the 2-second
		// deadline bounds the walk.
		out = nil
		p.Filter = ""
		_ = c.ListAll(ctx, resource, p, 0, func(r scim.Resource) error {
			if add(r); len(out) >= completionLimit {
				return errStop
			}
			return nil
		})
	}
	return out
}
