package sync

import (
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/miscim/miscim/internal/entra/mapping"
	"github.com/miscim/miscim/internal/entra/provlog"
)

// App is the enterprise application the job provisions for: the
// provisioning logs' service principal and target system.
type App struct {
	ID   string
	Name string
}

// recordMeta is what every record of a cycle shares.
type recordMeta struct {
	job       string
	cycle     string
	app       App
	initiator provlog.Initiator
	newID     func() string
}

// systemInitiator is who runs scheduled cycles (entra-exports §4.2).
var systemInitiator = provlog.Initiator{ID: "", DisplayName: "Azure AD Provisioning Service", InitiatorType: "system"}

// onDemandInitiator is who runs provisioning on demand: an admin.
var onDemandInitiator = provlog.Initiator{ID: "", DisplayName: "Provision on demand (miscim simulate --on-demand)", InitiatorType: "user"}

func identityType(k mapping.ObjectKind) string {
	if k == mapping.Groups {
		return "Group"
	}
	return "User"
}

// objectRecord is the provisioning-log record of one object's
// evaluation: its steps named as Entra names them (import, scoping,
// matching, processing, export), the modified properties with their old
// and new values, and for a failure the error code and reason
// (entra-behavior §4.6; G-LOG; G-POD).
func (m *recordMeta) objectRecord(c *Case, name string, out *Outcome, started, ended time.Time, escrow *Escrow) provlog.Record {
	kind := identityType(c.Kind)
	r := m.base(c.Kind, started, ended)
	r.SourceIdentity = provlog.Identity{ID: sourceID(c), DisplayName: name, IdentityType: kind, Details: provlog.Details{}}
	tid := out.TargetID
	if tid == "" && c.Entry.Linked() {
		tid = c.Entry.TargetID
	}
	r.TargetIdentity = provlog.Identity{ID: tid, DisplayName: name, IdentityType: kind, Details: provlog.Details{}}
	r.ProvisioningAction = out.Action
	r.ProvisioningStatusInfo = provlog.StatusInfo{Status: out.Status}
	if out.Status == provlog.StatusFailure {
		r.ProvisioningStatusInfo.ErrorInformation = m.errorInfo(c, name, out, escrow)
	}

	change := "Update"
	switch {
	case c.Desired == nil:
		change = "Delete"
	case c.Entry == nil:
		change = "Add"
	}
	steps := []provlog.Step{{
		Name: "EntryImport", ProvisioningStepType: provlog.StepImport, Status: provlog.StatusSuccess,
		Description: "Received " + kind + " '" + name + "' change of type (" + change + ") from Azure Active Directory",
		Details:     provlog.Details{"ReportableIdentifier": name, "ObjectId": sourceID(c)},
	}}
	if d := c.Desired; d != nil {
		steps = append(steps, scopingStep(d))
	}
	for i := range c.History {
		x := &c.History[i]
		switch x.Request.Purpose {
		case PurposeMatch:
			steps = append(steps, matchStep(c, x, name))
		case PurposeRead:
			st := provlog.Step{Name: "EntryImportByJoiningProperty", ProvisioningStepType: provlog.StepMatching, Status: provlog.StatusSuccess,
				Description: "Retrieved " + kind + " '" + c.Entry.TargetID + "' from " + m.app.Name + " by the id cached when it was created or matched",
				Details:     provlog.Details{"TargetId": c.Entry.TargetID, "Request": x.Request.Method + " " + x.Request.Path, "StatusCode": strconv.Itoa(x.Response.Status)}}
			if !x.Response.OK() {
				st.Status = provlog.StatusFailure
				st.Description = "Failed to retrieve " + kind + " '" + c.Entry.TargetID + "' from " + m.app.Name
			}
			steps = append(steps, st)
		}
	}
	steps = append(steps, processingStep(c, kind, name, out, m.app.Name))
	if ex := exportStep(c, kind, name, out, m.app.Name); ex != nil {
		steps = append(steps, *ex)
	}
	r.ProvisioningSteps = steps
	r.ModifiedProperties = modifiedProperties(out.Changes)
	return r
}

