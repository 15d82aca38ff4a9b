package cmd

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/callctl/callctl/pkg/sdk"
)

// Exit codes: a documented contract (`callctl help exit-codes`).
const (
	ExitOK          = 0 // success: left normally, or the command did what it was asked
	ExitError       = 1 // unexpected failure
	ExitUsage       = 2 // bad flags or arguments
	ExitConnect     = 3 // could not reach the signaling server
	ExitJoinRefused = 4 // server or negotiation refused the join
	ExitLost        = 5 // the call was lost after joining (server closed it, network or transport failure)
	ExitNoSession   = 6 // control command: no such running session
	ExitExpectation = 7 // join --expect-*: expectations not met in time
	ExitRefused     = 8 // control command: the session could not do it (not published, not in the call, server said no)
	ExitInterrupted = 130
)

var exitCodeHelp = []struct {
	code int
	text string
}{
	{ExitOK, "success: the call ended by request (leave, --duration, first SIGINT/SIGTERM) or the command succeeded"},
	{ExitError, "unexpected failure"},
	{ExitUsage, "usage error: bad flag, argument or configuration"},
	{ExitConnect, "could not connect to the signaling server (unreachable, TLS, HTTP rejection)"},
	{ExitJoinRefused, "join refused: the server answered a join step with an error, or media negotiation failed"},
	{ExitLost, "the call was lost after joining: the server closed the session, the connection dropped, or a media transport failed"},
	{ExitNoSession, "control commands: no running session matches (or several run and --session was not given), or it ended before answering, or a fleet has no such --participant"},
	{ExitExpectation, "join --expect-*: the expectations were not met before the deadline"},
	{ExitRefused, "control commands: the session could not do it (mute/unmute of a kind it does not publish, not in the call yet or any more, the server rejected the request)"},
	{ExitInterrupted, "a second SIGINT/SIGTERM forced exit before the graceful leave finished"},
}

// exitError carries an exit code through cobra's error return.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

func withCode(code int, err error) error {
	if err == nil {
		return nil
	}
	return &exitError{code: code, err: err}
}

// usageError marks bad flags or arguments.
type usageError struct{ err error }

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

// exitCodeFor maps an error to the documented exit code.
func exitCodeFor(err error) int {
	var ee *exitError
	var ue *usageError
	var ce *sdk.ConnectError
	var je *sdk.JoinError
	switch {
	case err == nil:
		return ExitOK
	case errors.As(err, &ee):
		return ee.code
	case errors.As(err, &ue):
		return ExitUsage
	case errors.As(err, &ce):
		return ExitConnect
	case errors.As(err, &je):
		return ExitJoinRefused
	case errors.Is(err, sdk.ErrClosedByServer), errors.Is(err, sdk.ErrConnectionLost), errors.Is(err, sdk.ErrTransportFailed):
		return ExitLost
	case errors.Is(err, context.Canceled):
		return ExitInterrupted
	default:
		return ExitError
	}
}

// noArgs is cobra.NoArgs as a usage error (exit 2).
func noArgs(c *cobra.Command, args []string) error {
	if len(args) > 0 {
		return &usageError{fmt.Errorf("%s takes no arguments, got %q", c.CommandPath(), args)}
	}
	return nil
}
