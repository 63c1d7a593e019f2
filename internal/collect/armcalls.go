package collect

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"sync"

	"github.com/bulwarkhq/bulwark/internal/arm"
	"github.com/bulwarkhq/bulwark/internal/armclient"
	"github.com/bulwarkhq/bulwark/internal/jsonscan"
)

// call is one ARM GET: a path under the management endpoint, its API version, whether it returns
// a list ({"value": […], "nextLink"}) or one object, the name fakes dispatch on, and the operation
// recorded when it fails (the permission it needs, so a 403 says which role is missing).
type call struct {
	path, version, api, operation string
	list                          bool
	scope                         string
	// notFoundIsEmpty: a 404 means "none" (an account without file service settings), not an error.
	notFoundIsEmpty bool
	// unsupported: ARM error codes that mean the resource cannot have this setting (a dedicated SQL
	// pool's long-term retention: 400 LongTermRetentionPolicyNotSupported), so "none", not an error.
	unsupported []string
}

// API versions of the ARM calls, from the Azure REST API specifications.
const (
	locksVersion        = "2020-05-01"
	diagnosticsVersion  = "2021-05-01-preview"
	eligibilityVersion  = "2020-10-01"
	storageVersion      = "2023-05-01"
	sqlVersion          = "2023-08-01"
	backupVersion       = "2025-02-01"
	dataProtectionVer   = "2025-07-01"
	securityInsightsVer = "2024-03-01"
)

// armCalls makes the ARM GETs for what Resource Graph does not hold: per subscription, then per
// resource found.
func (c *collector) armCalls(ctx context.Context, subs []string) error {
	var calls []call
	for _, s := range subs {
		sub := "/subscriptions/" + s
		calls = append(calls,
			call{path: sub + "/providers/Microsoft.Authorization/locks", version: locksVersion, api: "ManagementLocksClient.ListAtSubscriptionLevel",
				operation: "list locks (Microsoft.Authorization/locks/read)", list: true, scope: sub},
			call{path: sub + "/providers/Microsoft.Insights/diagnosticSettings", version: diagnosticsVersion, api: "SubscriptionDiagnosticSettingsClient.List",
				operation: "list subscription diagnostic settings (Microsoft.Insights/diagnosticSettings/read)", list: true, scope: sub},
			call{path: sub + "/providers/Microsoft.Authorization/roleEligibilityScheduleInstances", version: eligibilityVersion, api: "RoleEligibilityScheduleInstancesClient.ListForScope",
				operation: "list PIM role eligibility (Microsoft.Authorization/roleEligibilityScheduleInstances/read)", list: true, scope: sub},
			call{path: sub + "/providers/Microsoft.Authorization/roleAssignmentScheduleInstances", version: eligibilityVersion, api: "RoleAssignmentScheduleInstancesClient.ListForScope",
				operation: "list PIM active assignments (Microsoft.Authorization/roleAssignmentScheduleInstances/read)", list: true, scope: sub},
		)
	}
	c.mu.Lock()
	objs := append([]*arm.Object(nil), c.order...)
	c.mu.Unlock()
	miGroups := map[string]bool{}
	for _, o := range objs {
		id := o.ID.String()
		switch strings.ToLower(o.Type()) {
		case "microsoft.storage/storageaccounts":
			calls = append(calls,
				call{path: id + "/blobServices/default", version: storageVersion, api: "BlobServicesClient.GetServiceProperties",
					operation: "GET blobServices/default (Microsoft.Storage/storageAccounts/blobServices/read)", scope: id},
				call{path: id + "/blobServices/default/containers", version: storageVersion, api: "BlobContainersClient.List",
					operation: "list blob containers (Microsoft.Storage/storageAccounts/blobServices/containers/read)", list: true, scope: id},
				call{path: id + "/fileServices/default", version: storageVersion, api: "FileServicesClient.GetServiceProperties",
					operation: "GET fileServices/default (Microsoft.Storage/storageAccounts/fileServices/read)", scope: id, notFoundIsEmpty: true},
				call{path: id + "/fileServices/default/shares", version: storageVersion, api: "FileSharesClient.List",
					operation: "list file shares (Microsoft.Storage/storageAccounts/fileServices/shares/read)", list: true, scope: id, notFoundIsEmpty: true},
			)
		case "microsoft.sql/servers":
			calls = append(calls, call{path: id + "/failoverGroups", version: sqlVersion, api: "FailoverGroupsClient.ListByServer",
				operation: "list SQL failover groups (Microsoft.Sql/servers/failoverGroups/read)", list: true, scope: id})
		case "microsoft.sql/servers/databases":
			if strings.EqualFold(o.Name(), "master") {
				continue
			}
			calls = append(calls,
				call{path: id + "/backupShortTermRetentionPolicies/default", version: sqlVersion, api: "BackupShortTermRetentionPoliciesClient.Get",
					operation: "GET SQL short-term retention (Microsoft.Sql/servers/databases/backupShortTermRetentionPolicies/read)", scope: id, notFoundIsEmpty: true},
				call{path: id + "/backupLongTermRetentionPolicies/default", version: sqlVersion, api: "LongTermRetentionPoliciesClient.Get",
					operation: "GET SQL long-term retention (Microsoft.Sql/servers/databases/backupLongTermRetentionPolicies/read)", scope: id, notFoundIsEmpty: true,
					unsupported: []string{"LongTermRetentionPolicyNotSupported"}},
				call{path: id + "/replicationLinks", version: sqlVersion, api: "ReplicationLinksClient.ListByDatabase",
					operation: "list SQL replication links (Microsoft.Sql/servers/databases/replicationLinks/read)", list: true, scope: id},
			)
		case "microsoft.sql/managedinstances":
			rg, ok := o.ID.ResourceGroupScope()
			loc := strings.ToLower(strings.ReplaceAll(o.Location(), " ", ""))
			if !ok || loc == "" || miGroups[rg.Key()+"|"+loc] {
				continue
			}
			miGroups[rg.Key()+"|"+loc] = true
			calls = append(calls, call{path: rg.String() + "/providers/Microsoft.Sql/locations/" + loc + "/instanceFailoverGroups", version: sqlVersion,
				api: "InstanceFailoverGroupsClient.ListByLocation", operation: "list SQL instance failover groups (Microsoft.Sql/locations/instanceFailoverGroups/read)", list: true, scope: rg.String()})
		case "microsoft.recoveryservices/vaults":
			calls = append(calls, call{path: id + "/backupResourceGuardProxies", version: backupVersion, api: "ResourceGuardProxiesClient.NewGetPager",
				operation: "list vault Resource Guard proxies (Microsoft.RecoveryServices/vaults/backupResourceGuardProxies/read)", list: true, scope: id})
		case "microsoft.dataprotection/backupvaults":
			calls = append(calls, call{path: id + "/backupResourceGuardProxies", version: dataProtectionVer, api: "DppResourceGuardProxyClient.NewListPager",
				operation: "list Backup vault Resource Guard proxies (Microsoft.DataProtection/backupVaults/backupResourceGuardProxies/read)", list: true, scope: id, notFoundIsEmpty: true})
		case "microsoft.operationalinsights/workspaces":
			calls = append(calls, call{path: id + "/providers/Microsoft.SecurityInsights/onboardingStates", version: securityInsightsVer, api: "SentinelOnboardingStatesClient.List",
				operation: "list Sentinel onboarding (Microsoft.SecurityInsights/onboardingStates/read)", list: true, scope: id, notFoundIsEmpty: true})
		}
	}
	var wg sync.WaitGroup
	for _, cl := range calls {
		select {
		case c.sem <- struct{}{}:
		case <-ctx.Done():
			wg.Wait()
			return ctx.Err()
		}
		wg.Add(1)
		go func(cl call) {
			defer wg.Done()
			defer func() { <-c.sem }()
			c.get(ctx, cl)
		}(cl)
	}
	wg.Wait()
	return ctx.Err()
}

