package activity

import (
	"github.com/bulwarkhq/bulwark/internal/hostfs"

	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/google/go-cmp/cmp"

	"github.com/bulwarkhq/bulwark/internal/jsonscan"
)

const contoso = "../../examples/contoso/activity"

func readAll(t *testing.T, paths ...string) ([]*Event, *Reader) {
	t.Helper()
	r := &Reader{Files: hostfs.FS{}}
	var out []*Event
	if err := r.Read(context.Background(), paths, func(e *Event) error { out = append(out, e); return nil }); err != nil {
		t.Fatal(err)
	}
	return out, r
}

// canonical renders the fields rules use, so formats can be compared.
func canonical(e *Event) string {
	get := func(p string) string { v, _ := e.Field(p); return fmt.Sprint(v) }
	return strings.Join([]string{e.At.Format("15:04:05.000"), strings.ToUpper(get("operationName")), get("resultType"), get("category"), get("caller"),
		get("callerIpAddress"), get("correlationId"), strings.ToLower(get("resourceId")), get("principalId"),
		get("properties.requestbody.properties.softDeleteFeatureState"), get("properties.requestbody.Properties.RoleDefinitionId"),
		get("identity.authorization.evidence.role")}, " | ")
}

func TestFormatsAgree(t *testing.T) {
	sets := map[string][]string{}
	for name, p := range map[string]string{
		"diagnostic": filepath.Join(contoso, "diagnostic-export"),
		"rest":       filepath.Join(contoso, "rest", "activity-2026-11-25.json"),
		"la-json":    filepath.Join(contoso, "log-analytics", "AzureActivity-2026-11-25.json"),
		"la-csv":     filepath.Join(contoso, "log-analytics", "AzureActivity-2026-11-25.csv"),
	} {
		evs, r := readAll(t, p)
		if len(r.Problems) != 0 {
			t.Errorf("%s: problems %v", name, r.Problems)
		}
		var lines []string
		for _, e := range evs {
			lines = append(lines, canonical(e))
		}
		sort.Strings(lines)
		sets[name] = lines
		if len(lines) != 109 || r.Duplicates != 1 {
			t.Errorf("%s: %d events, %d duplicates; want 109 and 1", name, len(lines), r.Duplicates)
		}
	}
	for _, n := range []string{"rest", "la-json", "la-csv"} {
		if d := cmp.Diff(sets["diagnostic"], sets[n]); d != "" {
			t.Errorf("%s differs from the diagnostic export (-diag +%s)\n%s", n, n, d)
		}
	}
}

func TestTraps(t *testing.T) {
	evs, _ := readAll(t, filepath.Join(contoso, "diagnostic-export"))
	var roleWrite, sdOff *Event
	for _, e := range evs {
		if strings.EqualFold(e.OperationName, "MICROSOFT.AUTHORIZATION/ROLEASSIGNMENTS/WRITE") && e.ResultType == "Start" && strings.HasPrefix(e.CallerIPAddress, "203.") {
			roleWrite = e
		}
		if strings.EqualFold(e.OperationName, "MICROSOFT.RECOVERYSERVICES/VAULTS/BACKUPCONFIG/WRITE") && e.ResultType == "Start" && sdOff == nil {
			sdOff = e
		}
	}
	if roleWrite == nil || sdOff == nil {
		t.Fatal("events not found")
	}
	// Caller derived from claims (upn); principal from objectidentifier.
	if roleWrite.Caller != "alice@contoso.example" || roleWrite.PrincipalID != "a11ce000-0000-4000-8000-000000000001" {
		t.Errorf("caller %q principal %q", roleWrite.Caller, roleWrite.PrincipalID)
	}
	// The request body is a JSON string: the string and its fields are both reachable.
	body, _ := roleWrite.Field("properties.requestbody")
	if s, ok := body.(string); !ok || !strings.Contains(s, `"PrincipalType":"ServicePrincipal"`) {
		t.Errorf("requestbody string: %v", body)
	}
	if v, _ := roleWrite.Field("properties.requestbody.Properties.PrincipalId"); v != "7f3a0000-0000-4000-8000-0000000000ff" {
		t.Errorf("requestbody field: %v", v)
	}
	// Log Analytics column names resolve to the same values.
	for _, col := range []string{"OperationNameValue", "ActivityStatusValue", "CategoryValue", "Caller", "CallerIpAddress", "CorrelationId", "_ResourceId", "ResourceProviderValue", "SubscriptionId", "ResourceGroup"} {
		if v, ok := sdOff.Field(col); !ok || v == "" {
			t.Errorf("column %s does not resolve", col)
		}
	}
	if v, _ := sdOff.Field("ResourceProviderValue"); !strings.EqualFold(v.(string), "Microsoft.RecoveryServices") {
		t.Errorf("provider %v", v)
	}
	// Service principals: caller is the application ID.
	for _, e := range evs {
		if e.CallerIPAddress == "198.51.100.23" && e.Caller != "7f3a1111-aaaa-4bbb-8ccc-000000000fff" {
			t.Fatalf("SP caller %q", e.Caller)
		}
	}
}

