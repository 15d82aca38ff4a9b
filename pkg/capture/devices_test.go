package capture

import (
	"context"
	"errors"
	"image"
	"image/color"
	"io"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pion/mediadevices/pkg/driver"
	"github.com/pion/mediadevices/pkg/frame"
	"github.com/pion/mediadevices/pkg/io/video"
	"github.com/pion/mediadevices/pkg/prop"
)

// On a machine without camera or sound card (CI, this headless box),
// listing finds nothing and the device sources fail cleanly with
// ErrNoDevice.
func TestDevicesAbsent(t *testing.T) {
	if nodes, _ := filepath.Glob("/dev/video*"); len(nodes) > 0 {
		t.Skipf("this machine has cameras: %v", nodes)
	}
	devices, err := ListDevices()
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range devices {
		if d.Kind == DeviceMicrophone {
			t.Skipf("this machine has a microphone: %+v", d)
		}
	}
	if len(devices) != 0 {
		t.Fatalf("devices %+v", devices)
	}

	start := time.Now()
	for _, dev := range []string{"", "video7", "/dev/video7"} {
		s, err := NewCameraVideo(CameraOptions{Device: dev, VideoOptions: VideoOptions{Width: 320, Height: 180}})
		if !errors.Is(err, ErrNoDevice) {
			if s != nil {
				s.Close()
			}
			t.Errorf("NewCameraVideo(%q): %v, want ErrNoDevice", dev, err)
		} else {
			t.Logf("camera %q: %v", dev, err)
		}
	}
	for _, dev := range []string{"", "hw:0,0"} {
		s, err := NewMicrophoneAudio(MicrophoneOptions{Device: dev})
		if !errors.Is(err, ErrNoDevice) {
			if s != nil {
				s.Close()
			}
			t.Errorf("NewMicrophoneAudio(%q): %v, want ErrNoDevice", dev, err)
		} else {
			t.Logf("microphone %q: %v", dev, err)
		}
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("failing took %v", d)
	}

	// Options are checked first.
	if _, err := NewCameraVideo(CameraOptions{VideoOptions: VideoOptions{Layers: 2}}); !errors.Is(err, ErrInvalidOptions) {
		t.Errorf("camera with 2 layers: %v", err)
	}
	if _, err := NewMicrophoneAudio(MicrophoneOptions{Channels: 3}); !errors.Is(err, ErrInvalidOptions) {
		t.Errorf("microphone with 3 channels: %v", err)
	}
}

// fakeCamera is a mediadevices camera driver delivering 4:2:2 pictures
// (what YUYV decodes to): left half light, right half dark.
type fakeCamera struct {
	props []prop.Media

	mu     sync.Mutex
	asked  prop.Media
	opened bool
	closed chan struct{}
}

func (c *fakeCamera) Open() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.opened, c.closed = true, make(chan struct{})
	return nil
}

func (c *fakeCamera) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.opened {
		c.opened = false
		close(c.closed)
	}
	return nil
}

func (c *fakeCamera) Properties() []prop.Media { return c.props }

func (c *fakeCamera) VideoRecord(p prop.Media) (video.Reader, error) {
	c.mu.Lock()
	c.asked = p
	closed := c.closed
	c.mu.Unlock()
	tick := time.NewTicker(time.Second / 30)
	return video.ReaderFunc(func() (image.Image, func(), error) {
		select {
		case <-closed:
			tick.Stop()
			return nil, func() {}, io.EOF
		case <-tick.C:
		}
		img := image.NewYCbCr(image.Rect(0, 0, p.Width, p.Height), image.YCbCrSubsampleRatio422)
		for y := range p.Height {
			for x := range p.Width {
				img.Y[img.YOffset(x, y)] = 50
				if x < p.Width/2 {
					img.Y[img.YOffset(x, y)] = 200
				}
				img.Cb[img.COffset(x, y)], img.Cr[img.COffset(x, y)] = 100, 150
			}
		}
		return img, func() {}, nil
	}), nil
}

func (c *fakeCamera) isOpen() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.opened
}

// registerFakeCamera registers cam as camera "fake0" for the test.
func registerFakeCamera(t *testing.T, cam *fakeCamera) {
	m := driver.GetManager()
	if err := m.Register(cam, driver.Info{Label: "fake0;fake0", DeviceType: driver.Camera, Name: "Fake camera"}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for _, d := range m.Query(driver.FilterDeviceType(driver.Camera)) {
			if d.Info().Label == "fake0;fake0" {
				m.Delete(d.ID())
			}
		}
	})
}

