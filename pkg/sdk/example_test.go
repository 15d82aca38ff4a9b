package sdk_test

import (
	"context"
	"flag"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/callctl/callctl/pkg/capture"
	"github.com/callctl/callctl/pkg/sdk"
	"github.com/callctl/callctl/pkg/sdk/sdktest"
)

// serverURL is a reference server shared by the examples.
var serverURL string

func TestMain(m *testing.M) {
	flag.Parse()
	srv, err := sdktest.Launch(sdktest.ServerOptions{})
	if err != nil {
		if os.Getenv(sdktest.RequireServerEnv) == "1" {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		// The examples need a server; the tests skip one by one.
		if f := flag.Lookup("test.run"); f.Value.String() == "" {
			_ = f.Value.Set("^Test")
		}
	} else {
		serverURL = srv.URL
	}
	code := m.Run()
	if srv != nil {
		_ = srv.Stop()
	}
	os.Exit(code)
}

// A bot publishes a synthetic picture and tone; a second participant (a
// recorder, say) joins the same room, receives both and decodes the video.
func Example() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	// The bot: any sdk.MediaSource can be published.
	audio, _ := capture.NewToneAudio(capture.AudioOptions{})
	video, _ := capture.NewSyntheticVideo(capture.VideoOptions{Width: 320, Height: 180, FPS: 15})
	bot, err := sdk.NewClient(sdk.Config{ServerURL: serverURL, Audio: audio, Video: video, ICE: sdk.LoopbackICE()})
	if err != nil {
		fmt.Println(err)
		return
	}
	go func() {
		for range bot.Events() { // read events until the channel closes
		}
	}()
	if err := bot.JoinCall(ctx, "example", "bot", "Bot"); err != nil {
		fmt.Println(err)
		return
	}
	defer bot.LeaveCall(ctx)

	// The recorder: receive-only, with a sink that decodes what arrives.
	sink, _ := capture.NewReceiveSink(capture.ReceiveOptions{})
	rec, _ := sdk.NewClient(sdk.Config{ServerURL: serverURL, Sink: sink, ICE: sdk.LoopbackICE()})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ev := range rec.Events() {
			switch e := ev.(type) {
			case sdk.Joined:
				fmt.Printf("joined room %s as %s\n", e.Room, e.PeerID)
			case sdk.ParticipantJoined:
				fmt.Printf("participant %s (%s) is here\n", e.ID, e.DisplayName)
			case sdk.ConsumerCreated:
				fmt.Printf("receiving %s from %s\n", e.Kind, e.PeerID)
			case sdk.Left:
				fmt.Printf("left: %s\n", e.Reason)
			}
		}
	}()
	if err := rec.JoinCall(ctx, "example", "recorder", "Recorder"); err != nil {
		fmt.Println(err)
		return
	}
	for ctx.Err() == nil {
		s, _ := rec.Stats(ctx)
		if v := findVideo(s); v != nil && v.FramesDecoded > 0 {
			fmt.Printf("decoded video %dx%d\n", v.Width, v.Height)
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	_ = rec.LeaveCall(ctx)
	<-done

	// Output:
	// joined room example as recorder
	// participant bot (Bot) is here
	// receiving audio from bot
	// receiving video from bot
	// decoded video 320x180
	// left: requested
}

func findVideo(s sdk.CallStats) *sdk.ConsumerStats {
	for i := range s.Consumers {
		if s.Consumers[i].Kind == "video" {
			return &s.Consumers[i]
		}
	}
	return nil
}
