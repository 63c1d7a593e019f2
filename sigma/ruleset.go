package sigma

import (
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"
	"time"
)

// Options configure a rule set.
type Options struct {
	// FieldMap maps the field names rules use to the names events carry, tried in order (like a
	// pySigma pipeline's field mappings): {"OperationNameValue": ["operationName"]}.
	FieldMap map[string][]string
	// Placeholders supplies the values of %name% placeholders for the expand modifier. A rule with
	// a placeholder that has no values is rejected, as the specification requires.
	Placeholders map[string][]string
	// Lateness is how long after a correlation window ends late, out-of-order events are still
	// accepted (default 20 minutes).
	Lateness time.Duration
	// MaxGroups caps the groups a correlation rule keeps state for (default 100,000); beyond it the
	// least recently seen group is evicted and counted.
	MaxGroups int
	// MaxAlertEvents caps the events an alert carries (default 100).
	MaxAlertEvents int
	// Lenient accepts rules whose placeholders have no values (for linting); such rules never match.
	Lenient bool
}

func (o *Options) defaults() {
	if o.Lateness == 0 {
		o.Lateness = 20 * time.Minute
	}
	if o.MaxGroups == 0 {
		o.MaxGroups = 100_000
	}
	if o.MaxAlertEvents == 0 {
		o.MaxAlertEvents = 100
	}
}

// RuleSet is a compiled set of detection and correlation rules. Match and Correlator are not safe
// for concurrent use; build one RuleSet per goroutine.
type RuleSet struct {
	Rules        []*Rule // detection rules, in load order
	Correlations []*Rule
	opts         Options

	// exact[field][lower-case value] and suffix[field][last path segment] list rules that can only
	// match when the field has that value; other rules are always evaluated.
	exact     map[string]map[string][]int
	suffix    map[string]map[string][]int
	unindexed []int
	fields    []string        // indexed fields
	compiled  []*compiledRule // per detection rule: the rules themselves are never written to
	mark      []uint32
	gen       uint32
	// Placeholders lists, per rule, placeholders that had no values (lenient mode).
	Placeholders map[*Rule][]string
	// keywordIndex finds every plain keyword value in one pass over an event's strings;
	// keywordEv carries its findings for the event Match is evaluating (keywords.go).
	keywordIndex *keywordIndex
	keywordEv    *keywordEvent
}

// NewRuleSet compiles rules. Invalid rules are left out and reported, each with its position;
// the rest load. The rules are only read: several rule sets (with different field maps, say) can
// be built from the same rules, at the same time.
func NewRuleSet(rules []*Rule, opts Options) (*RuleSet, Errors) {
	opts.defaults()
	rs := &RuleSet{opts: opts, exact: map[string]map[string][]int{}, suffix: map[string]map[string][]int{}, Placeholders: map[*Rule][]string{}}
	co := compileOptions{fieldMap: opts.FieldMap, placeholders: opts.Placeholders, lenient: opts.Lenient}
	var errs Errors
	for _, r := range rules {
		r = r.Clone() // the set owns its rules: a caller changing its own later changes nothing here
		if r.Correlation != nil {
			rs.Correlations = append(rs.Correlations, r)
			continue
		}
		cr, err := compile(r, co)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		rs.compiled = append(rs.compiled, cr)
		if len(cr.missing) > 0 {
			rs.Placeholders[r] = cr.missing
		}
		rs.Rules = append(rs.Rules, r)
	}
	if err := rs.checkCorrelations(); err != nil {
		errs = append(errs, err...)
	}
	for i, cr := range rs.compiled {
		rs.indexRule(i, cr)
	}
	for f := range rs.exact {
		rs.fields = append(rs.fields, f)
	}
	for f := range rs.suffix {
		if _, dup := rs.exact[f]; !dup {
			rs.fields = append(rs.fields, f)
		}
	}
	sort.Strings(rs.fields)
	rs.mark = make([]uint32, len(rs.Rules))
	rs.indexKeywords()
	return rs, errs
}

// required finds a field that every match of the condition needs, with the values it must have.
func required(c cond, cr *compiledRule) (field string, exact, suffix []string, ok bool) {
	switch n := c.(type) {
	case *searchNode:
		s := cr.searches[n.idx]
		if s.keywords != nil {
			return "", nil, nil, false
		}
		// Every map of the search must require the same field.
		for mi, m := range s.maps {
			var mf string
			var me, ms []string
			found := false
			for _, fm := range m {
				if len(fm.exact) > 0 || len(fm.suffix) > 0 {
					mf, me, ms, found = fm.paths[0], fm.exact, fm.suffix, true
					break
				}
			}
			if !found || (mi > 0 && mf != field) {
				return "", nil, nil, false
			}
			field = mf
			exact, suffix = append(exact, me...), append(suffix, ms...)
		}
		return field, exact, suffix, len(exact)+len(suffix) > 0 && (len(exact) == 0 || len(suffix) == 0)
	case *andNode:
		for _, k := range n.kids {
			if f, e, s, ok := required(k, cr); ok {
				return f, e, s, true
			}
		}
	case *orNode:
		for i, k := range n.kids {
			f, e, s, ok := required(k, cr)
			if !ok || (i > 0 && f != field) {
				return "", nil, nil, false
			}
			field, exact, suffix = f, append(exact, e...), append(suffix, s...)
		}
		return field, exact, suffix, len(exact)+len(suffix) > 0 && (len(exact) == 0 || len(suffix) == 0)
	}
	return "", nil, nil, false
}

