// Package collecttest serves an estate the way Azure would, for tests of collection: Resource
// Graph through the SDK's fake server, ARM GETs through a transport that resolves paths against the
// estate's IDs, with faults, latency and quotas injected. It never opens a socket.
package collecttest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	azfake "github.com/Azure/azure-sdk-for-go/sdk/azcore/fake"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/resourcegraph/armresourcegraph"
	graphfake "github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/resourcegraph/armresourcegraph/fake"

	"github.com/bulwarkhq/bulwark/internal/arm"
	"github.com/bulwarkhq/bulwark/internal/collect"
)

// Fake serves an estate the way Azure would: Resource Graph tables through the SDK's fake
// server, ARM GETs through a transport that resolves paths against the estate's IDs. Every
// request is recorded; faults (a status for a path, a malformed body, latency) are injected per
// path.
type Fake struct {
	PageSize int           // rows per Resource Graph page, objects per ARM list page (default 1,000)
	Latency  time.Duration // added to every request
	QuotaLow bool          // Resource Graph says the quota is exhausted (resets at once)
	// GraphQuota, when set, is Resource Graph's per-user quota: this many queries per 5-second
	// window, announced in x-ms-user-quota-remaining and -resets-after as Azure does.
	GraphQuota int
	// RepeatSkipToken makes Resource Graph answer every page with the same $skipToken, as a broken
	// or hostile service could: a client that trusts it never stops.
	RepeatSkipToken bool
	OnCall          func(n int) // after each ARM call, with the count so far

	tables   map[string][]graphRow      // Resource Graph table → rows
	objects  map[string]json.RawMessage // ARM: lower-case ID → object
	children map[string][]string        // list path (an ID without its last name) → IDs
	// bySubType: "/subscriptions/{id}/|{type}" → IDs, for lists that cover a whole subscription.
	bySubType        map[string][]string
	mu               sync.Mutex
	requests         []string           // "METHOD path[?query]"
	faults           map[string][]Fault // lower-case path → faults, used in order (the last one repeats)
	armCalls         int
	writes           []string
	managementGroups []string  // the management groups Resource Graph queries were scoped to
	scopeFilters     []string  // "table=filter" of each Resource Graph query
	window           time.Time // start of the current Resource Graph quota window
	used             int       // queries in it

	sdkOnce    sync.Once
	sdkServers map[string]policy.Transporter // SDK module (armkeyvault…) → its fake server
	sdkWrites  []string                      // "METHOD URL BODY" of each write a typed client sent
}

type graphRow struct {
	sub string // "" for rows above any subscription: management groups, the tenant root
	row any    // as Resource Graph returns it; a test may add rows Bulwark cannot read
}

// Fault is an injected response; status 0 passes the request through to the estate.
type Fault struct {
	Status int
	Header http.Header
	Body   string
}

// GraphTable says which Resource Graph table holds an object, or "" for one only ARM serves.
func GraphTable(o *arm.Object) string {
	t := strings.ToLower(o.Type())
	switch {
	case t == "microsoft.resources/subscriptions" || t == "microsoft.resources/subscriptions/resourcegroups" || t == "microsoft.resources/resourcegroups":
		return "resourcecontainers"
	case strings.HasSuffix(t, "/protecteditems") || strings.HasSuffix(t, "/replicationprotecteditems") || t == "microsoft.dataprotection/backupvaults/backupinstances":
		return "recoveryservicesresources"
	case t == "microsoft.authorization/roleassignments" || t == "microsoft.authorization/roledefinitions":
		return "authorizationresources"
	case t == "microsoft.security/pricings":
		return "securityresources"
	case t == "microsoft.sql/servers/databases" || arm.TopLevel(o):
		return "resources"
	}
	return ""
}

