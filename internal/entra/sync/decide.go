package sync

import (
	"encoding/json"
	"net/url"
	"strings"
	"time"

	"github.com/miscim/miscim/internal/entra/expr"
	"github.com/miscim/miscim/internal/entra/mapping"
	"github.com/miscim/miscim/internal/entra/provlog"
	"github.com/miscim/miscim/internal/scim"
)

// Purpose says what a request is for in an object's evaluation.
type Purpose uint8

const (
	PurposeProbe   Purpose = iota + 1 // the cycle's test-connection query
	PurposeMatch                      // a matching query by filter
	PurposeRead                       // GET of a linked object by id
	PurposeCreate                     // POST
	PurposeUpdate                     // PATCH of attributes (update, disable)
	PurposeDelete                     // DELETE
	PurposeMembers                    // PATCH of group members
)

var purposeNames = [...]string{"", "probe", "match", "read", "create", "update", "delete", "members"}

func (p Purpose) String() string {
	if int(p) < len(purposeNames) {
		return purposeNames[p]
	}
	return "request"
}

// Request is one SCIM request as the provisioning service sends it.
type Request struct {
	Method string
	// Path is relative to the SCIM base URL, with its query, encoded as
	// sent: /Users?filter=userName%20eq%20%22ann%40example.com%22.
	Path    string
	Body    []byte
	Purpose Purpose
	// Match is the matching attribute a PurposeMatch request queries.
	Match *mapping.Match
}

// Response is what the target answered. Status is 0 when no answer came
// (Err says why; Timeout when the request timed out).
type Response struct {
	Status  int
	Body    []byte
	Err     error
	Timeout bool
	// RetryAfter is the target's Retry-After, when it sent one.
	RetryAfter time.Duration
	// Retries is how often the request was retried before this answer.
	Retries  int
	Duration time.Duration

	// The body decoded, once: the decision looks at earlier answers
	// again at every step.
	decoded bool
	list    []scim.Resource
	res     scim.Resource
	decErr  error
}

// List is the answer as a ListResponse's Resources.
func (r *Response) List() ([]scim.Resource, error) {
	if !r.decoded {
		r.list, r.decErr = decodeList(r.Body)
		r.decoded = true
	}
	return r.list, r.decErr
}

// Resource is the answer as one resource.
func (r *Response) Resource() (scim.Resource, error) {
	if !r.decoded {
		r.res, r.decErr = decodeResource(r.Body)
		r.decoded = true
	}
	return r.res, r.decErr
}

// OK reports a 2xx answer.
func (r *Response) OK() bool { return r.Status >= 200 && r.Status < 300 }

// Exchange is a request and its answer.
type Exchange struct {
	Request  Request
	Response Response
}

// Entry is what the connector space remembers of one source object: the
// link to its target object and what was last exported (DESIGN §5).
type Entry struct {
	Kind     mapping.ObjectKind
	SourceID string
	// TargetID is the linked target object's id; "" when the object is
	// not linked (never provisioned, or no longer managed).
	TargetID string
	// Name is the object's UPN or display name when last evaluated, for
	// records of objects that left the tenant.
	Name string
	// Disabled: the last export left the target object inactive.
	Disabled bool
	// Digest and MembersDigest are the fingerprints of the last synced
	// snapshot of the object and of its direct members (groups).
	Digest, MembersDigest uint64
	// Exported are the values last exported, by target path (loaded for
	// dry runs only; nil otherwise).
	Exported map[string]string
	Escrow   *Escrow

	// seen marks an entry the cycle's scan found in the tenant.
	seen bool
}

// Linked reports whether the entry links a target object.
func (e *Entry) Linked() bool { return e != nil && e.TargetID != "" }

// Escrow is a failed object waiting for its retry (HOW "Errors and
// retries"; QUAR "Retry duration").
type Escrow struct {
	ErrorCode string
	Reason    string
	// Failures counts the consecutive failed attempts.
	Failures int
	// First, Last and Next are job times: the first failure of the series,
	// the latest, and when the object is retried.
	First, Last, Next time.Time
}

