'use strict';

// The viewer page (viewer/, built into viewer/dist/ by install.sh) is served
// over the server's HTTP listener; /status keeps the JSON summary.

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const http = require('http');
const { startServer } = require('../testutil/helpers');

let srv;
before(async () => { srv = await startServer(['--workers', '1']); });
after(async () => {
	const { code } = await srv.stop();
	assert.equal(code, 0, `server exit code; stderr:\n${srv.stderr()}`);
});

function get(path, method = 'GET') {
	const { port } = new URL(srv.url);
	return new Promise((resolve, reject) => {
		const req = http.request({ host: '127.0.0.1', port, path, method }, (res) => {
			let body = '';
			res.setEncoding('utf8');
			res.on('data', (d) => { body += d; });
			res.on('end', () => resolve({ status: res.statusCode, type: res.headers['content-type'], body }));
		});
		req.on('error', reject);
		req.end();
	});
}

test('GET / returns the viewer page', async () => {
	for (const path of ['/', '/?roomId=demo', '/?roomId=demo&peerId=p1&publish=1', '/index.html']) {
		const res = await get(path);
		assert.equal(res.status, 200, `${path}: ${res.body} (run bash scripts/mediasoup-server/install.sh)`);
		assert.match(res.type, /^text\/html/);
		assert.match(res.body, /<title>callctl viewer<\/title>/);
		assert.match(res.body, /<script type="module" src="viewer\.js"><\/script>/);
	}
});

test('the page assets are served: bundled script and stylesheet', async () => {
	const js = await get('/viewer.js');
	assert.equal(js.status, 200);
	assert.match(js.type, /^text\/javascript/);
	assert.ok(js.body.length > 50000, 'mediasoup-client and protoo-client are bundled in');
	assert.doesNotMatch(js.body, /^import .* from ["'](mediasoup-client|protoo-client)["']/m, 'no bare imports left');
	const css = await get('/viewer.css');
	assert.equal(css.status, 200);
	assert.match(css.type, /^text\/css/);
	const head = await get('/', 'HEAD');
	assert.equal(head.status, 200);
	assert.equal(head.body, '');
	assert.equal((await get('/', 'POST')).status, 405);
	assert.equal((await get('/viewer.js.nope')).status, 404);
	assert.equal((await get('/../server.js')).status, 404);
});

test('GET /status returns the JSON summary', async () => {
	const res = await get('/status');
	assert.equal(res.status, 200);
	const s = JSON.parse(res.body);
	assert.equal(s.server, 'callctl-mediasoup-server');
	assert.equal(s.mediasoupVersion, srv.ready.mediasoupVersion);
	assert.equal(s.rooms, 0);
});
