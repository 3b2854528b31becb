package mapping

import (
	"strings"

	"github.com/miscim/miscim/internal/entra/expr"
	"github.com/miscim/miscim/internal/entra/tenant"
)

// userAttrs is what mappings, expressions and scoping filters read for a
// user: the tenant's attributes with Entra's computed ones on top.
type userAttrs struct {
	u    *tenant.User
	soft expr.Value // IsSoftDeleted; null while scope is being decided
}

// Attr implements expr.Attributes.
func (a *userAttrs) Attr(name string) expr.Value {
	switch name {
	case AttrIsSoftDeleted:
		return a.soft
	case "userPrincipalName":
		vals, multi, ok := a.u.AttrValues(name)
		if !ok || len(vals) != 1 {
			return valueOf(vals, ok, multi)
		}
		return expr.Str(GuestUPN(vals[0]))
	case AttrOriginalUPN:
		if vals, multi, ok := a.u.AttrValues(name); ok {
			return valueOf(vals, true, multi)
		}
		vals, multi, ok := a.u.AttrValues("userPrincipalName")
		return valueOf(vals, ok, multi)
	}
	vals, multi, ok := a.u.AttrValues(name)
	return valueOf(vals, ok, multi)
}

// groupAttrs is what a group's mappings read.
type groupAttrs struct{ g *tenant.Group }

// Attr implements expr.Attributes.
func (a groupAttrs) Attr(name string) expr.Value {
	vals, multi, ok := a.g.AttrValues(name)
	return valueOf(vals, ok, multi)
}

func valueOf(vals []string, ok, multi bool) expr.Value {
	switch {
	case !ok || len(vals) == 0:
		return expr.Null()
	case multi || len(vals) > 1:
		return expr.Multi(vals...)
	}
	return expr.Str(vals[0])
}

// GuestUPN is the userPrincipalName Entra's mappings read for a B2B guest:
// "alias_theirdomain#EXT#@yourdomain" becomes "alias@theirdomain", the
// #EXT# and the inviting tenant's domain stripped (HOW, "B2B (guest)
// users"; originalUserPrincipalName keeps the full form). Other UPNs are
// returned as they are.
func GuestUPN(upn string) string {
	i := extIndex(upn)
	if i < 0 {
		return upn
	}
	local := upn[:i]
	if j := strings.LastIndexByte(local, '_'); j >= 0 {
		return local[:j] + "@" + local[j+1:]
	}
	return local
}

// extIndex finds "#EXT#" in any case without allocating: every user's UPN
// goes through it.
func extIndex(s string) int {
	for i := 0; i+5 <= len(s); {
		j := strings.IndexByte(s[i:], '#')
		if j < 0 {
			return -1
		}
		i += j
		if i+5 <= len(s) && strings.EqualFold(s[i:i+5], "#EXT#") {
			return i
		}
		i++
	}
	return -1
}

// Overlay returns attributes that read over first and base for the names
// over does not hold: `miscim expr --tenant … --user … --set a=b` gives
// the tenant user's attributes with the --set values on top.
func Overlay(over expr.Map, base expr.Attributes) expr.Attributes {
	return overlay{over: over, base: base}
}

type overlay struct {
	over expr.Map
	base expr.Attributes
}

func (o overlay) Attr(name string) expr.Value {
	if v, ok := o.over[name]; ok {
		return v
	}
	return o.base.Attr(name)
}
