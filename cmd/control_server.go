package cmd

import (
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"sort"
	"sync"
	"time"

	"github.com/callctl/callctl/cmd/internal/ctlsock"
	"github.com/callctl/callctl/pkg/sdk"
)

// joinWait bounds how long a command that needs the call waits for a
// join still in progress.
const joinWait = 15 * time.Second

// controlData is the data of a "control" event: a state-changing control
// command (mute, unmute, leave) the session received and what came of it.
type controlData struct {
	Cmd     string `json:"cmd"`
	Kind    string `json:"kind,omitempty"`
	OK      bool   `json:"ok"`
	Changed *bool  `json:"changed,omitempty"`
	Error   string `json:"error,omitempty"`
	Code    string `json:"code,omitempty"`
}

// controlHandler serves a join's control socket.
type controlHandler struct {
	o       *joinOptions
	client  *sdk.Client
	out     *printer
	log     *slog.Logger
	started time.Time

	joined  chan struct{} // closed when the join succeeded
	ended   chan struct{} // closed when the join failed or the call ended
	endOnce sync.Once

	muteMu sync.Mutex // one mute/unmute at a time

	leaveOnce sync.Once
	leave     chan struct{} // closed on the first leave request
}

func newControlHandler(o *joinOptions, client *sdk.Client, out *printer, log *slog.Logger, started time.Time) *controlHandler {
	return &controlHandler{
		o: o, client: client, out: out, log: log, started: started,
		joined: make(chan struct{}), ended: make(chan struct{}), leave: make(chan struct{}),
	}
}

func (h *controlHandler) setJoined() { close(h.joined) }
func (h *controlHandler) setEnded()  { h.endOnce.Do(func() { close(h.ended) }) }

// leaveRequested is closed once a leave command arrived.
func (h *controlHandler) leaveRequested() <-chan struct{} { return h.leave }

func (h *controlHandler) wantsLeave() bool {
	select {
	case <-h.leave:
		return true
	default:
		return false
	}
}

func (h *controlHandler) handle(ctx context.Context, req ctlsock.Request) ctlsock.Reply {
	switch req.Cmd {
	case "info":
		return ctlsock.Reply{Result: h.info()}
	case "mute", "unmute":
		var a muteArgs
		if len(req.Args) > 0 {
			if err := json.Unmarshal(req.Args, &a); err != nil {
				return ctlsock.Reply{Err: ctlsock.Errorf(ctlsock.CodeBadRequest, "%s: args: %v", req.Cmd, err)}
			}
		}
		if a.Kind != "audio" && a.Kind != "video" {
			return ctlsock.Reply{Err: ctlsock.Errorf(ctlsock.CodeBadRequest, `%s: args.kind %q: want "audio" or "video"`, req.Cmd, a.Kind)}
		}
		res, err := h.mute(ctx, a.Kind, req.Cmd == "mute")
		ev := controlData{Cmd: req.Cmd, Kind: a.Kind, OK: err == nil}
		if err != nil {
			ev.Error, ev.Code = err.Message, err.Code
			_ = h.out.event("control", ev)
			return ctlsock.Reply{Err: err}
		}
		ev.Changed = &res.Changed
		_ = h.out.event("control", ev)
		return ctlsock.Reply{Result: res}
	case "send":
		return h.send(ctx, req.Args)
	case "stats":
		if err := h.awaitJoin(ctx, "stats"); err != nil {
			return ctlsock.Reply{Err: err}
		}
		s, err := h.client.Stats(ctx)
		if err != nil {
			return ctlsock.Reply{Err: errorCode("stats", err)}
		}
		return ctlsock.Reply{Result: s}
	case "leave":
		first := false
		h.leaveOnce.Do(func() { first = true })
		if first {
			h.log.Info("leave requested over the control socket")
			_ = h.out.event("control", controlData{Cmd: "leave", OK: true})
		}
		return ctlsock.Reply{Result: leaveResult{Leaving: true}, Then: func() {
			if first {
				close(h.leave)
			}
		}}
	default:
		return ctlsock.Reply{Err: ctlsock.Errorf(ctlsock.CodeUnknownCommand, "unknown command %q (want info, mute, unmute, send, stats or leave)", req.Cmd)}
	}
}