// Case is one object's evaluation: what the tenant wants, what the
// connector space remembers, the settings, and the exchanges with the
// target so far.
type Case struct {
	Kind mapping.ObjectKind
	// Desired is the mapped object; nil when it is gone from the tenant
	// (hard-deleted).
	Desired *mapping.Desired
	Entry   *Entry
	Actions mapping.Actions
	Policy  *Policy
	// SkipOutOfScopeDeletions is the job setting in force.
	SkipOutOfScopeDeletions bool
	// Stage: removals are staged this cycle (the deletion threshold is
	// exceeded and deletes are not allowed).
	Stage   bool
	History []Exchange
}

// LinkChange says what becomes of the entry's link.
type LinkChange uint8

const (
	LinkKeep   LinkChange = iota // as it was
	LinkSet                      // linked to Outcome.TargetID
	LinkDrop                     // no longer managed: the link is dropped, the entry kept
	LinkForget                   // the object is gone: the entry is removed
)

// Outcome is how an object's evaluation ended.
type Outcome struct {
	Action provlog.Action
	Status provlog.Status
	// SkipReason for skipped objects: NotEffectivelyEntitled,
	// RedundantExport …
	SkipReason string
	// Why explains a skip for people.
	Why string
	// ErrorCode and Detail for failures (entra-behavior §4.6); Detail is
	// what failed, the target's answer quoted.
	ErrorCode string
	Detail    string
	// Escrow: the failure is retried on a later cycle.
	Escrow   bool
	Link     LinkChange
	TargetID string
	// Disabled: the target object is now inactive as far as Entra knows.
	Disabled bool
	// Changes are what the export set or would set.
	Changes []Change
	// NoRecord: nothing to log (an object never provisioned left the
	// tenant).
	NoRecord bool
}

// Decision is the next step of an evaluation: a request to send, or the
// outcome.
type Decision struct {
	Next    *Request
	Outcome *Outcome
}

func send(r Request) Decision   { return Decision{Next: &r} }
func done(o Outcome) Decision   { return Decision{Outcome: &o} }
func (c *Case) step(i int) bool { return len(c.History) > i }

// Error codes of the provisioning log (entra-behavior §4.6, LOGS-ERR).
const (
	CodeEntryConflict          = "EntryConflict"
	CodeInvalidAnchor          = "InvalidAnchor"
	CodeDuplicateTargetEntries = "DuplicateTargetEntries"
	CodeImportSkipped          = "ImportSkipped"
	CodeTooManyRequests        = "TooManyRequests"
	CodeTimeout                = "Timeout"
	CodeInternalServerError    = "InternalServerError"
	CodeNotImplemented         = "NotImplemented"
	CodeUnauthorized           = "Unauthorized"
	CodeInsufficientRights     = "InsufficientRights"
	CodeMethodNotAllowed       = "MethodNotAllowed"
	CodeUnprocessableEntity    = "UnprocessableEntity"
	CodeProtocolError          = "WebExceptionProtocolError"
	// CodeBadRequest is what Entra logs for a 400 (1Password/scim-examples
	// #82: "StatusCode: BadRequest … ErrorCode
	// SystemForCrossDomainIdentityManagementBadRequest").
	CodeBadRequest   = "SystemForCrossDomainIdentityManagementBadRequest"
	CodeIncompatible = "SystemForCrossDomainIdentityManagementServiceIncompatible"
	// CodeExpressionFailed and CodeBooleanValue are miscim's names for
	// Entra's own export failures, whose codes Microsoft does not
	// document: an expression that fails on the object, and a Boolean
	// value the export-error policy refuses.
	CodeExpressionFailed = "ExpressionEvaluationFailed"
	CodeBooleanValue     = "InvalidBooleanValue"
)

// Skip reasons.
const (
	SkipNotEntitled = "NotEffectivelyEntitled"
	SkipRedundant   = "RedundantExport"
	SkipNotAllowed  = "TargetActionNotAllowed"
)

// failure turns a target's answer into the failed outcome of an action.
func failure(action provlog.Action, x *Exchange, anchor bool) Outcome {
	r := &x.Response
	o := Outcome{Action: action, Status: provlog.StatusFailure, Escrow: true}
	o.ErrorCode = statusCode(r, anchor)
	o.Detail = responseDetail(x)
	return o
}

