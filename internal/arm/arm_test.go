package arm

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseID(t *testing.T) {
	tests := []struct {
		in                            string
		sub, rg, typ, name, namespace string
		parent                        string
		extension                     bool
	}{
		{in: "/subscriptions/s1/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm1",
			sub: "s1", rg: "rg", typ: "Microsoft.Compute/virtualMachines", name: "vm1", namespace: "Microsoft.Compute",
			parent: "/subscriptions/s1/resourceGroups/rg"},
		{in: "/Subscriptions/S1/resourcegroups/RG/providers/Microsoft.DataProtection/Backupvaults/bv",
			sub: "S1", rg: "RG", typ: "Microsoft.DataProtection/Backupvaults", name: "bv", namespace: "Microsoft.DataProtection",
			parent: "/Subscriptions/S1/resourcegroups/RG"},
		{in: "/subscriptions/s1/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/v/subnets/sn",
			sub: "s1", rg: "rg", typ: "Microsoft.Network/virtualNetworks/subnets", name: "sn", namespace: "Microsoft.Network",
			parent: "/subscriptions/s1/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/v"},
		{in: "/subscriptions/s1/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm/providers/Microsoft.Authorization/locks/l1",
			sub: "s1", rg: "rg", typ: "Microsoft.Authorization/locks", name: "l1", namespace: "Microsoft.Authorization",
			parent: "/subscriptions/s1/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm", extension: true},
		{in: "/subscriptions/s1/providers/Microsoft.Authorization/locks/l1",
			sub: "s1", typ: "Microsoft.Authorization/locks", name: "l1", namespace: "Microsoft.Authorization",
			parent: "/subscriptions/s1", extension: true},
		{in: "/subscriptions/s1/resourceGroups/rg/providers/Microsoft.Authorization/locks/l1",
			sub: "s1", rg: "rg", typ: "Microsoft.Authorization/locks", name: "l1", namespace: "Microsoft.Authorization",
			parent: "/subscriptions/s1/resourceGroups/rg", extension: true},
		{in: "/providers/Microsoft.Management/managementGroups/mg1/providers/Microsoft.Authorization/roleAssignments/ra",
			typ: "Microsoft.Authorization/roleAssignments", name: "ra", namespace: "Microsoft.Authorization",
			parent: "/providers/Microsoft.Management/managementGroups/mg1", extension: true},
		{in: "/subscriptions/s1/resourceGroups/rg/providers/Microsoft.OperationalInsights/workspaces/w/providers/Microsoft.SecurityInsights/onboardingStates/default",
			sub: "s1", rg: "rg", typ: "Microsoft.SecurityInsights/onboardingStates", name: "default", namespace: "Microsoft.SecurityInsights",
			parent: "/subscriptions/s1/resourceGroups/rg/providers/Microsoft.OperationalInsights/workspaces/w", extension: true},
		{in: "/subscriptions/s1/providers/Microsoft.Insights/diagnosticSettings/ds",
			sub: "s1", typ: "Microsoft.Insights/diagnosticSettings", name: "ds", namespace: "Microsoft.Insights",
			parent: "/subscriptions/s1", extension: true},
		{in: "/subscriptions/s1", sub: "s1", typ: "Microsoft.Resources/subscriptions", name: "s1", namespace: "Microsoft.Resources"},
		{in: "/subscriptions/s1/resourceGroups/rg/", sub: "s1", rg: "rg", typ: "Microsoft.Resources/resourceGroups", name: "rg",
			namespace: "Microsoft.Resources", parent: "/subscriptions/s1"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			id, err := ParseID(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			var parent string
			if p, ok := id.Parent(); ok {
				parent = p.String()
			}
			got := []any{id.SubscriptionID(), id.ResourceGroup(), id.Type(), id.Name(), id.Namespace(), parent, id.IsExtension()}
			want := []any{tt.sub, tt.rg, tt.typ, tt.name, tt.namespace, tt.parent, tt.extension}
			if d := cmp.Diff(want, got); d != "" {
				t.Errorf("(-want +got)\n%s", d)
			}
		})
	}
}

