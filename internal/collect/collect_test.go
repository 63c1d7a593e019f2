package collect_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	azfake "github.com/Azure/azure-sdk-for-go/sdk/azcore/fake"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"

	"github.com/bulwarkhq/bulwark/internal/arm"
	"github.com/bulwarkhq/bulwark/internal/assess"
	"github.com/bulwarkhq/bulwark/internal/collect"
	"github.com/bulwarkhq/bulwark/internal/collect/collecttest"
	"github.com/bulwarkhq/bulwark/internal/demoestate"
	"github.com/bulwarkhq/bulwark/internal/snapshot"
)

func decode(t *testing.T, raw []byte) any {
	t.Helper()
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatal(err)
	}
	return v
}

// Collecting the Contoso demo estate from fakes that serve it gives the same objects, with the
// same content, as the embedded snapshot — and the same assessment.
func TestCollectContoso(t *testing.T) {
	env, res, err := demoestate.Load(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	f := collecttest.New(res.Snapshot.Resources)
	f.PageSize = 7 // several pages everywhere
	// The embedded estate records that stplatformiac01's blob service settings could not be read
	// (throttled): the fake keeps throttling that call.
	f.Fault("/subscriptions/11111111-1111-4111-8111-111111111111/resourceGroups/rg-platform/providers/Microsoft.Storage/storageAccounts/stplatformiac01/blobServices/default",
		collecttest.Fault{Status: http.StatusTooManyRequests, Header: http.Header{"Retry-After-Ms": {"1"}}, Body: `{"error":{"code":"TooManyRequests"}}`})
	got, err := collect.Collect(context.Background(), f.Options())
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]*arm.Object{}
	for _, o := range res.Snapshot.Resources {
		want[o.ID.Key()] = o
	}
	seen := map[string]bool{}
	for _, o := range got.Snapshot.Resources {
		w, ok := want[o.ID.Key()]
		if !ok {
			t.Errorf("collected %s, which the estate does not hold", o.ID)
			continue
		}
		seen[o.ID.Key()] = true
		if !reflect.DeepEqual(decode(t, w.Raw), decode(t, o.Raw)) {
			t.Errorf("%s differs from the embedded object", o.ID)
		}
	}
	for k, o := range want {
		if !seen[k] {
			t.Errorf("not collected: %s (%s)", o.ID, o.Type())
		}
	}
	if len(got.Snapshot.Errors) != 1 || !strings.Contains(got.Snapshot.Errors[0].Operation, "blobServices") || !strings.Contains(got.Snapshot.Errors[0].Message, "429") {
		t.Errorf("errors: %+v", got.Snapshot.Errors)
	}
	if got.Snapshot.TenantID == "" {
		t.Error("no tenant ID")
	}
	// The same assessment from the collected snapshot as from the files.
	env2 := assess.NewEnv(assess.Inputs{Snapshot: got.Snapshot, Config: env.Config, Apps: env.Apps, IaC: env.IaC})
	a, b := assess.Run(env, assess.Checks()), assess.Run(env2, assess.Checks())
	key := func(r *assess.Report) []string {
		var out []string
		for _, x := range r.Results {
			out = append(out, fmt.Sprintf("%s %s %s", x.CheckID, x.Resource, x.Status))
		}
		sort.Strings(out)
		return out
	}
	if d := cmp.Diff(key(a), key(b)); d != "" {
		t.Errorf("assessment of the collected snapshot differs (-files +collected):\n%s", d)
	}
	// Written and read back, the snapshot loads cleanly.
	data, _ := json.Marshal(got.Snapshot)
	if d, err := snapshot.Decode(snapshot.File{Name: "collected.json", Data: data}); err != nil || len(d.Objects) != len(got.Snapshot.Resources) {
		t.Errorf("the collected snapshot does not load whole: %v", err)
	}
}

const (
	subA = "aaaaaaaa-0000-4000-8000-000000000001"
	subB = "bbbbbbbb-0000-4000-8000-000000000002"
)

