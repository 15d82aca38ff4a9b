package capture

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/pion/webrtc/v4/pkg/media/h264reader"
	"github.com/pion/webrtc/v4/pkg/media/ivfreader"
	"github.com/pion/webrtc/v4/pkg/media/oggreader"
)

var testLayerSizes = [][2]int{{160, 90}, {320, 180}, {640, 360}}

// The clip set WriteClips writes parses with pion's readers, every frame
// decodes at its layer's size, key frames fall every second, and the Opus
// packets decode to 20 ms each.
func TestWriteClipsRoundTrip(t *testing.T) {
	dir := testClips(t)
	var names []string
	for _, f := range testClipSet.files {
		names = append(names, filepath.Base(f))
	}
	want := []string{
		"callctl-90p.ivf", "callctl-180p.ivf", "callctl-360p.ivf",
		"callctl-90p.h264", "callctl-180p.h264", "callctl-360p.h264", "callctl.ogg",
	}
	if !slices.Equal(names, want) {
		t.Fatalf("files %v, want %v", names, want)
	}

	for _, size := range testLayerSizes {
		name := filepath.Join(dir, fmt.Sprintf("callctl-%dp", size[1]))
		t.Run(filepath.Base(name)+".ivf", func(t *testing.T) { checkIVFClip(t, name+".ivf", size[0], size[1]) })
		t.Run(filepath.Base(name)+".h264", func(t *testing.T) { checkH264Clip(t, name+".h264", size[0], size[1]) })
	}
	t.Run("callctl.ogg", func(t *testing.T) { checkOggClip(t, filepath.Join(dir, "callctl.ogg")) })
}

func checkIVFClip(t *testing.T, path string, w, h int) {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, hdr, err := ivfreader.NewWith(f)
	if err != nil {
		t.Fatal(err)
	}
	if hdr.FourCC != "VP80" || int(hdr.Width) != w || int(hdr.Height) != h ||
		hdr.TimebaseDenominator != testClipFPS || hdr.TimebaseNumerator != 1 {
		t.Errorf("header %+v", hdr)
	}
	dec, err := newVP8Decoder()
	if err != nil {
		t.Fatal(err)
	}
	defer dec.close()
	var keys []int
	n := 0
	for ; ; n++ {
		frame, _, err := r.ParseNextFrame()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if isVP8KeyFrame(frame) {
			keys = append(keys, n)
		}
		if dw, dh, err := dec.decode(frame); err != nil || dw != w || dh != h {
			t.Fatalf("frame %d decodes to %dx%d, %v", n, dw, dh, err)
		}
	}
	if n != testClipFrames || !slices.Equal(keys, []int{0, testClipGOP}) {
		t.Errorf("%d frames, key frames at %v", n, keys)
	}
}

func checkH264Clip(t *testing.T, path string, w, h int) {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := h264reader.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	dec, err := newH264Decoder()
	if err != nil {
		t.Fatal(err)
	}
	defer dec.close()
	// One slice per picture: a picture is the NAL units up to its slice.
	var au []byte
	var keys []int
	n := 0
	for {
		nal, err := r.NextNAL()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if nal.UnitType == h264reader.NalUnitTypeSPS {
			if sw, sh, err := parseSPSSize(nal.Data); err != nil || sw != w || sh != h {
				t.Errorf("SPS size %dx%d, %v", sw, sh, err)
			}
			if nal.Data[1] != 0x42 || nal.Data[2]&0x40 == 0 {
				t.Errorf("SPS profile %#x constraints %#x: not constrained baseline", nal.Data[1], nal.Data[2])
			}
		}
		au = append(append(au, 0, 0, 0, 1), nal.Data...)
		switch nal.UnitType {
		case h264reader.NalUnitTypeCodedSliceIdr:
			keys = append(keys, n)
			fallthrough
		case h264reader.NalUnitTypeCodedSliceNonIdr:
			if dw, dh, err := dec.decode(au); err != nil || dw != w || dh != h {
				t.Fatalf("picture %d decodes to %dx%d, %v", n, dw, dh, err)
			}
			au = au[:0]
			n++
		}
	}
	if n != testClipFrames || !slices.Equal(keys, []int{0, testClipGOP}) {
		t.Errorf("%d pictures, IDR at %v", n, keys)
	}
}

func checkOggClip(t *testing.T, path string) {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, hdr, err := oggreader.NewWith(f)
	if err != nil {
		t.Fatal(err)
	}
	if hdr.Channels != 2 || hdr.SampleRate != 48000 {
		t.Errorf("header %+v", hdr)
	}
	dec, err := newOpusDecoder(2)
	if err != nil {
		t.Fatal(err)
	}
	defer dec.close()
	packets := 0
	for {
		page, ph, err := r.ParseNextPage()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if typ, ok := ph.HeaderType(page); ok && typ == oggreader.HeaderOpusTags {
			continue
		}
		pcm, err := dec.decode(page)
		if err != nil || len(pcm) != 2*960 {
			t.Fatalf("packet %d: %d samples, %v", packets, len(pcm), err)
		}
		packets++
	}
	if packets != int(testClipDuration/(20*time.Millisecond)) {
		t.Errorf("%d packets", packets)
	}
}

func TestWriteClipsOptions(t *testing.T) {
	dir := t.TempDir()
	for _, opts := range []ClipOptions{
		{Codecs: []string{"vp9"}},
		{Codecs: []string{"vp8", "VP8"}},
		{Width: 641, Height: 360},
		{Layers: 2},
		{FPS: 61},
		{Duration: -1},
		{Name: "a/b"},
		{Audio: AudioOptions{Channels: 3}},
	} {
		if _, err := WriteClips(dir, opts); err == nil {
			t.Errorf("%+v: no error", opts)
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("invalid options left files: %v", entries)
	}

	// A single 1 s layer of H264 and no audio.
	files, err := WriteClips(dir, ClipOptions{Name: "one", Duration: time.Second, Width: 320, Height: 240, Layers: 1,
		Codecs: []string{"h264"}, NoAudio: true, KeyFrameInterval: 500 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 1 || filepath.Base(files[0]) != "one-240p.h264" {
		t.Fatalf("files %v", files)
	}
	c, err := loadClip(files[0])
	if err != nil {
		t.Fatal(err)
	}
	if c.width != 320 || c.height != 240 || len(c.frames) != 30 || !slices.Equal(c.keys, []int{0, 15}) {
		t.Errorf("clip %dx%d, %d frames, keys %v", c.width, c.height, len(c.frames), c.keys)
	}
}
