package client

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
)

// Member is one member of a group as the target lists it (RFC 7643 §4.2):
// the member's id, and the display name and type when the target gives
// them.
type Member struct {
	Value   string
	Display string
	Type    string
}

// GroupMembers reads the members of one group: GET
// /Groups/{id}?attributes=members (RFC 7644 §3.4.2.5: id is returned
// too). Only the members are decoded, element by element into a slice
// rather than a map per member: a group may have 250,000 of them. A
// target that ignores the projection and answers the whole group is read
// the same way. A member without a value, or one that is not an object,
// is an error naming the group.
func (c *Client) GroupMembers(ctx context.Context, id string) ([]Member, error) {
	u := c.scimURL(ListParams{Attributes: []string{"members"}}.query(), Groups, id)
	resp, err := c.scimCall(ctx, http.MethodGet, u, nil, "")
	if err != nil {
		return nil, err
	}
	members, err := decodeMembers(resp.Body())
	if err != nil {
		return nil, notSCIM(http.MethodGet, u, resp, err)
	}
	return members, nil
}

// decodeMembers reads the members array of a group document in one pass,
// skipping everything else; the member name matches in any case, as
// SCIM attribute names do (RFC 7643 §2.1).
func decodeMembers(body []byte) ([]Member, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	if tok, err := dec.Token(); err != nil {
		return nil, err
	} else if tok != json.Delim('{') {
		return nil, fmt.Errorf("a group is a JSON object, got %v", tok)
	}
	out := []Member{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		if key, _ := tok.(string); !strings.EqualFold(key, "members") {
			var skip json.RawMessage
			if err := dec.Decode(&skip); err != nil {
				return nil, err
			}
			continue
		}
		if out, err = decodeMemberList(dec); err != nil {
			return nil, err
		}
	}
	if _, err := dec.Token(); err != nil {
		return nil, err
	}
	return out, nil
}

// wireMember is a member as sent; any other sub-attribute ($ref) is
// skipped.
type wireMember struct {
	Value   *string `json:"value"`
	Display string  `json:"display"`
	Type    string  `json:"type"`
}

func decodeMemberList(dec *json.Decoder) ([]Member, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	if tok == nil {
		return []Member{}, nil
	}
	if tok != json.Delim('[') {
		return nil, fmt.Errorf("members must be an array, got %v", tok)
	}
	out := []Member{}
	for i := 0; dec.More(); i++ {
		var m wireMember
		if err := dec.Decode(&m); err != nil {
			return nil, fmt.Errorf("members[%d]: %w", i, err)
		}
		if m.Value == nil || *m.Value == "" {
			return nil, fmt.Errorf("members[%d] has no value (the member's id)", i)
		}
		out = append(out, Member{Value: *m.Value, Display: m.Display, Type: m.Type})
	}
	_, err = dec.Token()
	return out, err
}
