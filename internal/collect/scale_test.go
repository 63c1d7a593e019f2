package collect_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"runtime"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/bulwarkhq/bulwark/internal/arm"
	"github.com/bulwarkhq/bulwark/internal/assess"
	"github.com/bulwarkhq/bulwark/internal/collect"
	"github.com/bulwarkhq/bulwark/internal/collect/collecttest"
	"github.com/bulwarkhq/bulwark/internal/config"
)

// scaleEstate is subs subscriptions of perSub resources each, in the mix of a real estate: VMs with
// their disks and NICs, Key Vaults, storage accounts (with blob service settings), SQL servers with
// a database each (with retention policies), Recovery Services vaults with protected items, role
// assignments, Defender plans and locks.
func scaleEstate(subs, perSub int) []*arm.Object {
	var out []*arm.Object
	add := func(format string, a ...any) { out = append(out, arm.MustObject(fmt.Sprintf(format, a...))) }
	for s := 0; s < subs; s++ {
		sub := fmt.Sprintf("/subscriptions/%08x-0000-4000-8000-%012x", s+1, s+1)
		sid := sub[len("/subscriptions/"):]
		add(`{"id":%q,"type":"Microsoft.Resources/subscriptions","name":%q,"subscriptionId":%q,"tenantId":"tttttttt-0000-4000-8000-000000000000"}`, sub, sid, sid)
		n := 1
		for g := 0; g < 10; g++ {
			rg := fmt.Sprintf("%s/resourceGroups/rg%d", sub, g)
			add(`{"id":%q,"type":"Microsoft.Resources/subscriptions/resourceGroups","name":"rg%d","location":"westeurope"}`, rg, g)
			add(`{"id":"%s/providers/Microsoft.Authorization/locks/nodelete","type":"Microsoft.Authorization/locks","name":"nodelete","properties":{"level":"CanNotDelete"}}`, rg)
			n += 2
		}
		rg := sub + "/resourceGroups/rg0"
		add(`{"id":"%s/providers/Microsoft.RecoveryServices/vaults/rsv","type":"Microsoft.RecoveryServices/vaults","name":"rsv","location":"westeurope","properties":{}}`, rg)
		add(`{"id":"%s/providers/Microsoft.Insights/diagnosticSettings/activity","type":"Microsoft.Insights/diagnosticSettings","name":"activity","properties":{"logs":[]}}`, sub)
		for _, p := range []string{"VirtualMachines", "StorageAccounts", "KeyVaults", "SqlServers", "Arm"} {
			add(`{"id":"%s/providers/Microsoft.Security/pricings/%s","type":"Microsoft.Security/pricings","name":%q,"properties":{"pricingTier":"Standard"}}`, sub, p, p)
		}
		n += 7
		for i := 0; n < perSub; i++ {
			g := fmt.Sprintf("%s/resourceGroups/rg%d", sub, i%10)
			switch i % 20 {
			case 0: // a storage account and its blob service settings
				add(`{"id":"%s/providers/Microsoft.Storage/storageAccounts/st%d","type":"Microsoft.Storage/storageAccounts","name":"st%d","location":"westeurope","kind":"StorageV2","properties":{"allowSharedKeyAccess":false}}`, g, i, i)
				add(`{"id":"%s/providers/Microsoft.Storage/storageAccounts/st%d/blobServices/default","type":"Microsoft.Storage/storageAccounts/blobServices","name":"default","properties":{"deleteRetentionPolicy":{"enabled":true,"days":14}}}`, g, i)
				n += 2
			case 1: // a SQL server, a database, its retention
				add(`{"id":"%s/providers/Microsoft.Sql/servers/sql%d","type":"Microsoft.Sql/servers","name":"sql%d","location":"westeurope","properties":{}}`, g, i, i)
				add(`{"id":"%s/providers/Microsoft.Sql/servers/sql%d/databases/db","type":"Microsoft.Sql/servers/databases","name":"db","location":"westeurope","properties":{"requestedBackupStorageRedundancy":"Geo"}}`, g, i)
				add(`{"id":"%s/providers/Microsoft.Sql/servers/sql%d/databases/db/backupShortTermRetentionPolicies/default","type":"Microsoft.Sql/servers/databases/backupShortTermRetentionPolicies","name":"default","properties":{"retentionDays":14}}`, g, i)
				n += 3
			case 2, 3:
				add(`{"id":"%s/providers/Microsoft.KeyVault/vaults/kv%d","type":"Microsoft.KeyVault/vaults","name":"kv%d","location":"westeurope","properties":{"enableSoftDelete":true,"enablePurgeProtection":true}}`, g, i, i)
				add(`{"id":"%s/providers/Microsoft.Authorization/roleAssignments/%08x-1111-4111-8111-%012x","type":"Microsoft.Authorization/roleAssignments","name":"ra%d","properties":{"principalId":"p%d","roleDefinitionId":"/providers/Microsoft.Authorization/roleDefinitions/b24988ac-6180-42a0-ab88-20f7382dd24c","scope":"%s/providers/Microsoft.KeyVault/vaults/kv%d"}}`, g+"/providers/Microsoft.KeyVault/vaults/kv"+fmt.Sprint(i), s, i, i, i, g, i)
				n += 2
			default: // a VM, its OS disk and NIC, and its backup
				vm := fmt.Sprintf("%s/providers/Microsoft.Compute/virtualMachines/vm%d", g, i)
				add(`{"id":%q,"type":"Microsoft.Compute/virtualMachines","name":"vm%d","location":"westeurope","properties":{"storageProfile":{"osDisk":{"managedDisk":{"id":"%s/providers/Microsoft.Compute/disks/os%d"}}},"networkProfile":{"networkInterfaces":[{"id":"%s/providers/Microsoft.Network/networkInterfaces/nic%d"}]}}}`, vm, i, g, i, g, i)
				add(`{"id":"%s/providers/Microsoft.Compute/disks/os%d","type":"Microsoft.Compute/disks","name":"os%d","location":"westeurope","managedBy":%q,"properties":{}}`, g, i, i, vm)
				add(`{"id":"%s/providers/Microsoft.Network/networkInterfaces/nic%d","type":"Microsoft.Network/networkInterfaces","name":"nic%d","location":"westeurope","properties":{}}`, g, i, i)
				add(`{"id":"%s/providers/Microsoft.RecoveryServices/vaults/rsv/backupFabrics/Azure/protectionContainers/c%d/protectedItems/vm%d","type":"Microsoft.RecoveryServices/vaults/backupFabrics/protectionContainers/protectedItems","name":"vm%d","properties":{"sourceResourceId":%q,"lastRecoveryPoint":"2026-11-25T02:00:00Z"}}`, rg, i, i, i, vm)
				n += 4
			}
		}
	}
	return out
}

