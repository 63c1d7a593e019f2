package snapshot

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

const (
	vaultID = "/subscriptions/11111111-1111-4111-8111-111111111111/resourceGroups/rg-recovery/providers/Microsoft.RecoveryServices/vaults/rsv1"
	kvID    = "/subscriptions/11111111-1111-4111-8111-111111111111/resourceGroups/rg-app/providers/Microsoft.KeyVault/vaults/kv1"
)

var (
	vault = `{"id":"` + vaultID + `","name":"rsv1","type":"Microsoft.RecoveryServices/vaults","location":"westeurope","properties":{}}`
	kv    = `{"id":"` + kvID + `","name":"kv1","type":"Microsoft.KeyVault/vaults","location":"westeurope","properties":{"enablePurgeProtection":true}}`
)

func ids(r *Result) []string {
	var out []string
	for _, o := range r.Snapshot.Resources {
		out = append(out, o.ID.String())
	}
	return out
}

func TestDecodeShapes(t *testing.T) {
	tests := []struct {
		name  string
		data  string
		shape Shape
		want  []string
		skips int
	}{
		{"single ARM object", vault, ShapeObject, []string{vaultID}, 0},
		{"az list array", "[" + vault + "," + kv + "]", ShapeArray, []string{vaultID, kvID}, 0},
		{"ARM list response", `{"value":[` + vault + `,` + kv + `]}`, ShapeList, []string{vaultID, kvID}, 0},
		{"list response with nextLink", `{"value":[` + vault + `],"nextLink":"https://management.azure.com/next"}`, ShapeList, []string{vaultID}, 1},
		{"Resource Graph objectArray", `{"totalRecords":2,"count":2,"data":[` + vault + `,` + kv + `],"facets":[],"resultTruncated":"false"}`, ShapeGraph, []string{vaultID, kvID}, 0},
		{"Resource Graph table", `{"count":1,"data":{"columns":[{"name":"id","type":"string"},{"name":"type","type":"string"},{"name":"properties","type":"object"}],"rows":[["` + kvID + `","Microsoft.KeyVault/vaults",{"enableSoftDelete":true}],["x"]]}}`, ShapeGraphTable, []string{kvID}, 1},
		{"bulwark snapshot", `{"schema":"bulwark.snapshot/v1","collectedAt":"2026-11-26T10:00:00Z","tenantId":"t","resources":[` + vault + `],"errors":[{"scope":"/subscriptions/x","operation":"list locks","message":"403"}]}`, ShapeSnapshot, []string{vaultID}, 0},
		{"REST API example", `{"parameters":{"api-version":"2025-02-01"},"responses":{"200":{"body":` + vault + `},"201":{"body":{"value":[` + kv + `]}},"202":{},"default":{"body":{"error":{}}}}}`, ShapeRESTExample, []string{vaultID, kvID}, 0},
		{"JSON lines", vault + "\n" + kv + "\n", ShapeJSONLines, []string{vaultID, kvID}, 0},
		{"object without id", `[{"name":"x","type":"Microsoft.KeyVault/vaults"},` + kv + `]`, ShapeArray, []string{kvID}, 1},
		{"malformed id", `[{"id":"{resourceId}","type":"Microsoft.KeyVault/vaults"},` + kv + `]`, ShapeArray, []string{kvID}, 1},
		{"activity events", `{"value":[{"eventDataId":"e","id":"/subscriptions/s/resourceGroups/rg/providers/Microsoft.Web/sites/x/events/e/ticks/1","operationName":{"value":"x"}}]}`, ShapeList, nil, 1},
		{"diagnostic export", `{"records":[{"time":"2026-01-01T00:00:00Z","operationName":"X"}]}`, ShapeNotAnEstate, nil, 1},
		{"ARM template", `{"$schema":"https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#","resources":[]}`, ShapeNotAnEstate, nil, 1},
		{"empty", "  \n", ShapeEmpty, nil, 1},
		{"scalar", `42`, ShapeNotAnEstate, nil, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := Decode(File{Name: "in.json", Data: []byte(tt.data)})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, o := range d.Objects {
				got = append(got, o.ID.String())
			}
			if d.Shape != tt.shape {
				t.Errorf("shape = %q, want %q", d.Shape, tt.shape)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("objects (-want +got)\n%s", diff)
			}
			if n := countLossy(d.Skipped); n != tt.skips {
				t.Errorf("skipped = %d, want %d: %+v", n, tt.skips, d.Skipped)
			}
		})
	}
}

