package sentinel

import (
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/bulwarkhq/bulwark/sigma"
)

// Query is one rule as a scheduled KQL query.
type Query struct {
	Rule      *sigma.Rule
	KQL       string
	Frequency time.Duration // how often Sentinel runs it
	Period    time.Duration // how far back each run looks
	// Notes state where the query's meaning differs from bulwark detect's, for the rule's
	// description.
	Notes []string
}

// Failure is a rule that does not convert.
type Failure struct {
	Rule      string `json:"rule"`
	File      string `json:"file,omitempty"`
	Construct string `json:"construct"`
	Reason    string `json:"reason"`
}

// detectionFrequency is how often a detection rule's query runs, over as long a period: every event
// is in exactly one run's period.
const detectionFrequency = 5 * time.Minute

const actorNote = "Sentinel groups by Caller: a principal granted a role by another is not attributed to its grantor, as bulwark detect does."

// Convert converts the rule set's Azure Activity Log rules. Building blocks (informational
// correlations that only feed others, such as the built-in per-stage rules) are folded into the
// correlations that use them rather than converted on their own.
func Convert(rs *sigma.RuleSet) ([]Query, []Failure) {
	byName := map[string]*sigma.Rule{}
	for _, r := range append(append([]*sigma.Rule{}, rs.Rules...), rs.Correlations...) {
		if r.Name != "" {
			byName[r.Name] = r
		}
		if r.ID != "" {
			byName[r.ID] = r
		}
	}
	c := converter{rs: rs, byName: byName}
	var out []Query
	var failed []Failure
	keep := func(r *sigma.Rule, q Query, err error) {
		if err == nil && len(q.KQL) > MaxQueryLength {
			err = &sigma.KQLError{Rule: label(r), Construct: fmt.Sprintf("query of %d characters", len(q.KQL)),
				Reason: fmt.Sprintf("over the %d characters an analytics rule's query may have", MaxQueryLength)}
		}
		if err != nil {
			failed = append(failed, failure(r, err))
			return
		}
		out = append(out, q)
	}
	for _, r := range rs.Rules {
		q, err := c.detection(r)
		keep(r, q, err)
	}
	for _, r := range rs.Correlations {
		if !buildingBlock(r) {
			q, err := c.correlation(r)
			keep(r, q, err)
		}
	}
	return out, failed
}

// MaxQueryLength is the longest query an analytics rule takes (the Azure-Sentinel repository's
// rule schema, as Sentinel's own limit).
const MaxQueryLength = 10_000

func buildingBlock(r *sigma.Rule) bool {
	return r.Correlation != nil && r.Level.Rank() == 0
}

func failure(r *sigma.Rule, err error) Failure {
	f := Failure{Rule: label(r), File: r.File, Construct: "rule", Reason: err.Error()}
	if ke, ok := err.(*sigma.KQLError); ok {
		f.Construct, f.Reason = ke.Construct, ke.Reason
	}
	return f
}

func label(r *sigma.Rule) string {
	if r.Name != "" {
		return r.Name
	}
	return r.Title
}

type converter struct {
	rs     *sigma.RuleSet
	byName map[string]*sigma.Rule
}

func (c *converter) where(r *sigma.Rule) (string, error) {
	if ls := r.Logsource; !strings.EqualFold(ls.Product, "azure") || (ls.Service != "" && !strings.EqualFold(ls.Service, "activitylogs")) {
		return "", &sigma.KQLError{Rule: label(r), Construct: "logsource " + ls.Product + "/" + ls.Service, Reason: "not the Azure Activity Log"}
	}
	return c.rs.KQLWhere(r, sigma.KQLOptions{Field: FieldExpr, IsString: IsString})
}

func (c *converter) detection(r *sigma.Rule) (Query, error) {
	w, err := c.where(r)
	if err != nil {
		return Query{}, err
	}
	kql := prelude(Source + "\n| where " + w + "\n| extend BulwarkRule = " + kqlString(label(r)))
	return Query{Rule: r, KQL: kql, Frequency: detectionFrequency, Period: detectionFrequency}, nil
}

