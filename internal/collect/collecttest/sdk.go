package collecttest

import (
	"context"
	"encoding/json"
	"net/http"
	"regexp"
	"sort"
	"strings"

	azfake "github.com/Azure/azure-sdk-for-go/sdk/azcore/fake"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/dataprotection/armdataprotection/v3"
	dpfake "github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/dataprotection/armdataprotection/v3/fake"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/keyvault/armkeyvault"
	kvfake "github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/keyvault/armkeyvault/fake"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/recoveryservices/armrecoveryservices"
	rsvfake "github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/recoveryservices/armrecoveryservices/fake"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/resources/armlocks"
	locksfake "github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/resources/armlocks/fake"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/security/armsecurity"
	secfake "github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/security/armsecurity/fake"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/sql/armsql"
	sqlfake "github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/sql/armsql/fake"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/storage/armstorage"
	stfake "github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/storage/armstorage/fake"

	"github.com/bulwarkhq/bulwark/internal/arm"
)

// The typed SDK clients Bulwark writes with are served by their own fake servers (the SDK's
// fake packages), each backed by the same estate as the ARM fake: a write through armkeyvault is
// seen by a later GET through either. Requests are routed by the module the SDK names in the
// User-Agent header (azsdk-go-armkeyvault/v1.5.0 …).

// target is the object a fake-server call is about, from the request path.
type target struct{ key, id string }

type targetKey struct{}

func targetOf(ctx context.Context) target {
	t, _ := ctx.Value(targetKey{}).(target)
	return t
}

var sdkModule = regexp.MustCompile(`azsdk-go-(arm[a-z]+)/`)

// sdk returns the fake server transport for a request from a typed SDK client, or nil.
func (f *Fake) sdk(req *http.Request) policy.Transporter {
	m := sdkModule.FindStringSubmatch(req.Header.Get("User-Agent"))
	if m == nil {
		return nil
	}
	f.sdkOnce.Do(f.buildSDK)
	return f.sdkServers[m[1]]
}

// SDKRequests returns the writes typed SDK clients sent, "METHOD URL BODY", as they arrived.
func (f *Fake) SDKRequests() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.sdkWrites...)
}

// load reads the object a call is about into the SDK model T.
func load[T any](f *Fake, ctx context.Context) (T, bool) {
	var v T
	f.mu.Lock()
	raw, ok := f.objects[targetOf(ctx).key]
	f.mu.Unlock()
	if !ok || json.Unmarshal(raw, &v) != nil {
		return v, false
	}
	return v, true
}

// save applies a PUT or PATCH of body (an SDK model) to the object a call is about and returns
// the result as the SDK model T, or the error status.
func save[T any](f *Fake, ctx context.Context, method string, body any) (T, int) {
	var v T
	raw, err := json.Marshal(body)
	if err != nil {
		return v, http.StatusBadRequest
	}
	var m map[string]any
	json.Unmarshal(raw, &m)
	t := targetOf(ctx)
	status, out := f.apply(method, t.key, t.id, m)
	if status >= 300 {
		return v, status
	}
	json.Unmarshal(out, &v)
	return v, status
}

// answer fills a responder or an error responder.
func answer[R any](resp *azfake.Responder[R], e *azfake.ErrorResponder, ok bool, status int, r R) {
	if !ok {
		e.SetResponseError(status, http.StatusText(status))
		return
	}
	resp.SetResponse(http.StatusOK, r, nil)
}

func answerLRO[R any](resp *azfake.PollerResponder[R], e *azfake.ErrorResponder, status int, r R) {
	if status >= 300 {
		e.SetResponseError(status, http.StatusText(status))
		return
	}
	resp.SetTerminalResponse(http.StatusOK, r, nil)
}

