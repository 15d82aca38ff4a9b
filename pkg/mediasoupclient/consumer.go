package mediasoupclient

import (
	"context"
	"sync"

	"github.com/pion/interceptor/pkg/stats"
	"github.com/pion/rtcp"
	"github.com/pion/webrtc/v4"
)

// Consumer is one remote stream received from the server
// (mediasoup-client's Consumer). Pause, Resume and Close act locally; the
// application tells the server (pauseConsumer, …) over its own signaling.
type Consumer struct {
	id, producerID, kind string
	rtp                  RtpParameters
	appData              map[string]any
	t                    *RecvTransport
	section              *mediaSection
	slot                 *trackSlot
	done                 chan struct{} // closed by Close

	mu     sync.Mutex // guards the following
	paused bool
	closed bool
}

// ID is the server's consumer id.
func (c *Consumer) ID() string { return c.id }

// ProducerID is the id of the producer consumed.
func (c *Consumer) ProducerID() string { return c.producerID }

// Kind is "audio" or "video".
func (c *Consumer) Kind() string { return c.kind }

// RtpParameters are the server's parameters for this consumer.
func (c *Consumer) RtpParameters() RtpParameters { return c.rtp }

// AppData is what ConsumerOptions.AppData carried.
func (c *Consumer) AppData() map[string]any { return c.appData }

// SSRC is the media SSRC the server sends.
func (c *Consumer) SSRC() uint32 { return c.rtp.Encodings[0].SSRC }

// Track waits for pion's remote track of this consumer: pion creates it
// when the first packet arrives (it reads the payload type from it). It
// returns ErrClosed when the consumer or its transport closes first.
func (c *Consumer) Track(ctx context.Context) (*webrtc.TrackRemote, error) {
	select {
	case <-c.slot.ready:
		return c.slot.track, nil
	case <-c.done:
		return nil, ErrClosed
	case <-c.t.ctx.Done():
		return nil, ErrClosed
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// Receiver is the pion RTPReceiver, nil before the first packet.
func (c *Consumer) Receiver() *webrtc.RTPReceiver {
	select {
	case <-c.slot.ready:
		return c.slot.receiver
	default:
		return nil
	}
}

// Paused reports whether Pause is in effect.
func (c *Consumer) Paused() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.paused
}

// Pause marks the consumer paused; the application asks the server to
// stop sending (pauseConsumer).
func (c *Consumer) Pause() { c.setPaused(true) }

// Resume marks the consumer resumed (resumeConsumer on the server).
func (c *Consumer) Resume() { c.setPaused(false) }

func (c *Consumer) setPaused(p bool) {
	c.mu.Lock()
	c.paused = p
	c.mu.Unlock()
}

// Closed reports whether Close was called or the transport closed.
func (c *Consumer) Closed() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closed || c.t.Closed()
}

// Close removes the consumer from the transport (its m-section becomes
// inactive) and ends Track waits.
func (c *Consumer) Close(ctx context.Context) error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closed = true
	close(c.done)
	c.mu.Unlock()
	return c.t.closeConsumer(ctx, c)
}

// RequestKeyFrame sends a PLI for this consumer's stream; mediasoup
// forwards it to the producer.
func (c *Consumer) RequestKeyFrame() error {
	if c.Closed() {
		return ErrClosed
	}
	return c.t.pc.WriteRTCP([]rtcp.Packet{&rtcp.PictureLossIndication{MediaSSRC: c.SSRC()}})
}

// GetStats returns pion's counters for the stream (nil before the first
// packet).
func (c *Consumer) GetStats() *stats.Stats { return c.t.stats.get(c.SSRC()) }
