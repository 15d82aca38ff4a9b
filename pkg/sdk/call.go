package sdk

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	msc "github.com/callctl/callctl/pkg/mediasoupclient"
	"github.com/callctl/callctl/pkg/sdk/internal/demo"
	"github.com/callctl/callctl/pkg/sdk/internal/queue"
	"github.com/callctl/callctl/pkg/sdk/internal/reconnect"
)

// call is the engine of one joined call. Its fields are touched only by
// tasks on q, except where noted. What it needs from outside (config,
// store, event emitter) is passed in at construction.
type call struct {
	cfg   Config
	store *Store
	ev    *emitter
	log   *slog.Logger
	q     *queue.Queue

	room, peerID, displayName string
	servers                   []string // in the order this room uses them

	sess          *session                 // the current connection; nil while reconnecting
	sources       map[string]MediaSource   // by slot ("audio", "video", or a Publish name)
	producers     map[string]*producer     // by slot
	consumers     map[string]*consumer     // by consumer id
	dataConsumers map[string]*dataConsumer // by data consumer id
	chat          *chatChannel             // our "chat" data producer (Config.Data)
	rates         map[uint32]*rateMeter    // by SSRC
	videoLayers   *Layers                  // applied to every new video consumer
	muted         map[string]bool          // slots muted by the user, restored on rejoin
	started       map[MediaSource]bool     // sources started (they outlive reconnects)
	speakers      speakerChanges           // active_speaker notifications (talk_speaker.go)

	rc            *reconnect.Machine
	lostReason    string       // what was lost (signaling, send transport…)
	pendingRejoin *Reconnected // rejoined, waiting for media to flow
	outageSince   time.Time    // when media stopped, for a loss that followed an ICE outage
	lastErr       error        // why the last attempt failed

	ctx    context.Context // ends with the call; owns media goroutines
	cancel context.CancelFunc
	wg     sync.WaitGroup // media goroutines of this call

	ended    bool
	done     chan struct{}
	finished func(cause error) // tells the Client, before done closes
}

func newCall(cfg Config, store *Store, ev *emitter, room, user, displayName string, finished func(error)) *call {
	ctx, cancel := context.WithCancel(context.Background())
	if displayName == "" {
		displayName = user
	}
	cl := &call{
		cfg: cfg, store: store, ev: ev, q: queue.New(), log: cfg.Logger.With("room", room, "peer", user),
		room: room, peerID: user, displayName: displayName,
		sources:   map[string]MediaSource{},
		producers: map[string]*producer{}, consumers: map[string]*consumer{}, dataConsumers: map[string]*dataConsumer{},
		rates: map[uint32]*rateMeter{}, videoLayers: cfg.VideoLayers,
		muted: map[string]bool{}, started: map[MediaSource]bool{},
		servers: cfg.serverOrder(room),
		ctx:     ctx, cancel: cancel, done: make(chan struct{}), finished: finished,
	}
	cl.rc = reconnect.New(reconnect.Policy{
		MaxAttempts: cfg.Reconnect.MaxAttempts, InitialDelay: cfg.Reconnect.InitialDelay, MaxDelay: cfg.Reconnect.MaxDelay,
		Servers: len(cl.servers),
	}, nil, nil)
	if cfg.Audio != nil {
		cl.sources["audio"] = cfg.Audio
	}
	if cfg.Video != nil {
		cl.sources["video"] = cfg.Video
	}
	return cl
}

// emit delivers an event, never after Left.
func (cl *call) emit(ev Event) {
	if cl.ended {
		if _, left := ev.(Left); !left {
			return
		}
	}
	cl.ev.emit(ev)
}

func (cl *call) setStatus(s ConnectionStatus, reason string) {
	cl.store.update(func(st *CallState) { st.Status = s })
	cl.emit(ConnectionStatusChanged{Status: s, Reason: reason})
}

// end tears the call down. It runs on the queue, once.
func (cl *call) end(reason string, cause error) {
	if cl.ended {
		return
	}
	if reason == LeftRequested {
		cl.setStatus(StatusLeaving, "")
	}
	cl.rc.Stop()
	for src := range cl.started {
		src.SetPaused(true)
	}
	cl.closeSession()
	for src := range cl.started { // produced or not (a reconnect may be pending)
		_ = src.Close()
	}
	cl.cancel()
	cl.store.update(func(st *CallState) {
		st.Status = StatusClosed
		st.Participants = map[string]Participant{}
		st.Producers = map[string]ProducerState{}
		st.Consumers = map[string]ConsumerState{}
	})
	cl.emit(ConnectionStatusChanged{Status: StatusClosed, Reason: reason})
	left := Left{Reason: reason, Err: cause}
	if cause != nil {
		left.Error = cause.Error()
	}
	cl.ended = true
	cl.emit(left)

	// The queue cannot wait for itself: finish in a goroutine that
	// LeaveCall and Done wait for.
	go func() {
		cl.q.Drain()
		cl.wg.Wait()
		cl.ev.close()
		cl.store.closeSubscribers()
		cl.finished(cause)
		close(cl.done)
	}()
}

// fail ends the call because of err.
func (cl *call) fail(op string, err error) {
	cl.emit(errorEvent(op, err, true))
	reason := LeftConnectionLost
	switch {
	case errors.Is(err, ErrClosedByServer):
		reason = LeftClosedByServer
	case errors.Is(err, ErrTransportFailed):
		reason = LeftTransportFail
	}
	cl.end(reason, err)
}

func joinFailureReason(err error) string {
	var ce *ConnectError
	if errors.As(err, &ce) {
		return "connect_failed"
	}
	if _, ok := errors.AsType[*JoinError](err); ok {
		return "join_failed"
	}
	return LeftConnectionLost
}

func errorEvent(op string, err error, fatal bool) ErrorEvent {
	ev := ErrorEvent{Op: op, Message: err.Error(), Fatal: fatal, Err: err}
	var se *ServerError
	if errors.As(err, &se) {
		ev.Code = se.Code
	}
	return ev
}

func (cl *call) protocolError(err error) {
	cl.log.Warn("ignored malformed server message", "err", err)
	cl.emit(errorEvent("signaling", err, false))
}

// session is one signaling connection with its device and transports;
// a reconnect replaces it whole.
type session struct {
	url     string
	outages map[string]*iceOutage // transports being ICE-restarted, by name
	conn    *demo.Conn
	device  *msc.Device
	send    *msc.SendTransport
	recv    *msc.RecvTransport
}

func (s *session) close() {
	if s.send != nil {
		_ = s.send.Close()
	}
	if s.recv != nil {
		_ = s.recv.Close()
	}
	if s.conn != nil {
		_ = s.conn.Close()
	}
}

// closeSession closes the current session (if any) and forgets the
// media objects that belonged to it.
func (cl *call) closeSession() {
	if cl.sess != nil {
		cl.sess.close()
		cl.sess = nil
	}
	for _, c := range cl.consumers {
		c.close()
	}
	cl.consumers, cl.producers, cl.rates = map[string]*consumer{}, map[string]*producer{}, map[uint32]*rateMeter{}
	cl.dataConsumers, cl.chat = map[string]*dataConsumer{}, nil
}
