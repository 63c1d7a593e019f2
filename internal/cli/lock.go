package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/bulwarkhq/bulwark/internal/arm"
	"github.com/bulwarkhq/bulwark/internal/armclient"
	"github.com/bulwarkhq/bulwark/internal/azsdk"
	"github.com/bulwarkhq/bulwark/internal/collect"
	"github.com/bulwarkhq/bulwark/internal/graph"
	"github.com/bulwarkhq/bulwark/internal/journal"
	"github.com/bulwarkhq/bulwark/internal/locks"
)

// writeFlags are the flags of every command that changes Azure.
type writeFlags struct {
	yes     bool
	journal string
	tenant  string
	cloud   string
}

func (w *writeFlags) register(cmd *cobra.Command) {
	f := cmd.Flags()
	f.BoolVar(&w.yes, "yes", false, "make the changes without asking (otherwise: show the exact requests and ask on a terminal)")
	f.StringVar(&w.journal, "journal", "", "the journal file (default $XDG_STATE_HOME/bulwark/journal.jsonl)")
	f.StringVar(&w.tenant, "tenant", "", "Microsoft Entra tenant ID to sign in to")
	f.StringVar(&w.cloud, "cloud", "AzurePublic", "cloud: "+strings.Join(collect.CloudNames(), ", "))
}

func (w *writeFlags) journalPath(app *App) (string, error) {
	if w.journal != "" {
		return w.journal, nil
	}
	return journal.DefaultPath(app.Getenv)
}

// connect opens the Azure SDK clients and names the principal they sign in as.
func (w *writeFlags) connect(ctx context.Context, app *App) (*azsdk.Clients, string, error) {
	c, err := cloudNamed(w.cloud)
	if err != nil {
		return nil, "", err
	}
	o, err := app.Azure(w.tenant, c)
	if err != nil {
		return nil, "", err
	}
	client, err := azsdk.New(azsdk.Options{Options: armclient.Options{Credential: o.Credential, Cloud: o.Cloud, Transport: o.Transport, RetryDelay: o.RetryDelay, MaxRetries: o.MaxRetries}})
	if err != nil {
		return nil, "", err
	}
	who, err := armclient.Principal(ctx, o.Credential, o.Cloud)
	return client, who, err
}

// confirm shows the requests and asks on a terminal; with no terminal and no --yes it refuses.
func (w *writeFlags) confirm(app *App, requests []string) error {
	if w.yes {
		return nil
	}
	fmt.Fprintf(app.Stderr, "These requests will change Azure:\n")
	for _, r := range requests {
		fmt.Fprintf(app.Stderr, "  %s\n", r)
	}
	if !isTerminal(app.Stdin) || !isTerminal(app.Stderr) {
		return usagef("refusing to change Azure without --yes when there is no terminal to confirm on")
	}
	fmt.Fprintf(app.Stderr, "Go ahead? [y/N] ")
	line, _ := bufio.NewReader(app.Stdin).ReadString('\n')
	if a := strings.ToLower(strings.TrimSpace(line)); a != "y" && a != "yes" {
		return usagef("not confirmed: nothing was changed")
	}
	return nil
}

// OverdueError: lock status found releases past their deadline (exit 1, for cron and CI).
type OverdueError struct{ Count, Unsettled int }

func (e *OverdueError) Error() string {
	var parts []string
	if e.Count > 0 {
		parts = append(parts, fmt.Sprintf("%s past their deadline: run bulwark lock restore --expired", plural(e.Count, "lock release is", "lock releases are")))
	}
	if e.Unsettled > 0 {
		parts = append(parts, fmt.Sprintf("%s unsettled (the DELETE was sent, its outcome is unknown): run bulwark lock restore --resource ID, which reads each lock and settles it",
			plural(e.Unsettled, "lock release is", "lock releases are")))
	}
	return strings.Join(parts, "; ")
}

// NewCmdLock builds `bulwark lock`.
func NewCmdLock(app *App) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "lock",
		Short: "List locks, and release and restore them in a controlled, journaled way",
		Long: `The guidance: "have a tested procedure for the removal of locks in a controlled manner".
lock release records each lock's exact definition in the journal with who, why and for how long,
then removes it; lock restore puts the identical lock back; lock status lists every release not yet
restored, overdue ones first, and exits 1 when one is overdue (run it from cron or CI).`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	cmd.AddCommand(newCmdLockList(app, nil), newCmdLockRelease(app, nil), newCmdLockRestore(app, nil), newCmdLockStatus(app, nil))
	return cmd
}

type lockListOptions struct {
	args   []string
	format string
	in     snapshotInputs
	live   bool
	scope  liveScope
}