func TestParseIDRejectsMalformed(t *testing.T) {
	for _, in := range []string{"", "resourceGroups/rg", "{resourceId}", "/subscriptions/s1/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines", "/"} {
		if _, err := ParseID(in); err == nil {
			t.Errorf("ParseID(%q) succeeded, want error", in)
		}
	}
}

func TestIDCaseInsensitive(t *testing.T) {
	a := MustParseID("/Subscriptions/ABC/resourceGroups/RG-1/providers/Microsoft.RecoveryServices/Vaults/v1")
	b := MustParseID("/subscriptions/abc/resourcegroups/rg-1/providers/microsoft.recoveryservices/vaults/V1")
	if !a.Equal(b) || a.Key() != b.Key() {
		t.Fatalf("%s and %s should be equal", a, b)
	}
	if a.String() == b.String() {
		t.Fatal("original spelling must be kept")
	}
	rg, _ := b.ResourceGroupScope()
	if !rg.Contains(a) || a.Contains(rg) {
		t.Errorf("containment wrong: %s / %s", rg, a)
	}
	other := MustParseID("/subscriptions/abc/resourceGroups/rg-10")
	if other.Contains(a) {
		t.Errorf("%s must not contain %s (prefix without separator)", other, a)
	}
	sub, ok := a.SubscriptionScope()
	if !ok || sub.String() != "/Subscriptions/ABC" {
		t.Errorf("SubscriptionScope = %q, %v", sub, ok)
	}
}

func TestPropertyAccess(t *testing.T) {
	o := MustObject(`{
	  "id": "/subscriptions/s/resourceGroups/rg/providers/Microsoft.RecoveryServices/vaults/v",
	  "type": "Microsoft.RecoveryServices/vaults", "name": "v", "tags": {"Criticality": "High"},
	  "properties": {
	    "securitySettings": {"softDeleteSettings": {"softDeleteState": "AlwaysON", "softDeleteRetentionPeriodInDays": "14"}},
	    "redundancySettings": {"standardTierStorageRedundancy": "GeoRedundant"},
	    "flags": ["a", {"deep": "True"}]
	  }}`)
	if v := o.Get("Properties.SecuritySettings.softDeleteSettings.softDeleteState"); !v.Is("AlwaysOn") {
		t.Errorf("enum compare ignoring case: got %s", v.Display())
	}
	if n, ok := o.Get("properties.securitySettings.softDeleteSettings.softDeleteRetentionPeriodInDays").Int(); !ok || n != 14 {
		t.Errorf("string integer: %d %v", n, ok)
	}
	if b, ok := o.Get("properties.flags.1.deep").Bool(); !ok || !b {
		t.Errorf("string boolean in array: %v %v", b, ok)
	}
	if v, ok := o.Tag("criticality"); !ok || v != "High" {
		t.Errorf("tag lookup ignoring case: %q %v", v, ok)
	}
	if v := o.Get("properties.missing.path"); v.Exists() || v.Display() != "absent" {
		t.Errorf("missing path: %s", v.Display())
	}
	// Absent property with a service default.
	v := o.Prop("properties.securitySettings.immutabilitySettings.state")
	d, ok := v.Default()
	if !ok || !v.Is("Disabled") || d.APIVersion == "" {
		t.Errorf("default: %s %+v", v.Display(), d)
	}
	// Present property wins over the default.
	if v := o.Prop("properties.securitySettings.softDeleteSettings.softDeleteState"); !v.Is("AlwaysOn") {
		t.Errorf("present value: %s", v.Display())
	}
}

