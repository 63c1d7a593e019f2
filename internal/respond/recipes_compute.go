package respond

// This file: the restore recipes of VMs (Azure Backup, Site Recovery, surviving disks), AKS and
// managed identities.

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/bulwarkhq/bulwark/internal/arm"
	"github.com/bulwarkhq/bulwark/internal/recovery"
)

// attachments are the disks and NICs of a VM that its restore brings back with it.
func (b *builder) attachments(vm *arm.Object) []*arm.Object {
	var out []*arm.Object
	for _, p := range []string{"properties.storageProfile.osDisk.managedDisk.id"} {
		if id, ok := vm.Get(p).String(); ok {
			if d, ok := b.env.Index.Get(id); ok {
				out = append(out, d)
			}
		}
	}
	for _, dd := range vm.Get("properties.storageProfile.dataDisks").List() {
		if id, ok := dd.Get("managedDisk.id").String(); ok {
			if d, ok := b.env.Index.Get(id); ok {
				out = append(out, d)
			}
		}
	}
	for _, n := range vm.Get("properties.networkProfile.networkInterfaces").List() {
		if id, ok := n.Get("id").String(); ok {
			if d, ok := b.env.Index.Get(id); ok {
				out = append(out, d)
			}
		}
	}
	return out
}

func (b *builder) virtualMachine(o *arm.Object) {
	with := b.withVM[o.ID.Key()]
	paths := b.paths(o)
	name := o.Name()
	if p, ok := strongest(paths, recovery.KindBackup); ok {
		it, _ := b.env.Index.Get(p.Via)
		vaultID := parentID(p.Via, 6)
		vault := parentName(p.Via, 6)
		container := parentName(p.Via, 2)
		vnet, subnet, vnetRG := b.subnetOf(o)
		staging := b.stagingAccount(o)
		s := &Step{Phase: VirtualMachine, Action: "restore-vm-from-backup", Path: p.Kind, Minutes: minVMRestore, Activity: "restore-data",
			Title: "Restore VM " + name + " from Azure Backup (vault " + vault + ")",
			Detail: fmt.Sprintf("Restore the newest recovery point%s as a new VM with its original name, disks and network (alternate-location restore into %s). The restore stages disks through storage account %s in the VM's region.",
				lastPoint(p), rg(o), staging),
			Commands: []string{
				fmt.Sprintf("RP=$(az backup recoverypoint list --resource-group %s --vault-name %s --container-name %s --item-name %s --backup-management-type AzureIaasVM --subscription %s --query \"[0].name\" -o tsv)",
					q(rgOfID(vaultID)), q(vault), q(container), q(itemName(it, p.Via)), sub(o)),
				fmt.Sprintf("az backup restore restore-disks --resource-group %s --vault-name %s --container-name %s --item-name %s --rp-name \"$RP\" --restore-mode AlternateLocation --target-vm-name %s --target-resource-group %s --target-vnet-name %s --target-subnet-name %s --target-vnet-resource-group %s --storage-account %s --subscription %s",
					q(rgOfID(vaultID)), q(vault), q(container), q(itemName(it, p.Via)), q(name), q(rg(o)), q(vnet), q(subnet), q(vnetRG), q(staging), sub(o)),
			},
			REST: []arm.Request{{Method: "POST", Endpoint: b.host, Path: p.Via + "/recoveryPoints/{recoveryPointName}/restore?api-version=" + arm.APIVersions["microsoft.recoveryservices/backup"],
				Body: map[string]any{"properties": map[string]any{"objectType": "IaasVMRestoreRequest", "recoveryType": "AlternateLocation", "sourceResourceId": o.ID.String(),
					"targetVirtualMachineId": o.ID.String(), "targetResourceGroupId": "/subscriptions/" + sub(o) + "/resourceGroups/" + rg(o), "storageAccountId": b.stagingAccountID(o, staging),
					"region": o.Location(), "originalStorageAccountOption": false}}}},
			Undo: fmt.Sprintf("az vm delete --ids %s (the restored VM; the recovery point is untouched)", q(o.ID.String())),
		}
		if !p.LastPoint.IsZero() {
			s.dataLoss = b.lossAt(o).Sub(p.LastPoint)
			if s.dataLoss > 0 {
				s.DataLoss = Duration(minutes(s.dataLoss))
			}
		}
		st := b.add(s, append([]*arm.Object{o}, with...)...)
		if it != nil {
			b.requires(st, b.covered[it.ID.Key()])
		}
		b.requires(st, b.covered[strings.ToLower(vaultID)])
		return
	}
	if p, ok := strongest(paths, recovery.KindSiteRecovery); ok {
		ri, _ := b.env.Index.Get(p.Via)
		s := &Step{Phase: VirtualMachine, Action: "failover-site-recovery", Path: p.Kind, Minutes: minFailover, Activity: "restore-capabilities",
			Title:  "Fail over " + name + " with Site Recovery",
			Detail: "Unplanned failover to the recovery region from the latest recovery point, then commit. " + testFailoverNote(p),
			Commands: []string{
				fmt.Sprintf("az rest --method post --url %s --body %s", q(b.host+p.Via+"/unplannedFailover?api-version="+arm.APIVersions["microsoft.recoveryservices/siterecovery"]), q(`{"properties":{"failoverDirection":"PrimaryToRecovery","sourceSiteOperations":"NotRequired"}}`)),
				fmt.Sprintf("az rest --method post --url %s", q(b.host+p.Via+"/failoverCommit?api-version="+arm.APIVersions["microsoft.recoveryservices/siterecovery"])),
			},
			REST: []arm.Request{
				{Method: "POST", Endpoint: b.host, Path: p.Via + "/unplannedFailover?api-version=" + arm.APIVersions["microsoft.recoveryservices/siterecovery"], Body: map[string]any{"properties": map[string]any{"failoverDirection": "PrimaryToRecovery", "sourceSiteOperations": "NotRequired"}}},
				{Method: "POST", Endpoint: b.host, Path: p.Via + "/failoverCommit?api-version=" + arm.APIVersions["microsoft.recoveryservices/siterecovery"]},
			},
			Undo: "re-protect and fail back once the primary region is rebuilt",
		}
		st := b.add(s, append([]*arm.Object{o}, with...)...)
		if ri != nil {
			b.requires(st, b.covered[strings.ToLower(parentID(p.Via, 6))])
		}
		return
	}
	if b.inc != nil {
		if disk := b.survivingOSDisk(o); disk != nil {
			osType, _ := o.Prop("properties.storageProfile.osDisk.osType").String()
			var nics []string
			for _, n := range o.Get("properties.networkProfile.networkInterfaces").List() {
				if id, ok := n.Get("id").String(); ok && !b.deleted[strings.ToLower(id)] {
					nics = append(nics, id)
				}
			}
			size, _ := o.Prop("properties.hardwareProfile.vmSize").String()
			cmd := fmt.Sprintf("az vm create --resource-group %s --name %s --attach-os-disk %s --os-type %s --size %s --subscription %s",
				q(rg(o)), q(name), q(disk.ID.String()), q(strings.ToLower(orDefault(osType, "linux"))), q(orDefault(size, "Standard_D2s_v5")), sub(o))
			if len(nics) > 0 {
				cmd += " --nics " + q(nics[0])
			}
			s := &Step{Phase: VirtualMachine, Action: "recreate-vm-from-disks", Path: "surviving-disks", Minutes: minVMFromDisks, Activity: "restore-capabilities",
				Title:    "Re-create VM " + name + " on its surviving OS disk " + disk.Name(),
				Detail:   "The VM was deleted but its OS disk was not: attach it to a new VM with the same name and size. Snapshot the disk first (contain phase); re-attach data disks that survived.",
				Commands: []string{cmd},
				REST:     []arm.Request{{Method: "PUT", Endpoint: b.host, Path: b.path(o.ID.String(), o.Type()), Body: map[string]any{"location": o.Location(), "properties": map[string]any{"storageProfile": map[string]any{"osDisk": map[string]any{"createOption": "Attach", "osType": orDefault(osType, "Linux"), "managedDisk": map[string]any{"id": disk.ID.String()}}}, "hardwareProfile": map[string]any{"vmSize": size}}}}},
				Undo:     fmt.Sprintf("az vm delete --ids %s (keeps the disk)", q(o.ID.String())),
			}
			b.add(s, append([]*arm.Object{o}, with...)...)
			return
		}
	}
	if b.inc != nil {
		if disks := b.survivingDataDisks(o); len(disks) > 0 {
			b.rebuildOnDataDisks(o, disks, with)
			return
		}
	}
	if d, ok := strongest(paths, recovery.KindIaC); ok {
		s := b.deploy(o, d, VirtualMachine)
		for _, a := range with {
			s.Resources = append(s.Resources, ref(a))
			s.keys = append(s.keys, a.ID.Key())
			b.covered[a.ID.Key()] = s
		}
		b.lostData(o, "the data on its disks", "redeployed from IaC: a new, empty VM")
		return
	}
	reason := "no backup, Site Recovery replica or IaC for it in the snapshot"
	if r, ok := b.touched[strings.ToLower(o.ID.String())]; ok && r.Recovery.Status == "lost" {
		reason = r.Recovery.Reason
	}
	b.lose(o, VirtualMachine, "the VM, its disks and their data", reason, with...)
}

