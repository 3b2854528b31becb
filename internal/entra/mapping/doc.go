// Package mapping owns the Entra app's attribute mappings and scoping
// (DESIGN §2, §5): the mapping file (docs/mapping.md,
// docs/mapping.schema.json), Metric Insights' documented default, scoping
// by assignment and by scoping filters, the computed IsSoftDeleted, and
// the one function that turns a tenant object into the SCIM resource Entra
// would want the target to hold, with the provenance of every value.
//
// Use: Load (or Default) once; New binds the mapping to a tenant snapshot
// and a scope; Mapper.User and Mapper.Group give each object's Desired
// resource. Expressions are parsed at load, so mapping an object parses
// nothing; a Mapper is immutable and safe for concurrent use. simulate,
// diff, tenant check and expr all map through it, so none of them
// re-implements a rule.
//
// The rules follow Microsoft's documentation (reference/entra-behavior.md
// §2, §3, §5): Direct, Constant, Expression and None mappings; "default
// value if null" on create only; "apply this mapping" Always or only
// during object creation; matching attributes tried in precedence order;
// scoping filters as an OR of AND-ed clauses, each false on a null or
// empty value; IsSoftDeleted true for a user that is unassigned, out of a
// scoping filter, soft-deleted or disabled; booleans as "True"/"False";
// nulls never flow. Where the documentation is silent, the choice taken is
// written in docs/mapping.md.
//
// The package reads the mapping file and nothing else; it never prints.
package mapping
