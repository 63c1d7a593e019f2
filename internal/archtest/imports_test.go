// Package archtest holds tests about the shape of the code base rather than its behaviour.
package archtest

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"

	"strconv"
	"strings"
	"testing"
)

const module = "github.com/bulwarkhq/bulwark/"

// sensitive are the imports the table below rations: I/O, the network, processes and the Azure SDK.
func sensitive(path string) bool {
	switch path {
	case "os", "os/exec", "net", "net/http", "io/ioutil", "syscall", "golang.org/x/sys/unix":
		return true
	}
	return strings.HasPrefix(path, "github.com/Azure/azure-sdk-for-go/")
}

// allowed is, per package of the module, the sensitive packages it may import itself, and why.
// A package not listed may import none. Azure SDK entries are prefixes.
var allowed = map[string]struct {
	imports []string
	why     string
}{
	"cmd/bulwark":       {[]string{"os", "syscall"}, "main: arguments, standard streams, exit code; SIGTERM stops watch cleanly"},
	"internal/cli":      {[]string{"os", "net", "net/http", "github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"}, "files named on the command line; --cloud names an SDK cloud configuration; watch --listen serves /metrics"},
	"internal/hostfs":   {[]string{"os", "golang.org/x/sys/unix"}, "the host's files as an fs.FS for the Activity Log reader, memory-mapped"},
	"internal/load":     {[]string{"os"}, "reads bulwark.yaml, apps.yaml, IaC and rule files named on the command line"},
	"internal/snapshot": {[]string{"os"}, "reads snapshot files and folders"},
	"internal/journal":  {[]string{"os", "syscall"}, "the journal file and its exclusive lock"},
	"internal/armclient": {[]string{"net/http", "github.com/Azure/azure-sdk-for-go/sdk/azcore"},
		"raw ARM reads through azcore's pipeline"},
	"internal/azsdk": {[]string{"net/http", "github.com/Azure/azure-sdk-for-go/sdk/azcore", "github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/"},
		"every write, through the SDK's typed clients"},
	"internal/collect": {[]string{"net/http", "github.com/Azure/azure-sdk-for-go/sdk/azcore", "github.com/Azure/azure-sdk-for-go/sdk/azidentity", "github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/resourcegraph/"},
		"live reads: credentials, Resource Graph"},
	"internal/collect/collecttest": {[]string{"net/http", "github.com/Azure/azure-sdk-for-go/sdk/"}, "the fake Azure the tests share: the SDK's fake servers"},
	"internal/harden/apply":        {[]string{"net/http"}, "status codes of the writes the applier makes through azsdk"},
	"internal/locks":               {[]string{"net/http"}, "status codes of lock writes made through azsdk"},
	"internal/sink":                {[]string{"net/http"}, "delivery of alerts and incidents: webhook POSTs (and Kafka through franz-go)"},
	"internal/atomicfile":          {[]string{"os"}, "files written whole or not at all (snapshots, rule exports, watch's checkpoints)"},
	"internal/watch":               {[]string{"os", "net/http"}, "watch's checkpoints and delivered log in --state, --dir's blobs, the /metrics handler"},
}

// evaluation packages decide from what they are given: they may reach (through the module's own
// packages) no package that talks to Azure, writes the journal or runs the CLI.
var evaluation = []string{"internal/arm", "internal/assess", "internal/graph", "internal/rbac", "internal/jsonscan", "internal/report",
	"internal/respond", "internal/incident", "internal/detect", "internal/textsafe", "internal/recovery", "sigma",
	"internal/activity", "internal/config", "internal/apps", "internal/iac", "internal/harden", "internal/sentinel"}

var outward = []string{"internal/armclient", "internal/azsdk", "internal/collect", "internal/journal", "internal/cli", "internal/locks", "internal/harden/apply", "internal/watch", "internal/sink"}