func TestStatusSpellings(t *testing.T) {
	for in, want := range map[string]string{"Started": "Start", "Accepted": "Accept", "Succeeded": "Success", "Failed": "Failure", "success": "Success", "BeginRequest": "Start"} {
		if got := normStatus(in); got != want {
			t.Errorf("%s → %s, want %s", in, got, want)
		}
	}
}

func TestMalformedLinesAreSkipped(t *testing.T) {
	dir := t.TempDir()
	good := `{"time":"2026-11-25T21:47:10Z","operationName":"MICROSOFT.AUTHORIZATION/LOCKS/DELETE","resultType":"Success","resourceId":"/subscriptions/s/providers/Microsoft.Authorization/locks/l","correlationId":"c1"}`
	data := good + "\n{\"time\": broken\n" + strings.Replace(good, "c1", "c2", 1) + "\n" + `{"operationName":"x"}` + "\n"
	p := filepath.Join(dir, "PT1H.json")
	os.WriteFile(p, []byte(data), 0o644)
	evs, r := readAll(t, p)
	if len(evs) != 2 {
		t.Errorf("%d events, want 2", len(evs))
	}
	var probs []string
	for _, pr := range r.Problems {
		probs = append(probs, pr.String())
	}
	want := []string{p + ":2: malformed JSON", p + ":4: no event time (time, eventTimestamp or TimeGenerated)"}
	if d := cmp.Diff(want, probs); d != "" {
		t.Errorf("(-want +got)\n%s", d)
	}
}

func TestLegacyLogAnalyticsOperation(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "legacy.json")
	os.WriteFile(p, []byte(`[{"TimeGenerated":"2020-01-01T10:00:00Z","OperationName":"Supprimer la machine virtuelle","ActivityStatus":"Succeeded","Caller":"x@y","ResourceId":"/subscriptions/s/resourceGroups/r/providers/Microsoft.Compute/virtualMachines/v","Authorization":"{\"action\":\"Microsoft.Compute/virtualMachines/delete\",\"scope\":\"/subscriptions/s\"}","Properties":"{\"message\":\"Microsoft.Compute/virtualMachines/delete\"}"}]`), 0o644)
	evs, r := readAll(t, p)
	if len(evs) != 1 || evs[0].OperationName != "Microsoft.Compute/virtualMachines/delete" || evs[0].ResultType != "Success" || len(r.Problems) > 0 {
		t.Errorf("legacy: %+v %v", evs, r.Problems)
	}
}

func TestAdeleCSV(t *testing.T) {
	p := "../../../shared/reference/activity/azureActivity_adele.csv"
	if _, err := os.Stat(p); err != nil {
		t.Skip("reference data not present")
	}
	evs, r := readAll(t, p)
	if len(r.Problems) != 0 || len(evs)+r.Duplicates != 23 {
		t.Errorf("%d events + %d duplicates, problems %v", len(evs), r.Duplicates, r.Problems)
	}
	for _, e := range evs {
		if e.Caller != "AdeleV@M365x816222.OnMicrosoft.com" || e.At.Year() != 2021 || e.CallerIPAddress == "" {
			t.Fatalf("row decoded wrong: %+v", e)
		}
	}
}

// TestTaxonomyPublished keeps docs/activity-fields.md in step with Taxonomy.
func TestTaxonomyPublished(t *testing.T) {
	data, err := os.ReadFile("../../docs/activity-fields.md")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(string(data), TaxonomyMarkdown()) {
		t.Errorf("docs/activity-fields.md does not end with the table TaxonomyMarkdown renders:\n%s", TaxonomyMarkdown())
	}
}

// TestEscapedClaimNames: serializers that escape "/" still give the caller and principal.
func TestEscapedClaimNames(t *testing.T) {
	line := `{"time":"2026-11-25T21:47:10Z","resourceId":"/SUBSCRIPTIONS/S/RESOURCEGROUPS/RG/PROVIDERS/MICROSOFT.AUTHORIZATION/LOCKS/L","operationName":"MICROSOFT.AUTHORIZATION/LOCKS/DELETE","category":"Administrative","resultType":"Success","correlationId":"c","identity":{"claims":{"http:\/\/schemas.xmlsoap.org\/ws\/2005\/05\/identity\/claims\/upn":"eve@contoso.example","http:\/\/schemas.microsoft.com\/identity\/claims\/objectidentifier":"0e0e0e0e-0000-4000-8000-000000000001"}}}`
	r := &Reader{Files: hostfs.FS{}, Stdin: strings.NewReader(line + "\n")}
	var got []*Event
	if err := r.Read(context.Background(), []string{"-"}, func(e *Event) error { got = append(got, e); return nil }); err != nil || len(got) != 1 {
		t.Fatalf("%v %d %v", err, len(got), r.Problems)
	}
	if got[0].Caller != "eve@contoso.example" || got[0].PrincipalID != "0e0e0e0e-0000-4000-8000-000000000001" {
		t.Errorf("caller %q principal %q", got[0].Caller, got[0].PrincipalID)
	}
}

