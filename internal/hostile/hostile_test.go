//go:build linux

package hostile

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/bulwarkhq/bulwark/examples"
	"github.com/bulwarkhq/bulwark/internal/estatesim"
)

// -hostile runs the full-size rows of issue 24 (a million callers, …): minutes and gigabytes of
// temporary files. Without it each row runs at a size that takes a second.
var long = flag.Bool("hostile", false, "run the full-size hostile inputs (slow)")

var binary string

func TestMain(m *testing.M) {
	flag.Parse()
	dir, err := os.MkdirTemp("", "bulwark-hostile")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	binary = filepath.Join(dir, "bulwark")
	build := exec.Command("go", "build", "-o", binary, "github.com/bulwarkhq/bulwark/cmd/bulwark")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build bulwark:", err)
		os.Exit(2)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// run runs the binary and returns its standard output, its exit code and its peak resident memory.
// stdin, when given, is a file the child reads as its standard input: the test never holds a large
// input itself, since a child's ru_maxrss counts the parent's memory up to the exec (os/exec forks
// with CLONE_VM).
func run(t *testing.T, stdin *os.File, args ...string) (out []byte, code int, peakMB int64, took time.Duration) {
	t.Helper()
	var stdout bytes.Buffer
	code, peakMB, took = runTo(t, stdin, &stdout, args...)
	return stdout.Bytes(), code, peakMB, took
}

// runTo is run with the standard output written to w (a file, for output the test must not hold).
func runTo(t *testing.T, stdin *os.File, w io.Writer, args ...string) (code int, peakMB int64, took time.Duration) {
	t.Helper()
	cmd := exec.Command(binary, args...)
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = w, &stderr
	if stdin != nil {
		cmd.Stdin = stdin
	}
	start := time.Now()
	err := cmd.Run()
	took = time.Since(start)
	if _, ok := err.(*exec.ExitError); err != nil && !ok {
		t.Fatal(err)
	}
	ru := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	t.Logf("bulwark %s: exit %d, %s, peak RSS %d MB; stderr: %s", strings.Join(args, " "), cmd.ProcessState.ExitCode(),
		took.Round(10*time.Millisecond), ru.Maxrss/1024, firstLines(stderr.String(), 3))
	return cmd.ProcessState.ExitCode(), ru.Maxrss / 1024, took
}

func firstLines(s string, n int) string {
	lines := strings.SplitN(strings.TrimSpace(s), "\n", n+1)
	if len(lines) > n {
		lines = lines[:n]
	}
	return strings.Join(lines, " | ")
}

// attack is the Contoso demo's attack, as diagnostic-export JSON lines with their times.
type line struct {
	at   time.Time
	data []byte
}

func attack(t *testing.T) []line {
	var out []line
	err := fs.WalkDir(examples.FS, examples.Root+"/activity/diagnostic-export", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := fs.ReadFile(examples.FS, p)
		if err != nil {
			return err
		}
		for _, l := range bytes.Split(bytes.TrimSpace(data), []byte("\n")) {
			var rec struct {
				Time time.Time `json:"time"`
			}
			if err := json.Unmarshal(l, &rec); err != nil {
				return fmt.Errorf("%s: %v", p, err)
			}
			out = append(out, line{rec.Time, l})
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].at.Before(out[j].at) })
	return out
}

// callers writes n events of n distinct callers over the attack's day (a tag write each, and every
// 50th a VM deallocation, which alerts and feeds a correlation group per caller) with the attack's
// events among them, in time order, as one diagnostic-export file.
func callers(t *testing.T, n int, spread time.Duration) string {
	return callersAlerting(t, n, spread, 50)
}

