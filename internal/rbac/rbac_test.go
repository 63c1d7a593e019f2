package rbac

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/bulwarkhq/bulwark/internal/arm"
)

func TestMatch(t *testing.T) {
	for _, tt := range []struct {
		p, a string
		want bool
	}{
		{"*", "Microsoft.Authorization/locks/delete", true},
		{"Microsoft.Authorization/*/Delete", "microsoft.authorization/locks/delete", true},
		{"Microsoft.Authorization/*/Delete", "Microsoft.Authorization/locks/write", false},
		{"Microsoft.Authorization/locks/*", "Microsoft.Authorization/locks/delete", true},
		{"*/read", "Microsoft.Compute/virtualMachines/read", true},
		{"*/read", "Microsoft.Compute/virtualMachines/delete", false},
		{"Microsoft.KeyVault/*", "Microsoft.KeyVault/locations/deletedVaults/purge/action", true},
		{"a*b*c", "aXbYbZc", true},
		{"a*b*c", "aXbYcZ", false},
	} {
		if got := Match(tt.p, tt.a); got != tt.want {
			t.Errorf("Match(%q, %q) = %v", tt.p, tt.a, got)
		}
	}
}

func TestBuiltinsAndNotActions(t *testing.T) {
	m := New(arm.NewIndex(nil))
	for guid, want := range map[string]bool{Owner: true, Contributor: false, UserAccessAdministrator: true, Reader: false, BackupContributor: false} {
		r, _ := m.Role(guid)
		if got := r.Allows("Microsoft.Authorization/locks/delete"); got != want {
			t.Errorf("%s locks/delete = %v, want %v", r.Name, got, want)
		}
	}
	kvc, _ := m.Role(KeyVaultContributor)
	if !kvc.Allows("Microsoft.KeyVault/vaults/delete") || kvc.Allows("Microsoft.KeyVault/locations/deletedVaults/purge/action") {
		t.Error("Key Vault Contributor: delete yes, purge no")
	}
	bc, _ := m.Role(BackupContributor)
	bo, _ := m.Role(BackupOperator)
	const del = "Microsoft.RecoveryServices/Vaults/backupFabrics/protectionContainers/protectedItems/delete"
	if !bc.Allows(del) || bo.Allows(del) {
		t.Error("Backup Contributor can delete backup data, Backup Operator cannot")
	}
}

func TestWhoScopesAndEligibility(t *testing.T) {
	const sub = "/subscriptions/s1"
	x := arm.NewIndex([]*arm.Object{
		arm.MustObject(`{"id":"/subscriptions/s1","type":"microsoft.resources/subscriptions","properties":{"managementGroupAncestorsChain":[{"name":"mg-lz"},{"name":"root"}]}}`),
		arm.MustObject(`{"id":"/subscriptions/s1/providers/Microsoft.Authorization/roleDefinitions/c1","type":"Microsoft.Authorization/roleDefinitions","properties":{"roleName":"Lock Op","type":"CustomRole","permissions":[{"actions":["Microsoft.Authorization/locks/*"],"notActions":[]}]}}`),
		ra("a1", sub, Owner, "alice", "User", ""),
		ra("a2", sub+"/resourceGroups/rg-other", Owner, "bob", "User", ""),
		ra("a3", sub+"/resourceGroups/rg", "c1", "grp", "Group", ""),
		ra("a4", "/providers/Microsoft.Management/managementGroups/mg-lz", UserAccessAdministrator, "carol", "User", ""),
		ra("a5", sub, Contributor, "dave", "User", ""),
		arm.MustObject(`{"id":"/subscriptions/s1/providers/Microsoft.Authorization/roleEligibilityScheduleInstances/e1","type":"Microsoft.Authorization/roleEligibilityScheduleInstances","properties":{"scope":"/subscriptions/s1","roleDefinitionId":"/subscriptions/s1/providers/Microsoft.Authorization/roleDefinitions/` + Owner + `","principalId":"erin","principalType":"User","status":"Provisioned"}}`),
		arm.MustObject(`{"id":"/subscriptions/s1/providers/Microsoft.Authorization/roleEligibilityScheduleInstances/e2","type":"Microsoft.Authorization/roleEligibilityScheduleInstances","properties":{"scope":"/subscriptions/s1","roleDefinitionId":"/subscriptions/s1/providers/Microsoft.Authorization/roleDefinitions/` + Owner + `","principalId":"frank","principalType":"User","status":"Expired"}}`),
	})
	m := New(x)
	target := arm.MustParseID(sub + "/resourceGroups/RG/providers/Microsoft.KeyVault/vaults/kv")
	got := map[string]bool{}
	for _, g := range m.Who(target, "Microsoft.Authorization/locks/delete") {
		got[g.PrincipalID] = g.Eligible
	}
	want := map[string]bool{"alice": false, "grp": false, "carol": false, "erin": true}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for p, e := range want {
		if ge, ok := got[p]; !ok || ge != e {
			t.Errorf("%s: got eligible=%v present=%v", p, ge, ok)
		}
	}
}

