package assess

import (
	"cmp"
	"encoding/json"
	"fmt"
	"math"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bulwarkhq/bulwark/internal/arm"
	"github.com/bulwarkhq/bulwark/internal/config"
)

// Checks is the catalogue, in report order. It is the one list: adding a check means adding it here.
func Checks() []*Check {
	return []*Check{
		checkLOCK001, checkLOCK002, checkLOCK003, checkIAM001, checkIAM002,
		checkVM001, checkVM002, checkVM003, checkVM004, checkVM005, checkAKS001, checkAKS002,
		checkST001, checkST002, checkST003, checkST004, checkST005, checkST006, checkST007, checkST008,
		checkSQL001, checkSQL002, checkSQL003, checkSQL004, checkSQL005, checkKV001, checkKV002, checkCOSMOS001,
		checkRSV001, checkRSV002, checkRSV003, checkRSV004, checkRSV005, checkBV001, checkBV002, checkBV003, checkASR001, checkRI001,
		checkCFG001, checkCFG002,
		checkDEV001, checkDEV002, checkDEV003,
		checkDET001, checkDET002, checkDET003, checkDET004,
		checkRSP001, checkRSP002, checkRSP003,
	}
}

// Select filters the catalogue: only the IDs in include (all when empty), minus those in exclude.
// Unknown IDs are errors.
func Select(include, exclude []string) ([]*Check, error) {
	all := Checks()
	byID := map[string]*Check{}
	for _, c := range all {
		byID[strings.ToUpper(c.ID)] = c
	}
	for _, id := range append(append([]string(nil), include...), exclude...) {
		if byID[strings.ToUpper(id)] == nil {
			return nil, fmt.Errorf("unknown check %q", id)
		}
	}
	skip := map[string]bool{}
	for _, id := range exclude {
		skip[strings.ToUpper(id)] = true
	}
	keep := map[string]bool{}
	for _, id := range include {
		keep[strings.ToUpper(id)] = true
	}
	var out []*Check
	for _, c := range all {
		if skip[c.ID] || len(keep) > 0 && !keep[c.ID] {
			continue
		}
		out = append(out, c)
	}
	return out, nil
}

// Report is the outcome of an assessment.
type Report struct {
	Results []Result           `json:"results"`
	Scores  Scores             `json:"scores"`
	Counts  map[Status]int     `json:"counts"`
	Unknown map[string]int     `json:"unknownBecause"` // missing input → results it made unknown
	Errors  []arm.CollectError `json:"collectionErrors"`
	Checks  int                `json:"checks"`
}

// Run evaluates checks over the environment. Results come ranked: findings first, the largest
// risk (severity × blast radius) first; then the rest by check and resource.
func Run(e *Env, checks []*Check) *Report {
	rep := &Report{Counts: map[Status]int{}, Unknown: map[string]int{}, Errors: e.Snapshot.Errors, Checks: len(checks)}
	if rep.Errors == nil {
		rep.Errors = []arm.CollectError{}
	}
	today := e.Today // when exceptions expire
	if today.IsZero() {
		today = time.Now()
	}
	// The checks are evaluated on every core: first each check's targets, then its results,
	// written into one slice at the check's offset, so the report is the same whatever the number
	// of workers (the Env's lazily built views are built once, under sync.Once or a lock).
	targets := make([][]Target, len(checks))
	parallel(len(checks), func(i int) { targets[i] = checks[i].Targets(e) })
	offset := make([]int, len(checks)+1)
	for i, ts := range targets {
		offset[i+1] = offset[i] + len(ts)
	}
	rep.Results = make([]Result, offset[len(checks)])
	parallel(len(checks), func(i int) {
		evaluate(e, checks[i], targets[i], today, rep.Results[offset[i]:offset[i+1]])
		targets[i] = nil
	})
	for i := range rep.Results {
		r := &rep.Results[i]
		rep.Counts[r.Status]++
		if r.Status == Unknown {
			rep.Unknown[r.Missing]++
		}
	}
	sortResults(rep.Results)
	rep.Scores = score(rep.Results)
	return rep
}

// parallel calls fn(0) … fn(n-1) on as many goroutines as there are cores.
func parallel(n int, fn func(i int)) {
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), n) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := int(next.Add(1) - 1); i < n; i = int(next.Add(1) - 1) {
				fn(i)
			}
		}()
	}
	wg.Wait()
}