func lastPoint(p recovery.Path) string {
	if p.LastPoint.IsZero() {
		return ""
	}
	return " (" + p.LastPoint.UTC().Format("2006-01-02 15:04 UTC") + ")"
}

func testFailoverNote(p recovery.Path) string {
	if p.LastPoint.IsZero() {
		return "No test failover is recorded: expect surprises."
	}
	return "Last test failover: " + p.LastPoint.UTC().Format("2006-01-02") + "."
}

// lossAt is when data stopped being written: the deletion (incident) or the reference time.
func (b *builder) lossAt(o *arm.Object) time.Time {
	if r, ok := b.touched[strings.ToLower(o.ID.String())]; ok && !r.Last.IsZero() {
		return r.Last
	}
	return b.ref
}

func itemName(it *arm.Object, via string) string {
	if it != nil {
		return it.Name()
	}
	return via[strings.LastIndex(via, "/")+1:]
}

// subnetOf reads the VM's first NIC's subnet: VNet name, subnet name, VNet resource group.
func (b *builder) subnetOf(vm *arm.Object) (vnet, subnet, vnetRG string) {
	for _, n := range vm.Get("properties.networkProfile.networkInterfaces").List() {
		id, _ := n.Get("id").String()
		nic, ok := b.env.Index.Get(id)
		if !ok {
			continue
		}
		for _, ipc := range nic.Get("properties.ipConfigurations").List() {
			if s, ok := ipc.Get("properties.subnet.id").String(); ok {
				if sid, err := arm.ParseID(s); err == nil {
					if p, ok := sid.Parent(); ok {
						return p.Name(), sid.Name(), p.ResourceGroup()
					}
				}
			}
		}
	}
	return "<vnet>", "<subnet>", rg(vm)
}

