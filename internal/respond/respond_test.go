package respond

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/bulwarkhq/bulwark/examples"
	"github.com/bulwarkhq/bulwark/internal/activity"
	"github.com/bulwarkhq/bulwark/internal/arm"
	"github.com/bulwarkhq/bulwark/internal/assess"
	"github.com/bulwarkhq/bulwark/internal/config"
	"github.com/bulwarkhq/bulwark/internal/demoestate"
	"github.com/bulwarkhq/bulwark/internal/detect"
	"github.com/bulwarkhq/bulwark/internal/hostfs"
	"github.com/bulwarkhq/bulwark/internal/incident"
)

var update = flag.Bool("update", false, "rewrite the golden playbooks in testdata/")

// contoso is the embedded demo estate with its apps.yaml, bulwark.yaml and IaC.
func contoso(t *testing.T) *assess.Env {
	t.Helper()
	env, _, err := demoestate.Load(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return env
}

// demoIncident runs detection on the demo's activity log and returns its JSON lines, as
// bulwark detect -o json writes them.
func demoIncident(t *testing.T, env *assess.Env) []byte {
	t.Helper()
	rules, errs := detect.LoadRules(true)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	d, errs, err := detect.New(detect.Options{Rules: rules, Estate: detect.NewEstate(env.Snapshot)})
	if err != nil || len(errs) > 0 {
		t.Fatal(err, errs)
	}
	const name = "activity/rest/activity-2026-11-25.json"
	f, err := examples.FS.Open(examples.Root + "/" + name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r := &activity.Reader{Files: hostfs.FS{}}
	if err := r.ReadFrom(context.Background(), name, f, func(e *activity.Event) error { d.Process(e); return nil }); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	for _, inc := range d.Finish().Incidents {
		line, _ := json.Marshal(struct {
			Schema string `json:"schema"`
			Kind   string `json:"kind"`
			*detect.Incident
		}{"bulwark.detect/v1", "incident", inc})
		buf.Write(append(line, '\n'))
	}
	return buf.Bytes()
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./internal/respond -update to create it)", err)
	}
	if d := cmp.Diff(string(want), string(got)); d != "" {
		t.Errorf("%s differs (-want +got); run with -update if the change is intended\n%s", name, d)
	}
}

// playbooks are the goldens: one per Contoso application and one for the demo incident.
func playbooks(t *testing.T) map[string]*Playbook {
	env := contoso(t)
	out := map[string]*Playbook{}
	for _, a := range []string{"payments", "shop", "platform", "shared-services"} {
		pb, err := Generate(Inputs{Env: env, App: a})
		if err != nil {
			t.Fatal(err)
		}
		out["app-"+a] = pb
	}
	incs, err := incident.Read(bytes.NewReader(demoIncident(t, env)), "demo")
	if err != nil {
		t.Fatal(err)
	}
	if len(incs) != 1 {
		t.Fatalf("the demo has %d incidents, want 1", len(incs))
	}
	pb, err := Generate(Inputs{Env: env, Incident: incs[0]})
	if err != nil {
		t.Fatal(err)
	}
	out["incident"] = pb
	return out
}