// BenchmarkCollect100k collects 100,000 objects across 50 subscriptions from the fake with
// latencies set by BULWARK_SCALE_ARM_LATENCY and BULWARK_SCALE_GRAPH_LATENCY (defaults 150 ms and
// 400 ms, what ARM and Resource Graph answer in from a European region) and Resource Graph's quota
// of 15 queries per 5 seconds; it reports requests, wall time and the collector's peak heap (above
// what the fake holds), and checks that the
// collected snapshot assesses exactly as the estate it was served from.
func BenchmarkCollect100k(b *testing.B) {
	objs := scaleEstate(50, 2000)
	armLat, graphLat := 150*time.Millisecond, 400*time.Millisecond
	if v, err := time.ParseDuration(os.Getenv("BULWARK_SCALE_ARM_LATENCY")); err == nil {
		armLat = v
	}
	if v, err := time.ParseDuration(os.Getenv("BULWARK_SCALE_GRAPH_LATENCY")); err == nil {
		graphLat = v
	}
	for i := 0; i < b.N; i++ {
		f := collecttest.New(objs)
		f.GraphQuota = 15
		f.Latency = armLat
		opts := f.Options()
		opts.GraphTransport = delayed{f.Graph(), graphLat - armLat}
		opts.Concurrency = 16
		runtime.GC()
		var base runtime.MemStats
		runtime.ReadMemStats(&base)
		var peak uint64
		stop := make(chan struct{})
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			var m runtime.MemStats
			for {
				runtime.ReadMemStats(&m)
				peak = max(peak, m.HeapInuse)
				select {
				case <-stop:
					return
				case <-time.After(50 * time.Millisecond):
				}
			}
		}()
		start := time.Now()
		res, err := collect.Collect(context.Background(), opts)
		wall := time.Since(start)
		close(stop)
		wg.Wait()
		runtime.GC()
		var after runtime.MemStats
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.HeapInuse-min(after.HeapInuse, base.HeapInuse))/(1<<20), "snapshot-live-MB")
		runtime.KeepAlive(res)
		if err != nil {
			b.Fatal(err)
		}
		gets, posts := 0, 0
		for _, r := range f.Requests() {
			if strings.HasPrefix(r, "GET ") {
				gets++
			} else {
				posts++
			}
		}
		b.ReportMetric(float64(len(res.Snapshot.Resources)), "objects")
		b.ReportMetric(float64(gets), "ARM-GETs")
		b.ReportMetric(float64(posts), "graph-queries")
		b.ReportMetric(wall.Seconds(), "wall-s")
		b.ReportMetric(float64(peak-min(peak, base.HeapInuse))/(1<<20), "collector-peak-heap-MB") // above the fake's own estate
		if len(res.Snapshot.Errors) > 0 || len(res.Snapshot.Resources) != len(objs) {
			b.Fatalf("%d objects of %d, errors %v", len(res.Snapshot.Resources), len(objs), res.Snapshot.Errors)
		}
		if i == 0 {
			same(b, objs, res.Snapshot.Resources)
		}
	}
}

// delayed adds latency to a transport.
type delayed struct {
	next interface {
		Do(*http.Request) (*http.Response, error)
	}
	d time.Duration
}

func (t delayed) Do(r *http.Request) (*http.Response, error) {
	if t.d > 0 {
		time.Sleep(t.d)
	}
	return t.next.Do(r)
}

// same: the assessment of the collected objects equals that of the served ones.
func same(b *testing.B, served, collected []*arm.Object) {
	run := func(objs []*arm.Object) []string {
		env := assess.NewEnv(assess.Inputs{Snapshot: &arm.Snapshot{Resources: objs, CollectedAt: time.Date(2026, 11, 26, 6, 0, 0, 0, time.UTC)}, Config: config.Default()})
		var out []string
		for _, r := range assess.Run(env, assess.Checks()).Results {
			out = append(out, r.CheckID+" "+r.Resource+" "+string(r.Status))
		}
		sort.Strings(out)
		return out
	}
	if d := cmp.Diff(run(served), run(collected)); d != "" {
		b.Fatalf("the collected estate assesses differently (-served +collected):\n%.3000s", d)
	}
}
