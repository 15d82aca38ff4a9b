'use strict';

// rtpParameters a WebRTC sender would publish. mediasoup accepts a producer
// on a transport that was never connected, so the protocol can be tested
// without a browser (no media flows; the Go example proves media).

function opus(ssrc) {
	return {
		codecs: [{
			mimeType: 'audio/opus', payloadType: 111, clockRate: 48000, channels: 2,
			parameters: { useinbandfec: 1 }, rtcpFeedback: [],
		}],
		headerExtensions: [],
		encodings: [{ ssrc }],
		rtcp: { cname: `audio-${ssrc}` },
	};
}

// Three simulcast layers with RTX, like mediasoup-client would send.
function vp8Simulcast(firstSsrc) {
	const fb = [{ type: 'nack' }, { type: 'nack', parameter: 'pli' }, { type: 'ccm', parameter: 'fir' }, { type: 'goog-remb' }];
	return {
		codecs: [
			{ mimeType: 'video/VP8', payloadType: 96, clockRate: 90000, parameters: {}, rtcpFeedback: fb },
			{ mimeType: 'video/rtx', payloadType: 97, clockRate: 90000, parameters: { apt: 96 }, rtcpFeedback: [] },
		],
		headerExtensions: [],
		encodings: [0, 1, 2].map((i) => ({
			ssrc: firstSsrc + 2 * i,
			rtx: { ssrc: firstSsrc + 2 * i + 1 },
			maxBitrate: [100000, 300000, 900000][i],
			scaleResolutionDownBy: [4, 2, 1][i],
		})),
		rtcp: { cname: `video-${firstSsrc}` },
	};
}

// Plausible remote DTLS parameters (connect() only stores them).
const DTLS = {
	role: 'client',
	fingerprints: [{ algorithm: 'sha-256', value: Array.from({ length: 32 }, () => 'AB').join(':') }],
};

module.exports = { opus, vp8Simulcast, DTLS };
