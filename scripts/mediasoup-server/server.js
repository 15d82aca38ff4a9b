#!/usr/bin/env node
'use strict';

// stdout carries exactly one line, the ready line (written with
// fs.writeSync). Third-party logging that goes through console — mediasoup's
// debug output under DEBUG=mediasoup* uses console.info — goes to stderr.
for (const method of ['log', 'info', 'debug']) console[method] = console.error.bind(console);

// callctl reference mediasoup room server.
//
// Speaks mediasoup-demo's protoo wire protocol (default: the JavaScript
// server's dialect; `--dialect ts` emulates the newer TypeScript server).
// Prints exactly one JSON line on stdout once listening:
//   {"event":"ready","url":"ws://127.0.0.1:4443","pid":123,"mediasoupVersion":"3.8.4","workers":2}
// Everything else goes to stderr. See README.md.

const fs = require('fs');
const os = require('os');
const http = require('http');
const https = require('https');

const { logger, setLevel } = require('./lib/log');

const log = logger('server');

const USAGE = `usage: node server.js [options]

  --listen HOST:PORT     HTTP/WebSocket listen address (env LISTEN, default 127.0.0.1:4443;
                         port 0 picks a free port, reported in the ready line)
  --tls                  serve wss:// (env TLS=1); self-signed certificate unless --cert/--key
  --cert FILE            TLS certificate (PEM) (env TLS_CERT)
  --key FILE             TLS private key (PEM) (env TLS_KEY)
  --rtc-ip IP            IP the WebRTC transports listen on (env RTC_LISTEN_IP,
                         default: the --listen host if it is an IP, else 127.0.0.1)
  --announced-ip IP      announced IP for ICE candidates (env ANNOUNCED_IP)
  --rtc-min-port N       (env RTC_MIN_PORT, default 40000)
  --rtc-max-port N       (env RTC_MAX_PORT, default 49999)
  --workers N            mediasoup workers (env WORKERS, default: number of CPUs)
  --log-level LEVEL      debug|info|warn|error (env LOG_LEVEL, default info)
  --dialect js|ts        wire dialect: mediasoup-demo JS server (default) or the
                         TypeScript rewrite (env DIALECT)
  --origin ORIGIN        only accept WebSocket upgrades with this Origin header
                         (env ORIGIN; default: any)
  --join-timeout-ms N    ts dialect: close peers that have not joined after N ms
                         (env JOIN_TIMEOUT_MS, default 10000, like the TS demo)
  --mediasoup-version V  mediasoup to run: the default package (3.27.1) or a legacy
                         one installed under legacy/V (3.8.4) (env MEDIASOUP_VERSION)
  --rtc-mode M           webrtcserver: one WebRtcServer (a single UDP and a single TCP
                         port) per worker for every transport, the default where
                         mediasoup has it (>= 3.10); ports: a port per transport, from
                         --rtc-min-port..--rtc-max-port (env RTC_MODE)
  --webrtc-server-port N webrtcserver mode: worker i listens on N+i (UDP and TCP);
                         default 0 = a free port in --rtc-min-port..--rtc-max-port
                         (env WEBRTC_SERVER_PORT)
  -h, --help             this help

env MEDIASOUP_WORKER_BIN selects the mediasoup-worker binary; otherwise the one
cached by install.sh for the chosen version is used (lib/worker.js).

The same port serves GET /?roomId=R, the viewer page (viewer/, built into
viewer/dist/ by install.sh), and GET /status, a JSON summary.
`;

// ---------------------------------------------------------------------------
// configuration

function fail(msg) {
	process.stderr.write(`mediasoup-server: ${msg}\n`);
	process.exit(2);
}

function parseArgs(argv) {
	const flags = {};
	const valued = new Set([
		'listen', 'cert', 'key', 'rtc-ip', 'announced-ip', 'rtc-min-port', 'rtc-max-port',
		'workers', 'log-level', 'dialect', 'origin', 'join-timeout-ms',
		'mediasoup-version', 'rtc-mode', 'webrtc-server-port',
	]);
	for (let i = 0; i < argv.length; i++) {
		let a = argv[i];
		if (a === '-h' || a === '--help') {
			process.stderr.write(USAGE);
			process.exit(0);
		}
		if (!a.startsWith('--')) fail(`unexpected argument "${a}"\n${USAGE}`);
		a = a.slice(2);
		let value;
		const eq = a.indexOf('=');
		if (eq >= 0) {
			value = a.slice(eq + 1);
			a = a.slice(0, eq);
		}
		if (a === 'tls') {
			flags.tls = value === undefined ? true : !/^(0|false|no)$/i.test(value);
			continue;
		}
		if (!valued.has(a)) fail(`unknown flag "--${a}"\n${USAGE}`);
		if (value === undefined) {
			if (i + 1 >= argv.length) fail(`flag "--${a}" needs a value`);
			value = argv[++i];
		}
		flags[a] = value;
	}
	return flags;
}

