package cmd

import (
	"context"
	"time"

	"github.com/callctl/callctl/pkg/sdk"
)

type leftData struct {
	Reason   string `json:"reason"`
	Error    string `json:"error,omitempty"`
	ExitCode int    `json:"exitCode"`
	// Trigger is what made a requested leave happen: signal, duration,
	// leave (control command), expect.passed, expect.failed.
	Trigger string `json:"trigger,omitempty"`
}

// finish writes the final "left" event, once; it reports whether this
// call wrote it. A second signal racing with the end of a graceful leave
// thus cannot exit 130 after "left" announced another code.
func (s *joinSession) finish(d leftData) bool {
	won := false
	s.finishOnce.Do(func() {
		won = true
		_ = s.out.event("left", d)
	})
	return won
}

// emitStats writes a "stats" event, if the call can still give them.
func (s *joinSession) emitStats(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	st, err := s.client.Stats(ctx)
	if err != nil {
		s.log.Debug("stats unavailable", "err", err)
		return
	}
	_ = s.out.event("stats", st)
}

// pumpEvents copies SDK events to stdout, holding back Left: the command
// writes it last, with the exit code.
func pumpEvents(events <-chan sdk.Event, out *printer, done chan<- sdk.Left) {
	var left sdk.Left
	for ev := range events {
		if l, ok := ev.(sdk.Left); ok {
			left = l
			continue
		}
		_ = out.event(ev.Type(), ev)
	}
	if left.Reason == "" {
		left.Reason = "ended"
	}
	done <- left
}
