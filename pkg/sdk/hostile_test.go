package sdk_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/callctl/callctl/pkg/sdk"
	"github.com/callctl/callctl/pkg/sdk/sdktest"
)

// audioConsumer is a newConsumer body (JS dialect) the client can accept.
func audioConsumer(id, producer, peer string, ssrc uint32) map[string]any {
	return map[string]any{
		"peerId": peer, "producerId": producer, "id": id, "kind": "audio", "type": "simple", "producerPaused": false,
		"rtpParameters": map[string]any{
			"mid":              fmt.Sprint(ssrc),
			"codecs":           []map[string]any{{"mimeType": "audio/opus", "payloadType": 100, "clockRate": 48000, "channels": 2, "parameters": map[string]any{}, "rtcpFeedback": []any{}}},
			"headerExtensions": []any{},
			"encodings":        []map[string]any{{"ssrc": ssrc}},
			"rtcp":             map[string]any{"cname": "c" + id, "reducedSize": true},
		},
	}
}

// hostileCase is one server request and whether the client must accept it.
type hostileCase struct {
	name   string
	body   map[string]any
	accept bool
}

func hostileConsumers() []hostileCase {
	bad := func(name string, mutate func(rp map[string]any)) hostileCase {
		b := audioConsumer("bad-"+name, "p-"+name, "mallory", 7000+uint32(len(name)))
		mutate(b["rtpParameters"].(map[string]any))
		return hostileCase{name: name, body: b}
	}
	codec := func(rp map[string]any) map[string]any { return rp["codecs"].([]map[string]any)[0] }
	manyExts := make([]map[string]any, 20000)
	for i := range manyExts {
		manyExts[i] = map[string]any{"uri": "urn:x", "id": 2}
	}
	return []hostileCase{
		bad("pt9999", func(rp map[string]any) { codec(rp)["payloadType"] = 9999 }),
		bad("pt-1", func(rp map[string]any) { codec(rp)["payloadType"] = -1 }),
		bad("negative-clock", func(rp map[string]any) { codec(rp)["clockRate"] = -48000 }),
		bad("20000-extensions", func(rp map[string]any) { rp["headerExtensions"] = manyExts }),
		bad("crlf-mid", func(rp map[string]any) { rp["mid"] = "9\r\nm=audio 9 UDP/TLS/RTP/SAVPF 100" }),
		bad("crlf-cname", func(rp map[string]any) { rp["rtcp"] = map[string]any{"cname": "x\r\na=ssrc:1 cname:y"} }),
		{name: "crlf-peer-id", body: audioConsumer("c-crlf-peer", "p-crlf-peer", "evil\r\nm=video 9", 8001), accept: true},
		{name: "good", body: audioConsumer("c1", "p1", "bob", 9001), accept: true},
		{name: "same-producer-again", body: audioConsumer("c2", "p1", "bob", 9002)},
		{name: "same-producer-third", body: audioConsumer("c3", "p1", "bob", 9003)},
		{name: "good-after-all", body: audioConsumer("c4", "p4", "carol", 9004), accept: true},
	}
}

// TestHostileServer joins a fake server that sends what a broken or
// hostile mediasoup-demo server could: malformed consumers, SDP
// injection, three consumers for one producer, a duplicate answer and a
// nameless peer. Each bad item is rejected on its own, the good ones are
// accepted, nothing hangs, and Left is the last event.
func TestHostileServer(t *testing.T) {
	leakCheck(t)
	cases := hostileConsumers()
	answers := make(chan map[string]any, len(cases))
	url := fakeJoinServer(t, func(c *sdktest.FakeConn, req sdktest.FakeRequest) bool {
		c.Respond(req, map[string]any{"peers": []any{map[string]any{"id": "", "displayName": "nameless"}, map[string]any{"id": "bob", "displayName": "Bob"}}})
		c.Respond(req, map[string]any{"peers": []any{}}) // a duplicate answer
		c.Notify("newPeer", map[string]any{"displayName": "no id"})
		for i, hc := range cases {
			b, _ := json.Marshal(map[string]any{"request": true, "id": 1000 + i, "method": "newConsumer", "data": hc.body})
			c.WriteRaw(string(b))
			answers <- readAnswer(c, 1000+i)
		}
		for { // serve until the client leaves
			if _, ok := c.ReadRequest(); !ok {
				return false
			}
		}
	})
	c, err := sdk.NewClient(sdk.Config{ServerURL: url, ICE: sdk.LoopbackICE()})
	if err != nil {
		t.Fatal(err)
	}
	r := record(c)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := c.JoinCall(ctx, "r", "u", ""); err != nil {
		t.Fatal(err)
	}
	for i, hc := range cases {
		var a map[string]any
		select {
		case a = <-answers:
		case <-ctx.Done():
			t.Fatalf("no answer to newConsumer %q", hc.name)
		}
		if ok := a["ok"] == true; ok != hc.accept {
			t.Errorf("newConsumer %d %q: answer %v, want accepted=%v", i, hc.name, a, hc.accept)
		}
	}
	if err := c.LeaveCall(ctx); err != nil {
		t.Fatal(err)
	}
	<-r.done
	checkHostileEvents(t, r.snapshot())
}

