package engine

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"math"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/miscim/miscim/internal/scim"
	"github.com/miscim/miscim/internal/store"
)

// Paging of GET /Users and GET /Groups, two ways:
//
//   - index (RFC 7644 §3.4.2.4, the default): startIndex is the 1-based
//     position of the first resource of the page;
//   - cursor (RFC 9865 §2): cursor (empty for the first page) is the
//     nextCursor of the previous answer.
//
// Without a filter or sortBy a page is read from the store directly, by key
// (store.Tx.UsersPage): a cursor holds the key of the last resource sent,
// and startIndex is turned into a key by the position cache below, so a
// page costs its own size wherever it is. A filter or a sortBy has to
// evaluate every resource anyway (totalResults counts them all); the page
// is then cut from the sorted matches, by position or after the cursor's
// resource.

// entry is one resource of a listing with its place in the listing order.
type entry struct {
	seq int64
	doc scim.Resource
	key sortKey // when sorted
}

// sortSpec is a validated sortBy/sortOrder (RFC 7644 §3.4.2.3).
type sortSpec struct {
	path      scim.AttrPath
	desc      bool
	caseExact bool
	rs        *scim.ResourceSchema
}

// parseSort validates sortBy and sortOrder; nil means the listing order.
func parseSort(q Query, rs *scim.ResourceSchema) (*sortSpec, error) {
	desc := false
	switch strings.ToLower(strings.TrimSpace(q.SortOrder)) {
	case "", "ascending":
	case "descending":
		desc = true
	default:
		return nil, scim.BadRequest(scim.ScimTypeInvalidValue, "sortOrder %q is not valid: use ascending or descending", q.SortOrder)
	}
	if strings.TrimSpace(q.SortBy) == "" {
		return nil, nil
	}
	path, err := scim.ParsePath(q.SortBy)
	if err != nil || path.ValueFilter != nil {
		return nil, scim.BadRequest(scim.ScimTypeInvalidValue, "sortBy %q is not an attribute name: use for example userName or name.familyName", q.SortBy)
	}
	def := rs.LookupPath(path)
	return &sortSpec{path: path, desc: desc, caseExact: def != nil && def.CaseExact, rs: rs}, nil
}

// before reports whether a sorts before b: by sort value (resources without
// one last in either order), then by listing order, so that the order is
// total and a cursor can find its place again.
func (s *sortSpec) before(a, b *entry) bool {
	if s != nil {
		if a.key.missing != b.key.missing {
			return b.key.missing
		}
		if c := a.key.compare(b.key); c != 0 {
			return (c < 0) != s.desc
		}
	}
	return a.seq < b.seq
}

// order sorts entries (in listing order already) by the spec.
func (s *sortSpec) order(entries []entry) {
	if s == nil {
		return
	}
	for i := range entries {
		entries[i].key = makeSortKey(sortValue(entries[i].doc, s.rs, s.path), s.caseExact)
	}
	sort.SliceStable(entries, func(i, j int) bool { return s.before(&entries[i], &entries[j]) })
}

// pager is the paging of one list request.
type pager struct {
	listing store.Listing
	cursor  bool       // RFC 9865 cursor paging
	from    *cursorPos // where the cursor resumes; nil for the first page
	start   int        // startIndex, for index paging
	count   int
	sort    *sortSpec
	query   uint64 // fingerprint of filter, sortBy and sortOrder
}

func newPager(l store.Listing, q Query, rs *scim.ResourceSchema) (*pager, error) {
	spec, err := parseSort(q, rs)
	if err != nil {
		return nil, err
	}
	start, count := q.window()
	p := &pager{listing: l, cursor: q.CursorGiven, start: start, count: count, sort: spec, query: queryFingerprint(q)}
	if !p.cursor {
		return p, nil
	}
	if q.StartIndex != 0 {
		return nil, scim.BadRequest(scim.ScimTypeInvalidValue, "startIndex and cursor cannot be combined: page by startIndex (index paging) or by cursor (RFC 9865), not both")
	}
	if p.from, err = decodeCursor(q.Cursor, l, p.query); err != nil {
		return nil, err
	}
	return p, nil
}

// sorted reports whether the request asks for an order of its own.
func (p *pager) sorted() bool { return p.sort != nil }

// page is what a pager cut: the resources and, when paging by cursor and
// more follow, the cursor of the next page.
type page struct {
	entries []entry
	next    string
}

// window cuts the page out of every matching resource, given in listing
// order.
func (p *pager) window(all []entry) page {
	p.sort.order(all)
	i := 0
	if p.cursor {
		if p.from != nil {
			at := entry{seq: p.from.seq, key: p.from.key}
			i = sort.Search(len(all), func(k int) bool { return p.sort.before(&at, &all[k]) })
		}
	} else {
		i = min(p.start-1, len(all))
	}
	end := min(i+p.count, len(all))
	out := page{entries: all[i:end]}
	if p.cursor && p.count > 0 && end < len(all) {
		out.next = p.cursorAfter(all[end-1])
	}
	return out
}

