'use strict';

// Unit test of a Session with a fake socket and fake rooms: the guarantee
// "the hello reply comes before any push" holds even when a push is produced
// between joining the room and sending the reply (a window too small to hit
// reliably against the real server).

const { test } = require('node:test');
const assert = require('node:assert/strict');
const { Session } = require('../protocol');

function fakeSocket() {
	return { OPEN: 1, readyState: 1, sent: [], send(text) { this.sent.push(JSON.parse(text)); }, close() {} };
}

const quietLog = { debug() {}, info() {}, warn() {}, error() {} };

test('pushes produced before the hello reply are held until after it', async () => {
	const ws = fakeSocket();
	const fakeRoom = { id: 'r', router: { rtpCapabilities: { codecs: [] } }, producerList: () => [] };
	const rooms = {
		async join(id, session) {
			session.room = fakeRoom;
			// Another participant publishes right now, before hello's reply.
			session.push('producer-added', { producerId: 'x', participantId: 'p0', kind: 'audio', tag: {} });
			return fakeRoom;
		},
	};
	const s = new Session(ws, { rooms, rtcIp: '127.0.0.1', version: '3.8.4', log: quietLog });
	await s.onMessage(Buffer.from(JSON.stringify({ op: 'hello', tx: 'h', body: { room: 'r', name: 'n' } })), false);
	assert.deepEqual(ws.sent.map((m) => m.tx || m.event), ['h', 'producer-added']);
	// After the reply, pushes go out directly.
	s.push('participant-left', { participantId: 'p0' });
	assert.equal(ws.sent[2].event, 'participant-left');
});

test('a failed hello can be retried', async () => {
	const ws = fakeSocket();
	let attempts = 0;
	const room = { id: 'r', router: { rtpCapabilities: {} }, producerList: () => [] };
	const rooms = {
		async join(id, session) {
			attempts++;
			if (attempts === 1) throw new Error('router creation failed');
			session.room = room;
			return room;
		},
	};
	const s = new Session(ws, { rooms, rtcIp: '127.0.0.1', version: '3.8.4', log: quietLog });
	const hello = Buffer.from(JSON.stringify({ op: 'hello', tx: 'h', body: { room: 'r', name: 'n' } }));
	await s.onMessage(hello, false);
	assert.deepEqual(ws.sent[0], { tx: 'h', error: { code: 'failed', message: 'router creation failed' } });
	await s.onMessage(hello, false);
	assert.match(ws.sent[1].result.me, /^p\d+$/);
});
