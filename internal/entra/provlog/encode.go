package provlog

import (
	"slices"
	"strconv"
	"time"

	"github.com/miscim/miscim/internal/jsonappend"
)

// appendRecord appends the record's JSON (one line, no newline) to b, in
// Graph's field order, as encoding/json would write plainRecord with HTML
// escaping off — activityDateTime in UTC, nil lists as [] and nil detail
// bags as {} — without its reflection: an initial cycle encodes 100,000
// records, once for the store and once for --log-file, and the reflective
// encoder took as long as SQLite to store them (docs/logs.md).
// FuzzRecordJSON checks it against encoding/json.
func appendRecord(b []byte, r *Record) []byte {
	b = append(b, `{"id":`...)
	b = jsonappend.String(b, r.ID)
	b = append(b, `,"activityDateTime":"`...)
	b = r.ActivityDateTime.UTC().AppendFormat(b, time.RFC3339Nano)
	b = append(b, `","tenantId":`...)
	b = jsonappend.String(b, r.TenantID)
	b = append(b, `,"jobId":`...)
	b = jsonappend.String(b, r.JobID)
	b = append(b, `,"cycleId":`...)
	b = jsonappend.String(b, r.CycleID)
	b = append(b, `,"changeId":`...)
	b = jsonappend.String(b, r.ChangeID)
	b = append(b, `,"durationInMilliseconds":`...)
	b = strconv.AppendInt(b, r.DurationInMilliseconds, 10)
	b = append(b, `,"initiatedBy":{"id":`...)
	b = jsonappend.String(b, r.InitiatedBy.ID)
	b = append(b, `,"displayName":`...)
	b = jsonappend.String(b, r.InitiatedBy.DisplayName)
	b = append(b, `,"initiatorType":`...)
	b = jsonappend.String(b, r.InitiatedBy.InitiatorType)
	b = append(b, `},"servicePrincipal":{"id":`...)
	b = jsonappend.String(b, r.ServicePrincipal.ID)
	b = append(b, `,"displayName":`...)
	b = jsonappend.String(b, r.ServicePrincipal.DisplayName)
	b = append(b, `},"sourceSystem":`...)
	b = appendSystem(b, &r.SourceSystem)
	b = append(b, `,"targetSystem":`...)
	b = appendSystem(b, &r.TargetSystem)
	b = append(b, `,"sourceIdentity":`...)
	b = appendIdentity(b, &r.SourceIdentity)
	b = append(b, `,"targetIdentity":`...)
	b = appendIdentity(b, &r.TargetIdentity)
	b = append(b, `,"provisioningAction":`...)
	b = jsonappend.String(b, string(r.ProvisioningAction))
	b = append(b, `,"provisioningStatusInfo":{"status":`...)
	b = jsonappend.String(b, string(r.ProvisioningStatusInfo.Status))
	b = append(b, `,"errorInformation":`...)
	if e := r.ProvisioningStatusInfo.ErrorInformation; e == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, `{"errorCode":`...)
		b = jsonappend.String(b, e.ErrorCode)
		b = append(b, `,"reason":`...)
		b = jsonappend.String(b, e.Reason)
		if e.AdditionalDetails != "" {
			b = append(b, `,"additionalDetails":`...)
			b = jsonappend.String(b, e.AdditionalDetails)
		}
		b = append(b, `,"errorCategory":`...)
		b = jsonappend.String(b, string(e.ErrorCategory))
		if e.RecommendedAction != "" {
			b = append(b, `,"recommendedAction":`...)
			b = jsonappend.String(b, e.RecommendedAction)
		}
		b = append(b, '}')
	}
	b = append(b, `},"provisioningSteps":[`...)
	for i := range r.ProvisioningSteps {
		s := &r.ProvisioningSteps[i]
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"name":`...)
		b = jsonappend.String(b, s.Name)
		b = append(b, `,"provisioningStepType":`...)
		b = jsonappend.String(b, string(s.ProvisioningStepType))
		b = append(b, `,"status":`...)
		b = jsonappend.String(b, string(s.Status))
		b = append(b, `,"description":`...)
		b = jsonappend.String(b, s.Description)
		b = append(b, `,"details":`...)
		b = appendDetails(b, s.Details)
		b = append(b, '}')
	}
	b = append(b, `],"modifiedProperties":[`...)
	for i := range r.ModifiedProperties {
		p := &r.ModifiedProperties[i]
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"displayName":`...)
		b = jsonappend.String(b, p.DisplayName)
		b = append(b, `,"oldValue":`...)
		b = appendOptional(b, p.OldValue)
		b = append(b, `,"newValue":`...)
		b = appendOptional(b, p.NewValue)
		b = append(b, '}')
	}
	return append(b, "]}"...)
}

