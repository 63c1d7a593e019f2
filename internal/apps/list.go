package apps

import (
	"sort"

	"github.com/bulwarkhq/bulwark/internal/arm"
	"github.com/bulwarkhq/bulwark/internal/config"
)

// Listed is one resource in an application inventory.
type Listed struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	Type      string `json:"type"`
	Component string `json:"component"`
	How       How    `json:"mappedBy,omitempty"`
}

// Listing is one application with its resources by component and its dependencies.
type Listing struct {
	Name       string              `json:"name"`
	Declared   bool                `json:"declared"` // in apps.yaml (else found by tag or resource group)
	Owner      string              `json:"owner,omitempty"`
	Critical   bool                `json:"critical"`
	RTO        string              `json:"rto,omitempty"`
	RPO        string              `json:"rpo,omitempty"`
	IaC        string              `json:"iac,omitempty"`
	DependsOn  []string            `json:"dependsOn"`  // declared in apps.yaml
	Uses       []string            `json:"uses"`       // applications its resources reference (from the dependency graph)
	Components map[string][]Listed `json:"components"` // "A"…"E"
	Resources  int                 `json:"resources"`
}

// Inventory is every application of an estate and the resources that belong to none.
type Inventory struct {
	Apps       []Listing `json:"apps"`
	Unassigned []Listed  `json:"unassigned"`
}

// List builds the inventory of the top-level resources of components A–E. dependsOn gives what a
// resource references (the dependency graph without application-level edges), or nil.
func List(f *File, m *Membership, x *arm.Index, dependsOn func(*arm.Object) []*arm.Object) Inventory {
	byName := map[string]*Listing{}
	var order []string
	get := func(name string) *Listing {
		if l, ok := byName[name]; ok {
			return l
		}
		l := &Listing{Name: name, DependsOn: []string{}, Uses: []string{}, Components: map[string][]Listed{}}
		if f != nil {
			if a, ok := f.Find(name); ok {
				l.Name, l.Declared, l.Owner, l.Critical, l.IaC = a.Name, true, a.Owner, a.Critical, a.IaC
				l.RTO, l.RPO = config.FormatDuration(a.RTO.Duration), config.FormatDuration(a.RPO.Duration)
				l.DependsOn = append(l.DependsOn, a.DependsOn...)
			}
		}
		byName[name] = l
		order = append(order, name)
		return l
	}
	if f != nil {
		for _, a := range f.Apps {
			get(a.Name)
		}
	}
	inv := Inventory{Unassigned: []Listed{}}
	uses := map[string]map[string]bool{}
	for _, o := range x.All() {
		c := arm.ComponentOf(o.Type())
		if !arm.TopLevel(o) || c == arm.ComponentNone {
			continue
		}
		app, how, ok := m.Of(o.ID)
		item := Listed{ID: o.ID.String(), Name: o.Name(), Type: arm.CanonicalType(o.Type()), Component: string(c), How: how}
		if !ok {
			item.How = ""
			inv.Unassigned = append(inv.Unassigned, item)
			continue
		}
		l := get(app)
		l.Components[item.Component] = append(l.Components[item.Component], item)
		l.Resources++
		if dependsOn == nil {
			continue
		}
		for _, d := range dependsOn(o) {
			if other, _, ok := m.Of(d.ID); ok && other != app {
				if uses[app] == nil {
					uses[app] = map[string]bool{}
				}
				uses[app][other] = true
			}
		}
	}
	for _, name := range order {
		l := byName[name]
		for other := range uses[name] {
			l.Uses = append(l.Uses, other)
		}
		sort.Strings(l.Uses)
		for _, items := range l.Components {
			sort.Slice(items, func(i, j int) bool { return items[i].Name < items[j].Name })
		}
		inv.Apps = append(inv.Apps, *l)
	}
	sort.Slice(inv.Unassigned, func(i, j int) bool { return inv.Unassigned[i].Name < inv.Unassigned[j].Name })
	return inv
}

// short writes a duration as apps.yaml does: "4h", "1h30m", "90s"; "" for none.
