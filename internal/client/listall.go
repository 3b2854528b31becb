package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"

	"github.com/go-resty/resty/v2"

	"github.com/miscim/miscim/internal/scim"
)

// ListAll reads every page of a query and calls fn for each resource. It
// pages the way the target says it can (Paging): by cursor (RFC 9865) when
// it advertises cursors, else by startIndex/count. Pages are the target's
// largest, or pageSize when that is smaller and positive. An error from fn
// stops the walk and is returned.
//
// The next page is asked for as soon as the answer says where it is
// (before its resources, in miscim's answers), while this page's resources
// are decoded and handed to fn, so that the target and miscim work at the
// same time; at most one request runs ahead.
//
// Targets whose paging is broken are guarded against: by startIndex, a page
// that repeats ids already seen, or holds more resources than asked for,
// ends the walk after its new resources; by cursor, a target that answers
// its first page without a nextCursor while totalResults says more follow
// (it ignored the cursor) is read on by startIndex, one that rejects the
// empty first cursor is read by startIndex, and one that answers the same
// nextCursor twice is an error rather than an endless walk.
func (c *Client) ListAll(ctx context.Context, resource string, p ListParams, pageSize int, fn func(scim.Resource) error) error {
	pg, err := c.Paging(ctx)
	if err != nil {
		return err
	}
	size := pg.PageSize
	if pageSize > 0 {
		size = min(size, pageSize)
	}
	ctx, cancel := context.WithCancel(ctx)
	w := &walk{c: c, ctx: ctx, resource: resource, size: size, seen: map[string]bool{}, fn: fn}
	// A request still running ahead when the walk stops early is cancelled
	// and waited for: nothing outlives ListAll.
	defer func() { cancel(); w.wg.Wait() }()
	if pg.Cursor && p.StartIndex <= 1 {
		resume, err := w.byCursor(p)
		if err != nil || resume == 0 {
			return err
		}
		p.StartIndex = resume
	}
	return w.byIndex(p)
}

// walk is one ListAll.
type walk struct {
	c        *Client
	ctx      context.Context
	resource string
	size     int
	seen     map[string]bool
	fn       func(scim.Resource) error
	wg       sync.WaitGroup
}

// byCursor walks a query by cursor. resume > 0 means the target does not
// page by cursor after all: go on by startIndex from there.
func (w *walk) byCursor(p ListParams) (resume int, err error) {
	p.StartIndex, p.Count, p.CursorPaging, p.Cursor = 0, w.size, true, ""
	next := w.fetch(p)
	for first := true; ; first = false {
		res := <-next.result
		var se *scim.Error
		if first && errors.As(res.err, &se) && se.Status == http.StatusBadRequest && se.ScimType == scim.ScimTypeInvalidCursor {
			return 1, nil // even the empty cursor of a first page is refused
		}
		if res.err != nil {
			return 0, res.err
		}
		next = nil
		ahead := func(cursor string) {
			if next == nil && cursor != "" && cursor != p.Cursor {
				q := p
				q.Cursor = cursor
				next = w.fetch(q)
			}
		}
		env, resources, err := res.decode(func(e envelope) { ahead(e.nextCursor) })
		if err != nil {
			return 0, err
		}
		if env.nextCursor == "" {
			if _, err := deliver(resources, w.seen, w.fn); err != nil {
				return 0, err
			}
			if first && len(resources) > 0 && env.totalResults > len(resources) {
				return len(resources) + 1, nil // an index page: the cursor was ignored
			}
			return 0, nil
		}
		if env.nextCursor == p.Cursor {
			return 0, fmt.Errorf("GET %s: the target answered the same nextCursor twice, so its cursor paging does not advance; read the list with a filter that matches fewer resources, or report it to the target's vendor", w.c.scimURL("", w.resource))
		}
		if next != nil && next.p.Cursor != env.nextCursor {
			next.cancel() // the body named two next cursors; follow the last
			next = nil
		}
		ahead(env.nextCursor)
		if _, err := deliver(resources, w.seen, w.fn); err != nil {
			return 0, err
		}
		p.Cursor = env.nextCursor
	}
}

