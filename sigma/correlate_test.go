package sigma

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// base rules the spec's correlation examples refer to, by id or name.
const baseRules = `title: Failed login
id: 5638f7c0-ac70-491d-8465-2a65075e0d86
name: failed_login
logsource: {product: windows, service: security}
detection:
    selection:
        EventID: 4625
    condition: selection
---
title: Successful login
name: successful_login
logsource: {product: windows, service: security}
detection:
    selection:
        EventID: 4624
    condition: selection
---
title: Recon A
name: recon_cmd_a
logsource: {category: process_creation, product: windows}
detection:
    selection:
        CommandLine|contains: whoami
    condition: selection
---
title: Recon B
name: recon_cmd_b
logsource: {category: process_creation, product: windows}
detection:
    selection:
        CommandLine|contains: ipconfig
    condition: selection
---
title: Recon C
name: recon_cmd_c
logsource: {category: process_creation, product: windows}
detection:
    selection:
        CommandLine|contains: net user
    condition: selection
---
title: Web access
name: website_access
id: rule_a_id
logsource: {category: proxy}
detection:
    selection:
        Method: POST
    condition: selection
---
title: Process creation
name: process_creation
logsource: {category: process_creation, product: windows}
detection:
    selection:
        EventID: 1
    condition: selection
`

var t0 = time.Date(2026, 11, 25, 21, 0, 0, 0, time.UTC)

func ev(sec int, kv ...any) MapEvent {
	m := map[string]any{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i].(string)] = kv[i+1]
	}
	return MapEvent{Data: m, At: t0.Add(time.Duration(sec) * time.Second)}
}

func loadSet(t *testing.T, yml string, opts Options) *RuleSet {
	t.Helper()
	rules, errs := ParseRules("test.yml", []byte(yml))
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	rs, errs := NewRuleSet(rules, opts)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	return rs
}

func run(rs *RuleSet, events []MapEvent) ([]string, *Correlator) {
	c := rs.NewCorrelator()
	var out []string
	emit := func(a Alert) {
		if a.Rule.Correlation == nil {
			return
		}
		var g []string
		for k, v := range a.Group {
			g = append(g, k+"="+v)
		}
		sort.Strings(g)
		out = append(out, fmt.Sprintf("%s @%s value=%g events=%d %s", a.Rule.Title, a.Time.Format("15:04:05"), a.Value, a.EventCount, strings.Join(g, ",")))
	}
	for _, e := range events {
		c.Process(e, emit)
	}
	c.Flush(emit)
	sort.Strings(out)
	return out, c
}

func specExample(t *testing.T, name string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(refDir, "spec", "correlation_examples", name))
	if err != nil {
		t.Skip("reference data not present:", err)
	}
	return string(data)
}

// shuffleWithin permutes events while keeping each within maxDelay of its true place in time.
func shuffleWithin(events []MapEvent, maxDelay time.Duration, seed uint64) []MapEvent {
	r := rand.New(rand.NewPCG(seed, seed))
	type k struct {
		key time.Time
		e   MapEvent
	}
	ks := make([]k, len(events))
	for i, e := range events {
		ks[i] = k{e.At.Add(time.Duration(r.Int64N(int64(maxDelay)))), e}
	}
	sort.SliceStable(ks, func(i, j int) bool { return ks[i].key.Before(ks[j].key) })
	out := make([]MapEvent, len(ks))
	for i := range ks {
		out[i] = ks[i].e
	}
	return out
}