func countLossy(s []Skip) int {
	n := 0
	for _, k := range s {
		if !k.Info {
			n++
		}
	}
	return n
}

func TestDecodeGzip(t *testing.T) {
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	zw.Write([]byte("[" + vault + "]"))
	zw.Close()
	d, err := Decode(File{Name: "x.json.gz", Data: b.Bytes()})
	if err != nil || len(d.Objects) != 1 {
		t.Fatalf("gzip: %v, %d objects", err, len(d.Objects))
	}
}

func TestDecodeSkipPaths(t *testing.T) {
	d, err := Decode(File{Name: "in.json", Data: []byte(`{"value":[` + kv + `,{"name":"no id"},"str"]}`)})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, s := range d.Skipped {
		got = append(got, s.Path+": "+s.Reason)
	}
	want := []string{`$.value[1]: no "id": not an ARM object`, `$.value[2]: not a JSON object`}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got)\n%s", diff)
	}
}

func TestInvalidJSONPosition(t *testing.T) {
	tests := []struct {
		data       string
		line, col  int
		msgContain string
	}{
		{"{\n  \"id\": \"x\",\n  \"type\": oops\n}", 3, 11, "invalid character 'o'"},
		{"[\n" + vault + ",\n", 3, 1, "unexpected end of JSON input"},
		{"{\"a\": 1}\n{\"b\": ]}\n", 2, 7, "invalid character ']'"},
		{"{\"é\": \"ü\", x}", 1, 12, "invalid character 'x'"},
	}
	for _, tt := range tests {
		_, err := Decode(File{Name: "bad.json", Data: []byte(tt.data)})
		var se *SyntaxError
		if !errors.As(err, &se) {
			t.Fatalf("%q: want SyntaxError, got %v", tt.data, err)
		}
		if se.Line != tt.line || se.Column != tt.col || !strings.Contains(se.Msg, tt.msgContain) {
			t.Errorf("%q: got %s, want line %d col %d containing %q", tt.data, se, tt.line, tt.col, tt.msgContain)
		}
		if !strings.HasPrefix(se.Error(), "bad.json:") {
			t.Errorf("error does not name the file: %s", se)
		}
	}
}

func TestUnsupportedSnapshotSchema(t *testing.T) {
	_, err := Decode(File{Name: "s.json", Data: []byte(`{"schema":"bulwark.snapshot/v9","resources":[]}`)})
	if err == nil || !strings.Contains(err.Error(), "bulwark.snapshot/v9") {
		t.Fatalf("want unsupported schema error, got %v", err)
	}
}

