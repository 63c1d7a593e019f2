package jsonscan

// Path is where a member Walk reports sits: the keys of the objects above it, outermost first, as
// the bytes between their quotes.
type Path struct {
	keys  [MaxWalkDepth][]byte
	depth int
	limit int // report members down to this depth: MaxWalkDepth unless Shallow was called
}

// MaxWalkDepth is how deep Walk reports members: a record's members are depth 1, the members of
// an object inside it depth 2, and so on.
const MaxWalkDepth = 4

// Depth is the member's depth (1: a member of the outermost object).
func (p *Path) Depth() int { return p.depth }

// Parent returns the key of the object i levels up the path (0: the outermost member's key).
func (p *Path) Parent(i int) []byte { return p.keys[i] }

// Shallow makes Walk report only the outermost object's members from now on: the values still to
// come are validated as before, without calls for what is inside them.
func (p *Path) Shallow() { p.limit = 1 }

// Walk validates raw as one JSON object exactly as Valid does and, in the same pass, calls fn for
// every member of that object and of the objects nested in it through members (not arrays) down to
// MaxWalkDepth — each after its value is validated, so nested members come before the member
// holding them. It reports whether raw is one valid JSON object; fn may have been called for
// members before a later error is found, and a caller must then discard what it collected.
func Walk(raw []byte, fn func(p *Path, key, val []byte)) bool {
	return new(Walker).Walk(raw, fn)
}

// A Walker walks one input after another (Walk), reusing the memory a walk needs: a goroutine that
// walks every line of a log keeps one rather than allocate for each line. The zero value is ready
// to use; a Walker is not safe for concurrent use.
type Walker struct {
	p    Path
	mask []uint64 // the scanner's marks, kept for the next input (see newScanner)
}

// Walk is the package's Walk.
func (w *Walker) Walk(raw []byte, fn func(p *Path, key, val []byte)) bool {
	i := skipSpace(raw, 0)
	if i >= len(raw) || raw[i] != '{' {
		return false
	}
	w.p = Path{limit: MaxWalkDepth}
	s := newScanner(raw, &w.mask)
	end, ok := s.object(i, 0, &w.p, fn)
	return ok && skipSpace(raw, end) == len(raw)
}
