//go:build linux

package bench

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"time"
)

// pageURL is the viewer page of the reference server for room.
func (h *harness) pageURL(room, peer string, publish bool) string {
	q := url.Values{"roomId": {room}, "peerId": {peer}, "displayName": {peer}}
	if publish {
		// Chromium's fake camera at 720p, sent like mediasoup-demo: three
		// simulcast layers (320x180, 640x360, 1280x720) plus Opus, the
		// same as callctl's clip set.
		q.Set("publish", "1")
		q.Set("camera", "1280x720")
	}
	return "http" + strings.TrimPrefix(h.l.server, "ws") + "/?" + q.Encode()
}

// runChromiumPeer measures a Chromium page that publishes its camera with
// 3-layer simulcast plus Opus and consumes one replaying callctl publisher
// (its companion, which also consumes the page: proof that the page's
// media arrived).
func (h *harness) runChromiumPeer(ctx context.Context) runResult {
	room := h.room()
	comp, err := h.startPublisher(ctx, room, "bench-p0", "--no-decode", "--stats-interval", "1s")
	if err != nil {
		return runResult{Err: err.Error()}
	}
	defer func() { _ = comp.stop(10 * time.Second) }()
	b, err := startBrowser(ctx, h.chromium)
	if err != nil {
		return runResult{Err: err.Error()}
	}
	defer b.close()
	if err := b.navigate(h.pageURL(room, "chromium", true)); err != nil {
		return runResult{Err: err.Error()}
	}
	wctx, cancel := context.WithTimeout(ctx, 45*time.Second)
	defer cancel()
	err = waitUntil(wctx, "the page decoding bench-p0 and callctl receiving the page", func() (bool, string) {
		s, err := b.snapshot()
		if err != nil {
			return false, err.Error()
		}
		frames, _, _, audio := s.videoFrom("bench-p0")
		v, a := peersWithMedia(comp, "chromium", "video"), peersWithMedia(comp, "chromium", "audio")
		return frames > 10 && audio && len(s.Producers) == 2 && v == 1 && a == 1,
			fmt.Sprintf("page: %d frames, audio playing %v, producers %v; callctl got video %d audio %d", frames, audio, s.Producers, v, a)
	}, comp)
	if err != nil {
		return runResult{Err: err.Error()}
	}
	return h.measurePage(ctx, b, comp, 4+2)
}

// runChromiumSubscriber compares the time to the first decoded frame of a
// callctl subscriber and of a receive-only Chromium page in one room, then
// measures the page receiving one video and one audio.
func (h *harness) runChromiumSubscriber(ctx context.Context) (runResult, float64, float64) {
	room := h.room()
	pub, err := h.startPublisher(ctx, room, "bench-p0", "--consume", "none", "--stats-interval", statsInterval)
	if err != nil {
		return runResult{Err: err.Error()}, 0, 0
	}
	defer func() { _ = pub.stop(10 * time.Second) }()
	b, err := startBrowser(ctx, h.chromium)
	if err != nil {
		return runResult{Err: err.Error()}, 0, 0
	}
	defer b.close()

	callMs, probe, err := h.callctlFirstFrame(ctx, room)
	if probe != nil {
		defer func() { _ = probe.stop(10 * time.Second) }()
	}
	if err != nil {
		return runResult{Err: err.Error()}, 0, 0
	}
	chrMs, err := h.chromiumFirstFrame(ctx, b, room)
	if err != nil {
		return runResult{Err: err.Error()}, callMs, 0
	}
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	err = waitUntil(wctx, "the page playing bench-p0's audio", func() (bool, string) {
		s, err := b.snapshot()
		if err != nil {
			return false, err.Error()
		}
		_, _, _, audio := s.videoFrom("bench-p0")
		return audio, "not playing"
	})
	if err != nil {
		return runResult{Err: err.Error()}, callMs, chrMs
	}
	return h.measurePage(ctx, b, nil, 2), callMs, chrMs
}

