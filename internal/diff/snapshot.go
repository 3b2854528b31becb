package diff

import (
	"context"
	"errors"
	"fmt"
	esync "github.com/miscim/miscim/internal/entra/sync"
	"slices"
	"strings"
	gosync "sync"

	"github.com/miscim/miscim/internal/client"
	"github.com/miscim/miscim/internal/engine"
	"github.com/miscim/miscim/internal/entra/mapping"
	"github.com/miscim/miscim/internal/scim"
)

// Object is one target object as diff keeps it: what pairing and
// comparison read, not the whole resource (a target of 100,000 users is
// held in a few tens of megabytes).
type Object struct {
	Kind mapping.ObjectKind
	ID   string
	// Name is the userName or displayName. For a user the target shows
	// disabled with Metric Insights' soft-delete prefix in its userName
	// (scim-deleted-<first 8 characters of id>-, DESIGN §3.3), the prefix
	// is taken off: SCIM keeps the original userName, and Entra matches
	// it again on re-assignment.
	Name string
	// Prefixed reports that the target's userName carried the prefix.
	Prefixed bool
	// MIName is Metric Insights' username, from the miscim extension's
	// miUsername ("" when the target has no such extension): the
	// userName, prefixed while the user is soft-deleted.
	MIName     string
	ExternalID string
	// Active is a user's active; a target that leaves it out is read as
	// active.
	Active bool
	// Source is the miscim extension's source: "scim" for a user created
	// through SCIM, "local" for one created in Metric Insights (a token's
	// owner); "" when the target does not say.
	Source string
	// Values are the target's values of the compared attributes
	// (Snapshot.Attributes), in the mapping's order; nil where it holds
	// none.
	Values []any
	// Members are a group's member ids, in the target's order.
	Members []string
	// Resource is the resource as read, kept only for the objects
	// ReadOptions.Keep selects.
	Resource scim.Resource
}

// Snapshot is a target's users, groups and memberships as Read found them.
type Snapshot struct {
	// Name names the target in reports: "embedded" or its URL.
	Name   string
	Users  []*Object
	Groups []*Object
	// MembersRead: the groups' members were read.
	MembersRead bool

	users, groups *attrSet
}

// Attributes are the compared attributes of one kind: Object.Values[i]
// is the target's value of Attributes(kind)[i].
func (s *Snapshot) Attributes(k mapping.ObjectKind) []*mapping.Attribute {
	return s.set(k).attrs
}

func (s *Snapshot) set(k mapping.ObjectKind) *attrSet {
	if k == mapping.Groups {
		return s.groups
	}
	return s.users
}

// attrSet is the compared attributes of one kind with their parsed paths.
type attrSet struct {
	attrs []*mapping.Attribute
	paths []scim.AttrPath
	index map[string]int // canonical target path → position
}

// comparedAttributes are every attribute mapping of om but members, which
// are compared as memberships.
func comparedAttributes(om *mapping.ObjectMapping) *attrSet {
	s := &attrSet{index: map[string]int{}}
	for _, a := range om.Attributes {
		if a.IsMembers() {
			continue
		}
		p, err := scim.ParsePath(a.Target)
		if err != nil {
			// Mappings are validated at load; an unparsable path can only
			// be an attribute of the top level.
			p = scim.AttrPath{Name: a.Target}
		}
		s.index[canonical(a.Target)] = len(s.attrs)
		s.attrs = append(s.attrs, a)
		s.paths = append(s.paths, p)
	}
	return s
}

// position is where the attribute mapped to target is, -1 when the
// mapping has none.
func (s *attrSet) position(target string) int {
	if i, ok := s.index[canonical(target)]; ok {
		return i
	}
	return -1
}

func canonical(target string) string {
	return strings.ToLower(strings.Join(strings.Fields(target), ""))
}

// ReadOptions say what Read reads.
type ReadOptions struct {
	// Mapping decides the compared attributes.
	Mapping *mapping.Mapping
	// Members reads each group's members (false: groups only, for
	// --only users).
	Members bool
	// Users and Groups read the objects of that kind; a kind not read
	// is empty in the snapshot.
	Users, Groups bool
	// Keep selects the objects whose whole resource is kept (--identity).
	Keep func(*Object) bool
	// Concurrency is how many groups' members are read at once (default
	// 4).
	Concurrency int
}

// DefaultConcurrency is how many member reads Read keeps in flight.
const DefaultConcurrency = 4

// noMembers is the projection of group lists: Entra reads groups without
// members too (entra-behavior §3), and a list page of groups with their
// members could be enormous.
var noMembers = []string{"members"}