func TestCorrelationSpecExamples(t *testing.T) {
	type tc struct {
		file   string
		events []MapEvent
		want   []string
	}
	var failed []MapEvent
	for i := 0; i < 100; i++ { // 100 failures on HOST1 within 1h (one every 30 s), 99 on HOST2
		failed = append(failed, ev(i*30, "EventID", 4625, "ComputerName", "HOST1", "User", fmt.Sprintf("u%d", i%7)))
		if i < 99 {
			failed = append(failed, ev(i*30+1, "EventID", 4625, "ComputerName", "HOST2", "User", "x"))
		}
	}
	var users []MapEvent // value_count: 100 distinct users against HOST1/WS1 within a day
	for i := 0; i < 100; i++ {
		users = append(users, ev(i*600, "EventID", 4625, "ComputerName", "HOST1", "WorkstationName", "WS1", "User", fmt.Sprintf("user%03d", i)))
	}
	cases := []tc{
		{file: "event_count.yml", events: failed, want: []string{"Many failed logins @21:49:30 value=100 events=100 ComputerName=HOST1"}},
		{file: "event_count_ecs.yml", events: func() []MapEvent {
			var es []MapEvent
			for i := 0; i < 100; i++ {
				e := ev(i*30, "EventID", 4625)
				e.Data["dns"] = map[string]any{"question": map[string]any{"name": "login.contoso.example"}}
				es = append(es, e)
			}
			return es
		}(), want: []string{"Many failed logins @21:49:30 value=100 events=100 dns.question.name=login.contoso.example"}},
		{file: "value_count.yml", events: users, want: []string{"Failed login @13:30:00 value=100 events=100 ComputerName=HOST1,WorkstationName=WS1"}},
		{file: "temporal.yml", events: []MapEvent{
			ev(0, "CommandLine", "net user /domain", "ComputerName", "PC1", "User", "bob"),
			ev(60, "CommandLine", "whoami /all", "ComputerName", "PC1", "User", "bob"),
			ev(100, "CommandLine", "whoami", "ComputerName", "PC2", "User", "bob"), // other host: not the same group
			ev(200, "CommandLine", "ipconfig /all", "ComputerName", "PC1", "User", "bob"),
			ev(900, "CommandLine", "ipconfig", "ComputerName", "PC2", "User", "bob"), // 800 s after PC2's whoami: too late
		}, want: []string{"Recon @21:03:20 value=3 events=3 ComputerName=PC1,User=bob"}},
		{file: "temporal_ordered.yml", events: []MapEvent{
			ev(0, "CommandLine", "ipconfig", "ComputerName", "PC1", "User", "bob"), // b before a: ignored
			ev(10, "CommandLine", "whoami", "ComputerName", "PC1", "User", "bob"),
			ev(20, "CommandLine", "net user", "ComputerName", "PC1", "User", "bob"), // c before b
			ev(30, "CommandLine", "ipconfig", "ComputerName", "PC1", "User", "bob"),
			ev(40, "CommandLine", "net user x", "ComputerName", "PC1", "User", "bob"),
		}, want: []string{"Recon ordered @21:00:40 value=3 events=4 ComputerName=PC1,User=bob"}},
		{file: "value_sum.yml", events: []MapEvent{
			ev(0, "Method", "POST", "SourceIP", "10.0.0.1", "User", "eve", "bytes_sent", 600000),
			ev(60, "Method", "POST", "SourceIP", "10.0.0.1", "User", "eve", "bytes_sent", "500000"),
			ev(90, "Method", "POST", "SourceIP", "10.0.0.2", "User", "eve", "bytes_sent", 900000),
		}, want: []string{"Possible Exfiltration to Website @21:01:00 value=1.1e+06 events=2 SourceIP=10.0.0.1,User=eve"}},
		{file: "value_avg.yml", events: []MapEvent{
			ev(0, "Method", "POST", "SourceIP", "10.0.0.1", "User", "eve", "BytesOut", 400),
			ev(60, "Method", "POST", "SourceIP", "10.0.0.1", "User", "eve", "BytesOut", 700),
			ev(120, "Method", "POST", "SourceIP", "10.0.0.2", "User", "bob", "BytesOut", 100),
		}, want: []string{"Suspicious average network traffic @21:01:00 value=550 events=2 SourceIP=10.0.0.1,User=eve"}},
		{file: "value_percentile.yml", events: func() []MapEvent {
			var es []MapEvent
			for i := 0; i < 199; i++ {
				es = append(es, ev(i, "EventID", 1, "ComputerName", "PC1", "Image", `C:\Windows\System32\svchost.exe`))
			}
			return append(es, ev(300, "EventID", 1, "ComputerName", "PC1", "Image", `C:\Users\Public\evil.exe`))
		}(), want: []string{"A computer spawned a processes name in the last 24h than 1% of all the processes. @21:05:00 value=0.5 events=200 ComputerName=PC1"}},
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			rs := loadSet(t, baseRules+"---\n"+specExample(t, c.file), Options{})
			got, _ := run(rs, c.events)
			if d := cmp.Diff(c.want, got); d != "" {
				t.Errorf("sorted input (-want +got)\n%s", d)
			}
			// Out of order by up to 10 minutes, within the 20-minute default lateness: same alerts.
			for seed := uint64(1); seed <= 5; seed++ {
				got, c2 := run(rs, shuffleWithin(c.events, 10*time.Minute, seed))
				if d := cmp.Diff(c.want, got); d != "" || c2.Late() != 0 {
					t.Errorf("shuffled (seed %d, late %d) (-want +got)\n%s", seed, c2.Late(), d)
				}
			}
		})
	}
}

