'use strict';

// --dialect ts: the TypeScript mediasoup-demo wire dialect (doc section 1.7).

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { startServer, ProtooPeer, opusRtpParameters, SCTP_CAPS } = require('../testutil/helpers');

let srv;
before(async () => { srv = await startServer(['--workers', '1', '--dialect', 'ts']); });
after(async () => {
	const { code, extraStdout } = await srv.stop();
	assert.equal(code, 0, `server exit code; stderr:\n${srv.stderr()}`);
	assert.equal(extraStdout, '');
	assert.doesNotMatch(srv.stderr(), /uncaught exception|unhandled rejection/);
});

const device = { flag: 'callctl', name: 'callctl', version: '0' };

test('ts dialect: wrapped responses, notifications for control methods, consumerId', async () => {
	const room = 'ts-room';
	const alice = await ProtooPeer.connect(srv.url, { roomId: room, peerId: 'alice' });
	const ver = await alice.waitNotification('mediasoupVersion');
	assert.equal(ver.data.version, srv.ready.mediasoupVersion);
	assert.equal(alice.messages.filter((m) => m.method === 'mediasoup-version').length, 0);

	const capsRes = await alice.ok('getRouterRtpCapabilities');
	assert.ok(capsRes.routerRtpCapabilities, 'wrapped {routerRtpCapabilities}');
	assert.equal(capsRes.codecs, undefined);
	const caps = capsRes.routerRtpCapabilities;
	assert.ok(caps.codecs.some((c) => c.mimeType === 'audio/opus'));

	const send = await alice.ok('createWebRtcTransport', { forceTcp: false, appData: { direction: 'producer' } });
	assert.equal(typeof send.transportId, 'string');
	assert.equal(send.id, undefined);
	assert.equal(send.iceParameters.iceLite, true);
	assert.ok(send.dtlsParameters.fingerprints.length > 0);

	await alice.ok('connectWebRtcTransport', {
		transportId: send.transportId,
		dtlsParameters: { role: 'client', fingerprints: [{ algorithm: 'sha-256', value: Array(32).fill('CD').join(':') }] },
	});
	const ice = await alice.ok('restartIce', { transportId: send.transportId });
	assert.equal(typeof ice.iceParameters.usernameFragment, 'string');
	const ts = await alice.ok('getTransportStats', { transportId: send.transportId });
	assert.ok(Array.isArray(ts.stats));

	const j1 = await alice.ok('join', { displayName: 'Alice', device });
	assert.deepEqual(j1, { peers: [] });

	const bob = await ProtooPeer.connect(srv.url, { roomId: room, peerId: 'bob', autoAccept: false });
	await bob.ok('getRouterRtpCapabilities');
	const recv = await bob.ok('createWebRtcTransport', { forceTcp: false, appData: { direction: 'consumer' }, sctpCapabilities: SCTP_CAPS });
	assert.ok(recv.sctpParameters);
	const j2 = await bob.ok('join', { displayName: 'Bob', device, rtpCapabilities: caps, sctpCapabilities: SCTP_CAPS });
	assert.equal(j2.peers.length, 1);
	assert.equal(j2.peers[0].peerId, 'alice');
	assert.equal(j2.peers[0].displayName, 'Alice');
	assert.deepEqual(j2.peers[0].device, device);
	assert.equal(j2.peers[0].id, undefined);
	assert.equal(typeof j2.peers[0].remoteAddress, 'string');

	const np = await alice.waitNotification('newPeer');
	assert.equal(np.data.peer.peerId, 'bob');
	assert.equal(np.data.peer.displayName, 'Bob');

	// produce requires appData.source
	const noSource = await alice.request('produce', { transportId: send.transportId, kind: 'audio', rtpParameters: opusRtpParameters(1) });
	assert.notEqual(noSource.ok, true);
	const prod = await alice.ok('produce', {
		transportId: send.transportId, kind: 'audio', rtpParameters: opusRtpParameters(4242), appData: { source: 'audio' },
	});
	assert.equal(typeof prod.producerId, 'string');
	assert.equal(prod.id, undefined);

	const req = await bob.waitRequest('newConsumer');
	assert.equal(req.data.peerId, 'alice');
	assert.equal(req.data.producerId, prod.producerId);
	assert.equal(req.data.transportId, recv.transportId);
	assert.equal(typeof req.data.consumerId, 'string');
	assert.equal(req.data.id, undefined);
	assert.equal(req.data.kind, 'audio');
	assert.equal(req.data.producerPaused, false);
	assert.ok(req.data.consumerScore);
	assert.deepEqual(req.data.appData, { peerId: 'alice', source: 'audio' });
	bob.accept(req);
	await bob.waitNotification('consumerScore', (x) => x.consumerId === req.data.consumerId);

	// control methods: requests are unknown ...
	for (const method of ['pauseProducer', 'closeProducer', 'changeDisplayName', 'pauseConsumer', 'setConsumerPreferredLayers']) {
		const r = await alice.request(method, { producerId: prod.producerId, consumerId: 'x', displayName: 'x' });
		assert.notEqual(r.ok, true, method);
		assert.equal(r.errorCode, 500, method);
		assert.match(r.errorReason, /unknown request/, method);
	}
	// ... notifications work
	alice.notify('pauseProducer', { producerId: prod.producerId });
	await bob.waitNotification('consumerPaused', (x) => x.consumerId === req.data.consumerId);
	alice.notify('resumeProducer', { producerId: prod.producerId });
	await bob.waitNotification('consumerResumed', (x) => x.consumerId === req.data.consumerId);
	bob.notify('pauseConsumer', { consumerId: req.data.consumerId });
	bob.notify('resumeConsumer', { consumerId: req.data.consumerId });
	bob.notify('requestConsumerKeyFrame', { consumerId: req.data.consumerId });
	alice.notify('changeDisplayName', { displayName: 'Alicia' });
	const dn = await bob.waitNotification('peerDisplayNameChanged');
	assert.deepEqual(dn.data, { peerId: 'alice', displayName: 'Alicia', oldDisplayName: 'Alice' });
	const cs = await bob.ok('getConsumerStats', { consumerId: req.data.consumerId });
	assert.ok(Array.isArray(cs.stats));

	alice.notify('closeProducer', { producerId: prod.producerId });
	await bob.waitNotification('consumerClosed', (x) => x.consumerId === req.data.consumerId);

	// no downlinkBwe in the ts dialect
	assert.equal(bob.messages.filter((m) => m.method === 'downlinkBwe').length, 0);

	await alice.close();
	const pc = await bob.waitNotification('peerClosed');
	assert.equal(pc.data.peerId, 'alice');
	await bob.close();
});

