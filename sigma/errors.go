package sigma

import (
	"fmt"
	"strings"
)

// Error is a problem with a rule, at a position in its file.
type Error struct {
	File   string
	Line   int
	Column int
	Rule   string // the rule's title or id, when known
	Msg    string
}

// Error formats the error as file:line:column: rule "title": message.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d:%d", e.Line, e.Column)
	}
	b.WriteString(": ")
	if e.Rule != "" {
		b.WriteString("rule " + quote(e.Rule) + ": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

func quote(s string) string { return "\"" + s + "\"" }

// Errors is every problem found while loading rules; a rule set loads all valid rules and reports
// each invalid one.
type Errors []*Error

// Error lists every error, one per line.
func (es Errors) Error() string {
	var lines []string
	for _, e := range es {
		lines = append(lines, e.Error())
	}
	return strings.Join(lines, "\n")
}

// Err returns es as an error, or nil when empty.
func (es Errors) Err() error {
	if len(es) == 0 {
		return nil
	}
	return es
}
