// Package diff owns the comparison of what a tenant should produce in a
// target with what the target holds (DESIGN §6), and of two targets with
// each other: reading a target's users, groups and memberships through
// SCIM (Read), pairing objects the way Entra's matching finds them,
// comparing the attributes the mapping keeps in step the way Entra
// compares them before an update, and listing every difference as a
// Change with what the next provisioning cycle does about it.
//
// Desired state is the tenant mapped by internal/entra/mapping, the same
// scoping and mapping simulate uses. Actual state is a Snapshot: each
// target object reduced to what pairing and comparison read, normalised
// as Metric Insights keeps it (booleans by meaning, the email MI shows).
//
// Pairing (Pair): users by the mapping's matching attributes in
// precedence order (userName by default, compared case-insensitively),
// then by externalId; groups by displayName, then externalId. A user
// Metric Insights disabled by soft delete keeps its SCIM userName, and a
// target that shows the scim-deleted-<8>- prefix in it anyway is read
// without it: neither is a rename. Two tenant objects that would match
// one target object, and a tenant object that matches several, are
// duplicates, paired with nothing.
//
// The rules of what counts and what the next cycle does are Entra's
// (reference/entra-behavior.md §2–§3) and written in docs/diff.md; the
// package reads the target through internal/client only and never prints.
package diff