func TestMergeDedup(t *testing.T) {
	old := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	newer := old.Add(time.Hour)
	// The same vault spelled differently, identical content: deduplicated silently.
	upper := strings.Replace(strings.Replace(vault, "/subscriptions/", "/Subscriptions/", 1), "vaults/rsv1", "Vaults/rsv1", 1)
	kvChanged := strings.Replace(kv, `"enablePurgeProtection":true`, `"enablePurgeProtection":false`, 1)
	files := []File{
		{Name: "b.json", Data: []byte("[" + vault + "," + kvChanged + "]"), ModTime: newer},
		{Name: "a.json", Data: []byte("[" + upper + "," + kv + "]"), ModTime: old},
	}
	res, err := Merge(context.Background(), files)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Snapshot.Resources) != 2 {
		t.Fatalf("got %d resources, want 2: %v", len(res.Snapshot.Resources), ids(res))
	}
	// Identical content with another ID spelling is not a conflict, but different raw bytes are; the
	// vault differs in spelling only, so it is one conflict resolved to the newer file.
	kvObj := res.Snapshot.Resources[1]
	if kvObj.Source.File != "b.json" {
		t.Errorf("newer file must win, kept %s", kvObj.Source)
	}
	if b, _ := kvObj.Get("properties.enablePurgeProtection").Bool(); b {
		t.Error("kept the older Key Vault version")
	}
	var conflicted []string
	for _, c := range res.Conflicts {
		conflicted = append(conflicted, c.Kept.File+">"+c.Dropped.File)
	}
	if diff := cmp.Diff([]string{"b.json>a.json", "b.json>a.json"}, conflicted); diff != "" {
		t.Errorf("conflicts (-want +got)\n%s", diff)
	}

	// Equal times: the later file on the command line wins.
	files[1].ModTime = newer
	res, _ = Merge(context.Background(), files)
	if res.Snapshot.Resources[1].Source.File != "a.json" {
		t.Errorf("tie must go to the later file, kept %s", res.Snapshot.Resources[1].Source)
	}

	// A snapshot's collectedAt outranks file times.
	snap := `{"schema":"bulwark.snapshot/v1","collectedAt":"2030-01-01T00:00:00Z","resources":[` + kvChanged + `]}`
	res, _ = Merge(context.Background(), []File{{Name: "snap.json", Data: []byte(snap), ModTime: old}, {Name: "a.json", Data: []byte(kv), ModTime: newer}})
	if res.Snapshot.Resources[0].Source.File != "snap.json" {
		t.Errorf("collectedAt must win, kept %s", res.Snapshot.Resources[0].Source)
	}
}

func TestMergeWithinFileFirstWins(t *testing.T) {
	other := strings.Replace(kv, `"name":"kv1"`, `"name":"kv1-renamed"`, 1)
	res, err := Merge(context.Background(), []File{{Name: "x.json", Data: []byte(`{"parameters":{},"responses":{"200":{"body":` + kv + `},"201":{"body":` + other + `}}}`)}})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Snapshot.Resources) != 1 || res.Snapshot.Resources[0].Name() != "kv1" || len(res.Conflicts) != 1 {
		t.Errorf("got %v, conflicts %v", ids(res), res.Conflicts)
	}
}

func TestLoadFoldersAndErrors(t *testing.T) {
	dir := t.TempDir()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.MkdirAll(filepath.Join(dir, "sub", ".hidden"), 0o755))
	must(os.WriteFile(filepath.Join(dir, "a.json"), []byte("["+vault+"]"), 0o644))
	must(os.WriteFile(filepath.Join(dir, "sub", "b.json"), []byte(kv), 0o644))
	must(os.WriteFile(filepath.Join(dir, "sub", "notes.md"), []byte("# not json"), 0o644))
	must(os.WriteFile(filepath.Join(dir, "sub", ".hidden", "c.json"), []byte("broken"), 0o644))
	res, err := Load(context.Background(), []string{dir}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{vaultID, kvID}, ids(res)); diff != "" {
		t.Errorf("(-want +got)\n%s", diff)
	}

	// Stdin, a missing path and a broken file: valid input is kept, every problem is reported.
	must(os.WriteFile(filepath.Join(dir, "broken.json"), []byte("{\n,"), 0o644))
	res, err = Load(context.Background(), []string{"-", filepath.Join(dir, "missing.json"), filepath.Join(dir, "broken.json")},
		Options{Stdin: strings.NewReader(vault)})
	if err == nil {
		t.Fatal("want errors")
	}
	for _, want := range []string{"missing.json", "broken.json:2:1"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
	if len(res.Snapshot.Resources) != 1 || res.Snapshot.Resources[0].Source.File != "-" {
		t.Errorf("stdin object lost: %v", ids(res))
	}
}

