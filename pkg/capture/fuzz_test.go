package capture

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"slices"
	"sync"
	"testing"
	"time"
	"unsafe"

	"github.com/pion/rtp"

	"github.com/callctl/callctl/pkg/sdk"
)

// maxFuzzInput caps fuzz inputs: the parsers are linear, so bigger inputs
// only slow the fuzzer, and a cap makes "no unbounded allocation"
// checkable (no parser may allocate more than a small multiple of it).
const maxFuzzInput = 256 << 10

var (
	fuzzClipsOnce sync.Once
	fuzzClips     map[string][]byte // extension -> a tiny real clip
)

// realClips encodes a 0.3 s, 64x64 clip set once per test binary: seeds
// that are real IVF, Annex-B and Ogg Opus files, so mutation starts deep
// in the parsers instead of at their magic numbers.
func realClips(f *testing.F) map[string][]byte {
	fuzzClipsOnce.Do(func() {
		fuzzClips = map[string][]byte{}
		dir, err := os.MkdirTemp("", "callctl-fuzz-seeds")
		if err != nil {
			return
		}
		defer os.RemoveAll(dir)
		paths, err := WriteClips(dir, ClipOptions{Name: "s", Duration: 300 * time.Millisecond, Width: 64, Height: 64,
			Layers: 1, FPS: 10, KeyFrameInterval: 200 * time.Millisecond})
		if err != nil {
			return
		}
		for _, p := range paths {
			if b, err := os.ReadFile(p); err == nil {
				fuzzClips[p[bytes.LastIndexByte([]byte(p), '.'):]] = b
			}
		}
	})
	if len(fuzzClips) != 3 {
		f.Fatalf("seed clips: got %d of 3", len(fuzzClips))
	}
	return fuzzClips
}

// ivfSeeds are hand-made IVF edge cases next to the real clip.
func ivfSeeds() [][]byte {
	hdr := make([]byte, ivfFileHeaderSize)
	copy(hdr, ivfSignature)
	binary.LittleEndian.PutUint16(hdr[6:], ivfFileHeaderSize)
	copy(hdr[8:], "VP80")
	binary.LittleEndian.PutUint32(hdr[16:], 30)
	binary.LittleEndian.PutUint32(hdr[20:], 1)
	frame := func(size uint32, pts uint64, body ...byte) []byte {
		fh := make([]byte, ivfFrameHeaderSize)
		binary.LittleEndian.PutUint32(fh, size)
		binary.LittleEndian.PutUint64(fh[4:], pts)
		return append(fh, body...)
	}
	key := []byte{0x10, 0x02, 0x00, 0x9d, 0x01, 0x2a, 0x40, 0x00, 0x40, 0x00}
	return [][]byte{
		slices.Concat(hdr, frame(10, 0, key...), frame(1, 1, 0x31)),
		slices.Concat(hdr, frame(10, 0, key...), frame(1, 1<<63, 0x31)),
		slices.Concat(hdr, frame(0xffffffff, 0)),
		hdr[:20],
	}
}

func FuzzParseIVF(f *testing.F) {
	f.Add(realClips(f)[".ivf"])
	for _, s := range ivfSeeds() {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) > maxFuzzInput {
			return
		}
		c, err := parseIVF(b)
		if err != nil {
			return
		}
		for _, fr := range c.frames {
			if len(fr.data) == 0 || !sliceOf(b, fr.data) {
				t.Fatalf("frame of %d bytes not inside the input", len(fr.data))
			}
		}
		if c.fps < 0 || c.fps > 60 {
			t.Fatalf("fps %d", c.fps)
		}
	})
}

// sliceOf reports whether s lies within b (the IVF parser never copies).
// Pointer arithmetic keeps it O(1): a scan made the harness quadratic.
func sliceOf(b, s []byte) bool {
	if len(s) == 0 || len(b) == 0 {
		return len(s) == 0
	}
	lo, p := uintptr(unsafe.Pointer(&b[0])), uintptr(unsafe.Pointer(&s[0]))
	return p >= lo && p+uintptr(len(s)) <= lo+uintptr(len(b))
}

// fixOggCRCs rewrites the checksum of every complete page, so mutations
// reach the lacing and packet logic instead of failing the CRC.
func fixOggCRCs(b []byte) {
	for p := 0; len(b)-p >= oggPageHeaderSize && string(b[p:p+4]) == oggCapturePattern; {
		body := p + oggPageHeaderSize + int(b[p+26])
		if body > len(b) {
			return
		}
		end := body
		for _, l := range b[p+oggPageHeaderSize : body] {
			end += int(l)
		}
		if end > len(b) {
			return
		}
		binary.LittleEndian.PutUint32(b[p+22:], oggCRC(b[p:end]))
		p = end
	}
}