// callersAlerting is callers with every alertEvery-th event a VM deallocation (an alert).
func callersAlerting(t *testing.T, n int, spread time.Duration, alertEvery int) string {
	path := filepath.Join(t.TempDir(), "callers.json")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	att := attack(t)
	start := time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)
	const sub = "11111111-1111-4111-8111-111111111111"
	next := 0
	for i := 0; i < n; i++ {
		at := start.Add(time.Duration(float64(spread) * float64(i) / float64(n))) // spread×i overflows int64
		for next < len(att) && !att[next].at.After(at) {
			w.Write(att[next].data)
			w.WriteByte('\n')
			next++
		}
		op := "MICROSOFT.RESOURCES/TAGS/WRITE"
		rid := fmt.Sprintf("/SUBSCRIPTIONS/%s/RESOURCEGROUPS/RG-%d/PROVIDERS/MICROSOFT.RESOURCES/TAGS/DEFAULT", sub, i%1000)
		if i%alertEvery == 0 {
			op = "MICROSOFT.COMPUTE/VIRTUALMACHINES/DEALLOCATE/ACTION"
			rid = fmt.Sprintf("/SUBSCRIPTIONS/%s/RESOURCEGROUPS/RG-%d/PROVIDERS/MICROSOFT.COMPUTE/VIRTUALMACHINES/VM-%d", sub, i%1000, i)
		}
		fmt.Fprintf(w, `{"time":"%s","resourceId":"%s","operationName":"%s","category":"Administrative","resultType":"Success","resultSignature":"Succeeded.OK","callerIpAddress":"10.%d.%d.%d","correlationId":"c0000000-0000-4000-8000-%012d","identity":{"claims":{"http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn":"user%07d@hostile.example","http://schemas.microsoft.com/identity/claims/objectidentifier":"00000000-0000-4000-8000-%012d"}},"level":"Information","properties":{"eventCategory":"Administrative","entity":"%s"}}`+"\n",
			at.Format("2006-01-02T15:04:05.0000000Z"), rid, op, i>>16&255, i>>8&255, i&255, i, i, i, rid)
	}
	for ; next < len(att); next++ {
		w.Write(att[next].data)
		w.WriteByte('\n')
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	return path
}

type detectLine struct {
	Kind       string                `json:"kind"`
	Actor      string                `json:"actor"`
	Title      string                `json:"title"`
	Rule       struct{ Name string } `json:"rule"`
	Stages     []string              `json:"stages"`
	Principals []any                 `json:"principals"`
	Stats      map[string]any        `json:"stats"`
}

// checkAttack: the attack's incident is there, complete, and no hostile caller opened one.
func checkAttack(t *testing.T, out []byte) {
	t.Helper()
	var found *detectLine
	alerts := map[string]bool{}
	for _, l := range bytes.Split(bytes.TrimSpace(out), []byte("\n")) {
		var d detectLine
		if err := json.Unmarshal(l, &d); err != nil {
			t.Fatalf("output line %q: %v", l, err)
		}
		switch {
		case d.Kind == "incident" && d.Actor == "alice@contoso.example":
			found = &d
		case d.Kind == "incident":
			t.Errorf("a hostile caller opened an incident: %s", d.Title)
		case d.Kind == "alert" && d.Actor == "alice@contoso.example":
			alerts[d.Rule.Name] = true
		}
	}
	if found == nil || len(found.Stages) != 4 || len(found.Principals) != 2 {
		t.Fatalf("the attack's incident is lost or incomplete among the hostile callers: %+v", found)
	}
	for _, r := range []string{"corr_full_chain", "corr_mass_deletion", "priv_privileged_role_assigned", "inh_key_vault_purged", "des_resource_group_deleted"} {
		if !alerts[r] {
			t.Errorf("attack alert %s lost among hostile callers", r)
		}
	}
}

// Row 1: an Activity Log of distinct callers. Memory is a function of the caps, not of the input:
// with the default caps a million callers stay under 512 MB; the attack among them is found whole.
func TestDistinctCallers(t *testing.T) {
	n, limitMB := 100_000, int64(256)
	args := []string{"detect", "-o", "json", "--max-actors", "2000"}
	if *long {
		n, limitMB, args = 1_000_000, 512, []string{"detect", "-o", "json"}
	}
	path := callers(t, n, 24*time.Hour)
	out, code, peak, _ := run(t, nil, append(args, path)...)
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	checkAttack(t, out)
	if peak > limitMB {
		t.Errorf("%d callers: peak RSS %d MB, over %d MB", n, peak, limitMB)
	}
}

