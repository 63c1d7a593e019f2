package collect

import (
	"context"
	"fmt"
	"strings"

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

// checkCredential gets one token for Azure Resource Manager before any call, so that a missing
// login is one clear error — DefaultAzureCredential's message lists every source it tried — rather
// than an error per call.
func checkCredential(ctx context.Context, cred azcore.TokenCredential, c cloud.Configuration) error {
	audience := "https://management.azure.com"
	if svc, ok := c.Services[cloud.ResourceManager]; ok && svc.Audience != "" {
		audience = svc.Audience
	}
	if _, err := cred.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{strings.TrimSuffix(audience, "/") + "/.default"}}); err != nil {
		return fmt.Errorf("no Azure credential works (sign in with az login, or set AZURE_CLIENT_ID/AZURE_TENANT_ID and a secret, certificate or federated token, or run with a managed identity): %w", err)
	}
	return nil
}
