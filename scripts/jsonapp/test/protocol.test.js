'use strict';

// The ops and pushes of the jsonapp protocol, against a real server and
// mediasoup worker (no media: see testutil/fixtures.js).

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { startServer, Client } = require('../testutil/client');
const { opus, vp8Simulcast, DTLS } = require('../testutil/fixtures');

let srv;
before(async () => { srv = await startServer(); });
after(async () => {
	const { code } = await srv.stop();
	assert.equal(code, 0);
});

async function join(room, name) {
	const c = await Client.connect(srv.ready.url);
	c.hello = await c.op('hello', { room, name });
	return c;
}

test('hello returns the participant id, router capabilities and an empty snapshot', async () => {
	const c = await Client.connect(srv.ready.url);
	const r = await c.op('hello', { room: 'caps', name: 'alice' });
	assert.match(r.me, /^p\d+$/);
	const mimes = r.routerCaps.codecs.map((x) => x.mimeType.toLowerCase());
	assert.ok(mimes.includes('audio/opus') && mimes.includes('video/vp8'), mimes.join());
	assert.deepEqual(r.producers, []);
	assert.deepEqual(c.log[0], { tx: 't1', result: r }, 'the hello reply is the first message');
	await c.close();
});

test('open-transport renames the ICE/DTLS fields and listens on 127.0.0.1 only', async () => {
	const c = await join('transport', 'alice');
	for (const direction of ['send', 'recv']) {
		const { transport: t } = await c.op('open-transport', { direction });
		assert.equal(typeof t.id, 'string');
		assert.equal(t.direction, direction);
		assert.equal(typeof t.ice.ufrag, 'string');
		assert.equal(typeof t.ice.pwd, 'string');
		assert.equal(t.ice.lite, true, 'mediasoup is ICE-lite');
		assert.ok(t.candidates.length > 0);
		for (const cand of t.candidates) {
			assert.equal(cand.address, '127.0.0.1');
			assert.ok(Number.isInteger(cand.port) && cand.port > 0);
			assert.ok(['udp', 'tcp'].includes(cand.protocol));
			assert.equal(cand.type, 'host');
			assert.equal(cand.ip, undefined, 'mediasoup 3.8 `ip` is renamed `address`');
		}
		assert.ok(t.dtls.fingerprints.length > 0);
		assert.equal(t.dtls.role, 'auto');
		assert.deepEqual(await c.op('connect-transport', { transportId: t.id, dtls: DTLS }), {});
		const again = await c.reply('connect-transport', { transportId: t.id, dtls: DTLS });
		assert.equal(again.error.code, 'failed', 'mediasoup refuses a second connect');
	}
	await c.close();
});

test('publish pushes producer-added; subscribe creates a paused consumer; unpause', async () => {
	const alice = await join('pub', 'alice');
	const bob = await join('pub', 'bob');
	const send = (await alice.op('open-transport', { direction: 'send' })).transport;
	const recv = (await bob.op('open-transport', { direction: 'recv' })).transport;

	const audio = await alice.op('publish', { transportId: send.id, kind: 'audio', rtp: opus(1111), tag: { source: 'mic' } });
	const video = await alice.op('publish', { transportId: send.id, kind: 'video', rtp: vp8Simulcast(2000) });
	const added = await bob.waitEvent('producer-added', (b) => b.producerId === video.producerId);
	assert.deepEqual(added, { producerId: video.producerId, participantId: alice.hello.me, kind: 'video', tag: {} });
	assert.deepEqual(bob.events('producer-added')[0],
		{ producerId: audio.producerId, participantId: alice.hello.me, kind: 'audio', tag: { source: 'mic' } });
	assert.deepEqual(alice.events('producer-added'), [], 'no push about your own producers');

	const listed = await bob.op('list-producers', {});
	assert.deepEqual(listed.producers.map((p) => p.producerId).sort(), [audio.producerId, video.producerId].sort());

	const sub = await bob.op('subscribe', { transportId: recv.id, producerId: video.producerId, caps: bob.hello.routerCaps });
	assert.equal(sub.producerId, video.producerId);
	assert.equal(sub.participantId, alice.hello.me);
	assert.equal(sub.kind, 'video');
	assert.equal(sub.type, 'simulcast');
	assert.equal(sub.paused, true, 'consumers start paused');
	assert.equal(sub.rtp.codecs[0].mimeType, 'video/VP8');
	assert.equal(sub.rtp.encodings.length, 1, 'a simulcast consumer sends one stream');
	assert.deepEqual(await bob.op('unpause', { consumerId: sub.consumerId }), {});

	const wrongWay = await bob.reply('subscribe', { transportId: send.id, producerId: audio.producerId, caps: bob.hello.routerCaps });
	assert.equal(wrongWay.error.code, 'not-found', "alice's transport is not bob's");
	await alice.close();
	await bob.close();
});

