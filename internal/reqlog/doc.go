// Package reqlog owns miscim's request-log format (DESIGN §3.7): one JSON
// document per SCIM request and response, written to a directory with
// file names that sort in request order, with credentials redacted.
//
// The server writes records through Writer while ENABLE_SCIM_REQUEST_LOGGER
// is Y; readers (for `miscim replay`) come later and must keep accepting
// every earlier FormatVersion. docs/request-log.md describes the format and
// docs/request-log.schema.json is its JSON Schema; tests keep Record and the
// schema in step.
package reqlog