// statusCode is the log's error code for an answer (LOGS-ERR). anchor: the
// request addressed a linked object by id, so a 404 means the object the
// service created or matched is gone (InvalidAnchor).
func statusCode(r *Response, anchor bool) string {
	switch {
	case r.Status == 0 && r.Timeout:
		return CodeTimeout
	case r.Status == 0:
		return CodeProtocolError
	case r.Status == 404 && anchor:
		return CodeInvalidAnchor
	}
	switch r.Status {
	case 400:
		return CodeBadRequest
	case 401:
		return CodeUnauthorized
	case 403:
		return CodeInsufficientRights
	case 405:
		return CodeMethodNotAllowed
	case 409:
		return CodeEntryConflict
	case 422:
		return CodeUnprocessableEntity
	case 429:
		return CodeTooManyRequests
	case 500:
		return CodeInternalServerError
	case 501:
		return CodeNotImplemented
	case 404, 412:
		return CodeIncompatible
	}
	if r.Status >= 300 && r.Status < 400 {
		return CodeIncompatible
	}
	return CodeProtocolError
}

// responseDetail quotes what the target answered.
func responseDetail(x *Exchange) string {
	r := &x.Response
	if r.Status == 0 {
		if r.Err != nil {
			return r.Err.Error()
		}
		return "no response"
	}
	body := strings.Join(strings.Fields(string(r.Body)), " ")
	if len(body) > 600 {
		body = body[:600] + "…"
	}
	return "StatusCode: " + statusName(r.Status) + "\nMessage: Processing of the HTTP request resulted in an exception. Please see the HTTP response returned by the 'Response' property of this exception for details.\nWeb Response: " + body + "."
}

// statusName is the HTTP status as .NET names it in Entra's log text
// ("StatusCode: Conflict").
func statusName(s int) string {
	if n, ok := dotnetStatus[s]; ok {
		return n
	}
	return "Status" + itoa(s)
}

var dotnetStatus = map[int]string{
	200: "OK", 201: "Created", 204: "NoContent", 301: "MovedPermanently", 302: "Found", 307: "TemporaryRedirect",
	400: "BadRequest", 401: "Unauthorized", 403: "Forbidden", 404: "NotFound", 405: "MethodNotAllowed",
	406: "NotAcceptable", 408: "RequestTimeout", 409: "Conflict", 412: "PreconditionFailed", 413: "RequestEntityTooLarge",
	415: "UnsupportedMediaType", 422: "UnprocessableEntity", 429: "TooManyRequests", 500: "InternalServerError",
	501: "NotImplemented", 502: "BadGateway", 503: "ServiceUnavailable", 504: "GatewayTimeout",
}

func itoa(n int) string {
	var b [20]byte
	i := len(b)
	neg := n < 0
	if neg {
		n = -n
	}
	for {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
		if n == 0 {
			break
		}
	}
	if neg {
		i--
		b[i] = '-'
	}
	return string(b[i:])
}

// resourcePath is /Users/{id} or /Groups/{id}.
func resourcePath(k mapping.ObjectKind, id string) string {
	return "/" + endpoint(k) + "/" + url.PathEscape(id)
}

func endpoint(k mapping.ObjectKind) string {
	if k == mapping.Groups {
		return "Groups"
	}
	return "Users"
}

// queryEscape encodes a query value as Entra's requests show it, with
// %20 for spaces (entra-behavior §1: Microsoft's tests send %20eq%20%22).
func queryEscape(s string) string {
	return strings.ReplaceAll(url.QueryEscape(s), "+", "%20")
}

// FilterPath is a matching query: GET /Users?filter=<attr> eq "<value>"
// (SCIM-TUT "Get User by query"), or for groups GET
// /Groups?excludedAttributes=members&filter=displayName eq "<value>"
// (SCIM-TUT "Get Group by query").
func FilterPath(k mapping.ObjectKind, attr, value string) string {
	f := "filter=" + queryEscape(attr+" eq "+scim.QuoteString(value))
	if k == mapping.Groups {
		return "/Groups?excludedAttributes=members&" + f
	}
	return "/Users?" + f
}

// readPath is the GET of a linked object: groups without members
// (SCIM-TUT "Get Group").
func readPath(k mapping.ObjectKind, id string) string {
	if k == mapping.Groups {
		return resourcePath(k, id) + "?excludedAttributes=members"
	}
	return resourcePath(k, id)
}