// Read reads a target's users and groups with paging (client.ListAll: by
// cursor when the target offers it, else startIndex/count, in its largest
// pages), users and groups at the same time, then each group's members
// by id (client.GroupMembers), several groups at once.
func Read(ctx context.Context, c *client.Client, name string, opts ReadOptions) (*Snapshot, error) {
	s := &Snapshot{Name: name, users: comparedAttributes(&opts.Mapping.Users), groups: comparedAttributes(&opts.Mapping.Groups)}
	var wg gosync.WaitGroup
	var userErr, groupErr error
	// Only the attributes compared are asked for: the target encodes and
	// miscim decodes a third of what whole resources hold. Whole
	// resources are read when one is to be shown (Keep).
	users, groups := client.ListParams{}, client.ListParams{ExcludedAttributes: noMembers}
	if opts.Keep == nil {
		users = client.ListParams{Attributes: s.users.projection(mapping.Users)}
		groups = client.ListParams{Attributes: s.groups.projection(mapping.Groups)}
	}
	if opts.Users {
		wg.Add(1)
		go func() {
			defer wg.Done()
			userErr = listAll(ctx, c, client.Users, users, func(r scim.Resource) {
				o := s.users.object(mapping.Users, r)
				if opts.Keep != nil && opts.Keep(o) {
					o.Resource = r
				}
				s.Users = append(s.Users, o)
			}, func() { s.Users = nil })
		}()
	}
	if opts.Groups {
		groupErr = listAll(ctx, c, client.Groups, groups, func(r scim.Resource) {
			o := s.groups.object(mapping.Groups, r)
			if opts.Keep != nil && opts.Keep(o) {
				o.Resource = r
			}
			s.Groups = append(s.Groups, o)
		}, func() { s.Groups = nil })
	}
	wg.Wait()
	if userErr != nil {
		return nil, fmt.Errorf("read the target's users: %w", userErr)
	}
	if groupErr != nil {
		return nil, fmt.Errorf("read the target's groups: %w", groupErr)
	}
	if opts.Groups && opts.Members {
		if err := readMembers(ctx, c, s.Groups, opts.Concurrency); err != nil {
			return nil, err
		}
		s.MembersRead = true
	}
	return s, nil
}

// listAll pages through a resource. A target that rejects the
// projection (400 on the first page) is read again without it: whole
// resources hold the same values.
func listAll(ctx context.Context, c *client.Client, resource string, p client.ListParams, fn func(scim.Resource), reset func()) error {
	n := 0
	err := c.ListAll(ctx, resource, p, 0, func(r scim.Resource) error { n++; fn(r); return nil })
	var se *scim.Error
	if err != nil && n == 0 && len(p.Attributes) > 0 && errors.As(err, &se) && se.Status == 400 {
		reset()
		p.Attributes = nil
		if resource == client.Groups {
			p.ExcludedAttributes = noMembers
		}
		return c.ListAll(ctx, resource, p, 0, func(r scim.Resource) error { fn(r); return nil })
	}
	return err
}

// projection is the attributes parameter that returns what an Object
// reads (RFC 7644 §3.4.2.5; id is always returned): the compared
// attributes (their top-level attribute: name, emails), the names and
// externalId, a user's active and the miscim extension.
func (s *attrSet) projection(k mapping.ObjectKind) []string {
	out := []string{"externalId"}
	if k == mapping.Groups {
		out = append(out, "displayName")
	} else {
		out = append(out, "userName", "active", scim.MiscimUserSchema)
	}
	for _, p := range s.paths {
		name := p.Name
		if p.URI != "" {
			name = p.URI + ":" + p.Name
		}
		if !slices.ContainsFunc(out, func(o string) bool { return strings.EqualFold(o, name) }) {
			out = append(out, name)
		}
	}
	return out
}

// readMembers reads every group's members, n groups at once.
func readMembers(ctx context.Context, c *client.Client, groups []*Object, n int) error {
	if n <= 0 {
		n = DefaultConcurrency
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	next := make(chan *Object)
	var once gosync.Once
	var first error
	var wg gosync.WaitGroup
	for range min(n, max(len(groups), 1)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for g := range next {
				ms, err := c.GroupMembers(ctx, g.ID)
				if err != nil {
					once.Do(func() { first = fmt.Errorf("read the members of group %s (%s): %w", g.Name, g.ID, err); cancel() })
					continue
				}
				ids := make([]string, len(ms))
				for i, m := range ms {
					ids[i] = m.Value
				}
				g.Members = ids
			}
		}()
	}
	for _, g := range groups {
		if ctx.Err() != nil {
			break
		}
		next <- g
	}
	close(next)
	wg.Wait()
	return first
}

// object reduces a resource to an Object.
func (s *attrSet) object(k mapping.ObjectKind, r scim.Resource) *Object {
	o := &Object{Kind: k, ID: scim.GetString(r, "id"), ExternalID: scim.GetString(r, "externalId"), Active: true}
	if k == mapping.Groups {
		o.Name = scim.GetString(r, "displayName")
	} else {
		o.Name = scim.GetString(r, "userName")
		if v, _, ok := scim.Get(r, "active"); ok {
			if b, ok := scim.ParseBool(v); ok {
				o.Active = b
			}
		}
		if ext, _ := findMember(r, scim.MiscimUserSchema).(map[string]any); ext != nil {
			o.MIName = scim.GetString(ext, "miUsername")
			o.Source = scim.GetString(ext, "source")
		}
		if !o.Active {
			o.Name, o.Prefixed = withoutSoftDeletePrefix(o.Name, o.ID)
		}
	}
	o.Values = make([]any, len(s.paths))
	for i, p := range s.paths {
		v := esync.TargetValue(r, p)
		if i == s.position("userName") && o.Prefixed {
			v = o.Name
		}
		o.Values[i] = v
	}
	return o
}

// withoutSoftDeletePrefix takes Metric Insights' soft-delete prefix off a
// disabled user's name, when the target shows it there.
func withoutSoftDeletePrefix(name, id string) (string, bool) {
	p := engine.SoftDeletePrefix(id)
	if len(name) > len(p) && strings.EqualFold(name[:len(p)], p) {
		return name[len(p):], true
	}
	return name, false
}

// findMember is scim.Get's value alone.
func findMember(m map[string]any, key string) any {
	v, _, _ := scim.Get(m, key)
	return v
}
