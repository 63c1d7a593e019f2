package cli

import (
	"github.com/bulwarkhq/bulwark/internal/apps"
	"github.com/bulwarkhq/bulwark/internal/config"
	"github.com/bulwarkhq/bulwark/internal/detect"
	"github.com/bulwarkhq/bulwark/internal/iac"
	"github.com/bulwarkhq/bulwark/internal/load"
	"github.com/bulwarkhq/bulwark/sigma"
)

// estateContext is what the estate-reading commands take besides the snapshot: bulwark.yaml,
// apps.yaml and IaC templates, each optional.
type estateContext struct {
	Config config.Config
	Apps   *apps.File     // nil without --apps
	IaC    *iac.Inventory // nil without --iac
}

// loadContext reads the optional inputs; IaC notes (names that cannot be resolved) go to stderr.
func loadContext(app *App, configPath, appsPath string, iacPaths []string) (estateContext, error) {
	c := estateContext{Config: config.Default()}
	var err error
	if configPath != "" {
		if c.Config, err = load.Config(configPath); err != nil {
			return c, err
		}
	}
	if appsPath != "" {
		if c.Apps, err = load.Apps(appsPath); err != nil {
			return c, err
		}
	}
	if len(iacPaths) > 0 {
		if c.IaC, err = load.IaC(iacPaths); err != nil {
			return c, err
		}
		for _, n := range c.IaC.Notes {
			app.notef("iac: %s", n)
		}
	}
	return c, nil
}

// loadRules is the built-in pack (unless builtin is false) and the rules in paths, with the
// problems of both.
func loadRules(builtin bool, paths []string) ([]*sigma.Rule, sigma.Errors) {
	user, errs := load.Rules(paths...)
	rules, es := detect.LoadRules(builtin, user...)
	return rules, append(es, errs...)
}