test('ts dialect: produceData routed by appData.channel', async () => {
	const room = 'ts-data';
	const alice = await ProtooPeer.connect(srv.url, { roomId: room, peerId: 'alice' });
	const send = await alice.ok('createWebRtcTransport', { appData: { direction: 'producer' }, sctpCapabilities: SCTP_CAPS });
	await alice.ok('join', { displayName: 'A', device });
	const bob = await ProtooPeer.connect(srv.url, { roomId: room, peerId: 'bob' });
	await bob.ok('createWebRtcTransport', { appData: { direction: 'consumer' }, sctpCapabilities: SCTP_CAPS });
	await bob.ok('join', { displayName: 'B', device, sctpCapabilities: SCTP_CAPS });

	const dp = await alice.ok('produceData', {
		transportId: send.transportId,
		sctpStreamParameters: { streamId: 1, ordered: true },
		label: 'whatever',
		protocol: '',
		appData: { channel: 'chat' },
	});
	assert.equal(typeof dp.dataProducerId, 'string');
	const req = await bob.waitRequest('newDataConsumer');
	assert.equal(req.data.dataProducerId, dp.dataProducerId);
	assert.equal(typeof req.data.dataConsumerId, 'string');
	assert.deepEqual(req.data.appData, { peerId: 'alice', channel: 'chat' });
	await alice.close();
	await bob.close();
});

test('ts dialect: a peer that never joins is closed (JOIN_TIMEOUT_MS)', async () => {
	const s2 = await startServer(['--workers', '1', '--dialect', 'ts', '--join-timeout-ms', '300']);
	try {
		const t0 = Date.now();
		const idle = await ProtooPeer.connect(s2.url, { roomId: 'ts-timeout', peerId: 'idle' });
		const joiner = await ProtooPeer.connect(s2.url, { roomId: 'ts-timeout', peerId: 'joiner' });
		await joiner.ok('join', { displayName: 'J', device });
		const c = await idle.closed;
		assert.equal(c.code, 4000);
		assert.ok(Date.now() - t0 >= 250);
		await new Promise((r) => setTimeout(r, 200));
		await joiner.ok('getRouterRtpCapabilities'); // joined peer stays
		await joiner.close();
	} finally {
		const { code } = await s2.stop();
		assert.equal(code, 0);
	}
});
