package sdk

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/pion/webrtc/v4"

	msc "github.com/callctl/callctl/pkg/mediasoupclient"
	"github.com/callctl/callctl/pkg/sdk/internal/demo"
)

// join runs as one queue task: server requests that arrive meanwhile
// (newConsumer for existing producers) queue up behind it.
func (cl *call) join(ctx context.Context) error {
	start := time.Now()
	cl.store.update(func(st *CallState) {
		*st = newStore().state
		st.Room, st.PeerID = cl.room, cl.peerID
	})
	cl.setStatus(StatusConnecting, "")
	parts, err := cl.connectFirst(ctx)
	if err != nil {
		return err
	}
	cl.store.update(func(st *CallState) {
		for _, p := range parts {
			st.Participants[p.ID] = p
		}
	})
	cl.setStatus(StatusJoined, "")
	cl.emit(Joined{
		Room: cl.room, PeerID: cl.peerID, DisplayName: cl.displayName, Dialect: cl.sess.conn.Dialect().String(), Server: cl.sess.url,
		MediasoupVersion: cl.sess.conn.MediasoupVersion(), Participants: parts, JoinMillis: time.Since(start).Milliseconds(),
	})
	for _, p := range parts {
		cl.emit(ParticipantJoined{Participant: p})
	}
	cl.rc.Joined()
	cl.startSampler()
	return cl.produceAll(ctx)
}

// connectFirst joins through the first server, in this room's order, that
// accepts the connection: a server that refuses or cannot be reached is
// skipped (a server that accepts and then fails the join is not).
func (cl *call) connectFirst(ctx context.Context) ([]Participant, error) {
	var firstErr error
	for i, url := range cl.servers {
		parts, err := cl.connect(ctx, url)
		var ce *ConnectError
		if err == nil || !errors.As(err, &ce) || i == len(cl.servers)-1 {
			if err != nil && firstErr != nil && len(cl.servers) > 1 {
				err = fmt.Errorf("%w (and every other server: first: %v)", err, firstErr)
			}
			return parts, err
		}
		cl.log.Warn("server refused, trying the next", "server", url, "err", err)
		if firstErr == nil {
			firstErr = err
		}
	}
	return nil, errors.New("no server")
}

// connect opens a session on serverURL and runs the join sequence up to
// the join request: router capabilities, transports (the receiving one
// must exist before join), join. It returns the other participants.
func (cl *call) connect(ctx context.Context, serverURL string) ([]Participant, error) {
	s := &session{url: serverURL, outages: map[string]*iceOutage{}}
	conn, err := demo.Dial(ctx, cl.dialOptions(s, serverURL))
	if err != nil {
		return nil, &ConnectError{URL: serverURL, Err: err}
	}
	s.conn = conn
	cl.sess = s
	cl.setStatus(StatusConnected, "")
	step := func(name string, err error) error {
		return &JoinError{Step: name, Err: err}
	}
	caps, err := conn.GetRouterRtpCapabilities(ctx)
	if err != nil {
		return nil, step("getRouterRtpCapabilities", err)
	}
	s.device = msc.NewDevice(msc.DeviceOptions{ICE: cl.cfg.ICE.layer(), LoggerFactory: cl.cfg.pionLogs, Logger: cl.log})
	if err := s.device.Load(caps); err != nil {
		return nil, step("getRouterRtpCapabilities", err)
	}
	cl.store.update(func(st *CallState) { st.Dialect, st.Server = conn.Dialect().String(), serverURL })
	if err := cl.createTransports(ctx, s); err != nil {
		return nil, err
	}
	var rtp *msc.RtpCapabilities
	if !cl.cfg.Consume.None {
		c := s.device.RtpCapabilities()
		rtp = &c
	}
	peers, err := conn.Join(ctx, cl.displayName, demo.Device(cl.cfg.Device), rtp, cl.sctpCapabilities(s))
	if err != nil {
		return nil, step("join", err)
	}
	parts := make([]Participant, 0, len(peers))
	for _, p := range peers {
		parts = append(parts, participant(p))
	}
	return parts, nil
}

func participant(p demo.Peer) Participant {
	return Participant{ID: p.ID, DisplayName: p.DisplayName, Device: DeviceInfo(p.Device)}
}