func New(objs []*arm.Object) *Fake {
	f := &Fake{tables: map[string][]graphRow{}, objects: map[string]json.RawMessage{}, PageSize: 1000, faults: map[string][]Fault{},
		children: map[string][]string{}, bySubType: map[string][]string{}}
	for _, o := range objs {
		if t := GraphTable(o); t != "" {
			var row map[string]any
			if json.Unmarshal(o.Raw, &row) == nil {
				f.tables[t] = append(f.tables[t], graphRow{o.ID.SubscriptionID(), row})
			}
			f.objects[o.ID.Key()] = o.Raw // an ARM GET of it works too
			continue
		}
		f.index(o.ID.Key(), o.Raw)
	}
	return f
}

// GraphRows adds rows to a Resource Graph table exactly as given (JSON text each): real rows in
// Resource Graph's shape, or rows Bulwark cannot read. A row's subscription is its
// "subscriptionId" column ("" for rows at management groups or the root, which Resource Graph
// returns only when the query's authorizationScopeFilter reaches above the subscriptions).
func (f *Fake) GraphRows(table string, rows ...string) error {
	for _, r := range rows {
		var v any
		if err := json.Unmarshal([]byte(r), &v); err != nil {
			return fmt.Errorf("collecttest: a %s row is not JSON: %w", table, err)
		}
		sub := ""
		if m, ok := v.(map[string]any); ok {
			sub, _ = m["subscriptionId"].(string)
			if sub == "" {
				if id, ok := m["id"].(string); ok {
					if pid, err := arm.ParseID(id); err == nil {
						sub = pid.SubscriptionID()
					}
				}
			}
		}
		f.tables[table] = append(f.tables[table], graphRow{sub, v})
	}
	return nil
}

// Serve answers every GET of path (any api-version) with status and body, exactly as given:
// real response bodies, quirks included, or bodies Bulwark cannot read.
func (f *Fake) Serve(path string, status int, body string) {
	f.Fault(path, Fault{Status: status, Body: body})
}

// index stores an object for ARM GETs and lists.
func (f *Fake) index(k string, raw json.RawMessage) {
	{
		f.objects[k] = raw
		i := strings.LastIndex(k, "/")
		if i > 0 {
			f.children[k[:i]] = append(f.children[k[:i]], k) // the list path: the ID without its name
		}
		if parts := strings.Split(k, "/"); len(parts) > 2 && parts[1] == "subscriptions" {
			typ := k[strings.LastIndex(k[:i], "/")+1 : i]
			f.bySubType["/subscriptions/"+parts[2]+"/|"+typ] = append(f.bySubType["/subscriptions/"+parts[2]+"/|"+typ], k)
		}
	}
}

// write applies a PUT, PATCH or DELETE sent to the ARM fake.
func (f *Fake) write(req *http.Request, path string) (*http.Response, error) {
	var body map[string]any
	if req.Body != nil {
		data, _ := io.ReadAll(req.Body)
		if len(data) > 0 && json.Unmarshal(data, &body) != nil {
			return respond(req, http.StatusBadRequest, nil, `{"error":{"code":"InvalidRequestContent"}}`), nil
		}
	}
	status, out := f.apply(req.Method, path, strings.TrimSuffix(req.URL.Path, "/"), body)
	return respond(req, status, nil, string(out)), nil
}