// maxPages caps the pages of one list call (at ARM's usual page sizes, far beyond any estate).
const maxPages = 10000

// get runs one call to its last page; a failure is recorded, never returned. A nextLink is followed
// only to the configured cloud's ARM host over https, never twice, and for at most maxPages pages.
func (c *collector) get(ctx context.Context, cl call) {
	next := cl.path + "?api-version=" + cl.version
	seen := map[string]bool{}
	for pages := 0; next != ""; pages++ {
		if pages > 0 {
			if err := c.arm.CheckLink(next); err != nil {
				c.fail(cl.scope, cl.operation, err.Error())
				return
			}
			if seen[next] {
				c.fail(cl.scope, cl.operation, fmt.Sprintf("page %d's nextLink repeats an earlier page's: stopped", pages))
				return
			}
			if pages >= maxPages {
				c.fail(cl.scope, cl.operation, fmt.Sprintf("more than %d pages: stopped (the rest is not in the snapshot)", maxPages))
				return
			}
		}
		seen[next] = true
		resp, err := c.arm.Do(ctx, http.MethodGet, next, nil, cl.api)
		body := resp.Body
		c.mu.Lock()
		c.prog.Calls++
		c.mu.Unlock()
		c.report()
		if ctx.Err() != nil {
			return // cancelled: not a collection error
		}
		if err != nil {
			if armclient.IsNotFound(err) && cl.notFoundIsEmpty || armclient.HasCode(err, cl.unsupported...) {
				return
			}
			c.fail(cl.scope, cl.operation, describe(err))
			return
		}
		if !cl.list {
			if !jsonscan.Valid(body) {
				c.fail(cl.scope, cl.operation, "the response is not valid JSON")
				return
			}
			if err := c.add(body, "arm: "+cl.api); err != nil {
				c.fail(cl.scope, cl.operation, "the response could not be read as an ARM object: "+err.Error())
			}
			return
		}
		var page struct {
			Value    []json.RawMessage `json:"value"`
			NextLink string            `json:"nextLink"`
		}
		if err := json.Unmarshal(body, &page); err != nil {
			c.fail(cl.scope, cl.operation, "the response is not a list: "+err.Error())
			return
		}
		for i, v := range page.Value {
			if err := c.add(v, "arm: "+cl.api); err != nil {
				c.fail(cl.scope, cl.operation, fmt.Sprintf("value[%d] of the response could not be read as an ARM object: %v", i, err))
			}
		}
		next = page.NextLink
	}
}

// sortObjects puts the objects in a stable order (by ID), so that two collections of the same
// estate write the same file whatever order the concurrent calls finished in.
func (c *collector) sortObjects() {
	c.mu.Lock()
	defer c.mu.Unlock()
	sort.SliceStable(c.order, func(i, j int) bool { return c.order[i].ID.Key() < c.order[j].ID.Key() })
	sort.SliceStable(c.errs, func(i, j int) bool {
		if c.errs[i].Scope != c.errs[j].Scope {
			return c.errs[i].Scope < c.errs[j].Scope
		}
		return c.errs[i].Operation < c.errs[j].Operation
	})
}
