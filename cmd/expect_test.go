package cmd

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/callctl/callctl/pkg/sdk"
)

func TestEvaluateExpectations(t *testing.T) {
	parts := func(ids ...string) map[string]sdk.Participant {
		m := map[string]sdk.Participant{}
		for _, id := range ids {
			m[id] = sdk.Participant{ID: id, DisplayName: strings.ToUpper(id)}
		}
		return m
	}
	video := func(peer string, frames uint64) sdk.ConsumerStats {
		return sdk.ConsumerStats{PeerID: peer, Kind: "video", PacketsReceived: 100, ReceiveStats: sdk.ReceiveStats{FramesDecoded: frames}}
	}
	audio := func(peer string, samples uint64, level float64) sdk.ConsumerStats {
		return sdk.ConsumerStats{PeerID: peer, Kind: "audio", PacketsReceived: 100, ReceiveStats: sdk.ReceiveStats{SamplesDecoded: samples, AudioLevel: level}}
	}
	paused := func(c sdk.ConsumerStats) sdk.ConsumerStats { c.ProducerPaused = true; return c }
	stats := func(cs ...sdk.ConsumerStats) sdk.CallStats { return sdk.CallStats{Consumers: cs} }

	for _, tc := range []struct {
		name    string
		e       expectations
		parts   map[string]sdk.Participant
		stats   sdk.CallStats
		missing []string
		met     []string
	}{
		{name: "nothing expected", e: expectations{}, parts: parts(), missing: nil, met: nil},
		{name: "participants only, met", e: expectations{Participants: 2}, parts: parts("a", "b", "c"), met: []string{"a", "b", "c"}},
		{name: "participants only, short", e: expectations{Participants: 2}, parts: parts("a"), missing: []string{"2 participants (have 1)"}, met: []string{"a"}},
		{name: "one participant, nobody", e: expectations{Participants: 1, Video: true}, parts: parts(), missing: []string{"1 participant (have 0)"}},
		{
			name: "video and audio from each", e: expectations{Participants: 2, Video: true, Audio: true}, parts: parts("a", "b"),
			stats: stats(video("a", 10), audio("a", 4800, -20), video("b", 3), audio("b", 960, -30)),
			met:   []string{"a", "b"},
		},
		{
			name: "video not decoded yet (no sink: packets but no frames)", e: expectations{Participants: 1, Video: true}, parts: parts("bob"),
			stats: stats(video("bob", 0), audio("bob", 100, -20)), missing: []string{"video from bob"},
		},
		{
			name: "nobody publishes video", e: expectations{Participants: 1, Video: true, Audio: true}, parts: parts("bob"),
			stats: stats(audio("bob", 9600, -20)), missing: []string{"video from bob"},
		},
		{
			name: "silent audio is not audible", e: expectations{Participants: 1, Audio: true}, parts: parts("a"),
			stats: stats(audio("a", 9600, -127)), missing: []string{"audio from a"},
		},
		{
			name: "audio level without decoded samples", e: expectations{Participants: 1, Audio: true}, parts: parts("a"),
			stats: stats(audio("a", 0, 0)), missing: []string{"audio from a"},
		},
		{
			name: "paused producer counts as missing", e: expectations{Participants: 1, Audio: true}, parts: parts("a"),
			stats: stats(paused(audio("a", 9600, -20))), missing: []string{"audio from a"},
		},
		{
			name: "enough of several participants deliver", e: expectations{Participants: 1, Video: true}, parts: parts("a", "b"),
			stats: stats(video("b", 5)), met: []string{"b"},
		},
		{
			name: "too few deliver: name every gap", e: expectations{Participants: 2, Video: true, Audio: true}, parts: parts("a", "b", "c"),
			stats:   stats(video("a", 5), audio("a", 100, -10), audio("b", 100, -10), video("c", 0)),
			missing: []string{"video from b", "video from c", "audio from c"}, met: []string{"a"},
		},
		{
			name: "too few present and missing media", e: expectations{Participants: 3, Video: true}, parts: parts("a"),
			stats: stats(), missing: []string{"3 participants (have 1)", "video from a"},
		},
		{
			name: "another peer's media does not count", e: expectations{Participants: 1, Video: true}, parts: parts("a"),
			stats: stats(video("ghost", 50)), missing: []string{"video from a"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := evaluateExpectations(tc.e, tc.parts, tc.stats)
			if !slices.Equal(got.Missing, tc.missing) {
				t.Errorf("missing = %q, want %q", got.Missing, tc.missing)
			}
			var met []string
			for _, p := range got.Met {
				met = append(met, p.ID)
			}
			if !slices.Equal(met, tc.met) {
				t.Errorf("met = %q, want %q", met, tc.met)
			}
			if len(got.Present) != len(tc.parts) {
				t.Errorf("present = %v", got.Present)
			}
		})
	}
}

