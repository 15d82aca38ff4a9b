'use strict';

// produce / newConsumer / control requests / DataChannels, without real media.

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { startServer, ProtooPeer, opusRtpParameters, vp8RtpParameters, SCTP_CAPS } = require('../testutil/helpers');

let srv;
before(async () => { srv = await startServer(['--workers', '1']); });
after(async () => {
	const { code, extraStdout } = await srv.stop();
	assert.equal(code, 0, `server exit code; stderr:\n${srv.stderr()}`);
	assert.equal(extraStdout, '');
	assert.doesNotMatch(srv.stderr(), /uncaught exception|unhandled rejection/);
});

async function joinPeer(roomId, peerId, { producing = false, consuming = true, sctp = false, autoAccept = true } = {}) {
	const p = await ProtooPeer.connect(srv.url, { roomId, peerId, autoAccept });
	const caps = await p.ok('getRouterRtpCapabilities');
	const t = {};
	if (producing) {
		t.send = await p.ok('createWebRtcTransport', {
			forceTcp: false, producing: true, consuming: false, sctpCapabilities: sctp ? SCTP_CAPS : undefined,
		});
		if (sctp) assert.ok(t.send.sctpParameters, 'sctpParameters when sctpCapabilities given');
	}
	if (consuming) {
		t.recv = await p.ok('createWebRtcTransport', {
			forceTcp: false, producing: false, consuming: true, sctpCapabilities: sctp ? SCTP_CAPS : undefined,
		});
	}
	const joined = await p.ok('join', {
		displayName: peerId.toUpperCase(),
		device: { flag: 'test', name: 'node', version: process.version },
		rtpCapabilities: consuming ? caps : undefined,
		sctpCapabilities: sctp && consuming ? SCTP_CAPS : undefined,
	});
	return { p, caps, t, joined };
}

test('produce -> newConsumer for the other peer, accept -> consumer resumed', async () => {
	const room = 'media-1';
	const alice = await joinPeer(room, 'alice', { producing: true, consuming: true });
	const bob = await joinPeer(room, 'bob', { producing: false, consuming: true, autoAccept: false });

	const prod = await alice.p.ok('produce', {
		transportId: alice.t.send.id,
		kind: 'audio',
		rtpParameters: opusRtpParameters(12345678),
		appData: { mic: true },
	});
	assert.equal(typeof prod.id, 'string');

	const req = await bob.p.waitRequest('newConsumer');
	const d = req.data;
	assert.equal(d.peerId, 'alice');
	assert.equal(d.producerId, prod.id);
	assert.equal(typeof d.id, 'string');
	assert.equal(d.kind, 'audio');
	assert.equal(d.type, 'simple');
	assert.equal(d.producerPaused, false);
	assert.deepEqual(d.appData, { mic: true, peerId: 'alice' });
	assert.equal(d.rtpParameters.codecs[0].mimeType, 'audio/opus');
	assert.equal(d.rtpParameters.encodings.length, 1);
	assert.equal(typeof d.rtpParameters.encodings[0].ssrc, 'number');
	assert.equal(typeof d.rtpParameters.rtcp.cname, 'string');
	// the producer is not consumed back by its own peer
	assert.equal(alice.p.messages.filter((m) => m.method === 'newConsumer').length, 0);

	// Before accepting, the consumer is paused: no consumerScore yet.
	assert.equal(bob.p.messages.filter((m) => m.method === 'consumerScore').length, 0);
	bob.p.accept(req);
	// The server resumes the consumer on accept and then sends its score.
	const score = await bob.p.waitNotification('consumerScore', (x) => x.consumerId === d.id);
	assert.equal(typeof score.data.score.score, 'number');
	assert.equal(typeof score.data.score.producerScore, 'number');

	const cstats = await bob.p.ok('getConsumerStats', { consumerId: d.id });
	assert.ok(Array.isArray(cstats) && cstats.some((s) => s.type === 'outbound-rtp'));
	const pstats = await alice.p.ok('getProducerStats', { producerId: prod.id });
	assert.ok(Array.isArray(pstats));

	// consumer controls
	await bob.p.ok('pauseConsumer', { consumerId: d.id });
	await bob.p.ok('resumeConsumer', { consumerId: d.id });
	await bob.p.ok('setConsumerPriority', { consumerId: d.id, priority: 2 });
	await bob.p.ok('requestConsumerKeyFrame', { consumerId: d.id });
	const bad = await bob.p.request('pauseConsumer', { consumerId: 'nope' });
	assert.notEqual(bad.ok, true);

	// producer pause/resume -> consumerPaused/consumerResumed for bob
	await alice.p.ok('pauseProducer', { producerId: prod.id });
	await bob.p.waitNotification('consumerPaused', (x) => x.consumerId === d.id);
	await alice.p.ok('resumeProducer', { producerId: prod.id });
	await bob.p.waitNotification('consumerResumed', (x) => x.consumerId === d.id);

	// a late joiner gets consumers for existing producers at join
	const carol = await joinPeer(room, 'carol', { consuming: true });
	const creq = await carol.p.waitRequest('newConsumer', (x) => x.producerId === prod.id);
	assert.equal(creq.data.peerId, 'alice');
	await carol.p.waitNotification('consumerScore', (x) => x.consumerId === creq.data.id);
	// ... and the others learn about carol
	await alice.p.waitNotification('newPeer', (x) => x.id === 'carol');
	await bob.p.waitNotification('newPeer', (x) => x.id === 'carol');

	// a peer that joined without a consuming transport gets no consumers
	const dave = await joinPeer(room, 'dave', { consuming: false });
	await new Promise((r) => setTimeout(r, 200));
	assert.equal(dave.p.messages.filter((m) => m.method === 'newConsumer').length, 0);

	// closeProducer -> consumerClosed to every consumer
	await alice.p.ok('closeProducer', { producerId: prod.id });
	await bob.p.waitNotification('consumerClosed', (x) => x.consumerId === d.id);
	await carol.p.waitNotification('consumerClosed', (x) => x.consumerId === creq.data.id);
	const gone = await alice.p.request('getProducerStats', { producerId: prod.id });
	assert.notEqual(gone.ok, true);

	for (const x of [alice, bob, carol, dave]) await x.p.close();
});

