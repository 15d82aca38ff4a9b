'use strict';

// The viewer's stamp reader (viewer/stamp.js) against pictures painted the
// way pkg/capture/stamp.go paints them, with the Go encoder's CRC: the
// same bits must come back, a flipped cell must be rejected. The real
// thing (a callctl stream read in Chromium) is cmd/viewer_delay_e2e_test.go.

const { test } = require('node:test');
const assert = require('node:assert/strict');
const path = require('path');
const { pathToFileURL } = require('url');

const load = () => import(pathToFileURL(path.join(__dirname, '..', 'viewer', 'stamp.js')).href);

function crc8(bytes) {
	let crc = 0;
	for (const b of bytes) {
		crc ^= b;
		for (let i = 0; i < 8; i++) crc = crc & 0x80 ? ((crc << 1) ^ 0x07) & 0xff : (crc << 1) & 0xff;
	}
	return crc;
}

// paint returns the RGBA band of a w×h picture carrying {frame, timeMs}.
function paint(w, h, frame, timeMs, flip = -1) {
	const payload = [
		0xa0 | (frame >> 12),
		(frame >> 4) & 0xff,
		((frame & 0x0f) << 4) | (timeMs >> 16),
		(timeMs >> 8) & 0xff,
		timeMs & 0xff,
	];
	const bytes = [...payload, crc8(payload)];
	const y0 = Math.floor((10 * h) / 16);
	const y1 = Math.floor((13 * h) / 16);
	const rgba = new Uint8ClampedArray(w * (y1 - y0) * 4);
	for (let i = 0; i < 48; i++) {
		let bit = (bytes[i >> 3] >> (7 - (i & 7))) & 1;
		if (i === flip) bit ^= 1;
		const c = i % 16;
		const r = Math.floor(i / 16);
		const v = bit ? 255 : 0;
		for (let y = Math.floor(((10 + r) * h) / 16); y < Math.floor(((11 + r) * h) / 16); y++) {
			for (let x = Math.floor((c * w) / 16); x < Math.floor(((c + 1) * w) / 16); x++) {
				const o = ((y - y0) * w + x) * 4;
				rgba[o] = rgba[o + 1] = rgba[o + 2] = v;
				rgba[o + 3] = 255;
			}
		}
	}
	return rgba;
}

test('reads stamps at every layer size', async () => {
	const { readStamp } = await load();
	for (const [w, h] of [[1280, 720], [640, 360], [320, 180], [160, 90]]) {
		for (const [frame, timeMs] of [[0, 0], [65535, (1 << 20) - 1], [0x1234, 0xabcde]]) {
			assert.deepEqual(readStamp(paint(w, h, frame, timeMs), w, h), { frame, timeMs }, `${w}x${h}`);
		}
	}
});

test('rejects a flipped cell and a blank band', async () => {
	const { readStamp } = await load();
	assert.equal(readStamp(paint(320, 180, 7, 7, 30), 320, 180), null);
	assert.equal(readStamp(new Uint8ClampedArray(320 * 33 * 4), 320, 180), null);
});

test('unwraps the stamped time', async () => {
	const { stampDelay } = await load();
	const epoch = 1_700_000_000_000;
	assert.equal(stampDelay(100, epoch, 0, epoch + 140), 40);
	assert.equal(stampDelay((1 << 20) - 10, epoch, 0, epoch + (1 << 20) + 30), 40);
	assert.equal(stampDelay(900, epoch, 1000, epoch + 5950), 50); // a looping 1 s clip
	assert.equal(stampDelay(100, epoch, 0, epoch + 50), -50); // clocks that disagree a little
});
