'use strict';

// jsonapp's wire protocol (README.md has the reference with examples).
//
// Deliberately NOT protoo, so that callctl's signaling-agnostic layer is
// exercised against a second, unrelated message shape:
//   client -> server  {"op":"publish","tx":"7","body":{...}}
//   server -> client  {"tx":"7","result":{...}}  or  {"tx":"7","error":{"code":"not-found","message":"..."}}
//   server -> client  {"event":"producer-added","body":{...}}   (pushes; never requests)
// The server never asks the client anything: a client learns about producers
// from pushes (or list-producers) and subscribes when it wants to.

const compat = require('../mediasoup-server/lib/compat');

const MAX_ID_LEN = 128;

// An error sent back as {"error":{code, message}}; anything else thrown by a
// handler (mediasoup rejecting parameters, ...) becomes code "failed".
class OpError extends Error {
	constructor(code, message) {
		super(message);
		this.code = code;
	}
}

// Field types: a check and the words used in the error message.
const TYPES = {
	id: [(v) => typeof v === 'string' && v.length > 0 && v.length <= MAX_ID_LEN, `a non-empty string of at most ${MAX_ID_LEN} characters`],
	object: [(v) => v !== null && typeof v === 'object' && !Array.isArray(v), 'an object'],
	direction: [(v) => v === 'send' || v === 'recv', '"send" or "recv"'],
	kind: [(v) => v === 'audio' || v === 'video', '"audio" or "video"'],
};

// Every op: its body fields (required unless listed in `optional`) and
// whether it is allowed before hello.
const OPS = {
	hello: { beforeHello: true, fields: { room: 'id', name: 'id' } },
	'open-transport': { fields: { direction: 'direction' } },
	'connect-transport': { fields: { transportId: 'id', dtls: 'object' } },
	publish: { fields: { transportId: 'id', kind: 'kind', rtp: 'object', tag: 'object' }, optional: ['tag'] },
	unpublish: { fields: { producerId: 'id' } },
	subscribe: { fields: { transportId: 'id', producerId: 'id', caps: 'object' } },
	unpause: { fields: { consumerId: 'id' } },
	'list-producers': { fields: {} },
	bye: { fields: {} },
};

function checkBody(op, body) {
	const spec = OPS[op];
	for (const [field, type] of Object.entries(spec.fields)) {
		const v = body[field];
		if (v === undefined && (spec.optional || []).includes(field)) continue;
		const [ok, words] = TYPES[type];
		if (v === undefined) throw new OpError('bad-request', `${op}: body.${field} is missing (want ${words})`);
		if (!ok(v)) throw new OpError('bad-request', `${op}: body.${field} must be ${words}`);
	}
}

// A mediasoup Router plus the participants in it. Created on the first hello
// naming it, closed when its last participant leaves.
class Room {
	constructor(id, router) {
		this.id = id;
		this.router = router;
		this.participants = new Map(); // participantId -> Session
		this.closed = false;
	}

	producerList() {
		const list = [];
		for (const s of this.participants.values()) {
			for (const p of s.producers.values()) list.push(producerInfo(p, s.me));
		}
		return list;
	}

	findProducer(producerId) {
		for (const s of this.participants.values()) {
			const p = s.producers.get(producerId);
			if (p) return { producer: p, owner: s };
		}
		return null;
	}

	pushToOthers(self, event, body) {
		for (const s of this.participants.values()) if (s !== self) s.push(event, body);
	}
}

function producerInfo(producer, participantId) {
	return { producerId: producer.id, participantId, kind: producer.kind, tag: producer.appData.tag || {} };
}

// All rooms of one mediasoup worker.
class Rooms {
	constructor({ worker, mediaCodecs, log }) {
		this.worker = worker;
		this.mediaCodecs = mediaCodecs;
		this.log = log;
		this.byId = new Map(); // room id -> Promise<Room>
	}

	// Adds session to room `id` (creating it) in one synchronous step after
	// the router exists, so no push can slip between joining and the snapshot.
	async join(id, session) {
		for (let attempt = 0; attempt < 3; attempt++) {
			let p = this.byId.get(id);
			if (!p) {
				p = this.worker.createRouter({ mediaCodecs: this.mediaCodecs }).then((router) => new Room(id, router));
				p.catch(() => this.byId.get(id) === p && this.byId.delete(id));
				this.byId.set(id, p);
				this.log.info(`room "${id}" created`);
			}
			const room = await p;
			if (session.closed) throw new OpError('failed', 'connection closed during hello');
			if (room.closed) continue; // emptied and closed while we waited
			room.participants.set(session.me, session);
			session.room = room; // now, so that a leave() from here on removes it
			return room;
		}
		throw new OpError('failed', `room "${id}" keeps closing`);
	}

