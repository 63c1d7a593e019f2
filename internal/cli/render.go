package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/bulwarkhq/bulwark/internal/textsafe"
)

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// table writes aligned columns; the header row is upper-cased.
type table struct {
	tw *tabwriter.Writer
}

func newTable(w io.Writer, header ...string) *table {
	t := &table{tw: tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)}
	if len(header) > 0 {
		for i := range header {
			header[i] = strings.ToUpper(header[i])
		}
		t.row(header...)
	}
	return t
}

// row writes one row; each cell is made safe (textsafe.Cell): a value cannot add rows or columns,
// or drive the terminal.
func (t *table) row(cells ...string) {
	for i, c := range cells {
		cells[i] = textsafe.Cell(c)
	}
	fmt.Fprintln(t.tw, strings.Join(cells, "\t"))
}

func (t *table) flush() error { return t.tw.Flush() }

// styler adds ANSI emphasis when colour is on.
type styler struct{ on bool }

func (s styler) bold(x string) string {
	if !s.on {
		return x
	}
	return "\x1b[1m" + x + "\x1b[0m"
}

func (s styler) warn(x string) string {
	if !s.on {
		return x
	}
	return "\x1b[33m" + x + "\x1b[0m"
}

func plural(n int, one, many string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, one)
	}
	return fmt.Sprintf("%d %s", n, many)
}