// TestParallelDecodingKeepsOrder: decoding JSON lines on several goroutines passes on the same
// events and problems, in the same order, as one goroutine.
func TestParallelDecodingKeepsOrder(t *testing.T) {
	var b strings.Builder
	for i := 0; i < 5000; i++ {
		switch {
		case i%997 == 0:
			b.WriteString("{\"time\":\"2026-11-25T10:00:00Z\",\"operationName\":\n") // broken record
		case i%1009 == 0:
			b.WriteString(`{"records":[{"time":"2026-11-25T10:00:00Z","operationName":"A/WRITE","resultType":"Success","correlationId":"p` + strconv.Itoa(i) + `"}]}` + "\n")
		default:
			b.WriteString(`{"time":"2026-11-25T10:00:0` + strconv.Itoa(i%10) + `Z","operationName":"MICROSOFT.X/Y/WRITE","resultType":"Success","correlationId":"c` + strconv.Itoa(i) + `","resourceId":"/subscriptions/s/resourceGroups/rg/providers/Microsoft.X/y/n` + strconv.Itoa(i) + `"}` + "\n")
		}
	}
	path := filepath.Join(t.TempDir(), "PT1H.json")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	read := func(workers int) (keys []string, problems []Problem) {
		r := &Reader{Files: hostfs.FS{}, Workers: workers}
		if err := r.Read(context.Background(), []string{path}, func(e *Event) error { keys = append(keys, fmt.Sprint(e.KeyHash())+"@"+e.Source()); return nil }); err != nil {
			t.Fatal(err)
		}
		return keys, r.Problems
	}
	k1, p1 := read(1)
	if len(k1) < 4900 || len(p1) == 0 {
		t.Fatalf("%d events, %d problems", len(k1), len(p1))
	}
	for _, w := range []int{2, 4, 8} {
		kw, pw := read(w)
		if strings.Join(kw, "\n") != strings.Join(k1, "\n") || fmt.Sprint(pw) != fmt.Sprint(p1) {
			t.Errorf("%d workers: %d events, %d problems; one worker: %d, %d", w, len(kw), len(pw), len(k1), len(p1))
		}
	}
}

