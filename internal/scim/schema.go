package scim

import "strings"

// Schema URNs used by miscim (RFC 7643 §8.7, RFC 7644 §3).
const (
	UserSchema            = "urn:ietf:params:scim:schemas:core:2.0:User"
	GroupSchema           = "urn:ietf:params:scim:schemas:core:2.0:Group"
	EnterpriseUserSchema  = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
	MiscimUserSchema      = "urn:ietf:params:scim:schemas:extension:miscim:2.0:User"
	ListResponseSchema    = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
	PatchOpSchema         = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
	ServiceProviderSchema = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"
	ResourceTypeSchema    = "urn:ietf:params:scim:schemas:core:2.0:ResourceType"
	SchemaSchema          = "urn:ietf:params:scim:schemas:core:2.0:Schema"
)

// AttrType is an attribute data type (RFC 7643 §2.3).
type AttrType string

// Attribute data types.
const (
	TypeString    AttrType = "string"
	TypeBoolean   AttrType = "boolean"
	TypeDecimal   AttrType = "decimal"
	TypeInteger   AttrType = "integer"
	TypeDateTime  AttrType = "dateTime"
	TypeReference AttrType = "reference"
	TypeComplex   AttrType = "complex"
)

// Mutability values (RFC 7643 §7).
const (
	ReadOnly  = "readOnly"
	ReadWrite = "readWrite"
	Immutable = "immutable"
	WriteOnly = "writeOnly"
)

// Attribute describes one attribute of a schema (RFC 7643 §7).
type Attribute struct {
	Name           string
	Type           AttrType
	MultiValued    bool
	Required       bool
	CaseExact      bool
	Mutability     string
	Returned       string
	Uniqueness     string
	Description    string
	ReferenceTypes []string
	SubAttributes  []*Attribute
}

// Sub returns the sub-attribute called name, matched case-insensitively
// (RFC 7643 §2.1: attribute names are case insensitive), or nil.
func (a *Attribute) Sub(name string) *Attribute {
	if a == nil {
		return nil
	}
	for _, s := range a.SubAttributes {
		if strings.EqualFold(s.Name, name) {
			return s
		}
	}
	return nil
}

// Schema is one schema: the core schema of a resource type or an extension.
type Schema struct {
	ID          string
	Name        string
	Description string
	Attributes  []*Attribute
}

// Attr returns the attribute called name, matched case-insensitively, or nil.
func (s *Schema) Attr(name string) *Attribute {
	if s == nil {
		return nil
	}
	for _, a := range s.Attributes {
		if strings.EqualFold(a.Name, name) {
			return a
		}
	}
	return nil
}

// ResourceSchema is a resource type's core schema with its extensions.
type ResourceSchema struct {
	Name       string // "User" or "Group"
	Endpoint   string // "/Users" or "/Groups"
	Core       *Schema
	Extensions []*Schema
}

// SchemaByURI returns the core schema or the extension with that URN
// (case-insensitive), or nil.
func (rs *ResourceSchema) SchemaByURI(uri string) *Schema {
	if strings.EqualFold(rs.Core.ID, uri) {
		return rs.Core
	}
	for _, e := range rs.Extensions {
		if strings.EqualFold(e.ID, uri) {
			return e
		}
	}
	return nil
}

// IsCore reports whether uri is empty or names the core schema.
func (rs *ResourceSchema) IsCore(uri string) bool {
	return uri == "" || strings.EqualFold(rs.Core.ID, uri)
}

// Lookup finds the definition of a top-level attribute. An empty uri means
// the core schema (RFC 7644 §3.10); common attributes (id, externalId, meta)
// belong to the core schema here. It returns nil for attributes miscim does
// not keep.
func (rs *ResourceSchema) Lookup(uri, name string) *Attribute {
	if uri == "" {
		if a := rs.Core.Attr(name); a != nil {
			return a
		}
		return nil
	}
	return rs.SchemaByURI(uri).Attr(name)
}

// LookupPath returns the definition of a path's attribute, or of its
// sub-attribute when the path has one; nil when miscim does not keep it.
func (rs *ResourceSchema) LookupPath(p AttrPath) *Attribute {
	a := rs.Lookup(p.URI, p.Name)
	if p.SubAttr != "" {
		return a.Sub(p.SubAttr)
	}
	return a
}

