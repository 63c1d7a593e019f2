package arm

import (
	"encoding/json"
	"strings"
)

// APIVersions are the REST API versions Bulwark writes and reads with, per resource type (lower
// case), taken from the Azure REST API specifications. "microsoft.recoveryservices/backup" and
// "…/siterecovery" name the Recovery Services sub-APIs (protected items, backupconfig, replication).
var APIVersions = map[string]string{
	"microsoft.keyvault/vaults":                        "2024-11-01",
	"microsoft.storage/storageaccounts":                "2025-01-01",
	"microsoft.recoveryservices/vaults":                "2025-02-01",
	"microsoft.recoveryservices/backup":                "2025-02-01", // protected items, backupconfig, resource guard proxies
	"microsoft.recoveryservices/siterecovery":          "2025-01-01",
	"microsoft.dataprotection/backupvaults":            "2025-07-01",
	"microsoft.dataprotection/resourceguards":          "2025-07-01",
	"microsoft.compute/virtualmachines":                "2024-11-01",
	"microsoft.compute/virtualmachinescalesets":        "2024-11-01",
	"microsoft.compute/disks":                          "2024-03-02",
	"microsoft.compute/snapshots":                      "2024-03-02",
	"microsoft.compute/diskencryptionsets":             "2024-03-02",
	"microsoft.containerservice/managedclusters":       "2025-07-01",
	"microsoft.sql/servers":                            "2023-08-01",
	"microsoft.sql/servers/databases":                  "2023-08-01",
	"microsoft.sql/managedinstances":                   "2023-08-01",
	"microsoft.network/virtualnetworks":                "2024-07-01",
	"microsoft.network/networksecuritygroups":          "2024-07-01",
	"microsoft.network/publicipaddresses":              "2024-07-01",
	"microsoft.network/networkinterfaces":              "2024-07-01",
	"microsoft.network/routetables":                    "2024-07-01",
	"microsoft.network/applicationgateways":            "2024-07-01",
	"microsoft.network/azurefirewalls":                 "2024-07-01",
	"microsoft.network/loadbalancers":                  "2024-07-01",
	"microsoft.network/privateendpoints":               "2024-07-01",
	"microsoft.network/virtualnetworkgateways":         "2024-07-01",
	"microsoft.network/dnszones":                       "2018-05-01",
	"microsoft.network/privatednszones":                "2024-06-01",
	"microsoft.automation/automationaccounts":          "2023-11-01",
	"microsoft.managedidentity/userassignedidentities": "2023-01-31",
	"microsoft.authorization/locks":                    "2020-05-01",
	"microsoft.authorization/roleassignments":          "2022-04-01",
	"microsoft.resources/resourcegroups":               "2024-03-01",
	"microsoft.documentdb/databaseaccounts":            "2024-11-15",
	"microsoft.operationalinsights/workspaces":         "2023-09-01",
	"microsoft.insights/eventtypes":                    "2015-04-01",
	"microsoft.storage/deletedaccounts":                "2025-01-01",
}

// APIVersion returns the API version for a resource type.
func APIVersion(typ string) (string, bool) {
	v, ok := APIVersions[strings.ToLower(CanonicalType(typ))]
	return v, ok
}

// Definition is the PUT body of a resource from its snapshot object: location, tags, SKU, kind,
// zones, the identity's type and user-assigned identities, and the properties without the fields
// ARM computes (provisioning state, GUIDs, counts, name servers).
func Definition(o *Object) map[string]any {
	var m map[string]any
	if err := json.Unmarshal(o.Raw, &m); err != nil {
		return map[string]any{}
	}
	out := map[string]any{}
	for k, v := range m {
		if v == nil || v == "" {
			continue
		}
		switch strings.ToLower(k) {
		case "location", "tags", "sku", "kind", "zones", "extendedlocation", "plan":
			out[k] = v
		case "identity":
			if id, ok := v.(map[string]any); ok {
				keep := map[string]any{}
				for ik, iv := range id {
					switch strings.ToLower(ik) {
					case "type":
						keep[ik] = iv
					case "userassignedidentities":
						if uai, ok := iv.(map[string]any); ok {
							ids := map[string]any{}
							for u := range uai {
								ids[u] = map[string]any{}
							}
							keep[ik] = ids
						}
					}
				}
				out[k] = keep
			}
		case "properties":
			if p, ok := v.(map[string]any); ok {
				clean := map[string]any{}
				for pk, pv := range p {
					switch strings.ToLower(pk) {
					case "provisioningstate", "resourceguid", "etag", "creationtime", "createdat", "timecreated",
						"numberofrecordsets", "maxnumberofrecordsets", "nameservers", "privateendpointconnections", "vaulturi":
					default:
						if pv != nil {
							clean[pk] = pv
						}
					}
				}
				out[k] = clean
			}
		}
	}
	return out
}

// The API versions of the writes Bulwark makes: those its pinned Azure SDK clients send (azsdk
// sends through them; harden's plans name them). Change them with the SDK module versions.
const (
	WriteLocks    = "2020-05-01"         // armlocks v1.2.0
	WriteKeyVault = "2024-11-01"         // armkeyvault v1.5.0
	WriteRSV      = "2023-04-01"         // armrecoveryservices v1.6.0
	WriteBV       = "2023-11-01"         // armdataprotection/v3 v3.0.0
	WriteStorage  = "2024-01-01"         // armstorage v1.8.1
	WriteSQLShort = "2021-02-01-preview" // armsql v1.2.0 backupShortTermRetentionPolicies
	WriteSQLLong  = "2020-11-01-preview" // armsql v1.2.0 backupLongTermRetentionPolicies
	WriteSecurity = "2024-01-01"         // armsecurity v0.15.0 pricings
)