// byIndex walks a query by startIndex/count from p.StartIndex, until
// totalResults is reached or a page comes back empty. The next page is
// asked for as soon as totalResults says it exists, on the guess that this
// page is full; a shorter page cancels the guess and asks for the right one.
func (w *walk) byIndex(p ListParams) error {
	start := max(p.StartIndex, 1)
	p.StartIndex, p.Count, p.CursorPaging, p.Cursor = start, w.size, false, ""
	next := w.fetch(p)
	for {
		res := <-next.result
		if res.err != nil {
			return res.err
		}
		next = nil
		env, resources, err := res.decode(func(e envelope) {
			// itemsPerPage above count: the target ignores paging, and
			// this page ends the walk.
			if e.totalResults > 0 && start+w.size <= e.totalResults && e.itemsPerPage <= w.size {
				q := p
				q.StartIndex = start + w.size
				next = w.fetch(q)
			}
		})
		if err != nil {
			return err
		}
		n := len(resources)
		following := start + n
		// totalResults 0 with resources on the page is a server that does
		// not count: go on until an empty page.
		more := n > 0 && n <= w.size && (env.totalResults <= 0 || following <= env.totalResults)
		if next != nil && (!more || next.p.StartIndex != following) {
			next.cancel()
			next = nil
		}
		if more && next == nil {
			q := p
			q.StartIndex = following
			next = w.fetch(q)
		}
		repeated, err := deliver(resources, w.seen, w.fn)
		if err != nil {
			return err
		}
		if repeated || !more {
			return nil // the last page, or a target that ignores paging
		}
		start = following
	}
}

// deliver calls fn for the resources not seen before; repeated reports
// whether the page held an id seen before.
func deliver(page []scim.Resource, seen map[string]bool, fn func(scim.Resource) error) (repeated bool, err error) {
	for _, r := range page {
		if id, _ := r["id"].(string); id != "" {
			if seen[id] {
				repeated = true
				continue
			}
			seen[id] = true
		}
		if err := fn(r); err != nil {
			return repeated, err
		}
	}
	return repeated, nil
}

// pending is a page request running in the background.
type pending struct {
	p      ListParams
	result <-chan fetched
	cancel context.CancelFunc
}

type fetched struct {
	url  string
	resp *resty.Response
	err  error
}

// fetch asks for one page in the background.
func (w *walk) fetch(p ListParams) *pending {
	ctx, cancel := context.WithCancel(w.ctx)
	out := make(chan fetched, 1)
	w.wg.Add(1)
	go func() {
		defer w.wg.Done()
		u := w.c.scimURL(p.query(), w.resource)
		resp, err := w.c.scimCall(ctx, http.MethodGet, u, nil, "")
		out <- fetched{url: u, resp: resp, err: err}
	}()
	return &pending{p: p, result: out, cancel: cancel}
}

// envelope is what a list answer says of the list besides its resources.
type envelope struct {
	totalResults int
	itemsPerPage int
	nextCursor   string
}

// decode reads a list answer in one pass. atResources is called when the
// Resources member begins, with the envelope read so far: miscim (and most
// servers) send totalResults and nextCursor before the resources, so the
// next page can be asked for while this one is decoded. Member names match
// regardless of case, as encoding/json matches them.
func (f fetched) decode(atResources func(envelope)) (envelope, []scim.Resource, error) {
	var env envelope
	var resources []scim.Resource
	fail := func(err error) (envelope, []scim.Resource, error) {
		return env, nil, notSCIM(http.MethodGet, f.url, f.resp, err)
	}
	dec := json.NewDecoder(bytes.NewReader(f.resp.Body()))
	if tok, err := dec.Token(); err != nil {
		return fail(err)
	} else if tok != json.Delim('{') {
		return fail(fmt.Errorf("a ListResponse is a JSON object, got %v", tok))
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return fail(err)
		}
		key, _ := tok.(string)
		switch {
		case strings.EqualFold(key, "totalResults"):
			var n float64
			if err := dec.Decode(&n); err != nil {
				return fail(err)
			}
			env.totalResults = int(n)
		case strings.EqualFold(key, "itemsPerPage"):
			var n float64
			if err := dec.Decode(&n); err != nil {
				return fail(err)
			}
			env.itemsPerPage = int(n)
		case strings.EqualFold(key, "nextCursor"):
			var c *string
			if err := dec.Decode(&c); err != nil {
				return fail(err)
			}
			if c != nil {
				env.nextCursor = *c
			}
		case strings.EqualFold(key, "Resources"):
			atResources(env)
			if resources, err = decodeResources(dec); err != nil {
				return fail(err)
			}
		default:
			var skip json.RawMessage
			if err := dec.Decode(&skip); err != nil {
				return fail(err)
			}
		}
	}
	if _, err := dec.Token(); err != nil {
		return fail(err)
	}
	return env, resources, nil
}

// decodeResources reads the Resources array (or null) element by element.
func decodeResources(dec *json.Decoder) ([]scim.Resource, error) {
	tok, err := dec.Token()
	if err != nil || tok == nil {
		return nil, err
	}
	if tok != json.Delim('[') {
		return nil, fmt.Errorf("the Resources member must be an array, got %v", tok)
	}
	var out []scim.Resource
	for dec.More() {
		var r scim.Resource
		if err := dec.Decode(&r); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	_, err = dec.Token()
	return out, err
}
