package diff

import (
	"fmt"
	"strings"

	"github.com/miscim/miscim/internal/cli/simulate"
	"github.com/miscim/miscim/internal/diff"
	"github.com/miscim/miscim/internal/entra/mapping"
	entrasync "github.com/miscim/miscim/internal/entra/sync"
	"github.com/miscim/miscim/internal/iostreams"
	"github.com/miscim/miscim/internal/render"
)

// plannedRequest is one request the next cycle would send, as simulate
// --dry-run lists it (its "planned" entries), with what it is for.
type plannedRequest struct {
	Method  string `json:"method"`
	Path    string `json:"path"`
	Body    string `json:"body,omitempty"`
	Purpose string `json:"purpose"`
}

// planOut is --plan's part of -o json: the state file planned from, the
// kind of cycle, every request in order, and the requests by object.
type planOut struct {
	State    string           `json:"state"`
	Cycle    string           `json:"cycle"`
	Requests []plannedRequest `json:"requests"`
	Objects  []plannedObject  `json:"objects"`
}

// plannedObject is one object's evaluation in the plan.
type plannedObject struct {
	Object   string           `json:"object"`
	Members  bool             `json:"members,omitempty"`
	Identity string           `json:"identity"`
	SourceID string           `json:"sourceId"`
	TargetID string           `json:"targetId"`
	Action   string           `json:"action"`
	Status   string           `json:"status"`
	Requests []plannedRequest `json:"requests"`
}

func requestsOut(reqs []entrasync.Request) []plannedRequest {
	out := make([]plannedRequest, 0, len(reqs))
	for _, r := range reqs {
		out = append(out, plannedRequest{Method: r.Method, Path: r.Path, Body: string(r.Body), Purpose: r.Purpose.String()})
	}
	return out
}

func newPlanOut(p *simulate.Plan) *planOut {
	po := &planOut{State: p.State, Requests: requestsOut(p.Requests), Objects: []plannedObject{}}
	if p.Result != nil {
		po.Cycle = string(p.Result.Kind)
	}
	for _, o := range p.Objects {
		po.Objects = append(po.Objects, plannedObject{Object: o.Kind.Singular(), Members: o.Members, Identity: o.Name, SourceID: o.SourceID,
			TargetID: o.TargetID, Action: string(o.Action), Status: string(o.Status), Requests: requestsOut(o.Requests)})
	}
	return po
}

// requestsFor are the planned requests of a change's object: for an
// object, the requests of its evaluation, found by its objectId (or, for
// a target object, its id); for a membership, the membership PATCHes of
// its group that name the member's target id.
func requestsFor(p *simulate.Plan, c *diff.Change) []plannedRequest {
	kind := mapping.Users
	if c.Object == "group" {
		kind = mapping.Groups
	}
	var out []entrasync.Request
	for i := range p.Objects {
		o := &p.Objects[i]
		if o.Kind != kind || o.Members != (c.Member != nil) {
			continue
		}
		same := c.SourceID != "" && strings.EqualFold(o.SourceID, c.SourceID) || c.SourceID == "" && c.TargetID != "" && o.TargetID == c.TargetID
		if !same {
			continue
		}
		for _, r := range o.Requests {
			if c.Member != nil && (c.Member.TargetID == "" || !strings.Contains(string(r.Body), `"`+c.Member.TargetID+`"`)) {
				continue
			}
			out = append(out, r)
		}
	}
	if len(out) == 0 {
		return nil
	}
	return requestsOut(out)
}

// renderPlan prints the plan after the diff: the requests by object, as
// simulate --dry-run would send them.
func renderPlan(ios *iostreams.IOStreams, po *planOut) error {
	th := render.NewTheme(ios)
	state := po.State
	if state == "" {
		state = "no state file yet"
	}
	fmt.Fprintf(ios.Out, "\n%s\n", th.Header.Render(fmt.Sprintf("Plan: the next %s cycle would send %s (as simulate --dry-run; %s)", po.Cycle, plural(len(po.Requests), "request"), state)))
	t := render.NewTable(render.Column{Header: "#"}, render.Column{Header: "object"}, render.Column{Header: "request", Fit: render.Wrap}, render.Column{Header: "body", Fit: render.Truncate, Hide: 1})
	n := 0
	for _, r := range po.Requests {
		if r.Purpose == "probe" {
			n++
			t.AddRow(fmt.Sprint(n), "probe", r.Method+" "+r.Path, r.Body)
		}
	}
	for _, o := range po.Objects {
		what := o.Action + " " + o.Object + " " + o.Identity
		if o.Members {
			what = "members of " + o.Identity
		}
		for _, r := range o.Requests {
			n++
			t.AddRow(fmt.Sprint(n), what, r.Method+" "+r.Path, r.Body)
		}
	}
	if n == 0 {
		_, err := fmt.Fprintln(ios.Out, "nothing: the next cycle would send no request")
		return err
	}
	return t.Render(ios)
}
