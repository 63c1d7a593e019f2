package sigma

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Rule is a Sigma detection rule or a correlation rule (Correlation != nil).
type Rule struct {
	Title          string
	ID             string
	Name           string
	Status         string
	Description    string
	License        string
	Author         string
	Date           string
	Modified       string
	Level          Level
	Taxonomy       string
	Scope          []string
	References     []string
	Tags           []string
	FalsePositives []string
	Fields         []string
	Related        []Related
	Logsource      Logsource
	// Detection holds the search identifiers and condition of a detection rule.
	Detection *Detection
	// Correlation holds the correlation section of a correlation rule.
	Correlation *Correlation
	// Custom holds the top-level attributes the specification does not define (such as
	// "bulwark.stage"), as decoded YAML values.
	Custom map[string]any

	File   string
	Line   int
	Column int
}

// Related links to another rule.
type Related struct {
	ID   string
	Type string
}

// Logsource says which events a rule applies to.
type Logsource struct {
	Category   string
	Product    string
	Service    string
	Definition string
}

// Detection is a rule's search identifiers and its condition(s).
type Detection struct {
	Searches   map[string]*Search
	Conditions []string // several conditions are linked with OR
	condPos    []pos
	Timeframe  string // obsolete; kept so that old rules load
}

// Search is one search identifier: field matchers (one map, or a list of maps linked with OR) or keywords.
type Search struct {
	Name     string
	Maps     [][]*FieldSpec // OR of AND-maps
	Keywords *FieldSpec     // a keyword list; FieldSpec.Field is ""
	pos      pos
}

// FieldSpec is "field|mod|mod: values" as written.
type FieldSpec struct {
	Field     string
	Modifiers []string
	Values    []any // string, int64, float64, bool or nil
	pos       pos
}

// Correlation is the correlation section of a correlation rule.
type Correlation struct {
	Type      string // event_count, value_count, temporal, temporal_ordered, value_sum, value_avg, value_percentile
	Rules     []string
	GroupBy   []string
	Timespan  time.Duration
	Condition Condition // comparisons of the aggregate, all of which must hold
	Field     string    // for value_* types
	Aliases   map[string]map[string]string
	Generate  bool
}

type pos struct{ line, col int }

// correlationTypes are the types the specification defines.
var correlationTypes = map[string]bool{"event_count": true, "value_count": true, "temporal": true, "temporal_ordered": true,
	"value_sum": true, "value_avg": true, "value_percentile": true}

// ParseRules parses one YAML file of one or more rules (documents separated by ---). It returns
// every rule that is valid and an error for each that is not.
func ParseRules(file string, data []byte) ([]*Rule, Errors) {
	dec := yaml.NewDecoder(strings.NewReader(string(data)))
	var rules []*Rule
	var errs Errors
	for i := 0; ; i++ {
		var doc yaml.Node
		err := dec.Decode(&doc)
		if err != nil {
			if err.Error() == "EOF" {
				break
			}
			errs = append(errs, yamlError(file, err))
			break
		}
		if len(doc.Content) == 0 {
			continue
		}
		r, err := parseRule(file, doc.Content[0])
		if err != nil {
			errs = append(errs, err.(*Error))
			continue
		}
		if r != nil {
			rules = append(rules, r)
		}
	}
	return rules, errs
}

var yamlLine = regexp.MustCompile(`line (\d+)`)

func yamlError(file string, err error) *Error {
	e := &Error{File: file, Msg: "invalid YAML: " + strings.TrimPrefix(err.Error(), "yaml: ")}
	if m := yamlLine.FindStringSubmatch(err.Error()); m != nil {
		e.Line, _ = strconv.Atoi(m[1])
		e.Column = 1
	}
	return e
}

type ruleParser struct {
	file string
	rule *Rule
}

func (p *ruleParser) errAt(n *yaml.Node, format string, args ...any) *Error {
	e := &Error{File: p.file, Msg: fmt.Sprintf(format, args...)}
	if n != nil {
		e.Line, e.Column = n.Line, n.Column
	}
	if p.rule != nil {
		e.Rule = p.rule.Title
		if e.Rule == "" {
			e.Rule = p.rule.ID
		}
	}
	return e
}