func (rs *RuleSet) indexRule(i int, cr *compiledRule) {
	f, exact, suffix, ok := required(cr.cond, cr)
	if !ok {
		rs.unindexed = append(rs.unindexed, i)
		return
	}
	idx, keys := rs.exact, exact
	if len(suffix) > 0 {
		idx, keys = rs.suffix, suffix
	}
	if idx[f] == nil {
		idx[f] = map[string][]int{}
	}
	seen := map[string]bool{}
	for _, k := range keys {
		if !seen[k] {
			seen[k] = true
			idx[f][k] = append(idx[f][k], i)
		}
	}
}

// Match evaluates the detection rules against ev and calls fn for each rule that matches. It does
// not allocate on the common path: only rules whose required values the event has are evaluated.
func (rs *RuleSet) Match(ev Event, fn func(*Rule)) {
	rs.gen++
	if rs.gen == 0 {
		clear(rs.mark)
		rs.gen = 1
	}
	evalOn := ev
	if rs.keywordEv != nil {
		rs.keywordEv.reset(ev)
		evalOn = rs.keywordEv
	}
	rs.candidates(ev, func(i int) bool {
		if rs.mark[i] == rs.gen {
			return true
		}
		rs.mark[i] = rs.gen
		if cr := rs.compiled[i]; cr.cond.eval(evalOn, cr) {
			fn(rs.Rules[i])
		}
		return true
	})
	if rs.keywordEv != nil {
		rs.keywordEv.Event = nil // keep no reference to the caller's event
	}
}

// MayMatch reports whether Match could call back for ev: whether any rule's required field values
// (see required) are in ev, or some rule has none. It evaluates no condition and, unlike Match, is
// safe for concurrent use. An event it rejects matches no rule.
func (rs *RuleSet) MayMatch(ev Event) bool {
	may := false
	rs.candidates(ev, func(int) bool { may = true; return false })
	return may
}

// IndexedFields returns the fields rules are indexed on and whether every rule is: then an event
// that MayMatch rejects for its values of these fields matches no rule whatever its other fields.
func (rs *RuleSet) IndexedFields() (fields []string, all bool) {
	return rs.fields, len(rs.unindexed) == 0
}

// candidates calls try with every rule that may match ev (a rule can come more than once), until
// try returns false.
func (rs *RuleSet) candidates(ev Event, try func(i int) bool) {
	each := func(list []int) bool {
		for _, i := range list {
			if !try(i) {
				return false
			}
		}
		return true
	}
	var buf [256]byte
	for _, f := range rs.fields {
		v, ok := ev.Field(f)
		if !ok {
			continue
		}
		s, isStr := v.(string)
		if !isStr || len(s) > len(buf) {
			// Not a plain string (multi-valued, numeric): every rule indexed on this field may match.
			for _, list := range rs.exact[f] {
				if !each(list) {
					return
				}
			}
			for _, list := range rs.suffix[f] {
				if !each(list) {
					return
				}
			}
			continue
		}
		low := buf[:len(s)]
		for j := 0; j < len(s); j++ {
			low[j] = lowerASCII(s[j])
		}
		if m := rs.exact[f]; m != nil && !each(m[string(low)]) {
			return
		}
		if m := rs.suffix[f]; m != nil {
			seg := low
			if k := lastSlash(low); k >= 0 {
				seg = low[k+1:]
			}
			if !each(m[string(seg)]) {
				return
			}
		}
	}
	each(rs.unindexed)
}

func lastSlash(b []byte) int {
	for i := len(b) - 1; i >= 0; i-- {
		if b[i] == '/' {
			return i
		}
	}
	return -1
}

// Stats describes how the rule set is indexed.
func (rs *RuleSet) Stats() (indexed, unindexed int) {
	return len(rs.Rules) - len(rs.unindexed), len(rs.unindexed)
}

// checkCorrelations validates that correlation rules refer to rules that exist.
func (rs *RuleSet) checkCorrelations() Errors {
	known := map[string]bool{}
	for _, r := range append(append([]*Rule(nil), rs.Rules...), rs.Correlations...) {
		if r.ID != "" {
			known[r.ID] = true
		}
		if r.Name != "" {
			known[r.Name] = true
		}
	}
	var errs Errors
	keep := rs.Correlations[:0]
	for _, c := range rs.Correlations {
		bad := false
		for _, ref := range c.Correlation.Rules {
			if !known[ref] {
				errs = append(errs, &Error{File: c.File, Line: c.Line, Column: c.Column, Rule: c.Title, Msg: fmt.Sprintf("correlation refers to rule %q, which is not loaded", ref)})
				bad = true
			}
		}
		if !bad {
			keep = append(keep, c)
		}
	}
	rs.Correlations = keep
	return errs
}

// LoadFS parses every .yml and .yaml file of fsys (an embedded rule pack, say); files are named
// label/path in rules and errors.
func LoadFS(fsys fs.FS, label string) ([]*Rule, Errors) {
	var rules []*Rule
	var errs Errors
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		name := path.Join(label, p)
		if err != nil {
			errs = append(errs, &Error{File: name, Msg: err.Error()})
			return nil
		}
		if d.IsDir() {
			if p != "." && strings.HasPrefix(d.Name(), ".") {
				return fs.SkipDir
			}
			return nil
		}
		if n := strings.ToLower(d.Name()); !strings.HasSuffix(n, ".yml") && !strings.HasSuffix(n, ".yaml") {
			return nil
		}
		data, err := fs.ReadFile(fsys, p)
		if err != nil {
			errs = append(errs, &Error{File: name, Msg: err.Error()})
			return nil
		}
		rs, es := ParseRules(name, data)
		rules, errs = append(rules, rs...), append(errs, es...)
		return nil
	})
	if err != nil {
		errs = append(errs, &Error{File: label, Msg: err.Error()})
	}
	return rules, errs
}
