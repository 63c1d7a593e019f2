package report

import (
	"fmt"
	"html/template"
	"io"
	"math"
	"strings"

	"github.com/bulwarkhq/bulwark/internal/assess"
)

type htmlBar struct {
	Label       string
	Score       string // as shown: "87.5" or "not assessed"
	Width, Y    float64
	Color, Note string
}

type htmlData struct {
	Meta      Meta
	Rep       *assess.Report
	Summary   string
	Unknown   []string
	Partial   []string
	Donut     template.HTML
	Areas     []htmlBar
	Principle []htmlBar
	AreaH     int
	PrinH     int
	Top       []assess.Result
	AreaNames []string
}

func scoreColor(s float64) string {
	switch {
	case s < 50:
		return "#c62828"
	case s < 80:
		return "#ef8f00"
	}
	return "#2e7d32"
}

func bars(scores []assess.Score) ([]htmlBar, int) {
	var out []htmlBar
	for i, s := range scores {
		b := htmlBar{Label: s.Name, Score: s.Display(), Width: math.Max(2, s.Score*3.6), Y: float64(i * 30),
			Color: scoreColor(s.Score), Note: fmt.Sprintf("%d pass · %d warn · %d fail · %d unknown", s.Pass, s.Warn, s.Fail, s.Unknown)}
		if !s.Assessed { // no bar, no colour: nothing was judged
			b.Width, b.Color = 0, "#9ca3af"
		}
		out = append(out, b)
	}
	return out, len(scores)*30 + 4
}

// donut draws the estate score as an inline SVG ring (an empty grey ring when nothing was assessed).
func donut(s assess.Score) template.HTML {
	if !s.Assessed {
		return template.HTML(`<svg class="donut" viewBox="0 0 140 140" width="140" height="140" role="img" aria-label="Estate not assessed">
<circle cx="70" cy="70" r="52" fill="none" stroke="#e5e7eb" stroke-width="16"/>
<text x="70" y="76" text-anchor="middle" font-size="15" font-weight="700">not assessed</text></svg>`)
	}
	score := s.Score
	const r = 52.0
	c := 2 * math.Pi * r
	filled := c * score / 100
	return template.HTML(fmt.Sprintf(`<svg class="donut" viewBox="0 0 140 140" width="140" height="140" role="img" aria-label="Estate score %.1f out of 100">
<circle cx="70" cy="70" r="%.0f" fill="none" stroke="#e5e7eb" stroke-width="16"/>
<circle cx="70" cy="70" r="%.0f" fill="none" stroke="%s" stroke-width="16" stroke-dasharray="%.2f %.2f" transform="rotate(-90 70 70)"/>
<text x="70" y="76" text-anchor="middle" font-size="24" font-weight="700">%.1f</text></svg>`, score, r, r, scoreColor(score), filled, c-filled, score))
}

// HTML writes one self-contained file: inline CSS, inline SVG charts, inline script; no external
// assets, so it can be mailed or attached to a ticket.
func HTML(w io.Writer, rep *assess.Report, meta Meta) error {
	d := htmlData{Meta: meta, Rep: rep, Summary: summaryLine(rep), Unknown: unknownLines(rep), Partial: partialLines(meta), Donut: donut(rep.Scores.Estate),
		Top: top(rep, 10)}
	d.Areas, d.AreaH = bars(areasWorstFirst(rep))
	d.Principle, d.PrinH = bars(rep.Scores.Principles)
	for _, s := range rep.Scores.Areas {
		d.AreaNames = append(d.AreaNames, s.Name)
	}
	// The page around the results is a template; the results, 300,000 rows in a large estate,
	// are written by htmlRow, which html/template took 10 s and 400 MB to do.
	if err := htmlTemplate.ExecuteTemplate(w, "head", d); err != nil {
		return err
	}
	for i := range rep.Results {
		htmlRow(w, &rep.Results[i])
	}
	return htmlTemplate.ExecuteTemplate(w, "tail", d)
}