func TestJoinExpectFlags(t *testing.T) {
	base := []string{"--server", "ws://127.0.0.1:1", "--room", "r", "--user", "u"}
	parse := func(args ...string) (*joinOptions, error) {
		c := newJoinCmd(IO{}, &globalOptions{}, runJoin)
		o := &joinOptions{}
		// Reach the options through a fresh command's flags.
		c.RunE = nil
		if err := c.ParseFlags(append(append([]string{}, base...), args...)); err != nil {
			return nil, err
		}
		f := c.Flags()
		o.expect.Participants, _ = f.GetInt("expect-participants")
		o.expect.Video, _ = f.GetBool("expect-video")
		o.expect.Audio, _ = f.GetBool("expect-audio")
		o.expect.Within, _ = f.GetDuration("expect-within")
		o.expect.ExitOnPass, _ = f.GetBool("exit-on-pass")
		return o, o.validateExpect(f.Changed)
	}
	o, err := parse("--expect-video")
	if err != nil || !o.expectSet || o.expect.Participants != 1 || o.expect.Within != 30*time.Second {
		t.Errorf("--expect-video: %+v %v", o, err)
	}
	o, err = parse("--expect-participants", "0", "--expect-within", "5s", "--exit-on-pass")
	if err != nil || !o.expectSet || o.expect.Participants != 0 || o.expect.Within != 5*time.Second {
		t.Errorf("--expect-participants 0: %+v %v", o, err)
	}
	if o, err = parse(); err != nil || o.expectSet {
		t.Errorf("no expectation flags: %+v %v", o, err)
	}
	for _, bad := range [][]string{
		{"--exit-on-pass"},
		{"--expect-within", "5s"},
		{"--expect-participants", "-1"},
		{"--expect-audio", "--expect-within", "0s"},
	} {
		if _, err := parse(bad...); err == nil {
			t.Errorf("%v accepted", bad)
		} else if exitCodeFor(err) != ExitUsage {
			t.Errorf("%v: exit code %d", bad, exitCodeFor(err))
		}
	}
}

func TestJoinSessionName(t *testing.T) {
	o := &joinOptions{server: "ws://h:1", room: "room/1", user: "bob smith", iceLoopback: "auto",
		media: mediaOptions{video: "test", audio: "tone", codec: "vp8", width: 2, height: 2, fps: 1}}
	// Replaced characters: readable ASCII plus the hash of "room/1-bob smith".
	if err := o.validate(); err != nil || o.session != "room_1-bob_smith-0063fe35" {
		t.Errorf("default session = %q, %v", o.session, err)
	}
	o.session = "bad/name"
	if err := o.validate(); exitCodeFor(err) != ExitUsage {
		t.Errorf("--session bad/name: %v", err)
	}
}

func TestExpectChecker(t *testing.T) {
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	bob := map[string]sdk.Participant{"bob": {ID: "bob", DisplayName: "Bob"}}
	video := sdk.CallStats{Consumers: []sdk.ConsumerStats{{PeerID: "bob", Kind: "video", ReceiveStats: sdk.ReceiveStats{FramesDecoded: 5}}}}
	e := expectations{Participants: 1, Video: true, Within: 10 * time.Second}
	type check struct {
		at      time.Duration // after t0
		parts   map[string]sdk.Participant
		stats   sdk.CallStats
		err     error
		verdict expectVerdict
		missing []string
	}
	for _, tc := range []struct {
		name   string
		checks []check
	}{
		{name: "passes once, then stays quiet", checks: []check{
			{at: time.Second, verdict: expectPending, missing: []string{"1 participant (have 0)"}},
			{at: 2 * time.Second, parts: bob, verdict: expectPending, missing: []string{"video from bob"}},
			{at: 3 * time.Second, parts: bob, stats: video, verdict: expectPassed},
			{at: 4 * time.Second, parts: bob, stats: video, verdict: expectPending},
			{at: 11 * time.Second, verdict: expectPending},
		}},
		{name: "fails at the deadline, not before", checks: []check{
			{at: 9999 * time.Millisecond, parts: bob, verdict: expectPending, missing: []string{"video from bob"}},
			{at: 10 * time.Second, parts: bob, verdict: expectFailed, missing: []string{"video from bob"}},
			{at: 12 * time.Second, parts: bob, stats: video, verdict: expectPending},
		}},
		{name: "no statistics counts as missing", checks: []check{
			{at: time.Second, parts: bob, stats: video, err: sdk.ErrNotJoined, verdict: expectPending, missing: []string{"statistics (" + sdk.ErrNotJoined.Error() + ")"}},
			{at: 10 * time.Second, parts: bob, err: sdk.ErrNotJoined, verdict: expectFailed, missing: []string{"statistics (" + sdk.ErrNotJoined.Error() + ")"}},
		}},
		{name: "met at the deadline passes", checks: []check{
			{at: 10 * time.Second, parts: bob, stats: video, verdict: expectPassed},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newExpectChecker(e, t0)
			decided := false
			if c.Deadline() != t0.Add(10*time.Second) {
				t.Fatalf("deadline %v", c.Deadline())
			}
			for i, ck := range tc.checks {
				res := c.Check(t0.Add(ck.at), ck.parts, ck.stats, ck.err)
				if res.Verdict != ck.verdict || !slices.Equal(res.Missing, ck.missing) {
					t.Fatalf("check %d at %s: verdict %d missing %q; want %d %q", i, ck.at, res.Verdict, res.Missing, ck.verdict, ck.missing)
				}
				switch res.Verdict {
				case expectPassed:
					if res.Passed == nil || res.Passed.ElapsedMillis != ck.at.Milliseconds() || len(res.Passed.Participants) != 1 {
						t.Errorf("check %d: passed data %+v", i, res.Passed)
					}
				case expectFailed:
					f := res.Failed
					if f == nil || f.ElapsedMillis != ck.at.Milliseconds() || f.WithinMillis != 10000 || !slices.Equal(f.Missing, ck.missing) || f.Participants == nil {
						t.Errorf("check %d: failed data %+v", i, f)
					}
				}
				decided = decided || res.Verdict != expectPending
				if c.Decided() != decided {
					t.Errorf("check %d: decided %v, want %v", i, c.Decided(), decided)
				}
			}
		})
	}
}
