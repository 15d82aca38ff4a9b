// Package cmd is callctl's command line: cobra commands, the NDJSON
// printer, logging setup and the exit-code contract. Only this package
// writes to stdout or decides exit codes.
package cmd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"

	"github.com/spf13/cobra"

	"github.com/callctl/callctl/pkg/sdk"
)

// IO are the process streams, injectable for tests.
type IO struct {
	In     io.Reader
	Out    io.Writer
	ErrOut io.Writer
}

// globalOptions are the root's persistent flags.
type globalOptions struct {
	logLevel  string
	logFormat string
	config    string
}

func (g *globalOptions) logger(io IO) (*slog.Logger, error) {
	return newLogger(io.ErrOut, g.logLevel, g.logFormat)
}

// runners are what the commands do once their flags and arguments are
// parsed and checked. NewRootCmd wires the real ones; tests substitute
// recorders to check the flag wiring in-process, without joining a call
// or dialing a session.
type runners struct {
	join  joinRunner
	mute  func(ctx context.Context, io IO, verb, kind string, o *controlOptions) error
	leave func(ctx context.Context, io IO, o *leaveOptions) error
	stats func(ctx context.Context, io IO, o *statsOptions) error
	send  sendRunner
	fleet fleetRunner
}

func defaultRunners() runners {
	return runners{join: runJoin, mute: runMute, leave: runLeave, stats: runStats, send: runSend, fleet: runFleet}
}

// NewRootCmd builds the command tree.
func NewRootCmd(io IO) *cobra.Command {
	return newRootCmd(io, defaultRunners())
}

func newRootCmd(io IO, r runners) *cobra.Command {
	g := &globalOptions{}
	root := &cobra.Command{
		Use:   "callctl",
		Short: "Headless softphone for mediasoup calls",
		Long: `callctl joins mediasoup rooms (mediasoup-demo's protoo signaling) as a headless
participant: it publishes audio and video, consumes every other participant,
and streams what happens as NDJSON events on stdout, one JSON object per line.
Logs go to stderr.

A running join is controlled from other shells with sessions, leave, mute,
unmute and stats; each prints one JSON result on stdout.`,
		SilenceErrors: true,
		SilenceUsage:  true,
		Version:       sdk.Version,
	}
	root.SetOut(io.Out)
	root.SetErr(io.ErrOut)
	root.SetIn(io.In)
	root.PersistentFlags().StringVar(&g.logLevel, "log-level", "info", "log level on stderr: debug, info, warn, error")
	root.PersistentFlags().StringVar(&g.logFormat, "log-format", "text", "log format on stderr: text, json, logfmt")
	root.PersistentFlags().StringVar(&g.config, "config", "", "YAML config file (default $XDG_CONFIG_HOME/callctl/callctl.yaml if it exists; env CALLCTL_CONFIG)")
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error { return &usageError{err} })
	root.PersistentPreRunE = func(c *cobra.Command, _ []string) error {
		path, explicit := g.config, g.config != ""
		if !explicit {
			if p, ok := os.LookupEnv(EnvPrefix + "CONFIG"); ok {
				path, explicit = p, true
			} else {
				path = defaultConfigPath()
			}
		}
		cfg, err := loadConfig(path, explicit)
		if err != nil {
			return err
		}
		return applyConfig(c, cfg)
	}
	root.AddCommand(newJoinCmd(io, g, r.join))
	root.AddCommand(newFleetCmd(io, g, r.fleet))
	root.AddCommand(newSessionsCmd(io), newLeaveCmd(io, r.leave), newStatsCmd(io, r.stats))
	root.AddCommand(newMuteCmds(io, r.mute)...)
	root.AddCommand(newSendCmd(io, r.send))
	root.AddCommand(newDevicesCmd(io), newClipsCmd(io))
	root.AddCommand(newHelpTopics(io)...)
	registerCompletions(root)
	return root
}

// Main runs callctl and returns the process exit code.
func Main() int {
	return run(context.Background(), os.Args[1:], IO{In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr})
}

func run(ctx context.Context, args []string, io IO) int {
	return runWith(ctx, args, io, defaultRunners())
}

// runWith is run with the given runners.
func runWith(ctx context.Context, args []string, io IO, r runners) int {
	root := newRootCmd(io, r)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return ExitOK
	}
	code := exitCodeFor(err)
	var silent *silentError
	if !errors.As(err, &silent) {
		fmt.Fprintf(io.ErrOut, "callctl: %v\n", err)
		var ue *usageError
		if errors.As(err, &ue) {
			fmt.Fprintln(io.ErrOut, "Run 'callctl --help' for usage.")
		}
	}
	return code
}

// silentError has already been reported (as an event); only its exit code
// matters.
type silentError struct{ err error }

func (e *silentError) Error() string { return e.err.Error() }
func (e *silentError) Unwrap() error { return e.err }
