package scim

import "strings"

// DiscoveryMaxResults is the filter.maxResults advertised in the
// ServiceProviderConfig. It must equal engine.MaxResults, the largest page
// the engine answers (RFC 7644 §3.4.2.4); scim cannot import the engine, so
// the server's tests check that the two agree.
const DiscoveryMaxResults = 1000

// resourceSchemas are the resource types miscim serves, in the order
// /ResourceTypes lists them: User first, as Microsoft's tests read
// Resources[0].endpoint == "/Users" (entra-behavior §6).
var resourceSchemas = []*ResourceSchema{User, Group}

// ServiceProviderConfig describes what the engine supports (RFC 7643 §5).
// baseURL is the absolute SCIM base URL (…/scim/v2), used for
// meta.location.
//
// The entity-tag capability is written twice: "etag" as RFC 7643 §5 names
// it, and "eTag" as Microsoft's reference server spells it, because
// Microsoft's Playwright tests look the key up case-sensitively
// (EndpointTests.GetServiceProviderConfig). SCIM attribute names are case
// insensitive, so a client reading either finds the same value.
func ServiceProviderConfig(baseURL string) Resource {
	etag := map[string]any{"supported": true}
	return Resource{
		"schemas": []any{ServiceProviderSchema},
		// RFC 7644 §3.5.2, in both of Entra's dialects.
		"patch": map[string]any{"supported": true},
		// No /Bulk endpoint: Entra never sends bulk requests.
		"bulk":   map[string]any{"supported": false, "maxOperations": 0, "maxPayloadSize": 0},
		"filter": map[string]any{"supported": true, "maxResults": DiscoveryMaxResults},
		// RFC 9865 §4: both paging methods; index stays the default, so a
		// client that knows only startIndex sees no change (§2.4). Cursors
		// hold a position, not server state, and never expire: no
		// cursorTimeout.
		"pagination": map[string]any{
			"cursor":                  true,
			"index":                   true,
			"defaultPaginationMethod": "index",
			"defaultPageSize":         DiscoveryMaxResults,
			"maxPageSize":             DiscoveryMaxResults,
		},
		// MI users authenticate with SSO; SCIM never carries passwords.
		"changePassword": map[string]any{"supported": false},
		"sort":           map[string]any{"supported": true},
		"etag":           etag,
		"eTag":           etag,
		"authenticationSchemes": []any{map[string]any{
			"type":        "oauthbearertoken",
			"name":        "OAuth Bearer Token",
			"description": "Authentication scheme using the OAuth Bearer Token Standard",
			"specUri":     "https://www.rfc-editor.org/info/rfc6750",
			"primary":     true,
		}},
		"meta": map[string]any{
			"resourceType": "ServiceProviderConfig",
			"location":     joinURL(baseURL, "/ServiceProviderConfig"),
		},
	}
}

// ResourceTypes describes the User and Group resource types (RFC 7643 §6),
// User first.
func ResourceTypes(baseURL string) []Resource {
	out := make([]Resource, 0, len(resourceSchemas))
	for _, rs := range resourceSchemas {
		out = append(out, resourceType(baseURL, rs))
	}
	return out
}

// ResourceType returns the resource type called name (case-insensitive:
// "User" or "Group").
func ResourceType(baseURL, name string) (Resource, bool) {
	for _, rs := range resourceSchemas {
		if strings.EqualFold(rs.Name, name) {
			return resourceType(baseURL, rs), true
		}
	}
	return nil, false
}

func resourceType(baseURL string, rs *ResourceSchema) Resource {
	doc := Resource{
		"schemas":     []any{ResourceTypeSchema},
		"id":          rs.Name,
		"name":        rs.Name,
		"endpoint":    rs.Endpoint,
		"description": rs.Core.Description,
		"schema":      rs.Core.ID,
		"meta": map[string]any{
			"resourceType": "ResourceType",
			"location":     joinURL(baseURL, "/ResourceTypes/"+rs.Name),
		},
	}
	if len(rs.Extensions) > 0 {
		exts := make([]any, len(rs.Extensions))
		for i, e := range rs.Extensions {
			// The miscim extension is read-only output; no client has to
			// send it.
			exts[i] = map[string]any{"schema": e.ID, "required": false}
		}
		doc["schemaExtensions"] = exts
	}
	return doc
}

// Schemas describes every schema miscim serves (RFC 7643 §7): the core
// User schema (description "User Account", which Microsoft's tests look
// for), its miscim extension, and the core Group schema. Only attributes
// the engine keeps are listed, so schema discovery shows exactly what is
// stored; the common attributes id, externalId and meta are listed too,
// as RFC 7643 §3.1 allows.
func Schemas(baseURL string) []Resource {
	var out []Resource
	for _, rs := range resourceSchemas {
		out = append(out, schemaResource(baseURL, rs.Core))
		for _, e := range rs.Extensions {
			out = append(out, schemaResource(baseURL, e))
		}
	}
	return out
}

// SchemaByID returns the schema whose URN is id (case-insensitive).
func SchemaByID(baseURL, id string) (Resource, bool) {
	for _, rs := range resourceSchemas {
		if s := rs.SchemaByURI(id); s != nil {
			return schemaResource(baseURL, s), true
		}
	}
	return nil, false
}

func schemaResource(baseURL string, s *Schema) Resource {
	attrs := make([]any, len(s.Attributes))
	for i, a := range s.Attributes {
		attrs[i] = attributeDoc(a)
	}
	return Resource{
		"schemas":     []any{SchemaSchema},
		"id":          s.ID,
		"name":        s.Name,
		"description": s.Description,
		"attributes":  attrs,
		"meta": map[string]any{
			"resourceType": "Schema",
			"location":     joinURL(baseURL, "/Schemas/"+s.ID),
		},
	}
}

// attributeDoc renders an attribute definition with the characteristics of
// RFC 7643 §7. Unset characteristics get the defaults of RFC 7643 §2.2
// (readWrite, default, none) so that every attribute states them all;
// description and referenceTypes are omitted when empty, as Entra prefers
// absent values to nulls (entra-behavior §6).
func attributeDoc(a *Attribute) map[string]any {
	doc := map[string]any{
		"name":        a.Name,
		"type":        string(a.Type),
		"multiValued": a.MultiValued,
		"required":    a.Required,
		"caseExact":   a.CaseExact,
		"mutability":  orDefault(a.Mutability, ReadWrite),
		"returned":    orDefault(a.Returned, "default"),
		"uniqueness":  orDefault(a.Uniqueness, "none"),
	}
	if a.Description != "" {
		doc["description"] = a.Description
	}
	if len(a.ReferenceTypes) > 0 {
		refs := make([]any, len(a.ReferenceTypes))
		for i, r := range a.ReferenceTypes {
			refs[i] = r
		}
		doc["referenceTypes"] = refs
	}
	if len(a.SubAttributes) > 0 {
		subs := make([]any, len(a.SubAttributes))
		for i, s := range a.SubAttributes {
			subs[i] = attributeDoc(s)
		}
		doc["subAttributes"] = subs
	}
	return doc
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func joinURL(base, path string) string {
	return strings.TrimRight(base, "/") + path
}