// TestTopPropertyFastPath: reading a top-level properties member from the raw JSON gives what
// the full decode gives, for every member of every demo event in every format.
func TestTopPropertyFastPath(t *testing.T) {
	compared := 0
	defer func() {
		if compared < 500 {
			t.Errorf("only %d members compared", compared)
		}
	}()
	for _, p := range []string{"rest", "diagnostic-export", "log-analytics"} {
		r := &Reader{Files: hostfs.FS{}}
		err := r.Read(context.Background(), []string{filepath.Join("..", "..", "examples", "contoso", "activity", p)}, func(e *Event) error {
			slow := &Event{propertiesRaw: e.propertiesRaw}
			for k := range e.Properties() {
				for _, key := range []string{k, strings.ToUpper(k), "nosuchmember"} {
					fv, fok, done := e.topProperty(key)
					if !done {
						continue
					}
					compared++
					sv, sok := descend(slow.Properties(), key)
					if fok != sok || fmt.Sprint(fv) != fmt.Sprint(sv) {
						t.Errorf("%s %s: fast %v %q, full %v %q", e.Source(), key, fok, fv, sok, sv)
					}
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}

func TestKeyHash(t *testing.T) {
	at := time.Date(2026, 11, 25, 22, 12, 10, 25_000_000, time.UTC)
	ev := func(op, res, corr string) *Event {
		return &Event{At: at, OperationName: op, ResultType: "Success", CorrelationID: corr, ResourceID: res}
	}
	a := ev("Microsoft.Compute/virtualMachines/delete", "/subscriptions/s/resourceGroups/rg-Shop/providers/Microsoft.Compute/virtualMachines/vm-1", "abc")
	b := ev("MICROSOFT.COMPUTE/VIRTUALMACHINES/DELETE", "/SUBSCRIPTIONS/S/RESOURCEGROUPS/RG-SHOP/PROVIDERS/MICROSOFT.COMPUTE/VIRTUALMACHINES/VM-1", "ABC")
	if a.KeyHash() != b.KeyHash() {
		t.Error("case changes the key hash")
	}
	for _, c := range []*Event{
		ev("Microsoft.Compute/virtualMachines/delete", "/subscriptions/s/resourceGroups/rg-Shop/providers/Microsoft.Compute/virtualMachines/vm-2", "abc"),
		ev("Microsoft.Compute/virtualMachines/delete", "/subscriptions/s/resourceGroups/rg-Shop/providers/Microsoft.Compute/virtualMachines/vm-1", "abd"),
		ev("Microsoft.Compute/virtualMachines/write", "/subscriptions/s/resourceGroups/rg-Shop/providers/Microsoft.Compute/virtualMachines/vm-1", "abc"),
		ev("Microsoft.Compute/virtualMachines/delete", "/subscriptions/s/resourceGroups/rg-Shop/providers/Microsoft.Compute/virtualMachines/vm-1[", "abc"),
	} {
		if c.KeyHash() == a.KeyHash() {
			t.Errorf("%s %s %s hashes like the original", c.OperationName, c.ResourceID, c.CorrelationID)
		}
	}
	if got := lowerWord(binary.LittleEndian.Uint64([]byte("AZaz@[`{"))); got != binary.LittleEndian.Uint64([]byte("azaz@[`{")) {
		t.Errorf("lowerWord: %x", got)
	}
}

// FuzzReader: any input, in any shape, is read without a panic; what is not an event is a problem
// with a file and line, and every event has a time and an operation.
func FuzzReader(f *testing.F) {
	filepath.WalkDir(filepath.Join("..", "..", "examples", "contoso", "activity"), func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			data, _ := os.ReadFile(p)
			if len(data) > 4096 {
				data = data[:4096]
			}
			f.Add(data)
		}
		return err
	})
	f.Add([]byte(`{"records":[{"time":"2026-11-25T10:00:00Z","operationName":"A/B/DELETE","identity":{"claims":{"appid":"x"}}}]}`))
	f.Add([]byte("[{\"eventTimestamp\":\"2026-11-25T10:00:00Z\",\"operationName\":{\"value\":\"a\"},\"properties\":{\"requestbody\":\"{\\\"a\\\":1}\"}}]"))
	f.Add([]byte("TimeGenerated [UTC],OperationNameValue,Caller\n2026-11-25T10:00:00Z,A/B/WRITE,x\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, workers := range []int{1, 3} {
			r := &Reader{Files: hostfs.FS{}, Stdin: bytes.NewReader(data), Workers: workers}
			err := r.Read(context.Background(), []string{"-"}, func(e *Event) error {
				if e.At.IsZero() || e.OperationName == "" {
					t.Fatalf("event without time or operation: %+v", e)
				}
				e.Field("properties.requestbody")
				e.Field("identity.claims.appid")
				e.KeyHash()
				return nil
			})
			if err != nil {
				t.Fatalf("stdin: %v", err)
			}
			for _, p := range r.Problems {
				if !strings.HasPrefix(p.Source, "-") {
					t.Fatalf("problem without a source: %+v", p)
				}
			}
		}
	})
}

// The JSON-lines fast path (one validating pass that also collects claims and properties) builds
// exactly the event the general path builds, on every line of the demo's diagnostic export and the
// rule samples, and on lines made to trip it: escaped claim names, a repeated properties or identity
// member, claims as a string, members in other cases, a REST record with top-level claims.
func TestWalkedPathAgrees(t *testing.T) {
	var lines []string
	for _, root := range []string{contoso + "/diagnostic-export", "../../rules"} {
		filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(p, ".json") {
				return err
			}
			data, _ := os.ReadFile(p)
			for _, l := range strings.Split(string(data), "\n") {
				if l = strings.TrimSpace(l); strings.HasPrefix(l, "{") && strings.HasSuffix(l, "}") {
					lines = append(lines, l)
				}
			}
			return nil
		})
	}
	if len(lines) < 100 {
		t.Fatalf("only %d sample lines", len(lines))
	}
	base := `"time":"2026-11-25T21:47:10Z","resourceId":"/S/X","operationName":"MICROSOFT.KEYVAULT/VAULTS/DELETE","resultType":"Success","correlationId":"c"`
	claims := `{"http:\/\/schemas.xmlsoap.org\/ws\/2005\/05\/identity\/claims\/upn":"eve@contoso.example","appid":"a1","idtyp":"user","http://schemas.microsoft.com/identity/claims/objectidentifier":"o1"}`
	lines = append(lines,
		`{`+base+`,"identity":{"claims":`+claims+`,"authorization":{"evidence":{"principalId":"p1"}}}}`,
		`{`+base+`,"identity":{"authorization":{"evidence":{"principalId":"p2"}},"claims":{"appid":"app-only","idtyp":"app"}}}`,
		`{`+base+`,"properties":{"eventCategory":"Policy","operationId":"op1"},"properties":{"eventCategory":"Security"}}`,
		`{`+base+`,"identity":{"claims":{"name":"x@y"}},"Identity":{"claims":{"name":"z@y"}}}`,
		`{`+base+`,"identity":{"claims":"{\"name\":\"s@y\"}"}}`,
		`{`+base+`,"Properties":{"EventCategory":"Administrative","OperationID":"op2"},"IDENTITY":{"claims":{"name":"u@y"}}}`,
		`{"eventTimestamp":"2026-11-25T21:47:10Z","operationName":{"value":"Microsoft.Storage/storageAccounts/delete"},"status":{"value":"Succeeded"},"claims":`+claims+`,"authorization":{"evidence":{"principalId":"p3"}},"httpRequest":{"clientIpAddress":"192.0.2.9"},"identity":{"claims":{"name":"ignored@y"}}}`,
		`{`+base+`,"identity":{"claims":{"name":"first@y"},"claims":{"name":"second@y"}}}`,
	)
	lines = append(lines, `{"records":[{`+base+`,"identity":{"claims":`+claims+`}},{`+base+`,"level":"Warning"}]}`)
	opts := cmpopts()
	for _, flat := range []bool{false, true} {
		for i, l := range lines {
			var d decoded
			if flat { // every event flat (Reader.Flat): the same flat fields, none of the raw parts
				d.decoder = (&Reader{Files: hostfs.FS{}, Flat: func(string) bool { return true }}).newDecoder()
			}
			data := []byte(l)
			decodeUnit(unit{src: source{"x", i + 1}, data: data}, &d)
			for _, e := range d.events {
				if f := sharedWith(e, data); f != "" {
					t.Errorf("line %d: the event's %s is still in the line buffer", i, f)
				}
				if e.Flat() != flat || flat && e.propertiesRaw+e.identityRaw+e.authRaw+e.claimsRaw+e.httpRaw != "" {
					t.Errorf("line %d: Flat() = %v, raw parts kept: %+v", i, e.Flat(), e)
				}
			}
			for j := range data {
				data[j] = '#' // the buffer is reused for other lines
			}
			if strings.HasPrefix(l, `{"records"`) {
				if len(d.events) != 2 || d.events[0].Caller != "eve@contoso.example" || d.events[1].Level != "Warning" ||
					(d.events[0].identityRaw == "") != flat {
					t.Errorf("records line: %+v %+v", d.events, d.problems)
				}
				continue
			}
			rec, ok := scanRecord(l)
			if !ok {
				t.Fatalf("line %d is not an object: %s", i, l)
			}
			want, err := fromRecord(rec, source{"x", i + 1})
			if err != nil {
				if len(d.problems) != 1 || len(d.events) != 0 {
					t.Errorf("line %d: general path: %v; fast path: %+v %+v", i, err, d.events, d.problems)
				}
				continue
			}
			if len(d.events) != 1 {
				t.Fatalf("line %d: fast path: %+v %+v", i, d.events, d.problems)
			}
			if flat {
				want.propertiesRaw, want.identityRaw, want.authRaw, want.claimsRaw, want.httpRaw = "", "", "", "", ""
				want.flat = true
			}
			if diff := cmp.Diff(want, d.events[0], opts); diff != "" {
				t.Errorf("line %d, flat %v (-general +fast):\n%s\n%s", i, flat, diff, l)
			}
		}
	}
}