// TestReferenceExamples loads the Azure REST API examples in ../shared/reference/arm: every object
// with an id must load, and every skipped element must have a reason.
func TestReferenceExamples(t *testing.T) {
	dir := filepath.Join("..", "..", "..", "shared", "reference", "arm")
	if _, err := os.Stat(dir); err != nil {
		t.Skip("reference data not present:", err)
	}
	res, err := Load(context.Background(), []string{dir}, Options{})
	if err != nil {
		t.Fatalf("reference examples must all parse: %v", err)
	}
	if len(res.Files) < 60 {
		t.Errorf("read %d files, want the 65 examples", len(res.Files))
	}
	if len(res.Snapshot.Resources) < 60 {
		t.Errorf("loaded %d objects, want at least 60", len(res.Snapshot.Resources))
	}
	reasons := map[string]int{}
	for _, s := range res.Warnings() {
		reasons[strings.SplitN(s.Reason, ":", 2)[0]]++
	}
	for r := range reasons {
		switch {
		case strings.HasPrefix(r, "Activity Log event"), r == `no "id"`, r == "malformed id",
			strings.HasPrefix(r, "list response has a nextLink"):
		default:
			t.Errorf("unexpected skip reason %q", r)
		}
	}
	// The Activity Log REST examples are recognised as events, not resources.
	if reasons["Activity Log event, not an ARM resource (events are read by bulwark detect)"] == 0 {
		t.Errorf("activity examples not recognised: %v", reasons)
	}
	// The examples whose IDs are malformed are reported by name, not loaded, and nothing crashes.
	malformed := map[string]bool{}
	for _, sk := range res.Warnings() {
		if strings.HasPrefix(sk.Reason, "malformed id") {
			malformed[filepath.Base(sk.File)] = true
		}
	}
	// Only the spec's guard-proxy example is malformed beyond repair ("/backupmanagement/…"); the
	// subscription diagnostic setting's ID without its leading '/', provider AzureResourceManager and
	// type null is how ARM really answers, and loads.
	want := map[string]bool{"recoveryservicesbackup__GetResourceGuardProxy.json": true}
	if diff := cmp.Diff(want, malformed); diff != "" {
		t.Errorf("malformed-ID reports (-want +got)\n%s", diff)
	}
	if len(res.Snapshot.Resources) != 65 {
		t.Errorf("%d distinct objects, want 65", len(res.Snapshot.Resources))
	}
	diag := 0
	for _, o := range res.Snapshot.Resources {
		if o.IsType("Microsoft.Insights/diagnosticSettings") {
			diag++
			if p, ok := o.ID.Parent(); !ok || !strings.EqualFold(p.Type(), "Microsoft.Resources/subscriptions") || !o.ID.IsExtension() {
				t.Errorf("%s is not attached to its subscription", o.ID)
			}
		}
	}
	if diag != 1 {
		t.Errorf("%d subscription diagnostic settings, want 1 (two examples of the same setting)", diag)
	}
	// Case-insensitive identity: every key is unique.
	seen := map[string]bool{}
	for _, o := range res.Snapshot.Resources {
		if seen[o.ID.Key()] {
			t.Errorf("duplicate %s", o.ID)
		}
		seen[o.ID.Key()] = true
	}
}

func FuzzDecode(f *testing.F) {
	for _, s := range []string{vault, "[" + vault + "," + kv + "]", `{"value":[` + kv + `],"nextLink":"x"}`,
		`{"data":{"columns":[{"name":"id"}],"rows":[["/subscriptions/s"]]}}`,
		`{"schema":"bulwark.snapshot/v1","resources":[` + kv + `]}`,
		`{"parameters":{},"responses":{"200":{"body":{"value":[` + vault + `]}}}}`,
		vault + "\n" + kv, "", "{", `{"id":"/subscriptions/s/resourceGroups/rg/providers/A.B/c/d"}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := Decode(File{Name: "fuzz.json", Data: data})
		if err != nil {
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("error is not a SyntaxError: %v", err)
			}
			return
		}
		for _, o := range d.Objects {
			if o.ID.IsZero() || o.Type() == "" {
				t.Fatalf("object without id or type: %s", o.Raw)
			}
		}
	})
}