function parseHostPort(s) {
	const m = /^\[([^\]]+)\]:(\d+)$/.exec(s) || /^([^:]*):(\d+)$/.exec(s);
	if (!m) {
		if (/^\d+$/.test(s)) return { host: '127.0.0.1', port: Number(s) };
		fail(`invalid listen address "${s}" (want HOST:PORT)`);
	}
	const port = Number(m[2]);
	if (port < 0 || port > 65535) fail(`invalid port in "${s}"`);
	return { host: m[1] || '127.0.0.1', port };
}

function intOpt(name, v, def, min, max) {
	if (v === undefined || v === '') return def;
	const n = Number(v);
	if (!Number.isInteger(n) || n < min || n > max) fail(`invalid --${name} "${v}"`);
	return n;
}

function isIp(s) {
	return require('net').isIP(s) !== 0;
}

function buildConfig() {
	const f = parseArgs(process.argv.slice(2));
	const env = process.env;
	const { host, port } = parseHostPort(f.listen || env.LISTEN || '127.0.0.1:4443');
	const tls = f.tls !== undefined ? f.tls : /^(1|true|yes)$/i.test(env.TLS || '');
	const cfg = {
		host,
		port,
		tls,
		certFile: f.cert || env.TLS_CERT || undefined,
		keyFile: f.key || env.TLS_KEY || undefined,
		announcedIp: f['announced-ip'] || env.ANNOUNCED_IP || undefined,
		rtcListenIp: f['rtc-ip'] || env.RTC_LISTEN_IP || undefined,
		rtcMinPort: intOpt('rtc-min-port', f['rtc-min-port'] || env.RTC_MIN_PORT, 40000, 1, 65535),
		rtcMaxPort: intOpt('rtc-max-port', f['rtc-max-port'] || env.RTC_MAX_PORT, 49999, 1, 65535),
		numWorkers: intOpt('workers', f.workers || env.WORKERS, Math.max(1, os.cpus().length), 1, 256),
		logLevel: f['log-level'] || env.LOG_LEVEL || 'info',
		dialect: f.dialect || env.DIALECT || 'js',
		origin: f.origin || env.ORIGIN || undefined,
		joinTimeoutMs: intOpt('join-timeout-ms', f['join-timeout-ms'] || env.JOIN_TIMEOUT_MS, 10000, 1, 3600000),
		mediasoupVersion: f['mediasoup-version'] || env.MEDIASOUP_VERSION || undefined,
		rtcMode: f['rtc-mode'] || env.RTC_MODE || undefined, // resolved once the version is known
		webRtcServerPort: intOpt('webrtc-server-port', f['webrtc-server-port'] || env.WEBRTC_SERVER_PORT, 0, 0, 65535),
	};
	if (cfg.rtcMinPort > cfg.rtcMaxPort) fail('--rtc-min-port must be <= --rtc-max-port');
	if (!['js', 'ts'].includes(cfg.dialect)) fail(`invalid --dialect "${cfg.dialect}" (js|ts)`);
	if (!['debug', 'info', 'warn', 'error'].includes(cfg.logLevel)) fail(`invalid --log-level "${cfg.logLevel}"`);
	if (cfg.rtcMode !== undefined && !['webrtcserver', 'ports'].includes(cfg.rtcMode)) {
		fail(`invalid --rtc-mode "${cfg.rtcMode}" (webrtcserver|ports)`);
	}
	if (cfg.mediasoupVersion !== undefined && !/^\d+\.\d+\.\d+$/.test(cfg.mediasoupVersion)) {
		fail(`invalid --mediasoup-version "${cfg.mediasoupVersion}" (want X.Y.Z)`);
	}
	if ((cfg.certFile && !cfg.keyFile) || (!cfg.certFile && cfg.keyFile)) fail('--cert and --key go together');
	if (cfg.certFile) cfg.tls = true;
	if (!cfg.rtcListenIp) {
		cfg.rtcListenIp = isIp(host) ? host : '127.0.0.1';
	}
	if (!isIp(cfg.rtcListenIp)) fail(`--rtc-ip must be an IP address, got "${cfg.rtcListenIp}"`);
	if ((cfg.rtcListenIp === '0.0.0.0' || cfg.rtcListenIp === '::') && !cfg.announcedIp) {
		log.warn(`rtc listen IP ${cfg.rtcListenIp} without --announced-ip: ICE candidates will not be reachable`);
	}
	return cfg;
}

