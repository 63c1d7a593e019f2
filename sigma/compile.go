package sigma

import (
	"encoding/base64"
	"fmt"
	"net/netip"
	"sort"
	"strconv"
	"strings"
)

// fieldMatcher is one compiled "field|modifiers: values".
type fieldMatcher struct {
	field    string
	paths    []string // event field names to try, in order (field mappings)
	keyword  bool     // no field: match any string value of the event
	all      bool
	neq      bool
	exists   int8 // -1 not used, 0 must not exist, 1 must exist
	null     bool // the value is null: the field is absent or null
	timePart string
	refPaths []string // fieldref: compare with this field
	refKind  strKind
	refFold  bool
	vals     []valueMatcher
	// exact lists the lower-cased literal values when every value is an exact, case-insensitive string
	// (for the rule-set index); suffix likewise for "/segment" endswith values.
	exact  []string
	suffix []string
	// patterns, for a keyword search in a rule set with a keyword index, is each value's pattern
	// in it (-1: matched the usual way); see keywords.go.
	patterns []int32
}

type compiledSearch struct {
	name     string
	maps     [][]*fieldMatcher
	keywords *fieldMatcher
}

type compiledRule struct {
	searches []*compiledSearch
	cond     cond
	missing  []string // placeholders without values
}

var knownModifiers = map[string]bool{
	"contains": true, "startswith": true, "endswith": true, "all": true, "exists": true, "cased": true, "neq": true,
	"re": true, "i": true, "m": true, "s": true, "base64": true, "base64offset": true, "utf16le": true, "utf16be": true,
	"utf16": true, "wide": true, "windash": true, "cidr": true, "lt": true, "lte": true, "gt": true, "gte": true,
	"fieldref": true, "expand": true, "minute": true, "hour": true, "day": true, "week": true, "month": true, "year": true,
}

// compileOptions are what compiling needs from the rule set's options.
type compileOptions struct {
	fieldMap     map[string][]string
	placeholders map[string][]string
	lenient      bool // lint: accept placeholders without values
}

func (o compileOptions) paths(field string) []string {
	if p, ok := o.fieldMap[field]; ok && len(p) > 0 {
		return p
	}
	return []string{field}
}

