package sigma

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var updateBad = flag.Bool("update-bad", false, "rewrite testdata/*.bad.err from the parser's messages")

// TestBadRules: each testdata/*.bad.yaml is refused with the file:line:column message its .bad.err
// pins (go test ./sigma -run TestBadRules -update-bad rewrites them).
func TestBadRules(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.bad.yaml"))
	if len(files) < 5 {
		t.Fatalf("only %d bad rules", len(files))
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		rules, errs := ParseRules(f, data)
		if len(errs) == 0 {
			// Some mistakes are found when the rule is compiled or its correlation checked.
			_, errs = NewRuleSet(rules, Options{})
		}
		got := strings.TrimSpace(errs.Error())
		want := strings.TrimSuffix(f, ".yaml") + ".err"
		if *updateBad {
			os.WriteFile(want, []byte(got+"\n"), 0o644)
			continue
		}
		w, err := os.ReadFile(want)
		if err != nil {
			t.Fatalf("%v (run with -update-bad)", err)
		}
		if got == "" || got != strings.TrimSpace(string(w)) {
			t.Errorf("%s:\n got: %s\nwant: %s", f, got, w)
		}
		if !strings.HasPrefix(got, f+":") {
			t.Errorf("%s: the message does not start with the file and position: %s", f, got)
		}
	}
}
