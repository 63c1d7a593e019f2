package apps

import (
	"fmt"
	"strings"
	"testing"

	"github.com/bulwarkhq/bulwark/internal/arm"
	"github.com/bulwarkhq/bulwark/internal/config"
)

const rgPay = "/subscriptions/s/resourceGroups/rg-pay"

func TestParseErrors(t *testing.T) {
	for in, want := range map[string]string{
		"apps:\n  - name: a\n  - name: A\n":                                   `line 3: application "A" is already defined at line 2`,
		"apps:\n  - name: a\n    dependsOn: [b]\n":                            `line 2: application "a" depends on "b", which is not defined`,
		"apps:\n  - name: a\n    resources:\n      - resourceGroup: rg-pay\n": `line 2: application "a": "rg-pay" is not an ARM resource ID`,
		"apps:\n  - name: a\n    resources:\n      - {}\n":                    "needs exactly one of id, resourceGroup or tag",
		"apps:\n  - name: a\n    rto: soon\n":                                 `line 3: "soon" is not a duration`,
		"apps:\n  - name: a\n    owner: x\n    colour: blue\n":                `line 4: unknown setting "colour"`,
		"apps:\n  - owner: x\n":                                               "line 2: application without a name",
		"apps:\n  - name: a\n    drills:\n      - date: yesterday\n":          `drill date "yesterday" is not YYYY-MM-DD`,
	} {
		_, err := Parse(strings.NewReader(in))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q:\n got %v\nwant %q", in, err, want)
		}
	}
}

func TestResolve(t *testing.T) {
	f, err := Parse(strings.NewReader(`apps:
  - name: payments
    critical: true
    rto: 4h
    resources:
      - resourceGroup: ` + rgPay + `
  - name: shop
    resources:
      - tag: {team: shop}
      - id: /subscriptions/s/resourceGroups/rg-pay/providers/Microsoft.Storage/storageAccounts/shared
`))
	if err != nil {
		t.Fatal(err)
	}
	x := arm.NewIndex([]*arm.Object{
		arm.MustObject(`{"id":"/subscriptions/s/resourceGroups/RG-PAY/providers/Microsoft.Compute/virtualMachines/vm1","type":"Microsoft.Compute/virtualMachines"}`),
		arm.MustObject(`{"id":"/subscriptions/s/resourceGroups/rg-pay/providers/Microsoft.Storage/storageAccounts/shared","type":"Microsoft.Storage/storageAccounts"}`),
		arm.MustObject(`{"id":"/subscriptions/s/resourceGroups/rg-x/providers/Microsoft.Web/sites/w","type":"Microsoft.Web/sites","tags":{"Team":"Shop"}}`),
		arm.MustObject(`{"id":"/subscriptions/s/resourceGroups/rg-y/providers/Microsoft.Web/sites/t","type":"Microsoft.Web/sites","tags":{"app":"billing"}}`),
		arm.MustObject(`{"id":"/subscriptions/s/resourceGroups/rg-z/providers/Microsoft.Web/sites/none","type":"Microsoft.Web/sites"}`),
	})
	m := Resolve(f, x, config.Default())
	want := map[string]string{"vm1": "payments/apps.yaml resourceGroup", "shared": "shop/apps.yaml id", "w": "shop/apps.yaml tag", "t": "billing/application tag", "none": ""}
	for _, o := range x.All() {
		app, how, _ := m.Of(o.ID)
		got := ""
		if app != "" {
			got = app + "/" + string(how)
		}
		if got != want[o.Name()] {
			t.Errorf("%s: got %q, want %q", o.Name(), got, want[o.Name()])
		}
	}
	if a, ok := m.App(x.All()[0].ID); !ok || !a.Critical || a.RTO.Hours() != 4 {
		t.Errorf("app of vm1: %+v", a)
	}
	// Without apps.yaml, the resource group name is the last resort.
	m = Resolve(nil, x, config.Default())
	if app, how, _ := m.Of(x.All()[4].ID); app != "rg-z" || how != ByGroupName {
		t.Errorf("fallback: %s %s", app, how)
	}
}

// CycleThrough finds the shortest dependsOn cycle through an application, in time linear in
// apps.yaml: a ring of 100,000 applications, and none where there is none.
func TestCycleThrough(t *testing.T) {
	f := &File{}
	const n = 100_000
	for i := 0; i < n; i++ {
		f.Apps = append(f.Apps, App{Name: fmt.Sprintf("app%d", i), DependsOn: []string{fmt.Sprintf("app%d", (i+1)%n), "missing"}})
	}
	c := f.CycleThrough("APP0")
	if len(c) != n+1 || c[0] != "app0" || c[1] != "app1" || c[n-1] != fmt.Sprintf("app%d", n-1) || c[n] != "app0" {
		t.Errorf("ring: %d names, %v … %v", len(c), c[:3], c[len(c)-2:])
	}
	f.Apps[0].DependsOn = append(f.Apps[0].DependsOn, "app0")
	if c := f.CycleThrough("app0"); len(c) != 2 {
		t.Errorf("self-dependency: %v", c)
	}
	f.Apps = []App{{Name: "a", DependsOn: []string{"b"}}, {Name: "b", DependsOn: []string{"c"}}, {Name: "c"}}
	if c := f.CycleThrough("a"); c != nil {
		t.Errorf("no cycle: %v", c)
	}
}
