package provlog

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
)

// Line is what the live log shows of one record on a terminal, as data:
// internal/render lays it out and styles it. Identity is the object's
// reportable identifier (a user's UPN) or else its display name or id;
// Detail says what happened — the changed properties, or the error code
// and reason, or why the object was skipped.
type Line struct {
	Action   Action
	Status   Status
	Type     string // identityType: User, Group
	Identity string
	Detail   string
}

// LineOf makes the live line of a record.
func LineOf(r *Record) Line {
	l := Line{
		Action:   r.ProvisioningAction,
		Status:   r.ProvisioningStatusInfo.Status,
		Type:     firstOf(r.SourceIdentity.IdentityType, r.TargetIdentity.IdentityType),
		Identity: firstOf(r.ReportableIdentifier(), r.SourceIdentity.DisplayName, r.TargetIdentity.DisplayName, r.SourceIdentity.ID, r.TargetIdentity.ID),
	}
	l.Detail = Detail(r)
	return l
}

// Detail is the one-line account of a record that the live line, the
// `logs` table and the CSV summary show:
//
//   - an error (failure, warning, or a skip with error information):
//     "ErrorCode: reason", the reason's whitespace collapsed;
//   - a skip without one: the SkipReason of its steps' details
//     (RedundantExport, NotEffectivelyEntitled …), else the last step's
//     description;
//   - otherwise the modified properties: their names for a create
//     ("userName, active, emails"), "name: old → new" for the others;
//     else the last step's description.
func Detail(r *Record) string {
	if e := r.ProvisioningStatusInfo.ErrorInformation; e != nil && (e.ErrorCode != "" || e.Reason != "") {
		reason := oneLine(e.Reason)
		switch {
		case e.ErrorCode == "":
			return reason
		case reason == "":
			return e.ErrorCode
		}
		return e.ErrorCode + ": " + reason
	}
	if r.ProvisioningStatusInfo.Status == StatusSkipped {
		for _, s := range r.ProvisioningSteps {
			for k, v := range s.Details {
				if strings.EqualFold(k, "SkipReason") && v != "" {
					return v
				}
			}
		}
		return lastDescription(r)
	}
	if len(r.ModifiedProperties) > 0 {
		parts := make([]string, len(r.ModifiedProperties))
		for i, p := range r.ModifiedProperties {
			if r.ProvisioningAction == ActionCreate || (p.OldValue == nil && p.NewValue == nil) {
				parts[i] = p.DisplayName
				continue
			}
			parts[i] = p.DisplayName + ": " + quoted(p.OldValue) + " → " + quoted(p.NewValue)
		}
		sep := "; "
		if r.ProvisioningAction == ActionCreate {
			sep = ", "
		}
		return strings.Join(parts, sep)
	}
	return lastDescription(r)
}

func lastDescription(r *Record) string {
	for i := len(r.ProvisioningSteps) - 1; i >= 0; i-- {
		if d := oneLine(r.ProvisioningSteps[i].Description); d != "" {
			return d
		}
	}
	return ""
}

// quoted shows a property value: null as "null", text quoted (so that an
// empty string and a space can be told apart).
func quoted(v *string) string {
	if v == nil {
		return "null"
	}
	b, _ := json.Marshal(oneLine(*v))
	return string(b)
}

// oneLine collapses runs of whitespace, line breaks included, to one space.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

func firstOf(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}

// LineSink calls fn with the live line of every record, one call at a
// time (fn need not be safe for concurrent use).
func LineSink(fn func(Line) error) Sink { return &lineSink{fn: fn} }

type lineSink struct {
	mu sync.Mutex
	fn func(Line) error
}

func (s *lineSink) Add(_ context.Context, r Record) error {
	l := LineOf(&r)
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.fn(l)
}

// Key is one cell of a summary: an action and a status.
type Key struct {
	Action Action
	Status Status
}

// Counts are record counts by action and status.
type Counts map[Key]int

// Get is the count of one action and status.
func (c Counts) Get(a Action, s Status) int { return c[Key{a, s}] }

// Total is the number of records counted.
func (c Counts) Total() int {
	n := 0
	for _, v := range c {
		n += v
	}
	return n
}

// ByStatus is the count of one status, every action together.
func (c Counts) ByStatus(s Status) int {
	n := 0
	for k, v := range c {
		if k.Status == s {
			n += v
		}
	}
	return n
}

// ByAction is the count of one action, every status together.
func (c Counts) ByAction(a Action) int {
	n := 0
	for k, v := range c {
		if k.Action == a {
			n += v
		}
	}
	return n
}

// MarshalJSON writes {"create": {"success": 3, "failure": 1}, …}, actions
// and statuses with no record left out.
func (c Counts) MarshalJSON() ([]byte, error) {
	out := map[Action]map[Status]int{}
	for k, v := range c {
		if v == 0 {
			continue
		}
		if out[k.Action] == nil {
			out[k.Action] = map[Status]int{}
		}
		out[k.Action][k.Status] = v
	}
	return json.Marshal(out)
}

// Summary counts the records of a run by action and status, for the
// summary table after a cycle (internal/render lays it out). It is a Sink,
// safe for concurrent use.
type Summary struct {
	mu     sync.Mutex
	counts Counts
}

// Add counts r.
func (s *Summary) Add(_ context.Context, r Record) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.counts == nil {
		s.counts = Counts{}
	}
	s.counts[Key{r.ProvisioningAction, r.ProvisioningStatusInfo.Status}]++
	return nil
}

// Counts returns a copy of the counts so far.
func (s *Summary) Counts() Counts {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := make(Counts, len(s.counts))
	for k, v := range s.counts {
		c[k] = v
	}
	return c
}
