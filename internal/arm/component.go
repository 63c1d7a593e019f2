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

// componentTypes maps resource types, in their documented spelling, to components. Child types
// inherit their top-level type's component unless listed here themselves.
var componentTypes = map[string]Component{
	"Microsoft.Compute/virtualMachines":                ComponentVM,
	"Microsoft.Compute/virtualMachineScaleSets":        ComponentVM,
	"Microsoft.Compute/disks":                          ComponentVM,
	"Microsoft.Compute/snapshots":                      ComponentVM,
	"Microsoft.Compute/diskEncryptionSets":             ComponentVM,
	"Microsoft.Compute/availabilitySets":               ComponentVM,
	"Microsoft.ContainerService/managedClusters":       ComponentVM,
	"Microsoft.Network/networkInterfaces":              ComponentVM,
	"Microsoft.SqlVirtualMachine/sqlVirtualMachines":   ComponentData,
	"Microsoft.Storage/storageAccounts":                ComponentData,
	"Microsoft.Sql/servers":                            ComponentData,
	"Microsoft.Sql/managedInstances":                   ComponentData,
	"Microsoft.KeyVault/vaults":                        ComponentData,
	"Microsoft.KeyVault/managedHSMs":                   ComponentData,
	"Microsoft.DocumentDB/databaseAccounts":            ComponentData,
	"Microsoft.RecoveryServices/vaults":                ComponentRecovery,
	"Microsoft.DataProtection/backupVaults":            ComponentRecovery,
	"Microsoft.DataProtection/resourceGuards":          ComponentRecovery,
	"Microsoft.Network/virtualNetworks":                ComponentConfig,
	"Microsoft.Network/networkSecurityGroups":          ComponentConfig,
	"Microsoft.Network/routeTables":                    ComponentConfig,
	"Microsoft.Network/loadBalancers":                  ComponentConfig,
	"Microsoft.Network/publicIPAddresses":              ComponentConfig,
	"Microsoft.Network/virtualNetworkGateways":         ComponentConfig,
	"Microsoft.Network/localNetworkGateways":           ComponentConfig,
	"Microsoft.Network/applicationGateways":            ComponentConfig,
	"Microsoft.Network/azureFirewalls":                 ComponentConfig,
	"Microsoft.Network/firewallPolicies":               ComponentConfig,
	"Microsoft.Network/dnszones":                       ComponentConfig,
	"Microsoft.Network/privateDnsZones":                ComponentConfig,
	"Microsoft.Network/privateEndpoints":               ComponentConfig,
	"Microsoft.Network/natGateways":                    ComponentConfig,
	"Microsoft.Automation/automationAccounts":          ComponentAutomation,
	"microsoft.visualstudio/account":                   ComponentAutomation,
	"Microsoft.ManagedIdentity/userAssignedIdentities": ComponentAutomation,
	"Microsoft.DevOpsInfrastructure/pools":             ComponentAutomation,
	"Microsoft.ContainerRegistry/registries":           ComponentAutomation,
	"Microsoft.OperationalInsights/workspaces":         ComponentNone,
	"Microsoft.SecurityInsights/onboardingStates":      ComponentNone,
	"Microsoft.Resources/subscriptions":                ComponentNone,
	"Microsoft.Resources/resourceGroups":               ComponentNone,
}

var componentByType, canonicalType = func() (map[string]Component, map[string]string) {
	c := make(map[string]Component, len(componentTypes))
	n := make(map[string]string, len(componentTypes))
	for t, comp := range componentTypes {
		c[strings.ToLower(t)] = comp
		n[strings.ToLower(t)] = t
	}
	return c, n
}()

// CanonicalType returns the documented spelling of a known resource type ("microsoft.compute/virtualmachines",
// as Resource Graph returns it, becomes "Microsoft.Compute/virtualMachines"); unknown types are returned as given.
func CanonicalType(typ string) string {
	if t, ok := canonicalType[strings.ToLower(typ)]; ok {
		return t
	}
	return typ
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