// stagingAccount picks a surviving storage account in the VM's subscription and region for the
// restore to stage disks through.
func (b *builder) stagingAccount(vm *arm.Object) string {
	var names []string
	for _, sa := range b.env.Index.OfType("Microsoft.Storage/storageAccounts") {
		if sub(sa) == sub(vm) && strings.EqualFold(strings.ReplaceAll(sa.Location(), " ", ""), strings.ReplaceAll(vm.Location(), " ", "")) &&
			!b.deleted[strings.ToLower(sa.ID.String())] && !b.targetSet[sa.ID.Key()] {
			names = append(names, sa.Name())
		}
	}
	sort.Strings(names)
	if len(names) == 0 {
		return "<staging storage account in " + vm.Location() + ">"
	}
	return names[0]
}

func (b *builder) stagingAccountID(vm *arm.Object, name string) string {
	for _, sa := range b.env.Index.OfType("Microsoft.Storage/storageAccounts") {
		if sa.Name() == name {
			return sa.ID.String()
		}
	}
	return name
}

// survivingOSDisk: the deleted VM's OS disk, when the incident did not delete it and the VM did
// not delete it with itself.
func (b *builder) survivingOSDisk(vm *arm.Object) *arm.Object {
	id, ok := vm.Get("properties.storageProfile.osDisk.managedDisk.id").String()
	if !ok {
		return nil
	}
	if opt, ok := vm.Get("properties.storageProfile.osDisk.deleteOption").String(); ok && strings.EqualFold(opt, "Delete") {
		return nil
	}
	d, ok := b.env.Index.Get(id)
	if !ok || b.deleted[strings.ToLower(d.ID.String())] {
		return nil
	}
	return d
}

