'use strict';

// Feature detection across mediasoup 3.x versions. Two are installed and
// tested: 3.27.1 (the default) and 3.8.4 (the legacy leg, 2021). Option
// names changed in between (listenIps -> listenInfos, announcedIp ->
// announcedAddress, portRange per listen info, enableRtx on consume), and
// WebRtcServer and ICE consent appeared.

function parseVersion(v) {
	const m = /^(\d+)\.(\d+)\.(\d+)/.exec(String(v || ''));
	if (!m) return [0, 0, 0];
	return [Number(m[1]), Number(m[2]), Number(m[3])];
}

function atLeast(version, major, minor, patch = 0) {
	const [a, b, c] = parseVersion(version);
	if (a !== major) return a > major;
	if (b !== minor) return b > minor;
	return c >= patch;
}

function features(version) {
	return {
		// WebRtcTransportOptions.listenInfos (3.12+); listenIps deprecated later.
		listenInfos: atLeast(version, 3, 12, 0),
		// TransportListenInfo.announcedAddress / portRange (3.13+).
		announcedAddress: atLeast(version, 3, 13, 0),
		portRange: atLeast(version, 3, 13, 0),
		// transport.consume({ enableRtx }) (3.13+).
		enableRtx: atLeast(version, 3, 13, 0),
		// worker.createWebRtcServer() and createWebRtcTransport({ webRtcServer }) (3.10+).
		webRtcServer: atLeast(version, 3, 10, 0),
		// createWebRtcTransport({ iceConsentTimeout }) (3.13.20+): ICE goes
		// 'disconnected' when no STUN Binding request arrives in time (30 s default).
		iceConsentTimeout: atLeast(version, 3, 13, 20),
		// transport.consume({ ignoreDtx }) (3.10.1+).
		ignoreDtx: atLeast(version, 3, 10, 1),
	};
}

// Build the listen part of createWebRtcTransport() options.
function webRtcListenOptions(version, { ip, announcedIp, rtcMinPort, rtcMaxPort, forceTcp }) {
	const f = features(version);
	const enableUdp = !forceTcp;
	const enableTcp = true;
	if (!f.listenInfos) {
		return {
			listenIps: [announcedIp ? { ip, announcedIp } : { ip }],
			enableUdp,
			enableTcp,
			preferUdp: true,
		};
	}
	const protocols = forceTcp ? ['tcp'] : ['udp', 'tcp'];
	const listenInfos = protocols.map((protocol) => {
		const info = { protocol, ip };
		if (announcedIp) {
			if (f.announcedAddress) info.announcedAddress = announcedIp;
			else info.announcedIp = announcedIp;
		}
		if (f.portRange && rtcMinPort && rtcMaxPort) info.portRange = { min: rtcMinPort, max: rtcMaxPort };
		return info;
	});
	return { listenInfos, enableUdp, enableTcp, preferUdp: true };
}

module.exports = { parseVersion, atLeast, features, webRtcListenOptions };