// htmlRow writes one row of the results table: what the template wrote, escaped as html/template
// escapes text and quoted attribute values (TestHTMLRowEscapesAsTemplate).
func htmlRow(w io.Writer, r *assess.Result) {
	status := string(r.Status)
	class := status
	if r.Status == assess.NA {
		class = "na"
	}
	var evs []string
	for _, e := range r.Evidence {
		evs = append(evs, e.String())
	}
	message := htmlEscape(r.Message)
	if n := exceptionNote(*r); n != "" {
		message += "<br><em>" + htmlEscape(n) + "</em>"
	}
	io.WriteString(w, `<tr data-status="`+htmlEscape(status)+`" data-area="`+htmlEscape(r.Area.Title())+`" data-text="`+
		htmlEscape(strings.ToLower(r.CheckID)+" "+strings.ToLower(r.Name)+" "+strings.ToLower(r.App)+" "+strings.ToLower(r.Resource))+
		`"><td class="status `+htmlEscape(class)+`">`+htmlEscape(status)+`</td><td>`+htmlEscape(r.Severity.String())+
		`</td><td title="`+htmlEscape(r.Title+controlsNote(*r))+`">`+htmlEscape(r.CheckID)+`</td><td title="`+htmlEscape(r.Resource)+`">`+
		htmlEscape(r.Name)+`</td><td>`+htmlEscape(r.App)+`</td><td>`+message+`</td><td><pre>`+htmlEscape(strings.Join(evs, "\n"))+"</pre></td></tr>\n")
}

// htmlReplacer escapes as html/template does for text and quoted attributes.
var htmlReplacer = strings.NewReplacer("\x00", "\uFFFD", `"`, "&#34;", "&", "&amp;", "'", "&#39;", "+", "&#43;", "<", "&lt;", ">", "&gt;")

func htmlEscape(s string) string { return htmlReplacer.Replace(s) }

