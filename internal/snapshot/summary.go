package snapshot

import (
	"sort"
	"strings"

	"github.com/bulwarkhq/bulwark/internal/arm"
)

// Summary counts what an estate holds, by component, type, subscription and source file.
type Summary struct {
	Objects       int                `json:"objects"`
	Subscriptions []SubscriptionInfo `json:"subscriptions"`
	Components    []ComponentCount   `json:"components"`
	Types         []TypeCount        `json:"types"`
	Errors        []arm.CollectError `json:"errors"`
}

// SubscriptionInfo is one subscription seen in the estate.
type SubscriptionInfo struct {
	ID          string `json:"id"`
	DisplayName string `json:"displayName,omitempty"`
	Objects     int    `json:"objects"`
}

// ComponentCount counts the resources of one component of the guidance's reference architecture
// (A–E), or of the management plane (locks, roles, settings) when ID is empty.
type ComponentCount struct {
	ID        arm.Component `json:"id"`
	Title     string        `json:"title"`
	Resources int           `json:"resources"` // top-level resources
	Children  int           `json:"children"`  // child objects and settings (blobServices/default, databases, protected items…)
	Types     []TypeCount   `json:"types"`     // top-level types, most frequent first
}

// TypeCount counts objects of one type.
type TypeCount struct {
	Type      string        `json:"type"`
	Component arm.Component `json:"component"`
	Count     int           `json:"count"`
}

// Summarize counts the snapshot's objects.
func Summarize(s *arm.Snapshot) Summary {
	sum := Summary{Objects: len(s.Resources), Errors: s.Errors}
	typeCount := map[string]*TypeCount{}
	subs := map[string]*SubscriptionInfo{}
	comps := map[arm.Component]*ComponentCount{}
	compTypes := map[arm.Component]map[string]*TypeCount{}
	for _, c := range append(append([]arm.Component(nil), arm.Components...), arm.ComponentNone) {
		comps[c] = &ComponentCount{ID: c, Title: c.Title()}
		compTypes[c] = map[string]*TypeCount{}
	}
	for _, o := range s.Resources {
		tk := strings.ToLower(o.Type())
		c := arm.ComponentOf(o.Type())
		if typeCount[tk] == nil {
			typeCount[tk] = &TypeCount{Type: o.Type(), Component: c}
		}
		typeCount[tk].Count++
		typeCount[tk].Type = betterSpelling(typeCount[tk].Type, o.Type())

		if sub := o.ID.SubscriptionID(); sub != "" {
			k := strings.ToLower(sub)
			if subs[k] == nil {
				subs[k] = &SubscriptionInfo{ID: sub}
			}
			subs[k].Objects++
			if o.IsType("Microsoft.Resources/subscriptions") {
				subs[k].DisplayName = subscriptionName(o)
			}
		}

		cc := comps[c]
		if isTopLevel(o) {
			cc.Resources++
			if compTypes[c][tk] == nil {
				compTypes[c][tk] = &TypeCount{Type: o.Type(), Component: c}
			}
			compTypes[c][tk].Count++
			compTypes[c][tk].Type = betterSpelling(compTypes[c][tk].Type, o.Type())
		} else {
			cc.Children++
		}
	}
	for _, t := range typeCount {
		sum.Types = append(sum.Types, *t)
	}
	sortTypes(sum.Types)
	for _, s := range subs {
		sum.Subscriptions = append(sum.Subscriptions, *s)
	}
	sort.Slice(sum.Subscriptions, func(i, j int) bool { return sum.Subscriptions[i].ID < sum.Subscriptions[j].ID })
	for _, c := range append(append([]arm.Component(nil), arm.Components...), arm.ComponentNone) {
		cc := comps[c]
		for _, t := range compTypes[c] {
			cc.Types = append(cc.Types, *t)
		}
		sortTypes(cc.Types)
		sum.Components = append(sum.Components, *cc)
	}
	return sum
}

// isTopLevel reports whether o is a resource in its own right rather than a child setting or an
// extension: its type has exactly one segment after the namespace and it is attached to no resource.
func isTopLevel(o *arm.Object) bool {
	if o.ID.IsExtension() {
		return false
	}
	return strings.Count(o.Type(), "/") == 1
}

func sortTypes(ts []TypeCount) {
	sort.Slice(ts, func(i, j int) bool {
		if ts[i].Count != ts[j].Count {
			return ts[i].Count > ts[j].Count
		}
		return strings.ToLower(ts[i].Type) < strings.ToLower(ts[j].Type)
	})
}

// subscriptionName reads a subscription's display name: "displayName" in ARM's GET response,
// "name" in Resource Graph's resourcecontainers rows (where the GUID is in "subscriptionId").
func subscriptionName(o *arm.Object) string {
	if n, ok := o.Get("displayName").String(); ok && n != "" {
		return n
	}
	if n, ok := o.Get("name").String(); ok && !strings.EqualFold(n, o.ID.SubscriptionID()) {
		return n
	}
	return ""
}

// betterSpelling prefers the documented spelling of a type, then any camel-case spelling, over the
// lower-case one that Resource Graph returns, so reports read "Microsoft.Compute/virtualMachines".
func betterSpelling(have, seen string) string {
	if c := arm.CanonicalType(seen); c != seen {
		return c
	}
	if have == strings.ToLower(have) && seen != strings.ToLower(seen) {
		return seen
	}
	return have
}
