// Package apps reads apps.yaml — applications, their resources, dependencies, recovery objectives,
// IaC folders and drills — and maps every resource of a snapshot to its application. Without
// apps.yaml, applications come from a tag and then from resource groups. Assess and respond share it.
package apps

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/bulwarkhq/bulwark/internal/yamlmsg"

	"github.com/bulwarkhq/bulwark/internal/arm"
	"github.com/bulwarkhq/bulwark/internal/config"
)

// yamlTerms name apps.yaml's parts in decoding errors (yamlmsg).
var yamlTerms = map[string]string{
	"apps.File":       "the file's apps: list",
	"[]apps.App":      "a list of applications (- name: …)",
	"apps.App":        "an application (name, owner, critical, rto, rpo, resources, dependsOn, iac, drills, backups)",
	"[]apps.Selector": "a list of resource selectors (- id: …, - resourceGroup: …, - tag: {…})",
	"apps.Selector":   "a resource selector (id, resourceGroup or tag)",
	"[]apps.Drill":    "a list of drills (- date: …, result: …)",
	"apps.Drill":      "a drill (date, result, notes)",
	"[]apps.Backup":   "a list of backups (- resource: …, method: …)",
	"apps.Backup":     "a backup (resource, method)",
	"config.Duration": "a duration (4h, 90m, 7d)",
}

// File is apps.yaml.
type File struct {
	Apps []App `yaml:"apps"`
	// Dir is the folder apps.yaml was read from; relative iac paths resolve against it.
	Dir string `yaml:"-"`
}

// App is one application or shared service.
type App struct {
	Name      string     `yaml:"name"`
	Owner     string     `yaml:"owner"`
	Critical  bool       `yaml:"critical"`
	RTO       Duration   `yaml:"rto"`
	RPO       Duration   `yaml:"rpo"`
	Resources []Selector `yaml:"resources"`
	DependsOn []string   `yaml:"dependsOn"`
	IaC       string     `yaml:"iac"`
	Drills    []Drill    `yaml:"drills"`
	Backups   []Backup   `yaml:"backups"`
	Line      int        `yaml:"-"`
}

// Selector picks resources: a full ARM ID (the resource and everything below it), a resource group
// ID, or tags that must all match.
type Selector struct {
	ID            string            `yaml:"id"`
	ResourceGroup string            `yaml:"resourceGroup"`
	Tag           map[string]string `yaml:"tag"`
}

// Drill is a recorded recovery rehearsal.
type Drill struct {
	Date   string `yaml:"date"`
	Result string `yaml:"result"`
	Notes  string `yaml:"notes"`
}

// Backup declares how a resource without a native backup (a DevOps organisation, an automation
// account) is recovered.
type Backup struct {
	Resource string `yaml:"resource"`
	Method   string `yaml:"method"`
}

// Duration is an RTO or RPO such as "4h" or "1d".
type Duration = config.Duration

// DrillTime parses a drill date (YYYY-MM-DD or RFC 3339).
func (d Drill) Time() (time.Time, error) {
	if t, err := time.Parse("2006-01-02", d.Date); err == nil {
		return t, nil
	}
	return time.Parse(time.RFC3339, d.Date)
}

