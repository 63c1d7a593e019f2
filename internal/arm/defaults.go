package arm

import (
	"encoding/json"
	"strconv"
	"strings"
)

// Default is the value a service assumes when a property is absent from an ARM object.
type Default struct {
	Type       string // resource type
	Path       string // dotted property path
	Value      any    // the assumed value
	APIVersion string // the API version whose specification states the default
	value      any
}

// defaults is the one place where Bulwark decides what an absent property means. Each entry names
// the API version whose REST specification (or service documentation for that version) states the
// behaviour. A property with no entry here is simply absent, and checks report `unknown` for it.
var defaults = []Default{
	// Key Vault 2024-11-01: "If it's not set to any value (true or false) when creating new key vault,
	// it will be set to true by default. Once set to true, it cannot be reverted to false."
	{Type: "Microsoft.KeyVault/vaults", Path: "properties.enableSoftDelete", Value: true, APIVersion: "2024-11-01"},
	// Key Vault 2024-11-01: softDeleteRetentionInDays "accepts >=7 and <=90", default 90.
	{Type: "Microsoft.KeyVault/vaults", Path: "properties.softDeleteRetentionInDays", Value: 90, APIVersion: "2024-11-01"},
	// Key Vault 2024-11-01: enablePurgeProtection has no default value; absent means purge protection is off.
	{Type: "Microsoft.KeyVault/vaults", Path: "properties.enablePurgeProtection", Value: false, APIVersion: "2024-11-01"},

	// Storage 2025-01-01 blobServices/default: every data-protection policy is opt-in; an absent policy is disabled.
	{Type: "Microsoft.Storage/storageAccounts/blobServices", Path: "properties.deleteRetentionPolicy.enabled", Value: false, APIVersion: "2025-01-01"},
	{Type: "Microsoft.Storage/storageAccounts/blobServices", Path: "properties.deleteRetentionPolicy.allowPermanentDelete", Value: false, APIVersion: "2025-01-01"},
	{Type: "Microsoft.Storage/storageAccounts/blobServices", Path: "properties.containerDeleteRetentionPolicy.enabled", Value: false, APIVersion: "2025-01-01"},
	{Type: "Microsoft.Storage/storageAccounts/blobServices", Path: "properties.isVersioningEnabled", Value: false, APIVersion: "2025-01-01"},
	{Type: "Microsoft.Storage/storageAccounts/blobServices", Path: "properties.changeFeed.enabled", Value: false, APIVersion: "2025-01-01"},
	{Type: "Microsoft.Storage/storageAccounts/blobServices", Path: "properties.restorePolicy.enabled", Value: false, APIVersion: "2025-01-01"},
	// Storage 2025-01-01 fileServices/default: shareDeleteRetentionPolicy absent from the service
	// properties means share soft delete is not configured (the portal's "on by default" is a portal
	// choice written into this property, not a service default).
	{Type: "Microsoft.Storage/storageAccounts/fileServices", Path: "properties.shareDeleteRetentionPolicy.enabled", Value: false, APIVersion: "2025-01-01"},
	// Storage 2025-01-01 storageAccounts: account-level version-level immutability is opt-in.
	{Type: "Microsoft.Storage/storageAccounts", Path: "properties.immutableStorageWithVersioning.enabled", Value: false, APIVersion: "2025-01-01"},

	// Recovery Services 2025-02-01: soft delete is on for every vault unless turned off; enhanced
	// (AlwaysON) soft delete must be set explicitly.
	{Type: "Microsoft.RecoveryServices/vaults", Path: "properties.securitySettings.softDeleteSettings.softDeleteState", Value: "Enabled", APIVersion: "2025-02-01"},
	{Type: "Microsoft.RecoveryServices/vaults", Path: "properties.securitySettings.softDeleteSettings.softDeleteRetentionPeriodInDays", Value: 14, APIVersion: "2025-02-01"},
	{Type: "Microsoft.RecoveryServices/vaults", Path: "properties.securitySettings.immutabilitySettings.state", Value: "Disabled", APIVersion: "2025-02-01"},
	{Type: "Microsoft.RecoveryServices/vaults", Path: "properties.securitySettings.multiUserAuthorization", Value: "Disabled", APIVersion: "2025-02-01"},
	{Type: "Microsoft.RecoveryServices/vaults", Path: "properties.redundancySettings.crossRegionRestore", Value: "Disabled", APIVersion: "2025-02-01"},

	// Data Protection (Backup vaults) 2025-07-01: soft delete is On with 14 days unless changed;
	// immutability is disabled unless configured.
	{Type: "Microsoft.DataProtection/backupVaults", Path: "properties.securitySettings.softDeleteSettings.state", Value: "On", APIVersion: "2025-07-01"},
	{Type: "Microsoft.DataProtection/backupVaults", Path: "properties.securitySettings.softDeleteSettings.retentionDurationInDays", Value: 14, APIVersion: "2025-07-01"},
	{Type: "Microsoft.DataProtection/backupVaults", Path: "properties.securitySettings.immutabilitySettings.state", Value: "Disabled", APIVersion: "2025-07-01"},
	{Type: "Microsoft.DataProtection/backupVaults", Path: "properties.isVaultProtectedByResourceGuard", Value: false, APIVersion: "2025-07-01"},

	// SQL 2023-08-01 backupShortTermRetentionPolicies: point-in-time retention defaults to 7 days.
	{Type: "Microsoft.Sql/servers/databases/backupShortTermRetentionPolicies", Path: "properties.retentionDays", Value: 7, APIVersion: "2023-08-01"},
	// SQL 2023-08-01 backupLongTermRetentionPolicies: an unset retention is PT0S (no long-term backup).
	{Type: "Microsoft.Sql/servers/databases/backupLongTermRetentionPolicies", Path: "properties.weeklyRetention", Value: "PT0S", APIVersion: "2023-08-01"},
	{Type: "Microsoft.Sql/servers/databases/backupLongTermRetentionPolicies", Path: "properties.monthlyRetention", Value: "PT0S", APIVersion: "2023-08-01"},
	{Type: "Microsoft.Sql/servers/databases/backupLongTermRetentionPolicies", Path: "properties.yearlyRetention", Value: "PT0S", APIVersion: "2023-08-01"},

	// Cosmos DB 2024-11-15: accounts use periodic backup unless continuous backup is chosen.
	{Type: "Microsoft.DocumentDB/databaseAccounts", Path: "properties.backupPolicy.type", Value: "Periodic", APIVersion: "2024-11-15"},

	// Log Analytics 2023-09-01: workspace data retention defaults to 30 days.
	{Type: "Microsoft.OperationalInsights/workspaces", Path: "properties.retentionInDays", Value: 30, APIVersion: "2023-09-01"},
}

var defaultIndex = func() map[string]Default {
	m := make(map[string]Default, len(defaults))
	for _, d := range defaults {
		d.value = jsonValue(d.Value)
		m[strings.ToLower(d.Type)+"|"+strings.ToLower(d.Path)] = d
	}
	return m
}()

// jsonValue converts a Go literal to the shape decoded JSON has, so defaults read like real values.
func jsonValue(v any) any {
	if n, ok := v.(int); ok {
		return json.Number(strconv.Itoa(n))
	}
	return v
}

func serviceDefault(typ, path string) (Default, bool) {
	d, ok := defaultIndex[strings.ToLower(typ)+"|"+strings.ToLower(path)]
	return d, ok
}

// Defaults returns every service default Bulwark assumes, for documentation and tests.
func Defaults() []Default { return append([]Default(nil), defaults...) }

// DefaultInt returns the integer service default of a property, when Bulwark assumes one.
func DefaultInt(typ, path string) (int64, bool) {
	d, ok := serviceDefault(typ, path)
	if !ok {
		return 0, false
	}
	n, ok := d.Value.(int)
	return int64(n), ok
}
