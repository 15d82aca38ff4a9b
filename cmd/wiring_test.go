package cmd

import (
	"bytes"
	"context"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/callctl/callctl/pkg/sdk"
)

// recorded is what a command handed to its runner.
type recorded struct {
	calls int
	join  *joinOptions
	verb  string
	kind  string
	ctl   *controlOptions
	leave *leaveOptions
	stats *statsOptions
}

// runRecorded runs callctl in-process with runners that only record what
// they were given: flag wiring without a call or a socket.
func runRecorded(t *testing.T, args ...string) (code int, rec *recorded, stderr string) {
	t.Helper()
	// No config file or CALLCTL_* variable of the machine may leak in.
	t.Setenv(EnvPrefix+"CONFIG", "")
	rec = &recorded{}
	r := runners{
		join: func(_ context.Context, _ IO, _ *slog.Logger, o *joinOptions) error {
			rec.calls++
			rec.join = o
			return nil
		},
		mute: func(_ context.Context, _ IO, verb, kind string, o *controlOptions) error {
			rec.calls++
			rec.verb, rec.kind, rec.ctl = verb, kind, o
			return nil
		},
		leave: func(_ context.Context, _ IO, o *leaveOptions) error {
			rec.calls++
			rec.leave = o
			return nil
		},
		stats: func(_ context.Context, _ IO, o *statsOptions) error {
			rec.calls++
			rec.stats = o
			return nil
		},
	}
	var out, errOut bytes.Buffer
	code = runWith(context.Background(), args, IO{In: strings.NewReader(""), Out: &out, ErrOut: &errOut}, r)
	if out.Len() > 0 {
		t.Errorf("%v: wrote to stdout: %q", args, out.String())
	}
	return code, rec, errOut.String()
}

func TestJoinFlagWiring(t *testing.T) {
	code, rec, stderr := runRecorded(t, "join", "--server", "ws://127.0.0.1:4443", "--room", "r", "--user", "u",
		"--name", "Bot U", "--video", "test", "--codec", "H264", "--no-simulcast", "--width", "320", "--height", "180", "--fps", "15",
		"--reconnect-attempts", "3", "--fallback-server", "ws://127.0.0.1:4444", "--fallback-server", "wss://127.0.0.1:4445",
		"--video-layer", "1:2", "--adaptive-layers", "--ice-loopback", "on", "--insecure", "--origin", "http://127.0.0.1",
		"--duration", "2s", "--stats-interval", "250ms", "--leave-timeout", "1s", "--expect-video", "--exit-on-pass")
	if code != ExitOK || rec.calls != 1 {
		t.Fatalf("exit %d, %d runs; stderr %q", code, rec.calls, stderr)
	}
	o := rec.join
	if o.session != "r-u" || o.displayName() != "Bot U" || o.duration != 2*time.Second ||
		o.statsInterval != 250*time.Millisecond || o.leaveTimeout != time.Second {
		t.Errorf("options %+v", o)
	}
	if !o.expectSet || !o.expect.Video || o.expect.Audio || o.expect.Participants != 1 || !o.expect.ExitOnPass || o.expect.Within != 30*time.Second {
		t.Errorf("expectations %+v", o.expect)
	}
	if vo := o.media.videoOptions(); vo.Codec != "h264" || vo.Layers != 1 || vo.Width != 320 || vo.Height != 180 || vo.FPS != 15 {
		t.Errorf("video options %+v", vo)
	}
	tlsCfg, err := o.tlsConfig()
	if err != nil || tlsCfg == nil || !tlsCfg.InsecureSkipVerify {
		t.Errorf("--insecure: %+v, %v", tlsCfg, err)
	}
	cfg := o.clientConfig(tlsCfg, nil, nil, nil, nil)
	switch {
	case cfg.ServerURL != "ws://127.0.0.1:4443" || cfg.Origin != "http://127.0.0.1" || cfg.TLS != tlsCfg:
		t.Errorf("server %q origin %q", cfg.ServerURL, cfg.Origin)
	case cfg.Reconnect.MaxAttempts != 3 || !slices.Equal(cfg.Reconnect.FallbackURLs, []string{"ws://127.0.0.1:4444", "wss://127.0.0.1:4445"}):
		t.Errorf("reconnect %+v", cfg.Reconnect)
	case cfg.VideoLayers == nil || *cfg.VideoLayers != (sdk.Layers{Spatial: 1, Temporal: 2}) || !cfg.AdaptiveLayers:
		t.Errorf("layers %v adaptive %v", cfg.VideoLayers, cfg.AdaptiveLayers)
	case !cfg.ICE.IncludeLoopback:
		t.Errorf("--ice-loopback on: %+v", cfg.ICE)
	}
}