// readAnswer reads frames until the client's answer to request id,
// answering the client's own requests (connectWebRtcTransport) meanwhile.
func readAnswer(c *sdktest.FakeConn, id int) map[string]any {
	for {
		_, b, err := c.Conn.Read(context.Background())
		if err != nil {
			return map[string]any{"error": err.Error()}
		}
		var m map[string]any
		if json.Unmarshal(b, &m) != nil {
			continue
		}
		if m["request"] == true {
			c.Respond(sdktest.FakeRequest{ID: uint64(m["id"].(float64))}, map[string]any{})
			continue
		}
		if m["response"] == true && m["id"] == float64(id) {
			return m
		}
	}
}

func checkHostileEvents(t *testing.T, evs []sdk.Event) {
	t.Helper()
	if l, ok := evs[len(evs)-1].(sdk.Left); !ok || l.Reason != sdk.LeftRequested {
		t.Errorf("last event %#v, want left (requested)", evs[len(evs)-1])
	}
	for _, ev := range evs {
		if p, ok := ev.(sdk.ParticipantJoined); ok && strings.TrimSpace(p.ID) == "" {
			t.Errorf("participant event with an empty id: %+v", p)
		}
	}
	if n := count(evs, func(e sdk.ConsumerCreated) bool { return true }); n != 3 {
		t.Errorf("%d consumers created, want 3 (good, crlf-peer-id, good-after-all): %s", n, describe(evs))
	}
	if n := count(evs, func(e sdk.ErrorEvent) bool { return e.Fatal }); n != 0 {
		t.Errorf("%d fatal errors", n)
	}
}

// TestServerThatDropsEveryJoin: a server that accepts joins and then
// drops the connection at once uses up the reconnect attempts (a quick
// drop after a rejoin counts against the same outage) and the call ends.
func TestServerThatDropsEveryJoin(t *testing.T) {
	leakCheck(t)
	joins := make(chan struct{}, 100)
	url := fakeJoinServer(t, func(c *sdktest.FakeConn, req sdktest.FakeRequest) bool {
		c.Respond(req, map[string]any{"peers": []any{}})
		joins <- struct{}{}
		c.Close(websocket.StatusGoingAway, "bye")
		return false
	})
	c, _ := sdk.NewClient(sdk.Config{ServerURL: url, ICE: sdk.LoopbackICE(),
		Reconnect: sdk.ReconnectConfig{MaxAttempts: 3, InitialDelay: 10 * time.Millisecond, MaxDelay: 20 * time.Millisecond}})
	r := record(c)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := c.JoinCall(ctx, "r", "u", ""); err != nil {
		t.Fatal(err)
	}
	select {
	case <-c.Done():
	case <-ctx.Done():
		t.Fatal("the call never ended")
	}
	<-r.done
	if n := len(joins); n != 4 {
		t.Errorf("%d joins, want 1 + 3 attempts", n)
	}
	evs := r.snapshot()
	if l, ok := evs[len(evs)-1].(sdk.Left); !ok || l.Reason != sdk.LeftConnectionLost {
		t.Errorf("last event %#v", evs[len(evs)-1])
	}
}