func (p *ruleParser) compileField(fs *FieldSpec, o compileOptions, missing *[]string) (*fieldMatcher, error) {
	fm := &fieldMatcher{field: fs.Field, exists: -1, keyword: fs.Field == ""}
	if !fm.keyword {
		fm.paths = o.paths(fs.Field)
	}
	var (
		shape                string // "", contains, startswith, endswith
		re, cidr, cased, ref bool
		reFlags              string
		num                  string
		transforms           []string
	)
	for _, m := range fs.Modifiers {
		if !knownModifiers[m] {
			return nil, p.errPos(fs.pos, "unknown modifier %q on %q", m, fs.Field)
		}
		switch m {
		case "contains", "startswith", "endswith":
			if shape != "" && shape != m {
				return nil, p.errPos(fs.pos, "modifiers %q and %q cannot be combined", shape, m)
			}
			shape = m
		case "all":
			fm.all = true
		case "exists":
			if len(fs.Values) != 1 {
				return nil, p.errPos(fs.pos, "exists needs exactly one value, true or false")
			}
			b, ok := fs.Values[0].(bool)
			if !ok {
				return nil, p.errPos(fs.pos, "exists needs true or false, got %v", fs.Values[0])
			}
			fm.exists = 0
			if b {
				fm.exists = 1
			}
			return fm, nil
		case "cased":
			cased = true
		case "neq":
			fm.neq = true
		case "re":
			re = true
		case "i", "m", "s":
			if !re {
				return nil, p.errPos(fs.pos, "modifier %q only follows re", m)
			}
			reFlags += m
		case "base64", "base64offset", "utf16le", "utf16be", "utf16", "wide", "windash":
			transforms = append(transforms, m)
		case "expand":
			transforms = append(transforms, m)
		case "cidr":
			cidr = true
		case "lt", "lte", "gt", "gte":
			if num != "" {
				return nil, p.errPos(fs.pos, "two numeric comparisons %q and %q", num, m)
			}
			num = m
		case "fieldref":
			ref = true
		case "minute", "hour", "day", "week", "month", "year":
			fm.timePart = m
		}
	}
	if fm.all && len(fs.Values) < 2 {
		return nil, p.errPos(fs.pos, "all needs a list of at least two values")
	}
	if fm.keyword && (ref || fm.neq || num != "" || cidr) {
		return nil, p.errPos(fs.pos, "keyword searches cannot use fieldref, neq, numeric or cidr modifiers")
	}
	// null: the field is absent or null.
	if len(fs.Values) == 1 && fs.Values[0] == nil && len(fs.Modifiers) == 0 && !fm.keyword {
		fm.null = true
		return fm, nil
	}
	for _, v := range fs.Values {
		if v == nil && len(fs.Values) > 1 {
			return nil, p.errPos(fs.pos, "null cannot be part of a list of values")
		}
	}
	fold := !cased
	if ref {
		for _, v := range fs.Values {
			s, ok := v.(string)
			if !ok {
				return nil, p.errPos(fs.pos, "fieldref needs field names")
			}
			fm.refPaths = append(fm.refPaths, o.paths(s)...)
		}
		fm.refKind, fm.refFold = strExact, fold
		switch shape {
		case "contains":
			fm.refKind = strContains
		case "startswith":
			fm.refKind = strPrefix
		case "endswith":
			fm.refKind = strSuffix
		}
		return fm, nil
	}
	// Expand the values through the transformations, in order.
	type val struct {
		raw     any
		literal bool // produced by an encoding: no wildcards
	}
	vals := make([]val, 0, len(fs.Values))
	for _, v := range fs.Values {
		vals = append(vals, val{raw: v})
	}
	for _, t := range transforms {
		var next []val
		for _, v := range vals {
			s, ok := v.raw.(string)
			if !ok {
				return nil, p.errPos(fs.pos, "modifier %q applies to strings, not %v", t, v.raw)
			}
			if t != "windash" && t != "expand" && !v.literal && strings.ContainsAny(s, "*?") && !strings.Contains(s, `\*`) && !strings.Contains(s, `\?`) {
				return nil, p.errPos(fs.pos, "modifier %q cannot encode a value with wildcards (%q)", t, s)
			}
			plain := s
			if !v.literal {
				if lit, ok := literal(parsePattern(s)); ok {
					plain = lit
				}
			}
			switch t {
			case "base64":
				next = append(next, val{raw: base64.StdEncoding.EncodeToString([]byte(plain)), literal: true})
			case "base64offset":
				for _, e := range base64Offsets(plain) {
					next = append(next, val{raw: e, literal: true})
				}
			case "utf16le", "wide":
				next = append(next, val{raw: encodeUTF16(plain, "le", false), literal: true})
			case "utf16be":
				next = append(next, val{raw: encodeUTF16(plain, "be", false), literal: true})
			case "utf16":
				next = append(next, val{raw: encodeUTF16(plain, "le", true), literal: true})
			case "windash":
				vs, err := windash(s)
				if err != nil {
					return nil, p.errPos(fs.pos, "%v", err)
				}
				for _, e := range vs {
					next = append(next, val{raw: e, literal: v.literal})
				}
			case "expand":
				vs, miss, err := expand(s, o.placeholders)
				if err != nil {
					return nil, p.errPos(fs.pos, "%v", err)
				}
				if len(miss) > 0 {
					if !o.lenient {
						return nil, p.errPos(fs.pos, "placeholder %%%s%% has no values: supply them as rule-set placeholders", miss[0])
					}
					*missing = append(*missing, miss...)
				}
				for _, e := range vs {
					next = append(next, val{raw: e, literal: v.literal})
				}
			}
			if len(next) > maxValues {
				return nil, p.errPos(fs.pos, "modifiers expand to more than %d values", maxValues)
			}
		}
		vals = next
	}
	for _, v := range vals {
		var m valueMatcher
		switch {
		case fm.timePart != "" && num == "":
			f, ok := toFloat(v.raw)
			if !ok {
				return nil, p.errPos(fs.pos, "%s needs a number, got %v", fm.timePart, v.raw)
			}
			m = &numMatcher{op: "eq", val: f}
		case num != "":
			f, ok := toFloat(v.raw)
			if !ok {
				return nil, p.errPos(fs.pos, "%s needs a number, got %v", num, v.raw)
			}
			m = &numMatcher{op: num, val: f}
		case re:
			s, ok := v.raw.(string)
			if !ok {
				s = fmt.Sprint(v.raw)
			}
			flags := reFlags
			if flags != "" {
				s = "(?" + flags + ")" + s
			}
			rm, err := newReMatcher(s, len(vals) >= listThreshold && !fm.all)
			if err != nil {
				return nil, p.errPos(fs.pos, "invalid regular expression %q: %v", v.raw, err)
			}
			m = rm
		case cidr:
			s, _ := v.raw.(string)
			pfx, err := netip.ParsePrefix(strings.TrimSpace(s))
			if err != nil {
				return nil, p.errPos(fs.pos, "invalid CIDR %q", v.raw)
			}
			m = &cidrMatcher{prefix: pfx.Masked()}
		default:
			switch x := v.raw.(type) {
			case bool:
				m = &boolMatcher{val: x}
			case nil:
				return nil, p.errPos(fs.pos, "null cannot be combined with modifiers")
			default:
				s, hasNum := "", false
				var f float64
				switch y := x.(type) {
				case string:
					s = y
				case int64:
					s, f, hasNum = strconv.FormatInt(y, 10), float64(y), true
				case float64:
					s, f, hasNum = strconv.FormatFloat(y, 'f', -1, 64), y, true
				}
				var toks []gtok
				if v.literal || hasNum {
					for _, r := range s {
						toks = append(toks, gtok{r: r})
					}
				} else {
					toks = parsePattern(s)
				}
				if fm.keyword && shape == "" && !hasWildcard(toks) {
					shape = "contains"
				}
				switch shape {
				case "contains":
					toks = append(append([]gtok{{any: true}}, toks...), gtok{any: true})
				case "startswith":
					toks = append(toks, gtok{any: true})
				case "endswith":
					toks = append([]gtok{{any: true}}, toks...)
				}
				toks = collapseStars(toks)
				sm := newStrMatcher(toks, fold)
				sm.hasNum, sm.num = hasNum && shape == "", f
				m = sm
			}
		}
		fm.vals = append(fm.vals, m)
	}
	fm.indexKeys(fold)
	if len(fm.vals) >= listThreshold && !fm.all {
		// "Any of" a long list: one listMatcher (list.go) instead of one matcher after another.
		fm.vals = []valueMatcher{newListMatcher(fm.vals)}
	}
	return fm, nil
}