// sizeHint is about the length of the record's JSON: its text plus the
// names and punctuation around it, so that the buffer is allocated once.
func sizeHint(r *Record) int {
	n := 900 + len(r.ID) + len(r.TenantID) + len(r.JobID) + len(r.CycleID) + len(r.ChangeID) +
		len(r.InitiatedBy.ID) + len(r.InitiatedBy.DisplayName) + len(r.ServicePrincipal.ID) + len(r.ServicePrincipal.DisplayName) +
		len(r.SourceSystem.ID) + len(r.SourceSystem.DisplayName) + detailsSize(r.SourceSystem.Details) +
		len(r.TargetSystem.ID) + len(r.TargetSystem.DisplayName) + detailsSize(r.TargetSystem.Details) +
		len(r.SourceIdentity.ID) + len(r.SourceIdentity.DisplayName) + detailsSize(r.SourceIdentity.Details) +
		len(r.TargetIdentity.ID) + len(r.TargetIdentity.DisplayName) + detailsSize(r.TargetIdentity.Details)
	if e := r.ProvisioningStatusInfo.ErrorInformation; e != nil {
		n += 120 + len(e.ErrorCode) + len(e.Reason) + len(e.AdditionalDetails) + len(e.RecommendedAction)
	}
	for i := range r.ProvisioningSteps {
		s := &r.ProvisioningSteps[i]
		n += 90 + len(s.Name) + len(s.Description) + detailsSize(s.Details)
	}
	for i := range r.ModifiedProperties {
		p := &r.ModifiedProperties[i]
		n += 50 + len(p.DisplayName)
		if p.OldValue != nil {
			n += len(*p.OldValue)
		}
		if p.NewValue != nil {
			n += len(*p.NewValue)
		}
	}
	return n + n/16 // escapes
}

func detailsSize(d Details) int {
	n := 0
	for k, v := range d {
		n += len(k) + len(v) + 6
	}
	return n
}

func appendSystem(b []byte, s *System) []byte {
	b = append(b, `{"id":`...)
	b = jsonappend.String(b, s.ID)
	b = append(b, `,"displayName":`...)
	b = jsonappend.String(b, s.DisplayName)
	b = append(b, `,"details":`...)
	b = appendDetails(b, s.Details)
	return append(b, '}')
}

func appendIdentity(b []byte, id *Identity) []byte {
	b = append(b, `{"id":`...)
	b = jsonappend.String(b, id.ID)
	b = append(b, `,"displayName":`...)
	b = jsonappend.String(b, id.DisplayName)
	b = append(b, `,"identityType":`...)
	b = jsonappend.String(b, id.IdentityType)
	b = append(b, `,"details":`...)
	b = appendDetails(b, id.Details)
	return append(b, '}')
}

// appendDetails writes a bag with its keys sorted, as encoding/json does;
// nil is {}.
func appendDetails(b []byte, d Details) []byte {
	b = append(b, '{')
	switch len(d) {
	case 0:
	case 1:
		for k, v := range d {
			b = jsonappend.String(b, k)
			b = append(b, ':')
			b = jsonappend.String(b, v)
		}
	default:
		keys := make([]string, 0, len(d))
		for k := range d {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for i, k := range keys {
			if i > 0 {
				b = append(b, ',')
			}
			b = jsonappend.String(b, k)
			b = append(b, ':')
			b = jsonappend.String(b, d[k])
		}
	}
	return append(b, '}')
}

func appendOptional(b []byte, s *string) []byte {
	if s == nil {
		return append(b, "null"...)
	}
	return jsonappend.String(b, *s)
}
