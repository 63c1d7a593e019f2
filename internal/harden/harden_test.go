package harden

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/bulwarkhq/bulwark/internal/assess"
	"github.com/bulwarkhq/bulwark/internal/demoestate"
	"github.com/bulwarkhq/bulwark/internal/snapshot"
)

var update = flag.Bool("update", false, "rewrite the golden plans in testdata/")

const rgShop = "/subscriptions/11111111-1111-4111-8111-111111111111/resourceGroups/rg-shop"

func contoso(t *testing.T) (*assess.Env, *snapshot.Result) {
	t.Helper()
	env, res, err := demoestate.Load(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return env, res
}

func plan(t *testing.T, o Options) *Plan {
	env, _ := contoso(t)
	return Build(env, assess.Run(env, assess.Checks()), o)
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		os.MkdirAll("testdata", 0o755)
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./internal/harden -update to create it)", err)
	}
	if d := cmp.Diff(string(want), string(got)); d != "" {
		t.Errorf("%s differs (-want +got); run with -update if the change is intended\n%s", name, d)
	}
}

// The Contoso plan in every format, pinned; the script passes bash -n.
func TestGoldenPlans(t *testing.T) {
	p := plan(t, Options{})
	var text, script bytes.Buffer
	if err := Text(&text, p, ""); err != nil {
		t.Fatal(err)
	}
	golden(t, "contoso.txt", text.Bytes())
	// Another cloud's endpoint, where the plan itself names none.
	var china bytes.Buffer
	if err := Text(&china, p, "https://management.chinacloudapi.cn"); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(china.String(), "REST        PUT https://management.chinacloudapi.cn/subscriptions/"); n == 0 || strings.Contains(china.String(), "management.azure.com") {
		t.Errorf("the China plan's REST lines (%d) name another endpoint:\n%s", n, china.String())
	}
	js, _ := json.MarshalIndent(p, "", "  ")
	golden(t, "contoso.json", append(js, '\n'))
	if err := AzCLI(&script, p); err != nil {
		t.Fatal(err)
	}
	golden(t, "contoso.sh", script.Bytes())
	if bash, err := exec.LookPath("bash"); err == nil {
		f := filepath.Join(t.TempDir(), "plan.sh")
		os.WriteFile(f, script.Bytes(), 0o755)
		if out, err := exec.Command(bash, "-n", f).CombinedOutput(); err != nil {
			t.Errorf("bash -n: %v\n%s", err, out)
		}
	}
	shop := plan(t, Options{ResourceGroup: rgShop, AllowIrreversible: true})
	bicep, err := BicepFile(shop)
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "rg-shop.bicep", []byte(bicep))
	if _, err := BicepFile(plan(t, Options{})); err == nil || !strings.Contains(err.Error(), "--resource-group") {
		t.Errorf("a plan over several resource groups rendered as one Bicep file: %v", err)
	}
}

// The Bicep file declares every lock and every setting of the plan: read back, each action's
// values are there under its resource.
func TestBicepDeclaresEveryAction(t *testing.T) {
	shop := plan(t, Options{ResourceGroup: rgShop, AllowIrreversible: true})
	bicep, err := BicepFile(shop)
	if err != nil {
		t.Fatal(err)
	}
	blocks := map[string]string{} // resource declaration header → body
	for _, blk := range strings.Split(bicep, "\nresource ")[1:] {
		head, body, _ := strings.Cut(blk, "\n")
		blocks[head] = body
	}
	find := func(typ, name string) string {
		for head, body := range blocks {
			if strings.Contains(head, "'"+typ+"@") && !strings.Contains(head, " existing ") && strings.Contains(body, "name: '"+name+"'") {
				return body
			}
		}
		return ""
	}
	if len(shop.Actions) < 5 {
		t.Fatalf("only %d actions in rg-shop", len(shop.Actions))
	}
	// The file declares each resource once, in its final state: the expected values are the
	// actions' bodies merged in plan order.
	final := map[string]map[string]any{}
	decl := func(a *Action) string { return childType(a) + "|" + strings.SplitN(a.Request.Path, "?", 2)[0] }
	for _, a := range shop.Actions {
		if final[decl(a)] == nil {
			final[decl(a)] = map[string]any{}
		}
		Merge(final[decl(a)], a.Body())
	}
	for _, a := range shop.Actions {
		var body string
		switch {
		case a.Kind == "lock":
			body = find("Microsoft.Authorization/locks", "bulwark-no-delete")
			if !strings.Contains(bicep, "level: '"+a.Body()["properties"].(map[string]any)["level"].(string)+"'") {
				t.Errorf("%s: lock level missing", a.ID)
			}
		case a.Request.Method == "PATCH":
			body = find(a.Resource.Type, a.Resource.Name)
		default:
			body = find(childType(a), "default")
		}
		if body == "" {
			t.Errorf("%s %s: no declaration in the Bicep file", a.ID, a.Title)
			continue
		}
		for _, leaf := range leaves(final[decl(a)]) {
			if !strings.Contains(body, leaf) {
				t.Errorf("%s %s: %q not declared", a.ID, a.Title, leaf)
			}
		}
	}
}

