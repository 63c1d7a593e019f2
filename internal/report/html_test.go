package report

import (
	"bytes"
	"html/template"
	"strings"
	"testing"
	"time"

	"github.com/bulwarkhq/bulwark/internal/assess"
)

// rowTemplate is the results row as the HTML template wrote it before htmlRow took over.
var rowTemplate = template.Must(template.New("row").Funcs(template.FuncMap{
	"lower": strings.ToLower,
	"evidence": func(r assess.Result) string {
		var s []string
		for _, e := range r.Evidence {
			s = append(s, e.String())
		}
		return strings.Join(s, "\n")
	},
	"exceptionNote": exceptionNote,
	"controls":      controlsNote,
}).Parse(`<table><tbody>{{range .}}<tr data-status="{{.Status}}" data-area="{{.Area.Title}}" data-text="{{lower .CheckID}} {{lower .Name}} {{lower .App}} {{lower .Resource}}"><td class="status {{if eq .Status "n/a"}}na{{else}}{{.Status}}{{end}}">{{.Status}}</td><td>{{.Severity}}</td><td title="{{.Title}}{{controls .}}">{{.CheckID}}</td><td title="{{.Resource}}">{{.Name}}</td><td>{{.App}}</td><td>{{.Message}}{{with exceptionNote .}}<br><em>{{.}}</em>{{end}}</td><td><pre>{{evidence .}}</pre></td></tr>
{{end}}`))

// TestHTMLRowEscapesAsTemplate: htmlRow writes what html/template wrote for the same results,
// byte for byte, with every character the escaper treats specially in every field a tag, lock
// note or exception (anyone's to write) can reach.
func TestHTMLRowEscapesAsTemplate(t *testing.T) {
	nasty := "a<b>&\"c'+d\x00e\n<script>alert(1)</script> é"
	checks := assess.Checks()
	var results []assess.Result
	for i, st := range []assess.Status{assess.Fail, assess.Warn, assess.Pass, assess.NA, assess.Unknown, assess.Excepted} {
		c := checks[i%len(checks)]
		r := assess.Result{Check: c, CheckID: c.ID, Title: c.Title + nasty, Area: c.Area, Severity: c.Severity, Status: st,
			Resource: "/subscriptions/x/resourceGroups/" + nasty, Name: nasty, App: nasty, Message: nasty,
			Evidence: []assess.Evidence{{Path: nasty, Value: nasty}, {Path: "p", Value: "v"}}}
		if st == assess.Excepted {
			r.Exception = &assess.ResultException{Reason: nasty, Owner: nasty, Expires: time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC), Line: 3, Was: assess.Fail}
		}
		results = append(results, r)
	}
	var want, got bytes.Buffer
	if err := rowTemplate.Execute(&want, results); err != nil {
		t.Fatal(err)
	}
	got.WriteString("<table><tbody>")
	for i := range results {
		htmlRow(&got, &results[i])
	}
	if got.String() != want.String() {
		t.Errorf("htmlRow differs from the template:\n got: %s\nwant: %s", got.String(), want.String())
	}
}
