//go:build linux

package bench

import (
	"context"
	"fmt"
	"time"
)

// harness runs the scenarios against one reference server.
type harness struct {
	cfg       config
	l         *launcher
	serverPID int
	chromium  string // "" without a browser
	progress  func(format string, args ...any)
	rooms     int
}

// room returns a fresh room name, so no run sees another's leftovers.
func (h *harness) room() string {
	h.rooms++
	return fmt.Sprintf("bench%d", h.rooms)
}

func (h *harness) joinTimeout(n int) time.Duration {
	return time.Duration(float64(n)/h.cfg.JoinRate*float64(time.Second)) + 45*time.Second
}

// runPublishers measures size publishers sending m. A join (the monitor,
// not measured) receives every publisher's lowest layer and audio: it
// proves the media arrived and measures each video's frame rate from the
// complete frames it reassembles. It does not decode: one process decoding
// 50 streams of 320x180 at 30 fps needs about 1.5 cores, and would be what
// runs out of CPU first on this machine, not the fleet or the server.
func (h *harness) runPublishers(ctx context.Context, m media, size int) runResult {
	spec := groupSpec{room: h.room(), prefix: "bench", publishers: size, media: m, joinRate: h.cfg.JoinRate}
	mon, err := h.l.startJoin("monitor", h.l.roomName(spec),
		"--video", "none", "--audio", "none", "--video-layer", "0", "--no-decode", "--stats-interval", "1s")
	if err != nil {
		return runResult{Err: err.Error()}
	}
	defer func() { _ = mon.stop(10 * time.Second) }()
	g, err := h.l.start(ctx, spec)
	if err != nil {
		return runResult{Err: err.Error()}
	}
	defer func() { _ = g.stop() }()

	wctx, cancel := context.WithTimeout(ctx, h.joinTimeout(size))
	defer cancel()
	arrived := func() (bool, string) {
		v, a := peersWithMedia(mon, "bench-p", "video"), peersWithMedia(mon, "bench-p", "audio")
		return v >= size && a >= size, fmt.Sprintf("video from %d, audio from %d of %d publishers", v, a, size)
	}
	if err := waitUntil(wctx, "every publisher's media at the monitor", arrived, append([]*proc{mon}, g.procs...)...); err != nil {
		return runResult{Participants: size, Err: err.Error()}
	}
	meas, err := h.measure(ctx, g.pids(), nil)
	if err != nil {
		return runResult{Participants: size, Err: err.Error()}
	}
	r := meas.result(size, 4) // three video layers and audio
	r.VideoOK, r.AudioOK = peersWithMedia(mon, "bench-p", "video"), peersWithMedia(mon, "bench-p", "audio")
	fps := videoFPS(mon.find("stats"), "bench-p", size, meas.t0, meas.t1)
	r.MinFPS, r.MedianFPS, r.SlowVideos = fps.Min, fps.Median, fps.Below
	r.FPSRatio = r.MinFPS / nominalFPS
	if err := g.exitedEarly(); err != nil {
		r.Err = err.Error()
	}
	return r
}

// startPublisher starts one replaying publisher (not measured) for the
// subscriber and Chromium scenarios and waits for its two producers.
func (h *harness) startPublisher(ctx context.Context, room, user string, extra ...string) (*proc, error) {
	args := append([]string{"--video", "file:" + h.l.clips, "--audio", "file:" + h.l.clips + "/callctl.ogg"}, extra...)
	p, err := h.l.startJoin(user, room, args...)
	if err != nil {
		return nil, err
	}
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	err = waitUntil(wctx, user+"'s audio and video producers", func() (bool, string) {
		n := len(p.find("producer.created"))
		return n >= 2, fmt.Sprintf("%d producers", n)
	}, p)
	if err != nil {
		_ = p.stop(10 * time.Second)
		return nil, err
	}
	return p, nil
}

// runSubscribers measures size subscribers, each receiving one video (the
// 3-layer simulcast of one replaying publisher; the server picks the
// layer) and one audio, decoding it or not.
func (h *harness) runSubscribers(ctx context.Context, size int, decode bool) runResult {
	spec := groupSpec{room: h.room(), prefix: "bench", subscribers: size, decode: decode, joinRate: h.cfg.JoinRate}
	pub, err := h.startPublisher(ctx, h.l.roomName(spec), "bench-p0", "--consume", "none", "--stats-interval", statsInterval)
	if err != nil {
		return runResult{Err: err.Error()}
	}
	defer func() { _ = pub.stop(10 * time.Second) }()
	g, err := h.l.start(ctx, spec)
	if err != nil {
		return runResult{Err: err.Error()}
	}
	stopped := false
	defer func() {
		if !stopped {
			_ = g.stop()
		}
	}()
	wctx, cancel := context.WithTimeout(ctx, h.joinTimeout(size))
	defer cancel()
	arrived := func() (bool, string) {
		v, a := g.mediaStarted("video"), g.mediaStarted("audio")
		return v >= size && a >= size, fmt.Sprintf("video at %d, audio at %d of %d subscribers", v, a, size)
	}
	if err := waitUntil(wctx, "media at every subscriber", arrived, append([]*proc{pub}, g.procs...)...); err != nil {
		return runResult{Participants: size, Err: err.Error()}
	}
	meas, err := h.measure(ctx, g.pids(), nil)
	if err != nil {
		return runResult{Participants: size, Err: err.Error()}
	}
	r := meas.result(size, 2) // one video, one audio
	r.VideoOK, r.AudioOK = g.mediaStarted("video"), g.mediaStarted("audio")
	if err := g.exitedEarly(); err != nil {
		r.Err = err.Error()
	}
	// Leave first: every participant reports its counters at leave.
	stopped = true
	_ = g.stop()
	r.BytesReceived = sumBytesReceived(g.procs)
	return r
}
