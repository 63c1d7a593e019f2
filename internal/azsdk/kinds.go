package azsdk

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/dataprotection/armdataprotection/v3"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/keyvault/armkeyvault"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/recoveryservices/armrecoveryservices"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/resources/armlocks"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/security/armsecurity"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/sql/armsql"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/storage/armstorage"

	"github.com/bulwarkhq/bulwark/internal/arm"
)

// kind is one type of object Bulwark changes: how its typed client reads it and writes it.
type kind struct {
	name   string // what it is, for messages
	typ    string // ARM type, lower case
	method string // the method the typed client writes with
	api    string
	model  func() any // a new write model (a pointer)
	get    func(ctx context.Context, c *Clients, s *set, id arm.ID) (any, error)
	put    func(ctx context.Context, c *Clients, s *set, id arm.ID, model any) error
}

// lro is a long-running write as a Begin method returns it.
type lro[T any] struct {
	p   *runtime.Poller[T]
	err error
}

func begun[T any](p *runtime.Poller[T], err error) lro[T] { return lro[T]{p, err} }

// wait waits for the write to finish.
func (l lro[T]) wait(ctx context.Context, c *Clients) error {
	if l.err != nil {
		return l.err
	}
	_, err := l.p.PollUntilDone(ctx, c.until())
	return err
}

// parent returns the name of the ancestor n levels up (1: the parent).
func parent(id arm.ID, n int) string {
	for range n {
		id, _ = id.Parent()
	}
	return id.Name()
}

var kinds = []*kind{
	{name: "management lock", typ: "microsoft.authorization/locks", method: http.MethodPut, api: APILocks,
		model: func() any { return &armlocks.ManagementLockObject{} },
		get: func(ctx context.Context, _ *Clients, s *set, id arm.ID) (any, error) {
			r, err := s.locks.GetByScope(ctx, lockScope(id.String()), id.Name(), nil)
			return r.ManagementLockObject, err
		},
		put: func(ctx context.Context, _ *Clients, s *set, id arm.ID, m any) error {
			_, err := s.locks.CreateOrUpdateByScope(ctx, lockScope(id.String()), id.Name(), *m.(*armlocks.ManagementLockObject), nil)
			return err
		}},
	{name: "Key Vault", typ: "microsoft.keyvault/vaults", method: http.MethodPatch, api: APIKeyVault,
		model: func() any { return &armkeyvault.VaultPatchParameters{} },
		get: func(ctx context.Context, _ *Clients, s *set, id arm.ID) (any, error) {
			r, err := s.kv.Get(ctx, id.ResourceGroup(), id.Name(), nil)
			return r.Vault, err
		},
		put: func(ctx context.Context, _ *Clients, s *set, id arm.ID, m any) error {
			_, err := s.kv.Update(ctx, id.ResourceGroup(), id.Name(), *m.(*armkeyvault.VaultPatchParameters), nil)
			return err
		}},
	{name: "Recovery Services vault", typ: "microsoft.recoveryservices/vaults", method: http.MethodPatch, api: APIRSV,
		model: func() any { return &armrecoveryservices.PatchVault{} },
		get: func(ctx context.Context, _ *Clients, s *set, id arm.ID) (any, error) {
			r, err := s.rsv.Get(ctx, id.ResourceGroup(), id.Name(), nil)
			return r.Vault, err
		},
		put: func(ctx context.Context, c *Clients, s *set, id arm.ID, m any) error {
			return begun(s.rsv.BeginUpdate(ctx, id.ResourceGroup(), id.Name(), *m.(*armrecoveryservices.PatchVault), nil)).wait(ctx, c)
		}},
	{name: "Backup vault", typ: "microsoft.dataprotection/backupvaults", method: http.MethodPatch, api: APIBV,
		model: func() any { return &armdataprotection.PatchResourceRequestInput{} },
		get: func(ctx context.Context, _ *Clients, s *set, id arm.ID) (any, error) {
			r, err := s.bv.Get(ctx, id.ResourceGroup(), id.Name(), nil)
			return r.BackupVaultResource, err
		},
		put: func(ctx context.Context, c *Clients, s *set, id arm.ID, m any) error {
			return begun(s.bv.BeginUpdate(ctx, id.ResourceGroup(), id.Name(), *m.(*armdataprotection.PatchResourceRequestInput), nil)).wait(ctx, c)
		}},
	{name: "blob service", typ: "microsoft.storage/storageaccounts/blobservices", method: http.MethodPut, api: APIStorage,
		model: func() any { return &armstorage.BlobServiceProperties{} },
		get: func(ctx context.Context, _ *Clients, s *set, id arm.ID) (any, error) {
			r, err := s.blob.GetServiceProperties(ctx, id.ResourceGroup(), parent(id, 1), nil)
			return r.BlobServiceProperties, err
		},
		put: func(ctx context.Context, _ *Clients, s *set, id arm.ID, m any) error {
			_, err := s.blob.SetServiceProperties(ctx, id.ResourceGroup(), parent(id, 1), *m.(*armstorage.BlobServiceProperties), nil)
			return err
		}},
	{name: "file service", typ: "microsoft.storage/storageaccounts/fileservices", method: http.MethodPut, api: APIStorage,
		model: func() any { return &armstorage.FileServiceProperties{} },
		get: func(ctx context.Context, _ *Clients, s *set, id arm.ID) (any, error) {
			r, err := s.file.GetServiceProperties(ctx, id.ResourceGroup(), parent(id, 1), nil)
			return r.FileServiceProperties, err
		},
		put: func(ctx context.Context, _ *Clients, s *set, id arm.ID, m any) error {
			_, err := s.file.SetServiceProperties(ctx, id.ResourceGroup(), parent(id, 1), *m.(*armstorage.FileServiceProperties), nil)
			return err
		}},
	{name: "SQL short-term retention policy", typ: "microsoft.sql/servers/databases/backupshorttermretentionpolicies", method: http.MethodPut, api: APISQLShort,
		model: func() any { return &armsql.BackupShortTermRetentionPolicy{} },
		get: func(ctx context.Context, _ *Clients, s *set, id arm.ID) (any, error) {
			r, err := s.str.Get(ctx, id.ResourceGroup(), parent(id, 2), parent(id, 1), armsql.ShortTermRetentionPolicyName(id.Name()), nil)
			return r.BackupShortTermRetentionPolicy, err
		},
		put: func(ctx context.Context, c *Clients, s *set, id arm.ID, m any) error {
			return begun(s.str.BeginCreateOrUpdate(ctx, id.ResourceGroup(), parent(id, 2), parent(id, 1), armsql.ShortTermRetentionPolicyName(id.Name()),
				*m.(*armsql.BackupShortTermRetentionPolicy), nil)).wait(ctx, c)
		}},
	{name: "SQL long-term retention policy", typ: "microsoft.sql/servers/databases/backuplongtermretentionpolicies", method: http.MethodPut, api: APISQLLong,
		model: func() any { return &armsql.LongTermRetentionPolicy{} },
		get: func(ctx context.Context, _ *Clients, s *set, id arm.ID) (any, error) {
			r, err := s.ltr.Get(ctx, id.ResourceGroup(), parent(id, 2), parent(id, 1), armsql.LongTermRetentionPolicyName(id.Name()), nil)
			return r.LongTermRetentionPolicy, err
		},
		put: func(ctx context.Context, c *Clients, s *set, id arm.ID, m any) error {
			return begun(s.ltr.BeginCreateOrUpdate(ctx, id.ResourceGroup(), parent(id, 2), parent(id, 1), armsql.LongTermRetentionPolicyName(id.Name()),
				*m.(*armsql.LongTermRetentionPolicy), nil)).wait(ctx, c)
		}},
	{name: "Defender plan", typ: "microsoft.security/pricings", method: http.MethodPut, api: APISecurity,
		model: func() any { return &armsecurity.Pricing{} },
		get: func(ctx context.Context, c *Clients, _ *set, id arm.ID) (any, error) {
			r, err := c.sec.Get(ctx, pricingScope(id), id.Name(), nil)
			return r.Pricing, err
		},
		put: func(ctx context.Context, c *Clients, _ *set, id arm.ID, m any) error {
			_, err := c.sec.Update(ctx, pricingScope(id), id.Name(), *m.(*armsecurity.Pricing), nil)
			return err
		}},
}