// valueFunc returns the function giving each attribute's flowing value
// under the tombstone policy: with the rename off, a soft-deleted user's
// tombstone UPN is replaced by the UPN it had.
func (c *Case) valueFunc() valueFunc {
	d := c.Desired
	if !c.Policy.NoTombstoneRename || d == nil || d.User == nil || !d.User.SoftDeleted() {
		return plainValue
	}
	tomb, upn := d.User.TombstoneUPN(), d.User.UserPrincipalName()
	return func(v *mapping.AttrValue) expr.Value {
		val := v.Value()
		if s, ok := val.Single(); ok && tomb != "" && s == tomb {
			return expr.Str(upn)
		}
		return val
	}
}

// activeValue is the meaning of the desired active value: known false
// when the mapping would deactivate the user.
func activeValue(d *mapping.Desired) (active, known bool) {
	v, ok := d.Value("active")
	if !ok || v.Err != nil || v.Flow == mapping.FlowNone {
		return false, false
	}
	s, ok := v.Value().Single()
	if !ok {
		return false, false
	}
	return scim.ParseBool(s)
}

// unassignedOnly: the object left scope only by unassignment or a scoping
// filter, which ends its management (entra-edge-cases §3: unassign +
// reassign re-matches); a disabled or soft-deleted user stays linked, so
// that re-enabling and restoring PATCH the same id.
func unassignedOnly(s mapping.Scope) bool {
	return s.Causes&^(mapping.NotAssigned|mapping.FilteredOut) == 0
}

// skipsOutOfScope reports whether SkipOutOfScopeDeletions spares the
// object.
func (c *Case) skipsOutOfScope() bool {
	if !c.SkipOutOfScopeDeletions {
		return false
	}
	return c.Policy.SkipScope == SkipAllCauses || unassignedOnly(c.Desired.Scope)
}

// Removes reports whether the evaluation disables or deletes a target
// object: what the deletion threshold counts (DEL: unassignment, soft or
// hard delete, scoping change, lost membership). Groups are deleted in
// the cycle's last phase, after the users they leave out of scope.
func (c *Case) Removes() bool {
	if !c.Entry.Linked() {
		return false
	}
	if c.Desired == nil {
		return c.Actions.Delete
	}
	if c.Desired.Scope.InScope {
		return false
	}
	if c.Kind == mapping.Groups {
		return c.Actions.Delete && !c.Desired.Scope.Causes.Has(mapping.ProvisioningOff)
	}
	if c.skipsOutOfScope() || !c.Actions.Update || c.Entry.Disabled {
		return false
	}
	active, known := activeValue(c.Desired)
	return known && !active
}

// Decide is the Entra decision for one object: given the desired object,
// the connector space's entry and the exchanges so far, the next request
// to send or the outcome (entra-behavior §2–§3; entra-edge-cases §1–§3,
// §6–§8). It is pure: simulate, its dry runs, provisioning on demand and
// diff --plan all evaluate objects with it.
func Decide(c *Case) Decision {
	if c.Kind == mapping.Groups {
		return decideGroup(c)
	}
	return decideUser(c)
}