func newCmdLockList(app *App, runF func(*lockListOptions) error) *cobra.Command {
	var opts lockListOptions
	cmd := &cobra.Command{
		Use:   "list (--snapshot PATH... | --live)",
		Short: "List the locks of an estate with what each protects",
		Example: `  bulwark lock list --snapshot ./estate
  bulwark lock list --live --subscription 11111111-1111-4111-8111-111111111111 -o json`,
		RunE: func(cmd *cobra.Command, args []string) error {
			format, err := app.format("table", "json")
			if err != nil {
				return err
			}
			opts.args, opts.format = args, format
			return seam(cmd.Context(), app, &opts, runF, runLockList)
		},
	}
	opts.in.register(cmd)
	opts.scope.register(cmd)
	cmd.Flags().BoolVar(&opts.live, "live", false, "read the locks from Azure (read-only)")
	return cmd
}

func runLockList(ctx context.Context, app *App, opts *lockListOptions) error {
	snap, err := estate(ctx, app, &opts.in, opts.args, opts.live, opts.scope)
	if err != nil {
		return err
	}
	x := snap.Index()
	g := graph.Build(x, nil)
	type row struct {
		locks.Lock
		ScopeType   string `json:"scopeType"`
		BlastRadius int    `json:"blastRadius"`
	}
	rows := []row{}
	for _, l := range locks.List(x) {
		r := row{Lock: l}
		if id, err := arm.ParseID(l.Scope); err == nil {
			r.ScopeType = arm.CanonicalType(id.Type())
			r.BlastRadius = g.BlastRadius(id)
		}
		rows = append(rows, r)
	}
	if opts.format == "json" {
		return writeJSON(app.Stdout, rows)
	}
	t := newTable(app.Stdout, "lock", "level", "scope", "type", "blast", "notes")
	for _, r := range rows {
		t.Row(r.Name, r.Level, scopeName(r.Scope), r.ScopeType, strconv.Itoa(r.BlastRadius), dash(r.Notes))
	}
	return t.Flush()
}

func scopeName(id string) string {
	if p, err := arm.ParseID(id); err == nil {
		return p.Name()
	}
	return id
}

type lockReleaseOptions struct {
	w                      writeFlags
	resource, name, reason string
	dur                    time.Duration
}

func newCmdLockRelease(app *App, runF func(*lockReleaseOptions) error) *cobra.Command {
	var opts lockReleaseOptions
	cmd := &cobra.Command{
		Use:   "release --resource ID --reason TEXT --for DURATION [--name LOCK] [--yes]",
		Short: "Remove the locks on a resource for a bounded time, journaling their exact definitions",
		Long: `Remove the locks directly on a resource (a subscription, resource group or resource ID) — or the one
named with --name — after recording each lock's exact definition, who released it, why and until
when in the journal. Locks inherited from a resource group or subscription are listed but not
touched. Put them back with bulwark lock restore; bulwark lock status reports any left open.`,
		Example: `  bulwark lock release --resource /subscriptions/…/resourceGroups/rg-payments/providers/Microsoft.KeyVault/vaults/kv-pay-cmk \
    --reason "rotate the CMK (CHG-1234)" --for 30m`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return seam(cmd.Context(), app, &opts, runF, runLockRelease)
		},
	}
	opts.w.register(cmd)
	f := cmd.Flags()
	f.StringVar(&opts.resource, "resource", "", "the ARM ID the locks are on")
	f.StringVar(&opts.name, "name", "", "release only this lock")
	f.StringVar(&opts.reason, "reason", "", "why (a change ticket): recorded in the journal")
	f.DurationVar(&opts.dur, "for", 0, "how long the release may last, e.g. 30m")
	return cmd
}

func runLockRelease(ctx context.Context, app *App, opts *lockReleaseOptions) error {
	w, resource, name, reason, dur := &opts.w, opts.resource, opts.name, opts.reason, opts.dur
	if _, err := arm.ParseID(resource); err != nil || resource == "" {
		return usagef("--resource needs an ARM ID (a subscription, resource group or resource)")
	}
	if strings.TrimSpace(reason) == "" {
		return usagef("--reason is required: the journal records why each lock was removed")
	}
	if dur <= 0 || dur > 7*24*time.Hour {
		return usagef("--for must be between 1m and 168h (a lock is put back, not forgotten)")
	}
	path, j, _, err := w.openJournal(app)
	if err != nil {
		return err
	}
	defer j.Close()
	client, who, err := w.connect(ctx, app)
	if err != nil {
		return err
	}
	m := &locks.Manager{Client: client, Journal: j, Who: who, Now: time.Now}
	_, direct, err := m.Direct(ctx, resource)
	if err != nil {
		return err
	}
	var reqs []string
	for _, l := range direct {
		if name == "" || strings.EqualFold(l.Name, name) {
			reqs = append(reqs, fmt.Sprintf("%s  (%s %s)", client.LockDelete(l.ID), l.Level, l.Name))
		}
	}
	if len(reqs) == 0 {
		return fmt.Errorf("no lock directly on %s%s: inherited locks are released on their own scope (bulwark lock list)", resource, map[bool]string{true: " named " + name, false: ""}[name != ""])
	}
	if err := w.confirm(app, reqs); err != nil {
		return err
	}
	released, err := m.Release(ctx, resource, name, reason, dur)
	for _, l := range released {
		app.notef("released %s (%s) on %s until %s; journal: %s", l.Name, l.Level, scopeName(l.Scope), time.Now().Add(dur).UTC().Format("15:04 UTC"), path)
	}
	return err
}

