package fleet_test

import (
	"context"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/callctl/callctl/pkg/capture"
	"github.com/callctl/callctl/pkg/fleet"
	"github.com/callctl/callctl/pkg/sdk"
	"github.com/callctl/callctl/pkg/sdk/sdktest"
)

// clipSources writes a small VP8 + Opus clip set and opens it once.
func clipSources(t *testing.T) (audio, video *fleet.SharedSource) {
	t.Helper()
	dir := t.TempDir()
	if _, err := capture.WriteClips(dir, capture.ClipOptions{Duration: 2 * time.Second, Width: 320, Height: 180, FPS: 15, Codecs: []string{"vp8"}}); err != nil {
		t.Fatal(err)
	}
	a, err := capture.NewFileAudio(capture.AudioFileOptions{Path: filepath.Join(dir, "callctl.ogg")})
	if err != nil {
		t.Fatal(err)
	}
	v, err := capture.NewFileVideo(capture.FileOptions{Path: dir})
	if err != nil {
		t.Fatal(err)
	}
	return fleet.NewSharedSource(a), fleet.NewSharedSource(v)
}

// eventLog collects a fleet's output.
type eventLog struct {
	mu  sync.Mutex
	evs []fleet.Event
}

func (l *eventLog) add(ev fleet.Event) { l.mu.Lock(); l.evs = append(l.evs, ev); l.mu.Unlock() }

func (l *eventLog) count(participant, typ string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, ev := range l.evs {
		if ev.Participant == participant && ev.Type == typ {
			n++
		}
	}
	return n
}

// videoFrom is subscriber sub's consumer of pub's video, now.
func videoFrom(f *fleet.Fleet, sub, pub string) sdk.ConsumerStats {
	st, err := f.ParticipantStats(context.Background(), sub)
	if err != nil {
		return sdk.ConsumerStats{}
	}
	for _, c := range st.Consumers {
		if c.PeerID == pub && c.Kind == "video" {
			return c
		}
	}
	return sdk.ConsumerStats{}
}

// A fleet in one process: subscribers decode every publisher, one
// participant leaves while the others stay, the shared sources close, and
// no goroutine of the fleet outlives it.
func TestFleetLifecycleLeavesNoGoroutine(t *testing.T) {
	srv := sdktest.StartServer(t, sdktest.ServerOptions{})
	audio, video := clipSources(t)
	before := runtime.NumGoroutine()
	var log eventLog
	f, err := fleet.New(fleet.Options{
		ServerURL: srv.URL, ICE: sdk.LoopbackICE(), Audio: audio, Video: video, JoinRate: 20,
		Plan:    fleet.PlanOptions{Rooms: 1, Publishers: 3, Subscribers: 2},
		NewSink: func(fleet.Member) (sdk.ReceiveSink, error) { return capture.NewReceiveSink(capture.ReceiveOptions{}) },
		Expect:  &fleet.Expectations{SubscribersDecodingPercent: 100, Within: 30 * time.Second},
		OnEvent: log.add,
	})
	if err != nil {
		t.Fatal(err)
	}
	f.Start(context.Background())
	select {
	case v := <-f.Verdict():
		if v.Verdict != fleet.VerdictPassed || v.Met != 2 {
			t.Fatalf("verdict %+v", v)
		}
	case <-time.After(45 * time.Second):
		t.Fatalf("no verdict; fleet %+v", f.Aggregate())
	}
	if audio.Refs() != 4 || video.Refs() != 4 {
		t.Errorf("refs audio %d video %d, want the owner's and 3 publishers'", audio.Refs(), video.Refs())
	}

	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := f.LeaveParticipant(ctx, "bot-p1"); err != nil {
		t.Fatal(err)
	}
	sdktest.WaitUntil(t, 10*time.Second, "the subscribers see bot-p1 leave", func() bool {
		return log.count("bot-s0", "participant.left") == 1 && log.count("bot-s1", "participant.left") == 1
	})
	// The others stay: bot-p0's video still reaches the subscribers.
	p0 := videoFrom(f, "bot-s0", "bot-p0").PacketsReceived
	sdktest.WaitUntil(t, 10*time.Second, "bot-s0 receives more of bot-p0", func() bool {
		return videoFrom(f, "bot-s0", "bot-p0").PacketsReceived > p0+30
	})
	if in, _ := f.Participant("bot-p1"); in.State != fleet.StateLeft {
		t.Errorf("bot-p1 is %s", in.State)
	}
	st := f.Sample(ctx)
	if st.Participants.Joined != 4 || st.Participants.Left != 1 || video.Refs() != 3 {
		t.Errorf("after one leave: %+v, video refs %d", st.Participants, video.Refs())
	}

	if err := f.Leave(ctx); err != nil {
		t.Fatal(err)
	}
	if err := f.Wait(); err != nil {
		t.Fatal(err)
	}
	if audio.Refs() != 0 || video.Refs() != 0 {
		t.Errorf("shared sources still referenced: audio %d, video %d", audio.Refs(), video.Refs())
	}
	for _, id := range []string{"bot-p0", "bot-p2", "bot-s0", "bot-s1"} {
		if log.count(id, "left") != 1 || log.count(id, "stats") != 1 {
			t.Errorf("%s: %d left and %d final stats events", id, log.count(id, "left"), log.count(id, "stats"))
		}
	}
	deadline := time.Now().Add(15 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		buf := make([]byte, 1<<20)
		buf = buf[:runtime.Stack(buf, true)]
		t.Errorf("%d goroutines after the fleet, %d before:\n%s", n, before, filterStacks(string(buf)))
	}
}

// filterStacks keeps the goroutines that are not the test framework's.
func filterStacks(all string) string {
	var keep []string
	for _, g := range strings.Split(all, "\n\n") {
		if !strings.Contains(g, "testing.tRunner") && !strings.Contains(g, "testing.(*T).Run") {
			keep = append(keep, g)
		}
	}
	return strings.Join(keep, "\n\n")
}
