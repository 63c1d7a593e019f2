package cli

import (
	"github.com/spf13/cobra"
)

// NewCmdCompletion builds `bulwark completion bash|zsh|fish|powershell`.
func NewCmdCompletion(app *App) *cobra.Command {
	return &cobra.Command{
		Use:   "completion bash|zsh|fish|powershell",
		Short: "Print a shell completion script",
		Long: `Print a shell completion script. For example:

  bash:        source <(bulwark completion bash)
  zsh:         bulwark completion zsh > "${fpath[1]}/_bulwark"
  fish:        bulwark completion fish > ~/.config/fish/completions/bulwark.fish
  powershell:  bulwark completion powershell | Out-String | Invoke-Expression`,
		ValidArgs: []string{"bash", "zsh", "fish", "powershell"},
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usagef("completion needs exactly one shell: bash, zsh, fish or powershell")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			root := cmd.Root()
			switch args[0] {
			case "bash":
				return root.GenBashCompletionV2(app.Stdout, true)
			case "zsh":
				return root.GenZshCompletion(app.Stdout)
			case "fish":
				return root.GenFishCompletion(app.Stdout, true)
			case "powershell":
				return root.GenPowerShellCompletionWithDesc(app.Stdout)
			}
			return usagef("unknown shell %q: choose bash, zsh, fish or powershell", args[0])
		},
	}
}
