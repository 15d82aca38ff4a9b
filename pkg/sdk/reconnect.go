package sdk

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/callctl/callctl/pkg/sdk/internal/reconnect"
)

// ReconnectConfig controls automatic reconnection. A call that loses its
// signaling connection or a media transport (but was not closed by the
// server on purpose, close code 4000) rejoins the same room with the same
// peer id: new transports, the same sources re-produced (mute state kept),
// every remote producer consumed again, preferred layers re-applied.
// mediasoup has no session resumption, so ids of producers and consumers
// change: events carry the new ones.
type ReconnectConfig struct {
	// MaxAttempts is how many rejoin attempts a lost call gets before it
	// ends with the original error. 0 disables reconnection. A call lost
	// again within 10 s of rejoining keeps counting the same attempts.
	MaxAttempts int
	// InitialDelay is the wait before the first attempt (default 500 ms);
	// it doubles per attempt up to MaxDelay (default 5 s), with ±20 %
	// jitter so that many bots do not reconnect in lockstep.
	InitialDelay, MaxDelay time.Duration
	// FallbackURLs are other signaling servers to try, in turn after
	// ServerURL: attempt n uses the n-th URL of [ServerURL, FallbackURLs…],
	// cycling (multi-server failover).
	FallbackURLs []string
}

// Reconnected reports that a lost call was rejoined.
type Reconnected struct {
	Attempt        int    `json:"attempt"`
	ServerURL      string `json:"serverUrl"`
	DowntimeMillis int64  `json:"downtimeMs"`
	Reason         string `json:"reason"` // what was lost
}

func (Reconnected) Type() string { return "reconnected" }
func (Reconnected) isEvent()     {}

// ReasonReconnecting is the reason of producer.closed and consumer.closed
// events emitted when a lost call tears down its media to rejoin.
const ReasonReconnecting = "reconnecting"

// lost handles a lost connection or transport: the reconnect policy says
// whether to wait and rejoin or to end the call.
func (cl *call) lost(op string, err error) {
	if cl.ended || cl.rc.State() != reconnect.Joined {
		return
	}
	action := cl.rc.Lost(errors.Is(err, ErrClosedByServer))
	if action.Kind == reconnect.End {
		cl.fail(op, err)
		return
	}
	cl.log.Warn("call lost, reconnecting", "op", op, "err", err)
	cl.emit(errorEvent(op, err, false))
	cl.lostReason, cl.lastErr = op, err
	cl.outageSince = time.Time{}
	if s := cl.sess; s != nil { // media may have stopped well before the loss
		for _, o := range s.outages {
			if cl.outageSince.IsZero() || o.since.Before(cl.outageSince) {
				cl.outageSince = o.since
			}
		}
	}
	cl.teardownMedia(ReasonReconnecting)
	cl.setStatus(StatusReconnecting, err.Error())
	cl.schedule(action.Delay)
}

// teardownMedia reports every producer and consumer closed and closes the
// session (their server-side objects are gone or going). Sources keep
// running, paused, until they are re-produced.
func (cl *call) teardownMedia(reason string) {
	for _, c := range cl.consumers {
		cl.emit(ConsumerClosed{ConsumerID: c.id, PeerID: c.peerID, Kind: c.kind, Reason: reason})
	}
	for _, p := range cl.producers {
		p.source.SetPaused(true)
		cl.emit(ProducerClosed{ProducerID: p.id(), Kind: p.kind(), Reason: reason})
	}
	cl.closeSession()
	cl.store.update(func(st *CallState) {
		st.Producers = map[string]ProducerState{}
		st.Consumers = map[string]ConsumerState{}
	})
}

// schedule runs the next attempt after delay, without holding the queue
// meanwhile (so a leave still goes through).
func (cl *call) schedule(delay time.Duration) { cl.after(delay, cl.tryRejoin) }

// tryRejoin runs one attempt on the queue.
func (cl *call) tryRejoin(ctx context.Context) {
	if cl.ended || cl.rc.State() != reconnect.Waiting {
		return
	}
	cl.rc.Attempting()
	url := cl.servers[cl.rc.Server()]
	cl.setStatus(StatusConnecting, fmt.Sprintf("attempt %d", cl.rc.Attempt()))
	parts, err := cl.connect(ctx, url)
	if err == nil {
		cl.syncParticipants(parts)
		err = cl.produceAll(ctx)
	}
	if err != nil {
		cl.log.Warn("reconnect attempt failed", "attempt", cl.rc.Attempt(), "server", url, "err", err)
		cl.lastErr = err
		cl.teardownMedia(ReasonReconnecting)
		action := cl.rc.AttemptFailed()
		if action.Kind == reconnect.End {
			cl.fail("reconnect", fmt.Errorf("gave up after %d attempts: %w", cl.rc.Attempt(), err))
			return
		}
		cl.setStatus(StatusReconnecting, err.Error())
		cl.schedule(action.Delay)
		return
	}
	cl.rc.Joined()
	cl.setStatus(StatusJoined, "")
	// Reported once a transport connected (media flows), with the whole
	// downtime; rejoinMediaWait bounds the wait.
	cl.pendingRejoin = &Reconnected{Attempt: cl.rc.Attempt(), ServerURL: url, Reason: cl.lostReason}
	s := cl.sess
	cl.after(rejoinMediaWait, func(context.Context) {
		if cl.sess == s {
			cl.rejoinComplete()
		}
	})
}

// syncParticipants replaces the participant list with the one a rejoin
// returned, emitting the differences.
func (cl *call) syncParticipants(parts []Participant) {
	now := map[string]Participant{}
	for _, p := range parts {
		now[p.ID] = p
	}
	before := cl.store.Snapshot().Participants
	for id := range before {
		if _, ok := now[id]; !ok {
			cl.emit(ParticipantLeft{ID: id})
		}
	}
	for id, p := range now {
		if _, ok := before[id]; !ok {
			cl.emit(ParticipantJoined{Participant: p})
		}
	}
	cl.store.update(func(st *CallState) { st.Participants = now })
}
