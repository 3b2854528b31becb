// Package replay re-sends logged SCIM requests to a target and compares
// the answers with the logged ones (DESIGN §7): it chooses what is sent
// (SCIM requests only, filtered by time and pattern), orders and schedules
// the requests (per-resource order under concurrency), remaps the ids the
// log's responses introduced to the ids the target returns, compares each
// response with the logged one (status, then body without volatile fields,
// set-like arrays as sets, ids after remapping) and reports the outcome of
// every request.
//
// It reads logs through internal/reqlog and talks to the target only
// through internal/client's raw requests, so it works the same against the
// embedded engine, a `miscim serve` and a real Metric Insights. It returns
// values and never prints; internal/cli/replay renders them.
// docs/replay.md describes the rules.
package replay
