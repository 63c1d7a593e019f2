package examples_test

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"io/fs"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/bulwarkhq/bulwark/examples"
	"github.com/bulwarkhq/bulwark/internal/arm"
	"github.com/bulwarkhq/bulwark/internal/assess"
	"github.com/bulwarkhq/bulwark/internal/load"
	"github.com/bulwarkhq/bulwark/internal/snapshot"
)

func loadEstate(t *testing.T) (*snapshot.Result, *arm.Index) {
	t.Helper()
	res, err := snapshot.LoadFS(context.Background(), examples.FS, examples.Estate, "")
	if err != nil {
		t.Fatal(err)
	}
	return res, res.Snapshot.Index()
}

func TestEstateLoadsCleanly(t *testing.T) {
	res, _ := loadEstate(t)
	if w := res.Warnings(); len(w) != 0 {
		t.Errorf("warnings: %+v", w)
	}
	if len(res.Conflicts) != 0 {
		t.Errorf("conflicts: %+v", res.Conflicts)
	}
	if n := len(res.Snapshot.Resources); n < 80 {
		t.Errorf("%d objects, want at least 80", n)
	}
}

// The deliberate quirks the README promises.
func TestEstateQuirks(t *testing.T) {
	res, x := loadEstate(t)
	get := func(id string) *arm.Object {
		t.Helper()
		o, ok := x.Get(id)
		if !ok {
			t.Fatalf("missing %s", id)
		}
		return o
	}
	const prod = "/subscriptions/11111111-1111-4111-8111-111111111111"
	legacy := get(prod + "/resourceGroups/rg-legacy/providers/Microsoft.KeyVault/vaults/kv-shop-legacy")
	if b, ok := legacy.Prop("properties.enableSoftDelete").Bool(); !ok || b {
		t.Errorf("kv-shop-legacy soft delete should be the string \"false\": %s", legacy.Prop("properties.enableSoftDelete").Display())
	}
	shopKV := get(prod + "/resourceGroups/rg-shop/providers/Microsoft.KeyVault/vaults/kv-shop-app")
	if v := shopKV.Prop("properties.enablePurgeProtection"); !isDefault(v) {
		t.Errorf("kv-shop-app purge protection should be absent (service default): %s", v.Display())
	}
	swc := get(prod + "/resourceGroups/rg-shop-dr/providers/Microsoft.RecoveryServices/vaults/rsv-shop-dr-swc")
	if v := swc.Prop("properties.securitySettings.immutabilitySettings.state"); !v.Is("disabled") || !isDefault(v) {
		t.Errorf("rsv-shop-dr-swc immutability should default to Disabled: %s", v.Display())
	}
	pay := get(prod + "/resourceGroups/rg-recovery/providers/Microsoft.RecoveryServices/vaults/rsv-payments-weu")
	if v := pay.Get("properties.securitySettings.softDeleteSettings.softDeleteState"); !v.Is("AlwaysOn") {
		t.Errorf("rsv-payments-weu soft delete: %s", v.Display())
	}
	// Resource Graph lower-cases types; the index does not care.
	if len(x.OfType("Microsoft.Compute/virtualMachines")) != 6 {
		t.Errorf("VMs: %d", len(x.OfType("Microsoft.Compute/virtualMachines")))
	}
	// The collection error names stplatformiac01, whose blob service is indeed absent.
	iac := get(prod + "/resourceGroups/rg-platform/providers/Microsoft.Storage/storageAccounts/stplatformiac01")
	if len(res.Snapshot.Errors) != 1 || !iac.ID.Equal(arm.MustParseID(res.Snapshot.Errors[0].Scope)) {
		t.Errorf("errors: %+v", res.Snapshot.Errors)
	}
	if len(x.ChildrenOfType(iac.ID, "Microsoft.Storage/storageAccounts/blobServices")) != 0 {
		t.Error("stplatformiac01 must have no blobServices (it could not be collected)")
	}
	// Locks at all three scopes.
	scopes := map[string]bool{}
	for _, l := range x.OfType("Microsoft.Authorization/locks") {
		p, _ := l.ID.Parent()
		scopes[strings.ToLower(arm.CanonicalType(p.Type()))] = true
	}
	for _, s := range []string{"microsoft.resources/subscriptions", "microsoft.resources/resourcegroups", "microsoft.keyvault/vaults"} {
		if !scopes[s] {
			t.Errorf("no lock at %s scope: %v", s, scopes)
		}
	}
}