func parseRule(file string, n *yaml.Node) (*Rule, error) {
	p := &ruleParser{file: file}
	if n.Kind != yaml.MappingNode {
		return nil, p.errAt(n, "a rule must be a YAML mapping, not %s", kindName(n))
	}
	r := &Rule{File: file, Line: n.Line, Column: n.Column}
	p.rule = r
	// Titles first, so errors can name the rule.
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == "title" {
			r.Title = n.Content[i+1].Value
		}
		if n.Content[i].Value == "id" {
			r.ID = n.Content[i+1].Value
		}
	}
	var detection, correlation, logsource *yaml.Node
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if seen[k.Value] {
			return nil, p.errAt(k, "attribute %q appears twice", k.Value)
		}
		seen[k.Value] = true
		var err error
		switch k.Value {
		case "title":
			err = p.str(v, &r.Title, 256)
		case "id":
			err = p.str(v, &r.ID, 0)
		case "name":
			err = p.str(v, &r.Name, 0)
		case "status":
			err = p.str(v, &r.Status, 0)
			if err == nil && r.Status != "" && !map[string]bool{"stable": true, "test": true, "experimental": true, "deprecated": true, "unsupported": true}[r.Status] {
				err = p.errAt(v, "status %q is not one of stable, test, experimental, deprecated, unsupported", r.Status)
			}
		case "description":
			err = p.str(v, &r.Description, 65535)
		case "license":
			err = p.str(v, &r.License, 0)
		case "author":
			err = p.str(v, &r.Author, 0)
		case "date":
			err = p.str(v, &r.Date, 0)
		case "modified":
			err = p.str(v, &r.Modified, 0)
		case "level":
			var l string
			err = p.str(v, &l, 0)
			r.Level = Level(l)
			if err == nil && l != "" && r.Level.Rank() < 0 {
				err = p.errAt(v, "level %q is not one of informational, low, medium, high, critical", l)
			}
		case "taxonomy":
			err = p.str(v, &r.Taxonomy, 0)
		case "references", "reference":
			r.References, err = p.strs(v)
		case "tags":
			r.Tags, err = p.strs(v)
		case "falsepositives":
			r.FalsePositives, err = p.strs(v)
		case "fields":
			r.Fields, err = p.strs(v)
		case "scope":
			r.Scope, err = p.strs(v)
		case "related":
			r.Related, err = p.related(v)
		case "logsource":
			logsource = v
		case "detection":
			detection = v
		case "correlation":
			correlation = v
		default:
			var val any
			if derr := v.Decode(&val); derr != nil {
				err = p.errAt(v, "attribute %q: %v", k.Value, derr)
			} else {
				if r.Custom == nil {
					r.Custom = map[string]any{}
				}
				r.Custom[k.Value] = val
			}
		}
		if err != nil {
			return nil, err
		}
	}
	if r.Title == "" {
		return nil, p.errAt(n, "attribute \"title\" is missing")
	}
	switch {
	case correlation != nil && detection != nil:
		return nil, p.errAt(correlation, "a rule has either a detection or a correlation section, not both")
	case correlation != nil:
		c, err := p.correlation(correlation)
		if err != nil {
			return nil, err
		}
		r.Correlation = c
	case detection != nil:
		if logsource == nil {
			return nil, p.errAt(n, "attribute \"logsource\" is missing")
		}
		if err := p.logsource(logsource, &r.Logsource); err != nil {
			return nil, err
		}
		d, err := p.detection(detection)
		if err != nil {
			return nil, err
		}
		r.Detection = d
	default:
		return nil, p.errAt(n, "attribute \"detection\" (or \"correlation\") is missing")
	}
	return r, nil
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			return "null"
		}
		return "a scalar"
	case yaml.AliasNode:
		return "an alias"
	}
	return "a document"
}

func (p *ruleParser) str(n *yaml.Node, dst *string, max int) error {
	if n.Kind != yaml.ScalarNode {
		return p.errAt(n, "expected a string, found %s", kindName(n))
	}
	if max > 0 && len(n.Value) > max {
		return p.errAt(n, "longer than %d characters", max)
	}
	*dst = n.Value
	return nil
}

