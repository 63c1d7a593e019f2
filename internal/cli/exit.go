package cli

import (
	"context"
	"errors"
	"fmt"
)

// Exit codes, documented in the README. This file is the one place errors become exit codes.
const (
	ExitOK       = 0 // success
	ExitFindings = 1 // findings or incidents at or above --fail-on
	ExitUsage    = 2 // bad command line: unknown command or flag, wrong arguments
	ExitRuntime  = 3 // the command could not do its work: unreadable input, Azure errors…
)

// usageError marks a command-line mistake.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

func usagef(format string, args ...any) error { return usageError{fmt.Errorf(format, args...)} }

// FailOnError reports that results reached the --fail-on threshold; the results themselves have
// already been written.
type FailOnError struct {
	Count     int
	Threshold string
}

func (e *FailOnError) Error() string {
	return fmt.Sprintf("%d results at or above --fail-on %s", e.Count, e.Threshold)
}

// CheckError reports that a check the command performs failed (invalid rules, failing rule
// tests); the details have already been written.
type CheckError struct{ Msg string }

func (e *CheckError) Error() string { return e.Msg }

func exitCode(err error) int {
	var u usageError
	var f *FailOnError
	var c *CheckError
	var o *OverdueError
	switch {
	case err == nil:
		return ExitOK
	case errors.As(err, &f), errors.As(err, &c), errors.As(err, &o):
		return ExitFindings
	case errors.As(err, &u):
		return ExitUsage
	case errors.Is(err, context.Canceled):
		return ExitRuntime
	}
	return ExitRuntime
}
