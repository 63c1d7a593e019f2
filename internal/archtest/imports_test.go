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

// Evaluation code works on the snapshot only: no I/O, no network, no Azure SDK clients. Loading
// (snapshot, apps, config, iac) and the CLI may do I/O; only internal/collect may import SDK clients.
func TestEvaluationPackagesDoNoIO(t *testing.T) {
	pure := []string{"arm", "assess", "graph", "rbac", "jsonscan", "report", "respond"}
	forbidden := []string{"os", "os/exec", "net", "net/http", "io/ioutil", "github.com/Azure/azure-sdk-for-go/sdk/resourcemanager", "github.com/Azure/azure-sdk-for-go/sdk/azidentity"}
	for _, pkg := range pure {
		dir := filepath.Join("..", pkg)
		entries, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		checked := 0
		for _, e := range entries {
			if !strings.HasSuffix(e.Name(), ".go") || strings.HasSuffix(e.Name(), "_test.go") {
				continue
			}
			f, err := parser.ParseFile(token.NewFileSet(), filepath.Join(dir, e.Name()), nil, parser.ImportsOnly)
			if err != nil {
				t.Fatal(err)
			}
			checked++
			for _, imp := range f.Imports {
				path, _ := strconv.Unquote(imp.Path.Value)
				for _, bad := range forbidden {
					if path == bad || strings.HasPrefix(path, bad+"/") {
						t.Errorf("internal/%s/%s imports %s: evaluation code must not do I/O or call Azure", pkg, e.Name(), path)
					}
				}
			}
		}
		if checked == 0 {
			t.Errorf("internal/%s: no files checked", pkg)
		}
	}
}
