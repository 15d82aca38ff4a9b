package sdk_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"go.uber.org/goleak"

	"github.com/callctl/callctl/pkg/capture"
	"github.com/callctl/callctl/pkg/sdk"
	"github.com/callctl/callctl/pkg/sdk/sdktest"
)

// recorder collects a client's events.
type recorder struct {
	mu     sync.Mutex
	events []sdk.Event
	done   chan struct{}
}

func record(c *sdk.Client) *recorder {
	r := &recorder{done: make(chan struct{})}
	go func() {
		defer close(r.done)
		for ev := range c.Events() {
			r.mu.Lock()
			r.events = append(r.events, ev)
			r.mu.Unlock()
		}
	}()
	return r
}

func (r *recorder) snapshot() []sdk.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]sdk.Event(nil), r.events...)
}

// waitFor polls until pred holds for the recorded events.
func (r *recorder) waitFor(t *testing.T, what string, d time.Duration, pred func([]sdk.Event) bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if pred(r.snapshot()) {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("timed out waiting for %s; events: %s", what, describe(r.snapshot()))
}

func describe(evs []sdk.Event) string {
	var b strings.Builder
	for _, e := range evs {
		b.WriteString(e.Type() + " ")
	}
	return b.String()
}

func count[T sdk.Event](evs []sdk.Event, pred func(T) bool) int {
	n := 0
	for _, e := range evs {
		if v, ok := e.(T); ok && (pred == nil || pred(v)) {
			n++
		}
	}
	return n
}

func newParticipant(t *testing.T, url string) *sdk.Client {
	t.Helper()
	audio, err := capture.NewToneAudio(capture.AudioOptions{})
	if err != nil {
		t.Fatal(err)
	}
	video, err := capture.NewSyntheticVideo(capture.VideoOptions{Width: 320, Height: 180, FPS: 15})
	if err != nil {
		t.Fatal(err)
	}
	c, err := sdk.NewClient(sdk.Config{ServerURL: url, Audio: audio, Video: video, ICE: sdk.LoopbackICE()})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func leakCheck(t *testing.T) {
	t.Helper()
	// Goroutines of the test binary that predate the test are not ours.
	opts := goleak.IgnoreCurrent()
	t.Cleanup(func() { goleak.VerifyNone(t, opts) })
}

func TestTwoParticipantsExchangeMedia(t *testing.T) {
	for _, dialect := range []string{"js", "ts"} {
		t.Run(dialect, func(t *testing.T) { testTwoParticipants(t, dialect) })
	}
}

func testTwoParticipants(t *testing.T, dialect string) {
	srv := sdktest.StartServer(t, sdktest.ServerOptions{Dialect: dialect})
	leakCheck(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	alice := newParticipant(t, srv.URL)
	ra := record(alice)
	if err := alice.JoinCall(ctx, "room1", "alice", "Alice"); err != nil {
		t.Fatal(err)
	}
	// Bob joins while Alice is already producing: he consumes her existing
	// producers at join; she consumes his as they appear.
	bob := newParticipant(t, srv.URL)
	rb := record(bob)
	if err := bob.JoinCall(ctx, "room1", "bob", "Bob"); err != nil {
		t.Fatal(err)
	}
	for _, p := range []struct {
		r     *recorder
		other string
	}{{ra, "bob"}, {rb, "alice"}} {
		p.r.waitFor(t, "participant "+p.other, 10*time.Second, func(evs []sdk.Event) bool {
			return count(evs, func(e sdk.ParticipantJoined) bool { return e.ID == p.other }) == 1
		})
		p.r.waitFor(t, "audio+video consumers with media from "+p.other, 10*time.Second, func(evs []sdk.Event) bool {
			return count(evs, func(e sdk.ConsumerCreated) bool { return e.PeerID == p.other }) == 2 &&
				count(evs, func(e sdk.ConsumerMedia) bool { return e.PeerID == p.other }) == 2
		})
	}
	if st := bob.State().Snapshot(); st.Status != sdk.StatusJoined || st.Dialect != dialect || len(st.Consumers) != 2 ||
		len(st.Producers) != 2 || st.Participants["alice"].DisplayName != "Alice" {
		t.Fatalf("bob's state: %+v", st)
	}
	for _, ev := range rb.snapshot() {
		if j, ok := ev.(sdk.Joined); ok && (j.Dialect != dialect || j.MediasoupVersion == "") {
			t.Errorf("joined event %+v: want dialect %s and the server's mediasoup version", j, dialect)
		}
	}

	for name, c := range map[string]*sdk.Client{"alice": alice, "bob": bob} {
		checkMediaStats(t, ctx, name, c)
	}

	// Alice leaves: Bob sees her go and her consumers close.
	if err := alice.LeaveCall(ctx); err != nil {
		t.Fatal(err)
	}
	<-ra.done
	if evs := ra.snapshot(); evs[len(evs)-1].(sdk.Left).Reason != sdk.LeftRequested {
		t.Errorf("alice's last event: %#v", evs[len(evs)-1])
	}
	rb.waitFor(t, "alice leaving", 10*time.Second, func(evs []sdk.Event) bool {
		return count(evs, func(e sdk.ParticipantLeft) bool { return e.ID == "alice" }) == 1 &&
			count(evs, func(e sdk.ConsumerClosed) bool { return e.PeerID == "alice" }) == 2
	})
	if st := bob.State().Snapshot(); len(st.Consumers) != 0 || len(st.Participants) != 0 {
		t.Errorf("bob still has %d consumers, %d participants", len(st.Consumers), len(st.Participants))
	}
	if err := bob.LeaveCall(ctx); err != nil {
		t.Fatal(err)
	}
	<-rb.done
	if alice.Err() != nil || bob.Err() != nil {
		t.Errorf("requested leaves must report no error: %v %v", alice.Err(), bob.Err())
	}
}

// checkMediaStats polls a participant's stats until both consumers
// received real RTP (pion's interceptor counters: packets arrived and were
// decrypted) with a measured bitrate, both producers sent, and every
// transport is connected on loopback.
func checkMediaStats(t *testing.T, ctx context.Context, name string, c *sdk.Client) {
	t.Helper()
	problems := func(s sdk.CallStats) []string {
		var out []string
		if len(s.Consumers) != 2 {
			out = append(out, fmt.Sprintf("%d consumers", len(s.Consumers)))
		}
		for _, cs := range s.Consumers {
			if cs.PacketsReceived < 40 || cs.BytesReceived < cs.PacketsReceived*10 || cs.BitrateBps <= 0 {
				out = append(out, fmt.Sprintf("consumer %s (%s) received %d packets, %d bytes, %.0f bps", cs.ConsumerID, cs.Kind, cs.PacketsReceived, cs.BytesReceived, cs.BitrateBps))
			}
		}
		for _, ps := range s.Producers {
			if ps.Layers[0].PacketsSent == 0 {
				out = append(out, "producer "+ps.Kind+" sent nothing")
			}
		}
		for _, ts := range s.Transports {
			if ts.State != "connected" || !strings.HasPrefix(ts.LocalAddress, "127.0.0.1:") || !strings.HasPrefix(ts.RemoteAddress, "127.0.0.1:") {
				out = append(out, fmt.Sprintf("transport %+v is not connected on loopback", ts))
			}
		}
		return out
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		s, err := c.Stats(ctx)
		if err != nil {
			t.Fatal(err)
		}
		p := problems(s)
		if len(p) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %s", name, strings.Join(p, "; "))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func TestJoinUnreachableServer(t *testing.T) {
	leakCheck(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	_ = l.Close() // nothing listens there now

	c, err := sdk.NewClient(sdk.Config{ServerURL: "ws://" + addr, ICE: sdk.LoopbackICE()})
	if err != nil {
		t.Fatal(err)
	}
	r := record(c)
	err = c.JoinCall(context.Background(), "r", "u", "")
	var ce *sdk.ConnectError
	if !errors.As(err, &ce) {
		t.Fatalf("want *sdk.ConnectError, got %T %v", err, err)
	}
	<-r.done
	evs := r.snapshot()
	if count[sdk.ErrorEvent](evs, func(e sdk.ErrorEvent) bool { return e.Fatal }) != 1 {
		t.Errorf("want one fatal error event: %s", describe(evs))
	}
	if l, ok := evs[len(evs)-1].(sdk.Left); !ok || l.Reason != "connect_failed" {
		t.Errorf("last event %#v", evs[len(evs)-1])
	}
}

// fakeRouterCaps is a minimal router capability set for fake servers.
var fakeRouterCaps = map[string]any{
	"codecs": []map[string]any{
		{"kind": "audio", "mimeType": "audio/opus", "preferredPayloadType": 100, "clockRate": 48000, "channels": 2, "parameters": map[string]any{}, "rtcpFeedback": []any{}},
	},
	"headerExtensions": []any{},
}

func fakeTransport(id string) map[string]any {
	return map[string]any{
		"id":             id,
		"iceParameters":  map[string]any{"usernameFragment": "u", "password": "p", "iceLite": true},
		"iceCandidates":  []map[string]any{{"foundation": "f", "priority": 1, "ip": "127.0.0.1", "protocol": "udp", "port": 9, "type": "host"}},
		"dtlsParameters": map[string]any{"role": "auto", "fingerprints": []map[string]any{{"algorithm": "sha-256", "value": "AA:BB"}}},
	}
}

// fakeJoinServer answers getRouterRtpCapabilities and
// createWebRtcTransport like a server, and hands join to onJoin; it stops
// serving the connection when onJoin returns false.
func fakeJoinServer(t *testing.T, onJoin func(c *sdktest.FakeConn, req sdktest.FakeRequest) bool) string {
	return sdktest.NewFakeServer(t, func(c *sdktest.FakeConn) {
		for {
			req, ok := c.ReadRequest()
			if !ok {
				return
			}
			switch req.Method {
			case "getRouterRtpCapabilities":
				c.Respond(req, fakeRouterCaps)
			case "createWebRtcTransport":
				c.Respond(req, fakeTransport("t-"+fmt.Sprint(req.ID)))
			case "join":
				if !onJoin(c, req) {
					return
				}
			}
		}
	})
}

func TestJoinServerErrorResponse(t *testing.T) {
	leakCheck(t)
	url := fakeJoinServer(t, func(c *sdktest.FakeConn, req sdktest.FakeRequest) bool {
		c.RespondError(req, 403, "room is full")
		return true
	})
	c, _ := sdk.NewClient(sdk.Config{ServerURL: url, ICE: sdk.LoopbackICE()})
	r := record(c)
	err := c.JoinCall(context.Background(), "r", "u", "")
	var je *sdk.JoinError
	var se *sdk.ServerError
	if !errors.As(err, &je) || je.Step != "join" || !errors.As(err, &se) || se.Code != 403 || se.Reason != "room is full" {
		t.Fatalf("got %T %v", err, err)
	}
	<-r.done
	if n := count(r.snapshot(), func(e sdk.ErrorEvent) bool { return e.Code == 403 && e.Fatal }); n != 1 {
		t.Errorf("want one fatal error event with code 403: %s", describe(r.snapshot()))
	}
}

func TestJoinConnectionClosedMidJoin(t *testing.T) {
	leakCheck(t)
	url := sdktest.NewFakeServer(t, func(c *sdktest.FakeConn) {
		req, ok := c.ReadRequest()
		if ok && req.Method == "getRouterRtpCapabilities" {
			c.Respond(req, fakeRouterCaps)
		}
		c.ReadRequest() // createWebRtcTransport: never answered
		c.Close(websocket.StatusInternalError, "crash")
	})
	c, _ := sdk.NewClient(sdk.Config{ServerURL: url, ICE: sdk.LoopbackICE()})
	r := record(c)
	err := c.JoinCall(context.Background(), "r", "u", "")
	if !errors.Is(err, sdk.ErrConnectionLost) {
		t.Fatalf("got %T %v", err, err)
	}
	<-r.done
}

func TestMalformedAndUnexpectedMessagesAreNotFatal(t *testing.T) {
	leakCheck(t)
	url := sdktest.NewFakeServer(t, func(c *sdktest.FakeConn) {
		for {
			req, ok := c.ReadRequest()
			if !ok {
				return
			}
			switch req.Method {
			case "getRouterRtpCapabilities":
				c.WriteRaw(`{"this is": not json`)
				c.WriteRaw(`{"response":true,"id":99999,"ok":true,"data":{}}`)
				c.Notify("somethingNew", map[string]any{"x": 1})
				c.Notify("newPeer", map[string]any{"displayName": "no id"})
				c.Respond(req, fakeRouterCaps)
			case "createWebRtcTransport":
				c.Respond(req, fakeTransport("t1"))
			case "join":
				c.Respond(req, map[string]any{"peers": []any{}})
				c.WriteRaw(`{"request":true,"id":5,"method":"newConsumer","data":{"kind":"audio"}}`)
			}
		}
	})
	c, _ := sdk.NewClient(sdk.Config{ServerURL: url, ICE: sdk.LoopbackICE()})
	r := record(c)
	if err := c.JoinCall(context.Background(), "r", "u", ""); err != nil {
		t.Fatalf("join must survive malformed frames: %v", err)
	}
	r.waitFor(t, "non-fatal error events", 5*time.Second, func(evs []sdk.Event) bool {
		return count(evs, func(e sdk.ErrorEvent) bool { return !e.Fatal }) >= 4
	})
	if st := c.State().Snapshot(); st.Status != sdk.StatusJoined {
		t.Fatalf("status %s", st.Status)
	}
	if err := c.LeaveCall(context.Background()); err != nil {
		t.Fatal(err)
	}
	<-r.done
}

func TestServerClosesSession(t *testing.T) {
	leakCheck(t)
	url := fakeJoinServer(t, func(c *sdktest.FakeConn, req sdktest.FakeRequest) bool {
		c.Respond(req, map[string]any{"peers": []any{}})
		time.Sleep(100 * time.Millisecond)
		c.Close(4000, "closed by protoo-server")
		return false
	})
	c, _ := sdk.NewClient(sdk.Config{ServerURL: url, ICE: sdk.LoopbackICE()})
	r := record(c)
	if err := c.JoinCall(context.Background(), "r", "u", ""); err != nil {
		t.Fatal(err)
	}
	select {
	case <-c.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("call did not end after close 4000")
	}
	if !errors.Is(c.Err(), sdk.ErrClosedByServer) {
		t.Fatalf("Err() = %v", c.Err())
	}
	<-r.done
	evs := r.snapshot()
	if l := evs[len(evs)-1].(sdk.Left); l.Reason != sdk.LeftClosedByServer {
		t.Errorf("left reason %q", l.Reason)
	}
}

// When the server a call is on goes away, the call rejoins on the
// fallback server: both participants find each other there, media flows
// again, and a mute set before the failure is restored.
func TestReconnectFailsOverToAnotherServer(t *testing.T) {
	a := sdktest.StartServer(t, sdktest.ServerOptions{})
	b := sdktest.StartServer(t, sdktest.ServerOptions{})
	leakCheck(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	rc := sdk.ReconnectConfig{MaxAttempts: 5, InitialDelay: 200 * time.Millisecond, FallbackURLs: []string{b.URL}}

	join := func(user string) (*sdk.Client, *recorder) {
		audio, _ := capture.NewToneAudio(capture.AudioOptions{})
		video, _ := capture.NewSyntheticVideo(capture.VideoOptions{Width: 320, Height: 180, FPS: 15})
		c, err := sdk.NewClient(sdk.Config{ServerURL: a.URL, Audio: audio, Video: video, ICE: sdk.LoopbackICE(), Reconnect: rc})
		if err != nil {
			t.Fatal(err)
		}
		r := record(c)
		if err := c.JoinCall(ctx, "failover", user, ""); err != nil {
			t.Fatal(err)
		}
		return c, r
	}
	alice, ra := join("alice")
	bob, rb := join("bob")
	rb.waitFor(t, "alice's video", 10*time.Second, func(evs []sdk.Event) bool {
		return count(evs, func(e sdk.ConsumerMedia) bool { return e.PeerID == "alice" && e.Kind == "video" }) == 1
	})
	if err := alice.EnableAudio(ctx, false); err != nil {
		t.Fatal(err)
	}

	a.Kill()
	for name, r := range map[string]*recorder{"alice": ra, "bob": rb} {
		r.waitFor(t, name+" reconnected to B", 20*time.Second, func(evs []sdk.Event) bool {
			return count(evs, func(e sdk.Reconnected) bool { return e.ServerURL == b.URL && e.Attempt >= 2 }) == 1
		})
	}
	// Media flows again on B: new consumers, so new consumer.media events,
	// for every kind the other side sends (alice's audio is muted).
	mediaAfter := func(evs []sdk.Event, peer, kind string) bool {
		return count(afterReconnect(evs), func(e sdk.ConsumerMedia) bool { return e.PeerID == peer && e.Kind == kind }) > 0
	}
	diagnose := func() string { // consumer and producer history, for a failure
		var b strings.Builder
		for name, r := range map[string]*recorder{"alice": ra, "bob": rb} {
			for _, e := range r.snapshot() {
				switch x := e.(type) {
				case sdk.ConsumerCreated:
					fmt.Fprintf(&b, "\n%s consumer.created %s/%s producer %s", name, x.PeerID, x.Kind, x.ProducerID)
				case sdk.ProducerCreated:
					fmt.Fprintf(&b, "\n%s producer.created %s %s", name, x.Kind, x.ProducerID)
				case sdk.Reconnected:
					fmt.Fprintf(&b, "\n%s reconnected %+v", name, x)
				}
			}
		}
		return b.String()
	}
	deadline := time.Now().Add(10 * time.Second)
	for !(mediaAfter(rb.snapshot(), "alice", "video") && mediaAfter(ra.snapshot(), "bob", "audio") && mediaAfter(ra.snapshot(), "bob", "video")) {
		if time.Now().After(deadline) {
			t.Fatalf("media did not flow again after the failover:%s", diagnose())
		}
		time.Sleep(50 * time.Millisecond)
	}
	st := alice.State().Snapshot()
	if st.Status != sdk.StatusJoined || len(st.Producers) != 2 || st.Participants["bob"].ID != "bob" {
		t.Fatalf("alice after failover: %+v", st)
	}
	for _, p := range st.Producers {
		if p.Kind == "audio" && !p.Paused {
			t.Error("alice's mute was not restored after the reconnect")
		}
	}
	if n := count(rb.snapshot(), func(e sdk.ConsumerClosed) bool { return e.Reason == sdk.ReasonReconnecting }); n < 2 {
		t.Errorf("bob: %d consumers closed for the reconnect, want both of alice's", n)
	}
	if err := alice.LeaveCall(ctx); err != nil {
		t.Fatal(err)
	}
	if err := bob.LeaveCall(ctx); err != nil {
		t.Fatal(err)
	}
	<-ra.done
	<-rb.done
}

// Without fallback and with the server gone for good, the call ends after
// MaxAttempts with the original error.
func TestReconnectGivesUp(t *testing.T) {
	a := sdktest.StartServer(t, sdktest.ServerOptions{})
	leakCheck(t)
	c, err := sdk.NewClient(sdk.Config{ServerURL: a.URL, ICE: sdk.LoopbackICE(),
		Reconnect: sdk.ReconnectConfig{MaxAttempts: 2, InitialDelay: 50 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	r := record(c)
	if err := c.JoinCall(context.Background(), "gone", "u", ""); err != nil {
		t.Fatal(err)
	}
	a.Kill()
	select {
	case <-c.Done():
	case <-time.After(20 * time.Second):
		t.Fatal("call did not end")
	}
	<-r.done
	evs := r.snapshot()
	if count(evs, func(e sdk.ConnectionStatusChanged) bool { return e.Status == sdk.StatusReconnecting }) == 0 {
		t.Errorf("never reconnecting: %s", describe(evs))
	}
	if l := evs[len(evs)-1].(sdk.Left); l.Reason == sdk.LeftRequested || c.Err() == nil {
		t.Errorf("left %+v, err %v", l, c.Err())
	}
}

// afterReconnect returns the events after the first Reconnected.
func afterReconnect(evs []sdk.Event) []sdk.Event {
	for i, e := range evs {
		if _, ok := e.(sdk.Reconnected); ok {
			return evs[i+1:]
		}
	}
	return nil
}
