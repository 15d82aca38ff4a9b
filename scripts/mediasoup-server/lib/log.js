'use strict';

// Minimal leveled logger. Everything goes to stderr: stdout is reserved for
// the single machine-readable "ready" line.

const LEVELS = { debug: 10, info: 20, warn: 30, error: 40 };
let threshold = LEVELS.info;

function setLevel(level) {
	if (!(level in LEVELS)) throw new TypeError(`invalid log level "${level}" (debug|info|warn|error)`);
	threshold = LEVELS[level];
}

function fmtArg(a) {
	if (a instanceof Error) return a.stack || String(a);
	if (typeof a === 'object' && a !== null) {
		try { return JSON.stringify(a); } catch (_) { return String(a); }
	}
	return String(a);
}

function write(level, tag, args) {
	if (LEVELS[level] < threshold) return;
	const line = `${new Date().toISOString()} ${level.toUpperCase().padEnd(5)} [${tag}] ${args.map(fmtArg).join(' ')}\n`;
	try { process.stderr.write(line); } catch (_) { /* stderr gone: nothing to do */ }
}

function logger(tag) {
	return {
		debug: (...a) => write('debug', tag, a),
		info: (...a) => write('info', tag, a),
		warn: (...a) => write('warn', tag, a),
		error: (...a) => write('error', tag, a),
	};
}

module.exports = { logger, setLevel, LEVELS };
