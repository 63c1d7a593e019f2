package arm

import (
	"sort"
	"strings"
)

// Index answers the lookups every check and the dependency graph need: an object by ID, the objects
// of a type, the children of a resource, and the extension resources (locks, role assignments,
// diagnostic settings…) attached at a scope. All lookups ignore case.
type Index struct {
	objects  []*Object
	byID     map[string]*Object
	byType   map[string][]*Object
	children map[string][]*Object
	sorted   []*Object // by ID key, for prefix (descendant) ranges
}

// NewIndex indexes objects. When two objects share an ID the later one wins; loaders deduplicate
// before indexing, so this only matters for hand-built lists.
func NewIndex(objects []*Object) *Index {
	x := &Index{
		byID:     make(map[string]*Object, len(objects)),
		byType:   make(map[string][]*Object),
		children: make(map[string][]*Object),
	}
	defer func() {
		x.sorted = append([]*Object(nil), x.objects...)
		sort.Slice(x.sorted, func(i, j int) bool { return x.sorted[i].ID.Key() < x.sorted[j].ID.Key() })
	}()
	for _, o := range objects {
		if prev, ok := x.byID[o.ID.Key()]; ok {
			x.remove(prev)
		}
		x.objects = append(x.objects, o)
		x.byID[o.ID.Key()] = o
		t := strings.ToLower(o.Type())
		x.byType[t] = append(x.byType[t], o)
		if p, ok := o.ID.Parent(); ok {
			x.children[p.Key()] = append(x.children[p.Key()], o)
		}
	}
	return x
}

func (x *Index) remove(o *Object) {
	drop := func(list []*Object) []*Object {
		for i, e := range list {
			if e == o {
				return append(list[:i:i], list[i+1:]...)
			}
		}
		return list
	}
	x.objects = drop(x.objects)
	t := strings.ToLower(o.Type())
	x.byType[t] = drop(x.byType[t])
	if p, ok := o.ID.Parent(); ok {
		x.children[p.Key()] = drop(x.children[p.Key()])
	}
}

// All returns every indexed object in load order.
func (x *Index) All() []*Object { return x.objects }

// Len returns the number of indexed objects.
func (x *Index) Len() int { return len(x.objects) }

// Get returns the object with the given ID (any spelling).
func (x *Index) Get(id string) (*Object, bool) {
	o, ok := x.byID[KeyOf(id)]
	return o, ok
}

// OfType returns the objects of a resource type, e.g. "Microsoft.KeyVault/vaults", in load order.
func (x *Index) OfType(typ string) []*Object { return x.byType[strings.ToLower(typ)] }

// Types returns the distinct resource types present, sorted case-insensitively.
func (x *Index) Types() []string {
	out := make([]string, 0, len(x.byType))
	for _, list := range x.byType {
		if len(list) > 0 {
			out = append(out, list[0].Type())
		}
	}
	sort.Slice(out, func(i, j int) bool { return strings.ToLower(out[i]) < strings.ToLower(out[j]) })
	return out
}

// Children returns the objects whose ID is directly nested under id: a VNet's subnets, a storage
// account's blobServices/default, a vault's protected items' containers, and the extension
// resources attached to it.
func (x *Index) Children(id ID) []*Object { return x.children[id.Key()] }

// ChildrenOfType returns the children of id with the given type.
func (x *Index) ChildrenOfType(id ID, typ string) []*Object {
	var out []*Object
	for _, o := range x.children[id.Key()] {
		if o.IsType(typ) {
			out = append(out, o)
		}
	}
	return out
}

// Descendants returns every object nested anywhere below id, of the given type ("" for all) —
// protected items below a vault, say, even when the fabrics and containers between them are not
// in the snapshot.
func (x *Index) Descendants(id ID, typ string) []*Object {
	prefix := id.Key() + "/"
	i := sort.Search(len(x.sorted), func(i int) bool { return x.sorted[i].ID.Key() >= prefix })
	var out []*Object
	for ; i < len(x.sorted) && strings.HasPrefix(x.sorted[i].ID.Key(), prefix); i++ {
		if typ == "" || x.sorted[i].IsType(typ) {
			out = append(out, x.sorted[i])
		}
	}
	return out
}

// ExtensionsAt returns the extension resources of a type attached at exactly scope — for example the
// locks on a resource group: ExtensionsAt(rg, "Microsoft.Authorization/locks").
func (x *Index) ExtensionsAt(scope ID, typ string) []*Object {
	var out []*Object
	for _, o := range x.ChildrenOfType(scope, typ) {
		if o.ID.IsExtension() {
			out = append(out, o)
		}
	}
	return out
}

// ExtensionsCovering returns the extension resources of a type attached at id or at any scope
// above it (resource → parents → resource group → subscription), nearest scope first: the locks
// or role assignments that apply to id.
func (x *Index) ExtensionsCovering(id ID, typ string) []*Object {
	out := x.ExtensionsAt(id, typ)
	for _, a := range id.Ancestors() {
		out = append(out, x.ExtensionsAt(a, typ)...)
	}
	return out
}
