package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/bulwarkhq/bulwark/internal/arm"
	"github.com/bulwarkhq/bulwark/internal/atomicfile"
	"github.com/bulwarkhq/bulwark/internal/limits"
	"github.com/bulwarkhq/bulwark/internal/snapshot"
)

// NewCmdSnapshot builds `bulwark snapshot` and its subcommands.
func NewCmdSnapshot(app *App) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "snapshot",
		Short: "Inspect and merge estate snapshots",
		Long: `A snapshot is a list of Azure Resource Manager objects in the exact shapes ARM returns them.
Bulwark reads and merges any mix of: Bulwark snapshots ({"schema":"bulwark.snapshot/v1",…}),
ARM list responses ({"value":[…]}), Resource Graph results ({"data":[…]} or tables) and the arrays
that 'az graph query' and 'az … list' print, single ARM objects, and Azure REST API example files.
Folders are read recursively (*.json, *.jsonl, and gzip); '-' reads standard input.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	cmd.AddCommand(newCmdSnapshotInspect(app, nil), newCmdSnapshotMerge(app, nil))
	return cmd
}

// snapshotInputs is the repeatable --snapshot flag every estate-reading command takes, and
// --allow-partial.
type snapshotInputs struct {
	paths        []string
	allowPartial bool
	// unreadable names the inputs that could not be read when --allow-partial let the command go on.
	unreadable []string
	// limits are bulwark.yaml's (--config), for the commands that read one before the estate.
	limits limits.Limits
}

func (s *snapshotInputs) register(cmd *cobra.Command) {
	s.registerPaths(cmd)
	cmd.Flags().BoolVar(&s.allowPartial, "allow-partial", false, "go on with what could be read when some inputs cannot be (the output says which)")
}

// registerPaths registers --snapshot alone (snapshot inspect reports every input, readable or not).
func (s *snapshotInputs) registerPaths(cmd *cobra.Command) {
	cmd.Flags().StringArrayVar(&s.paths, "snapshot", nil, "estate input: a file, a folder or - for stdin (repeatable)")
}

// all is the --snapshot inputs and the arguments, or a usage error when there are none.
func (s *snapshotInputs) all(extra []string) ([]string, error) {
	paths := append(append([]string(nil), s.paths...), extra...)
	if len(paths) == 0 {
		return nil, usagef("no estate given: pass files or folders (or --snapshot PATH, or - for stdin)")
	}
	return paths, nil
}

// NothingReadError says that the inputs held nothing to work on: no ARM object, or no event.
type NothingReadError struct{ What, From, Detail string }

func (e *NothingReadError) Error() string {
	s := fmt.Sprintf("nothing to work on: no %s was read from %s", e.What, e.From)
	if e.Detail != "" {
		s += " (" + e.Detail + ")"
	}
	return s
}

func describeInputs(paths []string) string {
	if len(paths) == 0 {
		return "the inputs"
	}
	q := make([]string, len(paths))
	for i, p := range paths {
		if p == "-" {
			p = "standard input"
		}
		q[i] = p
	}
	return strings.Join(q, ", ")
}

func (s *snapshotInputs) load(ctx context.Context, app *App, extra []string) (*snapshot.Result, error) {
	paths, err := s.all(extra)
	if err != nil {
		return nil, err
	}
	res, err := s.loadAny(ctx, app, paths)
	if err != nil {
		if res == nil || !s.allowPartial || len(res.Snapshot.Resources) == 0 {
			if res != nil && len(res.Snapshot.Resources) > 0 {
				err = fmt.Errorf("%w\n(--allow-partial goes on with the %s that could be read)", err, plural(len(res.Snapshot.Resources), "object", "objects"))
			}
			return res, err
		}
		s.unreadable = splitErrors(errors.Unwrap(err))
		for _, u := range s.unreadable {
			app.notef("partial: could not be read: %s", u)
		}
	}
	if len(res.Snapshot.Resources) == 0 {
		detail := plural(len(res.Files), "file", "files")
		if w := res.Warnings(); len(w) > 0 {
			detail += fmt.Sprintf("; %s skipped, the first: %s %s: %s", plural(len(w), "element", "elements"), w[0].File, w[0].Path, w[0].Reason)
		}
		return res, &NothingReadError{What: "ARM object", From: describeInputs(paths), Detail: detail}
	}
	return res, nil
}

// loadAny reads the inputs as they are: no check that anything was read.
func (s *snapshotInputs) loadAny(ctx context.Context, app *App, paths []string) (*snapshot.Result, error) {
	res, err := snapshot.Load(ctx, paths, snapshot.Options{Stdin: app.Stdin, Limits: s.limits})
	if err != nil {
		return res, fmt.Errorf("load snapshot: %w", err)
	}
	return res, nil
}

type inspectReport struct {
	Files     []snapshot.FileSummary `json:"files"`
	Summary   snapshot.Summary       `json:"summary"`
	Skipped   []snapshot.Skip        `json:"skipped"`
	Conflicts []snapshot.Conflict    `json:"conflicts"`
	Invalid   []string               `json:"invalid"`
}

type snapshotInspectOptions struct {
	args []string
	in   snapshotInputs
}

func newCmdSnapshotInspect(app *App, runF func(*snapshotInspectOptions) error) *cobra.Command {
	var opts snapshotInspectOptions
	cmd := &cobra.Command{
		Use:   "inspect PATH...",
		Short: "Count what an estate holds, by type, subscription and source, with every load warning",
		Example: `  bulwark snapshot inspect ./estate
  az graph query -q "resources" --first 1000 -o json | bulwark snapshot inspect -
  bulwark snapshot inspect -o json snapshot.json`,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.args = args
			return seam(cmd.Context(), app, &opts, runF, runSnapshotInspect)
		},
	}
	opts.in.registerPaths(cmd)
	return cmd
}

func runSnapshotInspect(ctx context.Context, app *App, opts *snapshotInspectOptions) error {
	args := opts.args
	in := &opts.in

	format, err := app.format("table", "json")
	if err != nil {
		return err
	}
	paths, err := in.all(args)
	if err != nil {
		return err
	}
	res, loadErr := in.loadAny(ctx, app, paths)
	var u usageError
	if res == nil || errors.As(loadErr, &u) {
		return loadErr
	}
	rep := inspectReport{Files: res.Files, Summary: snapshot.Summarize(res.Snapshot),
		Skipped: res.Skipped, Conflicts: res.Conflicts, Invalid: []string{}}
	if !app.Verbose {
		rep.Skipped = res.Warnings()
	}
	if rep.Skipped == nil {
		rep.Skipped = []snapshot.Skip{}
	}
	if rep.Conflicts == nil {
		rep.Conflicts = []snapshot.Conflict{}
	}
	rep.Invalid = splitErrors(loadErr)
	if format == "json" {
		err = writeJSON(app.Stdout, rep)
	} else {
		err = renderInspect(app, rep)
	}
	if err != nil {
		return err
	}
	if loadErr == nil && len(res.Snapshot.Resources) == 0 {
		return &NothingReadError{What: "ARM object", From: describeInputs(paths), Detail: plural(len(res.Files), "file", "files")}
	}
	return loadErr
}

// splitErrors lists the messages of a joined error, one per file.
func splitErrors(err error) []string {
	out := []string{}
	if err == nil {
		return out
	}
	var j interface{ Unwrap() []error }
	for errors.As(err, &j) {
		errs := j.Unwrap()
		if len(errs) == 1 {
			err = errs[0]
			continue
		}
		for _, e := range errs {
			out = append(out, splitErrors(e)...)
		}
		return out
	}
	return append(out, err.Error())
}

func renderInspect(app *App, rep inspectReport) error {
	st := styler{On: app.color()}
	w := app.Stdout
	fmt.Fprintf(w, "%s %s in %s from %s\n\n", st.Bold("Estate:"), plural(rep.Summary.Objects, "object", "objects"),
		plural(len(rep.Summary.Subscriptions), "subscription", "subscriptions"), plural(len(rep.Files), "file", "files"))

	fmt.Fprintln(w, st.Bold("Subscriptions"))
	t := newTable(w, "subscription", "name", "objects")
	for _, s := range rep.Summary.Subscriptions {
		t.Row(s.ID, dash(s.DisplayName), strconv.Itoa(s.Objects))
	}
	t.Flush()

	fmt.Fprintln(w, "\n"+st.Bold("Types"))
	t = newTable(w, "type", "component", "count")
	for _, ty := range rep.Summary.Types {
		t.Row(ty.Type, componentLabel(ty.Component), strconv.Itoa(ty.Count))
	}
	t.Flush()

	fmt.Fprintln(w, "\n"+st.Bold("Sources"))
	t = newTable(w, "file", "shape", "objects", "skipped")
	for _, f := range rep.Files {
		t.Row(f.Name, string(f.Shape), strconv.Itoa(f.Objects), strconv.Itoa(f.Skipped))
	}
	t.Flush()

	if len(rep.Summary.Errors) > 0 {
		fmt.Fprintf(w, "\n%s (%d): what could not be collected; checks that need it report unknown\n", st.Warn("Collection errors"), len(rep.Summary.Errors))
		for _, e := range rep.Summary.Errors {
			fmt.Fprintf(w, "  %s  %s: %s\n", e.Scope, e.Operation, e.Message)
		}
	}
	if len(rep.Skipped) > 0 {
		fmt.Fprintf(w, "\n%s (%d)\n", st.Warn("Skipped"), len(rep.Skipped))
		for _, s := range rep.Skipped {
			fmt.Fprintf(w, "  %s %s: %s\n", s.File, s.Path, s.Reason)
		}
	}
	if len(rep.Conflicts) > 0 {
		if app.Verbose {
			fmt.Fprintf(w, "\nDuplicates with different content (%d): the newer version was kept\n", len(rep.Conflicts))
			for _, c := range rep.Conflicts {
				fmt.Fprintf(w, "  %s\n    kept    %s\n    dropped %s\n", c.ID, c.Kept, c.Dropped)
			}
		} else {
			fmt.Fprintf(w, "\n%s found in several inputs with different content; the newer was kept (-v lists them)\n",
				plural(len(rep.Conflicts), "object was", "objects were"))
		}
	}
	if len(rep.Invalid) > 0 {
		fmt.Fprintf(w, "\n%s (%d)\n", st.Warn("Invalid inputs"), len(rep.Invalid))
		for _, e := range rep.Invalid {
			fmt.Fprintf(w, "  %s\n", e)
		}
	}
	return nil
}

func componentLabel(c arm.Component) string {
	if c == arm.ComponentNone {
		return "-"
	}
	return string(c)
}

type snapshotMergeOptions struct {
	args []string
	in   snapshotInputs
	out  string
}

func newCmdSnapshotMerge(app *App, runF func(*snapshotMergeOptions) error) *cobra.Command {
	var opts snapshotMergeOptions
	cmd := &cobra.Command{
		Use:   "merge -o FILE PATH...",
		Short: "Merge estate files into one bulwark.snapshot/v1 file",
		Long: `Merge estate files into one bulwark.snapshot/v1 file. Objects are deduplicated by ID ignoring