func TestNewObjectErrors(t *testing.T) {
	if _, err := NewObject([]byte(`{"name":"x"}`), Source{}); !IsNoID(err) {
		t.Errorf("no id: %v", err)
	}
	if _, err := NewObject([]byte(`[1]`), Source{}); err == nil {
		t.Error("array accepted as object")
	}
	if _, err := NewObject([]byte(`{"id":"not-an-id","type":"x"}`), Source{}); err == nil || IsNoID(err) {
		t.Errorf("malformed id: %v", err)
	}
	o, err := NewObject([]byte(`{"id":"/subscriptions/s/resourceGroups/rg/providers/Microsoft.Sql/servers/a/databases/b/replicationLinks/x"}`), Source{})
	if err != nil || !o.TypeDerived || o.Type() != "Microsoft.Sql/servers/databases/replicationLinks" {
		t.Errorf("derived type: %v %v", o, err)
	}
}

func TestIndex(t *testing.T) {
	const sub = "/subscriptions/s"
	objs := []*Object{
		MustObject(`{"id":"/subscriptions/s/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/st","type":"Microsoft.Storage/storageAccounts"}`),
		MustObject(`{"id":"/subscriptions/s/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/st/blobServices/default","type":"Microsoft.Storage/storageAccounts/blobServices"}`),
		MustObject(`{"id":"/subscriptions/s/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/ST/providers/Microsoft.Authorization/locks/res","type":"Microsoft.Authorization/locks"}`),
		MustObject(`{"id":"/subscriptions/S/resourceGroups/RG/providers/Microsoft.Authorization/locks/group","type":"Microsoft.Authorization/locks"}`),
		MustObject(`{"id":"/subscriptions/s/providers/Microsoft.Authorization/locks/sub","type":"Microsoft.Authorization/locks"}`),
		MustObject(`{"id":"/subscriptions/s/resourceGroups/other/providers/Microsoft.Authorization/locks/elsewhere","type":"Microsoft.Authorization/locks"}`),
	}
	x := NewIndex(objs)
	st := objs[0].ID
	if o, ok := x.Get("/SUBSCRIPTIONS/s/resourcegroups/rg/providers/microsoft.storage/storageaccounts/st"); !ok || o != objs[0] {
		t.Fatal("Get ignoring case failed")
	}
	if got := len(x.OfType("microsoft.authorization/LOCKS")); got != 4 {
		t.Errorf("OfType locks = %d, want 4", got)
	}
	if got := x.ChildrenOfType(st, "Microsoft.Storage/storageAccounts/blobServices"); len(got) != 1 {
		t.Errorf("blobServices children = %d", len(got))
	}
	var names []string
	for _, l := range x.ExtensionsCovering(st, "Microsoft.Authorization/locks") {
		names = append(names, l.Name())
	}
	if d := cmp.Diff([]string{"res", "group", "sub"}, names); d != "" {
		t.Errorf("locks covering (-want +got)\n%s", d)
	}
	if got := x.ExtensionsAt(MustParseID(sub), "Microsoft.Authorization/locks"); len(got) != 1 {
		t.Errorf("locks at subscription = %d", len(got))
	}
	// Descendants reach through parents that are not in the snapshot.
	item := MustObject(`{"id":"/subscriptions/s/resourceGroups/rg/providers/Microsoft.RecoveryServices/vaults/v/replicationFabrics/f/replicationProtectionContainers/c/replicationProtectedItems/i","type":"Microsoft.RecoveryServices/vaults/replicationFabrics/replicationProtectionContainers/replicationProtectedItems"}`)
	vault := MustObject(`{"id":"/subscriptions/s/resourceGroups/rg/providers/Microsoft.RecoveryServices/vaults/v","type":"Microsoft.RecoveryServices/vaults"}`)
	vx := NewIndex([]*Object{item, vault, objs[0]})
	if got := vx.Descendants(vault.ID, item.Type()); len(got) != 1 || got[0] != item {
		t.Errorf("descendants of the vault: %v", got)
	}
	if got := vx.Descendants(MustParseID("/subscriptions/S/resourceGroups/RG"), ""); len(got) != 3 {
		t.Errorf("descendants of the group: %d", len(got))
	}
	// A duplicate ID replaces the earlier object.
	dup := MustObject(`{"id":"/subscriptions/S/resourceGroups/RG/providers/Microsoft.Storage/storageAccounts/st","type":"Microsoft.Storage/storageAccounts","name":"new"}`)
	x = NewIndex(append(objs, dup))
	if x.Len() != len(objs) || len(x.OfType("Microsoft.Storage/storageAccounts")) != 1 {
		t.Errorf("dedup in index: len %d", x.Len())
	}
}