func sourceID(c *Case) string {
	if c.Desired != nil {
		return c.Desired.ObjectID
	}
	if c.Entry != nil {
		return c.Entry.SourceID
	}
	return ""
}

func (m *recordMeta) base(k mapping.ObjectKind, started, ended time.Time) provlog.Record {
	return provlog.Record{
		ID:                     m.newID(),
		ActivityDateTime:       ended.UTC(),
		TenantID:               "",
		JobID:                  m.job,
		CycleID:                m.cycle,
		ChangeID:               m.newID(),
		DurationInMilliseconds: ended.Sub(started).Milliseconds(),
		InitiatedBy:            m.initiator,
		ServicePrincipal:       provlog.ServicePrincipal{ID: m.app.ID, DisplayName: m.app.Name},
		SourceSystem:           provlog.System{ID: "", DisplayName: "Azure Active Directory", Details: provlog.Details{}},
		TargetSystem: provlog.System{ID: m.app.ID, DisplayName: m.app.Name, Details: provlog.Details{
			"ApplicationId": m.app.ID, "ServicePrincipalId": m.app.ID, "ServicePrincipalDisplayName": m.app.Name}},
		ProvisioningSteps:  []provlog.Step{},
		ModifiedProperties: []provlog.ModifiedProperty{},
	}
}

// scopingStep shows the scope decision as provisioning on demand does
// (POD "Determine if user is in scope"; G-POD EntrySynchronizationScoping).
func scopingStep(d *mapping.Desired) provlog.Step {
	s := d.Scope
	details := provlog.Details{
		"Assigned":                             boolText(s.Assigned),
		"ScopeSyncAll":                         boolText(s.ScopeAll),
		"IsEffectivelyEntitledForProvisioning": boolText(s.InScope),
		"IsInProvisioningScopeDisplayName":     boolText(s.InScope),
	}
	if d.Kind == mapping.Users {
		details["IsActive"] = boolText(s.Active())
		details["IsSoftDeleted"] = boolText(s.IsSoftDeleted())
	}
	eval := map[string]string{"Scoping filter evaluation passed": boolText(s.Filters == 0 || s.FilterPassed > 0)}
	if s.Filters > 0 {
		eval["Scoping filter passed"] = strconv.Itoa(s.FilterPassed)
	}
	b, _ := json.Marshal(eval)
	details["ScopeEvaluationResult"] = string(b)
	st := provlog.Step{Name: "EntrySynchronizationScoping", ProvisioningStepType: provlog.StepScoping, Status: provlog.StatusSuccess,
		Description: "Determine if " + d.Kind.Singular() + " is in scope by evaluating against each scoping filter: " + s.String(), Details: details}
	if !s.InScope {
		st.Status = provlog.StatusSkipped
		details["SkipReason"] = s.SkipReason()
		details["OutOfScopeReasons"] = strings.Join(s.Causes.Codes(), ",")
	}
	return st
}

