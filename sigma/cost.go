package sigma

import "fmt"

// Cost is what a rule set's matchers hold: how many values its rules compare with (after the
// modifiers expanded them), how many of them are regular expressions, and how many are matched
// through long lists at a cost that does not grow with the list (see listMatcher).
type Cost struct {
	Values   int `json:"values"`
	Regexps  int `json:"regularExpressions"`
	Listed   int `json:"valuesInLists"`
	Heaviest struct {
		Rule   string `json:"rule,omitempty"` // file:line title
		Values int    `json:"values"`
	} `json:"heaviestRule"`
}

func (c Cost) String() string {
	return fmt.Sprintf("%d values (%d regular expressions, %d matched through lists)", c.Values, c.Regexps, c.Listed)
}

// Cost adds up the compiled rules' values.
func (rs *RuleSet) Cost() Cost {
	var c Cost
	for i, cr := range rs.compiled {
		n := cr.cost(&c)
		if n > c.Heaviest.Values {
			r := rs.Rules[i]
			c.Heaviest.Values, c.Heaviest.Rule = n, fmt.Sprintf("%s:%d %s", r.File, r.Line, r.Title)
		}
	}
	return c
}

func (cr *compiledRule) cost(c *Cost) int {
	n := 0
	count := func(fm *fieldMatcher) {
		if fm == nil {
			return
		}
		for _, v := range fm.vals {
			switch m := v.(type) {
			case *listMatcher:
				n += len(m.vals)
				c.Listed += len(m.vals)
				for _, x := range m.vals {
					if _, re := x.(*reMatcher); re {
						c.Regexps++
					}
				}
			case *reMatcher:
				n++
				c.Regexps++
			default:
				n++
			}
		}
	}
	for _, s := range cr.searches {
		for _, m := range s.maps {
			for _, fm := range m {
				count(fm)
			}
		}
		count(s.keywords)
	}
	c.Values += n
	return n
}