// sharedWith names a string field of e (at any depth, exported or not) whose bytes are in buf.
func sharedWith(e *Event, buf []byte) string {
	lo := uintptr(unsafe.Pointer(unsafe.SliceData(buf)))
	var walk func(v reflect.Value, name string) string
	walk = func(v reflect.Value, name string) string {
		switch v.Kind() {
		case reflect.String:
			if s := v.String(); s != "" {
				if p := uintptr(unsafe.Pointer(unsafe.StringData(s))); p >= lo && p < lo+uintptr(len(buf)) {
					return name
				}
			}
		case reflect.Struct:
			for i := 0; i < v.NumField(); i++ {
				if f := walk(v.Field(i), name+"."+v.Type().Field(i).Name); f != "" {
					return f
				}
			}
		}
		return ""
	}
	return walk(reflect.ValueOf(e).Elem(), "Event")
}

func cmpopts() cmp.Option {
	return cmp.FilterPath(func(p cmp.Path) bool {
		sf, ok := p.Last().(cmp.StructField)
		return ok && sf.Name() != "" && sf.Name()[0] >= 'a' && sf.Name()[0] <= 'z'
	}, cmp.Ignore())
}

func TestLowerFast(t *testing.T) {
	for _, s := range []string{"", "a", "ABCDEFGH", "/SUBSCRIPTIONS/11111111-1111/RESOURCEGROUPS/RG-X/PROVIDERS/MICROSOFT.COMPUTE/VIRTUALMACHINES/VM@[`{~",
		"Microsoft.Authorization/roleAssignments/write", "ÀÉÎ/Ünïcode", "@[`{", "\x00\x7f"} {
		if got, want := lowerFast(s), strings.ToLower(s); got != want {
			t.Errorf("lowerFast(%q) = %q, want %q", s, got, want)
		}
	}
	for c := 0; c < 128; c++ {
		s := strings.Repeat(string(rune(c)), 9)
		if got, want := lowerFast(s), strings.ToLower(s); got != want {
			t.Errorf("lowerFast(%q) = %q, want %q", s, got, want)
		}
	}
}

// keySet agrees with a map on adds and lookups, collisions and wrap-around included.
func TestKeySet(t *testing.T) {
	s := newKeySet(1000)
	ref := map[uint64]bool{}
	x := uint64(88172645463325252)
	for i := 0; i < 1000; i++ {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		k := x | 1
		if i%3 == 0 {
			k = uint64(i)<<40 | 1 // keys that land near each other
		}
		if s.has(k) != ref[k] {
			t.Fatalf("has(%d) = %v before add", k, s.has(k))
		}
		if !ref[k] {
			s.add(k)
			ref[k] = true
		}
	}
	for k := range ref {
		if !s.has(k) {
			t.Fatalf("lost %d", k)
		}
	}
	if s.has(12345) || s.n != len(ref) {
		t.Errorf("has a key never added, or n = %d for %d", s.n, len(ref))
	}
	s.reset()
	for k := range ref {
		if s.has(k) {
			t.Fatal("a key survived reset")
		}
	}
}

