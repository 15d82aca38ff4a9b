'use strict';

// Test helpers: start server.js as a child process and speak the jsonapp
// protocol over `ws`. Kept outside test/ so `node --test` does not run it.

const { spawn } = require('child_process');
const path = require('path');
const WebSocket = require('../../mediasoup-server/node_modules/ws');

const SERVER = path.join(__dirname, '..', 'server.js');

const running = new Set();
process.on('exit', () => {
	for (const child of running) child.kill('SIGKILL');
});

/**
 * Runs server.js with args until it exits (for CLI error cases).
 * @returns {Promise<{code, signal, stdout, stderr}>}
 */
function runServer(args, { env, timeoutMs = 10000 } = {}) {
	return new Promise((resolve) => {
		const proc = spawn(process.execPath, [SERVER, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: env || process.env });
		running.add(proc);
		let stdout = '';
		let stderr = '';
		proc.stdout.on('data', (d) => { stdout += d; });
		proc.stderr.on('data', (d) => { stderr += d; });
		const timer = setTimeout(() => proc.kill('SIGKILL'), timeoutMs);
		proc.on('exit', (code, signal) => {
			clearTimeout(timer);
			running.delete(proc);
			resolve({ code, signal, stdout, stderr });
		});
	});
}

/**
 * Starts server.js on 127.0.0.1:0 and resolves once the ready line arrived.
 * stop(signal) ends it and reports the exit and anything printed after the
 * ready line on stdout.
 */
function startServer(args = [], { timeoutMs = 20000 } = {}) {
	const proc = spawn(process.execPath, [SERVER, '--listen', '127.0.0.1:0', '--log-level', 'warn', ...args], {
		stdio: ['ignore', 'pipe', 'pipe'],
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
	proc.stderr.on('data', (d) => { stderr += d; });
	return new Promise((resolve, reject) => {
		const timer = setTimeout(() => {
			proc.kill('SIGKILL');
			reject(new Error(`no ready line within ${timeoutMs} ms; stderr:\n${stderr}`));
		}, timeoutMs);
		exited.then(({ code }) => reject(new Error(`server exited early (code ${code}); stderr:\n${stderr}`)));
		proc.stdout.on('data', (d) => {
			const before = stdout;
			stdout += d;
			const nl = stdout.indexOf('\n');
			if (nl < 0 || before.includes('\n')) return;
			clearTimeout(timer);
			const line = stdout.slice(0, nl);
			resolve({
				line,
				ready: JSON.parse(line),
				proc,
				stderr: () => stderr,
				async stop(signal = 'SIGTERM') {
					if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
					const res = await exited;
					return { ...res, extraStdout: stdout.slice(nl + 1) };
				},
			});
		});
	});
}

class ReplyError extends Error {
	constructor(error) {
		super(error.message);
		this.code = error.code;
	}
}

// One participant's connection. Every received message is kept in `log`
// (in arrival order) so tests can check ordering.
class Client {
	static connect(url) {
		return new Promise((resolve, reject) => {
			const ws = new WebSocket(url);
			ws.once('open', () => resolve(new Client(ws)));
			ws.once('error', reject);
		});
	}

	constructor(ws) {
		this.ws = ws;
		this.log = [];
		this.waiters = [];
		this.nextTx = 1;
		this.closed = new Promise((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: String(reason) })));
		ws.on('message', (data) => {
			const msg = JSON.parse(String(data));
			this.log.push(msg);
			for (const w of [...this.waiters]) {
				if (w.match(msg)) {
					this.waiters.splice(this.waiters.indexOf(w), 1);
					w.resolve(msg);
				}
			}
		});
	}

	// Resolves with the first message (already received or future) that
	// matches, or rejects after timeoutMs.
	waitFor(match, timeoutMs = 5000, what = 'message') {
		const seen = this.log.find(match);
		if (seen) return Promise.resolve(seen);
		return new Promise((resolve, reject) => {
			const w = { match, resolve };
			const timer = setTimeout(() => {
				this.waiters.splice(this.waiters.indexOf(w), 1);
				reject(new Error(`timed out waiting for ${what}; got ${JSON.stringify(this.log)}`));
			}, timeoutMs);
			w.resolve = (m) => { clearTimeout(timer); resolve(m); };
			this.waiters.push(w);
		});
	}

	// Resolves with the body of the first push `event` matching pred.
	async waitEvent(event, pred = () => true, timeoutMs) {
		const m = await this.waitFor((x) => x.event === event && pred(x.body), timeoutMs, `event ${event}`);
		return m.body;
	}

	events(event) {
		return this.log.filter((m) => m.event === event).map((m) => m.body);
	}

	sendRaw(text) {
		this.ws.send(text);
	}

	// Sends {op, tx, body} and resolves with the whole reply message.
	async reply(op, body) {
		const tx = `t${this.nextTx++}`;
		this.ws.send(JSON.stringify({ op, tx, body }));
		return this.waitFor((m) => m.tx === tx, 5000, `reply to ${op}`);
	}

	// Like reply() but resolves with `result` and throws ReplyError on `error`.
	async op(op, body) {
		const m = await this.reply(op, body);
		if (m.error) throw new ReplyError(m.error);
		return m.result;
	}

	async close() {
		this.ws.close();
		return this.closed;
	}
}

module.exports = { startServer, runServer, Client, ReplyError };
