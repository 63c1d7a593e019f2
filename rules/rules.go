// Package rules embeds Bulwark's built-in Sigma rule pack for the destructive kill chain: one
// folder per stage (privilege, impairment, recovery, destruction) and the correlation rules. Each
// rule has sample events beside it (rule.tests/{match,nomatch}/) in the three Activity Log formats.
package rules

import "embed"

// FS holds the rule files.
//
//go:embed privilege/*.yml impairment/*.yml recovery/*.yml destruction/*.yml correlation/*.yml
var FS embed.FS