func oggSeeds() [][]byte {
	head := append([]byte("OpusHead"), 1, 2, 0x38, 1, 0x80, 0xbb, 0, 0, 0, 0, 0)
	tags := append([]byte("OpusTags"), 0, 0, 0, 0, 0, 0, 0, 0)
	long := filled(0xfb, 600, 3)
	long[1] = 3
	return [][]byte{
		slices.Concat(oggPage(1, 0, 2, []byte{19}, head), oggPage(1, 1, 0, []byte{16}, tags),
			oggPage(1, 2, 0, []byte{255, 255, 90}, long), oggPage(7, 0, 2, []byte{1}, []byte{8}),
			oggPage(1, 3, 1, []byte{3}, []byte{1, 2, 3})),
		oggPage(1, 0, 1, []byte{255, 255}, filled(0, 510, 0)),
	}
}

func FuzzOggOpus(f *testing.F) {
	f.Add(realClips(f)[".ogg"])
	for _, s := range oggSeeds() {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) > maxFuzzInput {
			return
		}
		b = slices.Clone(b)
		fixOggCRCs(b)
		packets, err := oggPackets(b)
		if err != nil {
			if _, err := parseOggOpus(b); err == nil {
				t.Fatal("parseOggOpus accepted what oggPackets rejects")
			}
			return
		}
		total := 0
		for _, p := range packets {
			total += len(p)
		}
		if total > len(b) {
			t.Fatalf("%d packet bytes out of %d input bytes", total, len(b))
		}
		c, err := parseOggOpus(b)
		if err != nil {
			return
		}
		for _, fr := range c.frames {
			if fr.samples <= 0 || fr.samples > 5760 {
				t.Fatalf("packet of %d samples", fr.samples)
			}
		}
	})
}

func FuzzOpusPacketSamples(f *testing.F) {
	for _, s := range [][]byte{{0x08}, {0x0b, 3}, {0xfb, 0x3f}, {0x03, 0}, {}} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, p []byte) {
		if n, ok := opusPacketSamples48k(p); ok && (n <= 0 || n > 5760) {
			t.Fatalf("%d samples", n)
		}
	})
}

// FuzzParseClip goes through parseClip, which also runs the Annex-B
// access-unit splitter, key-frame index and SPS size probe.
func FuzzParseClip(f *testing.F) {
	for _, b := range realClips(f) {
		f.Add(b)
	}
	sps := nal(0x67, 0x42, 0xc0, 0x1e, 0x8c, 0x8d, 0x40, 0x50, 0x17, 0xfc, 0xb8, 0x0f, 0x08, 0x84, 0x6a)
	pps := nal(0x68, 0xce, 0x3c, 0x80)
	f.Add(slices.Concat(sps, pps, nal(0x65, 0x88, 0x84, 0x21), nal(0x41, 0x9a), []byte{0, 0, 1, 9, 0xf0}, nal(0x65, 0x88)))
	f.Add([]byte{0, 0, 1, 0x67, 0x64, 0x00, 0x1f, 0x92, 0xd9, 0x40, 0x50, 0x05, 0x10, 0x00, 0x00, 0x00, 0x10, 0x00, 0x10})
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) > maxFuzzInput {
			return
		}
		c, err := parseClip(b)
		if err != nil {
			return
		}
		if len(c.frames) == 0 {
			t.Fatal("a clip without frames")
		}
		if c.codec != codecOpus && (c.width <= 0 || c.height <= 0 || len(c.keys) == 0 || c.keys[0] != 0) {
			t.Fatalf("video clip %dx%d keys %v", c.width, c.height, c.keys)
		}
		if c.bytes > 4*len(b)+(1<<16) {
			t.Fatalf("%d frame bytes from a %d-byte file", c.bytes, len(b))
		}
	})
}

