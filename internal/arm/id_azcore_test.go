package arm

import (
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	azarm "github.com/Azure/azure-sdk-for-go/sdk/azcore/arm"
)

// idPattern finds ARM IDs quoted in JSON, YAML and Go files.
var idPattern = regexp.MustCompile(`(?i)["'](/?(?:subscriptions|providers)/[^"'\s]*)["']`)

// corpusIDs collects every ARM ID quoted in the repository's fixtures and, when present, in the
// reference data (the REST API specifications' examples, Activity Log samples).
func corpusIDs(t *testing.T) []string {
	seen := map[string]bool{}
	var out []string
	for _, root := range []string{"../..", "../../../shared/reference"} {
		filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() && (d.Name() == ".git" || d.Name() == "node_modules") {
				if d != nil && d.IsDir() {
					return filepath.SkipDir
				}
				return nil
			}
			switch filepath.Ext(path) {
			case ".json", ".jsonl", ".yaml", ".yml", ".go", ".csv":
			default:
				return nil
			}
			b, err := os.ReadFile(path)
			if err != nil || len(b) > 64<<20 {
				return nil
			}
			for _, m := range idPattern.FindAllStringSubmatch(string(b), -1) {
				if id := strings.ReplaceAll(m[1], `\/`, "/"); !seen[id] {
					seen[id] = true
					out = append(out, id)
				}
			}
			return nil
		})
	}
	return out
}

// generatedIDs are random paths over the words the grammar turns on, with odd spacing, doubled and
// trailing slashes and mixed case: the corners a fixture does not reach.
func generatedIDs(n int) []string {
	words := []string{"subscriptions", "Subscriptions", "resourceGroups", "resourcegroups", "providers", "PROVIDERS", "locations",
		"Microsoft.Compute", "virtualMachines", "vm1", "Microsoft.Authorization", "locks", "l1", "Microsoft.Management", "managementGroups",
		"mg", "11111111-1111-4111-8111-111111111111", "rg", " rg ", "", "Microsoft.Resources", "subscriptions", "Microsoft.Subscription",
		"AzureResourceManager", "diagnosticSettings", "extensions"}
	rng := rand.New(rand.NewPCG(7, 8))
	out := make([]string, 0, n)
	for range n {
		var b strings.Builder
		if rng.IntN(10) > 0 {
			b.WriteByte('/')
		}
		for k := range 1 + rng.IntN(10) {
			if k > 0 {
				b.WriteByte('/')
			}
			b.WriteString(words[rng.IntN(len(words))])
		}
		if rng.IntN(8) == 0 {
			b.WriteByte('/')
		}
		out = append(out, b.String())
	}
	return out
}

// TestParseIDAgreesWithAzcore checks Bulwark's ID parser against azcore's arm.ParseResourceID, which
// it replaced: the same IDs are accepted, with the same type, name, subscription, resource group
// and chain of parents (the parents' keys are azcore's parent strings lower-cased).
func TestParseIDAgreesWithAzcore(t *testing.T) {
	corpus := corpusIDs(t)
	if len(corpus) < 50 {
		t.Fatalf("only %d IDs found in the fixtures", len(corpus))
	}
	ids := append(corpus, generatedIDs(20000)...)
	accepted := 0
	for _, s := range ids {
		ours, err := ParseID(s)
		trimmed := strings.TrimSuffix(strings.TrimSpace(s), "/")
		if needsSlash(trimmed) {
			trimmed = "/" + trimmed
		}
		theirs, theirErr := azarm.ParseResourceID(canonical(trimmed))
		if theirErr == nil && theirs.ResourceType.Type == "" && theirs.Name == "" {
			theirErr = os.ErrInvalid // the tenant root, which ParseID refused before as now
		}
		if (err == nil) != (theirErr == nil) {
			t.Errorf("%q: ours %v, azcore %v", s, err, theirErr)
			continue
		}
		if err != nil {
			continue
		}
		accepted++
		for level := 0; ; level++ {
			if got, want := ours.Type(), theirs.ResourceType.String(); got != want {
				t.Errorf("%q level %d: type %q, azcore %q", s, level, got, want)
			}
			if ours.Name() != theirs.Name || ours.SubscriptionID() != theirs.SubscriptionID || ours.ResourceGroup() != theirs.ResourceGroupName ||
				ours.Namespace() != theirs.ResourceType.Namespace {
				t.Errorf("%q level %d: name/subscription/group/namespace %q %q %q %q, azcore %q %q %q %q", s, level, ours.Name(), ours.SubscriptionID(),
					ours.ResourceGroup(), ours.Namespace(), theirs.Name, theirs.SubscriptionID, theirs.ResourceGroupName, theirs.ResourceType.Namespace)
			}
			if level > 0 && ours.Key() != strings.ToLower(theirs.String()) {
				t.Errorf("%q level %d: key %q, azcore %q", s, level, ours.Key(), theirs.String())
			}
			p, ok := ours.Parent()
			tp := theirs.Parent
			theirsOK := tp != nil && tp.ResourceType.Type != "" && !(tp.Name == "" && tp.ResourceType.String() == "Microsoft.Resources/tenants")
			if ok != theirsOK {
				t.Errorf("%q level %d: has parent %v, azcore %v", s, level, ok, theirsOK)
			}
			wantExt := false // IsExtension as it was written over azcore's parent
			if theirsOK {
				switch strings.ToLower(tp.ResourceType.String()) {
				case "microsoft.resources/subscriptions", "microsoft.resources/resourcegroups", "microsoft.management/managementgroups":
					wantExt = extensionTypes[strings.ToLower(theirs.ResourceType.String())]
				default:
					wantExt = !strings.EqualFold(tp.ResourceType.Namespace, theirs.ResourceType.Namespace)
				}
			}
			if ours.IsExtension() != wantExt {
				t.Errorf("%q level %d: extension %v, want %v", s, level, ours.IsExtension(), wantExt)
			}
			if !ok || !theirsOK {
				break
			}
			ours, theirs = p, tp
		}
	}
	t.Logf("%d IDs from fixtures, %d generated; %d accepted", len(corpus), len(ids)-len(corpus), accepted)
	if accepted < len(corpus)/2 {
		t.Errorf("only %d IDs accepted", accepted)
	}
}
