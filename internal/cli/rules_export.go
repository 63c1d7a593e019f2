package cli

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/bulwarkhq/bulwark/internal/sentinel"
	"github.com/bulwarkhq/bulwark/sigma"
)

type rulesExportOptions struct {
	paths     []string
	noBuiltin bool
	format    string
	out       string
	strict    bool
}

func newCmdRulesExport(app *App, runF func(*rulesExportOptions) error) *cobra.Command {
	var opts rulesExportOptions
	cmd := &cobra.Command{
		Use:   "export",
		Short: "Convert the rules to Microsoft Sentinel analytics rules (KQL over AzureActivity)",
		Long: `Converts the built-in pack (and --rules) to KQL over the Log Analytics AzureActivity table, as
Microsoft Sentinel Scheduled analytics rules: detection rules and correlations (event_count,
value_count, value_sum, value_avg, temporal, temporal_ordered, and chains of per-stage building
blocks). Formats:
  kql            the queries, each after a comment naming its rule and schedule
  sentinel-arm   one ARM template of Microsoft.SecurityInsights/alertRules (deploy with
                 az deployment group create --resource-group RG --template-file FILE
                 --parameters workspace=WORKSPACE)
  sentinel-yaml  the Azure-Sentinel repository's detection YAML, one document per rule
  bicep          one Bicep file (az deployment group create … --template-file FILE.bicep)
A rule that does not convert is listed on stderr with the construct and the reason; --strict then
exits 1. docs/sentinel.md has the field mapping and where Sentinel's windows differ from bulwark
detect's.`,
		Example: `  bulwark rules export --format sentinel-arm -o bulwark-sentinel.json
  bulwark rules export --format kql --rules ./sigmahq/rules/cloud/azure/activity_logs --no-builtin
  bulwark rules export --format sentinel-yaml -o ./analytics/   # one file per rule`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return seam(cmd.Context(), app, &opts, runF, runRulesExport)
		},
	}
	cmd.Flags().StringArrayVar(&opts.paths, "rules", nil, "also convert these Sigma rules: a file or folder (repeatable)")
	cmd.Flags().BoolVar(&opts.noBuiltin, "no-builtin", false, "leave out the built-in pack")
	cmd.Flags().StringVar(&opts.format, "format", "", "kql, sentinel-arm, sentinel-yaml or bicep (required)")
	cmd.Flags().StringVarP(&opts.out, "output", "o", "-", "file to write (- for stdout); an existing folder takes one file per rule (kql, sentinel-yaml) or bulwark-sentinel.json / .bicep")
	cmd.Flags().BoolVar(&opts.strict, "strict", false, "exit 1 when a rule does not convert")
	cmd.RegisterFlagCompletionFunc("format", cobra.FixedCompletions(sentinel.Formats, cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

var exportExtensions = map[string]string{"kql": ".kql", "sentinel-arm": ".json", "sentinel-yaml": ".yaml", "bicep": ".bicep"}

func runRulesExport(ctx context.Context, app *App, opts *rulesExportOptions) error {
	if _, ok := exportExtensions[opts.format]; !ok {
		return usagef("--format must be one of %s", strings.Join(sentinel.Formats, ", "))
	}
	rules, errs := loadRules(!opts.noBuiltin, opts.paths)
	for _, e := range errs {
		app.notef("rules: %s", e)
	}
	rs, cerrs := sigma.NewRuleSet(rules, sigma.Options{Lenient: true})
	for _, e := range cerrs {
		app.notef("rules: %s", e)
	}
	queries, failed := sentinel.Convert(rs)
	analytics := make([]sentinel.AnalyticsRule, 0, len(queries))
	for _, q := range queries {
		analytics = append(analytics, sentinel.Analytics(q))
	}
	if err := writeExport(app, opts, analytics); err != nil {
		return err
	}
	app.notef("%d rules converted to %s, %d not%s", len(analytics), opts.format, len(failed), map[bool]string{true: ":", false: ""}[len(failed) > 0])
	for _, f := range failed {
		app.notef("  not converted: %s: %s: %s", f.Rule, f.Construct, f.Reason)
	}
	if n := len(errs) + len(cerrs); opts.strict && (len(failed) > 0 || n > 0) {
		return &CheckError{Msg: fmt.Sprintf("%d rules did not convert, %d did not load (--strict)", len(failed), n)}
	}
	return nil
}

// writeExport writes to stdout, a file, or, into an existing folder, one file per rule (kql,
// sentinel-yaml) or one template.
func writeExport(app *App, opts *rulesExportOptions, rules []sentinel.AnalyticsRule) error {
	ext := exportExtensions[opts.format]
	if opts.out == "" || opts.out == "-" {
		var b bytes.Buffer
		if err := sentinel.Write(&b, opts.format, rules); err != nil {
			return err
		}
		_, err := app.Stdout.Write(b.Bytes())
		return err
	}
	st, err := os.Stat(opts.out)
	if err == nil && st.IsDir() {
		if opts.format == "sentinel-arm" || opts.format == "bicep" {
			return writeExportFile(filepath.Join(opts.out, "bulwark-sentinel"+ext), opts.format, rules)
		}
		for _, r := range rules {
			if err := writeExportFile(filepath.Join(opts.out, safeFileName(r.Name)+ext), opts.format, []sentinel.AnalyticsRule{r}); err != nil {
				return err
			}
		}
		return nil
	}
	return writeExportFile(opts.out, opts.format, rules)
}

// writeExportFile writes the file whole or not at all (writeFileAtomic).
func writeExportFile(path, format string, rules []sentinel.AnalyticsRule) error {
	var b bytes.Buffer
	if err := sentinel.Write(&b, format, rules); err != nil {
		return err
	}
	return writeFileAtomic(path, b.Bytes())
}

// safeFileName is a rule name as a file name: letters, digits, dot, dash and underscore kept.
func safeFileName(name string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '-' || r == '_' {
			return r
		}
		return '_'
	}, name)
}
