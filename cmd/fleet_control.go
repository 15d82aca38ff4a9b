package cmd

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"sync"

	"github.com/callctl/callctl/cmd/internal/ctlsock"
	"github.com/callctl/callctl/pkg/fleet"
	"github.com/callctl/callctl/pkg/sdk"
)

// fleetArgs are the arguments every fleet control command accepts: an
// optional participant (peer id); empty means the whole fleet.
type fleetArgs struct {
	Kind        string `json:"kind,omitempty"`
	Participant string `json:"participant,omitempty"`
}

// fleetSessionInfo answers "info" for a fleet: what sessions lists, plus
// the fleet's shape (its presence tells control commands that the
// session is a fleet).
type fleetSessionInfo struct {
	sessionInfo
	Fleet *fleetInfo `json:"fleet,omitempty"`
}

type fleetInfo struct {
	Publishers  int          `json:"publishers"`
	Subscribers int          `json:"subscribers"`
	Rooms       int          `json:"rooms"`
	Counts      fleet.Counts `json:"participants"`
}

// fleetStatsReply answers "stats" for the whole fleet: a join-shaped
// sample with empty lists (one participant's is asked with
// --participant), the aggregate and every participant's state.
type fleetStatsReply struct {
	sdk.CallStats
	Fleet        *fleet.Stats `json:"fleet"`
	Participants []fleet.Info `json:"participants"`
}

// fleetMuteReply answers "mute"/"unmute" for the whole fleet: muted when
// every publisher of the kind is, changed when any changed, and each
// participant's result.
type fleetMuteReply struct {
	muteResult
	Participants []fleet.MuteResult `json:"participants"`
}

// fleetControl serves a fleet's control socket.
type fleetControl struct {
	s         *fleetSession
	muteMu    sync.Mutex
	leaveOnce sync.Once
	leave     chan struct{}
}

func newFleetControl(s *fleetSession) *fleetControl {
	return &fleetControl{s: s, leave: make(chan struct{})}
}

func (h *fleetControl) leaveRequested() <-chan struct{} { return h.leave }

func (h *fleetControl) handle(ctx context.Context, req ctlsock.Request) ctlsock.Reply {
	var a fleetArgs
	if len(req.Args) > 0 {
		if err := json.Unmarshal(req.Args, &a); err != nil {
			return ctlsock.Reply{Err: ctlsock.Errorf(ctlsock.CodeBadRequest, "%s: args: %v", req.Cmd, err)}
		}
	}
	if a.Participant != "" {
		if _, err := h.s.fl.Participant(a.Participant); err != nil {
			return ctlsock.Reply{Err: ctlsock.Errorf(codeNoParticipant, "%s: the fleet has no participant %q", req.Cmd, a.Participant)}
		}
	}
	switch req.Cmd {
	case "info":
		return ctlsock.Reply{Result: h.info()}
	case "stats":
		return h.stats(ctx, a.Participant)
	case "mute", "unmute":
		if a.Kind != "audio" && a.Kind != "video" {
			return ctlsock.Reply{Err: ctlsock.Errorf(ctlsock.CodeBadRequest, `%s: args.kind %q: want "audio" or "video"`, req.Cmd, a.Kind)}
		}
		return h.mute(ctx, req.Cmd, a)
	case "leave":
		return h.leaveCmd(ctx, a.Participant)
	default:
		return ctlsock.Reply{Err: ctlsock.Errorf(ctlsock.CodeUnknownCommand, "unknown command %q (a fleet serves info, mute, unmute, stats and leave)", req.Cmd)}
	}
}

// codeNoParticipant: a --participant the fleet does not have (exit 6).
const codeNoParticipant = "no_participant"

func (h *fleetControl) info() fleetSessionInfo {
	o, st := h.s.o, h.s.fl.Aggregate()
	status := "joining"
	switch {
	case st.Participants.Joined+st.Participants.Reconnecting > 0 && st.Participants.Pending+st.Participants.Joining == 0:
		status = string(sdk.StatusJoined)
	case st.Participants.Left+st.Participants.Failed == st.Participants.Planned:
		status = string(sdk.StatusClosed)
	}
	return fleetSessionInfo{
		sessionInfo: sessionInfo{
			Name: o.session, Room: o.roomPrefix, User: o.prefix, DisplayName: o.prefix, Server: o.conn.server,
			PID: os.Getpid(), Started: h.s.started.UTC(), Status: status,
			Participants: st.Participants.Joined + st.Participants.Reconnecting, Producers: []producerInfo{},
		},
		Fleet: h.fleetInfo(st.Participants),
	}
}

// fleetInfo counts this process's participants by role: with
// --shard-count, its slice of the fleet's totals.
func (h *fleetControl) fleetInfo(counts fleet.Counts) *fleetInfo {
	fi := &fleetInfo{Rooms: h.s.o.rooms, Counts: counts}
	for _, m := range h.s.fl.Members() {
		if m.Role == fleet.Publisher {
			fi.Publishers++
		} else {
			fi.Subscribers++
		}
	}
	return fi
}

