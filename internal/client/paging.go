package client

import (
	"context"
	"errors"
	"math"
	"strconv"
	"strings"

	"github.com/miscim/miscim/internal/scim"
)

// Page sizes ListAll asks for.
const (
	// DefaultPageSize is the page of a target that states no maximum
	// (RFC 7644 leaves it to the server; 100 is what Entra-facing servers
	// commonly answer).
	DefaultPageSize = 100
	// MaxPageSize caps what a target advertises: a larger page saves
	// little, and a slow target could take longer than the per-request
	// timeout to produce it.
	MaxPageSize = 5000
)

// Paging is how a target pages its lists, from its /ServiceProviderConfig.
type Paging struct {
	// Cursor is true when the target advertises RFC 9865 cursor paging
	// (pagination.cursor).
	Cursor bool
	// PageSize is the page ListAll asks for: pagination.maxPageSize when
	// paging by cursor and stated, else filter.maxResults (RFC 7643 §5),
	// else DefaultPageSize; at most MaxPageSize.
	PageSize int
}

// Paging reads, once per client, how the target pages. A target without a
// usable /ServiceProviderConfig (an error answer, no JSON, missing members)
// pages by startIndex with DefaultPageSize; only a target that cannot be
// reached at all, or a cancelled context, is an error.
func (c *Client) Paging(ctx context.Context) (Paging, error) {
	c.pagingMu.Lock()
	defer c.pagingMu.Unlock()
	if c.paging != nil {
		return *c.paging, nil
	}
	spc, err := c.ServiceProviderConfig(ctx)
	if err != nil && (errors.Is(err, ErrUnavailable) || ctx.Err() != nil) {
		return Paging{}, err
	}
	pg := pagingOf(spc)
	c.paging = &pg
	return pg, nil
}

// pagingOf reads the paging of a ServiceProviderConfig document (nil:
// none). Attribute names are case-insensitive (RFC 7643 §2.1); booleans
// and numbers sent as strings are accepted, as some servers send them.
func pagingOf(spc scim.Resource) Paging {
	pg := Paging{PageSize: DefaultPageSize}
	pagination, _ := member(spc, "pagination").(map[string]any)
	filter, _ := member(spc, "filter").(map[string]any)
	pg.Cursor, _ = scim.ParseBool(member(pagination, "cursor"))
	size := positive(member(filter, "maxResults"))
	if pg.Cursor {
		if n := positive(member(pagination, "maxPageSize")); n > 0 {
			size = n
		}
	}
	if size > 0 {
		pg.PageSize = min(size, MaxPageSize)
	}
	return pg
}

func member(obj map[string]any, key string) any {
	if obj == nil {
		return nil
	}
	v, _, _ := scim.Get(obj, key)
	return v
}

// positive reads a page size: a positive whole number, or 0.
func positive(v any) int {
	var f float64
	switch t := v.(type) {
	case float64:
		f = t
	case string:
		n, err := strconv.ParseFloat(strings.TrimSpace(t), 64)
		if err != nil {
			return 0
		}
		f = n
	default:
		return 0
	}
	if f < 1 || f != math.Trunc(f) || f > math.MaxInt32 {
		return 0
	}
	return int(f)
}