// imports returns the non-test imports of every package of the module, by path relative to it.
func imports(t *testing.T) map[string][]string {
	t.Helper()
	root := filepath.Join("..", "..")
	out := map[string][]string{}
	err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata" || d.Name() == "node_modules") && p != root {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(token.NewFileSet(), p, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, filepath.Dir(p))
		pkg := filepath.ToSlash(rel)
		if _, ok := out[pkg]; !ok {
			out[pkg] = nil
		}
		for _, imp := range f.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			out[pkg] = append(out[pkg], path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestImportTable: every package imports only the sensitive packages the table allows it.
func TestImportTable(t *testing.T) {
	all := imports(t)
	if len(all) < 20 {
		t.Fatalf("only %d packages found", len(all))
	}
	for pkg, imps := range all {
		for _, imp := range imps {
			if !sensitive(imp) {
				continue
			}
			ok := false
			for _, a := range allowed[pkg].imports {
				ok = ok || imp == a || (strings.HasSuffix(a, "/") && strings.HasPrefix(imp, a)) || strings.HasPrefix(imp, a+"/")
			}
			if !ok {
				t.Errorf("%s imports %s, which the table in internal/archtest does not allow it (add it there with the reason, or move the code)", pkg, imp)
			}
		}
	}
	for pkg := range allowed {
		if _, ok := all[pkg]; !ok {
			t.Errorf("the table names %s, which is not a package", pkg)
		}
	}
}

// TestEvaluationReachesNoOutwardPackage: following the module's own imports transitively, no
// evaluation package reaches one that talks to Azure, writes the journal or is the CLI.
func TestEvaluationReachesNoOutwardPackage(t *testing.T) {
	all := imports(t)
	bad := map[string]bool{}
	for _, o := range outward {
		bad[o] = true
	}
	for _, start := range evaluation {
		if _, ok := all[start]; !ok {
			t.Errorf("%s: not a package", start)
			continue
		}
		// Breadth-first, remembering how each package was reached.
		via := map[string]string{start: ""}
		queue := []string{start}
		for len(queue) > 0 {
			p := queue[0]
			queue = queue[1:]
			for _, imp := range all[p] {
				if !strings.HasPrefix(imp, module) {
					continue
				}
				q := strings.TrimPrefix(imp, module)
				if _, seen := via[q]; seen {
					continue
				}
				via[q] = p
				if bad[q] {
					chain := []string{q}
					for x := p; x != ""; x = via[x] {
						chain = append(chain, x)
					}
					t.Errorf("%s reaches %s: %s", start, q, strings.Join(reverse(chain), " → "))
				}
				queue = append(queue, q)
			}
		}
	}
}

// TestEvaluationReachesNoIO: following the module's own imports transitively, no evaluation
// package reaches a package that imports a sensitive one (os, the network, the SDK): they decide
// from values and readers they are given, so they run the same on files, stdin, the embedded demo
// and a stream. Files reach them through internal/load and internal/hostfs, which only the CLI
// (and tests) import.
func TestEvaluationReachesNoIO(t *testing.T) {
	all := imports(t)
	io := map[string]string{}
	for pkg, imps := range all {
		for _, imp := range imps {
			if sensitive(imp) {
				io[pkg] = imp
			}
		}
	}
	for _, start := range evaluation {
		via := map[string]string{start: ""}
		queue := []string{start}
		for len(queue) > 0 {
			p := queue[0]
			queue = queue[1:]
			if imp, ok := io[p]; ok {
				chain := []string{imp}
				for x := p; x != ""; x = via[x] {
					chain = append(chain, x)
				}
				t.Errorf("%s reaches %s: %s", start, imp, strings.Join(reverse(chain), " → "))
				continue
			}
			for _, imp := range all[p] {
				if q := strings.TrimPrefix(imp, module); q != imp {
					if _, seen := via[q]; !seen {
						via[q] = p
						queue = append(queue, q)
					}
				}
			}
		}
	}
}

func reverse(s []string) []string {
	out := make([]string, len(s))
	for i, x := range s {
		out[len(s)-1-i] = x
	}
	return out
}

// TestDetectDoesNotImportAssess: detect reads recovery paths from internal/recovery, not from the
// checks' package (and respond reads incidents from internal/incident, not from detect).
func TestDetectDoesNotImportAssess(t *testing.T) {
	all := imports(t)
	for pkg, banned := range map[string]string{"internal/detect": "internal/assess", "internal/respond": "internal/detect"} {
		for _, imp := range all[pkg] {
			if imp == module+banned {
				t.Errorf("%s imports %s", pkg, banned)
			}
		}
	}
}