// small is two subscriptions, each with a resource group, two Key Vaults and locks.
func small() []*arm.Object {
	var out []*arm.Object
	for _, s := range []string{subA, subB} {
		sub := "/subscriptions/" + s
		out = append(out,
			arm.MustObject(`{"id":"`+sub+`","type":"Microsoft.Resources/subscriptions","name":"`+s+`","tenantId":"tttttttt-0000-4000-8000-000000000000"}`),
			arm.MustObject(`{"id":"`+sub+`/resourceGroups/rg","type":"Microsoft.Resources/subscriptions/resourceGroups","name":"rg","location":"westeurope"}`),
		)
		for i := 1; i <= 2; i++ {
			out = append(out, arm.MustObject(fmt.Sprintf(`{"id":"%s/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv%d","type":"Microsoft.KeyVault/vaults","name":"kv%d","location":"westeurope","properties":{"enableSoftDelete":true}}`, sub, i, i)))
		}
		for i := 1; i <= 3; i++ {
			out = append(out, arm.MustObject(fmt.Sprintf(`{"id":"%s/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv1/providers/Microsoft.Authorization/locks/l%d","type":"Microsoft.Authorization/locks","name":"l%d","properties":{"level":"CanNotDelete"}}`, sub, i, i)))
		}
	}
	return out
}

// Pagination in Resource Graph and ARM, a 429 with Retry-After then success, a 403 on one
// subscription's locks (recorded; the other subscription completes), a malformed body (recorded),
// an exhausted Resource Graph quota (waited for).
func TestFaults(t *testing.T) {
	f := collecttest.New(small())
	f.PageSize = 2
	f.QuotaLow = true
	diagA := "/subscriptions/" + subA + "/providers/Microsoft.Insights/diagnosticSettings"
	f.Fault(diagA, collecttest.Fault{Status: http.StatusTooManyRequests, Header: http.Header{"Retry-After": {"1"}}, Body: `{"error":{"code":"TooManyRequests"}}`}, collecttest.Fault{})
	f.Fault("/subscriptions/"+subB+"/providers/Microsoft.Authorization/locks", collecttest.Fault{Status: http.StatusForbidden, Body: `{"error":{"code":"AuthorizationFailed","message":"no access"}}`})
	f.Fault("/subscriptions/"+subB+"/providers/Microsoft.Insights/diagnosticSettings", collecttest.Fault{Status: http.StatusOK, Body: `{"value":[{"id":`})
	var last collect.Progress
	opts := f.Options()
	opts.Progress = func(p collect.Progress) { last = p }
	res, err := collect.Collect(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]bool{}
	for _, o := range res.Snapshot.Resources {
		ids[o.ID.Key()] = true
	}
	if len(ids) != 8+3 { // 2 × (subscription, group, 2 vaults) from Resource Graph + subscription A's 3 locks (3 pages)
		t.Errorf("%d objects: %v", len(ids), ids)
	}
	var got []string
	for _, e := range res.Snapshot.Errors {
		got = append(got, e.Scope+" | "+e.Operation+" | "+e.Message)
	}
	want := []string{
		"/subscriptions/" + subB + " | list locks (Microsoft.Authorization/locks/read) | 403 Forbidden: AuthorizationFailed",
		"/subscriptions/" + subB + " | list subscription diagnostic settings (Microsoft.Insights/diagnosticSettings/read) | the response is not a list: unexpected end of JSON input",
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("errors (-want +got):\n%s", d)
	}
	n := 0
	for _, r := range f.Requests() {
		if strings.HasPrefix(r, "GET "+diagA+"?") {
			n++
		}
	}
	if n != 2 {
		t.Errorf("the throttled call was made %d times, want 2 (429, then success after Retry-After)", n)
	}
	if last.Errors != 2 || last.Throttled == 0 || last.Queries < 6 || last.Subscriptions != 2 || last.Objects != 11 {
		t.Errorf("progress: %+v", last)
	}
}