// apply changes the estate: a PUT replaces the object (id, name and type are filled in from the
// path), a PATCH merges the body into it (objects key by key), a DELETE removes it. key is the
// lower-case path, id the path as sent.
func (f *Fake) apply(method, key, id string, body map[string]any) (int, []byte) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.writes = append(f.writes, method+" "+key)
	switch method {
	case http.MethodDelete:
		if _, ok := f.objects[key]; !ok {
			return http.StatusNoContent, nil
		}
		delete(f.objects, key)
		return http.StatusOK, nil
	case http.MethodPut:
		if body == nil {
			body = map[string]any{}
		}
		body["id"] = id
		body["name"] = id[strings.LastIndex(id, "/")+1:]
		if _, ok := body["type"]; !ok {
			if cur, ok := f.objects[key]; ok {
				var old map[string]any
				json.Unmarshal(cur, &old)
				body["type"] = old["type"]
			} else if pid, err := arm.ParseID(id); err == nil {
				body["type"] = pid.Type()
			}
		}
		raw, _ := json.Marshal(body)
		f.index(key, raw)
		return http.StatusOK, raw
	case http.MethodPatch:
		raw, ok := f.objects[key]
		if !ok {
			return http.StatusNotFound, []byte(`{"error":{"code":"ResourceNotFound"}}`)
		}
		var cur map[string]any
		json.Unmarshal(raw, &cur)
		merge(cur, body)
		out, _ := json.Marshal(cur)
		f.objects[key] = out
		return http.StatusOK, out
	}
	return http.StatusMethodNotAllowed, []byte(`{"error":{"code":"MethodNotAllowed"}}`)
}

func merge(dst, src map[string]any) {
	for k, v := range src {
		if sm, ok := v.(map[string]any); ok {
			if dm, ok := dst[k].(map[string]any); ok {
				merge(dm, sm)
				continue
			}
		}
		dst[k] = v
	}
}

// Writes returns the writes applied so far, "METHOD path".
func (f *Fake) Writes() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.writes...)
}

// Object returns an object as the fake holds it now.
func (f *Fake) Object(id string) (json.RawMessage, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	raw, ok := f.objects[strings.ToLower(strings.TrimSuffix(id, "/"))]
	return raw, ok
}

func (f *Fake) Fault(path string, fs ...Fault) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.faults[strings.ToLower(path)] = fs
}

func (f *Fake) record(method, path string) {
	f.mu.Lock()
	f.requests = append(f.requests, method+" "+path)
	f.mu.Unlock()
}

// nextFault pops the next fault for a path (the last one stays).
func (f *Fake) nextFault(path string) (Fault, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fs := f.faults[strings.ToLower(path)]
	if len(fs) == 0 {
		return Fault{}, false
	}
	if len(fs) > 1 {
		f.faults[strings.ToLower(path)] = fs[1:]
	}
	return fs[0], true
}

