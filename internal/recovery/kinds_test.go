package recovery_test

import (
	"context"
	"slices"
	"testing"

	"github.com/bulwarkhq/bulwark/internal/demoestate"
	"github.com/bulwarkhq/bulwark/internal/recovery"
)

// Paths gives a resource only the kinds KindsFor declares for its type (the table respond's
// recipes are checked against), on the demo estate, which has a path of most kinds.
func TestPathsKeepToTheirKinds(t *testing.T) {
	env, _, err := demoestate.Load(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]bool{}
	for _, o := range env.Snapshot.Resources {
		for _, p := range env.RecoveryPaths(o) {
			kinds[p.Kind] = true
			if !slices.Contains(recovery.KindsFor(o.Type()), p.Kind) {
				t.Errorf("%s (%s) has a %q path, which KindsFor does not list for its type", o.ID, o.Type(), p.Kind)
			}
		}
	}
	if len(kinds) < 8 {
		t.Errorf("the demo estate shows %d kinds of path (%v): too few for this test to mean much", len(kinds), kinds)
	}
}
