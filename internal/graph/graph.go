// Package graph builds the dependency graph of an estate from the ARM IDs its objects reference,
// and answers blast radius (how many resources depend on one, transitively) and restore order.
// Assess ranks findings with it; respond orders playbooks with it.
package graph

import (
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/bulwarkhq/bulwark/internal/arm"
)

// Graph is a directed graph over the objects of an index: an edge a → b means a depends on b
// (a VM on its NIC, a NIC on its subnet's VNet, a database on its server, a vault on its key's
// Key Vault, a resource on its resource group).
type Graph struct {
	x     *arm.Index
	nodes []*arm.Object
	pos   map[string]int32
	deps  [][]int32 // deps[i]: what i depends on
	rdeps [][]int32 // rdeps[i]: what depends on i
	why   map[[2]int32]string
	// blast caches BlastRadius results; -1 means not computed. blastMu guards it and the marks.
	blastMu sync.Mutex
	blast   []int32
	mark    []uint32
	gen     uint32
}

// Edge is one dependency with the reason it exists.
type Edge struct {
	From, To *arm.Object
	Why      string // "properties.networkProfile.networkInterfaces.0.id", "parent", "app dependsOn"
}

// AppDeps gives application-level dependencies: every resource of app depends on every resource of
// the applications it dependsOn. It is satisfied by the apps package's membership.
type AppDeps interface {
	Of(id arm.ID) (app string, ok bool)
	DependsOn(app string) []string
}

// Build builds the graph over every object in x. Every string in an object's properties that
// parses as an ARM ID is an edge to the nearest object in the snapshot at or above that ID
// (a NIC's subnet ID resolves to the VNet when subnets are embedded); so are the keys of
// identity.userAssignedIdentities. The parent edge links an object to its nearest ancestor in the
// snapshot. Key Vault URIs (https://name.vault.azure.net/…) resolve to the vault of that name.
func Build(x *arm.Index, deps AppDeps) *Graph {
	g := &Graph{x: x, pos: map[string]int32{}, why: map[[2]int32]string{}}
	for _, o := range x.All() {
		g.pos[o.ID.Key()] = int32(len(g.nodes))
		g.nodes = append(g.nodes, o)
	}
	n := len(g.nodes)
	g.deps = make([][]int32, n)
	g.rdeps = make([][]int32, n)
	vaultsByHost := map[string]int32{}
	for _, kv := range x.OfType("Microsoft.KeyVault/vaults") {
		vaultsByHost[strings.ToLower(kv.Name())+".vault.azure.net"] = g.pos[kv.ID.Key()]
	}
	for i, o := range g.nodes {
		from := int32(i)
		// Locks, role assignments and diagnostic settings are attached to a resource rather than
		// needed by anything; they would only inflate every blast radius.
		if o.ID.IsExtension() {
			continue
		}
		if p, ok := g.nearest(o.ID, false); ok {
			g.add(from, p, "parent")
		}
		props := o.Get("properties").Interface()
		walkStrings(props, "properties", func(path, s string) {
			if backReference(o.Type(), path) {
				return
			}
			if len(s) > 1 && s[0] == '/' {
				if to, ok := g.nearestKey(s); ok && to != from {
					g.add(from, to, path)
				}
				return
			}
			if host, ok := vaultHost(s); ok {
				if to, ok := vaultsByHost[host]; ok && to != from {
					g.add(from, to, path)
				}
			}
		})
		if ids := o.Get("identity.userAssignedIdentities"); ids.Exists() {
			if m, ok := ids.Interface().(map[string]any); ok {
				keys := make([]string, 0, len(m))
				for k := range m {
					keys = append(keys, k)
				}
				sort.Strings(keys)
				for _, k := range keys {
					if id, err := arm.ParseID(k); err == nil {
						if to, ok := g.nearest(id, true); ok && to != from {
							g.add(from, to, "identity.userAssignedIdentities")
						}
					}
				}
			}
		}
	}
	if deps != nil {
		g.addAppEdges(deps)
	}
	g.blast = make([]int32, n)
	for i := range g.blast {
		g.blast[i] = -1
	}
	g.mark = make([]uint32, n)
	return g
}

