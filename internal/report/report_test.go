package report

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/bulwarkhq/bulwark/internal/assess"
	"github.com/bulwarkhq/bulwark/internal/demoestate"
)

func contoso(t *testing.T) (*assess.Report, Meta) {
	t.Helper()
	env, res, err := demoestate.Load(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return assess.Run(env, assess.Checks()), Meta{Version: "test", GeneratedAt: time.Date(2026, 11, 26, 7, 0, 0, 0, time.UTC), CollectedAt: env.Now, Objects: len(res.Snapshot.Resources)}
}

func TestJSON(t *testing.T) {
	rep, meta := contoso(t)
	var b bytes.Buffer
	if err := JSON(&b, rep, assess.Checks(), meta); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Schema  string
		Summary struct{ Counts map[string]int }
		Checks  []struct{ ID, Title, Severity string }
		Results []assess.Result
	}
	if err := json.Unmarshal(b.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Schema != JSONSchema || len(doc.Checks) != len(assess.Checks()) || len(doc.Results) != len(rep.Results) {
		t.Fatalf("schema %q, %d checks, %d results", doc.Schema, len(doc.Checks), len(doc.Results))
	}
	if doc.Summary.Counts["fail"] != rep.Counts[assess.Fail] || doc.Checks[0].Severity == "" {
		t.Errorf("summary %v, first check %+v", doc.Summary.Counts, doc.Checks[0])
	}
	// Results round-trip, severities by name.
	if doc.Results[0].Severity != rep.Results[0].Severity || doc.Results[0].Resource != rep.Results[0].Resource {
		t.Errorf("round trip: %+v", doc.Results[0])
	}
}

func TestSARIF(t *testing.T) {
	rep, meta := contoso(t)
	var b bytes.Buffer
	if err := SARIF(&b, rep, assess.Checks(), meta); err != nil {
		t.Fatal(err)
	}
	var log struct {
		Version string
		Schema  string `json:"$schema"`
		Runs    []struct {
			Tool struct {
				Driver struct {
					Name  string
					Rules []struct {
						ID         string
						Properties map[string]any
					}
				}
			}
			Results []struct {
				RuleID    string
				RuleIndex int
				Level     string
				Message   struct{ Text string }
				Locations []struct {
					PhysicalLocation struct{ ArtifactLocation struct{ URI string } }
					LogicalLocations []struct{ FullyQualifiedName, Kind string }
				}
				PartialFingerprints map[string]string
			}
		}
	}
	if err := json.Unmarshal(b.Bytes(), &log); err != nil {
		t.Fatal(err)
	}
	if log.Version != "2.1.0" || len(log.Runs) != 1 {
		t.Fatalf("version %s, %d runs", log.Version, len(log.Runs))
	}
	run := log.Runs[0]
	if len(run.Tool.Driver.Rules) != len(assess.Checks()) || len(run.Results) != len(rep.Findings()) {
		t.Fatalf("%d rules, %d results; want %d and %d", len(run.Tool.Driver.Rules), len(run.Results), len(assess.Checks()), len(rep.Findings()))
	}
	fingerprints := map[string]bool{}
	for _, r := range run.Results {
		if run.Tool.Driver.Rules[r.RuleIndex].ID != r.RuleID {
			t.Fatalf("ruleIndex %d does not point at %s", r.RuleIndex, r.RuleID)
		}
		if r.Level != "error" && r.Level != "warning" && r.Level != "note" {
			t.Errorf("level %q", r.Level)
		}
		if len(r.Locations) != 1 || !strings.HasPrefix(r.Locations[0].LogicalLocations[0].FullyQualifiedName, "/subscriptions/") && !strings.HasPrefix(r.Locations[0].LogicalLocations[0].FullyQualifiedName, "apps.yaml#") {
			t.Fatalf("location %+v", r.Locations)
		}
		if u := r.Locations[0].PhysicalLocation.ArtifactLocation.URI; u != "" && !strings.HasPrefix(u, "contoso/estate/") {
			t.Errorf("artifact %q", u)
		}
		fp := r.PartialFingerprints["bulwarkFinding/v1"]
		if fingerprints[fp] {
			t.Errorf("duplicate fingerprint for %s", r.Message.Text)
		}
		fingerprints[fp] = true
	}
	if _, ok := run.Tool.Driver.Rules[0].Properties["security-severity"]; !ok {
		t.Error("rules carry security-severity for GitHub")
	}
}

func TestMarkdownAndTable(t *testing.T) {
	rep, meta := contoso(t)
	var md, tb bytes.Buffer
	if err := Markdown(&md, rep, meta); err != nil {
		t.Fatal(err)
	}
	if err := Table(&tb, rep, meta); err != nil {
		t.Fatal(err)
	}
	top := rep.Findings()[0]
	for _, want := range []string{"# Bulwark assessment", fmt.Sprintf("Estate score **%.1f/100**", rep.Scores.Estate.Score), "## Top findings",
		"| 1 | " + top.Severity.String() + " | " + top.CheckID + " | `" + top.Name + "`", "```sh\naz keyvault update --name kv-shop-app --resource-group rg-shop --enable-purge-protection true\n```"} {
		if !strings.Contains(md.String(), want) {
			t.Errorf("markdown lacks %q", want)
		}
	}
	for _, want := range []string{fmt.Sprintf("Estate score %.1f/100", rep.Scores.Estate.Score), "4 unknown: stplatformiac01/blobServices/default is not in the snapshot", "Top findings"} {
		if !strings.Contains(tb.String(), want) {
			t.Errorf("table lacks %q", want)
		}
	}
}

func TestHTMLIsSelfContained(t *testing.T) {
	rep, meta := contoso(t)
	var b bytes.Buffer
	if err := HTML(&b, rep, meta); err != nil {
		t.Fatal(err)
	}
	if m := regexp.MustCompile(`(?i)(src|href)="(https?:)?//`).FindString(b.String()); m != "" {
		t.Errorf("external asset: %s", m)
	}
}

func browser() string {
	for _, n := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(n); err == nil {
			return p
		}
	}
	return ""
}

