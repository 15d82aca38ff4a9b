package capture

import (
	"context"
	"image"
)

// videoInput supplies the raw pictures a VideoSource encodes: the
// synthetic picture, or a camera's.
type videoInput interface {
	// render fills img, an I420 image of the top layer's size, with the
	// picture of slot. It runs on the pacing goroutine.
	render(img *image.YCbCr, slot int64)
}

// runningInput is a videoInput with a goroutine of its own (a camera
// reader) and resources to release.
type runningInput interface {
	videoInput
	// run feeds the input until ctx is done.
	run(ctx context.Context)
	// close releases the input once run has returned (or never ran).
	close() error
}
