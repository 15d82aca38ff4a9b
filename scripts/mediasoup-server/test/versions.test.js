'use strict';

// mediasoup versions (default 3.27.1, legacy 3.8.4) and how transports
// listen (one WebRtcServer port per worker, or a port per transport).

const { test } = require('node:test');
const assert = require('node:assert/strict');
const path = require('path');
const { spawn } = require('child_process');
const { startServer, ProtooPeer } = require('../testutil/helpers');
const worker = require('../lib/worker');
const compat = require('../lib/compat');

const SERVER = path.join(__dirname, '..', 'server.js');
const LEGACY = '3.8.4';

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

async function transportPorts(url, roomId, n) {
	const p = await ProtooPeer.connect(url, { roomId, peerId: 'x' });
	const ports = [];
	for (let i = 0; i < n; i++) {
		const t = await p.ok('createWebRtcTransport', { producing: i === 0, consuming: i !== 0 });
		for (const c of t.iceCandidates) ports.push(`${c.protocol}:${c.port}`);
	}
	await p.close();
	return ports;
}

test('lib/worker.js: default and legacy packages, cache path, bad versions', () => {
	const def = worker.defaultVersion();
	assert.equal(def, '3.27.1');
	assert.deepEqual(worker.installedVersions(), [def, LEGACY]);
	assert.equal(worker.packageDir(), worker.defaultPackageDir());
	assert.match(worker.packageDir(LEGACY), /legacy\/3\.8\.4\/node_modules\/mediasoup$/);
	assert.equal(worker.packageDir('9.9.9'), null);
	assert.throws(() => worker.resolveWorkerBin('9.9.9'), /mediasoup 9\.9\.9 is not installed \(installed: 3\.27\.1, 3\.8\.4\)/);
	const saved = process.env.XDG_CACHE_HOME;
	process.env.XDG_CACHE_HOME = '/x/cache';
	try {
		assert.equal(worker.cachedWorkerPath(def), `/x/cache/callctl/mediasoup-worker/${def}/mediasoup-worker`);
	} finally {
		if (saved === undefined) delete process.env.XDG_CACHE_HOME;
		else process.env.XDG_CACHE_HOME = saved;
	}
	for (const v of [def, LEGACY]) {
		const r = worker.resolveWorkerBin(v);
		assert.equal(r.version, v);
		assert.ok(r.bin, `a worker binary for ${v} (${r.source})`);
	}
});

test('compat.features: WebRtcServer, consent, ignoreDtx by version', () => {
	assert.deepEqual(
		[compat.features('3.8.4').webRtcServer, compat.features('3.10.0').webRtcServer, compat.features('3.27.1').webRtcServer],
		[false, true, true]);
	assert.equal(compat.features('3.13.19').iceConsentTimeout, false);
	assert.equal(compat.features('3.13.20').iceConsentTimeout, true);
	assert.equal(compat.features('3.8.4').ignoreDtx, false);
	assert.equal(compat.features('3.27.1').ignoreDtx, true);
});

test('default: mediasoup 3.27.1, every transport of a worker on its WebRtcServer port', async () => {
	const srv = await startServer(['--workers', '1']);
	try {
		assert.equal(srv.ready.mediasoupVersion, '3.27.1');
		assert.equal(srv.ready.rtcMode, 'webrtcserver');
		assert.equal(srv.ready.webRtcServers.length, 1);
		const { udp, tcp, ip } = srv.ready.webRtcServers[0];
		assert.equal(ip, '127.0.0.1');
		assert.ok(udp >= 40000 && udp <= 49999 && tcp >= 40000 && tcp <= 49999, `ports ${udp}/${tcp} in the rtc range`);
		const ports = await transportPorts(srv.url, 'shared', 3);
		assert.deepEqual([...new Set(ports)].sort(), [`tcp:${tcp}`, `udp:${udp}`]);
	} finally {
		assert.equal((await srv.stop()).code, 0);
	}
});

test('--webrtc-server-port N: worker i listens on N+i', async () => {
	const base = 47000 + Math.floor(Math.random() * 1000) * 2;
	const srv = await startServer(['--workers', '2', '--webrtc-server-port', String(base)]);
	try {
		assert.deepEqual(srv.ready.webRtcServers.map((s) => [s.udp, s.tcp]), [[base, base], [base + 1, base + 1]]);
	} finally {
		assert.equal((await srv.stop()).code, 0);
	}
});

test('--rtc-mode ports: a port per transport', async () => {
	const srv = await startServer(['--workers', '1', '--rtc-mode', 'ports']);
	try {
		assert.equal(srv.ready.rtcMode, 'ports');
		assert.deepEqual(srv.ready.webRtcServers, []);
		const ports = await transportPorts(srv.url, 'own', 3);
		assert.equal(new Set(ports.filter((p) => p.startsWith('udp:'))).size, 3, `three UDP ports: ${ports}`);
	} finally {
		assert.equal((await srv.stop()).code, 0);
	}
});

test(`--mediasoup-version ${LEGACY}: the legacy leg, per-transport ports`, async () => {
	const srv = await startServer(['--workers', '1', '--mediasoup-version', LEGACY]);
	try {
		assert.equal(srv.ready.mediasoupVersion, LEGACY);
		assert.equal(srv.ready.rtcMode, 'ports');
		const ports = await transportPorts(srv.url, 'legacy', 2);
		assert.equal(new Set(ports.filter((p) => p.startsWith('udp:'))).size, 2, `two UDP ports: ${ports}`);
	} finally {
		assert.equal((await srv.stop()).code, 0);
	}
});

test('bad version and mode flags: exit 2 with a message', async () => {
	let r = await run(['--mediasoup-version', '9.9.9']);
	assert.equal(r.code, 2);
	assert.match(r.stderr, /mediasoup 9\.9\.9 is not installed/);
	r = await run(['--mediasoup-version', 'latest']);
	assert.equal(r.code, 2);
	assert.match(r.stderr, /invalid --mediasoup-version "latest"/);
	r = await run(['--rtc-mode', 'both']);
	assert.equal(r.code, 2);
	assert.match(r.stderr, /invalid --rtc-mode "both"/);
	r = await run(['--rtc-mode', 'webrtcserver'], { MEDIASOUP_VERSION: LEGACY });
	assert.equal(r.code, 2);
	assert.match(r.stderr, /needs mediasoup >= 3\.10 \(running 3\.8\.4\)/);
	assert.equal(r.stdout, '');
});
