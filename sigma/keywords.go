package sigma

import (
	"bytes"
	"strings"
	"unicode/utf8"

	"github.com/bulwarkhq/bulwark/internal/jsonscan"
)

// Keyword searches look for their values in every string of the event. Evaluated rule by rule,
// each keyword rule walks all of the event's strings again; instead, the rule set gathers the
// values every keyword search has in common — a case-insensitive "contains" of an ASCII literal,
// what a plain keyword is — into one Aho–Corasick automaton, and an event's strings are walked
// once, the first time a keyword search asks, marking every such value found. The other values
// (wildcards inside, regular expressions, cased, non-ASCII) are matched as before, over the strings.

// keywordIndex is the automaton over the literals, lower-cased ASCII, each a pattern number.
type keywordIndex struct {
	// A trie with failure links; goto transitions dense (one row of 256 per state) while the
	// automaton is small, sparse (a map) when 10,000 keywords would make rows cost too much.
	dense  []int32
	sparse map[uint64]int32
	fail   []int32
	output []int32 // the pattern ending at a state, or -1
	dict   []int32 // the nearest state down the failure chain with an output, or -1
}

const denseStates = 4096

// buildKeywordIndex builds the automaton for the literals (already lower-cased); pattern i is lits[i].
func buildKeywordIndex(lits []string) *keywordIndex {
	type node struct {
		next map[byte]int32
		out  int32
	}
	nodes := []node{{next: map[byte]int32{}, out: -1}}
	for p, lit := range lits {
		s := int32(0)
		for i := 0; i < len(lit); i++ {
			c := lit[i]
			n, ok := nodes[s].next[c]
			if !ok {
				n = int32(len(nodes))
				nodes = append(nodes, node{next: map[byte]int32{}, out: -1})
				nodes[s].next[c] = n
			}
			s = n
		}
		nodes[s].out = int32(p)
	}
	k := &keywordIndex{fail: make([]int32, len(nodes)), output: make([]int32, len(nodes)), dict: make([]int32, len(nodes))}
	for i := range nodes {
		k.output[i] = nodes[i].out
	}
	// Breadth first: a state's failure is the longest proper suffix of its string that is in the trie.
	queue := make([]int32, 0, len(nodes))
	k.dict[0] = -1
	for _, n := range nodes[0].next {
		k.fail[n], k.dict[n] = 0, -1
		queue = append(queue, n)
	}
	for len(queue) > 0 {
		s := queue[0]
		queue = queue[1:]
		for c, n := range nodes[s].next {
			f := k.fail[s]
			for {
				if t, ok := nodes[f].next[c]; ok && t != n {
					k.fail[n] = t
					break
				}
				if f == 0 {
					k.fail[n] = 0
					break
				}
				f = k.fail[f]
			}
			if fo := k.fail[n]; k.output[fo] >= 0 {
				k.dict[n] = fo
			} else {
				k.dict[n] = k.dict[fo]
			}
			queue = append(queue, n)
		}
	}
	// goto(s, c): the trie's edge, else goto(fail(s), c), else the root.
	var step func(s int32, c byte) int32
	step = func(s int32, c byte) int32 {
		for {
			if n, ok := nodes[s].next[c]; ok {
				return n
			}
			if s == 0 {
				return 0
			}
			s = k.fail[s]
		}
	}
	if len(nodes) <= denseStates {
		k.dense = make([]int32, len(nodes)*256)
		for s := range nodes {
			for c := 0; c < 256; c++ {
				k.dense[s*256+c] = step(int32(s), byte(c))
			}
		}
		return k
	}
	k.sparse = map[uint64]int32{}
	for s := range nodes {
		for c, n := range nodes[s].next {
			k.sparse[uint64(s)<<8|uint64(c)] = n
		}
	}
	return k
}

