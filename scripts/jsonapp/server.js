#!/usr/bin/env node
'use strict';

// jsonapp: a small mediasoup application with its own plain-JSON signaling
// (not protoo), used to prove that callctl's signaling-agnostic Go layer works
// with any signaling. Protocol: protocol.js and README.md.
//
//   node scripts/jsonapp/server.js --listen 127.0.0.1:0 [--rtc-ip 127.0.0.1]
//
// stdout carries exactly one line once listening:
//   {"event":"ready","url":"ws://127.0.0.1:PORT","pid":N,"mediasoupVersion":"x"}
// Logs go to stderr; SIGTERM/SIGINT close everything and exit 0.

// Third-party console output (mediasoup's DEBUG logging) must not reach stdout.
for (const method of ['log', 'info', 'debug']) console[method] = console.error.bind(console);

const fs = require('fs');
const os = require('os');
const net = require('net');
const path = require('path');
const http = require('http');

const SERVER_DIR = path.join(__dirname, '..', 'mediasoup-server');
const MEDIASOUP_DIR = path.join(SERVER_DIR, 'node_modules', 'mediasoup');
const { logger, setLevel } = require(path.join(SERVER_DIR, 'lib', 'log'));

const log = logger('jsonapp');

// Frames above this are refused by ws (the socket is closed with 1009). The
// largest legitimate message, a subscribe carrying full rtpCapabilities, is
// well under 20 KiB.
const MAX_PAYLOAD = 128 * 1024;

const MEDIA_CODECS = [
	{ kind: 'audio', mimeType: 'audio/opus', clockRate: 48000, channels: 2 },
	{ kind: 'video', mimeType: 'video/VP8', clockRate: 90000, parameters: { 'x-google-start-bitrate': 1000 } },
	{
		kind: 'video', mimeType: 'video/H264', clockRate: 90000,
		parameters: { 'packetization-mode': 1, 'profile-level-id': '42e01f', 'level-asymmetry-allowed': 1 },
	},
];

const USAGE = `usage: node scripts/jsonapp/server.js [--listen HOST:PORT] [--rtc-ip IP] [--log-level LEVEL]

  --listen HOST:PORT   WebSocket listen address (default 127.0.0.1:0: a free port,
                       reported in the ready line on stdout)
  --rtc-ip IP          IP the WebRTC transports listen on (default 127.0.0.1)
  --log-level LEVEL    debug|info|warn|error (default info)

env MEDIASOUP_WORKER_BIN selects the mediasoup-worker binary; otherwise the one
cached by scripts/mediasoup-server/install.sh is used.
`;

function fail(msg) {
	process.stderr.write(`jsonapp: ${msg}\n`);
	process.exit(2);
}

function parseArgs(argv) {
	const cfg = { host: '127.0.0.1', port: 0, rtcIp: '127.0.0.1', logLevel: 'info' };
	for (let i = 0; i < argv.length; i++) {
		const a = argv[i];
		if (a === '-h' || a === '--help') {
			process.stderr.write(USAGE);
			process.exit(0);
		}
		if (!['--listen', '--rtc-ip', '--log-level'].includes(a)) fail(`unknown argument "${a}"\n${USAGE}`);
		if (i + 1 >= argv.length) fail(`${a} needs a value`);
		const v = argv[++i];
		if (a === '--listen') {
			const m = /^\[([^\]]+)\]:(\d+)$/.exec(v) || /^([^:]+):(\d+)$/.exec(v);
			if (!m || !net.isIP(m[1]) || Number(m[2]) > 65535) fail(`--listen wants IP:PORT, got "${v}"`);
			cfg.host = m[1];
			cfg.port = Number(m[2]);
		} else if (a === '--rtc-ip') {
			if (!net.isIP(v)) fail(`--rtc-ip wants an IP address, got "${v}"`);
			cfg.rtcIp = v;
		} else {
			if (!['debug', 'info', 'warn', 'error'].includes(v)) fail(`--log-level wants debug|info|warn|error, got "${v}"`);
			cfg.logLevel = v;
		}
	}
	return cfg;
}

function isExecutable(file) {
	try {
		fs.accessSync(file, fs.constants.X_OK);
		return fs.statSync(file).isFile();
	} catch (_) {
		return false;
	}
}