// members resolves a correlation's rules to detection rules, each with the label its rows carry:
// a building block's own members carry the building block's name.
func (c *converter) members(r *sigma.Rule) ([][2]string, error) {
	var out [][2]string // label, where
	for _, name := range r.Correlation.Rules {
		m, ok := c.byName[name]
		if !ok {
			return nil, &sigma.KQLError{Rule: label(r), Construct: "rule " + name, Reason: "no such rule in the set"}
		}
		if m.Correlation == nil {
			w, err := c.where(m)
			if err != nil {
				return nil, err
			}
			out = append(out, [2]string{name, w})
			continue
		}
		// A chained correlation converts when it is "any event of its rules" (event_count ≥ 1) by
		// the same groups: then its events are its members' events.
		mc := m.Correlation
		if v, ok := mc.Condition.Get(sigma.Gte); mc.Type != "event_count" || !ok || v != 1 || !mc.Condition.AtLeast() ||
			strings.Join(mc.GroupBy, ",") != strings.Join(r.Correlation.GroupBy, ",") {
			return nil, &sigma.KQLError{Rule: label(r), Construct: "chained correlation " + name,
				Reason: "only chains of event_count ≥ 1 building blocks by the same group-by convert"}
		}
		var ws []string
		for _, mm := range mc.Rules {
			d, ok := c.byName[mm]
			if !ok || d.Correlation != nil {
				return nil, &sigma.KQLError{Rule: label(r), Construct: "chained correlation " + name, Reason: "its rule " + mm + " is not a detection rule of the set"}
			}
			w, err := c.where(d)
			if err != nil {
				return nil, err
			}
			ws = append(ws, w)
		}
		out = append(out, [2]string{name, "(" + strings.Join(ws, " or ") + ")"})
	}
	return out, nil
}

// schedule is how often a correlation over timespan runs and how far back: each run looks back the
// timespan plus the frequency, so every set of events within one timespan lies inside some run's
// period (none is missed at a window boundary); a run may also count events spread over up to the
// timespan plus the frequency.
func schedule(span time.Duration) (freq, period time.Duration) {
	freq = min(time.Hour, max(5*time.Minute, span/4)).Round(time.Minute)
	period = span + freq
	if period > 14*24*time.Hour {
		period = 14 * 24 * time.Hour
	}
	return freq, period
}