// TestHTMLInBrowser opens the report in headless Chromium and reads what a reader sees: the
// score, the top findings, and the results table after filtering.
func TestHTMLInBrowser(t *testing.T) {
	bin := browser()
	if bin == "" {
		t.Skip("no Chromium on this machine (.ci/run installs Debian's chromium)")
	}
	rep, meta := contoso(t)
	dir := t.TempDir()
	page := filepath.Join(dir, "report.html")
	f, err := os.Create(page)
	if err != nil {
		t.Fatal(err)
	}
	if err := HTML(f, rep, meta); err != nil {
		t.Fatal(err)
	}
	f.Close()
	dump := func(fragment string) string {
		ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, bin, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
			"--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
			"--user-data-dir="+filepath.Join(dir, "profile"), "--virtual-time-budget=5000", "--dump-dom", "file://"+page+fragment)
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("chromium: %v", err)
		}
		return string(out)
	}
	dom := dump("")
	if !strings.Contains(dom, fmt.Sprintf("Estate score %.1f/100", rep.Scores.Estate.Score)) {
		t.Error("the score is not shown")
	}
	topRows := regexp.MustCompile(`(?s)<table id="top">.*?</table>`).FindString(dom)
	if n := strings.Count(topRows, "<tr>") - 1; n != 10 {
		t.Errorf("top findings table has %d rows, want 10", n)
	}
	if !strings.Contains(topRows, rep.Findings()[0].Name) {
		t.Error("the worst finding is not in the top table")
	}
	total := len(rep.Results)
	if !strings.Contains(dom, fmt.Sprintf(`<span id="shown" class="muted">%d of %d results</span>`, total, total)) {
		t.Errorf("unfiltered count not shown")
	}
	// Filter: failing results about kv-shop-app.
	want := 0
	for _, r := range rep.Results {
		if r.Status == assess.Fail && strings.Contains(strings.ToLower(r.Name+" "+r.CheckID+" "+r.App+" "+r.Resource), "kv-shop-app") {
			want++
		}
	}
	dom = dump("#q=kv-shop-app&status=fail")
	rows := regexp.MustCompile(`<tr data-status="[^"]*"[^>]*>`).FindAllString(dom, -1)
	visible := 0
	for _, r := range rows {
		if !strings.Contains(r, "hidden") {
			visible++
			if !strings.Contains(r, `data-status="fail"`) || !strings.Contains(r, "kv-shop-app") {
				t.Errorf("filtered row shown: %s", r)
			}
		}
	}
	if want == 0 || visible != want || len(rows) != total {
		t.Errorf("filter shows %d of %d rows, want %d", visible, len(rows), want)
	}
	if !strings.Contains(dom, fmt.Sprintf("%d of %d results", want, total)) {
		t.Error("the filtered count is not shown")
	}

	// At 1400 px nothing overflows sideways (the results table's evidence column used to push the
	// page to 1,744 px), and the header says how many calls were not collected instead of
	// repeating the raw error, which the "Not collected" table at the end gives in full.
	raw, _ := os.ReadFile(page)
	probe := strings.Replace(string(raw), "</body>", `<script>document.body.setAttribute("data-width", document.documentElement.scrollWidth)</script></body>`, 1)
	os.WriteFile(page, []byte(probe), 0o600)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, bin, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
		"--user-data-dir="+filepath.Join(dir, "profile"), "--window-size=1400,2400", "--virtual-time-budget=5000", "--dump-dom", "file://"+page).Output()
	if err != nil {
		t.Fatalf("chromium: %v", err)
	}
	m := regexp.MustCompile(`data-width="(\d+)"`).FindStringSubmatch(string(out))
	if m == nil {
		t.Fatal("the page width was not measured")
	}
	if w, _ := strconv.Atoi(m[1]); w > 1400 {
		t.Errorf("the report is %d px wide in a 1400 px window", w)
	}
	head := string(out)[:strings.Index(string(out), "<h2>")]
	if len(rep.Errors) == 0 || strings.Contains(head, rep.Errors[0].Message) || !strings.Contains(head, `id="not-collected"`) ||
		!strings.Contains(string(out), `id="collection-errors"`) {
		t.Errorf("collection errors in the header: %s", head)
	}
}