// mediasoup 3.8 reads MEDIASOUP_WORKER_BIN when it is required, so this runs first.
function resolveWorkerBin() {
	const hint = 'run: bash scripts/mediasoup-server/install.sh';
	let version;
	try {
		version = JSON.parse(fs.readFileSync(path.join(MEDIASOUP_DIR, 'package.json'), 'utf8')).version;
	} catch (_) {
		fail(`mediasoup is not installed in ${MEDIASOUP_DIR}; ${hint}`);
	}
	const fromEnv = process.env.MEDIASOUP_WORKER_BIN;
	if (fromEnv) {
		if (!isExecutable(fromEnv)) fail(`MEDIASOUP_WORKER_BIN=${fromEnv} is not an executable file`);
		return fromEnv;
	}
	const cacheRoot = process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
	const cached = path.join(cacheRoot, 'callctl', 'mediasoup-worker', version, 'mediasoup-worker');
	// Newer mediasoup releases may carry their own prebuilt worker.
	const bundled = path.join(MEDIASOUP_DIR, 'worker', 'out', 'Release', 'mediasoup-worker');
	const bin = [cached, bundled].find(isExecutable);
	if (!bin) fail(`mediasoup-worker ${version} not found at ${cached}; ${hint}`);
	process.env.MEDIASOUP_WORKER_BIN = bin;
	return bin;
}

async function startWorker(mediasoup) {
	const worker = await mediasoup.createWorker({ logLevel: 'warn' });
	worker.on('died', (error) => {
		log.error(`mediasoup worker died: ${error && error.message}; exiting`);
		process.exit(1);
	});
	return worker;
}

function listen(server, cfg) {
	return new Promise((resolve, reject) => {
		server.once('error', reject);
		server.listen(cfg.port, cfg.host, () => {
			server.removeListener('error', reject);
			resolve(server.address());
		});
	});
}

async function main() {
	const cfg = parseArgs(process.argv.slice(2));
	setLevel(cfg.logLevel);
	const workerBin = resolveWorkerBin();
	const mediasoup = require(MEDIASOUP_DIR);
	const WebSocket = require(path.join(SERVER_DIR, 'node_modules', 'ws'));
	const { Rooms, Session } = require('./protocol');

	const worker = await startWorker(mediasoup);
	const rooms = new Rooms({ worker, mediaCodecs: MEDIA_CODECS, log });
	const ctx = { rooms, rtcIp: cfg.rtcIp, version: mediasoup.version, log };

	// Plain HTTP requests get 426: this port only speaks WebSocket.
	const server = http.createServer((req, res) => {
		res.writeHead(426, { 'content-type': 'text/plain', upgrade: 'websocket' });
		res.end('jsonapp: connect with WebSocket\n');
	});
	const wss = new WebSocket.Server({ server, maxPayload: MAX_PAYLOAD });
	wss.on('connection', (ws, req) => {
		const session = new Session(ws, ctx);
		log.debug(`connection from ${req.socket.remoteAddress}:${req.socket.remotePort}`);
		ws.on('message', (data, isBinary) => session.onMessage(data, isBinary));
		ws.on('close', () => session.leave());
		ws.on('error', (error) => log.warn(`websocket error (${session.me || 'no hello yet'}): ${error.message}`));
	});

	const addr = await listen(server, cfg);
	const host = addr.family === 'IPv6' || addr.family === 6 ? `[${addr.address}]` : addr.address;
	const url = `ws://${host}:${addr.port}`;

	let stopping = false;
	const shutdown = (signal) => {
		if (stopping) return;
		stopping = true;
		log.info(`${signal}: closing connections, rooms and the worker`);
		for (const ws of wss.clients) ws.close(1001, 'server shutting down');
		worker.close();
		server.close(() => process.exit(0));
		// Give the close handshakes a moment, then go regardless.
		setTimeout(() => process.exit(0), 500).unref();
	};
	process.on('SIGTERM', () => shutdown('SIGTERM'));
	process.on('SIGINT', () => shutdown('SIGINT'));
	process.removeListener('SIGTERM', earlyExit);
	process.removeListener('SIGINT', earlyExit);

	log.info(`mediasoup ${mediasoup.version} (worker ${workerBin}); listening on ${url}, rtc ip ${cfg.rtcIp}`);
	const ready = { event: 'ready', url, pid: process.pid, mediasoupVersion: mediasoup.version };
	fs.writeSync(1, `${JSON.stringify(ready)}\n`);
}

// Before the handlers above exist, a signal just ends the process (the worker
// exits when its channel closes).
const earlyExit = () => process.exit(0);
process.on('SIGTERM', earlyExit);
process.on('SIGINT', earlyExit);

main().catch((error) => {
	process.stderr.write(`jsonapp: fatal: ${error && error.stack ? error.stack : error}\n`);
	process.exit(1);
});
