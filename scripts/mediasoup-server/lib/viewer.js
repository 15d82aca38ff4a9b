'use strict';

// Serves the viewer page built by viewer/build.js (viewer/dist/) over the
// server's HTTP(S) listener: GET / (any query string) is the page, plus its
// few assets. Files are read per request, so a rebuild needs no restart.

const fs = require('fs');
const path = require('path');

const DIST = path.join(__dirname, '..', 'viewer', 'dist');

const FILES = {
	'/': ['index.html', 'text/html; charset=utf-8'],
	'/index.html': ['index.html', 'text/html; charset=utf-8'],
	'/viewer.js': ['viewer.js', 'text/javascript; charset=utf-8'],
	'/viewer.js.map': ['viewer.js.map', 'application/json'],
	'/viewer.js.LEGAL.txt': ['viewer.js.LEGAL.txt', 'text/plain; charset=utf-8'],
	'/viewer.css': ['viewer.css', 'text/css; charset=utf-8'],
};

/**
 * Answers a request for the viewer page or one of its assets.
 * @returns {boolean} false when the path is not the viewer's (nothing sent)
 */
function serveViewer(req, res, distDir = DIST) {
	const pathname = req.url.split('?')[0];
	const entry = Object.prototype.hasOwnProperty.call(FILES, pathname) ? FILES[pathname] : null;
	if (!entry) return false;
	if (req.method !== 'GET' && req.method !== 'HEAD') {
		res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain' });
		res.end('method not allowed\n');
		return true;
	}
	const [file, type] = entry;
	fs.readFile(path.join(distDir, file), (error, body) => {
		if (error) {
			const missing = error.code === 'ENOENT';
			res.writeHead(missing ? 503 : 500, { 'content-type': 'text/plain; charset=utf-8' });
			res.end(missing
				? 'The viewer page is not built: run bash scripts/mediasoup-server/install.sh\n'
				: `cannot read ${file}: ${error.message}\n`);
			return;
		}
		res.writeHead(200, {
			'content-type': type,
			'content-length': body.length,
			'cache-control': 'no-cache',
			'x-content-type-options': 'nosniff',
		});
		res.end(req.method === 'HEAD' ? undefined : body);
	});
	return true;
}

module.exports = { serveViewer, VIEWER_DIST: DIST };
