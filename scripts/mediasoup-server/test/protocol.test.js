'use strict';

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const http = require('http');
const { startServer, ProtooPeer, candidateIp } = require('../testutil/helpers');

let srv;
before(async () => { srv = await startServer(['--workers', '2']); });
after(async () => {
	const { code, extraStdout } = await srv.stop();
	assert.equal(code, 0, `server exit code; stderr:\n${srv.stderr()}`);
	assert.equal(extraStdout, '', 'nothing but the ready line on stdout');
});

function getJson(url) {
	return new Promise((resolve, reject) => {
		http.get(url.replace(/^ws/, 'http') + '/status', (res) => {
			let body = '';
			res.on('data', (d) => { body += d; });
			res.on('end', () => resolve(JSON.parse(body)));
		}).on('error', reject);
	});
}

test('ready line', () => {
	assert.equal(srv.ready.event, 'ready');
	assert.match(srv.ready.url, /^ws:\/\/127\.0\.0\.1:\d+$/);
	assert.notEqual(srv.ready.url, 'ws://127.0.0.1:0');
	assert.equal(srv.ready.pid, srv.proc.pid);
	assert.match(srv.ready.mediasoupVersion, /^3\.\d+\.\d+$/);
	assert.equal(srv.ready.workers, 2);
});