// evaluate runs one check over its targets, into out (one result per target).
func evaluate(e *Env, c *Check, targets []Target, today time.Time, out []Result) {
	sev := c.Severity
	if s, ok := e.Config.Severities[c.ID]; ok {
		if v, err := ParseSeverity(s); err == nil {
			sev = v
		}
	}
	for k, t := range targets {
		v := c.Eval(e, t)
		r := Result{Check: c, CheckID: c.ID, Title: c.Title, Area: c.Area, Principle: c.Principle, Severity: sev,
			Resource: t.ID(), Name: t.Name(), Status: v.Status, Message: v.Message, Evidence: v.Evidence, Missing: v.Missing}
		if r.Evidence == nil {
			r.Evidence = []Evidence{}
		}
		if t.Obj != nil {
			r.Type = arm.CanonicalType(t.Obj.Type())
			r.BlastRadius = e.Graph.BlastRadius(t.Obj.ID)
			if v.AtRisk > 0 {
				r.BlastRadius = v.AtRisk
			}
			r.Source = t.Obj.Source.File
			if app, _, ok := e.Members.Of(t.Obj.ID); ok {
				r.App = app
			}
		} else {
			r.App = t.App
		}
		if r.Failed() && c.Fix.Command != nil {
			r.Command = c.Fix.Command(t)
		}
		e.except(&r, t, today)
		out[k] = r
	}
}

// sortResults orders results failed first, by risk (highest first), then by check and resource,
// keeping the evaluation order among equals. It sorts small keys rather than the large Result
// values (pdqsort, the index breaking ties, instead of a stable merge sort's n·log²n moves), then
// moves each result once into place, following the permutation's cycles, with no second slice.
func sortResults(results []Result) {
	type key struct {
		failed          bool
		risk            float64
		check, resource string
		at              int
	}
	keys := make([]key, len(results))
	for i := range results {
		r := &results[i]
		keys[i] = key{r.Failed(), r.Risk(), r.CheckID, r.Resource, i}
	}
	slices.SortFunc(keys, func(a, b key) int {
		if a.failed != b.failed {
			if a.failed {
				return -1
			}
			return 1
		}
		if c := cmp.Compare(b.risk, a.risk); c != 0 {
			return c
		}
		if c := strings.Compare(a.check, b.check); c != 0 {
			return c
		}
		if c := strings.Compare(a.resource, b.resource); c != 0 {
			return c
		}
		return cmp.Compare(a.at, b.at)
	})
	// Position i must receive results[keys[i].at]. Walk each cycle once, marking done places.
	for i := range keys {
		if keys[i].at < 0 || keys[i].at == i {
			continue
		}
		held := results[i]
		j := i
		for {
			from := keys[j].at
			keys[j].at = -1
			if from == i {
				results[j] = held
				break
			}
			results[j] = results[from]
			j = from
		}
	}
}

// except applies the first bulwark.yaml exception that covers a fail or warn: before it expires
// the result is excepted; after, it stays failed and carries the expired exception.
func (e *Env) except(r *Result, t Target, now time.Time) {
	if !r.Failed() || t.Obj == nil {
		return
	}
	for _, x := range e.Config.Exceptions {
		if !strings.EqualFold(x.Check, r.CheckID) || !covers(x, t.Obj) {
			continue
		}
		re := &ResultException{Reason: x.Reason, Owner: x.Owner, Expires: x.Until, Line: x.Line, Was: r.Status}
		if now.After(x.Until) {
			re.Expired, re.Was = true, ""
			r.Message += " (exception expired " + x.Until.Format("2006-01-02") + ": " + x.Reason + ")"
		} else {
			r.Status = Excepted
		}
		r.Exception = re
		return
	}
}

// covers reports whether an exception's selectors all match o.
func covers(x config.Exception, o *arm.Object) bool {
	if x.Resource != "" && arm.KeyOf(x.Resource) != o.ID.Key() {
		return false
	}
	if x.Scope != "" {
		if s := arm.KeyOf(x.Scope); o.ID.Key() != s && !strings.HasPrefix(o.ID.Key(), s+"/") {
			return false
		}
	}
	for k, v := range x.Tag {
		if got, ok := o.Tag(k); !ok || !strings.EqualFold(got, v) {
			return false
		}
	}
	return true
}

// severityWeight weighs severities in scores and ranking.
var severityWeight = [...]float64{Info: 0.5, Low: 1, Medium: 2, High: 4, Critical: 8}

// Risk orders findings: severity weight, grown by the logarithm of the blast radius, halved for warnings.
func (r Result) Risk() float64 {
	w := severityWeight[r.Severity] * (1 + math.Log2(1+float64(r.BlastRadius)))
	if r.Status == Warn {
		w /= 2
	}
	if !r.Failed() {
		return 0
	}
	return w
}

// Score is the weighted share of applicable (resource, check) pairs that pass; warnings count half.
// With no pass, warn or fail result at all (nothing applies, or every result is unknown) the area
// is not assessed: Assessed is false and JSON carries "score": null — never 100.
type Score struct {
	Name       string  `json:"name"`
	Score      float64 `json:"score"` // 0–100 when Assessed
	Assessed   bool    `json:"assessed"`
	Pass       int     `json:"pass"`
	Warn       int     `json:"warn"`
	Fail       int     `json:"fail"`
	Unknown    int     `json:"unknown"`
	Applicable int     `json:"applicable"`
}

