// Package azsdk reads and writes the Azure settings Bulwark changes — management locks, Key Vault
// purge protection, Recovery Services and Backup vault security settings, blob and file service
// data protection, SQL backup retention, Defender plans — through the Azure SDK's typed clients
// (armlocks, armkeyvault, armrecoveryservices, armdataprotection, armstorage, armsql, armsecurity).
//
// A change is addressed by its ARM path. Prepare turns a JSON body into the SDK's model for that
// path and returns the request exactly as the SDK will send it (method, URL with the client's API
// version, the model's JSON); Send sends that model. What Bulwark shows for confirmation and
// journals is therefore the request that goes out.
package azsdk

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	azarm "github.com/Azure/azure-sdk-for-go/sdk/azcore/arm"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/dataprotection/armdataprotection/v3"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/keyvault/armkeyvault"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/recoveryservices/armrecoveryservices"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/resources/armlocks"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/security/armsecurity"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/sql/armsql"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/storage/armstorage"

	"github.com/bulwarkhq/bulwark/internal/arm"
	"github.com/bulwarkhq/bulwark/internal/armclient"
)

// The API versions the SDK clients send, declared in arm (arm.Write*) so that a harden plan, which
// imports no SDK, shows the same ones; TestPlanRequestsAreTheSDKs holds the plan to the requests
// Prepare builds.
const (
	APILocks     = arm.WriteLocks
	APIKeyVault  = arm.WriteKeyVault
	APIRSV       = arm.WriteRSV
	APIBV        = arm.WriteBV
	APIStorage   = arm.WriteStorage
	APISQLShort  = arm.WriteSQLShort
	APISQLLong   = arm.WriteSQLLong
	APISecurity  = arm.WriteSecurity
	pollInterval = 5 * time.Second
)

// Options configure the clients: credential, cloud, transport and retries as for the raw ARM
// client, and how often a long-running update is polled.
type Options struct {
	armclient.Options
	// PollInterval is how often a long-running update is polled (default 5 s; Azure's Retry-After wins).
	PollInterval time.Duration
}

// Clients holds the typed clients, one set per subscription, built on first use.
type Clients struct {
	cred azcore.TokenCredential
	opts *azarm.ClientOptions
	host string
	poll time.Duration

	mu   sync.Mutex
	subs map[string]*set
	sec  *armsecurity.PricingsClient
}

type set struct {
	locks *armlocks.ManagementLocksClient
	kv    *armkeyvault.VaultsClient
	rsv   *armrecoveryservices.VaultsClient
	bv    *armdataprotection.BackupVaultsClient
	blob  *armstorage.BlobServicesClient
	file  *armstorage.FileServicesClient
	str   *armsql.BackupShortTermRetentionPoliciesClient
	ltr   *armsql.LongTermRetentionPoliciesClient
}

// New prepares the clients; nothing is sent until a call.
func New(o Options) (*Clients, error) {
	if o.PollInterval == 0 {
		o.PollInterval = pollInterval
	}
	opts := o.ClientOptions()
	svc, ok := opts.Cloud.Services[cloud.ResourceManager]
	if !ok || svc.Endpoint == "" {
		return nil, errors.New("the cloud configuration has no Resource Manager endpoint")
	}
	opts.PerCallPolicies = []policy.Policy{scopePath{}}
	sec, err := armsecurity.NewPricingsClient(o.Credential, opts)
	if err != nil {
		return nil, err
	}
	return &Clients{cred: o.Credential, opts: opts, host: strings.TrimSuffix(svc.Endpoint, "/"), poll: o.PollInterval,
		subs: map[string]*set{}, sec: sec}, nil
}

