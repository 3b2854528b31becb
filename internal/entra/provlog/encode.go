package provlog

import (
	"slices"
	"strconv"
	"time"
	"unicode/utf8"
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
	b = appendString(b, r.ID)
	b = append(b, `,"activityDateTime":"`...)
	b = r.ActivityDateTime.UTC().AppendFormat(b, time.RFC3339Nano)
	b = append(b, `","tenantId":`...)
	b = appendString(b, r.TenantID)
	b = append(b, `,"jobId":`...)
	b = appendString(b, r.JobID)
	b = append(b, `,"cycleId":`...)
	b = appendString(b, r.CycleID)
	b = append(b, `,"changeId":`...)
	b = appendString(b, r.ChangeID)
	b = append(b, `,"durationInMilliseconds":`...)
	b = strconv.AppendInt(b, r.DurationInMilliseconds, 10)
	b = append(b, `,"initiatedBy":{"id":`...)
	b = appendString(b, r.InitiatedBy.ID)
	b = append(b, `,"displayName":`...)
	b = appendString(b, r.InitiatedBy.DisplayName)
	b = append(b, `,"initiatorType":`...)
	b = appendString(b, r.InitiatedBy.InitiatorType)
	b = append(b, `},"servicePrincipal":{"id":`...)
	b = appendString(b, r.ServicePrincipal.ID)
	b = append(b, `,"displayName":`...)
	b = appendString(b, r.ServicePrincipal.DisplayName)
	b = append(b, `},"sourceSystem":`...)
	b = appendSystem(b, &r.SourceSystem)
	b = append(b, `,"targetSystem":`...)
	b = appendSystem(b, &r.TargetSystem)
	b = append(b, `,"sourceIdentity":`...)
	b = appendIdentity(b, &r.SourceIdentity)
	b = append(b, `,"targetIdentity":`...)
	b = appendIdentity(b, &r.TargetIdentity)
	b = append(b, `,"provisioningAction":`...)
	b = appendString(b, string(r.ProvisioningAction))
	b = append(b, `,"provisioningStatusInfo":{"status":`...)
	b = appendString(b, string(r.ProvisioningStatusInfo.Status))
	b = append(b, `,"errorInformation":`...)
	if e := r.ProvisioningStatusInfo.ErrorInformation; e == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, `{"errorCode":`...)
		b = appendString(b, e.ErrorCode)
		b = append(b, `,"reason":`...)
		b = appendString(b, e.Reason)
		if e.AdditionalDetails != "" {
			b = append(b, `,"additionalDetails":`...)
			b = appendString(b, e.AdditionalDetails)
		}
		b = append(b, `,"errorCategory":`...)
		b = appendString(b, string(e.ErrorCategory))
		if e.RecommendedAction != "" {
			b = append(b, `,"recommendedAction":`...)
			b = appendString(b, e.RecommendedAction)
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
		b = appendString(b, s.Name)
		b = append(b, `,"provisioningStepType":`...)
		b = appendString(b, string(s.ProvisioningStepType))
		b = append(b, `,"status":`...)
		b = appendString(b, string(s.Status))
		b = append(b, `,"description":`...)
		b = appendString(b, s.Description)
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
		b = appendString(b, p.DisplayName)
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
	b = appendString(b, s.ID)
	b = append(b, `,"displayName":`...)
	b = appendString(b, s.DisplayName)
	b = append(b, `,"details":`...)
	b = appendDetails(b, s.Details)
	return append(b, '}')
}

func appendIdentity(b []byte, id *Identity) []byte {
	b = append(b, `{"id":`...)
	b = appendString(b, id.ID)
	b = append(b, `,"displayName":`...)
	b = appendString(b, id.DisplayName)
	b = append(b, `,"identityType":`...)
	b = appendString(b, id.IdentityType)
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
			b = appendString(b, k)
			b = append(b, ':')
			b = appendString(b, v)
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
			b = appendString(b, k)
			b = append(b, ':')
			b = appendString(b, d[k])
		}
	}
	return append(b, '}')
}

func appendOptional(b []byte, s *string) []byte {
	if s == nil {
		return append(b, "null"...)
	}
	return appendString(b, *s)
}

const hexDigits = "0123456789abcdef"

// appendString quotes s as encoding/json does with HTML escaping off:
// quote, backslash and control characters escaped (\b \f \n \r \t by
// name), invalid UTF-8 as U+FFFD, U+2028 and U+2029 as \u escapes.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
