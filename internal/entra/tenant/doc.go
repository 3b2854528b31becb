// Package tenant owns the source directory as Microsoft Entra ID's
// provisioning service sees it (DESIGN §2, §5): users, groups, direct
// memberships and the app's assignments, read from a tenant export and
// held as one immutable, indexed snapshot.
//
// Load reads a path in any of the three input formats, told apart by
// their content (docs/tenant.md): miscim's native YAML or JSON snapshot
// (docs/tenant.schema.json), a Microsoft Graph export directory (users.json,
// groups.json, members/<group id>.json, assignments.json, deletedItems.json,
// each in one or several pages, delta pages included), and the Entra admin
// center's or PowerShell's CSV downloads. Every format becomes the same
// model; every object remembers where it came from (file, line, JSON path
// or CSV column) for error messages and findings.
//
// Attributes are read by their Entra source-attribute names (objectId,
// userPrincipalName, mail, extensionAttribute1, physicalDeliveryOfficeName,
// …), the names attribute mappings and expressions use; loaders translate
// Graph and CSV names into them. Booleans read as "True"/"False", as the
// provisioning engine renders them (reference/entra-behavior.md §5.2).
//
// Memberships are direct: a nested group is a member of kind group and is
// never expanded, because Entra provisions only the direct members of an
// assigned group (entra-behavior §2.1). What an export cannot tell (a
// group of exactly 20 members from $expand=members, an export without
// accountEnabled) is reported as a Finding on the snapshot, not guessed.
//
// The package reads files and nothing else; it never prints.
package tenant
