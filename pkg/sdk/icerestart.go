package sdk

import (
	"context"
	"fmt"
	"time"

	"github.com/pion/webrtc/v4"

	msc "github.com/callctl/callctl/pkg/mediasoupclient"
)

// Media-path recovery without a rejoin: when a transport loses
// connectivity (pion: disconnected after about 5 s without answers,
// failed later) while signaling is up, the client asks the server for new
// ICE credentials (restartIce) and restarts ICE on that PeerConnection,
// again and again with a short backoff while the network stays down. Only
// when the server no longer knows the transport, signaling is gone, or the
// outage outlasts iceRestartGiveUp does the call count as lost (and
// rejoin, with Config.Reconnect).
const (
	iceRestartFirst  = 500 * time.Millisecond
	iceRestartMax    = 2 * time.Second // the wait between attempts is capped here
	iceRestartGiveUp = 60 * time.Second
	// rejoinMediaWait bounds how long a rejoin waits for a transport to
	// connect before it reports reconnected anyway (a client with nothing
	// to send or receive never connects one).
	rejoinMediaWait = 10 * time.Second
)

// TransportRecovered reports that a transport that had lost connectivity
// is connected again, after ICE restarts.
type TransportRecovered struct {
	Transport      string `json:"transport"` // "send" or "recv"
	DowntimeMillis int64  `json:"downtimeMs"`
	IceRestarts    int    `json:"iceRestarts"`
}

func (TransportRecovered) Type() string { return "transport.recovered" }
func (TransportRecovered) isEvent()     {}

// sessionTransport is what the engine needs of a send or receive
// transport.
type sessionTransport interface {
	ID() string
	OnConnect(func(context.Context, msc.DtlsParameters) error)
	OnConnectionStateChange(func(webrtc.PeerConnectionState))
	RestartIce(context.Context, msc.IceParameters) error
	ConnectionState() webrtc.PeerConnectionState
	GetStats() webrtc.StatsReport
}

// iceOutage is one transport's loss of connectivity.
type iceOutage struct {
	since    time.Time
	restarts int
}

// onTransportState runs on the queue for every state change of a
// transport of the current session.
func (cl *call) onTransportState(ctx context.Context, s *session, t sessionTransport, name string, st webrtc.PeerConnectionState) {
	cl.emit(TransportStateChanged{Transport: name, State: st.String()})
	switch st {
	case webrtc.PeerConnectionStateConnected:
		if o := s.outages[name]; o != nil {
			delete(s.outages, name)
			cl.emit(TransportRecovered{Transport: name, DowntimeMillis: time.Since(o.since).Milliseconds(), IceRestarts: o.restarts})
		}
		cl.rejoinComplete()
	case webrtc.PeerConnectionStateDisconnected, webrtc.PeerConnectionStateFailed:
		if s.outages[name] == nil {
			s.outages[name] = &iceOutage{since: outageStart(t, time.Now())}
			cl.restartIce(ctx, s, t, name)
		}
	}
}

// outageStart is when a transport that just lost connectivity last
// received anything: pion reports disconnected only after about 5 s of
// silence, and the downtime reported is the whole silence. now when pion
// has no such record.
func outageStart(t sessionTransport, now time.Time) time.Time {
	var last time.Time
	for _, st := range t.GetStats() {
		if p, ok := st.(webrtc.ICECandidatePairStats); ok && p.LastPacketReceivedTimestamp > 0 {
			if ts := p.LastPacketReceivedTimestamp.Time(); ts.After(last) {
				last = ts
			}
		}
	}
	// A record older than pion's failed timeout (or from the future) is
	// not this outage's.
	if last.IsZero() || last.After(now) || now.Sub(last) > 30*time.Second {
		return now
	}
	return last
}

// restartIce runs one ICE restart of a transport and schedules the next
// check.
func (cl *call) restartIce(ctx context.Context, s *session, t sessionTransport, name string) {
	o := s.outages[name]
	if o == nil || cl.sess != s || cl.ended {
		return
	}
	lost := func(err error) {
		cl.lost(name+" transport", fmt.Errorf("%w: %s transport: %v", ErrTransportFailed, name, err))
	}
	if time.Since(o.since) > iceRestartGiveUp {
		lost(fmt.Errorf("no connectivity after %d ICE restarts in %s", o.restarts, iceRestartGiveUp))
		return
	}
	params, err := s.conn.RestartIce(ctx, t.ID())
	if err != nil {
		lost(fmt.Errorf("restartIce: %w", err)) // the server closed it, or signaling is down
		return
	}
	if err := t.RestartIce(ctx, params); err != nil {
		lost(err)
		return
	}
	o.restarts++
	cl.log.Info("ICE restarted", "transport", name, "attempt", o.restarts)
	delay := min(iceRestartMax, iceRestartFirst<<min(o.restarts-1, 8))
	cl.after(delay, func(ctx context.Context) {
		if t.ConnectionState() != webrtc.PeerConnectionStateConnected {
			cl.restartIce(ctx, s, t, name)
		}
	})
}

// after runs f on the queue after d, unless the call ends first.
func (cl *call) after(d time.Duration, f func(ctx context.Context)) {
	cl.wg.Add(1)
	go func() {
		defer cl.wg.Done()
		timer := time.NewTimer(d)
		defer timer.Stop()
		select {
		case <-cl.ctx.Done():
		case <-timer.C:
			_ = cl.q.Add(func(ctx context.Context) {
				if !cl.ended {
					f(ctx)
				}
			})
		}
	}()
}

// rejoinComplete reports a pending rejoin as reconnected, now that media
// can flow again (or the wait for it ran out).
func (cl *call) rejoinComplete() {
	r := cl.pendingRejoin
	if r == nil {
		return
	}
	cl.pendingRejoin = nil
	down := cl.rc.Downtime()
	if !cl.outageSince.IsZero() {
		down = max(down, time.Since(cl.outageSince))
	}
	r.DowntimeMillis = down.Milliseconds()
	cl.emit(*r)
}
