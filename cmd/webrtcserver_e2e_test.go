package cmd

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/callctl/callctl/pkg/sdk/sdktest"
)

// TestWebRtcServerSharedPort runs two callctl participants and the viewer
// page (headless Chromium, publishing its fake camera and microphone) in
// one room of a reference server whose worker has a WebRtcServer: every
// transport of all three must use that one UDP port, and each participant
// must decode the others' video. mediasoup 3.8.4 has no WebRtcServer, so
// the legacy leg skips this test.
func TestWebRtcServerSharedPort(t *testing.T) {
	if (sdktest.ServerOptions{}).Legacy() {
		t.Skipf("mediasoup %s has no WebRtcServer", sdktest.LegacyMediasoupVersion)
	}
	chromiumPath(t) // skip early without a browser
	if sdktest.RerunInLoopbackNetns(t, requireBrowserEnv) {
		return
	}
	srv := sdktest.StartServer(t, sdktest.ServerOptions{})
	if srv.RTCMode != "webrtcserver" || len(srv.WebRTCServers) != 1 || srv.WebRTCServers[0].UDP == 0 {
		t.Fatalf("server (mediasoup %s) runs rtc mode %q with WebRtcServers %+v, want one WebRtcServer",
			srv.MediasoupVersion, srv.RTCMode, srv.WebRTCServers)
	}
	udpPort := srv.WebRTCServers[0].UDP
	httpURL := "http" + strings.TrimPrefix(srv.URL, "ws")
	checkViewerServed(t, httpURL)

	ctx, cancel := context.WithTimeout(context.Background(), 45*time.Second)
	defer cancel()

	const room = "webrtcserver-e2e"
	bots := map[string]*proc{}
	for _, name := range []string{"bot1", "bot2"} {
		bots[name] = start(t, "join", "--server", srv.URL, "--room", room, "--user", name,
			"--width", "320", "--height", "180", "--fps", "15", "--stats-interval", "1s")
	}
	b := startChromium(t, ctx)
	defer func() {
		if t.Failed() {
			t.Logf("browser console:\n  %s", strings.Join(b.consoleLines(), "\n  "))
			t.Logf("server stderr:\n%s", srv.Stderr())
			for name, bot := range bots {
				t.Logf("%s stderr:\n%s", name, bot.stderr.String())
			}
		}
	}()
	page := b.open(t, "page", fmt.Sprintf("%s/?roomId=%s&peerId=page&displayName=Page&publish=1&camera=320x180", httpURL, room))

	// The page decodes both bots' video.
	page.waitSnapshot(t, ctx, "more than 10 decoded frames of bot1's and bot2's video", func(s *viewerSnapshot) bool {
		v1, v2 := s.consumer("bot1", "video"), s.consumer("bot2", "video")
		return v1 != nil && v1.FramesDecoded > 10 && v2 != nil && v2.FramesDecoded > 10
	})
	// Each bot decodes the other bot's and the page's video.
	for name, bot := range bots {
		others := []string{"page", "bot1", "bot2"}
		pollUntil(t, ctx, name+" decoding more than 10 frames of each other participant's video", func() (bool, string) {
			return decodesAll(bot, name, others)
		})
	}

	// One port for every transport: the server's view of all six
	// transports (two per participant) ...
	pollUntil(t, ctx, fmt.Sprintf("all 6 transports on the WebRtcServer's UDP port %d", udpPort), func() (bool, string) {
		return transportsOnPort(srv, room, udpPort, 6)
	})
	// ... and the bots' selected ICE pairs.
	want := fmt.Sprintf("127.0.0.1:%d/udp", udpPort) // the stats' "address:port/protocol"
	for name, bot := range bots {
		stats := bot.find("stats", nil)
		transports, _ := stats[len(stats)-1]["transports"].([]any)
		if len(transports) != 2 {
			t.Errorf("%s: %d transports in its stats, want 2", name, len(transports))
		}
		for _, tr := range transports {
			m, _ := tr.(map[string]any)
			if m["remoteAddress"] != want {
				t.Errorf("%s %v transport: remote address %v, want the WebRtcServer's %s", name, m["transport"], m["remoteAddress"], want)
			}
		}
	}
	page.checkLoopbackICE(t, ctx, "send", "recv")
}

// decodesAll reports whether bot's last stats event shows more than 10
// decoded video frames from each of peers (other than self).
func decodesAll(bot *proc, self string, peers []string) (bool, string) {
	stats := bot.find("stats", nil)
	if len(stats) == 0 {
		return false, "no stats event yet"
	}
	last := stats[len(stats)-1]
	decoded := map[string]float64{}
	cs, _ := last["consumers"].([]any)
	for _, c := range cs {
		m, _ := c.(map[string]any)
		if m["kind"] == "video" {
			n, _ := m["framesDecoded"].(float64)
			decoded[fmt.Sprint(m["peerId"])] = n
		}
	}
	for _, p := range peers {
		if p != self && decoded[p] <= 10 {
			return false, fmt.Sprintf("video frames decoded per peer: %v", decoded)
		}
	}
	return true, ""
}

// transportsOnPort reads the server's /status and reports whether room has
// n transports whose selected ICE tuple uses local UDP port port.
func transportsOnPort(srv *sdktest.Server, room string, port, n int) (bool, string) {
	trs, err := srv.RoomTransports(room)
	if err != nil {
		return false, err.Error()
	}
	var seen []string
	onPort := 0
	for _, tr := range trs {
		seen = append(seen, fmt.Sprintf("%s/%s %s %s:%d", tr.PeerID, tr.Direction, tr.IceState, tr.Protocol, tr.LocalPort))
		if tr.Protocol == "udp" && tr.LocalPort == port {
			onPort++
		}
	}
	return onPort == n && len(seen) == n, strings.Join(seen, ", ")
}
