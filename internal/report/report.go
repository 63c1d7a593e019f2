// Package report renders an assessment for people and tools: a terminal table, a stable JSON
// document, SARIF 2.1.0 for code-scanning tools, Markdown for tickets and one self-contained HTML
// file for management. Every format renders the same assess.Report.
package report

import (
	"bufio"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/bulwarkhq/bulwark/internal/assess"
)

// Meta describes the run a report comes from.
type Meta struct {
	Version     string
	GeneratedAt time.Time
	CollectedAt time.Time
	Objects     int
	Inputs      []string
	Apps        string
	IaC         []string
	Color       bool
	Verbose     bool
	// Unreadable names the inputs that could not be read (with --allow-partial): every format says
	// the assessment is partial.
	Unreadable []string
}

// partialLines says which inputs could not be read, for the head of every human format.
func partialLines(meta Meta) []string {
	var out []string
	for _, u := range meta.Unreadable {
		out = append(out, "partial: could not be read: "+u)
	}
	return out
}

// Formats offered by the assess command, the default first.
var Formats = []string{"table", "json", "sarif", "markdown", "html", "csv", "xlsx"}

// Write renders rep in format.
func Write(w io.Writer, format string, rep *assess.Report, checks []*assess.Check, meta Meta) error {
	bw := bufio.NewWriterSize(w, 1<<16) // the renderers write in small pieces
	if err := write(bw, format, rep, checks, meta); err != nil {
		return err
	}
	return bw.Flush()
}

func write(w io.Writer, format string, rep *assess.Report, checks []*assess.Check, meta Meta) error {
	switch format {
	case "table":
		return Table(w, rep, meta)
	case "json":
		return JSON(w, rep, checks, meta)
	case "sarif":
		return SARIF(w, rep, checks, meta)
	case "markdown":
		return Markdown(w, rep, meta)
	case "html":
		return HTML(w, rep, meta)
	case "csv":
		return CSV(w, rep)
	case "xlsx":
		return XLSX(w, rep, meta)
	}
	return fmt.Errorf("unknown format %q", format)
}

// JSONSchema is the schema tag of the JSON document (documented in docs/assessment-json.md).
const JSONSchema = "bulwark.assessment/v1"

type jsonDoc struct {
	Schema      string          `json:"schema"`
	Version     string          `json:"bulwarkVersion"`
	GeneratedAt time.Time       `json:"generatedAt"`
	Snapshot    jsonSnapshot    `json:"snapshot"`
	Summary     jsonSummary     `json:"summary"`
	Scores      assess.Scores   `json:"scores"`
	Checks      []*assess.Check `json:"checks"`
	Results     streamedArray   `json:"results"` // rep.Results, written by writeStreamed
}

type jsonSnapshot struct {
	CollectedAt time.Time `json:"collectedAt"`
	Objects     int       `json:"objects"`
	Inputs      []string  `json:"inputs"`
	Apps        string    `json:"apps,omitempty"`
	IaC         []string  `json:"iac"`
	Errors      any       `json:"collectionErrors"`
	Unreadable  []string  `json:"unreadable"` // inputs that could not be read (--allow-partial)
}

type jsonSummary struct {
	Counts         map[assess.Status]int `json:"counts"`
	UnknownBecause map[string]int        `json:"unknownBecause"`
	Checks         int                   `json:"checks"`
	Partial        bool                  `json:"partial"` // some inputs could not be read
}

// JSON writes the stable machine-readable document.
func JSON(w io.Writer, rep *assess.Report, checks []*assess.Check, meta Meta) error {
	doc := jsonDoc{Schema: JSONSchema, Version: meta.Version, GeneratedAt: meta.GeneratedAt.UTC(),
		Snapshot: jsonSnapshot{CollectedAt: meta.CollectedAt.UTC(), Objects: meta.Objects, Inputs: nonNil(meta.Inputs), Apps: meta.Apps, IaC: nonNil(meta.IaC), Errors: rep.Errors,
			Unreadable: nonNil(meta.Unreadable)},
		Summary: jsonSummary{Counts: rep.Counts, UnknownBecause: rep.Unknown, Checks: rep.Checks, Partial: len(meta.Unreadable) > 0},
		Scores:  rep.Scores, Checks: checks}
	return writeStreamed(w, doc, len(rep.Results), func(i int) any { return &rep.Results[i] })
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// summaryLine says how many results of each status there are and why the unknowns are unknown.
func summaryLine(rep *assess.Report) string {
	c := rep.Counts
	s := fmt.Sprintf("%d pass, %d warn, %d fail, %d unknown, %d n/a", c[assess.Pass], c[assess.Warn], c[assess.Fail], c[assess.Unknown], c[assess.NA])
	if n := c[assess.Excepted]; n > 0 {
		s += fmt.Sprintf(", %d excepted", n)
	}
	return s
}

func unknownLines(rep *assess.Report) []string {
	type kv struct {
		k string
		n int
	}
	var list []kv
	for k, n := range rep.Unknown {
		list = append(list, kv{k, n})
	}
	sort.Slice(list, func(i, j int) bool {
		if list[i].n != list[j].n {
			return list[i].n > list[j].n
		}
		return list[i].k < list[j].k
	})
	var out []string
	for _, e := range list {
		out = append(out, fmt.Sprintf("%d unknown: %s is not in the snapshot", e.n, e.k))
	}
	return out
}

// areasWorstFirst orders area scores from the lowest score.
func areasWorstFirst(rep *assess.Report) []assess.Score {
	out := append([]assess.Score(nil), rep.Scores.Areas...)
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Assessed != out[j].Assessed {
			return out[i].Assessed // areas not assessed last
		}
		return out[i].Score < out[j].Score
	})
	return out
}

// reported returns the positions in rep.Results of the findings (fail, warn), then of the results
// an exception accepts, each in order: what SARIF and the Markdown sections list.
func reported(rep *assess.Report) []int {
	var out, excepted []int
	for i := range rep.Results {
		switch r := &rep.Results[i]; {
		case r.Failed():
			out = append(out, i)
		case r.Status == assess.Excepted:
			excepted = append(excepted, i)
		}
	}
	return append(out, excepted...)
}

// findingsByArea returns, per area title, the positions of its findings, then of its excepted
// results: one pass, and no copy of a result.
func findingsByArea(rep *assess.Report) map[string][]int {
	out := map[string][]int{}
	for _, i := range reported(rep) {
		a := rep.Results[i].Area.Title()
		out[a] = append(out[a], i)
	}
	return out
}

// exceptionNote says why a result is excepted, or that its exception expired.
func exceptionNote(r assess.Result) string {
	x := r.Exception
	if x == nil {
		return ""
	}
	if x.Expired {
		return fmt.Sprintf("exception expired %s (bulwark.yaml line %d, %s): %s", x.Expires.Format("2006-01-02"), x.Line, x.Owner, x.Reason)
	}
	return fmt.Sprintf("excepted until %s by %s (bulwark.yaml line %d): %s", x.Expires.Format("2006-01-02"), x.Owner, x.Line, x.Reason)
}

// top returns the first n findings (the results are sorted worst first).
func top(rep *assess.Report, n int) []assess.Result {
	var out []assess.Result
	for i := 0; i < len(rep.Results) && len(out) < n; i++ {
		if rep.Results[i].Failed() {
			out = append(out, rep.Results[i])
		}
	}
	return out
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