// dialOptions wires a connection's callbacks to the queue. Callbacks of a
// replaced session are dropped: after a reconnect only the current one
// speaks for the call.
func (cl *call) dialOptions(s *session, serverURL string) demo.Options {
	current := func() bool { return cl.sess == s && !cl.ended }
	return demo.Options{
		URL: serverURL, Room: cl.room, PeerID: cl.peerID, Origin: cl.cfg.Origin, TLS: cl.cfg.TLS,
		RequestTimeout: cl.cfg.RequestTimeout, PingInterval: max(0, cl.cfg.KeepaliveInterval),
		OnRequest: func(r *demo.ServerRequest) {
			_ = cl.q.Add(func(ctx context.Context) {
				if !current() {
					_ = r.Reject(ctx, 410, "connection replaced")
					return
				}
				cl.handleRequest(ctx, r)
			})
		},
		OnNotification: func(n demo.Notification) {
			_ = cl.q.Add(func(ctx context.Context) {
				if current() {
					cl.handleNotification(ctx, n)
				}
			})
		},
		OnProtocolError: func(err error) {
			_ = cl.q.Add(func(context.Context) {
				if current() {
					cl.protocolError(err)
				}
			})
		},
		OnClose: func(err error) {
			_ = cl.q.Add(func(context.Context) {
				if current() && err != nil {
					cl.lost("signaling", err)
				}
			})
		},
	}
}

// createTransports creates the send transport (when publishing or with
// DataChannels; otherwise on the first Publish) and the receive
// transport, which must exist before join (none for a client that
// consumes nothing and has no DataChannels).
func (cl *call) createTransports(ctx context.Context, s *session) error {
	if len(cl.sources) > 0 || cl.cfg.Data {
		if err := cl.createSendTransport(ctx, s); err != nil {
			return err
		}
	}
	if cl.cfg.Consume.None && !cl.cfg.Data {
		return nil
	}
	opts, err := s.conn.CreateWebRtcTransport(ctx, false, cl.sctpCapabilities(s))
	if err != nil {
		return &JoinError{Step: "createWebRtcTransport(recv)", Err: err}
	}
	opts.IceServers = cl.cfg.ICE.Servers
	if s.recv, err = s.device.CreateRecvTransport(opts); err != nil {
		return &JoinError{Step: "recv transport", Err: err}
	}
	cl.wireTransport(s, s.recv, "recv")
	return nil
}

func (cl *call) createSendTransport(ctx context.Context, s *session) error {
	opts, err := s.conn.CreateWebRtcTransport(ctx, true, cl.sctpCapabilities(s))
	if err != nil {
		return &JoinError{Step: "createWebRtcTransport(send)", Err: err}
	}
	opts.IceServers = cl.cfg.ICE.Servers
	if s.send, err = s.device.CreateSendTransport(opts); err != nil {
		return &JoinError{Step: "send transport", Err: err}
	}
	cl.wireTransport(s, s.send, "send")
	s.send.OnProduce(func(ctx context.Context, p msc.ProduceParameters) (string, error) {
		return s.conn.Produce(ctx, s.send.ID(), p)
	})
	s.send.OnProduceData(func(ctx context.Context, p msc.ProduceDataParameters) (string, error) {
		return s.conn.ProduceData(ctx, s.send.ID(), p)
	})
	return nil
}

func (cl *call) sctpCapabilities(s *session) *msc.SctpCapabilities {
	if !cl.cfg.Data {
		return nil
	}
	c := s.device.SctpCapabilities()
	return &c
}

// wireTransport connects a transport through the session's signaling and
// reports its state changes through the queue (see onTransportState).
func (cl *call) wireTransport(s *session, t sessionTransport, name string) {
	id := t.ID()
	t.OnConnect(func(ctx context.Context, dtls msc.DtlsParameters) error {
		return s.conn.ConnectWebRtcTransport(ctx, id, dtls)
	})
	t.OnConnectionStateChange(func(st webrtc.PeerConnectionState) {
		_ = cl.q.Add(func(ctx context.Context) {
			if !cl.ended && cl.sess == s {
				cl.onTransportState(ctx, s, t, name, st)
			}
		})
	})
}

// produceAll publishes every source, restoring a mute that was set
// before a reconnect.
func (cl *call) produceAll(ctx context.Context) error {
	slots := make([]string, 0, len(cl.sources))
	for slot := range cl.sources {
		slots = append(slots, slot)
	}
	sort.Slice(slots, func(i, j int) bool { return slotOrder(slots[i]) < slotOrder(slots[j]) })
	for _, slot := range slots {
		if err := cl.publishSlot(ctx, slot); err != nil {
			return &JoinError{Step: "produce " + slot, Err: err}
		}
	}
	return cl.openChat(ctx)
}

// slotOrder publishes audio first, then video, then extra sources by name.
func slotOrder(slot string) string {
	switch slot {
	case "audio":
		return "0"
	case "video":
		return "1"
	}
	return "2" + slot
}
