package sigma

import (
	"fmt"
	"regexp"
	"regexp/syntax"
	"strconv"
	"strings"
	"unicode/utf8"
)

// KQLOptions say how a rule's fields are found in the table a KQL query reads.
type KQLOptions struct {
	// Field returns the KQL expression of a field (as the rule names it) — a column, or an
	// expression over columns that yields a string or a dynamic value — or false when the table
	// has no such field.
	Field func(field string) (expr string, ok bool)
	// IsString, when set, reports that an expression already yields a string (a string column),
	// so comparisons need no tostring() around it.
	IsString func(expr string) bool
}

// KQLError says why a rule, or one construct of it, has no KQL equivalent.
type KQLError struct {
	Rule      string
	Construct string // the construct that does not convert: "field bulwark.cascadeOf", "modifier minute", …
	Reason    string
}

func (e *KQLError) Error() string {
	return fmt.Sprintf("%s: %s: %s", e.Rule, e.Construct, e.Reason)
}

// KQLWhere returns a KQL predicate that holds for a row exactly when the detection rule r (one of
// rs.Rules) matches the event the row is, over the compiled matchers — so modifiers that expand
// values (base64, utf16, windash, expand) arrive as the values they match. Strings compare without
// regard to case as Sigma's do (=~, in~, contains, startswith, endswith, and (?i) in regular
// expressions), |cased with the _cs operators and ==; wildcards inside a value become an anchored
// RE2 regular expression; keyword searches look in every column (* contains). The differences that
// remain are a table's, not the rule's: a column cannot tell an absent field from an empty one, so
// null, exists and "*" treat both alike.
func (rs *RuleSet) KQLWhere(r *Rule, o KQLOptions) (string, error) {
	for i, x := range rs.Rules {
		if x == r {
			cr := rs.compiled[i]
			k := kqlConv{rule: r, o: o}
			return k.cond(cr.cond, cr)
		}
	}
	return "", &KQLError{Rule: r.Title, Construct: "rule", Reason: "not a detection rule of this rule set"}
}

type kqlConv struct {
	rule *Rule
	o    KQLOptions
}

func (k *kqlConv) fail(construct, reason string) error {
	return &KQLError{Rule: ruleLabel(k.rule), Construct: construct, Reason: reason}
}

func ruleLabel(r *Rule) string {
	if r.Name != "" {
		return r.Name
	}
	return r.Title
}

func (k *kqlConv) cond(c cond, cr *compiledRule) (string, error) {
	join := func(kids []cond, op string) (string, error) {
		parts := make([]string, 0, len(kids))
		for _, kid := range kids {
			s, err := k.cond(kid, cr)
			if err != nil {
				return "", err
			}
			parts = append(parts, s)
		}
		if len(parts) == 1 {
			return parts[0], nil
		}
		return joinBalanced(parts, op), nil
	}
	switch n := c.(type) {
	case *andNode:
		return join(n.kids, "and")
	case *orNode:
		return join(n.kids, "or")
	case *notNode:
		s, err := k.cond(n.kid, cr)
		if err != nil {
			return "", err
		}
		return "not(" + s + ")", nil
	case *searchNode:
		return k.search(cr.searches[n.idx])
	}
	return "", k.fail("condition", fmt.Sprintf("node %T", c))
}

func (k *kqlConv) search(s *compiledSearch) (string, error) {
	if s.keywords != nil {
		return k.field(s.keywords)
	}
	var ors []string
	for _, m := range s.maps {
		var ands []string
		for _, fm := range m {
			x, err := k.field(fm)
			if err != nil {
				return "", err
			}
			ands = append(ands, x)
		}
		switch len(ands) {
		case 0:
			ors = append(ors, "true")
		case 1:
			ors = append(ors, ands[0])
		default:
			ors = append(ors, joinBalanced(ands, "and"))
		}
	}
	if len(ors) == 1 {
		return ors[0], nil
	}
	return joinBalanced(ors, "or"), nil
}

