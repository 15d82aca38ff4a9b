package capture

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pion/rtp"

	"github.com/callctl/callctl/pkg/sdk"
)

type failingRecorder struct{ writes int }

func (f *failingRecorder) WriteRTP(*rtp.Packet) error {
	f.writes++
	return errors.New("no space left on device")
}
func (f *failingRecorder) Close() error { return nil }

// A recording that cannot be written is reported once through the SDK
// (an error event) and stops, instead of failing silently per packet.
func TestRecordingErrorsAreReportedOnce(t *testing.T) {
	var got []error
	f := &failingRecorder{}
	r := &reportingRecorder{trackRecorder: f, info: sdk.TrackInfo{ReportError: func(err error) { got = append(got, err) }}}
	for i := 0; i < 5; i++ {
		_ = r.WriteRTP(&rtp.Packet{})
	}
	if len(got) != 1 || !strings.Contains(got[0].Error(), "no space left") || f.writes != 1 {
		t.Fatalf("reported %v after %d writes", got, f.writes)
	}
	// The directory disappears (replaced by a file) after the sink checked
	// it: creating the track's file fails.
	dir := filepath.Join(t.TempDir(), "rec")
	s, err := NewReceiveSink(ReceiveOptions{RecordDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(dir); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dir, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	got = nil
	tr := s.OpenTrack(sdk.TrackInfo{ConsumerID: "c", Kind: "audio", MimeType: "audio/opus", ClockRate: 48000, Channels: 2,
		ReportError: func(err error) { got = append(got, err) }})
	defer tr.Close()
	if len(got) != 1 {
		t.Fatalf("an unwritable record dir reported %v", got)
	}
}