func childType(a *Action) string {
	p := strings.SplitN(a.Request.Path, "?", 2)[0]
	switch {
	case strings.Contains(p, "/blobServices/"):
		return "Microsoft.Storage/storageAccounts/blobServices"
	case strings.Contains(p, "/fileServices/"):
		return "Microsoft.Storage/storageAccounts/fileServices"
	case strings.Contains(p, "backupShortTermRetentionPolicies"):
		return "Microsoft.Sql/servers/databases/backupShortTermRetentionPolicies"
	case strings.Contains(p, "backupLongTermRetentionPolicies"):
		return "Microsoft.Sql/servers/databases/backupLongTermRetentionPolicies"
	}
	return a.Resource.Type
}

// leaves renders a body's scalar values as the Bicep lines that must declare them.
func leaves(m map[string]any) []string {
	var out []string
	for k, v := range m {
		switch t := v.(type) {
		case map[string]any:
			out = append(out, leaves(t)...)
		default:
			out = append(out, bicepKey(k)+": "+bicepValue(t, ""))
		}
	}
	sort.Strings(out)
	return out
}

// Locks first, largest blast radius first; prerequisites before what needs them; irreversible
// changes left out unless asked for.
func TestOrderingAndIrreversible(t *testing.T) {
	p := plan(t, Options{})
	seenSetting := false
	last := 1 << 30
	pos := map[string]int{}
	for i, a := range p.Actions {
		pos[a.Key] = i
		if a.Irreversible {
			t.Errorf("%s %s is irreversible but planned without --allow-irreversible", a.ID, a.Title)
		}
		if a.Kind == "lock" {
			if seenSetting {
				t.Errorf("%s: a lock after a setting", a.ID)
			}
			if a.BlastRadius > last {
				t.Errorf("%s: blast radius %d after %d", a.ID, a.BlastRadius, last)
			}
			last = a.BlastRadius
		} else {
			seenSetting = true
		}
		for _, r := range a.Requires {
			if r >= a.ID {
				t.Errorf("%s requires %s, which comes later", a.ID, r)
			}
		}
	}
	left := map[string]bool{}
	for _, l := range p.Left {
		left[l.Check] = true
		if strings.HasPrefix(l.Reason, "irreversible") && l.Command == "" {
			t.Errorf("left %s without its command", l.Check)
		}
	}
	for _, c := range []string{"KV-002", "RSV-001", "RSV-002"} {
		if !left[c] {
			t.Errorf("%s's irreversible change is not listed as left out", c)
		}
	}
	all := plan(t, Options{AllowIrreversible: true})
	kinds := map[string]int{}
	for i, a := range all.Actions {
		kinds[a.Kind+"|"+a.Resource.ID] = i
	}
	for _, pair := range [][2]string{{"blob-soft-delete", "blob-point-in-time-restore"}, {"blob-versioning", "blob-point-in-time-restore"},
		{"blob-change-feed", "blob-point-in-time-restore"}, {"rsv-soft-delete", "rsv-soft-delete-always-on"}, {"rsv-immutability", "rsv-immutability-locked"},
		{"rsv-soft-delete", "rsv-immutability"}} {
		n := 0
		for k, i := range kinds {
			kind, res, _ := strings.Cut(k, "|")
			if kind != pair[1] {
				continue
			}
			if j, ok := kinds[pair[0]+"|"+res]; ok {
				n++
				if j > i {
					t.Errorf("%s comes after %s on %s", pair[0], pair[1], res)
				}
			}
		}
		if n == 0 && pair[1] != "rsv-immutability" {
			t.Errorf("no %s with its prerequisite %s in the Contoso plan", pair[1], pair[0])
		}
	}
}
