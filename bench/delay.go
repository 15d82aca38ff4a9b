//go:build linux

package bench

import (
	"context"
	"fmt"
	"time"
)

// The call as a person perceives it: one callctl publisher sending the
// stamped test picture (3-layer simulcast) and tone, one decoding callctl
// subscriber reading the stamps, on a clean link and with the subscriber's
// media path impaired in process (join --impair). The figures are the
// subscriber's own statistics (delayMs, framesLost, …) at the end of the
// window.

// delayImpairments are the links measured: clean, then the issue's
// impaired one (on the subscriber's receive path).
var delayImpairments = []string{"", "recv.delay=100ms,recv.jitter=20ms,recv.loss=5%"}

// delayRun is one link's measurement.
type delayRun struct {
	Impair        string  `json:"impair"`
	VideoMedianMs float64 `json:"videoDelayMedianMs"`
	VideoP95Ms    float64 `json:"videoDelayP95Ms"`
	VideoMaxMs    float64 `json:"videoDelayMaxMs"`
	AudioDelayMs  float64 `json:"audioDelayMs"`
	AVOffsetMs    float64 `json:"avOffsetMs"`
	FramesDecoded float64 `json:"framesDecoded"`
	FramesLost    float64 `json:"framesLost"`
	FramesFrozen  float64 `json:"framesFrozen"`
	Height        float64 `json:"frameHeight"`
	Err           string  `json:"error,omitempty"`
}

// runDelays measures every link of delayImpairments.
func (h *harness) runDelays(ctx context.Context) []delayRun {
	var out []delayRun
	for _, imp := range delayImpairments {
		r := h.runDelay(ctx, imp)
		h.progress("delay, impairment %q: video %.1f/%.1f/%.1f ms, audio %.1f ms, frames %.0f decoded, %.0f lost, %.0f frozen %s",
			imp, r.VideoMedianMs, r.VideoP95Ms, r.VideoMaxMs, r.AudioDelayMs, r.FramesDecoded, r.FramesLost, r.FramesFrozen, r.Err)
		out = append(out, r)
	}
	return out
}

// runDelay runs the publisher and the subscriber for the warm-up and the
// window, then reads the subscriber's last statistics.
func (h *harness) runDelay(ctx context.Context, impair string) delayRun {
	r := delayRun{Impair: impair}
	room := h.room()
	pub, err := h.l.startJoin("delay-pub", room, "--video", "test", "--audio", "tone", "--consume", "none",
		"--width", "640", "--height", "360", "--fps", "30", "--stats-interval", "1s")
	if err != nil {
		r.Err = err.Error()
		return r
	}
	defer func() { _ = pub.stop(10 * time.Second) }()
	args := []string{"--video", "none", "--audio", "none", "--stats-interval", "1s"}
	if impair != "" {
		args = append(args, "--impair", impair)
	}
	sub, err := h.l.startJoin("delay-sub", room, args...)
	if err != nil {
		r.Err = err.Error()
		return r
	}
	defer func() { _ = sub.stop(10 * time.Second) }()
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	err = waitUntil(wctx, "stamped video at the subscriber", func() (bool, string) {
		return lastConsumer(sub, "video")["delayMs"] != nil, "no video delay measured yet"
	}, pub, sub)
	if err != nil {
		r.Err = err.Error()
		return r
	}
	if err := sleepCtx(ctx, h.cfg.Warmup+h.cfg.Window); err != nil {
		r.Err = err.Error()
		return r
	}
	v, a := lastConsumer(sub, "video"), lastConsumer(sub, "audio")
	d, _ := v["delayMs"].(map[string]any)
	r.VideoMedianMs, r.VideoP95Ms, r.VideoMaxMs = num(d["median"]), num(d["p95"]), num(d["max"])
	r.FramesDecoded, r.FramesLost, r.FramesFrozen = num(v["framesDecoded"]), num(v["framesLost"]), num(v["framesFrozen"])
	r.Height, r.AudioDelayMs, r.AVOffsetMs = num(v["frameHeight"]), num(a["audioDelayMs"]), num(a["avOffsetMs"])
	return r
}

// lastConsumer is the kind's consumer entry of p's last stats event.
func lastConsumer(p *proc, kind string) map[string]any {
	evs := p.find("stats")
	if len(evs) == 0 {
		return nil
	}
	cs, _ := evs[len(evs)-1].Data["consumers"].([]any)
	for _, c := range cs {
		if m, ok := c.(map[string]any); ok && m["kind"] == kind {
			return m
		}
	}
	return nil
}

func num(v any) float64 {
	x, _ := v.(float64)
	return x
}

func (rep *report) delaySection(w func(string, ...any)) {
	if len(rep.Delay) == 0 {
		return
	}
	w("## Delay and frame loss, as a person perceives the call\n\n")
	w("One callctl publisher (`--video test` at 640x360, 30 fps, 3-layer simulcast, and the tone: both carry stamps) and one decoding callctl subscriber in a room; the subscriber reads the stamps and reports its own figures (`delayMs` over the last 5 s, `framesLost`/`framesFrozen` over the call; docs/events.md, \"Stamped media\"), read after %s of warm-up and a %s window. ", rep.Config.Warmup, rep.Config.Window)
	w("The impaired run adds `--impair` to the subscriber: its media path (not signaling) goes through the in-process netem.\n\n")
	w("| subscriber link | video delay median / p95 / max ms | audio delay ms | A/V offset ms | frames decoded | lost | frozen | resolution received |\n|---|---|---|---|---|---|---|---|\n")
	for _, r := range rep.Delay {
		link := "clean loopback"
		if r.Impair != "" {
			link = "`--impair " + r.Impair + "`"
		}
		if r.Err != "" {
			w("| %s | failed: %s |||||||\n", link, cell(r.Err))
			continue
		}
		w("| %s | %s / %s / %s | %s | %s | %s | %s | %s | %sp |\n", link, f(r.VideoMedianMs, 1), f(r.VideoP95Ms, 1), f(r.VideoMaxMs, 1),
			f(r.AudioDelayMs, 1), f(r.AVOffsetMs, 1), f(r.FramesDecoded, 0), f(r.FramesLost, 0), f(r.FramesFrozen, 0), fmt.Sprint(r.Height))
	}
	w("\n")
}
