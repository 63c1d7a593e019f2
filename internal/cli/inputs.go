package cli

import (
	"github.com/bulwarkhq/bulwark/internal/apps"
	"github.com/bulwarkhq/bulwark/internal/config"
	"github.com/bulwarkhq/bulwark/internal/iac"
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
		if c.Config, err = config.Load(configPath); err != nil {
			return c, err
		}
	}
	if appsPath != "" {
		if c.Apps, err = apps.Load(appsPath); err != nil {
			return c, err
		}
	}
	if len(iacPaths) > 0 {
		if c.IaC, err = iac.Load(iacPaths); err != nil {
			return c, err
		}
		for _, n := range c.IaC.Notes {
			app.notef("iac: %s", n)
		}
	}
	return c, nil
}
