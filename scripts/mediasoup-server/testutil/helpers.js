'use strict';

// Test helpers: start the server as a child process and talk protoo over `ws`.

const { spawn } = require('child_process');
const path = require('path');
const WebSocket = require('ws');

const SERVER = path.join(__dirname, '..', 'server.js');

const running = new Set();
process.on('exit', () => {
	for (const child of running) {
		try { child.kill('SIGKILL'); } catch (_) { /* gone */ }
	}
});

/**
 * Start server.js on 127.0.0.1:0 and wait for its ready line.
 * @returns {Promise<{ready, url, proc, stderr: () => string, stop: () => Promise<{code, signal, extraStdout}>}>}
 */
function startServer(args = [], { timeoutMs = 20000, env } = {}) {
	const proc = spawn(process.execPath, [SERVER, '--listen', '127.0.0.1:0', '--log-level', 'warn', ...args], {
		stdio: ['ignore', 'pipe', 'pipe'],
		env: { ...process.env, ...(env || {}) },
	});
	running.add(proc);
	let stdout = '';
	let stderr = '';
	const exited = new Promise((resolve) => {
		proc.on('exit', (code, signal) => {
			running.delete(proc);
			resolve({ code, signal });
		});
	});
	proc.stderr.on('data', (d) => { stderr += d.toString(); });

	return new Promise((resolve, reject) => {
		let done = false;
		const timer = setTimeout(() => {
			if (done) return;
			done = true;
			proc.kill('SIGKILL');
			reject(new Error(`server did not become ready in ${timeoutMs} ms; stderr:\n${stderr}`));
		}, timeoutMs);
		proc.stdout.on('data', (d) => {
			stdout += d.toString();
			if (done) return;
			const nl = stdout.indexOf('\n');
			if (nl < 0) return;
			done = true;
			clearTimeout(timer);
			let ready;
			try {
				ready = JSON.parse(stdout.slice(0, nl));
			} catch (e) {
				proc.kill('SIGKILL');
				reject(new Error(`bad ready line ${JSON.stringify(stdout.slice(0, nl))}`));
				return;
			}
			const firstLineLen = nl + 1;
			resolve({
				ready,
				url: ready.url,
				proc,
				exited,
				stderr: () => stderr,
				async stop() {
					if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
					const res = await exited;
					return { ...res, extraStdout: stdout.slice(firstLineLen) };
				},
			});
		});
		exited.then(({ code, signal }) => {
			if (done) return;
			done = true;
			clearTimeout(timer);
			reject(new Error(`server exited early (code ${code}, signal ${signal}); stderr:\n${stderr}`));
		});
	});
}

/** Minimal protoo client over `ws`. */
class ProtooPeer {
	static connect(baseUrl, { roomId, peerId, autoAccept = true, wsOptions = {} } = {}) {
		const url = `${baseUrl}/?roomId=${encodeURIComponent(roomId)}&peerId=${encodeURIComponent(peerId)}`;
		const ws = new WebSocket(url, 'protoo', wsOptions);
		const peer = new ProtooPeer(ws, peerId, autoAccept);
		return new Promise((resolve, reject) => {
			ws.once('open', () => resolve(peer));
			ws.once('error', reject);
			ws.once('unexpected-response', (req, res) => reject(new Error(`unexpected response ${res.statusCode}`)));
		});
	}

	constructor(ws, peerId, autoAccept) {
		this.ws = ws;
		this.id = peerId;
		this.autoAccept = autoAccept;
		this.nextId = 1;
		this.pending = new Map();
		this.messages = []; // server notifications and requests, in order
		this.waiters = [];
		this.closed = new Promise((resolve) => {
			ws.on('close', (code, reason) => {
				for (const { reject } of this.pending.values()) reject(new Error('closed'));
				this.pending.clear();
				resolve({ code, reason: reason.toString() });
			});
		});
		ws.on('error', () => {});
		ws.on('message', (raw) => this._onMessage(raw));
	}

	_onMessage(raw) {
		let msg;
		try { msg = JSON.parse(raw.toString()); } catch (_) { return; }
		if (msg.response) {
			const p = this.pending.get(msg.id);
			if (p) {
				this.pending.delete(msg.id);
				p.resolve(msg);
			}
			return;
		}
		if (msg.request && this.autoAccept) this.accept(msg);
		this.messages.push(msg);
		for (const w of [...this.waiters]) {
			if (w.pred(msg)) {
				this.waiters.splice(this.waiters.indexOf(w), 1);
				clearTimeout(w.timer);
				w.resolve(msg);
			}
		}
	}

