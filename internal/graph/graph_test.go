package graph

import (
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/bulwarkhq/bulwark/internal/arm"
)

const rg = "/subscriptions/s/resourceGroups/rg"

func obj(typ, name, props string) *arm.Object {
	ns, rest, _ := strings.Cut(typ, "/")
	return arm.MustObject(fmt.Sprintf(`{"id":"%s/providers/%s/%s/%s","type":"%s","name":"%s","properties":%s}`, rg, ns, rest, name, typ, name, props))
}

type fakeApps map[string]string

func (f fakeApps) Of(id arm.ID) (string, bool) { a, ok := f[id.Name()]; return a, ok }
func (f fakeApps) DependsOn(app string) []string {
	if app == "web" {
		return []string{"net"}
	}
	return nil
}

func estate() []*arm.Object {
	return []*arm.Object{
		arm.MustObject(`{"id":"` + rg + `","type":"Microsoft.Resources/resourceGroups","name":"rg"}`),
		obj("Microsoft.Network/virtualNetworks", "vnet", `{"subnets":[{"id":"`+rg+`/providers/Microsoft.Network/virtualNetworks/vnet/subnets/a"}]}`),
		obj("Microsoft.Network/networkInterfaces", "nic", `{"ipConfigurations":[{"properties":{"subnet":{"id":"`+strings.ToUpper(rg)+`/providers/Microsoft.Network/virtualNetworks/VNET/subnets/a"}}}]}`),
		obj("Microsoft.Compute/virtualMachines", "vm", `{"networkProfile":{"networkInterfaces":[{"id":"`+rg+`/providers/Microsoft.Network/networkInterfaces/nic"}]},"storageProfile":{"osDisk":{"managedDisk":{"id":"`+rg+`/providers/Microsoft.Compute/disks/d"}}}}`),
		obj("Microsoft.Compute/disks", "d", `{"encryption":{"diskEncryptionSetId":"`+rg+`/providers/Microsoft.Compute/diskEncryptionSets/des"}}`),
		obj("Microsoft.Compute/diskEncryptionSets", "des", `{"activeKey":{"keyUrl":"https://KV1.vault.azure.net/keys/k/1"}}`),
		obj("Microsoft.KeyVault/vaults", "kv1", `{}`),
		arm.MustObject(`{"id":"` + rg + `/providers/Microsoft.Network/virtualNetworks/vnet/providers/Microsoft.Authorization/locks/l","type":"Microsoft.Authorization/locks","name":"l"}`),
	}
}

func TestEdgesAndBlastRadius(t *testing.T) {
	x := arm.NewIndex(estate())
	g := Build(x, nil)
	get := func(name string) *arm.Object {
		for _, o := range x.All() {
			if o.Name() == name {
				return o
			}
		}
		t.Fatalf("no %s", name)
		return nil
	}
	var deps []string
	for _, e := range g.DependsOn(get("vm")) {
		deps = append(deps, e.To.Name()+" via "+e.Why)
	}
	want := []string{"d via properties.storageProfile.osDisk.managedDisk.id", "nic via properties.networkProfile.networkInterfaces.0.id", "rg via parent"}
	if d := cmp.Diff(want, sorted(deps)); d != "" {
		t.Errorf("vm dependencies (-want +got)\n%s", d)
	}
	// subnet IDs resolve to the VNet; the key URL resolves to the vault; the lock is not counted.
	for name, want := range map[string]int{"vnet": 2, "kv1": 3, "des": 2, "vm": 0, "rg": 6} {
		if got := g.BlastRadius(get(name).ID); got != want {
			t.Errorf("BlastRadius(%s) = %d, want %d", name, got, want)
		}
	}
}

func sorted(s []string) []string {
	out := append([]string(nil), s...)
	sort.Strings(out)
	return out
}

func TestAppDependsOn(t *testing.T) {
	x := arm.NewIndex(estate())
	g := Build(x, fakeApps{"vm": "web", "vnet": "net", "kv1": "net"})
	vm, _ := x.Get(rg + "/providers/Microsoft.Compute/virtualMachines/vm")
	var why []string
	for _, e := range g.DependsOn(vm) {
		if strings.HasPrefix(e.Why, "app") {
			why = append(why, e.To.Name())
		}
	}
	if d := cmp.Diff([]string{"kv1", "vnet"}, sorted(why)); d != "" {
		t.Errorf("app edges (-want +got)\n%s", d)
	}
}

