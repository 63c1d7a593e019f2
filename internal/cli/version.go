package cli

import (
	"context"
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"
)

// Set at build time: go build -ldflags "-X github.com/bulwarkhq/bulwark/internal/cli.version=v1.2.3 -X …cli.commit=abc123".
var (
	version = ""
	commit  = ""
)

// VersionInfo is what `bulwark version` reports.
type VersionInfo struct {
	Version    string `json:"version"`
	Commit     string `json:"commit"`
	CommitTime string `json:"commitTime,omitempty"`
	Modified   bool   `json:"modified,omitempty"` // built from a work tree with uncommitted changes
	GoVersion  string `json:"goVersion"`
	Platform   string `json:"platform"`
}

func buildVersion() VersionInfo {
	v := VersionInfo{Version: version, Commit: commit, GoVersion: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH}
	if bi, ok := debug.ReadBuildInfo(); ok {
		if v.Version == "" && bi.Main.Version != "" {
			v.Version = bi.Main.Version // set by `go install …@vX.Y.Z`
		}
		// go build stamps these from the git work tree (unless -buildvcs=false; go run never does).
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				if v.Commit == "" {
					v.Commit = s.Value
				}
			case "vcs.time":
				v.CommitTime = s.Value
			case "vcs.modified":
				v.Modified = s.Value == "true"
			}
		}
	}
	if v.Version == "" {
		v.Version = "(devel)"
	}
	if v.Commit == "" {
		v.Commit = "unknown (built without VCS information: go run, or -buildvcs=false)"
	}
	return v
}

type versionOptions struct {
}

// NewCmdVersion builds `bulwark version`.
func NewCmdVersion(app *App, runF func(*versionOptions) error) *cobra.Command {
	var opts versionOptions
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version, commit and Go version",
		Args:  noArgs,
		RunE:  func(cmd *cobra.Command, _ []string) error { return seam(cmd.Context(), app, &opts, runF, runVersion) },
	}
}

func runVersion(ctx context.Context, app *App, opts *versionOptions) error {

	format, err := app.format("table", "json")
	if err != nil {
		return err
	}
	v := buildVersion()
	if format == "json" {
		return writeJSON(app.Stdout, v)
	}
	commit := v.Commit
	if v.CommitTime != "" {
		commit += " (" + v.CommitTime + ")"
	}
	if v.Modified {
		commit += ", with uncommitted changes"
	}
	_, err = fmt.Fprintf(app.Stdout, "bulwark %s\ncommit  %s\ngo      %s %s\n", v.Version, commit, v.GoVersion, v.Platform)
	return err
}
