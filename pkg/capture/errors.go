package capture

import "errors"

var (
	// ErrClosed is returned by Start after Close.
	ErrClosed = errors.New("capture: source closed")
	// ErrAlreadyStarted is returned by a second call to Start.
	ErrAlreadyStarted = errors.New("capture: source already started")
	// ErrUnsupportedCodec is returned for a codec the source cannot encode.
	ErrUnsupportedCodec = errors.New("capture: unsupported codec")
	// ErrInvalidOptions wraps every option validation error.
	ErrInvalidOptions = errors.New("capture: invalid options")
	// ErrInvalidMedia wraps errors about a media file that cannot be
	// played: unknown format, truncated, no key frame.
	ErrInvalidMedia = errors.New("capture: invalid media file")
	// ErrNoDevice is returned when no camera or microphone (or none
	// matching the requested one) is available.
	ErrNoDevice = errors.New("capture: no device")
)
