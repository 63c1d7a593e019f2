package cli

import (
	"encoding/json"
	"io"

	"github.com/bulwarkhq/bulwark/internal/report"
)

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// The text-table helpers are report's: one set for every renderer.
type table = report.Columns

var (
	newTable = report.NewColumns
	plural   = report.Plural
	mdEscape = report.MarkdownEscape
	dash     = report.Dash
)

type styler = report.Styler
