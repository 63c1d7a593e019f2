package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/bulwarkhq/bulwark/internal/activity"
	"github.com/bulwarkhq/bulwark/internal/detect"
	"github.com/bulwarkhq/bulwark/internal/hostfs"
	"github.com/bulwarkhq/bulwark/internal/load"
	"github.com/bulwarkhq/bulwark/sigma"
)

// NewCmdRules builds `bulwark rules`.
func NewCmdRules(app *App) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "rules",
		Short: "Validate and test Sigma rules",
		Long: `Bulwark's detection rules are Sigma rules (detection and correlation rules, every modifier of the
v2.1 appendix). 'list' shows the built-in pack; 'lint' validates rule files; 'test' runs each rule
against its sample events; 'export' converts them to Microsoft Sentinel analytics rules.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	cmd.AddCommand(newCmdRulesList(app, nil), newCmdRulesLint(app, nil), newCmdRulesTest(app, nil), newCmdRulesExport(app, nil))
	return cmd
}

type lintReport struct {
	Files        int            `json:"files"`
	Rules        int            `json:"rules"`
	Valid        int            `json:"valid"`
	Correlations int            `json:"correlations"`
	Invalid      []*sigma.Error `json:"invalid"`
	Placeholders []string       `json:"needPlaceholders"` // valid rules whose %placeholders% need values before they can run
	Cost         sigma.Cost     `json:"cost"`             // what the valid rules' matchers hold
}

func countRuleFiles(paths []string) int {
	n := 0
	for _, p := range paths {
		filepath.WalkDir(p, func(f string, d os.DirEntry, err error) error {
			if err == nil && !d.IsDir() && (strings.HasSuffix(strings.ToLower(f), ".yml") || strings.HasSuffix(strings.ToLower(f), ".yaml")) {
				n++
			}
			return nil
		})
	}
	return n
}

type rulesLintOptions struct {
	args []string
}

func newCmdRulesLint(app *App, runF func(*rulesLintOptions) error) *cobra.Command {
	var opts rulesLintOptions
	return &cobra.Command{
		Use:     "lint PATH...",
		Short:   "Validate Sigma rule files; exit 1 when any rule is invalid",
		Example: "  bulwark rules lint ./rules\n  bulwark rules lint -o json sigma/rules/cloud/azure",
		Args:    minArgs(1, "rule files or folders"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.args = args
			return seam(cmd.Context(), app, &opts, runF, runRulesLint)
		},
	}
}

func runRulesLint(ctx context.Context, app *App, opts *rulesLintOptions) error {
	args := opts.args

	format, err := app.format("table", "json")
	if err != nil {
		return err
	}
	for _, p := range args {
		if _, err := os.Stat(p); err != nil {
			return fmt.Errorf("read rules: %w", err)
		}
	}
	rules, errs := load.Rules(args...)
	rs, cerrs := sigma.NewRuleSet(rules, sigma.Options{Lenient: true})
	errs = append(errs, cerrs...)
	total := len(rules) + countParseFailures(errs)
	valid := len(rs.Rules) + len(rs.Correlations)
	for _, r := range append(append([]*sigma.Rule(nil), rs.Rules...), rs.Correlations...) {
		if e := detect.CheckRule(r); e != nil { // what Bulwark reads beyond Sigma
			errs = append(errs, e)
			valid--
		}
	}
	rep := lintReport{Files: countRuleFiles(args), Rules: total, Valid: valid,
		Correlations: len(rs.Correlations), Invalid: errs, Cost: rs.Cost()}
	if rep.Invalid == nil {
		rep.Invalid = []*sigma.Error{}
	}
	for r, names := range rs.Placeholders {
		rep.Placeholders = append(rep.Placeholders, fmt.Sprintf("%s:%d: %s needs %%%s%%", r.File, r.Line, r.Title, strings.Join(names, "%, %")))
	}
	sort.Strings(rep.Placeholders)
	if format == "json" {
		if err := writeJSON(app.Stdout, rep); err != nil {
			return err
		}
	} else {
		for _, e := range errs {
			fmt.Fprintln(app.Stdout, e)
		}
		if app.Verbose {
			for _, p := range rep.Placeholders {
				fmt.Fprintln(app.Stdout, "placeholder: "+p)
			}
		}
		fmt.Fprintf(app.Stdout, "%s in %s: %d valid (%d correlation), %d invalid, %d need placeholder values to run\n",
			plural(rep.Rules, "rule", "rules"), plural(rep.Files, "file", "files"), rep.Valid, rep.Correlations, len(errs), len(rep.Placeholders))
		if app.Verbose || rep.Cost.Values >= 10_000 {
			fmt.Fprintf(app.Stdout, "compiled: %s; the heaviest rule, %s, has %d\n", rep.Cost, rep.Cost.Heaviest.Rule, rep.Cost.Heaviest.Values)
		}
	}
	if len(errs) > 0 {
		return &CheckError{Msg: plural(len(errs), "invalid rule", "invalid rules")}
	}
	return nil
}

// countParseFailures counts rules that failed before they could be counted as parsed.
func countParseFailures(errs sigma.Errors) int {
	n := 0
	for _, e := range errs {
		if !strings.Contains(e.Msg, "correlation refers to") {
			n++
		}
	}
	return n
}

type ruleTest struct {
	Rule   string `json:"rule"`
	Event  string `json:"event"`
	Expect string `json:"expect"` // match or nomatch
	Pass   bool   `json:"pass"`
	Detail string `json:"detail,omitempty"`
}

type rulesTestOptions struct {
	args []string
}

func newCmdRulesTest(app *App, runF func(*rulesTestOptions) error) *cobra.Command {
	var opts rulesTestOptions
	return &cobra.Command{
		Use:   "test PATH...",
		Short: "Run each rule against its sample events; exit 1 on any failure",
		Long: `Run each rule against its sample events. Beside a rule file rule.yml, the folder
