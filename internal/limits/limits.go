// Package limits holds, in one place, the caps that keep Bulwark bounded under hostile or careless
// input — their defaults, their names in bulwark.yaml (limits:) and the messages that name them —
// and the metered reader that enforces the decompression caps.
package limits

import (
	"fmt"
	"io"
)

// Limits bound what one input may cost. Zero fields take Default's.
type Limits struct {
	// MaxLineBytes: one JSON line or CSV record of an Activity Log (longer lines are skipped and
	// reported; a longer CSV record stops its input).
	MaxLineBytes int64 `yaml:"maxLineBytes"`
	// MaxDocumentBytes: a whole Activity Log JSON document (an array of events), which is held in
	// memory to be read (JSON lines have no such limit).
	MaxDocumentBytes int64 `yaml:"maxDocumentBytes"`
	// MaxSnapshotBytes: one estate file (or standard input), decompressed.
	MaxSnapshotBytes int64 `yaml:"maxSnapshotBytes"`
	// MaxObjects: the distinct ARM objects of an estate, over all its files.
	MaxObjects int `yaml:"maxObjects"`
	// MaxDecompressedBytes: what one gzip input may expand to.
	MaxDecompressedBytes int64 `yaml:"maxDecompressedBytes"`
	// MaxCompressionRatio: how many times its compressed size a gzip input may expand to, beyond
	// the first 64 MiB.
	MaxCompressionRatio int64 `yaml:"maxCompressionRatio"`

	// Detection state (bulwark detect; the flags of the same names override these).
	MaxActors int `yaml:"maxActors"` // actors whose changes are tracked (--max-actors)
	MaxGroups int `yaml:"maxGroups"` // groups each correlation rule keeps (--max-groups)
	MaxHeld   int `yaml:"maxHeld"`   // events held to be put in time order (--max-held)
	MaxAlerts int `yaml:"maxAlerts"` // alerts kept (past it, those that can open no incident, by actors with none kept, are counted)
	// MaxAlertsPerRule: the detection alerts of one rule kept per actor (an incident's alerts come
	// from its actors); past it they are counted on the first one kept (alertsNotKept).
	MaxAlertsPerRule int `yaml:"maxAlertsPerRule"`
	// MaxRuleValues: the values all detection rules together compare with, after their modifiers
	// expanded them (bulwark rules lint reports it).
	MaxRuleValues int `yaml:"maxRuleValues"`
}

// Default: an Activity Log record is at most a few hundred KB (a request body included), an
// export or a snapshot file rarely more than a few hundred MB, and JSON compresses 10–30 times;
// a gzip of zeros compresses a thousand times. An estate object costs 3–7 KB to assess, so a
// million of them (the largest tenants' resources and role assignments) take several GB.
//
// Detection: 50,000 actors is far more distinct callers than a tenant has in the hour before an
// alert (what an incident takes their changes from), at about 1 KB each; 100,000 events held is
// 20 minutes of lateness at five times the busiest tenants' rate. An alert kept costs up to 10 KB
// (its events, its actor's state, its correlation groups); 10,000 of one rule by one actor (100 MB)
// is more resources than a playbook restores one by one, and the rest are counted. Rules: 2,000,000 values at about 500
// bytes each once compiled (1,000,000 regular expressions: 490 MB).
var Default = Limits{MaxLineBytes: 16 << 20, MaxDocumentBytes: 512 << 20, MaxSnapshotBytes: 1 << 30, MaxObjects: 1_000_000, MaxDecompressedBytes: 64 << 30, MaxCompressionRatio: 200,
	MaxActors: 50_000, MaxGroups: 100_000, MaxHeld: 100_000, MaxAlerts: 50_000, MaxAlertsPerRule: 10_000, MaxRuleValues: 2_000_000}

// Or returns l with its zero (or negative) fields set from Default.
func (l Limits) Or() Limits {
	d := Default
	or(&l.MaxLineBytes, d.MaxLineBytes)
	or(&l.MaxDocumentBytes, d.MaxDocumentBytes)
	or(&l.MaxSnapshotBytes, d.MaxSnapshotBytes)
	or(&l.MaxObjects, d.MaxObjects)
	or(&l.MaxDecompressedBytes, d.MaxDecompressedBytes)
	or(&l.MaxCompressionRatio, d.MaxCompressionRatio)
	or(&l.MaxActors, d.MaxActors)
	or(&l.MaxGroups, d.MaxGroups)
	or(&l.MaxHeld, d.MaxHeld)
	or(&l.MaxAlerts, d.MaxAlerts)
	or(&l.MaxAlertsPerRule, d.MaxAlertsPerRule)
	or(&l.MaxRuleValues, d.MaxRuleValues)
	return l
}

func or[T int | int64](v *T, d T) {
	if *v <= 0 {
		*v = d
	}
}

// Error is an input stopped at a limit; its message names the input, the limit and its key.
type Error struct{ Msg string }

func (e *Error) Error() string { return e.Msg }

// Size writes a size as people read it: 16 MiB, 2.0 GiB, 812 bytes.
func Size(n int64) string {
	switch {
	case n >= 1<<30 && n%(1<<30) == 0:
		return fmt.Sprintf("%d GiB", n>>30)
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	}
	return fmt.Sprintf("%d bytes", n)
}

// Counting counts the bytes read through it (the compressed side of a Metered reader).
type Counting struct {
	R io.Reader
	N int64
}

func (c *Counting) Read(p []byte) (int, error) {
	n, err := c.R.Read(p)
	c.N += int64(n)
	return n, err
}

// Metered stops a decompressed stream that grows beyond MaxDecompressedBytes, or beyond
// MaxCompressionRatio times the compressed bytes read so far once past the first 64 MiB: a
// gigabyte of zeros is a megabyte of gzip.
type Metered struct {
	Name       string
	R          io.Reader // the decompressor
	Compressed *Counting // what it reads from
	Limits     Limits
	n          int64
}

func (m *Metered) Read(p []byte) (int, error) {
	n, err := m.R.Read(p)
	m.n += int64(n)
	l := m.Limits.Or()
	switch {
	case m.n > l.MaxDecompressedBytes:
		return n, &Error{fmt.Sprintf("%s: decompresses to more than %s (limits.maxDecompressedBytes in bulwark.yaml): stopped", m.Name, Size(l.MaxDecompressedBytes))}
	case m.n > 64<<20 && m.n > l.MaxCompressionRatio*m.Compressed.N:
		return n, &Error{fmt.Sprintf("%s: decompresses to more than %d times its compressed size (%s from %s; limits.maxCompressionRatio in bulwark.yaml): stopped as a likely gzip bomb",
			m.Name, l.MaxCompressionRatio, Size(m.n), Size(m.Compressed.N))}
	}
	return n, err
}

// ReadAtMost reads r to its end if it holds at most max bytes, in 1 MiB chunks joined once the size
// is known, so that refusing an input over the limit costs at most the limit in memory (io.ReadAll
// would grow its buffer past it); over is true when r held more.
func ReadAtMost(r io.Reader, max int64) (data []byte, over bool, err error) {
	var chunks [][]byte
	var n int64
	for {
		c := make([]byte, 1<<20)
		k, err := io.ReadFull(r, c)
		n += int64(k)
		if n > max {
			return nil, true, nil
		}
		if k > 0 {
			chunks = append(chunks, c[:k])
		}
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			break
		}
		if err != nil {
			return nil, false, err
		}
	}
	data = make([]byte, 0, n)
	for _, c := range chunks {
		data = append(data, c...)
	}
	return data, false, nil
}