func isDefault(v arm.Value) bool { _, ok := v.Default(); return ok }

// The README's table of expected results is pinned: every name listed under pass, fail, warn or
// unknown for a check is a result of that check with that status, and every check has a row.
func TestReadmeExpectedResults(t *testing.T) {
	res, _ := loadEstate(t)
	appsFile, err := load.Apps(filepath.Join(examples.Root, "apps.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := load.Config(filepath.Join(examples.Root, "bulwark.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	inv, err := load.IaC([]string{filepath.Join(examples.Root, "iac")})
	if err != nil {
		t.Fatal(err)
	}
	rep := assess.Run(assess.NewEnv(assess.Inputs{Snapshot: res.Snapshot, Config: cfg, Apps: appsFile, IaC: inv}), assess.Checks())
	got := map[string]map[string]bool{} // check → "status name"
	for _, r := range rep.Results {
		if got[r.CheckID] == nil {
			got[r.CheckID] = map[string]bool{}
		}
		got[r.CheckID][string(r.Status)+" "+r.Name] = true
	}
	readme, err := fs.ReadFile(examples.FS, examples.Root+"/README.md")
	if err != nil {
		t.Fatal(err)
	}
	tok := regexp.MustCompile("`([^`]+)`")
	rows := map[string]bool{}
	statuses := []assess.Status{assess.Pass, assess.Fail, assess.Warn, assess.Unknown}
	for _, line := range strings.Split(string(readme), "\n") {
		cells := strings.Split(line, "|")
		if len(cells) < 7 || !regexp.MustCompile(`^ [A-Z]+-\d{3} $`).MatchString(cells[1]) {
			continue
		}
		id := strings.TrimSpace(cells[1])
		rows[id] = true
		for i, st := range statuses {
			for _, m := range tok.FindAllStringSubmatch(cells[2+i], -1) {
				if !got[id][string(st)+" "+m[1]] {
					t.Errorf("README says %s is %s for %s; the assessment disagrees", m[1], st, id)
				}
			}
		}
	}
	for _, c := range assess.Checks() {
		if !rows[c.ID] {
			t.Errorf("README has no expected results for %s", c.ID)
		}
	}
}

func TestAppsYAML(t *testing.T) {
	_, x := loadEstate(t)
	data, err := fs.ReadFile(examples.FS, examples.Root+"/apps.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Apps []struct {
			Name      string              `yaml:"name"`
			Resources []map[string]any    `yaml:"resources"`
			DependsOn []string            `yaml:"dependsOn"`
			IaC       string              `yaml:"iac"`
			Backups   []map[string]string `yaml:"backups"`
		} `yaml:"apps"`
	}
	if err := yaml.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Apps) < 3 {
		t.Fatalf("%d apps", len(doc.Apps))
	}
	apps := map[string]bool{}
	for _, a := range doc.Apps {
		apps[a.Name] = true
	}
	for _, a := range doc.Apps {
		for _, d := range a.DependsOn {
			if !apps[d] {
				t.Errorf("%s depends on unknown app %q", a.Name, d)
			}
		}
		for _, r := range a.Resources {
			if g, ok := r["resourceGroup"].(string); ok {
				if _, found := x.Get(g); !found {
					t.Errorf("%s: resource group %s not in the estate", a.Name, g)
				}
			}
		}
		for _, b := range a.Backups {
			if _, found := x.Get(b["resource"]); !found {
				t.Errorf("%s: backup declared for unknown resource %s", a.Name, b["resource"])
			}
		}
		if a.IaC != "" {
			if _, err := fs.Stat(examples.FS, examples.Root+"/"+strings.TrimSuffix(a.IaC, "/")); err != nil {
				t.Errorf("%s: iac folder %s: %v", a.Name, a.IaC, err)
			}
		}
	}
}

