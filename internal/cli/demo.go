package cli

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/bulwarkhq/bulwark/examples"
	"github.com/bulwarkhq/bulwark/internal/snapshot"
)

type demoOptions struct {
	out   string
	force bool
}

type demoReport struct {
	Estate   snapshot.Summary `json:"estate"`
	Files    int              `json:"files"`
	Warnings []snapshot.Skip  `json:"warnings"`
	Steps    []string         `json:"steps"`
}

// NewCmdDemo builds `bulwark demo`: Bulwark's whole job on the embedded Contoso estate, offline.
func NewCmdDemo(app *App) *cobra.Command {
	var opts demoOptions
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Run Bulwark on the embedded Contoso demo estate (no Azure access needed)",
		Long: `Run Bulwark on the embedded Contoso demo estate: two subscriptions with virtual machines, data
services, recovery infrastructure, networks and DevOps, protected well in places and badly in
others (examples/contoso/README.md lists what is wrong on purpose).

With --out DIR, write the demo inputs (estate/, apps.yaml, iac/, activity/) to DIR so that every
command can be run on them by hand.`,
		Example: `  bulwark demo
  bulwark demo -o json
  bulwark demo --out ./contoso && bulwark snapshot inspect ./contoso/estate`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if opts.out != "" {
				return writeDemo(app, opts)
			}
			format, err := app.format("table", "json")
			if err != nil {
				return err
			}
			res, err := snapshot.LoadFS(cmd.Context(), examples.FS, examples.Estate, "embedded:"+examples.Root+"/")
			if err != nil {
				return fmt.Errorf("load the embedded estate: %w", err)
			}
			rep := demoReport{Estate: snapshot.Summarize(res.Snapshot), Files: len(res.Files), Warnings: res.Warnings(), Steps: []string{"estate"}}
			if rep.Warnings == nil {
				rep.Warnings = []snapshot.Skip{}
			}
			if format == "json" {
				return writeJSON(app.Stdout, rep)
			}
			return renderDemo(app, rep)
		},
	}
	cmd.Flags().StringVar(&opts.out, "out", "", "write the demo inputs to this folder instead of running the demo")
	cmd.Flags().BoolVar(&opts.force, "force", false, "with --out, write into a folder that is not empty (existing files are overwritten)")
	return cmd
}

func renderDemo(app *App, rep demoReport) error {
	st := styler{on: app.color()}
	w := app.Stdout
	fmt.Fprintln(w, st.bold("Bulwark demo: the Contoso estate")+" (embedded, offline)")
	fmt.Fprintf(w, "\n%s loaded %s in %s from %s, %s.\n", st.bold("1. Estate"),
		plural(rep.Estate.Objects, "ARM object", "ARM objects"), plural(len(rep.Estate.Subscriptions), "subscription", "subscriptions"),
		plural(rep.Files, "file", "files"), plural(len(rep.Warnings), "warning", "warnings"))
	for _, s := range rep.Estate.Subscriptions {
		fmt.Fprintf(w, "   %s  %-16s %s\n", s.ID, dash(s.DisplayName), plural(s.Objects, "object", "objects"))
	}
	fmt.Fprintln(w)
	t := newTable(w, "  ", "component", "resources", "settings", "main types")
	for _, c := range rep.Estate.Components {
		t.row("  "+componentLabel(c.ID), c.Title, strconv.Itoa(c.Resources), strconv.Itoa(c.Children), topTypes(c.Types, 4))
	}
	t.flush()
	if n := len(rep.Estate.Errors); n > 0 {
		fmt.Fprintf(w, "\n   %s could not be collected; the checks that need it report unknown:\n", st.warn(plural(n, "item", "items")))
		for _, e := range rep.Estate.Errors {
			fmt.Fprintf(w, "   - %s: %s\n     %s\n", e.Operation, e.Scope, e.Message)
		}
	}
	for _, s := range rep.Warnings {
		fmt.Fprintf(w, "%s %s %s: %s\n", st.warn("warning:"), s.File, s.Path, s.Reason)
	}
	fmt.Fprintf(w, "\nThe demo inputs are in the binary: 'bulwark demo --out DIR' writes them out, then\n'bulwark snapshot inspect DIR/estate' shows every object and where it came from.\n")
	return nil
}

// topTypes renders the most frequent types as "virtualMachines 6, disks 7, …".
func topTypes(ts []snapshot.TypeCount, n int) string {
	var parts []string
	for i, t := range ts {
		if i == n {
			parts = append(parts, fmt.Sprintf("+%d more", len(ts)-n))
			break
		}
		// "Microsoft.KeyVault/vaults" → "KeyVault/vaults": short, yet distinct from RecoveryServices/vaults.
		short := strings.TrimPrefix(strings.TrimPrefix(t.Type, "Microsoft."), "microsoft.")
		parts = append(parts, fmt.Sprintf("%s %d", short, t.Count))
	}
	if len(parts) == 0 {
		return "-"
	}
	return strings.Join(parts, ", ")
}

// writeDemo copies the embedded examples to opts.out.
func writeDemo(app *App, opts demoOptions) error {
	if entries, err := os.ReadDir(opts.out); err == nil && len(entries) > 0 && !opts.force {
		return usagef("%s is not empty: choose another folder or add --force to overwrite the demo files in it", opts.out)
	} else if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("read %s: %w", opts.out, err)
	}
	n := 0
	err := fs.WalkDir(examples.FS, examples.Root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel := strings.TrimPrefix(strings.TrimPrefix(p, examples.Root), "/")
		dst := filepath.Join(opts.out, filepath.FromSlash(rel))
		if d.IsDir() {
			return os.MkdirAll(dst, 0o755)
		}
		data, err := fs.ReadFile(examples.FS, p)
		if err != nil {
			return err
		}
		n++
		return os.WriteFile(dst, data, 0o644)
	})
	if err != nil {
		return fmt.Errorf("write the demo to %s: %w", opts.out, err)
	}
	app.notef("wrote %s to %s", plural(n, "file", "files"), opts.out)
	app.notef("next: bulwark snapshot inspect %s", filepath.Join(opts.out, "estate"))
	return nil
}
