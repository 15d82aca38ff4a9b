package capture

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"
)

func TestExpLong(t *testing.T) {
	if os.Getenv("EXP") == "" {
		t.Skip()
	}
	s, _ := NewSyntheticVideo(VideoOptions{Width: 640, Height: 360, FPS: 30, Bitrates: []int{500_000}})
	rec := recordVideo(s)[0]
	s.Start(context.Background())
	time.Sleep(20 * time.Second)
	s.Close()
	fr := rec.frames()
	big := 0
	var perSec [21]int
	for _, f := range fr {
		d := f.at.Sub(fr[0].at)
		perSec[int(d/time.Second)] += len(f.data) * 8 / 1000
		if len(f.data) > 12000 {
			big++
			fmt.Printf("big frame at %v: %d key=%v\n", d.Round(time.Millisecond), len(f.data), isVP8KeyFrame(f.data))
		}
	}
	fmt.Println("kbps per second:", perSec, "big", big, "frames", len(fr))
}