// A camera's pictures go through the simulcast encoders like the
// synthetic picture: the format closest to the size sent is captured,
// converted to I420, scaled, and every layer encodes at its size.
func TestCameraVideo(t *testing.T) {
	cam := &fakeCamera{props: []prop.Media{
		{Video: prop.Video{Width: 1920, Height: 1080, FrameFormat: frame.FormatMJPEG, FrameRate: 30}},
		{Video: prop.Video{Width: 640, Height: 480, FrameFormat: frame.FormatYUYV, FrameRate: 30}},
		{Video: prop.Video{Width: 640, Height: 360, FrameFormat: frame.FormatYUYV, FrameRate: 10}},
		{Video: prop.Video{Width: 320, Height: 240, FrameFormat: frame.FormatYUYV, FrameRate: 30}},
	}}
	registerFakeCamera(t, cam)
	s, err := NewCameraVideo(CameraOptions{Device: "/dev/fake0", VideoOptions: VideoOptions{Width: 640, Height: 360, FPS: 30, Layers: 3}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if cam.asked.Width != 640 || cam.asked.Height != 480 || cam.asked.FrameFormat != frame.FormatYUYV {
		t.Errorf("camera asked for %+v", cam.asked.Video)
	}
	recs := recordVideo(s)
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	in := s.input.(*cameraInput)
	waitFor(t, 5*time.Second, "camera pictures on every layer", func() bool {
		if in.pictures.Load() < 5 {
			return false
		}
		for _, r := range recs {
			if len(r.frames()) < 5 {
				return false
			}
		}
		return true
	})
	for i, r := range recs {
		w, h, ok := vp8KeyFrameSize(r.frames()[0].data)
		if li := s.Layers()[i]; !ok || w != li.Width || h != li.Height {
			t.Errorf("layer %d: first frame %dx%d (key %v), want %dx%d", i, w, h, ok, li.Width, li.Height)
		}
	}
	img := newFrame(640, 360)
	in.render(img, 0)
	if l, r := img.Y[img.YOffset(100, 180)], img.Y[img.YOffset(540, 180)]; l != 200 || r != 50 {
		t.Errorf("picture luma %d | %d, want 200 | 50", l, r)
	}
	if cb, cr := img.Cb[img.COffset(100, 100)], img.Cr[img.COffset(100, 100)]; cb != 100 || cr != 150 {
		t.Errorf("picture chroma %d %d", cb, cr)
	}

	done := make(chan error)
	go func() { done <- s.Close() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("Close hangs")
	}
	if cam.isOpen() {
		t.Error("camera still open after Close")
	}

	// An unknown camera, while one exists.
	if _, err := NewCameraVideo(CameraOptions{Device: "video9"}); !errors.Is(err, ErrNoDevice) || !strings.Contains(err.Error(), "video9") {
		t.Errorf("unknown camera: %v", err)
	}
}

func TestBestCameraFormat(t *testing.T) {
	p := func(w, h int, f frame.Format, fps float32) prop.Media {
		return prop.Media{Video: prop.Video{Width: w, Height: h, FrameFormat: f, FrameRate: fps}}
	}
	for _, tc := range []struct {
		name  string
		props []prop.Media
		want  prop.Media
	}{
		{"smallest that fits", []prop.Media{p(1920, 1080, frame.FormatYUYV, 30), p(1280, 720, frame.FormatYUYV, 30), p(640, 480, frame.FormatYUYV, 30)}, p(1280, 720, frame.FormatYUYV, 30)},
		{"frame rate over size", []prop.Media{p(1280, 720, frame.FormatYUYV, 10), p(1920, 1080, frame.FormatMJPEG, 30)}, p(1920, 1080, frame.FormatMJPEG, 30)},
		{"cheaper format", []prop.Media{p(1280, 720, frame.FormatMJPEG, 30), p(1280, 720, frame.FormatNV12, 30)}, p(1280, 720, frame.FormatNV12, 30)},
		{"largest when none fits", []prop.Media{p(320, 240, frame.FormatYUYV, 30), p(640, 480, frame.FormatYUYV, 30)}, p(640, 480, frame.FormatYUYV, 30)},
		{"no rate given", []prop.Media{p(1280, 720, frame.FormatYUYV, 0)}, p(1280, 720, frame.FormatYUYV, 30)},
	} {
		got, ok := bestCameraFormat(tc.props, 1280, 720, 30)
		if !ok || got.Video != tc.want.Video {
			t.Errorf("%s: %+v, want %+v", tc.name, got.Video, tc.want.Video)
		}
	}
	if _, ok := bestCameraFormat([]prop.Media{p(640, 480, frame.FormatZ16, 30)}, 640, 480, 30); ok {
		t.Error("a depth format was accepted")
	}
}

func TestToI420(t *testing.T) {
	// A 4:4:4 source with an offset origin, twice the destination size:
	// columns of distinct luma, rows of distinct chroma.
	src := image.NewYCbCr(image.Rect(10, 20, 18, 28), image.YCbCrSubsampleRatio444)
	for y := 20; y < 28; y++ {
		for x := 10; x < 18; x++ {
			src.Y[src.YOffset(x, y)] = uint8(10 * (x - 10))
			src.Cb[src.COffset(x, y)] = uint8(100 + y - 20)
			src.Cr[src.COffset(x, y)] = 7
		}
	}
	dst := newFrame(4, 4)
	toI420(dst, src)
	// Destination column x samples source column 2x+1 (the sample centre).
	for x, want := range []uint8{10, 30, 50, 70} {
		if got := dst.Y[dst.YOffset(x, 2)]; got != want {
			t.Errorf("Y(%d) = %d, want %d", x, got, want)
		}
	}
	if cb0, cb1 := dst.Cb[0], dst.Cb[dst.CStride]; cb0 != 101 || cb1 != 105 || dst.Cr[0] != 7 {
		t.Errorf("chroma rows %d, %d, Cr %d", cb0, cb1, dst.Cr[0])
	}

	// Any other image goes through the colour model.
	rgba := image.NewRGBA(image.Rect(0, 0, 4, 4))
	for i := range 16 {
		rgba.Set(i%4, i/4, color.RGBA{255, 255, 255, 255})
	}
	toI420(dst, rgba)
	if dst.Y[0] != 255 || dst.Cb[0] != 128 || dst.Cr[0] != 128 {
		t.Errorf("white: %d %d %d", dst.Y[0], dst.Cb[0], dst.Cr[0])
	}
}
