package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
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
// The next page is asked for as soon as the answer says where it is, while
// this page's resources are decoded and handed to fn, so that the target
// and miscim work at the same time; at most one request runs ahead.
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
		res := <-next
		var se *scim.Error
		if first && errors.As(res.err, &se) && se.Status == http.StatusBadRequest && se.ScimType == scim.ScimTypeInvalidCursor {
			return 1, nil // even the empty cursor of a first page is refused
		}
		if res.err != nil {
			return 0, res.err
		}
		page := res.page
		more := page.NextCursor != ""
		if more {
			if page.NextCursor == p.Cursor {
				return 0, fmt.Errorf("GET %s: the target answered the same nextCursor twice, so its cursor paging does not advance; read the list with a filter that matches fewer resources, or report it to the target's vendor", w.c.scimURL("", w.resource))
			}
			p.Cursor = page.NextCursor
			next = w.fetch(p)
		}
		resources, err := page.decode()
		if err != nil {
			return 0, err
		}
		if _, err := deliver(resources, w.seen, w.fn); err != nil {
			return 0, err
		}
		if !more {
			if first && len(resources) > 0 && page.TotalResults > len(resources) {
				return len(resources) + 1, nil // an index page: the cursor was ignored
			}
			return 0, nil
		}
	}
}

// byIndex walks a query by startIndex/count from p.StartIndex, until
// totalResults is reached or a page comes back empty.
func (w *walk) byIndex(p ListParams) error {
	start := max(p.StartIndex, 1)
	p.StartIndex, p.Count, p.CursorPaging, p.Cursor = start, w.size, false, ""
	next := w.fetch(p)
	for {
		res := <-next
		if res.err != nil {
			return res.err
		}
		page := res.page
		n := len(page.Resources)
		if n == 0 {
			return nil
		}
		following := start + n
		// totalResults 0 with resources on the page is a server that does
		// not count: go on until an empty page.
		more := n <= w.size && (page.TotalResults <= 0 || following <= page.TotalResults)
		if more {
			p.StartIndex = following
			next = w.fetch(p)
		}
		resources, err := page.decode()
		if err != nil {
			return err
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

// rawPage is a list answer whose resources are not decoded yet: reading
// the envelope alone is enough to know where the next page is.
type rawPage struct {
	TotalResults int               `json:"totalResults"`
	NextCursor   string            `json:"nextCursor"`
	Resources    []json.RawMessage `json:"Resources"`

	url  string
	resp *resty.Response
}

type pageResult struct {
	page *rawPage
	err  error
}

// fetch asks for one page in the background.
func (w *walk) fetch(p ListParams) <-chan pageResult {
	out := make(chan pageResult, 1)
	w.wg.Add(1)
	go func() {
		defer w.wg.Done()
		u := w.c.scimURL(p.query(), w.resource)
		resp, err := w.c.scimCall(w.ctx, http.MethodGet, u, nil, "")
		if err != nil {
			out <- pageResult{err: err}
			return
		}
		page := &rawPage{url: u, resp: resp}
		if err := json.Unmarshal(resp.Body(), page); err != nil {
			out <- pageResult{err: notSCIM(http.MethodGet, u, resp, err)}
			return
		}
		out <- pageResult{page: page}
	}()
	return out
}

// decode reads the page's resources.
func (p *rawPage) decode() ([]scim.Resource, error) {
	out := make([]scim.Resource, len(p.Resources))
	for i, raw := range p.Resources {
		if err := json.Unmarshal(raw, &out[i]); err != nil {
			return nil, notSCIM(http.MethodGet, p.url, p.resp, err)
		}
	}
	return out, nil
}