// Every caller alerts (a VM deallocation each, an alert that opens no incident): past
// limits.maxAlerts they are counted, not kept, so memory stays bounded; the attack is found whole.
func TestEveryCallerAlerts(t *testing.T) {
	n, limitMB := 50_000, int64(300)
	dir := t.TempDir()
	cfg := filepath.Join(dir, "bulwark.yaml")
	os.WriteFile(cfg, []byte("limits:\n  maxAlerts: 5000\n  maxActors: 2000\n"), 0o644)
	args := []string{"detect", "-o", "json", "--config", cfg}
	if *long {
		n, limitMB, args = 1_000_000, 1024, []string{"detect", "-o", "json"}
	}
	path := callersAlerting(t, n, 24*time.Hour, 1)
	out, code, peak, _ := run(t, nil, append(args, path)...)
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	checkAttack(t, out)
	if bytes.Contains(out, []byte(`"alertsDropped":0,`)) {
		t.Errorf("no alert dropped although all %d callers alerted", n)
	}
	if peak > limitMB {
		t.Errorf("%d alerting callers: peak RSS %d MB, over %d MB", n, peak, limitMB)
	}
}

// The same callers packed into one second: the reorder buffer is capped (--max-held) instead of
// holding every event, and says so.
func TestDenseCallers(t *testing.T) {
	n, limitMB := 100_000, int64(256)
	args := []string{"detect", "-o", "json", "--max-held", "5000", "--max-actors", "2000"}
	if *long {
		n, limitMB, args = 1_000_000, 768, []string{"detect", "-o", "json"}
	}
	path := callers(t, n, time.Second)
	out, code, peak, _ := run(t, nil, append(args, path)...)
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	if !bytes.Contains(out, []byte(`"releasedEarly":`)) || bytes.Contains(out, []byte(`"releasedEarly":0,`)) {
		t.Errorf("no event released early although %d were packed into one second", n)
	}
	if peak > limitMB {
		t.Errorf("%d callers in a second: peak RSS %d MB, over %d MB", n, peak, limitMB)
	}
}

// Rows 6 and 7: a rule with a 10,000-value regular-expression list and one of 10,000 keywords over
// 200 events answer in well under a second; 100 rules of 10,000 regular expressions (1,000,000
// values, within limits.maxRuleValues) in seconds.
func TestLongValueLists(t *testing.T) {
	dir := t.TempDir()
	rules := 1
	if *long {
		rules = 100
	}
	for r := 0; r < rules; r++ {
		var b strings.Builder
		fmt.Fprintf(&b, "title: long list %d\nid: 11111111-2222-4333-8444-%012d\nstatus: test\nlevel: high\nlogsource: {product: azure, service: activitylogs}\ndetection:\n  sel:\n    Caller|re:\n", r, r)
		for i := 0; i < 10_000; i++ {
			fmt.Fprintf(&b, "      - '(?i)^.*user%d%05d.*$'\n", r, i)
		}
		if rules == 1 {
			b.WriteString("  kw:\n")
			for i := 0; i < 10_000; i++ {
				fmt.Fprintf(&b, "    - needle%d-%05d\n", r, i)
			}
			b.WriteString("  condition: sel or kw\n")
		} else {
			b.WriteString("  condition: sel\n")
		}
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("r%03d.yml", r)), []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	events := callers(t, 200, time.Hour)
	out, code, peak, took := run(t, nil, "detect", "-o", "json", "--rules", dir, events)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, firstLines(string(out), 3))
	}
	if budget := time.Duration(rules) * 150 * time.Millisecond; took > budget+time.Second || peak > int64(rules)*8+100 {
		t.Errorf("%d rules of 10,000 values over 200 events: %s, %d MB", rules, took, peak)
	}
}

