'use strict';

// One mediasoup-demo style room: a protoo Room + a mediasoup Router.
//
// Two wire dialects:
//   'js' (default) - mediasoup-demo's JavaScript server (server/lib/Room.js),
//                    2021 mediasoup 3.8 era behaviour plus the 2024
//                    `mediasoup-version` notification.
//   'ts'           - the TypeScript rewrite: wrapped responses, control
//                    methods as notifications, consumerId/dataConsumerId,
//                    newPeer {peer}, mediasoupVersion, speakingPeers.

const protoo = require('protoo-server');
const { logger } = require('./log');
const compat = require('./compat');

const log = logger('room');

const MEDIA_CODECS = [
	{ kind: 'audio', mimeType: 'audio/opus', clockRate: 48000, channels: 2 },
	{ kind: 'video', mimeType: 'video/VP8', clockRate: 90000, parameters: { 'x-google-start-bitrate': 1000 } },
	{ kind: 'video', mimeType: 'video/VP9', clockRate: 90000, parameters: { 'profile-id': 2, 'x-google-start-bitrate': 1000 } },
	{
		kind: 'video', mimeType: 'video/h264', clockRate: 90000,
		parameters: { 'packetization-mode': 1, 'profile-level-id': '4d0032', 'level-asymmetry-allowed': 1, 'x-google-start-bitrate': 1000 },
	},
	{
		kind: 'video', mimeType: 'video/h264', clockRate: 90000,
		parameters: { 'packetization-mode': 1, 'profile-level-id': '42e01f', 'level-asymmetry-allowed': 1, 'x-google-start-bitrate': 1000 },
	},
];

const INITIAL_AVAILABLE_OUTGOING_BITRATE = 1000000;
const MINIMUM_AVAILABLE_OUTGOING_BITRATE = 600000;
const MAX_INCOMING_BITRATE = 1500000;
const MAX_SCTP_MESSAGE_SIZE = 262144;

// Methods that the TS server takes as notifications (and rejects as requests).
const TS_NOTIFICATION_METHODS = new Set([
	'closeProducer', 'pauseProducer', 'resumeProducer', 'pauseConsumer', 'resumeConsumer',
	'setConsumerPreferredLayers', 'setConsumerPriority', 'requestConsumerKeyFrame', 'changeDisplayName',
]);

class ProtooError extends Error {
	constructor(code, message) {
		super(message);
		this.code = code;
	}
}

class Room {
	/**
	 * @param {object} o
	 * @param {string} o.roomId
	 * @param {object} o.mediasoup  the mediasoup module
	 * @param {object} o.worker     mediasoup Worker
	 * @param {object} [o.webRtcServer] the worker's WebRtcServer: when given,
	 *                              every transport of the room uses its port
	 * @param {object} o.config     server config (dialect, rtc ip, ...)
	 */
	static async create({ roomId, mediasoup, worker, webRtcServer, config }) {
		const router = await worker.createRouter({ mediaCodecs: MEDIA_CODECS });
		const ts = config.dialect === 'ts';
		const audioLevelObserver = await router.createAudioLevelObserver({
			maxEntries: ts ? 10 : 1,
			threshold: -80,
			interval: 800,
		});
		let activeSpeakerObserver = null;
		if (ts && typeof router.createActiveSpeakerObserver === 'function') {
			activeSpeakerObserver = await router.createActiveSpeakerObserver();
		}
		return new Room({ roomId, mediasoup, router, webRtcServer, audioLevelObserver, activeSpeakerObserver, config });
	}

	constructor({ roomId, mediasoup, router, webRtcServer, audioLevelObserver, activeSpeakerObserver, config }) {
		this.id = roomId;
		this._mediasoup = mediasoup;
		this._version = mediasoup.version;
		this._features = compat.features(this._version);
		this._config = config;
		this._ts = config.dialect === 'ts';
		this._router = router;
		this._webRtcServer = webRtcServer || null;
		this._audioLevelObserver = audioLevelObserver;
		this._activeSpeakerObserver = activeSpeakerObserver;
		this._protooRoom = new protoo.Room();
		this._closed = false;
		this._onClose = null;

		this._handleAudioObservers();
	}

	get closed() { return this._closed; }

	get peerCount() { return this._protooRoom.peers.length; }

