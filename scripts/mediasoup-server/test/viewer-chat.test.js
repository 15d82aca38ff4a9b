'use strict';

// The viewer page's chat box (viewer/chat.js, DataChannels): the served
// page and bundle carry it, and its logic (both dialects' newDataConsumer
// fields, the chat DataProducer's parameters, decoding, input checks) is
// checked here against fake transports. The real thing, two browser tabs
// chatting through mediasoup, is cmd/viewer_chat_e2e_test.go.

const { test, describe, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('fs');
const http = require('http');
const path = require('path');
const { EventEmitter } = require('events');
const { startServer } = require('../testutil/helpers');

describe('served viewer page', () => {
	let srv;
	before(async () => { srv = await startServer(['--workers', '1']); });
	after(async () => {
		const { code } = await srv.stop();
		assert.equal(code, 0, `server exit code; stderr:\n${srv.stderr()}`);
	});

	function get(urlPath) {
		const { port } = new URL(srv.url);
		return new Promise((resolve, reject) => {
			http.get({ host: '127.0.0.1', port, path: urlPath }, (res) => {
				let body = '';
				res.setEncoding('utf8');
				res.on('data', (d) => { body += d; });
				res.on('end', () => resolve({ status: res.statusCode, body }));
			}).on('error', reject);
		});
	}

	test('the page has the chat box: log, input and send button', async () => {
		const res = await get('/?roomId=demo');
		assert.equal(res.status, 200, `${res.body} (run bash scripts/mediasoup-server/install.sh)`);
		assert.match(res.body, /<aside id="chat">/);
		assert.match(res.body, /<ol id="chat-log"/);
		assert.match(res.body, /<form id="chat-form"[^>]*>\s*<input id="chat-input" type="text"/);
		assert.match(res.body, /<button id="chat-send" type="submit" disabled>Send<\/button>/);
	});

	test('the bundle speaks DataChannels and the stylesheet styles the chat', async () => {
		const js = await get('/viewer.js');
		assert.equal(js.status, 200);
		for (const s of ['newDataConsumer', 'dataConsumerClosed', 'produceData', 'producedata', 'consumeData',
			'sctpCapabilities', 'sctpParameters', 'sendChat', 'chat-log', 'chat-form']) {
			assert.ok(js.body.includes(s), `viewer.js lacks ${JSON.stringify(s)}`);
		}
		const css = await get('/viewer.css');
		assert.equal(css.status, 200);
		assert.match(css.body, /#chat-log \{/);
	});
});

// --- chat.js against fakes ---------------------------------------------------

// Just enough DOM for chat.js: elements with textContent, children and
// the two spans a chat line holds.
function fakeElement() {
	const spans = {};
	return {
		className: '',
		title: '',
		children: [],
		textContent: '',
		set innerHTML(_html) {
			spans['.from'] = { textContent: '' };
			spans['.text'] = { textContent: '' };
		},
		querySelector: (sel) => spans[sel] || null,
		remove() {},
	};
}

function fakeDom() {
	const log = {
		...fakeElement(), scrollTop: 0, clientHeight: 100, scrollHeight: 100,
		append(li) { this.children.push(li); },
		get firstElementChild() { const log_ = this; return { remove: () => log_.children.shift() }; },
	};
	const input = { value: '', disabled: true, placeholder: '', setCustomValidity() {}, reportValidity() {}, addEventListener() {} };
	const button = { disabled: true };
	const form = {
		listeners: {},
		querySelector: (sel) => (sel === 'input' ? input : button),
		addEventListener(ev, fn) { this.listeners[ev] = fn; },
	};
	return { log, input, button, form };
}

class FakeChannel extends EventEmitter {
	constructor(o) {
		super();
		Object.assign(this, o);
		this.closed = false;
		this.readyState = 'connecting';
		this.sentData = [];
	}

	send(data) { this.sentData.push(data); }

	close() { this.closed = true; }
}

async function loadChat() {
	global.document = { createElement: () => fakeElement() };
	const src = fs.readFileSync(path.join(__dirname, '..', 'viewer', 'chat.js'), 'utf8');
	return import(`data:text/javascript,${encodeURIComponent(src)}`);
}

describe('chat.js', () => {
	let chatMod;
	before(async () => { chatMod = await loadChat(); });
	after(() => { delete global.document; });

	function setup() {
		const dom = fakeDom();
		const names = { alice: 'Alice' };
		const chat = chatMod.createChat({ log: dom.log, form: dom.form, nameOf: (id) => names[id] || id });
		const produced = [];
		const sendTransport = {
			closed: false,
			async produceData(opts) { const dp = new FakeChannel(opts); produced.push(dp); return dp; },
		};
		const consumed = [];
		const recvTransport = {
			async consumeData(opts) { const dc = new FakeChannel(opts); consumed.push(dc); return dc; },
		};
		return { dom, chat, produced, sendTransport, consumed, recvTransport };
	}

	test('creates the chat DataProducer like the demo, ready once open', async () => {
		const { chat, produced, sendTransport, dom } = setup();
		assert.deepEqual(chat.snapshot(), { ready: false, error: null, sent: 0, consumers: 0, messages: [] });
		await chat.start(sendTransport);
		assert.equal(produced.length, 1);
		const o = produced[0];
		assert.deepEqual({ ordered: o.ordered, label: o.label, protocol: o.protocol, appData: o.appData },
			{ ordered: true, label: 'chat', protocol: '', appData: { channel: 'chat' } });
		assert.equal(chat.snapshot().ready, false);
		await assert.rejects(chat.send('too early'), /not ready/);
		o.readyState = 'open';
		o.emit('open');
		assert.equal(chat.snapshot().ready, true);
		assert.equal(dom.button.disabled, false);
		await chat.send('hello');
		assert.deepEqual(o.sentData, ['hello']);
		assert.equal(chat.snapshot().sent, 1);
		assert.equal(chat.snapshot().messages.length, 0, 'own lines are not "received" messages');
		assert.equal(dom.log.children.length, 1, 'but the page shows them');
	});

	test('rejects bad chat text with a clear error', async () => {
		const { chat, produced, sendTransport } = setup();
		await chat.start(sendTransport);
		produced[0].readyState = 'open';
		await assert.rejects(chat.send(42), /must be a string/);
		await assert.rejects(chat.send('   '), /empty/);
		await assert.rejects(chat.send('x'.repeat(chatMod.MAX_TEXT_BYTES + 1)), /limit is 16384/);
		assert.deepEqual(produced[0].sentData, []);
	});

	test('a failed produceData disables chat without throwing', async () => {
		const { chat } = setup();
		await chat.start({ closed: false, produceData: async () => { throw new Error('no SCTP'); } });
		const s = chat.snapshot();
		assert.equal(s.ready, false);
		assert.match(s.error, /chat unavailable: no SCTP/);
	});

	test('consumes both dialects\' newDataConsumer and shows who wrote', async () => {
		const { chat, consumed, recvTransport, dom } = setup();
		const sctp = { streamId: 1, ordered: true };
		// JS dialect: id, peerId (null for the demo's bot)
		await chat.consume(recvTransport, {
			id: 'dc1', dataProducerId: 'dp1', peerId: 'alice', label: 'chat', protocol: '',
			sctpStreamParameters: sctp, appData: { channel: 'chat', peerId: 'alice' },
		});
		await chat.consume(recvTransport, {
			id: 'dc2', dataProducerId: 'dp2', peerId: null, label: 'bot', protocol: '', sctpStreamParameters: sctp, appData: {},
		});
		// TS dialect: dataConsumerId, peerId also in appData
		await chat.consume(recvTransport, {
			dataConsumerId: 'dc3', dataProducerId: 'dp3', transportId: 't', label: 'chat', protocol: '',
			sctpStreamParameters: sctp, appData: { peerId: 'callctl-1', channel: 'chat' },
		});
		assert.deepEqual(consumed.map((c) => [c.id, c.dataProducerId, c.appData.peerId]),
			[['dc1', 'dp1', 'alice'], ['dc2', 'dp2', null], ['dc3', 'dp3', 'callctl-1']]);
		assert.ok(consumed.every((c) => c.binaryType === 'arraybuffer'));

		consumed[0].emit('message', 'hi from alice');
		consumed[1].emit('message', 'beep');
		consumed[2].emit('message', new TextEncoder().encode('grüße, binary').buffer);
		const got = chat.snapshot().messages.map(({ peerId, displayName, label, text }) => ({ peerId, displayName, label, text }));
		assert.deepEqual(got, [
			{ peerId: 'alice', displayName: 'Alice', label: 'chat', text: 'hi from alice' },
			{ peerId: null, displayName: 'bot', label: 'bot', text: 'beep' },
			{ peerId: 'callctl-1', displayName: 'callctl-1', label: 'chat', text: 'grüße, binary' },
		]);
		assert.ok(chat.snapshot().messages.every((m) => typeof m.at === 'number' && m.at > 0));
		const shown = dom.log.children.map((li) => [li.querySelector('.from').textContent, li.querySelector('.text').textContent]);
		assert.deepEqual(shown, [['Alice', 'hi from alice'], ['bot [bot]', 'beep'], ['callctl-1', 'grüße, binary']]);

		assert.equal(chat.snapshot().consumers, 0, 'none open yet');
		for (const dc of consumed) dc.readyState = 'open';
		assert.equal(chat.snapshot().consumers, 3);
		chat.closeConsumer('dc1');
		assert.equal(consumed[0].closed, true);
		assert.equal(chat.snapshot().consumers, 2);
		chat.reset();
		assert.equal(chat.snapshot().consumers, 0);
		assert.equal(chat.snapshot().messages.length, 3, 'the lines survive a rejoin');
	});

	test('keeps the last 200 lines', async () => {
		const { chat, consumed, recvTransport, dom } = setup();
		await chat.consume(recvTransport, { id: 'dc1', dataProducerId: 'dp1', peerId: 'alice', label: 'chat', appData: {} });
		for (let i = 0; i < 250; i++) consumed[0].emit('message', `m${i}`);
		const msgs = chat.snapshot().messages;
		assert.equal(msgs.length, 200);
		assert.equal(msgs[0].text, 'm50');
		assert.equal(dom.log.children.length, 200);
	});
});