func (p *ruleParser) strs(n *yaml.Node) ([]string, error) {
	if n.Kind == yaml.ScalarNode {
		if n.Tag == "!!null" {
			return nil, nil
		}
		return []string{n.Value}, nil
	}
	if n.Kind != yaml.SequenceNode {
		return nil, p.errAt(n, "expected a list of strings, found %s", kindName(n))
	}
	out := make([]string, 0, len(n.Content))
	for _, e := range n.Content {
		if e.Kind != yaml.ScalarNode {
			return nil, p.errAt(e, "expected a string, found %s", kindName(e))
		}
		out = append(out, e.Value)
	}
	return out, nil
}

func (p *ruleParser) related(n *yaml.Node) ([]Related, error) {
	if n.Kind != yaml.SequenceNode {
		return nil, p.errAt(n, "related must be a list")
	}
	var out []Related
	for _, e := range n.Content {
		var r struct{ ID, Type string }
		if err := e.Decode(&r); err != nil {
			return nil, p.errAt(e, "related: %v", err)
		}
		out = append(out, Related{ID: r.ID, Type: r.Type})
	}
	return out, nil
}

func (p *ruleParser) logsource(n *yaml.Node, ls *Logsource) error {
	if n.Kind != yaml.MappingNode {
		return p.errAt(n, "logsource must be a mapping, found %s", kindName(n))
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		var dst *string
		switch k.Value {
		case "category":
			dst = &ls.Category
		case "product":
			dst = &ls.Product
		case "service":
			dst = &ls.Service
		case "definition":
			dst = &ls.Definition
		default:
			continue // custom logsource attributes are allowed
		}
		if err := p.str(v, dst, 0); err != nil {
			return err
		}
	}
	return nil
}

// Limits that keep hostile rules bounded.
const (
	maxSearches   = 1000
	maxValues     = 10000
	maxValueLen   = 10000
	maxConditionN = 10000
)

func (p *ruleParser) detection(n *yaml.Node) (*Detection, error) {
	if n.Kind != yaml.MappingNode {
		return nil, p.errAt(n, "detection must be a mapping, found %s", kindName(n))
	}
	d := &Detection{Searches: map[string]*Search{}}
	var condNode *yaml.Node
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		switch k.Value {
		case "condition":
			condNode = v
			continue
		case "timeframe":
			d.Timeframe = v.Value
			continue
		}
		if len(d.Searches) >= maxSearches {
			return nil, p.errAt(k, "more than %d search identifiers", maxSearches)
		}
		s, err := p.search(k, v)
		if err != nil {
			return nil, err
		}
		d.Searches[k.Value] = s
	}
	if condNode == nil {
		return nil, p.errAt(n, "detection has no condition")
	}
	switch condNode.Kind {
	case yaml.ScalarNode:
		d.Conditions = []string{condNode.Value}
		d.condPos = []pos{{condNode.Line, condNode.Column}}
	case yaml.SequenceNode:
		for _, c := range condNode.Content {
			if c.Kind != yaml.ScalarNode {
				return nil, p.errAt(c, "condition must be a string")
			}
			d.Conditions = append(d.Conditions, c.Value)
			d.condPos = append(d.condPos, pos{c.Line, c.Column})
		}
	default:
		return nil, p.errAt(condNode, "condition must be a string or a list of strings")
	}
	if len(d.Searches) == 0 {
		return nil, p.errAt(n, "detection has no search identifiers")
	}
	return d, nil
}

func (p *ruleParser) search(k, v *yaml.Node) (*Search, error) {
	s := &Search{Name: k.Value, pos: pos{k.Line, k.Column}}
	switch v.Kind {
	case yaml.MappingNode:
		m, err := p.fieldMap(v)
		if err != nil {
			return nil, err
		}
		s.Maps = [][]*FieldSpec{m}
	case yaml.SequenceNode:
		if len(v.Content) == 0 {
			return nil, p.errAt(v, "search identifier %q is an empty list", k.Value)
		}
		if v.Content[0].Kind == yaml.MappingNode {
			for _, e := range v.Content {
				if e.Kind != yaml.MappingNode {
					return nil, p.errAt(e, "search identifier %q mixes maps and plain values", k.Value)
				}
				m, err := p.fieldMap(e)
				if err != nil {
					return nil, err
				}
				s.Maps = append(s.Maps, m)
			}
		} else {
			fs, err := p.values(&FieldSpec{pos: pos{v.Line, v.Column}}, v)
			if err != nil {
				return nil, err
			}
			s.Keywords = fs
		}
	case yaml.ScalarNode:
		if v.Tag == "!!null" {
			return nil, p.errAt(v, "search identifier %q has no value", k.Value)
		}
		fs, err := p.values(&FieldSpec{pos: pos{v.Line, v.Column}}, v)
		if err != nil {
			return nil, err
		}
		s.Keywords = fs
	default:
		return nil, p.errAt(v, "search identifier %q must be a map, a list of maps or a list of keywords", k.Value)
	}
	return s, nil
}

