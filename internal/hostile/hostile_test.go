//go:build linux

package hostile

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
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
func run(t *testing.T, stdin []byte, args ...string) (out []byte, code int, peakMB int64, took time.Duration) {
	t.Helper()
	cmd := exec.Command(binary, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
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
	return stdout.Bytes(), cmd.ProcessState.ExitCode(), ru.Maxrss / 1024, took
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
		if i%50 == 0 {
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

// Rows 6 and 7: rules with 10,000-value lists (regular expressions among them) over 200 events
// answer in well under a second each.
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
		b.WriteString("  kw:\n")
		for i := 0; i < 10_000; i++ {
			fmt.Fprintf(&b, "    - needle%d-%05d\n", r, i)
		}
		b.WriteString("  condition: sel or kw\n")
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("r%03d.yml", r)), []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	events := callers(t, 200, time.Hour)
	out, code, _, took := run(t, nil, "detect", "-o", "json", "--rules", dir, events)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, firstLines(string(out), 3))
	}
	if budget := time.Duration(rules) * 150 * time.Millisecond; took > budget+time.Second {
		t.Errorf("%d rules of 2 × 10,000 values over 200 events took %s", rules, took)
	}
}
