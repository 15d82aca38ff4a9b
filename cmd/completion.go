package cmd

import (
	"github.com/spf13/cobra"

	"github.com/callctl/callctl/cmd/internal/ctlsock"
)

// completeSessions offers the live session names for --session.
func completeSessions(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
	dir, err := ctlsock.Dir()
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	names, _ := ctlsock.List(dir)
	return names, cobra.ShellCompDirectiveNoFileComp
}

// fixedValues completes a flag from a list.
func fixedValues(values ...string) cobra.CompletionFunc {
	return cobra.FixedCompletions(values, cobra.ShellCompDirectiveNoFileComp)
}

// registerCompletions wires dynamic shell completion (cobra generates the
// scripts: `callctl completion bash|zsh|fish|powershell`).
func registerCompletions(root *cobra.Command) {
	reg := func(c *cobra.Command, flag string, f cobra.CompletionFunc) {
		if c.Flags().Lookup(flag) != nil || c.PersistentFlags().Lookup(flag) != nil {
			_ = c.RegisterFlagCompletionFunc(flag, f)
		}
	}
	reg(root, "log-level", fixedValues("debug", "info", "warn", "error"))
	reg(root, "log-format", fixedValues("text", "json", "logfmt"))
	for _, c := range root.Commands() {
		switch c.Name() {
		case "join":
			reg(c, "video", fixedValues("test", "none"))
			reg(c, "audio", fixedValues("tone", "none"))
			reg(c, "codec", fixedValues("vp8"))
			reg(c, "ice-loopback", fixedValues("auto", "on", "off"))
			reg(c, "consume", fixedValues("all", "none", "audio", "video"))
			reg(c, "video-layer", fixedValues("0", "1", "2", "0:0", "1:1", "2:2"))
		case "fleet":
			reg(c, "video", fixedValues("test", "none"))
			reg(c, "audio", fixedValues("tone", "none"))
			reg(c, "subscribe", fixedValues("all", "audio", "video"))
			reg(c, "ice-loopback", fixedValues("auto", "on", "off"))
			reg(c, "session", completeSessions)
		case "stats":
			reg(c, "format", fixedValues("json", "table"))
			reg(c, "session", completeSessions)
		default:
			reg(c, "session", completeSessions)
		}
	}
}
