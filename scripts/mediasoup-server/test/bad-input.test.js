'use strict';

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const http = require('http');
const { startServer, ProtooPeer, WebSocket } = require('../testutil/helpers');

let srv;
before(async () => { srv = await startServer(['--workers', '1']); });
after(async () => {
	const { code, extraStdout } = await srv.stop();
	assert.equal(code, 0, `server exit code; stderr:\n${srv.stderr()}`);
	assert.equal(extraStdout, '');
	assert.doesNotMatch(srv.stderr(), /uncaught exception|unhandled rejection/, 'no stray exceptions');
});

// Raw WebSocket upgrade; resolves with the HTTP status code of the answer.
function upgradeStatus(path, { protocol = 'protoo' } = {}) {
	const { port } = new URL(srv.url);
	return new Promise((resolve, reject) => {
		const headers = {
			Connection: 'Upgrade',
			Upgrade: 'websocket',
			'Sec-WebSocket-Version': '13',
			'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==',
		};
		if (protocol) headers['Sec-WebSocket-Protocol'] = protocol;
		const req = http.request({ host: '127.0.0.1', port, path, headers });
		req.on('upgrade', (res, socket) => { socket.destroy(); resolve(res.statusCode); });
		req.on('response', (res) => { res.resume(); resolve(res.statusCode); });
		req.on('error', reject);
		req.end();
	});
}

async function assertServing(roomId = 'still-serving') {
	const p = await ProtooPeer.connect(srv.url, { roomId, peerId: `probe-${Math.random()}` });
	const caps = await p.ok('getRouterRtpCapabilities');
	assert.ok(caps.codecs.length > 0);
	await p.close();
}

test('unknown method -> error response 500', async () => {
	const p = await ProtooPeer.connect(srv.url, { roomId: 'bad', peerId: 'u1' });
	const res = await p.request('fooBar', {});
	assert.equal(res.response, true);
	assert.notEqual(res.ok, true);
	assert.equal(res.errorCode, 500);
	assert.equal(res.errorReason, 'unknown request.method "fooBar"');
	await p.close();
});

test('produce and other J-methods before join -> error response', async () => {
	const p = await ProtooPeer.connect(srv.url, { roomId: 'bad', peerId: 'u2' });
	const t = await p.ok('createWebRtcTransport', { producing: true, consuming: false });
	for (const [method, data] of [
		['produce', { transportId: t.id, kind: 'audio', rtpParameters: {}, appData: {} }],
		['closeProducer', { producerId: 'x' }],
		['pauseConsumer', { consumerId: 'x' }],
		['produceData', { transportId: t.id, sctpStreamParameters: { streamId: 0 } }],
		['changeDisplayName', { displayName: 'x' }],
	]) {
		const res = await p.request(method, data);
		assert.notEqual(res.ok, true, method);
		assert.equal(res.errorCode, 403, method);
		assert.match(res.errorReason, /not yet joined/, method);
	}
	// unknown ids / bad data are errors, not crashes
	const r1 = await p.request('connectWebRtcTransport', { transportId: 'nope', dtlsParameters: {} });
	assert.equal(r1.errorCode, 500);
	assert.match(r1.errorReason, /not found/);
	const r2 = await p.request('connectWebRtcTransport', { transportId: t.id, dtlsParameters: 42 });
	assert.notEqual(r2.ok, true);
	const r3 = await p.request('getRouterRtpCapabilities', 'not-an-object');
	assert.equal(r3.ok, true);
	await p.close();
});

test('malformed JSON and odd messages are ignored, the server keeps serving', async () => {
	const p = await ProtooPeer.connect(srv.url, { roomId: 'bad', peerId: 'u3' });
	for (const junk of [
		'not json at all', '{"request":true', 'null', '42', '"str"', '[1,2,3]', '{}',
		'{"request":true,"id":"7","method":"join"}', '{"request":true,"id":7}',
		'{"response":true,"id":999999,"ok":true}', '{"notification":true}',
		'{"notification":true,"method":"nope","data":null}',
	]) {
		p.ws.send(junk);
	}
	p.ws.send(Buffer.from([0, 1, 2, 3])); // binary frame: ignored by protoo
	// same connection still works
	const caps = await p.ok('getRouterRtpCapabilities');
	assert.ok(caps.codecs.length > 0);
	// and so does another connection
	await assertServing();
	await p.close();
});

test('missing roomId / peerId -> upgrade rejected with 400', async () => {
	assert.equal(await upgradeStatus('/?peerId=x'), 400);
	assert.equal(await upgradeStatus('/?roomId=x'), 400);
	assert.equal(await upgradeStatus('/'), 400);
	// missing protoo subprotocol -> 403 (protoo-server)
	assert.equal(await upgradeStatus('/?roomId=x&peerId=y', { protocol: null }), 403);
	// via a real client too
	await assert.rejects(
		ProtooPeer.connect(srv.url, { roomId: '', peerId: 'x' }),
		/400/,
	);
	await assertServing();
});

test('oversized frame (> 960000 bytes) closes that connection only', async () => {
	const other = await ProtooPeer.connect(srv.url, { roomId: 'big', peerId: 'other' });
	await other.ok('join', { displayName: 'Other', device: {} });

	const big = await ProtooPeer.connect(srv.url, { roomId: 'big', peerId: 'big' });
	await big.ok('join', { displayName: 'Big', device: {} });
	const payload = JSON.stringify({ request: true, id: 1, method: 'changeDisplayName', data: { displayName: 'x'.repeat(1000000) } });
	assert.ok(payload.length > 960000);
	big.ws.send(payload);
	const closed = await big.closed;
	assert.equal(closed.code, 1009, 'closed with "message too big"');

	// the other peer is told and keeps being served
	await other.waitNotification('peerClosed', (d) => d.peerId === 'big');
	const caps = await other.ok('getRouterRtpCapabilities');
	assert.ok(caps.codecs.length > 0);
	await assertServing();

	// a fragmented message whose total exceeds the limit is refused too
	const frag = await ProtooPeer.connect(srv.url, { roomId: 'big', peerId: 'frag' });
	const chunk = 'y'.repeat(500000);
	frag.ws.send(chunk, { fin: false });
	frag.ws.send(chunk, { fin: false });
	frag.ws.send(chunk, { fin: true });
	const c2 = await frag.closed;
	assert.equal(c2.code, 1009);

	// a large but allowed message (~900 kB) is fine
	const ok = await other.request('changeDisplayName', { displayName: 'z'.repeat(900000) });
	assert.equal(ok.ok, true);
	await other.close();
});

test('the server survives abrupt disconnects mid-request', async () => {
	for (let i = 0; i < 5; i++) {
		const p = await ProtooPeer.connect(srv.url, { roomId: 'abrupt', peerId: `p${i}` });
		p.ws.send(JSON.stringify({ request: true, id: 1, method: 'createWebRtcTransport', data: { consuming: true } }));
		p.ws.terminate();
	}
	await assertServing('abrupt');
	assert.ok(WebSocket);
});