	onClose(fn) { this._onClose = fn; }

	// For GET /status: each peer's transports with the local port of their
	// selected ICE tuple (undefined until ICE has selected one).
	summary() {
		return {
			roomId: this.id,
			peers: this._protooRoom.peers.map((peer) => ({
				peerId: peer.id,
				joined: peer.data.joined,
				transports: [...peer.data.transports.values()].map((t) => {
					const tuple = t.iceSelectedTuple;
					return {
						id: t.id,
						direction: t.appData.direction || (t.appData.producing ? 'producer' : 'consumer'),
						iceState: t.iceState,
						protocol: tuple ? tuple.protocol : undefined,
						localPort: tuple ? tuple.localPort : undefined,
					};
				}),
			})),
		};
	}

	close() {
		if (this._closed) return;
		this._closed = true;
		log.info(`room "${this.id}" closing`);
		this._protooRoom.close();
		try { this._router.close(); } catch (e) { log.warn('router.close():', e.message); }
		if (this._onClose) this._onClose(this);
	}

	// ---------------------------------------------------------------------
	// connection

	handleConnection({ peerId, transport, remoteAddress }) {
		const existing = this._protooRoom.getPeer(peerId);
		if (existing) {
			log.info(`room "${this.id}": peer "${peerId}" reconnected, closing the old one`);
			existing.data.replaced = true;
			existing.close();
		}

		let peer;
		try {
			peer = this._protooRoom.createPeer(peerId, transport);
		} catch (error) {
			log.error('createPeer() failed:', error.message);
			return;
		}

		Object.assign(peer.data, {
			joined: false,
			displayName: undefined,
			device: undefined,
			rtpCapabilities: undefined,
			sctpCapabilities: undefined,
			remoteAddress,
			transports: new Map(),
			producers: new Map(),
			consumers: new Map(),
			dataProducers: new Map(),
			dataConsumers: new Map(),
			joinTimer: null,
		});

		log.info(`room "${this.id}": peer "${peerId}" connected from ${remoteAddress}`);

		peer.on('request', (request, accept, reject) => {
			this._handleRequest(peer, request)
				.then((data) => accept(data))
				.catch((error) => {
					const code = error instanceof ProtooError ? error.code : 500;
					log.debug(`request "${request.method}" from "${peer.id}" failed: ${error.message}`);
					try { reject(code, String(error.message)); } catch (_) { /* peer gone */ }
				});
		});

		peer.on('notification', (notification) => {
			this._handleNotification(peer, notification).catch((error) => {
				log.warn(`notification "${notification.method}" from "${peer.id}" failed: ${error.message}`);
			});
		});

		peer.on('close', () => this._onPeerClose(peer));

		this._notify(peer, this._ts ? 'mediasoupVersion' : 'mediasoup-version', { version: this._version });

		if (this._ts) {
			const joinTimeoutMs = this._config.joinTimeoutMs;
			peer.data.joinTimer = setTimeout(() => {
				if (!peer.closed && !peer.data.joined) {
					log.info(`peer "${peer.id}" did not join within ${joinTimeoutMs} ms, closing`);
					peer.close();
				}
			}, joinTimeoutMs);
			peer.data.joinTimer.unref();
		}
	}

	_onPeerClose(peer) {
		if (peer.data.joinTimer) clearTimeout(peer.data.joinTimer);
		if (this._closed) return;
		log.info(`room "${this.id}": peer "${peer.id}" closed`);
		if (peer.data.joined) {
			for (const other of this._joinedPeers(peer)) this._notify(other, 'peerClosed', { peerId: peer.id });
		}
		for (const transport of peer.data.transports.values()) {
			try { transport.close(); } catch (_) { /* already closed */ }
		}
		// Deferred so that a reconnect (close old peer, create new one in the
		// same tick) does not close the room under the new peer.
		setImmediate(() => {
			if (!this._closed && this._protooRoom.peers.length === 0) {
				log.info(`room "${this.id}": last peer left`);
				this.close();
			}
		});
	}

	// ---------------------------------------------------------------------
	// helpers

	_joinedPeers(exclude) {
		return this._protooRoom.peers.filter((p) => p.data.joined && p !== exclude);
	}

	_notify(peer, method, data) {
		if (peer.closed) return;
		peer.notify(method, data).catch(() => {});
	}