type lockRestoreOptions struct {
	w            writeFlags
	resource     string
	expired, all bool
}

func newCmdLockRestore(app *App, runF func(*lockRestoreOptions) error) *cobra.Command {
	var opts lockRestoreOptions
	cmd := &cobra.Command{
		Use:   "restore (--resource ID | --expired | --all) [--yes]",
		Short: "Put back released locks exactly as they were",
		Example: `  bulwark lock restore --resource /subscriptions/…/providers/Microsoft.KeyVault/vaults/kv-pay-cmk
  bulwark lock restore --expired --yes      # from cron`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return seam(cmd.Context(), app, &opts, runF, runLockRestore)
		},
	}
	opts.w.register(cmd)
	cmd.Flags().StringVar(&opts.resource, "resource", "", "restore the locks released on this ARM ID")
	cmd.Flags().BoolVar(&opts.expired, "expired", false, "restore every release past its deadline")
	cmd.Flags().BoolVar(&opts.all, "all", false, "restore every open release")
	return cmd
}

func runLockRestore(ctx context.Context, app *App, opts *lockRestoreOptions) error {
	w, resource, expired, all := &opts.w, opts.resource, opts.expired, opts.all
	n := 0
	for _, b := range []bool{resource != "", expired, all} {
		if b {
			n++
		}
	}
	if n != 1 {
		return usagef("give exactly one of --resource ID, --expired or --all")
	}
	path, j, entries, err := w.openJournal(app)
	if err != nil {
		return err
	}
	defer j.Close()
	var pick []locks.Open
	for _, o := range locks.OpenReleases(entries, time.Now()) {
		if all || expired && o.Overdue || resource != "" && strings.EqualFold(strings.TrimSuffix(resource, "/"), o.Lock.Scope) {
			pick = append(pick, o)
		}
	}
	if len(pick) == 0 {
		app.notef("no open release to restore (journal: %s)", path)
		return nil
	}
	client, who, err := w.connect(ctx, app)
	if err != nil {
		return err
	}
	m := &locks.Manager{Client: client, Who: who, Now: time.Now}
	var reqs []string
	for _, o := range pick {
		req, err := m.RestoreRequest(o)
		if err != nil {
			return err
		}
		reqs = append(reqs, req.String())
	}
	if err := w.confirm(app, reqs); err != nil {
		return err
	}
	m.Journal = j
	for _, o := range pick {
		err := m.Restore(ctx, o)
		if errors.Is(err, locks.ErrNeverReleased) {
			app.notef("%s (%s) on %s was never released (it is still in place): settled in the journal", o.Lock.Name, o.Lock.Level, scopeName(o.Lock.Scope))
			continue
		}
		if err != nil {
			return err
		}
		app.notef("restored %s (%s) on %s", o.Lock.Name, o.Lock.Level, scopeName(o.Lock.Scope))
	}
	return nil
}

// journalOptions: the commands that only read the journal.
type journalOptions struct{ path string }

func newCmdLockStatus(app *App, runF func(*journalOptions) error) *cobra.Command {
	var opts journalOptions
	cmd := &cobra.Command{
		Use:   "status [--journal PATH]",
		Short: "List lock releases not yet restored, overdue first; exit 1 if one is overdue",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return seam(cmd.Context(), app, &opts, runF, runLockStatus)
		},
	}
	cmd.Flags().StringVar(&opts.path, "journal", "", "the journal file (default $XDG_STATE_HOME/bulwark/journal.jsonl)")
	return cmd
}

func runLockStatus(_ context.Context, app *App, opts *journalOptions) error {
	format, entries, _, err := readJournal(app, opts.path)
	if err != nil {
		return err
	}
	open := locks.OpenReleases(entries, time.Now())
	if open == nil {
		open = []locks.Open{}
	}
	if format == "json" {
		if err := writeJSON(app.Stdout, open); err != nil {
			return err
		}
	} else {
		writeOpen(app.Stdout, open)
	}
	var e OverdueError
	for _, o := range open {
		if o.Overdue {
			e.Count++
		}
		if o.Unsettled {
			e.Unsettled++
		}
	}
	if e.Count > 0 || e.Unsettled > 0 {
		return &e
	}
	return nil
}