func ra(name, scope, role, principal, ptype, _ string) *arm.Object {
	return arm.MustObject(`{"id":"` + scope + `/providers/Microsoft.Authorization/roleAssignments/` + name + `","type":"Microsoft.Authorization/roleAssignments","properties":{"scope":"` + scope + `","roleDefinitionId":"/subscriptions/s1/providers/Microsoft.Authorization/roleDefinitions/` + role + `","principalId":"` + principal + `","principalType":"` + ptype + `"}}`)
}

// PIM's active assignments: a role assignment linked from a roleAssignmentScheduleInstances entry
// with an end time is time-bound, not standing; one without an end time (permanently active) stays
// standing; an instance whose role assignment was not collected counts by itself. Instance shape:
// REST spec authorization 2020-10-01 GetRoleAssignmentScheduleInstancesByScope.json (capitalised
// "RoleAssignmentScheduleInstances" in id and type, status "Accepted"). Eligibility reported at
// "/providers/Microsoft.Subscription/subscriptions/{id}" covers that subscription.
func TestTimeBoundAssignments(t *testing.T) {
	const sub = "/subscriptions/s1"
	inst := func(name, origin, typ, end, principal string) *arm.Object {
		endField := ""
		if end != "" {
			endField = `,"endDateTime":"` + end + `"`
		}
		return arm.MustObject(`{"properties":{"originRoleAssignmentId":"` + origin + `","assignmentType":"` + typ + `","scope":"` + sub + `","roleDefinitionId":"` + sub + `/providers/Microsoft.Authorization/roleDefinitions/` + Owner + `","principalId":"` + principal + `","principalType":"User","status":"Accepted","startDateTime":"2026-11-26T05:00:00Z"` + endField + `,"memberType":"Direct"},"name":"` + name + `","id":"` + sub + `/providers/Microsoft.Authorization/RoleAssignmentScheduleInstances/` + name + `","type":"Microsoft.Authorization/RoleAssignmentScheduleInstances"}`)
	}
	x := arm.NewIndex([]*arm.Object{
		ra("act", sub, Owner, "alice", "User", ""),
		ra("perm", sub, Owner, "bob", "User", ""),
		ra("plain", sub, Owner, "carol", "User", ""),
		inst("i1", "/Subscriptions/S1/providers/Microsoft.Authorization/roleAssignments/act", "Activated", "2026-11-26T13:00:00Z", "alice"),
		inst("i2", sub+"/providers/Microsoft.Authorization/roleAssignments/perm", "Assigned", "", "bob"),
		inst("i3", sub+"/providers/Microsoft.Authorization/roleAssignments/gone", "Activated", "2026-11-26T09:00:00Z", "dave"),
		arm.MustObject(`{"id":"/providers/Microsoft.Subscription/subscriptions/s1/providers/Microsoft.Authorization/roleEligibilityScheduleInstances/e1","type":"Microsoft.Authorization/roleEligibilityScheduleInstances","properties":{"scope":"/providers/Microsoft.Subscription/subscriptions/s1","roleDefinitionId":"/subscriptions/s1/providers/Microsoft.Authorization/roleDefinitions/` + Owner + `","principalId":"erin","principalType":"User","status":"Provisioned"}}`),
	})
	m := New(x)
	got := map[string]string{}
	for _, g := range m.Who(arm.MustParseID(sub+"/resourceGroups/rg"), "Microsoft.Authorization/locks/delete") {
		switch {
		case g.Eligible:
			got[g.PrincipalID] = "eligible"
		case g.TimeBound:
			got[g.PrincipalID] = "until " + g.Until
		case g.Standing():
			got[g.PrincipalID] = "standing"
		}
	}
	want := map[string]string{"alice": "until 2026-11-26T13:00:00Z", "bob": "standing", "carol": "standing", "dave": "until 2026-11-26T09:00:00Z", "erin": "eligible"}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("(-want +got)\n%s", d)
	}
}
