package rbac

// Well-known built-in role GUIDs (the same in every tenant).
const (
	Owner                       = "8e3af657-a8ff-443c-a75c-2fe8c4bcb635"
	Contributor                 = "b24988ac-6180-42a0-ab88-20f7382dd24c"
	Reader                      = "acdd72a7-3385-48ef-bd42-f606fba81ae7"
	UserAccessAdministrator     = "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9"
	RoleBasedAccessControlAdmin = "f58310d9-a9f6-439a-9e8d-f62e7b41a168"
	BackupContributor           = "5e467623-bb1f-42f4-a55d-6e525e11384b"
	BackupOperator              = "00c29273-979b-4161-815c-10b084fb9324"
	BackupReader                = "a795c7a0-d4a2-40c1-ae25-d81f01202912"
	SiteRecoveryContributor     = "6670b86e-a3f7-4917-ac9b-5d6ab1be4567"
	SiteRecoveryOperator        = "494ae006-db33-4328-bf46-533a6560a3ca"
	KeyVaultContributor         = "f25e0fa2-a7c8-4377-a976-54943a77a395"
	StorageAccountContributor   = "17d1049b-9a84-46fb-8f53-869881c3d3ab"
	VirtualMachineContributor   = "9980e02c-c2be-4d73-94e8-173b1dc7cf3c"
	NetworkContributor          = "4d97b98b-1d4f-4787-a291-c67834d212e7"
	SQLServerContributor        = "6d8ee4ec-f05a-4a1d-8b00-a9b17e38b437"
	SQLDBContributor            = "9b7fa17d-e63e-47b0-bb0a-15c516ac86ec"
)

