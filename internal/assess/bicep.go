package assess

// Bicep snippets for the checks whose fix is a resource property. They are remediation data kept
// beside the checks; each names the API version whose schema it follows.
const (
	bicepBlob = `resource blob 'Microsoft.Storage/storageAccounts/blobServices@2025-01-01' = {
  parent: storageAccount
  name: 'default'
  properties: {
    deleteRetentionPolicy: { enabled: true, days: 14, allowPermanentDelete: false }
    containerDeleteRetentionPolicy: { enabled: true, days: 14 }
    isVersioningEnabled: true
    changeFeed: { enabled: true, retentionInDays: 14 }
    restorePolicy: { enabled: true, days: 13 }
  }
}`
	bicepFiles = `resource files 'Microsoft.Storage/storageAccounts/fileServices@2025-01-01' = {
  parent: storageAccount
  name: 'default'
  properties: { shareDeleteRetentionPolicy: { enabled: true, days: 14 } }
}`
	bicepImmutableAccount = `resource storageAccount 'Microsoft.Storage/storageAccounts@2025-01-01' = {
  // …
  properties: {
    immutableStorageWithVersioning: {
      enabled: true
      immutabilityPolicy: { immutabilityPeriodSinceCreationInDays: 30, state: 'Unlocked', allowProtectedAppendWrites: false }
    }
  }
}`
	bicepGZRS = `resource storageAccount 'Microsoft.Storage/storageAccounts@2025-01-01' = {
  // …
  sku: { name: 'Standard_GZRS' }
}`
	bicepSQLSTR = `resource str 'Microsoft.Sql/servers/databases/backupShortTermRetentionPolicies@2023-08-01' = {
  parent: database
  name: 'default'
  properties: { retentionDays: 14, diffBackupIntervalInHours: 12 }
}`
	bicepSQLLTR = `resource ltr 'Microsoft.Sql/servers/databases/backupLongTermRetentionPolicies@2023-08-01' = {
  parent: database
  name: 'default'
  properties: { weeklyRetention: 'P4W', monthlyRetention: 'P12M', yearlyRetention: 'P5Y', weekOfYear: 1 }
}
// and on the database: properties: { requestedBackupStorageRedundancy: 'Geo' }`
	bicepFailoverGroup = `resource fg 'Microsoft.Sql/servers/failoverGroups@2023-08-01' = {
  parent: primaryServer
  name: 'fg-app'
  properties: {
    readWriteEndpoint: { failoverPolicy: 'Automatic', failoverWithDataLossGracePeriodMinutes: 60 }
    partnerServers: [ { id: secondaryServer.id } ]
    databases: [ database.id ]
  }
}`
	bicepInstanceFailoverGroup = `resource ifg 'Microsoft.Sql/locations/instanceFailoverGroups@2023-08-01' = {
  name: '${location}/fg-mi'
  properties: {
    readWriteEndpoint: { failoverPolicy: 'Automatic', failoverWithDataLossGracePeriodMinutes: 60 }
    partnerRegions: [ { location: secondaryLocation } ]
    managedInstancePairs: [ { primaryManagedInstanceId: primaryMi.id, partnerManagedInstanceId: secondaryMi.id } ]
  }
}`
	bicepKeyVault = `resource kv 'Microsoft.KeyVault/vaults@2024-11-01' = {
  // …
  properties: {
    enableSoftDelete: true
    softDeleteRetentionInDays: 90
    enablePurgeProtection: true
  }
}`
	bicepCosmos = `resource cosmos 'Microsoft.DocumentDB/databaseAccounts@2024-11-15' = {
  // …
  properties: {
    backupPolicy: { type: 'Continuous', continuousModeProperties: { tier: 'Continuous30Days' } }
  }
}`
	bicepRSV = `resource rsv 'Microsoft.RecoveryServices/vaults@2025-02-01' = {
  // …
  properties: {
    securitySettings: {
      softDeleteSettings: { softDeleteState: 'AlwaysON', softDeleteRetentionPeriodInDays: 14 }
      immutabilitySettings: { state: 'Locked' }
    }
    redundancySettings: { standardTierStorageRedundancy: 'GeoRedundant', crossRegionRestore: 'Enabled' }
  }
}`
	bicepGuardProxy = `resource proxy 'Microsoft.RecoveryServices/vaults/backupResourceGuardProxies@2025-02-01' = {
  parent: rsv
  name: 'VaultProxy'
  properties: { resourceGuardResourceId: resourceGuardIdInAnotherSubscription }
}`
	bicepBV = `resource bv 'Microsoft.DataProtection/backupVaults@2025-07-01' = {
  // …
  properties: {
    storageSettings: [ { datastoreType: 'VaultStore', type: 'GeoRedundant' } ]
    securitySettings: {
      softDeleteSettings: { state: 'AlwaysOn', retentionDurationInDays: 14 }
      immutabilitySettings: { state: 'Locked' }
    }
    resourceGuardOperationRequests: [ '${resourceGuardId}/dppDisableSoftDeleteRequests/default', '${resourceGuardId}/dppDeleteBackupInstanceRequests/default' ]
  }
}`
	bicepDiag = `targetScope = 'subscription'
resource activity 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'activity-to-sentinel'
  properties: {
    workspaceId: workspaceId
    logs: [ { categoryGroup: 'allLogs', enabled: true } ]
  }
}`
	bicepSentinel = `resource onboarding 'Microsoft.SecurityInsights/onboardingStates@2024-03-01' = {
  scope: workspace
  name: 'default'
  properties: {}
}`
	bicepDefender = `targetScope = 'subscription'
resource plans 'Microsoft.Security/pricings@2024-01-01' = [for plan in [ 'VirtualMachines', 'StorageAccounts', 'SqlServers', 'KeyVaults', 'Arm', 'Containers', 'CloudPosture' ]: {
  name: plan
  properties: { pricingTier: 'Standard' }
}]`
	bicepWorkspace = `resource law 'Microsoft.OperationalInsights/workspaces@2023-09-01' = {
  // …
  properties: { retentionInDays: 365 }
}
resource lock 'Microsoft.Authorization/locks@2020-05-01' = {
  scope: law
  name: 'no-delete'
  properties: { level: 'CanNotDelete' }
}`
)
