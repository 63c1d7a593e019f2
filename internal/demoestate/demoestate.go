// Package demoestate loads the embedded Contoso demo (examples/contoso) as an assess.Env: the
// estate with its apps.yaml, bulwark.yaml and IaC templates. The demo command and the tests that
// need the whole demo share it.
package demoestate

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"

	"github.com/bulwarkhq/bulwark/examples"
	"github.com/bulwarkhq/bulwark/internal/apps"
	"github.com/bulwarkhq/bulwark/internal/assess"
	"github.com/bulwarkhq/bulwark/internal/config"
	"github.com/bulwarkhq/bulwark/internal/iac"
	"github.com/bulwarkhq/bulwark/internal/snapshot"
)

// Load reads the embedded estate and builds the models on it with the demo's apps.yaml,
// bulwark.yaml and IaC.
func Load(ctx context.Context) (*assess.Env, *snapshot.Result, error) {
	res, err := snapshot.LoadFS(ctx, examples.FS, examples.Estate, "embedded:")
	if err != nil {
		return nil, nil, fmt.Errorf("load the embedded estate: %w", err)
	}
	env, err := envOf(res)
	return env, res, err
}

func envOf(res *snapshot.Result) (*assess.Env, error) {
	read := func(name string) ([]byte, error) { return fs.ReadFile(examples.FS, examples.Root+"/"+name) }
	data, err := read("apps.yaml")
	if err != nil {
		return nil, err
	}
	appsFile, err := apps.Parse(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("embedded apps.yaml: %w", err)
	}
	if data, err = read("bulwark.yaml"); err != nil {
		return nil, err
	}
	cfg, err := config.Parse(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("embedded bulwark.yaml: %w", err)
	}
	inv, err := iac.LoadFS(examples.FS, examples.Root+"/iac")
	if err != nil {
		return nil, err
	}
	return assess.NewEnv(assess.Inputs{Snapshot: res.Snapshot, Config: cfg, Apps: appsFile, IaC: inv}), nil
}