// survivingDataDisks: data disks of a deleted VM that the incident left (deleteOption Detach).
func (b *builder) survivingDataDisks(vm *arm.Object) []*arm.Object {
	var out []*arm.Object
	for _, dd := range vm.Get("properties.storageProfile.dataDisks").List() {
		id, ok := dd.Get("managedDisk.id").String()
		if !ok {
			continue
		}
		if d, ok := b.env.Index.Get(id); ok && !b.deleted[strings.ToLower(d.ID.String())] {
			out = append(out, d)
		}
	}
	return out
}

// rebuildOnDataDisks: the OS disk is gone but the data disks survived: a new VM from the same
// image, size and network, with the data disks attached. The OS disk's state is lost.
func (b *builder) rebuildOnDataDisks(o *arm.Object, disks, with []*arm.Object) {
	img := o.Get("properties.storageProfile.imageReference")
	image := strings.Join([]string{img.Get("publisher").Display(), img.Get("offer").Display(), img.Get("sku").Display(), img.Get("version").Display()}, ":")
	if id, ok := img.Get("id").String(); ok && id != "" {
		image = id
	}
	size, _ := o.Prop("properties.hardwareProfile.vmSize").String()
	vnet, subnet, vnetRG := b.subnetOf(o)
	cmds := []string{fmt.Sprintf("az vm create --resource-group %s --name %s --image %s --size %s --subnet %s --location %s --subscription %s",
		q(rg(o)), q(o.Name()), q(image), q(orDefault(size, "Standard_D2s_v5")),
		q("/subscriptions/"+sub(o)+"/resourceGroups/"+vnetRG+"/providers/Microsoft.Network/virtualNetworks/"+vnet+"/subnets/"+subnet), q(o.Location()), sub(o))}
	var names []string
	for _, d := range disks {
		cmds = append(cmds, fmt.Sprintf("az vm disk attach --resource-group %s --vm-name %s --name %s --subscription %s", q(rg(o)), q(o.Name()), q(d.ID.String()), sub(o)))
		names = append(names, d.Name())
	}
	s := &Step{Phase: VirtualMachine, Action: "rebuild-vm-on-data-disks", Path: "surviving-disks", Minutes: minVMFromDisks + 30, Manual: true, Weak: true, Activity: "restore-capabilities",
		Title:    "Rebuild VM " + o.Name() + " from its image and re-attach its surviving data disks",
		Detail:   fmt.Sprintf("Its OS disk was deleted with it, but %s survived. Create a new VM from the same image (%s) and size, attach the data disks, then reinstall and configure the software: the OS disk's state is lost.", strings.Join(names, ", "), image),
		Commands: cmds,
		REST:     []arm.Request{{Method: "PUT", Endpoint: b.host, Path: b.path(o.ID.String(), o.Type()), Body: arm.Definition(o)}},
		Undo:     fmt.Sprintf("az vm delete --ids %s (the data disks are detached, not deleted)", q(o.ID.String())),
	}
	b.add(s, append([]*arm.Object{o}, with...)...)
	for _, a := range with {
		if a.IsType("Microsoft.Compute/disks") {
			b.lostDataAt(a, b.lossAt(o), "the operating system disk and its state", "deleted with the VM (deleteOption Delete)")
		}
	}
}

