package mediasoupclient

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	psdp "github.com/pion/sdp/v3"
)

var update = flag.Bool("update", false, "rewrite golden files")

func testRemote(setup string) *remoteSDP {
	return &remoteSDP{
		ICE: IceParameters{UsernameFragment: "ufragabc", Password: "pwd123", IceLite: true},
		Candidates: []IceCandidate{
			{Foundation: "udpcandidate", Priority: 1076302079, IP: "127.0.0.1", Protocol: "udp", Port: 40001, Type: "host"},
			{Foundation: "tcpcandidate", Priority: 1076276479, Address: "127.0.0.1", Protocol: "tcp", Port: 40002, Type: "host", TCPType: "passive"},
		},
		DTLS: DtlsParameters{Role: "auto", Fingerprints: []DtlsFingerprint{
			{Algorithm: "sha-1", Value: "aa:bb"},
			{Algorithm: "sha-256", Value: "0a:1b:2c:3d:4e:5f:60:71:82:93:a4:b5:c6:d7:e8:f9:0a:1b:2c:3d:4e:5f:60:71:82:93:a4:b5:c6:d7:e8:f9"},
			{Algorithm: "sha-512", Value: "cc:dd"},
		}},
		Setup: setup,
	}
}

var vp8 = []RtpCodecParameters{
	{MimeType: "video/VP8", PayloadType: 96, ClockRate: 90000, Parameters: Parameters{},
		RtcpFeedback: []RtcpFeedback{{Type: "nack"}, {Type: "nack", Parameter: "pli"}, {Type: "ccm", Parameter: "fir"}, {Type: "transport-cc"}}},
	{MimeType: "video/rtx", PayloadType: 97, ClockRate: 90000, Parameters: Parameters{"apt": float64(96)}},
}

var opus = []RtpCodecParameters{
	{MimeType: "audio/opus", PayloadType: 111, ClockRate: 48000, Channels: 2,
		Parameters: Parameters{"minptime": float64(10), "useinbandfec": float64(1)}, RtcpFeedback: []RtcpFeedback{{Type: "transport-cc"}}},
}

func TestGolden(t *testing.T) {
	send := testRemote("passive")
	send.Sections = []*mediaSection{
		{MID: "0", Kind: "audio", Direction: "recvonly", Codecs: opus,
			Extensions: []RtpHeaderExtensionParameters{{URI: uriMid, ID: 1}, {URI: uriTransportCC, ID: 3}}},
		{MID: "1", Kind: "video", Direction: "recvonly", Codecs: vp8, RIDs: []string{"r0", "r1", "r2"},
			Extensions: []RtpHeaderExtensionParameters{{URI: uriMid, ID: 1}, {URI: uriTransportCC, ID: 3}}},
	}
	recv := testRemote("actpass")
	recv.Sections = []*mediaSection{
		{MID: "0", Kind: "video", Direction: "sendonly", Codecs: vp8, SSRC: 1111, RtxSSRC: 1112, CNAME: "abc", StreamID: "alice", TrackID: "cons-1",
			Extensions: []RtpHeaderExtensionParameters{{URI: uriMid, ID: 1}, {URI: uriTransportCC, ID: 5}}},
		{MID: "1", Kind: "audio", Direction: "inactive", Codecs: opus, SSRC: 2222, CNAME: "abc", StreamID: "alice", TrackID: "cons-2"},
	}
	for name, r := range map[string]*remoteSDP{"send_answer.sdp": send, "recv_offer.sdp": recv} {
		t.Run(name, func(t *testing.T) {
			got := r.String()
			var sd psdp.SessionDescription
			if err := sd.UnmarshalString(got); err != nil {
				t.Fatalf("pion cannot parse: %v\n%s", err, got)
			}
			path := filepath.Join("testdata", name)
			if *update {
				if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if got != string(want) {
				t.Errorf("%s differs from golden (run go test -update):\n%s", name, got)
			}
		})
	}
}

func TestInvariants(t *testing.T) {
	r := testRemote("passive")
	r.Sections = []*mediaSection{{MID: "0", Kind: "video", Direction: "recvonly", Codecs: vp8}}
	s := r.String()
	for _, must := range []string{
		"a=ice-lite\r\n",               // pion becomes ICE-controlling only with it
		"a=fingerprint:sha-256 0A:1B:", // sha-256 chosen, upper-case
		"a=setup:passive\r\n",
		"a=candidate:udpcandidate 1 udp 1076302079 127.0.0.1 40001 typ host\r\n", // old "ip" field
		"a=candidate:tcpcandidate 1 tcp 1076276479 127.0.0.1 40002 typ host tcptype passive\r\n",
		"a=fmtp:97 apt=96\r\n", // RTX names its media PT
	} {
		if !strings.Contains(s, must) {
			t.Errorf("missing %q in\n%s", must, s)
		}
	}
	v1 := r.String()
	if !strings.Contains(v1, "o=callctl 10000 2 ") {
		t.Error("each render must bump the session version")
	}
}