func decideUser(c *Case) Decision {
	e := c.Entry
	if c.Desired == nil {
		return decideDelete(c)
	}
	s := c.Desired.Scope
	if !s.InScope {
		if !e.Linked() {
			return done(Outcome{Action: provlog.ActionOther, Status: provlog.StatusSkipped, SkipReason: SkipNotEntitled, Why: s.String()})
		}
		if c.skipsOutOfScope() {
			return done(Outcome{Action: provlog.ActionOther, Status: provlog.StatusSkipped, SkipReason: SkipNotEntitled,
				Why: s.String() + "; SkipOutOfScopeDeletions is set: the user is not disabled"})
		}
		drop := LinkKeep
		if unassignedOnly(s) {
			drop = LinkDrop
		}
		active, known := activeValue(c.Desired)
		if !known || active {
			// No active ← IsSoftDeleted mapping: nothing deactivates the
			// user; it is only logged as skipped (AZD #22948).
			return done(Outcome{Action: provlog.ActionOther, Status: provlog.StatusSkipped, SkipReason: SkipNotEntitled, Link: drop,
				Why: s.String() + "; no mapped value deactivates the user (active is not mapped from IsSoftDeleted)"})
		}
		if !c.Actions.Update {
			return done(Outcome{Action: provlog.ActionOther, Status: provlog.StatusSkipped, SkipReason: SkipNotAllowed, Link: drop,
				Why: s.String() + "; Update is not a target object action, so the user cannot be disabled"})
		}
		if c.Stage && !e.Disabled {
			return done(Outcome{Action: provlog.ActionStagedDelete, Status: provlog.StatusSkipped, SkipReason: "StagedDelete",
				Why: "the cycle's disables and deletes exceed the deletion threshold: staged until deletes are allowed"})
		}
		return readAndUpdate(c, drop)
	}
	if err := c.Desired.Err(); err != nil {
		return done(Outcome{Action: provlog.ActionOther, Status: provlog.StatusFailure, ErrorCode: CodeExpressionFailed, Detail: err.Error()})
	}
	if e.Linked() {
		return readAndUpdate(c, LinkKeep)
	}
	return matchAndExport(c)
}

// decideDelete handles an object gone from the tenant: DELETE when it is
// still managed and Delete is a target action (HOW; DZ-DEL: only objects
// hard-deleted while in scope).
func decideDelete(c *Case) Decision {
	e := c.Entry
	if !e.Linked() {
		return done(Outcome{Action: provlog.ActionOther, Status: provlog.StatusSkipped, Link: LinkForget, NoRecord: true})
	}
	if !c.Actions.Delete {
		return done(Outcome{Action: provlog.ActionOther, Status: provlog.StatusSkipped, SkipReason: SkipNotAllowed, Link: LinkForget,
			Why: "deleted from the tenant; Delete is not a target object action, so the target object is left"})
	}
	if c.Stage {
		return done(Outcome{Action: provlog.ActionStagedDelete, Status: provlog.StatusSkipped, SkipReason: "StagedDelete",
			Why: "the cycle's disables and deletes exceed the deletion threshold: staged until deletes are allowed"})
	}
	if !c.step(0) {
		return send(Request{Method: "DELETE", Path: resourcePath(c.Kind, e.TargetID), Purpose: PurposeDelete})
	}
	x := &c.History[0]
	if x.Response.OK() || x.Response.Status == 404 {
		// 404: the object is already gone, which is what was asked.
		return done(Outcome{Action: provlog.ActionDelete, Status: provlog.StatusSuccess, Link: LinkForget})
	}
	return done(failure(provlog.ActionDelete, x, true))
}

// readAndUpdate reads a linked object by id, compares and updates it
// (entra-edge-cases §6.2): GET /Users/{id} → diff → PATCH, or skip with
// RedundantExport. A 404 is InvalidAnchor: escrowed, never re-created
// (entra-edge-cases §3).
func readAndUpdate(c *Case, link LinkChange) Decision {
	e := c.Entry
	if !c.step(0) {
		return send(Request{Method: "GET", Path: readPath(c.Kind, e.TargetID), Purpose: PurposeRead})
	}
	read := &c.History[0]
	if !read.Response.OK() {
		o := failure(actionOf(c), read, true)
		return done(o)
	}
	res, err := read.Response.Resource()
	if err != nil {
		return done(incompatible(actionOf(c), read, err))
	}
	return exportUpdate(c, res, e.TargetID, 1, link)
}