	_peerInfo(peer) {
		if (this._ts) {
			return {
				peerId: peer.id,
				displayName: peer.data.displayName,
				device: peer.data.device,
				remoteAddress: peer.data.remoteAddress,
			};
		}
		return { id: peer.id, displayName: peer.data.displayName, device: peer.data.device };
	}

	_requireJoined(peer) {
		if (!peer.data.joined) throw new ProtooError(403, 'Peer not yet joined');
	}

	_transport(peer, transportId) {
		const t = peer.data.transports.get(transportId);
		if (!t) throw new Error(`transport with id "${transportId}" not found`);
		return t;
	}

	_producer(peer, producerId) {
		const p = peer.data.producers.get(producerId);
		if (!p) throw new Error(`producer with id "${producerId}" not found`);
		return p;
	}

	_consumer(peer, consumerId) {
		const c = peer.data.consumers.get(consumerId);
		if (!c) throw new Error(`consumer with id "${consumerId}" not found`);
		return c;
	}

	_consumingTransport(peer) {
		for (const t of peer.data.transports.values()) {
			if (t.appData && t.appData.consuming) return t;
		}
		return undefined;
	}

	_handleAudioObservers() {
		this._audioLevelObserver.on('volumes', (volumes) => {
			if (this._ts) {
				const peerVolumes = volumes.map(({ producer, volume }) => ({ peerId: producer.appData.peerId, volume }));
				for (const p of this._joinedPeers()) this._notify(p, 'speakingPeers', { peerVolumes });
				return;
			}
			const { producer, volume } = volumes[0];
			for (const p of this._joinedPeers()) {
				this._notify(p, 'activeSpeaker', { peerId: producer.appData.peerId, volume });
			}
		});
		this._audioLevelObserver.on('silence', () => {
			for (const p of this._joinedPeers()) {
				if (this._ts) this._notify(p, 'speakingPeers', { peerVolumes: [] });
				else this._notify(p, 'activeSpeaker', { peerId: null });
			}
		});
		if (this._activeSpeakerObserver) {
			this._activeSpeakerObserver.on('dominantspeaker', ({ producer }) => {
				for (const p of this._joinedPeers()) this._notify(p, 'activeSpeaker', { peerId: producer.appData.peerId });
			});
		}
	}

	// ---------------------------------------------------------------------
	// requests

	async _handleRequest(peer, request) {
		const method = request.method;
		const data = request.data && typeof request.data === 'object' ? request.data : {};
		log.debug(`request "${method}" from "${peer.id}"`);

		if (this._ts && TS_NOTIFICATION_METHODS.has(method)) {
			throw new ProtooError(500, `unknown request.method "${method}"`);
		}

		switch (method) {
			case 'getRouterRtpCapabilities': {
				const caps = this._router.rtpCapabilities;
				return this._ts ? { routerRtpCapabilities: caps } : caps;
			}

			case 'join':
				return this._join(peer, data);

			case 'createWebRtcTransport':
				return this._createWebRtcTransport(peer, data);

			case 'connectWebRtcTransport': {
				const transport = this._transport(peer, data.transportId);
				await transport.connect({ dtlsParameters: data.dtlsParameters });
				return {};
			}

			case 'restartIce': {
				const transport = this._transport(peer, data.transportId);
				const iceParameters = await transport.restartIce();
				return this._ts ? { iceParameters } : iceParameters;
			}

			case 'produce':
				return this._produce(peer, data);

			case 'produceData':
				return this._produceData(peer, data);

			case 'closeProducer':
			case 'pauseProducer':
			case 'resumeProducer':
			case 'pauseConsumer':
			case 'resumeConsumer':
			case 'setConsumerPreferredLayers':
			case 'setConsumerPriority':
			case 'requestConsumerKeyFrame':
			case 'changeDisplayName':
				await this._control(peer, method, data);
				return {};

			case 'getTransportStats':
				return this._stats(await this._transport(peer, data.transportId).getStats());

			case 'getProducerStats':
				return this._stats(await this._producer(peer, data.producerId).getStats());

			case 'getConsumerStats':
				return this._stats(await this._consumer(peer, data.consumerId).getStats());

			case 'getDataProducerStats': {
				const dp = peer.data.dataProducers.get(data.dataProducerId);
				if (!dp) throw new Error(`dataProducer with id "${data.dataProducerId}" not found`);
				return this._stats(await dp.getStats());
			}

			case 'getDataConsumerStats': {
				const dc = peer.data.dataConsumers.get(data.dataConsumerId);
				if (!dc) throw new Error(`dataConsumer with id "${data.dataConsumerId}" not found`);
				return this._stats(await dc.getStats());
			}

			default:
				throw new ProtooError(500, `unknown request.method "${method}"`);
		}
	}

