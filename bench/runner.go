//go:build linux

package bench

import (
	"context"
	"os"
	"slices"
	"time"
)

// run runs the selected scenarios: the Chromium baselines first, then
// callctl's, so every ratio compares figures of the same run.
func (h *harness) run(ctx context.Context, rep *report) {
	if h.chromium != "" && h.cfg.Scenarios["chromium"] {
		h.runBaselines(ctx, rep)
	}
	if h.cfg.Scenarios["replay"] || h.cfg.Scenarios["ramp"] {
		h.runReplayAndRamp(ctx, rep)
	}
	sizes := h.cfg.Sizes
	if s := rep.Sustain; h.cfg.AtMax && s != nil && s.MaxSize > 0 && !slices.Contains(sizes, s.MaxSize) {
		sizes = append(slices.Clone(sizes), s.MaxSize)
		slices.Sort(sizes)
	}
	h.runOthers(ctx, rep, sizes)
	if h.cfg.Scenarios["profile"] {
		h.runProfiles(ctx, rep)
	}
	if h.cfg.Scenarios["delay"] {
		rep.Delay = h.runDelays(ctx)
	}
	addRatios(rep)
}

// runOthers runs the live-publisher and subscriber scenarios.
func (h *harness) runOthers(ctx context.Context, rep *report, sizes []int) {
	if h.cfg.Scenarios["live"] {
		live := sizes
		note := "a fleet encodes each layer once for all its publishers"
		if !h.l.fleet {
			live = slices.DeleteFunc(slices.Clone(sizes), func(n int) bool { return n > h.cfg.LiveMax })
			note = "stand-in: every join process encodes its own H264 layers (no sharing), so only sizes up to BENCH_LIVE_MAX run"
		}
		rep.Scenarios = append(rep.Scenarios, h.sizes(ctx, "live", "Publishers, live-encoded test picture (3 layers) plus tone", "publisher", note, live,
			func(n int) runResult { return h.runPublishers(ctx, mediaLive, n) }))
	}
	if h.cfg.Scenarios["sub"] {
		rep.Scenarios = append(rep.Scenarios, h.sizes(ctx, "sub", "Subscribers, one video + one audio, not decoding", "subscriber", "", sizes,
			func(n int) runResult { return h.runSubscribers(ctx, n, false) }))
	}
	if h.cfg.Scenarios["subdecode"] {
		rep.Scenarios = append(rep.Scenarios, h.sizes(ctx, "subdecode", "Subscribers, one video + one audio, decoding", "subscriber", "", sizes,
			func(n int) runResult { return h.runSubscribers(ctx, n, true) }))
	}
}

// runProfiles profiles in-process publishers and subscribers.
func (h *harness) runProfiles(ctx context.Context, rep *report) {
	dir, err := os.MkdirTemp("", "callctl-bench-profiles")
	if err != nil {
		rep.Notes = append(rep.Notes, "profiles: "+err.Error())
		return
	}
	defer os.RemoveAll(dir)
	for _, role := range []string{"publisher", "subscriber"} {
		p := h.profileClients(ctx, role, h.cfg.ProfileSize, dir)
		h.progress("profile of %d in-process %ss: %.4f cores, %.2f MiB heap each %s", p.Participants, role, p.Cores, p.HeapMiB, p.Err)
		rep.Profiles = append(rep.Profiles, p)
	}
}

func (h *harness) runBaselines(ctx context.Context, rep *report) {
	peer := &sizeResult{Size: 1}
	sub := &sizeResult{Size: 1}
	ff := &firstFrameResult{}
	for i := 0; i < h.cfg.Repeats && ctx.Err() == nil; i++ {
		r := h.runChromiumPeer(ctx)
		h.progress("chromium peer run %d: %s", i+1, summary(r))
		peer.Runs = append(peer.Runs, r)
		r, callMs, chrMs := h.runChromiumSubscriber(ctx)
		h.progress("chromium receive-only run %d: %s; first frame callctl %.0f ms, chromium %.0f ms", i+1, summary(r), callMs, chrMs)
		sub.Runs = append(sub.Runs, r)
		if r.ok() {
			ff.CallctlMs = append(ff.CallctlMs, callMs)
			ff.ChromiumMs = append(ff.ChromiumMs, chrMs)
		}
	}
	peer.Median, sub.Median = medianRun(peer.Runs), medianRun(sub.Runs)
	ff.MedianCall, ff.MedianChr = median(ff.CallctlMs), median(ff.ChromiumMs)
	rep.ChromiumPeer, rep.ChromiumSub, rep.FirstFrame = peer, sub, ff
}

