package fleet_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/pion/transport/v5"

	"github.com/callctl/callctl/pkg/capture"
	"github.com/callctl/callctl/pkg/fleet"
	"github.com/callctl/callctl/pkg/netem"
	"github.com/callctl/callctl/pkg/sdk"
	"github.com/callctl/callctl/pkg/sdk/sdktest"
)

// Three publishers share one clip source, so their NACK histories share
// the payloads; each one's uplink loses 5 %. Every publisher repairs its
// own losses (the server counts them), and the subscriber decodes every
// publisher's frames without decode errors and with few frames lost.
func TestFleetPublishersRepairSendLoss(t *testing.T) {
	srv := sdktest.StartServer(t, sdktest.ServerOptions{})
	audio, video := clipSources(t)
	var mu sync.Mutex
	nets := map[string]*netem.Net{}
	newNet := func(m fleet.Member) transport.Net {
		n, err := netem.New(netem.Spec{}, netem.Options{})
		if err != nil {
			t.Error(err)
			return nil
		}
		mu.Lock()
		nets[m.ID] = n
		mu.Unlock()
		return n
	}
	f, err := fleet.New(fleet.Options{
		ServerURL: srv.URL, ICE: sdk.LoopbackICE(), Audio: audio, Video: video, JoinRate: 20,
		Plan:    fleet.PlanOptions{Rooms: 1, Publishers: 3, Subscribers: 1},
		NewSink: func(fleet.Member) (sdk.ReceiveSink, error) { return capture.NewReceiveSink(capture.ReceiveOptions{}) },
		NewNet:  newNet,
		OnEvent: func(fleet.Event) {},
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	f.Start(ctx)
	defer func() {
		_ = f.Leave(ctx)
		_ = f.Wait()
		for _, n := range nets {
			_ = n.Close()
		}
	}()
	pubs := []string{"bot-p0", "bot-p1", "bot-p2"}
	sdktest.WaitUntil(t, 30*time.Second, "the subscriber decodes every publisher", func() bool {
		for _, p := range pubs {
			if videoFrom(f, "bot-s0", p).FramesDecoded < 15 {
				return false
			}
		}
		return true
	})
	base := map[string]sdk.ConsumerStats{}
	repaired0 := map[string]uint64{}
	for _, p := range pubs {
		base[p] = videoFrom(f, "bot-s0", p)
		repaired0[p] = repairedOf(ctx, f, p)
		nets[p].Set(netem.Spec{Send: netem.Impairment{Loss: 5}})
	}
	sdktest.WaitUntil(t, 60*time.Second, "every publisher repairs 20 packets, 100 more frames decoded of each", func() bool {
		for _, p := range pubs {
			if repairedOf(ctx, f, p) < repaired0[p]+20 || videoFrom(f, "bot-s0", p).FramesDecoded < base[p].FramesDecoded+100 {
				return false
			}
		}
		return true
	})
	for _, p := range pubs {
		v := videoFrom(f, "bot-s0", p)
		decoded, lost := v.FramesDecoded-base[p].FramesDecoded, v.FramesLost-base[p].FramesLost
		st := nets[p].Stats()
		t.Logf("%s: lost %d of %d packets sent, server repaired %d; subscriber decoded %d frames, lost %d, %d decode errors",
			p, st.Send.Lost, st.Send.Packets, repairedOf(ctx, f, p)-repaired0[p], decoded, lost, v.DecodeErrors-base[p].DecodeErrors)
		if v.DecodeErrors != base[p].DecodeErrors {
			t.Errorf("%s: decode errors after retransmissions from the shared history", p)
		}
		if pct := 100 * float64(lost) / float64(decoded+lost); pct >= 5 {
			t.Errorf("%s: %.1f %% of frames lost, want < 5 %%", p, pct)
		}
	}
}

// repairedOf sums the server's repaired-packet counts of pub's video.
func repairedOf(ctx context.Context, f *fleet.Fleet, pub string) uint64 {
	c, err := f.Client(pub)
	if err != nil {
		panic(fmt.Sprintf("no client %s: %v", pub, err))
	}
	st, err := c.ServerProducerStats(ctx, "video")
	if err != nil {
		return 0
	}
	var n uint64
	for _, s := range st {
		n += s.PacketsRepaired
	}
	return n
}
