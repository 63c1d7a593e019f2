package sigma

import (
	"math"
	"testing"
)

func TestCondition(t *testing.T) {
	var none Condition
	if !none.Empty() || !none.Holds(0) || !none.AtLeast() || none.String() != "" {
		t.Errorf("zero condition: empty %v, holds %v, at least %v, %q", none.Empty(), none.Holds(0), none.AtLeast(), none)
	}
	c := none.With(Gte, 3).With(Lt, 10)
	if none.String() != "" {
		t.Error("With changed the condition it was called on")
	}
	for v, want := range map[float64]bool{2: false, 3: true, 9.5: true, 10: false, math.NaN(): false} {
		if c.Holds(v) != want {
			t.Errorf("%s holds %g: %v, want %v", c, v, !want, want)
		}
	}
	if c.AtLeast() || !none.With(Gt, 1).With(Gte, 2).AtLeast() {
		t.Error("AtLeast: a bound above is not 'at least'; gt and gte are")
	}
	if c.String() != "gte 3 lt 10" {
		t.Errorf("String %q", c.String())
	}
	if v, ok := c.Get(Gte); !ok || v != 3 {
		t.Errorf("Get(gte) = %g, %v", v, ok)
	}
	if _, ok := c.Get("between"); ok || c.With("between", 1) != c {
		t.Error("an unknown op is neither got nor set")
	}
	for _, op := range Ops {
		if !none.With(op, 5).Holds(map[Op]float64{Gt: 6, Gte: 5, Lt: 4, Lte: 5, Eq: 5, Neq: 4}[op]) {
			t.Errorf("%s 5 does not hold where it should", op)
		}
	}
}
