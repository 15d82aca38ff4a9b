package cmd

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/callctl/callctl/pkg/fleet"
)

// jobIndexEnv is set by a Kubernetes Indexed Job in each pod: the default
// --shard-index.
const jobIndexEnv = "JOB_COMPLETION_INDEX"

// shardOptions split one fleet over several processes: every process runs
// the same command line, with its own index.
type shardOptions struct {
	index, count int
	startAt      string
	at           time.Time // --start-at parsed; zero without
}

func (o *fleetOptions) addShardFlags(f *pflag.FlagSet) {
	f.IntVar(&o.shard.count, "shard-count", 0, "split the fleet over this many processes: --publishers and --subscribers are then the whole fleet's, and this process runs its shard's slice of each")
	f.IntVar(&o.shard.index, "shard-index", 0, "this process's shard, 0 ≤ index < --shard-count (default $"+jobIndexEnv+", as a Kubernetes Indexed Job sets it)")
	f.StringVar(&o.shard.startAt, "start-at", "", "wait until this RFC 3339 time before the first join (every shard starts together)")
}

// validateShard checks the shard flags, takes the index from
// JOB_COMPLETION_INDEX when --shard-index is not given, and makes the
// default session name distinct per shard (ROOM-PREFIX-shardI). It runs
// before the fleet's plan is checked (fleet.Plan rejects an empty shard).
func (o *fleetOptions) validateShard(changed func(string) bool) error {
	bad := func(format string, args ...any) error { return &usageError{fmt.Errorf(format, args...)} }
	s := &o.shard
	if changed("start-at") {
		t, err := time.Parse(time.RFC3339, s.startAt)
		if err != nil {
			return bad("--start-at %q: want an RFC 3339 time such as 2026-01-02T15:04:05Z", s.startAt)
		}
		s.at = t
	}
	if !changed("shard-count") {
		if changed("shard-index") {
			return bad("--shard-index needs --shard-count")
		}
		return nil
	}
	if s.count < 1 {
		return bad("--shard-count %d: want at least 1", s.count)
	}
	if !changed("shard-index") {
		if v, ok := os.LookupEnv(jobIndexEnv); ok {
			i, err := strconv.Atoi(strings.TrimSpace(v))
			if err != nil {
				return bad("%s=%q is not a number (it is the default --shard-index)", jobIndexEnv, v)
			}
			s.index = i
		}
	}
	if s.index < 0 || s.index >= s.count {
		return bad("--shard-index %d: want 0 ≤ index < --shard-count %d", s.index, s.count)
	}
	o.conn.user += fmt.Sprintf("-shard%d", s.index)
	return nil
}

// fleetShard is the shard the fleet runs, nil when not sharded.
func (o *fleetOptions) fleetShard() *fleet.Shard {
	if o.shard.count == 0 {
		return nil
	}
	return &fleet.Shard{Index: o.shard.index, Count: o.shard.count}
}

// waitStartAt waits until --start-at. It returns false when a leave
// request (a signal, the control socket's leave) or the end of ctx came
// first: the fleet is then started with nothing to do, so that leaving
// it finishes at once.
func (s *fleetSession) waitStartAt(ctx context.Context) (leaveRequest, bool) {
	at := s.o.shard.at
	if at.IsZero() {
		return leaveRequest{}, true
	}
	wait := time.Until(at)
	if wait <= 0 {
		s.log.Warn("--start-at is in the past: starting now", "startAt", at.Format(time.RFC3339), "late", (-wait).Round(time.Millisecond))
		return leaveRequest{}, true
	}
	s.log.Info("waiting for --start-at", "startAt", at.Format(time.RFC3339), "in", wait.Round(time.Millisecond))
	t := time.NewTimer(wait)
	defer t.Stop()
	var req leaveRequest
	select {
	case <-t.C:
		return leaveRequest{}, true
	case req = <-s.leaveReqs:
	case <-ctx.Done():
		req = leaveRequest{trigger: "context"}
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	s.fl.Start(cancelled)
	return req, false
}
