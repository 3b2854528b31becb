package client

import (
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
)

func TestGroupMembers(t *testing.T) {
	for _, tc := range []struct {
		name, body string
		want       []Member
		err        string
	}{
		{"projection honoured", `{"id":"g1","members":[{"value":"u1","display":"ann","type":"User","$ref":"http://x/Users/u1"},{"value":"u2"}]}`,
			[]Member{{Value: "u1", Display: "ann", Type: "User"}, {Value: "u2"}}, ""},
		{"whole group, members key in another case", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"id":"g1","displayName":"Sales","Members":[{"value":"u3"}],"meta":{"resourceType":"Group"}}`,
			[]Member{{Value: "u3"}}, ""},
		{"no members", `{"id":"g1"}`, []Member{}, ""},
		{"null members", `{"id":"g1","members":null}`, []Member{}, ""},
		{"member without value", `{"id":"g1","members":[{"display":"ann"}]}`, nil, "members[0] has no value"},
		{"members not an array", `{"id":"g1","members":{"value":"u1"}}`, nil, "members must be an array"},
		{"not JSON", `<html>`, nil, "not SCIM JSON"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var query string
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				query = r.URL.Path + "?" + r.URL.RawQuery
				w.Header().Set("Content-Type", "application/scim+json")
				_, _ = w.Write([]byte(tc.body))
			}))
			defer srv.Close()
			got, err := newClient(t, srv.URL+"/scim/v2", nil).GroupMembers(context.Background(), "g 1")
			if query != "/scim/v2/Groups/g 1?attributes=members" {
				t.Errorf("request %q", query)
			}
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil || !slices.Equal(got, tc.want) {
				t.Fatalf("GroupMembers = %+v, %v; want %+v", got, err, tc.want)
			}
		})
	}
}