func (p *ruleParser) fieldMap(n *yaml.Node) ([]*FieldSpec, error) {
	var out []*FieldSpec
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		parts := strings.Split(k.Value, "|")
		fs := &FieldSpec{Field: parts[0], Modifiers: parts[1:], pos: pos{k.Line, k.Column}}
		if _, err := p.values(fs, v); err != nil {
			return nil, err
		}
		out = append(out, fs)
	}
	if len(out) == 0 {
		return nil, p.errAt(n, "empty map in a search identifier")
	}
	return out, nil
}

func (p *ruleParser) values(fs *FieldSpec, v *yaml.Node) (*FieldSpec, error) {
	add := func(n *yaml.Node) error {
		if n.Kind != yaml.ScalarNode {
			return p.errAt(n, "values must be plain scalars, found %s", kindName(n))
		}
		if len(fs.Values) >= maxValues {
			return p.errAt(n, "more than %d values", maxValues)
		}
		if len(n.Value) > maxValueLen {
			return p.errAt(n, "a value longer than %d characters", maxValueLen)
		}
		fs.Values = append(fs.Values, scalar(n))
		return nil
	}
	switch v.Kind {
	case yaml.SequenceNode:
		if len(v.Content) == 0 {
			return nil, p.errAt(v, "field %q has an empty list of values", fs.Field)
		}
		for _, e := range v.Content {
			if err := add(e); err != nil {
				return nil, err
			}
		}
	default:
		if err := add(v); err != nil {
			return nil, err
		}
	}
	return fs, nil
}

// scalar decodes a YAML scalar to string, int64, float64, bool or nil, keeping quoted values strings.
func scalar(n *yaml.Node) any {
	switch n.Tag {
	case "!!null":
		return nil
	case "!!int":
		if i, err := strconv.ParseInt(n.Value, 0, 64); err == nil {
			return i
		}
	case "!!float":
		if f, err := strconv.ParseFloat(n.Value, 64); err == nil {
			return f
		}
	case "!!bool":
		var b bool
		if n.Decode(&b) == nil {
			return b
		}
	}
	return n.Value
}

var timespanRe = regexp.MustCompile(`^(\d+)([smhdwMy])$`)

// ParseTimespan parses a correlation timespan: a number and a unit s, m, h, d (w for weeks, M for
// 30-day months and y for 365-day years are accepted too).
func ParseTimespan(s string) (time.Duration, error) {
	m := timespanRe.FindStringSubmatch(strings.TrimSpace(s))
	if m == nil {
		return 0, fmt.Errorf("timespan %q is not a number followed by s, m, h or d", s)
	}
	n, _ := strconv.ParseInt(m[1], 10, 64)
	if n <= 0 || n > 1<<20 {
		return 0, fmt.Errorf("timespan %q is out of range", s)
	}
	unit := map[string]time.Duration{"s": time.Second, "m": time.Minute, "h": time.Hour, "d": 24 * time.Hour,
		"w": 7 * 24 * time.Hour, "M": 30 * 24 * time.Hour, "y": 365 * 24 * time.Hour}[m[2]]
	return time.Duration(n) * unit, nil
}