func TestJoinFlagDefaults(t *testing.T) {
	code, rec, stderr := runRecorded(t, "join", "--server", "ws://127.0.0.1:4443", "--room", "demo", "--user", "bot1")
	if code != ExitOK || rec.calls != 1 {
		t.Fatalf("exit %d, %d runs; stderr %q", code, rec.calls, stderr)
	}
	o := rec.join
	if o.session != "demo-bot1" || o.expectSet || o.statsInterval != 0 || o.leaveTimeout != 5*time.Second {
		t.Errorf("options %+v", o)
	}
	if vo := o.media.videoOptions(); vo.Codec != "vp8" || vo.Layers != 3 || vo.Width != 640 || vo.Height != 360 || vo.FPS != 30 {
		t.Errorf("video options %+v", vo)
	}
	if tlsCfg, err := o.tlsConfig(); tlsCfg != nil || err != nil {
		t.Errorf("TLS without --insecure or --ca: %v %v", tlsCfg, err)
	}
	cfg := o.clientConfig(nil, nil, nil, nil, nil)
	// A server on loopback gets loopback-only candidates.
	if !slices.Equal(cfg.ICE.Interfaces, []string{"lo"}) || !cfg.ICE.IncludeLoopback || cfg.Reconnect.MaxAttempts != 5 ||
		cfg.VideoLayers != nil || cfg.AdaptiveLayers {
		t.Errorf("config: ICE %+v, reconnect %+v, layers %v", cfg.ICE, cfg.Reconnect, cfg.VideoLayers)
	}
}

func TestJoinFlagErrors(t *testing.T) {
	base := []string{"join", "--server", "ws://127.0.0.1:1", "--room", "r", "--user", "u"}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--stats-interval", "50ms"}, "--stats-interval 50ms"},
		{[]string{"--stats-interval", "1ns"}, "at least 100ms"},
		{[]string{"--stats-interval", "-1s"}, "must not be negative"},
		{[]string{"--codec", "av1"}, "--codec"},
		{[]string{"--reconnect-attempts", "-1"}, "--reconnect-attempts"},
		{[]string{"--fallback-server", "http://127.0.0.1:1"}, "want ws://"},
		{[]string{"--video-layer", "3"}, "--video-layer"},
		{[]string{"--session", "a/b"}, "--session"},
		{[]string{"extra"}, "takes no arguments"},
	} {
		code, rec, stderr := runRecorded(t, append(append([]string{}, base...), tc.args...)...)
		if code != ExitUsage || rec.calls != 0 || !strings.Contains(stderr, tc.want) {
			t.Errorf("%v: exit %d, %d runs, stderr %q; want exit 2, no run, %q", tc.args, code, rec.calls, stderr, tc.want)
		}
	}
	for _, ok := range []string{"0", "100ms", "5s"} {
		if code, rec, stderr := runRecorded(t, append(append([]string{}, base...), "--stats-interval", ok)...); code != ExitOK || rec.calls != 1 {
			t.Errorf("--stats-interval %s: exit %d, stderr %q", ok, code, stderr)
		}
	}
}

func TestControlFlagWiring(t *testing.T) {
	code, rec, _ := runRecorded(t, "unmute", "video", "--session", "demo-bot2", "--timeout", "3s")
	if code != ExitOK || rec.verb != "unmute" || rec.kind != "video" || rec.ctl.session != "demo-bot2" || rec.ctl.timeout != 3*time.Second {
		t.Errorf("unmute: exit %d, %+v", code, rec)
	}
	code, rec, _ = runRecorded(t, "mute", "audio")
	if code != ExitOK || rec.verb != "mute" || rec.kind != "audio" || rec.ctl.session != "" || rec.ctl.timeout != 20*time.Second {
		t.Errorf("mute: exit %d, %+v", code, rec)
	}
	code, rec, _ = runRecorded(t, "leave", "--session", "s1", "--wait=false")
	if code != ExitOK || rec.leave.session != "s1" || rec.leave.wait {
		t.Errorf("leave: exit %d, %+v", code, rec.leave)
	}
	if code, rec, _ = runRecorded(t, "leave"); code != ExitOK || !rec.leave.wait {
		t.Errorf("leave waits by default: exit %d, %+v", code, rec.leave)
	}
	code, rec, _ = runRecorded(t, "stats", "--count", "3", "--format", "table")
	if code != ExitOK || rec.stats.count != 3 || rec.stats.watch != time.Second || rec.stats.format != "table" {
		t.Errorf("stats --count 3 implies --watch 1s: exit %d, %+v", code, rec.stats)
	}
	code, rec, _ = runRecorded(t, "stats", "--watch", "500ms", "--session", "x")
	if code != ExitOK || rec.stats.count != 0 || rec.stats.watch != 500*time.Millisecond || rec.stats.session != "x" {
		t.Errorf("stats --watch: exit %d, %+v", code, rec.stats)
	}
	for _, args := range [][]string{
		{"mute"}, {"mute", "screen"}, {"unmute", "audio", "video"}, {"leave", "x"},
		{"stats", "--format", "xml"}, {"stats", "--count", "-1"}, {"stats", "--watch", "-1s"}, {"mute", "audio", "--timeout", "soon"},
	} {
		if code, rec, _ := runRecorded(t, args...); code != ExitUsage || rec.calls != 0 {
			t.Errorf("%v: exit %d, %d runs; want 2 and no run", args, code, rec.calls)
		}
	}
}