// A 403 or 500 that never recovers on Resource Graph is recorded, and ARM calls still run.
func TestGraphFailureIsRecorded(t *testing.T) {
	f := collecttest.New(small())
	f.Fault("graph:securityresources", collecttest.Fault{Status: http.StatusInternalServerError})
	opts := f.Options()
	opts.Subscriptions = []string{subA}
	res, err := collect.Collect(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Snapshot.Errors) != 1 || !strings.Contains(res.Snapshot.Errors[0].Operation, "securityresources") || !strings.Contains(res.Snapshot.Errors[0].Message, "500") {
		t.Errorf("errors: %+v", res.Snapshot.Errors)
	}
	for _, o := range res.Snapshot.Resources {
		if o.ID.SubscriptionID() != subA {
			t.Errorf("collected %s outside --subscription", o.ID)
		}
	}
}

// Cancelled in the middle of the ARM calls: Collect returns the cancellation and a snapshot of
// what it had, which loads.
func TestCancellationKeepsWhatWasCollected(t *testing.T) {
	f := collecttest.New(small())
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	f.OnCall = func(n int) {
		if n == 2 {
			cancel()
		}
	}
	opts := f.Options()
	opts.Concurrency = 1
	res, err := collect.Collect(ctx, opts)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if res == nil || len(res.Snapshot.Resources) < 8 {
		t.Fatalf("partial snapshot: %+v", res)
	}
	for _, e := range res.Snapshot.Errors {
		t.Errorf("cancellation recorded as a collection error: %+v", e)
	}
	data, _ := json.Marshal(res.Snapshot)
	if d, err := snapshot.Decode(snapshot.File{Name: "partial.json", Data: data}); err != nil || len(d.Objects) != len(res.Snapshot.Resources) {
		t.Errorf("the partial snapshot does not load: %v", err)
	}
}