func (k *kqlConv) field(fm *fieldMatcher) (string, error) {
	var expr string
	if fm.keyword {
		expr = "*"
	} else {
		var ok bool
		if expr, ok = k.o.Field(fm.field); !ok {
			return "", k.fail("field "+fm.field, "the table has no column or expression for it")
		}
	}
	switch {
	case fm.timePart != "":
		return "", k.fail("modifier "+fm.timePart, "time-part comparisons are not converted")
	case fm.exists >= 0:
		if fm.exists == 1 {
			return "isnotempty(" + expr + ")", nil
		}
		return "isempty(" + expr + ")", nil
	case fm.null:
		return "isempty(" + expr + ")", nil
	case fm.refPaths != nil:
		ref, ok := k.o.Field(fm.refPaths[0])
		if !ok {
			return "", k.fail("fieldref "+fm.refPaths[0], "the table has no column or expression for it")
		}
		op := map[bool]string{true: "=~", false: "=="}[fm.refFold]
		if fm.refKind != strExact {
			return "", k.fail("fieldref with "+map[strKind]string{strPrefix: "startswith", strSuffix: "endswith", strContains: "contains"}[fm.refKind], "not converted")
		}
		x := k.str(expr) + " " + op + " " + k.str(ref)
		if fm.neq {
			return "not(" + x + ")", nil
		}
		return x, nil
	}
	vals := fm.vals
	if len(vals) == 1 {
		if lm, ok := vals[0].(*listMatcher); ok {
			vals = lm.vals
		}
	}
	var parts []string
	// Exact case-insensitive strings together: one in~ (…); three or more case-insensitive
	// contains together: one regular expression of the quoted literals, a third of the length.
	var exact, contained []string
	shareContains := countContains(vals) >= 3
	for _, v := range vals {
		if sm, ok := v.(*strMatcher); ok && sm.kind == strExact && sm.fold && !fm.all && !fm.keyword {
			exact = append(exact, kqlString(sm.lit))
			continue
		}
		if sm, ok := v.(*strMatcher); ok && sm.kind == strContains && sm.fold && !fm.all && !fm.keyword && shareContains {
			contained = append(contained, regexp.QuoteMeta(sm.lit))
			continue
		}
		x, err := k.value(expr, v, fm.keyword)
		if err != nil {
			return "", err
		}
		parts = append(parts, x)
	}
	str := k.str(expr)
	if len(contained) > 0 {
		parts = append([]string{str + " matches regex " + kqlString("(?i)("+strings.Join(contained, "|")+")")}, parts...)
	}
	if len(exact) == 1 {
		parts = append([]string{str + " =~ " + exact[0]}, parts...)
	} else if len(exact) > 1 {
		parts = append([]string{str + " in~ (" + strings.Join(exact, ", ") + ")"}, parts...)
	}
	op := "or"
	if fm.all {
		op = "and"
	}
	x := joinBalanced(parts, op)
	if fm.neq {
		return "not(" + x + ")", nil
	}
	return x, nil
}

func countContains(vals []valueMatcher) int {
	n := 0
	for _, v := range vals {
		if sm, ok := v.(*strMatcher); ok && sm.kind == strContains && sm.fold {
			n++
		}
	}
	return n
}

// maxFlat is how many operands one parenthesised and/or chain takes before joinBalanced nests.
const maxFlat = 16

// joinBalanced joins parts with op in parentheses, nesting groups of at most maxFlat so a list of
// thousands of values stays within the Kusto parser's syntax depth (a flat chain of a few hundred
// or's exceeds it).
func joinBalanced(parts []string, op string) string {
	if len(parts) == 1 {
		return parts[0]
	}
	if len(parts) <= maxFlat {
		return "(" + strings.Join(parts, " "+op+" ") + ")"
	}
	var groups []string
	for i := 0; i < len(parts); i += maxFlat {
		groups = append(groups, joinBalanced(parts[i:min(i+maxFlat, len(parts))], op))
	}
	return joinBalanced(groups, op)
}

