'use strict';

// Which mediasoup npm package and which mediasoup-worker binary a given
// mediasoup version uses.
//
// The default version is the one in ../node_modules/mediasoup (3.27.1). The
// legacy leg (3.8.4) lives in its own package under ../legacy/<version>/, so
// both can be installed side by side; install.sh installs both and builds
// (or reuses) each version's worker in the cache:
//   ${XDG_CACHE_HOME:-~/.cache}/callctl/mediasoup-worker/<version>/mediasoup-worker
//
// Other tools (e.g. scripts/jsonapp) can use resolveWorkerBin() instead of
// rebuilding that path themselves.

const fs = require('fs');
const os = require('os');
const path = require('path');

const SERVER_DIR = path.resolve(__dirname, '..');

function readVersion(pkgDir) {
	try {
		return JSON.parse(fs.readFileSync(path.join(pkgDir, 'package.json'), 'utf8')).version;
	} catch (_) {
		return null;
	}
}

function isExecutable(file) {
	try {
		fs.accessSync(file, fs.constants.X_OK);
		return fs.statSync(file).isFile();
	} catch (_) {
		return false;
	}
}

// Directory of the default mediasoup package (../node_modules/mediasoup).
function defaultPackageDir() {
	return path.join(SERVER_DIR, 'node_modules', 'mediasoup');
}

// The version of the default package, or null when it is not installed.
function defaultVersion() {
	return readVersion(defaultPackageDir());
}

// The mediasoup versions installed here: the default one first, then the
// legacy ones under ../legacy/.
function installedVersions() {
	const out = [];
	const def = defaultVersion();
	if (def) out.push(def);
	let entries = [];
	try {
		entries = fs.readdirSync(path.join(SERVER_DIR, 'legacy'));
	} catch (_) { /* none */ }
	for (const name of entries.sort()) {
		const v = readVersion(path.join(SERVER_DIR, 'legacy', name, 'node_modules', 'mediasoup'));
		if (v && !out.includes(v)) out.push(v);
	}
	return out;
}

// Directory of the mediasoup package for `version` (default: the default
// package), or null when that version is not installed.
function packageDir(version) {
	const def = defaultPackageDir();
	if (!version || readVersion(def) === version) return readVersion(def) ? def : null;
	const legacy = path.join(SERVER_DIR, 'legacy', version, 'node_modules', 'mediasoup');
	return readVersion(legacy) === version ? legacy : null;
}

// Where install.sh caches the worker binary of `version`.
function cachedWorkerPath(version) {
	const cacheRoot = process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
	return path.join(cacheRoot, 'callctl', 'mediasoup-worker', version, 'mediasoup-worker');
}

// resolveWorkerBin(version?) -> { bin, source, version, packageDir }
//   bin: the worker binary to run, or null when none is found;
//   source: 'MEDIASOUP_WORKER_BIN' | 'cache' | 'package' | 'missing'.
// MEDIASOUP_WORKER_BIN (if set) wins: it is the user's own worker.
// Throws when the mediasoup package of that version is not installed.
function resolveWorkerBin(version) {
	const dir = packageDir(version);
	if (!dir) {
		const have = installedVersions();
		throw new Error(`mediasoup ${version || '(default)'} is not installed` +
			` (installed: ${have.length ? have.join(', ') : 'none'}); run: bash scripts/mediasoup-server/install.sh`);
	}
	const v = readVersion(dir);
	const env = process.env.MEDIASOUP_WORKER_BIN;
	if (env) {
		return { bin: isExecutable(env) ? env : null, source: 'MEDIASOUP_WORKER_BIN', version: v, packageDir: dir };
	}
	const cached = cachedWorkerPath(v);
	if (isExecutable(cached)) return { bin: cached, source: 'cache', version: v, packageDir: dir };
	const inPkg = path.join(dir, 'worker', 'out', 'Release', 'mediasoup-worker');
	if (isExecutable(inPkg)) return { bin: inPkg, source: 'package', version: v, packageDir: dir };
	return { bin: null, source: 'missing', version: v, packageDir: dir };
}

// loadMediasoup(version?) -> { mediasoup, worker } where worker is the
// resolveWorkerBin() result. Sets MEDIASOUP_WORKER_BIN before require():
// mediasoup (3.8.4 and 3.27.1 alike) reads it once, at load time.
function loadMediasoup(version) {
	const worker = resolveWorkerBin(version);
	if (!worker.bin) {
		throw new Error(worker.source === 'MEDIASOUP_WORKER_BIN'
			? `MEDIASOUP_WORKER_BIN=${process.env.MEDIASOUP_WORKER_BIN} is not an executable file`
			: `no mediasoup-worker ${worker.version} (expected ${cachedWorkerPath(worker.version)}); ` +
				'run: bash scripts/mediasoup-server/install.sh');
	}
	process.env.MEDIASOUP_WORKER_BIN = worker.bin;
	// eslint-disable-next-line global-require
	const mediasoup = require(worker.packageDir);
	return { mediasoup, worker };
}

module.exports = {
	defaultPackageDir,
	defaultVersion,
	installedVersions,
	packageDir,
	cachedWorkerPath,
	resolveWorkerBin,
	loadMediasoup,
};
