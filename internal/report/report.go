// Package report renders an assessment for people and tools: a terminal table, a stable JSON
// document, SARIF 2.1.0 for code-scanning tools, Markdown for tickets and one self-contained HTML
// file for management. Every format renders the same assess.Report.
package report

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/bulwarkhq/bulwark/internal/assess"
	"github.com/bulwarkhq/bulwark/internal/jsonscan"
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
	Results     []assess.Result `json:"results"`
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
		Scores:  rep.Scores, Checks: checks, Results: rep.Results}
	// The results are streamed, one at a time, after the rest of the document: the output is
	// byte for byte what encoding the whole document at once gives, without holding it (or its
	// indented copy) in memory — at 200,000 results that was most of the command's memory.
	results := rep.Results
	doc.Results = []assess.Result{}
	var head bytes.Buffer
	enc := json.NewEncoder(&head)
	enc.SetIndent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return err
	}
	if len(results) == 0 {
		_, err := w.Write(head.Bytes())
		return err
	}
	const tail = "\"results\": []\n}\n" // results is jsonDoc's last field
	if !bytes.HasSuffix(head.Bytes(), []byte(tail)) {
		return errors.New("report: the results are no longer the last field of the JSON document")
	}
	bw := bufio.NewWriterSize(w, 1<<16)
	bw.Write(head.Bytes()[:head.Len()-len(tail)])
	bw.WriteString("\"results\": [\n    ")
	var compact bytes.Buffer
	renc := json.NewEncoder(&compact) // one buffer for every result; Encode adds a newline
	var indented []byte
	for i := range results {
		if i > 0 {
			bw.WriteString(",\n    ")
		}
		compact.Reset()
		if err := renc.Encode(&results[i]); err != nil {
			return err
		}
		indented = jsonscan.AppendIndent(indented[:0], bytes.TrimSuffix(compact.Bytes(), []byte("\n")), "    ", "  ")
		bw.Write(indented)
	}
	bw.WriteString("\n  ]\n}\n")
	return bw.Flush()
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

// findingsOf returns an area's findings, then its excepted results.
func findingsOf(rep *assess.Report, areaTitle string) []assess.Result {
	var out []assess.Result
	for _, r := range append(rep.Findings(), excepted(rep)...) {
		if r.Area.Title() == areaTitle {
			out = append(out, r)
		}
	}
	return out
}

// excepted returns the results an exception accepts.
func excepted(rep *assess.Report) []assess.Result {
	var out []assess.Result
	for _, r := range rep.Results {
		if r.Status == assess.Excepted {
			out = append(out, r)
		}
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

func top(rep *assess.Report, n int) []assess.Result {
	f := rep.Findings()
	if len(f) > n {
		f = f[:n]
	}
	return f
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