test('video producer, peer leaving closes its consumers', async () => {
	const room = 'media-2';
	const alice = await joinPeer(room, 'alice', { producing: true, consuming: false });
	const bob = await joinPeer(room, 'bob', { consuming: true });
	const prod = await alice.p.ok('produce', {
		transportId: alice.t.send.id, kind: 'video', rtpParameters: vp8RtpParameters(), appData: {},
	});
	const req = await bob.p.waitRequest('newConsumer', (x) => x.producerId === prod.id);
	assert.equal(req.data.kind, 'video');
	assert.equal(req.data.rtpParameters.codecs[0].mimeType, 'video/VP8');
	assert.ok(req.data.rtpParameters.codecs.some((c) => c.mimeType === 'video/rtx'), 'RTX offered');
	await bob.p.waitNotification('consumerScore', (x) => x.consumerId === req.data.id);
	await bob.p.ok('setConsumerPreferredLayers', { consumerId: req.data.id, spatialLayer: 0, temporalLayer: 0 });
	await bob.p.ok('requestConsumerKeyFrame', { consumerId: req.data.id });

	// producer on a transport that does not exist / wrong kind -> error
	const r = await alice.p.request('produce', { transportId: 'nope', kind: 'video', rtpParameters: vp8RtpParameters(1) });
	assert.notEqual(r.ok, true);

	await alice.p.close();
	await bob.p.waitNotification('peerClosed', (x) => x.peerId === 'alice');
	await bob.p.waitNotification('consumerClosed', (x) => x.consumerId === req.data.id);
	await bob.p.close();
});

test('rejected newConsumer is not fatal', async () => {
	const room = 'media-3';
	const alice = await joinPeer(room, 'alice', { producing: true, consuming: false });
	const bob = await joinPeer(room, 'bob', { consuming: true, autoAccept: false });
	const prod = await alice.p.ok('produce', {
		transportId: alice.t.send.id, kind: 'audio', rtpParameters: opusRtpParameters(777), appData: {},
	});
	const req = await bob.p.waitRequest('newConsumer', (x) => x.producerId === prod.id);
	bob.p.reject(req, 500, 'no thanks');
	await new Promise((r) => setTimeout(r, 100));
	assert.equal(bob.p.messages.filter((m) => m.method === 'consumerScore').length, 0, 'stays paused');
	// still usable
	await bob.p.ok('getConsumerStats', { consumerId: req.data.id });
	await alice.p.close();
	await bob.p.close();
});

test('produceData chat -> newDataConsumer; dataConsumerClosed', async () => {
	const room = 'media-4';
	const alice = await joinPeer(room, 'alice', { producing: true, consuming: true, sctp: true });
	const bob = await joinPeer(room, 'bob', { consuming: true, sctp: true });
	const dp = await alice.p.ok('produceData', {
		transportId: alice.t.send.id,
		sctpStreamParameters: { streamId: 0, ordered: true },
		label: 'chat',
		protocol: '',
		appData: { info: 'my-chat-DataProducer' },
	});
	assert.equal(typeof dp.id, 'string');
	const req = await bob.p.waitRequest('newDataConsumer', (x) => x.dataProducerId === dp.id);
	assert.equal(req.data.peerId, 'alice');
	assert.equal(req.data.label, 'chat');
	assert.equal(typeof req.data.id, 'string');
	assert.equal(typeof req.data.sctpStreamParameters.streamId, 'number');
	assert.equal(req.data.appData.info, 'my-chat-DataProducer');

	const s1 = await alice.p.ok('getDataProducerStats', { dataProducerId: dp.id });
	assert.ok(Array.isArray(s1));
	const s2 = await bob.p.ok('getDataConsumerStats', { dataConsumerId: req.data.id });
	assert.ok(Array.isArray(s2));

	// late joiner gets a DataConsumer for the existing chat DataProducer
	const carol = await joinPeer(room, 'carol', { consuming: true, sctp: true });
	await carol.p.waitRequest('newDataConsumer', (x) => x.dataProducerId === dp.id);

	await alice.p.close();
	await bob.p.waitNotification('dataConsumerClosed', (x) => x.dataConsumerId === req.data.id);
	await bob.p.close();
	await carol.p.close();
});
