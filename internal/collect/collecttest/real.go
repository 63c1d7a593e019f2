package collecttest

import (
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"net/http"
	"path"
	"strings"
)

// realFS holds the real-shape estate: Resource Graph response bodies per table (graph/) and ARM
// response bodies per call (arm/), written for Bulwark in the shapes Azure really returns — from
// the REST API specifications' examples and CLI output quoted in public issues, quirks intact (see
// docs/azure-conformance.md, which names the source of each shape):
//
//   - Resource Graph rows: lower-case "type", the subscriptionId/resourceGroup/tenantId columns
//     (resourceGroup lower-cased while the id keeps "RG-App"), null sku/plan/identity, "resultTruncated"
//     as a string; role assignments at a management group and at the root with an empty
//     subscriptionId, role definitions at "/providers/Microsoft.Authorization/RoleDefinitions/…";
//   - subscription diagnostic settings with ids lacking their leading '/', "type": null, and the
//     provider spelled "microsoft.insights" or "AzureResourceManager";
//   - PIM: "RoleAssignmentScheduleInstances" capitalised, an activation with endDateTime, a standing
//     assignment that PIM lists too (no endDateTime), an eligibility whose scope is
//     "/providers/Microsoft.Subscription/subscriptions/{id}";
//   - a Backup vault proxy whose "type" says "Microsoft.DataProtection/vaults/…", a Backup vault id
//     spelled "BackupVaults", Recovery Services "AlwaysON", SQL replication links without "type",
//     a dedicated SQL pool whose long-term retention GET answers 400
//     LongTermRetentionPolicyNotSupported, Defender extensions with string booleans.
//
//go:embed real
var realFS embed.FS

// The real estate's subscriptions.
const (
	RealProd = "5b1a7c3e-90d4-4f2a-8e6b-2c9d0f1a3b47" // contoso-prod, under management group mg-landingzones
	RealDev  = "9e4d2b8a-1c7f-4a63-b05e-7f3a6d2c1e98" // contoso-dev, directly under the tenant root
)

// RealResponse is one ARM answer of the real estate: the GET path, the status and the body (a
// file in real/arm, or inline for an error).
type RealResponse struct {
	Path   string
	Status int
	File   string // under real/arm; "" when Body is given
	Body   string
}

const (
	realProdSub = "/subscriptions/" + RealProd
	realDevSub  = "/subscriptions/" + RealDev
	realApp     = realProdSub + "/resourceGroups/RG-App/providers"
	realSA      = realApp + "/Microsoft.Storage/storageAccounts/stcontosodata"
	realDB      = realApp + "/Microsoft.Sql/servers/sql-contoso/databases"
)

// RealResponses are the ARM answers of the real estate, one per call collect makes for it. Calls
// not listed get what the fake answers for an empty estate: an empty list, or 404 for one object.
var RealResponses = []RealResponse{
	{Path: realProdSub + "/providers/Microsoft.Authorization/locks", File: "prod-locks.json"},
	{Path: realProdSub + "/providers/Microsoft.Insights/diagnosticSettings", File: "prod-diagnosticSettings.json"},
	{Path: realProdSub + "/providers/Microsoft.Authorization/roleAssignmentScheduleInstances", File: "prod-roleAssignmentScheduleInstances.json"},
	{Path: realDevSub + "/providers/Microsoft.Insights/diagnosticSettings", File: "dev-diagnosticSettings.json"},
	{Path: realDevSub + "/providers/Microsoft.Authorization/roleAssignmentScheduleInstances", File: "dev-roleAssignmentScheduleInstances.json"},
	{Path: realDevSub + "/providers/Microsoft.Authorization/roleEligibilityScheduleInstances", File: "dev-roleEligibilityScheduleInstances.json"},
	{Path: realSA + "/blobServices/default", File: "st-blobServices.json"},
	{Path: realSA + "/blobServices/default/containers", File: "st-containers.json"},
	{Path: realSA + "/fileServices/default", File: "st-fileServices.json"},
	{Path: realDB + "/appdb/backupShortTermRetentionPolicies/default", File: "appdb-shortTermRetention.json"},
	{Path: realDB + "/appdb/backupLongTermRetentionPolicies/default", File: "appdb-longTermRetention.json"},
	{Path: realDB + "/appdb/replicationLinks", File: "appdb-replicationLinks.json"},
	{Path: realDB + "/sqldw/backupShortTermRetentionPolicies/default", File: "sqldw-shortTermRetention.json"},
	{Path: realDB + "/sqldw/backupLongTermRetentionPolicies/default", Status: http.StatusBadRequest,
		Body: `{"error":{"code":"LongTermRetentionPolicyNotSupported","message":"Long term retention policy is not supported for this database."}}`},
	{Path: realApp + "/Microsoft.RecoveryServices/vaults/rsv-prod/backupResourceGuardProxies", File: "rsv-backupResourceGuardProxies.json"},
	{Path: realApp + "/Microsoft.DataProtection/BackupVaults/bv-prod/backupResourceGuardProxies", File: "bv-backupResourceGuardProxies.json"},
	{Path: realProdSub + "/resourceGroups/rg-sec/providers/Microsoft.OperationalInsights/workspaces/law-sentinel/providers/Microsoft.SecurityInsights/onboardingStates",
		File: "law-onboardingStates.json"},
}

// RealFiles returns the real estate as files, the way a user would save the same answers: every
// Resource Graph body and every ARM body with status 200, by name (real/graph/…, real/arm/…).
func RealFiles() (map[string][]byte, error) {
	out := map[string][]byte{}
	err := fs.WalkDir(realFS, "real", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := realFS.ReadFile(p)
		out[p] = data
		return err
	})
	return out, err
}

// Real is a fake Azure that serves the real-shape estate: Resource Graph tables from real/graph
// and the ARM answers of RealResponses, byte for byte.
func Real() (*Fake, error) {
	f := New(nil)
	entries, err := realFS.ReadDir("real/graph")
	if err != nil {
		return nil, err
	}
	for _, e := range entries {
		data, err := realFS.ReadFile("real/graph/" + e.Name())
		if err != nil {
			return nil, err
		}
		rows, err := graphData(data)
		if err != nil {
			return nil, fmt.Errorf("collecttest: real/graph/%s: %w", e.Name(), err)
		}
		if err := f.GraphRows(strings.TrimSuffix(e.Name(), path.Ext(e.Name())), rows...); err != nil {
			return nil, err
		}
	}
	for _, r := range RealResponses {
		body, status := r.Body, r.Status
		if r.File != "" {
			data, err := realFS.ReadFile("real/arm/" + r.File)
			if err != nil {
				return nil, err
			}
			body = string(data)
		}
		if status == 0 {
			status = http.StatusOK
		}
		f.Serve(r.Path, status, body)
	}
	return f, nil
}

// graphData returns the rows of a Resource Graph response body ({"data": […], …}) as JSON texts.
func graphData(body []byte) ([]string, error) {
	var resp struct {
		Data []json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(body, &resp); err != nil {
		return nil, err
	}
	out := make([]string, len(resp.Data))
	for i, r := range resp.Data {
		out[i] = string(r)
	}
	return out, nil
}
