package collect_test

import (
	"context"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/bulwarkhq/bulwark/internal/arm"
	"github.com/bulwarkhq/bulwark/internal/assess"
	"github.com/bulwarkhq/bulwark/internal/collect"
	"github.com/bulwarkhq/bulwark/internal/collect/collecttest"
	"github.com/bulwarkhq/bulwark/internal/snapshot"
)

// The real-shape estate (collecttest/real: bodies in the shapes Azure's REST API specifications and
// public CLI output show, quirks intact; docs/azure-conformance.md names the source of each), read
// twice: collected from the fake Azure that serves those bodies, and loaded from the same bodies as
// files. Both must hold the same objects and give the same, right, verdicts.
func realSnapshots(t *testing.T) (collected, loaded *arm.Snapshot, f *collecttest.Fake) {
	return realSnapshotsWithout(t, "")
}

// realSnapshotsWithout reads the real estate with one ARM answer taken away: the call answers 403
// and its file is not loaded.
func realSnapshotsWithout(t *testing.T, armFile string) (collected, loaded *arm.Snapshot, f *collecttest.Fake) {
	t.Helper()
	f, err := collecttest.Real()
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range collecttest.RealResponses {
		if armFile != "" && r.File == armFile {
			f.Serve(r.Path, http.StatusForbidden, `{"error":{"code":"AuthorizationFailed","message":"The client does not have authorization to perform action over scope."}}`)
		}
	}
	res, err := collect.Collect(context.Background(), f.Options())
	if err != nil {
		t.Fatal(err)
	}
	files, err := collecttest.RealFiles()
	if err != nil {
		t.Fatal(err)
	}
	var in []snapshot.File
	for name, data := range files {
		if armFile == "" || name != "real/arm/"+armFile {
			in = append(in, snapshot.File{Name: name, Data: data})
		}
	}
	sort.Slice(in, func(i, j int) bool { return in[i].Name < in[j].Name })
	lr, err := snapshot.Merge(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range lr.Warnings() {
		t.Errorf("loading the real bodies skipped %s %s: %s", w.File, w.Path, w.Reason)
	}
	return res.Snapshot, lr.Snapshot, f
}

func keys(s *arm.Snapshot) []string {
	var out []string
	for _, o := range s.Resources {
		out = append(out, o.ID.Key())
	}
	sort.Strings(out)
	return out
}

func TestRealShapesCollected(t *testing.T) {
	collected, loaded, f := realSnapshots(t)
	if len(collected.Errors) != 0 {
		t.Errorf("collection errors on a healthy estate: %+v", collected.Errors)
	}
	if d := cmp.Diff(keys(loaded), keys(collected)); d != "" {
		t.Errorf("collected objects differ from the same bodies loaded as files (-files +collected):\n%s", d)
	}
	x := arm.NewIndex(collected.Resources)
	for _, want := range []struct {
		id, typ string
	}{
		// No leading '/', type null, provider microsoft.insights (azure-cli issue 18242's shape).
		{"/subscriptions/" + collecttest.RealProd + "/providers/Microsoft.Insights/diagnosticSettings/activity-to-sentinel", "Microsoft.Insights/diagnosticSettings"},
		// No leading '/', type null, provider AzureResourceManager (REST spec example's shape).
		{"/subscriptions/" + collecttest.RealDev + "/providers/Microsoft.Insights/diagnosticSettings/ds-dev", "Microsoft.Insights/diagnosticSettings"},
		// Above the subscriptions: only with authorizationScopeFilter.
		{"/providers/Microsoft.Management/managementGroups/mg-landingzones/providers/Microsoft.Authorization/roleAssignments/3f9c1a7e-2d5b-4e8f-a6c0-1b7d3e9f5a24", "microsoft.authorization/roleassignments"},
		{"/providers/Microsoft.Authorization/roleAssignments/9b4e2a6c-8d1f-4c3e-a579-0e2c4a6b8d13", "microsoft.authorization/roleassignments"},
		{"/subscriptions/" + collecttest.RealDev + "/providers/Microsoft.Authorization/RoleAssignmentScheduleInstances/a1c5e9f3-7b2d-4a6e-8c0f-3d5b7e9a1c46", "Microsoft.Authorization/roleAssignmentScheduleInstances"},
	} {
		o, ok := x.Get(want.id)
		if !ok {
			t.Errorf("not collected: %s", want.id)
			continue
		}
		if !o.IsType(want.typ) {
			t.Errorf("%s: type %q, want %q", want.id, o.Type(), want.typ)
		}
	}
	filters := f.ScopeFilters()
	if !contains(filters, "authorizationresources=AtScopeAboveAndBelow") {
		t.Errorf("authorizationresources was not queried with AtScopeAboveAndBelow: %v", filters)
	}
}

func contains(list []string, s string) bool {
	for _, e := range list {
		if e == s {
			return true
		}
	}
	return false
}

// The verdicts each defect of the real shapes used to get wrong, right now through both readers:
// DET-001/002/004 and LOCK-001 on the Sentinel workspace (diagnostic settings were dropped),
// IAM-001 and LOCK-003 (Owner through a management group was never collected, so they passed; a
// PIM activation counted as permanent, so contoso-dev failed), BV-003 (the Backup vault's guard
// proxy was not read), RSV-003 and SQL-002 on a dedicated SQL pool.
func TestRealShapesVerdicts(t *testing.T) {
	collected, loaded, _ := realSnapshots(t)
	const (
		bob   = "4a2f8c1e-6b3d-4e9a-8f70-1d5c2b9e3a64" // Owner at management group mg-landingzones
		alice = "7d1e3b5a-2c4f-4a8e-9b60-5f2a8c1d3e79" // Owner on contoso-dev through a PIM activation
		app   = "/subscriptions/" + collecttest.RealProd + "/resourceGroups/RG-App/providers"
		law   = "/subscriptions/" + collecttest.RealProd + "/resourceGroups/rg-sec/providers/Microsoft.OperationalInsights/workspaces/law-sentinel"
	)
	want := []struct {
		check, resource string
		status          assess.Status
		mentions        string // in the message or evidence
	}{
		{"DET-001", "/subscriptions/" + collecttest.RealProd, assess.Pass, "activity-to-sentinel"},
		{"DET-001", "/subscriptions/" + collecttest.RealDev, assess.Pass, "ds-dev"},
		{"DET-002", law, assess.Pass, "onboarded"},
		{"DET-004", law, assess.Pass, "365 days"},
		{"LOCK-001", law, assess.Pass, "law-nodelete"},
		{"IAM-001", "/subscriptions/" + collecttest.RealProd, assess.Fail, bob},
		{"IAM-001", "/subscriptions/" + collecttest.RealDev, assess.Pass, "1 PIM-eligible, 1 PIM-active"},
		// One finding for bob's management-group Owner, listing what it can unlock.
		{"LOCK-003", "/providers/Microsoft.Management/managementGroups/mg-landingzones/providers/Microsoft.Authorization/roleAssignments/3f9c1a7e-2d5b-4e8f-a6c0-1b7d3e9f5a24", assess.Fail, "kv-contoso-prod"},
		{"BV-003", app + "/Microsoft.DataProtection/BackupVaults/bv-prod", assess.Pass, "DppResourceGuardProxy"},
		{"RSV-003", app + "/Microsoft.RecoveryServices/vaults/rsv-prod", assess.Pass, "another subscription"},
		{"SQL-002", app + "/Microsoft.Sql/servers/sql-contoso/databases/sqldw", assess.NA, "DataWarehouse"},
		{"SQL-002", app + "/Microsoft.Sql/servers/sql-contoso/databases/appdb", assess.Pass, "P5Y"},
		{"DEV-002", "", assess.Fail, "0f6a2c4e-8b1d-4e3f-a5c7-9d2e4b6f8a13"},
		{"DET-003", "/subscriptions/" + collecttest.RealProd, assess.Fail, "KeyVaults"},
		{"SQL-001", app + "/Microsoft.Sql/servers/sql-contoso/databases/appdb", assess.Pass, "14 days"},
		{"SQL-003", app + "/Microsoft.Sql/servers/sql-contoso/databases/appdb", assess.Pass, "geo-replicated"},
		{"ST-001", app + "/Microsoft.Storage/storageAccounts/stcontosodata", assess.Pass, "30 days"},
		{"ST-007", app + "/Microsoft.Storage/storageAccounts/stcontosodata", assess.Pass, "7 days"},
	}
	for name, snap := range map[string]*arm.Snapshot{"collected": collected, "files": loaded} {
		rep := assess.Run(assess.NewEnv(assess.Inputs{Snapshot: snap}), assess.Checks())
		for _, w := range want {
			var found *assess.Result
			for i, r := range rep.Results {
				if r.CheckID == w.check && (w.resource == "" || strings.EqualFold(r.Resource, w.resource)) {
					found = &rep.Results[i]
					break
				}
			}
			if found == nil {
				t.Errorf("%s: no %s result for %s", name, w.check, w.resource)
				continue
			}
			text := found.Message + fmt.Sprint(found.Evidence)
			if found.Status != w.status || !strings.Contains(text, w.mentions) {
				t.Errorf("%s: %s %s = %s %q %v, want %s mentioning %q", name, w.check, w.resource, found.Status, found.Message, found.Evidence, w.status, w.mentions)
			}
		}
		for _, r := range rep.Results {
			if r.CheckID == "IAM-001" && strings.Contains(fmt.Sprint(r.Evidence), alice) && r.Status == assess.Fail {
				t.Errorf("%s: alice's PIM activation counted as standing: %s", name, r.Message)
			}
		}
	}
}

// No collected object is dropped silently: every ARM call of a collection answers with a body that
// holds no readable ARM object, and every Resource Graph table gains rows Bulwark cannot read; each
// one becomes an errors entry naming the call (its operation and scope) and the reason.
func TestUnreadableBodiesAreRecorded(t *testing.T) {
	f, err := collecttest.Real()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := collect.Collect(context.Background(), f.Options()); err != nil {
		t.Fatal(err)
	}
	paths := map[string]bool{}
	for _, r := range f.Requests() {
		if p, ok := strings.CutPrefix(r, "GET "); ok {
			p, _, _ = strings.Cut(p, "?")
			paths[p] = true
		}
	}
	if len(paths) < 20 {
		t.Fatalf("the first collection made only %d ARM calls", len(paths))
	}
	for p := range paths {
		// For a list call value[0] has a malformed id; for a one-object call the body has no "id".
		f.Serve(p, 200, `{"value":[{"id":"not-an-arm-id","type":"Microsoft.Foo/bars"}]}`)
	}
	tables := []string{"resources", "resourcecontainers", "recoveryservicesresources", "authorizationresources", "securityresources"}
	for _, table := range tables {
		if err := f.GraphRows(table,
			`{"id":"/subscriptions/`+collecttest.RealProd+`/resourceGroups/rg/providers/Microsoft.Foo","type":"microsoft.foo/bars","subscriptionId":"`+collecttest.RealProd+`"}`,
			`{"name":"no-id","type":"microsoft.foo/bars","subscriptionId":"`+collecttest.RealProd+`"}`); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.GraphRows("authorizationresources", `"a row that is not an object"`); err != nil {
		t.Fatal(err)
	}
	res, err := collect.Collect(context.Background(), f.Options())
	if err != nil {
		t.Fatal(err)
	}
	armErrs, graphErrs := 0, map[string]int{}
	for _, e := range res.Snapshot.Errors {
		switch {
		case strings.HasPrefix(e.Operation, "Resource Graph query "):
			if !strings.Contains(e.Message, "a row could not be read") {
				t.Errorf("Resource Graph error without its reason: %+v", e)
			}
			graphErrs[strings.Fields(e.Operation)[3]]++
		case strings.Contains(e.Message, "could not be read as an ARM object"):
			if e.Scope == "" || !strings.Contains(e.Operation, "/read)") {
				t.Errorf("ARM error without its scope or permission: %+v", e)
			}
			armErrs++
		default:
			t.Errorf("unexpected error: %+v", e)
		}
	}
	if armErrs != len(paths) {
		t.Errorf("%d ARM errors for %d calls answered with unreadable bodies", armErrs, len(paths))
	}
	for _, table := range tables {
		want := 2
		if table == "authorizationresources" {
			want = 3
		}
		if graphErrs[table] != want {
			t.Errorf("%s: %d errors for %d unreadable rows", table, graphErrs[table], want)
		}
	}
}

// RSV-003 without the vault's Resource Guard proxy (not readable, or not exported): the vault's
// read-only securitySettings.multiUserAuthorization, which the service sets from the proxy, is
// evidence enough. It used to say unknown.
func TestRealShapesMUAWithoutProxy(t *testing.T) {
	collected, loaded, _ := realSnapshotsWithout(t, "rsv-backupResourceGuardProxies.json")
	if len(collected.Errors) != 1 || !strings.Contains(collected.Errors[0].Operation, "backupResourceGuardProxies") || !strings.Contains(collected.Errors[0].Message, "403") {
		t.Errorf("errors: %+v", collected.Errors)
	}
	for name, snap := range map[string]*arm.Snapshot{"collected": collected, "files": loaded} {
		rep := assess.Run(assess.NewEnv(assess.Inputs{Snapshot: snap}), assess.Checks())
		n := 0
		for _, r := range rep.Results {
			if r.CheckID == "RSV-003" {
				n++
				if r.Status != assess.Pass || !strings.Contains(r.Message, "multi-user authorization is enabled") {
					t.Errorf("%s: RSV-003 = %s %q", name, r.Status, r.Message)
				}
			}
		}
		if n != 1 {
			t.Errorf("%s: %d RSV-003 results", name, n)
		}
	}
}

// Secrets in resource properties (App Insights' ConnectionString and InstrumentationKey, in the
// PascalCase that API returns) are redacted before the snapshot keeps them, unless KeepSecrets.
// They used to be written to collected snapshots verbatim.
func TestSecretsRedactedOnCollection(t *testing.T) {
	const appi = "/subscriptions/" + collecttest.RealProd + "/resourceGroups/RG-App/providers/microsoft.insights/components/appi-contoso"
	for _, keep := range []bool{false, true} {
		f, err := collecttest.Real()
		if err != nil {
			t.Fatal(err)
		}
		opts := f.Options()
		opts.KeepSecrets = keep
		res, err := collect.Collect(context.Background(), opts)
		if err != nil {
			t.Fatal(err)
		}
		o, ok := arm.NewIndex(res.Snapshot.Resources).Get(appi)
		if !ok {
			t.Fatal("the component was not collected")
		}
		has := strings.Contains(string(o.Raw), "9d1b3f5a-7c2e-4a6b-8d0f-2e4a6c8b0d13")
		if has != keep || (!keep && res.Progress.Redacted != 2) || (keep && res.Progress.Redacted != 0) {
			t.Errorf("KeepSecrets=%v: secret present %v, %d redacted: %s", keep, has, res.Progress.Redacted, o.Raw)
		}
		if v, _ := o.Get("properties.RetentionInDays").Int(); v != 90 {
			t.Errorf("KeepSecrets=%v: other properties changed: %s", keep, o.Raw)
		}
	}
}