func matchStep(c *Case, x *Exchange, name string) provlog.Step {
	kind := identityType(c.Kind)
	st := provlog.Step{Name: "EntryImportByMatchingProperty", ProvisioningStepType: provlog.StepMatching, Status: provlog.StatusSuccess,
		Details: provlog.Details{"Request": x.Request.Method + " " + x.Request.Path, "StatusCode": strconv.Itoa(x.Response.Status)}}
	if m := x.Request.Match; m != nil {
		st.Details["MatchingProperty"] = m.Attribute.Target
		st.Details["MatchingValue"] = m.Value
		st.Details["MatchingPrecedence"] = strconv.Itoa(m.Precedence)
	}
	if !x.Response.OK() {
		st.Status = provlog.StatusFailure
		st.Description = "Failed to query " + kind + " '" + name + "' by its matching property"
		return st
	}
	list, _ := x.Response.List()
	st.Details["MatchingResults"] = strconv.Itoa(len(list))
	switch len(list) {
	case 0:
		st.Description = "No matching " + kind + " was found by " + st.Details["MatchingProperty"]
	case 1:
		id, _ := list[0]["id"].(string)
		st.Details["TargetId"] = id
		st.Description = "Matched " + kind + " '" + name + "' with the target's '" + id + "' by " + st.Details["MatchingProperty"]
	default:
		st.Status = provlog.StatusFailure
		st.Description = strconv.Itoa(len(list)) + " matching " + kind + "s were found by " + st.Details["MatchingProperty"]
	}
	return st
}

// processingStep is the action the engine decided.
func processingStep(c *Case, kind, name string, out *Outcome, app string) provlog.Step {
	st := provlog.Step{ProvisioningStepType: provlog.StepProcessing, Status: provlog.StatusSuccess, Details: provlog.Details{}}
	switch {
	case out.Status == provlog.StatusSkipped:
		st.Name, st.Status = "EntrySynchronizationSkip", provlog.StatusSkipped
		st.Details["SkipReason"] = out.SkipReason
		st.Description = kind + " '" + name + "' will be skipped"
		if out.Why != "" {
			st.Description += ": " + out.Why
		}
	case out.Action == provlog.ActionCreate:
		st.Name = "EntrySynchronizationAdd"
		st.Description = kind + " '" + name + "' will be created in " + app + " (no matching " + kind + " was found)"
	case out.Action == provlog.ActionDelete:
		st.Name = "EntrySynchronizationDelete"
		st.Description = kind + " '" + name + "' will be deleted in " + app
	case out.Action == provlog.ActionDisable:
		st.Name = "EntrySynchronizationUpdate"
		st.Description = kind + " '" + name + "' will be disabled in " + app
	default:
		st.Name = "EntrySynchronizationUpdate"
		st.Description = kind + " '" + name + "' will be updated in " + app
	}
	if out.Status == provlog.StatusFailure && out.ErrorCode != "" && !hasExport(c) {
		st.Status = provlog.StatusFailure
		st.Description = kind + " '" + name + "' could not be processed: " + out.Detail
	}
	return st
}

func hasExport(c *Case) bool {
	for i := range c.History {
		switch c.History[i].Request.Purpose {
		case PurposeCreate, PurposeUpdate, PurposeDelete:
			return true
		}
	}
	return false
}

// exportStep is the write to the target, when there was one.
func exportStep(c *Case, kind, name string, out *Outcome, app string) *provlog.Step {
	for i := len(c.History) - 1; i >= 0; i-- {
		x := &c.History[i]
		var stepName, verb string
		switch x.Request.Purpose {
		case PurposeCreate:
			stepName, verb = "EntryExportAdd", "create"
		case PurposeUpdate:
			stepName, verb = "EntryExportUpdate", "update"
			if out.Action == provlog.ActionDisable {
				verb = "disable"
			}
		case PurposeDelete:
			stepName, verb = "EntryExportDelete", "delete"
		default:
			continue
		}
		st := provlog.Step{Name: stepName, ProvisioningStepType: provlog.StepExport, Status: provlog.StatusSuccess,
			Details: provlog.Details{"ReportableIdentifier": name, "Request": x.Request.Method + " " + x.Request.Path, "StatusCode": strconv.Itoa(x.Response.Status)}}
		if out.TargetID != "" {
			st.Details["TargetId"] = out.TargetID
		}
		if x.Response.OK() || (x.Request.Purpose == PurposeDelete && x.Response.Status == 404) {
			st.Description = kind + " '" + name + "' was " + pastTense(verb) + " in " + app
		} else {
			st.Status = provlog.StatusFailure
			st.Description = "Failed to " + verb + " " + kind + " '" + name + "' in " + app
		}
		return &st
	}
	return nil
}

