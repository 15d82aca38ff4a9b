package capture

import (
	"context"
	"errors"
	"fmt"
	"image"
	"io"
	"math"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/mediadevices/pkg/driver"
	"github.com/pion/mediadevices/pkg/driver/camera" // registers the V4L2 cameras
	"github.com/pion/mediadevices/pkg/frame"
	"github.com/pion/mediadevices/pkg/io/video"
	"github.com/pion/mediadevices/pkg/prop"
)

// CameraOptions configures NewCameraVideo.
type CameraOptions struct {
	// Device selects the camera by the ID ListDevices reports (the V4L2
	// node, e.g. "video0"), its path ("/dev/video0") or its by-id/by-path
	// name. Empty: the first camera (video0 preferred).
	Device string
	// VideoOptions configure the encoding as for NewSyntheticVideo: Width
	// and Height are the size sent (top layer; default 1280x720), FPS the
	// frame rate. The camera is asked for the format closest to that size
	// and rate, and its pictures are scaled to the size sent; when it
	// delivers fewer frames, pictures repeat.
	VideoOptions
}

// NewCameraVideo creates a live video source from a camera (V4L2 through
// pion/mediadevices): the camera's pictures, converted to I420 and scaled,
// go through the same encoders and simulcast layers as the synthetic
// picture. It opens the camera at once; Start starts capturing and
// encoding, Close releases both. Without a camera it returns an error
// wrapping ErrNoDevice.
func NewCameraVideo(opts CameraOptions) (*VideoSource, error) {
	vo, err := opts.VideoOptions.withDefaults()
	if err != nil {
		return nil, err
	}
	if _, err := vo.layerSizes(); err != nil {
		return nil, err
	}
	d, err := findCamera(opts.Device)
	if err != nil {
		return nil, err
	}
	in, err := openCamera(d, vo.Width, vo.Height, vo.FPS)
	if err != nil {
		return nil, err
	}
	s, err := newVideoSource(vo, in)
	if err != nil {
		_ = in.close()
		return nil, err
	}
	return s, nil
}

// cameraScan serialises rescans of the V4L2 devices.
var cameraScan sync.Mutex

// cameras lists the registered camera drivers, rescanning the V4L2 devices
// first when rescan is set (the driver scans once at start-up).
func cameras(rescan bool) []driver.Driver {
	cameraScan.Lock()
	defer cameraScan.Unlock()
	if rescan {
		camera.Initialize()
	}
	ds := driver.GetManager().Query(driver.FilterAnd(driver.FilterVideoRecorder(), driver.FilterDeviceType(driver.Camera)))
	// Highest priority (video0) first, then by label, for a stable order.
	slices.SortFunc(ds, func(a, b driver.Driver) int {
		if pa, pb := a.Info().Priority, b.Info().Priority; pa != pb {
			return int(math.Copysign(1, float64(pb-pa)))
		}
		return strings.Compare(a.Info().Label, b.Info().Label)
	})
	return ds
}

// cameraID is the V4L2 node of a camera driver ("video0"): the last part
// of its label.
func cameraID(d driver.Driver) string {
	parts := strings.Split(d.Info().Label, camera.LabelSeparator)
	return parts[len(parts)-1]
}

// cameraMatches reports whether device names camera d.
func cameraMatches(d driver.Driver, device string) bool {
	device = strings.TrimPrefix(device, "/dev/")
	device = strings.TrimPrefix(device, "v4l/by-id/")
	device = strings.TrimPrefix(device, "v4l/by-path/")
	return d.ID() == device || slices.Contains(strings.Split(d.Info().Label, camera.LabelSeparator), filepath.Base(device))
}

// findCamera returns the camera device names (any when empty).
func findCamera(device string) (driver.Driver, error) {
	for _, rescan := range []bool{false, true} {
		for _, d := range cameras(rescan) {
			if device == "" || cameraMatches(d, device) {
				return d, nil
			}
		}
	}
	if device == "" {
		return nil, fmt.Errorf("%w: no camera found (no V4L2 device in /dev/video*)", ErrNoDevice)
	}
	return nil, fmt.Errorf("%w: no camera %q", ErrNoDevice, device)
}

// cameraInput holds the latest camera picture, converted to the size sent.
type cameraInput struct {
	drv    driver.Driver
	reader video.Reader
	format prop.Media // what the camera was asked for

	closeOnce sync.Once
	closeErr  error

	mu     sync.Mutex
	latest *image.YCbCr // nil until the first picture
	spare  *image.YCbCr // owned by run between swaps

	pictures atomic.Uint64
	readErrs atomic.Uint64
}

