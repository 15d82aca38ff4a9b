'use strict';

// The command line: ready line, signals, flags, missing worker, port in use.

const { test } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('fs');
const os = require('os');
const path = require('path');
const http = require('http');
const { startServer, runServer, Client } = require('../testutil/client');

test('ready line: one JSON line with exactly event, url, pid, mediasoupVersion; SIGTERM exits 0', async () => {
	const srv = await startServer();
	assert.deepEqual(Object.keys(srv.ready), ['event', 'url', 'pid', 'mediasoupVersion']);
	assert.equal(srv.ready.event, 'ready');
	assert.match(srv.ready.url, /^ws:\/\/127\.0\.0\.1:\d+$/);
	assert.equal(srv.ready.pid, srv.proc.pid);
	assert.match(srv.ready.mediasoupVersion, /^3\.\d+\.\d+$/);
	const { code, extraStdout } = await srv.stop('SIGTERM');
	assert.equal(code, 0);
	assert.equal(extraStdout, '', 'nothing but the ready line on stdout');
});

test('SIGINT closes connected participants with 1001 and exits 0', async () => {
	const srv = await startServer();
	const c = await Client.connect(srv.ready.url);
	await c.op('hello', { room: 'r', name: 'n' });
	await c.op('open-transport', { direction: 'send' });
	srv.proc.kill('SIGINT');
	assert.equal((await c.closed).code, 1001);
	const { code } = await srv.stop();
	assert.equal(code, 0);
});

test('plain HTTP gets 426 Upgrade Required', async () => {
	const srv = await startServer();
	try {
		const status = await new Promise((resolve, reject) => {
			http.get(srv.ready.url.replace('ws:', 'http:'), (res) => { res.resume(); resolve(res.statusCode); }).on('error', reject);
		});
		assert.equal(status, 426);
	} finally {
		await srv.stop();
	}
});

test('bad flags: exit 2 with a message, nothing on stdout', async () => {
	const cases = [
		['--nope'], ['--listen'], ['--listen', 'x'], ['--listen', 'localhost:1'], ['--listen', '127.0.0.1:70000'],
		['--rtc-ip', 'nope'], ['--log-level', 'loud'],
	];
	for (const args of cases) {
		const r = await runServer(args);
		assert.equal(r.code, 2, args.join(' '));
		assert.equal(r.stdout, '');
		assert.match(r.stderr, /^jsonapp: /, args.join(' '));
	}
	const h = await runServer(['--help']);
	assert.equal(h.code, 0);
	assert.match(h.stderr, /--listen HOST:PORT/);
});

test('missing worker binary: exit 2 pointing at install.sh', async (t) => {
	const bundled = path.join(__dirname, '../../mediasoup-server/node_modules/mediasoup/worker/out/Release/mediasoup-worker');
	if (fs.existsSync(bundled)) {
		t.skip('this mediasoup package carries its own worker');
		return;
	}
	const emptyCache = fs.mkdtempSync(path.join(os.tmpdir(), 'jsonapp-cache-'));
	try {
		const env = { ...process.env, XDG_CACHE_HOME: emptyCache };
		delete env.MEDIASOUP_WORKER_BIN;
		const r = await runServer([], { env });
		assert.equal(r.code, 2);
		assert.equal(r.stdout, '');
		assert.match(r.stderr, /mediasoup-worker .* not found .*run: bash scripts\/mediasoup-server\/install\.sh/);
		const bad = await runServer([], { env: { ...process.env, MEDIASOUP_WORKER_BIN: path.join(emptyCache, 'nope') } });
		assert.equal(bad.code, 2);
		assert.match(bad.stderr, /MEDIASOUP_WORKER_BIN=.* is not an executable file/);
	} finally {
		fs.rmSync(emptyCache, { recursive: true, force: true });
	}
});

test('listen port in use: exit 1, no ready line', async () => {
	const srv = await startServer();
	try {
		const r = await runServer(['--listen', srv.ready.url.replace('ws://', '')]);
		assert.equal(r.code, 1);
		assert.equal(r.stdout, '');
		assert.match(r.stderr, /EADDRINUSE/);
	} finally {
		await srv.stop();
	}
});