func TestComponentOf(t *testing.T) {
	tests := map[string]Component{
		"Microsoft.Compute/virtualMachines":                                                   ComponentVM,
		"Microsoft.Storage/storageAccounts/blobServices":                                      ComponentData,
		"Microsoft.Sql/servers/databases/backupShortTermRetentionPolicies":                    ComponentData,
		"Microsoft.RecoveryServices/vaults/backupFabrics/protectionContainers/protectedItems": ComponentRecovery,
		"microsoft.network/azureFirewalls":                                                    ComponentConfig,
		"microsoft.visualstudio/account":                                                      ComponentAutomation,
		"Microsoft.Authorization/locks":                                                       ComponentNone,
	}
	for typ, want := range tests {
		if got := ComponentOf(typ); got != want {
			t.Errorf("ComponentOf(%s) = %q, want %q", typ, got, want)
		}
	}
}

// The spellings ARM really returns for one resource all give the same key and type, and String
// keeps what was written. Shapes: REST spec monitor 2021-05-01-preview
// listSubscriptionDiagnosticSettings.json (no leading '/', provider "AzureResourceManager", type
// null) and azure-cli issue 18242 (the CLI prints "subscriptions/…/providers/microsoft.insights/…");
// REST spec authorization 2020-10-01 GetRoleEligibilityScheduleInstancesByScope.json (scope
// "providers/Microsoft.Subscription/subscriptions/{id}").
func TestParseIDRealSpellings(t *testing.T) {
	const sub = "fb9f25f9-5785-4510-a38f-a62f188eb9f8"
	canon := "/subscriptions/" + sub + "/providers/microsoft.insights/diagnosticsettings/ds4"
	for _, in := range []string{
		"subscriptions/" + sub + "/providers/AzureResourceManager/diagnosticSettings/ds4",
		"subscriptions/" + sub + "/providers/microsoft.insights/diagnosticSettings/ds4",
		"/subscriptions/" + sub + "/providers/Microsoft.Insights/diagnosticSettings/ds4",
		"/providers/Microsoft.Subscription/subscriptions/" + sub + "/providers/Microsoft.Insights/diagnosticSettings/ds4",
	} {
		id, err := ParseID(in)
		if err != nil {
			t.Fatalf("ParseID(%q): %v", in, err)
		}
		if id.Key() != canon || KeyOf(in) != canon {
			t.Errorf("ParseID(%q).Key() = %q, KeyOf = %q, want %q", in, id.Key(), KeyOf(in), canon)
		}
		if !strings.EqualFold(id.Type(), "Microsoft.Insights/diagnosticSettings") || id.SubscriptionID() != sub || !id.IsExtension() {
			t.Errorf("%q: type %q, subscription %q, extension %v", in, id.Type(), id.SubscriptionID(), id.IsExtension())
		}
		if p, ok := id.Parent(); !ok || p.Key() != "/subscriptions/"+sub {
			t.Errorf("%q: parent %v", in, p)
		}
		if want := strings.TrimPrefix(in, "/"); strings.TrimPrefix(id.String(), "/") != want || !strings.HasPrefix(id.String(), "/") {
			t.Errorf("String() = %q, want %q as written, with its leading '/'", id.String(), in)
		}
	}
}
