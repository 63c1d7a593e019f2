package respond_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// cacaoSchema compiles the OASIS CACAO 2.0 JSON schemas from ../shared/reference/cacao/schemas,
// or skips when the reference folder is absent.
func cacaoSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	dir := filepath.Join("..", "..", "..", "shared", "reference", "cacao", "schemas")
	if _, err := os.Stat(filepath.Join(dir, "playbook.json")); err != nil {
		t.Skipf("CACAO schemas not present (%v)", err)
	}
	c := jsonschema.NewCompiler()
	root := ""
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".json") {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
		if err != nil {
			return err
		}
		id, _ := doc.(map[string]any)["$id"].(string)
		if id == "" {
			t.Fatalf("%s has no $id", p)
		}
		if strings.HasSuffix(p, string(filepath.Separator)+"playbook.json") && filepath.Dir(p) == dir {
			root = id
		}
		return c.AddResource(id, doc)
	})
	if err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile(root)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// validateCACAO checks a rendered playbook against the schema, after a JSON round trip (the
// schema sees what a SOAR tool would read).
func validateCACAO(t *testing.T, s *jsonschema.Schema, name string, doc map[string]any) {
	t.Helper()
	if err := validateErr(s, doc); err != nil {
		t.Errorf("%s: CACAO playbook does not validate: %v", name, err)
	}
}

func validateErr(s *jsonschema.Schema, doc map[string]any) error {
	data, err := json.Marshal(doc)
	if err != nil {
		return err
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		return err
	}
	return s.Validate(inst)
}