// Parse reads apps.yaml from r; errors name the line.
func Parse(r io.Reader) (*File, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	// The lines of the applications first, from a node tree let go before the decode builds its
	// own: the two trees are most of the memory a large apps.yaml takes.
	lines, err := func() ([]int, error) {
		var root yaml.Node
		if err := yaml.Unmarshal(data, &root); err != nil {
			return nil, err
		}
		return appLines(&root), nil
	}()
	if err != nil {
		return nil, err
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var f File
	if err := dec.Decode(&f); err != nil && !errors.Is(err, io.EOF) {
		return nil, yamlmsg.Explain(err, yamlTerms, "")
	}
	seen := map[string]int{}
	for i := range f.Apps {
		a := &f.Apps[i]
		if i < len(lines) {
			a.Line = lines[i]
		}
		if strings.TrimSpace(a.Name) == "" {
			return nil, fmt.Errorf("line %d: application without a name", a.Line)
		}
		if prev, dup := seen[strings.ToLower(a.Name)]; dup {
			return nil, fmt.Errorf("line %d: application %q is already defined at line %d", a.Line, a.Name, prev)
		}
		seen[strings.ToLower(a.Name)] = a.Line
		for _, s := range a.Resources {
			n := 0
			for _, v := range []string{s.ID, s.ResourceGroup} {
				if v != "" {
					n++
					if _, err := arm.ParseID(v); err != nil {
						return nil, fmt.Errorf("line %d: application %q: %w", a.Line, a.Name, err)
					}
				}
			}
			if len(s.Tag) > 0 {
				n++
			}
			if n != 1 {
				return nil, fmt.Errorf("line %d: application %q: each resources entry needs exactly one of id, resourceGroup or tag", a.Line, a.Name)
			}
		}
		for _, d := range a.Drills {
			if _, err := d.Time(); err != nil {
				return nil, fmt.Errorf("line %d: application %q: drill date %q is not YYYY-MM-DD", a.Line, a.Name, d.Date)
			}
		}
	}
	for _, a := range f.Apps {
		for _, d := range a.DependsOn {
			if _, ok := seen[strings.ToLower(d)]; !ok {
				return nil, fmt.Errorf("line %d: application %q depends on %q, which is not defined", a.Line, a.Name, d)
			}
		}
	}
	return &f, nil
}

// appLines returns the line of each entry of the top-level apps list.
func appLines(root *yaml.Node) []int {
	if root == nil || len(root.Content) == 0 {
		return nil
	}
	m := root.Content[0]
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == "apps" {
			var out []int
			for _, e := range m.Content[i+1].Content {
				out = append(out, e.Line)
			}
			return out
		}
	}
	return nil
}

// Find returns the application with the given name, ignoring case.
func (f *File) Find(name string) (*App, bool) {
	if f == nil {
		return nil, false
	}
	for i := range f.Apps {
		if strings.EqualFold(f.Apps[i].Name, name) {
			return &f.Apps[i], true
		}
	}
	return nil, false
}

// CycleThrough returns a shortest dependsOn cycle through the named application — its name, the
// applications the cycle passes, and its name again — or nil when there is none. It looks at each
// application and each dependency once, so a cycle over 100,000 applications costs no more than
// reading them.
func (f *File) CycleThrough(name string) []string {
	if f == nil {
		return nil
	}
	idx := make(map[string]int, len(f.Apps))
	for i, a := range f.Apps {
		if _, dup := idx[strings.ToLower(a.Name)]; !dup {
			idx[strings.ToLower(a.Name)] = i
		}
	}
	start, ok := idx[strings.ToLower(name)]
	if !ok {
		return nil
	}
	parent := map[int]int{start: -1}
	queue := []int{start}
	for len(queue) > 0 {
		cur := queue[0]
		queue = queue[1:]
		for _, d := range f.Apps[cur].DependsOn {
			next, ok := idx[strings.ToLower(d)]
			if !ok {
				continue
			}
			if next == start {
				path := []string{f.Apps[start].Name}
				for x := cur; x != start; x = parent[x] {
					path = append(path, f.Apps[x].Name)
				}
				path = append(path, f.Apps[start].Name)
				for i, j := 1, len(path)-2; i < j; i, j = i+1, j-1 {
					path[i], path[j] = path[j], path[i]
				}
				return path
			}
			if _, seen := parent[next]; !seen {
				parent[next] = cur
				queue = append(queue, next)
			}
		}
	}
	return nil
}

// How says how a resource was mapped to its application.
type How string

// The ways a resource is mapped to an application, strongest first.
const (
	ByID            How = "apps.yaml id"
	ByResourceGroup How = "apps.yaml resourceGroup"
	ByTagSelector   How = "apps.yaml tag"
	ByAppTag        How = "application tag"
	ByGroupName     How = "resource group"
)

// Membership maps resources to applications.
type Membership struct {
	byKey map[string]member
	file  *File
}

type member struct {
	app string
	how How
}