func (f *Fake) buildSDK() {
	notFound := http.StatusNotFound
	f.sdkServers = map[string]policy.Transporter{
		"armlocks": locksfake.NewServerFactoryTransport(&locksfake.ServerFactory{ManagementLocksServer: locksfake.ManagementLocksServer{
			GetByScope: func(ctx context.Context, _, _ string, _ *armlocks.ManagementLocksClientGetByScopeOptions) (resp azfake.Responder[armlocks.ManagementLocksClientGetByScopeResponse], e azfake.ErrorResponder) {
				v, ok := load[armlocks.ManagementLockObject](f, ctx)
				answer(&resp, &e, ok, notFound, armlocks.ManagementLocksClientGetByScopeResponse{ManagementLockObject: v})
				return
			},
			CreateOrUpdateByScope: func(ctx context.Context, _, _ string, p armlocks.ManagementLockObject, _ *armlocks.ManagementLocksClientCreateOrUpdateByScopeOptions) (resp azfake.Responder[armlocks.ManagementLocksClientCreateOrUpdateByScopeResponse], e azfake.ErrorResponder) {
				v, st := save[armlocks.ManagementLockObject](f, ctx, http.MethodPut, p)
				answer(&resp, &e, st < 300, st, armlocks.ManagementLocksClientCreateOrUpdateByScopeResponse{ManagementLockObject: v})
				return
			},
			DeleteByScope: func(ctx context.Context, _, _ string, _ *armlocks.ManagementLocksClientDeleteByScopeOptions) (resp azfake.Responder[armlocks.ManagementLocksClientDeleteByScopeResponse], e azfake.ErrorResponder) {
				t := targetOf(ctx)
				f.apply(http.MethodDelete, t.key, t.id, nil)
				resp.SetResponse(http.StatusOK, armlocks.ManagementLocksClientDeleteByScopeResponse{}, nil)
				return
			},
			NewListByScopePager: func(scope string, _ *armlocks.ManagementLocksClientListByScopeOptions) (resp azfake.PagerResponder[armlocks.ManagementLocksClientListByScopeResponse]) {
				var page armlocks.ManagementLockListResult
				for _, raw := range f.locksOver("/" + strings.TrimPrefix(scope, "/")) {
					var l armlocks.ManagementLockObject
					if json.Unmarshal(raw, &l) == nil {
						page.Value = append(page.Value, &l)
					}
				}
				resp.AddPage(http.StatusOK, armlocks.ManagementLocksClientListByScopeResponse{ManagementLockListResult: page}, nil)
				return
			},
		}}),
		"armkeyvault": kvfake.NewServerFactoryTransport(&kvfake.ServerFactory{VaultsServer: kvfake.VaultsServer{
			Get: func(ctx context.Context, _, _ string, _ *armkeyvault.VaultsClientGetOptions) (resp azfake.Responder[armkeyvault.VaultsClientGetResponse], e azfake.ErrorResponder) {
				v, ok := load[armkeyvault.Vault](f, ctx)
				answer(&resp, &e, ok, notFound, armkeyvault.VaultsClientGetResponse{Vault: v})
				return
			},
			Update: func(ctx context.Context, _, _ string, p armkeyvault.VaultPatchParameters, _ *armkeyvault.VaultsClientUpdateOptions) (resp azfake.Responder[armkeyvault.VaultsClientUpdateResponse], e azfake.ErrorResponder) {
				v, st := save[armkeyvault.Vault](f, ctx, http.MethodPatch, p)
				answer(&resp, &e, st < 300, st, armkeyvault.VaultsClientUpdateResponse{Vault: v})
				return
			},
		}}),
		"armrecoveryservices": rsvfake.NewServerFactoryTransport(&rsvfake.ServerFactory{VaultsServer: rsvfake.VaultsServer{
			Get: func(ctx context.Context, _, _ string, _ *armrecoveryservices.VaultsClientGetOptions) (resp azfake.Responder[armrecoveryservices.VaultsClientGetResponse], e azfake.ErrorResponder) {
				v, ok := load[armrecoveryservices.Vault](f, ctx)
				answer(&resp, &e, ok, notFound, armrecoveryservices.VaultsClientGetResponse{Vault: v})
				return
			},
			BeginUpdate: func(ctx context.Context, _, _ string, p armrecoveryservices.PatchVault, _ *armrecoveryservices.VaultsClientBeginUpdateOptions) (resp azfake.PollerResponder[armrecoveryservices.VaultsClientUpdateResponse], e azfake.ErrorResponder) {
				v, st := save[armrecoveryservices.Vault](f, ctx, http.MethodPatch, p)
				answerLRO(&resp, &e, st, armrecoveryservices.VaultsClientUpdateResponse{Vault: v})
				return
			},
		}}),
		"armdataprotection": dpfake.NewServerFactoryTransport(&dpfake.ServerFactory{BackupVaultsServer: dpfake.BackupVaultsServer{
			Get: func(ctx context.Context, _, _ string, _ *armdataprotection.BackupVaultsClientGetOptions) (resp azfake.Responder[armdataprotection.BackupVaultsClientGetResponse], e azfake.ErrorResponder) {
				v, ok := load[armdataprotection.BackupVaultResource](f, ctx)
				answer(&resp, &e, ok, notFound, armdataprotection.BackupVaultsClientGetResponse{BackupVaultResource: v})
				return
			},
			BeginUpdate: func(ctx context.Context, _, _ string, p armdataprotection.PatchResourceRequestInput, _ *armdataprotection.BackupVaultsClientBeginUpdateOptions) (resp azfake.PollerResponder[armdataprotection.BackupVaultsClientUpdateResponse], e azfake.ErrorResponder) {
				v, st := save[armdataprotection.BackupVaultResource](f, ctx, http.MethodPatch, p)
				answerLRO(&resp, &e, st, armdataprotection.BackupVaultsClientUpdateResponse{BackupVaultResource: v})
				return
			},
		}}),
		"armstorage": stfake.NewServerFactoryTransport(&stfake.ServerFactory{
			BlobServicesServer: stfake.BlobServicesServer{
				GetServiceProperties: func(ctx context.Context, _, _ string, _ *armstorage.BlobServicesClientGetServicePropertiesOptions) (resp azfake.Responder[armstorage.BlobServicesClientGetServicePropertiesResponse], e azfake.ErrorResponder) {
					v, ok := load[armstorage.BlobServiceProperties](f, ctx)
					answer(&resp, &e, ok, notFound, armstorage.BlobServicesClientGetServicePropertiesResponse{BlobServiceProperties: v})
					return
				},
				SetServiceProperties: func(ctx context.Context, _, _ string, p armstorage.BlobServiceProperties, _ *armstorage.BlobServicesClientSetServicePropertiesOptions) (resp azfake.Responder[armstorage.BlobServicesClientSetServicePropertiesResponse], e azfake.ErrorResponder) {
					v, st := save[armstorage.BlobServiceProperties](f, ctx, http.MethodPut, p)
					answer(&resp, &e, st < 300, st, armstorage.BlobServicesClientSetServicePropertiesResponse{BlobServiceProperties: v})
					return
				},
			},
			FileServicesServer: stfake.FileServicesServer{
				GetServiceProperties: func(ctx context.Context, _, _ string, _ *armstorage.FileServicesClientGetServicePropertiesOptions) (resp azfake.Responder[armstorage.FileServicesClientGetServicePropertiesResponse], e azfake.ErrorResponder) {
					v, ok := load[armstorage.FileServiceProperties](f, ctx)
					answer(&resp, &e, ok, notFound, armstorage.FileServicesClientGetServicePropertiesResponse{FileServiceProperties: v})
					return
				},
				SetServiceProperties: func(ctx context.Context, _, _ string, p armstorage.FileServiceProperties, _ *armstorage.FileServicesClientSetServicePropertiesOptions) (resp azfake.Responder[armstorage.FileServicesClientSetServicePropertiesResponse], e azfake.ErrorResponder) {
					v, st := save[armstorage.FileServiceProperties](f, ctx, http.MethodPut, p)
					answer(&resp, &e, st < 300, st, armstorage.FileServicesClientSetServicePropertiesResponse{FileServiceProperties: v})
					return
				},
			},
		}),
		"armsql": sqlfake.NewServerFactoryTransport(&sqlfake.ServerFactory{
			BackupShortTermRetentionPoliciesServer: sqlfake.BackupShortTermRetentionPoliciesServer{
				Get: func(ctx context.Context, _, _, _ string, _ armsql.ShortTermRetentionPolicyName, _ *armsql.BackupShortTermRetentionPoliciesClientGetOptions) (resp azfake.Responder[armsql.BackupShortTermRetentionPoliciesClientGetResponse], e azfake.ErrorResponder) {
					v, ok := load[armsql.BackupShortTermRetentionPolicy](f, ctx)
					answer(&resp, &e, ok, notFound, armsql.BackupShortTermRetentionPoliciesClientGetResponse{BackupShortTermRetentionPolicy: v})
					return
				},
				BeginCreateOrUpdate: func(ctx context.Context, _, _, _ string, _ armsql.ShortTermRetentionPolicyName, p armsql.BackupShortTermRetentionPolicy, _ *armsql.BackupShortTermRetentionPoliciesClientBeginCreateOrUpdateOptions) (resp azfake.PollerResponder[armsql.BackupShortTermRetentionPoliciesClientCreateOrUpdateResponse], e azfake.ErrorResponder) {
					v, st := save[armsql.BackupShortTermRetentionPolicy](f, ctx, http.MethodPut, p)
					answerLRO(&resp, &e, st, armsql.BackupShortTermRetentionPoliciesClientCreateOrUpdateResponse{BackupShortTermRetentionPolicy: v})
					return
				},
			},
			LongTermRetentionPoliciesServer: sqlfake.LongTermRetentionPoliciesServer{
				Get: func(ctx context.Context, _, _, _ string, _ armsql.LongTermRetentionPolicyName, _ *armsql.LongTermRetentionPoliciesClientGetOptions) (resp azfake.Responder[armsql.LongTermRetentionPoliciesClientGetResponse], e azfake.ErrorResponder) {
					v, ok := load[armsql.LongTermRetentionPolicy](f, ctx)
					answer(&resp, &e, ok, notFound, armsql.LongTermRetentionPoliciesClientGetResponse{LongTermRetentionPolicy: v})
					return
				},
				BeginCreateOrUpdate: func(ctx context.Context, _, _, _ string, _ armsql.LongTermRetentionPolicyName, p armsql.LongTermRetentionPolicy, _ *armsql.LongTermRetentionPoliciesClientBeginCreateOrUpdateOptions) (resp azfake.PollerResponder[armsql.LongTermRetentionPoliciesClientCreateOrUpdateResponse], e azfake.ErrorResponder) {
					v, st := save[armsql.LongTermRetentionPolicy](f, ctx, http.MethodPut, p)
					answerLRO(&resp, &e, st, armsql.LongTermRetentionPoliciesClientCreateOrUpdateResponse{LongTermRetentionPolicy: v})
					return
				},
			},
		}),
		"armsecurity": secfake.NewServerFactoryTransport(&secfake.ServerFactory{PricingsServer: secfake.PricingsServer{
			Get: func(ctx context.Context, _, _ string, _ *armsecurity.PricingsClientGetOptions) (resp azfake.Responder[armsecurity.PricingsClientGetResponse], e azfake.ErrorResponder) {
				v, ok := load[armsecurity.Pricing](f, ctx)
				answer(&resp, &e, ok, notFound, armsecurity.PricingsClientGetResponse{Pricing: v})
				return
			},
			Update: func(ctx context.Context, _, _ string, p armsecurity.Pricing, _ *armsecurity.PricingsClientUpdateOptions) (resp azfake.Responder[armsecurity.PricingsClientUpdateResponse], e azfake.ErrorResponder) {
				v, st := save[armsecurity.Pricing](f, ctx, http.MethodPut, p)
				answer(&resp, &e, st < 300, st, armsecurity.PricingsClientUpdateResponse{Pricing: v})
				return
			},
		}}),
	}
}

// locksOver returns the locks that apply to scope: on it or on a scope above it.
func (f *Fake) locksOver(scope string) []json.RawMessage {
	f.mu.Lock()
	defer f.mu.Unlock()
	s := strings.ToLower(strings.TrimSuffix(scope, "/"))
	var keys []string
	for k := range f.objects {
		if ls := arm.LockScope(k); ls != "" && (s == ls || strings.HasPrefix(s, ls+"/")) {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	out := make([]json.RawMessage, 0, len(keys))
	for _, k := range keys {
		out = append(out, f.objects[k])
	}
	return out
}