// lockScope is the scope of a lock as the ByScope methods take it: without the leading slash
// (the client adds one; see scopePath for the slashes inside).
func lockScope(lockID string) string { return strings.TrimPrefix(arm.LockScope(lockID), "/") }

// pricingScope is the scope a Defender plan is on, without its leading slash as the client takes it.
func pricingScope(id arm.ID) string {
	s := id.String()
	i := strings.LastIndex(strings.ToLower(s), "/providers/microsoft.security/pricings/")
	return strings.TrimPrefix(s[:i], "/")
}

// kindOf finds how to read and write the object at path (an ARM ID, without a query).
func kindOf(path string) (*kind, arm.ID, error) {
	if i := strings.IndexByte(path, '?'); i >= 0 {
		path = path[:i]
	}
	id, err := arm.ParseID(path)
	if err != nil {
		return nil, arm.ID{}, err
	}
	t := strings.ToLower(id.Type())
	for _, k := range kinds {
		if k.typ == t {
			return k, id, nil
		}
	}
	return nil, arm.ID{}, fmt.Errorf("%s: Bulwark does not write %s objects", path, id.Type())
}

// Locks lists the locks that apply to scope (on it and inherited from above) as the SDK's model
// renders them in JSON.
func (c *Clients) Locks(ctx context.Context, scope string) ([]json.RawMessage, error) {
	id, err := arm.ParseID(scope)
	if err != nil {
		return nil, err
	}
	s, err := c.sub(id.SubscriptionID())
	if err != nil {
		return nil, err
	}
	var out []json.RawMessage
	pager := s.locks.NewListByScopePager(strings.TrimPrefix(id.String(), "/"), nil)
	for pager.More() {
		page, err := pager.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list the locks on %s: %w", scope, err)
		}
		for _, l := range page.Value {
			raw, err := json.Marshal(l)
			if err != nil {
				return nil, err
			}
			out = append(out, raw)
		}
	}
	return out, nil
}

// LockDelete is the request that deletes a lock, as the SDK sends it.
func (c *Clients) LockDelete(lockID string) Request {
	return Request{Request: arm.Request{Method: http.MethodDelete, Endpoint: c.host, Path: lockID + "?api-version=" + APILocks}, path: lockID}
}

// DeleteLock deletes a lock.
func (c *Clients) DeleteLock(ctx context.Context, lockID string) error {
	id, err := arm.ParseID(lockID)
	if err != nil {
		return err
	}
	s, err := c.sub(id.SubscriptionID())
	if err != nil {
		return err
	}
	if _, err := s.locks.DeleteByScope(ctx, lockScope(lockID), id.Name(), nil); err != nil {
		return fmt.Errorf("DELETE %s: %w", c.host+lockID, err)
	}
	return nil
}
