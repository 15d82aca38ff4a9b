package cmd

import (
	"context"
	"time"

	"github.com/spf13/cobra"

	"github.com/callctl/callctl/cmd/internal/ctlsock"
)

// sessionsResult is the JSON result of `callctl sessions`.
type sessionsResult struct {
	resultHeader
	Dir      string        `json:"dir"`
	Sessions []sessionInfo `json:"sessions"`
}

func newSessionsCmd(io IO) *cobra.Command {
	var timeout time.Duration
	c := &cobra.Command{
		Use:   "sessions",
		Short: "List the running callctl join sessions of this user",
		Long: `List the sessions of running 'callctl join' processes that can be controlled
with leave, mute, unmute and stats. Sockets left behind by processes that
died are removed and not listed. Prints one JSON object:

  {"v":1,"ok":true,"cmd":"sessions","dir":"/run/user/1000/callctl",
   "sessions":[{"name":"demo-bot1","room":"demo","user":"bot1","pid":4242,
                "started":"…","status":"joined","participants":2,"producers":[…]}]}`,
		Args: noArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			dir, err := ctlsock.Dir()
			if err != nil {
				return failResult(io, "sessions", "", err)
			}
			names, err := ctlsock.List(dir)
			if err != nil {
				return failResult(io, "sessions", "", err)
			}
			res := sessionsResult{resultHeader: okHeader("sessions", ""), Dir: dir, Sessions: []sessionInfo{}}
			for _, n := range names {
				info, err := sessionInfoOf(c.Context(), dir, n, timeout)
				if err != nil {
					continue // it ended meanwhile, or does not answer
				}
				res.Sessions = append(res.Sessions, info)
			}
			return writeResult(io.Out, res)
		},
	}
	c.Flags().DurationVar(&timeout, "timeout", 2*time.Second, "skip a session that does not answer within this long")
	return c
}

func sessionInfoOf(ctx context.Context, dir, name string, timeout time.Duration) (sessionInfo, error) {
	var info sessionInfo
	cl, err := ctlsock.Dial(dir, name)
	if err != nil {
		return info, err
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	err = cl.Call(ctx, "info", nil, &info)
	return info, err
}