// MarshalJSON writes "score": null for an area not assessed.
func (s Score) MarshalJSON() ([]byte, error) {
	type plain Score
	v := struct {
		plain
		Score *float64 `json:"score"`
	}{plain: plain(s)}
	if s.Assessed {
		v.Score = &s.Score
	}
	return json.Marshal(v)
}

// Display renders the score for people: "87.5", or "not assessed".
func (s Score) Display() string {
	if !s.Assessed {
		return "not assessed"
	}
	return strconv.FormatFloat(s.Score, 'f', 1, 64)
}

// Scores groups scores by area, by principle and for the estate.
type Scores struct {
	Estate     Score   `json:"estate"`
	Areas      []Score `json:"areas"`
	Principles []Score `json:"principles"`
}

type acc struct {
	s         Score
	got, want float64
}

func (a *acc) add(r Result) {
	switch r.Status {
	case Unknown:
		a.s.Unknown++
		return
	case NA, Excepted: // an accepted risk is not scored
		return
	}
	w := severityWeight[r.Severity] * (1 + math.Log2(1+float64(r.BlastRadius)))
	a.s.Applicable++
	a.want += w
	switch r.Status {
	case Pass:
		a.s.Pass++
		a.got += w
	case Warn:
		a.s.Warn++
		a.got += w / 2
	case Fail:
		a.s.Fail++
	}
}

func (a *acc) done() Score {
	if a.s.Applicable > 0 {
		a.s.Score, a.s.Assessed = 100, true
		if a.want > 0 {
			a.s.Score = math.Round(1000*a.got/a.want) / 10
		}
	}
	return a.s
}

func score(results []Result) Scores {
	estate := &acc{s: Score{Name: "estate"}}
	areas := map[Area]*acc{}
	principles := map[Principle]*acc{}
	for _, r := range results {
		estate.add(r)
		if areas[r.Area] == nil {
			areas[r.Area] = &acc{s: Score{Name: r.Area.Title()}}
		}
		areas[r.Area].add(r)
		if principles[r.Principle] == nil {
			principles[r.Principle] = &acc{s: Score{Name: string(r.Principle)}}
		}
		principles[r.Principle].add(r)
	}
	out := Scores{Estate: estate.done()}
	for _, a := range Areas {
		if areas[a] != nil {
			out.Areas = append(out.Areas, areas[a].done())
		}
	}
	for _, p := range Principles {
		if principles[p] != nil {
			out.Principles = append(out.Principles, principles[p].done())
		}
	}
	return out
}

// Findings returns the fail and warn results, ranked.
func (r *Report) Findings() []Result {
	var out []Result
	for _, x := range r.Results {
		if x.Failed() {
			out = append(out, x)
		}
	}
	return out
}

// AtOrAbove counts findings (fail) whose severity is at least min: what --fail-on gates.
func (r *Report) AtOrAbove(min Severity) int {
	n := 0
	for _, x := range r.Results {
		if x.Status == Fail && x.Severity >= min {
			n++
		}
	}
	return n
}

// Selection says which checks to run: only Include (all when empty), minus Exclude, and — with a
// Framework — only those mapped to its controls (intersected with Include when both are given).
type Selection struct {
	Include, Exclude []string
	Framework        string // a key of Frameworks, or ""
}

// Checks resolves the selection. Unknown IDs, an unknown framework and an Include none of which
// maps to the framework are errors.
func (s Selection) Checks() ([]*Check, error) {
	include := s.Include
	if s.Framework != "" {
		if _, ok := Frameworks[s.Framework]; !ok {
			var fws []string
			for k := range Frameworks {
				fws = append(fws, k)
			}
			sort.Strings(fws)
			return nil, fmt.Errorf("--framework %q: choose one of %s", s.Framework, strings.Join(fws, ", "))
		}
		mapped := ChecksFor(s.Framework)
		if len(include) == 0 {
			include = mapped
		} else {
			in := map[string]bool{}
			for _, id := range mapped {
				in[id] = true
			}
			var both []string
			for _, id := range include {
				if in[strings.ToUpper(id)] {
					both = append(both, id)
				}
			}
			if len(both) == 0 {
				return nil, fmt.Errorf("--framework %s: none of the --check checks maps to it (%s do)", s.Framework, strings.Join(mapped, ", "))
			}
			include = both
		}
	}
	checks, err := Select(include, s.Exclude)
	if err != nil {
		return nil, fmt.Errorf("%v (bulwark checks list shows the catalogue; IDs look like KV-002)", err)
	}
	return checks, nil
}