// scan marks in found every pattern that occurs in s, ignoring ASCII case.
func scan[T string | []byte](k *keywordIndex, s T, found []uint64) {
	st := int32(0)
	for i := 0; i < len(s); i++ {
		c := lowerASCII(s[i])
		if k.dense != nil {
			st = k.dense[int(st)<<8|int(c)]
		} else {
			for {
				if n, ok := k.sparse[uint64(st)<<8|uint64(c)]; ok {
					st = n
					break
				}
				if st == 0 {
					break
				}
				st = k.fail[st]
			}
		}
		for t := st; t >= 0; t = k.dict[t] {
			if p := k.output[t]; p >= 0 {
				found[p>>6] |= 1 << (p & 63)
			}
			if t == 0 {
				break
			}
		}
	}
}

// keywordEvent is the event Match evaluates conditions on when the rule set has keyword searches:
// the caller's event, and which keyword literals its strings hold, found on first need.
type keywordEvent struct {
	Event
	index   *keywordIndex
	scanned bool
	found   []uint64
}

func (e *keywordEvent) reset(ev Event) {
	e.Event, e.scanned = ev, false
}

// has reports whether pattern p occurs in some string value of the event.
func (e *keywordEvent) has(p int32) bool {
	if !e.scanned {
		clear(e.found)
		if je, ok := e.Event.(*JSONEvent); ok {
			// Straight from the document: a string without escapes is its bytes between quotes.
			jsonscan.Strings(je.raw, func(q []byte) bool {
				if bytes.IndexByte(q, '\\') < 0 && utf8.Valid(q) {
					scan(e.index, q[1:len(q)-1], e.found)
				} else {
					s, _ := jsonscan.Unquote(q)
					scan(e.index, s, e.found)
				}
				return false
			})
		} else {
			e.Event.Keywords(func(s string) bool {
				scan(e.index, s, e.found)
				return false
			})
		}
		e.scanned = true
	}
	return e.found[p>>6]&(1<<(p&63)) != 0
}

// indexKeywords gives every plain keyword value of the rule set's keyword searches a pattern in
// one automaton (fm.patterns[i] for fm.vals[i], -1 for a value matched the usual way).
func (rs *RuleSet) indexKeywords() {
	ids := map[string]int32{}
	var lits []string
	for _, cr := range rs.compiled {
		for _, s := range cr.searches {
			fm := s.keywords
			if fm == nil {
				continue
			}
			fm.patterns = make([]int32, len(fm.vals))
			for i, v := range fm.vals {
				fm.patterns[i] = -1
				sm, ok := v.(*strMatcher)
				if !ok || sm.kind != strContains || !sm.fold || sm.lit == "" || !isASCII(sm.lit) {
					continue
				}
				lit := strings.ToLower(sm.lit) // ASCII: lower-cased byte for byte
				id, seen := ids[lit]
				if !seen {
					id = int32(len(lits))
					ids[lit] = id
					lits = append(lits, lit)
				}
				fm.patterns[i] = id
			}
		}
	}
	if len(lits) == 0 {
		return
	}
	rs.keywordIndex = buildKeywordIndex(lits)
	rs.keywordEv = &keywordEvent{index: rs.keywordIndex, found: make([]uint64, (len(lits)+63)/64)}
}

// matchIndexed is matchKeywords with the automaton's findings: a plain value is looked up, the
// others matched over the strings as before.
func (fm *fieldMatcher) matchIndexed(ev *keywordEvent) bool {
	if fm.all {
		for i, m := range fm.vals {
			if p := fm.patterns[i]; p >= 0 {
				if !ev.has(p) {
					return false
				}
				continue
			}
			if !ev.Keywords(func(s string) bool { return m.match(s) }) {
				return false
			}
		}
		return true
	}
	rest := false
	for _, p := range fm.patterns {
		if p < 0 {
			rest = true
		} else if ev.has(p) {
			return true
		}
	}
	if !rest {
		return false
	}
	return ev.Keywords(func(s string) bool {
		for i, m := range fm.vals {
			if fm.patterns[i] < 0 && m.match(s) {
				return true
			}
		}
		return false
	})
}