// ---------------------------------------------------------------------------
// mediasoup / worker binary

// Picks the mediasoup package and worker binary of the chosen version
// (lib/worker.js). Exits with status 2 when that version is not installed.
function loadMediasoup(version) {
	try {
		return require('./lib/worker').loadMediasoup(version);
	} catch (error) {
		return fail(error.message);
	}
}

function patchProtooParser() {
	// protoo-server's Message.parse() throws on e.g. the JSON text `null`
	// (inside a WebSocket 'message' handler => process crash). Make it return
	// undefined (= message ignored) for anything it cannot handle.
	const Message = require('protoo-server/lib/Message');
	const orig = Message.parse;
	if (orig.__callctlPatched) return;
	const plog = logger('protoo');
	const patched = function parse(raw) {
		try {
			return orig.call(Message, raw);
		} catch (error) {
			plog.warn('ignoring unparsable message:', error.message);
			return undefined;
		}
	};
	patched.__callctlPatched = true;
	Message.parse = patched;
}

function selfSignedCert() {
	const crypto = require('crypto');
	const selfsigned = require('selfsigned');
	const { publicKey, privateKey } = crypto.generateKeyPairSync('rsa', {
		modulusLength: 2048,
		publicKeyEncoding: { type: 'spki', format: 'pem' },
		privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
	});
	const pems = selfsigned.generate([{ name: 'commonName', value: 'localhost' }], {
		keyPair: { publicKey, privateKey },
		days: 365,
		algorithm: 'sha256',
		extensions: [
			{ name: 'basicConstraints', cA: false },
			{ name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
			{ name: 'extKeyUsage', serverAuth: true },
			{
				name: 'subjectAltName',
				altNames: [
					{ type: 2, value: 'localhost' },
					{ type: 7, ip: '127.0.0.1' },
					{ type: 7, ip: '::1' },
				],
			},
		],
	});
	return { cert: pems.cert, key: privateKey };
}

// ---------------------------------------------------------------------------

async function main() {
	const cfg = buildConfig();
	setLevel(cfg.logLevel);

	const { mediasoup, worker: workerBin } = loadMediasoup(cfg.mediasoupVersion);
	patchProtooParser();
	const rtcMode = resolveRtcMode(cfg, mediasoup.version);
	const protoo = require('protoo-server');
	const { Room } = require('./lib/room');
	const { serveViewer } = require('./lib/viewer');

	log.info(`mediasoup ${mediasoup.version}, worker binary: ${workerBin.bin} [${workerBin.source}], dialect ${cfg.dialect}, rtc mode ${rtcMode}`);

	// --- workers
	const workerLogLevel = { debug: 'debug', info: 'warn', warn: 'warn', error: 'error' }[cfg.logLevel];
	const workers = [];
	let shuttingDown = false;
	for (let i = 0; i < cfg.numWorkers; i++) {
		let worker;
		try {
			worker = await mediasoup.createWorker({
				logLevel: workerLogLevel,
				logTags: ['info', 'ice', 'dtls', 'rtp', 'srtp', 'rtcp', 'rtx', 'bwe', 'score', 'simulcast', 'svc', 'sctp'],
				rtcMinPort: cfg.rtcMinPort,
				rtcMaxPort: cfg.rtcMaxPort,
			});
		} catch (error) {
			for (const w of workers) w.close();
			throw new Error(`cannot start mediasoup-worker (${workerBin.bin}): ${error.message}; ` +
				'run: bash scripts/mediasoup-server/install.sh (or set MEDIASOUP_WORKER_BIN)');
		}
		worker.on('died', (error) => {
			if (shuttingDown) return;
			log.error(`mediasoup worker ${worker.pid} died: ${error && error.message}; exiting`);
			setTimeout(() => process.exit(1), 500);
		});
		workers.push(worker);
	}
	// One WebRtcServer per worker: every transport of that worker shares its
	// UDP port and its TCP port, as in current deployments (and the demo).
	const webRtcServers = [];
	if (rtcMode === 'webrtcserver') {
		try {
			for (let i = 0; i < workers.length; i++) {
				webRtcServers.push(await createWebRtcServer(workers[i], i, cfg));
			}
		} catch (error) {
			for (const w of workers) w.close();
			throw new Error(`cannot create a WebRtcServer: ${error.message}`);
		}
	}
	let nextWorker = 0;

	// --- rooms
	const rooms = new Map(); // roomId -> Promise<Room>

	async function getOrCreateRoom(roomId) {
		let p = rooms.get(roomId);
		if (!p) {
			const worker = workers[nextWorker];
			const webRtcServer = webRtcServers[nextWorker] && webRtcServers[nextWorker].server;
			nextWorker = (nextWorker + 1) % workers.length;
			log.info(`creating room "${roomId}" on worker ${worker.pid}`);
			p = Room.create({ roomId, mediasoup, worker, webRtcServer, config: cfg }).then((room) => {
				room.onClose(() => {
					if (rooms.get(roomId) === p) rooms.delete(roomId);
				});
				return room;
			});
			p.catch(() => {
				if (rooms.get(roomId) === p) rooms.delete(roomId);
			});
			rooms.set(roomId, p);
		}
		return p;
	}

	// --- HTTP(S) server
	let server;
	if (cfg.tls) {
		let creds;
		if (cfg.certFile) {
			creds = { cert: fs.readFileSync(cfg.certFile), key: fs.readFileSync(cfg.keyFile) };
		} else {
			creds = selfSignedCert();
			log.info('generated a self-signed TLS certificate');
		}
		server = https.createServer(creds);
	} else {
		server = http.createServer();
	}
	server.on('request', (req, res) => {
		if (serveViewer(req, res)) return; // GET /?roomId=R: the viewer page (viewer/)
		if (req.url === '/status' || req.url.startsWith('/status?')) {
			statusBody(rooms).then((roomList) => {
				res.writeHead(200, { 'content-type': 'application/json' });
				res.end(JSON.stringify({
					server: 'callctl-mediasoup-server',
					mediasoupVersion: mediasoup.version,
					dialect: cfg.dialect,
					rooms: rooms.size,
					rtcMode,
					webRtcServers: webRtcServers.map(webRtcServerPorts),
					roomDetails: roomList,
				}));
			});
			return;
		}
		res.writeHead(404, { 'content-type': 'text/plain' });
		res.end('not found\n');
	});
	server.on('clientError', (err, socket) => {
		try { socket.destroy(); } catch (_) { /* ignore */ }
	});

	const wsServer = new protoo.WebSocketServer(server, {
		maxReceivedFrameSize: 960000,
		maxReceivedMessageSize: 960000,
		fragmentOutgoingMessages: true,
		fragmentationThreshold: 960000,
	});

	wsServer.on('connectionrequest', (info, accept, reject) => {
		let url;
		try {
			url = new URL(info.request.url, 'http://localhost');
		} catch (_) {
			reject(400, 'invalid URL');
			return;
		}
		const roomId = url.searchParams.get('roomId');
		const peerId = url.searchParams.get('peerId');
		if (!roomId || !peerId) {
			reject(400, 'Connection request without roomId and/or peerId');
			return;
		}
		if (cfg.origin && info.origin !== cfg.origin) {
			reject(403, 'invalid Origin');
			return;
		}
		if (shuttingDown) {
			reject(503, 'shutting down');
			return;
		}
		const remoteAddress = info.socket && info.socket.remoteAddress;
		(async () => {
			for (let attempt = 0; attempt < 3; attempt++) {
				const room = await getOrCreateRoom(roomId);
				if (room.closed) continue;
				const transport = accept();
				room.handleConnection({ peerId, transport, remoteAddress });
				return;
			}
			throw new Error('room keeps closing');
		})().catch((error) => {
			log.error(`room "${roomId}" connection failed:`, error.message);
			try { reject(500, String(error.message)); } catch (_) { /* already replied */ }
		});
	});

	// --- listen
	await new Promise((resolve, reject) => {
		server.once('error', reject);
		server.listen(cfg.port, cfg.host, () => {
			server.removeListener('error', reject);
			resolve();
		});
	});
	server.on('error', (error) => log.error('http server error:', error.message));

	const addr = server.address();
	let urlHost = addr.address;
	if (urlHost === '0.0.0.0') urlHost = '127.0.0.1';
	if (urlHost === '::') urlHost = '::1';
	if (urlHost.includes(':')) urlHost = `[${urlHost}]`;
	const url = `${cfg.tls ? 'wss' : 'ws'}://${urlHost}:${addr.port}`;

	process.on('uncaughtException', (error) => log.error('uncaught exception (continuing):', error));
	process.on('unhandledRejection', (error) => log.error('unhandled rejection (continuing):', error));

	// --- shutdown
	async function shutdown(signal) {
		if (shuttingDown) return;
		shuttingDown = true;
		log.info(`${signal}: closing rooms, workers and the HTTP server`);
		const force = setTimeout(() => process.exit(0), 3000);
		force.unref();
		try { wsServer.stop(); } catch (_) { /* ignore */ }
		for (const p of rooms.values()) {
			try { (await p).close(); } catch (_) { /* ignore */ }
		}
		for (const w of workers) {
			try { w.close(); } catch (_) { /* ignore */ }
		}
		await new Promise((resolve) => {
			server.close(() => resolve());
			if (typeof server.closeIdleConnections === 'function') server.closeIdleConnections();
			// Give the WebSocket close handshakes (code 4000) a moment, then drop what is left.
			setTimeout(() => {
				if (typeof server.closeAllConnections === 'function') server.closeAllConnections();
				resolve();
			}, 300).unref();
		});
		log.info('bye');
		process.exit(0);
	}
	process.removeListener('SIGTERM', earlyExit);
	process.removeListener('SIGINT', earlyExit);
	process.on('SIGTERM', () => shutdown('SIGTERM'));
	process.on('SIGINT', () => shutdown('SIGINT'));

	log.info(`listening on ${url} (rtc ip ${cfg.rtcListenIp}${cfg.announcedIp ? `, announced ${cfg.announcedIp}` : ''}, ports ${cfg.rtcMinPort}-${cfg.rtcMaxPort}, ${workers.length} workers)`);
	const ready = JSON.stringify({
		event: 'ready',
		url,
		pid: process.pid,
		mediasoupVersion: mediasoup.version,
		workers: workers.length,
		rtcMode,
		webRtcServers: webRtcServers.map(webRtcServerPorts),
	});
	fs.writeSync(1, `${ready}\n`);
}

// webrtcserver where this mediasoup has WebRtcServer (3.10+), unless
// --rtc-mode says otherwise.
function resolveRtcMode(cfg, version) {
	const has = require('./lib/compat').features(version).webRtcServer;
	if (cfg.rtcMode === 'webrtcserver' && !has) {
		fail(`--rtc-mode webrtcserver needs mediasoup >= 3.10 (running ${version})`);
	}
	return cfg.rtcMode || (has ? 'webrtcserver' : 'ports');
}

async function createWebRtcServer(worker, index, cfg) {
	const listen = (protocol) => {
		const info = { protocol, ip: cfg.rtcListenIp };
		if (cfg.announcedIp) info.announcedAddress = cfg.announcedIp;
		if (cfg.webRtcServerPort) info.port = cfg.webRtcServerPort + index;
		else info.portRange = { min: cfg.rtcMinPort, max: cfg.rtcMaxPort };
		return info;
	};
	const server = await worker.createWebRtcServer({ listenInfos: [listen('udp'), listen('tcp')] });
	// With a port range the listen infos do not say which port was taken; the
	// dump does.
	const dump = await server.dump();
	const ports = {
		ip: cfg.rtcListenIp,
		udp: ((dump.udpSockets || [])[0] || {}).port,
		tcp: ((dump.tcpServers || [])[0] || {}).port,
	};
	log.info(`worker ${worker.pid}: WebRtcServer on ${ports.ip} udp ${ports.udp} tcp ${ports.tcp}`);
	return { server, ports };
}

function webRtcServerPorts(entry) {
	return entry.ports;
}

// /status room details: each peer's transports and the local port of their
// selected ICE tuple (how a test sees that transports share one port).
async function statusBody(rooms) {
	const out = [];
	for (const p of rooms.values()) {
		try {
			out.push((await p).summary());
		} catch (_) { /* room failed to open */ }
	}
	return out;
}

// Until the real handlers are installed (after the workers are up), a signal
// just ends the process; the workers exit when their channel closes.
const earlyExit = () => process.exit(0);
process.on('SIGTERM', earlyExit);
process.on('SIGINT', earlyExit);

main().catch((error) => {
	process.stderr.write(`mediasoup-server: fatal: ${error && error.stack ? error.stack : error}\n`);
	process.exit(1);
});
