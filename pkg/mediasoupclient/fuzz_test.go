package mediasoupclient

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	psdp "github.com/pion/sdp/v3"
)

// FuzzExtendCapabilities matches arbitrary router capabilities against
// the client's: it must never panic, and what it derives must only name
// codecs the router offered.
func FuzzExtendCapabilities(f *testing.F) {
	if b, err := os.ReadFile("testdata/router_caps_mediasoup_3.8.4.json"); err == nil {
		f.Add(b)
	}
	f.Add([]byte(`{"codecs":[{"kind":"video","mimeType":"video/H264","clockRate":90000,"preferredPayloadType":100,"parameters":{"profile-level-id":"zzzzzz","packetization-mode":"x"}}]}`))
	f.Add([]byte(`{"codecs":[{"kind":"video","mimeType":"video/rtx","clockRate":90000,"preferredPayloadType":101,"parameters":{"apt":[]}}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var caps RtpCapabilities
		if json.Unmarshal(data, &caps) != nil {
			return
		}
		ext := extendCapabilities(nativeCapabilities(), caps)
		recv := ext.RecvCapabilities()
		offered := map[int]bool{}
		for _, c := range caps.Codecs {
			offered[c.PreferredPayloadType] = true
		}
		for _, c := range recv.Codecs {
			if !offered[c.PreferredPayloadType] {
				t.Fatalf("receive capabilities name payload type %d the router did not offer", c.PreferredPayloadType)
			}
		}
		for _, kind := range []string{"audio", "video"} {
			_, _, _ = ext.SendingParameters(kind, nil)
		}
	})
}

// FuzzConsumerSDP builds the remote offer for arbitrary consumer
// parameters. Whatever validation lets through must render to an SDP
// that pion parses, with exactly one m-section per consumer: no string
// from the server may add lines of its own.
func FuzzConsumerSDP(f *testing.F) {
	seed, _ := json.Marshal(consumerParams("0", 1000))
	f.Add(seed)
	f.Add([]byte(`{"ID":"c","ProducerID":"p","Kind":"video","StreamID":"a\r\nm=video 9","RtpParameters":{"mid":"1","codecs":[{"mimeType":"video/VP8","payloadType":101,"clockRate":90000,"parameters":{"x":"1\r\na=sendrecv"}}],"encodings":[{"ssrc":5}],"rtcp":{"cname":"c\r\nm=audio"}}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var o ConsumerOptions
		if json.Unmarshal(data, &o) != nil || o.validate() != nil {
			return
		}
		enc := o.RtpParameters.Encodings[0]
		r := testRemote("actpass")
		sec := &mediaSection{
			MID: orDefault(o.RtpParameters.MID, "0"), Kind: o.Kind, Direction: "sendonly",
			Codecs: o.RtpParameters.Codecs, Extensions: o.RtpParameters.HeaderExtensions,
			SSRC: enc.SSRC, CNAME: orDefault(o.RtpParameters.Rtcp.CNAME, "-"),
			StreamID: msidToken(o.StreamID), TrackID: msidToken(o.ID),
		}
		r.Sections = []*mediaSection{sec}
		text := r.String()
		if n := strings.Count(text, "\r\nm="); n != 1 {
			t.Fatalf("%d m-sections for one consumer:\n%s", n, text)
		}
		var sd psdp.SessionDescription
		if err := sd.UnmarshalString(text); err != nil {
			t.Fatalf("pion cannot parse the offer: %v\n%s", err, text)
		}
	})
}
