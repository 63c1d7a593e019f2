package sigma

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	sigmago "github.com/bradleyjkemp/sigma-go"
	"github.com/bradleyjkemp/sigma-go/evaluator"

	"github.com/bulwarkhq/bulwark/internal/activitysim"
	"github.com/bulwarkhq/bulwark/rules"
)

// simLines is a benign day of generated Activity Log events in the diagnostic-export shape, one
// JSON object per line (activitysim, seed 1), with the kill-chain attack mixed in.
func simLines(b *testing.B, scale float64) [][]byte {
	var buf bytes.Buffer
	if _, err := activitysim.Generate(&buf, activitysim.Options{Days: 1, Scale: scale, Seed: 1, Attacks: []string{"kill-chain"}}); err != nil {
		b.Fatal(err)
	}
	return bytes.Split(bytes.TrimSpace(buf.Bytes()), []byte("\n"))
}

// rulePack is one set of detection rules, as Bulwark's rules and as sigma-go's.
type rulePack struct {
	name    string
	ours    []*Rule
	theirs  []sigmago.Rule
	skipped int // rules sigma-go does not parse
}

func loadPack(b *testing.B, name string, files map[string][]byte, keep func(*Rule) bool) rulePack {
	p := rulePack{name: name}
	for file, data := range files {
		rs, errs := ParseRules(file, data)
		if len(errs) > 0 {
			continue
		}
		for _, r := range rs {
			if r.Correlation != nil || !keep(r) {
				continue
			}
			p.ours = append(p.ours, r)
			if theirs, err := sigmago.ParseRule(data); err == nil {
				p.theirs = append(p.theirs, theirs)
			} else {
				p.skipped++
			}
		}
	}
	return p
}

func readRuleFiles(b *testing.B, read func(yield func(name string, data []byte))) map[string][]byte {
	out := map[string][]byte{}
	read(func(name string, data []byte) { out[name] = data })
	return out
}

func hasKeywords(r *Rule) bool {
	for _, s := range r.Detection.Searches {
		if s.Keywords != nil {
			return true
		}
	}
	return false
}

// BenchmarkFromJSON measures the importable engine from raw JSON lines, in one run against
// sigma-go (decoding each line with encoding/json into a map, as its users do): Bulwark with
// JSONReader, Bulwark over the same encoding/json maps (MapEvent), and sigma-go, on SigmaHQ's Azure
// Activity Log rules with and without their keyword rules (when the reference data is present) and
// on the built-in pack. It reports events per second of each and the ratios.
func BenchmarkFromJSON(b *testing.B) {
	lines := simLines(b, 0.3)
	var packs []rulePack
	if dir := filepath.Join(refDir, "activity_logs"); dirExists(dir) {
		files := readRuleFiles(b, func(yield func(string, []byte)) {
			entries, _ := os.ReadDir(dir)
			for _, e := range entries {
				if data, err := os.ReadFile(filepath.Join(dir, e.Name())); err == nil && strings.HasSuffix(e.Name(), ".yml") {
					yield(e.Name(), data)
				}
			}
		})
		packs = append(packs, loadPack(b, "sigmahq", files, func(*Rule) bool { return true }),
			loadPack(b, "sigmahq-without-keywords", files, func(r *Rule) bool { return !hasKeywords(r) }))
	}
	builtin := readRuleFiles(b, func(yield func(string, []byte)) {
		for _, dir := range []string{"privilege", "impairment", "recovery", "destruction"} {
			entries, _ := rules.FS.ReadDir(dir)
			for _, e := range entries {
				if data, err := rules.FS.ReadFile(dir + "/" + e.Name()); err == nil {
					yield(e.Name(), data)
				}
			}
		}
	})
	packs = append(packs, loadPack(b, "builtin", builtin, func(*Rule) bool { return true }))
	ctx := context.Background()
	for _, p := range packs {
		rs, errs := NewRuleSet(p.ours, Options{})
		if len(errs) > 0 {
			b.Fatal(errs)
		}
		bundle := evaluator.ForRules(p.theirs)
		scanning, _ := NewRuleSet(p.ours, Options{})
		scanning.keywordEv = nil // keyword values matched rule by rule over the strings, as before the automaton
		b.Run(p.name, func(b *testing.B) {
			var jsonSecs, scanSecs, mapSecs, goSecs float64
			var jsonHits, scanHits, mapHits, goHits int
			reader := NewJSONReader(JSONOptions{})
			var ev JSONEvent
			for b.Loop() {
				start := time.Now()
				for _, l := range lines {
					if err := reader.ReadInto(&ev, l); err != nil {
						b.Fatal(err)
					}
					rs.Match(&ev, func(*Rule) { jsonHits++ })
				}
				jsonSecs += time.Since(start).Seconds()
				if rs.keywordIndex != nil {
					start = time.Now()
					for _, l := range lines {
						reader.ReadInto(&ev, l)
						scanning.Match(&ev, func(*Rule) { scanHits++ })
					}
					scanSecs += time.Since(start).Seconds()
				}
				start = time.Now()
				for _, l := range lines {
					var m map[string]any
					if err := json.Unmarshal(l, &m); err != nil {
						b.Fatal(err)
					}
					rs.Match(MapEvent{Data: m}, func(*Rule) { mapHits++ })
				}
				mapSecs += time.Since(start).Seconds()
				start = time.Now()
				for _, l := range lines {
					var m map[string]any
					if err := json.Unmarshal(l, &m); err != nil {
						b.Fatal(err)
					}
					res, err := bundle.Matches(ctx, m)
					if err != nil {
						b.Fatal(err)
					}
					for _, r := range res {
						if r.Match {
							goHits++
						}
					}
				}
				goSecs += time.Since(start).Seconds()
			}
			if jsonHits != mapHits || rs.keywordIndex != nil && scanHits != jsonHits {
				b.Fatalf("JSONReader found %d matches, MapEvent %d, without the keyword automaton %d", jsonHits, mapHits, scanHits)
			}
			n := float64(len(lines) * b.N)
			if rs.keywordIndex != nil {
				b.ReportMetric(n/scanSecs, "bulwark-json-no-automaton-ev/s")
			}
			b.ReportMetric(n/jsonSecs, "bulwark-json-ev/s")
			b.ReportMetric(n/mapSecs, "bulwark-map-ev/s")
			b.ReportMetric(n/goSecs, "sigma-go-ev/s")
			b.ReportMetric(goSecs/jsonSecs, "x-sigma-go")
			b.ReportMetric(float64(len(p.ours)), "rules")
			b.ReportMetric(float64(p.skipped), "sigma-go-unparsed")
			b.ReportMetric(float64(jsonHits)/float64(b.N), "matches")
			b.ReportMetric(float64(goHits)/float64(b.N), "sigma-go-matches")
		})
	}
}
