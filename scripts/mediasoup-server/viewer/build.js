#!/usr/bin/env node
'use strict';

// Builds the viewer page into viewer/dist/ with esbuild:
//   viewer.js (+ chat.js, mediasoup-client, protoo-client) -> dist/viewer.js (+ .map)
//   index.html, viewer.css                        -> copied
// Skips the build when dist/ was made from the same inputs (a hash of the
// sources, package-lock.json and the esbuild version); --force rebuilds.
// Run by ../install.sh; prints one line on stderr.

const crypto = require('crypto');
const fs = require('fs');
const path = require('path');

const HERE = __dirname;
const DIST = path.join(HERE, 'dist');
const STAMP = path.join(DIST, '.build-stamp');
const SOURCES = ['index.html', 'viewer.css', 'viewer.js', 'chat.js', 'stamp.js', 'build.js'];
const OUTPUTS = ['index.html', 'viewer.css', 'viewer.js'];

function log(msg) {
	process.stderr.write(`[viewer/build] ${msg}\n`);
}

function inputHash(esbuildVersion) {
	const h = crypto.createHash('sha256');
	for (const f of SOURCES) h.update(f).update(fs.readFileSync(path.join(HERE, f)));
	h.update(fs.readFileSync(path.join(HERE, '..', 'package-lock.json')));
	h.update(esbuildVersion);
	return h.digest('hex');
}

async function main() {
	let esbuild;
	try {
		esbuild = require('esbuild');
	} catch (error) {
		log(`esbuild is not installed (${error.message}); run: bash scripts/mediasoup-server/install.sh`);
		process.exit(1);
	}
	const want = inputHash(esbuild.version);
	const force = process.argv.includes('--force');
	const upToDate = !force && fs.existsSync(STAMP) && fs.readFileSync(STAMP, 'utf8') === want &&
		OUTPUTS.every((f) => fs.existsSync(path.join(DIST, f)));
	if (upToDate) {
		log('ok: dist/ is up to date');
		return;
	}

	const tmp = fs.mkdtempSync(path.join(HERE, '.dist-'));
	fs.chmodSync(tmp, 0o755);
	try {
		const start = Date.now();
		await esbuild.build({
			entryPoints: [path.join(HERE, 'viewer.js')],
			outfile: path.join(tmp, 'viewer.js'),
			bundle: true,
			format: 'esm',
			platform: 'browser',
			target: ['chrome111', 'firefox120', 'safari16'],
			minify: true,
			sourcemap: 'linked',
			legalComments: 'linked',
			logLevel: 'warning',
		});
		for (const f of ['index.html', 'viewer.css']) fs.copyFileSync(path.join(HERE, f), path.join(tmp, f));
		fs.writeFileSync(path.join(tmp, '.build-stamp'), want);
		fs.rmSync(DIST, { recursive: true, force: true });
		fs.renameSync(tmp, DIST);
		const kb = Math.round(fs.statSync(path.join(DIST, 'viewer.js')).size / 1024);
		log(`built dist/ (viewer.js ${kb} KiB, esbuild ${esbuild.version}) in ${Date.now() - start} ms`);
	} catch (error) {
		fs.rmSync(tmp, { recursive: true, force: true });
		log(`build failed: ${error.message}`);
		process.exit(1);
	}
}

main();