func TestGoldenPlaybooks(t *testing.T) {
	for name, pb := range playbooks(t) {
		js, err := json.MarshalIndent(pb, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		golden(t, name+".json", append(js, '\n'))
	}
}

// Structural properties every playbook must have: requirements point to earlier steps, the
// critical path adds up, Contain comes first and Verify last, every lost resource names its step.
func TestPlaybookInvariants(t *testing.T) {
	for name, pb := range playbooks(t) {
		pos := map[string]int{}
		for i, s := range pb.Steps {
			pos[s.ID] = i
			if s.ID != fmt.Sprintf("S%02d", i+1) {
				t.Errorf("%s: step %d has ID %s", name, i, s.ID)
			}
			for _, r := range s.Requires {
				if p, ok := pos[r]; !ok || p >= i {
					t.Errorf("%s: %s requires %s, which does not come before it", name, s.ID, r)
				}
			}
			if s.Activity == "" || s.Title == "" || s.Detail == "" || s.Minutes <= 0 {
				t.Errorf("%s: %s lacks an activity, title, detail or duration: %+v", name, s.ID, s)
			}
			if !s.Lost && !s.Manual && len(s.Commands) == 0 {
				t.Errorf("%s: %s is automatic but has no command", name, s.ID)
			}
			if i > 0 && pb.Steps[i-1].Phase == Verify && s.Phase != Verify {
				t.Errorf("%s: %s (%s) comes after a Verify step", name, s.ID, s.Phase)
			}
			if i > 0 && s.Phase == Contain && pb.Steps[i-1].Phase != Contain {
				t.Errorf("%s: Contain step %s comes after another phase", name, s.ID)
			}
		}
		sum := 0
		for _, id := range pb.CriticalPath.Steps {
			s, _ := pb.Step(id)
			sum += s.Minutes
		}
		if sum != pb.CriticalPath.Minutes || pb.Summary.Minutes != sum {
			t.Errorf("%s: critical path %v sums to %d, playbook says %d", name, pb.CriticalPath.Steps, sum, pb.CriticalPath.Minutes)
		}
		for _, l := range pb.Lost {
			if l.Step == "" && !strings.Contains(l.What, "recovery points") && !strings.Contains(l.What, "disk") && !strings.Contains(l.What, "volumes") && !strings.Contains(l.What, "keys") {
				t.Errorf("%s: lost %s names no step", name, l.Resource.Name)
			}
		}
	}
}

func stepFor(t *testing.T, pb *Playbook, resource string) *Step {
	t.Helper()
	for _, s := range pb.Steps {
		for _, r := range s.Resources {
			if r.Name == resource {
				return s
			}
		}
	}
	t.Fatalf("no step for %s", resource)
	return nil
}

func warning(pb *Playbook, kind, contains string) bool {
	for _, w := range pb.Warnings {
		if w.Kind == kind && strings.Contains(w.Message, contains) {
			return true
		}
	}
	return false
}

// The demo incident touched two Key Vaults: kv-shop-app was purged (lost: keys gone, and what
// used them named), kv-pay-cmk only soft-deleted (recovered first, with a check that it still
// exists; the VM whose disks it encrypts waits for it).
func TestIncidentKeyVaultPurgedVersusSoftDeleted(t *testing.T) {
	pb := playbooks(t)["incident"]
	purged := stepFor(t, pb, "kv-shop-app")
	if !purged.Lost || purged.Action != "declare-lost" || !strings.Contains(purged.Detail, "purged") || !strings.Contains(purged.Detail, "des-shop") {
		t.Errorf("kv-shop-app: %+v", purged)
	}
	soft := stepFor(t, pb, "kv-pay-cmk")
	if soft.Action != "recover-key-vault" || soft.Phase != RecoveryInfra || soft.Condition == nil ||
		!strings.Contains(soft.Condition.Check, "az keyvault show-deleted --name kv-pay-cmk") || !strings.Contains(soft.Commands[0], "az keyvault recover --name kv-pay-cmk") {
		t.Errorf("kv-pay-cmk: %+v", soft)
	}
	vm := stepFor(t, pb, "vm-pay-app01")
	if vm.Action != "restore-vm-from-backup" || !contains(vm.Requires, soft.ID) {
		t.Errorf("vm-pay-app01 must be restored from backup after %s (its disks are encrypted with kv-pay-cmk): %+v", soft.ID, vm)
	}
	var lost []string
	for _, l := range pb.Lost {
		lost = append(lost, l.Resource.Name)
	}
	for _, want := range []string{"kv-shop-app", "kv-shop-legacy", "rsv-shop-weu", "vm-gh-runner01", "vm-legacy01"} {
		if !contains(lost, want) {
			t.Errorf("lost %v lacks %s", lost, want)
		}
	}
	if contains(lost, "kv-pay-cmk") || contains(lost, "stshopassets01") || contains(lost, "shopdb") {
		t.Errorf("lost %v holds a recoverable resource", lost)
	}
	// Containment: the role assignment created in the attack, both principals, the evidence.
	var actions []string
	for _, s := range pb.Steps {
		if s.Phase == Contain {
			actions = append(actions, s.Action)
		}
	}
	if d := cmp.Diff([]string{"remove-role-assignment", "disable-principal", "disable-principal", "preserve-evidence", "snapshot-disks"}, actions); d != "" {
		t.Errorf("contain steps (-want +got):\n%s", d)
	}
	if len(pb.Summary.Blocked) != 4 {
		t.Errorf("blocked: %v (the failed purge of kv-pay-cmk and three failed recovery sabotages)", pb.Summary.Blocked)
	}
}

// payments cannot be back within its 4-hour RTO (a periodic-backup Cosmos DB restore goes through
// Microsoft support), and its VM backups are older than its 1-hour RPO.
func TestRTOExceeded(t *testing.T) {
	pb := playbooks(t)["app-payments"]
	if pb.CriticalPath.Minutes <= 240 || !warning(pb, "rto", "payments (RTO 4h)") {
		t.Errorf("critical path %d min, warnings %v", pb.CriticalPath.Minutes, pb.Warnings)
	}
	if !warning(pb, "rpo", "restoring vm-pay-app01 loses") {
		t.Errorf("no RPO warning for vm-pay-app01: %v", pb.Warnings)
	}
	plat := playbooks(t)["app-platform"]
	if warning(plat, "rto", "") {
		t.Errorf("platform is within its 8h RTO (%d min) but warns: %v", plat.CriticalPath.Minutes, plat.Warnings)
	}
}

// shop's NSG, application gateway and public IP are in no template: each is rebuilt by hand from
// the snapshot's configuration, flagged weaker, with the definition to deploy.
func TestNoIaCForNetwork(t *testing.T) {
	pb := playbooks(t)["app-shop"]
	s := stepFor(t, pb, "nsg-shop-web")
	if s.Action != "rebuild-from-snapshot" || !s.Weak || !s.Manual || s.Body == nil || !strings.Contains(s.Commands[0], "az resource create --id") {
		t.Errorf("nsg-shop-web: %+v", s)
	}
	if !warning(pb, "no-iac", "nsg-shop-web") {
		t.Errorf("no no-iac warning: %v", pb.Warnings)
	}
	body := s.Body.(map[string]any)
	if props, ok := body["properties"].(map[string]any); !ok || props["provisioningState"] != nil {
		t.Errorf("the rebuild body keeps read-only fields or lacks properties: %v", body)
	}
	// vnet-shop is declared in iac/shop/network.json: redeployed, not rebuilt.
	v := stepFor(t, pb, "vnet-shop")
	if v.Action != "redeploy-from-iac" || v.Weak || !strings.Contains(v.Commands[0], "--template-file") || !strings.Contains(v.Commands[0], "--mode Incremental") {
		t.Errorf("vnet-shop: %+v", v)
	}
}

// A VM with no backup, replica or template is called out as lost, with its disks and NIC.
func TestNoRecoveryPath(t *testing.T) {
	pb := playbooks(t)["app-shop"]
	s := stepFor(t, pb, "vm-shop-sql01")
	if !s.Lost || !strings.HasPrefix(s.Title, "LOST: vm-shop-sql01") {
		t.Errorf("vm-shop-sql01: %+v", s)
	}
	var names []string
	for _, r := range s.Resources {
		names = append(names, r.Name)
	}
	for _, want := range []string{"vm-shop-sql01-osdisk", "vm-shop-sql01-data01", "nic-vm-shop-sql01"} {
		if !contains(names, want) {
			t.Errorf("the lost step names %v, not %s", names, want)
		}
	}
}

// A cycle between a VM and a VNet (the VNet references the VM, the VM's NIC the VNet) is
// reported with its members and broken at the VNet, which is configuration-based.
func TestDependencyCycle(t *testing.T) {
	const rg = "/subscriptions/11111111-1111-4111-8111-111111111111/resourceGroups/rg-c"
	objs := []*arm.Object{
		arm.MustObject(`{"id":"` + rg + `/providers/Microsoft.Network/virtualNetworks/vnet-c","type":"Microsoft.Network/virtualNetworks","name":"vnet-c","location":"westeurope","tags":{"app":"c"},
			"properties":{"addressSpace":{"addressPrefixes":["10.9.0.0/16"]},"dhcpOptions":{"dnsServers":[]},"x":{"appliance":"` + rg + `/providers/Microsoft.Compute/virtualMachines/vm-c"}}}`),
		arm.MustObject(`{"id":"` + rg + `/providers/Microsoft.Network/networkInterfaces/nic-c","type":"Microsoft.Network/networkInterfaces","name":"nic-c","location":"westeurope","tags":{"app":"c"},
			"properties":{"ipConfigurations":[{"name":"ip","properties":{"subnet":{"id":"` + rg + `/providers/Microsoft.Network/virtualNetworks/vnet-c/subnets/s"}}}]}}`),
		arm.MustObject(`{"id":"` + rg + `/providers/Microsoft.Compute/virtualMachines/vm-c","type":"Microsoft.Compute/virtualMachines","name":"vm-c","location":"westeurope","tags":{"app":"c"},
			"properties":{"networkProfile":{"networkInterfaces":[{"id":"` + rg + `/providers/Microsoft.Network/networkInterfaces/nic-c"}]}}}`),
	}
	env := assess.NewEnv(assess.Inputs{Snapshot: &arm.Snapshot{Resources: objs}, Config: config.Default()})
	pb, err := Generate(Inputs{Env: env, App: "c"})
	if err != nil {
		t.Fatal(err)
	}
	if len(pb.Cycles) != 1 || len(pb.Cycles[0]) != 3 || pb.Cycles[0][0].Name != "vnet-c" {
		t.Fatalf("cycles: %+v", pb.Cycles)
	}
	if !warning(pb, "cycle", "broken at vnet-c (configuration-based") {
		t.Errorf("warnings: %v", pb.Warnings)
	}
	vnet, vm := stepFor(t, pb, "vnet-c"), stepFor(t, pb, "vm-c")
	if vnet.ID > vm.ID || contains(vnet.Requires, vm.ID) {
		t.Errorf("vnet-c (%s, requires %v) must come before vm-c (%s)", vnet.ID, vnet.Requires, vm.ID)
	}
	if !vm.Lost {
		t.Errorf("vm-c has no recovery path: %+v", vm)
	}
}

func TestGenerateErrors(t *testing.T) {
	env := contoso(t)
	if _, err := Generate(Inputs{Env: env, App: "nope"}); err == nil || !strings.Contains(err.Error(), `no application "nope"`) || !strings.Contains(err.Error(), "payments") {
		t.Errorf("unknown app: %v", err)
	}
	if _, err := Generate(Inputs{Env: env}); err == nil {
		t.Error("no scope accepted")
	}
}

func TestReadIncidents(t *testing.T) {
	env := contoso(t)
	lines := demoIncident(t, env)
	alert := `{"schema":"bulwark.detect/v1","kind":"alert","id":"a"}` + "\n"
	incs, err := incident.Read(strings.NewReader(alert+string(lines)+`{"schema":"bulwark.detect/v1","kind":"summary"}`+"\n"), "d.jsonl")
	if err != nil || len(incs) != 1 || incs[0].Actor != "alice@contoso.example" || len(incs[0].Resources) == 0 {
		t.Fatalf("%v %v", incs, err)
	}
	for _, c := range []struct{ in, want string }{
		{alert + "{not json\n", "d.jsonl:2: not a JSON object"},
		{`{"schema":"bulwark.assessment/v1"}` + "\n", `d.jsonl:1: schema "bulwark.assessment/v1"`},
		{alert + `{"schema":"bulwark.detect/v1","kind":"incident","id":"INC-1"}` + "\n", "d.jsonl:2: incident without an id or a first time"},
		{`{"schema":"bulwark.detect/v1","kind":"incident","id":"INC-1","first":"yesterday"}` + "\n", "d.jsonl:1: incident:"},
	} {
		if _, err := incident.Read(strings.NewReader(c.in), "d.jsonl"); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: %v, want %q", c.in, err, c.want)
		}
	}
}

