package cmd

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"
)

// leaveCmdResult is the JSON result of `callctl leave`.
type leaveCmdResult struct {
	resultHeader
	// Left is true once the session's process has finished (with --wait,
	// the default); false when it only acknowledged the request.
	Left bool `json:"left"`
}

func newLeaveCmd(io IO) *cobra.Command {
	o := &controlOptions{}
	wait := true
	c := &cobra.Command{
		Use:   "leave [--session S]",
		Short: "Make a running callctl join leave the call gracefully",
		Long: `Ask a running 'callctl join' to leave its call gracefully. The join process
emits its final stats and "left" events and exits 0. By default the command
returns once that process has finished; --wait=false returns as soon as the
request is acknowledged.

Result: {"v":1,"ok":true,"cmd":"leave","session":"demo-bot1","left":true}`,
		Example: `  callctl join --server ws://127.0.0.1:4443 --room demo --user bot1 > bot1.ndjson &
  callctl leave --session demo-bot1 && wait`,
		Args: noArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			ctx, cancel := context.WithTimeout(c.Context(), o.timeout)
			defer cancel()
			cl, name, err := o.connect()
			if err != nil {
				return failResult(io, "leave", name, err)
			}
			defer cl.Close()
			if err := cl.Call(ctx, "leave", nil, &leaveResult{}); err != nil {
				return failResult(io, "leave", name, err)
			}
			if wait {
				if err := cl.WaitClosed(ctx); err != nil {
					return failResult(io, "leave", name, fmt.Errorf("the session acknowledged but did not finish: %w", err))
				}
			}
			return writeResult(io.Out, leaveCmdResult{resultHeader: okHeader("leave", name), Left: wait})
		},
	}
	o.addFlags(c)
	c.Flags().BoolVar(&wait, "wait", true, "wait until the join process has finished")
	return c
}