// sustainedRatio is the share of the nominal frame rate every
// publisher's video must keep.
const sustainedRatio = 0.95

// runReplayAndRamp measures replaying publishers at the configured sizes
// and, growing, at the ramp sizes until one is not sustained: the
// largest sustained fleet.
func (h *harness) runReplayAndRamp(ctx context.Context, rep *report) {
	sizes := []int{}
	if h.cfg.Scenarios["replay"] {
		sizes = append(sizes, h.cfg.Sizes...)
	}
	if h.cfg.Scenarios["ramp"] {
		sizes = append(sizes, h.cfg.Ramp...)
	}
	slices.Sort(sizes)
	sizes = slices.Compact(sizes)
	sc := scenarioResult{ID: "replay", Title: "Publishers replaying the 3-layer VP8 clip set (180p/360p/720p) plus Opus", Role: "publisher"}
	sus := &sustainResult{}
	failed := false
	for _, n := range sizes {
		if ctx.Err() != nil {
			break
		}
		measured := slices.Contains(h.cfg.Sizes, n) && h.cfg.Scenarios["replay"]
		if failed && !measured {
			continue // past the limit: the ramp stops
		}
		repeats := 1
		if measured {
			repeats = h.cfg.Repeats
		}
		sr := h.repeat(ctx, "replay", n, repeats, func(n int) runResult { return h.runPublishers(ctx, mediaReplay, n) })
		ok := sr.Median.ok() && sr.Median.VideoOK >= n && sr.Median.FPSRatio >= sustainedRatio
		sr.Sustained = &ok
		sus.Tried = append(sus.Tried, n)
		if ok && !failed {
			sus.MaxSize, sus.ServerCores, sus.MachineBusy = n, sr.Median.ServerCores, sr.Median.MachineBusy
		}
		failed = failed || !ok
		sc.Sizes = append(sc.Sizes, sr)
	}
	sus.Capped = !failed && len(sizes) > 0
	rep.Scenarios = append(rep.Scenarios, sc)
	if h.cfg.Scenarios["ramp"] {
		rep.Sustain = sus
	}
}

// sizes runs one scenario at every size.
func (h *harness) sizes(ctx context.Context, id, title, role, note string, sizes []int, run func(int) runResult) scenarioResult {
	sc := scenarioResult{ID: id, Title: title, Role: role, Note: note}
	for _, n := range sizes {
		if ctx.Err() != nil {
			break
		}
		sc.Sizes = append(sc.Sizes, h.repeat(ctx, id, n, h.cfg.Repeats, run))
	}
	return sc
}

func (h *harness) repeat(ctx context.Context, id string, n, repeats int, run func(int) runResult) sizeResult {
	sr := sizeResult{Size: n}
	for i := 0; i < repeats && ctx.Err() == nil; i++ {
		start := time.Now()
		r := run(n)
		h.progress("%s size %d run %d/%d (%.0f s): %s", id, n, i+1, repeats, time.Since(start).Seconds(), summary(r))
		sr.Runs = append(sr.Runs, r)
	}
	sr.Median = medianRun(sr.Runs)
	return sr
}

// addRatios fills how many times cheaper than the Chromium peer (and, for
// subscribers, the receive-only page) every callctl figure is.
func addRatios(rep *report) {
	if rep.ChromiumPeer == nil {
		return
	}
	peer, sub := rep.ChromiumPeer.Median, rep.ChromiumSub.Median
	for i := range rep.Scenarios {
		for j := range rep.Scenarios[i].Sizes {
			s := &rep.Scenarios[i].Sizes[j]
			base := peer
			if rep.Scenarios[i].Role == "subscriber" {
				base = sub
			}
			s.XCPU = ratio(base.CoresPerParticipant, s.Median.CoresPerParticipant)
			s.XRSS = ratio(base.RSSMiBPerPart, s.Median.RSSMiBPerPart)
			s.XPSS = ratio(base.PSSMiBPerPart, s.Median.PSSMiBPerPart)
		}
	}
}
