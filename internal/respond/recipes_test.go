package respond

import (
	"slices"
	"testing"

	"github.com/bulwarkhq/bulwark/internal/recovery"
)

// The recipe table and the recovery model agree: every path kind recovery can show for a type is
// restored from by that type's recipe or ignored with a reason, and no recipe claims a kind
// recovery never gives its types.
func TestRecipesCoverRecoveryKinds(t *testing.T) {
	seen := map[string]string{}
	for _, r := range append(slices.Clone(recipes), genericRecipe) {
		for _, typ := range r.Types {
			if other, dup := seen[typ]; dup {
				t.Errorf("%s has two recipes: %s and %s", typ, other, r.Name)
			}
			seen[typ] = r.Name
		}
		for k, why := range r.Ignores {
			if why == "" || slices.Contains(r.Kinds, k) || !slices.Contains(recovery.Kinds, k) {
				t.Errorf("%s ignores %q: with no reason, a kind it restores from, or not a kind", r.Name, k)
			}
		}
		for _, k := range r.Kinds {
			claimed := r.Types == nil && slices.Contains(recovery.AnyKinds, k)
			for _, typ := range r.Types {
				claimed = claimed || slices.Contains(recovery.KindsFor(typ), k)
			}
			if !claimed {
				t.Errorf("%s restores from %q, which recovery gives none of its types %v", r.Name, k, r.Types)
			}
		}
	}
	types := recovery.Types()
	for _, r := range recipes {
		types = append(types, r.Types...)
	}
	for _, typ := range types {
		r := recipeFor(typ)
		for _, k := range recovery.KindsFor(typ) {
			if _, ignored := r.Ignores[k]; !ignored && !slices.Contains(r.Kinds, k) {
				t.Errorf("%s: recovery can show a %q path; its recipe (%s) neither restores from it nor says why not", typ, k, r.Name)
			}
		}
	}
}
