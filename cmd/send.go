package cmd

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"
)

// sendCmdResult is the JSON result of `callctl send`.
type sendCmdResult struct {
	resultHeader
	sendResult
}

// sendRunner runs send: runSend, or a test's recorder.
type sendRunner func(ctx context.Context, io IO, text string, o *controlOptions) error

func newSendCmd(io IO, run sendRunner) *cobra.Command {
	o := &controlOptions{}
	c := &cobra.Command{
		Use:   "send TEXT... [--session S]",
		Short: "Send a chat message from a running callctl join --data",
		Long: `Send a text message on the chat DataChannel of a running 'callctl join --data':
every other participant with DataChannels receives it (callctl prints it as a
data.message event; the viewer page shows it in its chat box). The words are
joined with spaces.

Result: {"v":1,"ok":true,"cmd":"send","session":"demo-bot1","label":"chat","bytes":5}
A session joined without --data fails with code "no_data_channel" (exit 8).`,
		Example: "  callctl send hello everyone --session demo-bot1",
		Args: func(c *cobra.Command, args []string) error {
			if len(args) == 0 || strings.TrimSpace(strings.Join(args, " ")) == "" {
				return &usageError{fmt.Errorf("send: want the message text")}
			}
			return nil
		},
		RunE: func(c *cobra.Command, args []string) error {
			return run(c.Context(), io, strings.Join(args, " "), o)
		},
	}
	o.addFlags(c)
	return c
}

// runSend asks the session to send text and prints the result.
func runSend(ctx context.Context, io IO, text string, o *controlOptions) error {
	ctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	cl, name, err := o.connect()
	if err != nil {
		return failResult(io, "send", name, err)
	}
	defer cl.Close()
	var res sendResult
	if err := cl.Call(ctx, "send", sendArgs{Text: text}, &res); err != nil {
		return failResult(io, "send", name, err)
	}
	return writeResult(io.Out, sendCmdResult{resultHeader: okHeader("send", name), sendResult: res})
}
