package capture

import (
	"sync"
	"time"

	"github.com/callctl/callctl/pkg/sdk"
)

// videoStamps measures a video stream from the stamps of its decoded
// frames: delay (with the producer's stamp epoch), lost and duplicated
// frames. Guarded by the videoReceiver's mutex.
type videoStamps struct {
	epochMs, periodMs int64
	stamped           uint64
	frames            frameTracker
	delays            delayWindow
}

func newVideoStamps(info sdk.TrackInfo) videoStamps {
	period := info.StampPeriodMs
	if period <= 0 {
		period = StampTimeModulus
	}
	return videoStamps{epochMs: info.StampEpochMs, periodMs: period}
}

func (v *videoStamps) frame(now time.Time, s Stamp) {
	v.stamped++
	v.frames.frame(now, s.Frame)
	if v.epochMs == 0 {
		return
	}
	elapsed := float64(now.UnixMicro())/1000 - float64(v.epochMs)
	slack := min(videoStampSlackMs, v.periodMs/10) // a short clip's period
	capture := unwrapStampTime(s.TimeMs, v.periodMs, int64(elapsed), slack)
	v.delays.add(now, elapsed-float64(capture))
}

// fill adds the stamp measurements to st; frozenFrames are the frame
// slots the meter's freezes covered.
func (v *videoStamps) fill(st *sdk.ReceiveStats, now time.Time, frozenFrames uint64) {
	if v.stamped == 0 {
		return
	}
	st.StampedFrames = v.stamped
	st.FramesLost = v.frames.lost
	st.FramesDuplicated = v.frames.duplicated
	st.FramesFrozen = frozenFrames + v.frames.duplicated
	st.Delay = v.delays.summary(now)
}

// avRegistry pairs the audio and video receivers of each peer, for the
// audio/video offset. The receivers' own locks are never held while the
// registry's is, nor one receiver's while asking the other.
type avRegistry struct {
	mu    sync.Mutex
	peers map[string]*avPair
}

type avPair struct {
	audio *audioReceiver
	video *videoReceiver
}

func (r *avRegistry) register(peer string, a *audioReceiver, v *videoReceiver) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.peers == nil {
		r.peers = make(map[string]*avPair)
	}
	p := r.peers[peer]
	if p == nil {
		p = &avPair{}
		r.peers[peer] = p
	}
	if a != nil {
		p.audio = a
	}
	if v != nil {
		p.video = v
	}
}

func (r *avRegistry) unregister(peer string, a *audioReceiver, v *videoReceiver) {
	r.mu.Lock()
	defer r.mu.Unlock()
	p := r.peers[peer]
	if p == nil {
		return
	}
	if a != nil && p.audio == a {
		p.audio = nil
	}
	if v != nil && p.video == v {
		p.video = nil
	}
	if p.audio == nil && p.video == nil {
		delete(r.peers, peer)
	}
}

func (r *avRegistry) pair(peer string) avPair {
	r.mu.Lock()
	defer r.mu.Unlock()
	if p := r.peers[peer]; p != nil {
		return *p
	}
	return avPair{}
}

// avOffset is the peer's audio delay minus its video delay (medians),
// nil unless both are measured.
func (s *ReceiveSink) avOffset(peer string) *float64 {
	p := s.av.pair(peer)
	if p.audio == nil || p.video == nil {
		return nil
	}
	a, v := p.audio.medianDelay(), p.video.medianDelay()
	if a == nil || v == nil {
		return nil
	}
	d := round1(*a - *v)
	return &d
}

// medianDelay is the video's current median delay, nil if none.
func (v *videoReceiver) medianDelay() *float64 {
	v.mu.Lock()
	defer v.mu.Unlock()
	if d := v.stamps.delays.summary(v.sink.now()); d != nil {
		return &d.Median
	}
	return nil
}

// medianDelay is the audio's current median delay, nil if none.
func (a *audioReceiver) medianDelay() *float64 {
	a.mu.Lock()
	defer a.mu.Unlock()
	if d := a.markers.delays.summary(a.sink.now()); d != nil {
		return &d.Median
	}
	return nil
}
