// Package provlog owns the simulator's provisioning logs: one Record per
// object the provisioning engine evaluated in a cycle, shaped like
// Microsoft Graph's provisioningObjectSummary (v1.0,
// /auditLogs/provisioning), the store that keeps them for `miscim logs`,
// and their JSON Lines and CSV forms.
//
// The field names and enum spellings are Graph's schema spelling
// (lower-case enums, initiatorType), so that a record can be read by tools
// written for logs downloaded from Entra (reference/entra-exports.md §4.2).
// The package knows nothing of HTTP, SCIM or terminals.
package provlog

import (
	"context"
	"time"
)

// Action is provisioningAction: what the engine did to the object.
type Action string

// Actions (Graph provisioningAction). Other covers an object that needed
// no change (skipped with RedundantExport) and an object out of scope.
const (
	ActionCreate       Action = "create"
	ActionUpdate       Action = "update"
	ActionDelete       Action = "delete"
	ActionDisable      Action = "disable"
	ActionStagedDelete Action = "stagedDelete"
	ActionOther        Action = "other"
)

// Status is provisioningResult: the outcome of a record or of one step.
type Status string

// Statuses (Graph provisioningResult).
const (
	StatusSuccess Status = "success"
	StatusWarning Status = "warning"
	StatusFailure Status = "failure"
	StatusSkipped Status = "skipped"
)

// StepType is provisioningStepType.
type StepType string

// Step types (Graph provisioningStepType), in the order the engine runs
// them for an object (entra-behavior §2).
const (
	StepImport              StepType = "import"
	StepScoping             StepType = "scoping"
	StepMatching            StepType = "matching"
	StepProcessing          StepType = "processing"
	StepReferenceResolution StepType = "referenceResolution"
	StepExport              StepType = "export"
)

// ErrorCategory is provisioningStatusErrorCategory.
type ErrorCategory string

// Error categories (Graph provisioningStatusErrorCategory): Failure is the
// provisioning service's own, NonServiceFailure the target's (a 409, a
// 500 …).
const (
	CategoryFailure           ErrorCategory = "failure"
	CategoryNonServiceFailure ErrorCategory = "nonServiceFailure"
	CategorySuccess           ErrorCategory = "success"
)

// Details is Graph's detailsInfo: an open bag of key/value pairs
// (ReportableIdentifier, SkipReason, IsActive …).
type Details map[string]string

// Record is one provisioning-log entry: one object evaluated in one cycle
// (Graph provisioningObjectSummary).
type Record struct {
	ID                     string             `json:"id"`
	ActivityDateTime       time.Time          `json:"activityDateTime"`
	TenantID               string             `json:"tenantId"`
	JobID                  string             `json:"jobId"`
	CycleID                string             `json:"cycleId"`
	ChangeID               string             `json:"changeId"`
	DurationInMilliseconds int64              `json:"durationInMilliseconds"`
	InitiatedBy            Initiator          `json:"initiatedBy"`
	ServicePrincipal       ServicePrincipal   `json:"servicePrincipal"`
	SourceSystem           System             `json:"sourceSystem"`
	TargetSystem           System             `json:"targetSystem"`
	SourceIdentity         Identity           `json:"sourceIdentity"`
	TargetIdentity         Identity           `json:"targetIdentity"`
	ProvisioningAction     Action             `json:"provisioningAction"`
	ProvisioningStatusInfo StatusInfo         `json:"provisioningStatusInfo"`
	ProvisioningSteps      []Step             `json:"provisioningSteps"`
	ModifiedProperties     []ModifiedProperty `json:"modifiedProperties"`
}

// Initiator is who started the cycle: the provisioning service for a
// scheduled cycle (id "", displayName "Azure AD Provisioning Service",
// type system), a user for provisioning on demand.
type Initiator struct {
	ID            string `json:"id"`
	DisplayName   string `json:"displayName"`
	InitiatorType string `json:"initiatorType"` // user, application, system
}

// ServicePrincipal is the enterprise application the job belongs to.
type ServicePrincipal struct {
	ID          string `json:"id"`
	DisplayName string `json:"displayName"`
}

// System is the source (Entra) or the target (the SCIM app).
type System struct {
	ID          string  `json:"id"`
	DisplayName string  `json:"displayName"`
	Details     Details `json:"details"`
}

// Identity is the object on one side: its id there ("" when the target
// object does not exist, e.g. a failed create), its display name and type
// ("User", "Group").
type Identity struct {
	ID           string  `json:"id"`
	DisplayName  string  `json:"displayName"`
	IdentityType string  `json:"identityType"`
	Details      Details `json:"details"`
}

// StatusInfo is provisioningStatusInfo. ErrorInformation is nil on
// success.
type StatusInfo struct {
	Status           Status     `json:"status"`
	ErrorInformation *ErrorInfo `json:"errorInformation"`
}

// ErrorInfo is provisioningErrorInfo: an error code from the provisioning
// log's table (EntryConflict, InvalidAnchor, DuplicateTargetEntries,
// SystemForCrossDomainIdentityManagementServiceIncompatible …), its reason
// as text (a target's answer is quoted in it) and what to do.
type ErrorInfo struct {
	ErrorCode         string        `json:"errorCode"`
	Reason            string        `json:"reason"`
	AdditionalDetails string        `json:"additionalDetails,omitempty"`
	ErrorCategory     ErrorCategory `json:"errorCategory"`
	RecommendedAction string        `json:"recommendedAction,omitempty"`
}

// Step is provisioningStep: one step of the object's evaluation, named as
// Entra names them (EntryImport, EntrySynchronizationScoping,
// EntryImportByMatchingProperty, EntryExportAdd, EntryExportUpdate,
// EntrySynchronizationSkip …).
type Step struct {
	Name                 string   `json:"name"`
	ProvisioningStepType StepType `json:"provisioningStepType"`
	Status               Status   `json:"status"`
	Description          string   `json:"description"`
	Details              Details  `json:"details"`
}

// ModifiedProperty is one attribute the export changed or would change.
// Values are strings as in Graph (booleans "True"/"False"); OldValue is
// nil on a create.
type ModifiedProperty struct {
	DisplayName string  `json:"displayName"`
	OldValue    *string `json:"oldValue"`
	NewValue    *string `json:"newValue"`
}

// Sink receives the records of a cycle as the executor finishes each
// object step: the store, a JSON Lines file, the live terminal line. Add
// must be safe for concurrent use; an error stops the cycle (a log that
// cannot be written is a failed run, not a silent gap).
type Sink interface {
	Add(ctx context.Context, r Record) error
}