func hasWildcard(toks []gtok) bool {
	for _, t := range toks {
		if t.any || t.one {
			return true
		}
	}
	return false
}

func collapseStars(toks []gtok) []gtok {
	out := toks[:0:0]
	for _, t := range toks {
		if t.any && len(out) > 0 && out[len(out)-1].any {
			continue
		}
		out = append(out, t)
	}
	return out
}

// indexKeys records the literal values the rule-set index can use.
func (fm *fieldMatcher) indexKeys(fold bool) {
	if !fold || fm.all || fm.neq || fm.keyword || fm.timePart != "" || len(fm.paths) != 1 {
		return
	}
	var exact, suffix []string
	for _, v := range fm.vals {
		sm, ok := v.(*strMatcher)
		if !ok || sm.hasNum {
			return
		}
		switch {
		case sm.kind == strExact && isASCII(sm.lit):
			exact = append(exact, strings.ToLower(sm.lit))
		case sm.kind == strSuffix && strings.HasPrefix(sm.lit, "/") && !strings.Contains(sm.lit[1:], "/") && len(sm.lit) > 1 && isASCII(sm.lit):
			suffix = append(suffix, strings.ToLower(sm.lit[1:]))
		default:
			return
		}
	}
	if len(exact) > 0 && len(suffix) > 0 {
		return
	}
	fm.exact, fm.suffix = exact, suffix
}

func (p *ruleParser) errPos(at pos, format string, args ...any) *Error {
	e := &Error{File: p.file, Line: at.line, Column: at.col, Msg: fmt.Sprintf(format, args...)}
	if p.rule != nil {
		e.Rule = p.rule.Title
	}
	return e
}

// compile builds the matcher tree of a detection rule.
func compile(r *Rule, o compileOptions) (*compiledRule, *Error) {
	p := &ruleParser{file: r.File, rule: r}
	cr := &compiledRule{}
	index := map[string]int{}
	names := make([]string, 0, len(r.Detection.Searches))
	for n := range r.Detection.Searches {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		s := r.Detection.Searches[n]
		cs := &compiledSearch{name: n}
		for _, m := range s.Maps {
			var fms []*fieldMatcher
			for _, fs := range m {
				fm, err := p.compileField(fs, o, &cr.missing)
				if err != nil {
					return nil, err.(*Error)
				}
				fms = append(fms, fm)
			}
			cs.maps = append(cs.maps, fms)
		}
		if s.Keywords != nil {
			fm, err := p.compileField(s.Keywords, o, &cr.missing)
			if err != nil {
				return nil, err.(*Error)
			}
			cs.keywords = fm
		}
		index[n] = len(cr.searches)
		cr.searches = append(cr.searches, cs)
	}
	var conds []cond
	for i, c := range r.Detection.Conditions {
		node, err := parseCondition(c, names, index)
		if err != nil {
			at := r.Detection.condPos[i]
			return nil, p.errPos(pos{at.line, at.col + err.offset}, "condition: %s", err.msg)
		}
		conds = append(conds, node)
	}
	if len(conds) == 1 {
		cr.cond = conds[0]
	} else {
		cr.cond = &orNode{kids: conds}
	}
	return cr, nil
}