test('join sequence, newPeer, peerClosed, room lifecycle', async () => {
	const roomId = 'proto-room';
	const alice = await ProtooPeer.connect(srv.url, { roomId, peerId: 'alice' });

	const ver = await alice.waitNotification('mediasoup-version');
	assert.equal(ver.data.version, srv.ready.mediasoupVersion);

	// 1. router capabilities (raw object in the JS dialect)
	const caps = await alice.ok('getRouterRtpCapabilities');
	assert.ok(Array.isArray(caps.codecs));
	assert.ok(Array.isArray(caps.headerExtensions));
	const mimes = caps.codecs.map((c) => c.mimeType.toLowerCase());
	assert.ok(mimes.includes('audio/opus'), 'opus');
	assert.ok(mimes.includes('video/vp8'), 'VP8');
	assert.ok(mimes.includes('video/vp9'), 'VP9');
	assert.ok(mimes.includes('video/h264'), 'H264');
	const vp8 = caps.codecs.find((c) => c.mimeType === 'video/VP8');
	assert.equal(vp8.parameters['x-google-start-bitrate'], 1000);
	const h264Profiles = caps.codecs.filter((c) => c.mimeType.toLowerCase() === 'video/h264').map((c) => c.parameters['profile-level-id']);
	assert.deepEqual(h264Profiles.sort(), ['42e01f', '4d0032']);

	// 2./3. transports
	const send = await alice.ok('createWebRtcTransport', { forceTcp: false, producing: true, consuming: false });
	assert.equal(typeof send.id, 'string');
	assert.equal(send.iceParameters.iceLite, true);
	assert.equal(typeof send.iceParameters.usernameFragment, 'string');
	assert.equal(typeof send.iceParameters.password, 'string');
	assert.ok(send.iceCandidates.length >= 2);
	for (const c of send.iceCandidates) assert.equal(candidateIp(c), '127.0.0.1');
	const protocols = new Set(send.iceCandidates.map((c) => c.protocol));
	assert.ok(protocols.has('udp') && protocols.has('tcp'), 'UDP and TCP candidates');
	assert.ok(Array.isArray(send.dtlsParameters.fingerprints) && send.dtlsParameters.fingerprints.length > 0);
	for (const fp of send.dtlsParameters.fingerprints) {
		assert.equal(typeof fp.algorithm, 'string');
		assert.match(fp.value, /^[0-9A-F]{2}(:[0-9A-F]{2})+$/);
	}
	assert.equal(send.dtlsParameters.role, 'auto');

	const recv = await alice.ok('createWebRtcTransport', { forceTcp: true, producing: false, consuming: true });
	assert.ok(recv.iceCandidates.length >= 1);
	for (const c of recv.iceCandidates) assert.equal(c.protocol, 'tcp', 'forceTcp gives TCP only');

	// connect with a client fingerprint (no real DTLS needed for the response)
	await alice.ok('connectWebRtcTransport', {
		transportId: send.id,
		dtlsParameters: {
			role: 'client',
			fingerprints: [{ algorithm: 'sha-256', value: Array(32).fill('AB').join(':') }],
		},
	});

	const ice = await alice.ok('restartIce', { transportId: recv.id });
	assert.equal(typeof ice.usernameFragment, 'string');
	assert.notEqual(ice.usernameFragment, recv.iceParameters.usernameFragment);

	const stats = await alice.ok('getTransportStats', { transportId: send.id });
	assert.ok(Array.isArray(stats) && stats.length > 0);
	assert.equal(stats[0].transportId, send.id);

	// 5. join
	const device = { flag: 'callctl', name: 'callctl-test', version: '0.0.0' };
	const j1 = await alice.ok('join', { displayName: 'Alice', device, rtpCapabilities: caps });
	assert.deepEqual(j1, { peers: [] });
	const again = await alice.request('join', { displayName: 'Alice', device, rtpCapabilities: caps });
	assert.notEqual(again.ok, true, 'second join is an error');

	// second peer
	const bob = await ProtooPeer.connect(srv.url, { roomId, peerId: 'bob' });
	await bob.ok('getRouterRtpCapabilities');
	await bob.ok('createWebRtcTransport', { forceTcp: false, producing: false, consuming: true });
	const j2 = await bob.ok('join', { displayName: 'Bob', device, rtpCapabilities: caps });
	assert.deepEqual(j2.peers, [{ id: 'alice', displayName: 'Alice', device }]);

	const np = await alice.waitNotification('newPeer');
	assert.deepEqual(np.data, { id: 'bob', displayName: 'Bob', device });

	// changeDisplayName -> peerDisplayNameChanged to the others
	await bob.ok('changeDisplayName', { displayName: 'Robert' });
	const dn = await alice.waitNotification('peerDisplayNameChanged');
	assert.deepEqual(dn.data, { peerId: 'bob', displayName: 'Robert', oldDisplayName: 'Bob' });

	// control notifications are ignored by the JS dialect (no response, no effect)
	bob.notify('changeDisplayName', { displayName: 'Ignored' });

	assert.equal((await getJson(srv.url)).rooms, 1);

	// bob leaves -> peerClosed
	await bob.close();
	const pc = await alice.waitNotification('peerClosed');
	assert.deepEqual(pc.data, { peerId: 'bob' });

	// last peer leaves -> room closed
	await alice.close();
	let rooms;
	for (let i = 0; i < 50; i++) {
		rooms = (await getJson(srv.url)).rooms;
		if (rooms === 0) break;
		await new Promise((r) => setTimeout(r, 20));
	}
	assert.equal(rooms, 0, 'room closed after the last peer left');
});

test('reconnect with the same peerId replaces the old peer', async () => {
	const roomId = 'reconnect-room';
	const caps0 = { codecs: [], headerExtensions: [] };
	const a1 = await ProtooPeer.connect(srv.url, { roomId, peerId: 'a' });
	await a1.ok('join', { displayName: 'A', device: {}, rtpCapabilities: caps0 });
	const b = await ProtooPeer.connect(srv.url, { roomId, peerId: 'b' });
	await b.ok('join', { displayName: 'B', device: {} });

	const a2 = await ProtooPeer.connect(srv.url, { roomId, peerId: 'a' });
	const closed = await a1.closed;
	assert.equal(closed.code, 4000, 'old connection closed by protoo-server');
	const pc = await b.waitNotification('peerClosed', (d) => d.peerId === 'a');
	assert.equal(pc.data.peerId, 'a');

	// the new one works and the room survived
	const j = await a2.ok('join', { displayName: 'A2', device: {} });
	assert.deepEqual(j.peers.map((p) => p.id), ['b']);
	await b.waitNotification('newPeer', (d) => d.id === 'a' && d.displayName === 'A2');
	await a2.close();
	await b.close();
});
