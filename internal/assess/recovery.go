package assess

import (
	"time"

	"github.com/bulwarkhq/bulwark/internal/arm"
	"github.com/bulwarkhq/bulwark/internal/recovery"
)

// RecoveryPath is recovery.Path: one way to bring a resource back.
type RecoveryPath = recovery.Path

// RecoveryPaths lists every way o could be brought back, strongest first (recovery.Model.Paths).
func (e *Env) RecoveryPaths(o *arm.Object) []RecoveryPath { return e.Recovery.Paths(o) }

// recoveryPath is the strongest recovery path's summary, or "".
func (e *Env) recoveryPath(o *arm.Object) string { return e.Recovery.Strongest(o) }

func timeProp(o *arm.Object, path string) (time.Time, bool) { return valueTime(o.Get(path)) }

// valueTime reads an RFC 3339 time property.
func valueTime(v arm.Value) (time.Time, bool) {
	s, ok := v.String()
	if !ok {
		return time.Time{}, false
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	return t, err == nil
}
