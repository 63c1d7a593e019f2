package yamlmsg

import (
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// The decoder's Go terms become the file's: unknown keys by name, wrong kinds by what was expected
// and what was written. (config.Config, []apps.App and !!int used to reach users.)
func TestExplain(t *testing.T) {
	type inner struct {
		Owner string `yaml:"owner"`
	}
	var v struct {
		Apps  []inner  `yaml:"apps"`
		Names []string `yaml:"names"`
		On    bool     `yaml:"on"`
	}
	dec := yaml.NewDecoder(strings.NewReader("apps:\n  - owner: [a, b]\n    ownr: x\nnames: 5\non: maybe\nextra: 1\n"))
	dec.KnownFields(true)
	err := Explain(dec.Decode(&v), map[string]string{"[]yamlmsg.inner": "a list of applications"}, "")
	want := `line 2: a text value is expected here, not a list; line 3: unknown setting "ownr"; line 4: a list of text values is expected here, not the number 5; line 5: true or false is expected here, not the text "maybe"; line 6: unknown setting "extra"`
	if err == nil || err.Error() != want {
		t.Errorf("got  %v\nwant %s", err, want)
	}
}