// graph is the Resource Graph fake: the table named first in the query, the subscriptions asked
// for, pages of pageSize rows with a numeric skip token.
func (f *Fake) Graph() policy.Transporter {
	srv := &graphfake.Server{Resources: func(ctx context.Context, q armresourcegraph.QueryRequest, _ *armresourcegraph.ClientResourcesOptions) (resp azfake.Responder[armresourcegraph.ClientResourcesResponse], errResp azfake.ErrorResponder) {
		query := *q.Query
		table := strings.Fields(query)[0]
		filter := armresourcegraph.AuthorizationScopeFilterAtScopeAndBelow // Resource Graph's default
		if q.Options != nil && q.Options.AuthorizationScopeFilter != nil {
			filter = *q.Options.AuthorizationScopeFilter
		}
		above := filter == armresourcegraph.AuthorizationScopeFilterAtScopeAboveAndBelow || filter == armresourcegraph.AuthorizationScopeFilterAtScopeAndAbove
		f.mu.Lock()
		for _, mg := range q.ManagementGroups {
			f.managementGroups = append(f.managementGroups, *mg)
		}
		f.scopeFilters = append(f.scopeFilters, table+"="+string(filter))
		f.mu.Unlock()
		if ft, ok := f.nextFault("graph:" + table); ok {
			errResp.SetResponseError(ft.Status, "Fault")
			return
		}
		subs := map[string]bool{}
		for _, s := range q.Subscriptions {
			subs[strings.ToLower(*s)] = true
		}
		var rows []any
		for _, r := range f.tables[table] {
			// Rows above the subscriptions asked for (role assignments at management groups and
			// the root) come back only with an authorizationScopeFilter that reaches above.
			if len(subs) > 0 && !subs[strings.ToLower(r.sub)] && !(r.sub == "" && above && table == "authorizationresources") {
				continue
			}
			if strings.Contains(query, "project subscriptionId") {
				m, _ := r.row.(map[string]any)
				if !strings.EqualFold(fmt.Sprint(m["type"]), "microsoft.resources/subscriptions") {
					continue
				}
				rows = append(rows, map[string]any{"subscriptionId": r.sub})
				continue
			}
			rows = append(rows, r.row)
		}
		start := 0
		if q.Options != nil && q.Options.SkipToken != nil {
			fmt.Sscan(*q.Options.SkipToken, &start)
		}
		start = min(max(start, 0), len(rows))
		end := min(start+f.PageSize, len(rows))
		page := armresourcegraph.QueryResponse{Data: rows[start:end]}
		if end < len(rows) {
			tok := fmt.Sprint(end)
			page.SkipToken = &tok
		}
		if f.RepeatSkipToken {
			tok := "1"
			page.SkipToken = &tok
		}
		h := http.Header{}
		switch {
		case f.QuotaLow:
			h.Set("x-ms-user-quota-remaining", "0")
			h.Set("x-ms-user-quota-resets-after", "00:00:00")
		case f.GraphQuota > 0:
			f.mu.Lock()
			now := time.Now()
			if now.Sub(f.window) >= 5*time.Second {
				f.window, f.used = now, 0
			}
			f.used++
			remaining := max(f.GraphQuota-f.used, 0)
			reset := int((f.window.Add(5*time.Second).Sub(now) + time.Second - 1) / time.Second)
			f.mu.Unlock()
			h.Set("x-ms-user-quota-remaining", fmt.Sprint(remaining))
			h.Set("x-ms-user-quota-resets-after", fmt.Sprintf("00:00:%02d", reset))
		default:
			h.Set("x-ms-user-quota-remaining", "14")
		}
		resp.SetResponse(http.StatusOK, armresourcegraph.ClientResourcesResponse{QueryResponse: page}, &azfake.SetResponseOptions{Header: h})
		return
	}}
	return recorder{f, graphfake.NewServerTransport(srv)}
}

type recorder struct {
	f    *Fake
	next policy.Transporter
}

func (r recorder) Do(req *http.Request) (*http.Response, error) {
	r.f.record(req.Method, req.URL.Path)
	if r.f.Latency > 0 {
		time.Sleep(r.f.Latency)
	}
	return r.next.Do(req)
}

