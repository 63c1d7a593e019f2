package azsdk

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	azfake "github.com/Azure/azure-sdk-for-go/sdk/azcore/fake"

	"github.com/bulwarkhq/bulwark/internal/arm"
	"github.com/bulwarkhq/bulwark/internal/armclient"
	"github.com/bulwarkhq/bulwark/internal/collect/collecttest"
	"github.com/bulwarkhq/bulwark/internal/demoestate"
)

const (
	sub1 = "/subscriptions/11111111-1111-4111-8111-111111111111"
	kv   = sub1 + "/resourceGroups/rg-payments/providers/Microsoft.KeyVault/vaults/kv-pay-cmk"
)

func fake(t *testing.T) (*collecttest.Fake, *Clients) {
	t.Helper()
	_, res, err := demoestate.Load(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	f := collecttest.New(res.Snapshot.Resources)
	c, err := New(Options{Options: armclient.Options{Credential: &azfake.TokenCredential{}, Transport: f, RetryDelay: time.Millisecond, MaxRetries: 1}})
	if err != nil {
		t.Fatal(err)
	}
	return f, c
}

// What Prepare shows is what the typed client sends, byte for byte, and the change is read back.
func TestPrepareIsWhatIsSent(t *testing.T) {
	f, c := fake(t)
	ctx := context.Background()
	r, err := c.Prepare("PATCH", kv, []byte(`{"properties":{"enablePurgeProtection":true}}`))
	if err != nil {
		t.Fatal(err)
	}
	want := "PATCH https://management.azure.com" + kv + "?api-version=" + APIKeyVault + ` {"properties":{"enablePurgeProtection":true}}`
	if r.String() != want {
		t.Errorf("prepared %s\nwant     %s", r, want)
	}
	if err := c.Send(ctx, r); err != nil {
		t.Fatal(err)
	}
	if sent := f.SDKRequests(); len(sent) != 1 || sent[0] != want {
		t.Errorf("sent %q\nwant %q", sent, want)
	}
	raw, err := c.Get(ctx, kv)
	if err != nil {
		t.Fatal(err)
	}
	o, err := arm.NewObject(raw, arm.Source{File: "sdk"})
	if err != nil {
		t.Fatal(err)
	}
	if on, _ := o.Get("properties.enablePurgeProtection").Bool(); !on {
		t.Errorf("read back: %s", raw)
	}
	// A method the typed client does not use, an unknown type, a body that is not the model.
	for _, bad := range []struct{ method, path, body, want string }{
		{"PUT", kv, `{}`, "the SDK writes Key Vault with PATCH"},
		{"PUT", sub1 + "/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm", `{}`, "does not write Microsoft.Compute/virtualMachines"},
		{"PATCH", kv, `{"properties":{"enablePurgeProtection":"yes"}}`, "the body is not a Key Vault"},
	} {
		if _, err := c.Prepare(bad.method, bad.path, []byte(bad.body)); err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("%s %s %s: %v, want %q", bad.method, bad.path, bad.body, err, bad.want)
		}
	}
	if _, err := c.Get(ctx, kv+"-gone"); !armclient.IsNotFound(err) {
		t.Errorf("missing vault: %v", err)
	}
}

// Lock calls address the scope with literal slashes (armlocks escapes them; ARM would not find
// the subscription), and list, read, write and delete round-trip through the SDK's fake server.
func TestLocksThroughTheSDK(t *testing.T) {
	f, c := fake(t)
	ctx := context.Background()
	raws, err := c.Locks(ctx, kv)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, raw := range raws {
		var l struct{ Name string }
		json.Unmarshal(raw, &l)
		names = append(names, l.Name)
	}
	if len(raws) < 2 || !strings.Contains(strings.Join(names, ","), "kv-no-delete") {
		t.Errorf("locks over kv-pay-cmk (its own and rg-payments'): %v", names)
	}
	id := kv + "/providers/Microsoft.Authorization/locks/bulwark-test"
	r, err := c.Prepare("PUT", id, []byte(`{"properties":{"level":"CanNotDelete","notes":"test"}}`))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Send(ctx, r); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Get(ctx, id); err != nil {
		t.Fatal(err)
	}
	if err := c.DeleteLock(ctx, id); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Get(ctx, id); !armclient.IsNotFound(err) {
		t.Errorf("after delete: %v", err)
	}
	for _, req := range f.Requests() {
		if strings.Contains(req, "%2F") || strings.Contains(req, "//") {
			t.Errorf("escaped or doubled slashes on the wire: %s", req)
		}
	}
	if d := c.LockDelete(id).String(); d != "DELETE https://management.azure.com"+id+"?api-version="+APILocks {
		t.Errorf("delete request: %s", d)
	}
}
