package assess

import (
	"github.com/bulwarkhq/bulwark/internal/arm"
	"github.com/bulwarkhq/bulwark/internal/recovery"
)

// RecoveryPath is recovery.Path: one way to bring a resource back.
type RecoveryPath = recovery.Path

// RecoveryPaths lists every way o could be brought back, strongest first (recovery.Model.Paths).
func (e *Env) RecoveryPaths(o *arm.Object) []RecoveryPath { return e.Recovery.Paths(o) }

// recoveryPath is the strongest recovery path's summary, or "".
func (e *Env) recoveryPath(o *arm.Object) string { return e.Recovery.Strongest(o) }
