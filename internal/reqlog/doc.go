// Package reqlog owns miscim's request-log format (DESIGN §3.7): one JSON
// document per SCIM request and response, written to a directory with
// file names that sort in request order, with credentials redacted.
//
// The server writes records through Writer while ENABLE_SCIM_REQUEST_LOGGER
// is Y. Read gives `miscim replay` the Exchanges of any request log it
// meets: miscim's own records of every FormatVersion (each version has a
// decoder, miscim.go), generic JSON and JSON Lines records found by field
// aliases, HAR 1.2 and raw HTTP/1.1 dumps, gzip-compressed or not, with
// each malformed record reported as a Problem with its position.
// docs/request-log.md describes the format and docs/request-log.schema.json
// is its JSON Schema; tests keep Record and the schema in step;
// docs/replay.md describes the readers.
package reqlog
