package cli

import "context"

// seam is the end of every command's RunE: the flags are parsed into opts, and the work is run —
// by runF when a test gave one (it sees the options and nothing runs), by run otherwise. run never
// sees cobra, so a command's work is a plain function of its options (cli/cli's pattern).
func seam[O any](ctx context.Context, app *App, opts *O, runF func(*O) error, run func(context.Context, *App, *O) error) error {
	if runF != nil {
		return runF(opts)
	}
	return run(ctx, app, opts)
}