// fetchFunc reads a page of the listing order from the store.
type fetchFunc func(after int64, skip, limit int) ([]entry, error)

// direct reads the page of an unfiltered, unsorted listing straight from
// the store: after the cursor's key, or after the key the position cache
// knows for startIndex.
func (p *pager) direct(tx store.Tx, positions *positionCache, total int, fetch fetchFunc) (page, error) {
	if p.count == 0 {
		return page{}, nil
	}
	if p.cursor {
		var after int64
		if p.from != nil {
			after = p.from.seq
		}
		entries, err := fetch(after, 0, p.count+1)
		if err != nil {
			return page{}, err
		}
		out := page{entries: entries}
		if len(entries) > p.count {
			out.entries = entries[:p.count]
			out.next = p.cursorAfter(entries[p.count-1])
		}
		return out, nil
	}
	if p.start > total {
		return page{}, nil
	}
	version, err := tx.ListingVersion(p.listing)
	if err != nil {
		return page{}, err
	}
	after, at := positions.find(p.listing, version, p.start)
	// When the cache has no entry for this very position, read one record
	// more, the one before the page, to learn where the page starts: asked
	// again, the page is then read by key.
	skip, lead := p.start-at, 0
	if skip > 0 {
		skip, lead = skip-1, 1
	}
	entries, err := fetch(after, skip, p.count+lead)
	if err != nil {
		return page{}, err
	}
	if lead == 1 && len(entries) > 0 {
		positions.remember(p.listing, version, p.start, entries[0].seq)
		entries = entries[1:]
	}
	if n := len(entries); n > 0 {
		positions.remember(p.listing, version, p.start+n, entries[n-1].seq)
	}
	return page{entries: entries}, nil
}

func (p *pager) cursorAfter(e entry) string {
	c := cursorPos{listing: p.listing, query: p.query, seq: e.seq, sorted: p.sorted(), key: e.key}
	return c.encode()
}

// ---- cursors ----

// A cursor is opaque to clients (RFC 9865 §2) but holds no server state:
// the listing, a fingerprint of the query it belongs to and the place of
// the last resource sent (its Seq and, for a sorted query, its sort value).
// It stays valid as long as the query does, so it never expires, and a
// resource deleted meanwhile does not invalidate it: the next page starts
// after the place, wherever the resources around it are now. A checksum
// catches cursors that were cut short or edited; a forged one could only
// move its holder's reading position within data the holder may read
// anyway (RFC 9865 §5.2), so no secret key is needed.

const (
	cursorLayout  = 1
	cursorSumLen  = 8
	maxCursorText = 4096
)

type cursorPos struct {
	listing store.Listing
	query   uint64
	seq     int64
	sorted  bool
	key     sortKey
}

const (
	cursorSorted  = 1 << 0
	cursorMissing = 1 << 1
	cursorNumber  = 1 << 2
)

func (c cursorPos) encode() string {
	b := []byte{cursorLayout, byte(c.listing), 0}
	if c.sorted {
		b[2] |= cursorSorted
		switch {
		case c.key.missing:
			b[2] |= cursorMissing
		case c.key.isNum:
			b[2] |= cursorNumber
		}
	}
	b = binary.BigEndian.AppendUint64(b, c.query)
	b = binary.AppendVarint(b, c.seq)
	if c.sorted && !c.key.missing {
		if c.key.isNum {
			b = binary.BigEndian.AppendUint64(b, math.Float64bits(c.key.num))
		} else {
			b = binary.AppendUvarint(b, uint64(len(c.key.str)))
			b = append(b, c.key.str...)
		}
	}
	sum := sha256.Sum256(b)
	b = append(b, sum[:cursorSumLen]...)
	return base64.RawURLEncoding.EncodeToString(b)
}

var errBadCursor = errors.New("bad cursor")

// decodeCursor reads a cursor of listing l for the query with fingerprint
// query; an empty cursor asks for the first page (nil).
func decodeCursor(text string, l store.Listing, query uint64) (*cursorPos, error) {
	text = strings.TrimSpace(text)
	if text == "" {
		return nil, nil
	}
	c, err := parseCursor(text)
	if err != nil {
		return nil, scim.BadRequest(scim.ScimTypeInvalidCursor,
			"cursor %q is not one this server issued, or it was cut short: start again with an empty cursor (cursor=) and then send the nextCursor of each answer", shorten(text))
	}
	if c.listing != l {
		return nil, scim.BadRequest(scim.ScimTypeInvalidCursor,
			"the cursor was issued for a list of %s, not of %s: send it back to the endpoint it came from, or start again with cursor=", c.listing, l)
	}
	if c.query != query {
		return nil, scim.BadRequest(scim.ScimTypeInvalidCursor,
			"the cursor belongs to another query: send filter, sortBy and sortOrder exactly as in the request that started this walk (RFC 9865 §2), or start again with cursor=")
	}
	return c, nil
}

