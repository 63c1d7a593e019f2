// Package examples embeds the Contoso demo estate — snapshot files, apps.yaml, IaC templates and
// activity logs — so that the bulwark binary carries it and `bulwark demo` needs no input.
package examples

import "embed"

// FS holds the contoso folder.
//
//go:embed contoso
var FS embed.FS

// Paths inside FS.
const (
	Root   = "contoso"
	Estate = "contoso/estate"
)
