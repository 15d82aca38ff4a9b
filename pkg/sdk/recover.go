package sdk

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"
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
	// ends with the original error. 0 disables reconnection.
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

// lost handles a lost connection or transport: recover if configured
// (and not already recovering), else end the call.
func (cl *call) lost(op string, err error) {
	if cl.ended || cl.recovering {
		return
	}
	rc := cl.c.cfg.Reconnect
	if !cl.joined || rc.MaxAttempts <= 0 || errors.Is(err, ErrClosedByServer) {
		cl.fail(op, err)
		return
	}
	cl.log.Warn("call lost, reconnecting", "op", op, "err", err)
	cl.emit(errorEvent(op, err, false))
	cl.recovering, cl.attempt, cl.lostAt, cl.lastErr = true, 0, time.Now(), err
	cl.lostReason = op
	cl.teardownMedia(ReasonReconnecting)
	cl.setStatus(StatusReconnecting, err.Error())
	cl.scheduleAttempt()
}

// teardownMedia closes the transports and the signaling connection and
// forgets producers and consumers (their server-side objects are gone or
// going). Sources keep running, paused, until they are re-produced.
func (cl *call) teardownMedia(reason string) {
	for _, c := range cl.consumers {
		cl.emit(ConsumerClosed{ConsumerID: c.id, PeerID: c.peerID, Kind: c.kind, Reason: reason})
	}
	for _, p := range cl.producers {
		p.source.SetPaused(true)
		cl.emit(ProducerClosed{ProducerID: p.id, Kind: p.kind, Reason: reason})
	}
	send, recv, peer := cl.send, cl.recv, cl.peer
	cl.send, cl.recv, cl.peer = nil, nil, nil
	if send != nil {
		send.close()
	}
	if recv != nil {
		recv.close()
	}
	if peer != nil {
		_ = peer.Close()
	}
	cl.consumers, cl.producers, cl.rates = map[string]*consumer{}, map[string]*producer{}, map[uint32]*rateMeter{}
	cl.c.store.update(func(st *CallState) {
		st.Producers = map[string]ProducerState{}
		st.Consumers = map[string]ConsumerState{}
	})
}

// scheduleAttempt waits the backoff delay (without holding the queue, so
// a leave still goes through) and then tries to rejoin.
func (cl *call) scheduleAttempt() {
	rc := cl.c.cfg.Reconnect
	cl.attempt++
	if cl.attempt > rc.MaxAttempts {
		cl.recovering = false
		cl.fail("reconnect", fmt.Errorf("gave up after %d attempts: %w", rc.MaxAttempts, cl.lastErr))
		return
	}
	delay := backoff(cl.attempt, rc.InitialDelay, rc.MaxDelay)
	cl.wg.Add(1)
	go func() {
		defer cl.wg.Done()
		t := time.NewTimer(delay)
		defer t.Stop()
		select {
		case <-cl.ctx.Done():
			return
		case <-t.C:
		}
		_ = cl.q.Add(cl.tryRejoin)
	}()
}

// tryRejoin runs one attempt on the queue.
func (cl *call) tryRejoin(ctx context.Context) {
	if cl.ended || !cl.recovering {
		return
	}
	urls := append([]string{cl.c.cfg.ServerURL}, cl.c.cfg.Reconnect.FallbackURLs...)
	url := urls[(cl.attempt-1)%len(urls)]
	cl.setStatus(StatusConnecting, fmt.Sprintf("attempt %d", cl.attempt))
	parts, err := cl.connect(ctx, url)
	if err == nil {
		cl.recovering = false // produceAll must act on the server again
		cl.syncParticipants(parts)
		err = cl.produceAll(ctx)
	}
	if err != nil {
		cl.log.Warn("reconnect attempt failed", "attempt", cl.attempt, "server", url, "err", err)
		cl.recovering, cl.lastErr = true, err
		cl.teardownMedia(ReasonReconnecting)
		cl.setStatus(StatusReconnecting, err.Error())
		cl.scheduleAttempt()
		return
	}
	cl.setStatus(StatusJoined, "")
	cl.emit(Reconnected{Attempt: cl.attempt, ServerURL: url, DowntimeMillis: time.Since(cl.lostAt).Milliseconds(), Reason: cl.lostReason})
}

// syncParticipants replaces the participant list with the one a rejoin
// returned, emitting the differences.
func (cl *call) syncParticipants(parts []Participant) {
	now := map[string]Participant{}
	for _, p := range parts {
		now[p.ID] = p
	}
	before := cl.c.store.Snapshot().Participants
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
	cl.c.store.update(func(st *CallState) { st.Participants = now })
}

// backoff is min(max, initial·2^(n-1)) ± 20 %.
func backoff(attempt int, initial, maxDelay time.Duration) time.Duration {
	if initial <= 0 {
		initial = 500 * time.Millisecond
	}
	if maxDelay <= 0 {
		maxDelay = 5 * time.Second
	}
	d := initial
	for i := 1; i < attempt && d < maxDelay; i++ {
		d *= 2
	}
	d = min(d, maxDelay)
	jitter := time.Duration((rand.Float64()*0.4 - 0.2) * float64(d))
	return d + jitter
}
