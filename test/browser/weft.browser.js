'use strict';
// A real browser as the peer: headless Chromium's WebSocket against weft's WebSocketServer.
// Run by `npm run test:browser` (not by `npm test`). Each test reads both ends' events in order, so an
// unexpected event (an error, an extra message, an early close) fails the test where it happens.
const assert = require('assert');
const crypto = require('crypto');
const { once } = require('events');
const WebSocket = require('../..');
const { launchChromium, startWeft, BrowserSockets, textOfBytes, SIZES } = require('./harness');

describe('weft ↔ Chromium (a real browser as the peer)', () => {
  let browser;
  let page;
  let weft;
  let sockets;
  let nextId = 0;
  // handleProtocols of the '/proto' route; each subprotocol test sets it.
  let chooseProtocol = () => false;
  const offeredProtocols = [];

  before(async () => {
    browser = await launchChromium();
    weft = await startWeft({
      '/plain': {},
      '/small': { maxPayload: 1024 },
      '/deflate': { perMessageDeflate: true },
      '/deflate-small': { perMessageDeflate: true, maxPayload: 1024 },
      '/deflate-tuned': {
        perMessageDeflate: {
          serverNoContextTakeover: true,
          clientNoContextTakeover: true,
          serverMaxWindowBits: 10,
          clientMaxWindowBits: 10,
        },
      },
      '/refuse': { verifyClient: () => false },
      '/fragmenting': { fragmentOutgoingMessages: true, fragmentationThreshold: 1000 },
      '/heartbeat': { heartbeat: { interval: 100, timeout: 20000 } },
      '/proto': {
        handleProtocols: (protocols, req) => {
          offeredProtocols.push([...protocols]);
          return chooseProtocol(protocols, req);
        },
      },
    });
    page = await browser.context.newPage();
    await page.goto(`${weft.origin}/`);
    sockets = new BrowserSockets(page);
  });

  afterEach(async () => {
    // A failed test may leave sockets open: close them on both sides before the next one.
    if (sockets) await sockets.closeAll();
    if (weft) weft.terminateAll();
  });

  after(async () => {
    if (page) await page.close();
    if (browser) await browser.close();
    if (weft) await weft.close();
  });

  /** Opens a browser WebSocket to `route`; resolves once both ends are open: { id, peer, open }. */
  async function connect(route, options = {}) {
    const id = String(++nextId);
    await sockets.open(weft.url(route, id), { ...options, id });
    const open = await sockets.next(id);
    assert.strictEqual(open.type, 'open', `browser socket to ${route} did not open: ${JSON.stringify(open)}`);
    const peer = await weft.accepted(id);
    assert.strictEqual(peer.ws.readyState, WebSocket.OPEN);
    return { id, peer, open };
  }

  async function browserGets(id, type) {
    const ev = await sockets.next(id);
    assert.strictEqual(ev.type, type, `browser: expected ${type}, got ${JSON.stringify(ev).slice(0, 300)}`);
    return ev;
  }

  async function weftGets(peer, type) {
    const ev = await peer.next();
    const shown = ev.type === 'error' ? `error ${ev.error.code}: ${ev.error.message}` : ev.type;
    assert.strictEqual(ev.type, type, `weft: expected ${type}, got ${shown}`);
    return ev;
  }

  /** Both ends still open and in step: a text round trip after whatever the test did. */
  async function stillInStep(id, peer) {
    peer.ws.send('still in step?');
    assert.strictEqual((await browserGets(id, 'message')).text, 'still in step?');
    await sockets.sendText(id, 'still in step!');
    assert.strictEqual((await weftGets(peer, 'message')).data.toString(), 'still in step!');
  }

  async function closeBoth(id, peer) {
    await sockets.close(id, 1000);
    assert.strictEqual((await weftGets(peer, 'close')).code, 1000);
    assert.strictEqual((await browserGets(id, 'close')).code, 1000);
  }

  describe('messages in both directions, at every frame-length encoding', () => {
    for (const binaryType of ['arraybuffer', 'blob']) {
      it(`weft → browser binary, received with binaryType '${binaryType}' (sizes ${SIZES.join(', ')})`, async () => {
        const { id, peer } = await connect('/plain', { binaryType });
        for (const size of SIZES) {
          const bytes = crypto.randomBytes(size);
          peer.ws.send(bytes);
          const ev = await browserGets(id, 'message');
          assert.strictEqual(ev.kind, binaryType, `size ${size}`);
          const got = Buffer.from(ev.b64, 'base64');
          assert.strictEqual(got.length, size);
          assert.ok(got.equals(bytes), `size ${size}: the browser received different bytes`);
        }
        await stillInStep(id, peer);
        await closeBoth(id, peer);
      });
    }

    for (const as of ['arraybuffer', 'blob', 'view']) {
      it(`browser → weft binary, sent as ${as === 'view' ? 'a Uint8Array view' : as === 'blob' ? 'a Blob' : 'an ArrayBuffer'}`, async () => {
        const { id, peer } = await connect('/plain', { binaryType: 'arraybuffer' });
        for (const size of SIZES) {
          const bytes = crypto.randomBytes(size);
          await sockets.sendBytes(id, bytes, as);
          const ev = await weftGets(peer, 'message');
          assert.strictEqual(ev.isBinary, true, `size ${size}`);
          assert.ok(Buffer.isBuffer(ev.data));
          assert.strictEqual(ev.data.length, size);
          assert.ok(ev.data.equals(bytes), `size ${size}: weft received different bytes`);
        }
        await stillInStep(id, peer);
        await closeBoth(id, peer);
      });
    }

    it('weft → browser text, multi-byte UTF-8 (byte sizes as above)', async () => {
      const { id, peer } = await connect('/plain');
      for (const size of SIZES) {
        const text = textOfBytes(size);
        assert.strictEqual(Buffer.byteLength(text), size);
        peer.ws.send(text);
        const ev = await browserGets(id, 'message');
        assert.strictEqual(ev.kind, 'text');
        assert.ok(ev.text === text, `size ${size}: the browser received different text (length ${ev.text.length})`);
      }
      await closeBoth(id, peer);
    });

    it('browser → weft text, multi-byte UTF-8 (byte sizes as above)', async () => {
      const { id, peer } = await connect('/plain');
      for (const size of SIZES) {
        const text = textOfBytes(size);
        await sockets.sendText(id, text);
        const ev = await weftGets(peer, 'message');
        assert.strictEqual(ev.isBinary, false, `size ${size}`);
        assert.strictEqual(ev.data.length, size);
        assert.ok(ev.data.toString() === text, `size ${size}: weft received different text`);
      }
      await closeBoth(id, peer);
    });

    it('a Blob sent by weft arrives in order between the messages around it', async () => {
      const { id, peer } = await connect('/plain', { binaryType: 'arraybuffer' });
      const bytes = crypto.randomBytes(70000);
      peer.ws.send('before');
      peer.ws.send(new Blob([bytes.subarray(0, 10), bytes.subarray(10)]));
      peer.ws.send('after');
      assert.strictEqual((await browserGets(id, 'message')).text, 'before');
      assert.ok(Buffer.from((await browserGets(id, 'message')).b64, 'base64').equals(bytes));
      assert.strictEqual((await browserGets(id, 'message')).text, 'after');
      await closeBoth(id, peer);
    });

    it("weft's W3C face (onmessage, onclose) sees the browser's messages and close", async () => {
      const { id, peer } = await connect('/plain');
      peer.ws.binaryType = 'arraybuffer';
      const events = [];
      peer.ws.onmessage = (e) => events.push({ type: e.type, data: e.data });
      const closed = new Promise((resolve) => {
        peer.ws.onclose = (e) => resolve({ type: e.type, code: e.code, reason: e.reason, wasClean: e.wasClean });
      });
      await sockets.sendText(id, 'w3c text');
      await sockets.sendBytes(id, Buffer.from([9, 8, 7]), 'blob');
      await weftGets(peer, 'message');
      await weftGets(peer, 'message');
      await sockets.close(id, 4100, 'w3c close');
      assert.deepStrictEqual(await closed, { type: 'close', code: 4100, reason: 'w3c close', wasClean: true });
      assert.strictEqual(events.length, 2);
      assert.deepStrictEqual(events[0], { type: 'message', data: 'w3c text' });
      assert.ok(events[1].data instanceof ArrayBuffer);
      assert.deepStrictEqual([...new Uint8Array(events[1].data)], [9, 8, 7]);
      assert.strictEqual((await browserGets(id, 'close')).code, 4100);
    });

    it('ten browser sockets: a broadcast over wss.clients reaches each one once', async () => {
      const conns = [];
      for (let i = 0; i < 10; i++) conns.push(await connect('/plain'));
      const clients = weft.servers['/plain'].clients;
      for (const { peer } of conns) assert.ok(clients.has(peer.ws), 'each connection is tracked in wss.clients');
      for (const client of clients) if (client.readyState === WebSocket.OPEN) client.send('to everyone');
      for (const { id, peer } of conns) {
        assert.strictEqual((await browserGets(id, 'message')).text, 'to everyone');
        await stillInStep(id, peer);
      }
      for (const { id, peer } of conns) await closeBoth(id, peer);
      for (const { peer } of conns) assert.ok(!clients.has(peer.ws), 'closed connections leave wss.clients');
    });

    it('a burst of small messages both ways arrives complete and in order', async () => {
      const { id, peer } = await connect('/plain', { binaryType: 'arraybuffer' });
      for (let i = 0; i < 200; i++) peer.ws.send(i % 2 ? `text ${i}` : Buffer.from([i, i >> 8]));
      for (let i = 0; i < 200; i++) {
        const ev = await browserGets(id, 'message');
        if (i % 2) assert.strictEqual(ev.text, `text ${i}`);
        else assert.deepStrictEqual([...Buffer.from(ev.b64, 'base64')], [i & 255, i >> 8]);
      }
      await page.evaluate((i) => {
        for (let n = 0; n < 200; n++) window.T.send(i, { text: `from browser ${n}` });
      }, id);
      for (let i = 0; i < 200; i++) assert.strictEqual((await weftGets(peer, 'message')).data.toString(), `from browser ${i}`);
      await closeBoth(id, peer);
    });
  });

  describe('fragmented messages from weft (send with fin: false)', () => {
    it('the browser joins text fragments split inside multi-byte characters, with an empty fragment', async () => {
      const { id, peer } = await connect('/plain');
      const whole = Buffer.from('fragments → €uro, 😀 and 𝄞 joined');
      const euro = whole.indexOf(Buffer.from('€'));
      const smile = whole.indexOf(Buffer.from('😀'));
      const cuts = [0, euro + 1, euro + 2, smile + 3, whole.length];
      for (let i = 0; i + 1 < cuts.length; i++) {
        peer.ws.send(whole.subarray(cuts[i], cuts[i + 1]), { binary: false, fin: false });
        if (i === 1) peer.ws.send(Buffer.alloc(0), { binary: false, fin: false });
      }
      peer.ws.send(Buffer.alloc(0), { binary: false, fin: true });
      const ev = await browserGets(id, 'message');
      assert.strictEqual(ev.kind, 'text');
      assert.strictEqual(ev.text, whole.toString());
      await stillInStep(id, peer);
      await closeBoth(id, peer);
    });

    it('the browser joins binary fragments of 1, 70000, 0 and 125 bytes into one message', async () => {
      const { id, peer } = await connect('/plain', { binaryType: 'arraybuffer' });
      const parts = [1, 70000, 0, 125].map((n) => crypto.randomBytes(n));
      parts.forEach((part, i) => peer.ws.send(part, { binary: true, fin: i === parts.length - 1 }));
      const ev = await browserGets(id, 'message');
      assert.ok(Buffer.from(ev.b64, 'base64').equals(Buffer.concat(parts)));
      await stillInStep(id, peer);
      await closeBoth(id, peer);
    });

    it('a ping between two fragments is answered, and the message still arrives whole', async () => {
      const { id, peer } = await connect('/plain');
      peer.ws.send('first half, ', { fin: false });
      peer.ws.ping('between fragments');
      peer.ws.send('second half', { fin: true });
      assert.strictEqual((await weftGets(peer, 'pong')).data.toString(), 'between fragments');
      assert.strictEqual((await browserGets(id, 'message')).text, 'first half, second half');
      await stillInStep(id, peer);
      await closeBoth(id, peer);
    });
  });

  describe("weft's fragmentOutgoingMessages (WebSocket-Node's option)", () => {
    it('splits 1 MiB messages into 1000-byte frames that the browser joins (text split mid-character too)', async () => {
      const { id, peer } = await connect('/fragmenting', { binaryType: 'arraybuffer' });
      const socket = peer.ws._socket;
      const size = 1024 * 1024 + 3;
      const frames = Math.ceil(size / 1000); // each with a 4-byte header: 126 <= 1000 < 65536
      const bytes = crypto.randomBytes(size);
      let before = socket.bytesWritten;
      peer.ws.send(bytes);
      assert.ok(Buffer.from((await browserGets(id, 'message')).b64, 'base64').equals(bytes));
      assert.strictEqual(socket.bytesWritten - before, size + 4 * frames, 'bytes written for 1000-byte frames');
      const text = textOfBytes(size);
      before = socket.bytesWritten;
      peer.ws.send(text);
      assert.ok((await browserGets(id, 'message')).text === text, 'the browser joined different text');
      assert.strictEqual(socket.bytesWritten - before, size + 4 * frames);
      await stillInStep(id, peer);
      await closeBoth(id, peer);
    });
  });

  describe('ping and pong', () => {
    it("weft's heartbeat pings an idle browser, which answers, and the connection stays open", async () => {
      const { id, peer } = await connect('/heartbeat');
      for (let i = 0; i < 3; i++) assert.strictEqual((await weftGets(peer, 'pong')).data.length, 0);
      assert.strictEqual(peer.ws.readyState, WebSocket.OPEN);
      assert.strictEqual((await sockets.state(id)).readyState, 1);
      peer.ws.send('still in step?');
      assert.strictEqual((await browserGets(id, 'message')).text, 'still in step?');
      await sockets.close(id, 1000);
      let ev;
      do ev = await peer.next(); while (ev.type === 'pong'); // more heartbeats may have been answered meanwhile
      assert.strictEqual(ev.type, 'close');
      assert.strictEqual(ev.code, 1000);
      assert.strictEqual((await browserGets(id, 'close')).code, 1000);
    });

    it('the browser answers weft pings with pongs carrying the same payload (0, 5 and 125 bytes)', async () => {
      const { id, peer } = await connect('/plain', { binaryType: 'arraybuffer' });
      const payloads = [Buffer.alloc(0), Buffer.from('hello'), crypto.randomBytes(125)];
      for (const payload of payloads) {
        peer.ws.ping(payload);
        const ev = await weftGets(peer, 'pong');
        assert.ok(ev.data.equals(payload), `pong payload of a ${payload.length}-byte ping`);
      }
      // Pings are not messages: the next thing the page sees is the message sent after them.
      await stillInStep(id, peer);
      await closeBoth(id, peer);
    });
  });

  describe('closing', () => {
    it("browser close(4321, 'reason') → weft 'close' 4321 'reason'; the browser sees a clean 4321", async () => {
      const { id, peer } = await connect('/plain');
      await sockets.close(id, 4321, 'reason');
      const closed = await weftGets(peer, 'close');
      assert.strictEqual(closed.code, 4321);
      assert.strictEqual(closed.reason, 'reason');
      assert.strictEqual(peer.ws.readyState, WebSocket.CLOSED);
      const ev = await browserGets(id, 'close');
      assert.deepStrictEqual(ev, { type: 'close', code: 4321, reason: 'reason', wasClean: true });
    });

    it("browser close() with no code → weft 'close' 1005 and an empty reason", async () => {
      const { id, peer } = await connect('/plain');
      await sockets.close(id);
      const closed = await weftGets(peer, 'close');
      assert.strictEqual(closed.code, 1005);
      assert.strictEqual(closed.reason, '');
      const ev = await browserGets(id, 'close');
      assert.strictEqual(ev.code, 1005);
      assert.strictEqual(ev.wasClean, true);
    });

    it("weft close(4000, 'bye') → the browser's CloseEvent: 4000, 'bye', wasClean", async () => {
      const { id, peer } = await connect('/plain');
      peer.ws.close(4000, 'bye');
      const ev = await browserGets(id, 'close');
      assert.deepStrictEqual(ev, { type: 'close', code: 4000, reason: 'bye', wasClean: true });
      const closed = await weftGets(peer, 'close');
      assert.strictEqual(closed.code, 4000, 'the browser echoes the close code');
      assert.strictEqual(peer.ws.readyState, WebSocket.CLOSED);
    });

    it('weft close(1000, a 123-byte UTF-8 reason) reaches the browser intact', async () => {
      const { id, peer } = await connect('/plain');
      const reason = textOfBytes(123);
      peer.ws.close(1000, reason);
      const ev = await browserGets(id, 'close');
      assert.strictEqual(ev.code, 1000);
      assert.strictEqual(ev.reason, reason);
      assert.strictEqual(ev.wasClean, true);
      assert.strictEqual((await weftGets(peer, 'close')).code, 1000);
    });

    it('weft close() with no code → the browser sees 1005, cleanly', async () => {
      const { id, peer } = await connect('/plain');
      peer.ws.close();
      const ev = await browserGets(id, 'close');
      assert.deepStrictEqual(ev, { type: 'close', code: 1005, reason: '', wasClean: true });
      assert.strictEqual((await weftGets(peer, 'close')).code, 1005);
    });

    it('weft terminate() → the browser sees 1006, not clean', async () => {
      const { id, peer } = await connect('/plain');
      peer.ws.terminate();
      const ev = await browserGets(id, 'close');
      assert.strictEqual(ev.code, 1006);
      assert.strictEqual(ev.wasClean, false);
      assert.strictEqual((await weftGets(peer, 'close')).code, 1006);
    });

    it("a page that navigates away or is closed: weft sees 1001 'going away' each time", async () => {
      const other = await browser.context.newPage();
      try {
        await other.goto(`${weft.origin}/`);
        for (const leave of [() => other.goto(`${weft.origin}/?next`), () => other.close()]) {
          const id = String(++nextId);
          await new BrowserSockets(other).open(weft.url('/plain', id), { id });
          const peer = await weft.accepted(id);
          assert.strictEqual(peer.ws.readyState, WebSocket.OPEN);
          await leave();
          const closed = await weftGets(peer, 'close');
          assert.strictEqual(closed.code, 1001);
          assert.strictEqual(peer.ws.readyState, WebSocket.CLOSED);
        }
      } finally {
        if (!other.isClosed()) await other.close();
      }
    });

    it('messages sent before close() are delivered before the CloseEvent', async () => {
      const { id, peer } = await connect('/plain');
      peer.ws.send('last words');
      peer.ws.send(crypto.randomBytes(70000));
      peer.ws.close(4001, 'after the messages');
      assert.strictEqual((await browserGets(id, 'message')).text, 'last words');
      assert.strictEqual((await browserGets(id, 'message')).kind, 'blob');
      const ev = await browserGets(id, 'close');
      assert.strictEqual(ev.code, 4001);
      assert.strictEqual(ev.reason, 'after the messages');
      assert.strictEqual((await weftGets(peer, 'close')).code, 4001);
    });

    it('the browser closes while weft is still sending megabytes: a clean close, no error', async () => {
      const { id, peer } = await connect('/plain', { binaryType: 'arraybuffer' });
      const mib = crypto.randomBytes(1024 * 1024);
      for (let i = 0; i < 8; i++) peer.ws.send(mib);
      assert.strictEqual((await browserGets(id, 'message')).kind, 'arraybuffer');
      await sockets.close(id, 4100, 'enough');
      const closed = await weftGets(peer, 'close');
      assert.strictEqual(closed.code, 4100);
      assert.strictEqual(closed.reason, 'enough');
      let ev;
      do ev = await sockets.next(id); while (ev.type === 'message'); // dispatched before close() was called
      assert.deepStrictEqual(ev, { type: 'close', code: 4100, reason: 'enough', wasClean: true });
    });

    it('a browser message over maxPayload: weft fails it with 1009, which the browser sees', async () => {
      const { id, peer } = await connect('/small', { binaryType: 'arraybuffer' });
      const atLimit = crypto.randomBytes(1024);
      await sockets.sendBytes(id, atLimit, 'arraybuffer');
      assert.ok((await weftGets(peer, 'message')).data.equals(atLimit), 'exactly maxPayload bytes is allowed');
      await sockets.sendBytes(id, crypto.randomBytes(1025), 'arraybuffer');
      const err = await weftGets(peer, 'error');
      assert.strictEqual(err.error.code, 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH');
      // As in ws: having failed the connection, weft reads no further frames, so it never sees the
      // browser's reply and reports 1006 on its own side. The browser is the one that sees 1009.
      assert.strictEqual((await weftGets(peer, 'close')).code, 1006);
      const ev = await browserGets(id, 'close');
      assert.strictEqual(ev.code, 1009);
      assert.strictEqual(ev.wasClean, true);
    });

    it('invalid UTF-8 in a text message from weft: the browser fails the connection', async () => {
      const { id, peer } = await connect('/plain');
      peer.ws.send(Buffer.from([0x61, 0xff, 0x62]), { binary: false });
      // The browser must not deliver the message; it fails the WebSocket connection instead.
      await browserGets(id, 'error');
      const ev = await browserGets(id, 'close');
      assert.strictEqual(ev.code, 1006);
      assert.strictEqual(ev.wasClean, false);
      // The browser's close frame names a protocol error (Chromium 156 sends 1002, RFC 6455 suggests 1007).
      const closed = await weftGets(peer, 'close');
      assert.ok([1002, 1007].includes(closed.code), `weft saw close ${closed.code} '${closed.reason}'`);
    });
  });

  describe('permessage-deflate', () => {
    it('is negotiated with perMessageDeflate: true (both ends agree) and not without it', async () => {
      const plain = await connect('/plain');
      assert.strictEqual(plain.open.extensions, '');
      assert.strictEqual(plain.peer.ws.extensions, '');
      await closeBoth(plain.id, plain.peer);

      const { id, peer, open } = await connect('/deflate');
      assert.match(open.extensions, /^permessage-deflate\b/);
      assert.match(peer.ws.extensions, /^permessage-deflate\b/);
      await closeBoth(id, peer);
    });

    it('compressed messages round-trip both ways, and are compressed on the wire', async () => {
      const { id, peer } = await connect('/deflate', { binaryType: 'arraybuffer' });
      const socket = peer.ws._socket;
      const text = 'weft and chromium, compressed. '.repeat(34000); // ~1 MiB, very compressible

      let before = socket.bytesWritten;
      peer.ws.send(text);
      assert.strictEqual((await browserGets(id, 'message')).text, text);
      const sent = socket.bytesWritten - before;
      assert.ok(sent < text.length / 10, `weft wrote ${sent} bytes for a ${text.length}-byte compressible message`);

      before = socket.bytesRead;
      await sockets.sendText(id, text);
      const got = await weftGets(peer, 'message');
      assert.ok(got.data.toString() === text, 'weft inflated different text');
      const read = socket.bytesRead - before;
      assert.ok(read < text.length / 10, `weft read ${read} bytes for a ${text.length}-byte compressible message`);

      for (const size of SIZES) {
        const bytes = crypto.randomBytes(size);
        peer.ws.send(bytes);
        assert.ok(Buffer.from((await browserGets(id, 'message')).b64, 'base64').equals(bytes), `weft → browser, ${size} bytes`);
        await sockets.sendBytes(id, bytes, 'arraybuffer');
        assert.ok((await weftGets(peer, 'message')).data.equals(bytes), `browser → weft, ${size} bytes`);
        const utf8 = textOfBytes(size);
        peer.ws.send(utf8);
        assert.ok((await browserGets(id, 'message')).text === utf8, `weft → browser, ${size}-byte text`);
        await sockets.sendText(id, utf8);
        assert.ok((await weftGets(peer, 'message')).data.toString() === utf8, `browser → weft, ${size}-byte text`);
      }
      await closeBoth(id, peer);
    });

    it('context takeover: the same message five times each way, each decoded against the window', async () => {
      const { id, peer } = await connect('/deflate');
      const socket = peer.ws._socket;
      const text = textOfBytes(20000);
      const sizes = [];
      for (let i = 0; i < 5; i++) {
        const before = socket.bytesWritten;
        peer.ws.send(text);
        assert.ok((await browserGets(id, 'message')).text === text, `weft → browser, message ${i}`);
        sizes.push(socket.bytesWritten - before);
        await sockets.sendText(id, text);
        assert.ok((await weftGets(peer, 'message')).data.toString() === text, `browser → weft, message ${i}`);
      }
      // With the first message in the window, the repeats compress to a back-reference.
      assert.ok(sizes[4] < sizes[0] / 10, `bytes written per repeat: ${sizes.join(', ')}`);
      await closeBoth(id, peer);
    });

    it('a compressed message sent in fragments by weft is inflated whole by the browser', async () => {
      const { id, peer } = await connect('/deflate');
      const socket = peer.ws._socket;
      const parts = ['a first fragment long enough to be compressed. '.repeat(40), 'second. '.repeat(500), '', 'the end'];
      const before = socket.bytesWritten;
      parts.forEach((part, i) => peer.ws.send(part, { fin: i === parts.length - 1 }));
      assert.strictEqual((await browserGets(id, 'message')).text, parts.join(''));
      const written = socket.bytesWritten - before;
      assert.ok(written < parts.join('').length / 4, `${written} bytes written: the fragments were not compressed`);
      await stillInStep(id, peer);
      await closeBoth(id, peer);
    });

    it('no_context_takeover and max_window_bits=10 both ways: the browser accepts them and round-trips', async () => {
      const { id, peer, open } = await connect('/deflate-tuned');
      const params = open.extensions.split(';').map((s) => s.trim());
      assert.strictEqual(params[0], 'permessage-deflate');
      for (const p of ['server_no_context_takeover', 'client_no_context_takeover', 'server_max_window_bits=10', 'client_max_window_bits=10']) {
        assert.ok(params.includes(p), `browser's extensions '${open.extensions}' lacks ${p}`);
      }
      const text = textOfBytes(300000) + 'long-distance repeat '.repeat(2000);
      for (let i = 0; i < 3; i++) {
        peer.ws.send(text);
        assert.ok((await browserGets(id, 'message')).text === text, `weft → browser, message ${i}`);
        await sockets.sendText(id, text);
        assert.ok((await weftGets(peer, 'message')).data.toString() === text, `browser → weft, message ${i}`);
      }
      await closeBoth(id, peer);
    });

    it('maxPayload counts inflated bytes: a small compressed frame that inflates past it closes with 1009', async () => {
      const { id, peer } = await connect('/deflate-small');
      const socket = peer.ws._socket;
      const before = socket.bytesRead;
      await sockets.sendText(id, '0'.repeat(100000));
      const err = await weftGets(peer, 'error');
      assert.strictEqual(err.error.code, 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH');
      assert.ok(socket.bytesRead - before < 1024, 'the browser sent the message compressed, below maxPayload on the wire');
      assert.strictEqual((await weftGets(peer, 'close')).code, 1006, 'as ws: no further frames are read');
      const ev = await browserGets(id, 'close');
      assert.strictEqual(ev.code, 1009);
      assert.strictEqual(ev.wasClean, true);
    });
  });

  describe('subprotocols and handshakes', () => {
    it("handleProtocols sees ['a', 'b'] from new WebSocket(url, ['a', 'b']) and selects 'b'", async () => {
      offeredProtocols.length = 0;
      chooseProtocol = (protocols) => (protocols.has('b') ? 'b' : false);
      const { id, peer, open } = await connect('/proto', { protocols: ['a', 'b'] });
      assert.deepStrictEqual(offeredProtocols, [['a', 'b']]);
      assert.strictEqual(open.protocol, 'b');
      assert.strictEqual(peer.ws.protocol, 'b');
      await closeBoth(id, peer);
    });

    it('handleProtocols returning false: weft answers with no subprotocol, which a browser that asked refuses', async () => {
      // WHATWG WebSockets: a client that offered subprotocols fails the connection when none is selected.
      chooseProtocol = () => false;
      const id = String(++nextId);
      await sockets.open(weft.url('/proto', id), { id, protocols: ['a', 'b'] });
      const peer = await weft.accepted(id);
      assert.strictEqual(peer.ws.protocol, '');
      await browserGets(id, 'error');
      const ev = await browserGets(id, 'close');
      assert.strictEqual(ev.code, 1006);
      assert.strictEqual((await weftGets(peer, 'close')).code, 1006);
    });

    it('with no subprotocol offered, handleProtocols is not called and the browser opens', async () => {
      offeredProtocols.length = 0;
      chooseProtocol = () => 'unexpected';
      const { id, peer, open } = await connect('/proto');
      assert.deepStrictEqual(offeredProtocols, []);
      assert.strictEqual(open.protocol, '');
      assert.strictEqual(peer.ws.protocol, '');
      await closeBoth(id, peer);
    });

    it("without handleProtocols, weft selects the client's first subprotocol (as ws does)", async () => {
      const { id, peer, open } = await connect('/plain', { protocols: ['x', 'y'] });
      assert.strictEqual(open.protocol, 'x');
      assert.strictEqual(peer.ws.protocol, 'x');
      await closeBoth(id, peer);
    });

    it('a WebSocketServer on its own port ({ port: 0 }) accepts the browser, cross-origin', async () => {
      const wss = new WebSocket.WebSocketServer({ port: 0, host: '127.0.0.1' });
      try {
        await once(wss, 'listening');
        const connected = once(wss, 'connection');
        const id = String(++nextId);
        await sockets.open(`ws://127.0.0.1:${wss.address().port}/own-port`, { id });
        await browserGets(id, 'open');
        const [ws, req] = await connected;
        assert.strictEqual(req.headers.origin, weft.origin);
        assert.strictEqual(req.url, '/own-port');
        const message = once(ws, 'message');
        await sockets.sendText(id, 'hello, own port');
        assert.strictEqual((await message)[0].toString(), 'hello, own port');
        const closed = once(ws, 'close');
        ws.close(4002, 'done');
        assert.deepStrictEqual(await browserGets(id, 'close'), { type: 'close', code: 4002, reason: 'done', wasClean: true });
        assert.strictEqual((await closed)[0], 4002);
      } finally {
        for (const client of wss.clients) client.terminate();
        await new Promise((resolve) => wss.close(() => resolve()));
      }
    });

    it('an upgrade verifyClient refuses fails the browser socket: error, then close 1006', async () => {
      const id = String(++nextId);
      await sockets.open(weft.url('/refuse', id), { id });
      await browserGets(id, 'error');
      const ev = await browserGets(id, 'close');
      assert.strictEqual(ev.code, 1006);
      assert.strictEqual(ev.wasClean, false);
    });
  });
});
