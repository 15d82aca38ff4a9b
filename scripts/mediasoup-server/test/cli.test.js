'use strict';

// Flags, env, TLS, signals.

const { test } = require('node:test');
const assert = require('node:assert/strict');
const path = require('path');
const { spawn } = require('child_process');
const { startServer, ProtooPeer } = require('../testutil/helpers');

const SERVER = path.join(__dirname, '..', 'server.js');

function run(args, env = {}) {
	return new Promise((resolve) => {
		const p = spawn(process.execPath, [SERVER, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
		let stdout = '';
		let stderr = '';
		p.stdout.on('data', (d) => { stdout += d; });
		p.stderr.on('data', (d) => { stderr += d; });
		const t = setTimeout(() => p.kill('SIGKILL'), 10000);
		p.on('exit', (code) => { clearTimeout(t); resolve({ code, stdout, stderr }); });
	});
}

test('--tls serves wss:// with a self-signed certificate', async () => {
	const srv = await startServer(['--workers', '1', '--tls', '--announced-ip', '192.0.2.10']);
	try {
		assert.match(srv.url, /^wss:\/\/127\.0\.0\.1:\d+$/);
		const p = await ProtooPeer.connect(srv.url, {
			roomId: 'tls', peerId: 'x', wsOptions: { rejectUnauthorized: false },
		});
		const v = await p.waitNotification('mediasoup-version');
		assert.equal(v.data.version, srv.ready.mediasoupVersion);
		const t = await p.ok('createWebRtcTransport', { producing: true, consuming: false });
		for (const c of t.iceCandidates) assert.equal(c.ip || c.address, '192.0.2.10', 'announced IP in candidates');
		await p.close();
		// certificate verification fails without the insecure flag
		await assert.rejects(ProtooPeer.connect(srv.url, { roomId: 'tls', peerId: 'y' }));
	} finally {
		const { code } = await srv.stop();
		assert.equal(code, 0);
	}
});

test('env config, rtc port range and SIGINT', async () => {
	const srv = await startServer(['--rtc-min-port', '45000', '--rtc-max-port', '45100'], {
		env: { WORKERS: '1', LOG_LEVEL: 'error' },
	});
	assert.equal(srv.ready.workers, 1);
	const p = await ProtooPeer.connect(srv.url, { roomId: 'r', peerId: 'x' });
	const t = await p.ok('createWebRtcTransport', { producing: true, consuming: false });
	for (const c of t.iceCandidates) assert.ok(c.port >= 45000 && c.port <= 45100, `port ${c.port} in range`);
	srv.proc.kill('SIGINT');
	const closed = await p.closed;
	assert.equal(closed.code, 4000, 'peers closed by the server on shutdown');
	const { code, extraStdout } = await srv.stop();
	assert.equal(code, 0);
	assert.equal(extraStdout, '');
});

test('bad flags: exit 2 with a message, nothing on stdout', async () => {
	for (const args of [['--nope'], ['--listen', 'x'], ['--dialect', 'go'], ['--workers', '0'], ['--log-level', 'loud']]) {
		const r = await run(args);
		assert.equal(r.code, 2, args.join(' '));
		assert.equal(r.stdout, '');
		assert.match(r.stderr, /mediasoup-server:/);
	}
	const h = await run(['--help']);
	assert.equal(h.code, 0);
	assert.match(h.stderr, /--listen/);
});

test('listen port in use: non-zero exit, no ready line', async () => {
	const srv = await startServer(['--workers', '1']);
	try {
		const r = await run(['--listen', srv.url.replace('ws://', ''), '--workers', '1']);
		assert.equal(r.code, 1);
		assert.equal(r.stdout, '');
		assert.match(r.stderr, /EADDRINUSE/);
	} finally {
		assert.equal((await srv.stop()).code, 0);
	}
});

test('stdout stays the ready line only, even with mediasoup debug logging (DEBUG=mediasoup*)', async () => {
	const srv = await startServer(['--workers', '1', '--log-level', 'debug'], { env: { DEBUG: 'mediasoup*' } });
	const p = await ProtooPeer.connect(srv.url, { roomId: 'dbg', peerId: 'x' });
	await p.request('getRouterRtpCapabilities');
	p.close();
	const { code, extraStdout } = await srv.stop();
	assert.equal(code, 0);
	assert.equal(extraStdout, '', 'nothing but the ready line on stdout');
	assert.match(srv.stderr(), /mediasoup/, 'the debug output went to stderr');
});