	leave(room, session) {
		room.participants.delete(session.me);
		if (room.participants.size > 0 || room.closed) return;
		room.closed = true;
		this.byId.delete(room.id);
		room.router.close();
		this.log.info(`room "${room.id}" closed (empty)`);
	}
}

let nextParticipant = 1;

// One WebSocket = one participant.
class Session {
	constructor(ws, { rooms, rtcIp, version, log }) {
		this.ws = ws;
		this.rooms = rooms;
		this.rtcIp = rtcIp;
		this.version = version;
		this.log = log;
		this.me = null; // participant id, set by hello
		this.room = null;
		this.greeted = false; // hello reply sent: pushes go out directly
		this.held = []; // pushes produced before the hello reply
		this.closed = false;
		this.transports = new Map();
		this.producers = new Map();
		this.consumers = new Map();
	}

	send(obj) {
		if (this.ws.readyState === this.ws.OPEN) this.ws.send(JSON.stringify(obj));
	}

	push(event, body) {
		if (this.greeted) this.send({ event, body });
		else this.held.push({ event, body });
	}

	async onMessage(data, isBinary) {
		let tx = null;
		try {
			const msg = parseMessage(data, isBinary);
			tx = msg.tx;
			const result = await this.run(msg.op, msg.body);
			this.send({ tx, result });
			if (msg.op === 'hello') this.flushHeld();
			if (msg.op === 'bye') this.ws.close(1000, 'bye');
		} catch (error) {
			const code = error instanceof OpError ? error.code : 'failed';
			this.log.debug(`error reply (${code}): ${error.message}`);
			// Validation errors carry the tx when the message had a usable one.
			this.send({ tx: tx || error.tx || null, error: { code, message: String(error.message) } });
		}
	}

	flushHeld() {
		this.greeted = true;
		for (const m of this.held.splice(0)) this.send(m);
	}

	run(op, body) {
		if (!OPS[op].beforeHello && !this.room) throw new OpError('hello-first', `${op}: send hello first`);
		if (this.closed) throw new OpError('failed', `${op}: participant has left`);
		switch (op) {
			case 'hello': return this.hello(body);
			case 'open-transport': return this.openTransport(body);
			case 'connect-transport': return this.connectTransport(body);
			case 'publish': return this.publish(body);
			case 'unpublish': this.producer(body.producerId).close(); return {};
			case 'subscribe': return this.subscribe(body);
			case 'unpause': return this.consumer(body.consumerId).resume().then(() => ({}));
			case 'list-producers': return { producers: this.room.producerList() };
			case 'bye': this.leave(); return {};
			default: throw new OpError('unknown-op', `unknown op "${op}"`);
		}
	}

	async hello({ room, name }) {
		if (this.me) throw new OpError('bad-request', 'hello: already said hello');
		this.me = `p${nextParticipant++}`;
		this.name = name;
		try {
			await this.rooms.join(room, this);
		} catch (error) {
			this.me = null; // a later hello may try again
			throw error;
		}
		this.log.info(`room "${room}": ${this.me} ("${name}") joined`);
		return { me: this.me, routerCaps: this.room.router.rtpCapabilities, producers: this.room.producerList() };
	}

	async openTransport({ direction }) {
		const t = await this.room.router.createWebRtcTransport({
			...compat.webRtcListenOptions(this.version, { ip: this.rtcIp }),
			appData: { direction },
		});
		if (this.closed) {
			t.close();
			throw new OpError('failed', 'participant has left');
		}
		this.transports.set(t.id, t);
		t.observer.on('close', () => this.transports.delete(t.id));
		t.on('dtlsstatechange', (state) => this.log.debug(`${this.me} transport ${t.id} dtls ${state}`));
		const ip = t.iceParameters;
		return {
			transport: {
				id: t.id,
				direction,
				ice: { ufrag: ip.usernameFragment, pwd: ip.password, lite: Boolean(ip.iceLite) },
				// mediasoup 3.8 names the address `ip`, newer versions `address`.
				candidates: t.iceCandidates.map((c) => ({
					foundation: c.foundation, priority: c.priority, address: c.address || c.ip,
					port: c.port, protocol: c.protocol, type: c.type, ...(c.tcpType ? { tcpType: c.tcpType } : {}),
				})),
				dtls: t.dtlsParameters,
			},
		};
	}

	async connectTransport({ transportId, dtls }) {
		if (!Array.isArray(dtls.fingerprints) || dtls.fingerprints.length === 0) {
			throw new OpError('bad-request', 'connect-transport: body.dtls.fingerprints must be a non-empty array');
		}
		await this.transport(transportId).connect({ dtlsParameters: dtls });
		return {};
	}