// TestMappedAndStreamAgree: a file read through its memory mapping (Read) and the same bytes read
// as a stream (ReadFrom) give the same events, sources and problems, with one worker and several.
func TestMappedAndStreamAgree(t *testing.T) {
	line := func(i int) string {
		return `{"time":"2026-11-25T10:00:0` + strconv.Itoa(i%10) + `Z","operationName":"MICROSOFT.X/Y/WRITE","resultType":"Success","correlationId":"c` + strconv.Itoa(i) + `","resourceId":"/subscriptions/s/resourceGroups/rg/providers/Microsoft.X/y/n` + strconv.Itoa(i) + `"}`
	}
	var b strings.Builder
	b.WriteString("\xef\xbb\xbf  \n")
	for i := 0; i < 3000; i++ {
		switch {
		case i%701 == 0:
			b.WriteString("{\"time\": broken\n")
		case i%503 == 0:
			b.WriteString("{\n  \"records\": [" + line(i) + "]\n}\n") // pretty-printed: joined lines
		case i%307 == 0:
			b.WriteString(line(i) + "\r\n")
		default:
			b.WriteString(line(i) + "\n")
		}
	}
	b.WriteString(line(99999)) // no final newline
	dir := t.TempDir()
	var big strings.Builder // 70 MB: the mapping's pages are given back on the way, 8 MB at a time
	for i := 0; big.Len() < 70<<20; i++ {
		big.WriteString(strings.Replace(line(i), `"resultType"`, `"padding":"`+strings.Repeat("p", 4000)+`","resultType"`, 1) + "\n")
	}
	files := map[string]string{"lines.json": b.String(), "empty.json": "", "spaces.json": " \n\n", "one.json": line(1), "big.json": big.String()}
	for name, content := range files {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		for _, workers := range []int{1, 4} {
			collect := func(read func(r *Reader, fn func(*Event) error) error) string {
				r := &Reader{Files: hostfs.FS{}, Workers: workers}
				var out []string
				if err := read(r, func(e *Event) error {
					out = append(out, fmt.Sprint(e.KeyHash(), "@", e.Source(), " ", e.Caller))
					return nil
				}); err != nil {
					t.Fatal(err)
				}
				return strings.Join(out, "\n") + fmt.Sprint(r.Problems)
			}
			mapped := collect(func(r *Reader, fn func(*Event) error) error { return r.Read(context.Background(), []string{path}, fn) })
			stream := collect(func(r *Reader, fn func(*Event) error) error {
				return r.ReadFrom(context.Background(), path, strings.NewReader(content), fn)
			})
			if mapped != stream {
				t.Errorf("%s, %d workers: mapped and stream reads differ:\n%.300s\n---\n%.300s", name, workers, mapped, stream)
			}
			if name == "lines.json" && strings.Count(mapped, "\n") < 2900 {
				t.Errorf("%s: only %d events", name, strings.Count(mapped, "\n"))
			}
		}
	}
}

// TestTruncatedWhileMapped: a file truncated while it is read from its mapping ends the read with
// an error naming it; the process does not crash with SIGBUS.
func TestTruncatedWhileMapped(t *testing.T) {
	var b bytes.Buffer
	for i := 0; b.Len() < 32<<20; i++ {
		b.WriteString(`{"time":"2026-11-25T10:00:00Z","operationName":"MICROSOFT.X/Y/WRITE","resultType":"Success","correlationId":"c` + strconv.Itoa(i) + `","resourceId":"/subscriptions/s/resourceGroups/rg/providers/Microsoft.X/y/n` + strconv.Itoa(i) + `","padding":"` + strings.Repeat("p", 2000) + `"}` + "\n")
	}
	for _, workers := range []int{1, 4} {
		path := filepath.Join(t.TempDir(), "PT1H.json")
		if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		n := 0
		err := (&Reader{Files: hostfs.FS{}, Workers: workers}).Read(context.Background(), []string{path}, func(e *Event) error {
			if n++; n == 1 {
				if err := os.Truncate(path, 0); err != nil {
					t.Fatal(err)
				}
			}
			return nil
		})
		if err == nil || !strings.Contains(err.Error(), path+": the file could not be read from memory: it was truncated") {
			t.Fatalf("%d workers: %d events, error %v", workers, n, err)
		}
		if n > 15_000 {
			t.Errorf("%d workers: %d events read after the file was truncated", workers, n)
		}
	}
}

// TestBodyString: a request body reads alike as an object and as a string holding JSON, keys in
// any case, and again after a rule has read the body as text (topProperty keeps it unquoted).
func TestBodyString(t *testing.T) {
	const head = `{"time":"2026-11-01T00:00:00Z","operationName":"MICROSOFT.AUTHORIZATION/ROLEASSIGNMENTS/WRITE","resultType":"Start","correlationId":"c1","resourceId":"/subscriptions/s/providers/Microsoft.Authorization/roleAssignments/r1","properties":`
	for _, tc := range []struct{ name, props, want string }{
		{"string body", `{"requestbody":"{\"Properties\":{\"PrincipalId\":\"p-1\"}}"}`, "p-1"},
		{"object body", `{"requestBody":{"properties":{"principalId":"p-2"}}}`, "p-2"},
		{"escaped string", `{"requestbody":"{\"properties\":{\"principalId\":\"p\\u002d3\"}}"}`, "p-3"},
		{"padded string", `{"requestbody":" {\"properties\":{\"principalId\":\" p-4 \"}} "}`, "p-4"},
		{"no body", `{"responseBody":"{}"}`, ""},
		{"not JSON", `{"requestbody":"principalId p-5"}`, ""},
		{"no such member", `{"requestbody":"{\"properties\":{}}"}`, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := &Reader{Files: hostfs.FS{}, Stdin: strings.NewReader(head + tc.props + "}\n")}
			var got []*Event
			if err := r.Read(context.Background(), []string{"-"}, func(e *Event) error { got = append(got, e); return nil }); err != nil || len(got) != 1 {
				t.Fatalf("%d events, err %v, problems %v", len(got), err, r.Problems)
			}
			e := got[0]
			if s := e.BodyString("requestbody", "properties", "principalId"); s != tc.want {
				t.Errorf("before any rule: %q, want %q", s, tc.want)
			}
			text, _ := e.Field("properties.requestbody")
			if s := e.BodyString("requestbody", "properties", "principalId"); s != tc.want {
				t.Errorf("after the rule read %v: %q, want %q", text, s, tc.want)
			}
			if again, _ := e.Field("properties.requestbody"); fmt.Sprint(again) != fmt.Sprint(text) {
				t.Errorf("the body as text changed: %v, then %v", text, again)
			}
		})
	}
}

