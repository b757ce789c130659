'use strict';
// The W3C face (lib/socket/event-target.ts) over real loopback connections: a server-side weft WebSocket
// attached with setSocket after a hand-written upgrade, facing either ws's client or a raw TCP peer.
const assert = require('assert');
const crypto = require('crypto');
const fs = require('fs');
const path = require('path');
const http = require('http');
const net = require('net');
const { once } = require('events');
const WsClient = require('ws');
const { WebSocket } = require('../../dist/lib/websocket');
const {
  Event,
  MessageEvent,
  CloseEvent,
  ErrorEvent,
  applyEventTarget,
} = require('../../dist/lib/socket/event-target');

// The lead installs this in websocket.ts; until then (and harmlessly after) the test does it.
applyEventTarget(WebSocket.prototype);

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

/** Everything a test opened, closed in afterEach. */
let opened = [];

/**
 * An http server whose 'upgrade' handler answers 101 and hands the socket to a new server-side weft
 * WebSocket. `before(ws)` runs before setSocket (so 'open' can be listened for).
 */
async function listen(before) {
  const server = http.createServer();
  opened.push(server);
  const sockets = [];
  server.on('upgrade', (req, socket, head) => {
    sockets.push(socket);
    const accept = crypto.createHash('sha1').update(req.headers['sec-websocket-key'] + GUID).digest('base64');
    socket.write(
      'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
        `Sec-WebSocket-Accept: ${accept}\r\n\r\n`,
    );
    // As WebSocketServer does: without closeTimeout a hand-made socket waits for no close frame (ws's rule).
    const ws = new WebSocket(null, undefined, { closeTimeout: 30000 });
    opened.push(ws);
    if (before) before(ws);
    ws.setSocket(socket, head, {});
    server.emit('weft', ws);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return server;
}

/** A weft server-side WebSocket and ws's client, both open. */
async function connect(before) {
  const server = await listen(before);
  const client = new WsClient(`ws://127.0.0.1:${server.address().port}`);
  opened.push(client);
  const [[ws]] = await Promise.all([once(server, 'weft'), once(client, 'open')]);
  return { ws, client };
}

/** A weft server-side WebSocket and a raw TCP peer that has read the 101 response. */
async function connectRaw(before) {
  const server = await listen(before);
  const sock = net.connect(server.address().port, '127.0.0.1');
  opened.push(sock);
  sock.write(
    'GET / HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
      'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
  );
  const [ws] = await once(server, 'weft');
  // Collect what follows the response head: the server's frames.
  const peer = { sock, ws, bytes: Buffer.alloc(0) };
  let head = Buffer.alloc(0);
  let inHead = true;
  sock.on('data', (chunk) => {
    if (inHead) {
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf('\r\n\r\n');
      if (end === -1) return;
      inHead = false;
      chunk = head.subarray(end + 4);
    }
    peer.bytes = Buffer.concat([peer.bytes, chunk]);
    sock.emit('frames');
  });
  return peer;
}

/** A client-to-server (masked) frame. */
function maskedFrame(opcode, payload) {
  const mask = Buffer.from([0x11, 0x22, 0x33, 0x44]);
  const body = Buffer.from(payload);
  for (let i = 0; i < body.length; i++) body[i] ^= mask[i & 3];
  assert.ok(body.length < 126);
  return Buffer.concat([Buffer.from([0x80 | opcode, 0x80 | body.length]), mask, body]);
}

/** Resolves with the next `n` W3C events of `type` on `ws`, seen through addEventListener. */
function nextEvents(ws, type, n = 1) {
  return new Promise((resolve) => {
    const events = [];
    const listener = (event) => {
      events.push(event);
      if (events.length === n) {
        ws.removeEventListener(type, listener);
        resolve(events);
      }
    };
    ws.addEventListener(type, listener);
  });
}

/**
 * Counts constructions of `cls` without a hook in the library: `super()` in the class's constructor
 * calls whatever its constructor's prototype is at the time, so a counting subclass of Event is
 * spliced in between. Returns the counter and the undo.
 */
function countConstructions(cls) {
  const counter = { n: 0 };
  const original = Object.getPrototypeOf(cls);
  class Counting extends original {
    constructor(...args) {
      super(...args);
      counter.n++;
    }
  }
  Object.setPrototypeOf(cls, Counting);
  counter.restore = () => Object.setPrototypeOf(cls, original);
  return counter;
}

describe('event-target: the W3C face', () => {
  afterEach(() => {
    const list = opened;
    opened = [];
    for (const item of list) {
      if (item instanceof WsClient || item instanceof WebSocket) item.terminate();
      else if (item instanceof net.Socket) item.destroy();
      else if (item instanceof http.Server) {
        item.closeAllConnections();
        item.close();
      }
    }
  });

  describe('event classes', () => {
    it('Event has type and a null target until fired', () => {
      const event = new Event('open');
      assert.strictEqual(event.type, 'open');
      assert.strictEqual(event.target, null);
    });

    it('MessageEvent, CloseEvent and ErrorEvent take their init dictionaries', () => {
      const message = new MessageEvent('message', { data: 'hi' });
      assert.ok(message instanceof Event);
      assert.strictEqual(message.type, 'message');
      assert.strictEqual(message.data, 'hi');

      const close = new CloseEvent('close', { code: 4000, reason: 'bye', wasClean: true });
      assert.ok(close instanceof Event);
      assert.deepStrictEqual([close.code, close.reason, close.wasClean], [4000, 'bye', true]);

      const err = new Error('x');
      const error = new ErrorEvent('error', { error: err, message: 'x' });
      assert.ok(error instanceof Event);
      assert.strictEqual(error.error, err);
      assert.strictEqual(error.message, 'x');
    });

    it('absent init fields take the defaults ws and the W3C give them', () => {
      assert.strictEqual(new MessageEvent('message').data, null);
      const close = new CloseEvent('close');
      assert.deepStrictEqual([close.code, close.reason, close.wasClean], [0, '', false]);
      const error = new ErrorEvent('error');
      assert.deepStrictEqual([error.error, error.message], [null, '']);
    });

    it('attributes are enumerable read-only accessors, as in ws', () => {
      const keys = (obj) => {
        const out = [];
        for (const key in obj) out.push(key);
        return out.sort();
      };
      assert.deepStrictEqual(keys(new Event('open')), ['target', 'type']);
      assert.deepStrictEqual(keys(new MessageEvent('message')), ['data', 'target', 'type']);
      assert.deepStrictEqual(keys(new CloseEvent('close')), ['code', 'reason', 'target', 'type', 'wasClean']);
      assert.deepStrictEqual(keys(new ErrorEvent('error')), ['error', 'message', 'target', 'type']);
      const close = new CloseEvent('close', { code: 1000 });
      assert.throws(() => {
        'use strict';
        close.code = 1;
      }, TypeError);
      assert.strictEqual(close.code, 1000);
    });

    it('the event classes are not exported from the package entry (ws does not export them)', () => {
      const main = require('../../dist/index.js');
      for (const name of ['Event', 'MessageEvent', 'CloseEvent', 'ErrorEvent', 'EventTarget', 'applyEventTarget']) {
        assert.strictEqual(main[name], undefined, name);
      }
    });
  });

  describe('layering (event-target is a mixin)', () => {
    it('lib/socket/event-target.ts imports nothing from lib/ (in particular not websocket.ts)', () => {
      const src = fs.readFileSync(path.join(__dirname, '..', '..', 'lib', 'socket', 'event-target.ts'), 'utf8');
      const re = /from\s*['"]([^'"]+)['"]|require\(\s*['"]([^'"]+)['"]\s*\)/g;
      const specs = [...src.matchAll(re)].map((m) => m[1] || m[2]);
      assert.ok(specs.length > 0);
      for (const spec of specs) assert.ok(!spec.startsWith('.'), `event-target.ts imports ${spec}`);
    });
  });

  describe('applyEventTarget on WebSocket.prototype', () => {
    it('installs add/removeEventListener and enumerable on* accessors', () => {
      const proto = WebSocket.prototype;
      assert.strictEqual(typeof proto.addEventListener, 'function');
      assert.strictEqual(typeof proto.removeEventListener, 'function');
      const keys = Object.keys(proto);
      for (const name of ['addEventListener', 'removeEventListener', 'onopen', 'onmessage', 'onclose', 'onerror']) {
        assert.ok(keys.includes(name), name);
      }
      for (const name of ['onopen', 'onmessage', 'onclose', 'onerror']) {
        const desc = Object.getOwnPropertyDescriptor(proto, name);
        assert.strictEqual(typeof desc.get, 'function', name);
        assert.strictEqual(typeof desc.set, 'function', name);
      }
    });
  });

  describe('events over a connection', () => {
    it("'open' reaches addEventListener and onopen with this and target = the WebSocket", async () => {
      const seen = [];
      const { ws } = await connect((ws) => {
        ws.addEventListener('open', function (event) {
          seen.push(['listener', event, this]);
        });
        ws.onopen = function (event) {
          seen.push(['onopen', event, this]);
        };
      });
      assert.deepStrictEqual(
        seen.map(([who]) => who),
        ['listener', 'onopen'],
      );
      for (const [, event, self] of seen) {
        assert.ok(event instanceof Event);
        assert.strictEqual(event.type, 'open');
        assert.strictEqual(event.target, ws);
        assert.strictEqual(self, ws);
      }
      // Each listener gets its own event object.
      assert.notStrictEqual(seen[0][1], seen[1][1]);
    });

    it('text arrives as a string in MessageEvent.data, through both listener kinds', async () => {
      const { ws, client } = await connect();
      const viaOn = [];
      ws.onmessage = function (event) {
        viaOn.push([event, this]);
      };
      const events = nextEvents(ws, 'message', 2);
      client.send('héllo wörld');
      client.send('');
      const [first, second] = await events;
      assert.ok(first instanceof MessageEvent);
      assert.strictEqual(first.type, 'message');
      assert.strictEqual(first.target, ws);
      assert.strictEqual(first.data, 'héllo wörld');
      assert.strictEqual(second.data, '');
      assert.strictEqual(viaOn.length, 2);
      assert.strictEqual(viaOn[0][0].data, 'héllo wörld');
      assert.strictEqual(viaOn[0][1], ws);
    });

    it("binary data for binaryType 'nodebuffer' is a Buffer", async () => {
      const { ws, client } = await connect();
      const events = nextEvents(ws, 'message');
      client.send(Buffer.from([1, 2, 3]));
      const [event] = await events;
      assert.ok(Buffer.isBuffer(event.data));
      assert.deepStrictEqual([...event.data], [1, 2, 3]);
    });

    it("binary data for binaryType 'arraybuffer' is an ArrayBuffer; text stays a string", async () => {
      const { ws, client } = await connect();
      ws.binaryType = 'arraybuffer';
      const events = nextEvents(ws, 'message', 2);
      client.send(Buffer.from([4, 5]));
      client.send('txt');
      const [bin, text] = await events;
      assert.ok(bin.data instanceof ArrayBuffer);
      assert.deepStrictEqual([...new Uint8Array(bin.data)], [4, 5]);
      assert.strictEqual(text.data, 'txt');
    });

    it("binary data for binaryType 'fragments' is the list of frame payloads", async () => {
      const { ws, client } = await connect();
      ws.binaryType = 'fragments';
      const events = nextEvents(ws, 'message', 2);
      client.send(Buffer.from('ab'), { fin: false });
      client.send(Buffer.from('cd'), { fin: true });
      client.send('text, joined');
      const [bin, text] = await events;
      assert.ok(Array.isArray(bin.data));
      assert.deepStrictEqual(
        bin.data.map((b) => b.toString()),
        ['ab', 'cd'],
      );
      assert.strictEqual(text.data, 'text, joined');
    });

    it("binary data for binaryType 'blob' is a Blob", async () => {
      const { ws, client } = await connect();
      ws.binaryType = 'blob';
      const events = nextEvents(ws, 'message');
      client.send(Buffer.from('blobby'));
      const [event] = await events;
      assert.ok(event.data instanceof Blob);
      assert.strictEqual(await event.data.text(), 'blobby');
    });

    it('a clean close initiated by the peer: code, string reason, wasClean true', async () => {
      const { ws, client } = await connect();
      const viaOn = [];
      ws.onclose = function (event) {
        viaOn.push([event, this]);
      };
      const events = nextEvents(ws, 'close');
      client.close(4001, 'réason');
      const [event] = await events;
      assert.ok(event instanceof CloseEvent);
      assert.strictEqual(event.type, 'close');
      assert.strictEqual(event.target, ws);
      assert.strictEqual(event.code, 4001);
      assert.strictEqual(event.reason, 'réason');
      assert.strictEqual(event.wasClean, true);
      assert.strictEqual(viaOn.length, 1);
      assert.strictEqual(viaOn[0][0].code, 4001);
      assert.strictEqual(viaOn[0][1], ws);
    });

    it('a clean close initiated here without a status: 1005, empty reason, wasClean true', async () => {
      const { ws } = await connect();
      const events = nextEvents(ws, 'close');
      ws.close();
      const [event] = await events;
      assert.deepStrictEqual([event.code, event.reason, event.wasClean], [1005, '', true]);
    });

    it('the peer dropping the connection: 1006, wasClean false', async () => {
      const { ws, client } = await connect();
      const events = nextEvents(ws, 'close');
      client.terminate();
      const [event] = await events;
      assert.deepStrictEqual([event.code, event.reason, event.wasClean], [1006, '', false]);
    });

    it('terminate() here: 1006, wasClean false', async () => {
      const { ws } = await connect();
      const events = nextEvents(ws, 'close');
      ws.terminate();
      const [event] = await events;
      assert.deepStrictEqual([event.code, event.wasClean], [1006, false]);
    });

    it('a raw peer that sends its close frame and hangs up: wasClean true (frames went both ways)', async () => {
      const peer = await connectRaw();
      const events = nextEvents(peer.ws, 'close');
      peer.sock.end(maskedFrame(0x8, Buffer.from([0x03, 0xe8, 0x6f, 0x6b])));
      const [event] = await events;
      assert.deepStrictEqual([event.code, event.reason, event.wasClean], [1000, 'ok', true]);
    });

    it('a close frame received but never answered (reset while paused): wasClean false', async () => {
      const peer = await connectRaw();
      const { ws, sock } = peer;
      const events = nextEvents(ws, 'close');
      // Paused, the server reads the close frame into the socket's buffer but does not parse it...
      ws.pause();
      sock.write(maskedFrame(0x8, Buffer.from([0x03, 0xe8])));
      // Wait (without adding a listener, which would change the socket's mode) until it is buffered:
      // in the socket's readable buffer, or (the 'native' transport) in the driver's paused input.
      const buffered = () => (ws._driver.transport !== null ? ws._driver.pausedBytes : ws._socket.readableLength);
      while (buffered() < 8) await new Promise((resolve) => setImmediate(resolve));
      // ...until the connection is reset: then it is parsed, but no close frame can go back.
      sock.resetAndDestroy();
      const [event] = await events;
      assert.strictEqual(event.code, 1000);
      assert.strictEqual(ws._closeFrameReceived, true);
      assert.strictEqual(ws._closeFrameSent, false);
      assert.strictEqual(event.wasClean, false);
    });

    it('a protocol error: ErrorEvent with the error and its message, then an unclean close', async () => {
      const peer = await connectRaw();
      const { ws, sock } = peer;
      const order = [];
      const onerror = [];
      ws.onerror = function (event) {
        onerror.push([event, this]);
      };
      ws.addEventListener('error', () => order.push('error'));
      ws.addEventListener('close', () => order.push('close'));
      const errors = nextEvents(ws, 'error');
      const closes = nextEvents(ws, 'close');
      // An unmasked frame from a client (RFC 6455 §5.1: the server must fail the connection).
      sock.write(Buffer.from([0x81, 0x02, 0x68, 0x69]));
      const [event] = await errors;
      assert.ok(event instanceof ErrorEvent);
      assert.strictEqual(event.type, 'error');
      assert.strictEqual(event.target, ws);
      assert.ok(event.error instanceof Error);
      assert.strictEqual(event.error.code, 'WS_ERR_EXPECTED_MASK');
      assert.strictEqual(event.message, event.error.message);
      assert.strictEqual(onerror.length, 1);
      assert.strictEqual(onerror[0][0].error, event.error);
      assert.strictEqual(onerror[0][1], ws);
      // The server's close frame with 1002 reaches the peer; then the peer hangs up.
      while (peer.bytes.length < 4) await once(sock, 'frames');
      assert.deepStrictEqual([...peer.bytes.subarray(0, 4)], [0x88, 0x02, 0x03, 0xea]);
      sock.end();
      const [close] = await closes;
      assert.strictEqual(close.code, 1006);
      assert.strictEqual(close.wasClean, false);
      assert.deepStrictEqual(order, ['error', 'close']);
    });
  });

  describe('addEventListener and removeEventListener', () => {
    it('{ once: true } calls the listener for the first event only, then removes it', async () => {
      const { ws, client } = await connect();
      const seen = [];
      ws.addEventListener('message', (event) => seen.push(event.data), { once: true });
      assert.strictEqual(ws.listenerCount('message'), 1);
      const all = nextEvents(ws, 'message', 2);
      client.send('one');
      client.send('two');
      await all;
      assert.deepStrictEqual(seen, ['one']);
      assert.strictEqual(ws.listenerCount('message'), 0);
    });

    it('a { handleEvent } object is called with this = the object, looked up at dispatch', async () => {
      const { ws, client } = await connect();
      const seen = [];
      const obj = {
        handleEvent() {
          seen.push('stale');
        },
      };
      ws.addEventListener('message', obj);
      obj.handleEvent = function (event) {
        seen.push([event.data, this === obj]);
      };
      const done = nextEvents(ws, 'message');
      client.send('x');
      await done;
      assert.deepStrictEqual(seen, [['x', true]]);
      // The object is the listener's identity: it can be removed.
      ws.removeEventListener('message', obj);
      assert.strictEqual(ws.listenerCount('message'), 0);
    });

    it('an object without handleEvent throws a TypeError when the event is dispatched', async () => {
      const { ws } = await connect();
      ws.addEventListener('open', { notHandleEvent() {} });
      assert.throws(() => ws.emit('open'), TypeError);
    });

    it('the same listener added twice for a type is registered once (with or without once)', async () => {
      const { ws, client } = await connect();
      const seen = [];
      const listener = (event) => seen.push(event.data);
      const obj = { handleEvent: (event) => seen.push(`obj:${event.data}`) };
      ws.addEventListener('message', listener);
      ws.addEventListener('message', listener);
      ws.addEventListener('message', listener, { once: true });
      ws.addEventListener('message', obj);
      ws.addEventListener('message', obj);
      assert.strictEqual(ws.listenerCount('message'), 2);
      // The same function for another type is a different registration.
      ws.addEventListener('close', listener);
      assert.strictEqual(ws.listenerCount('close'), 1);
      const done = nextEvents(ws, 'message');
      client.send('m');
      await done;
      assert.deepStrictEqual(seen, ['m', 'obj:m']);
    });

    it('a function set as onmessage and also added with addEventListener runs twice', async () => {
      const { ws, client } = await connect();
      let calls = 0;
      const handler = () => calls++;
      ws.addEventListener('message', handler);
      ws.onmessage = handler;
      assert.strictEqual(ws.listenerCount('message'), 2);
      const done = nextEvents(ws, 'message');
      client.send('m');
      await done;
      assert.strictEqual(calls, 2);
    });

    it('types other than open/message/close/error are ignored', async () => {
      const { ws } = await connect();
      const listener = () => {};
      for (const type of ['ping', 'pong', 'upgrade', 'foo']) {
        ws.addEventListener(type, listener);
        assert.strictEqual(ws.listenerCount(type), 0, type);
      }
    });

    it('a null or undefined listener is ignored (DOM; ws would register it and throw on dispatch)', async () => {
      const { ws } = await connect();
      ws.addEventListener('message', null);
      ws.addEventListener('message', undefined);
      assert.strictEqual(ws.listenerCount('message'), 0);
    });

    it('removeEventListener removes what addEventListener added, once listeners included', async () => {
      const { ws, client } = await connect();
      const seen = [];
      const a = () => seen.push('a');
      const b = () => seen.push('b');
      ws.addEventListener('message', a);
      ws.addEventListener('message', b, { once: true });
      ws.removeEventListener('message', a);
      ws.removeEventListener('message', b);
      assert.strictEqual(ws.listenerCount('message'), 0);
      const done = nextEvents(ws, 'message');
      client.send('m');
      await done;
      assert.deepStrictEqual(seen, []);
    });

    it('removeEventListener leaves on* handlers, .on() listeners and unknown listeners alone', async () => {
      const { ws, client } = await connect();
      const seen = [];
      const handler = () => seen.push('onmessage');
      const plain = () => seen.push('plain');
      ws.onmessage = handler;
      ws.on('message', plain);
      ws.removeEventListener('message', handler);
      ws.removeEventListener('message', plain);
      ws.removeEventListener('message', () => {});
      ws.removeEventListener('close', handler);
      assert.strictEqual(ws.onmessage, handler);
      assert.strictEqual(ws.listenerCount('message'), 2);
      const done = nextEvents(ws, 'message');
      client.send('m');
      await done;
      assert.deepStrictEqual(seen, ['onmessage', 'plain']);
    });

    it('removeEventListener removes one registration of a listener added both ways', async () => {
      const { ws } = await connect();
      const handler = () => {};
      ws.addEventListener('close', handler);
      ws.onclose = handler;
      ws.removeEventListener('close', handler);
      assert.strictEqual(ws.listenerCount('close'), 1);
      assert.strictEqual(ws.onclose, handler);
    });

    it('an exception thrown by a listener propagates out of the emit, as in ws', async () => {
      const { ws } = await connect();
      const boom = new Error('boom');
      let later = 0;
      ws.addEventListener('message', () => {
        throw boom;
      });
      ws.addEventListener('message', () => later++);
      assert.throws(
        () => ws.emit('message', Buffer.from('x'), false),
        (err) => err === boom,
      );
      assert.strictEqual(later, 0);
    });
  });

  describe('on* attributes', () => {
    for (const type of ['open', 'message', 'close', 'error']) {
      it(`on${type}: null until set, returns the handler, cleared by a non-function`, async () => {
        const { ws } = await connect();
        const name = `on${type}`;
        const before = ws.listenerCount(type);
        assert.strictEqual(ws[name], null);
        const first = () => {};
        const second = () => {};
        ws[name] = first;
        assert.strictEqual(ws[name], first);
        assert.strictEqual(ws.listenerCount(type), before + 1);
        ws[name] = second;
        assert.strictEqual(ws[name], second);
        assert.strictEqual(ws.listenerCount(type), before + 1);
        for (const notAFunction of [null, 5, 'code', { handleEvent() {} }]) {
          ws[name] = second;
          ws[name] = notAFunction;
          assert.strictEqual(ws[name], null, String(notAFunction));
          assert.strictEqual(ws.listenerCount(type), before);
        }
      });
    }

    it('setting a handler again moves it after the listeners added meanwhile (ws order)', async () => {
      const { ws, client } = await connect();
      const seen = [];
      ws.onmessage = () => seen.push('first');
      ws.addEventListener('message', () => seen.push('listener'));
      ws.onmessage = () => seen.push('second');
      const done = nextEvents(ws, 'message');
      client.send('m');
      await done;
      assert.deepStrictEqual(seen, ['listener', 'second']);
    });

    it('handlers of different types are independent', async () => {
      const { ws } = await connect();
      const handler = () => {};
      ws.onclose = handler;
      ws.onerror = handler;
      ws.onclose = null;
      assert.strictEqual(ws.onclose, null);
      assert.strictEqual(ws.onerror, handler);
    });
  });

  describe('event objects are built only for W3C listeners', () => {
    let counters = [];

    afterEach(() => {
      for (const counter of counters) counter.restore();
      counters = [];
    });

    it('plain .on() users get the raw data and no event object is constructed', async () => {
      // (Event itself has no super() to splice into; its subclasses are what matter.)
      const messages = countConstructions(MessageEvent);
      const closes = countConstructions(CloseEvent);
      counters = [messages, closes];

      const raw = [];
      const { ws, client } = await connect((ws) => ws.on('open', () => raw.push('open')));
      const onMessage = (data, isBinary) => raw.push([data, isBinary]);
      ws.on('message', onMessage);
      // Only the user's own function is registered: no wrapper waits on the emitter.
      assert.deepStrictEqual(ws.listeners('message'), [onMessage]);
      const received = new Promise((resolve) => {
        let n = 0;
        ws.on('message', () => ++n === 3 && resolve());
      });
      client.send('a');
      client.send('b');
      client.send(Buffer.from('c'));
      await received;
      assert.strictEqual(raw[0], 'open');
      assert.ok(Buffer.isBuffer(raw[1][0]), 'text is a Buffer for .on() users');
      assert.deepStrictEqual(
        raw.slice(1).map(([d, b]) => [d.toString(), b]),
        [
          ['a', false],
          ['b', false],
          ['c', true],
        ],
      );
      const closed = once(ws, 'close');
      client.close();
      await closed;
      assert.strictEqual(messages.n, 0);
      assert.strictEqual(closes.n, 0);
    });

    it('one MessageEvent per message per W3C listener, and none once it is removed', async () => {
      const messages = countConstructions(MessageEvent);
      counters = [messages];
      const { ws, client } = await connect();
      const listener = () => {};
      ws.addEventListener('message', listener);
      const two = nextEvents(ws, 'message', 2); // a second W3C listener, removed after two events
      client.send('a');
      client.send('b');
      await two;
      assert.strictEqual(messages.n, 4);
      ws.removeEventListener('message', listener);
      const plain = once(ws, 'message');
      client.send('c');
      await plain;
      assert.strictEqual(messages.n, 4);
    });
  });
});