func str(name string, caseExact bool, mut string) *Attribute {
	return &Attribute{Name: name, Type: TypeString, CaseExact: caseExact, Mutability: mut, Returned: "default", Uniqueness: "none"}
}

func metaAttribute() *Attribute {
	return &Attribute{Name: "meta", Type: TypeComplex, Mutability: ReadOnly, Returned: "default",
		Description: "Resource metadata.",
		SubAttributes: []*Attribute{
			str("resourceType", true, ReadOnly),
			{Name: "created", Type: TypeDateTime, Mutability: ReadOnly, Returned: "default"},
			{Name: "lastModified", Type: TypeDateTime, Mutability: ReadOnly, Returned: "default"},
			{Name: "location", Type: TypeReference, ReferenceTypes: []string{"uri"}, CaseExact: true, Mutability: ReadOnly, Returned: "default"},
			str("version", true, ReadOnly),
		}}
}

func idAttribute() *Attribute {
	a := str("id", true, ReadOnly)
	a.Returned, a.Uniqueness = "always", "server"
	a.Description = "Server-assigned, stable identifier."
	return a
}

func externalIDAttribute(desc string) *Attribute {
	a := str("externalId", true, ReadWrite)
	a.Description = desc
	return a
}

// User is the schema of the User resource as Metric Insights keeps it: only
// these attributes are stored and returned; anything else a client sends is
// ignored ("only documented fields are supported; unsupported fields will be
// ignored", MI help article 1984030).
var User = &ResourceSchema{
	Name:     "User",
	Endpoint: "/Users",
	Core: &Schema{
		ID:          UserSchema,
		Name:        "User",
		Description: "User Account",
		Attributes: []*Attribute{
			idAttribute(),
			externalIDAttribute("Identifier from the provisioning client (Entra objectId). Not unique."),
			{Name: "userName", Type: TypeString, Required: true, Mutability: ReadWrite, Returned: "always", Uniqueness: "server",
				Description: "MI Username; at most 100 characters; unique case-insensitively."},
			{Name: "name", Type: TypeComplex, Mutability: ReadWrite, Returned: "default", Description: "MI First and Last Name.",
				SubAttributes: []*Attribute{str("givenName", false, ReadWrite), str("familyName", false, ReadWrite)}},
			{Name: "emails", Type: TypeComplex, MultiValued: true, Required: true, Mutability: ReadWrite, Returned: "default",
				Description: "MI Email: the work address, else the primary, else the first.",
				SubAttributes: []*Attribute{str("value", false, ReadWrite), str("type", false, ReadWrite),
					{Name: "primary", Type: TypeBoolean, Mutability: ReadWrite, Returned: "default"}}},
			{Name: "active", Type: TypeBoolean, Mutability: ReadWrite, Returned: "default", Description: "MI enabled (true) or disabled (false)."},
			metaAttribute(),
		},
	},
	Extensions: []*Schema{{
		ID:          MiscimUserSchema,
		Name:        "MiscimUser",
		Description: "The Metric Insights view of a user (read-only).",
		Attributes: []*Attribute{
			str("miUsername", false, ReadOnly),
			str("userType", false, ReadOnly),
			str("authMethod", false, ReadOnly),
			str("source", false, ReadOnly),
		},
	}},
}

// Group is the schema of the Group resource as Metric Insights keeps it.
var Group = &ResourceSchema{
	Name:     "Group",
	Endpoint: "/Groups",
	Core: &Schema{
		ID:          GroupSchema,
		Name:        "Group",
		Description: "Group",
		Attributes: []*Attribute{
			idAttribute(),
			externalIDAttribute("MI Group Alias."),
			{Name: "displayName", Type: TypeString, Required: true, Mutability: ReadWrite, Returned: "always", Uniqueness: "server",
				Description: "MI group Name; unique case-insensitively."},
			str("description", false, ReadWrite),
			{Name: "members", Type: TypeComplex, MultiValued: true, Mutability: ReadWrite, Returned: "default",
				Description: "Members of the group (user ids only).",
				SubAttributes: []*Attribute{str("value", true, Immutable), str("display", false, ReadOnly),
					{Name: "$ref", Type: TypeReference, ReferenceTypes: []string{"User"}, CaseExact: true, Mutability: Immutable, Returned: "default"},
					str("type", false, Immutable)}},
			metaAttribute(),
		},
	},
}
