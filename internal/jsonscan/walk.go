package jsonscan

// Path is where a member Walk reports sits: the keys of the objects above it, outermost first, as
// the bytes between their quotes.
type Path struct {
	keys  [MaxWalkDepth][]byte
	depth int
}

// MaxWalkDepth is how deep Walk reports members: a record's members are depth 1, the members of
// an object inside it depth 2, and so on.
const MaxWalkDepth = 4

// Depth is the member's depth (1: a member of the outermost object).
func (p *Path) Depth() int { return p.depth }

// Parent returns the key of the object i levels up the path (0: the outermost member's key).
func (p *Path) Parent(i int) []byte { return p.keys[i] }

// Walk validates raw as one JSON object exactly as Valid does and, in the same pass, calls fn for
// every member of that object and of the objects nested in it through members (not arrays) down to
// MaxWalkDepth — each after its value is validated, so nested members come before the member
// holding them. It reports whether raw is one valid JSON object; fn may have been called for
// members before a later error is found, and a caller must then discard what it collected.
func Walk(raw []byte, fn func(p *Path, key, val []byte)) bool {
	i := skipSpace(raw, 0)
	if i >= len(raw) || raw[i] != '{' {
		return false
	}
	var p Path
	var buf [maskWords]uint64
	s := newScanner(raw, &buf)
	end, ok := s.walkObject(i, &p, fn)
	return ok && skipSpace(raw, end) == len(raw)
}

// walkObject is value's object case, reporting members at p.depth+1.
func (s *scanner) walkObject(i int, p *Path, fn func(p *Path, key, val []byte)) (int, bool) {
	b := s.b
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == '}' {
		return i + 1, true
	}
	for {
		if i >= len(b) || b[i] != '"' {
			return i, false
		}
		kEnd, ok := s.str(i)
		if !ok {
			return i, false
		}
		key := b[i+1 : kEnd-1]
		i = skipSpace(b, kEnd)
		if i >= len(b) || b[i] != ':' {
			return i, false
		}
		vStart := skipSpace(b, i+1)
		var vEnd int
		if vStart < len(b) && b[vStart] == '{' && p.depth+1 < MaxWalkDepth {
			p.keys[p.depth] = key
			p.depth++
			vEnd, ok = s.walkObject(vStart, p, fn)
			p.depth--
		} else {
			vEnd, ok = s.value(vStart, p.depth+1)
		}
		if !ok {
			return vEnd, false
		}
		p.depth++
		fn(p, key, b[vStart:vEnd])
		p.depth--
		i = skipSpace(b, vEnd)
		if i >= len(b) {
			return i, false
		}
		if b[i] == '}' {
			return i + 1, true
		}
		if b[i] != ',' {
			return i, false
		}
		i = skipSpace(b, i+1)
	}
}