// TestTimeOnlyEventsAsPassedOn: a time-only event's memory is reused once fn returns, so the
// events the Reader holds to put a file in time order (the first ones of every file, and all of a
// newest-first file) must be its own copies. Read with and without Reader.TimeOnly, the events
// passed on have the same times, keys and sources, in the same order, whatever the file's order,
// the number of workers and whether the file is mapped or streamed.
func TestTimeOnlyEventsAsPassedOn(t *testing.T) {
	const n = 3000
	start := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	line := func(i int) string {
		op := "MICROSOFT.KEYVAULT/VAULTS/READ"
		if i%7 == 0 {
			op = "MICROSOFT.KEYVAULT/VAULTS/WRITE"
		}
		return fmt.Sprintf(`{"time":"%s","resourceId":"/SUBSCRIPTIONS/S/RESOURCEGROUPS/RG/PROVIDERS/MICROSOFT.KEYVAULT/VAULTS/KV%d","operationName":"%s","category":"Administrative","resultType":"Success","correlationId":"c-%d","identity":{"claims":{"name":"n%d"}},"properties":{"eventCategory":"Administrative"}}`,
			start.Add(time.Duration(i)*time.Second).Format(time.RFC3339Nano), i%50, op, i, i%5)
	}
	for _, order := range []string{"oldest first", "newest first"} {
		var b strings.Builder
		for i := 0; i < n; i++ {
			j := i
			if order == "newest first" {
				j = n - 1 - i
			}
			b.WriteString(line(j) + "\n")
		}
		path := filepath.Join(t.TempDir(), "PT1H.json")
		if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		for _, workers := range []int{1, 4} {
			for _, streamed := range []bool{false, true} {
				read := func(timeOnly bool) (seen []string, timeOnlyN int) {
					r := &Reader{Files: hostfs.FS{}, Workers: workers}
					if timeOnly {
						r.TimeOnly = func(op string) bool { return strings.HasSuffix(op, "/READ") }
					}
					fn := func(e *Event) error {
						if e.TimeOnly() {
							timeOnlyN++
						}
						seen = append(seen, fmt.Sprintf("%s %x %s", e.At.Format(time.RFC3339Nano), e.KeyHash(), e.Source()))
						return nil
					}
					var err error
					if streamed {
						err = r.ReadFrom(context.Background(), path, strings.NewReader(b.String()), fn)
					} else {
						err = r.Read(context.Background(), []string{path}, fn)
					}
					if err != nil || len(r.Problems) > 0 {
						t.Fatalf("%v %v", err, r.Problems)
					}
					return seen, timeOnlyN
				}
				want, _ := read(false)
				got, timeOnlyN := read(true)
				if timeOnlyN < n/2 {
					t.Fatalf("%s, %d workers, streamed %v: %d time-only events of %d", order, workers, streamed, timeOnlyN, n)
				}
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("%s, %d workers, streamed %v: time-only events differ (-whole +time-only):\n%s", order, workers, streamed, diff)
				}
			}
		}
	}
}