// openJournal opens the write journal (--journal, or the user's) exclusively and reads what it
// holds: the path, the journal and its entries (the writes of earlier runs, settled or not).
func (w *writeFlags) openJournal(app *App) (string, *journal.Journal, []journal.Entry, error) {
	path, err := w.journalPath(app)
	if err != nil {
		return "", nil, nil, err
	}
	j, err := openJournal(app, path)
	if err != nil {
		return "", nil, nil, err
	}
	entries, err := j.Entries()
	if err != nil {
		j.Close()
		return "", nil, nil, err
	}
	return path, j, entries, nil
}

// openJournal opens the journal for a writing command (exclusively; see journal.Open) and says so
// when it had to make the file private.
func openJournal(app *App, path string) (*journal.Journal, error) {
	j, err := journal.Open(path, nil)
	if err != nil {
		return nil, err
	}
	if j.Tightened != 0 {
		app.notef("journal %s had mode %04o (readable or writable by others): set to 0600", path, j.Tightened)
	}
	if j.Torn != nil {
		app.notef("journal %s: %s; the change it described is settled by re-reading the resource", path, j.Torn)
	}
	return j, nil
}

func writeOpen(w io.Writer, open []locks.Open) {
	if len(open) == 0 {
		fmt.Fprintln(w, "No lock release is open.")
		return
	}
	t := newTable(w, "state", "lock", "level", "scope", "released by", "until", "reason")
	for _, o := range open {
		state := "open"
		switch {
		case o.Unsettled && o.Overdue:
			state = "UNSETTLED, OVERDUE"
		case o.Unsettled:
			state = "UNSETTLED"
		case o.Overdue:
			state = "OVERDUE"
		}
		t.Row(state, o.Lock.Name, o.Lock.Level, scopeName(o.Lock.Scope), o.Who, o.Until.UTC().Format("2006-01-02 15:04 UTC"), o.Reason)
	}
	t.Flush()
}

// NewCmdJournal builds `bulwark journal`.
func NewCmdJournal(app *App) *cobra.Command {
	cmd := &cobra.Command{Use: "journal", Short: "Show the journal of changes Bulwark made to Azure", Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() }}
	cmd.AddCommand(newCmdJournalShow(app, nil))
	return cmd
}

func newCmdJournalShow(app *App, runF func(*journalOptions) error) *cobra.Command {
	var opts journalOptions
	cmd := &cobra.Command{
		Use:   "show [--journal PATH]",
		Short: "List journal entries: when, who, what, why, and the outcome",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return seam(cmd.Context(), app, &opts, runF, runJournalShow)
		},
	}
	cmd.Flags().StringVar(&opts.path, "journal", "", "the journal file (default $XDG_STATE_HOME/bulwark/journal.jsonl)")
	return cmd
}

func runJournalShow(_ context.Context, app *App, opts *journalOptions) error {
	format, entries, path, err := readJournal(app, opts.path)
	if err != nil {
		return err
	}
	if format == "json" {
		if entries == nil {
			entries = []journal.Entry{}
		}
		return writeJSON(app.Stdout, entries)
	}
	if len(entries) == 0 {
		fmt.Fprintf(app.Stdout, "The journal %s is empty.\n", path)
		return nil
	}
	t := newTable(app.Stdout, "time", "tool", "kind", "who", "request", "result", "why")
	for _, s := range journal.States(entries) {
		result := "INTERRUPTED (no outcome)"
		if s.Outcome != nil {
			result = s.Outcome.Result
			if s.Outcome.Error != "" {
				result += ": " + s.Outcome.Error
			}
		}
		t.Row(s.Intent.Time.UTC().Format("2006-01-02 15:04:05"), s.Intent.Tool, s.Intent.Kind, s.Intent.Who, s.Intent.Method+" "+s.Intent.URL, result, s.Intent.Why)
	}
	return t.Flush()
}

// readJournal validates -o (table or json) and reads the journal at path (default: the user's).
func readJournal(app *App, path string) (format string, entries []journal.Entry, resolved string, err error) {
	if format, err = app.format("table", "json"); err != nil {
		return "", nil, "", err
	}
	if path == "" {
		if path, err = journal.DefaultPath(app.Getenv); err != nil {
			return "", nil, "", err
		}
	}
	entries, torn, err := journal.ReadTorn(path)
	if torn != nil {
		app.notef("journal %s: %s", path, torn)
	}
	return format, entries, path, err
}
