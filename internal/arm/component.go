package arm

import "strings"

// Component is one of the five kinds of assets in the guidance's reference architecture.
type Component string

// The components of the guidance's reference architecture.
const (
	ComponentVM         Component = "A" // virtual machines and their files
	ComponentData       Component = "B" // data services and their data
	ComponentRecovery   Component = "C" // recovery infrastructure
	ComponentConfig     Component = "D" // configuration-based services
	ComponentAutomation Component = "E" // platform automation and DevOps
	ComponentNone       Component = ""  // management plane and settings: locks, roles, pricings…
)

// Components lists A–E in order.
var Components = []Component{ComponentVM, ComponentData, ComponentRecovery, ComponentConfig, ComponentAutomation}

// Title returns the guidance's name for the component.
func (c Component) Title() string {
	switch c {
	case ComponentVM:
		return "Virtual machines and their files"
	case ComponentData:
		return "Data services and their data"
	case ComponentRecovery:
		return "Recovery infrastructure"
	case ComponentConfig:
		return "Configuration-based services"
	case ComponentAutomation:
		return "Platform automation and DevOps"
	}
	return "Management plane and settings"
}

// componentByType maps resource types (lower case) to components. Child types inherit their
// top-level type's component unless listed here themselves.
var componentByType = map[string]Component{
	"microsoft.compute/virtualmachines":                ComponentVM,
	"microsoft.compute/virtualmachinescalesets":        ComponentVM,
	"microsoft.compute/disks":                          ComponentVM,
	"microsoft.compute/snapshots":                      ComponentVM,
	"microsoft.compute/diskencryptionsets":             ComponentVM,
	"microsoft.compute/availabilitysets":               ComponentVM,
	"microsoft.containerservice/managedclusters":       ComponentVM,
	"microsoft.network/networkinterfaces":              ComponentVM,
	"microsoft.sqlvirtualmachine/sqlvirtualmachines":   ComponentData,
	"microsoft.storage/storageaccounts":                ComponentData,
	"microsoft.sql/servers":                            ComponentData,
	"microsoft.sql/managedinstances":                   ComponentData,
	"microsoft.keyvault/vaults":                        ComponentData,
	"microsoft.keyvault/managedhsms":                   ComponentData,
	"microsoft.documentdb/databaseaccounts":            ComponentData,
	"microsoft.recoveryservices/vaults":                ComponentRecovery,
	"microsoft.dataprotection/backupvaults":            ComponentRecovery,
	"microsoft.dataprotection/resourceguards":          ComponentRecovery,
	"microsoft.network/virtualnetworks":                ComponentConfig,
	"microsoft.network/networksecuritygroups":          ComponentConfig,
	"microsoft.network/routetables":                    ComponentConfig,
	"microsoft.network/loadbalancers":                  ComponentConfig,
	"microsoft.network/publicipaddresses":              ComponentConfig,
	"microsoft.network/virtualnetworkgateways":         ComponentConfig,
	"microsoft.network/localnetworkgateways":           ComponentConfig,
	"microsoft.network/applicationgateways":            ComponentConfig,
	"microsoft.network/azurefirewalls":                 ComponentConfig,
	"microsoft.network/firewallpolicies":               ComponentConfig,
	"microsoft.network/dnszones":                       ComponentConfig,
	"microsoft.network/privatednszones":                ComponentConfig,
	"microsoft.network/privateendpoints":               ComponentConfig,
	"microsoft.network/natgateways":                    ComponentConfig,
	"microsoft.automation/automationaccounts":          ComponentAutomation,
	"microsoft.visualstudio/account":                   ComponentAutomation,
	"microsoft.managedidentity/userassignedidentities": ComponentAutomation,
	"microsoft.devopsinfrastructure/pools":             ComponentAutomation,
	"microsoft.containerregistry/registries":           ComponentAutomation,
	"microsoft.operationalinsights/workspaces":         ComponentNone,
	"microsoft.securityinsights/onboardingstates":      ComponentNone,
	"microsoft.resources/subscriptions":                ComponentNone,
	"microsoft.resources/resourcegroups":               ComponentNone,
}

// ComponentOf returns the component a resource type belongs to. Child types (blobServices,
// databases, protected items) belong to their top-level type's component. Build-agent VMs are
// component A by type; the checks treat them as E by tag.
func ComponentOf(typ string) Component {
	t := strings.ToLower(typ)
	for {
		if c, ok := componentByType[t]; ok {
			return c
		}
		i := strings.LastIndexByte(t, '/')
		if i < 0 || strings.Count(t, "/") < 2 {
			return ComponentNone
		}
		t = t[:i]
	}
}