func (g *Graph) addAppEdges(deps AppDeps) {
	byApp := map[string][]int32{}
	for i, o := range g.nodes {
		if a, ok := deps.Of(o.ID); ok {
			byApp[strings.ToLower(a)] = append(byApp[strings.ToLower(a)], int32(i))
		}
	}
	// Each resource of an app depends on the top-level resources of the apps it depends on; linking
	// to top-level resources only keeps the edge count linear in practice.
	for app, members := range byApp {
		for _, dep := range deps.DependsOn(app) {
			for _, to := range byApp[strings.ToLower(dep)] {
				if strings.Count(g.nodes[to].Type(), "/") != 1 || g.nodes[to].ID.IsExtension() {
					continue
				}
				for _, from := range members {
					if strings.Count(g.nodes[from].Type(), "/") == 1 && !g.nodes[from].ID.IsExtension() {
						g.add(from, to, "app dependsOn "+dep)
					}
				}
			}
		}
	}
}

func (g *Graph) add(from, to int32, why string) {
	k := [2]int32{from, to}
	if _, dup := g.why[k]; dup {
		return
	}
	g.why[k] = why
	g.deps[from] = append(g.deps[from], to)
	g.rdeps[to] = append(g.rdeps[to], from)
}

// nearest finds the node for id, or (when self is false, or id is absent) its nearest ancestor.
func (g *Graph) nearest(id arm.ID, self bool) (int32, bool) {
	if self {
		if p, ok := g.pos[id.Key()]; ok {
			return p, true
		}
	}
	for _, a := range id.Ancestors() {
		if p, ok := g.pos[a.Key()]; ok {
			return p, true
		}
	}
	return 0, false
}

// nearestKey resolves an ID-shaped string to the nearest object at or above it without parsing:
// it lowers the string and drops trailing /type/name pairs until an object's key matches. Only
// strings under /subscriptions/ or /providers/ are considered.
func (g *Graph) nearestKey(s string) (int32, bool) {
	k := strings.ToLower(strings.TrimSuffix(s, "/"))
	if !strings.HasPrefix(k, "/subscriptions/") && !strings.HasPrefix(k, "/providers/") {
		return 0, false
	}
	for len(k) > 0 {
		if p, ok := g.pos[k]; ok {
			return p, true
		}
		i := strings.LastIndexByte(k, '/')
		if i <= 0 {
			return 0, false
		}
		k = k[:i]
	}
	return 0, false
}

// backReference reports a read-only property through which ARM shows what uses a resource rather
// than what it uses: a NIC's virtualMachine, a VNet's subnets' ipConfigurations, an NSG's
// networkInterfaces and subnets, a public IP's ipConfiguration, a service's private endpoint
// connections. Following them would make every VM and its NIC, every NSG and its subnets, a cycle.
func backReference(typ, path string) bool {
	p := strings.ToLower(path)
	switch {
	case strings.Contains(p, "privateendpointconnections."),
		strings.HasSuffix(p, ".ipconfigurations.id") && !strings.EqualFold(typ, "Microsoft.Network/networkInterfaces"),
		strings.Contains(p, ".ipconfigurations.") && strings.Contains(p, "subnets."),
		strings.Contains(p, ".privateendpoints."), strings.Contains(p, ".resourcenavigationlinks."),
		strings.Contains(p, ".serviceassociationlinks."), strings.Contains(p, ".applicationgatewayipconfigurations."):
		return true
	}
	switch strings.ToLower(typ) {
	case "microsoft.network/networkinterfaces":
		return strings.HasPrefix(p, "properties.virtualmachine.") || strings.HasPrefix(p, "properties.privateendpoint.") ||
			strings.HasPrefix(p, "properties.ipconfigurations.") && !strings.Contains(p, ".properties.")
	case "microsoft.network/networksecuritygroups", "microsoft.network/routetables", "microsoft.network/natgateways":
		return strings.HasPrefix(p, "properties.networkinterfaces.") || strings.HasPrefix(p, "properties.subnets.")
	case "microsoft.network/publicipaddresses":
		return strings.HasPrefix(p, "properties.ipconfiguration.")
	}
	return false
}

func vaultHost(s string) (string, bool) {
	const scheme = "https://"
	if !strings.HasPrefix(strings.ToLower(s), scheme) {
		return "", false
	}
	host := strings.ToLower(s[len(scheme):])
	if i := strings.IndexByte(host, '/'); i >= 0 {
		host = host[:i]
	}
	host = strings.TrimSuffix(host, ":443")
	return host, strings.HasSuffix(host, ".vault.azure.net")
}

func walkStrings(v any, path string, fn func(path, s string)) {
	switch t := v.(type) {
	case string:
		fn(path, t)
	case map[string]any:
		// Sorted, so that edges — and the restore order built from them — are the same every run.
		keys := make([]string, 0, len(t))
		for k := range t {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			walkStrings(t[k], path+"."+k, fn)
		}
	case []any:
		for i, e := range t {
			walkStrings(e, path+"."+strconv.Itoa(i), fn)
		}
	}
}