// exportUpdate PATCHes the changed attributes of a target object, read as
// res, or skips it.
func exportUpdate(c *Case, res scim.Resource, id string, at int, link LinkChange) Decision {
	d := c.Desired
	changes := diffResource(d, res, c.valueFunc())
	active, known := activeValue(d)
	disabled := c.Kind == mapping.Users && known && !active
	action := provlog.ActionUpdate
	if disabled && changesActive(changes) {
		action = provlog.ActionDisable
	}
	if len(changes) == 0 {
		return done(Outcome{Action: provlog.ActionOther, Status: provlog.StatusSkipped, SkipReason: SkipRedundant, Link: link, TargetID: id, Disabled: disabled,
			Why: "the state of the " + d.Kind.Singular() + " in both the source and target systems already match"})
	}
	if !c.Actions.Update {
		return done(Outcome{Action: provlog.ActionOther, Status: provlog.StatusSkipped, SkipReason: SkipNotAllowed, Link: link, TargetID: id, Changes: changes,
			Why: "Update is not a target object action"})
	}
	if !c.step(at) {
		body, err := patchBody(changes, c.Policy.Dialect, c.Policy.Boolean)
		if err != nil {
			return done(Outcome{Action: action, Status: provlog.StatusFailure, ErrorCode: CodeBooleanValue, Detail: err.Error(), Changes: changes})
		}
		return send(Request{Method: "PATCH", Path: resourcePath(c.Kind, id), Body: body, Purpose: PurposeUpdate})
	}
	x := &c.History[at]
	if !x.Response.OK() {
		o := failure(action, x, true)
		o.Changes = changes
		if link == LinkSet {
			// The match is kept: the next attempt PATCHes the same id.
			o.Link, o.TargetID = LinkSet, id
		}
		return done(o)
	}
	return done(Outcome{Action: action, Status: provlog.StatusSuccess, Link: link, TargetID: id, Disabled: disabled, Changes: changes})
}

func changesActive(changes []Change) bool {
	for i := range changes {
		if strings.EqualFold(changes[i].Attr.Target, "active") {
			return true
		}
	}
	return false
}

// actionOf is the action an update of a linked object is logged under.
func actionOf(c *Case) provlog.Action {
	if c.Desired != nil && !c.Desired.Scope.InScope {
		return provlog.ActionDisable
	}
	return provlog.ActionUpdate
}

// matchAndExport matches an object that is not linked, then creates or
// updates it (entra-behavior §2.2; entra-edge-cases §6.1): one filter
// query per matching attribute, in precedence order, until one finds
// something; none → POST; one → link, diff against it, PATCH or skip;
// more → DuplicateTargetEntries.
func matchAndExport(c *Case) Decision {
	d := c.Desired
	var ms []mapping.Match
	for _, m := range d.Matching() {
		if m.Present {
			ms = append(ms, m)
		}
	}
	if len(ms) == 0 {
		return done(Outcome{Action: provlog.ActionOther, Status: provlog.StatusFailure, ErrorCode: CodeImportSkipped,
			Detail: "the " + d.Kind.Singular() + " has no value for any matching attribute, so it cannot be matched with the target"})
	}
	i := 0
	for ; i < len(c.History) && c.History[i].Request.Purpose == PurposeMatch; i++ {
		x := &c.History[i]
		if !x.Response.OK() {
			return done(failure(provlog.ActionCreate, x, false))
		}
		list, err := x.Response.List()
		if err != nil {
			return done(incompatible(provlog.ActionCreate, x, err))
		}
		switch n := len(list); {
		case n == 1:
			id, _ := list[0]["id"].(string)
			if id == "" {
				return done(incompatible(provlog.ActionUpdate, x, errNoID))
			}
			return exportUpdate(c, list[0], id, i+1, LinkSet)
		case n > 1:
			return done(Outcome{Action: provlog.ActionCreate, Status: provlog.StatusFailure, ErrorCode: CodeDuplicateTargetEntries, Escrow: true,
				Detail: "the query " + x.Request.Path + " returned " + itoa(n) + " " + endpoint(c.Kind) + ": the matching attribute must identify one object"})
		}
	}
	if i < len(ms) {
		m := ms[i]
		return send(Request{Method: "GET", Path: FilterPath(c.Kind, m.Attribute.Target, m.Value), Purpose: PurposeMatch, Match: &m})
	}
	if !c.Actions.Create {
		return done(Outcome{Action: provlog.ActionOther, Status: provlog.StatusSkipped, SkipReason: SkipNotAllowed,
			Why: "no matching " + d.Kind.Singular() + " in the target, and Create is not a target object action"})
	}
	if !c.step(i) {
		body, _, err := createBody(d, c.Policy.Boolean, c.valueFunc())
		if err != nil {
			return done(Outcome{Action: provlog.ActionCreate, Status: provlog.StatusFailure, ErrorCode: CodeBooleanValue, Detail: err.Error(), Changes: createChanges(d, c.valueFunc())})
		}
		return send(Request{Method: "POST", Path: "/" + endpoint(c.Kind), Body: body, Purpose: PurposeCreate})
	}
	changes := createChanges(d, c.valueFunc())
	x := &c.History[i]
	if !x.Response.OK() {
		// 409: EntryConflict, escrowed; the retry matches again
		// (entra-edge-cases §7).
		o := failure(provlog.ActionCreate, x, false)
		o.Changes = changes
		return done(o)
	}
	res, err := x.Response.Resource()
	id, _ := res["id"].(string)
	if err != nil || id == "" {
		if err == nil {
			err = errNoID
		}
		return done(incompatible(provlog.ActionCreate, x, err))
	}
	disabled := false
	if c.Kind == mapping.Users {
		if active, known := activeValue(d); known && !active {
			disabled = true
		}
	}
	return done(Outcome{Action: provlog.ActionCreate, Status: provlog.StatusSuccess, Link: LinkSet, TargetID: id, Changes: changes, Disabled: disabled})
}

