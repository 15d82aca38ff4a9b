// callctl viewer: joins a room of the reference mediasoup server (the
// mediasoup-demo protoo protocol) with mediasoup-client, shows every
// participant's video with name, layer and resolution, plays their audio,
// can publish this browser's camera and microphone, and has a chat box
// (DataChannels, see chat.js).
//
// URL parameters: roomId (default "demo"), peerId (default random),
// displayName, publish=1 (publish camera+mic at once), camera=WxH (camera
// size asked for, default 1280x720). Tests read the state through
// window.viewer (see the end of this file).

import { Device } from 'mediasoup-client';
import * as protooClient from 'protoo-client';
import { createChat } from './chat.js';
import { readStamp, stampBand, stampDelay } from './stamp.js';

const params = new URLSearchParams(location.search);
const roomId = params.get('roomId') || 'demo';
const peerId = params.get('peerId') || `viewer-${Math.random().toString(36).slice(2, 8)}`;
const displayName = params.get('displayName') || `Viewer ${peerId.replace(/^viewer-/, '')}`;
const autoPublish = /^(1|true|yes)$/i.test(params.get('publish') || '');
const camera = /^(\d+)x(\d+)$/.exec(params.get('camera') || '');
const camWidth = camera ? Number(camera[1]) : 1280;
const camHeight = camera ? Number(camera[2]) : 720;