func (b *builder) aks(o *arm.Object) {
	paths := b.paths(o)
	if p, ok := strongest(paths, recovery.KindBackupVault); ok {
		bi, _ := arm.ParseID(p.Via) // a recovery path's Via is the ID of an object in the snapshot
		vault, _ := bi.Parent()
		s := &Step{Phase: VirtualMachine, Action: "restore-aks-from-backup-vault", Path: p.Kind, Minutes: minAKSRestore, Manual: true, Activity: "restore-data",
			Title:  "Rebuild AKS cluster " + o.Name() + " and restore its workloads from Backup vault " + vault.Name(),
			Detail: "AKS backup restores namespaces and persistent volumes into a cluster: re-create the cluster first (IaC, or the snapshot's configuration), install the backup extension and trusted access, then restore the newest recovery point into it.",
			Commands: []string{
				fmt.Sprintf("RP=$(az dataprotection recovery-point list --resource-group %s --vault-name %s --backup-instance-name %s --subscription %s --query \"[0].name\" -o tsv)", q(vault.ResourceGroup()), q(vault.Name()), q(bi.Name()), bi.SubscriptionID()),
				fmt.Sprintf("az dataprotection backup-instance initialize-restoreconfig --datasource-type AzureKubernetesService > restoreconfig.json"),
				fmt.Sprintf("az dataprotection backup-instance restore initialize-for-item-recovery --datasource-type AzureKubernetesService --restore-location %s --source-datastore OperationalStore --recovery-point-id \"$RP\" --backup-instance-id %s --target-resource-id %s --restore-configuration restoreconfig.json > restorerequest.json",
					q(o.Location()), q(p.Via), q(o.ID.String())),
				fmt.Sprintf("az dataprotection backup-instance restore trigger --resource-group %s --vault-name %s --backup-instance-name %s --restore-request-object restorerequest.json --subscription %s", q(vault.ResourceGroup()), q(vault.Name()), q(bi.Name()), bi.SubscriptionID()),
			},
			REST: []arm.Request{{Method: "POST", Endpoint: b.host, Path: p.Via + "/restore?api-version=" + arm.APIVersions["microsoft.dataprotection/backupvaults"]}},
		}
		st := b.add(s, o)
		b.requires(st, b.covered[vault.Key()])
		return
	}
	if p, ok := strongest(paths, recovery.KindSecondaryCluster); ok {
		b.add(&Step{Phase: VirtualMachine, Action: "switch-to-secondary-cluster", Path: p.Kind, Minutes: 30, Manual: true, Activity: "restore-capabilities",
			Title:    "Move " + o.Name() + "'s traffic to its secondary cluster",
			Detail:   "A secondary cluster runs the same workloads: switch DNS or the front door to it, then rebuild the primary from IaC.",
			Commands: []string{"# switch the traffic manager / front door endpoint to the secondary cluster"}, REST: []arm.Request{}}, o)
		return
	}
	if d, ok := strongest(paths, recovery.KindIaC); ok {
		s := b.deploy(o, d, VirtualMachine)
		s.Minutes = minAKSRedeploy
		b.lostData(o, "persistent volumes and in-cluster state", "no AKS backup: the cluster is redeployed empty; workloads come back from GitOps or pipelines")
		return
	}
	reason := "no AKS backup, secondary cluster or IaC for it in the snapshot"
	b.lose(o, VirtualMachine, "the cluster, its persistent volumes and in-cluster state", reason)
}

func (b *builder) identity(o *arm.Object) {
	principal, _ := o.Prop("properties.principalId").String()
	cmds := []string{fmt.Sprintf("az identity create --resource-group %s --name %s --location %s --subscription %s", q(rg(o)), q(o.Name()), q(o.Location()), sub(o)),
		fmt.Sprintf("NEW_PRINCIPAL=$(az identity show --resource-group %s --name %s --subscription %s --query principalId -o tsv)", q(rg(o)), q(o.Name()), sub(o))}
	n := 0
	for _, a := range b.env.RBAC.Assignments() {
		if principal == "" || !strings.EqualFold(a.PrincipalID, principal) || a.Eligible {
			continue
		}
		cmds = append(cmds, fmt.Sprintf("az role assignment create --assignee-object-id \"$NEW_PRINCIPAL\" --assignee-principal-type ServicePrincipal --role %s --scope %s",
			q(a.RoleGUID), q(a.Scope)))
		n++
	}
	s := &Step{Phase: Automation, Action: "recreate-identity", Path: "snapshot-configuration", Minutes: minIdentity, Activity: "restore-capabilities",
		Title:    fmt.Sprintf("Re-create managed identity %s and its %d role %s", o.Name(), n, plural(n, "assignment", "assignments")),
		Detail:   "A re-created identity has a new principal ID: grant it the same roles at the same scopes (from the snapshot), and update federated credentials and whatever refers to the old principal ID.",
		Commands: cmds,
		REST:     []arm.Request{{Method: "PUT", Endpoint: b.host, Path: b.path(o.ID.String(), o.Type()), Body: map[string]any{"location": o.Location()}}},
		Undo:     fmt.Sprintf("az identity delete --ids %s", q(o.ID.String())),
	}
	if d, ok := strongest(b.paths(o), recovery.KindIaC); ok {
		s.Path = d.Kind
	}
	b.add(s, o)
}
