'use strict';

// Bad input gets an error reply (or, for oversized frames, a 1009 close);
// the server never crashes.

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { startServer, Client } = require('../testutil/client');
const { opus, DTLS } = require('../testutil/fixtures');

let srv;
before(async () => { srv = await startServer(); });
after(async () => {
	const { code, extraStdout } = await srv.stop();
	assert.equal(code, 0);
	assert.equal(extraStdout, '');
	assert.doesNotMatch(srv.stderr(), /uncaught|unhandled|TypeError/i);
});

// Sends raw text and returns the next message received.
async function rawReply(c, text) {
	const n = c.log.length;
	c.sendRaw(text);
	return c.waitFor((m) => c.log.indexOf(m) >= n);
}

test('unusable messages: error reply with tx null', async () => {
	const c = await Client.connect(srv.ready.url);
	const cases = [
		['{nope', 'bad-json'],
		['', 'bad-json'],
		['null', 'bad-request'],
		['[]', 'bad-request'],
		['42', 'bad-request'],
		['"hello"', 'bad-request'],
		['{"op":"hello","body":{"room":"r","name":"n"}}', 'bad-request'], // no tx
		['{"op":"hello","tx":7,"body":{"room":"r","name":"n"}}', 'bad-request'], // tx not a string
		['{"op":"hello","tx":""}', 'bad-request'],
	];
	for (const [text, code] of cases) {
		const m = await rawReply(c, text);
		assert.equal(m.tx, null, text);
		assert.equal(m.error.code, code, `${text}: ${m.error.message}`);
	}
	c.ws.send(Buffer.from('{"op":"hello","tx":"b","body":{}}'), { binary: true });
	const bin = await c.waitFor((m) => m.error && /binary/.test(m.error.message));
	assert.equal(bin.error.code, 'bad-request');
	await c.close();
});

test('unknown ops, bad bodies and ops before hello: error reply with the tx', async () => {
	const c = await Client.connect(srv.ready.url);
	const cases = [
		[{ op: 'join', tx: 'a' }, 'unknown-op', /unknown op "join"/],
		[{ op: 'constructor', tx: 'b' }, 'unknown-op', /unknown op/],
		[{ op: 42, tx: 'c' }, 'bad-request', /op must be a string/],
		[{ op: 'hello', tx: 'd', body: [] }, 'bad-request', /body must be an object/],
		[{ op: 'hello', tx: 'e', body: { name: 'n' } }, 'bad-request', /body\.room is missing/],
		[{ op: 'hello', tx: 'f', body: { room: 'r', name: 'x'.repeat(129) } }, 'bad-request', /body\.name must be/],
		[{ op: 'open-transport', tx: 'g', body: { direction: 'send' } }, 'hello-first', /hello first/],
		[{ op: 'list-producers', tx: 'h' }, 'hello-first', /hello first/],
	];
	for (const [msg, code, re] of cases) {
		const m = await rawReply(c, JSON.stringify(msg));
		assert.equal(m.tx, msg.tx);
		assert.equal(m.error.code, code, JSON.stringify(m));
		assert.match(m.error.message, re);
	}
	await c.close();
});

test('bad fields and unknown ids after hello', async () => {
	const c = await Client.connect(srv.ready.url);
	await c.op('hello', { room: 'bad', name: 'n' });
	const recv = (await c.op('open-transport', { direction: 'recv' })).transport;
	const send = (await c.op('open-transport', { direction: 'send' })).transport;
	const cases = [
		['hello', { room: 'bad', name: 'n' }, 'bad-request', /already/],
		['open-transport', { direction: 'both' }, 'bad-request', /"send" or "recv"/],
		['connect-transport', { transportId: 'nope', dtls: DTLS }, 'not-found', /no transport "nope"/],
		['connect-transport', { transportId: send.id, dtls: { role: 'client' } }, 'bad-request', /fingerprints/],
		['publish', { transportId: send.id, kind: 'data', rtp: opus(1) }, 'bad-request', /"audio" or "video"/],
		['publish', { transportId: send.id, kind: 'audio', rtp: { codecs: 'x' } }, 'failed', /./],
		['publish', { transportId: send.id, kind: 'audio', rtp: opus(1), tag: 'mic' }, 'bad-request', /body\.tag must be an object/],
		['publish', { transportId: recv.id, kind: 'audio', rtp: opus(1) }, 'bad-request', /recv transport, not send/],
		['subscribe', { transportId: recv.id, producerId: 'nope', caps: {} }, 'not-found', /no producer/],
		['subscribe', { transportId: recv.id, producerId: 'nope' }, 'bad-request', /body\.caps is missing/],
		['unpause', { consumerId: 'nope' }, 'not-found', /no consumer/],
		['unpublish', { producerId: 'nope' }, 'not-found', /no producer/],
	];
	for (const [op, body, code, re] of cases) {
		const m = await c.reply(op, body);
		assert.ok(m.error, `${op} ${JSON.stringify(body)} should fail`);
		assert.equal(m.error.code, code, `${op}: ${m.error.message}`);
		assert.match(m.error.message, re);
	}
	// Still usable after all that.
	const p = await c.op('publish', { transportId: send.id, kind: 'audio', rtp: opus(8888) });
	const producers = (await c.op('list-producers', {})).producers;
	assert.deepEqual(producers.map((x) => x.producerId), [p.producerId]);
	await c.close();
});

test('an oversized frame closes that socket with 1009; the server keeps serving', async () => {
	const c = await Client.connect(srv.ready.url);
	c.sendRaw(JSON.stringify({ op: 'hello', tx: 'big', body: { room: 'r', name: 'x'.repeat(200 * 1024) } }));
	assert.equal((await c.closed).code, 1009);
	const d = await Client.connect(srv.ready.url);
	assert.match((await d.op('hello', { room: 'r', name: 'ok' })).me, /^p\d+$/);
	await d.close();
});
