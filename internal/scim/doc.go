// Package scim owns the SCIM 2.0 protocol as data: resource documents, list
// responses, error bodies, the schemas miscim serves, the RFC 7644 §3.4.2.2
// filter language, attribute paths and PATCH operations (RFC 7644 §3.5.2,
// including both dialects Microsoft Entra ID sends).
//
// It performs no I/O and must not import net/http, the store, the engine or
// any terminal code: the engine and the HTTP server both build on it.
package scim
