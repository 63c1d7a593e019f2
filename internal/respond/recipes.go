package respond

import (
	"strings"

	"github.com/bulwarkhq/bulwark/internal/arm"
	"github.com/bulwarkhq/bulwark/internal/recovery"
)

// A recipe plans the restore of the resources of some types: it tries the recovery paths it
// restores from (Kinds, strongest first, among those the incident left standing) and records
// what none of them brings back as lost. The paths recovery can show for its types that it does
// not restore from are in Ignores, each with why, so that a new path kind in recovery fails
// TestRecipesCoverRecoveryKinds until a recipe takes it or says why not. Each service family's
// recipe is in its own file (recipes_*.go); a type without a recipe gets genericRecipe.
type recipe struct {
	Name    string
	Types   []string // canonical resource types, lower case
	Kinds   []string // the recovery path kinds it restores from, in the order it tries them
	Ignores map[string]string
	Plan    func(*builder, *arm.Object)
}

// recipes is the table planResource reads, by service family.
var recipes = []recipe{
	{Name: "key vault", Types: []string{"microsoft.keyvault/vaults"}, Plan: (*builder).keyVault,
		Kinds:   []string{recovery.KindSoftDelete, recovery.KindIaC},
		Ignores: map[string]string{recovery.KindDeclared: "soft delete, then IaC: a vault rebuilt any other way has new keys"}},
	{Name: "backup vault", Types: []string{"microsoft.recoveryservices/vaults", "microsoft.dataprotection/backupvaults"}, Plan: (*builder).backupVault,
		Ignores: map[string]string{
			recovery.KindIaC:      "rebuilt from the snapshot's configuration: its recovery points are gone either way, and the step lists what to re-enable",
			recovery.KindDeclared: "rebuilt from the snapshot's configuration"}},
	{Name: "storage account", Types: []string{"microsoft.storage/storageaccounts"}, Plan: (*builder).storageAccount,
		Kinds: []string{recovery.KindPointInTime},
		Ignores: map[string]string{
			recovery.KindSoftDelete:  "account recovery brings the soft-deleted blobs back with the account",
			recovery.KindVersioning:  "account recovery brings the versions back with the account",
			recovery.KindBackup:      "not planned yet: file share restores from Azure Backup are left to the operator",
			recovery.KindBackupVault: "not planned yet: operational blob backup restores are left to the operator",
			recovery.KindIaC:         "account recovery comes first: a redeployed account is empty",
			recovery.KindDeclared:    "account recovery comes first"}},
	{Name: "SQL server", Types: []string{"microsoft.sql/servers", "microsoft.sql/managedinstances"}, Plan: (*builder).sqlServer,
		Kinds: []string{recovery.KindFailoverGroup},
		Ignores: map[string]string{
			recovery.KindIaC:      "not planned yet: rebuilt from the snapshot's configuration even when a template declares it",
			recovery.KindDeclared: "not planned yet: rebuilt from the snapshot's configuration"}},
	{Name: "SQL database", Types: []string{"microsoft.sql/servers/databases", "microsoft.sql/managedinstances/databases"}, Plan: (*builder).sqlDatabase,
		Kinds: []string{recovery.KindFailoverGroup, recovery.KindGeoReplica, recovery.KindPointInTime, recovery.KindGeoRestore, recovery.KindLongTermRetention},
		Ignores: map[string]string{
			recovery.KindIaC:      "a template re-creates an empty database: its data comes from the paths above or is lost",
			recovery.KindDeclared: "the data comes from the paths above or is lost"}},
	{Name: "Cosmos DB", Types: []string{"microsoft.documentdb/databaseaccounts"}, Plan: (*builder).cosmos,
		Kinds: []string{recovery.KindBackup},
		Ignores: map[string]string{
			recovery.KindIaC:      "every account has a backup policy: the restore comes from it",
			recovery.KindDeclared: "every account has a backup policy: the restore comes from it"}},
	{Name: "virtual machine", Types: []string{"microsoft.compute/virtualmachines"}, Plan: (*builder).virtualMachine,
		Kinds:   []string{recovery.KindBackup, recovery.KindSiteRecovery, recovery.KindIaC},
		Ignores: map[string]string{recovery.KindDeclared: "not planned yet: without a backup, replica or template the VM is rebuilt on its surviving disks or recorded lost"}},
	{Name: "AKS cluster", Types: []string{"microsoft.containerservice/managedclusters"}, Plan: (*builder).aks,
		Kinds:   []string{recovery.KindBackupVault, recovery.KindSecondaryCluster, recovery.KindIaC},
		Ignores: map[string]string{recovery.KindDeclared: "not planned yet: the cluster is recorded lost when none of the paths above holds"}},
	{Name: "managed identity", Types: []string{"microsoft.managedidentity/userassignedidentities"}, Plan: (*builder).identity,
		Kinds:   []string{recovery.KindIaC},
		Ignores: map[string]string{recovery.KindDeclared: "re-created with its role assignments from the snapshot"}},
}

// genericRecipe: configuration-based and other resources — IaC, a declared method, else the
// snapshot's configuration, else lost. Disks, NICs and SQL VMs with a VM come back with it
// (the VM recipe's steps list them).
var genericRecipe = recipe{Name: "generic", Plan: (*builder).generic,
	Kinds: []string{recovery.KindIaC, recovery.KindDeclared},
	Ignores: map[string]string{
		recovery.KindWithVM:       "restored by its virtual machine's step",
		recovery.KindBackupVault:  "not planned yet: disk and database restores from a Backup vault are left to the operator",
		recovery.KindBackup:       "not planned yet: restores of workloads in a VM (SQL, SAP HANA) are left to the operator",
		recovery.KindSiteRecovery: "only virtual machines replicate",
	}}

// recipeByType indexes recipes.
var recipeByType = func() map[string]*recipe {
	out := map[string]*recipe{}
	for i := range recipes {
		for _, t := range recipes[i].Types {
			out[t] = &recipes[i]
		}
	}
	return out
}()

// recipeFor is the recipe of a resource type.
func recipeFor(typ string) *recipe {
	if r, ok := recipeByType[strings.ToLower(arm.CanonicalType(typ))]; ok {
		return r
	}
	return &genericRecipe
}