func (c *converter) correlation(r *sigma.Rule) (Query, error) {
	corr := r.Correlation
	members, err := c.members(r)
	if err != nil {
		return Query{}, err
	}
	// Fields with aliases (a name per member rule) are read per member into one column.
	aliased := func(f string) bool { _, ok := corr.Aliases[f]; return ok }
	memberField := func(f, member string) (string, error) {
		name := f
		if al, ok := corr.Aliases[f]; ok {
			if n, ok := al[member]; ok {
				name = n
			}
		}
		expr, ok := FieldExpr(name)
		if !ok {
			return "", &sigma.KQLError{Rule: label(r), Construct: "field " + name, Reason: "the table has no column or expression for it"}
		}
		return expr, nil
	}
	if len(corr.Aliases) > 0 {
		for _, name := range corr.Rules {
			if m := c.byName[name]; m != nil && m.Correlation != nil {
				return Query{}, &sigma.KQLError{Rule: label(r), Construct: "aliases over chained correlation " + name, Reason: "not converted"}
			}
		}
	}
	var b strings.Builder
	for i, m := range members {
		fmt.Fprintf(&b, "let m%d = %s\n| where %s\n| extend BulwarkRule = %s", i, Source, m[1], kqlString(m[0]))
		for k, g := range corr.GroupBy {
			if aliased(g) {
				expr, err := memberField(g, m[0])
				if err != nil {
					return Query{}, err
				}
				fmt.Fprintf(&b, ", Group%d = tostring(%s)", k, expr)
			}
		}
		if corr.Field != "" && aliased(corr.Field) {
			expr, err := memberField(corr.Field, m[0])
			if err != nil {
				return Query{}, err
			}
			b.WriteString(", BulwarkValue = tostring(" + expr + ")")
		}
		b.WriteString(";\n")
	}
	b.WriteString("union ")
	for i := range members {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "m%d", i)
	}
	// Group columns: a plain column is grouped by as itself, an expression as a named column.
	var by, extends []string
	notes := []string{}
	for i, g := range corr.GroupBy {
		if aliased(g) {
			by = append(by, "Group"+strconv.Itoa(i))
			continue
		}
		expr, err := memberField(g, "")
		if err != nil {
			return Query{}, err
		}
		if strings.EqualFold(g, "bulwark.actor") {
			notes = append(notes, actorNote)
		}
		if isColumn(expr) {
			by = append(by, expr)
			continue
		}
		col := "Group" + strconv.Itoa(i)
		extends = append(extends, col+" = tostring("+expr+")")
		by = append(by, col)
	}
	if len(extends) > 0 {
		b.WriteString("\n| extend " + strings.Join(extends, ", "))
	}
	agg := []string{"StartTime = min(TimeGenerated)", "EndTime = max(TimeGenerated)", "EventCount = count()"}
	for _, col := range []string{"Caller", "CallerIpAddress", "ResourceId"} { // the entities, when not grouped by
		if !slices.Contains(by, col) {
			agg = append(agg, col+" = take_any("+col+")")
		}
	}
	value := ""
	switch corr.Type {
	case "event_count":
		value = "EventCount"
	case "value_count", "value_sum", "value_avg":
		expr := "BulwarkValue"
		if !aliased(corr.Field) {
			var err error
			if expr, err = memberField(corr.Field, ""); err != nil {
				return Query{}, err
			}
		}
		value = "Value"
		switch corr.Type {
		case "value_count":
			agg = append(agg, "Value = dcount(tostring("+expr+"), 4)")
		case "value_sum":
			agg = append(agg, "Value = sum(todouble("+expr+"))")
		default:
			agg = append(agg, "Value = avg(todouble("+expr+"))")
		}
		if corr.Type == "value_count" {
			notes = append(notes, "dcount at its highest accuracy counts distinct values to within 0.2%; bulwark detect counts them exactly.")
		}
	case "temporal":
		value = "Value"
		agg = append(agg, "Value = dcount(BulwarkRule, 4)")
	case "temporal_ordered":
		for i, m := range members {
			agg = append(agg, fmt.Sprintf("T%d = minif(TimeGenerated, BulwarkRule == %s)", i, kqlString(m[0])))
		}
		notes = append(notes, "The order is judged on the first event of each rule in the query period; bulwark detect follows every event in order.")
	default:
		return Query{}, &sigma.KQLError{Rule: label(r), Construct: "correlation type " + corr.Type, Reason: "Bulwark's value_percentile (the share of the window's events carrying the newest value) has no scheduled-query form"}
	}
	b.WriteString("\n| summarize " + strings.Join(agg, ", ") + " by " + strings.Join(by, ", "))
	var conds []string
	switch corr.Type {
	case "temporal":
		need := float64(len(corr.Rules))
		if v, ok := corr.Condition.Get(sigma.Gte); ok {
			need = v
		}
		conds = append(conds, "Value >= "+strconv.FormatFloat(need, 'g', -1, 64))
	case "temporal_ordered":
		for i := range members {
			conds = append(conds, fmt.Sprintf("isnotnull(T%d)", i))
			if i > 0 {
				conds = append(conds, fmt.Sprintf("T%d <= T%d", i-1, i))
			}
		}
		conds = append(conds, fmt.Sprintf("T%d - T0 <= %s", len(members)-1, timespan(corr.Timespan)))
	default:
		for _, op := range []sigma.Op{sigma.Gt, sigma.Gte, sigma.Lt, sigma.Lte, sigma.Eq, sigma.Neq} {
			if v, ok := corr.Condition.Get(op); ok {
				kop := map[sigma.Op]string{sigma.Gt: ">", sigma.Gte: ">=", sigma.Lt: "<", sigma.Lte: "<=", sigma.Eq: "==", sigma.Neq: "!="}[op]
				conds = append(conds, value+" "+kop+" "+strconv.FormatFloat(v, 'g', -1, 64))
			}
		}
		if !corr.Condition.AtLeast() {
			notes = append(notes, "Conditions other than at least (lt, lte, eq, neq) are judged over each run's whole period, not over windows of exactly the timespan.")
		}
	}
	if len(conds) > 0 {
		b.WriteString("\n| where " + strings.Join(conds, " and "))
	}
	b.WriteString("\n| extend BulwarkRule = " + kqlString(label(r)))
	freq, period := schedule(corr.Timespan)
	sort.Strings(notes)
	return Query{Rule: r, KQL: prelude(b.String()), Frequency: freq, Period: period, Notes: slices.Compact(notes)}, nil
}

func timespan(d time.Duration) string {
	switch {
	case d%time.Hour == 0:
		return strconv.FormatInt(int64(d/time.Hour), 10) + "h"
	case d%time.Minute == 0:
		return strconv.FormatInt(int64(d/time.Minute), 10) + "m"
	}
	return strconv.FormatInt(int64(d/time.Second), 10) + "s"
}

func isColumn(expr string) bool {
	for _, c := range Columns {
		if c[0] == expr {
			return true
		}
	}
	return false
}

func kqlString(s string) string { return sigma.KQLString(s) }
