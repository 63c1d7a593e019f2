package respond_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io/fs"
	"path"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/bulwarkhq/bulwark/examples"
	"github.com/bulwarkhq/bulwark/internal/activity"
	"github.com/bulwarkhq/bulwark/internal/assess"
	"github.com/bulwarkhq/bulwark/internal/config"
	"github.com/bulwarkhq/bulwark/internal/detect"
	"github.com/bulwarkhq/bulwark/internal/graph"
	"github.com/bulwarkhq/bulwark/internal/hostfs"
	"github.com/bulwarkhq/bulwark/internal/incident"
	"github.com/bulwarkhq/bulwark/internal/report"
	"github.com/bulwarkhq/bulwark/internal/respond"
	"github.com/bulwarkhq/bulwark/internal/snapshot"
)

// Loaded once: the fuzz targets spend their time on the mutated input, not on parsing the pack.
var (
	fuzzRules, _ = detect.LoadRules(true)
	demoLog, _   = fs.ReadFile(examples.FS, examples.Root+"/activity/rest/activity-2026-11-25.json")
)

// estateFiles are the demo estate's files, by name.
func estateFiles(tb testing.TB) map[string][]byte {
	tb.Helper()
	out := map[string][]byte{}
	ents, err := fs.ReadDir(examples.FS, examples.Estate)
	if err != nil {
		tb.Fatal(err)
	}
	for _, e := range ents {
		data, err := fs.ReadFile(examples.FS, path.Join(examples.Estate, e.Name()))
		if err != nil {
			tb.Fatal(err)
		}
		out[e.Name()] = data
	}
	return out
}

// endToEnd loads the estate with one file replaced, detects on the demo's activity log (replaced
// too when activity is given) and generates every application's playbook and the incidents'.
// Errors are fine; a panic is the failure.
func endToEnd(tb testing.TB, files map[string][]byte, name string, data, activityLog []byte) {
	m := fstest.MapFS{}
	for n, d := range files {
		m["estate/"+n] = &fstest.MapFile{Data: d}
	}
	if name != "" {
		m["estate/"+name] = &fstest.MapFile{Data: data}
	}
	res, err := snapshot.LoadFS(context.Background(), m, "estate", "fuzz:")
	if err != nil {
		return
	}
	env := assess.NewEnv(assess.Inputs{Snapshot: res.Snapshot, Config: config.Default()})
	if activityLog == nil {
		activityLog = demoLog
	}
	d, _, err := detect.New(detect.Options{Rules: fuzzRules, Estate: &detect.Estate{Index: env.Index, Graph: graph.Build(env.Index, nil), Recovery: env.Recovery}})
	if err != nil {
		tb.Fatal(err)
	}
	r := &activity.Reader{Files: hostfs.FS{}}
	d.Narrow(r)
	r.ReadFrom(context.Background(), "activity.json", bytes.NewReader(activityLog), func(e *activity.Event) error { d.Process(e); return nil })
	var buf bytes.Buffer
	for _, inc := range d.Finish().Incidents {
		line, _ := json.Marshal(struct {
			Schema string `json:"schema"`
			Kind   string `json:"kind"`
			*detect.Incident
		}{Schema: "bulwark.detect/v1", Kind: "incident", Incident: inc})
		buf.Write(append(line, '\n'))
	}
	incs, _ := incident.Read(&buf, "fuzz")
	for _, inc := range incs {
		if pb, err := respond.Generate(respond.Inputs{Env: env, Incident: inc}); err == nil {
			report.PlaybookMarkdown(&bytes.Buffer{}, pb)
			json.Marshal(report.CACAO(pb))
		}
	}
	for _, a := range env.Members.Names() {
		if pb, err := respond.Generate(respond.Inputs{Env: env, App: a}); err == nil {
			report.PlaybookMarkdown(&bytes.Buffer{}, pb)
		}
	}
}

// TestPartnerNotAnID: a failover group whose partner server ID is not an ARM ID (a snapshot
// edited by hand, a tool's bug) is rebuilt with a warning; it used to panic.
func TestPartnerNotAnID(t *testing.T) {
	files := estateFiles(t)
	sql := string(files["sql.json"])
	if !strings.Contains(sql, `"partnerServers"`) {
		t.Skip("the demo's sql.json has no failover group")
	}
	i := strings.Index(sql, `"partnerServers"`)
	j := strings.Index(sql[i:], `"id"`) + i
	k := strings.Index(sql[j+5:], `"`) + j + 5
	l := strings.Index(sql[k+1:], `"`) + k + 1
	broken := sql[:k+1] + "not-an-id" + sql[l:]
	endToEnd(t, files, "sql.json", []byte(broken), nil)
}

// FuzzEndToEnd drives snapshot loading, assessment, detection and playbook generation on a demo
// estate file mutated by the fuzzer (go test ./internal/respond -run XXX -fuzz FuzzEndToEnd).
func FuzzEndToEnd(f *testing.F) {
	files := estateFiles(f)
	var names []string
	for n := range files {
		names = append(names, n)
	}
	for i, n := range names {
		f.Add(uint8(i), files[n])
	}
	f.Fuzz(func(t *testing.T, which uint8, data []byte) {
		endToEnd(t, files, names[int(which)%len(names)], data, nil)
	})
}

// FuzzDetectToPlaybook mutates the demo's Activity Log instead.
func FuzzDetectToPlaybook(f *testing.F) {
	files := estateFiles(f)
	log, err := fs.ReadFile(examples.FS, examples.Root+"/activity/rest/activity-2026-11-25.json")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(log)
	f.Fuzz(func(t *testing.T, data []byte) {
		endToEnd(t, files, "", nil, data)
	})
}