// builtins is the embedded table of the built-in roles the checks reason about, with their real
// GUIDs. Owner, Contributor, Reader, User Access Administrator and RBAC Administrator are complete;
// the service roles list the management actions of their own providers and of
// Microsoft.Authorization (which is what the checks evaluate), abridged from Azure's definitions.
// Role definitions found in the snapshot replace these entries.
var builtins = []Role{
	{GUID: Owner, Name: "Owner", Actions: []string{"*"}},
	{GUID: Contributor, Name: "Contributor", Actions: []string{"*"}, NotActions: []string{
		"Microsoft.Authorization/*/Delete", "Microsoft.Authorization/*/Write", "Microsoft.Authorization/elevateAccess/Action",
		"Microsoft.Blueprint/blueprintAssignments/write", "Microsoft.Blueprint/blueprintAssignments/delete",
		"Microsoft.Compute/galleries/share/action", "Microsoft.Purview/consents/write", "Microsoft.Purview/consents/delete",
		"Microsoft.Resources/deploymentStacks/manageDenySetting/action", "Microsoft.Subscription/cancel/action", "Microsoft.Subscription/enable/action"}},
	{GUID: Reader, Name: "Reader", Actions: []string{"*/read"}},
	{GUID: UserAccessAdministrator, Name: "User Access Administrator", Actions: []string{"*/read", "Microsoft.Authorization/*", "Microsoft.Support/*"}},
	{GUID: RoleBasedAccessControlAdmin, Name: "Role Based Access Control Administrator", Actions: []string{
		"Microsoft.Authorization/roleAssignments/write", "Microsoft.Authorization/roleAssignments/delete", "*/read", "Microsoft.Support/*"}},
	{GUID: BackupContributor, Name: "Backup Contributor", Actions: []string{
		"Microsoft.Authorization/*/read", "Microsoft.RecoveryServices/locations/*", "Microsoft.RecoveryServices/Vaults/backupFabrics/*",
		"Microsoft.RecoveryServices/Vaults/backupJobs/*", "Microsoft.RecoveryServices/Vaults/backupPolicies/*", "Microsoft.RecoveryServices/Vaults/backupProtectableItems/*",
		"Microsoft.RecoveryServices/Vaults/backupProtectedItems/read", "Microsoft.RecoveryServices/Vaults/backupconfig/*", "Microsoft.RecoveryServices/Vaults/backupstorageconfig/*",
		"Microsoft.RecoveryServices/Vaults/read", "Microsoft.RecoveryServices/Vaults/write", "Microsoft.Resources/deployments/*", "Microsoft.Support/*",
		"Microsoft.DataProtection/backupVaults/backupInstances/write", "Microsoft.DataProtection/backupVaults/backupInstances/delete",
		"Microsoft.DataProtection/backupVaults/backupPolicies/write", "Microsoft.DataProtection/backupVaults/backupPolicies/delete",
		"Microsoft.DataProtection/backupVaults/write", "Microsoft.DataProtection/backupVaults/read"}},
	{GUID: BackupOperator, Name: "Backup Operator", Actions: []string{
		"Microsoft.Authorization/*/read", "Microsoft.RecoveryServices/Vaults/backupFabrics/protectionContainers/protectedItems/backup/action",
		"Microsoft.RecoveryServices/Vaults/backupFabrics/protectionContainers/protectedItems/read",
		"Microsoft.RecoveryServices/Vaults/backupFabrics/protectionContainers/protectedItems/recoveryPoints/restore/action",
		"Microsoft.RecoveryServices/Vaults/backupFabrics/protectionContainers/protectedItems/write", "Microsoft.RecoveryServices/Vaults/backupJobs/*",
		"Microsoft.RecoveryServices/Vaults/backupPolicies/read", "Microsoft.RecoveryServices/Vaults/read", "Microsoft.Resources/deployments/*", "Microsoft.Support/*",
		"Microsoft.DataProtection/backupVaults/backupInstances/read", "Microsoft.DataProtection/backupVaults/backupInstances/backup/action",
		"Microsoft.DataProtection/backupVaults/backupInstances/restore/action", "Microsoft.DataProtection/backupVaults/read"}},
	{GUID: BackupReader, Name: "Backup Reader", Actions: []string{"Microsoft.Authorization/*/read", "Microsoft.RecoveryServices/Vaults/read", "Microsoft.DataProtection/backupVaults/read"}},
	{GUID: SiteRecoveryContributor, Name: "Site Recovery Contributor", Actions: []string{
		"Microsoft.Authorization/*/read", "Microsoft.RecoveryServices/locations/*", "Microsoft.RecoveryServices/Vaults/replicationAlertSettings/*",
		"Microsoft.RecoveryServices/Vaults/replicationFabrics/*", "Microsoft.RecoveryServices/Vaults/replicationJobs/*", "Microsoft.RecoveryServices/Vaults/replicationPolicies/*",
		"Microsoft.RecoveryServices/Vaults/replicationRecoveryPlans/*", "Microsoft.RecoveryServices/Vaults/read", "Microsoft.RecoveryServices/Vaults/storageConfig/*",
		"Microsoft.Resources/deployments/*", "Microsoft.Support/*"}},
	{GUID: SiteRecoveryOperator, Name: "Site Recovery Operator", Actions: []string{
		"Microsoft.Authorization/*/read", "Microsoft.RecoveryServices/Vaults/replicationFabrics/replicationProtectionContainers/replicationProtectedItems/read",
		"Microsoft.RecoveryServices/Vaults/replicationFabrics/replicationProtectionContainers/replicationProtectedItems/plannedFailover/action",
		"Microsoft.RecoveryServices/Vaults/replicationFabrics/replicationProtectionContainers/replicationProtectedItems/testFailover/action",
		"Microsoft.RecoveryServices/Vaults/read", "Microsoft.Support/*"}},
	{GUID: KeyVaultContributor, Name: "Key Vault Contributor", Actions: []string{
		"Microsoft.Authorization/*/read", "Microsoft.Insights/alertRules/*", "Microsoft.KeyVault/*", "Microsoft.Resources/deployments/*",
		"Microsoft.Resources/subscriptions/resourceGroups/read", "Microsoft.Support/*"},
		NotActions: []string{"Microsoft.KeyVault/locations/deletedVaults/purge/action", "Microsoft.KeyVault/hsmPools/*", "Microsoft.KeyVault/managedHsms/*"}},
	{GUID: StorageAccountContributor, Name: "Storage Account Contributor", Actions: []string{
		"Microsoft.Authorization/*/read", "Microsoft.Insights/alertRules/*", "Microsoft.Insights/diagnosticSettings/*",
		"Microsoft.Network/virtualNetworks/subnets/joinViaServiceEndpoint/action", "Microsoft.ResourceHealth/availabilityStatuses/read",
		"Microsoft.Resources/deployments/*", "Microsoft.Resources/subscriptions/resourceGroups/read", "Microsoft.Storage/storageAccounts/*", "Microsoft.Support/*"}},
	{GUID: VirtualMachineContributor, Name: "Virtual Machine Contributor", Actions: []string{
		"Microsoft.Authorization/*/read", "Microsoft.Compute/availabilitySets/*", "Microsoft.Compute/locations/*", "Microsoft.Compute/virtualMachines/*",
		"Microsoft.Compute/virtualMachineScaleSets/*", "Microsoft.Compute/disks/write", "Microsoft.Compute/disks/read", "Microsoft.Compute/disks/delete",
		"Microsoft.Network/networkInterfaces/*", "Microsoft.RecoveryServices/Vaults/backupFabrics/protectionContainers/protectedItems/write",
		"Microsoft.RecoveryServices/Vaults/backupFabrics/protectionContainers/protectedItems/read", "Microsoft.Resources/deployments/*", "Microsoft.Support/*"}},
	{GUID: NetworkContributor, Name: "Network Contributor", Actions: []string{
		"Microsoft.Authorization/*/read", "Microsoft.Insights/alertRules/*", "Microsoft.Network/*", "Microsoft.ResourceHealth/availabilityStatuses/read",
		"Microsoft.Resources/deployments/*", "Microsoft.Resources/subscriptions/resourceGroups/read", "Microsoft.Support/*"}},
	{GUID: SQLServerContributor, Name: "SQL Server Contributor", Actions: []string{
		"Microsoft.Authorization/*/read", "Microsoft.Insights/alertRules/*", "Microsoft.Resources/deployments/*", "Microsoft.Resources/subscriptions/resourceGroups/read",
		"Microsoft.Sql/locations/*/read", "Microsoft.Sql/servers/*", "Microsoft.Support/*"},
		NotActions: []string{"Microsoft.Sql/managedInstances/securityAlertPolicies/*", "Microsoft.Sql/servers/auditingSettings/*", "Microsoft.Sql/servers/securityAlertPolicies/*",
			"Microsoft.Sql/servers/databases/auditingSettings/*", "Microsoft.Sql/servers/databases/securityAlertPolicies/*"}},
	{GUID: SQLDBContributor, Name: "SQL DB Contributor", Actions: []string{
		"Microsoft.Authorization/*/read", "Microsoft.Resources/deployments/*", "Microsoft.Sql/servers/databases/*", "Microsoft.Sql/servers/read", "Microsoft.Support/*"},
		NotActions: []string{"Microsoft.Sql/servers/databases/auditingSettings/*", "Microsoft.Sql/servers/databases/securityAlertPolicies/*"}},
}
