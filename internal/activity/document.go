package activity

// This file: whole documents (a JSON array, {"value": [...]}, {"records": [...]}) and Log Analytics
// CSV.

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/bulwarkhq/bulwark/internal/limits"
	"io"
	"strings"

	"github.com/bulwarkhq/bulwark/internal/jsonscan"
)

func (r *Reader) one(src, raw string, fn func(*Event) error) error {
	rec, ok := scanRecord(raw)
	if !ok {
		r.problem(src, "not a JSON object")
		return nil
	}
	return r.oneRecord(source{name: src}, rec, fn)
}

func (r *Reader) oneRecord(src source, rec *record, fn func(*Event) error) error {
	e, err := fromRecord(rec, src)
	if err != nil {
		r.problem(src.String(), "%v", err)
		return nil
	}
	return r.emit(e, fn)
}

// readDocument reads a JSON array of events (az monitor activity-log list, Log Analytics JSON).
func (r *Reader) readDocument(name string, br *bufio.Reader, fn func(*Event) error) error {
	max := r.Limits.Or().MaxDocumentBytes
	data, over, err := limits.ReadAtMost(br, max)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	if over {
		return &limits.Error{Msg: fmt.Sprintf("%s: a JSON document over %s (limits.maxDocumentBytes in bulwark.yaml): give it as JSON lines instead (jq -c '.[]' %s > events.jsonl), which has no such limit",
			name, limits.Size(max), name)}
	}
	if !jsonscan.Valid(data) {
		var v any
		err := json.Unmarshal(data, &v)
		var se *json.SyntaxError
		if errors.As(err, &se) {
			line := bytes.Count(data[:se.Offset], []byte("\n")) + 1
			r.problem(fmt.Sprintf("%s:%d", name, line), "malformed JSON: %v", err)
		} else {
			r.problem(name, "malformed JSON: %v", err)
		}
		return nil
	}
	var ferr error
	jsonscan.Array(data, func(i int, v []byte) bool {
		ferr = r.one(fmt.Sprintf("%s [%d]", name, i), string(v), fn)
		return ferr == nil
	})
	return ferr
}

// csvColumns maps the portal export's headers ("TimeGenerated [UTC]") to column names.
func csvColumn(h string) string {
	h = strings.TrimSpace(strings.TrimPrefix(h, "\ufeff"))
	if i := strings.Index(h, " ["); i > 0 {
		h = h[:i]
	}
	return h
}

// recordLimiter stops a CSV input whose current record (which encoding/csv holds whole, quoted
// newlines and all) grows beyond max bytes.
type recordLimiter struct {
	r        io.Reader
	n, start int64
	max      int64
}

func (l *recordLimiter) Read(p []byte) (int, error) {
	if l.n-l.start > l.max+64<<10 { // csv reads ahead in 4 KB chunks
		return 0, &limits.Error{Msg: fmt.Sprintf("a CSV record over the %s record limit (limits.maxLineBytes in bulwark.yaml): stopped", limits.Size(l.max))}
	}
	n, err := l.r.Read(p)
	l.n += int64(n)
	return n, err
}

// readCSV reads the CSV that the Log Analytics portal exports.
func (r *Reader) readCSV(name string, br *bufio.Reader, fn func(*Event) error) error {
	rl := &recordLimiter{r: br, max: int64(r.maxLine())}
	last := 1
	cr := csv.NewReader(rl)
	cr.FieldsPerRecord = -1
	cr.LazyQuotes = true
	header, err := cr.Read()
	if err != nil {
		r.problem(name+":1", "not CSV: %v", err)
		return nil
	}
	cols := make([]string, len(header))
	for i, h := range header {
		cols[i] = csvColumn(h)
	}
	for {
		row, err := cr.Read()
		if err == io.EOF {
			return nil
		}
		var el *limits.Error
		if errors.As(err, &el) {
			return &limits.Error{Msg: fmt.Sprintf("%s, after line %d: %s", name, last, el.Msg)}
		}
		rl.start = cr.InputOffset()
		last, _ = cr.FieldPos(0)
		line, _ := cr.FieldPos(0)
		src := source{name, line}
		if err != nil {
			r.problem(src.String(), "malformed CSV: %v", err)
			continue
		}
		if len(row) != len(cols) {
			r.problem(src.String(), "%d columns, the header has %d", len(row), len(cols))
			continue
		}
		rec := &record{}
		for i, c := range cols {
			if row[i] == "" {
				continue
			}
			v := row[i]
			if t := strings.TrimSpace(v); strings.HasPrefix(t, "{") && json.Valid([]byte(t)) {
				rec.set(memberOf(strings.ToLower(c)), t)
			} else {
				b, _ := json.Marshal(v)
				rec.set(memberOf(strings.ToLower(c)), string(b))
			}
		}
		e, err := fromRecord(rec, src)
		if err != nil {
			r.problem(src.String(), "%v", err)
			continue
		}
		if err := r.emit(e, fn); err != nil {
			return err
		}
	}
}