// Rows 4 and 5: one huge JSON line (a file, and standard input) is skipped at the line limit
// without being held; one huge CSV field stops its file at the record limit.
func TestHugeLineAndField(t *testing.T) {
	size := 64 << 20
	if *long {
		size = 2 << 30
	}
	dir := t.TempDir()
	ok := `{"time":"2026-11-25T10:00:00.0000000Z","resourceId":"/SUBSCRIPTIONS/S/RESOURCEGROUPS/RG/PROVIDERS/MICROSOFT.KEYVAULT/VAULTS/KV","operationName":"MICROSOFT.KEYVAULT/VAULTS/DELETE","category":"Administrative","resultType":"Success","correlationId":"c1","identity":{"claims":{"http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn":"a@x"}},"properties":{}}`
	path := filepath.Join(dir, "line.json")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(ok + "\n" + `{"time":"2026-11-25T10:00:01.0000000Z","properties":{"big":"`)
	chunk := bytes.Repeat([]byte("x"), 1<<20)
	for n := 0; n < size; n += len(chunk) {
		f.Write(chunk)
	}
	f.WriteString(`"}}` + "\n" + strings.Replace(ok, `"c1"`, `"c2"`, 1) + "\n")
	f.Close()
	for _, stdin := range []bool{false, true} {
		args := []string{"detect", "-o", "json", "--allow-partial", path}
		var in *os.File
		if stdin {
			if in, err = os.Open(path); err != nil {
				t.Fatal(err)
			}
			args[len(args)-1] = "-"
		}
		out, code, peak, _ := run(t, in, args...)
		if in != nil {
			in.Close()
		}
		if code != 0 || !bytes.Contains(out, []byte(`"malformedLines":1`)) || bytes.Count(out, []byte(`"kind":"alert"`)) != 2 {
			t.Errorf("stdin %v: exit %d, %s", stdin, code, firstLines(string(out[max(0, len(out)-400):]), 2))
		}
		if peak > 150 {
			t.Errorf("stdin %v: a %d MiB line cost %d MB", stdin, size>>20, peak)
		}
	}
	csvPath := filepath.Join(dir, "AzureActivity.csv")
	f, _ = os.Create(csvPath)
	f.WriteString("TimeGenerated [UTC],OperationNameValue,Properties\n2026-11-25T10:00:00Z,MICROSOFT.KEYVAULT/VAULTS/DELETE,\"")
	for n := 0; n < size; n += len(chunk) {
		f.Write(chunk)
	}
	f.WriteString("\"\n")
	f.Close()
	out, code, peak, _ := run(t, nil, "detect", "-o", "json", csvPath)
	if code == 0 || peak > 150 {
		t.Errorf("a %d MiB CSV field: exit %d, %d MB: %s", size>>20, code, peak, out)
	}
}

// Rows 2 and 3: gzip bombs and oversized documents, for detect and for snapshot inspect, stop with
// an error naming the input and the limit, at a small fraction of their size.
func TestBombsAndDocuments(t *testing.T) {
	size, limitMB := int64(96<<20), int64(700) // under the 512 MiB document limit: read, and bounded
	if *long {
		size, limitMB = 4<<30, 2600 // over it: stopped at the limit
	}
	dir := t.TempDir()
	zeros := filepath.Join(dir, "zeros.json.gz")
	writeGzip(t, zeros, size, func(w io.Writer, n int) { w.Write(make([]byte, n)) })
	array := filepath.Join(dir, "array.json.gz")
	item := []byte(`{"id":"/subscriptions/11111111-1111-4111-8111-111111111111/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv","type":"Microsoft.KeyVault/vaults","name":"kv","properties":{}},`)
	writeGzip(t, array, size, func(w io.Writer, n int) {
		w.Write([]byte("["))
		for i := 0; i+len(item) < n; i += len(item) {
			w.Write(item)
		}
	})
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"snapshot", "inspect", zeros}, "times its compressed size"},
		{[]string{"snapshot", "inspect", array}, "limits."},
		{[]string{"detect", array}, "limits."},
	} {
		out, code, peak, _ := run(t, nil, c.args...)
		if code == 0 || peak > limitMB {
			t.Errorf("%v: exit %d, %d MB: %s", c.args, code, peak, firstLines(string(out), 2))
		}
	}
}

func writeGzip(t *testing.T, path string, size int64, write func(io.Writer, int)) {
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	zw, _ := gzip.NewWriterLevel(f, gzip.BestSpeed)
	for n := int64(0); n < size; n += 1 << 24 {
		write(zw, 1<<24)
	}
	zw.Close()
	f.Close()
}

