package collect

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/bulwarkhq/bulwark/internal/arm"
	"github.com/bulwarkhq/bulwark/internal/assess"
	"github.com/bulwarkhq/bulwark/internal/demoestate"
	"github.com/bulwarkhq/bulwark/internal/snapshot"
)

func decode(t *testing.T, raw []byte) any {
	t.Helper()
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatal(err)
	}
	return v
}

// Collecting the Contoso demo estate from fakes that serve it gives the same objects, with the
// same content, as the embedded snapshot — and the same assessment.
func TestCollectContoso(t *testing.T) {
	env, res, err := demoestate.Load(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	f := newFakeAzure(res.Snapshot.Resources)
	f.pageSize = 7 // several pages everywhere
	// The embedded estate records that stplatformiac01's blob service settings could not be read
	// (throttled): the fake keeps throttling that call.
	f.fault("/subscriptions/11111111-1111-4111-8111-111111111111/resourceGroups/rg-platform/providers/Microsoft.Storage/storageAccounts/stplatformiac01/blobServices/default",
		fault{status: http.StatusTooManyRequests, header: http.Header{"Retry-After-Ms": {"1"}}, body: `{"error":{"code":"TooManyRequests"}}`})
	got, err := Collect(context.Background(), f.options())
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]*arm.Object{}
	for _, o := range res.Snapshot.Resources {
		want[o.ID.Key()] = o
	}
	seen := map[string]bool{}
	for _, o := range got.Snapshot.Resources {
		w, ok := want[o.ID.Key()]
		if !ok {
			t.Errorf("collected %s, which the estate does not hold", o.ID)
			continue
		}
		seen[o.ID.Key()] = true
		if !reflect.DeepEqual(decode(t, w.Raw), decode(t, o.Raw)) {
			t.Errorf("%s differs from the embedded object", o.ID)
		}
	}
	for k, o := range want {
		if !seen[k] {
			t.Errorf("not collected: %s (%s)", o.ID, o.Type())
		}
	}
	if len(got.Snapshot.Errors) != 1 || !strings.Contains(got.Snapshot.Errors[0].Operation, "blobServices") || !strings.Contains(got.Snapshot.Errors[0].Message, "429") {
		t.Errorf("errors: %+v", got.Snapshot.Errors)
	}
	if got.Snapshot.TenantID == "" {
		t.Error("no tenant ID")
	}
	// The same assessment from the collected snapshot as from the files.
	env2 := assess.NewEnv(assess.Inputs{Snapshot: got.Snapshot, Config: env.Config, Apps: env.Apps, IaC: env.IaC})
	a, b := assess.Run(env, assess.Checks()), assess.Run(env2, assess.Checks())
	key := func(r *assess.Report) []string {
		var out []string
		for _, x := range r.Results {
			out = append(out, fmt.Sprintf("%s %s %s", x.CheckID, x.Resource, x.Status))
		}
		sort.Strings(out)
		return out
	}
	if d := cmp.Diff(key(a), key(b)); d != "" {
		t.Errorf("assessment of the collected snapshot differs (-files +collected):\n%s", d)
	}
	// Written and read back, the snapshot loads cleanly.
	data, _ := json.Marshal(got.Snapshot)
	if d, err := snapshot.Decode(snapshot.File{Name: "collected.json", Data: data}); err != nil || len(d.Objects) != len(got.Snapshot.Resources) {
		t.Errorf("the collected snapshot does not load whole: %v", err)
	}
}
