package capture

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
)

// Ogg (RFC 3533) carrying Opus (RFC 7845).
//
// pion's oggreader returns whole page payloads, which loses the packet
// boundaries when a page holds several packets or a packet spans pages, so
// the replay splits pages into packets itself from their lacing values.
const (
	oggCapturePattern = "OggS"
	oggPageHeaderSize = 27
	opusSampleRate    = 48000
)

var oggCRCTable = func() (t [256]uint32) {
	for i := range t {
		r := uint32(i) << 24
		for range 8 {
			if r&0x80000000 != 0 {
				r = r<<1 ^ 0x04c11db7
			} else {
				r <<= 1
			}
		}
		t[i] = r
	}
	return t
}()

// oggCRC is the page checksum: CRC-32, polynomial 0x04c11db7, no
// reflection, computed with the checksum field zeroed.
func oggCRC(page []byte) uint32 {
	var crc uint32
	for i, v := range page {
		if i >= 22 && i < 26 {
			v = 0
		}
		crc = crc<<8 ^ oggCRCTable[byte(crc>>24)^v]
	}
	return crc
}

// oggPackets returns the packets of the first logical stream of an Ogg
// file, in order. Packets that lie within one page are slices of b; those
// spanning pages are copied. Pages of other streams are skipped.
func oggPackets(b []byte) ([][]byte, error) {
	var (
		packets [][]byte
		partial []byte // a packet continued on the next page
		serial  uint32
		first   = true
	)
	for p := 0; p < len(b); {
		if len(b)-p < oggPageHeaderSize || string(b[p:p+4]) != oggCapturePattern {
			return nil, fmt.Errorf("ogg: no page at byte %d", p)
		}
		if v := b[p+4]; v != 0 {
			return nil, fmt.Errorf("ogg: page version %d", v)
		}
		flags := b[p+5]
		pageSerial := binary.LittleEndian.Uint32(b[p+14:])
		nseg := int(b[p+26])
		body := p + oggPageHeaderSize + nseg
		if body > len(b) {
			return nil, fmt.Errorf("ogg: truncated page at byte %d", p)
		}
		lacing := b[p+oggPageHeaderSize : body]
		size := 0
		for _, l := range lacing {
			size += int(l)
		}
		end := body + size
		if end > len(b) {
			return nil, fmt.Errorf("ogg: truncated page at byte %d", p)
		}
		if oggCRC(b[p:end]) != binary.LittleEndian.Uint32(b[p+22:]) {
			return nil, fmt.Errorf("ogg: bad checksum in page at byte %d", p)
		}
		if first {
			serial, first = pageSerial, false
		}
		if pageSerial != serial {
			p = end
			continue
		}
		continued := flags&1 != 0
		if !continued {
			partial = nil // the continuation went missing: drop the fragment
		}
		// A continued packet whose start we do not have is skipped.
		skip := continued && partial == nil
		// Walk the lacing values: a value below 255 ends a packet.
		pkt := body
		pos := body
		for _, l := range lacing {
			pos += int(l)
			if l == 255 {
				continue
			}
			switch {
			case skip:
				skip = false
			case partial != nil:
				packets = append(packets, append(partial, b[pkt:pos]...))
				partial = nil
			case pos > pkt:
				packets = append(packets, b[pkt:pos:pos])
			}
			pkt = pos
		}
		if pkt < end && !skip { // the last packet goes on in the next page
			partial = append(partial, b[pkt:end]...)
		}
		p = end
	}
	return packets, nil
}

// parseOggOpus reads an Ogg Opus file: the OpusHead and OpusTags header
// packets, then audio packets whose durations come from their TOC bytes.
func parseOggOpus(b []byte) (*clip, error) {
	packets, err := oggPackets(b)
	if err != nil {
		return nil, err
	}
	if len(packets) < 2 || !bytes.HasPrefix(packets[0], []byte("OpusHead")) || len(packets[0]) < 19 {
		return nil, errors.New("ogg: not an Opus stream (no OpusHead)")
	}
	if !bytes.HasPrefix(packets[1], []byte("OpusTags")) {
		return nil, errors.New("ogg: no OpusTags after OpusHead")
	}
	if family := packets[0][18]; family != 0 && family != 1 || packets[0][9] > 2 {
		return nil, fmt.Errorf("ogg: %d channels in mapping family %d (want mono or stereo)", packets[0][9], packets[0][18])
	}
	c := &clip{codec: codecOpus}
	for i, p := range packets[2:] {
		n, ok := opusPacketSamples48k(p)
		if !ok {
			return nil, fmt.Errorf("ogg: invalid Opus packet %d", i)
		}
		c.frames = append(c.frames, clipFrame{data: p, samples: n})
	}
	return c, nil
}

// opusPacketSamples48k returns the duration of an Opus packet in 48 kHz
// samples, from its TOC byte and frame count (RFC 6716, section 3.1).
func opusPacketSamples48k(p []byte) (int, bool) {
	if len(p) == 0 {
		return 0, false
	}
	toc := p[0]
	config := int(toc >> 3)
	var frame int // samples per frame at 48 kHz
	switch {
	case config < 12: // SILK: 10, 20, 40, 60 ms
		frame = [...]int{480, 960, 1920, 2880}[config%4]
	case config < 16: // hybrid: 10, 20 ms
		frame = [...]int{480, 960}[config%2]
	default: // CELT: 2.5, 5, 10, 20 ms
		frame = [...]int{120, 240, 480, 960}[config%4]
	}
	frames := 1
	switch toc & 3 {
	case 1, 2:
		frames = 2
	case 3:
		if len(p) < 2 || p[1]&0x3f == 0 {
			return 0, false
		}
		frames = int(p[1] & 0x3f)
	}
	if n := frames * frame; n <= 5760 { // at most 120 ms
		return n, true
	}
	return 0, false
}