	_stats(stats) {
		return this._ts ? { stats } : stats;
	}

	async _handleNotification(peer, notification) {
		const method = notification.method;
		const data = notification.data && typeof notification.data === 'object' ? notification.data : {};
		// The JS server ignores notifications from peers; the TS server takes
		// the control methods as notifications.
		if (!this._ts) {
			log.debug(`ignoring notification "${method}" from "${peer.id}"`);
			return;
		}
		if (!TS_NOTIFICATION_METHODS.has(method)) {
			log.warn(`unknown notification.method "${method}" from "${peer.id}"`);
			return;
		}
		await this._control(peer, method, data);
	}

	async _control(peer, method, data) {
		this._requireJoined(peer);
		switch (method) {
			case 'closeProducer': {
				const producer = this._producer(peer, data.producerId);
				producer.close();
				peer.data.producers.delete(producer.id);
				return;
			}
			case 'pauseProducer':
				await this._producer(peer, data.producerId).pause();
				return;
			case 'resumeProducer':
				await this._producer(peer, data.producerId).resume();
				return;
			case 'pauseConsumer':
				await this._consumer(peer, data.consumerId).pause();
				return;
			case 'resumeConsumer':
				await this._consumer(peer, data.consumerId).resume();
				return;
			case 'setConsumerPreferredLayers': {
				const consumer = this._consumer(peer, data.consumerId);
				const layers = { spatialLayer: data.spatialLayer };
				if (data.temporalLayer !== undefined && data.temporalLayer !== null) layers.temporalLayer = data.temporalLayer;
				await consumer.setPreferredLayers(layers);
				return;
			}
			case 'setConsumerPriority':
				await this._consumer(peer, data.consumerId).setPriority(data.priority);
				return;
			case 'requestConsumerKeyFrame':
				await this._consumer(peer, data.consumerId).requestKeyFrame();
				return;
			case 'changeDisplayName': {
				const oldDisplayName = peer.data.displayName;
				peer.data.displayName = data.displayName;
				for (const other of this._joinedPeers(peer)) {
					this._notify(other, 'peerDisplayNameChanged', {
						peerId: peer.id, displayName: data.displayName, oldDisplayName,
					});
				}
				return;
			}
			default:
				throw new ProtooError(500, `unknown request.method "${method}"`);
		}
	}

	async _join(peer, data) {
		if (peer.data.joined) throw new Error('Peer already joined');
		const { displayName, device, rtpCapabilities, sctpCapabilities } = data;
		peer.data.joined = true;
		peer.data.displayName = displayName;
		peer.data.device = device;
		peer.data.rtpCapabilities = rtpCapabilities;
		peer.data.sctpCapabilities = sctpCapabilities;
		if (peer.data.joinTimer) {
			clearTimeout(peer.data.joinTimer);
			peer.data.joinTimer = null;
		}

		const others = this._joinedPeers(peer);
		const response = { peers: others.map((p) => this._peerInfo(p)) };

		// After the response has been sent: consumers for existing producers,
		// then newPeer to the others.
		setImmediate(() => {
			if (peer.closed) return;
			for (const other of others) {
				for (const producer of other.data.producers.values()) {
					this._createConsumer({ consumerPeer: peer, producerPeer: other, producer });
				}
				for (const dataProducer of other.data.dataProducers.values()) {
					if (this._ts && !(dataProducer.appData && dataProducer.appData.channel === 'chat')) continue;
					if (!this._ts && dataProducer.label === 'bot') continue;
					this._createDataConsumer({ dataConsumerPeer: peer, dataProducerPeer: other, dataProducer });
				}
			}
			for (const other of this._joinedPeers(peer)) {
				this._notify(other, 'newPeer', this._ts ? { peer: this._peerInfo(peer) } : this._peerInfo(peer));
			}
		});

		return response;
	}

