package main

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	msc "github.com/callctl/callctl/pkg/mediasoupclient"
	"github.com/callctl/callctl/pkg/sdk/sdktest"
)

// TestTwoParticipantsOverJSONSignaling runs two participants of this
// example against scripts/jsonapp (real mediasoup, plain-JSON signaling)
// and checks that each decodes the other's simulcast video and hears its
// tone: the signaling-agnostic layer works with signaling that is not
// mediasoup-demo's.
func TestTwoParticipantsOverJSONSignaling(t *testing.T) {
	// Cleanups run last-in first-out: this one after the server stopped.
	t.Cleanup(func() { goleak.VerifyNone(t) })
	srv := sdktest.StartJSONApp(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var ps []*participant
	for _, name := range []string{"alice", "bob"} {
		p, err := join(ctx, Options{URL: srv.URL, Room: "json-e2e", Name: name, ICE: msc.LoopbackICE()})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		defer p.close()
		ps = append(ps, p)
	}
	for _, p := range ps {
		waitMedia(t, ctx, p)
	}
}

// waitMedia polls p's receivers until it decoded video frames and audible
// audio from the other participant.
func waitMedia(t *testing.T, ctx context.Context, p *participant) {
	t.Helper()
	var last string
	for {
		video, audio := false, false
		var seen []string
		for _, r := range p.stats() {
			seen = append(seen, fmt.Sprintf("%s/%s frames=%d level=%.1f", r.From, r.Kind, r.FramesDecoded, r.AudioLevel))
			if r.From == p.me || r.From == "" {
				t.Fatalf("%s received its own or an anonymous track: %+v", p.o.Name, r)
			}
			switch r.Kind {
			case "video":
				video = video || (r.FramesDecoded >= 10 && r.Width > 0)
			case "audio":
				audio = audio || (r.SamplesDecoded > 48000 && r.AudioLevel > -40)
			}
		}
		if video && audio {
			return
		}
		last = strings.Join(seen, "; ")
		select {
		case <-ctx.Done():
			t.Fatalf("%s never decoded video and audio from the other participant; received: %s", p.o.Name, last)
		case <-time.After(100 * time.Millisecond):
		}
	}
}