func (p *ruleParser) correlation(n *yaml.Node) (*Correlation, error) {
	if n.Kind != yaml.MappingNode {
		return nil, p.errAt(n, "correlation must be a mapping, found %s", kindName(n))
	}
	c := &Correlation{}
	var typeNode, condNode, spanNode *yaml.Node
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		var err error
		switch k.Value {
		case "type":
			typeNode = v
			err = p.str(v, &c.Type, 0)
		case "rules":
			c.Rules, err = p.strs(v)
		case "group-by":
			c.GroupBy, err = p.strs(v)
		case "timespan", "timeframe":
			spanNode = v
		case "condition":
			condNode = v
		case "generate":
			if v.Decode(&c.Generate) != nil {
				err = p.errAt(v, "generate must be true or false")
			}
		case "aliases":
			if v.Kind != yaml.MappingNode {
				return nil, p.errAt(v, "aliases must be a mapping of alias → {rule name: field}")
			}
			c.Aliases = map[string]map[string]string{}
			for j := 0; j+1 < len(v.Content); j += 2 {
				m := map[string]string{}
				if derr := v.Content[j+1].Decode(&m); derr != nil {
					return nil, p.errAt(v.Content[j+1], "alias %q must map rule names to fields", v.Content[j].Value)
				}
				c.Aliases[v.Content[j].Value] = m
			}
		default:
			return nil, p.errAt(k, "unknown correlation attribute %q", k.Value)
		}
		if err != nil {
			return nil, err
		}
	}
	if typeNode == nil {
		return nil, p.errAt(n, "correlation has no type")
	}
	if !correlationTypes[c.Type] {
		return nil, p.errAt(typeNode, "correlation type %q is not one of event_count, value_count, temporal, temporal_ordered, value_sum, value_avg, value_percentile", c.Type)
	}
	if len(c.Rules) == 0 {
		return nil, p.errAt(n, "correlation has no rules")
	}
	if spanNode == nil {
		return nil, p.errAt(n, "correlation has no timespan")
	}
	span, err := ParseTimespan(spanNode.Value)
	if err != nil {
		return nil, p.errAt(spanNode, "%v", err)
	}
	c.Timespan = span
	temporal := c.Type == "temporal" || c.Type == "temporal_ordered"
	if condNode == nil {
		if !temporal {
			return nil, p.errAt(n, "a %s correlation needs a condition", c.Type)
		}
	} else {
		if condNode.Kind != yaml.MappingNode {
			return nil, p.errAt(condNode, "condition must be a mapping such as {gte: 10}")
		}
		for j := 0; j+1 < len(condNode.Content); j += 2 {
			k, v := condNode.Content[j], condNode.Content[j+1]
			switch k.Value {
			case "field":
				if v.Kind == yaml.SequenceNode && len(v.Content) > 0 {
					c.Field = v.Content[0].Value // several fields: the first (they are linked with AND)
				} else {
					c.Field = v.Value
				}
			case "gt", "gte", "lt", "lte", "eq", "neq":
				f, err := strconv.ParseFloat(v.Value, 64)
				if err != nil {
					return nil, p.errAt(v, "condition %s: %q is not a number", k.Value, v.Value)
				}
				c.Condition = c.Condition.With(Op(k.Value), f)
			default:
				return nil, p.errAt(k, "unknown condition operator %q (gt, gte, lt, lte, eq, neq, field)", k.Value)
			}
		}
		if c.Condition.Empty() && !temporal {
			return nil, p.errAt(condNode, "condition has no comparison (gt, gte, lt, lte, eq, neq)")
		}
	}
	if strings.HasPrefix(c.Type, "value_") && c.Field == "" {
		return nil, p.errAt(condNode, "a %s correlation needs condition.field", c.Type)
	}
	return c, nil
}

// Clone copies a rule deeply enough that changing the copy's correlation (its rules, condition,
// timespan) or its custom fields leaves the original as it was.
func (r *Rule) Clone() *Rule {
	c := *r
	if r.Correlation != nil {
		cc := *r.Correlation
		cc.Rules = append([]string(nil), r.Correlation.Rules...)
		cc.GroupBy = append([]string(nil), r.Correlation.GroupBy...)
		c.Correlation = &cc
	}
	if r.Custom != nil {
		c.Custom = make(map[string]any, len(r.Custom))
		for k, v := range r.Custom {
			c.Custom[k] = v
		}
	}
	c.Tags = append([]string(nil), r.Tags...)
	return &c
}

// Level is a rule's level, as the specification names them.
type Level string

// The levels, lowest first.
const (
	Informational Level = "informational"
	Low           Level = "low"
	Medium        Level = "medium"
	High          Level = "high"
	Critical      Level = "critical"
)

// Levels lists the levels, lowest first.
var Levels = []Level{Informational, Low, Medium, High, Critical}

// Rank is the level's position in Levels (the comparison ignores case), or -1 for one that is not
// a level.
func (l Level) Rank() int {
	for i, n := range Levels {
		if strings.EqualFold(string(l), string(n)) {
			return i
		}
	}
	return -1
}
