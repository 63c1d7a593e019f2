package collect

import (
	"encoding/json"
	"strings"
	"testing"
)

// Secrets in collected objects are replaced, at any depth and in any case, and nothing else moves.
// Shapes: App Insights components (properties.ConnectionString, InstrumentationKey), a scale set's
// userData (REST spec compute VirtualMachineScaleSet_Get_WithUserData), AKS servicePrincipalProfile.
func TestRedact(t *testing.T) {
	in := `{"id":"/subscriptions/s/resourceGroups/rg/providers/microsoft.insights/components/appi","type":"microsoft.insights/components","properties":{"ApplicationId":"appi","InstrumentationKey":"0a1b2c3d-aaaa-bbbb-cccc-1234567890ab","ConnectionString":"InstrumentationKey=0a1b2c3d-aaaa-bbbb-cccc-1234567890ab;IngestionEndpoint=https://westeurope-5.in.applicationinsights.azure.com/","RetentionInDays":90},` +
		`"nested":[{"servicePrincipalProfile":{"clientId":"msi","secret":"s3cr3t!"}},{"virtualMachineProfile":{"userData":"ZWNobyBoaQ==","osProfile":{"adminPassword":null,"customData":""}}}],"sku":{"name":"Standard"}}`
	out, n := redact([]byte(in))
	if n != 4 {
		t.Errorf("%d redacted, want 4: %s", n, out)
	}
	for _, secret := range []string{"0a1b2c3d", "s3cr3t", "ZWNobyBoaQ=="} {
		if strings.Contains(string(out), secret) {
			t.Errorf("%q left in %s", secret, out)
		}
	}
	if !json.Valid(out) {
		t.Fatalf("not JSON: %s", out)
	}
	want := strings.NewReplacer(
		`"0a1b2c3d-aaaa-bbbb-cccc-1234567890ab"`, Redacted,
		`"InstrumentationKey=0a1b2c3d-aaaa-bbbb-cccc-1234567890ab;IngestionEndpoint=https://westeurope-5.in.applicationinsights.azure.com/"`, Redacted,
		`"s3cr3t!"`, Redacted, `"ZWNobyBoaQ=="`, Redacted).Replace(in)
	if string(out) != want {
		t.Errorf("got  %s\nwant %s", out, want)
	}
	plain := []byte(`{"id":"/subscriptions/s","properties":{"keySource":"Microsoft.Storage","primaryEndpoints":{"blob":"https://x"}}}`)
	if got, n := redact(plain); n != 0 || &got[0] != &plain[0] {
		t.Errorf("an object without secrets was copied or changed: %s", got)
	}
}