// Row 9: 100,000 applications in one dependsOn ring: respond answers in seconds and names the cycle.
func TestApplicationRing(t *testing.T) {
	n := 10_000
	if *long {
		n = 100_000
	}
	dir := t.TempDir()
	out, code, _, _ := run(t, nil, "demo", "--out", filepath.Join(dir, "demo"))
	if code != 0 {
		t.Fatalf("demo --out: %d %s", code, out)
	}
	var b strings.Builder
	b.WriteString("apps:\n")
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "  - name: app%d\n    resources:\n      - resourceGroup: /subscriptions/11111111-1111-4111-8111-111111111111/resourceGroups/rg-payments\n    dependsOn: [app%d]\n", i, (i+1)%n)
	}
	apps := filepath.Join(dir, "apps.yaml")
	os.WriteFile(apps, []byte(b.String()), 0o644)
	out, code, _, took := run(t, nil, "respond", "--snapshot", filepath.Join(dir, "demo", "estate"), "--apps", apps, "--app", "app0")
	if code != 0 || !bytes.Contains(out, []byte("app0 depends on itself through")) || took > 30*time.Second {
		t.Errorf("exit %d after %s: %s", code, took, firstLines(string(out), 5))
	}
}

// Row 10: a device or a named pipe as --snapshot is refused at once.
func TestSpecialFiles(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skip(err)
	}
	for _, p := range []string{"/dev/zero", fifo} {
		_, code, _, took := run(t, nil, "snapshot", "inspect", p)
		if code == 0 || took > 5*time.Second {
			t.Errorf("%s: exit %d after %s", p, code, took)
		}
	}
}

// Row 8: an estate of many role assignments. Within limits.maxObjects it is assessed (200,000 in
// about 8 s and 1.4 GB); over it, it is refused with the limit named, not taken as far as memory goes.
func TestRoleAssignments(t *testing.T) {
	n, wantCode, limitMB := 20_000, 0, int64(700)
	if *long {
		n, wantCode, limitMB = 1_000_000, 3, 3000 // over the default 1,000,000 objects with the demo estate
	}
	dir := t.TempDir()
	if out, code, _, _ := run(t, nil, "demo", "--out", filepath.Join(dir, "demo")); code != 0 {
		t.Fatalf("demo --out: %d %s", code, out)
	}
	estate := filepath.Join(dir, "demo", "estate")
	f, err := os.Create(filepath.Join(estate, "zz-assignments.json"))
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	const sub = "11111111-1111-4111-8111-111111111111"
	roles := []string{"8e3af657-a8ff-443c-a75c-2fe8c4bcb635", "b24988ac-6180-42a0-ab88-20f7382dd24c", "acdd72a7-3385-48ef-bd42-f606fba81ae7"}
	rgs := []string{"rg-payments", "rg-shop", "rg-platform", "rg-legacy"}
	w.WriteString(`{"schema":"bulwark.snapshot/v1","collectedAt":"2026-11-26T06:00:00Z","resources":[`)
	for i := 0; i < n; i++ {
		scope := "/subscriptions/" + sub
		if i%3 != 0 {
			scope += "/resourceGroups/" + rgs[i%4]
		}
		if i > 0 {
			w.WriteByte(',')
		}
		fmt.Fprintf(w, `{"id":"%s/providers/Microsoft.Authorization/roleAssignments/%08x-0000-4000-8000-%012x","type":"Microsoft.Authorization/roleAssignments","properties":{"roleDefinitionId":"/subscriptions/%s/providers/Microsoft.Authorization/roleDefinitions/%s","principalId":"%08x-1111-4000-8000-%012x","principalType":"User","scope":"%s"}}`,
			scope, i, i, sub, roles[i%3], i, i, scope)
	}
	w.WriteString("]}")
	w.Flush()
	f.Close()
	_, code, peak, _ := run(t, nil, "assess", "--snapshot", estate)
	if code != wantCode || peak > limitMB {
		t.Errorf("%d role assignments: exit %d (want %d), %d MB (limit %d)", n, code, wantCode, peak, limitMB)
	}
}

