package cli

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"github.com/bulwarkhq/bulwark/internal/apps"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/spf13/cobra"
	"github.com/xuri/excelize/v2"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	azfake "github.com/Azure/azure-sdk-for-go/sdk/azcore/fake"
	"github.com/bulwarkhq/bulwark/internal/arm"
	"github.com/bulwarkhq/bulwark/internal/assess"
	"github.com/bulwarkhq/bulwark/internal/collect"
	"github.com/bulwarkhq/bulwark/internal/collect/collecttest"
	"github.com/bulwarkhq/bulwark/internal/config"
	"github.com/bulwarkhq/bulwark/internal/demoestate"
	"github.com/bulwarkhq/bulwark/internal/incident"
	"github.com/bulwarkhq/bulwark/internal/journal"
	"github.com/bulwarkhq/bulwark/internal/locks"
	"github.com/bulwarkhq/bulwark/internal/snapshot"
	"time"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata/")

type result struct {
	code           int
	stdout, stderr string
}

func run(t *testing.T, stdin string, args ...string) result {
	t.Helper()
	var out, errb bytes.Buffer
	code := Main(context.Background(), args, strings.NewReader(stdin), &out, &errb)
	return result{code, out.String(), errb.String()}
}

const kvJSON = `{"id":"/subscriptions/s/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv1","type":"Microsoft.KeyVault/vaults","name":"kv1","properties":{}}`

func TestScripts(t *testing.T) {
	dir := t.TempDir()
	write := func(name, data string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := write("good.json", "["+kvJSON+"]")
	bad := write("bad.json", "[\n,]")
	tests := []struct {
		name    string
		stdin   string
		args    []string
		code    int
		stdout  []string // substrings
		stderr  []string
		noColor bool
	}{
		{name: "no arguments prints help", args: nil, code: 0, stdout: []string{"Usage:", "bulwark demo"}},
		{name: "version", args: []string{"version"}, code: 0, stdout: []string{"bulwark ", "go      go1."}},
		{name: "unknown output format", args: []string{"version", "-o", "yaml"}, code: ExitUsage, stderr: []string{`output format "yaml" is not offered here; choose one of: table, json`, "Run 'bulwark version --help'"}},
		{name: "unknown command", args: []string{"frobnicate"}, code: ExitUsage, stderr: []string{`unknown command "frobnicate" for "bulwark"`}},
		{name: "unknown subcommand", args: []string{"snapshot", "frob"}, code: ExitUsage, stderr: []string{`unknown command "frob" for "bulwark snapshot"`}},
		{name: "unknown flag", args: []string{"demo", "--frob"}, code: ExitUsage, stderr: []string{"unknown flag: --frob"}},
		{name: "extra argument", args: []string{"version", "now"}, code: ExitUsage, stderr: []string{"takes no arguments"}},
		{name: "inspect needs input", args: []string{"snapshot", "inspect"}, code: ExitUsage, stderr: []string{"no estate given"}},
		{name: "inspect a file", args: []string{"snapshot", "inspect", good}, code: 0, stdout: []string{"1 object in 1 subscription from 1 file", "Microsoft.KeyVault/vaults  B"}},
		{name: "inspect stdin", stdin: `{"value":[` + kvJSON + `]}`, args: []string{"snapshot", "inspect", "-"}, code: 0, stdout: []string{"ARM list response"}},
		{name: "inspect via --snapshot", args: []string{"snapshot", "inspect", "--snapshot", good}, code: 0, stdout: []string{"1 object"}},
		{name: "inspect missing file", args: []string{"snapshot", "inspect", filepath.Join(dir, "nope.json")}, code: ExitRuntime, stderr: []string{"nope.json", "no such file"}},
		{name: "inspect invalid JSON", args: []string{"snapshot", "inspect", good, bad}, code: ExitRuntime,
			stdout: []string{"Invalid inputs (1)", "bad.json:2:1: invalid JSON"}, stderr: []string{"bad.json:2:1: invalid JSON: invalid character ','"}},
		{name: "merge refuses invalid input", args: []string{"snapshot", "merge", "-o", filepath.Join(dir, "never.json"), bad}, code: ExitRuntime, stderr: []string{"bad.json:2:1", "nothing was written"}},
		{name: "completion needs a shell", args: []string{"completion"}, code: ExitUsage},
		{name: "completion unknown shell", args: []string{"completion", "tcsh"}, code: ExitUsage, stderr: []string{`unknown shell "tcsh"`}},
		{name: "completion bash", args: []string{"completion", "bash"}, code: 0, stdout: []string{"bash completion V2 for bulwark"}},
		{name: "completion zsh", args: []string{"completion", "zsh"}, code: 0, stdout: []string{"#compdef bulwark"}},
		{name: "completion fish", args: []string{"completion", "fish"}, code: 0, stdout: []string{"complete -c bulwark"}},
		{name: "completion powershell", args: []string{"completion", "powershell"}, code: 0, stdout: []string{"Register-ArgumentCompleter"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := run(t, tt.stdin, tt.args...)
			if r.code != tt.code {
				t.Errorf("exit code %d, want %d\nstdout: %s\nstderr: %s", r.code, tt.code, r.stdout, r.stderr)
			}
			for _, s := range tt.stdout {
				if !strings.Contains(r.stdout, s) {
					t.Errorf("stdout lacks %q:\n%s", s, r.stdout)
				}
			}
			for _, s := range tt.stderr {
				if !strings.Contains(r.stderr, s) {
					t.Errorf("stderr lacks %q:\n%s", s, r.stderr)
				}
			}
			if strings.Contains(r.stdout, "\x1b[") {
				t.Error("colour codes written to a non-terminal")
			}
		})
	}
	if _, err := os.Stat(filepath.Join(dir, "never.json")); !errors.Is(err, os.ErrNotExist) {
		t.Error("merge wrote a file despite invalid input")
	}
}

func TestHelpEverywhere(t *testing.T) {
	var walk func(c *cobra.Command)
	var paths [][]string
	walk = func(c *cobra.Command) {
		paths = append(paths, strings.Fields(c.CommandPath())[1:])
		for _, s := range c.Commands() {
			if !s.Hidden && s.Name() != "help" {
				walk(s)
			}
		}
	}
	walk(NewRootCmd(&App{}))
	if len(paths) < 6 {
		t.Fatalf("only %d commands found", len(paths))
	}
	for _, p := range paths {
		r := run(t, "", append(p, "--help")...)
		if r.code != 0 || !strings.Contains(r.stdout, "Usage:") {
			t.Errorf("bulwark %s --help: code %d\n%s%s", strings.Join(p, " "), r.code, r.stdout, r.stderr)
		}
	}
}

func TestExitCodes(t *testing.T) {
	tests := map[error]int{
		nil:                                 ExitOK,
		&FailOnError{Count: 3}:              ExitFindings,
		fmt.Errorf("x: %w", &FailOnError{}): ExitFindings,
		usagef("bad flag"):                  ExitUsage,
		errors.New("boom"):                  ExitRuntime,
		context.Canceled:                    ExitRuntime,
	}
	for err, want := range tests {
		if got := exitCode(err); got != want {
			t.Errorf("exitCode(%v) = %d, want %d", err, got, want)
		}
	}
}

func TestVersionJSON(t *testing.T) {
	r := run(t, "", "version", "-o", "json")
	var v VersionInfo
	if err := json.Unmarshal([]byte(r.stdout), &v); err != nil || r.code != 0 {
		t.Fatalf("code %d, %v: %s", r.code, err, r.stdout)
	}
	if !strings.HasPrefix(v.GoVersion, "go") || v.Version == "" || v.Commit == "" {
		t.Errorf("incomplete version: %+v", v)
	}
}

func TestMergeRoundTrip(t *testing.T) {
	dir := t.TempDir()
	a := filepath.Join(dir, "a.json")
	b := filepath.Join(dir, "b.json")
	os.WriteFile(a, []byte("["+kvJSON+"]"), 0o644)
	os.WriteFile(b, []byte(`{"value":[`+strings.Replace(kvJSON, "kv1", "kv2", 2)+`,`+strings.Replace(kvJSON, "/subscriptions/s/", "/Subscriptions/s/", 1)+`]}`), 0o644)
	out := filepath.Join(dir, "merged.json")
	r := run(t, "", "snapshot", "merge", "-o", out, a, b)
	if r.code != 0 {
		t.Fatalf("merge: %d %s", r.code, r.stderr)
	}
	if !strings.Contains(r.stderr, "wrote "+out+": 2 objects") {
		t.Errorf("stderr: %s", r.stderr)
	}
	res, err := snapshot.Load(context.Background(), []string{out}, snapshot.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Files[0].Shape != snapshot.ShapeSnapshot || len(res.Snapshot.Resources) != 2 {
		t.Errorf("merged file: shape %s, %d objects", res.Files[0].Shape, len(res.Snapshot.Resources))
	}
	// -q silences the note; the snapshot still goes to stdout with -o -.
	r = run(t, "", "snapshot", "merge", "-q", a)
	if r.stderr != "" || !strings.Contains(r.stdout, `"schema": "bulwark.snapshot/v1"`) {
		t.Errorf("quiet merge to stdout: stderr %q", r.stderr)
	}
}

func TestDemo(t *testing.T) {
	r := run(t, "", "demo")
	if r.code != 0 {
		t.Fatalf("demo: %d\n%s", r.code, r.stderr)
	}
	golden(t, "demo.golden", r.stdout)

	r = run(t, "", "demo", "-o", "json")
	var rep demoReport
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatal(err)
	}
	if len(rep.Warnings) != 0 {
		t.Errorf("the demo estate must load without warnings: %+v", rep.Warnings)
	}
	if len(rep.Estate.Subscriptions) != 2 || rep.Estate.Objects < 80 {
		t.Errorf("estate too small: %d subscriptions, %d objects", len(rep.Estate.Subscriptions), rep.Estate.Objects)
	}
	for _, c := range rep.Estate.Components {
		if c.ID != "" && c.Resources == 0 {
			t.Errorf("component %s has no resources", c.ID)
		}
	}
	// Detection: the benign day opens no incident; the attack opens one, with all four stages and
	// both principals (alice, and the service principal she made Owner).
	d := rep.Detect
	if d.Events != 109 || d.Unjoined != 2 || len(d.Incidents) != 1 {
		t.Fatalf("detection: %d events, %d alerts outside incidents, %d incidents", d.Events, d.Unjoined, len(d.Incidents))
	}
	inc := d.Incidents[0]
	if len(inc.Stages) != 4 || len(inc.Principals) != 2 || inc.Principals[1].GrantedBy != "alice@contoso.example" {
		t.Errorf("incident: stages %v, principals %+v", inc.Stages, inc.Principals)
	}
}

func TestDemoOut(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "contoso")
	r := run(t, "", "demo", "--out", dir)
	if r.code != 0 {
		t.Fatalf("demo --out: %d %s", r.code, r.stderr)
	}
	for _, p := range []string{"README.md", "apps.yaml", "bulwark.yaml", "estate/recovery.json", "iac/shop/network.json", "activity/rest/activity-2026-11-25.json"} {
		if _, err := os.Stat(filepath.Join(dir, p)); err != nil {
			t.Errorf("missing %s: %v", p, err)
		}
	}
	// The written estate loads like the embedded one.
	r = run(t, "", "snapshot", "inspect", "-o", "json", filepath.Join(dir, "estate"))
	var rep inspectReport
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil || r.code != 0 {
		t.Fatalf("inspect written estate: %d %v", r.code, err)
	}
	if len(rep.Skipped) != 0 || len(rep.Summary.Errors) != 1 {
		t.Errorf("written estate: %d skipped, %d collection errors", len(rep.Skipped), len(rep.Summary.Errors))
	}
	if r := run(t, "", "demo", "--out", dir); r.code != ExitUsage || !strings.Contains(r.stderr, "--force") {
		t.Errorf("second --out without --force: %d %s", r.code, r.stderr)
	}
	if r := run(t, "", "demo", "--out", dir, "--force"); r.code != 0 {
		t.Errorf("--force: %d %s", r.code, r.stderr)
	}
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./internal/cli -update to create it)", err)
	}
	if d := cmp.Diff(string(want), got); d != "" {
		t.Errorf("%s differs (-want +got); run with -update if the change is intended\n%s", name, d)
	}
}

