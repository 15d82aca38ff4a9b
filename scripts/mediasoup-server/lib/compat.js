'use strict';

// Feature detection across mediasoup 3.x versions. The pinned version is
// 3.8.4 (builds offline); newer 3.1x installs are supported on a best-effort
// basis: option names changed (listenIps -> listenInfos, announcedIp ->
// announcedAddress, portRange per listen info, enableRtx on consume).

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
