// The viewer's chat box: text over mediasoup DataChannels, like
// mediasoup-demo's. The page sends on one DataProducer (label "chat") on
// its send transport; the server gives it a DataConsumer on its receive
// transport for every other participant's chat DataProducer (announced
// with a `newDataConsumer` request), callctl's included.

// The page keeps the last MAX_MESSAGES lines (snapshot and DOM), so a
// chatty bot cannot grow it without bound.
const MAX_MESSAGES = 200;
// Well under the server's maxSctpMessageSize (262144) and SCTP's usual
// 64 KiB interoperable limit: one message is one chat line.
export const MAX_TEXT_BYTES = 16384;

const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder();

/**
 * @param {object} o
 * @param {HTMLElement} o.log      the <ol> that lists the messages
 * @param {HTMLFormElement} o.form the input + send button
 * @param {(peerId: string|null) => string} o.nameOf  display name of a peer
 */
export function createChat({ log, form, nameOf }) {
	const input = form.querySelector('input');
	const button = form.querySelector('button');
	let producer = null; // DataProducer "chat"
	const consumers = new Map(); // dataConsumerId -> DataConsumer
	const messages = []; // received: {peerId, displayName, label, text, at}
	let sent = 0;
	let error = null; // why the chat DataProducer could not be created

	const ready = () => Boolean(producer && !producer.closed && producer.readyState === 'open');

	function render() {
		input.disabled = !producer;
		button.disabled = !ready();
		input.placeholder = error || (ready() ? 'Message everyone' : 'chat connecting…');
	}

	function show(from, text, cls, label) {
		const li = document.createElement('li');
		li.className = cls;
		li.innerHTML = '<span class="from"></span><span class="text"></span>';
		li.querySelector('.from').textContent = label && label !== 'chat' ? `${from} [${label}]` : from;
		li.querySelector('.text').textContent = text;
		li.title = new Date().toLocaleTimeString();
		const stick = log.scrollTop + log.clientHeight >= log.scrollHeight - 4;
		log.append(li);
		while (log.children.length > MAX_MESSAGES) log.firstElementChild.remove();
		if (stick) log.scrollTop = log.scrollHeight;
	}

	/**
	 * Creates the chat DataProducer; call after `join` (the server requires
	 * it). A failure only disables the chat (snapshot().chat.error): media
	 * goes on without it.
	 */
	async function start(sendTransport) {
		error = null;
		let dp;
		try {
			// ordered + reliable: chat lines arrive whole and in order.
			dp = await sendTransport.produceData({
				ordered: true, label: 'chat', protocol: '', appData: { channel: 'chat' },
			});
		} catch (e) {
			error = `chat unavailable: ${e && e.message ? e.message : e}`;
			console.error(error);
			render();
			return;
		}
		if (sendTransport.closed) { // the page left or rejoined meanwhile
			dp.close();
			return;
		}
		producer = dp;
		dp.on('open', render);
		dp.on('close', () => { if (producer === dp) producer = null; render(); });
		dp.on('transportclose', () => { if (producer === dp) producer = null; render(); });
		dp.on('error', (error) => console.warn('chat DataProducer error:', error));
		render();
	}

	/**
	 * Handles a `newDataConsumer` request. JS dialect: {id, peerId (null for
	 * the demo's bot), ...}; TS: {dataConsumerId, peerId, appData.peerId}.
	 */
	async function consume(recvTransport, d) {
		const peerId = d.peerId || (d.appData && d.appData.peerId) || null;
		const dc = await recvTransport.consumeData({
			id: d.id || d.dataConsumerId,
			dataProducerId: d.dataProducerId,
			sctpStreamParameters: d.sctpStreamParameters,
			label: d.label,
			protocol: d.protocol,
			appData: { ...(d.appData || {}), peerId },
		});
		dc.binaryType = 'arraybuffer';
		dc.on('message', (data) => receive(peerId, dc.label, data));
		dc.on('close', () => consumers.delete(dc.id));
		dc.on('transportclose', () => consumers.delete(dc.id));
		consumers.set(dc.id, dc);
		return dc;
	}

	async function receive(peerId, label, data) {
		let text;
		if (typeof data === 'string') text = data;
		else if (data instanceof ArrayBuffer) text = fromUtf8.decode(data);
		else if (data && typeof data.text === 'function') text = await data.text(); // Blob
		else text = String(data);
		const displayName = peerId ? nameOf(peerId) : 'bot';
		messages.push({ peerId, displayName, label, text, at: Date.now() });
		if (messages.length > MAX_MESSAGES) messages.shift();
		show(displayName, text, 'in', label);
	}

	function closeConsumer(id) {
		const dc = consumers.get(id);
		if (!dc) return;
		consumers.delete(id);
		dc.close();
	}

	/** Sends one chat line; resolves once it is handed to the DataChannel. */
	async function send(text) {
		if (typeof text !== 'string') throw new TypeError(`chat text must be a string, got ${typeof text}`);
		if (!text.trim()) throw new Error('chat text is empty');
		const bytes = utf8.encode(text).length;
		if (bytes > MAX_TEXT_BYTES) throw new Error(`chat text is ${bytes} bytes, the limit is ${MAX_TEXT_BYTES}`);
		if (!ready()) throw new Error('chat is not ready: not joined yet, or its DataChannel is not open');
		producer.send(text);
		sent++;
		show('you', text, 'out');
	}

	/** Closes the DataProducer and DataConsumers (the transports go with them); keeps the lines. */
	function reset() {
		if (producer) producer.close();
		producer = null;
		for (const dc of consumers.values()) dc.close();
		consumers.clear();
		render();
	}

	form.addEventListener('submit', (event) => {
		event.preventDefault();
		const text = input.value;
		send(text).then(() => { input.value = ''; }, (error) => {
			console.warn(error.message);
			input.setCustomValidity(error.message);
			input.reportValidity();
		});
	});
	input.addEventListener('input', () => input.setCustomValidity(''));
	render();

	return {
		start,
		consume,
		closeConsumer,
		send,
		reset,
		snapshot: () => ({
			ready: ready(),
			error,
			sent,
			// DataConsumers whose channel is open: lines from those peers arrive
			consumers: [...consumers.values()].filter((dc) => dc.readyState === 'open').length,
			messages: messages.map((m) => ({ ...m })),
		}),
	};
}
