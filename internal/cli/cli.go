// Package cli is Bulwark's command line: one constructor per command fills an options struct from
// flags, runs, and renders. Main maps every error to an exit code in one place (exit.go).
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/spf13/cobra"

	"github.com/bulwarkhq/bulwark/internal/collect"
	"github.com/bulwarkhq/bulwark/internal/textsafe"
)

// App carries what every command shares: the streams and the global flags.
type App struct {
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	Getenv func(string) string

	// Azure connects to Azure for --live and collect: a credential for the tenant and cloud (tests
	// give fakes; Main gives DefaultAzureCredential).
	Azure func(tenant string, c cloud.Configuration) (collect.Options, error)

	Output  string // -o/--output
	NoColor bool
	Quiet   bool
	Verbose bool
}

// Main runs the bulwark command line with args (without the program name) and returns the exit code.
func Main(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	app := &App{Stdin: stdin, Stdout: stdout, Stderr: stderr, Getenv: os.Getenv, Azure: defaultAzure}
	return app.Run(ctx, args)
}

func defaultAzure(tenant string, c cloud.Configuration) (collect.Options, error) {
	cred, err := collect.DefaultCredential(tenant, c)
	return collect.Options{Credential: cred, Cloud: c}, err
}

// Run runs the command line on app's streams and returns the exit code.
func (app *App) Run(ctx context.Context, args []string) int {
	// Everything printed goes through textsafe: strings from input cannot drive the terminal.
	app.Stdout, app.Stderr = textsafe.Writer(app.Stdout), textsafe.Writer(app.Stderr)
	stdin, stdout, stderr := app.Stdin, app.Stdout, app.Stderr
	root := NewRootCmd(app)
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	cmd, err := root.ExecuteContextC(ctx)
	if err != nil {
		var f *FailOnError
		if !errors.As(err, &f) {
			fmt.Fprintf(stderr, "bulwark: %s\n", err)
		}
		var u usageError
		if errors.As(err, &u) && cmd != nil {
			fmt.Fprintf(stderr, "Run '%s --help' for usage.\n", cmd.CommandPath())
		}
	}
	return exitCode(err)
}

// NewRootCmd builds the command tree.
func NewRootCmd(app *App) *cobra.Command {
	root := &cobra.Command{
		Use:   "bulwark",
		Short: "Protect Azure estates from destructive cyberattacks",
		Long: `Bulwark puts Microsoft's Zero Trust guidance "Protect your Azure resources from destructive
cyberattacks" into practice: it assesses an estate's locks, backups, soft delete, immutability,
multi-user authorization and replication; detects destructive attacks in Activity Logs; and
produces recovery playbooks in dependency order.

Start with 'bulwark demo', which runs on an embedded example estate with no Azure access.`,
		SilenceErrors: true,
		SilenceUsage:  true,
		Args:          noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return cmd.Help()
		},
		CompletionOptions: cobra.CompletionOptions{DisableDefaultCmd: true},
	}
	pf := root.PersistentFlags()
	pf.StringVarP(&app.Output, "output", "o", "", "output format: table or json (some commands offer more)")
	pf.BoolVar(&app.NoColor, "no-color", false, "disable colour (also when NO_COLOR is set or output is not a terminal)")
	pf.BoolVarP(&app.Quiet, "quiet", "q", false, "print results only: no progress, notes or warnings on stderr; assess prints just its failed results")
	pf.BoolVarP(&app.Verbose, "verbose", "v", false, "print more detail: every skipped element, every duplicate resolved")
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })

	root.AddCommand(
		NewCmdDemo(app, nil),
		NewCmdCollect(app, nil),
		NewCmdHarden(app, nil),
		NewCmdLock(app),
		NewCmdJournal(app),
		NewCmdAssess(app, nil),
		NewCmdChecks(app),
		NewCmdDetect(app, nil),
		NewCmdWatch(app, nil),
		NewCmdApps(app),
		NewCmdRespond(app, nil),
		NewCmdSnapshot(app),
		NewCmdRules(app),
		NewCmdVersion(app, nil),
		NewCmdCompletion(app),
	)
	return root
}

// noArgs rejects arguments; for a command with subcommands it names the unknown subcommand.
func noArgs(cmd *cobra.Command, args []string) error {
	if len(args) == 0 {
		return nil
	}
	if cmd.HasSubCommands() {
		if cmd.SuggestionsMinimumDistance <= 0 {
			cmd.SuggestionsMinimumDistance = 2
		}
		if s := cmd.SuggestionsFor(args[0]); len(s) > 0 {
			return usagef("unknown command %q for %q: did you mean %s?", args[0], cmd.CommandPath(), strings.Join(s, " or "))
		}
		return usagef("unknown command %q for %q", args[0], cmd.CommandPath())
	}
	return usagef("%s takes no arguments, got %q", cmd.CommandPath(), strings.Join(args, " "))
}

func minArgs(n int, what string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) < n {
			return usagef("%s needs %s", cmd.CommandPath(), what)
		}
		return nil
	}
}

// format validates -o against the formats a command offers; the first one is the default.
func (a *App) format(formats ...string) (string, error) {
	if a.Output == "" {
		return formats[0], nil
	}
	for _, f := range formats {
		if strings.EqualFold(a.Output, f) {
			return f, nil
		}
	}
	return "", usagef("output format %q is not offered here; choose one of: %s", a.Output, strings.Join(formats, ", "))
}

// color reports whether terminal colour should be used: never with --no-color, NO_COLOR or a
// stdout that is not a terminal.
func (a *App) color() bool {
	if a.NoColor || a.Getenv("NO_COLOR") != "" {
		return false
	}
	return isTerminal(a.Stdout)
}

// isTerminal reports whether w is a terminal (progress is only drawn on one).
func isTerminal(w any) bool {
	if sw, ok := w.(io.Writer); ok {
		w = textsafe.Unwrap(sw)
	}
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	info, err := f.Stat()
	return err == nil && info.Mode()&os.ModeCharDevice != 0
}

// progress redraws the progress line on a terminal's stderr: line is written as a cell (nothing in
// it can move the cursor) after the carriage return and erase-line that only this writes; "" clears
// the line.
func (a *App) progress(line string) {
	fmt.Fprint(textsafe.Unwrap(a.Stderr), "\r\x1b[K"+textsafe.Cell(line))
}

// notef prints a note to stderr unless --quiet.
func (a *App) notef(format string, args ...any) {
	if !a.Quiet {
		fmt.Fprintf(a.Stderr, format+"\n", args...)
	}
}
