package detect

import (
	"context"
	"io"
	"io/fs"
	"time"

	"github.com/bulwarkhq/bulwark/internal/activity"
	"github.com/bulwarkhq/bulwark/internal/limits"
)

// Handler receives what a run finds, as typed messages: Progress while events are read (about
// every 65,536 events), then every Alert (oldest first), every Incident (oldest first) and the
// Summary. An error from it stops the run. `bulwark detect` renders through one; `bulwark watch`
// will deliver through another.
type Handler interface {
	Progress(Progress)
	Alert(*Alert) error
	Incident(*Incident) error
	Summary(*Summary) error
}

// Progress is how far reading has come.
type Progress struct {
	Events int
	Source string // file:line of the latest event
}

// Summary is what a run read and found: the last line of bulwark detect -o json.
type Summary struct {
	Stats      Stats `json:"stats"`
	Duplicates int   `json:"duplicateEvents"`
	Malformed  int   `json:"malformedLines"`
	// Partial: some lines or rows could not be read; Problems lists the first of them.
	Partial   bool     `json:"partial"`
	Problems  []string `json:"problems"`
	Rules     int      `json:"rules"`
	Inputs    []string `json:"inputs"`
	Alerts    int      `json:"alerts"`
	Incidents int      `json:"incidents"`
	// Suppressed alerts stay in the alert lines, marked; Suppressions says what each did.
	Suppressed   int                `json:"suppressedAlerts"`
	Suppressions []SuppressionCount `json:"suppressions"`
	Read         int                `json:"-"` // events the source gave (before the time range)
	Elapsed      time.Duration      `json:"-"`
}

// RunOptions are what Run reads besides the detector's Options.
type RunOptions struct {
	Files  fs.FS         // where activity.Paths are read from (the CLI gives hostfs.FS)
	Stdin  io.Reader     // for "-" in activity.Paths
	Inputs []string      // named in the summary (default: the source's description)
	Limits limits.Limits // what one input may cost (activity.Reader.Limits)
}

// Run reads every event of src through a narrowed Reader (activity.Reader with the detector's
// TimeOnly and Flat), detects, and hands the results to h. The Reader's problems (malformed lines)
// are in the Summary; only an unreadable input, a cancelled ctx or the handler's error is an error.
func Run(ctx context.Context, src activity.Source, opts Options, ro RunOptions, h Handler) (*Summary, error) {
	d, errs, err := New(opts)
	if err != nil {
		return nil, err
	}
	if len(errs) > 0 {
		return nil, errs
	}
	r := &activity.Reader{Files: ro.Files, Stdin: ro.Stdin, Limits: ro.Limits}
	d.Narrow(r)
	start := time.Now()
	n := 0
	if err := src.Events(ctx, r, func(e *activity.Event) error {
		d.Process(e)
		if n++; n%65536 == 0 {
			h.Progress(Progress{Events: n, Source: e.Source()})
			return ctx.Err()
		}
		return nil
	}); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	res := d.Finish()
	sum := &Summary{Stats: res.Stats, Duplicates: r.Duplicates, Malformed: r.Malformed, Partial: r.Malformed > 0, Problems: []string{},
		Rules: len(d.rs.Rules) + len(d.rs.Correlations), Inputs: ro.Inputs, Alerts: len(res.Alerts), Incidents: len(res.Incidents),
		Suppressions: res.Suppressions, Read: n, Elapsed: time.Since(start)}
	if sum.Inputs == nil {
		sum.Inputs = []string{src.Describe()}
	}
	if sum.Suppressions == nil {
		sum.Suppressions = []SuppressionCount{}
	}
	for _, s := range res.Suppressions {
		sum.Suppressed += s.Alerts
	}
	for _, p := range r.Problems {
		sum.Problems = append(sum.Problems, p.String())
	}
	for _, a := range res.Alerts {
		if err := h.Alert(a); err != nil {
			return sum, err
		}
	}
	for _, inc := range res.Incidents {
		if err := h.Incident(inc); err != nil {
			return sum, err
		}
	}
	return sum, h.Summary(sum)
}

// Collect is a Handler that keeps everything, for renderers that need the whole result.
type Collect struct {
	Result     Result
	Final      *Summary
	OnProgress func(Progress)
}

func (c *Collect) Progress(p Progress) {
	if c.OnProgress != nil {
		c.OnProgress(p)
	}
}
func (c *Collect) Alert(a *Alert) error { c.Result.Alerts = append(c.Result.Alerts, a); return nil }
func (c *Collect) Incident(i *Incident) error {
	c.Result.Incidents = append(c.Result.Incidents, i)
	return nil
}
func (c *Collect) Summary(s *Summary) error {
	c.Final, c.Result.Stats, c.Result.Suppressions = s, s.Stats, s.Suppressions
	return nil
}