test('a late joiner gets existing producers in the hello snapshot, not as pushes', async () => {
	const alice = await join('late', 'alice');
	const send = (await alice.op('open-transport', { direction: 'send' })).transport;
	const { producerId } = await alice.op('publish', { transportId: send.id, kind: 'audio', rtp: opus(3333) });
	const carol = await join('late', 'carol');
	assert.deepEqual(carol.hello.producers, [{ producerId, participantId: alice.hello.me, kind: 'audio', tag: {} }]);
	// A producer published after carol's hello is pushed; then the log holds
	// exactly: hello reply, that one push.
	const second = await alice.op('publish', { transportId: send.id, kind: 'video', rtp: vp8Simulcast(4000) });
	await carol.waitEvent('producer-added', (b) => b.producerId === second.producerId);
	assert.equal(carol.log.length, 2);
	assert.equal(carol.events('producer-added').length, 1);
	await alice.close();
	await carol.close();
});

test('leaving pushes producer-removed for each producer, then participant-left; consumers go away', async () => {
	const alice = await join('leave', 'alice');
	const bob = await join('leave', 'bob');
	const send = (await alice.op('open-transport', { direction: 'send' })).transport;
	const recv = (await bob.op('open-transport', { direction: 'recv' })).transport;
	const a = await alice.op('publish', { transportId: send.id, kind: 'audio', rtp: opus(5555) });
	const v = await alice.op('publish', { transportId: send.id, kind: 'video', rtp: vp8Simulcast(6000) });
	const sub = await bob.op('subscribe', { transportId: recv.id, producerId: a.producerId, caps: bob.hello.routerCaps });

	// unpublish: one producer-removed, and bob's consumer of it is gone.
	assert.deepEqual(await alice.op('unpublish', { producerId: a.producerId }), {});
	await bob.waitEvent('producer-removed', (b) => b.producerId === a.producerId);
	assert.equal((await bob.reply('unpause', { consumerId: sub.consumerId })).error.code, 'not-found');

	await alice.close();
	await bob.waitEvent('participant-left');
	const tail = bob.log.filter((m) => m.event === 'producer-removed' || m.event === 'participant-left');
	assert.deepEqual(tail, [
		{ event: 'producer-removed', body: { producerId: a.producerId } },
		{ event: 'producer-removed', body: { producerId: v.producerId } },
		{ event: 'participant-left', body: { participantId: alice.hello.me } },
	]);
	assert.deepEqual((await bob.op('list-producers', {})).producers, []);
	await bob.close();
});

test('bye replies, then the server closes the socket with 1000', async () => {
	const alice = await join('bye', 'alice');
	const bob = await join('bye', 'bob');
	assert.deepEqual(await alice.op('bye', {}), {});
	assert.equal((await alice.closed).code, 1000);
	assert.deepEqual(await bob.waitEvent('participant-left'), { participantId: alice.hello.me });
	await bob.close();
	// The room was emptied and closed; the same name makes a fresh one.
	const again = await join('bye', 'alice');
	assert.deepEqual(again.hello.producers, []);
	await again.close();
});

test('subscribe refuses caps that cannot receive the producer', async () => {
	const alice = await join('caps2', 'alice');
	const send = (await alice.op('open-transport', { direction: 'send' })).transport;
	const recv = (await alice.op('open-transport', { direction: 'recv' })).transport;
	const v = await alice.op('publish', { transportId: send.id, kind: 'video', rtp: vp8Simulcast(7000) });
	const audioOnly = { ...alice.hello.routerCaps, codecs: alice.hello.routerCaps.codecs.filter((c) => c.kind === 'audio') };
	const r = await alice.reply('subscribe', { transportId: recv.id, producerId: v.producerId, caps: audioOnly });
	assert.equal(r.error.code, 'failed');
	assert.match(r.error.message, /cannot receive/);
	// Subscribing to your own producer is allowed (loopback).
	const own = await alice.op('subscribe', { transportId: recv.id, producerId: v.producerId, caps: alice.hello.routerCaps });
	assert.equal(own.participantId, alice.hello.me);
	await alice.close();
});
