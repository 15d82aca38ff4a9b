package mediasoupclient

import (
	"encoding/json"
	"os"
	"testing"
)

func loadRouterCaps(t *testing.T) RtpCapabilities {
	t.Helper()
	b, err := os.ReadFile("testdata/router_caps_mediasoup_3.8.4.json")
	if err != nil {
		t.Fatal(err)
	}
	var caps RtpCapabilities
	if err := json.Unmarshal(b, &caps); err != nil {
		t.Fatal(err)
	}
	return caps
}

// localCaps mirrors what the SDK registers with pion (pion's payload types).
func localCaps() RtpCapabilities {
	vfb := []RtcpFeedback{{Type: "goog-remb"}, {Type: "transport-cc"}, {Type: "ccm", Parameter: "fir"}, {Type: "nack"}, {Type: "nack", Parameter: "pli"}}
	video := func(pt int, mime, fmtp string) RtpCodecCapability {
		return RtpCodecCapability{Kind: "video", MimeType: mime, PreferredPayloadType: pt, ClockRate: 90000, Parameters: parseFmtp(fmtp), RtcpFeedback: vfb}
	}
	rtx := func(pt, apt int) RtpCodecCapability {
		return RtpCodecCapability{Kind: "video", MimeType: "video/rtx", PreferredPayloadType: pt, ClockRate: 90000, Parameters: Parameters{"apt": float64(apt)}}
	}
	return RtpCapabilities{
		Codecs: []RtpCodecCapability{
			{Kind: "audio", MimeType: "audio/opus", PreferredPayloadType: 111, ClockRate: 48000, Channels: 2,
				Parameters: parseFmtp("minptime=10;useinbandfec=1"), RtcpFeedback: []RtcpFeedback{{Type: "transport-cc"}, {Type: "nack"}}},
			video(96, "video/VP8", ""), rtx(97, 96),
			video(98, "video/VP9", "profile-id=0"), rtx(99, 98),
			video(102, "video/H264", "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42001f"), rtx(103, 102),
			video(106, "video/H264", "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f"), rtx(107, 106),
			video(127, "video/H264", "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=4d001f"), rtx(125, 127),
		},
		HeaderExtensions: []RtpHeaderExtension{
			{Kind: "audio", URI: uriMid, PreferredID: 1},
			{Kind: "video", URI: uriMid, PreferredID: 1},
			{Kind: "audio", URI: uriTransportCC, PreferredID: 3},
			{Kind: "video", URI: uriTransportCC, PreferredID: 3},
			{Kind: "audio", URI: uriAudioLevel, PreferredID: 2},
		},
	}
}

func TestExtendAgainstRealRouter(t *testing.T) {
	router := loadRouterCaps(t)
	ext := extendCapabilities(localCaps(), router)

	type want struct{ local, remote, localRtx, remoteRtx int }
	got := map[string]want{}
	for _, c := range ext.Codecs {
		key := c.MimeType
		if c.MimeType == "video/H264" {
			key += "/" + c.RemoteParameters.String("profile-level-id", "")
		}
		got[key] = want{c.LocalPayloadType, c.RemotePayloadType, c.LocalRtxPayloadType, c.RemoteRtxPayloadType}
	}
	// Router PTs from the real 3.8.4 router: opus 100, VP8 101/102,
	// VP9 (profile 2) 103/104, H264 4d0032 105/106, H264 42e01f 107/108.
	expect := map[string]want{
		"audio/opus":        {111, 100, 0, 0},
		"video/VP8":         {96, 101, 97, 102},
		"video/H264/4d0032": {127, 105, 125, 106}, // Main matches local 4d001f (level may differ)
		"video/H264/42e01f": {106, 107, 107, 108}, // Constrained Baseline, not Baseline 42001f
	}
	for k, w := range expect {
		if got[k] != w {
			t.Errorf("%s: got %+v, want %+v", k, got[k], w)
		}
	}
	if _, ok := got["video/VP9"]; ok {
		t.Error("VP9 profile-id 0 must not match the router's profile-id 2")
	}
	if len(ext.Codecs) != len(expect) {
		t.Errorf("%d extended codecs, want %d: %+v", len(ext.Codecs), len(expect), got)
	}
	for _, c := range ext.Codecs {
		if c.MimeType == "video/VP8" {
			types := map[string]bool{}
			for _, fb := range c.RtcpFeedback {
				types[fb.Type+" "+fb.Parameter] = true
			}
			for _, need := range []string{"nack ", "nack pli", "ccm fir", "goog-remb ", "transport-cc "} {
				if !types[need] {
					t.Errorf("VP8 feedback lacks %q: %v", need, c.RtcpFeedback)
				}
			}
		}
		if c.MimeType == "audio/opus" && len(c.RtcpFeedback) != 1 {
			// The 3.8 router announces only transport-cc for opus.
			t.Errorf("opus feedback %v, want only transport-cc", c.RtcpFeedback)
		}
	}
}