// TestAssessScale (issue 23) runs assess as a process on generated estates in every output format
// and logs the time and peak RSS per object, so the growth from 10,000 to 200,000 objects shows.
// Without -hostile it runs 10,000 objects in JSON only. With it, every size and format, and the
// peak RSS of 100,000 objects must stay under 1 GB in every format.
func TestAssessScale(t *testing.T) {
	sizes, formats := []int{10_000}, []string{"json"}
	if *long {
		sizes, formats = []int{10_000, 25_000, 50_000, 100_000, 200_000}, []string{"table", "json", "sarif", "markdown", "html", "csv", "xlsx"}
	}
	dir := t.TempDir()
	var table strings.Builder
	table.WriteString("objects  format    seconds  µs/object  peak MB  KB/object\n")
	for _, n := range sizes {
		path := filepath.Join(dir, fmt.Sprintf("estate-%d.json", n))
		f, err := os.Create(path)
		if err != nil {
			t.Fatal(err)
		}
		if err := estatesim.Snapshot(f, n); err != nil {
			t.Fatal(err)
		}
		f.Close()
		for _, format := range formats {
			outPath := filepath.Join(dir, "out."+format)
			out, err := os.Create(outPath)
			if err != nil {
				t.Fatal(err)
			}
			code, peak, took := runTo(t, nil, out, "assess", "--snapshot", path, "-o", format, "-q")
			out.Close()
			if code != 0 && code != 1 {
				t.Fatalf("%d objects -o %s: exit %d", n, format, code)
			}
			fmt.Fprintf(&table, "%7d  %-8s  %7.2f  %9.1f  %7d  %9.1f\n", n, format, took.Seconds(), float64(took.Microseconds())/float64(n), peak, float64(peak)*1024/float64(n))
			if n == 100_000 && peak > 1024 {
				t.Errorf("%d objects -o %s: peak RSS %d MB, over 1 GB", n, format, peak)
			}
			if format == "json" {
				var doc struct {
					Snapshot struct{ Objects int }
					Results  []json.RawMessage
				}
				b, _ := os.ReadFile(outPath)
				if err := json.Unmarshal(b, &doc); err != nil || doc.Snapshot.Objects < n || len(doc.Results) < n {
					t.Errorf("%d objects: %v, %d objects read, %d results", n, err, doc.Snapshot.Objects, len(doc.Results))
				}
			}
		}
	}
	t.Log("\n" + table.String())
}

// One actor raising the same alert over and over (a purge of every soft-deleted vault, each an
// alert that opens an incident): past limits.maxAlertsPerRule they are counted on the first alert,
// not kept, so the incident stays bounded however many there are; it still opens.
func TestOneActorManyAlerts(t *testing.T) {
	n, limitMB := 30_000, int64(400)
	if *long {
		n, limitMB = 1_000_000, 1024
	}
	path := filepath.Join(t.TempDir(), "purges.json")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	start := time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)
	for i := 0; i < n; i++ {
		at := start.Add(time.Duration(float64(20*time.Hour) * float64(i) / float64(n)))
		rid := fmt.Sprintf("/SUBSCRIPTIONS/11111111-1111-4111-8111-111111111111/PROVIDERS/MICROSOFT.KEYVAULT/LOCATIONS/WESTEUROPE/DELETEDVAULTS/KV-%07d", i)
		fmt.Fprintf(w, `{"time":"%s","resourceId":"%s","operationName":"MICROSOFT.KEYVAULT/LOCATIONS/DELETEDVAULTS/PURGE/ACTION","category":"Administrative","resultType":"Success","resultSignature":"Succeeded.OK","callerIpAddress":"203.0.113.9","correlationId":"e0000000-0000-4000-8000-%012d","identity":{"claims":{"http://schemas.microsoft.com/identity/claims/objectidentifier":"0b1d0000-0000-4000-8000-00000000ab01","appid":"a9900000-0000-4000-8000-00000000ab01","idtyp":"app"}},"level":"Information","properties":{"eventCategory":"Administrative","entity":"%s"}}`+"\n",
			at.Format("2006-01-02T15:04:05.0000000Z"), rid, i, rid)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	out, code, peak, _ := run(t, nil, "detect", "-o", "json", path)
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	var incidents int
	var notKept float64
	for _, l := range bytes.Split(bytes.TrimSpace(out), []byte("\n")) {
		var d detectLine
		if json.Unmarshal(l, &d) != nil {
			continue
		}
		if d.Kind == "incident" {
			incidents++
		}
		if d.Stats != nil {
			notKept, _ = d.Stats["alertsNotKept"].(float64)
		}
	}
	if incidents != 1 || int(notKept) != n-10_000 {
		t.Errorf("%d purges by one actor: %d incidents (want 1), %v alerts not kept (want %d)", n, incidents, notKept, n-10_000)
	}
	if peak > limitMB {
		t.Errorf("%d purges by one actor: peak RSS %d MB, over %d MB", n, peak, limitMB)
	}
}