// prettyDocument is a pretty-printed REST list ({"value":[…]}, indented as az and the portal write
// it) of n distinct events.
func prettyDocument(t testing.TB, n int) []byte {
	var vals []map[string]any
	for i := 0; i < n; i++ {
		vals = append(vals, map[string]any{
			"eventTimestamp": time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Second).Format(time.RFC3339),
			"operationName":  map[string]string{"value": "Microsoft.Compute/virtualMachines/deallocate/action", "localizedValue": "Deallocate Virtual Machine"},
			"status":         map[string]string{"value": "Succeeded", "localizedValue": "Succeeded"},
			"caller":         "ops@contoso.example",
			"correlationId":  fmt.Sprintf("c-%d", i),
			"resourceId":     fmt.Sprintf("/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm%d", i),
			"properties":     map[string]string{"statusCode": "OK", "note": "a } and a { and a \" inside a string"},
		})
	}
	data, err := json.MarshalIndent(map[string]any{"value": vals}, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// A pretty-printed document is validated once, not once per line: the bytes given to validation
// stay within the document's size (they grew with the square of it: 1 MB took 3.4 s, 8 MB over
// 300 s). Brackets and quotes inside strings do not confuse the count.
func TestPrettyDocumentIsLinear(t *testing.T) {
	var validated int
	defer func(v func([]byte) bool) { validatePending = v }(validatePending)
	validatePending = func(b []byte) bool { validated += len(b); return jsonscan.Valid(b) }
	for _, n := range []int{10, 1000} {
		validated = 0
		data := prettyDocument(t, n)
		p := filepath.Join(t.TempDir(), "rest.json")
		os.WriteFile(p, data, 0o644)
		for _, how := range []string{"file", "stdin"} {
			validated = 0
			var evs []*Event
			r := &Reader{Files: hostfs.FS{}, Stdin: bytes.NewReader(data)}
			arg := p
			if how == "stdin" {
				arg = "-"
			}
			if err := r.Read(context.Background(), []string{arg}, func(e *Event) error { evs = append(evs, e); return nil }); err != nil {
				t.Fatal(err)
			}
			if len(evs) != n || r.Malformed != 0 {
				t.Errorf("%s, %d events: read %d, %d malformed %v", how, n, len(evs), r.Malformed, r.Problems)
			}
			if validated > len(data) {
				t.Errorf("%s, %d events (%d bytes): %d bytes validated", how, n, len(data), validated)
			}
		}
	}
}

// Every garbage line is counted, the first MaxProblems are kept with file:line.
func TestEveryMalformedLineCounted(t *testing.T) {
	good := `{"time":"2026-11-25T21:47:10Z","operationName":"MICROSOFT.AUTHORIZATION/LOCKS/DELETE","resultType":"Success","resourceId":"/subscriptions/s/providers/Microsoft.Authorization/locks/l","correlationId":"c1"}`
	var b strings.Builder
	b.WriteString(good + "\n")
	for i := 0; i < 5000; i++ {
		b.WriteString("this is not json " + strconv.Itoa(i) + "\n")
	}
	p := filepath.Join(t.TempDir(), "garbage.json")
	os.WriteFile(p, []byte(b.String()), 0o644)
	evs, r := readAll(t, p)
	if len(evs) != 1 || r.Malformed != 5000 || len(r.Problems) != MaxProblems || r.Problems[0].Source != p+":2" {
		t.Errorf("%d events, %d malformed, %d kept, first %v", len(evs), r.Malformed, len(r.Problems), r.Problems[:min(1, len(r.Problems))])
	}
}

func BenchmarkPrettyDocument(b *testing.B) {
	for _, n := range []int{2000, 8000} {
		data := prettyDocument(b, n)
		b.Run(fmt.Sprintf("%dKB", len(data)>>10), func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			for i := 0; i < b.N; i++ {
				r := &Reader{Files: hostfs.FS{}, Stdin: bytes.NewReader(data)}
				if err := r.Read(context.Background(), []string{"-"}, func(*Event) error { return nil }); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkGarbageLines reads one good line and a million garbage lines: every one is counted,
// 20 are kept, and the cost stays linear (it grew with the square of the garbage).
func BenchmarkGarbageLines(b *testing.B) {
	var buf bytes.Buffer
	buf.WriteString(`{"time":"2026-11-25T21:47:10Z","operationName":"MICROSOFT.AUTHORIZATION/LOCKS/DELETE","resultType":"Success","resourceId":"/subscriptions/s/providers/Microsoft.Authorization/locks/l","correlationId":"c1"}` + "\n")
	for i := 0; i < 1_000_000; i++ {
		fmt.Fprintf(&buf, "garbage line number %d here\n", i)
	}
	data := buf.Bytes()
	b.SetBytes(int64(len(data)))
	for i := 0; i < b.N; i++ {
		r := &Reader{Files: hostfs.FS{}, Stdin: bytes.NewReader(data)}
		if err := r.Read(context.Background(), []string{"-"}, func(*Event) error { return nil }); err != nil || r.Malformed != 1_000_000 || len(r.Problems) != MaxProblems {
			b.Fatalf("%v: %d malformed, %d kept", err, r.Malformed, len(r.Problems))
		}
	}
}

// TestAddProperty: a request body given to an event reads like one it carried, whether the
// properties were an object, a JSON string holding one (Log Analytics) or empty, and whether the
// rules had decoded them already; a body the event has is never replaced.
func TestAddProperty(t *testing.T) {
	const body = `"{\"properties\":{\"principalId\":\"p1\",\"roleDefinitionId\":\"/x/8e3af657\"}}"`
	for name, raw := range map[string]string{
		"object":         `{"statusCode":"Created"}`,
		"json string":    `"{\"statusCode\":\"Created\"}"`,
		"empty":          ``,
		"empty object":   `{ }`,
		"decoded before": `{"statusCode":"Created"}`,
	} {
		e := &Event{propertiesRaw: raw}
		if name == "decoded before" {
			e.Properties()
		}
		if !e.AddProperty("requestbody", body) {
			t.Fatalf("%s: not added", name)
		}
		if got := e.BodyString("requestbody", "properties", "principalId"); got != "p1" {
			t.Errorf("%s: principalId %q", name, got)
		}
		if v, ok := e.Field("properties.requestbody.properties.roleDefinitionId"); !ok || v != "/x/8e3af657" {
			t.Errorf("%s: roleDefinitionId %v %v", name, v, ok)
		}
		if e.AddProperty("requestBody", `"{}"`) {
			t.Errorf("%s: an existing body was replaced", name)
		}
	}
	if (&Event{propertiesRaw: `[1]`}).AddProperty("requestbody", `"{}"`) {
		t.Error("added to properties that are not an object")
	}
}
