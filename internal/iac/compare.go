package iac

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/bulwarkhq/bulwark/internal/arm"
)

// Diff is one difference between a declaration and the live resource.
type Diff struct {
	Path     string
	Declared string
	Live     string
}

// Compare lists what a redeploy from decl would not restore of live: address spaces and subnets
// (VNets), security rules (NSGs) and backend pools (load balancers). compared is false when the
// type has nothing Bulwark compares or the declaration carries no properties.
func Compare(decl *Resource, live *arm.Object) (diffs []Diff, compared bool) {
	if decl.Properties == nil {
		return nil, false
	}
	raw, _ := json.Marshal(map[string]any{"id": live.ID.String(), "type": decl.Type, "properties": decl.Properties})
	d, err := arm.NewObject(raw, arm.Source{File: decl.Source})
	if err != nil {
		return nil, false
	}
	switch strings.ToLower(arm.CanonicalType(live.Type())) {
	case "microsoft.network/virtualnetworks":
		diffs = append(diffs, set("properties.addressSpace.addressPrefixes", strList(d.Get("properties.addressSpace.addressPrefixes")), strList(live.Get("properties.addressSpace.addressPrefixes")))...)
		diffs = append(diffs, named("properties.subnets", d, live, "properties.addressPrefix")...)
		return diffs, true
	case "microsoft.network/networksecuritygroups":
		return named("properties.securityRules", d, live, "properties.priority", "properties.direction", "properties.access", "properties.protocol",
			"properties.sourceAddressPrefix", "properties.destinationAddressPrefix", "properties.destinationPortRange"), true
	case "microsoft.network/loadbalancers":
		return named("properties.backendAddressPools", d, live), true
	}
	return nil, false
}

func strList(v arm.Value) []string {
	var out []string
	for _, e := range v.List() {
		if s, ok := e.String(); ok {
			out = append(out, s)
		}
	}
	sort.Strings(out)
	return out
}

func set(path string, declared, live []string) []Diff {
	if strings.Join(declared, ",") == strings.Join(live, ",") {
		return nil
	}
	return []Diff{{Path: path, Declared: "[" + strings.Join(declared, ", ") + "]", Live: "[" + strings.Join(live, ", ") + "]"}}
}

// named compares two lists of named elements by name, and the given fields of each.
func named(path string, decl, live *arm.Object, fields ...string) []Diff {
	index := func(o *arm.Object) map[string]arm.Value {
		m := map[string]arm.Value{}
		for _, e := range o.Get(path).List() {
			if n, ok := e.Get("name").String(); ok {
				m[strings.ToLower(n)] = e
			}
		}
		return m
	}
	dm, lm := index(decl), index(live)
	var out []Diff
	for _, n := range sortedNames(lm) {
		if _, ok := dm[n]; !ok {
			out = append(out, Diff{Path: path + "[" + n + "]", Declared: "absent", Live: "present"})
		}
	}
	for _, n := range sortedNames(dm) {
		lv, ok := lm[n]
		if !ok {
			out = append(out, Diff{Path: path + "[" + n + "]", Declared: "present", Live: "absent"})
			continue
		}
		for _, f := range fields {
			a, b := dm[n].Get(f), lv.Get(f)
			if !a.Exists() {
				continue // not declared: the template leaves it to defaults
			}
			if norm(a) != norm(b) {
				out = append(out, Diff{Path: path + "[" + n + "]." + f, Declared: a.Display(), Live: b.Display()})
			}
		}
	}
	return out
}

func norm(v arm.Value) string { return strings.ToLower(fmt.Sprint(v.Interface())) }

func sortedNames(m map[string]arm.Value) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
