package iac

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/bulwarkhq/bulwark/internal/arm"
)

func TestContosoTemplates(t *testing.T) {
	inv, err := loadDir(filepath.Join("..", "..", "examples", "contoso", "iac"))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"Microsoft.Automation/automationAccounts aa-platform",
		"Microsoft.Network/azureFirewalls afw-hub",
		"Microsoft.Network/dnszones contoso.example",
		"Microsoft.Network/loadBalancers lb-shop-internal",
		"Microsoft.Network/networkSecurityGroups nsg-payments-app",
		"Microsoft.Network/publicIPAddresses pip-afw-hub",
		"Microsoft.Network/routeTables ",
		"Microsoft.Network/virtualNetworks vnet-hub",
		"Microsoft.Network/virtualNetworks vnet-payments",
		"Microsoft.Network/virtualNetworks vnet-shop",
	}
	if d := cmp.Diff(want, SortedNames(inv.Resources)); d != "" {
		t.Errorf("declared (-want +got)\n%s", d)
	}
	if len(inv.Notes) != 1 || !strings.Contains(inv.Notes[0], "parameter 'environment' has no default value") {
		t.Errorf("notes: %v", inv.Notes)
	}
	if len(inv.UnresolvedOfType("microsoft.network/routetables")) != 1 {
		t.Error("the unresolved route table must be listed")
	}
}

func TestCompareVNet(t *testing.T) {
	inv := &Inventory{}
	tpl := `{"$schema":"https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#","parameters":{"n":{"type":"string","defaultValue":"vnet-a"}},
	"variables":{"space":"10.1.0.0/16"},"resources":[{"type":"Microsoft.Network/virtualNetworks","name":"[parameters('n')]",
	"properties":{"addressSpace":{"addressPrefixes":["[variables('space')]"]},"subnets":[{"name":"app","properties":{"addressPrefix":"10.1.1.0/24"}},{"name":"old","properties":{"addressPrefix":"10.1.9.0/24"}}]}}]}`
	if err := inv.Add("t.json", []byte(tpl)); err != nil {
		t.Fatal(err)
	}
	live := arm.MustObject(`{"id":"/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/VNET-A","type":"microsoft.network/virtualnetworks",
	"properties":{"addressSpace":{"addressPrefixes":["10.1.0.0/16"]},"subnets":[{"name":"app","properties":{"addressPrefix":"10.1.2.0/24"}},{"name":"new","properties":{"addressPrefix":"10.1.3.0/24"}}]}}`)
	decl, ok := inv.Find(live)
	if !ok {
		t.Fatal("not matched by type and name")
	}
	diffs, compared := Compare(decl, live)
	var got []string
	for _, d := range diffs {
		got = append(got, d.Path+": "+d.Declared+" -> "+d.Live)
	}
	want := []string{
		"properties.subnets[new]: absent -> present",
		"properties.subnets[app].properties.addressPrefix: 10.1.1.0/24 -> 10.1.2.0/24",
		"properties.subnets[old]: present -> absent",
	}
	if !compared || cmp.Diff(want, got) != "" {
		t.Errorf("compared=%v (-want +got)\n%s", compared, cmp.Diff(want, got))
	}
}

func TestTerraform(t *testing.T) {
	dir := t.TempDir()
	state := `{"version":4,"terraform_version":"1.9.5","serial":3,"lineage":"x","outputs":{},"resources":[
	{"mode":"managed","type":"azurerm_virtual_network","name":"hub","provider":"provider[\"registry.terraform.io/hashicorp/azurerm\"]","instances":[{"schema_version":0,"attributes":{
	"id":"/subscriptions/s/resourceGroups/rg-hub/providers/Microsoft.Network/virtualNetworks/vnet-hub","name":"vnet-hub","resource_group_name":"rg-hub","address_space":["10.0.0.0/16"],
	"subnet":[{"name":"GatewaySubnet","address_prefixes":["10.0.0.0/27"]}]}}]},
	{"mode":"data","type":"azurerm_client_config","name":"current","instances":[{"attributes":{"tenant_id":"t"}}]}]}`
	plan := `{"format_version":"1.2","planned_values":{"root_module":{"child_modules":[{"address":"module.net","resources":[{"address":"module.net.azurerm_network_security_group.web","mode":"managed","type":"azurerm_network_security_group","name":"web",
	"values":{"name":"nsg-web","resource_group_name":"rg-web","security_rule":[{"name":"https","priority":100,"direction":"Inbound","access":"Allow","protocol":"Tcp","source_address_prefix":"*","destination_address_prefix":"*","destination_port_range":"443"}]}}]}]}}}`
	os.WriteFile(filepath.Join(dir, "terraform.tfstate"), []byte(state), 0o644)
	os.WriteFile(filepath.Join(dir, "plan.json"), []byte(plan), 0o644)
	inv, err := loadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff([]string{"Microsoft.Network/networkSecurityGroups nsg-web", "Microsoft.Network/virtualNetworks vnet-hub"}, SortedNames(inv.Resources)); d != "" {
		t.Fatalf("(-want +got)\n%s", d)
	}
	hub := arm.MustObject(`{"id":"/subscriptions/S/resourceGroups/RG-HUB/providers/Microsoft.Network/virtualNetworks/vnet-hub","type":"Microsoft.Network/virtualNetworks","properties":{"addressSpace":{"addressPrefixes":["10.0.0.0/16"]},"subnets":[{"name":"GatewaySubnet","properties":{"addressPrefix":"10.0.0.0/27"}}]}}`)
	decl, ok := inv.Find(hub)
	if !ok || decl.ID == "" {
		t.Fatal("state resources match by ID")
	}
	if diffs, compared := Compare(decl, hub); !compared || len(diffs) != 0 {
		t.Errorf("identical VNet: %v %v", compared, diffs)
	}
	other := arm.MustObject(`{"id":"/subscriptions/s/resourceGroups/rg-other/providers/Microsoft.Network/networkSecurityGroups/nsg-web","type":"Microsoft.Network/networkSecurityGroups"}`)
	if _, ok := inv.Find(other); ok {
		t.Error("plan resources must match the resource group when it is declared")
	}
}

func TestBadInput(t *testing.T) {
	inv := &Inventory{}
	if err := inv.Add("x.json", []byte("{")); err == nil || !strings.Contains(err.Error(), "x.json: not JSON") {
		t.Errorf("got %v", err)
	}
	inv.Add("y.json", []byte(`{"value":[]}`))
	if len(inv.Notes) != 1 || !strings.Contains(inv.Notes[0], "y.json: not an ARM template") {
		t.Errorf("notes: %v", inv.Notes)
	}
}

// loadDir reads a folder as load.IaC does (which imports this package).
func loadDir(dir string) (*Inventory, error) {
	inv := &Inventory{}
	return inv, inv.AddFS(os.DirFS(dir), ".", func(rel string) string { return filepath.Join(dir, filepath.FromSlash(rel)) })
}