func (h *fleetControl) stats(ctx context.Context, participant string) ctlsock.Reply {
	if participant != "" {
		st, err := h.s.fl.ParticipantStats(ctx, participant)
		if err != nil {
			return ctlsock.Reply{Err: errorCode("stats", err)}
		}
		return ctlsock.Reply{Result: st}
	}
	agg := h.s.fl.Sample(ctx)
	return ctlsock.Reply{Result: fleetStatsReply{
		CallStats: sdk.CallStats{Time: agg.Time, Transports: []sdk.TransportStats{}, Producers: []sdk.ProducerStats{}, Consumers: []sdk.ConsumerStats{}},
		Fleet:     &agg, Participants: h.s.fl.Participants(),
	}}
}

func (h *fleetControl) mute(ctx context.Context, cmd string, a fleetArgs) ctlsock.Reply {
	h.muteMu.Lock()
	defer h.muteMu.Unlock()
	results, err := h.s.fl.Mute(ctx, a.Participant, a.Kind, cmd == "mute")
	if err != nil {
		return h.controlFailed(cmd, a, errorCode(cmd, err))
	}
	reply := fleetMuteReply{muteResult: muteResult{Kind: a.Kind, Muted: true}, Participants: results}
	var firstErr error
	ok := 0
	for _, r := range results {
		if r.Err != nil {
			firstErr = firstOf(firstErr, r.Err)
			continue
		}
		ok++
		reply.Muted = reply.Muted && r.Muted
		reply.Changed = reply.Changed || r.Changed
		reply.ProducerID = r.ProducerID
	}
	if ok == 0 {
		if firstErr == nil {
			firstErr = sdk.ErrNotJoined // no publisher in a call
		}
		return h.controlFailed(cmd, a, muteErrorCode(cmd+" "+a.Kind, firstErr))
	}
	changed := reply.Changed
	h.controlEvent(a.Participant, controlData{Cmd: cmd, Kind: a.Kind, OK: true, Changed: &changed})
	if a.Participant != "" {
		return ctlsock.Reply{Result: reply.muteResult}
	}
	return ctlsock.Reply{Result: reply}
}

// firstOf keeps the first non-nil error.
func firstOf(first, next error) error {
	if first != nil {
		return first
	}
	return next
}

func muteErrorCode(cmd string, err error) *ctlsock.Error {
	if errors.Is(err, fleet.ErrNotPublished) {
		return ctlsock.Errorf(codeNotPublished, "%s: %v", cmd, err)
	}
	return errorCode(cmd, err)
}

func (h *fleetControl) controlFailed(cmd string, a fleetArgs, err *ctlsock.Error) ctlsock.Reply {
	h.controlEvent(a.Participant, controlData{Cmd: cmd, Kind: a.Kind, OK: false, Error: err.Message, Code: err.Code})
	return ctlsock.Reply{Err: err}
}

// controlEvent reports a state-changing command: tagged with the
// participant it targeted, or fleet-wide.
func (h *fleetControl) controlEvent(participant string, d controlData) {
	if participant == "" {
		_ = h.s.out.event("control", d)
		return
	}
	_ = h.s.out.participantEvent(participant, "control", d)
}

// leaveCmd: one participant leaves now (the answer comes once it has
// left); without a participant the whole fleet leaves, as join does.
func (h *fleetControl) leaveCmd(ctx context.Context, participant string) ctlsock.Reply {
	if participant != "" {
		h.controlEvent(participant, controlData{Cmd: "leave", OK: true})
		if err := h.s.fl.LeaveParticipant(ctx, participant); err != nil {
			return ctlsock.Reply{Err: errorCode("leave", err)}
		}
		return ctlsock.Reply{Result: leaveResult{Leaving: true}}
	}
	first := false
	h.leaveOnce.Do(func() { first = true })
	if first {
		h.controlEvent("", controlData{Cmd: "leave", OK: true})
	}
	return ctlsock.Reply{Result: leaveResult{Leaving: true}, Then: func() {
		if first {
			close(h.leave)
		}
	}}
}

// participantFlagHelp documents --participant on stats, mute, unmute and
// leave.
const participantFlagHelp = "callctl fleet sessions: act on this participant (peer id) only; default the whole fleet"

// requireFleet checks, before a command with --participant is sent, that
// the session is a fleet: a join session would ignore the participant
// and act on itself.
func requireFleet(ctx context.Context, cl *ctlsock.Client, session string) error {
	var info struct {
		Fleet json.RawMessage `json:"fleet"`
	}
	if err := cl.Call(ctx, "info", nil, &info); err != nil {
		return err
	}
	if len(info.Fleet) == 0 || string(info.Fleet) == "null" {
		return &usageError{errors.New("--participant: session " + session + " is a join, not a fleet")}
	}
	return nil
}

// participantArgs are the args of a control command with --participant
// (nil without: exactly what join sessions have always been sent).
func participantArgs(participant, kind string) any {
	switch {
	case participant == "" && kind == "":
		return nil
	case participant == "":
		return muteArgs{Kind: kind}
	}
	return fleetArgs{Kind: kind, Participant: participant}
}
