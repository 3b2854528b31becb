package engine

import (
	"cmp"
	"context"
	"slices"
	"strings"

	"github.com/miscim/miscim/internal/scim"
	"github.com/miscim/miscim/internal/store"
)

// MaxResults is the largest page a list answers; a larger count is cut to
// it (RFC 7644 §3.4.2.4; advertised as filter.maxResults).
const MaxResults = 1000

// Query holds the parameters of a list request (RFC 7644 §3.4.2).
type Query struct {
	Filter     string
	StartIndex int  // 1-based; values below 1 mean 1
	Count      int  // page size when CountGiven; negative counts as 0
	CountGiven bool // false: MaxResults
	SortBy     string
	SortOrder  string // "ascending" (default) or "descending"
	Projection scim.Projection
	// Cursor paging (RFC 9865): CursorGiven when the request has a cursor
	// parameter, Cursor its value ("" for the first page).
	Cursor      string
	CursorGiven bool
}

func (q Query) window() (start, count int) {
	start = q.StartIndex
	if start < 1 {
		start = 1
	}
	count = MaxResults
	if q.CountGiven {
		count = min(max(q.Count, 0), MaxResults)
	}
	return start, count
}

// indexed fields per resource type: a filter on these never scans
// (DESIGN §3.4).
var userIndex = map[string]store.Field{"id": store.ByID, "username": store.ByUserName, "externalid": store.ByExternalID}
var groupIndex = map[string]store.Field{"id": store.ByID, "displayname": store.ByDisplayName, "externalid": store.ByExternalID}

type lookup struct {
	field  store.Field
	values []string
}

// plan finds index lookups whose results are a superset of what e matches:
// an `attr eq "v"` on an indexed attribute, either side of an "and", or
// both sides of an "or". ok is false when the filter needs a scan.
func plan(e scim.Expr, rs *scim.ResourceSchema, index map[string]store.Field) ([]lookup, bool) {
	switch t := e.(type) {
	case *scim.CompareExpr:
		s, isStr := t.Value.(string)
		f, indexed := index[strings.ToLower(t.Path.Name)]
		if t.Op != scim.OpEq || !isStr || !indexed || t.Path.SubAttr != "" || t.Path.ValueFilter != nil || !rs.IsCore(t.Path.URI) {
			return nil, false
		}
		return []lookup{{field: f, values: []string{s}}}, true
	case *scim.LogicalExpr:
		l, lok := plan(t.Left, rs, index)
		r, rok := plan(t.Right, rs, index)
		if t.Op == scim.And {
			switch {
			case lok:
				return l, true
			case rok:
				return r, true
			}
			return nil, false
		}
		if lok && rok {
			return append(l, r...), true
		}
	}
	return nil, false
}

// ListUsers handles GET /Users (RFC 7644 §3.4.2). No match is an empty
// list, never 404. /Users lists every MI user, local ones included, so
// Entra's match query can adopt accounts that existed before provisioning.
// Paging: paging.go.
func (e *Engine) ListUsers(ctx context.Context, q Query) (*scim.ListResponse, error) {
	expr, err := parseFilter(q.Filter)
	if err != nil {
		return nil, err
	}
	p, err := newPager(store.UserListing, q, scim.User)
	if err != nil {
		return nil, err
	}
	var total int
	var pg page
	err = e.store.View(ctx, func(tx store.Tx) error {
		if expr == nil && !p.sorted() {
			var err error
			if total, err = tx.CountUsers(); err != nil {
				return err
			}
			pg, err = p.direct(tx, e.positions, total, func(after int64, skip, limit int) ([]entry, error) {
				users, err := tx.UsersPage(after, skip, limit)
				return userEntries(users), err
			})
			return err
		}
		var matched []entry
		keep := func(u store.User) {
			doc := UserResource(u)
			if expr == nil || scim.Match(expr, doc, scim.User) {
				matched = append(matched, entry{seq: u.Seq, doc: doc})
			}
		}
		if lookups, ok := plan(expr, scim.User, userIndex); ok {
			var found []store.User
			seen := map[string]bool{}
			for _, l := range lookups {
				users, err := tx.UsersBy(l.field, l.values)
				if err != nil {
					return err
				}
				for _, u := range users {
					if !seen[u.ID] {
						seen[u.ID] = true
						found = append(found, u)
					}
				}
			}
			// Several lookups (an "or") come back in lookup order; answer in
			// listing order like a scan would.
			slices.SortFunc(found, func(a, b store.User) int { return cmp.Compare(a.Seq, b.Seq) })
			for _, u := range found {
				keep(u)
			}
		} else if err := tx.ScanUsers(func(u store.User) error { keep(u); return ctx.Err() }); err != nil {
			return err
		}
		total = len(matched)
		pg = p.window(matched)
		return nil
	})
	if err != nil {
		return nil, storeError(err, "list users")
	}
	return p.response(total, pg, q.Projection), nil
}

func userEntries(users []store.User) []entry {
	out := make([]entry, len(users))
	for i, u := range users {
		out[i] = entry{seq: u.Seq, doc: UserResource(u)}
	}
	return out
}

// response renders a page: startIndex for index paging, nextCursor (on
// every page but the last) for cursor paging (RFC 9865 §2).
func (p *pager) response(total int, pg page, proj scim.Projection) *scim.ListResponse {
	docs := make([]scim.Resource, len(pg.entries))
	for i, en := range pg.entries {
		docs[i] = proj.Apply(en.doc)
	}
	start := p.start
	if p.cursor {
		start = 0
	}
	lr := scim.NewListResponse(total, start, docs)
	lr.NextCursor = pg.next
	return lr
}