// DependsOn returns what o depends on directly, with the reasons.
func (g *Graph) DependsOn(o *arm.Object) []Edge {
	i, ok := g.pos[o.ID.Key()]
	if !ok {
		return nil
	}
	var out []Edge
	for _, j := range g.deps[i] {
		out = append(out, Edge{From: o, To: g.nodes[j], Why: g.why[[2]int32{i, j}]})
	}
	return out
}

// Dependents returns the objects that depend on o directly.
func (g *Graph) Dependents(o *arm.Object) []*arm.Object {
	i, ok := g.pos[o.ID.Key()]
	if !ok {
		return nil
	}
	out := make([]*arm.Object, 0, len(g.rdeps[i]))
	for _, j := range g.rdeps[i] {
		out = append(out, g.nodes[j])
	}
	return out
}

// BlastRadius returns how many objects depend on the one with id, directly or transitively: what
// else breaks or is lost when it is destroyed. Unknown IDs have radius 0. Results are cached; it
// is safe to call from several goroutines.
func (g *Graph) BlastRadius(id arm.ID) int {
	i, ok := g.pos[id.Key()]
	if !ok {
		return 0
	}
	g.blastMu.Lock()
	defer g.blastMu.Unlock()
	if g.blast[i] >= 0 {
		return int(g.blast[i])
	}
	g.gen++
	if g.gen == 0 { // wrapped: clear the marks
		clear(g.mark)
		g.gen = 1
	}
	count := 0
	stack := []int32{i}
	g.mark[i] = g.gen
	for len(stack) > 0 {
		n := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		for _, d := range g.rdeps[n] {
			if g.mark[d] != g.gen {
				g.mark[d] = g.gen
				count++
				stack = append(stack, d)
			}
		}
	}
	g.blast[i] = int32(count)
	return count
}

// Len returns the number of nodes.
func (g *Graph) Len() int { return len(g.nodes) }

// Edges returns the number of edges.
func (g *Graph) Edges() int { return len(g.why) }

// Order returns objects in restore order — everything an object depends on comes before it — and
// the cycles found, each as its members. A cycle is broken at its configuration-based (D) members
// first, which can be redeployed from IaC without their dependents.
func (g *Graph) Order(subset []*arm.Object) (order []*arm.Object, cycles [][]*arm.Object) {
	in := map[int32]bool{}
	for _, o := range subset {
		if i, ok := g.pos[o.ID.Key()]; ok {
			in[i] = true
		}
	}
	// Tarjan's strongly connected components over the subset, iteratively emitted in reverse
	// topological order of the dependency direction (dependencies first).
	index := map[int32]int{}
	low := map[int32]int{}
	onStack := map[int32]bool{}
	var stack []int32
	next := 0
	var sccs [][]int32
	var strong func(v int32)
	strong = func(v int32) {
		index[v], low[v] = next, next
		next++
		stack = append(stack, v)
		onStack[v] = true
		for _, w := range g.deps[v] {
			if !in[w] {
				continue
			}
			if _, seen := index[w]; !seen {
				strong(w)
				low[v] = min(low[v], low[w])
			} else if onStack[w] {
				low[v] = min(low[v], index[w])
			}
		}
		if low[v] == index[v] {
			var c []int32
			for {
				w := stack[len(stack)-1]
				stack = stack[:len(stack)-1]
				onStack[w] = false
				c = append(c, w)
				if w == v {
					break
				}
			}
			sccs = append(sccs, c)
		}
	}
	keys := make([]int32, 0, len(in))
	for i := range in {
		keys = append(keys, i)
	}
	sort.Slice(keys, func(a, b int) bool { return keys[a] < keys[b] })
	for _, v := range keys {
		if _, seen := index[v]; !seen {
			strong(v)
		}
	}
	for _, c := range sccs {
		if len(c) > 1 {
			// Configuration-based services first, then the rest in snapshot order.
			sort.SliceStable(c, func(a, b int) bool {
				da := arm.ComponentOf(g.nodes[c[a]].Type()) == arm.ComponentConfig
				db := arm.ComponentOf(g.nodes[c[b]].Type()) == arm.ComponentConfig
				if da != db {
					return da
				}
				return c[a] < c[b]
			})
			var members []*arm.Object
			for _, i := range c {
				members = append(members, g.nodes[i])
			}
			cycles = append(cycles, members)
		}
		for _, i := range c {
			order = append(order, g.nodes[i])
		}
	}
	return order, cycles
}
