// Package capture provides media sources for the callctl SDK: synthetic,
// encoded audio and video that implement sdk.MediaSource.
//
// The sources generate their raw media themselves (a moving, compressible
// test picture and a cadenced sine tone), encode it with the pion/mediadevices
// codec packages (VP8 through libvpx, Opus through the vendored libopus) and
// write the encoded frames into pion webrtc.TrackLocalStaticSample tracks.
// Packetisation is pion's own (its VP8 payloader carries a PictureID, which
// mediasoup needs to spot key frames); mediadevices' RTP path is not used.
//
// Sources pace themselves against the wall clock: a frame or audio packet is
// due every 1/fps (20 ms for audio) after Start, slots that could not be
// served in time are skipped and counted rather than caught up, and the RTP
// timestamps follow the wall clock across skipped slots and pauses.
//
// A video source encodes either a single layer or three simulcast layers
// (quarter, half and full resolution of the same rendered frames, each with
// its own encoder, bitrate and goroutine; RIDs "r0", "r1", "r2" from low to
// high).
//
// The package needs cgo: libvpx (pkg-config vpx, e.g. Debian's libvpx-dev)
// at build and run time; Opus is linked statically from mediadevices.
package capture