var htmlTemplate = template.Must(template.New("report").Funcs(template.FuncMap{
	"inc":      func(i int) int { return i + 1 },
	"date":     func(m Meta) string { return m.CollectedAt.UTC().Format("2006-01-02 15:04 UTC") },
	"outOf100": outOf100,
}).Parse(`{{define "head"}}<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Bulwark assessment — {{outOf100 .Rep.Scores.Estate}}</title>
<style>
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:24px auto;max-width:1200px;color:#111827;padding:0 16px}
h1{margin:0 0 4px}h2{margin-top:32px;border-bottom:1px solid #e5e7eb;padding-bottom:4px}
.head{display:flex;gap:24px;align-items:center}.muted{color:#6b7280}
table{border-collapse:collapse;width:100%;margin-top:8px;table-layout:fixed}th,td{border-bottom:1px solid #e5e7eb;padding:6px 8px;text-align:left;vertical-align:top;overflow-wrap:anywhere}
#top th:nth-child(1),#top th:nth-child(5){width:4em}#top th:nth-child(2),#top th:nth-child(3){width:6.5em}#top th:nth-child(4){width:11em}#top th:nth-child(7){width:42%}
#results th:nth-child(1),#results th:nth-child(2),#results th:nth-child(3){width:6.5em}#results th:nth-child(5){width:7em}#results th:nth-child(7){width:32%}
th{background:#f9fafb;position:sticky;top:0}td.num{text-align:right}
.status{font-weight:600;text-transform:uppercase;font-size:12px}.fail{color:#c62828}.warn{color:#b45309}.pass{color:#2e7d32}.unknown,.na{color:#6b7280}.excepted{color:#6d28d9}
code{font-size:12px;word-break:break-all}pre{white-space:pre-wrap;overflow-wrap:anywhere;margin:0;font-size:12px}
.filters{display:flex;gap:12px;margin:12px 0;flex-wrap:wrap}input,select{font:inherit;padding:4px 8px}
</style></head><body>
<div class="head">{{.Donut}}<div><h1>Bulwark assessment</h1>
<div class="muted">Estate snapshot of {{date .Meta}} · {{.Meta.Objects}} ARM objects · {{.Rep.Checks}} checks</div>
<p id="summary"><strong>Estate score {{outOf100 .Rep.Scores.Estate}}</strong> — {{.Summary}}</p>
{{range .Partial}}<div class="fail" id="partial"><strong>{{.}}</strong></div>{{end}}
{{range .Unknown}}<div class="muted">{{.}}</div>{{end}}
{{with .Rep.Errors}}<div class="muted" id="not-collected">{{len .}} {{if eq (len .) 1}}call{{else}}calls{{end}} could not be collected: the checks that needed {{if eq (len .) 1}}it{{else}}them{{end}} say unknown (<a href="#collection-errors">which</a>)</div>{{end}}
</div></div>

<h2>Scores by area</h2>
<svg id="area-chart" width="100%" height="{{.AreaH}}" viewBox="0 0 760 {{.AreaH}}" role="img" aria-label="Scores by area">
{{range .Areas}}<g transform="translate(0,{{.Y}})"><text x="0" y="18" font-size="13">{{.Label}}</text>
<rect x="300" y="4" width="360" height="18" fill="#f3f4f6"/><rect x="300" y="4" width="{{.Width}}" height="18" fill="{{.Color}}"><title>{{.Note}}</title></rect>
<text x="668" y="18" font-size="13" font-weight="600">{{.Score}}</text></g>
{{end}}</svg>
<h2>Scores by Zero Trust principle</h2>
<svg id="principle-chart" width="100%" height="{{.PrinH}}" viewBox="0 0 760 {{.PrinH}}" role="img" aria-label="Scores by principle">
{{range .Principle}}<g transform="translate(0,{{.Y}})"><text x="0" y="18" font-size="13">{{.Label}}</text>
<rect x="300" y="4" width="360" height="18" fill="#f3f4f6"/><rect x="300" y="4" width="{{.Width}}" height="18" fill="{{.Color}}"><title>{{.Note}}</title></rect>
<text x="668" y="18" font-size="13" font-weight="600">{{.Score}}</text></g>
{{end}}</svg>

<h2>Top findings</h2>
<table id="top"><thead><tr><th>#</th><th>Severity</th><th>Check</th><th>Resource</th><th>Blast radius</th><th>Finding</th><th>Fix</th></tr></thead><tbody>
{{range $i, $r := .Top}}<tr><td class="num">{{inc $i}}</td><td class="status {{$r.Status}}">{{$r.Severity}}</td><td>{{$r.CheckID}}</td><td title="{{$r.Resource}}">{{$r.Name}}</td><td class="num">{{$r.BlastRadius}}</td><td>{{$r.Message}}</td><td><code>{{$r.Command}}</code></td></tr>
{{end}}</tbody></table>

<h2>All results</h2>
<div class="filters">
<label>Search <input id="q" type="search" placeholder="check, resource, app…"></label>
<label>Status <select id="status"><option value="">all</option><option>fail</option><option>warn</option><option>unknown</option><option>pass</option><option>n/a</option><option>excepted</option></select></label>
<label>Area <select id="area"><option value="">all</option>{{range .AreaNames}}<option>{{.}}</option>{{end}}</select></label>
<span id="shown" class="muted"></span>
</div>
<table id="results"><thead><tr><th>Status</th><th>Severity</th><th>Check</th><th>Resource</th><th>App</th><th>Finding</th><th>Evidence</th></tr></thead><tbody>
{{end}}{{define "tail"}}</tbody></table>
<script>
(function(){
  var q=document.getElementById('q'), st=document.getElementById('status'), ar=document.getElementById('area');
  var rows=Array.prototype.slice.call(document.querySelectorAll('#results tbody tr'));
  function apply(){
    var text=q.value.trim().toLowerCase(), s=st.value, a=ar.value, n=0;
    rows.forEach(function(r){
      var ok=(!text||r.dataset.text.indexOf(text)>=0)&&(!s||r.dataset.status===s)&&(!a||r.dataset.area===a);
      r.hidden=!ok; if(ok)n++;
    });
    document.getElementById('shown').textContent=n+' of '+rows.length+' results';
  }
  // A link such as report.html#q=kv-002&status=fail opens the report filtered.
  var h=new URLSearchParams(location.hash.slice(1));
  if(h.get('q'))q.value=h.get('q'); if(h.get('status'))st.value=h.get('status'); if(h.get('area'))ar.value=h.get('area');
  [q,st,ar].forEach(function(el){el.addEventListener('input',apply);el.addEventListener('change',apply);});
  apply();
})();
</script>
{{with .Rep.Errors}}<h2 id="collection-errors">Not collected</h2>
<table><thead><tr><th>Scope</th><th>Call</th><th>Why</th></tr></thead><tbody>
{{range .}}<tr><td><code>{{.Scope}}</code></td><td>{{.Operation}}</td><td>{{.Message}}</td></tr>
{{end}}</tbody></table>{{end}}
<p class="muted">Generated by Bulwark {{.Meta.Version}}.</p>
</body></html>
{{end}}`))

// controlsNote names the compliance controls of a result's check, for a tooltip: "" when none.
func controlsNote(r assess.Result) string {
	if r.Check == nil || len(r.Check.Controls) == 0 {
		return ""
	}
	var cs []string
	for _, x := range r.Check.Controls {
		cs = append(cs, x.Label())
	}
	return " — " + strings.Join(cs, "; ")
}
