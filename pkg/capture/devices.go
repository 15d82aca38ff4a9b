package capture

import (
	"fmt"
	"slices"
	"strings"

	"github.com/pion/mediadevices/pkg/driver/camera"
)

// Device kinds reported by ListDevices.
const (
	DeviceCamera     = "camera"
	DeviceMicrophone = "microphone"
)

// DeviceInfo describes a camera or microphone.
type DeviceInfo struct {
	// Kind is DeviceCamera or DeviceMicrophone.
	Kind string `json:"kind"`
	// ID selects the device in CameraOptions.Device or
	// MicrophoneOptions.Device: the V4L2 node ("video0") for a camera, the
	// audio system's name for a microphone.
	ID string `json:"id"`
	// Label is the device's human-readable name.
	Label string `json:"label"`
	// Default marks the system's default microphone.
	Default bool `json:"default,omitempty"`
	// Formats lists what a camera can capture ("1280x720@30 MJPEG"), when
	// it could be opened to ask.
	Formats []string `json:"formats,omitempty"`
}

// ListDevices lists the cameras (V4L2 devices, scanned afresh) and
// microphones (capture devices of PulseAudio, ALSA or JACK) of the machine.
// A machine without any returns an empty list, not an error; an error
// means a device system could not be queried, and the devices found
// elsewhere are still returned.
func ListDevices() ([]DeviceInfo, error) {
	var list []DeviceInfo
	for _, d := range cameras(true) {
		info := DeviceInfo{Kind: DeviceCamera, ID: cameraID(d), Label: strings.Trim(d.Info().Name, camera.LabelSeparator)}
		if info.Label == "" {
			info.Label = info.ID
		}
		if d.Open() == nil {
			for _, p := range d.Properties() {
				f := fmt.Sprintf("%dx%d", p.Width, p.Height)
				if p.FrameRate > 0 {
					f += fmt.Sprintf("@%g", p.FrameRate)
				}
				f += " " + string(p.FrameFormat)
				if !slices.Contains(info.Formats, f) {
					info.Formats = append(info.Formats, f)
				}
			}
			_ = d.Close()
		}
		list = append(list, info)
	}

	actx, err := audioContext()
	if err != nil {
		return list, nil // no audio system at all: no microphone
	}
	defer func() {
		_ = actx.Uninit()
		actx.Free()
	}()
	mics, err := listMicrophones(actx)
	for _, m := range mics {
		list = append(list, DeviceInfo{Kind: DeviceMicrophone, ID: m.id, Label: m.name, Default: m.isDefault})
	}
	return list, err
}