// callctlFirstFrame starts a decoding callctl subscriber and returns the
// time from its exec to the first statistics that show a decoded frame
// of the room's video (stats every 100 ms, the smallest interval join
// takes: the figure is late by up to that much).
func (h *harness) callctlFirstFrame(ctx context.Context, room string) (float64, *proc, error) {
	p, err := h.l.startJoin("bench-s0", room, "--video", "none", "--audio", "none", "--stats-interval", "100ms")
	if err != nil {
		return 0, nil, err
	}
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	var at time.Time
	err = waitUntil(wctx, "callctl's first decoded frame", func() (bool, string) {
		for _, e := range p.find("stats") {
			if consumerFrames(e, "bench-p0")["bench-p0"] > 0 {
				at = e.At
				return true, ""
			}
		}
		return false, "no decoded frame yet"
	}, p)
	if err != nil {
		return 0, p, err
	}
	return float64(at.Sub(p.started).Microseconds()) / 1000, p, nil
}

// chromiumFirstFrame opens the receive-only page in the running browser
// and returns the time from the navigation's start to the first decoded
// frame the page reports (polled every 50 ms; the browser process was
// already running).
func (h *harness) chromiumFirstFrame(ctx context.Context, b *browser, room string) (float64, error) {
	start := time.Now()
	if err := b.navigate(h.pageURL(room, "chromium-sub", false)); err != nil {
		return 0, err
	}
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	var at time.Time
	err := waitUntil(wctx, "the page's first decoded frame", func() (bool, string) {
		s, err := b.snapshot()
		if err != nil {
			return false, err.Error()
		}
		if frames, _, _, _ := s.videoFrom("bench-p0"); frames > 0 {
			at = time.Now()
			return true, ""
		}
		return false, "no decoded frame yet"
	})
	return float64(at.Sub(start).Microseconds()) / 1000, err
}

// measurePage measures the browser's whole process tree over the window,
// and the frame rate the page decoded bench-p0's video at. With comp, it
// also reports what of the page's video arrived at callctl.
func (h *harness) measurePage(ctx context.Context, b *browser, comp *proc, streams int) runResult {
	// The page's frame counter is read right after each end's samples.
	var s0, s1 *pageSnapshot
	var snapErr error
	meas, err := h.measure(ctx, []int{b.pid}, func(end bool) {
		s, err := b.snapshot()
		if err != nil && snapErr == nil {
			snapErr = err
		}
		if end {
			s1 = s
		} else {
			s0 = s
		}
	})
	if err == nil {
		err = snapErr
	}
	if err != nil {
		return runResult{Err: err.Error()}
	}
	r := meas.result(1, streams)
	f0, _, _, _ := s0.videoFrom("bench-p0")
	f1, w, hgt, _ := s1.videoFrom("bench-p0")
	r.MinFPS = float64(f1-f0) / meas.t1.Sub(meas.t0).Seconds()
	r.FPSRatio = r.MinFPS / nominalFPS
	r.VideoOK, r.AudioOK = 1, 1
	r.Detail = fmt.Sprintf("page decoded bench-p0 at %dx%d, %.1f fps; handler %s", w, hgt, r.MinFPS, s1.Handler)
	if comp != nil {
		r.Detail += "; " + pageVideoAtCallctl(comp, meas.t0, meas.t1)
	}
	return r
}

// pageVideoAtCallctl describes the page's video as its companion received
// it over [t0, t1]: bitrate and the simulcast layer forwarded.
func pageVideoAtCallctl(comp *proc, t0, t1 time.Time) string {
	var first, last map[string]any
	var at0, at1 time.Time
	for _, e := range comp.find("stats") {
		cs, _ := e.Data["consumers"].([]any)
		for _, c := range cs {
			m, _ := c.(map[string]any)
			if m["peerId"] != "chromium" || m["kind"] != "video" || e.At.Before(t0) || e.At.After(t1) {
				continue
			}
			if first == nil {
				first, at0 = m, e.At
			}
			last, at1 = m, e.At
		}
	}
	if first == nil || !at1.After(at0) {
		return "no statistics of the page's video at callctl"
	}
	b0, _ := first["bytesReceived"].(float64)
	b1, _ := last["bytesReceived"].(float64)
	kbps := (b1 - b0) * 8 / 1000 / at1.Sub(at0).Seconds()
	return fmt.Sprintf("its video reached callctl at %.0f kbit/s (spatial layer %v forwarded)", kbps, last["spatialLayer"])
}
