package detect

import (
	"context"
	"testing"

	"github.com/bulwarkhq/bulwark/internal/activity"
)

func runDetect(t testing.TB, opts Options, paths ...string) Result {
	t.Helper()
	if opts.Rules == nil {
		rs, errs := LoadRules(true)
		if len(errs) > 0 {
			t.Fatal(errs)
		}
		opts.Rules = rs
	}
	d, errs, err := New(opts)
	if err != nil || len(errs) > 0 {
		t.Fatal(err, errs)
	}
	r := &activity.Reader{}
	if err := r.Read(context.Background(), paths, func(e *activity.Event) error { d.Process(e); return nil }); err != nil {
		t.Fatal(err)
	}
	return d.Finish()
}
