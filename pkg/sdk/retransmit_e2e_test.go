package sdk_test

import (
	"context"
	"testing"
	"time"

	"github.com/callctl/callctl/pkg/netem"
	"github.com/callctl/callctl/pkg/sdk/sdktest"
)

// TestPublisherRepairsSendLoss: Alice's uplink loses 5 % of its packets;
// the server NACKs them, Alice's retransmitter resends them over RTX
// from its history, and the server counts them repaired while Bob keeps
// decoding nearly every frame.
func TestPublisherRepairsSendLoss(t *testing.T) {
	ctx, n, srv := faultTest(t, "", 90*time.Second)
	alice := newFaultPeer(t, srv.URL, "alice", peerOptions{net: n})
	bob := newFaultPeer(t, srv.URL, "bob", peerOptions{})
	alice.join(t, ctx, "send-loss")
	bob.join(t, ctx, "send-loss")
	bob.waitFlowing(t, ctx, "alice", 15)

	repaired0 := serverRepaired(t, ctx, alice)
	v0, _ := bob.stampedConsumers(ctx, "alice")
	n.Set(netem.Spec{Send: netem.Impairment{Loss: 5}})
	var repaired uint64
	sdktest.WaitUntil(t, 60*time.Second, "150 frames decoded and 30 packets repaired", func() bool {
		repaired = serverRepaired(t, ctx, alice) - repaired0
		v, _ := bob.stampedConsumers(ctx, "alice")
		return repaired >= 30 && v.ConsumerID == v0.ConsumerID && v.FramesDecoded >= v0.FramesDecoded+150
	})
	v, _ := bob.stampedConsumers(ctx, "alice")
	decoded, lost := v.FramesDecoded-v0.FramesDecoded, v.FramesLost-v0.FramesLost
	st := n.Stats()
	t.Logf("alice lost %d of %d packets on the way; server repaired %d; bob decoded %d frames, lost %d",
		st.Send.Lost, st.Send.Packets, repaired, decoded, lost)
	if st.Send.Lost == 0 {
		t.Fatal("netem dropped nothing: the test measured no loss")
	}
	if pct := 100 * float64(lost) / float64(decoded+lost); pct >= 5 {
		t.Errorf("bob lost %.1f %% of alice's frames with retransmission, want < 5 %%", pct)
	}
}

// serverRepaired sums the server's repaired-packet counts of p's video
// layers.
func serverRepaired(t *testing.T, ctx context.Context, p *faultPeer) uint64 {
	t.Helper()
	st, err := p.c.ServerProducerStats(ctx, "video")
	if err != nil {
		t.Fatalf("server producer stats: %v", err)
	}
	var n uint64
	for _, s := range st {
		n += s.PacketsRepaired
	}
	return n
}
