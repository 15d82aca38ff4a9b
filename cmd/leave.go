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

// leaveOptions are the flags of callctl leave.
type leaveOptions struct {
	controlOptions
	wait bool
}

func newLeaveCmd(io IO, run func(ctx context.Context, io IO, o *leaveOptions) error) *cobra.Command {
	o := &leaveOptions{wait: true}
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
			return run(c.Context(), io, o)
		},
	}
	o.addFlags(c)
	o.addParticipantFlag(c)
	c.Flags().BoolVar(&o.wait, "wait", true, "wait until the join process has finished")
	return c
}

// runLeave asks the session to leave and, with --wait, waits until its
// process has finished.
func runLeave(ctx context.Context, io IO, o *leaveOptions) error {
	ctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	cl, name, err := o.connectTarget(ctx)
	if err != nil {
		return failResult(io, "leave", name, err)
	}
	defer cl.Close()
	if err := cl.Call(ctx, "leave", participantArgs(o.participant, ""), &leaveResult{}); err != nil {
		return failResult(io, "leave", name, err)
	}
	// A fleet answers a participant's leave once it has left; the
	// session itself goes on.
	if o.wait && o.participant == "" {
		if err := cl.WaitClosed(ctx); err != nil {
			return failResult(io, "leave", name, fmt.Errorf("the session acknowledged but did not finish: %w", err))
		}
	}
	return writeResult(io.Out, leaveCmdResult{resultHeader: okHeader("leave", name), Left: o.wait})
}
