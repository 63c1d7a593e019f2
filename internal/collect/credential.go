package collect

import (
	"fmt"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
)

// Clouds are the sovereign clouds --cloud names.
var Clouds = map[string]cloud.Configuration{
	"AzurePublic":       cloud.AzurePublic,
	"AzureUSGovernment": cloud.AzureGovernment,
	"AzureChina":        cloud.AzureChina,
}

// CloudNames lists the keys of Clouds in a stable order.
func CloudNames() []string { return []string{"AzurePublic", "AzureUSGovernment", "AzureChina"} }

// DefaultCredential is azidentity's DefaultAzureCredential for a tenant and cloud: environment
// variables (service principal or workload identity), managed identity, the Azure CLI's login,
// Azure Developer CLI. Nothing is contacted until a token is needed.
func DefaultCredential(tenant string, c cloud.Configuration) (azcore.TokenCredential, error) {
	cred, err := azidentity.NewDefaultAzureCredential(&azidentity.DefaultAzureCredentialOptions{
		TenantID:      tenant,
		ClientOptions: policy.ClientOptions{Cloud: c},
	})
	if err != nil {
		return nil, fmt.Errorf("set up Azure credentials: %w", err)
	}
	return cred, nil
}