func TestAssessCommand(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "contoso")
	if r := run(t, "", "demo", "--out", dir); r.code != 0 {
		t.Fatal(r.stderr)
	}
	base := []string{"assess", "--snapshot", filepath.Join(dir, "estate"), "--apps", filepath.Join(dir, "apps.yaml"), "--iac", filepath.Join(dir, "iac"), "--config", filepath.Join(dir, "bulwark.yaml")}
	with := func(extra ...string) []string { return append(append([]string(nil), base...), extra...) }
	tests := []struct {
		name   string
		args   []string
		code   int
		stdout []string
		stderr []string
	}{
		{name: "table", args: with(), code: 0, stdout: []string{"Estate score 64.8/100", "Top findings", "LOCK-003"},
			stderr: []string{"rt-shop-{0}", "parameter 'environment' has no default value"}},
		{name: "fail-on critical", args: with("--fail-on", "critical", "-q"), code: ExitFindings, stdout: []string{"critical  LOCK-003"}},
		{name: "fail-on met only by skipped checks", args: with("--fail-on", "critical", "--check", "ST-006"), code: 0},
		{name: "one check", args: with("--check", "kv-002", "-o", "json"), code: 0, stdout: []string{`"check": "KV-002"`, `"schema": "bulwark.assessment/v1"`}},
		{name: "sarif", args: with("-o", "sarif", "--skip", "RSP-001"), code: 0, stdout: []string{`"version": "2.1.0"`}},
		{name: "markdown", args: with("-o", "markdown"), code: 0, stdout: []string{"## Top findings"}},
		{name: "html", args: with("-o", "html"), code: 0, stdout: []string{"<!DOCTYPE html>", "Scores by area"}},
		{name: "unknown check", args: with("--check", "KV-999"), code: ExitUsage, stderr: []string{`unknown check "KV-999"`}},
		{name: "bad severity", args: with("--fail-on", "severe"), code: ExitUsage, stderr: []string{`unknown severity "severe"`}},
		{name: "bad format", args: with("-o", "pdf"), code: ExitUsage, stderr: []string{"choose one of: table, json, sarif, markdown, html"}},
		{name: "missing apps file", args: []string{"assess", "--snapshot", filepath.Join(dir, "estate"), "--apps", filepath.Join(dir, "nope.yaml")}, code: ExitRuntime, stderr: []string{"nope.yaml"}},
		{name: "no snapshot", args: []string{"assess"}, code: ExitUsage, stderr: []string{"no estate given"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := run(t, "", tt.args...)
			if r.code != tt.code {
				t.Errorf("exit %d, want %d\n%s", r.code, tt.code, r.stderr)
			}
			for _, s := range tt.stdout {
				if !strings.Contains(r.stdout, s) {
					t.Errorf("stdout lacks %q", s)
				}
			}
			for _, s := range tt.stderr {
				if !strings.Contains(r.stderr, s) {
					t.Errorf("stderr lacks %q:\n%s", s, r.stderr)
				}
			}
		})
	}
	// A bad apps.yaml names the file and line.
	bad := filepath.Join(dir, "bad-apps.yaml")
	os.WriteFile(bad, []byte("apps:\n  - name: a\n    dependsOn: [ghost]\n"), 0o644)
	r := run(t, "", "assess", "--snapshot", filepath.Join(dir, "estate"), "--apps", bad)
	if r.code != ExitRuntime || !strings.Contains(r.stderr, bad+`: line 2: application "a" depends on "ghost", which is not defined`) {
		t.Errorf("bad apps.yaml: %d %s", r.code, r.stderr)
	}
}

func TestRulesCommands(t *testing.T) {
	dir := t.TempDir()
	write := func(rel, data string) {
		p := filepath.Join(dir, rel)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	rule := "title: Lock deleted\nlogsource: {product: azure, service: activitylogs}\ndetection:\n  selection:\n    operationName: MICROSOFT.AUTHORIZATION/LOCKS/DELETE\n    resultType: Success\n  condition: selection\nlevel: high\n"
	write("good/lock.yml", rule)
	write("good/lock.tests/match/upper.json", `{"operationName":"MICROSOFT.AUTHORIZATION/LOCKS/DELETE","resultType":"Success","time":"2026-11-25T21:47:10Z"}`)
	write("good/lock.tests/match/lines.json", "{\"operationName\":\"Microsoft.Authorization/locks/delete\",\"resultType\":\"success\"}\n{\"operationName\":\"microsoft.authorization/locks/delete\",\"resultType\":\"Success\"}\n")
	write("good/lock.tests/nomatch/start.json", `[{"operationName":"MICROSOFT.AUTHORIZATION/LOCKS/DELETE","resultType":"Start"}]`)

	r := run(t, "", "rules", "lint", filepath.Join(dir, "good"))
	if r.code != 0 || !strings.Contains(r.stdout, "1 rule in 1 file: 1 valid") {
		t.Errorf("lint good: %d %s %s", r.code, r.stdout, r.stderr)
	}
	r = run(t, "", "rules", "test", "-v", filepath.Join(dir, "good"))
	if r.code != 0 || !strings.Contains(r.stdout, "4 passed, 0 failed") {
		t.Errorf("test good: %d %s", r.code, r.stdout)
	}

	write("bad/broken.yml", strings.Replace(rule, "operationName:", "operationName|startswth:", 1))
	r = run(t, "", "rules", "lint", filepath.Join(dir, "bad"))
	if r.code != ExitFindings || !strings.Contains(r.stdout, `broken.yml:5:5: rule "Lock deleted": unknown modifier "startswth" on "operationName"`) {
		t.Errorf("lint bad: %d %s", r.code, r.stdout)
	}
	r = run(t, "", "rules", "lint", "-o", "json", filepath.Join(dir, "bad"))
	var lr lintReport
	if json.Unmarshal([]byte(r.stdout), &lr) != nil || len(lr.Invalid) != 1 || lr.Invalid[0].Line != 5 {
		t.Errorf("lint json: %s", r.stdout)
	}

	write("fails/lock.yml", rule)
	write("fails/lock.tests/nomatch/oops.json", `{"operationName":"MICROSOFT.AUTHORIZATION/LOCKS/DELETE","resultType":"Success"}`)
	r = run(t, "", "rules", "test", filepath.Join(dir, "fails"))
	if r.code != ExitFindings || !strings.Contains(r.stdout, "FAIL") || !strings.Contains(r.stdout, "oops.json should not match (matched Lock deleted)") {
		t.Errorf("test failing: %d %s", r.code, r.stdout)
	}
	if r := run(t, "", "rules", "lint", filepath.Join(dir, "nowhere")); r.code != ExitRuntime {
		t.Errorf("missing path: %d", r.code)
	}
}

// TestBuiltinRulePack holds the shipped rule pack to its contract: every rule is valid, every
// detection rule has match and nomatch samples in all three Activity Log formats, and every
// sample behaves as labelled.
func TestBuiltinRulePack(t *testing.T) {
	root := filepath.Join("..", "..", "rules")
	r := run(t, "", "rules", "lint", root)
	if r.code != 0 || !strings.Contains(r.stdout, "0 invalid") {
		t.Fatalf("lint: %d %s", r.code, r.stdout)
	}
	r = run(t, "", "rules", "test", "-o", "json", root)
	var rep struct {
		Failed int        `json:"failed"`
		Tests  []ruleTest `json:"tests"`
	}
	if r.code != 0 || json.Unmarshal([]byte(r.stdout), &rep) != nil || rep.Failed != 0 {
		t.Fatalf("test: %d %s %s", r.code, r.stdout, r.stderr)
	}
	results := rep.Tests
	perRule := map[string]map[string]bool{}
	for _, res := range results {
		if !res.Pass {
			t.Errorf("%s %s: %s", res.Rule, res.Event, res.Detail)
		}
		if perRule[res.Rule] == nil {
			perRule[res.Rule] = map[string]bool{}
		}
		perRule[res.Rule][res.Expect+"/"+filepath.Base(res.Event)] = true
	}
	files, _ := filepath.Glob(filepath.Join(root, "*", "*.yml"))
	detections := 0
	for _, f := range files {
		if strings.Contains(f, "correlation") {
			continue
		}
		detections++
		found := false
		for rule, seen := range perRule {
			if !strings.Contains(rule, strings.TrimSuffix(filepath.Base(f), ".yml")) {
				continue
			}
			found = true
			for _, want := range []string{"match/diagnostic.json", "match/rest.json", "match/log-analytics.json",
				"nomatch/diagnostic.json", "nomatch/rest.json", "nomatch/log-analytics.json"} {
				if !seen[want] {
					t.Errorf("%s: no sample %s", f, want)
				}
			}
		}
		if !found {
			t.Errorf("%s: no samples tested", f)
		}
	}
	if detections < 30 {
		t.Errorf("only %d detection rules in the pack", detections)
	}
}

func TestDetectCommand(t *testing.T) {
	act := filepath.Join("..", "..", "examples", "contoso", "activity")
	estate := filepath.Join("..", "..", "examples", "contoso", "estate")

	r := run(t, "", "detect", filepath.Join(act, "rest"), "--snapshot", estate, "-o", "json", "--fail-on", "critical")
	if r.code != ExitFindings {
		t.Errorf("--fail-on critical: exit %d, stderr %s", r.code, r.stderr)
	}
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "detect-json.md"))
	if err != nil {
		t.Fatal(err)
	}
	// Every field written is documented in docs/detect-json.md, one level down too.
	var documented func(prefix string, v any)
	documented = func(prefix string, v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, x := range v {
				if prefix == "group" { // group-by values are named by the rule
					continue
				}
				if !strings.Contains(string(doc), "`"+k+"`") {
					t.Errorf("field %s%s is not documented in docs/detect-json.md", prefix, k)
				}
				if prefix == "" {
					documented(k, x)
				}
			}
		case []any:
			for _, x := range v {
				documented(prefix, x)
			}
		}
	}
	kinds := map[string]int{}
	var inc struct {
		Schema    string   `json:"schema"`
		Kind      string   `json:"kind"`
		ID        string   `json:"id"`
		Stages    []string `json:"stages"`
		Resources []struct {
			Name        string `json:"name"`
			Component   string `json:"component"`
			BlastRadius *int   `json:"blastRadius"`
			Recovery    struct{ Status string }
		} `json:"resources"`
	}
	for i, line := range strings.Split(strings.TrimSpace(r.stdout), "\n") {
		var probe struct{ Schema, Kind string }
		if err := json.Unmarshal([]byte(line), &probe); err != nil || probe.Schema != incident.Schema {
			t.Fatalf("line %d is not a %s object: %v %s", i+1, incident.Schema, err, line)
		}
		kinds[probe.Kind]++
		var all map[string]any
		json.Unmarshal([]byte(line), &all)
		documented("", all)
		if probe.Kind == "incident" {
			json.Unmarshal([]byte(line), &inc)
		}
	}
	if kinds["alert"] != 31 || kinds["incident"] != 1 || kinds["summary"] != 1 {
		t.Errorf("kinds %v", kinds)
	}
	if len(inc.Stages) != 4 {
		t.Errorf("stages %v", inc.Stages)
	}
	recovery := map[string]string{}
	kvBlast := false
	for _, res := range inc.Resources {
		recovery[res.Name] = res.Recovery.Status
		kvBlast = kvBlast || res.Name == "kv-pay-cmk" && res.Component == "B" && res.BlastRadius != nil && *res.BlastRadius > 0
	}
	if !kvBlast {
		t.Error("kv-pay-cmk (a CMK vault) has no component B and blast radius")
	}
	// With the snapshot, a deleted VM is recoverable when a recovery path survives the attack: its
	// backup (vm-pay-app01), its Site Recovery replica although its backup vault was deleted
	// (vm-shop-web01), data disks that outlived it (vm-shop-sql01); not when its only backup went
	// with the vault (vm-gh-runner01) or it had none (vm-legacy01).
	if recovery["vm-pay-app01"] != "reversible" || recovery["vm-shop-web01"] != "reversible" || recovery["vm-shop-sql01"] != "reversible" ||
		recovery["vm-gh-runner01"] != "lost" || recovery["vm-legacy01"] != "lost" || recovery["vm-pay-app01-data01"] != "reversible" ||
		recovery["kv-shop-legacy"] != "lost" { // soft delete off in the snapshot
		t.Errorf("VM recovery with snapshot: %v", recovery)
	}

	// The same day in all four files of the demo folder: each event once, none late.
	r = run(t, "", "detect", act, "-o", "json")
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	var sum detectSummary
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &sum); err != nil || sum.Stats.Events != 109 || sum.Stats.Late != 0 || sum.Incidents != 1 {
		t.Errorf("all formats at once: %v %+v", err, sum)
	}

	// Table: incidents first, then alerts; stdin works.
	data, err := os.ReadFile(filepath.Join(act, "log-analytics", "AzureActivity-2026-11-25.csv"))
	if err != nil {
		t.Fatal(err)
	}
	r = run(t, string(data), "detect", "-")
	if r.code != 0 || !strings.HasPrefix(r.stdout, "INCIDENT INC-") || !strings.Contains(r.stdout, "ALERTS") ||
		strings.Index(r.stdout, "ALERTS") < strings.Index(r.stdout, "INCIDENT") || !strings.Contains(r.stdout, "109 events, 31 alerts, 1 incident") {
		t.Errorf("table from stdin: %d %s %s", r.code, r.stdout, r.stderr)
	}
	r = run(t, "", "detect", filepath.Join(act, "rest"), "-o", "markdown", "--until", "2026-11-25T21:00:00Z")
	if r.code != 0 || !strings.Contains(r.stdout, "# Bulwark detection") || strings.Contains(r.stdout, "## INC-") || !strings.Contains(r.stdout, "0 incidents") {
		t.Errorf("benign day markdown: %d %s", r.code, r.stdout)
	}

	dir := t.TempDir()
	cfg := filepath.Join(dir, "bulwark.yaml")
	os.WriteFile(cfg, []byte("detection:\n  correlations:\n    corr_mass_deletoin: {threshold: 5}\n"), 0o644)
	for _, c := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"detect"}, ExitUsage, "needs Activity Log files"},
		{[]string{"detect", "nowhere.json"}, ExitRuntime, "nowhere.json"},
		{[]string{"detect", act, "--since", "yesterday"}, ExitUsage, `--since: "yesterday" is not a time`},
		{[]string{"detect", act, "--fail-on", "severe"}, ExitUsage, "--fail-on"},
		{[]string{"detect", act, "--no-builtin"}, ExitUsage, "--no-builtin needs --rules"},
		{[]string{"detect", act, "--config", cfg}, ExitRuntime, "bulwark.yaml: line 3: detection.correlations.corr_mass_deletoin: no correlation rule"},
		{[]string{"detect", act, "-o", "sarif"}, ExitUsage, "not offered"},
	} {
		r := run(t, "", c.args...)
		if r.code != c.code || !strings.Contains(r.stderr, c.msg) {
			t.Errorf("%v: exit %d (want %d), stderr %q (want %q)", c.args, r.code, c.code, r.stderr, c.msg)
		}
	}

	r = run(t, "", "rules", "list", "-o", "json")
	var list []ruleListing
	if r.code != 0 || json.Unmarshal([]byte(r.stdout), &list) != nil || len(list) < 40 {
		t.Fatalf("rules list: %d %s", r.code, r.stderr)
	}
	for _, l := range list {
		if l.Type == "detection" && (l.Stage == "" || len(l.Attack) == 0 || l.Level == "") {
			t.Errorf("rule %s lacks stage, ATT&CK or level: %+v", l.Name, l)
		}
	}
}

