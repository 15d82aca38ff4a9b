package fleet

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/pion/webrtc/v4"

	"github.com/callctl/callctl/pkg/sdk"
)

// countingSource records what the shared source does to it.
type countingSource struct {
	track   *webrtc.TrackLocalStaticSample
	mu      sync.Mutex
	starts  int
	closes  int
	paused  int
	keys    []int
	started context.Context
}

func newCountingSource(t *testing.T) *countingSource {
	tr, err := webrtc.NewTrackLocalStaticSample(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000}, "v", "s")
	if err != nil {
		t.Fatal(err)
	}
	return &countingSource{track: tr}
}

func (s *countingSource) Kind() webrtc.RTPCodecType { return webrtc.RTPCodecTypeVideo }
func (s *countingSource) Codec() webrtc.RTPCodecCapability {
	return webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000}
}
func (s *countingSource) Tracks() []webrtc.TrackLocal { return []webrtc.TrackLocal{s.track} }
func (s *countingSource) Start(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.starts++
	s.started = ctx
	return nil
}
func (s *countingSource) RequestKeyFrame(l int) {
	s.mu.Lock()
	s.keys = append(s.keys, l)
	s.mu.Unlock()
}
func (s *countingSource) SetPaused(bool) { s.mu.Lock(); s.paused++; s.mu.Unlock() }
func (s *countingSource) Close() error   { s.mu.Lock(); s.closes++; s.mu.Unlock(); return nil }

type layered struct{ *countingSource }

func (layered) Layers() []sdk.LayerInfo { return []sdk.LayerInfo{{Width: 320, Height: 180}} }

func TestSharedSourceRefcount(t *testing.T) {
	src := newCountingSource(t)
	shared := NewSharedSource(src)
	var hs []sdk.MediaSource
	for range 3 {
		h, err := shared.Handle()
		if err != nil {
			t.Fatal(err)
		}
		hs = append(hs, h)
	}
	// Every handle publishes the same pion track: one encoder for all.
	for _, h := range hs {
		if h.Tracks()[0] != src.track {
			t.Fatal("a handle has its own track")
		}
		if _, ok := h.(sdk.LayeredSource); ok {
			t.Error("a handle of a source without layers claims layers")
		}
	}
	participantCtx, cancel := context.WithCancel(context.Background())
	for _, h := range hs {
		if err := h.Start(participantCtx); err != nil {
			t.Fatal(err)
		}
		h.SetPaused(true) // one participant's mute must not pause the others
	}
	cancel() // the first participant's call ends
	hs[1].RequestKeyFrame(2)
	if src.starts != 1 || src.paused != 0 || len(src.keys) != 1 || src.keys[0] != 2 {
		t.Fatalf("starts %d, pauses %d, key frames %v: want 1, 0, [2]", src.starts, src.paused, src.keys)
	}
	if src.started.Err() != nil {
		t.Fatal("the shared source runs on a participant's context")
	}
	_ = hs[0].Close()
	_ = hs[0].Close() // idempotent: does not release someone else's reference
	_ = hs[1].Close()
	if err := shared.Release(); err != nil {
		t.Fatal(err)
	}
	if src.closes != 0 || shared.Refs() != 1 {
		t.Fatalf("closed with a handle open (closes %d, refs %d)", src.closes, shared.Refs())
	}
	_ = hs[2].Close()
	if src.closes != 1 || src.started.Err() == nil {
		t.Fatalf("closes %d after the last reference; context ended: %v", src.closes, src.started.Err())
	}
	if _, err := shared.Handle(); !errors.Is(err, ErrSourceClosed) {
		t.Errorf("Handle after close: %v", err)
	}
	if err := hs[2].Start(context.Background()); !errors.Is(err, ErrSourceClosed) {
		t.Errorf("Start after close: %v", err)
	}
}

func TestSharedSourceKeepsLayers(t *testing.T) {
	shared := NewSharedSource(layered{newCountingSource(t)})
	h, err := shared.Handle()
	if err != nil {
		t.Fatal(err)
	}
	ls, ok := h.(sdk.LayeredSource)
	if !ok || len(ls.Layers()) != 1 {
		t.Fatal("the layers of a layered source are lost")
	}
	_ = h.Close()
	_ = shared.Release()
}
