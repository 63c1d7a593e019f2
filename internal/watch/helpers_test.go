package watch

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"path"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bulwarkhq/bulwark/examples"
	"github.com/bulwarkhq/bulwark/internal/activity"
	"github.com/bulwarkhq/bulwark/internal/detect"
	"github.com/bulwarkhq/bulwark/internal/sink"
)

// demoRecords are the Contoso demo's diagnostic-export records (the storage export's
// y=/m=/d=/h=/m=00/PT1H.json JSON lines, the record shape Event Hubs receives inside
// {"records":[…]}), oldest first.
func demoRecords(t testing.TB) []json.RawMessage {
	t.Helper()
	var out []json.RawMessage
	var times []string
	root := path.Join(examples.Root, "activity/diagnostic-export")
	err := fs.WalkDir(examples.FS, root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := fs.ReadFile(examples.FS, p)
		if err != nil {
			return err
		}
		for _, l := range bytes.Split(data, []byte("\n")) {
			if l = bytes.TrimSpace(l); len(l) == 0 {
				continue
			}
			var v struct{ Time string }
			if err := json.Unmarshal(l, &v); err != nil {
				t.Fatalf("%s: %v", p, err)
			}
			out, times = append(out, json.RawMessage(l)), append(times, v.Time)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	idx := make([]int, len(out))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return times[idx[a]] < times[idx[b]] })
	sorted := make([]json.RawMessage, len(out))
	for i, j := range idx {
		sorted[i] = out[j]
	}
	return sorted
}

// later is a routine read at the given time: what a live stream carries on with after the demo,
// which moves event time on (past the lateness, then past detect.FlushHorizon, when alerts and
// incidents take their final form).
func later(at time.Time, n int) json.RawMessage {
	return json.RawMessage(fmt.Sprintf(`{"time":%q,"resourceId":"/SUBSCRIPTIONS/11111111-1111-4111-8111-111111111111/RESOURCEGROUPS/RG-SHOP","operationName":"MICROSOFT.RESOURCES/SUBSCRIPTIONS/RESOURCEGROUPS/READ","category":"Administrative","resultType":"Success","callerIpAddress":"192.0.2.99","correlationId":"00000000-0000-4000-8000-%012d","identity":{"claims":{"http://schemas.microsoft.com/identity/claims/objectidentifier":"0b5e0000-0000-4000-8000-000000000001"}}}`,
		at.UTC().Format(time.RFC3339Nano), n))
}

// envelope is one {"records":[…]} message.
func envelope(recs ...json.RawMessage) []byte {
	doc, _ := json.Marshal(struct {
		Records []json.RawMessage `json:"records"`
	}{recs})
	return doc
}

// spread deals records, in order, to n partitions at random, and packs each partition's into
// {"records":[…]} messages of 1 to perMsg records, as the diagnostic setting sends them.
func spread(recs []json.RawMessage, n, perMsg int, rng *rand.Rand) [][][]byte {
	parts := make([][]json.RawMessage, n)
	for _, r := range recs {
		p := rng.IntN(n)
		parts[p] = append(parts[p], r)
	}
	out := make([][][]byte, n)
	for p, rs := range parts {
		for len(rs) > 0 {
			k := min(len(rs), 1+rng.IntN(perMsg))
			out[p] = append(out[p], envelope(rs[:k]...))
			rs = rs[k:]
		}
	}
	return out
}

// fileDetect is bulwark detect on the records as one JSON-lines file.
func fileDetect(t testing.TB, opts detect.Options, recs []json.RawMessage) detect.Result {
	t.Helper()
	var b bytes.Buffer
	for _, r := range recs {
		b.Write(r)
		b.WriteByte('\n')
	}
	c := &detect.Collect{}
	if _, err := detect.Run(context.Background(), activity.Stream{Name: "demo.json", R: &b}, opts, detect.RunOptions{}, c); err != nil {
		t.Fatal(err)
	}
	return c.Result
}

