// Package collect reads an Azure estate into a Bulwark snapshot, read-only: Azure Resource Graph
// for what it indexes (resources, resource containers, recovery services, authorization, security),
// and ARM GETs for what it does not (locks, blob and file service settings, SQL retention, failover
// groups and replication links, subscription diagnostic settings, PIM eligibility, vault Resource
// Guard proxies, Sentinel onboarding). Calls run with bounded concurrency through azcore's pipeline,
// which retries 429 and 5xx with exponential back-off and jitter, honouring Retry-After. A call that
// still fails becomes an entry in the snapshot's errors and the run goes on; cancellation returns
// what was collected so far. It is the only package that talks to Azure.
package collect

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"sync"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	azarm "github.com/Azure/azure-sdk-for-go/sdk/azcore/arm"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/resourcegraph/armresourcegraph"

	"github.com/bulwarkhq/bulwark/internal/arm"
	"github.com/bulwarkhq/bulwark/internal/armclient"
)

// Options configure a collection.
type Options struct {
	Credential azcore.TokenCredential
	Cloud      cloud.Configuration // zero: Azure public cloud
	// Subscriptions to collect; with neither these nor ManagementGroup, every subscription the
	// credential can see.
	Subscriptions   []string
	ManagementGroup string
	Concurrency     int           // ARM calls in flight (default 8)
	CallTimeout     time.Duration // per try (default 60 s)
	MaxRetries      int32         // per call on 429, 5xx and timeouts (default 6)
	RetryDelay      time.Duration // first back-off (default 2 s; Retry-After wins)
	// Transport replaces HTTP for ARM calls, GraphTransport for Resource Graph (tests: fakes). A nil
	// GraphTransport uses Transport.
	Transport, GraphTransport policy.Transporter
	// KeepSecrets keeps the values of SecretProperties in collected objects; by default they are
	// replaced with Redacted before anything is kept (Progress.Redacted counts them).
	KeepSecrets bool
	// Progress, when set, receives the counters after every call. Calls are serialised (never two
	// at once, whatever the concurrency) and the counters never go back, so the callback needs no
	// lock of its own; it should return quickly, since collection waits for it.
	Progress func(Progress)
	Now      func() time.Time
}

// Progress counts a collection's work so far.
type Progress struct {
	Subscriptions int `json:"subscriptions"`
	Queries       int `json:"queries"`   // Resource Graph pages
	Calls         int `json:"calls"`     // ARM GETs (pages included)
	Objects       int `json:"objects"`   // distinct objects collected
	Errors        int `json:"errors"`    // calls that failed for good
	Throttled     int `json:"throttled"` // Resource Graph waits for its quota to reset
	Redacted      int `json:"redacted"`  // secret values replaced (see SecretProperties)
}

// Result is the snapshot and the counters.
type Result struct {
	Snapshot *arm.Snapshot
	Progress Progress
}

type collector struct {
	opts  Options
	graph *armresourcegraph.Client
	arm   *armclient.Client
	sem   chan struct{}
	mu    sync.Mutex
	// reportMu serialises Progress calls; taken before mu, so each call sees counters at least as
	// new as the previous call's.
	reportMu sync.Mutex
	byKey    map[string]*arm.Object
	order    []*arm.Object
	errs     []arm.CollectError
	prog     Progress
	tenant   string
}

