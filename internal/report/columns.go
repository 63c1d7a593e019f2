package report

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/bulwarkhq/bulwark/internal/textsafe"
)

// Columns writes aligned text columns; the header row is upper-cased, and every cell is made safe
// (textsafe.Cell): a value cannot add rows or columns, or drive the terminal.
type Columns struct {
	tw *tabwriter.Writer
}

// NewColumns starts a table on w with the given header (none: no header row).
func NewColumns(w io.Writer, header ...string) *Columns {
	t := &Columns{tw: tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)}
	if len(header) > 0 {
		for i := range header {
			header[i] = strings.ToUpper(header[i])
		}
		t.Row(header...)
	}
	return t
}

// Row writes one row.
func (t *Columns) Row(cells ...string) {
	for i, c := range cells {
		cells[i] = textsafe.Cell(c)
	}
	fmt.Fprintln(t.tw, strings.Join(cells, "\t"))
}

// Flush writes the aligned rows.
func (t *Columns) Flush() error { return t.tw.Flush() }

// Styler adds ANSI emphasis when On.
type Styler struct{ On bool }

// Bold emphasises x.
func (s Styler) Bold(x string) string {
	if !s.On {
		return x
	}
	return "\x1b[1m" + x + "\x1b[0m"
}

// Warn colours x as a warning.
func (s Styler) Warn(x string) string {
	if !s.On {
		return x
	}
	return "\x1b[33m" + x + "\x1b[0m"
}

// Plural writes "1 alert" or "3 alerts".
func Plural(n int, one, many string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, one)
	}
	return fmt.Sprintf("%d %s", n, many)
}

// MarkdownEscape makes s safe in a Markdown table cell.
func MarkdownEscape(s string) string {
	return strings.NewReplacer("|", `\|`, "\n", " ", "<", "&lt;", ">", "&gt;").Replace(s)
}