func TestAppsList(t *testing.T) {
	contoso := filepath.Join("..", "..", "examples", "contoso")
	estate := filepath.Join(contoso, "estate")
	r := run(t, "", "apps", "list", "--snapshot", estate, "--apps", filepath.Join(contoso, "apps.yaml"), "-o", "json")
	var inv apps.Inventory
	if r.code != 0 || json.Unmarshal([]byte(r.stdout), &inv) != nil {
		t.Fatalf("%d %s", r.code, r.stderr)
	}
	names := map[string]apps.Listing{}
	for _, l := range inv.Apps {
		names[l.Name] = l
	}
	pay := names["payments"]
	if len(inv.Apps) != 4 || !pay.Declared || !pay.Critical || pay.RTO != "4h" || pay.RPO != "1h" || len(pay.Components["A"]) == 0 ||
		strings.Join(pay.DependsOn, ",") != "shared-services,platform" {
		t.Errorf("apps: %+v", inv.Apps)
	}
	// The same resources RSP-001 fails in the Contoso README: rg-legacy is in no application.
	var un []string
	for _, r := range inv.Unassigned {
		un = append(un, r.Name)
	}
	if strings.Join(un, ",") != "kv-shop-legacy,nic-vm-legacy01,vm-legacy01,vm-legacy01-osdisk" {
		t.Errorf("unassigned: %v", un)
	}
	// Without apps.yaml: the app tag, then resource groups; nothing is unassigned.
	r = run(t, "", "apps", "list", "--snapshot", estate)
	if r.code != 0 || !strings.Contains(r.stdout, "rg-legacy") || !strings.Contains(r.stdout, "Every resource of components A–E belongs to an application") {
		t.Errorf("without apps.yaml: %d %s", r.code, r.stdout)
	}
	if r := run(t, "", "apps", "list"); r.code != ExitUsage {
		t.Errorf("no snapshot: %d", r.code)
	}
	if r := run(t, "", "apps", "list", "--snapshot", estate, "--apps", "nowhere.yaml"); r.code != ExitRuntime || !strings.Contains(r.stderr, "nowhere.yaml") {
		t.Errorf("missing apps.yaml: %d %s", r.code, r.stderr)
	}
}

// bulwark respond end to end: detect's JSON lines in, a playbook out in each format; the
// mistakes a user makes give exit 2 with the reason, unreadable input exit 3 with file and line.
func TestRespondCommand(t *testing.T) {
	contoso := filepath.Join("..", "..", "examples", "contoso")
	estate := filepath.Join(contoso, "estate")
	common := []string{"--snapshot", estate, "--apps", filepath.Join(contoso, "apps.yaml"), "--iac", filepath.Join(contoso, "iac"), "--config", filepath.Join(contoso, "bulwark.yaml")}
	det := run(t, "", append([]string{"detect", filepath.Join(contoso, "activity", "rest"), "-o", "json"}, common[:2]...)...)
	if det.code != 0 {
		t.Fatalf("detect: %d %s", det.code, det.stderr)
	}
	incFile := filepath.Join(t.TempDir(), "detect.jsonl")
	if err := os.WriteFile(incFile, []byte(det.stdout), 0o644); err != nil {
		t.Fatal(err)
	}
	md := run(t, "", append([]string{"respond", "--incident", incFile}, common...)...)
	if md.code != 0 || !strings.HasPrefix(md.stdout, "# Recovery playbook for incident INC-") || !strings.Contains(md.stdout, "## What is lost") ||
		!strings.Contains(md.stdout, "az keyvault recover --name kv-pay-cmk") {
		t.Errorf("markdown: %d %s %.400s", md.code, md.stderr, md.stdout)
	}
	js := run(t, det.stdout, append([]string{"respond", "--incident", "-", "-o", "json"}, common...)...)
	var pb struct {
		Schema string `json:"schema"`
		Steps  []any  `json:"steps"`
	}
	if js.code != 0 || json.Unmarshal([]byte(js.stdout), &pb) != nil || pb.Schema != "bulwark.playbook/v1" || len(pb.Steps) < 10 {
		t.Errorf("json from stdin: %d %s", js.code, js.stderr)
	}
	ca := run(t, "", append([]string{"respond", "--app", "payments", "-o", "cacao"}, common...)...)
	if ca.code != 0 || !strings.Contains(ca.stdout, `"spec_version": "cacao-2.0"`) {
		t.Errorf("cacao: %d %s", ca.code, ca.stderr)
	}
	for _, c := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"respond"}, ExitUsage, "exactly one of --app NAME or --incident FILE"},
		{append([]string{"respond", "--app", "payments", "--incident", incFile}, common...), ExitUsage, "exactly one"},
		{append([]string{"respond", "--app", "nope"}, common...), ExitUsage, `no application "nope"`},
		{append([]string{"respond", "--incident", incFile, "--id", "INC-0"}, common...), ExitUsage, "has no incident INC-0"},
		{append([]string{"respond", "--app", "payments", "-o", "sarif"}, common...), ExitUsage, "not offered"},
		{[]string{"respond", "--app", "payments"}, ExitUsage, "no estate given"},
		{append([]string{"respond", "--incident", filepath.Join(contoso, "apps.yaml")}, common...), ExitRuntime, "apps.yaml:1: not a JSON object"},
		{append([]string{"respond", "--incident", "nowhere.jsonl"}, common...), ExitRuntime, "nowhere.jsonl"},
	} {
		r := run(t, "", c.args...)
		if r.code != c.code || !strings.Contains(r.stderr, c.msg) {
			t.Errorf("%v: exit %d %q, want %d %q", c.args, r.code, r.stderr, c.code, c.msg)
		}
	}
}

// runAzure runs the command line against a fake Azure serving the Contoso estate.
func runAzure(t *testing.T, ctx context.Context, f *collecttest.Fake, credErr error, args ...string) result {
	t.Helper()
	var out, errb bytes.Buffer
	app := &App{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb, Getenv: func(string) string { return "" },
		Azure: func(tenant string, c cloud.Configuration) (collect.Options, error) {
			o := f.Options()
			if credErr != nil {
				o.Credential.(*azfake.TokenCredential).SetError(credErr)
			}
			return o, nil
		}}
	code := app.Run(ctx, args)
	return result{code, out.String(), errb.String()}
}