	async publish({ transportId, kind, rtp, tag }) {
		const t = this.transport(transportId, 'send');
		const producer = await t.produce({ kind, rtpParameters: rtp, appData: { tag: tag || {} } });
		if (producer.closed || this.closed) {
			producer.close();
			throw new OpError('failed', 'participant has left');
		}
		this.producers.set(producer.id, producer);
		// Fires on unpublish and when the transport/participant goes away.
		producer.observer.on('close', () => {
			this.producers.delete(producer.id);
			this.room.pushToOthers(this, 'producer-removed', { producerId: producer.id });
		});
		this.room.pushToOthers(this, 'producer-added', producerInfo(producer, this.me));
		return { producerId: producer.id };
	}

	async subscribe({ transportId, producerId, caps }) {
		const t = this.transport(transportId, 'recv');
		const found = this.room.findProducer(producerId);
		if (!found) throw new OpError('not-found', `subscribe: no producer "${producerId}" in this room`);
		let can = false;
		try {
			can = this.room.router.canConsume({ producerId, rtpCapabilities: caps });
		} catch (error) {
			throw new OpError('bad-request', `subscribe: body.caps: ${error.message}`);
		}
		if (!can) throw new OpError('failed', `subscribe: caps cannot receive producer "${producerId}"`);
		// Paused: the client unpauses once its side is ready, so the first
		// packets (and the key frame mediasoup requests on resume) are not lost.
		const opts = { producerId, rtpCapabilities: caps, paused: true };
		if (compat.features(this.version).enableRtx) opts.enableRtx = true;
		const consumer = await t.consume(opts);
		if (this.closed) {
			consumer.close();
			throw new OpError('failed', 'participant has left');
		}
		this.consumers.set(consumer.id, consumer);
		// Also fires when the producer closes; the client learns that from producer-removed.
		consumer.observer.on('close', () => this.consumers.delete(consumer.id));
		return {
			consumerId: consumer.id, producerId, participantId: found.owner.me,
			kind: consumer.kind, type: consumer.type, paused: consumer.paused, rtp: consumer.rtpParameters,
		};
	}

	transport(id, direction) {
		const t = this.transports.get(id);
		if (!t) throw new OpError('not-found', `no transport "${id}" of yours`);
		if (direction && t.appData.direction !== direction) {
			throw new OpError('bad-request', `transport "${id}" is a ${t.appData.direction} transport, not ${direction}`);
		}
		return t;
	}

	producer(id) {
		const p = this.producers.get(id);
		if (!p) throw new OpError('not-found', `no producer "${id}" of yours`);
		return p;
	}

	consumer(id) {
		const c = this.consumers.get(id);
		if (!c) throw new OpError('not-found', `no consumer "${id}" of yours`);
		return c;
	}

	// Idempotent. Closing the transports closes their producers (each pushes
	// producer-removed to the others) and consumers; participant-left comes last.
	leave() {
		if (this.closed) return;
		this.closed = true;
		for (const t of [...this.transports.values()]) t.close();
		if (!this.room) return;
		this.room.pushToOthers(this, 'participant-left', { participantId: this.me });
		this.rooms.leave(this.room, this);
		this.log.info(`room "${this.room.id}": ${this.me} left`);
	}
}

function parseMessage(data, isBinary) {
	if (isBinary) throw new OpError('bad-request', 'binary frames are not accepted; send JSON text');
	let msg;
	try {
		msg = JSON.parse(data.toString('utf8'));
	} catch (error) {
		throw new OpError('bad-json', `malformed JSON: ${error.message}`);
	}
	if (!TYPES.object[0](msg)) throw new OpError('bad-request', 'a message must be a JSON object {"op","tx","body"}');
	if (!TYPES.id[0](msg.tx)) throw new OpError('bad-request', `tx must be ${TYPES.id[1]}`);
	const err = (code, message) => Object.assign(new OpError(code, message), { tx: msg.tx });
	if (typeof msg.op !== 'string') throw err('bad-request', 'op must be a string');
	if (!Object.prototype.hasOwnProperty.call(OPS, msg.op)) throw err('unknown-op', `unknown op "${msg.op}"`);
	const body = msg.body === undefined ? {} : msg.body;
	if (!TYPES.object[0](body)) throw err('bad-request', `${msg.op}: body must be an object`);
	try {
		checkBody(msg.op, body);
	} catch (error) {
		error.tx = msg.tx;
		throw error;
	}
	return { op: msg.op, tx: msg.tx, body };
}

module.exports = { Rooms, Session, OPS, OpError };
