package detect

import (
	"bytes"
	"context"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/bulwarkhq/bulwark/examples"
	"github.com/bulwarkhq/bulwark/internal/activity"
	"github.com/bulwarkhq/bulwark/internal/hostfs"
)

type stopAt struct {
	Collect
	after int
}

func (s *stopAt) Alert(a *Alert) error {
	if len(s.Result.Alerts) == s.after {
		return errors.New("enough")
	}
	return s.Collect.Alert(a)
}

// TestRunSources: the pipeline as a library gives the same results from a path, an embedded file
// and a stream; the handler's error stops it; the summary counts what was read.
func TestRunSources(t *testing.T) {
	const name = "activity/rest/activity-2026-11-25.json"
	data, err := os.ReadFile("../../examples/contoso/" + name)
	if err != nil {
		t.Fatal(err)
	}
	var want string
	for label, src := range map[string]activity.Source{
		"path":   activity.Paths{formats["rest"]},
		"fs":     activity.FSFile{FS: examples.FS, Name: examples.Root + "/" + name},
		"stream": activity.Stream{Name: "stdin", R: bytes.NewReader(data)},
		"stdin":  activity.Paths{"-"},
	} {
		c := &Collect{}
		sum, err := Run(context.Background(), src, builtin(t), RunOptions{Files: hostfs.FS{}, Stdin: bytes.NewReader(data)}, c)
		if err != nil {
			t.Fatalf("%s: %v", label, err)
		}
		if sum.Read != 109 || sum.Alerts != len(c.Result.Alerts) || sum.Incidents != 1 || c.Final != sum || len(sum.Inputs) != 1 {
			t.Errorf("%s: summary %+v", label, sum)
		}
		got := fingerprint(t, c.Result)
		if want == "" {
			want = got
		} else if got != want {
			t.Errorf("%s: results differ", label)
		}
	}
	h := &stopAt{after: 3}
	if _, err := Run(context.Background(), activity.Paths{formats["rest"]}, builtin(t), RunOptions{Files: hostfs.FS{}}, h); err == nil || err.Error() != "enough" || len(h.Result.Alerts) != 3 {
		t.Errorf("handler error: %v, %d alerts", err, len(h.Result.Alerts))
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Run(ctx, activity.Paths{formats["rest"]}, builtin(t), RunOptions{Files: hostfs.FS{}}, &Collect{}); !errors.Is(err, context.Canceled) {
		t.Errorf("a cancelled run: %v", err)
	}
}

// A rule set heavier than MaxRuleValues is refused, naming its heaviest rule.
func TestMaxRuleValues(t *testing.T) {
	opts := builtin(t)
	opts.MaxRuleValues = 10
	_, _, err := New(opts)
	if err == nil || !strings.Contains(err.Error(), "over the limit of 10 (limits.maxRuleValues") || !strings.Contains(err.Error(), "the heaviest, rules/") {
		t.Errorf("%v", err)
	}
	opts.MaxRuleValues = 0
	if _, _, err := New(opts); err != nil {
		t.Errorf("default: %v", err)
	}
}
