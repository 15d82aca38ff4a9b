package fleet

import (
	"context"
	"errors"
	"sync"

	"github.com/pion/webrtc/v4"

	"github.com/callctl/callctl/pkg/sdk"
)

// ErrSourceClosed is returned by Handle and by a handle's Start once the
// shared source has been closed.
var ErrSourceClosed = errors.New("fleet: shared source closed")

// SharedSource lets every participant of a fleet publish one media
// source: each layer is encoded (or read from a clip) once, and its pion
// tracks are bound to every participant's PeerConnection. pion's static
// tracks write each packet to all their bindings, each with the binding's
// own SSRC and payload type, so a participant costs packetisation,
// encryption and sending, not encoding.
//
// The underlying source is started once, by the first handle's Start,
// with a context of its own (a participant's call ending must not stop
// everyone's media), and closed when the owner has called Release and
// every handle has been closed.
type SharedSource struct {
	src sdk.MediaSource

	mu       sync.Mutex
	refs     int // the owner's hold plus one per open handle
	started  bool
	startErr error
	closed   bool
	closeErr error
	cancel   context.CancelFunc
}

// NewSharedSource wraps src. The caller holds the first reference and
// gives it up with Release.
func NewSharedSource(src sdk.MediaSource) *SharedSource {
	return &SharedSource{src: src, refs: 1}
}

// Source returns the underlying source (for its statistics).
func (s *SharedSource) Source() sdk.MediaSource { return s.src }

// Handle returns a new reference for one participant: an sdk.MediaSource
// whose Tracks are the shared tracks. Pass it in that participant's
// sdk.Config; the SDK closes it when the call ends.
func (s *SharedSource) Handle() (sdk.MediaSource, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, ErrSourceClosed
	}
	s.refs++
	h := &handle{shared: s}
	if ls, ok := s.src.(sdk.LayeredSource); ok {
		return &layeredHandle{handle: h, layers: ls}, nil
	}
	return h, nil
}

// Release gives up the owner's reference: the source closes now if no
// handle is open, else when the last one closes. It returns the
// underlying Close's error when this call closed it.
func (s *SharedSource) Release() error { return s.unref() }

// Refs reports the open references (the owner's included).
func (s *SharedSource) Refs() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.refs
}

func (s *SharedSource) start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrSourceClosed
	}
	if !s.started {
		s.started = true
		var ctx context.Context
		ctx, s.cancel = context.WithCancel(context.Background())
		s.startErr = s.src.Start(ctx)
	}
	return s.startErr
}

func (s *SharedSource) unref() error {
	s.mu.Lock()
	if s.closed || s.refs == 0 {
		s.mu.Unlock()
		return nil
	}
	s.refs--
	if s.refs > 0 {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	cancel := s.cancel
	s.mu.Unlock()
	// Close waits for the source's goroutines: outside the lock.
	err := s.src.Close()
	if cancel != nil {
		cancel()
	}
	s.mu.Lock()
	s.closeErr = err
	s.mu.Unlock()
	return err
}

// handle is one participant's view of a SharedSource.
type handle struct {
	shared    *SharedSource
	closeOnce sync.Once
}

var (
	_ sdk.MediaSource   = (*handle)(nil)
	_ sdk.LayeredSource = (*layeredHandle)(nil)
)

func (h *handle) Kind() webrtc.RTPCodecType        { return h.shared.src.Kind() }
func (h *handle) Codec() webrtc.RTPCodecCapability { return h.shared.src.Codec() }
func (h *handle) Tracks() []webrtc.TrackLocal      { return h.shared.src.Tracks() }
func (h *handle) RequestKeyFrame(layer int)        { h.shared.src.RequestKeyFrame(layer) }

// StampInfo passes the shared source's stamps on, so every publisher's
// consumers can measure delay.
func (h *handle) StampInfo() (epochMs, periodMs int64) {
	return sdk.StampInfoOf(h.shared.src)
}
func (h *handle) Start(context.Context) error { return h.shared.start() }

// SetPaused does nothing: pausing the shared source would mute the whole
// fleet. A participant's mute is its producer's pause, which gates that
// participant's RTP (mediasoupclient's Producer.Pause).
func (h *handle) SetPaused(bool) {}

// Close releases this participant's reference; the last one closes the
// shared source. Idempotent.
func (h *handle) Close() error {
	var err error
	h.closeOnce.Do(func() { err = h.shared.unref() })
	return err
}

// layeredHandle is a handle of a source that describes its layers.
type layeredHandle struct {
	*handle
	layers sdk.LayeredSource
}

func (h *layeredHandle) Layers() []sdk.LayerInfo { return h.layers.Layers() }
