package sdk_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/callctl/callctl/pkg/capture"
	"github.com/callctl/callctl/pkg/sdk"
	"github.com/callctl/callctl/pkg/sdk/sdktest"
)

// TestDataChannelsBothWays joins two receive-only clients with
// DataChannels on the reference server (both dialects): each one's chat
// messages reach the other as data.message events, and the server's bot
// answers what it is sent.
func TestDataChannelsBothWays(t *testing.T) {
	for _, dialect := range []string{"js", "ts"} {
		t.Run(dialect, func(t *testing.T) { testDataChannels(t, dialect) })
	}
}

func testDataChannels(t *testing.T, dialect string) {
	srv := sdktest.StartServer(t, sdktest.ServerOptions{Dialect: dialect})
	leakCheck(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	clients := map[string]*sdk.Client{}
	recs := map[string]*recorder{}
	for _, name := range []string{"alice", "bob"} {
		c, err := sdk.NewClient(sdk.Config{ServerURL: srv.URL, ICE: sdk.LoopbackICE(), Data: true})
		if err != nil {
			t.Fatal(err)
		}
		recs[name] = record(c)
		if err := c.JoinCall(ctx, "data-room", name, ""); err != nil {
			t.Fatal(err)
		}
		clients[name] = c
	}
	// The server forwards a message only once the receiver's SCTP
	// association is up, which the sender cannot see: send until one
	// arrives.
	for from, to := range map[string]string{"alice": "bob", "bob": "alice"} {
		text := "hello from " + from + " ✓"
		got := func(evs []sdk.Event) bool {
			return count(evs, func(m sdk.DataMessage) bool { return m.PeerID == from && m.Label == "chat" && m.Text == text }) > 0
		}
		deadline := time.Now().Add(20 * time.Second)
		for !got(recs[to].snapshot()) {
			if time.Now().After(deadline) {
				t.Fatalf("%s never received %s's chat message; events: %s", to, from, describe(recs[to].snapshot()))
			}
			if err := clients[from].SendData(ctx, text); err != nil {
				t.Fatalf("%s SendData: %v", from, err)
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	for name, c := range clients {
		if err := c.LeaveCall(ctx); err != nil {
			t.Fatal(err)
		}
		<-recs[name].done
	}
}

// TestSendDataWithoutDataChannels fails clearly.
func TestSendDataWithoutDataChannels(t *testing.T) {
	srv := sdktest.StartServer(t, sdktest.ServerOptions{})
	leakCheck(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := sdk.NewClient(sdk.Config{ServerURL: srv.URL, ICE: sdk.LoopbackICE()})
	if err != nil {
		t.Fatal(err)
	}
	r := record(c)
	if err := c.JoinCall(ctx, "nodata", "carol", ""); err != nil {
		t.Fatal(err)
	}
	if err := c.SendData(ctx, "x"); !errors.Is(err, sdk.ErrNoDataChannel) {
		t.Errorf("SendData without Config.Data: %v", err)
	}
	if err := c.LeaveCall(ctx); err != nil {
		t.Fatal(err)
	}
	<-r.done
}

// TestSelectiveConsumeAndPublish: a client that consumes only video from
// one peer gets exactly that; a second video source published under a
// name reaches the other side as its own consumer and can be unpublished.
func TestSelectiveConsumeAndPublish(t *testing.T) {
	srv := sdktest.StartServer(t, sdktest.ServerOptions{})
	leakCheck(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	alice := newParticipant(t, srv.URL)
	ra := record(alice)
	if err := alice.JoinCall(ctx, "select", "alice", ""); err != nil {
		t.Fatal(err)
	}
	bob, err := sdk.NewClient(sdk.Config{ServerURL: srv.URL, ICE: sdk.LoopbackICE(), Consume: sdk.ConsumeOptions{Kinds: []string{"video"}, Peers: []string{"alice"}}})
	if err != nil {
		t.Fatal(err)
	}
	rb := record(bob)
	if err := bob.JoinCall(ctx, "select", "bob", ""); err != nil {
		t.Fatal(err)
	}
	screen, err := capture.NewSyntheticVideo(capture.VideoOptions{Width: 320, Height: 180, FPS: 10})
	if err != nil {
		t.Fatal(err)
	}
	pub, err := alice.Publish(ctx, "screen", screen)
	if err != nil {
		t.Fatal(err)
	}
	rb.waitFor(t, "bob consuming alice's two videos with media", 20*time.Second, func(evs []sdk.Event) bool {
		return count(evs, func(e sdk.ConsumerCreated) bool { return e.PeerID == "alice" && e.Kind == "video" }) == 2 &&
			count(evs, func(e sdk.ConsumerMedia) bool { return e.Kind == "video" }) == 2
	})
	if n := count(rb.snapshot(), func(e sdk.ConsumerCreated) bool { return e.Kind == "audio" }); n != 0 {
		t.Errorf("bob consumed %d audio streams, want none", n)
	}
	if err := pub.Unpublish(ctx); err != nil {
		t.Fatal(err)
	}
	rb.waitFor(t, "the screen consumer closing", 10*time.Second, func(evs []sdk.Event) bool {
		return count(evs, func(e sdk.ConsumerClosed) bool { return e.PeerID == "alice" && e.Kind == "video" }) == 1
	})
	for _, c := range []*sdk.Client{alice, bob} {
		if err := c.LeaveCall(ctx); err != nil {
			t.Fatal(err)
		}
	}
	<-ra.done
	<-rb.done
	for _, ev := range ra.snapshot() {
		if e, ok := ev.(sdk.ErrorEvent); ok && !strings.Contains(e.Message, "not consumed") {
			t.Errorf("alice error event: %+v", e)
		}
	}
}
