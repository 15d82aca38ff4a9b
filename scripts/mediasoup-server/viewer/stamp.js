// Reads the stamp callctl's test picture carries (pkg/capture/stamp.go):
// 48 dark/light grey cells, 16 columns × 3 rows, in the band from 10/16 to
// 13/16 of the picture's height, full width: 4 sync bits 1010, a 16-bit
// frame number, a 20-bit capture time (ms since the producer's
// appData.stampEpochMs, modulo 2^20 or appData.stampPeriodMs) and a CRC-8.
// Each cell's inner half is averaged in luma; the sync cells set the
// threshold. Keep in step with the Go encoder.

export const STAMP_TIME_MODULUS = 1 << 20;
const COLS = 16;
const ROWS = 3;
const TOP = 10; // in 1/16ths of the height
const MIN_GAP = 60;

/** The band's rows [y0, y1) in a picture of height h. */
export function stampBand(h) {
	return [Math.floor((TOP * h) / 16), Math.floor(((TOP + ROWS) * h) / 16)];
}

function crc8(bytes) {
	let crc = 0;
	for (const b of bytes) {
		crc ^= b;
		for (let i = 0; i < 8; i++) crc = crc & 0x80 ? ((crc << 1) ^ 0x07) & 0xff : (crc << 1) & 0xff;
	}
	return crc;
}

/**
 * Decodes the stamp from RGBA pixels of the band (as getImageData returns
 * for the rectangle (0, y0)-(w, y1) of a w×h picture). Returns
 * {frame, timeMs} or null.
 */
export function readStamp(rgba, w, h) {
	const [y0] = stampBand(h);
	if (w < COLS || h < 16) return null;
	const means = [];
	for (let i = 0; i < COLS * ROWS; i++) {
		const c = i % COLS;
		const r = Math.floor(i / COLS);
		const cx0 = Math.floor((c * w) / COLS);
		const cx1 = Math.floor(((c + 1) * w) / COLS);
		const cy0 = Math.floor(((TOP + r) * h) / 16);
		const cy1 = Math.floor(((TOP + r + 1) * h) / 16);
		const dx = Math.floor((cx1 - cx0) / 4);
		const dy = Math.floor((cy1 - cy0) / 4);
		let sum = 0;
		let n = 0;
		for (let y = cy0 + dy; y < cy1 - dy; y++) {
			for (let x = cx0 + dx; x < cx1 - dx; x++) {
				const o = ((y - y0) * w + x) * 4;
				sum += 0.299 * rgba[o] + 0.587 * rgba[o + 1] + 0.114 * rgba[o + 2];
				n++;
			}
		}
		means.push(n ? sum / n : 0);
	}
	if (Math.min(means[0], means[2]) - Math.max(means[1], means[3]) < MIN_GAP) return null;
	const thr = (means[0] + means[2] + means[1] + means[3]) / 4;
	const bits = means.map((m) => (m > thr ? 1 : 0));
	const bytes = [];
	for (let b = 0; b < 6; b++) {
		let v = 0;
		for (let k = 0; k < 8; k++) v = (v << 1) | bits[b * 8 + k];
		bytes.push(v);
	}
	if (bytes[0] >> 4 !== 0b1010 || crc8(bytes.slice(0, 5)) !== bytes[5]) return null;
	const frame = ((bytes[0] & 0x0f) << 12) | (bytes[1] << 4) | (bytes[2] >> 4);
	const timeMs = ((bytes[2] & 0x0f) << 16) | (bytes[3] << 8) | bytes[4];
	return { frame, timeMs };
}

/**
 * The delay of a stamped frame seen at nowMs (Unix ms): the capture time
 * is the latest time ≡ timeMs (mod period) not after now plus a slack for
 * clocks that disagree (1 s, or a tenth of a short clip's period).
 */
export function stampDelay(timeMs, epochMs, periodMs, nowMs) {
	const period = periodMs > 0 ? periodMs : STAMP_TIME_MODULUS;
	const slack = Math.min(1000, Math.floor(period / 10));
	const elapsed = nowMs - epochMs;
	const t = timeMs % period;
	const k = Math.floor((elapsed + slack - t) / period);
	return elapsed - (t + k * period);
}