func TestOrderAndCycles(t *testing.T) {
	objs := estate()
	// Make the VNet depend on the VM: a cycle vnet → vm → nic → vnet.
	objs[1] = obj("Microsoft.Network/virtualNetworks", "vnet", `{"x":"`+rg+`/providers/Microsoft.Compute/virtualMachines/vm"}`)
	x := arm.NewIndex(objs)
	g := Build(x, nil)
	order, cycles := g.Order(x.All())
	pos := map[string]int{}
	for i, o := range order {
		pos[o.Name()] = i
	}
	if len(order) != len(objs) {
		t.Fatalf("order has %d of %d", len(order), len(objs))
	}
	for _, pair := range [][2]string{{"kv1", "des"}, {"des", "d"}, {"d", "vm"}, {"rg", "vnet"}} {
		if pos[pair[0]] > pos[pair[1]] {
			t.Errorf("%s must come before %s: %v", pair[0], pair[1], pos)
		}
	}
	if len(cycles) != 1 || cycles[0][0].Name() != "vnet" || len(cycles[0]) != 3 {
		var names []string
		for _, c := range cycles {
			for _, o := range c {
				names = append(names, o.Name())
			}
		}
		t.Errorf("cycles: %v (want vnet first of 3)", names)
	}
}

// ARM's read-only back-references (a NIC's virtualMachine, an NSG's networkInterfaces and subnets,
// a VNet subnet's ipConfigurations, a public IP's ipConfiguration, private endpoint connections)
// say what uses a resource, not what it uses: they must not become edges, or every VM and its NIC
// would be a cycle.
func TestBackReferencesAreNotEdges(t *testing.T) {
	nicID := rg + "/providers/Microsoft.Network/networkInterfaces/nic"
	vmID := rg + "/providers/Microsoft.Compute/virtualMachines/vm"
	objs := []*arm.Object{
		obj("Microsoft.Network/virtualNetworks", "vnet", `{"subnets":[{"id":"`+rg+`/providers/Microsoft.Network/virtualNetworks/vnet/subnets/a","properties":{"ipConfigurations":[{"id":"`+nicID+`/ipConfigurations/ip1"}],"networkSecurityGroup":{"id":"`+rg+`/providers/Microsoft.Network/networkSecurityGroups/nsg"}}}]}`),
		obj("Microsoft.Network/networkInterfaces", "nic", `{"virtualMachine":{"id":"`+vmID+`"},"ipConfigurations":[{"id":"`+nicID+`/ipConfigurations/ip1","properties":{"subnet":{"id":"`+rg+`/providers/Microsoft.Network/virtualNetworks/vnet/subnets/a"},"publicIPAddress":{"id":"`+rg+`/providers/Microsoft.Network/publicIPAddresses/pip"}}}]}`),
		obj("Microsoft.Compute/virtualMachines", "vm", `{"networkProfile":{"networkInterfaces":[{"id":"`+nicID+`"}]}}`),
		obj("Microsoft.Network/networkSecurityGroups", "nsg", `{"networkInterfaces":[{"id":"`+nicID+`"}],"subnets":[{"id":"`+rg+`/providers/Microsoft.Network/virtualNetworks/vnet/subnets/a"}]}`),
		obj("Microsoft.Network/publicIPAddresses", "pip", `{"ipConfiguration":{"id":"`+nicID+`/ipConfigurations/ip1"}}`),
		obj("Microsoft.KeyVault/vaults", "kv", `{"privateEndpointConnections":[{"properties":{"privateEndpoint":{"id":"`+rg+`/providers/Microsoft.Network/privateEndpoints/pe"}}}]}`),
		obj("Microsoft.Network/privateEndpoints", "pe", `{"privateLinkServiceConnections":[{"properties":{"privateLinkServiceId":"`+rg+`/providers/Microsoft.KeyVault/vaults/kv"}}]}`),
	}
	x := arm.NewIndex(objs)
	g := Build(x, nil)
	_, cycles := g.Order(x.All())
	if len(cycles) != 0 {
		t.Errorf("back-references made %d cycles: %v", len(cycles), cycles)
	}
	deps := map[string][]string{}
	for _, o := range objs {
		for _, e := range g.DependsOn(o) {
			deps[o.Name()] = append(deps[o.Name()], e.To.Name())
		}
		sort.Strings(deps[o.Name()])
	}
	want := map[string][]string{"vm": {"nic"}, "nic": {"pip", "vnet"}, "vnet": {"nsg"}, "pe": {"kv"}}
	if d := cmp.Diff(want, deps); d != "" {
		t.Errorf("edges (-want +got):\n%s", d)
	}
}
