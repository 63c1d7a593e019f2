package report

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/bulwarkhq/bulwark/internal/assess"
	"github.com/bulwarkhq/bulwark/internal/textsafe"
)

func paint(on bool, code, s string) string {
	if !on {
		return s
	}
	return "\x1b[" + code + "m" + s + "\x1b[0m"
}

func statusColor(s assess.Status) string {
	switch s {
	case assess.Fail:
		return "31"
	case assess.Warn:
		return "33"
	case assess.Pass:
		return "32"
	}
	return "2"
}

// Table writes the terminal report: scores, the top findings, then every finding grouped by area,
// worst area first. With Verbose, passing and n/a results are listed too.
func Table(w io.Writer, rep *assess.Report, meta Meta) error {
	c := meta.Color
	fmt.Fprintf(w, "%s %s   %s\n", paint(c, "1", "Estate score"), outOf100(rep.Scores.Estate), summaryLine(rep))
	for _, l := range partialLines(meta) {
		fmt.Fprintf(w, "  %s\n", textsafe.Cell(l))
	}
	for _, l := range unknownLines(rep) {
		fmt.Fprintf(w, "  %s\n", l)
	}
	for _, e := range rep.Errors {
		fmt.Fprintf(w, "  not collected: %s %s: %s\n", textsafe.Cell(e.Scope), textsafe.Cell(e.Operation), textsafe.Cell(e.Message))
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "AREA\tSCORE\tPASS\tWARN\tFAIL\tUNKNOWN")
	for _, s := range areasWorstFirst(rep) {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%d\n", s.Name, s.Display(), s.Pass, s.Warn, s.Fail, s.Unknown)
	}
	for _, s := range rep.Scores.Principles {
		fmt.Fprintf(tw, "principle: %s\t%s\t%d\t%d\t%d\t%d\n", s.Name, s.Display(), s.Pass, s.Warn, s.Fail, s.Unknown)
	}
	tw.Flush()

	if f := top(rep, 10); len(f) > 0 {
		fmt.Fprintf(w, "\n%s\n", paint(c, "1", "Top findings (severity × blast radius)"))
		tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "#\tSEVERITY\tCHECK\tRESOURCE\tBLAST\tFINDING")
		for i, r := range f {
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%d\t%s\n", i+1, paint(c, statusColor(r.Status), r.Severity.String()), r.CheckID, textsafe.Cell(r.Name), r.BlastRadius, textsafe.Cell(r.Message))
		}
		tw.Flush()
	}
	for _, s := range areasWorstFirst(rep) {
		var rows []*assess.Result
		for i := range rep.Results {
			r := &rep.Results[i]
			if r.Area.Title() == s.Name && (r.Failed() || meta.Verbose || r.Status == assess.Unknown || r.Status == assess.Excepted) {
				rows = append(rows, r)
			}
		}
		if len(rows) == 0 {
			continue
		}
		fmt.Fprintf(w, "\n%s  %s\n", paint(c, "1", s.Name), outOf100(s))
		tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "STATUS\tSEVERITY\tCHECK\tRESOURCE\tAPP\tEVIDENCE")
		for _, r := range rows {
			evs := make([]string, 0, len(r.Evidence))
			for i, e := range r.Evidence {
				if i == 2 {
					evs = append(evs, "+"+strconv.Itoa(len(r.Evidence)-2)+" more")
					break
				}
				evs = append(evs, e.String())
			}
			line := oneLine(r.Message + ": " + strings.Join(evs, "; "))
			if r.Status == assess.Excepted {
				line = oneLine(r.Message + " — " + exceptionNote(*r))
			}
			if !meta.Verbose && len(line) > 200 {
				line = line[:199] + "…"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", paint(c, statusColor(r.Status), string(r.Status)), r.Severity, r.CheckID, textsafe.Cell(r.Name), textsafe.Cell(Dash(r.App)), textsafe.Cell(line))
		}
		tw.Flush()
	}
	if len(rep.Findings()) > 0 {
		fmt.Fprintf(w, "\n-v shows evidence in full and passing results; -o markdown|html|json|sarif add remediation commands.\n")
	}
	return nil
}

// outOf100 renders a score as "87.5/100", or "not assessed".
func outOf100(s assess.Score) string {
	if !s.Assessed {
		return "not assessed"
	}
	return s.Display() + "/100"
}

// Dash shows an empty cell as "-".
func Dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