// str is expr as a string.
func (k *kqlConv) str(expr string) string {
	if strings.HasPrefix(expr, "tostring(") || k.o.IsString != nil && k.o.IsString(expr) {
		return expr
	}
	return "tostring(" + expr + ")"
}

// value is one value's comparison with expr.
func (k *kqlConv) value(expr string, v valueMatcher, keyword bool) (string, error) {
	str := expr
	if !keyword {
		str = k.str(expr)
	}
	switch m := v.(type) {
	case *strMatcher:
		cs := ""
		if !m.fold {
			cs = "_cs"
		}
		switch m.kind {
		case strAny:
			if keyword {
				return "true", nil
			}
			return "isnotempty(" + expr + ")", nil
		case strExact:
			if keyword {
				return "", k.fail("keyword "+strconv.Quote(m.lit), "a whole-value keyword is not converted")
			}
			if m.fold {
				return str + " =~ " + kqlString(m.lit), nil
			}
			return str + " == " + kqlString(m.lit), nil
		case strPrefix:
			return str + " startswith" + cs + " " + kqlString(m.lit), nil
		case strSuffix:
			return str + " endswith" + cs + " " + kqlString(m.lit), nil
		case strContains:
			return str + " contains" + cs + " " + kqlString(m.lit), nil
		}
		if keyword {
			return "", k.fail("keyword with wildcards", "matching every column with a pattern is not converted")
		}
		return str + " matches regex " + kqlString(globRegexp(m.glob, m.fold)), nil
	case *reMatcher:
		if keyword {
			return "", k.fail("keyword |re", "matching every column with a pattern is not converted")
		}
		if _, err := syntax.Parse(m.pattern, syntax.Perl); err != nil {
			return "", k.fail("re "+strconv.Quote(m.pattern), err.Error())
		}
		return str + " matches regex " + kqlString(m.pattern), nil
	case *numMatcher:
		op := map[string]string{"lt": "<", "lte": "<=", "gt": ">", "gte": ">=", "eq": "=="}[m.op]
		return "todouble(" + expr + ") " + op + " " + strconv.FormatFloat(m.val, 'g', -1, 64), nil
	case *cidrMatcher:
		fn := "ipv4_is_in_range"
		if m.prefix.Addr().Is6() {
			fn = "ipv6_is_in_range"
		}
		return fn + "(" + str + ", " + kqlString(m.prefix.String()) + ")", nil
	case *boolMatcher:
		return "tobool(" + expr + ") == " + strconv.FormatBool(m.val), nil
	}
	return "", k.fail(fmt.Sprintf("value %T", v), "not converted")
}

// globRegexp is the anchored RE2 expression a wildcard pattern matches.
func globRegexp(toks []gtok, fold bool) string {
	var b strings.Builder
	b.WriteString("(?s")
	if fold {
		b.WriteString("i")
	}
	b.WriteString(")^")
	for _, t := range toks {
		switch {
		case t.any:
			b.WriteString(".*")
		case t.one:
			b.WriteString(".")
		default:
			b.WriteString(regexpQuoteRune(t.r))
		}
	}
	b.WriteString("$")
	return b.String()
}

func regexpQuoteRune(r rune) string {
	if strings.ContainsRune(`\.+*?()|[]{}^$`, r) {
		return `\` + string(r)
	}
	return string(r)
}

// KQLString writes s as a KQL string literal: verbatim (@"…", quotes doubled) when it has only
// printable characters, else quoted with backslash escapes.
func KQLString(s string) string { return kqlString(s) }

func kqlString(s string) string {
	printable := utf8.ValidString(s)
	for _, r := range s {
		if r < 0x20 || r == 0x7f {
			printable = false
		}
	}
	if printable {
		return `@"` + strings.ReplaceAll(s, `"`, `""`) + `"`
	}
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		default:
			if r < 0x20 || r == 0x7f || r == utf8.RuneError {
				fmt.Fprintf(&b, `\u%04x`, r)
			} else {
				b.WriteRune(r)
			}
		}
	}
	b.WriteByte('"')
	return b.String()
}
