package sigma

import (
	"path"
	"strings"
)

// cond is a compiled condition node.
type cond interface {
	eval(ev Event, cr *compiledRule) bool
}

type andNode struct{ kids []cond }
type orNode struct{ kids []cond }
type notNode struct{ kid cond }
type searchNode struct{ idx int }

func (n *andNode) eval(ev Event, cr *compiledRule) bool {
	for _, k := range n.kids {
		if !k.eval(ev, cr) {
			return false
		}
	}
	return true
}

func (n *orNode) eval(ev Event, cr *compiledRule) bool {
	for _, k := range n.kids {
		if k.eval(ev, cr) {
			return true
		}
	}
	return false
}

func (n *notNode) eval(ev Event, cr *compiledRule) bool { return !n.kid.eval(ev, cr) }

func (n *searchNode) eval(ev Event, cr *compiledRule) bool { return cr.searches[n.idx].match(ev) }

type condError struct {
	offset int
	msg    string
}

type ctoken struct {
	kind string // ident, and, or, not, of, them, lparen, rparen, num, all, eof
	text string
	off  int
}

func tokenize(s string) ([]ctoken, *condError) {
	var out []ctoken
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '(':
			out = append(out, ctoken{"lparen", "(", i})
			i++
		case c == ')':
			out = append(out, ctoken{"rparen", ")", i})
			i++
		case c == '|':
			return nil, &condError{i, "aggregation expressions (\"| count() …\") are obsolete: use a correlation rule"}
		default:
			j := i
			for j < len(s) && !strings.ContainsRune(" \t\n\r()|", rune(s[j])) {
				j++
			}
			w := s[i:j]
			kind := "ident"
			switch strings.ToLower(w) {
			case "and", "or", "not", "of", "them", "all":
				kind = strings.ToLower(w)
			default:
				if isDigits(w) {
					kind = "num"
				}
			}
			out = append(out, ctoken{kind, w, i})
			i = j
		}
		if len(out) > maxConditionN {
			return nil, &condError{i, "condition too long"}
		}
	}
	return append(out, ctoken{"eof", "", len(s)}), nil
}

func isDigits(s string) bool {
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return s != ""
}

type condParser struct {
	toks  []ctoken
	i     int
	names []string
	index map[string]int
	depth int
}

const maxConditionDepth = 64

// parseCondition parses a condition over the rule's search identifiers. Precedence, least binding
// first: or, and, not, "x of", parentheses.
func parseCondition(s string, names []string, index map[string]int) (cond, *condError) {
	toks, err := tokenize(s)
	if err != nil {
		return nil, err
	}
	p := &condParser{toks: toks, names: names, index: index}
	n, err := p.or()
	if err != nil {
		return nil, err
	}
	if t := p.peek(); t.kind != "eof" {
		return nil, &condError{t.off, "unexpected " + quote(t.text)}
	}
	return n, nil
}

func (p *condParser) peek() ctoken { return p.toks[p.i] }
func (p *condParser) next() ctoken { t := p.toks[p.i]; p.i++; return t }

func (p *condParser) or() (cond, *condError) {
	left, err := p.and()
	if err != nil {
		return nil, err
	}
	kids := []cond{left}
	for p.peek().kind == "or" {
		p.next()
		r, err := p.and()
		if err != nil {
			return nil, err
		}
		kids = append(kids, r)
	}
	if len(kids) == 1 {
		return left, nil
	}
	return &orNode{kids: kids}, nil
}

func (p *condParser) and() (cond, *condError) {
	left, err := p.not()
	if err != nil {
		return nil, err
	}
	kids := []cond{left}
	for p.peek().kind == "and" {
		p.next()
		r, err := p.not()
		if err != nil {
			return nil, err
		}
		kids = append(kids, r)
	}
	if len(kids) == 1 {
		return left, nil
	}
	return &andNode{kids: kids}, nil
}

func (p *condParser) not() (cond, *condError) {
	if p.peek().kind == "not" {
		p.next()
		p.depth++
		if p.depth > maxConditionDepth {
			return nil, &condError{p.peek().off, "condition nested too deeply"}
		}
		k, err := p.not()
		p.depth--
		if err != nil {
			return nil, err
		}
		return &notNode{kid: k}, nil
	}
	return p.primary()
}

func (p *condParser) primary() (cond, *condError) {
	t := p.next()
	switch t.kind {
	case "lparen":
		p.depth++
		if p.depth > maxConditionDepth {
			return nil, &condError{t.off, "condition nested too deeply"}
		}
		n, err := p.or()
		p.depth--
		if err != nil {
			return nil, err
		}
		if c := p.next(); c.kind != "rparen" {
			return nil, &condError{c.off, "missing )"}
		}
		return n, nil
	case "num", "all":
		if t.kind == "num" && t.text != "1" {
			return nil, &condError{t.off, "only \"1 of\" and \"all of\" are defined, not " + quote(t.text+" of")}
		}
		if of := p.next(); of.kind != "of" {
			return nil, &condError{of.off, "expected \"of\" after " + quote(t.text)}
		}
		target := p.next()
		var matched []cond
		switch target.kind {
		case "them":
			for _, n := range p.names {
				if !strings.HasPrefix(n, "_") {
					matched = append(matched, &searchNode{p.index[n]})
				}
			}
		case "ident":
			for _, n := range p.names {
				if ok, _ := path.Match(escapeMatch(target.text), n); ok {
					matched = append(matched, &searchNode{p.index[n]})
				}
			}
			if len(matched) == 0 {
				return nil, &condError{target.off, "pattern " + quote(target.text) + " matches no search identifier"}
			}
		default:
			return nil, &condError{target.off, "expected a search identifier pattern or \"them\" after \"of\""}
		}
		if t.kind == "all" {
			return &andNode{kids: matched}, nil
		}
		return &orNode{kids: matched}, nil
	case "ident":
		i, ok := p.index[t.text]
		if !ok {
			return nil, &condError{t.off, "unknown search identifier " + quote(t.text)}
		}
		return &searchNode{i}, nil
	case "eof":
		return nil, &condError{t.off, "condition ends unexpectedly"}
	}
	return nil, &condError{t.off, "unexpected " + quote(t.text)}
}

// escapeMatch keeps path.Match's special characters other than * literal.
func escapeMatch(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `[`, `\[`, `]`, `\]`, `?`, `\?`)
	return r.Replace(s)
}