func TestCollectAndAssessLive(t *testing.T) {
	_, res, err := demoestate.Load(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	out := filepath.Join(dir, "estate.json")
	r := runAzure(t, context.Background(), collecttest.New(res.Snapshot.Resources), nil, "collect", "-o", out)
	if r.code != 0 || !strings.Contains(r.stderr, "collected 166 objects from 2 subscriptions") {
		t.Fatalf("collect: %d %s", r.code, r.stderr)
	}
	insp := run(t, "", "snapshot", "inspect", out, "-o", "json")
	if insp.code != 0 || !strings.Contains(insp.stdout, `"objects": 166`) {
		t.Errorf("the collected file: %d %s", insp.code, insp.stderr)
	}
	contoso := filepath.Join("..", "..", "examples", "contoso")
	extra := []string{"--apps", filepath.Join(contoso, "apps.yaml"), "--iac", filepath.Join(contoso, "iac"), "--config", filepath.Join(contoso, "bulwark.yaml")}
	// As in the embedded estate, stplatformiac01's blob service settings stay throttled.
	throttled := collecttest.New(res.Snapshot.Resources)
	throttled.Fault("/subscriptions/11111111-1111-4111-8111-111111111111/resourceGroups/rg-platform/providers/Microsoft.Storage/storageAccounts/stplatformiac01/blobServices/default",
		collecttest.Fault{Status: 429, Header: http.Header{"Retry-After-Ms": {"1"}}, Body: `{"error":{"code":"TooManyRequests"}}`})
	live := runAzure(t, context.Background(), throttled, nil, append([]string{"assess", "--live", "--save", filepath.Join(dir, "saved.json")}, extra...)...)
	files := run(t, "", append([]string{"assess", "--snapshot", filepath.Join(contoso, "estate")}, extra...)...)
	if live.code != 0 || files.code != 0 || !strings.Contains(live.stdout, "Estate score") {
		t.Fatalf("assess --live: %d %s", live.code, live.stderr)
	}
	// The same findings: the live report differs only in the inputs line and in the wording of
	// the throttling error (the embedded estate's was written by hand).
	strip := func(s string) string {
		var keep []string
		for _, l := range strings.Split(s, "\n") {
			if strings.Contains(l, "Inputs") || strings.Contains(l, "input") {
				continue
			}
			for _, cut := range []string{"blobServices/read) = 429", "blobServices/read): 429"} {
				if i := strings.Index(l, cut); i >= 0 {
					l = l[:i]
				}
			}
			keep = append(keep, l)
		}
		return strings.Join(keep, "\n")
	}
	if d := cmp.Diff(strip(files.stdout), strip(live.stdout)); d != "" {
		t.Errorf("assess --live differs from assess on the files (-files +live):\n%s", d)
	}
	if _, err := os.Stat(filepath.Join(dir, "saved.json")); err != nil {
		t.Errorf("--save: %v", err)
	}

	for _, c := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"collect", "--cloud", "Mars"}, ExitUsage, `--cloud "Mars"`},
		{[]string{"collect", "--subscription", "not/a/sub"}, ExitUsage, "not a subscription ID"},
		{[]string{"collect", "--subscription", "11111111-1111-4111-8111-111111111111", "--management-group", "mg"}, ExitUsage, "not both"},
		{[]string{"assess", "--live", "--snapshot", out}, ExitUsage, "give it no --snapshot"},
		{[]string{"assess", "--snapshot", out, "--save", "x.json"}, ExitUsage, "--save writes what --live collected"},
	} {
		r := runAzure(t, context.Background(), collecttest.New(res.Snapshot.Resources), nil, c.args...)
		if r.code != c.code || !strings.Contains(r.stderr, c.msg) {
			t.Errorf("%v: %d %q", c.args, r.code, r.stderr)
		}
	}
	r = runAzure(t, context.Background(), collecttest.New(res.Snapshot.Resources), errors.New("DefaultAzureCredential: AzureCLICredential: please run 'az login'"), "collect", "-o", filepath.Join(dir, "none.json"))
	if r.code != ExitRuntime || !strings.Contains(r.stderr, "no Azure credential works") || !strings.Contains(r.stderr, "az login") {
		t.Errorf("no credential: %d %s", r.code, r.stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "none.json")); err == nil {
		t.Error("a snapshot was written without a credential")
	}

	// Ctrl-C during the ARM calls: the file holds what was collected, and the exit says so.
	f := collecttest.New(res.Snapshot.Resources)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	f.OnCall = func(n int) {
		if n == 5 {
			cancel()
		}
	}
	partial := filepath.Join(dir, "partial.json")
	r = runAzure(t, ctx, f, nil, "collect", "--concurrency", "1", "-o", partial)
	if r.code != ExitRuntime || !strings.Contains(r.stderr, "interrupted") {
		t.Errorf("interrupted: %d %s", r.code, r.stderr)
	}
	insp = run(t, "", "snapshot", "inspect", partial, "-o", "json")
	if insp.code != 0 || strings.Contains(insp.stdout, `"objects": 166`) || strings.Contains(insp.stdout, `"objects": 0`) {
		t.Errorf("the partial file: %d %s %.300s", insp.code, insp.stderr, insp.stdout)
	}
}

// Lock release and restore from the command line against the fake Azure: refusal without --yes
// and a terminal, the journaled release, status, the identical restore; an overdue release makes
// lock status exit 1.
func TestLockCommands(t *testing.T) {
	_, res, err := demoestate.Load(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	f := collecttest.New(res.Snapshot.Resources)
	dir := t.TempDir()
	jpath := filepath.Join(dir, "journal.jsonl")
	const kv = "/subscriptions/11111111-1111-4111-8111-111111111111/resourceGroups/rg-payments/providers/Microsoft.KeyVault/vaults/kv-pay-cmk"
	lockID := kv + "/providers/Microsoft.Authorization/locks/kv-no-delete"
	before, _ := f.Object(lockID)

	r := runAzure(t, context.Background(), f, nil, "lock", "release", "--resource", kv, "--reason", "CHG-1234", "--for", "30m", "--journal", jpath)
	if r.code != ExitUsage || !strings.Contains(r.stderr, "DELETE https://management.azure.com"+lockID) || !strings.Contains(r.stderr, "refusing to change Azure without --yes") {
		t.Fatalf("no --yes, no terminal: %d %s", r.code, r.stderr)
	}
	if len(f.Writes()) != 0 {
		t.Fatalf("written without consent: %v", f.Writes())
	}
	r = runAzure(t, context.Background(), f, nil, "lock", "release", "--resource", kv, "--reason", "CHG-1234", "--for", "30m", "--journal", jpath, "--yes")
	if r.code != 0 || !strings.Contains(r.stderr, "released kv-no-delete (CanNotDelete)") {
		t.Fatalf("release: %d %s", r.code, r.stderr)
	}
	st := run(t, "", "lock", "status", "--journal", jpath)
	if st.code != 0 || !strings.Contains(st.stdout, "open") || !strings.Contains(st.stdout, "CHG-1234") {
		t.Errorf("status: %d %s %s", st.code, st.stdout, st.stderr)
	}
	show := run(t, "", "journal", "show", "--journal", jpath)
	if show.code != 0 || !strings.Contains(show.stdout, "lock-release") || !strings.Contains(show.stdout, "done") {
		t.Errorf("journal show: %d %s", show.code, show.stdout)
	}
	r = runAzure(t, context.Background(), f, nil, "lock", "restore", "--resource", kv, "--journal", jpath, "--yes")
	if r.code != 0 || !strings.Contains(r.stderr, "restored kv-no-delete") {
		t.Fatalf("restore: %d %s", r.code, r.stderr)
	}
	after, _ := f.Object(lockID)
	was, _ := arm.NewObject(before, arm.Source{File: "snapshot"})
	now, _ := arm.NewObject(after, arm.Source{File: "fake"})
	if after == nil || !reflect.DeepEqual(locks.FromObject(was), locks.FromObject(now)) {
		t.Errorf("restored %s, released %s", after, before)
	}
	if st := run(t, "", "lock", "status", "--journal", jpath); st.code != 0 || !strings.Contains(st.stdout, "No lock release is open") {
		t.Errorf("status after restore: %d %s", st.code, st.stdout)
	}

	// A release whose deadline has passed.
	old := filepath.Join(dir, "old.jsonl")
	j, _ := journal.Open(old, func() time.Time { return time.Now().Add(-2 * time.Hour) })
	until := time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)
	meta := map[string]string{"lock": lockID, "until": until}
	j.Append(journal.Entry{Kind: journal.Intent, Action: "r1", Tool: "lock-release", Who: "bob", Why: "CHG-9", Before: before, Meta: meta})
	j.Append(journal.Entry{Kind: journal.Outcome, Action: "r1", Tool: "lock-release", Result: journal.Done, Meta: meta})
	j.Close()
	st = run(t, "", "lock", "status", "--journal", old)
	if st.code != ExitFindings || !strings.Contains(st.stdout, "OVERDUE") || !strings.Contains(st.stderr, "past their deadline") {
		t.Errorf("overdue: %d %s %s", st.code, st.stdout, st.stderr)
	}

	// The run died after the DELETE, before its outcome: status shows the release as unsettled
	// and exits 1; restore reads the lock, finds it in place, settles the release.
	died := filepath.Join(dir, "died.jsonl")
	j, _ = journal.Open(died, nil)
	meta = map[string]string{"lock": lockID, "until": time.Now().Add(time.Hour).UTC().Format(time.RFC3339)}
	j.Append(journal.Entry{Kind: journal.Intent, Action: "r2", Tool: "lock-release", Who: "bob", Why: "CHG-10", Before: before, Meta: meta})
	j.Close()
	st = run(t, "", "lock", "status", "--journal", died)
	if st.code != ExitFindings || !strings.Contains(st.stdout, "UNSETTLED") || !strings.Contains(st.stderr, "unsettled") {
		t.Errorf("unsettled: %d %s %s", st.code, st.stdout, st.stderr)
	}
	n := len(f.Writes())
	r = runAzure(t, context.Background(), f, nil, "lock", "restore", "--all", "--journal", died, "--yes")
	if r.code != 0 || !strings.Contains(r.stderr, "was never released") || len(f.Writes()) != n {
		t.Errorf("settle: %d %s (%d writes)", r.code, r.stderr, len(f.Writes())-n)
	}
	if st := run(t, "", "lock", "status", "--journal", died); st.code != 0 || !strings.Contains(st.stdout, "No lock release is open") {
		t.Errorf("status after settling: %d %s", st.code, st.stdout)
	}

	// A journal whose last line was cut off (the crash it exists for): the fragment is set aside
	// and reported, and the release goes ahead.
	torn := filepath.Join(dir, "torn.jsonl")
	os.WriteFile(torn, []byte(`{"schema":"bulwark.journal/v1","kind":"int`), 0o600)
	r = runAzure(t, context.Background(), f, nil, "lock", "release", "--resource", kv, "--reason", "CHG-11", "--for", "30m", "--journal", torn, "--yes")
	if r.code != 0 || !strings.Contains(r.stderr, "line 1 was cut off mid-write") || !strings.Contains(r.stderr, "torn.jsonl.torn-") || len(f.Writes()) != n+1 {
		t.Errorf("torn journal: %d %s (%d writes)", r.code, r.stderr, len(f.Writes())-n)
	}
	for _, c := range []struct {
		args []string
		msg  string
	}{
		{[]string{"lock", "release", "--resource", kv, "--for", "30m"}, "--reason is required"},
		{[]string{"lock", "release", "--resource", kv, "--reason", "x"}, "--for must be"},
		{[]string{"lock", "release", "--resource", "kv", "--reason", "x", "--for", "1m"}, "--resource needs an ARM ID"},
		{[]string{"lock", "restore"}, "exactly one of"},
	} {
		if r := runAzure(t, context.Background(), f, nil, append(c.args, "--journal", jpath)...); r.code != ExitUsage || !strings.Contains(r.stderr, c.msg) {
			t.Errorf("%v: %d %s", c.args, r.code, r.stderr)
		}
	}
	list := run(t, "", "lock", "list", "--snapshot", filepath.Join("..", "..", "examples", "contoso", "estate"))
	if list.code != 0 || !strings.Contains(list.stdout, "kv-no-delete") || !strings.Contains(list.stdout, "BLAST") {
		t.Errorf("lock list: %d %s", list.code, list.stdout)
	}
}