// Resolve maps every object to an application: apps.yaml selectors first (an ID beats a resource
// group beats a tag selector; the first application listed wins a tie), then the application tag,
// then — only when there is no apps.yaml — the resource group's name.
func Resolve(f *File, x *arm.Index, cfg config.Config) *Membership {
	m := &Membership{byKey: map[string]member{}, file: f}
	rank := map[How]int{ByID: 0, ByResourceGroup: 1, ByTagSelector: 2, ByAppTag: 3, ByGroupName: 4}
	set := func(o *arm.Object, app string, how How) {
		cur, ok := m.byKey[o.ID.Key()]
		if !ok || rank[how] < rank[cur.how] {
			m.byKey[o.ID.Key()] = member{app: app, how: how}
		}
	}
	// The selectors, parsed once and indexed by key: an object's ID and resource-group selectors
	// are those whose key is its own key or a prefix of it up to a "/" (what arm.ID.Contains
	// decides), found in as many map lookups as its ID has segments — not one comparison per
	// selector per object, which took minutes with 100,000 applications.
	byID, byGroup := map[string]int{}, map[string]int{} // key → the first application listing it
	type tagSel struct {
		app int
		tag map[string]string
	}
	var tags []tagSel
	if f != nil {
		for ai, a := range f.Apps {
			for _, s := range a.Resources {
				switch {
				case s.ID != "":
					if id, err := arm.ParseID(s.ID); err == nil {
						if _, seen := byID[id.Key()]; !seen {
							byID[id.Key()] = ai
						}
					}
				case s.ResourceGroup != "":
					if id, err := arm.ParseID(s.ResourceGroup); err == nil {
						if _, seen := byGroup[id.Key()]; !seen {
							byGroup[id.Key()] = ai
						}
					}
				case len(s.Tag) > 0:
					tags = append(tags, tagSel{ai, s.Tag})
				}
			}
		}
	}
	// first returns the first application (in apps.yaml order) whose selector in sel contains key.
	first := func(sel map[string]int, key string) (int, bool) {
		best, found := 0, false
		try := func(k string) {
			if ai, ok := sel[k]; ok && (!found || ai < best) {
				best, found = ai, true
			}
		}
		for i := 1; i < len(key); i++ {
			if key[i] == '/' {
				try(key[:i])
			}
		}
		try(key)
		return best, found
	}
	for _, o := range x.All() {
		if f != nil {
			if ai, ok := first(byID, o.ID.Key()); ok {
				set(o, f.Apps[ai].Name, ByID)
			}
			if ai, ok := first(byGroup, o.ID.Key()); ok {
				set(o, f.Apps[ai].Name, ByResourceGroup)
			}
			for _, t := range tags {
				if tagsMatch(o, t.tag) {
					set(o, f.Apps[t.app].Name, ByTagSelector)
					break
				}
			}
		}
		if v, ok := o.Tag(cfg.ApplicationTag); ok && v != "" {
			name := v
			if a, ok := f.Find(v); ok {
				name = a.Name
			}
			set(o, name, ByAppTag)
		}
		if f == nil {
			if rg, ok := o.ID.ResourceGroupScope(); ok {
				set(o, rg.Name(), ByGroupName)
			}
		}
	}
	return m
}

func tagsMatch(o *arm.Object, want map[string]string) bool {
	for k, v := range want {
		got, ok := o.Tag(k)
		if !ok || !strings.EqualFold(got, v) {
			return false
		}
	}
	return true
}

// Of returns the application of a resource and how it was found.
func (m *Membership) Of(id arm.ID) (app string, how How, ok bool) {
	e, ok := m.byKey[id.Key()]
	return e.app, e.how, ok
}

// App returns the apps.yaml entry of a resource's application, if it has one.
func (m *Membership) App(id arm.ID) (*App, bool) {
	name, _, ok := m.Of(id)
	if !ok {
		return nil, false
	}
	return m.file.Find(name)
}

// Names returns every application name that has resources, sorted.
func (m *Membership) Names() []string {
	set := map[string]bool{}
	for _, e := range m.byKey {
		set[e.app] = true
	}
	out := make([]string, 0, len(set))
	for n := range set {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}