// FuzzAnnexB checks the two NAL splitters agree and stay inside the input.
func FuzzAnnexB(f *testing.F) {
	f.Add(realClips(f)[".h264"])
	f.Add([]byte{0, 0, 1, 0, 0, 1, 0, 0, 0, 1, 0x65})
	f.Add([]byte{0, 0, 0, 1})
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) > maxFuzzInput {
			return
		}
		nals := splitAnnexB(b)
		scanned := scanAnnexB(b)
		total := 0
		for _, n := range nals {
			total += len(n)
		}
		if total > len(b) {
			t.Fatalf("%d NAL bytes from %d", total, len(b))
		}
		for _, n := range scanned {
			if n.start > n.body || n.body >= len(b) || b[n.body]&0x1f != n.typ {
				t.Fatalf("bad NAL %+v in %d bytes", n, len(b))
			}
		}
		_ = isH264KeyFrame(b)
	})
}

func FuzzParseSPSSize(f *testing.F) {
	f.Add(highSPS(3, 80, 45, 0, 0))
	f.Add([]byte{0x67, 0x42, 0xc0, 0x1e, 0x8c, 0x8d, 0x40, 0x50, 0x17, 0xfc, 0xb8, 0x0f, 0x08, 0x84, 0x6a})
	f.Add([]byte{0x67, 0x64, 0x00, 0x1f, 0x92, 0xd9, 0x40, 0x50, 0x05, 0x10, 0x00, 0x00, 0x00, 0x10, 0x00, 0x10})
	for _, n := range splitAnnexB(realClips(f)[".h264"]) {
		if len(n) > 0 && n[0]&0x1f == nalSPS {
			f.Add(n)
		}
	}
	f.Fuzz(func(t *testing.T, nal []byte) {
		if len(nal) > 4096 {
			return
		}
		w, h, err := parseSPSSize(nal)
		if err != nil {
			if !errors.Is(err, errShortSPS) && !errors.Is(err, errBadSPS) {
				t.Fatalf("unexpected error %v", err)
			}
			return
		}
		if w <= 0 || h <= 0 || w > spsMaxSideMbs*16 || h > 2*spsMaxSideMbs*16 {
			t.Fatalf("size %dx%d", w, h)
		}
	})
}

// FuzzVideoReceiverRTP feeds arbitrary RTP packet sequences (sequence
// jumps, timestamps, markers, payloads) through the receive path without
// decoding: the assembler and pion's VP8 and H264 depacketizers. Each
// packet is 4 bytes of header material then a payload of up to 63 bytes.
func FuzzVideoReceiverRTP(f *testing.F) {
	f.Add(true, []byte{0, 1, 0x80, 3, 0x10, 0x9d, 0x01, 0, 2, 0x80, 2, 0x00, 0x01})
	f.Add(false, []byte{0, 1, 0x00, 4, 0x7c, 0x85, 0xaa, 0xbb, 0, 2, 0x80, 3, 0x7c, 0x45, 0xcc})
	f.Add(false, []byte{0, 1, 0x80, 6, 0x18, 0x00, 0x02, 0x67, 0x42, 0xff, 0x7f, 0, 0xc0, 1, 0x65})
	f.Fuzz(func(t *testing.T, vp8 bool, b []byte) {
		if len(b) > maxFuzzInput/4 {
			return
		}
		sink, err := NewReceiveSink(ReceiveOptions{NoDecode: true})
		if err != nil {
			t.Fatal(err)
		}
		now := time.Unix(0, 0)
		sink.now = func() time.Time { return now }
		mime := "video/H264"
		if vp8 {
			mime = "video/VP8"
		}
		tr := sink.OpenTrack(sdk.TrackInfo{Kind: "video", MimeType: mime, ClockRate: 90000, RequestKeyFrame: func() {}})
		defer tr.Close()
		var seq uint16
		var ts uint32
		for len(b) >= 4 {
			// byte 0-1: sequence step (signed); byte 2: marker, time step;
			// byte 3: payload length (6 bits), clock step (2 bits).
			seq += uint16(int16(binary.BigEndian.Uint16(b)))
			ts += uint32(b[2]&0x7f) * 1500
			n := min(int(b[3]&0x3f), len(b)-4)
			now = now.Add(time.Duration(b[3]>>6) * 40 * time.Millisecond)
			p := &rtp.Packet{Header: rtp.Header{Version: 2, SequenceNumber: seq, Timestamp: ts, Marker: b[2]&0x80 != 0},
				Payload: slices.Clone(b[4 : 4+n])}
			tr.WriteRTP(p)
			b = b[4+n:]
		}
		v := tr.(*videoReceiver)
		if held := len(v.asm.pkts); held > maxPendingPkts+1 {
			t.Fatalf("%d packets held", held)
		}
		_ = tr.Stats()
	})
}
