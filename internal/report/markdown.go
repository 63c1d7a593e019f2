package report

import (
	"fmt"
	"io"
	"strings"

	"github.com/bulwarkhq/bulwark/internal/assess"
)

// mdReplacer is built once: building one per call was most of the time of a large report.
var mdReplacer = strings.NewReplacer("|", "\\|", "\n", " ")

func mdEscape(s string) string { return mdReplacer.Replace(s) }

// Markdown writes a report to paste into tickets and wikis.
func Markdown(w io.Writer, rep *assess.Report, meta Meta) error {
	fmt.Fprintf(w, "# Bulwark assessment\n\nEstate score **%s** · %s · snapshot of %s (%d objects)\n\n",
		outOf100(rep.Scores.Estate), summaryLine(rep), meta.CollectedAt.UTC().Format("2006-01-02 15:04 UTC"), meta.Objects)
	for _, l := range partialLines(meta) {
		fmt.Fprintf(w, "- **%s**\n", mdEscape(l))
	}
	for _, l := range unknownLines(rep) {
		fmt.Fprintf(w, "- %s\n", l)
	}
	for _, e := range rep.Errors {
		fmt.Fprintf(w, "- not collected: `%s` %s: %s\n", e.Scope, mdEscape(e.Operation), mdEscape(e.Message))
	}
	fmt.Fprintf(w, "\n## Scores\n\n| area | score | pass | warn | fail | unknown |\n|---|---:|---:|---:|---:|---:|\n")
	for _, s := range areasWorstFirst(rep) {
		fmt.Fprintf(w, "| %s | %s | %d | %d | %d | %d |\n", s.Name, s.Display(), s.Pass, s.Warn, s.Fail, s.Unknown)
	}
	for _, s := range rep.Scores.Principles {
		fmt.Fprintf(w, "| *%s* | %s | %d | %d | %d | %d |\n", s.Name, s.Display(), s.Pass, s.Warn, s.Fail, s.Unknown)
	}
	fmt.Fprintf(w, "\n## Top findings\n\n| # | severity | check | resource | blast radius | finding |\n|---:|---|---|---|---:|---|\n")
	for i, r := range top(rep, 10) {
		fmt.Fprintf(w, "| %d | %s | %s | `%s` | %d | %s |\n", i+1, r.Severity, r.CheckID, r.Name, r.BlastRadius, mdEscape(r.Message))
	}
	byArea := findingsByArea(rep)
	for _, s := range areasWorstFirst(rep) {
		f := byArea[s.Name]
		if len(f) == 0 {
			continue
		}
		fmt.Fprintf(w, "\n## %s — %s\n", s.Name, outOf100(s))
		for _, i := range f {
			r := &rep.Results[i]
			fmt.Fprintf(w, "\n### %s %s: %s — %s\n\n", strings.ToUpper(string(r.Status)), r.CheckID, r.Title, r.Name)
			fmt.Fprintf(w, "- resource: `%s`", r.Resource)
			if r.App != "" {
				fmt.Fprintf(w, " (application %s)", r.App)
			}
			fmt.Fprintf(w, "\n- severity: %s · blast radius %d\n- %s\n", r.Severity, r.BlastRadius, mdEscape(r.Message))
			if n := exceptionNote(*r); n != "" {
				fmt.Fprintf(w, "- **%s**\n", mdEscape(n))
			}
			for _, e := range r.Evidence {
				fmt.Fprintf(w, "  - `%s` = %s\n", mdEscape(e.Path), mdEscape(e.Value))
			}
			if r.Check != nil {
				fmt.Fprintf(w, "- fix: %s\n", mdEscape(r.Check.Fix.Text))
				var cs []string
				for _, x := range r.Check.Controls {
					cs = append(cs, x.Label())
				}
				if len(cs) > 0 {
					fmt.Fprintf(w, "- controls: %s\n", mdEscape(strings.Join(cs, "; ")))
				}
			}
			if r.Command != "" {
				fmt.Fprintf(w, "\n```sh\n%s\n```\n", r.Command)
			}
		}
	}
	return nil
}
