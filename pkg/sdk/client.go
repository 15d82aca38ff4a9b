package sdk

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/callctl/callctl/pkg/sdk/internal/ortc"
	"github.com/callctl/callctl/pkg/sdk/internal/protoo"
	"github.com/callctl/callctl/pkg/sdk/internal/queue"
)

// Client is one participant in one call (a Client joins once; create
// another for the next call).
//
// Concurrency: every signaling message, user call and pion callback runs as
// a task on one serialized queue, so transports, producers and consumers
// are never created in racing order. Events are delivered in order on
// Events(); the call state is observable through State().
type Client struct {
	cfg   Config
	log   *slog.Logger
	store *Store

	evOnce sync.Once
	ev     *emitter

	mu   sync.Mutex // guards the following
	used bool       // a Client joins once
	cur  *call
	done chan struct{} // closed when the current call has fully ended
	err  error         // why the last call ended (nil for a requested leave)
}

// NewClient validates cfg and returns a client.
func NewClient(cfg Config) (*Client, error) {
	u, err := url.Parse(cfg.ServerURL)
	if err != nil || (u.Scheme != "ws" && u.Scheme != "wss") || u.Host == "" {
		return nil, fmt.Errorf("server URL %q: want ws://host[:port] or wss://host[:port]", cfg.ServerURL)
	}
	c := &Client{cfg: cfg.withDefaults(), store: newStore(), ev: newLazyEmitter()}
	c.log = c.cfg.Logger
	return c, nil
}

// Events returns the ordered event stream. The channel is closed after the
// Left event of the call. Read it until it closes: events are buffered
// without bound while nobody reads.
func (c *Client) Events() <-chan Event {
	c.evOnce.Do(c.ev.start)
	return c.ev.out
}

// State returns the observable call-state store.
func (c *Client) State() *Store { return c.store }

// Done is closed when the current call has ended and every goroutine it
// started has returned. Before JoinCall it returns nil.
func (c *Client) Done() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.done
}

// Err reports why the call ended: nil after a requested leave.
func (c *Client) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

// call is the state of one joined call. Its fields are touched only by
// tasks on q, except where noted.
type call struct {
	c           *Client
	q           *queue.Queue
	room        string
	peerID      string
	displayName string
	log         *slog.Logger

	peer       *protoo.Peer
	dialect    Dialect
	version    atomic.Pointer[string] // set by the read loop: it precedes join
	routerCaps ortc.RtpCapabilities
	ext        ortc.ExtendedCapabilities
	send       *sendTransport
	recv       *recvTransport
	producers  map[string]*producer  // by kind
	consumers  map[string]*consumer  // by consumer id
	rates      map[uint32]*rateMeter // by SSRC
	// videoLayers are applied to every new video consumer.
	videoLayers *Layers

	ctx    context.Context // ends with the call; owns media goroutines
	cancel context.CancelFunc
	wg     sync.WaitGroup // media goroutines of this call

	ended bool
	done  chan struct{}

	// Reconnect state (see recover.go).
	joined     bool            // joined at least once
	recovering bool            // between losing the call and rejoining
	attempt    int             // reconnect attempts in this recovery
	lostAt     time.Time       // when the recovery started
	lastErr    error           // why the last attempt failed
	lostReason string          // what was lost (signaling, send transport…)
	muted      map[string]bool // kinds muted by the user, restored on rejoin
	started    map[MediaSource]bool
}

// JoinCall connects to the server, joins room as peer user, publishes the
// configured sources and consumes every other participant. It returns
// once joined (or with the reason the join failed); the call then runs
// until LeaveCall, or until the server or network ends it (see Done).
// A Client joins once: create a new Client for another call.
func (c *Client) JoinCall(ctx context.Context, room, user, displayName string) error {
	if room == "" || user == "" {
		return errors.New("join: room and user must not be empty")
	}
	c.mu.Lock()
	if c.used {
		c.mu.Unlock()
		return ErrAlreadyJoined
	}
	c.used = true
	callCtx, cancel := context.WithCancel(context.Background())
	cl := &call{
		c: c, q: queue.New(), room: room, peerID: user, displayName: displayName,
		log:       c.log.With("room", room, "peer", user),
		producers: map[string]*producer{}, consumers: map[string]*consumer{}, rates: map[uint32]*rateMeter{},
		muted: map[string]bool{}, started: map[MediaSource]bool{},
		ctx: callCtx, cancel: cancel, done: make(chan struct{}),
	}
	if cl.displayName == "" {
		cl.displayName = user
	}
	c.cur, c.done, c.err = cl, cl.done, nil
	c.mu.Unlock()

	err := cl.q.Run(ctx, cl.join)
	if err != nil {
		reason := LeftConnectionLost
		var ce *ConnectError
		if errors.As(err, &ce) {
			reason = "connect_failed"
		} else if _, ok := errors.AsType[*JoinError](err); ok {
			reason = "join_failed"
		}
		_ = cl.q.Add(func(context.Context) {
			cl.emit(errorEvent("join", err, true))
			cl.end(reason, err)
		})
		<-cl.done
		return err
	}
	return nil
}