const $ = (id) => document.getElementById(id);
const wsUrl = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/` +
	`?roomId=${encodeURIComponent(roomId)}&peerId=${encodeURIComponent(peerId)}`;

// Session state; reset on every (re)join.
let device = null;
let dialect = 'js'; // 'ts' when the server wraps its responses (TypeScript demo)
let sendTransport = null;
let recvTransport = null;
let joined = false;
let lastError = null;
let wantPublish = autoPublish;
const peers = new Map(); // peerId -> { id, displayName, tile }
const consumers = new Map(); // consumerId -> { consumer, peerId, type, producerPaused, spatialLayer, temporalLayer, score, el, frames }
const producers = new Map(); // kind -> Producer
let localStream = null;
const chat = createChat({
	log: $('chat-log'),
	form: $('chat-form'),
	nameOf: (id) => (peers.has(id) ? peers.get(id).displayName : id),
});

// ---------------------------------------------------------------------------
// signaling

const protoo = new protooClient.Peer(new protooClient.WebSocketTransport(wsUrl));

protoo.on('open', () => join().catch((error) => fail('join failed', error)));
protoo.on('failed', () => setStatus('cannot reach the server, retrying…', 'bad'));
protoo.on('disconnected', () => {
	setStatus('disconnected, reconnecting…', 'bad');
	reset();
});
protoo.on('close', () => {
	setStatus('connection closed (reload to join again)', 'bad');
	reset();
});
protoo.on('request', (request, accept, reject) => {
	onRequest(request, accept, reject).catch((error) => {
		console.error(`request "${request.method}" failed:`, error);
		reject(500, String(error));
	});
});
protoo.on('notification', (n) => onNotification(n.method, n.data || {}));

// The TS dialect wraps some responses ({routerRtpCapabilities}, {transportId},
// {producerId}); the callers read both shapes.
const request = (method, data = {}) => protoo.request(method, data);
// Control methods are requests in the JS dialect, notifications in TS.
const control = (method, data) => (dialect === 'ts' ? protoo.notify(method, data) : protoo.request(method, data));

async function join() {
	reset();
	lastError = null;
	setStatus('joining…');
	let caps = await request('getRouterRtpCapabilities');
	if (caps && caps.routerRtpCapabilities) {
		dialect = 'ts';
		caps = caps.routerRtpCapabilities;
	}
	device = new Device();
	await device.load({ routerRtpCapabilities: caps });

	// Both transports exist before `join`: the server creates the consumers
	// for producers already in the room at join time, on the recv transport.
	// The send transport exists even when the page does not publish media:
	// it carries the chat DataProducer.
	sendTransport = await createTransport('producer');
	recvTransport = await createTransport('consumer');

	// With sctpCapabilities the server also creates DataConsumers (chat).
	const res = await request('join', {
		displayName,
		device: { flag: 'callctl-viewer', name: navigator.userAgent, version: device.handlerName },
		rtpCapabilities: device.rtpCapabilities,
		sctpCapabilities: device.sctpCapabilities,
	});
	joined = true;
	for (const p of res.peers || []) addPeer(p);
	setStatus(`joined (${device.handlerName})`, 'ok');
	$('publish').disabled = false;
	if (wantPublish) await publish();
	// After `join` (the server rejects produceData before it) and after
	// the media, so chat never delays them: the send transport is then
	// connected, as in the demo's JS client. In a receive-only page,
	// producing the chat is what connects the send transport.
	await chat.start(sendTransport);
}

async function createTransport(direction) {
	const producing = direction === 'producer';
	const info = await request('createWebRtcTransport', {
		forceTcp: false, producing, consuming: !producing, appData: { direction },
		sctpCapabilities: device.sctpCapabilities,
	});
	const opts = {
		id: info.id || info.transportId,
		iceParameters: info.iceParameters,
		iceCandidates: info.iceCandidates,
		dtlsParameters: info.dtlsParameters,
		sctpParameters: info.sctpParameters,
		iceServers: [],
	};
	const transport = producing ? device.createSendTransport(opts) : device.createRecvTransport(opts);
	transport.on('connect', ({ dtlsParameters }, callback, errback) => {
		request('connectWebRtcTransport', { transportId: transport.id, dtlsParameters }).then(callback, errback);
	});
	if (producing) {
		transport.on('produce', ({ kind, rtpParameters, appData }, callback, errback) => {
			request('produce', { transportId: transport.id, kind, rtpParameters, appData })
				.then((r) => callback({ id: r.id || r.producerId }), errback);
		});
		transport.on('producedata', ({ sctpStreamParameters, label, protocol, appData }, callback, errback) => {
			request('produceData', { transportId: transport.id, sctpStreamParameters, label, protocol, appData })
				.then((r) => callback({ id: r.id || r.dataProducerId }), errback);
		});
	}
	transport.on('connectionstatechange', (state) => {
		if (state === 'failed') setStatus(`${direction} transport failed`, 'bad');
	});
	return transport;
}

async function onRequest(req, accept, reject) {
	if (req.method === 'newDataConsumer' && recvTransport) {
		await chat.consume(recvTransport, req.data);
		accept(); // like newConsumer: only once the DataConsumer exists here
		return;
	}
	if (req.method !== 'newConsumer' || !recvTransport) {
		reject(403, `not handled: ${req.method}`);
		return;
	}
	const d = req.data;
	const ownerId = d.peerId || (d.appData && d.appData.peerId);
	const consumer = await recvTransport.consume({
		id: d.id || d.consumerId,
		producerId: d.producerId,
		kind: d.kind,
		rtpParameters: d.rtpParameters,
		appData: { ...(d.appData || {}), peerId: ownerId },
	});
	addConsumer(consumer, ownerId, d);
	// Accept only now: the server resumes the consumer when we answer.
	accept();
}

function onNotification(method, d) {
	const c = consumers.get(d.consumerId);
	switch (method) {
		case 'newPeer':
			addPeer(d.peer || d);
			break;
		case 'peerClosed':
			removePeer(d.peerId);
			break;
		case 'peerDisplayNameChanged': {
			const p = peers.get(d.peerId);
			if (p) {
				p.displayName = d.displayName;
				p.tile.querySelector('.name').textContent = d.displayName;
			}
			break;
		}
		case 'consumerClosed':
			if (c) removeConsumer(d.consumerId);
			break;
		case 'consumerPaused':
		case 'consumerResumed':
			if (c) {
				c.producerPaused = method === 'consumerPaused';
				renderConsumer(c);
			}
			break;
		case 'consumerLayersChanged':
			if (c) {
				const l = 'layers' in d || !('spatialLayer' in d) ? d.layers || {} : d;
				c.spatialLayer = l.spatialLayer ?? null;
				c.temporalLayer = l.temporalLayer ?? null;
				renderConsumer(c);
			}
			break;
		case 'consumerScore':
			if (c) c.score = d.score;
			break;
		case 'dataConsumerClosed':
			chat.closeConsumer(d.dataConsumerId);
			break;
		case 'activeSpeaker':
			for (const p of peers.values()) p.tile.classList.toggle('speaking', p.id === d.peerId);
			break;
		default: // mediasoup-version, producerScore, downlinkBwe, speakingPeers, …
	}
}

// ---------------------------------------------------------------------------
// publishing

async function publish() {
	wantPublish = true;
	if (!joined || producers.size) return;
	$('publish').disabled = true;
	try {
		localStream = await navigator.mediaDevices.getUserMedia({
			audio: true,
			video: { width: { ideal: camWidth }, height: { ideal: camHeight }, frameRate: { ideal: 30 } },
		});
		const audio = localStream.getAudioTracks()[0];
		const video = localStream.getVideoTracks()[0];
		if (audio && device.canProduce('audio')) {
			producers.set('audio', await sendTransport.produce({
				track: audio, codecOptions: { opusStereo: false, opusFec: true }, appData: { source: 'mic' },
			}));
		}
		if (video && device.canProduce('video')) {
			producers.set('video', await sendTransport.produce({
				track: video,
				encodings: videoEncodings(),
				codecOptions: { videoGoogleStartBitrate: 1000 },
				appData: { source: 'webcam' },
			}));
		}
		showSelf();
	} catch (error) {
		fail('publishing failed', error);
		await unpublish();
	} finally {
		updatePublishButton();
	}
}

// Like mediasoup-demo: three simulcast layers for VP8/H264, one SVC stream for VP9.
function videoEncodings() {
	const codec = device.rtpCapabilities.codecs.find((c) => c.kind === 'video');
	const mime = codec ? codec.mimeType.toLowerCase() : '';
	if (mime === 'video/vp9') return [{ scalabilityMode: 'L3T3_KEY' }];
	return [
		{ scaleResolutionDownBy: 4, maxBitrate: 500000, scalabilityMode: 'L1T3' },
		{ scaleResolutionDownBy: 2, maxBitrate: 1000000, scalabilityMode: 'L1T3' },
		{ scaleResolutionDownBy: 1, maxBitrate: 5000000, scalabilityMode: 'L1T3' },
	];
}

async function unpublish() {
	wantPublish = false;
	for (const producer of producers.values()) {
		producer.close();
		if (joined) await control('closeProducer', { producerId: producer.id }).catch(() => {});
	}
	producers.clear();
	stopLocalStream();
	updatePublishButton();
}

function stopLocalStream() {
	if (localStream) for (const t of localStream.getTracks()) t.stop();
	localStream = null;
	const me = document.querySelector('.tile.me');
	if (me) me.remove();
	updateEmpty();
}

function updatePublishButton() {
	const b = $('publish');
	b.disabled = !joined;
	b.textContent = producers.size ? 'Stop publishing' : 'Publish camera+mic';
	b.classList.toggle('stop', producers.size > 0);
}

// ---------------------------------------------------------------------------
// tiles

function addPeer(info) {
	const id = info.id || info.peerId;
	if (!id) return null;
	let p = peers.get(id);
	if (p) return p;
	const tile = document.createElement('section');
	tile.className = 'tile';
	tile.dataset.peerId = id;
	tile.innerHTML = '<div class="videos"></div><div class="label"><span class="name"></span>' +
		'<span class="id"></span><span class="audio"></span></div>';
	tile.querySelector('.name').textContent = info.displayName || id;
	tile.querySelector('.id').textContent = id;
	p = { id, displayName: info.displayName || id, tile };
	peers.set(id, p);
	$('tiles').append(tile);
	renderPeer(p);
	updateEmpty();
	return p;
}

function removePeer(id) {
	for (const [cid, c] of consumers) if (c.peerId === id) removeConsumer(cid);
	const p = peers.get(id);
	if (p) p.tile.remove();
	peers.delete(id);
	updateEmpty();
}

function addConsumer(consumer, ownerId, d) {
	const p = addPeer({ id: ownerId }) || addPeer({ id: 'unknown' });
	const c = {
		consumer, peerId: p.id, type: d.type || 'simple', producerPaused: Boolean(d.producerPaused),
		spatialLayer: null, temporalLayer: null, score: d.consumerScore || null, frames: 0, el: null,
	};
	const stream = new MediaStream([consumer.track]);
	if (consumer.kind === 'video') {
		c.el = document.createElement('div');
		c.el.className = 'media';
		c.el.innerHTML = '<video muted autoplay playsinline></video><span class="meta"></span>';
		const video = c.el.querySelector('video');
		video.srcObject = stream;
		video.addEventListener('resize', () => renderConsumer(c));
		const epochMs = Number(consumer.appData.stampEpochMs) || 0;
		if (epochMs > 0) c.stamps = { epochMs, periodMs: Number(consumer.appData.stampPeriodMs) || 0, delays: [], last: 0 };
		if ('requestVideoFrameCallback' in video) {
			const onFrame = () => {
				c.frames++;
				if (c.stamps) readDelay(c, video);
				if (consumers.get(consumer.id) === c) video.requestVideoFrameCallback(onFrame);
			};
			video.requestVideoFrameCallback(onFrame);
		}
		p.tile.querySelector('.videos').append(c.el);
	} else {
		c.el = document.createElement('audio');
		c.el.autoplay = true;
		c.el.srcObject = stream;
		c.el.play().catch(() => { $('sound').hidden = false; });
		p.tile.append(c.el);
	}
	consumer.on('transportclose', () => removeConsumer(consumer.id));
	consumers.set(consumer.id, c);
	renderConsumer(c);
	renderPeer(p);
}

// readDelay reads the stamp of the frame the video shows (callctl's test
// picture, see stamp.js) at most 5 times a second, and keeps the delays of
// the last 25 reads: their median is the tile's "delay N ms".
function readDelay(c, video) {
	const now = Date.now();
	const w = video.videoWidth;
	const h = video.videoHeight;
	if (!w || !h || now - c.stamps.last < 200) return;
	c.stamps.last = now;
	const canvas = c.stamps.canvas || (c.stamps.canvas = document.createElement('canvas'));
	if (canvas.width !== w || canvas.height !== h) {
		canvas.width = w;
		canvas.height = h;
	}
	const ctx = canvas.getContext('2d', { willReadFrequently: true });
	const [y0, y1] = stampBand(h);
	ctx.drawImage(video, 0, 0, w, h);
	const stamp = readStamp(ctx.getImageData(0, y0, w, y1 - y0).data, w, h);
	if (!stamp) {
		c.stamps.misses = (c.stamps.misses || 0) + 1;
		return;
	}
	c.stamps.reads = (c.stamps.reads || 0) + 1;
	c.stamps.frame = stamp.frame;
	c.stamps.delays.push(stampDelay(stamp.timeMs, c.stamps.epochMs, c.stamps.periodMs, now));
	if (c.stamps.delays.length > 25) c.stamps.delays.shift();
	const sorted = [...c.stamps.delays].sort((a, b) => a - b);
	c.delayMs = sorted[Math.floor(sorted.length / 2)];
}

function removeConsumer(id) {
	const c = consumers.get(id);
	if (!c) return;
	consumers.delete(id);
	c.consumer.close();
	c.el.remove();
	const p = peers.get(c.peerId);
	if (p) renderPeer(p);
}

function renderPeer(p) {
	const mine = [...consumers.values()].filter((c) => c.peerId === p.id);
	const videos = p.tile.querySelector('.videos');
	const placeholder = videos.querySelector('.novideo');
	const hasVideo = mine.some((c) => c.consumer.kind === 'video');
	if (!hasVideo && !placeholder) {
		videos.insertAdjacentHTML('beforeend', '<div class="novideo">no video</div>');
	} else if (hasVideo && placeholder) {
		placeholder.remove();
	}
	const audio = mine.filter((c) => c.consumer.kind === 'audio');
	const muted = audio.length > 0 && audio.every((c) => c.producerPaused);
	const label = p.tile.querySelector('.audio');
	label.textContent = audio.length ? `audio${muted ? ' muted' : ''}` : 'no audio';
	label.classList.toggle('on', audio.length > 0 && !muted);
}

function renderConsumer(c) {
	if (c.consumer.kind !== 'video') {
		const p = peers.get(c.peerId);
		if (p) renderPeer(p);
		return;
	}
	const video = c.el.querySelector('video');
	const parts = [];
	parts.push(video.videoWidth ? `${video.videoWidth}×${video.videoHeight}` : 'waiting…');
	if (c.fps) parts.push(`${c.fps} fps`);
	if (c.delayMs !== undefined) parts.push(`delay ${Math.round(c.delayMs)} ms`);
	if (c.spatialLayer !== null || c.temporalLayer !== null) {
		parts.push(`S${c.spatialLayer ?? '-'} T${c.temporalLayer ?? '-'}`);
	}
	parts.push(c.type);
	if (c.producerPaused) parts.push('paused');
	c.el.querySelector('.meta').textContent = parts.join(' · ');
	c.el.classList.toggle('paused', c.producerPaused);
}

function showSelf() {
	if (!localStream || document.querySelector('.tile.me')) return;
	const tile = document.createElement('section');
	tile.className = 'tile me';
	tile.innerHTML = '<div class="media"><video muted autoplay playsinline></video><span class="meta"></span></div>' +
		'<div class="label"><span class="name"></span><span class="id">you (publishing)</span></div>';
	tile.querySelector('.name').textContent = displayName;
	const video = tile.querySelector('video');
	video.srcObject = localStream;
	const meta = tile.querySelector('.meta');
	const kinds = [...producers.keys()].join('+');
	video.addEventListener('resize', () => { meta.textContent = `${video.videoWidth}×${video.videoHeight} · ${kinds}`; });
	meta.textContent = kinds;
	$('tiles').prepend(tile);
	updateEmpty();
}

function updateEmpty() {
	$('empty').hidden = peers.size > 0 || Boolean(document.querySelector('.tile.me'));
}

// Refresh resolution and frame rate of every video once a second.
let lastTick = performance.now();
setInterval(() => {
	const now = performance.now();
	for (const c of consumers.values()) {
		if (c.consumer.kind !== 'video') continue;
		c.fps = Math.round(((c.frames - (c.lastFrames || 0)) * 1000) / (now - lastTick));
		c.lastFrames = c.frames;
		renderConsumer(c);
	}
	lastTick = now;
}, 1000);

// ---------------------------------------------------------------------------

function reset() {
	joined = false;
	for (const id of [...peers.keys()]) removePeer(id);
	for (const producer of producers.values()) producer.close();
	producers.clear();
	stopLocalStream();
	chat.reset();
	if (sendTransport) sendTransport.close();
	if (recvTransport) recvTransport.close();
	sendTransport = recvTransport = null;
	$('publish').disabled = true;
}

function setStatus(text, cls = '') {
	const s = $('status');
	s.textContent = text;
	s.className = `status ${cls}`;
}

function fail(what, error) {
	console.error(what, error);
	lastError = `${what}: ${error && error.message ? error.message : error}`;
	setStatus(lastError, 'bad');
}

document.title = `${roomId} · callctl viewer`;
$('room').textContent = roomId;
$('me').textContent = `${displayName} (${peerId})`;
setStatus('connecting…');
$('publish').addEventListener('click', () => (producers.size ? unpublish() : publish()));
$('sound').addEventListener('click', () => {
	for (const a of document.querySelectorAll('audio')) a.play().catch(() => {});
	$('sound').hidden = true;
});

// ---------------------------------------------------------------------------
// test hooks

async function selectedPair(transport) {
	const stats = await transport.getStats();
	let pairId = null;
	stats.forEach((s) => {
		if (s.type === 'transport' && s.selectedCandidatePairId) pairId = s.selectedCandidatePairId;
	});
	let pair = pairId ? stats.get(pairId) : null;
	if (!pair) stats.forEach((s) => { if (s.type === 'candidate-pair' && s.nominated && s.state === 'succeeded') pair = s; });
	if (!pair) return null;
	const cand = (id) => {
		const c = stats.get(id) || {};
		return { address: c.address || c.ip, port: c.port, protocol: c.protocol, candidateType: c.candidateType };
	};
	return { state: pair.state, local: cand(pair.localCandidateId), remote: cand(pair.remoteCandidateId) };
}

window.viewer = {
	/** A JSON-friendly picture of the page: who is here and what plays. */
	snapshot() {
		return {
			roomId,
			peerId,
			displayName,
			dialect,
			handler: device ? device.handlerName : null,
			joined,
			error: lastError,
			producers: Object.fromEntries([...producers].map(([kind, p]) => [kind, p.id])),
			peers: [...peers.values()].map((p) => ({ id: p.id, displayName: p.displayName })),
			consumers: [...consumers.values()].map((c) => {
				const v = c.consumer.kind === 'video' ? c.el.querySelector('video') : null;
				const q = v && v.getVideoPlaybackQuality ? v.getVideoPlaybackQuality() : null;
				const media = v || c.el;
				return {
					id: c.consumer.id,
					producerId: c.consumer.producerId,
					peerId: c.peerId,
					kind: c.consumer.kind,
					type: c.type,
					producerPaused: c.producerPaused,
					spatialLayer: c.spatialLayer,
					temporalLayer: c.temporalLayer,
					trackState: c.consumer.track.readyState,
					// the <video>/<audio> element plays and has data
					playing: !media.paused && media.readyState >= 2,
					framesDecoded: q ? q.totalVideoFrames : 0,
					framesRendered: c.frames,
					width: v ? v.videoWidth : 0,
					height: v ? v.videoHeight : 0,
					// stamped callctl video: median delay (ms) of the last stamps
					// read, stamps read and frames without a readable stamp
					delayMs: c.delayMs === undefined ? null : c.delayMs,
					stampsRead: c.stamps ? c.stamps.reads || 0 : 0,
					stampMisses: c.stamps ? c.stamps.misses || 0 : 0,
				};
			}),
			// ready: the chat DataChannel is open; sent: lines this page sent;
			// messages: lines received from the others (peerId null: the demo's bot)
			chat: chat.snapshot(),
		};
	},
	/** The selected ICE candidate pair of each transport (null before ICE completes). */
	async ice() {
		const out = {};
		if (sendTransport) out.send = await selectedPair(sendTransport);
		if (recvTransport) out.recv = await selectedPair(recvTransport);
		return out;
	},
	publish,
	unpublish,
	/** Sends a chat line on the page's chat DataProducer (rejects when chat is not ready). */
	sendChat: (text) => chat.send(text),
};
