package capture

import (
	"fmt"
	"strings"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4/pkg/media/h264writer"
	"github.com/pion/webrtc/v4/pkg/media/ivfwriter"
	"github.com/pion/webrtc/v4/pkg/media/oggwriter"

	"github.com/callctl/callctl/pkg/sdk"
)

// trackRecorder writes one received track to a file that standard players
// open: pion's IVF, Annex-B and Ogg writers depacketize the RTP.
type trackRecorder interface {
	WriteRTP(*rtp.Packet) error
	Close() error
}

func newTrackRecorder(dir string, info sdk.TrackInfo) (trackRecorder, error) {
	switch strings.ToLower(info.MimeType) {
	case "video/vp8":
		w, err := ivfwriter.New(recordPath(dir, info, ".ivf"), ivfwriter.WithCodec(info.MimeType))
		if err != nil {
			return nil, fmt.Errorf("record %s: %w", info.ConsumerID, err)
		}
		return w, nil
	case "video/h264":
		w, err := h264writer.New(recordPath(dir, info, ".h264"))
		if err != nil {
			return nil, fmt.Errorf("record %s: %w", info.ConsumerID, err)
		}
		return w, nil
	case "audio/opus":
		ch := info.Channels
		if ch == 0 {
			ch = 2
		}
		w, err := oggwriter.New(recordPath(dir, info, ".ogg"), 48000, ch)
		if err != nil {
			return nil, fmt.Errorf("record %s: %w", info.ConsumerID, err)
		}
		return w, nil
	default:
		return nil, fmt.Errorf("record %s: no file format for %s", info.ConsumerID, info.MimeType)
	}
}