	async _createWebRtcTransport(peer, data) {
		const { forceTcp, sctpCapabilities } = data;
		let producing = Boolean(data.producing);
		let consuming = Boolean(data.consuming);
		const direction = data.appData && data.appData.direction;
		if (direction === 'producer') producing = true;
		if (direction === 'consumer') consuming = true;

		const options = {
			...this._listenOptions(Boolean(forceTcp)),
			initialAvailableOutgoingBitrate: INITIAL_AVAILABLE_OUTGOING_BITRATE,
			minimumAvailableOutgoingBitrate: MINIMUM_AVAILABLE_OUTGOING_BITRATE,
			maxSctpMessageSize: MAX_SCTP_MESSAGE_SIZE,
			enableSctp: Boolean(sctpCapabilities),
			numSctpStreams: (sctpCapabilities || {}).numStreams,
			appData: { producing, consuming, direction },
		};
		if (!options.numSctpStreams) delete options.numSctpStreams;
		// The TS demo shortens ICE consent to 20 s; the JS dialect keeps
		// mediasoup's default (30 s), as most deployments do.
		if (this._ts && this._features.iceConsentTimeout) options.iceConsentTimeout = 20;

		const transport = await this._router.createWebRtcTransport(options);

		if (peer.closed) {
			transport.close();
			throw new Error('peer closed');
		}

		transport.on('icestatechange', (iceState) => {
			log.debug(`transport ${transport.id} icestatechange ${iceState} (peer "${peer.id}")`);
			// The TS demo closes the peer when ICE goes disconnected (e.g. no
			// consent check within iceConsentTimeout); the 2021 JS demo does not.
			if (this._ts && (iceState === 'disconnected' || iceState === 'closed')) {
				log.warn(`transport ${transport.id} ICE ${iceState}, closing peer "${peer.id}"`);
				peer.close();
			}
		});
		transport.on('dtlsstatechange', (dtlsState) => {
			log.debug(`transport ${transport.id} dtlsstatechange ${dtlsState} (peer "${peer.id}")`);
			if (dtlsState === 'failed' || dtlsState === 'closed') {
				log.warn(`transport ${transport.id} DTLS ${dtlsState}, closing peer "${peer.id}"`);
				peer.close();
			}
		});
		transport.on('sctpstatechange', (sctpState) => {
			log.debug(`transport ${transport.id} sctpstatechange ${sctpState}`);
		});

		if (!this._ts) {
			try {
				await transport.enableTraceEvent(['bwe']);
			} catch (e) {
				log.debug('enableTraceEvent failed:', e.message);
			}
			transport.on('trace', (trace) => {
				if (trace.type === 'bwe' && trace.direction === 'out') {
					this._notify(peer, 'downlinkBwe', {
						desiredBitrate: trace.info.desiredBitrate,
						effectiveDesiredBitrate: trace.info.effectiveDesiredBitrate,
						availableBitrate: trace.info.availableBitrate,
					});
				}
			});
		}

		peer.data.transports.set(transport.id, transport);
		transport.observer.on('close', () => peer.data.transports.delete(transport.id));

		try {
			await transport.setMaxIncomingBitrate(MAX_INCOMING_BITRATE);
		} catch (e) {
			log.debug('setMaxIncomingBitrate failed:', e.message);
		}

		const body = {
			iceParameters: transport.iceParameters,
			iceCandidates: transport.iceCandidates,
			dtlsParameters: transport.dtlsParameters,
			sctpParameters: transport.sctpParameters,
		};
		return this._ts ? { transportId: transport.id, ...body } : { id: transport.id, ...body };
	}

	// Where the transport listens: the worker's WebRtcServer (one port for all
	// transports) or, without one, its own port from the configured range.
	_listenOptions(forceTcp) {
		if (this._webRtcServer) {
			return { webRtcServer: this._webRtcServer, enableUdp: !forceTcp, enableTcp: true, preferUdp: true };
		}
		const cfg = this._config;
		return compat.webRtcListenOptions(this._version, {
			ip: cfg.rtcListenIp,
			announcedIp: cfg.announcedIp,
			rtcMinPort: cfg.rtcMinPort,
			rtcMaxPort: cfg.rtcMaxPort,
			forceTcp,
		});
	}