func builtin(t testing.TB) detect.Options {
	t.Helper()
	rs, errs := detect.LoadRules(true)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	return detect.Options{Rules: rs, Now: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)}
}

// collect is a sink that keeps every record, counting deliveries per ID.
type collect struct {
	mu    sync.Mutex
	recs  []sink.Record
	count map[string]int
	fail  func(sink.Record) error // when set and it errs, the delivery fails
}

func (c *collect) Deliver(_ context.Context, r sink.Record) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.fail != nil {
		if err := c.fail(r); err != nil {
			return err
		}
	}
	if c.count == nil {
		c.count = map[string]int{}
	}
	c.count[r.ID]++
	c.recs = append(c.recs, r)
	return nil
}
func (c *collect) Close() error { return nil }

// delivered is what a SOC would read from the records: the latest revision of each alert and
// incident (its final form when it has one), and the IDs delivered more than once.
func (c *collect) delivered(t testing.TB) (incidents map[string]json.RawMessage, alerts map[string]json.RawMessage, dups []string, finals int) {
	t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	incidents, alerts = map[string]json.RawMessage{}, map[string]json.RawMessage{}
	rev := map[string]int{}
	seen := map[string]bool{}
	for _, r := range c.recs {
		if seen[r.ID] { // delivered again (counted below)
			continue
		}
		seen[r.ID] = true
		var head struct {
			Schema   string `json:"schema"`
			Kind     string `json:"kind"`
			Revision int    `json:"revision"`
			Final    bool   `json:"final"`
		}
		if err := json.Unmarshal(r.JSON, &head); err != nil || head.Schema != "bulwark.detect/v1" || head.Kind != r.Kind || head.Revision < 1 {
			t.Fatalf("record %s: %s (%v)", r.ID, r.JSON, err)
		}
		if head.Final {
			finals++
		}
		if head.Revision <= rev[r.Key] {
			t.Errorf("%s: revision %d after %d", r.Key, head.Revision, rev[r.Key])
		}
		rev[r.Key] = head.Revision
		if r.Kind == "incident" {
			incidents[r.Key] = r.JSON
		} else {
			alerts[r.Key] = r.JSON
		}
	}
	for id, n := range c.count {
		if n > 1 {
			dups = append(dups, id)
		}
	}
	sort.Strings(dups)
	return incidents, alerts, dups, finals
}

// core is what must be the same of an incident however it was computed: which opened, why, its
// severity, stages, times, alerts and timeline (what it reads of its actor's state as it stands
// when built — resources, principals, addresses, and the title that counts them — is left out).
func core(t testing.TB, data []byte) string {
	t.Helper()
	var inc detect.Incident
	if err := json.Unmarshal(data, &inc); err != nil {
		t.Fatal(err)
	}
	inc.Title, inc.Principals, inc.SourceIPs, inc.Resources, inc.ResourcesNotListed, inc.Recovery = "", nil, nil, nil, 0, nil
	b, _ := json.Marshal(inc)
	return string(b)
}

func wantCores(t testing.TB, res detect.Result) []string {
	var out []string
	for _, inc := range res.Incidents {
		b, _ := json.Marshal(inc)
		out = append(out, core(t, b))
	}
	sort.Strings(out)
	return out
}

func gotCores(t testing.TB, incs map[string]json.RawMessage) []string {
	var out []string
	for _, data := range incs {
		out = append(out, core(t, data))
	}
	sort.Strings(out)
	return out
}

func diff(a, b []string) string {
	return "want:\n  " + strings.Join(a, "\n  ") + "\ngot:\n  " + strings.Join(b, "\n  ")
}

func lastTime(t testing.TB, recs []json.RawMessage) time.Time {
	t.Helper()
	var v struct{ Time time.Time }
	if err := json.Unmarshal(recs[len(recs)-1], &v); err != nil {
		t.Fatal(err)
	}
	return v.Time
}
