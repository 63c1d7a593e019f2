package sigma

import (
	"fmt"
	"math"
	"strings"
)

// Op is a comparison of a correlation's condition.
type Op string

// The comparisons the specification defines, in the order Condition.String writes them.
const (
	Gt  Op = "gt"
	Gte Op = "gte"
	Lt  Op = "lt"
	Lte Op = "lte"
	Eq  Op = "eq"
	Neq Op = "neq"
)

// Ops are the comparisons, in order.
var Ops = []Op{Gt, Gte, Lt, Lte, Eq, Neq}

// Condition is a correlation's condition: comparisons of the aggregate (a count, a sum …) that
// must all hold. It has at most one bound per Op. The zero value holds for every number (a
// temporal correlation without one needs all its rules).
type Condition struct {
	bounds [6]float64
	set    uint8 // bit i: Ops[i] is set
}

var opIndex = map[Op]int{Gt: 0, Gte: 1, Lt: 2, Lte: 3, Eq: 4, Neq: 5}

// Get returns the bound of op and whether the condition has one.
func (c Condition) Get(op Op) (float64, bool) {
	i, ok := opIndex[op]
	if !ok || c.set&(1<<i) == 0 {
		return 0, false
	}
	return c.bounds[i], true
}

// With returns the condition with op's bound set to v; an unknown op leaves it as it is.
func (c Condition) With(op Op, v float64) Condition {
	if i, ok := opIndex[op]; ok {
		c.bounds[i], c.set = v, c.set|1<<i
	}
	return c
}

// Empty reports whether the condition has no comparison.
func (c Condition) Empty() bool { return c.set == 0 }

// AtLeast reports whether the condition only asks for "more than" or "at least" (gt, gte): then
// it can be decided as soon as it holds, before a window closes.
func (c Condition) AtLeast() bool { return c.set&^(1<<opIndex[Gt]|1<<opIndex[Gte]) == 0 }

// Holds reports whether v meets every comparison; NaN (an average of nothing) meets none.
func (c Condition) Holds(v float64) bool {
	if math.IsNaN(v) {
		return false
	}
	for i, op := range Ops {
		if c.set&(1<<i) == 0 {
			continue
		}
		want := c.bounds[i]
		var ok bool
		switch op {
		case Gt:
			ok = v > want
		case Gte:
			ok = v >= want
		case Lt:
			ok = v < want
		case Lte:
			ok = v <= want
		case Eq:
			ok = v == want
		case Neq:
			ok = v != want
		}
		if !ok {
			return false
		}
	}
	return true
}

// String writes the comparisons as "gte 3 lt 10", in the order of Ops; "" when there is none.
func (c Condition) String() string {
	var parts []string
	for _, op := range Ops {
		if v, ok := c.Get(op); ok {
			parts = append(parts, fmt.Sprintf("%s %g", op, v))
		}
	}
	return strings.Join(parts, " ")
}