// The spec's complete example: correlations over correlations, rules referred to by name.
func TestChainedCorrelation(t *testing.T) {
	yml := `title: Correlation - Multiple Failed Logins Followed by Successful Login
id: b180ead8-d58f-40b2-ae54-c8940995b9b6
correlation:
    type: temporal_ordered
    rules:
        - multiple_failed_login
        - successful_login
    group-by:
        - User
    timespan: 10m
level: high
---
title: Multiple failed logons
id: a8418a5a-5fc4-46b5-b23b-6c73beb19d41
name: multiple_failed_login
correlation:
    type: event_count
    rules:
        - failed_login
    group-by:
        - User
    timespan: 10m
    condition:
        gte: 10
---
title: Single failed login
id: 53ba33fd-3a50-4468-a5ef-c583635cfa92
name: failed_login
logsource: {product: windows, service: security}
detection:
    selection:
        EventID: [529, 4625]
    condition: selection
---
title: Successful login
name: successful_login
logsource: {product: windows, service: security}
detection:
    selection:
        EventID: [528, 4624]
    condition: selection
`
	rs := loadSet(t, yml, Options{})
	var events []MapEvent
	for i := 0; i < 10; i++ {
		events = append(events, ev(i*20, "EventID", 4625, "User", "alice"))
		events = append(events, ev(i*20+5, "EventID", "4625", "User", "bob"))
	}
	events = append(events, ev(250, "EventID", 4624, "User", "alice"), ev(260, "EventID", 4624, "User", "carol"))
	got, _ := run(rs, events)
	want := []string{
		"Correlation - Multiple Failed Logins Followed by Successful Login @21:04:10 value=2 events=11 User=alice",
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("(-want +got)\n%s", d)
	}
	// Base rules referred to by a correlation do not alert alone (generate is false by default).
	c := rs.NewCorrelator()
	base := 0
	c.Process(ev(0, "EventID", 4625, "User", "x"), func(a Alert) { base++ })
	if base != 0 {
		t.Errorf("referenced rule alerted alone")
	}
}

func TestAliasesLatenessEvictionCap(t *testing.T) {
	yml := `title: internal error
name: internal_error
logsource: {category: webserver}
detection:
    selection:
        http.response.status_code: 500
    condition: selection
---
title: new connection
name: new_network_connection
logsource: {category: network}
detection:
    selection:
        event.category: network
    condition: selection
---
title: error then connection
correlation:
    type: temporal
    rules: [internal_error, new_network_connection]
    group-by: [internal_ip, remote_ip]
    timespan: 10s
    aliases:
        internal_ip:
            internal_error: destination.ip
            new_network_connection: source.ip
        remote_ip:
            internal_error: source.ip
            new_network_connection: destination.ip
`
	rs := loadSet(t, yml, Options{MaxGroups: 2})
	nested := func(sec int, kv map[string]any) MapEvent {
		return MapEvent{Data: kv, At: t0.Add(time.Duration(sec) * time.Second)}
	}
	events := []MapEvent{
		nested(0, map[string]any{"http": map[string]any{"response": map[string]any{"status_code": 500}}, "destination": map[string]any{"ip": "10.0.0.5"}, "source": map[string]any{"ip": "198.51.100.7"}}),
		nested(4, map[string]any{"event": map[string]any{"category": "network"}, "source": map[string]any{"ip": "10.0.0.5"}, "destination": map[string]any{"ip": "198.51.100.7"}}),
	}
	got, _ := run(rs, events)
	if len(got) != 1 || !strings.Contains(got[0], "internal_ip=10.0.0.5,remote_ip=198.51.100.7") {
		t.Errorf("aliases: %v", got)
	}
	// An event later than the allowed lateness is left out of correlation and counted.
	rs2 := loadSet(t, yml, Options{Lateness: time.Minute})
	c := rs2.NewCorrelator()
	c.Process(nested(600, map[string]any{"event": map[string]any{"category": "network"}}), func(Alert) {})
	c.Process(nested(0, map[string]any{"event": map[string]any{"category": "network"}}), func(Alert) {})
	if c.Late() != 1 {
		t.Errorf("late = %d, want 1", c.Late())
	}
	// The group cap evicts and counts.
	c = rs.NewCorrelator()
	for i := 0; i < 5; i++ {
		c.Process(nested(i, map[string]any{"event": map[string]any{"category": "network"}, "source": map[string]any{"ip": fmt.Sprintf("10.0.0.%d", i)}}), func(Alert) {})
	}
	c.Flush(func(Alert) {})
	if c.Evicted() == 0 || c.Groups() > 2 {
		t.Errorf("evicted %d, groups %d", c.Evicted(), c.Groups())
	}
}

func TestWindowsCloseForUpperBounds(t *testing.T) {
	yml := baseRules + `---
title: few logins
correlation:
    type: event_count
    rules: [successful_login]
    group-by: [User]
    timespan: 1h
    condition:
        gt: 1
        lte: 3
`
	rs := loadSet(t, yml, Options{})
	var events []MapEvent
	for i := 0; i < 3; i++ {
		events = append(events, ev(i*60, "EventID", 4624, "User", "ann")) // 3 in the window: fires at close
	}
	for i := 0; i < 5; i++ {
		events = append(events, ev(i*60, "EventID", 4624, "User", "ben")) // 5: does not
	}
	events = append(events, ev(7200, "EventID", 4624, "User", "ann")) // a new window with 1: does not
	got, _ := run(rs, events)
	if d := cmp.Diff([]string{"few logins @21:02:00 value=3 events=3 User=ann"}, got); d != "" {
		t.Errorf("(-want +got)\n%s", d)
	}
}