// The same events in all four files: diagnostic export (JSON lines), REST, Log Analytics JSON and CSV.
func TestActivityFormatsAgree(t *testing.T) {
	type key struct{ time, op, status string }
	normStatus := map[string]string{"started": "Start", "accepted": "Accept", "succeeded": "Success", "failed": "Failure"}
	var diag []key
	err := fs.WalkDir(examples.FS, examples.Root+"/activity/diagnostic-export", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		if !regexp.MustCompile(`/y=\d{4}/m=\d{2}/d=\d{2}/h=\d{2}/m=00/PT1H\.json$`).MatchString(p) {
			t.Errorf("%s is not in the diagnostic-export folder layout", p)
		}
		data, _ := fs.ReadFile(examples.FS, p)
		for i, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
			var r struct{ Time, OperationName, ResultType string }
			if err := json.Unmarshal([]byte(line), &r); err != nil {
				t.Errorf("%s:%d: %v", p, i+1, err)
			}
			diag = append(diag, key{r.Time, strings.ToLower(r.OperationName), r.ResultType})
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var rest []struct {
		EventTimestamp string
		EventDataID    string `json:"eventDataId"`
		OperationName  struct{ Value string }
		Status         struct{ Value string }
	}
	readJSON(t, "/activity/rest/activity-2026-11-25.json", &rest)
	var la []struct {
		TimeGenerated, OperationNameValue, ActivityStatusValue, EventDataID string
	}
	readJSON(t, "/activity/log-analytics/AzureActivity-2026-11-25.json", &la)
	var restKeys, laKeys []key
	restIDs, laIDs := map[string]bool{}, map[string]bool{}
	for _, e := range rest {
		restKeys = append(restKeys, key{e.EventTimestamp, strings.ToLower(e.OperationName.Value), normStatus[strings.ToLower(e.Status.Value)]})
		restIDs[e.EventDataID] = true
	}
	for _, e := range la {
		laKeys = append(laKeys, key{e.TimeGenerated, strings.ToLower(e.OperationNameValue), e.ActivityStatusValue})
		laIDs[e.EventDataID] = true
	}
	csvData, _ := fs.ReadFile(examples.FS, examples.Root+"/activity/log-analytics/AzureActivity-2026-11-25.csv")
	rows, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(string(csvData), "\ufeff"))).ReadAll()
	if err != nil {
		t.Fatalf("CSV: %v", err)
	}
	sorted := func(k []key) []key {
		sort.Slice(k, func(i, j int) bool { return k[i].time+k[i].op+k[i].status < k[j].time+k[j].op+k[j].status })
		return k
	}
	d, r, l := sorted(diag), sorted(restKeys), sorted(laKeys)
	if len(d) < 100 || len(d) != len(r) || len(d) != len(l) || len(rows)-1 != len(d) {
		t.Fatalf("event counts differ: diagnostic %d, REST %d, Log Analytics %d, CSV %d", len(d), len(r), len(l), len(rows)-1)
	}
	for i := range d {
		if d[i] != r[i] || d[i] != l[i] {
			t.Fatalf("event %d differs: diagnostic %v, REST %v, Log Analytics %v", i, d[i], r[i], l[i])
		}
	}
	if len(restIDs) != len(laIDs) || len(restIDs) == len(rest) {
		t.Errorf("eventDataIds: REST %d distinct, Log Analytics %d distinct, %d events (one duplicate expected)", len(restIDs), len(laIDs), len(rest))
	}
}

func readJSON(t *testing.T, rel string, v any) {
	t.Helper()
	data, err := fs.ReadFile(examples.FS, examples.Root+rel)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, v); err != nil {
		t.Fatalf("%s: %v", rel, err)
	}
}

func TestIaCTemplatesAreTemplates(t *testing.T) {
	matches, _ := fs.Glob(examples.FS, examples.Root+"/iac/*/*.json")
	if len(matches) < 4 {
		t.Fatalf("%d templates", len(matches))
	}
	for _, m := range matches {
		var tpl struct {
			Schema    string           `json:"$schema"`
			Resources []map[string]any `json:"resources"`
		}
		readJSON(t, strings.TrimPrefix(m, examples.Root), &tpl)
		if !strings.Contains(tpl.Schema, "deploymentTemplate.json") || len(tpl.Resources) == 0 {
			t.Errorf("%s is not an ARM deployment template", m)
		}
	}
}
