package sentinel

import (
	"io/fs"

	"github.com/bulwarkhq/bulwark/rules"
)

func rulesFS() fs.FS { return rules.FS }