func TestRecvCapabilitiesUseRouterIDsAndLocalParams(t *testing.T) {
	router := loadRouterCaps(t)
	recv := extendCapabilities(localCaps(), router).RecvCapabilities()

	byPT := map[int]RtpCodecCapability{}
	for _, c := range recv.Codecs {
		byPT[c.PreferredPayloadType] = c
	}
	if c := byPT[100]; c.MimeType != "audio/opus" || c.Parameters.Number("useinbandfec", 0) != 1 {
		t.Errorf("opus must carry router PT 100 and local params: %+v", c)
	}
	if c := byPT[102]; c.MimeType != "video/rtx" || c.Parameters.Number("apt", 0) != 101 {
		t.Errorf("VP8 RTX must be router PT 102 with apt 101: %+v", c)
	}
	if c := byPT[107]; c.Parameters.String("profile-level-id", "") != "42e01f" {
		t.Errorf("H264 CB must keep local profile-level-id as a string: %+v", c)
	}
	// JSON number types: mediasoup compares with !==.
	b, _ := json.Marshal(byPT[107].Parameters)
	if string(b) != `{"level-asymmetry-allowed":1,"packetization-mode":1,"profile-level-id":"42e01f"}` {
		t.Errorf("H264 parameters JSON %s", b)
	}
	b, _ = json.Marshal(byPT[101])
	var probe map[string]any
	_ = json.Unmarshal(b, &probe)
	if _, has := probe["channels"]; has {
		t.Errorf("video codecs must omit channels: %s", b)
	}

	exts := map[string]RtpHeaderExtension{}
	for _, x := range recv.HeaderExtensions {
		exts[x.Kind+" "+x.URI] = x
	}
	if x, ok := exts["video "+uriMid]; !ok || x.PreferredID != 1 {
		t.Errorf("video mid must use router id 1: %+v", x)
	}
	if x, ok := exts["video "+uriTransportCC]; !ok || x.PreferredID != 5 {
		t.Errorf("video transport-cc must use router id 5 (not local 3): %+v", x)
	}
	if _, ok := exts["audio "+uriTransportCC]; ok {
		t.Error("audio transport-cc is recvonly on the router (sendonly for us): not receivable")
	}
	if _, ok := exts["video "+uriRid]; ok {
		t.Error("rid was not offered locally and must not appear")
	}
}

func TestSendingParametersUseLocalPTsAndReduceFeedback(t *testing.T) {
	ext := extendCapabilities(localCaps(), loadRouterCaps(t))
	local, remote, err := ext.SendingParameters("video", func(c extendedCodec) bool { return c.MimeType == "video/VP8" })
	if err != nil {
		t.Fatal(err)
	}
	if len(local.Codecs) != 2 || local.Codecs[0].PayloadType != 96 || local.Codecs[1].PayloadType != 97 ||
		local.Codecs[1].Parameters.Number("apt", 0) != 96 {
		t.Fatalf("local codecs %+v", local.Codecs)
	}
	for _, fb := range remote.Codecs[0].RtcpFeedback {
		if fb.Type == "goog-remb" {
			t.Error("transport-cc is negotiated: goog-remb must be dropped from the answer")
		}
	}
	if _, _, err := ext.SendingParameters("video", func(c extendedCodec) bool { return c.MimeType == "video/AV1" }); err == nil {
		t.Error("want ErrNoCodec for an unsupported codec")
	}
	if !ext.CanProduce("audio") || !ext.CanProduce("video") {
		t.Error("CanProduce")
	}
}

func TestH264Profiles(t *testing.T) {
	cases := map[string]h264Profile{
		"42e01f": h264ProfileConstrainedBaseline,
		"42001f": h264ProfileBaseline,
		"4d0032": h264ProfileMain,
		"4d001f": h264ProfileMain,
		"640032": h264ProfileHigh,
		"640c1f": h264ProfileConstrainedHigh,
		"f4001f": h264ProfilePredictiveHigh444,
		"58c01f": h264ProfileConstrainedBaseline,
		"58a01f": h264ProfileBaseline,
	}
	for plid, want := range cases {
		if got, ok := parseH264Profile(plid); !ok || got != want {
			t.Errorf("%s: got %v %v, want %v", plid, got, ok, want)
		}
	}
	for _, bad := range []string{"", "42e0", "zzzzzz", "ff001f"} {
		if _, ok := parseH264Profile(bad); ok {
			t.Errorf("%q should not parse", bad)
		}
	}
}

func TestFmtpRoundTrip(t *testing.T) {
	p := parseFmtp("profile-level-id=42e01f; packetization-mode=1;level-asymmetry-allowed=1;x=abc")
	if p["packetization-mode"] != float64(1) || p["profile-level-id"] != "42e01f" || p["x"] != "abc" {
		t.Fatalf("%#v", p)
	}
	if got := formatFmtp(p); got != "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f;x=abc" {
		t.Fatal(got)
	}
}