// The read-only guarantee: collecting a whole estate issues GETs, and POSTs only to Resource Graph.
func TestReadOnly(t *testing.T) {
	_, res, err := demoestate.Load(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	f := collecttest.New(res.Snapshot.Resources)
	if _, err := collect.Collect(context.Background(), f.Options()); err != nil {
		t.Fatal(err)
	}
	gets, posts := 0, 0
	for _, r := range f.Requests() {
		switch {
		case strings.HasPrefix(r, "GET "):
			gets++
		case r == "POST /providers/Microsoft.ResourceGraph/resources":
			posts++
		default:
			t.Errorf("a request that is neither a GET nor a Resource Graph query: %s", r)
		}
	}
	if gets < 50 || posts < 5 {
		t.Errorf("%d GETs, %d Resource Graph queries: the recorder saw too little", gets, posts)
	}
}

func TestNoCredential(t *testing.T) {
	f := collecttest.New(small())
	opts := f.Options()
	cred := opts.Credential.(*azfake.TokenCredential)
	cred.SetError(errors.New("DefaultAzureCredential: failed to acquire a token: EnvironmentCredential: missing environment variables; AzureCLICredential: az not found"))
	_, err := collect.Collect(context.Background(), opts)
	if err == nil || !strings.Contains(err.Error(), "AzureCLICredential") {
		t.Errorf("err = %v", err)
	}
}

// --management-group scopes every Resource Graph query to the group; ARM calls go to the
// subscriptions the group holds.
func TestManagementGroupScope(t *testing.T) {
	f := collecttest.New(small())
	opts := f.Options()
	opts.ManagementGroup = "contoso-prod"
	res, err := collect.Collect(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	mgs := f.ManagementGroups()
	if len(mgs) != 6 || mgs[0] != "contoso-prod" { // the subscription listing and the five tables
		t.Errorf("queries scoped to %v", mgs)
	}
	if res.Progress.Subscriptions != 2 || len(res.Snapshot.Resources) != 14 {
		t.Errorf("%d subscriptions, %d objects", res.Progress.Subscriptions, len(res.Snapshot.Resources))
	}
}

// hosts records the host of every request it passes on.
type hosts struct {
	next policy.Transporter
	mu   sync.Mutex
	seen map[string]int
}

func (h *hosts) Do(req *http.Request) (*http.Response, error) {
	h.mu.Lock()
	h.seen[req.URL.Scheme+"://"+req.URL.Host]++
	h.mu.Unlock()
	return h.next.Do(req)
}

// A nextLink is followed only to the cloud's ARM host over https: one naming another host, or
// plain http, is an errors entry and the token never leaves. A nextLink that repeats stops the
// call; so does a Resource Graph $skipToken that repeats.
func TestNextLinksStayOnARM(t *testing.T) {
	f := collecttest.New(small())
	sub := "/subscriptions/" + subA
	f.Serve(sub+"/providers/Microsoft.Authorization/locks", http.StatusOK, `{"value":[],"nextLink":"https://attacker.example/collect?api-version=2020-05-01"}`)
	f.Serve(sub+"/providers/Microsoft.Insights/diagnosticSettings", http.StatusOK, `{"value":[],"nextLink":"http://management.azure.com`+sub+`/providers/Microsoft.Insights/diagnosticSettings?page=2"}`)
	f.Serve(sub+"/providers/Microsoft.Authorization/roleEligibilityScheduleInstances", http.StatusOK,
		`{"value":[],"nextLink":"https://management.azure.com`+sub+`/providers/Microsoft.Authorization/roleEligibilityScheduleInstances?api-version=2020-10-01&$skiptoken=1"}`)
	h := &hosts{next: f, seen: map[string]int{}}
	opts := f.Options()
	opts.Subscriptions = []string{subA}
	opts.Transport = h
	res, err := collect.Collect(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	for host := range h.seen {
		if host != "https://management.azure.com" {
			t.Errorf("a request went to %s", host)
		}
	}
	var got []string
	for _, e := range res.Snapshot.Errors {
		got = append(got, e.Operation+" | "+e.Message)
	}
	sort.Strings(got)
	want := []string{
		"list PIM role eligibility (Microsoft.Authorization/roleEligibilityScheduleInstances/read) | page 2's nextLink repeats an earlier page's: stopped",
		"list locks (Microsoft.Authorization/locks/read) | the nextLink points to https://attacker.example, not to management.azure.com: not followed (the bearer token goes only to the configured cloud's Resource Manager)",
		"list subscription diagnostic settings (Microsoft.Insights/diagnosticSettings/read) | the nextLink points to http://management.azure.com, not to management.azure.com: not followed (the bearer token goes only to the configured cloud's Resource Manager)",
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("errors (-want +got):\n%s", d)
	}

	g := collecttest.New(small())
	g.RepeatSkipToken = true
	opts = g.Options()
	opts.Subscriptions = []string{subA}
	res, err = collect.Collect(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Snapshot.Errors) != 5 {
		t.Errorf("%d errors, want one per Resource Graph table: %+v", len(res.Snapshot.Errors), res.Snapshot.Errors)
	}
	for _, e := range res.Snapshot.Errors {
		if !strings.Contains(e.Message, "returned a $skipToken it had returned before") {
			t.Errorf("%+v", e)
		}
	}
}

// Progress is never called twice at once, and its counters never go back, whatever the
// concurrency: a callback needs no lock of its own (go test -race used to report TestFaults).
func TestProgressIsSerialised(t *testing.T) {
	f, err := collecttest.Real()
	if err != nil {
		t.Fatal(err)
	}
	f.Latency = time.Millisecond
	var inFlight, most, calls int32
	var last collect.Progress // written only inside the callback
	opts := f.Options()
	opts.Concurrency = 16
	opts.Progress = func(p collect.Progress) {
		n := atomic.AddInt32(&inFlight, 1)
		defer atomic.AddInt32(&inFlight, -1)
		if n > atomic.LoadInt32(&most) {
			atomic.StoreInt32(&most, n)
		}
		atomic.AddInt32(&calls, 1)
		if p.Calls < last.Calls || p.Objects < last.Objects || p.Errors < last.Errors || p.Queries < last.Queries {
			t.Errorf("progress went back: %+v after %+v", p, last)
		}
		last = p
		time.Sleep(200 * time.Microsecond)
	}
	if _, err := collect.Collect(context.Background(), opts); err != nil {
		t.Fatal(err)
	}
	if most != 1 || calls < 20 {
		t.Errorf("%d Progress calls, at most %d at once; want 1 at a time", calls, most)
	}
}