func (h *controlHandler) info() sessionInfo {
	snap := h.client.State().Snapshot()
	info := sessionInfo{
		Name: h.o.session, Room: h.o.room, User: h.o.user, DisplayName: h.o.displayName(), Server: h.o.server,
		PID: os.Getpid(), Started: h.started.UTC(), Status: string(snap.Status), Participants: len(snap.Participants),
		Producers: []producerInfo{},
	}
	for _, p := range snap.Producers {
		info.Producers = append(info.Producers, producerInfo{Kind: p.Kind, ProducerID: p.ID, Paused: p.Paused})
	}
	sort.Slice(info.Producers, func(i, j int) bool { return info.Producers[i].Kind < info.Producers[j].Kind })
	return info
}

// awaitJoin waits for a join in progress.
func (h *controlHandler) awaitJoin(ctx context.Context, cmd string) *ctlsock.Error {
	t := time.NewTimer(joinWait)
	defer t.Stop()
	select {
	case <-h.joined:
		return nil
	case <-h.ended:
	case <-t.C:
	case <-ctx.Done():
	}
	return ctlsock.Errorf(codeNotJoined, "%s: the session is not in the call", cmd)
}

func producerOf(st sdk.CallState, kind string) (sdk.ProducerState, bool) {
	for _, p := range st.Producers {
		if p.Kind == kind {
			return p, true
		}
	}
	return sdk.ProducerState{}, false
}

func (h *controlHandler) mute(ctx context.Context, kind string, mute bool) (muteResult, *ctlsock.Error) {
	cmd := "unmute"
	if mute {
		cmd = "mute"
	}
	if err := h.awaitJoin(ctx, cmd); err != nil {
		return muteResult{}, err
	}
	h.muteMu.Lock()
	defer h.muteMu.Unlock()
	before, ok := producerOf(h.client.State().Snapshot(), kind)
	if !ok {
		return muteResult{}, ctlsock.Errorf(codeNotPublished, "%s %s: session %s does not publish %s", cmd, kind, h.o.session, kind)
	}
	enable := h.client.EnableAudio
	if kind == "video" {
		enable = h.client.EnableVideo
	}
	if err := enable(ctx, !mute); err != nil {
		return muteResult{}, errorCode(cmd+" "+kind, err)
	}
	after, ok := producerOf(h.client.State().Snapshot(), kind)
	if !ok {
		return muteResult{}, ctlsock.Errorf(codeNotJoined, "%s %s: the producer is gone", cmd, kind)
	}
	return muteResult{Kind: kind, ProducerID: after.ID, Muted: after.Paused, Changed: before.Paused != after.Paused}, nil
}

// send sends a text message on the session's chat DataChannel.
func (h *controlHandler) send(ctx context.Context, raw json.RawMessage) ctlsock.Reply {
	var a sendArgs
	if err := json.Unmarshal(raw, &a); err != nil || a.Text == "" {
		return ctlsock.Reply{Err: ctlsock.Errorf(ctlsock.CodeBadRequest, "send: args.text must be a non-empty string")}
	}
	if err := h.awaitJoin(ctx, "send"); err != nil {
		return ctlsock.Reply{Err: err}
	}
	ev := controlData{Cmd: "send", OK: true}
	if err := h.client.SendData(ctx, a.Text); err != nil {
		cerr := errorCode("send", err)
		ev.OK, ev.Error, ev.Code = false, cerr.Message, cerr.Code
		_ = h.out.event("control", ev)
		return ctlsock.Reply{Err: cerr}
	}
	_ = h.out.event("control", ev)
	return ctlsock.Reply{Result: sendResult{Label: "chat", Bytes: len(a.Text)}}
}