// decideGroup is the decision for a group (entra-behavior §3;
// entra-edge-cases §2): matched by displayName without members, created
// without members, its attributes updated from GET
// /Groups/{id}?excludedAttributes=members; unassigned or deleted →
// DELETE. Members are the membership phase's (PlanMembers).
func decideGroup(c *Case) Decision {
	e := c.Entry
	if c.Desired == nil {
		return decideDelete(c)
	}
	s := c.Desired.Scope
	if !s.InScope {
		if s.Causes.Has(mapping.ProvisioningOff) {
			return done(Outcome{Action: provlog.ActionOther, Status: provlog.StatusSkipped, SkipReason: SkipNotEntitled, Why: s.String()})
		}
		if !e.Linked() {
			return done(Outcome{Action: provlog.ActionOther, Status: provlog.StatusSkipped, SkipReason: SkipNotEntitled, Why: s.String()})
		}
		if !c.Actions.Delete {
			return done(Outcome{Action: provlog.ActionOther, Status: provlog.StatusSkipped, SkipReason: SkipNotAllowed, Link: LinkDrop,
				Why: s.String() + "; Delete is not a target object action, so the group is left in the target"})
		}
		if c.Stage {
			return done(Outcome{Action: provlog.ActionStagedDelete, Status: provlog.StatusSkipped, SkipReason: "StagedDelete",
				Why: "the cycle's disables and deletes exceed the deletion threshold: staged until deletes are allowed"})
		}
		if !c.step(0) {
			return send(Request{Method: "DELETE", Path: resourcePath(c.Kind, e.TargetID), Purpose: PurposeDelete})
		}
		x := &c.History[0]
		if x.Response.OK() || x.Response.Status == 404 {
			// Unassigned: re-assignment queries by displayName and creates
			// it again (LA Restore_Group_Test).
			return done(Outcome{Action: provlog.ActionDelete, Status: provlog.StatusSuccess, Link: LinkDrop})
		}
		return done(failure(provlog.ActionDelete, x, true))
	}
	if err := c.Desired.Err(); err != nil {
		return done(Outcome{Action: provlog.ActionOther, Status: provlog.StatusFailure, ErrorCode: CodeExpressionFailed, Detail: err.Error()})
	}
	if e.Linked() {
		return readAndUpdate(c, LinkKeep)
	}
	return matchAndExport(c)
}

type errString string

func (e errString) Error() string { return string(e) }

const errNoID = errString(`the resource has no "id"`)

func incompatible(action provlog.Action, x *Exchange, err error) Outcome {
	return Outcome{Action: action, Status: provlog.StatusFailure, ErrorCode: CodeIncompatible, Escrow: true,
		Detail: "the answer to " + x.Request.Method + " " + x.Request.Path + " is not a SCIM resource: " + err.Error()}
}

func decodeResource(b []byte) (scim.Resource, error) {
	var r scim.Resource
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, err
	}
	if r == nil {
		return nil, errString("the body is null")
	}
	return r, nil
}

func decodeList(b []byte) ([]scim.Resource, error) {
	var lr struct {
		Resources []scim.Resource `json:"Resources"`
	}
	if err := json.Unmarshal(b, &lr); err != nil {
		return nil, err
	}
	return lr.Resources, nil
}