func pastTense(verb string) string {
	if strings.HasSuffix(verb, "e") {
		return verb + "d"
	}
	return verb + "ed"
}

// errorInfo is the failure's provisioningErrorInfo: the code, the
// reason in Entra's words with the target's answer quoted and the retry
// schedule (QA-409: "This operation was retried 0 times. It will be
// retried again after this date: … UTC").
func (m *recordMeta) errorInfo(c *Case, name string, out *Outcome, escrow *Escrow) *provlog.ErrorInfo {
	kind := identityType(c.Kind)
	verb := "update"
	switch out.Action {
	case provlog.ActionCreate:
		verb = "create"
	case provlog.ActionDelete:
		verb = "delete"
	case provlog.ActionDisable:
		verb = "disable"
	}
	category := provlog.CategoryNonServiceFailure
	var reason strings.Builder
	reason.WriteString("Failed to " + verb + " " + kind + " '" + name + "' in " + m.app.Name + "; Error: ")
	switch out.ErrorCode {
	case CodeExpressionFailed, CodeBooleanValue, CodeImportSkipped:
		category = provlog.CategoryFailure
		reason.WriteString(out.Detail)
	case CodeInvalidAnchor:
		reason.WriteString("a " + strings.ToLower(kind) + " that was previously created or matched by the provisioning service no longer exists in the target. " + out.Detail)
	case CodeDuplicateTargetEntries:
		reason.WriteString(out.Detail)
	case CodeTimeout, CodeProtocolError:
		if !hasStatus(c) {
			category = provlog.CategoryFailure
		}
		reason.WriteString(out.Detail)
	default:
		reason.WriteString("The SCIM endpoint refused the request.\n" + out.Detail)
	}
	if out.Escrow && escrow != nil {
		reason.WriteString(" This operation was retried " + strconv.Itoa(escrow.Failures-1) + " times. It will be retried again after this date: " +
			escrow.Next.UTC().Format("2006-01-02T15:04:05Z") + " UTC")
	}
	return &provlog.ErrorInfo{ErrorCode: out.ErrorCode, Reason: reason.String(), ErrorCategory: category, RecommendedAction: recommendation(out.ErrorCode)}
}

func hasStatus(c *Case) bool {
	for i := range c.History {
		if c.History[i].Response.Status != 0 {
			return true
		}
	}
	return false
}

// recommendation is what the provisioning-log documentation says to do
// (LOGS-ERR).
func recommendation(code string) string {
	switch code {
	case CodeEntryConflict:
		return "Correct the conflicting attribute values in the source or the target, or review the matching attribute configuration if the conflicting account was supposed to be matched and taken over."
	case CodeInvalidAnchor:
		return "Restart provisioning (miscim simulate --restart-full) to match all objects again, or unassign and reassign the object."
	case CodeDuplicateTargetEntries:
		return "Make the matching attribute unique in the target, or choose another matching attribute."
	case CodeTooManyRequests:
		return "The target throttled the requests; they are retried automatically."
	case CodeImportSkipped:
		return "Give the object a value for its matching attribute."
	case CodeExpressionFailed:
		return "Fix the attribute mapping's expression (miscim expr --tenant … --user … --explain)."
	case CodeBadRequest:
		return "The target rejected the request: read its answer in the reason and fix the values or the mapping."
	}
	return ""
}

// modifiedProperties lists the changes as the log shows them: the target
// attribute, the old value (null on a create) and the new one, as
// strings.
func modifiedProperties(changes []Change) []provlog.ModifiedProperty {
	out := make([]provlog.ModifiedProperty, 0, len(changes))
	for i := range changes {
		c := &changes[i]
		out = append(out, provlog.ModifiedProperty{DisplayName: c.Attr.Target, OldValue: targetText(c.Old), NewValue: logText(c.Value, c.Redacted)})
	}
	return out
}