func TestHardenCommand(t *testing.T) {
	_, res, err := demoestate.Load(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	estate := filepath.Join("..", "..", "examples", "contoso", "estate")
	r := run(t, "", "harden", "--snapshot", estate)
	if r.code != 0 || !strings.HasPrefix(r.stdout, "Hardening plan: ") || !strings.Contains(r.stdout, "A01  Lock ") {
		t.Fatalf("text: %d %s %.300s", r.code, r.stderr, r.stdout)
	}
	if r := run(t, "", "harden", "--snapshot", estate, "-o", "azcli"); r.code != 0 || !strings.Contains(r.stdout, "set -euo pipefail") {
		t.Errorf("azcli: %d %s", r.code, r.stderr)
	}
	if r := run(t, "", "harden", "--snapshot", estate, "-o", "bicep"); r.code != ExitUsage || !strings.Contains(r.stderr, "--resource-group") {
		t.Errorf("bicep over several groups: %d %s", r.code, r.stderr)
	}
	if r := run(t, "", "harden", "--snapshot", estate, "-o", "bicep", "--resource-group", "/subscriptions/11111111-1111-4111-8111-111111111111/resourceGroups/rg-shop"); r.code != 0 || !strings.Contains(r.stdout, "targetScope = 'resourceGroup'") {
		t.Errorf("bicep: %d %s", r.code, r.stderr)
	}
	if r := run(t, "", "harden", "--snapshot", estate, "--check", "NOPE-1"); r.code != ExitUsage {
		t.Errorf("unknown check: %d %s", r.code, r.stderr)
	}
	f := collecttest.New(res.Snapshot.Resources)
	jpath := filepath.Join(t.TempDir(), "journal.jsonl")
	apply := []string{"harden", "--snapshot", estate, "--check", "LOCK-001", "--apply", "--journal", jpath}
	r = runAzure(t, context.Background(), f, nil, apply...)
	if r.code != ExitUsage || !strings.Contains(r.stderr, "refusing to change Azure without --yes") || len(f.Writes()) != 0 {
		t.Fatalf("apply without --yes: %d %s (%d writes)", r.code, r.stderr, len(f.Writes()))
	}
	r = runAzure(t, context.Background(), f, nil, append(apply, "--yes")...)
	if r.code != 0 || !strings.Contains(r.stdout, "done") || len(f.Writes()) == 0 {
		t.Fatalf("apply --yes: %d %s %s", r.code, r.stderr, r.stdout)
	}
	n := len(f.Writes())
	r = runAzure(t, context.Background(), f, nil, append(apply, "--yes")...)
	if r.code != 0 || !strings.Contains(r.stderr, "already in place") || len(f.Writes()) != n {
		t.Errorf("second apply: %d %s, %d new writes", r.code, r.stderr, len(f.Writes())-n)
	}
	// While another writer holds the journal, an apply writes nothing and says why (two applies on
	// one journal used to send their writes twice).
	g := collecttest.New(res.Snapshot.Resources)
	held, err := journal.Open(filepath.Join(t.TempDir(), "held.jsonl"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()
	r = runAzure(t, context.Background(), g, nil, "harden", "--snapshot", estate, "--check", "LOCK-001", "--apply", "--yes", "--journal", held.Path())
	if r.code == 0 || !strings.Contains(r.stderr, "in use by another bulwark process") || len(g.Writes()) != 0 {
		t.Errorf("apply on a held journal: %d %s (%d writes)", r.code, r.stderr, len(g.Writes()))
	}
	// A journal others can read is made private, and the user is told.
	loose := filepath.Join(t.TempDir(), "loose.jsonl")
	if err := os.WriteFile(loose, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	r = runAzure(t, context.Background(), collecttest.New(res.Snapshot.Resources), nil, "harden", "--snapshot", estate, "--check", "LOCK-001", "--apply", "--yes", "--journal", loose)
	if st, err := os.Stat(loose); err != nil || st.Mode().Perm() != 0o600 || !strings.Contains(r.stderr, "had mode 0644") {
		t.Errorf("loose journal: %v %v %s", st.Mode(), err, r.stderr)
	}
}

// Strings from input cannot drive the terminal: a caller carrying a carriage return, an OSC
// window-title and hyperlink sequence, a cursor movement and a right-to-left override, and a lock
// whose notes do the same, print escaped in every human format (detect's table and Markdown, lock
// list, assess), while JSON output decodes to the very same strings. They used to print raw.
func TestNoEscapeInjection(t *testing.T) {
	const evil = "mallory\r\x1b]0;pwned\x07\x1b]8;;https://evil.example\x07\x1b[2J\u202eexe.gpj"
	evilJSON, _ := json.Marshal(evil)
	data, err := os.ReadFile(filepath.Join("..", "..", "examples", "contoso", "activity", "rest", "activity-2026-11-25.json"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	act := filepath.Join(dir, "activity.json")
	os.WriteFile(act, bytes.ReplaceAll(data, []byte(`"7f3a1111-aaaa-4bbb-8ccc-000000000fff"`), evilJSON), 0o600)
	lockFile := filepath.Join(dir, "locks.json")
	os.WriteFile(lockFile, []byte(`{"value":[{"id":"/subscriptions/11111111-1111-4111-8111-111111111111/resourceGroups/rg/providers/Microsoft.Authorization/locks/l1","type":"Microsoft.Authorization/locks","name":"l1","properties":{"level":"CanNotDelete","notes":`+string(evilJSON)+`}}]}`), 0o600)
	check := func(name string, r result) {
		t.Helper()
		for stream, s := range map[string]string{"stdout": r.stdout, "stderr": r.stderr} {
			if strings.ContainsAny(s, "\r\x07\u202e") || strings.Contains(s, "\x1b]") || strings.Contains(s, "\x1b[2J") {
				t.Errorf("%s: raw control characters on %s: %q", name, stream, s)
			}
		}
	}
	r := run(t, "", "detect", act)
	if !strings.Contains(r.stdout, `mallory\u000d\u001b]0;pwned`) {
		t.Errorf("detect table: the caller is not shown escaped:\n%s", r.stdout)
	}
	check("detect", r)
	check("detect -o markdown", run(t, "", "detect", act, "-o", "markdown"))
	l := run(t, "", "lock", "list", "--snapshot", lockFile)
	if !strings.Contains(l.stdout, `mallory\u000d`) {
		t.Errorf("lock list: notes not shown escaped:\n%s", l.stdout)
	}
	check("lock list", l)
	check("assess", run(t, "", "assess", "--snapshot", lockFile))
	j := run(t, "", "detect", act, "-o", "json")
	check("detect -o json", j)
	if !strings.Contains(j.stdout, "mallory") {
		t.Fatalf("detect -o json: %s", j.stderr)
	}
	found := false
	for _, line := range strings.Split(strings.TrimSpace(j.stdout), "\n") {
		var rec struct {
			Events []struct {
				Caller string `json:"caller"`
			} `json:"events"`
		}
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("%v: %s", err, line)
		}
		for _, e := range rec.Events {
			found = found || e.Caller == evil
		}
	}
	if !found {
		t.Errorf("detect -o json does not carry the caller unchanged")
	}
}

// Every demo activity file gives the same detection whether it is named, piped to stdin, gzipped,
// or gzipped and piped: stdin is ordered like a file of the same shape. (Piped, the REST export —
// newest first — used to arrive unsorted: 62 late events and the attack split in two incidents.)
func TestStdinReadsLikeAFile(t *testing.T) {
	sourceField := regexp.MustCompile(`"source":"[^"]*?( \[\d+\]|:\d+)?"`)
	norm := func(s string) string {
		s = sourceField.ReplaceAllString(s, `"source":"INPUT$1"`)
		return regexp.MustCompile(`"inputs":\[[^\]]*\]`).ReplaceAllString(s, `"inputs":[]`)
	}
	var files []string
	filepath.WalkDir(filepath.Join("..", "..", "examples", "contoso", "activity"), func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			files = append(files, p)
		}
		return err
	})
	if len(files) < 4 {
		t.Fatalf("%d demo activity files", len(files))
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var gz bytes.Buffer
		zw := gzip.NewWriter(&gz)
		zw.Write(data)
		zw.Close()
		gzFile := filepath.Join(t.TempDir(), "activity.json.gz")
		os.WriteFile(gzFile, gz.Bytes(), 0o600)
		byPath := run(t, "", "detect", f, "-o", "json")
		if byPath.code != 0 || strings.Contains(byPath.stderr, "out of order") {
			t.Fatalf("%s: %d %s", f, byPath.code, byPath.stderr)
		}
		want := norm(byPath.stdout)
		for name, r := range map[string]result{
			"stdin":         run(t, string(data), "detect", "-", "-o", "json"),
			"gzip":          run(t, "", "detect", gzFile, "-o", "json"),
			"gzip on stdin": run(t, gz.String(), "detect", "-", "-o", "json"),
		} {
			if got := norm(r.stdout); got != want || r.code != byPath.code || strings.Contains(r.stderr, "out of order") {
				t.Errorf("%s through %s differs from the file (%d, %s)", f, name, r.code, r.stderr)
			}
		}
	}
}

// Empty or unreadable input never passes a CI gate: nothing read exits 3 with the reason; some
// inputs unreadable is said in every format and exits 3 unless --allow-partial; an area whose
// results are all unknown is "not assessed", never 100. (An empty folder used to score 100.0/100
// and exit 0 under --fail-on low; detect exited 0 on garbage.)
func TestHonestFirstRun(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty")
	os.Mkdir(empty, 0o755)
	estate := filepath.Join("..", "..", "examples", "contoso", "estate")
	rest := filepath.Join("..", "..", "examples", "contoso", "activity", "rest", "activity-2026-11-25.json")
	data, _ := os.ReadFile(rest)
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		os.WriteFile(p, []byte(content), 0o600)
		return p
	}
	truncated := write("truncated.json", string(data[:len(data)/2]))
	wrongHeader := write("wrong.csv", "a,b,c\n1,2,3\n4,5,6\n")
	garbage := write("garbage.json", "{\x00\x01 not json\n\xff\xfe\n")
	broken := write("broken.json", `{"id":`)
	for _, c := range []struct {
		name, stdin string
		args        []string
		code        int
		msg         string
	}{
		{"assess, empty folder", "", []string{"assess", "--snapshot", empty, "--fail-on", "low"}, ExitRuntime, "no ARM object was read from " + empty},
		{"assess, empty stdin", "", []string{"assess", "--snapshot", "-", "--fail-on", "low"}, ExitRuntime, "no ARM object was read from standard input"},
		{"assess, one input broken", "", []string{"assess", "--snapshot", estate, "--snapshot", broken}, ExitRuntime, "--allow-partial goes on with the 166 objects"},
		{"inspect, empty folder", "", []string{"snapshot", "inspect", empty}, ExitRuntime, "no ARM object was read"},
		{"detect, truncated REST file", "", []string{"detect", truncated}, ExitRuntime, "no event was read from " + truncated},
		{"detect, CSV with a wrong header", "", []string{"detect", wrongHeader}, ExitRuntime, "no event was read from " + wrongHeader},
		{"detect, garbage", "", []string{"detect", garbage}, ExitRuntime, "no event was read"},
		{"detect, empty stdin", "", []string{"detect", "-"}, ExitRuntime, "no event was read from standard input"},
		{"detect, empty stdin allowed", "", []string{"detect", "-", "--allow-empty"}, ExitOK, ""},
	} {
		r := run(t, c.stdin, c.args...)
		if r.code != c.code || !strings.Contains(r.stderr, c.msg) {
			t.Errorf("%s: exit %d, want %d with %q\n%s", c.name, r.code, c.code, c.msg, r.stderr)
		}
		if c.code != 0 && strings.Contains(r.stdout, "100.0/100") {
			t.Errorf("%s: scored 100 on nothing:\n%s", c.name, r.stdout)
		}
	}

	// detect: one unreadable line among good ones.
	diag := filepath.Join(dir, "diag.json")
	var diagData []byte
	filepath.WalkDir(filepath.Join("..", "..", "examples", "contoso", "activity", "diagnostic-export"), func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && diagData == nil {
			diagData, _ = os.ReadFile(p)
		}
		return err
	})
	os.WriteFile(diag, append(diagData, []byte("this line is not JSON\n")...), 0o600)
	r := run(t, "", "detect", diag)
	if r.code != ExitRuntime || !strings.Contains(r.stdout, "partial: 1 line or row could not be read") || !strings.Contains(r.stderr, "--allow-partial") {
		t.Errorf("detect partial: %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	if r := run(t, "", "detect", diag, "--allow-partial", "-o", "markdown"); r.code != 0 || !strings.Contains(r.stdout, "**Partial:** 1 line or row") {
		t.Errorf("detect partial allowed, markdown: %d %s", r.code, r.stdout)
	}
	j := run(t, "", "detect", diag, "--allow-partial", "-o", "json")
	last := j.stdout[strings.LastIndex(strings.TrimSpace(j.stdout), "\n")+1:]
	var sum detectSummary
	if err := json.Unmarshal([]byte(last), &sum); err != nil || !sum.Partial || sum.Malformed != 1 || len(sum.Problems) != 1 || !strings.HasSuffix(sum.Problems[0], "malformed JSON") {
		t.Errorf("detect partial json: %v %+v", err, sum)
	}

	// assess --allow-partial: every format says what could not be read.
	base := []string{"assess", "--snapshot", estate, "--snapshot", broken, "--allow-partial"}
	for format, want := range map[string]string{
		"table":    "partial: could not be read: " + broken,
		"markdown": "**partial: could not be read: " + broken,
		"html":     `id="partial"`,
		"sarif":    `"toolExecutionNotifications"`,
		"json":     `"partial": true`,
	} {
		r := run(t, "", append(base, "-o", format)...)
		if r.code != 0 || !strings.Contains(r.stdout, want) {
			t.Errorf("assess --allow-partial -o %s: exit %d, no %q", format, r.code, want)
		}
	}
	var doc struct {
		Snapshot struct{ Unreadable []string } `json:"snapshot"`
		Scores   struct {
			Areas []struct {
				Name     string   `json:"name"`
				Score    *float64 `json:"score"`
				Assessed bool     `json:"assessed"`
			} `json:"areas"`
		} `json:"scores"`
	}
	js := run(t, "", append(base, "-o", "json")...)
	if err := json.Unmarshal([]byte(js.stdout), &doc); err != nil || len(doc.Snapshot.Unreadable) != 1 {
		t.Fatalf("assess json: %v %+v", err, doc.Snapshot)
	}
	// Without --iac every configuration-based service is unknown: area D is not assessed.
	var d *float64
	found := false
	for _, a := range doc.Scores.Areas {
		if strings.HasPrefix(a.Name, "D ") {
			found, d = !a.Assessed, a.Score
		}
	}
	if !found || d != nil {
		t.Errorf("area D without --iac: %+v", doc.Scores.Areas)
	}
	table := run(t, "", "assess", "--snapshot", estate)
	if !regexp.MustCompile(`D · Configuration-based services +not assessed`).MatchString(table.stdout) {
		t.Errorf("table: area D not shown as not assessed:\n%s", table.stdout)
	}
	html := run(t, "", "assess", "--snapshot", estate, "-o", "html")
	if !regexp.MustCompile(`D · Configuration-based services</text>\s*<rect[^>]*/><rect x="300" y="4" width="0" height="18" fill="#9ca3af">`).MatchString(html.stdout) {
		t.Errorf("html: area D has a bar")
	}
}

// Small first-run traps: a misspelt command suggests the right one; snapshot merge refuses a
// format name as its target file (it used to write a file named "json"); harden takes -o table,
// which the global help offers, as its text format.
func TestFirstRunTraps(t *testing.T) {
	if r := run(t, "", "asses"); r.code != ExitUsage || !strings.Contains(r.stderr, "did you mean assess?") {
		t.Errorf("asses: %d %s", r.code, r.stderr)
	}
	if r := run(t, "", "snapshot", "inspekt"); r.code != ExitUsage || !strings.Contains(r.stderr, "did you mean inspect?") {
		t.Errorf("snapshot inspekt: %d %s", r.code, r.stderr)
	}
	estate := filepath.Join("..", "..", "examples", "contoso", "estate")
	dir := t.TempDir()
	wd, _ := os.Getwd()
	defer os.Chdir(wd)
	abs, _ := filepath.Abs(estate)
	os.Chdir(dir)
	r := run(t, "", "snapshot", "merge", "-o", "json", abs)
	if _, err := os.Stat(filepath.Join(dir, "json")); r.code != ExitUsage || err == nil || !strings.Contains(r.stderr, "name it (-o estate.json)") {
		t.Errorf("merge -o json: %d %s (file written: %v)", r.code, r.stderr, err == nil)
	}
	os.Chdir(wd)
	// -q: assess prints its failed results only, at or above --fail-on (it printed the whole report).
	q := run(t, "", "assess", "--snapshot", estate, "--fail-on", "critical", "-q")
	if q.code != ExitFindings || strings.Contains(q.stdout, "Estate score") || q.stderr != "" {
		t.Errorf("assess -q: %d %q %q", q.code, q.stdout, q.stderr)
	}
	for _, l := range strings.Split(strings.TrimSpace(q.stdout), "\n") {
		if !strings.HasPrefix(l, "critical ") {
			t.Errorf("assess -q --fail-on critical printed %q", l)
		}
	}
	text := run(t, "", "harden", "--snapshot", estate)
	table := run(t, "", "harden", "--snapshot", estate, "-o", "table")
	if table.code != 0 || table.stdout != text.stdout {
		t.Errorf("harden -o table: %d %s", table.code, table.stderr)
	}
}

// The alerts table shows who called and whom the alert is attributed to, labelled: the attack's
// lock deletions were called by the service principal that alice had just made Owner. (The ACTOR
// column used to show only alice, where an analyst looks for the caller.)
func TestAlertsShowCallerAndActor(t *testing.T) {
	r := run(t, "", "detect", filepath.Join("..", "..", "examples", "contoso", "activity", "rest"))
	if !strings.Contains(r.stdout, "CALLER") || !strings.Contains(r.stdout, "ACTOR (ACCOUNTABLE)") ||
		!regexp.MustCompile(`Resource lock deleted +7f3a1111-aaaa-4bbb-8ccc-000000000fff +alice@contoso\.example +locks/`).MatchString(r.stdout) {
		t.Errorf("alerts table:\n%s", r.stdout)
	}
	md := run(t, "", "detect", filepath.Join("..", "..", "examples", "contoso", "activity", "rest"), "-o", "markdown")
	if !strings.Contains(md.stdout, "| caller | actor (accountable) |") || !strings.Contains(md.stdout, "| 7f3a1111-aaaa-4bbb-8ccc-000000000fff | alice@contoso.example |") {
		t.Errorf("alerts markdown:\n%s", md.stdout)
	}
}

// Exceptions with an owner and an expiry: before it, the result is "excepted" with its reason in
// every format, counted, out of the score and of --fail-on; after it, the result fails again,
// says so, and stderr warns. An exception without an expiry is refused.
func TestExceptions(t *testing.T) {
	estate := filepath.Join("..", "..", "examples", "contoso", "estate")
	dir := t.TempDir()
	cfg := filepath.Join(dir, "bulwark.yaml")
	os.WriteFile(cfg, []byte(`exceptions:
  - check: KV-002
    resource: /subscriptions/11111111-1111-4111-8111-111111111111/resourceGroups/rg-shop/providers/Microsoft.KeyVault/vaults/kv-shop-app
    reason: decommissioned with the shop rewrite (CHG-2201)
    owner: shop-team@contoso.example
    expires: 2099-12-31
  - check: ST-006
    scope: /subscriptions/11111111-1111-4111-8111-111111111111/resourceGroups/rg-shop
    reason: rebuilt from the CDN origin
    owner: shop-team@contoso.example
    expires: 2020-01-31
`), 0o600)
	base := []string{"assess", "--snapshot", estate, "--config", cfg}
	for format, want := range map[string]string{
		"table":    "excepted until 2099-12-31 by shop-team@contoso.example (bulwark.yaml line 2): decommissioned with the shop rewrite",
		"markdown": "excepted until 2099-12-31 by shop-team@contoso.example",
		"html":     `class="status excepted"`,
		"sarif":    `"justification": "excepted until 2099-12-31`,
		"json":     `"status": "excepted"`,
	} {
		r := run(t, "", append(base, "-o", format)...)
		if r.code != 0 || !strings.Contains(r.stdout, want) {
			t.Errorf("-o %s: %d, no %q", format, r.code, want)
		}
	}
	r := run(t, "", base...)
	if !strings.Contains(r.stdout, "1 excepted") || !strings.Contains(r.stdout, "(exception expired 2020-01-31: rebuilt from the CDN origin)") ||
		!strings.Contains(r.stderr, "line 7: the exception for ST-006 expired on 2020-01-31: 1 result fails again") {
		t.Errorf("table: %s\n%s", r.stdout, r.stderr)
	}
	var doc struct {
		Results []struct {
			Check, Name, Status string
			Exception           *struct {
				Reason  string
				Expired bool
				Was     string
			}
		}
	}
	js := run(t, "", append(base, "-o", "json")...)
	json.Unmarshal([]byte(js.stdout), &doc)
	states := map[string]string{}
	for _, x := range doc.Results {
		if x.Exception != nil {
			states[x.Check+" "+x.Name] = fmt.Sprintf("%s %v %s", x.Status, x.Exception.Expired, x.Exception.Was)
		}
	}
	if d := cmp.Diff(map[string]string{"KV-002 kv-shop-app": "excepted false fail", "ST-006 stshopassets01": "fail true "}, states); d != "" {
		t.Errorf("exceptions in JSON (-want +got):\n%s", d)
	}
	// The excepted critical no longer counts for --fail-on.
	failing := func(args ...string) string {
		r := run(t, "", append(args, "--check", "KV-002", "--fail-on", "critical")...)
		return regexp.MustCompile(`(\d+) failed results at or above`).FindString(r.stderr)
	}
	if with, without := failing(base...), failing("assess", "--snapshot", estate); with == "" || without == "" || with == without {
		t.Errorf("--fail-on critical: %q with the exception, %q without", with, without)
	}
	os.WriteFile(cfg, []byte("exceptions:\n  - check: KV-002\n    scope: /subscriptions/x\n    reason: r\n    owner: o\n"), 0o600)
	if r := run(t, "", base...); r.code != ExitRuntime || !strings.Contains(r.stderr, "exceptions: line 2: expires is required") {
		t.Errorf("no expiry: %d %s", r.code, r.stderr)
	}
}

// docs/checks.md is the catalogue the code runs; docs/bulwark-yaml.md and docs/apps-yaml.md name
// every key the decoders accept.
func TestCatalogueDocumented(t *testing.T) {
	var b bytes.Buffer
	writeCatalogue(&b, assess.Checks())
	path := filepath.Join("..", "..", "docs", "checks.md")
	if *update {
		os.WriteFile(path, b.Bytes(), 0o644)
	}
	if got, err := os.ReadFile(path); err != nil || string(got) != b.String() {
		t.Errorf("docs/checks.md is not the catalogue (go test ./internal/cli -run TestCatalogueDocumented -update rewrites it)")
	}
}

func yamlKeys(t reflect.Type, into map[string]bool) {
	for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice || t.Kind() == reflect.Map {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct {
		return
	}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag := strings.Split(f.Tag.Get("yaml"), ",")[0]
		if tag == "" || tag == "-" || !f.IsExported() {
			continue
		}
		into[tag] = true
		yamlKeys(f.Type, into)
	}
}

func TestConfigDocumented(t *testing.T) {
	documented(t, reflect.TypeOf(config.Config{}), "bulwark-yaml.md")
}

func TestAppsDocumented(t *testing.T) { documented(t, reflect.TypeOf(apps.File{}), "apps-yaml.md") }

func documented(t *testing.T, typ reflect.Type, doc string) {
	t.Helper()
	keys := map[string]bool{}
	yamlKeys(typ, keys)
	data, err := os.ReadFile(filepath.Join("..", "..", "docs", doc))
	if err != nil {
		t.Fatal(err)
	}
	for k := range keys {
		if !strings.Contains(string(data), "`"+k+"`") && !strings.Contains(string(data), "."+k+"`") {
			t.Errorf("docs/%s does not document %q", doc, k)
		}
	}
}

// -o xlsx passes the terminal filter untouched (a workbook is binary); -o csv is text.
func TestAssessSpreadsheets(t *testing.T) {
	estate := filepath.Join("..", "..", "examples", "contoso", "estate")
	x := run(t, "", "assess", "--snapshot", estate, "-o", "xlsx")
	f, err := excelize.OpenReader(strings.NewReader(x.stdout))
	if x.code != 0 || err != nil {
		t.Fatalf("xlsx: %d %v %s", x.code, err, x.stderr)
	}
	rows, _ := f.GetRows("Results")
	f.Close()
	c := run(t, "", "assess", "--snapshot", estate, "-o", "csv")
	lines, err := csv.NewReader(strings.NewReader(c.stdout)).ReadAll()
	if c.code != 0 || err != nil || len(lines) != len(rows) || len(rows) < 100 {
		t.Errorf("csv: %d %v, %d rows; xlsx %d rows", c.code, err, len(lines), len(rows))
	}
}

// TestDetectSuppressions: suppressed alerts stay in every format, marked and counted; an expired
// suppression warns and suppresses nothing; the JSON summary's fields are documented.
func TestDetectSuppressions(t *testing.T) {
	act := filepath.Join("..", "..", "examples", "contoso", "activity", "rest")
	cfg := filepath.Join(t.TempDir(), "bulwark.yaml")
	os.WriteFile(cfg, []byte(`detection:
  suppress:
    - rule: imp_lock_deleted
      reason: lock rotation (CHG-1)
      owner: platform@contoso.example
      expires: 2999-01-31
    - rule: des_vm_deallocated
      reason: nightly schedule
      expires: 2020-01-31
`), 0o644)
	r := run(t, "", "detect", act, "--config", cfg)
	if r.code != 0 || !strings.Contains(r.stdout, "suppressed: 5 alerts by line 3 (rule imp_lock_deleted): lock rotation (CHG-1) (until 2999-01-31)") ||
		!strings.Contains(r.stdout, "suppressed (line 3)") || !strings.Contains(r.stdout, "EXPIRED on 2020-01-31") ||
		!strings.Contains(r.stderr, "expired on 2020-01-31 and suppresses nothing") || !strings.Contains(r.stdout, "opened by") {
		t.Errorf("table: %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	r = run(t, "", "detect", act, "--config", cfg, "-o", "json")
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	var sum detectSummary
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &sum); err != nil || sum.Suppressed != 5 || len(sum.Suppressions) != 2 || !sum.Suppressions[1].Expired {
		t.Errorf("summary: %v %+v", err, sum)
	}
	r = run(t, "", "detect", act, "--config", cfg, "-o", "markdown")
	if !strings.Contains(r.stdout, "- suppressed: 5 alerts") || !strings.Contains(r.stdout, "**Opened by:**") {
		t.Errorf("markdown: %s", r.stdout)
	}
	os.WriteFile(cfg, []byte("detection:\n  suppress:\n    - rule: x\n      reson: typo\n"), 0o644)
	if r = run(t, "", "detect", act, "--config", cfg); r.code != ExitRuntime || !strings.Contains(r.stderr, `line 4: unknown setting "reson"`) {
		t.Errorf("a typo: %d %s", r.code, r.stderr)
	}
}

// TestRespondCloud: --cloud sends the playbook's REST calls to that cloud's Resource Manager.
func TestRespondCloud(t *testing.T) {
	estate := filepath.Join("..", "..", "examples", "contoso", "estate")
	apps := filepath.Join("..", "..", "examples", "contoso", "apps.yaml")
	r := run(t, "", "respond", "--app", "payments", "--snapshot", estate, "--apps", apps, "--cloud", "AzureUSGovernment", "-o", "json")
	if r.code != 0 || !strings.Contains(r.stdout, `"endpoint": "https://management.usgovcloudapi.net"`) || strings.Contains(r.stdout, "management.azure.com") {
		t.Errorf("%d %s %.400s", r.code, r.stderr, r.stdout)
	}
	if r = run(t, "", "respond", "--app", "payments", "--snapshot", estate, "--cloud", "Mars"); r.code != ExitUsage {
		t.Errorf("--cloud Mars: %d %s", r.code, r.stderr)
	}
}

// TestFrameworks: --framework runs only the mapped checks, names how many on stderr, refuses an
// unknown framework; every mapping goes through the check's own built-in policy and is in
// docs/compliance.md.
func TestFrameworks(t *testing.T) {
	estate := filepath.Join("..", "..", "examples", "contoso", "estate")
	r := run(t, "", "assess", estate, "--framework", "mcsb", "-o", "json")
	if !strings.Contains(r.stderr, "--framework mcsb: 3 checks map") {
		t.Errorf("stderr: %s", r.stderr)
	}
	var doc struct {
		Results []struct {
			Check string `json:"check"`
		} `json:"results"`
	}
	json.Unmarshal([]byte(r.stdout), &doc)
	for _, x := range doc.Results {
		if x.Check != "VM-001" && x.Check != "KV-001" && x.Check != "KV-002" {
			t.Errorf("result of %s in an MCSB run", x.Check)
		}
	}
	if len(doc.Results) == 0 {
		t.Errorf("no results: %.300s", r.stdout)
	}
	if r = run(t, "", "checks", "show", "KV-002"); !strings.Contains(r.stdout, "CIS Microsoft Azure Foundations Benchmark 1.4.0 8.6 (Ensure the key vault is recoverable)") {
		t.Errorf("checks show: %s", r.stdout)
	}
	if r = run(t, "", "assess", estate, "--framework", "mcsb", "--check", "ST-001"); r.code != ExitUsage {
		t.Errorf("--check outside the framework: %d %s", r.code, r.stderr)
	}
	if r = run(t, "", "assess", estate, "--framework", "nist"); r.code != ExitUsage || !strings.Contains(r.stderr, "cis-azure, mcsb") {
		t.Errorf("unknown framework: %d %s", r.code, r.stderr)
	}
	doc2, err := os.ReadFile(filepath.Join("..", "..", "docs", "compliance.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range assess.Checks() {
		for _, x := range assess.ControlsOf(c.ID) {
			if c.Fix.Policy == nil || c.Fix.Policy.ID != x.Via {
				t.Errorf("%s maps to %s %s through %s, which is not its built-in policy", c.ID, x.Framework, x.ID, x.Via)
			}
			if !strings.Contains(string(doc2), "| "+c.ID+" |") || !strings.Contains(string(doc2), x.ID) {
				t.Errorf("docs/compliance.md lacks %s → %s", c.ID, x.ID)
			}
		}
	}
}

// TestLintBulwarkFields: rules lint reports a bulwark.incident or bulwark.stage that is not one.
func TestLintBulwarkFields(t *testing.T) {
	dir := t.TempDir()
	rule := func(extra string) string {
		return "title: t\nlogsource: {product: azure}\ndetection:\n  s:\n    operationName: x\n  condition: s\nlevel: high\n" + extra
	}
	os.WriteFile(filepath.Join(dir, "a.yml"), []byte(rule("bulwark.stage: impairment\nbulwark.incident: sometimes\n")), 0o644)
	os.WriteFile(filepath.Join(dir, "b.yml"), []byte(rule("bulwark.stage: looting\n")), 0o644)
	os.WriteFile(filepath.Join(dir, "c.yml"), []byte(rule("bulwark.stage: recovery\nbulwark.incident: open\n")), 0o644)
	r := run(t, "", "rules", "lint", dir)
	if r.code != ExitFindings || !strings.Contains(r.stdout, "a.yml:1:1") || !strings.Contains(r.stdout, "sometimes is not one of open") ||
		!strings.Contains(r.stdout, "looting is not one of privilege") || !strings.Contains(r.stdout, "3 rules in 3 files: 1 valid") {
		t.Errorf("%d %s %s", r.code, r.stdout, r.stderr)
	}
}

// TestDetectOptions: the command line becomes detectOptions without anything being read (the
// runF seam of NewCmdDetect).
func TestDetectOptions(t *testing.T) {
	var got *detectOptions
	app := &App{Stdout: &bytes.Buffer{}, Stderr: &bytes.Buffer{}, Getenv: func(string) string { return "" }}
	cmd := NewCmdDetect(app, func(o *detectOptions) error { got = o; return nil })
	cmd.SetArgs([]string{"a.json", "-", "--since", "2026-11-25", "--fail-on", "high", "--lateness", "5m", "--rules", "r.yml", "--allow-empty"})
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	if got == nil || strings.Join(got.paths, ",") != "a.json,-" || got.since != "2026-11-25" || got.failOn != "high" ||
		got.lateness != 5*time.Minute || len(got.rules) != 1 || !got.allowEmpty || got.format != "table" {
		t.Errorf("%+v", got)
	}
}

// TestAssessAndRespondOptions: the same seam for assess and respond.
func TestAssessAndRespondOptions(t *testing.T) {
	app := &App{Stdout: &bytes.Buffer{}, Stderr: &bytes.Buffer{}, Getenv: func(string) string { return "" }}
	var a *assessOptions
	cmd := NewCmdAssess(app, func(o *assessOptions) error { a = o; return nil })
	cmd.SetArgs([]string{"estate.json", "--framework", "mcsb", "--fail-on", "high", "--check", "KV-002"})
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	if a == nil || strings.Join(a.args, ",") != "estate.json" || a.framework != "mcsb" || a.failOn != "high" || len(a.include) != 1 || a.format != "table" {
		t.Errorf("assess: %+v", a)
	}
	var r *respondOptions
	cmd = NewCmdRespond(app, func(o *respondOptions) error { r = o; return nil })
	cmd.SetArgs([]string{"--app", "payments", "--cloud", "AzureChina", "--snapshot", "s.json"})
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	if r == nil || r.app != "payments" || r.cloud != "AzureChina" || r.format != "markdown" {
		t.Errorf("respond: %+v", r)
	}
}

// TestCommandOptions: every command's flags become its options before any work runs (the runF
// seam), so a command's work is testable without cobra. One row per command; each sets the flags
// that command has and checks they arrived.
func TestCommandOptions(t *testing.T) {
	app := &App{Stdout: &bytes.Buffer{}, Stderr: &bytes.Buffer{}, Getenv: func(string) string { return "" }}
	type row struct {
		name string
		cmd  func(ok *bool) *cobra.Command
		args []string
	}
	rows := []row{
		{"harden", func(ok *bool) *cobra.Command {
			return NewCmdHarden(app, func(o *hardenOptions) error {
				*ok = o.apply && o.allowIrreversible && o.w.yes && o.w.cloud == "AzureChina" && strings.Join(o.args, ",") == "e.json" && o.format == "text"
				return nil
			})
		}, []string{"e.json", "--apply", "--allow-irreversible", "--yes", "--cloud", "AzureChina"}},
		{"collect", func(ok *bool) *cobra.Command {
			return NewCmdCollect(app, func(o *collectOptions) error { *ok = o.out == "x.json"; return nil })
		}, []string{"-o", "x.json"}},
		{"demo", func(ok *bool) *cobra.Command {
			return NewCmdDemo(app, func(o *demoOptions) error { *ok = o.out == "d" && o.force; return nil })
		}, []string{"--out", "d", "--force"}},
		{"watch", func(ok *bool) *cobra.Command {
			return NewCmdWatch(app, func(o *watchOptions) error {
				*ok = strings.Join(o.brokers, ",") == "a:9092,b:9092" && o.state == "st" && o.rekeyTopic == "rk" && o.from == "earliest" &&
					o.interval == 5*time.Second && o.maxActors == 7 && o.changed["max-actors"] && o.topic == "insights-activity-logs"
				return nil
			})
		}, []string{"--brokers", "a:9092,b:9092", "--state", "st", "--rekey-topic", "rk", "--from", "earliest", "--checkpoint-interval", "5s", "--max-actors", "7"}},
		{"version", func(ok *bool) *cobra.Command {
			return NewCmdVersion(app, func(o *versionOptions) error { *ok = true; return nil })
		}, nil},
		{"lock list", func(ok *bool) *cobra.Command {
			return newCmdLockList(app, func(o *lockListOptions) error { *ok = o.live && strings.Join(o.args, ",") == "a,b"; return nil })
		}, []string{"a", "b", "--live"}},
		{"lock release", func(ok *bool) *cobra.Command {
			return newCmdLockRelease(app, func(o *lockReleaseOptions) error {
				*ok = o.resource == "/subscriptions/x" && o.reason == "CHG-1" && o.dur == 30*time.Minute && o.name == "n"
				return nil
			})
		}, []string{"--resource", "/subscriptions/x", "--reason", "CHG-1", "--for", "30m", "--name", "n"}},
		{"lock restore", func(ok *bool) *cobra.Command {
			return newCmdLockRestore(app, func(o *lockRestoreOptions) error { *ok = o.all && !o.expired && o.w.journal == "j"; return nil })
		}, []string{"--all", "--journal", "j"}},
		{"lock status", func(ok *bool) *cobra.Command {
			return newCmdLockStatus(app, func(o *journalOptions) error { *ok = o.path == "j"; return nil })
		}, []string{"--journal", "j"}},
		{"journal show", func(ok *bool) *cobra.Command {
			return newCmdJournalShow(app, func(o *journalOptions) error { *ok = o.path == "j"; return nil })
		}, []string{"--journal", "j"}},
		{"snapshot inspect", func(ok *bool) *cobra.Command {
			return newCmdSnapshotInspect(app, func(o *snapshotInspectOptions) error { *ok = strings.Join(o.args, ",") == "s"; return nil })
		}, []string{"s"}},
		{"snapshot merge", func(ok *bool) *cobra.Command {
			return newCmdSnapshotMerge(app, func(o *snapshotMergeOptions) error {
				*ok = o.out == "m.json" && strings.Join(o.args, ",") == "a"
				return nil
			})
		}, []string{"-o", "m.json", "a"}},
		{"rules list", func(ok *bool) *cobra.Command {
			return newCmdRulesList(app, func(o *rulesListOptions) error { *ok = o.noBuiltin && len(o.paths) == 1; return nil })
		}, []string{"--no-builtin", "--rules", "r"}},
		{"rules export", func(ok *bool) *cobra.Command {
			return newCmdRulesExport(app, func(o *rulesExportOptions) error {
				*ok = o.format == "bicep" && o.out == "x.bicep" && o.strict && o.noBuiltin && len(o.paths) == 1
				return nil
			})
		}, []string{"--format", "bicep", "-o", "x.bicep", "--strict", "--no-builtin", "--rules", "r"}},
		{"rules lint", func(ok *bool) *cobra.Command {
			return newCmdRulesLint(app, func(o *rulesLintOptions) error { *ok = strings.Join(o.args, ",") == "r"; return nil })
		}, []string{"r"}},
		{"rules test", func(ok *bool) *cobra.Command {
			return newCmdRulesTest(app, func(o *rulesTestOptions) error { *ok = strings.Join(o.args, ",") == "r"; return nil })
		}, []string{"r"}},
		{"apps list", func(ok *bool) *cobra.Command {
			return newCmdAppsList(app, func(o *appsListOptions) error { *ok = o.appsPath == "apps.yaml" && o.cfgPath == "b.yaml"; return nil })
		}, []string{"--apps", "apps.yaml", "--config", "b.yaml"}},
		{"checks list", func(ok *bool) *cobra.Command {
			return newCmdChecksList(app, func(o *checksListOptions) error { *ok = true; return nil })
		}, nil},
		{"checks show", func(ok *bool) *cobra.Command {
			return newCmdChecksShow(app, func(o *checksShowOptions) error { *ok = strings.Join(o.args, ",") == "KV-002"; return nil })
		}, []string{"KV-002"}},
	}
	for _, r := range rows {
		var ok bool
		cmd := r.cmd(&ok)
		cmd.SetArgs(r.args)
		if r.args == nil {
			cmd.SetArgs([]string{})
		}
		if err := cmd.Execute(); err != nil || !ok {
			t.Errorf("%s %v: err %v, options as expected: %v", r.name, r.args, err, ok)
		}
	}
}

// bulwark.yaml's limits apply to detect, and a flag given wins over them.
func TestLimitsFromConfig(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "bulwark.yaml")
	os.WriteFile(cfg, []byte("limits:\n  maxLineBytes: 4096\n  maxActors: 7\n"), 0o644)
	line := `{"time":"2026-11-25T10:00:00.0000000Z","resourceId":"/SUBSCRIPTIONS/S/RESOURCEGROUPS/RG/PROVIDERS/MICROSOFT.RESOURCES/TAGS/DEFAULT","operationName":"MICROSOFT.RESOURCES/TAGS/WRITE","category":"Administrative","resultType":"Success","correlationId":"c%d","identity":{"claims":{"http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn":"u%d@x"}},"properties":{"x":"%s"}}`
	var b strings.Builder
	for i := 0; i < 20; i++ {
		fmt.Fprintf(&b, line+"\n", i, i, strings.Repeat("y", 10*i))
	}
	fmt.Fprintf(&b, line+"\n", 99, 99, strings.Repeat("y", 5000))
	log := filepath.Join(dir, "a.json")
	os.WriteFile(log, []byte(b.String()), 0o644)
	r := run(t, "", "detect", log, "--config", cfg, "--allow-partial", "-o", "json")
	if !strings.Contains(r.stderr, "a.json:21: a line of ") || !strings.Contains(r.stdout, `"evictedActors":13`) {
		t.Errorf("limits from bulwark.yaml: exit %d\n%s\n%s", r.code, r.stderr, r.stdout[strings.LastIndex(r.stdout, "\n{")+1:])
	}
	r = run(t, "", "detect", log, "--config", cfg, "--allow-partial", "--max-actors", "15", "-o", "json")
	if !strings.Contains(r.stdout, `"evictedActors":5`) {
		t.Errorf("--max-actors 15 over limits.maxActors 7: %s", r.stdout[strings.LastIndex(r.stdout, "\n{")+1:])
	}
}

// TestRulesExport: the command writes each format to stdout, a file or a folder (one file per rule
// for kql and sentinel-yaml), lists what does not convert on stderr, and exits 1 for it with
// --strict; a bad --format is a usage error.
func TestRulesExport(t *testing.T) {
	dir := t.TempDir()
	r := run(t, "", "rules", "export", "--format", "sentinel-arm", "-o", filepath.Join(dir, "arm.json"))
	if r.code != 0 || !strings.Contains(r.stderr, "rules converted to sentinel-arm") {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	var doc struct{ Resources []any }
	b, _ := os.ReadFile(filepath.Join(dir, "arm.json"))
	if err := json.Unmarshal(b, &doc); err != nil || len(doc.Resources) < 30 {
		t.Errorf("%v: %d resources", err, len(doc.Resources))
	}
	yamlDir := filepath.Join(dir, "yaml")
	os.Mkdir(yamlDir, 0o755)
	if r := run(t, "", "rules", "export", "--format", "sentinel-yaml", "-o", yamlDir); r.code != 0 {
		t.Fatalf("yaml: exit %d: %s", r.code, r.stderr)
	}
	if files, _ := os.ReadDir(yamlDir); len(files) != len(doc.Resources) {
		t.Errorf("%d YAML files for %d rules", len(files), len(doc.Resources))
	}
	if r := run(t, "", "rules", "export", "--format", "kql"); r.code != 0 || !strings.Contains(r.stdout, "AzureActivity") {
		t.Errorf("kql to stdout: exit %d", r.code)
	}
	// A rule over another log source does not convert: listed, and exit 1 with --strict.
	os.WriteFile(filepath.Join(dir, "win.yml"), []byte("title: Windows rule\nlogsource: {product: windows}\ndetection:\n  sel: {EventID: 4624}\n  condition: sel\nlevel: low\n"), 0o644)
	r = run(t, "", "rules", "export", "--format", "kql", "--no-builtin", "--rules", filepath.Join(dir, "win.yml"), "--strict")
	if r.code != 1 || !strings.Contains(r.stderr, "not converted: Windows rule: logsource windows/") {
		t.Errorf("--strict with an unconvertible rule: exit %d: %s", r.code, r.stderr)
	}
	if r := run(t, "", "rules", "export", "--format", "splunk"); r.code != 2 {
		t.Errorf("bad --format: exit %d", r.code)
	}
}
