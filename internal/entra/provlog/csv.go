package provlog

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"
)

// The three files of the portal's CSV download (entra-exports §4.1),
// joined on the change ID. Microsoft documents their roles, not their
// columns: the headers below are miscim's (docs/logs.md).
const (
	CSVLogsFile       = "ProvisioningLogs.csv"
	CSVStepsFile      = "ProvisioningLogs_ProvisioningSteps.csv"
	CSVPropertiesFile = "ProvisioningLogs_ModifiedProperties.csv"
)

// CSVLogsHeader is the header of ProvisioningLogs.csv: one row per record,
// everything but the steps and modified properties.
var CSVLogsHeader = []string{
	"Date (UTC)", "ID", "Change ID", "Cycle ID", "Job ID", "Tenant ID",
	"Action", "Status", "Duration (ms)", "Summary",
	"Identity Type",
	"Source Identity ID", "Source Identity Name",
	"Target Identity ID", "Target Identity Name",
	"Source System", "Target System",
	"Service Principal ID", "Service Principal Name",
	"Initiated By", "Initiator Type",
	"Error Code", "Error Reason", "Error Category", "Recommended Action", "Additional Details",
}

// CSVStepsHeader is the header of ProvisioningLogs_ProvisioningSteps.csv:
// one row per step, numbered from 1 in the order the engine ran them.
var CSVStepsHeader = []string{"Change ID", "Step", "Name", "Type", "Status", "Description", "Details"}

// CSVPropertiesHeader is the header of
// ProvisioningLogs_ModifiedProperties.csv: one row per modified property.
var CSVPropertiesHeader = []string{"Change ID", "Property", "Old Value", "New Value"}

// CSVWriter writes records as the three CSV files: RFC 4180 with CRLF line
// ends, UTF-8 without a byte-order mark, a header row each; enum values
// display-cased as the portal shows them (Create, Success, Export);
// dates in RFC 3339, UTC; a null value (a create's old value) as an empty
// cell; a step's details as a JSON object. It is a Sink, safe for
// concurrent use; Flush ends its buffering.
type CSVWriter struct {
	mu                 sync.Mutex
	logs, steps, props *csv.Writer
	header             bool
}

// NewCSVWriter writes the three files' rows to the three writers.
func NewCSVWriter(logs, steps, props io.Writer) *CSVWriter {
	w := &CSVWriter{logs: csv.NewWriter(logs), steps: csv.NewWriter(steps), props: csv.NewWriter(props)}
	for _, c := range []*csv.Writer{w.logs, w.steps, w.props} {
		c.UseCRLF = true
	}
	return w
}

// Add writes r's rows.
func (w *CSVWriter) Add(_ context.Context, r Record) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.header {
		w.header = true
		if err := errors.Join(w.logs.Write(CSVLogsHeader), w.steps.Write(CSVStepsHeader), w.props.Write(CSVPropertiesHeader)); err != nil {
			return err
		}
	}
	e := r.ProvisioningStatusInfo.ErrorInformation
	if e == nil {
		e = &ErrorInfo{}
	}
	row := []string{
		r.ActivityDateTime.UTC().Format(time.RFC3339Nano), r.ID, r.ChangeID, r.CycleID, r.JobID, r.TenantID,
		r.ProvisioningAction.Display(), r.ProvisioningStatusInfo.Status.Display(), strconv.FormatInt(r.DurationInMilliseconds, 10), Detail(&r),
		firstOf(r.SourceIdentity.IdentityType, r.TargetIdentity.IdentityType),
		r.SourceIdentity.ID, r.SourceIdentity.DisplayName,
		r.TargetIdentity.ID, r.TargetIdentity.DisplayName,
		r.SourceSystem.DisplayName, r.TargetSystem.DisplayName,
		r.ServicePrincipal.ID, r.ServicePrincipal.DisplayName,
		r.InitiatedBy.DisplayName, displayCase(r.InitiatedBy.InitiatorType),
		e.ErrorCode, e.Reason, e.ErrorCategory.Display(), e.RecommendedAction, e.AdditionalDetails,
	}
	if err := w.logs.Write(row); err != nil {
		return err
	}
	for i, s := range r.ProvisioningSteps {
		details := "{}"
		if len(s.Details) > 0 {
			b, err := json.Marshal(s.Details)
			if err != nil {
				return err
			}
			details = string(b)
		}
		if err := w.steps.Write([]string{r.ChangeID, strconv.Itoa(i + 1), s.Name, s.ProvisioningStepType.Display(), s.Status.Display(), s.Description, details}); err != nil {
			return err
		}
	}
	for _, p := range r.ModifiedProperties {
		if err := w.props.Write([]string{r.ChangeID, p.DisplayName, deref(p.OldValue), deref(p.NewValue)}); err != nil {
			return err
		}
	}
	return nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// Flush writes what the csv writers buffer, the headers too when no
// record came (three files with their header rows and nothing else).
func (w *CSVWriter) Flush(context.Context) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.header {
		w.header = true
		if err := errors.Join(w.logs.Write(CSVLogsHeader), w.steps.Write(CSVStepsHeader), w.props.Write(CSVPropertiesHeader)); err != nil {
			return err
		}
	}
	var errs []error
	for _, c := range []*csv.Writer{w.logs, w.steps, w.props} {
		c.Flush()
		errs = append(errs, c.Error())
	}
	return errors.Join(errs...)
}

// CSVDir is the three CSV files being written to a directory: each a
// temporary file beside its destination until Commit renames all three
// into place, so that a failed or interrupted run leaves the directory as
// it was, never one file of a new download beside two of an old one.
type CSVDir struct {
	*CSVWriter
	dir   string
	files [3]*os.File
}

// CreateCSVDir starts the three files in dir (created if missing).
func CreateCSVDir(dir string) (*CSVDir, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create the CSV directory %s: %w", dir, err)
	}
	d := &CSVDir{dir: dir}
	for i, name := range csvFiles {
		f, err := os.CreateTemp(dir, "."+name+".*.tmp")
		if err != nil {
			d.Abort()
			return nil, fmt.Errorf("write the CSV files in %s: %w", dir, err)
		}
		d.files[i] = f
	}
	d.CSVWriter = NewCSVWriter(d.files[0], d.files[1], d.files[2])
	return d, nil
}

var csvFiles = [3]string{CSVLogsFile, CSVStepsFile, CSVPropertiesFile}

// Paths are the three files' final paths.
func (d *CSVDir) Paths() []string {
	out := make([]string, len(csvFiles))
	for i, name := range csvFiles {
		out[i] = filepath.Join(d.dir, name)
	}
	return out
}

// Commit flushes, syncs and renames the three files into place.
func (d *CSVDir) Commit(ctx context.Context) error {
	err := d.Flush(ctx)
	for _, f := range d.files {
		if err == nil {
			err = f.Sync()
		}
		if err == nil {
			err = f.Chmod(0o644) // CreateTemp makes 0600 files; a download is no secret
		}
	}
	for i, f := range d.files {
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		d.files[i] = nil
		if err == nil {
			err = os.Rename(f.Name(), filepath.Join(d.dir, csvFiles[i]))
		}
		if err != nil {
			os.Remove(f.Name())
		}
	}
	if err != nil {
		return fmt.Errorf("write the CSV files in %s: %w", d.dir, err)
	}
	return nil
}

// Abort removes the temporary files; after Commit it does nothing.
func (d *CSVDir) Abort() {
	for i, f := range d.files {
		if f != nil {
			f.Close()
			os.Remove(f.Name())
			d.files[i] = nil
		}
	}
}