// LeaveCall leaves gracefully and waits until the call's goroutines have
// ended. It is a no-op when not in a call.
func (c *Client) LeaveCall(ctx context.Context) error {
	c.mu.Lock()
	cl := c.cur
	c.mu.Unlock()
	if cl == nil {
		return nil
	}
	if err := cl.q.Add(func(context.Context) { cl.end(LeftRequested, nil) }); err != nil && !errors.Is(err, queue.ErrClosed) {
		return err
	}
	select {
	case <-cl.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// EnableAudio publishes (on=true) or mutes (on=false) the audio source.
// Muting pauses the producer on the server and stops sending RTP.
func (c *Client) EnableAudio(ctx context.Context, on bool) error {
	return c.enable(ctx, "audio", on)
}

// EnableVideo publishes or mutes the video source.
func (c *Client) EnableVideo(ctx context.Context, on bool) error {
	return c.enable(ctx, "video", on)
}

func (c *Client) enable(ctx context.Context, kind string, on bool) error {
	c.mu.Lock()
	cl := c.cur
	c.mu.Unlock()
	if cl == nil {
		return ErrNotJoined
	}
	err := cl.q.Run(ctx, func(ctx context.Context) error { return cl.setEnabled(ctx, kind, on) })
	if errors.Is(err, queue.ErrClosed) {
		return ErrNotJoined
	}
	return err
}

func (cl *call) emit(ev Event) {
	cl.c.ev.emit(ev)
}

func (cl *call) setStatus(s ConnectionStatus, reason string) {
	cl.c.store.update(func(st *CallState) { st.Status = s })
	cl.emit(ConnectionStatusChanged{Status: s, Reason: reason})
}

func (cl *call) request(ctx context.Context, method string, data, out any) error {
	ctx, cancel := context.WithTimeout(ctx, cl.c.cfg.RequestTimeout)
	defer cancel()
	return asServerError(cl.peer.Request(ctx, method, data, out))
}

// join runs as one queue task: server requests that arrive meanwhile
// (newConsumer for existing producers) queue up behind it.
func (cl *call) join(ctx context.Context) error {
	start := time.Now()
	cl.c.store.update(func(st *CallState) {
		*st = newStore().state
		st.Room, st.PeerID = cl.room, cl.peerID
	})
	cl.setStatus(StatusConnecting, "")
	parts, err := cl.connect(ctx, cl.c.cfg.ServerURL)
	if err != nil {
		return err
	}
	cl.c.store.update(func(st *CallState) {
		for _, p := range parts {
			st.Participants[p.ID] = p
		}
	})
	cl.setStatus(StatusJoined, "")
	cl.emit(Joined{
		Room: cl.room, PeerID: cl.peerID, DisplayName: cl.displayName, Dialect: cl.dialect.String(),
		MediasoupVersion: cl.mediasoupVersion(), Participants: parts, JoinMillis: time.Since(start).Milliseconds(),
	})
	for _, p := range parts {
		cl.emit(ParticipantJoined{Participant: p})
	}
	cl.joined = true
	cl.startSampler()
	return cl.produceAll(ctx)
}

// connect opens the signaling connection to serverURL and runs the join
// sequence up to the join request: router capabilities, transports (the
// receiving one must exist before join), join. It returns the other
// participants.
func (cl *call) connect(ctx context.Context, serverURL string) ([]Participant, error) {
	cfg := cl.c.cfg
	wsURL, err := roomURL(serverURL, cl.room, cl.peerID)
	if err != nil {
		return nil, err
	}
	header := http.Header{}
	header.Set("Origin", originFor(cfg, serverURL))
	var hc *http.Client
	if cfg.TLS != nil {
		hc = &http.Client{Transport: &http.Transport{TLSClientConfig: cfg.TLS}}
	}
	dialCtx, cancel := context.WithTimeout(ctx, cfg.RequestTimeout)
	defer cancel()
	var peer *protoo.Peer
	// Callbacks of a replaced connection are dropped: after a reconnect
	// only the current one speaks for the call.
	current := func() bool { return cl.peer == peer && peer != nil }
	peer, err = protoo.Dial(dialCtx, wsURL, protoo.Options{
		HTTPClient:     hc,
		Header:         header,
		RequestTimeout: cfg.RequestTimeout,
		OnRequest: func(r *protoo.ServerRequest) {
			_ = cl.q.Add(func(ctx context.Context) {
				if !current() {
					_ = r.Reject(ctx, 410, "connection replaced")
					return
				}
				cl.handleRequest(ctx, r)
			})
		},
		OnNotification: func(n protoo.Notification) {
			if v, ok := versionNotification(n); ok {
				cl.version.Store(&v)
				return
			}
			_ = cl.q.Add(func(context.Context) {
				if current() {
					cl.handleNotification(n)
				}
			})
		},
		OnProtocolError: func(err error) { _ = cl.q.Add(func(context.Context) { cl.protocolError(err) }) },
		OnClose: func(err error) {
			_ = cl.q.Add(func(context.Context) {
				if current() {
					cl.signalingClosed(err)
				}
			})
		},
	})
	if err != nil {
		return nil, &ConnectError{URL: serverURL, Err: err}
	}
	cl.peer = peer
	cl.setStatus(StatusConnected, "")

	step := func(name string, err error) error {
		if err == nil {
			return nil
		}
		return &JoinError{Step: name, Err: err}
	}

	var capsRaw json.RawMessage
	if err := cl.request(ctx, "getRouterRtpCapabilities", nil, &capsRaw); err != nil {
		return nil, step("getRouterRtpCapabilities", err)
	}
	dialect, raw, err := detectDialect(capsRaw)
	if err != nil {
		return nil, step("getRouterRtpCapabilities", err)
	}
	if err := json.Unmarshal(raw, &cl.routerCaps); err != nil {
		return nil, step("getRouterRtpCapabilities", err)
	}
	cl.dialect = dialect
	cl.ext = ortc.Extend(localCapabilities(), cl.routerCaps)
	cl.log.Debug("router capabilities", "dialect", dialect, "codecs", len(cl.ext.Codecs))
	cl.c.store.update(func(st *CallState) { st.Dialect = dialect.String() })

	if cfg.Audio != nil || cfg.Video != nil {
		info, err := cl.createTransport(ctx, true)
		if err != nil {
			return nil, step("createWebRtcTransport(send)", err)
		}
		if cl.send, err = newSendTransport(cl, info); err != nil {
			return nil, step("send transport", err)
		}
	}
	info, err := cl.createTransport(ctx, false)
	if err != nil {
		return nil, step("createWebRtcTransport(recv)", err)
	}
	if cl.recv, err = newRecvTransport(cl, info); err != nil {
		return nil, step("recv transport", err)
	}

	var joinResp struct {
		Peers []struct {
			ID          string     `json:"id"`
			PeerID      string     `json:"peerId"`
			DisplayName string     `json:"displayName"`
			Device      DeviceInfo `json:"device"`
		} `json:"peers"`
	}
	if err := cl.request(ctx, "join", map[string]any{
		"displayName":     cl.displayName,
		"device":          cfg.Device,
		"rtpCapabilities": cl.ext.RecvCapabilities(),
	}, &joinResp); err != nil {
		return nil, step("join", err)
	}
	parts := make([]Participant, 0, len(joinResp.Peers))
	for _, p := range joinResp.Peers {
		parts = append(parts, Participant{ID: firstNonEmpty(p.ID, p.PeerID), DisplayName: p.DisplayName, Device: p.Device})
	}
	return parts, nil
}

// produceAll publishes the configured sources, restoring a mute that was
// set before a reconnect.
func (cl *call) produceAll(ctx context.Context) error {
	for _, src := range []MediaSource{cl.c.cfg.Audio, cl.c.cfg.Video} {
		if src == nil {
			continue
		}
		kind := src.Kind().String()
		if err := cl.produce(ctx, src); err != nil {
			return &JoinError{Step: "produce " + kind, Err: err}
		}
		if cl.muted[kind] {
			if err := cl.setEnabled(ctx, kind, false); err != nil {
				return &JoinError{Step: "restore mute " + kind, Err: err}
			}
			continue
		}
		// A teardown for a reconnect paused the source: resume it, starting
		// each layer with a key frame for the new consumers.
		src.SetPaused(false)
		for layer := range src.Tracks() {
			src.RequestKeyFrame(layer)
		}
	}
	return nil
}

// versionNotification recognises the server's version announcement:
// "mediasoup-version" (JS dialect since 2024) or "mediasoupVersion" (TS).
func versionNotification(n protoo.Notification) (string, bool) {
	if n.Method != "mediasoup-version" && n.Method != "mediasoupVersion" {
		return "", false
	}
	var d struct {
		Version string `json:"version"`
	}
	_ = json.Unmarshal(n.Data, &d)
	return d.Version, true
}

func (cl *call) mediasoupVersion() string {
	if v := cl.version.Load(); v != nil {
		return *v
	}
	return ""
}

type transportInfo struct {
	ID             string              `json:"id"`
	TransportID    string              `json:"transportId"`
	IceParameters  ortc.IceParameters  `json:"iceParameters"`
	IceCandidates  []ortc.IceCandidate `json:"iceCandidates"`
	DtlsParameters ortc.DtlsParameters `json:"dtlsParameters"`
}

func (cl *call) createTransport(ctx context.Context, producing bool) (transportInfo, error) {
	dir := "consumer"
	if producing {
		dir = "producer"
	}
	var info transportInfo
	err := cl.request(ctx, "createWebRtcTransport", map[string]any{
		"forceTcp":  false,
		"producing": producing,
		"consuming": !producing,
		"appData":   map[string]any{"direction": dir},
	}, &info)
	if err != nil {
		return info, err
	}
	info.ID = firstNonEmpty(info.ID, info.TransportID)
	if info.ID == "" || info.IceParameters.UsernameFragment == "" || len(info.DtlsParameters.Fingerprints) == 0 {
		return info, errors.New("createWebRtcTransport: response lacks id, ICE or DTLS parameters")
	}
	return info, nil
}

// end tears the call down. It runs on the queue, once.
func (cl *call) end(reason string, cause error) {
	if cl.ended {
		return
	}
	cl.ended = true
	if reason == LeftRequested {
		cl.setStatus(StatusLeaving, "")
	}
	for src := range cl.started {
		src.SetPaused(true)
	}
	if cl.send != nil {
		cl.send.close()
	}
	if cl.recv != nil {
		cl.recv.close()
	}
	// Every started source, produced or not (a reconnect may be pending).
	for src := range cl.started {
		_ = src.Close()
	}
	if cl.peer != nil {
		_ = cl.peer.Close()
	}
	cl.cancel()
	c := cl.c
	c.store.update(func(st *CallState) {
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
	cl.emit(left)

	// The queue cannot wait for itself: finish in a goroutine that
	// LeaveCall and Done wait for.
	go func() {
		cl.q.Drain()
		cl.wg.Wait()
		c.ev.close()
		c.mu.Lock()
		c.cur = nil
		c.err = cause
		c.mu.Unlock()
		close(cl.done)
	}()
}

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

func errorEvent(op string, err error, fatal bool) ErrorEvent {
	ev := ErrorEvent{Op: op, Message: err.Error(), Fatal: fatal, Err: err}
	var se *ServerError
	if errors.As(err, &se) {
		ev.Code = se.Code
	}
	return ev
}

func (cl *call) signalingClosed(err error) {
	if cl.ended || err == nil {
		return
	}
	cl.lost("signaling", err)
}

func (cl *call) protocolError(err error) {
	cl.log.Warn("ignored malformed server message", "err", err)
	cl.emit(errorEvent("signaling", err, false))
}

func roomURL(base, room, peer string) (string, error) {
	u, err := url.Parse(base)
	if err != nil {
		return "", err
	}
	q := u.Query()
	q.Set("roomId", room)
	q.Set("peerId", peer)
	u.RawQuery = q.Encode()
	return u.String(), nil
}

func originFor(cfg Config, serverURL string) string {
	if cfg.Origin != "" {
		return cfg.Origin
	}
	u, _ := url.Parse(serverURL)
	scheme := "https"
	if strings.EqualFold(u.Scheme, "ws") {
		scheme = "http"
	}
	return scheme + "://" + u.Host
}