// ListGroups handles GET /Groups. Members are read only for the groups on
// the page, and only when the projection returns them; a filter that names
// members needs them for every candidate.
func (e *Engine) ListGroups(ctx context.Context, q Query) (*scim.ListResponse, error) {
	expr, err := parseFilter(q.Filter)
	if err != nil {
		return nil, err
	}
	p, err := newPager(store.GroupListing, q, scim.Group)
	if err != nil {
		return nil, err
	}
	needMembers := expr != nil && mentions(expr, "members")
	var total int
	var pg page
	err = e.store.View(ctx, func(tx store.Tx) error {
		if expr == nil && !p.sorted() {
			var err error
			if total, err = tx.CountGroups(); err != nil {
				return err
			}
			pg, err = p.direct(tx, e.positions, total, func(after int64, skip, limit int) ([]entry, error) {
				groups, err := tx.GroupsPage(after, skip, limit)
				out := make([]entry, len(groups))
				for i, g := range groups {
					out[i] = entry{seq: g.Seq, doc: GroupResource(g, nil)}
				}
				return out, err
			})
			if err != nil {
				return err
			}
		} else {
			var matched []entry
			keep := func(g store.Group) error {
				var members []store.Member
				if needMembers {
					var err error
					if members, err = store.AllMembers(tx, g.ID); err != nil {
						return err
					}
				}
				doc := GroupResource(g, members)
				if expr == nil || scim.Match(expr, doc, scim.Group) {
					matched = append(matched, entry{seq: g.Seq, doc: doc})
				}
				return nil
			}
			if lookups, ok := plan(expr, scim.Group, groupIndex); ok {
				var found []store.Group
				seen := map[string]bool{}
				for _, l := range lookups {
					groups, err := tx.GroupsBy(l.field, l.values)
					if err != nil {
						return err
					}
					for _, g := range groups {
						if !seen[g.ID] {
							seen[g.ID] = true
							found = append(found, g)
						}
					}
				}
				slices.SortFunc(found, func(a, b store.Group) int { return cmp.Compare(a.Seq, b.Seq) })
				for _, g := range found {
					if err := keep(g); err != nil {
						return err
					}
				}
			} else if err := tx.ScanGroups(func(g store.Group) error {
				if err := keep(g); err != nil {
					return err
				}
				return ctx.Err()
			}); err != nil {
				return err
			}
			total = len(matched)
			pg = p.window(matched)
		}
		if !needMembers && q.Projection.Returns("members") {
			for _, en := range pg.entries {
				members, err := store.AllMembers(tx, en.doc["id"].(string))
				if err != nil {
					return err
				}
				en.doc["members"] = GroupResource(store.Group{}, members)["members"]
			}
		}
		return nil
	})
	if err != nil {
		return nil, storeError(err, "list groups")
	}
	return p.response(total, pg, q.Projection), nil
}

func parseFilter(s string) (scim.Expr, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	return scim.ParseFilter(s)
}

// mentions reports whether a filter names the attribute.
func mentions(e scim.Expr, name string) bool {
	switch t := e.(type) {
	case *scim.LogicalExpr:
		return mentions(t.Left, name) || mentions(t.Right, name)
	case *scim.NotExpr:
		return mentions(t.X, name)
	case *scim.CompareExpr:
		return strings.EqualFold(t.Path.Name, name)
	case *scim.PresentExpr:
		return strings.EqualFold(t.Path.Name, name)
	case *scim.ValuePathExpr:
		return strings.EqualFold(t.Path.Name, name)
	}
	return false
}

type sortKey struct {
	missing bool
	num     float64
	isNum   bool
	str     string
}

func makeSortKey(v any, caseExact bool) sortKey {
	switch t := v.(type) {
	case nil:
		return sortKey{missing: true}
	case string:
		if !caseExact {
			t = strings.ToLower(t)
		}
		return sortKey{str: t}
	case float64:
		return sortKey{num: t, isNum: true}
	case bool:
		if t {
			return sortKey{num: 1, isNum: true}
		}
		return sortKey{isNum: true}
	}
	return sortKey{str: describe(v)}
}

func (k sortKey) compare(o sortKey) int {
	if k.isNum && o.isNum {
		switch {
		case k.num < o.num:
			return -1
		case k.num > o.num:
			return 1
		}
		return 0
	}
	return strings.Compare(k.str, o.str)
}

// sortValue picks the value a resource sorts by; for a multi-valued
// attribute, the primary element's, else the first's (RFC 7644 §3.4.2.3).
func sortValue(doc scim.Resource, rs *scim.ResourceSchema, p scim.AttrPath) any {
	holder := map[string]any(doc)
	if !rs.IsCore(p.URI) {
		ext, _, _ := scim.Get(doc, p.URI)
		m, ok := ext.(map[string]any)
		if !ok {
			return nil
		}
		holder = m
	}
	v, _, ok := scim.Get(holder, p.Name)
	if !ok {
		return nil
	}
	if list, isList := v.([]any); isList {
		if len(list) == 0 {
			return nil
		}
		v = list[0]
		for _, e := range list {
			if m, ok := e.(map[string]any); ok {
				if pv, _, _ := scim.Get(m, "primary"); pv == true {
					v = e
					break
				}
			}
		}
		if p.SubAttr == "" {
			if m, ok := v.(map[string]any); ok {
				v, _, _ = scim.Get(m, "value")
			}
		}
	}
	if p.SubAttr != "" {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v, _, _ = scim.Get(m, p.SubAttr)
	}
	return v
}