	/** Send a request; resolves with the raw response message. */
	request(method, data = {}, timeoutMs = 10000) {
		const id = this.nextId++;
		return new Promise((resolve, reject) => {
			const timer = setTimeout(() => {
				this.pending.delete(id);
				reject(new Error(`request ${method} timed out`));
			}, timeoutMs);
			this.pending.set(id, {
				resolve: (m) => { clearTimeout(timer); resolve(m); },
				reject: (e) => { clearTimeout(timer); reject(e); },
			});
			this.ws.send(JSON.stringify({ request: true, id, method, data }));
		});
	}

	/** Request that must succeed; resolves with response data. */
	async ok(method, data = {}) {
		const res = await this.request(method, data);
		if (res.ok !== true) throw new Error(`${method} failed: ${res.errorCode} ${res.errorReason}`);
		return res.data;
	}

	notify(method, data = {}) {
		this.ws.send(JSON.stringify({ notification: true, method, data }));
	}

	accept(req, data = {}) {
		this.ws.send(JSON.stringify({ response: true, id: req.id, ok: true, data }));
	}

	reject(req, code = 500, reason = 'rejected') {
		this.ws.send(JSON.stringify({ response: true, id: req.id, ok: false, errorCode: code, errorReason: reason }));
	}

	/** Wait for a server notification/request matching pred (already received ones count). */
	waitFor(pred, timeoutMs = 8000, what = 'message') {
		const found = this.messages.find(pred);
		if (found) return Promise.resolve(found);
		return new Promise((resolve, reject) => {
			const w = { pred, resolve };
			w.timer = setTimeout(() => {
				this.waiters.splice(this.waiters.indexOf(w), 1);
				reject(new Error(`${this.id}: timed out waiting for ${what}; got: ${JSON.stringify(this.messages.map((m) => m.method))}`));
			}, timeoutMs);
			this.waiters.push(w);
		});
	}

	waitNotification(method, pred = () => true, timeoutMs) {
		return this.waitFor((m) => m.notification && m.method === method && pred(m.data), timeoutMs, `notification ${method}`);
	}

	waitRequest(method, pred = () => true, timeoutMs) {
		return this.waitFor((m) => m.request && m.method === method && pred(m.data), timeoutMs, `request ${method}`);
	}

	close() {
		this.ws.close();
		return this.closed;
	}
}

/** A made-up but valid Opus send rtpParameters with an explicit SSRC. */
function opusRtpParameters(ssrc = 11111111, mid = '0') {
	return {
		mid,
		codecs: [{
			mimeType: 'audio/opus',
			payloadType: 111,
			clockRate: 48000,
			channels: 2,
			parameters: { minptime: 10, useinbandfec: 1 },
			rtcpFeedback: [{ type: 'transport-cc' }],
		}],
		headerExtensions: [
			{ uri: 'urn:ietf:params:rtp-hdrext:sdes:mid', id: 1 },
			{ uri: 'urn:ietf:params:rtp-hdrext:ssrc-audio-level', id: 10 },
		],
		encodings: [{ ssrc }],
		rtcp: { cname: 'callctl-test', reducedSize: true },
	};
}

/** VP8 single encoding with RTX. */
function vp8RtpParameters(ssrc = 22222222, mid = '1') {
	return {
		mid,
		codecs: [
			{
				mimeType: 'video/VP8', payloadType: 96, clockRate: 90000, parameters: {},
				rtcpFeedback: [{ type: 'nack' }, { type: 'nack', parameter: 'pli' }, { type: 'ccm', parameter: 'fir' }, { type: 'goog-remb' }],
			},
			{ mimeType: 'video/rtx', payloadType: 97, clockRate: 90000, parameters: { apt: 96 }, rtcpFeedback: [] },
		],
		headerExtensions: [{ uri: 'urn:ietf:params:rtp-hdrext:sdes:mid', id: 1 }],
		encodings: [{ ssrc, rtx: { ssrc: ssrc + 1 } }],
		rtcp: { cname: 'callctl-test', reducedSize: true },
	};
}

const SCTP_CAPS = { numStreams: { OS: 1024, MIS: 1024 } };

function candidateIp(c) {
	return c.ip || c.address;
}

module.exports = { startServer, ProtooPeer, opusRtpParameters, vp8RtpParameters, SCTP_CAPS, candidateIp, WebSocket };