	async _produce(peer, data) {
		this._requireJoined(peer);
		const { transportId, kind, rtpParameters } = data;
		let { appData } = data;
		if (this._ts) {
			if (!appData || typeof appData !== 'object' || typeof appData.source !== 'string') {
				throw new TypeError('missing appData.source');
			}
		}
		const transport = this._transport(peer, transportId);
		appData = { ...(appData && typeof appData === 'object' ? appData : {}), peerId: peer.id };

		const producer = await transport.produce({ kind, rtpParameters, appData });
		peer.data.producers.set(producer.id, producer);
		producer.observer.on('close', () => peer.data.producers.delete(producer.id));

		producer.on('score', (score) => {
			this._notify(peer, 'producerScore', { producerId: producer.id, score });
		});
		producer.on('videoorientationchange', (o) => log.debug(`producer ${producer.id} videoorientationchange`, o));

		setImmediate(() => {
			if (producer.closed) return;
			for (const other of this._joinedPeers(peer)) {
				this._createConsumer({ consumerPeer: other, producerPeer: peer, producer });
			}
			if (producer.kind === 'audio') {
				this._audioLevelObserver.addProducer({ producerId: producer.id }).catch(() => {});
				if (this._activeSpeakerObserver) {
					this._activeSpeakerObserver.addProducer({ producerId: producer.id }).catch(() => {});
				}
			}
		});

		return this._ts ? { producerId: producer.id } : { id: producer.id };
	}

	async _produceData(peer, data) {
		this._requireJoined(peer);
		const { transportId, sctpStreamParameters, label, protocol, appData } = data;
		const transport = this._transport(peer, transportId);
		const dataProducer = await transport.produceData({
			sctpStreamParameters,
			label,
			protocol,
			appData: { ...(appData && typeof appData === 'object' ? appData : {}), peerId: peer.id },
		});
		peer.data.dataProducers.set(dataProducer.id, dataProducer);
		dataProducer.observer.on('close', () => peer.data.dataProducers.delete(dataProducer.id));

		const channel = this._ts ? (appData && appData.channel) : dataProducer.label;
		setImmediate(() => {
			if (dataProducer.closed) return;
			if (channel === 'chat') {
				for (const other of this._joinedPeers(peer)) {
					this._createDataConsumer({ dataConsumerPeer: other, dataProducerPeer: peer, dataProducer });
				}
			}
			// 'bot': this server has no bot; the DataProducer is just kept.
		});

		return this._ts ? { dataProducerId: dataProducer.id } : { id: dataProducer.id };
	}

	// ---------------------------------------------------------------------
	// consumers

