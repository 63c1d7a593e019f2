package config

import (
	"strings"
	"testing"
	"time"
)

func TestParse(t *testing.T) {
	c, err := Parse(strings.NewReader("criticality:\n  tag: tier\n  values: [gold]\nbreakGlass: [ABC]\nrpo: 2d\nseverities:\n  KV-002: critical\n"))
	if err != nil {
		t.Fatal(err)
	}
	if c.Criticality.Tag != "tier" || c.RPO.Duration != 48*time.Hour || !c.IsBreakGlass("abc") || c.ApplicationTag != "app" {
		t.Errorf("%+v", c)
	}
	if c, err := Parse(strings.NewReader("")); err != nil || c.RPO.Duration != 36*time.Hour {
		t.Errorf("empty: %v %+v", err, c)
	}
}

func TestParseErrors(t *testing.T) {
	for in, want := range map[string]string{
		"critcality:\n  tag: x\n":       `line 1: unknown setting "critcality"`,
		"rpo: soon\n":                   `line 1: "soon" is not a duration`,
		"severities:\n  KV-002: huge\n": `KV-002: "huge" is not one of info, low, medium, high, critical`,
		"breakGlass: {a: b}\n":          "line 1",
	} {
		_, err := Parse(strings.NewReader(in))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: got %v, want %q", in, err, want)
		}
	}
}

func TestFormatDurationRoundTrips(t *testing.T) {
	for _, c := range []struct{ in, want string }{{"4h", "4h"}, {"90m", "1h30m"}, {"45m", "45m"}, {"7d", "168h"}, {"2h5m", "2h5m"}} {
		d, err := ParseDuration(c.in)
		if err != nil {
			t.Fatal(err)
		}
		got := FormatDuration(d)
		if got != c.want {
			t.Errorf("%s: %s, want %s", c.in, got, c.want)
		}
		if back, err := ParseDuration(got); err != nil || back != d {
			t.Errorf("%s does not read back: %v %v", got, back, err)
		}
	}
	if FormatDuration(0) != "" {
		t.Error("zero is not empty")
	}
}