var _ runningInput = (*cameraInput)(nil)

// openCamera opens d and starts its capture in the format closest to
// width x height at fps.
func openCamera(d driver.Driver, width, height, fps int) (*cameraInput, error) {
	rec, ok := d.(driver.VideoRecorder)
	if !ok {
		return nil, fmt.Errorf("%w: %s is not a video device", ErrNoDevice, cameraID(d))
	}
	if err := d.Open(); err != nil {
		return nil, fmt.Errorf("capture: open camera %s: %w", cameraID(d), err)
	}
	p, ok := bestCameraFormat(d.Properties(), width, height, fps)
	if !ok {
		_ = d.Close()
		return nil, fmt.Errorf("%w: camera %s offers no usable format", ErrNoDevice, cameraID(d))
	}
	r, err := rec.VideoRecord(p)
	if err != nil {
		_ = d.Close()
		return nil, fmt.Errorf("capture: start camera %s (%dx%d %s): %w", cameraID(d), p.Width, p.Height, p.FrameFormat, err)
	}
	return &cameraInput{drv: d, reader: r, format: p, spare: newFrame(width, height)}, nil
}

// cameraFormats are the frame formats we can take, cheapest first.
var cameraFormats = []frame.Format{
	frame.FormatI420, frame.FormatNV12, frame.FormatNV21, frame.FormatYUYV, frame.FormatUYVY, frame.FormatMJPEG,
}

// bestCameraFormat picks the format to capture: the smallest size at
// least width x height (else the largest), at a frame rate of at least fps
// if offered, in the cheapest pixel format.
func bestCameraFormat(props []prop.Media, width, height, fps int) (prop.Media, bool) {
	best, bestCost := prop.Media{}, math.Inf(1)
	for _, p := range props {
		rank := slices.Index(cameraFormats, p.FrameFormat)
		if rank < 0 || p.Width <= 0 || p.Height <= 0 {
			continue
		}
		area, want := float64(p.Width*p.Height), float64(width*height)
		cost := math.Abs(math.Log(area / want)) // size distance
		if p.Width < width || p.Height < height {
			cost += 10 // upscaling
		}
		if p.FrameRate > 0 && p.FrameRate < float32(fps) {
			cost += 5 * float64(float32(fps)-p.FrameRate) / float64(fps)
		}
		cost += 0.01 * float64(rank)
		if cost < bestCost {
			best, bestCost = p, cost
		}
	}
	if best.FrameRate == 0 {
		best.FrameRate = float32(fps)
	}
	return best, !math.IsInf(bestCost, 1)
}

// render copies the latest picture, or black before the first.
func (c *cameraInput) render(img *image.YCbCr, _ int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.latest == nil {
		fill(img.Y, 16)
		fill(img.Cb, 128)
		fill(img.Cr, 128)
		return
	}
	copy(img.Y, c.latest.Y)
	copy(img.Cb, c.latest.Cb)
	copy(img.Cr, c.latest.Cr)
}

// run reads pictures until ctx is done or the camera fails for good.
func (c *cameraInput) run(ctx context.Context) {
	// Closing the driver is what interrupts a read waiting for a frame.
	stop := context.AfterFunc(ctx, func() { _ = c.close() })
	defer stop()
	for ctx.Err() == nil {
		img, release, err := c.reader.Read()
		if err != nil {
			if errors.Is(err, io.EOF) || ctx.Err() != nil {
				return
			}
			// A timeout or an empty frame: keep trying, calmly.
			c.readErrs.Add(1)
			select {
			case <-ctx.Done():
			case <-time.After(100 * time.Millisecond):
			}
			continue
		}
		toI420(c.spare, img)
		release()
		c.pictures.Add(1)
		c.mu.Lock()
		if c.latest == nil {
			c.latest = newFrame(c.spare.Rect.Dx(), c.spare.Rect.Dy())
		}
		c.latest, c.spare = c.spare, c.latest
		c.mu.Unlock()
	}
}

// close stops the capture and closes the device; later calls return the
// first result.
func (c *cameraInput) close() error {
	c.closeOnce.Do(func() {
		if err := c.drv.Close(); err != nil {
			c.closeErr = fmt.Errorf("capture: close camera %s: %w", cameraID(c.drv), err)
		}
	})
	return c.closeErr
}