rule.tests/match/ holds events the rule must match and rule.tests/nomatch/ events it must not.
Each *.json file holds one event (a JSON object), an array of events, or JSON lines.`,
		Example: "  bulwark rules test ./rules",
		Args:    minArgs(1, "rule files or folders"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.args = args
			return seam(cmd.Context(), app, &opts, runF, runRulesTest)
		},
	}
}

func runRulesTest(ctx context.Context, app *App, opts *rulesTestOptions) error {
	args := opts.args

	format, err := app.format("table", "json")
	if err != nil {
		return err
	}
	var results []ruleTest
	var loadErrs sigma.Errors
	for _, root := range args {
		err := filepath.WalkDir(root, func(f string, d os.DirEntry, err error) error {
			if err != nil {
				return err
			}
			n := strings.ToLower(d.Name())
			if d.IsDir() || !(strings.HasSuffix(n, ".yml") || strings.HasSuffix(n, ".yaml")) {
				return nil
			}
			loadErrs = append(loadErrs, runRuleTests(f, &results)...)
			return nil
		})
		if err != nil {
			return fmt.Errorf("read rules: %w", err)
		}
	}
	failed := 0
	for _, r := range results {
		if !r.Pass {
			failed++
		}
	}
	if format == "json" {
		if results == nil {
			results = []ruleTest{}
		}
		if err := writeJSON(app.Stdout, map[string]any{"tests": results, "failed": failed, "invalid": loadErrs}); err != nil {
			return err
		}
	} else {
		for _, e := range loadErrs {
			fmt.Fprintln(app.Stdout, e)
		}
		for _, r := range results {
			if !r.Pass || app.Verbose {
				status := "PASS"
				if !r.Pass {
					status = "FAIL"
				}
				fmt.Fprintf(app.Stdout, "%s %s: %s should %s%s\n", status, r.Rule, r.Event, map[string]string{"match": "match", "nomatch": "not match"}[r.Expect], detail(r.Detail))
			}
		}
		fmt.Fprintf(app.Stdout, "%d passed, %d failed\n", len(results)-failed, failed)
	}
	if failed > 0 || len(loadErrs) > 0 {
		return &CheckError{Msg: fmt.Sprintf("%d rule tests failed, %d rules invalid", failed, len(loadErrs))}
	}
	return nil
}
func detail(s string) string {
	if s == "" {
		return ""
	}
	return " (" + s + ")"
}

// runRuleTests runs the sample events of one rule file.
func runRuleTests(file string, out *[]ruleTest) sigma.Errors {
	dir := strings.TrimSuffix(strings.TrimSuffix(file, filepath.Ext(file)), ".") + ".tests"
	if _, err := os.Stat(dir); err != nil {
		return nil
	}
	data, err := os.ReadFile(file)
	if err != nil {
		return sigma.Errors{{File: file, Msg: err.Error()}}
	}
	rules, errs := sigma.ParseRules(file, data)
	rs, cerrs := sigma.NewRuleSet(rules, sigma.Options{})
	if errs = append(errs, cerrs...); len(errs) > 0 {
		return errs
	}
	for _, expect := range []string{"match", "nomatch"} {
		files, _ := filepath.Glob(filepath.Join(dir, expect, "*.json"))
		sort.Strings(files)
		for _, f := range files {
			events, err := readEvents(f)
			if err != nil {
				*out = append(*out, ruleTest{Rule: file, Event: f, Expect: expect, Detail: err.Error()})
				continue
			}
			for i, ev := range events {
				name := f
				if len(events) > 1 {
					name = fmt.Sprintf("%s[%d]", f, i)
				}
				var hits []string
				rs.Match(ev, func(r *sigma.Rule) { hits = append(hits, r.Title) })
				pass := (len(hits) > 0) == (expect == "match")
				d := ""
				if len(hits) > 0 {
					d = "matched " + strings.Join(hits, ", ")
				}
				*out = append(*out, ruleTest{Rule: file, Event: name, Expect: expect, Pass: pass, Detail: d})
			}
		}
	}
	return nil
}

// readEvents reads a sample file: Activity Log events in any of their formats (decoded exactly as
// bulwark detect decodes them), or else plain JSON objects.
func readEvents(file string) ([]sigma.Event, error) {
	r := &activity.Reader{Files: hostfs.FS{}}
	var evs []sigma.Event
	err := r.Read(context.Background(), []string{file}, func(e *activity.Event) error { evs = append(evs, e); return nil })
	if err == nil && len(evs) > 0 && len(r.Problems) == 0 {
		return evs, nil
	}
	return readJSONEvents(file)
}

// readJSONEvents reads a JSON object, an array of objects, or JSON lines.
func readJSONEvents(file string) ([]sigma.Event, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	data = bytes.TrimSpace(data)
	var objs []map[string]any
	if len(data) > 0 && data[0] == '[' {
		if err := json.Unmarshal(data, &objs); err != nil {
			return nil, fmt.Errorf("not a JSON array of events: %v", err)
		}
	} else {
		dec := json.NewDecoder(bytes.NewReader(data))
		for dec.More() {
			var m map[string]any
			if err := dec.Decode(&m); err != nil {
				return nil, fmt.Errorf("event %d: %v", len(objs)+1, err)
			}
			objs = append(objs, m)
		}
	}
	var out []sigma.Event
	for _, m := range objs {
		ev := &sigma.MapEvent{Data: m}
		for _, k := range []string{"time", "eventTimestamp", "TimeGenerated"} {
			if s, ok := m[k].(string); ok {
				if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
					ev.At = t
					break
				}
			}
		}
		out = append(out, ev)
	}
	return out, nil
}

type ruleListing struct {
	detect.RuleRef
	Type         string   `json:"type"` // detection or correlation
	Correlation  string   `json:"correlation,omitempty"`
	Timespan     string   `json:"timespan,omitempty"`
	Condition    string   `json:"condition,omitempty"`
	BuildingOnly bool     `json:"buildingBlock,omitempty"` // feeds other correlations; its alerts are not reported
	Rules        []string `json:"rules,omitempty"`
}

type rulesListOptions struct {
	paths     []string
	noBuiltin bool
}

func newCmdRulesList(app *App, runF func(*rulesListOptions) error) *cobra.Command {
	var opts rulesListOptions
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the built-in rule pack (and --rules): ID, stage, level, ATT&CK",
		Example: `  bulwark rules list
  bulwark rules list -o json | jq -r '.[] | select(.stage == "recovery") | .name'`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return seam(cmd.Context(), app, &opts, runF, runRulesList) },
	}
	cmd.Flags().StringArrayVar(&opts.paths, "rules", nil, "also list these Sigma rules: a file or folder (repeatable)")
	cmd.Flags().BoolVar(&opts.noBuiltin, "no-builtin", false, "leave out the built-in pack")
	return cmd
}

func runRulesList(ctx context.Context, app *App, opts *rulesListOptions) error {
	paths, noBuiltin := opts.paths, opts.noBuiltin

	format, err := app.format("table", "json")
	if err != nil {
		return err
	}
	rules, errs := loadRules(!noBuiltin, paths)
	for _, e := range errs {
		app.notef("rules: %s", e)
	}
	var out []ruleListing
	for _, r := range rules {
		l := ruleListing{RuleRef: detect.RuleRefOf(r), Type: "detection"}
		l.Description = ""
		if c := r.Correlation; c != nil {
			l.Type, l.Correlation, l.Rules = "correlation", c.Type, c.Rules
			l.Timespan = c.Timespan.String()
			l.Condition = c.Condition.String()
			l.BuildingOnly = r.Level.Rank() == 0
		}
		out = append(out, l)
	}
	stageOrder := map[string]int{"": len(detect.Stages)}
	for i, s := range detect.Stages {
		stageOrder[s] = i
	}
	sort.SliceStable(out, func(i, j int) bool {
		if (out[i].Type == "correlation") != (out[j].Type == "correlation") {
			return out[j].Type == "correlation"
		}
		return stageOrder[out[i].Stage] < stageOrder[out[j].Stage]
	})
	if format == "json" {
		if out == nil {
			out = []ruleListing{}
		}
		return writeJSON(app.Stdout, out)
	}
	t := newTable(app.Stdout, "id", "name", "stage", "level", "att&ck", "title")
	for _, l := range out {
		title := l.Title
		if l.Type == "correlation" {
			title += " [" + strings.Join(nonEmpty(l.Correlation, l.Timespan, l.Condition), ", ") + "]"
		}
		t.Row(l.ID, dash(l.Name), dash(l.Stage), l.Level, dash(strings.Join(l.Attack, ",")), title)
	}
	if err := t.Flush(); err != nil {
		return err
	}
	if len(errs) > 0 {
		return &CheckError{Msg: plural(len(errs), "invalid rule", "invalid rules")}
	}
	return nil
}
func nonEmpty(ss ...string) []string {
	var out []string
	for _, s := range ss {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}
