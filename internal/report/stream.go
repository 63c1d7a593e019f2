package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"

	"github.com/bulwarkhq/bulwark/internal/jsonscan"
)

// arrayMarker stands in for a streamed array while the rest of a document is encoded.
const arrayMarker = "\x00bulwark streamed array\x00"

// streamedArray is a document field whose elements are written one at a time after the rest of the
// document is encoded: it encodes as the marker that writeStreamed replaces.
type streamedArray struct{}

// MarshalJSON implements json.Marshaler.
func (streamedArray) MarshalJSON() ([]byte, error) { return json.Marshal(arrayMarker) }

// writeStreamed writes doc as json.Encoder with two-space indentation writes it (its bytes exactly),
// except that its one streamedArray field holds elem(0) … elem(n-1), each encoded when written and
// then let go: the whole document, or its indented copy, is never in memory. At 300,000 results
// that copy was most of a command's memory.
func writeStreamed(w io.Writer, doc any, n int, elem func(i int) any) error {
	var head bytes.Buffer
	enc := json.NewEncoder(&head)
	enc.SetIndent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return err
	}
	quoted, _ := json.Marshal(arrayMarker)
	at := bytes.Index(head.Bytes(), quoted)
	if at < 0 || bytes.Count(head.Bytes(), quoted) != 1 {
		return fmt.Errorf("report: the document has %d streamed arrays, not one", bytes.Count(head.Bytes(), quoted))
	}
	before, after := head.Bytes()[:at], head.Bytes()[at+len(quoted):]
	lineIndent := before[bytes.LastIndexByte(before, '\n')+1:]
	lineIndent = lineIndent[:len(lineIndent)-len(bytes.TrimLeft(lineIndent, " "))]
	if _, err := w.Write(before); err != nil {
		return err
	}
	if n == 0 {
		io.WriteString(w, "[]")
	} else {
		prefix := string(lineIndent) + "  "
		var compact bytes.Buffer
		eenc := json.NewEncoder(&compact) // Encode adds a newline, trimmed below
		indented := []byte("[\n" + prefix)
		for i := 0; i < n; i++ {
			if i > 0 {
				indented = append(indented[:0], ",\n"+prefix...)
			}
			compact.Reset()
			if err := eenc.Encode(elem(i)); err != nil {
				return err
			}
			indented = jsonscan.AppendIndent(indented, bytes.TrimSuffix(compact.Bytes(), []byte("\n")), prefix, "  ")
			if _, err := w.Write(indented); err != nil {
				return err
			}
			indented = indented[:0]
		}
		io.WriteString(w, "\n"+string(lineIndent)+"]")
	}
	_, err := w.Write(after)
	return err
}
