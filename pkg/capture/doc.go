// Package capture provides media sources for the callctl SDK, which
// implement sdk.MediaSource, and a receive sink that decodes what a call
// receives.
//
// Live sources encode in real time:
//   - NewSyntheticVideo renders a moving, compressible test picture;
//     NewCameraVideo takes a camera's pictures (V4L2 through
//     pion/mediadevices). Both encode one layer or three simulcast layers
//     (quarter, half and full resolution of the same pictures, each with its
//     own encoder, bitrate and goroutine; RIDs "r0", "r1", "r2" from low to
//     high) with VP8 (libvpx through the mediadevices codec package) or
//     H264 (openh264, constrained baseline).
//   - NewToneAudio encodes a cadenced sine tone, NewMicrophoneAudio a
//     microphone (PulseAudio, ALSA or JACK through miniaudio), as Opus
//     (libopus, statically linked from mediadevices).
//
// Pre-encoded sources (NewFileVideo, NewFileAudio) replay VP8 IVF, H264
// Annex-B and Ogg Opus files without encoding: the cheap way to run many
// publishers in one process. They loop, answer key-frame requests by
// jumping to the next key frame of the file, and share loaded files between
// sources. WriteClips generates a license-clean clip set for them with this
// package's own encoders.
//
// Encoded frames go into pion webrtc.TrackLocalStaticSample tracks, so
// packetisation is pion's own (its VP8 payloader carries a PictureID, which
// mediasoup needs to spot key frames); mediadevices' RTP path is not used.
//
// Sources pace themselves against the wall clock: a frame or audio packet is
// due every 1/fps (20 ms for audio) after Start, slots that could not be
// served in time are skipped and counted rather than caught up, and the RTP
// timestamps follow the wall clock across skipped slots, loops and pauses.
//
// The package needs cgo and, at build and run time, libvpx (pkg-config vpx,
// Debian's libvpx-dev), openh264 (pkg-config openh264, libopenh264-dev) and
// libopus (pkg-config opus, libopus-dev, for decoding). Cameras need the
// Linux V4L2 headers (linux-libc-dev); microphones load the audio system's
// client library at run time, if there is one.
package capture