// Every field the JSON playbook writes is documented in docs/playbook-json.md, nested ones too.
func TestJSONDocumented(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "playbook-json.md"))
	if err != nil {
		t.Fatal(err)
	}
	var walk func(path string, v any)
	walk = func(path string, v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, x := range v {
				if path == "steps.body" || path == "steps.rest.body" {
					continue // resource definitions and REST bodies are Azure's shapes, not ours
				}
				if !strings.Contains(string(doc), "`"+k+"`") {
					t.Errorf("field %s.%s is not documented in docs/playbook-json.md", path, k)
				}
				walk(strings.TrimPrefix(path+"."+k, "."), x)
			}
		case []any:
			for _, x := range v {
				walk(path, x)
			}
		}
	}
	actions := map[string]bool{}
	for _, pb := range playbooks(t) {
		data, _ := json.Marshal(pb)
		var m map[string]any
		json.Unmarshal(data, &m)
		walk("", m)
		for _, s := range pb.Steps {
			actions[s.Action] = true
		}
	}
	for a := range actions {
		if !strings.Contains(string(doc), "`"+a+"`") {
			t.Errorf("action %s is not listed in docs/playbook-json.md", a)
		}
	}
}

// The verify phase re-collects with bulwark collect (locks, role assignments, backup items — what
// a Resource Graph "Resources" query leaves out) and puts a ReadOnly lock that LOCK-002 flags back
// as CanNotDelete (it re-applied the very locks LOCK-002 reports).
func TestVerifyPhaseMatchesTheAssessment(t *testing.T) {
	for name, pb := range playbooks(t) {
		for _, s := range pb.Steps {
			all := strings.Join(s.Commands, "\n")
			if s.Action == "reassess" && (!strings.HasPrefix(all, "bulwark collect --subscription ") || strings.Contains(all, "az graph query")) {
				t.Errorf("%s: re-assess: %s", name, all)
			}
			if s.Action == "restore-locks" && (strings.Contains(all, "aks-readonly --lock-type ReadOnly") || strings.Contains(all, "assets-readonly --lock-type ReadOnly")) {
				t.Errorf("%s: a ReadOnly lock LOCK-002 flags is re-applied as ReadOnly:\n%s", name, all)
			}
		}
	}
}