func (c *Clients) sub(id string) (*set, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if s, ok := c.subs[id]; ok {
		return s, nil
	}
	var errs []error
	s := set{
		locks: client(&errs, armlocks.NewManagementLocksClient, id, c),
		kv:    client(&errs, armkeyvault.NewVaultsClient, id, c),
		rsv:   client(&errs, armrecoveryservices.NewVaultsClient, id, c),
		bv:    client(&errs, armdataprotection.NewBackupVaultsClient, id, c),
		blob:  client(&errs, armstorage.NewBlobServicesClient, id, c),
		file:  client(&errs, armstorage.NewFileServicesClient, id, c),
		str:   client(&errs, armsql.NewBackupShortTermRetentionPoliciesClient, id, c),
		ltr:   client(&errs, armsql.NewLongTermRetentionPoliciesClient, id, c),
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	c.subs[id] = &s
	return &s, nil
}

// client builds one subscription's client with the shared credential and options, collecting
// the error.
func client[T any](errs *[]error, newClient func(string, azcore.TokenCredential, *azarm.ClientOptions) (T, error), sub string, c *Clients) T {
	cl, err := newClient(sub, c.cred, c.opts)
	*errs = append(*errs, err)
	return cl
}

// Request is a write as the SDK sends it: the module's arm.Request bound to the cloud's endpoint,
// its Body the SDK model's JSON (a json.RawMessage; nil for a DELETE), and what Send needs to send
// it through the typed client.
type Request struct {
	arm.Request

	path  string
	kind  *kind
	model any
}

// Get reads the object at path with its typed client and returns it as the SDK's model renders
// it in JSON (the ARM property names).
func (c *Clients) Get(ctx context.Context, path string) (json.RawMessage, error) {
	k, id, err := kindOf(path)
	if err != nil {
		return nil, err
	}
	s, err := c.sub(id.SubscriptionID())
	if err != nil {
		return nil, err
	}
	v, err := k.get(ctx, c, s, id)
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", path, err)
	}
	return json.Marshal(v)
}

// Prepare turns body into the SDK model for path and returns the request the SDK will send. The
// method must be the one the typed client uses for that path.
func (c *Clients) Prepare(method, path string, body []byte) (Request, error) {
	k, id, err := kindOf(path)
	if err != nil {
		return Request{}, err
	}
	if !strings.EqualFold(method, k.method) {
		return Request{}, fmt.Errorf("%s %s: the SDK writes %s with %s", method, path, k.name, k.method)
	}
	m := k.model()
	if err := json.Unmarshal(body, m); err != nil {
		return Request{}, fmt.Errorf("%s %s: the body is not a %s: %w", method, path, k.name, err)
	}
	out, err := json.Marshal(m)
	if err != nil {
		return Request{}, err
	}
	return Request{Request: arm.Request{Method: k.method, Endpoint: c.host, Path: id.String() + "?api-version=" + k.api, Body: json.RawMessage(out)},
		path: path, kind: k, model: m}, nil
}

// Send sends a prepared request through its typed client and waits for a long-running update to
// finish.
func (c *Clients) Send(ctx context.Context, r Request) error {
	if r.kind == nil {
		return errors.New("azsdk: send of a request that was not prepared")
	}
	id, err := arm.ParseID(r.path)
	if err != nil {
		return err
	}
	s, err := c.sub(id.SubscriptionID())
	if err != nil {
		return err
	}
	if err := r.kind.put(ctx, c, s, id, r.model); err != nil {
		return fmt.Errorf("%s %s: %w", r.Method, r.URL(), err)
	}
	return nil
}

// scopePath sends a lock scope's slashes as slashes. armlocks escapes the {scope} path parameter
// of its ByScope methods (the 2020-05-01 specification does not mark it x-ms-skip-url-encoding),
// which would put /subscriptions%2F… on the wire, and ARM does not decode %2F in a path: such a
// request finds no subscription. The unescaped path is the scope the caller gave.
type scopePath struct{}

func (scopePath) Do(req *policy.Request) (*http.Response, error) {
	if name, _ := req.Raw().Context().Value(runtime.CtxAPINameKey{}).(string); strings.HasPrefix(name, "ManagementLocksClient.") && strings.Contains(name, "ByScope") {
		req.Raw().URL.RawPath = ""
	}
	return req.Next()
}

func (c *Clients) until() *runtime.PollUntilDoneOptions {
	return &runtime.PollUntilDoneOptions{Frequency: c.poll}
}