// Do is the ARM fake: an object's ID answers a GET of it; a path ending in a type name lists the
// objects of that type below it (locks and PIM eligibility: anywhere in the subscription).
func (f *Fake) Do(req *http.Request) (*http.Response, error) {
	f.record(req.Method, req.URL.EscapedPath()+"?"+req.URL.RawQuery)
	if f.Latency > 0 {
		select {
		case <-time.After(f.Latency):
		case <-req.Context().Done():
			return nil, req.Context().Err()
		}
	}
	defer func() {
		f.mu.Lock()
		f.armCalls++
		n := f.armCalls
		f.mu.Unlock()
		if f.OnCall != nil {
			f.OnCall(n)
		}
	}()
	path := strings.ToLower(strings.TrimSuffix(req.URL.Path, "/"))
	fault := path
	if req.Method != http.MethodGet {
		fault = req.Method + " " + path
	}
	if ft, ok := f.nextFault(fault); ok && ft.Status != 0 {
		return respond(req, ft.Status, ft.Header, ft.Body), nil
	}
	if srv := f.sdk(req); srv != nil {
		if req.Method != http.MethodGet {
			var body []byte
			if req.Body != nil {
				body, _ = io.ReadAll(req.Body)
				req.Body = io.NopCloser(bytes.NewReader(body))
			}
			f.mu.Lock()
			f.sdkWrites = append(f.sdkWrites, strings.TrimSpace(req.Method+" "+req.URL.String()+" "+string(body)))
			f.mu.Unlock()
		}
		ctx := context.WithValue(req.Context(), targetKey{}, target{key: path, id: strings.TrimSuffix(req.URL.Path, "/")})
		return srv.Do(req.WithContext(ctx))
	}
	if req.Method != http.MethodGet {
		return f.write(req, path)
	}
	f.mu.Lock()
	raw, ok := f.objects[path]
	f.mu.Unlock()
	if ok {
		return respond(req, http.StatusOK, nil, string(raw)), nil
	}
	last := path[strings.LastIndex(path, "/")+1:]
	anywhere := last == "locks" || last == "roleeligibilityscheduleinstances" || last == "roleassignmentscheduleinstances"
	prefix := ""
	if anywhere {
		prefix = "/subscriptions/" + strings.Split(path, "/")[2] + "/"
	}
	var ids []string
	f.mu.Lock()
	if anywhere {
		ids = append(ids, f.bySubType[prefix+"|"+last]...)
	} else {
		ids = append(ids, f.children[path]...)
	}
	var alive []string
	for _, id := range ids {
		if _, ok := f.objects[id]; ok {
			alive = append(alive, id)
		}
	}
	ids = alive
	f.mu.Unlock()
	if len(ids) == 0 && !isListPath(last) {
		return respond(req, http.StatusNotFound, nil, `{"error":{"code":"ResourceNotFound","message":"not found"}}`), nil
	}
	sort.Strings(ids)
	start := 0
	fmt.Sscan(req.URL.Query().Get("$skiptoken"), &start)
	end := min(start+f.PageSize, len(ids))
	var page struct {
		Value    []json.RawMessage `json:"value"`
		NextLink string            `json:"nextLink,omitempty"`
	}
	page.Value = []json.RawMessage{}
	f.mu.Lock()
	for _, id := range ids[start:end] {
		page.Value = append(page.Value, f.objects[id])
	}
	f.mu.Unlock()
	if end < len(ids) {
		q := req.URL.Query()
		q.Set("$skiptoken", fmt.Sprint(end))
		u := *req.URL
		u.RawQuery = q.Encode()
		page.NextLink = u.String()
	}
	body, _ := json.Marshal(page)
	return respond(req, http.StatusOK, nil, string(body)), nil
}

func isListPath(last string) bool {
	switch last {
	case "locks", "diagnosticsettings", "roleeligibilityscheduleinstances", "roleassignmentscheduleinstances", "containers", "shares", "failovergroups", "replicationlinks",
		"instancefailovergroups", "backupresourceguardproxies", "onboardingstates":
		return true
	}
	return false
}

func respond(req *http.Request, status int, h http.Header, body string) *http.Response {
	if h == nil {
		h = http.Header{}
	}
	h.Set("Content-Type", "application/json")
	return &http.Response{StatusCode: status, Status: http.StatusText(status), Header: h, Body: io.NopCloser(bytes.NewBufferString(body)),
		Request: req, ContentLength: int64(len(body))}
}

// Options are collection options against the fake, with short retry delays.
func (f *Fake) Options() collect.Options {
	return collect.Options{Credential: &azfake.TokenCredential{}, Transport: f, GraphTransport: f.Graph(), RetryDelay: time.Millisecond, MaxRetries: 3,
		Now: func() time.Time { return time.Date(2026, 11, 26, 6, 0, 0, 0, time.UTC) }}
}

// Requests returns every request made so far, "METHOD path[?query]".
func (f *Fake) Requests() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.requests...)
}

// ScopeFilters returns "table=authorizationScopeFilter" for every Resource Graph query so far.
func (f *Fake) ScopeFilters() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.scopeFilters...)
}

// ManagementGroups returns the management groups Resource Graph queries were scoped to, one entry
// per query.
func (f *Fake) ManagementGroups() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.managementGroups...)
}