// Collect reads the estate. It returns the snapshot even when ctx is cancelled (with ctx's error):
// what was collected is valid and worth writing.
func Collect(ctx context.Context, opts Options) (*Result, error) {
	if opts.Credential == nil {
		return nil, errors.New("collect: no credential")
	}
	if opts.Concurrency <= 0 {
		opts.Concurrency = 8
	}
	if opts.CallTimeout <= 0 {
		opts.CallTimeout = 60 * time.Second
	}
	if opts.MaxRetries == 0 {
		opts.MaxRetries = 6
	}
	if opts.RetryDelay == 0 {
		opts.RetryDelay = 2 * time.Second
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Cloud.Services == nil {
		opts.Cloud = cloud.AzurePublic
	}
	c := &collector{opts: opts, sem: make(chan struct{}, opts.Concurrency), byKey: map[string]*arm.Object{}}
	var err error
	// ARM GETs go through armclient, Resource Graph through its SDK client: the same retry policy
	// (azcore's: 408, 429 and 5xx, exponential back-off with jitter, Retry-After honoured).
	if c.arm, err = armclient.New(armclient.Options{Credential: opts.Credential, Cloud: opts.Cloud, Transport: opts.Transport,
		MaxRetries: opts.MaxRetries, RetryDelay: opts.RetryDelay, TryTimeout: opts.CallTimeout}); err != nil {
		return nil, fmt.Errorf("collect: %w", err)
	}
	// One token before any call: a missing login is one clear error, not an error per call.
	if _, err := c.arm.Principal(ctx); err != nil {
		return nil, err
	}
	gt := opts.GraphTransport
	if gt == nil {
		gt = opts.Transport
	}
	if c.graph, err = armresourcegraph.NewClient(opts.Credential, &azarm.ClientOptions{ClientOptions: policy.ClientOptions{
		Cloud: opts.Cloud, Transport: gt, Telemetry: policy.TelemetryOptions{ApplicationID: "bulwark"},
		Retry: policy.RetryOptions{MaxRetries: opts.MaxRetries, TryTimeout: opts.CallTimeout, RetryDelay: opts.RetryDelay},
	}}); err != nil {
		return nil, fmt.Errorf("collect: %w", err)
	}
	runErr := c.run(ctx)
	c.sortObjects()
	snap := &arm.Snapshot{Schema: arm.SchemaV1, CollectedAt: opts.Now().UTC().Truncate(time.Second), TenantID: c.tenant, Resources: c.order, Errors: c.errs}
	if snap.Resources == nil {
		snap.Resources = []*arm.Object{}
	}
	if snap.Errors == nil {
		snap.Errors = []arm.CollectError{}
	}
	return &Result{Snapshot: snap, Progress: c.prog}, runErr
}

func (c *collector) run(ctx context.Context) error {
	subs := c.opts.Subscriptions
	if len(subs) == 0 {
		found, err := c.subscriptions(ctx)
		if err != nil {
			return err
		}
		subs = found
	}
	c.mu.Lock()
	c.prog.Subscriptions = len(subs)
	c.mu.Unlock()
	c.report()
	if len(subs) == 0 {
		c.fail("tenant", "list subscriptions", "the credential sees no subscription (it needs Reader on at least one)")
		return nil
	}
	for _, q := range graphQueries {
		if err := c.query(ctx, q, subs); err != nil {
			return err
		}
	}
	return c.armCalls(ctx, subs)
}

// subscriptions lists what the credential can see (or what is under the management group).
func (c *collector) subscriptions(ctx context.Context) ([]string, error) {
	q := graphQuery{table: "resourcecontainers", query: "resourcecontainers | where type =~ 'microsoft.resources/subscriptions' | project subscriptionId"}
	var subs []string
	err := c.pages(ctx, q, nil, func(r any) {
		row, _ := r.(map[string]any)
		if s, ok := row["subscriptionId"].(string); ok && s != "" {
			subs = append(subs, s)
		}
	})
	sort.Strings(subs)
	return subs, err
}

// graphQuery is one Resource Graph table the collection reads. scopeFilter, for
// authorizationresources, says which scopes' role assignments come back besides those inside the
// subscriptions asked for.
type graphQuery struct {
	table, query string
	scopeFilter  armresourcegraph.AuthorizationScopeFilter
}

var graphQueries = []graphQuery{
	{table: "resources", query: "resources"},
	{table: "resourcecontainers", query: "resourcecontainers"},
	{table: "recoveryservicesresources", query: "recoveryservicesresources"},
	// Queried with only subscriptions, authorizationresources leaves out assignments at management
	// groups and the tenant root — where landing zones grant Owner. AtScopeAboveAndBelow adds the
	// scopes above the subscriptions (Resource Graph's authorizationScopeFilter).
	{table: "authorizationresources", query: "authorizationresources | where type in~ ('microsoft.authorization/roleassignments', 'microsoft.authorization/roledefinitions')",
		scopeFilter: armresourcegraph.AuthorizationScopeFilterAtScopeAboveAndBelow},
	{table: "securityresources", query: "securityresources | where type =~ 'microsoft.security/pricings'"},
}

// maxSubscriptionsPerQuery is Resource Graph's limit on the subscriptions of one request.
const maxSubscriptionsPerQuery = 1000

func (c *collector) query(ctx context.Context, q graphQuery, subs []string) error {
	operation := "Resource Graph query " + q.table + " (Microsoft.ResourceGraph/resources/read)"
	for start := 0; start < len(subs); start += maxSubscriptionsPerQuery {
		batch := subs[start:min(start+maxSubscriptionsPerQuery, len(subs))]
		err := c.pages(ctx, q, batch, func(row any) {
			raw, err := json.Marshal(row)
			if err == nil {
				err = c.add(raw, "resource graph: "+q.table)
			}
			if err != nil {
				c.fail(rowScope(row, batch), operation, "a row could not be read: "+err.Error())
			}
		})
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err != nil {
			scope := "/subscriptions/" + batch[0]
			if len(batch) > 1 {
				scope += fmt.Sprintf(" (and %d more)", len(batch)-1)
			}
			c.fail(scope, operation, describe(err))
		}
	}
	return nil
}

// pages runs a Resource Graph query to its last page, honouring the per-user quota: when
// x-ms-user-quota-remaining reaches 0 it waits x-ms-user-quota-resets-after.
func (c *collector) pages(ctx context.Context, q graphQuery, subs []string, row func(any)) error {
	format := armresourcegraph.ResultFormatObjectArray
	top := int32(1000)
	req := armresourcegraph.QueryRequest{Query: &q.query, Options: &armresourcegraph.QueryRequestOptions{ResultFormat: &format, Top: &top}}
	if q.scopeFilter != "" {
		req.Options.AuthorizationScopeFilter = &q.scopeFilter
	}
	for _, s := range subs {
		req.Subscriptions = append(req.Subscriptions, &s)
	}
	if c.opts.ManagementGroup != "" && len(c.opts.Subscriptions) == 0 {
		req.Subscriptions = nil
		req.ManagementGroups = []*string{&c.opts.ManagementGroup}
	}
	seen, pages := map[string]bool{}, 1
	for {
		var raw *http.Response
		resp, err := c.graph.Resources(runtime.WithCaptureResponse(ctx, &raw), req, nil)
		c.mu.Lock()
		c.prog.Queries++
		c.mu.Unlock()
		c.report()
		if err != nil {
			return err
		}
		rows, ok := resp.Data.([]any)
		if !ok && resp.Data != nil {
			return fmt.Errorf("Resource Graph returned %T, not an object array", resp.Data)
		}
		for _, r := range rows {
			row(r)
		}
		if err := c.quota(ctx, raw); err != nil {
			return err
		}
		if resp.SkipToken == nil || *resp.SkipToken == "" {
			return nil
		}
		if seen[*resp.SkipToken] {
			return fmt.Errorf("Resource Graph returned a $skipToken it had returned before: stopped after %d pages", pages)
		}
		if pages++; pages >= maxPages {
			return fmt.Errorf("more than %d Resource Graph pages: stopped (the rest is not in the snapshot)", maxPages)
		}
		seen[*resp.SkipToken] = true
		req.Options.SkipToken = resp.SkipToken
	}
}

func (c *collector) quota(ctx context.Context, resp *http.Response) error {
	if resp == nil || resp.Header.Get("x-ms-user-quota-remaining") != "0" {
		return nil
	}
	wait := parseResetsAfter(resp.Header.Get("x-ms-user-quota-resets-after"))
	c.mu.Lock()
	c.prog.Throttled++
	c.mu.Unlock()
	c.report()
	select {
	case <-time.After(wait):
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// parseResetsAfter reads "hh:mm:ss" (Resource Graph's format); a missing or odd value waits 5 s.
func parseResetsAfter(s string) time.Duration {
	var h, m, sec int
	if _, err := fmt.Sscanf(s, "%d:%d:%d", &h, &m, &sec); err != nil {
		return 5 * time.Second
	}
	return time.Duration(h)*time.Hour + time.Duration(m)*time.Minute + time.Duration(sec)*time.Second
}

// rowScope names what a Resource Graph row that could not be read is about: its id when it has a
// string one, else the subscriptions of the query.
func rowScope(r any, batch []string) string {
	row, _ := r.(map[string]any)
	if id, ok := row["id"].(string); ok && id != "" {
		return id
	}
	if s, ok := row["subscriptionId"].(string); ok && s != "" {
		return "/subscriptions/" + s
	}
	if len(batch) > 0 {
		return "/subscriptions/" + batch[0]
	}
	return "tenant"
}

// add keeps an object, the first copy of each ID. raw is valid JSON (a Resource Graph row
// marshalled again, an element of a decoded list page, a body checked by the caller). An object
// that is not a readable ARM object is returned as an error, for the caller to record: nothing
// collected is dropped silently.
func (c *collector) add(raw []byte, source string) error {
	redacted := 0
	if !c.opts.KeepSecrets {
		raw, redacted = redact(raw)
	}
	o, err := arm.NewObjectFromValid(raw, arm.Source{File: source})
	if err != nil {
		if arm.IsNoID(err) {
			return errors.New(`it has no string "id"`)
		}
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, dup := c.byKey[o.ID.Key()]; dup {
		return nil
	}
	if c.tenant == "" {
		if t, ok := o.Get("tenantId").String(); ok {
			c.tenant = t
		}
	}
	c.byKey[o.ID.Key()] = o
	c.order = append(c.order, o)
	c.prog.Objects = len(c.order)
	c.prog.Redacted += redacted
	return nil
}

func (c *collector) fail(scope, operation, message string) {
	c.mu.Lock()
	c.errs = append(c.errs, arm.CollectError{Scope: scope, Operation: operation, Message: message})
	c.prog.Errors = len(c.errs)
	c.mu.Unlock()
	c.report()
}

func (c *collector) report() {
	if c.opts.Progress == nil {
		return
	}
	c.reportMu.Lock()
	defer c.reportMu.Unlock()
	c.mu.Lock()
	p := c.prog
	c.mu.Unlock()
	c.opts.Progress(p)
}

// describe turns an error into one line: the HTTP status and ARM error code when there is one.
func describe(err error) string {
	status, code := 0, ""
	var re *azcore.ResponseError
	var ae *armclient.Error
	switch {
	case errors.As(err, &re):
		status, code = re.StatusCode, re.ErrorCode
	case errors.As(err, &ae):
		status, code = ae.Status, ae.Code
	default:
		return err.Error()
	}
	msg := fmt.Sprintf("%d %s", status, http.StatusText(status))
	if code != "" {
		msg += ": " + code
	}
	if status == http.StatusTooManyRequests || status >= 500 {
		msg += " (still failing after the retries)"
	}
	return msg
}