	async _createConsumer({ consumerPeer, producerPeer, producer }) {
		const rtpCapabilities = consumerPeer.data.rtpCapabilities;
		if (!rtpCapabilities) return;
		try {
			if (!this._router.canConsume({ producerId: producer.id, rtpCapabilities })) return;
		} catch (e) {
			log.warn('canConsume() failed:', e.message);
			return;
		}
		const transport = this._consumingTransport(consumerPeer);
		if (!transport) {
			log.warn(`_createConsumer() | transport for consuming not found (peer "${consumerPeer.id}")`);
			return;
		}

		let consumer;
		try {
			const opts = { producerId: producer.id, rtpCapabilities, paused: true };
			if (this._features.enableRtx) opts.enableRtx = true;
			if (this._features.ignoreDtx) opts.ignoreDtx = true;
			consumer = await transport.consume(opts);
		} catch (error) {
			log.warn('_createConsumer() | transport.consume() failed:', error.message);
			return;
		}

		const cid = consumer.id;
		consumerPeer.data.consumers.set(cid, consumer);
		consumer.on('transportclose', () => consumerPeer.data.consumers.delete(cid));
		consumer.on('producerclose', () => {
			consumerPeer.data.consumers.delete(cid);
			this._notify(consumerPeer, 'consumerClosed', { consumerId: cid });
		});
		consumer.on('producerpause', () => this._notify(consumerPeer, 'consumerPaused', { consumerId: cid }));
		consumer.on('producerresume', () => this._notify(consumerPeer, 'consumerResumed', { consumerId: cid }));
		consumer.on('score', (score) => this._notify(consumerPeer, 'consumerScore', { consumerId: cid, score }));
		consumer.on('layerschange', (layers) => {
			if (this._ts) {
				const d = { consumerId: cid };
				if (layers) d.layers = layers;
				this._notify(consumerPeer, 'consumerLayersChanged', d);
			} else {
				this._notify(consumerPeer, 'consumerLayersChanged', {
					consumerId: cid,
					spatialLayer: layers ? layers.spatialLayer : null,
					temporalLayer: layers ? layers.temporalLayer : null,
				});
			}
		});

		const request = this._ts
			? {
				peerId: producerPeer.id,
				transportId: transport.id,
				consumerId: cid,
				producerId: producer.id,
				kind: consumer.kind,
				rtpParameters: consumer.rtpParameters,
				type: consumer.type,
				producerPaused: consumer.producerPaused,
				consumerScore: consumer.score,
				// Stamp fields (callctl's stamped test media) let the receiver
				// turn the stamps into delay; undefined ones are not sent.
				appData: {
					peerId: producerPeer.id,
					source: producer.appData.source,
					stampEpochMs: producer.appData.stampEpochMs,
					stampPeriodMs: producer.appData.stampPeriodMs,
				},
			}
			: {
				peerId: producerPeer.id,
				producerId: producer.id,
				id: cid,
				kind: consumer.kind,
				rtpParameters: consumer.rtpParameters,
				type: consumer.type,
				appData: producer.appData,
				producerPaused: consumer.producerPaused,
			};

		try {
			await consumerPeer.request('newConsumer', request);
		} catch (error) {
			// Rejected or timed out: the consumer stays paused (demo behaviour).
			log.warn(`newConsumer not accepted by "${consumerPeer.id}":`, error && error.message);
			return;
		}
		if (consumer.closed) return;
		try {
			await consumer.resume();
			this._notify(consumerPeer, 'consumerScore', { consumerId: cid, score: consumer.score });
		} catch (error) {
			log.warn('consumer.resume() failed:', error.message);
		}
	}

	async _createDataConsumer({ dataConsumerPeer, dataProducerPeer, dataProducer }) {
		if (!dataConsumerPeer.data.sctpCapabilities) return;
		const transport = this._consumingTransport(dataConsumerPeer);
		if (!transport) {
			log.warn(`_createDataConsumer() | transport for consuming not found (peer "${dataConsumerPeer.id}")`);
			return;
		}
		let dataConsumer;
		try {
			dataConsumer = await transport.consumeData({ dataProducerId: dataProducer.id });
		} catch (error) {
			log.warn('_createDataConsumer() | transport.consumeData() failed:', error.message);
			return;
		}
		const id = dataConsumer.id;
		dataConsumerPeer.data.dataConsumers.set(id, dataConsumer);
		dataConsumer.on('transportclose', () => dataConsumerPeer.data.dataConsumers.delete(id));
		dataConsumer.on('dataproducerclose', () => {
			dataConsumerPeer.data.dataConsumers.delete(id);
			this._notify(dataConsumerPeer, 'dataConsumerClosed', { dataConsumerId: id });
		});

		const request = this._ts
			? {
				peerId: dataProducerPeer ? dataProducerPeer.id : undefined,
				transportId: transport.id,
				dataConsumerId: id,
				dataProducerId: dataProducer.id,
				sctpStreamParameters: dataConsumer.sctpStreamParameters,
				label: dataConsumer.label,
				protocol: dataConsumer.protocol,
				appData: { peerId: dataProducerPeer ? dataProducerPeer.id : undefined, channel: dataProducer.appData.channel },
			}
			: {
				peerId: dataProducerPeer ? dataProducerPeer.id : null,
				dataProducerId: dataProducer.id,
				id,
				sctpStreamParameters: dataConsumer.sctpStreamParameters,
				label: dataConsumer.label,
				protocol: dataConsumer.protocol,
				appData: dataProducer.appData,
			};
		try {
			await dataConsumerPeer.request('newDataConsumer', request);
		} catch (error) {
			log.warn(`newDataConsumer not accepted by "${dataConsumerPeer.id}":`, error && error.message);
		}
	}
}

module.exports = { Room, MEDIA_CODECS };