// CSV and Excel: one row per result with its evidence; a value a spreadsheet would run as a
// formula is written as text.
func TestCSVAndXLSX(t *testing.T) {
	rep, meta := contoso(t)
	rep.Results[0].Message = "=HYPERLINK(\"https://evil.example\")"
	var b bytes.Buffer
	if err := CSV(&b, rep); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&b).ReadAll()
	if err != nil || len(rows) != len(rep.Results)+1 || rows[0][11] != "evidence" {
		t.Fatalf("%v: %d rows for %d results", err, len(rows), len(rep.Results))
	}
	if rows[1][10] != "'=HYPERLINK(\"https://evil.example\")" || rows[1][2] != rep.Results[0].CheckID || rows[1][11] == "" {
		t.Errorf("first row: %q", rows[1])
	}
	b.Reset()
	if err := XLSX(&b, rep, meta); err != nil {
		t.Fatal(err)
	}
	f, err := excelize.OpenReader(&b)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if got := f.GetSheetList(); len(got) != 2 || got[0] != "Summary" || got[1] != "Results" {
		t.Errorf("sheets %v", got)
	}
	res, _ := f.GetRows("Results")
	if len(res) != len(rep.Results)+1 || res[1][10] != "=HYPERLINK(\"https://evil.example\")" {
		t.Errorf("%d result rows; first %q", len(res), res[min(1, len(res)-1)])
	}
	if formula, _ := f.GetCellFormula("Results", "K2"); formula != "" {
		t.Errorf("a message became a formula: %s", formula)
	}
	sum, _ := f.GetRows("Summary")
	if len(sum) < 8 || sum[1][0] != "estate score" || !strings.HasSuffix(sum[1][1], "/100") {
		t.Errorf("summary %q", sum)
	}
	if n, _ := f.GetCellValue("Results", "M2"); n != strconv.Itoa(rep.Results[0].BlastRadius) {
		t.Errorf("blast radius %q", n)
	}
	if typ, _ := f.GetCellType("Results", "M2"); typ == excelize.CellTypeSharedString || typ == excelize.CellTypeInlineString {
		t.Errorf("blast radius is a string cell (%v), not a number", typ)
	}
	// The Results sheet is streamed: its filter, frozen header and widths must survive that.
	if p, err := f.GetPanes("Results"); err != nil || !p.Freeze || p.YSplit != 1 || p.TopLeftCell != "A2" {
		t.Errorf("panes %+v %v", p, err)
	}
	if w, _ := f.GetColWidth("Results", "D"); w != 40 {
		t.Errorf("column D width %v", w)
	}
	filter := false
	for _, d := range f.GetDefinedName() {
		last, _ := excelize.CoordinatesToCellName(len(resultColumns), len(rep.Results)+1)
		if d.Name == "_xlnm._FilterDatabase" && strings.HasSuffix(strings.ReplaceAll(d.RefersTo, "$", ""), "A1:"+last) {
			filter = true
		}
	}
	if !filter {
		t.Errorf("no filter over the results: %+v", f.GetDefinedName())
	}
}