case; where two inputs differ, the newer one wins (a snapshot's collectedAt, else the file's
modification time) and -v says which. Nothing is written when any input is invalid.`,
		Example: `  bulwark snapshot merge -o estate.json az-resources.json locks/ graph-export.json`,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.args = args
			return seam(cmd.Context(), app, &opts, runF, runSnapshotMerge)
		},
	}
	opts.in.register(cmd)
	// -o here names the output file, as in the "snapshot merge -o out.json"; the format is
	// always a bulwark.snapshot/v1 JSON document.
	cmd.Flags().StringVarP(&opts.out, "output", "o", "-", "file to write the merged snapshot to (- for stdout)")
	return cmd
}

func runSnapshotMerge(ctx context.Context, app *App, opts *snapshotMergeOptions) error {
	args := opts.args
	in, out := &opts.in, opts.out

	// merge's -o is the file it writes, where every other command's -o is a format: a
	// format name given here is that mistake, not a file to create.
	for _, f := range []string{"json", "table", "text", "markdown", "html", "sarif", "yaml"} {
		if strings.EqualFold(out, f) {
			return usagef("-o %s: snapshot merge writes a bulwark.snapshot/v1 JSON file: name it (-o estate.json), or -o - for standard output", out)
		}
	}
	res, err := in.load(ctx, app, args)
	if err != nil {
		return fmt.Errorf("%w\nnothing was written", err)
	}
	for _, s := range res.Skipped {
		if !s.Info || app.Verbose {
			app.notef("skipped %s %s: %s", s.File, s.Path, s.Reason)
		}
	}
	for _, c := range res.Conflicts {
		if app.Verbose {
			app.notef("duplicate %s: kept %s, dropped %s", c.ID, c.Kept, c.Dropped)
		}
	}
	if len(res.Conflicts) > 0 && !app.Verbose {
		app.notef("%s found in several inputs with different content; the newer was kept (-v lists them)",
			plural(len(res.Conflicts), "object was", "objects were"))
	}
	if err := writeSnapshot(out, app.Stdout, res.Snapshot); err != nil {
		return err
	}
	if out != "-" {
		app.notef("wrote %s: %s", out, plural(len(res.Snapshot.Resources), "object", "objects"))
	}
	return nil
}

// writeSnapshot writes atomically (writeFileAtomic), or to stdout for "-".
func writeSnapshot(path string, stdout io.Writer, s *arm.Snapshot) error {
	if s.CollectedAt.IsZero() {
		s.CollectedAt = time.Now().UTC().Truncate(time.Second)
	}
	data, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return fmt.Errorf("encode snapshot: %w", err)
	}
	data = append(data, '\n')
	if path == "-" {
		_, err := stdout.Write(data)
		return err
	}
	return writeFileAtomic(path, data)
}

// writeFileAtomic writes data to path whole or not at all (atomicfile.Write).
func writeFileAtomic(path string, data []byte) error {
	return atomicfile.Write(path, func(w io.Writer) error { _, err := w.Write(data); return err })
}