// membersRecord is the record of a group's membership export: reference
// resolution of the members, then the PATCHes (entra-behavior §3,
// "Ordering": memberships after users and groups).
func (m *recordMeta) membersRecord(g *mapping.Desired, groupID string, added, removed []MemberRef, unresolved []string, failed *Exchange, started, ended time.Time) provlog.Record {
	r := m.base(mapping.Groups, started, ended)
	name := g.Name
	r.SourceIdentity = provlog.Identity{ID: g.ObjectID, DisplayName: name, IdentityType: "Group", Details: provlog.Details{}}
	r.TargetIdentity = provlog.Identity{ID: groupID, DisplayName: name, IdentityType: "Group", Details: provlog.Details{}}
	r.ProvisioningAction = provlog.ActionUpdate
	r.ProvisioningStatusInfo = provlog.StatusInfo{Status: provlog.StatusSuccess}
	ref := provlog.Step{Name: "EntryReferenceResolution", ProvisioningStepType: provlog.StepReferenceResolution, Status: provlog.StatusSuccess,
		Description: "Resolved the members of Group '" + name + "' to the ids of their users in " + m.app.Name,
		Details:     provlog.Details{"MembersAdded": strconv.Itoa(len(added)), "MembersRemoved": strconv.Itoa(len(removed))}}
	if len(unresolved) > 0 {
		ref.Status = provlog.StatusWarning
		ref.Details["MembersUnresolved"] = strconv.Itoa(len(unresolved))
		ref.Description += "; " + strconv.Itoa(len(unresolved)) + " member(s) have no user in the target yet and are retried on the next cycle"
	}
	ex := provlog.Step{Name: "EntryExportUpdate", ProvisioningStepType: provlog.StepExport, Status: provlog.StatusSuccess,
		Description: "Group '" + name + "' memberships were updated in " + m.app.Name, Details: provlog.Details{"ReportableIdentifier": name}}
	r.ProvisioningSteps = []provlog.Step{
		{Name: "EntryImport", ProvisioningStepType: provlog.StepImport, Status: provlog.StatusSuccess,
			Description: "Received Group '" + name + "' change of type (Update) from Azure Active Directory", Details: provlog.Details{"ReportableIdentifier": name, "ObjectId": g.ObjectID}},
		ref, ex,
	}
	if failed != nil {
		out := failure(provlog.ActionUpdate, failed, true)
		ex.Status = provlog.StatusFailure
		ex.Description = "Failed to update the memberships of Group '" + name + "' in " + m.app.Name
		r.ProvisioningSteps[2] = ex
		r.ProvisioningStatusInfo = provlog.StatusInfo{Status: provlog.StatusFailure, ErrorInformation: &provlog.ErrorInfo{
			ErrorCode: out.ErrorCode, ErrorCategory: provlog.CategoryNonServiceFailure, RecommendedAction: recommendation(out.ErrorCode),
			Reason: "Failed to update Group '" + name + "' in " + m.app.Name + "; Error: " + out.Detail + " The memberships not exported are retried on the next cycle."}}
	} else if len(unresolved) > 0 {
		r.ProvisioningStatusInfo.Status = provlog.StatusWarning
	}
	if len(added) > 0 || len(removed) > 0 {
		mp := provlog.ModifiedProperty{DisplayName: "members"}
		if len(removed) > 0 {
			s := joinIDs(removed)
			mp.OldValue = &s
		}
		if len(added) > 0 {
			s := joinIDs(added)
			mp.NewValue = &s
		}
		r.ModifiedProperties = []provlog.ModifiedProperty{mp}
	}
	return r
}

func joinIDs(ms []MemberRef) string {
	ids := make([]string, len(ms))
	for i, m := range ms {
		ids[i] = m.TargetID
	}
	return strings.Join(ids, ",")
}