func parseCursor(text string) (*cursorPos, error) {
	if len(text) > maxCursorText {
		return nil, errBadCursor
	}
	b, err := base64.RawURLEncoding.DecodeString(text)
	if err != nil || len(b) < 3+8+1+cursorSumLen {
		return nil, errBadCursor
	}
	body, sum := b[:len(b)-cursorSumLen], b[len(b)-cursorSumLen:]
	want := sha256.Sum256(body)
	if !bytes.Equal(sum, want[:cursorSumLen]) || body[0] != cursorLayout {
		return nil, errBadCursor
	}
	c := &cursorPos{listing: store.Listing(body[1])}
	flags := body[2]
	c.sorted = flags&cursorSorted != 0
	c.query = binary.BigEndian.Uint64(body[3:11])
	rest := body[11:]
	seq, n := binary.Varint(rest)
	if n <= 0 {
		return nil, errBadCursor
	}
	c.seq, rest = seq, rest[n:]
	if c.sorted {
		switch {
		case flags&cursorMissing != 0:
			c.key.missing = true
		case flags&cursorNumber != 0:
			if len(rest) != 8 {
				return nil, errBadCursor
			}
			c.key.isNum, c.key.num, rest = true, math.Float64frombits(binary.BigEndian.Uint64(rest)), nil
		default:
			l, n := binary.Uvarint(rest)
			if n <= 0 || uint64(len(rest)-n) != l {
				return nil, errBadCursor
			}
			c.key.str, rest = string(rest[n:]), nil
		}
	}
	if len(rest) != 0 {
		return nil, errBadCursor
	}
	return c, nil
}

// queryFingerprint identifies the query a cursor belongs to: RFC 9865 §2
// has every parameter but cursor (and count) stay the same along a walk.
func queryFingerprint(q Query) uint64 {
	order := strings.ToLower(strings.TrimSpace(q.SortOrder))
	if order == "" {
		order = "ascending"
	}
	h := sha256.Sum256([]byte(strings.TrimSpace(q.Filter) + "\x00" + strings.ToLower(strings.TrimSpace(q.SortBy)) + "\x00" + order))
	return binary.BigEndian.Uint64(h[:8])
}

func shorten(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}

// ---- the startIndex position cache ----

// positionCache turns startIndex into a store key: it remembers, for each
// listing, where the pages it served ended (position p starts after the
// record with Seq s), so that the next page of a walk by startIndex is read
// by key instead of by skipping p-1 records (SQLite's OFFSET walks every
// row it skips).
//
// An entry is exact, not a guess: it is kept with the listing version it
// was seen at (store.Tx.ListingVersion), and records only move when that
// version changes, so an answer from the cache equals what counting from
// the first record gives. A new version empties the cache of that listing.
// Requests between which nothing was deleted (the common case of a client
// reading everything) resume from the cache; after a delete the first page
// skips from the start once, then the walk is cached again.
type positionCache struct {
	mu    sync.Mutex
	lists map[store.Listing]*checkpoints
}

// maxCheckpoints bounds the cache per listing: 16 bytes each, enough for a
// walk of 10 million records in pages of 100.
const maxCheckpoints = 100_000

type checkpoints struct {
	version int64
	pos     []int   // ascending positions (1-based)
	after   []int64 // the Seq each position starts after
}

func newPositionCache() *positionCache {
	return &positionCache{lists: map[store.Listing]*checkpoints{}}
}

// find returns the nearest known position at or before start and the Seq
// it starts after; position 1 starts after 0.
func (c *positionCache) find(l store.Listing, version int64, start int) (after int64, at int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	cp := c.lists[l]
	if cp == nil || cp.version != version {
		return 0, 1
	}
	i, found := slices.BinarySearch(cp.pos, start)
	if found {
		return cp.after[i], cp.pos[i]
	}
	if i == 0 {
		return 0, 1
	}
	return cp.after[i-1], cp.pos[i-1]
}

// remember records that position pos starts after the record with Seq
// after, at the given listing version.
func (c *positionCache) remember(l store.Listing, version int64, pos int, after int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	cp := c.lists[l]
	switch {
	case cp == nil || version > cp.version || len(cp.pos) >= maxCheckpoints:
		cp = &checkpoints{version: version}
		c.lists[l] = cp
	case version < cp.version:
		return // seen by a reader of an older snapshot: already outdated
	}
	i, found := slices.BinarySearch(cp.pos, pos)
	if found {
		cp.after[i] = after
		return
	}
	cp.pos = slices.Insert(cp.pos, i, pos)
	cp.after = slices.Insert(cp.after, i, after)
}
