'use strict';

// WebSocketServer options that shape each connection (allowSynchronousEvents, autoPong, closeTimeout,
// maxBufferedChunks, maxFragments, maxPayload, maxPendingAutoPongs, perMessageDeflate,
// skipUTF8Validation): each one at its default and set, run on weft's server AND on ws 8.23's over the
// same in-memory Duplex with the same chunking, and the traces compared — plus the expected outcome
// asserted on its own, so that the test does not pass merely because both agree.

const assert = require('assert');
const WS = require('ws');
const { WebSocketServer } = require('../../dist/lib/server');
const {
  Tracker,
  portOf,
  once,
  upgradeRequest,
  rawClient,
  framesFrom,
  duplexPair,
  fakeRequest,
  statusOf,
  traceServer,
} = require('../support/server');
const { frame, closePayload } = require('../support/frames');

const INVALID_UTF8 = Buffer.from([0x68, 0x69, 0xc3, 0x28]);

describe('WebSocketServer options', function () {
  const track = new Tracker();
  afterEach(() => track.closeAll());

  /** Runs the connection on weft and on ws, asserts they agree, and returns weft's trace. */
  async function compare(options, chunks) {
    const ours = await traceServer(WebSocketServer, options, chunks, track);
    const theirs = await traceServer(WS.WebSocketServer, options, chunks, track);
    assert.deepStrictEqual(ours, theirs);
    return ours;
  }

  const text = (payload, extra) => frame({ opcode: 1, payload, ...extra });
  const binary = (payload, extra) => frame({ opcode: 2, payload, ...extra });
  const ping = (payload) => frame({ opcode: 9, payload });
  const hex = (s) => Buffer.from(s).toString('hex');

  describe('allowSynchronousEvents', function () {
    const twoMessages = [Buffer.concat([text('a'), text('b'), text('c')])];

    it('true (default): messages of one chunk are emitted in the same tick', async function () {
      const { events } = await compare({}, twoMessages);
      assert.deepStrictEqual(
        events.map((e) => e[3]),
        [true, false, false],
      );
    });

    it('false: one message per turn of the event loop', async function () {
      const { events, frames } = await compare({ allowSynchronousEvents: false }, twoMessages);
      assert.deepStrictEqual(
        events.map((e) => e[3]),
        [true, true, true],
      );
      assert.deepStrictEqual(frames, [
        [1, hex('a')],
        [1, hex('b')],
        [1, hex('c')],
      ]);
    });
  });

  describe('autoPong', function () {
    it('true (default): a ping is answered with a pong carrying its payload', async function () {
      const { events, frames } = await compare({}, [Buffer.concat([ping('are you there'), text('x')])]);
      assert.deepStrictEqual(frames, [
        [10, hex('are you there')],
        [1, hex('x')],
      ]);
      assert.deepStrictEqual(events[0], ['ping', 'are you there']);
    });

    it('false: no pong, the ping event still fires', async function () {
      const { events, frames } = await compare({ autoPong: false }, [Buffer.concat([ping('p'), text('x')])]);
      assert.deepStrictEqual(frames, [[1, hex('x')]]);
      assert.deepStrictEqual(events[0], ['ping', 'p']);
    });
  });

  describe('maxPayload', function () {
    it('a message over the limit fails with 1009 (whole or in fragments); at the limit it passes', async function () {
      const atLimit = await compare({ maxPayload: 10 }, [binary(Buffer.alloc(10, 1))]);
      assert.deepStrictEqual(atLimit.frames, [[2, '01'.repeat(10)]]);
      const over = await compare({ maxPayload: 10 }, [binary(Buffer.alloc(11, 1))]);
      assert.deepStrictEqual(over.frames, [['close', 1009]]);
      assert.deepStrictEqual(over.events[0], ['error', 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH', 'RangeError']);
      const fragmented = await compare({ maxPayload: 10 }, [
        Buffer.concat([binary(Buffer.alloc(6), { fin: false }), frame({ opcode: 0, payload: Buffer.alloc(5) })]),
      ]);
      assert.deepStrictEqual(fragmented.frames, [['close', 1009]]);
    });

    it('default 100 MiB: a frame announcing one byte more fails at once; exactly 100 MiB does not', async function () {
      const over = await compare({}, [frame({ opcode: 2, length: 100 * 1024 * 1024 + 1, payload: Buffer.alloc(4) })]);
      assert.deepStrictEqual(over.frames, [['close', 1009]]);
      const at = await compare({}, [frame({ opcode: 2, length: 100 * 1024 * 1024, payload: Buffer.alloc(4) })]);
      assert.deepStrictEqual(at.frames, []);
      assert.deepStrictEqual(at.events, []);
    });

    it('0 turns the limit off', async function () {
      const { frames } = await compare({ maxPayload: 0 }, [frame({ opcode: 2, length: 2 ** 40, payload: Buffer.alloc(4) })]);
      assert.deepStrictEqual(frames, []);
    });
  });

  describe('maxFragments', function () {
    const fragments = (n) => {
      const list = [binary('a', { fin: n === 1 })];
      for (let i = 1; i < n; i++) list.push(frame({ opcode: 0, payload: 'a', fin: i === n - 1 }));
      return Buffer.concat(list);
    };

    it('more frames than allowed in one message fail with 1008', async function () {
      const ok = await compare({ maxFragments: 3 }, [fragments(3)]);
      assert.deepStrictEqual(ok.frames, [[2, hex('aaa')]]);
      const over = await compare({ maxFragments: 3 }, [fragments(4)]);
      assert.deepStrictEqual(over.frames, [['close', 1008]]);
      assert.deepStrictEqual(over.events[0], ['error', 'WS_ERR_TOO_MANY_BUFFERED_PARTS', 'RangeError']);
    });

    it('default 16384', async function () {
      const ok = await compare({}, [fragments(16384)]);
      assert.deepStrictEqual(ok.frames, [[2, hex('a'.repeat(16384))]]);
      const over = await compare({}, [fragments(16385)]);
      assert.deepStrictEqual(over.frames, [['close', 1008]]);
    });
  });

  describe('maxBufferedChunks', function () {
    const byteByByte = (buf) => [...buf].map((b) => Buffer.from([b]));

    it('a message arriving in more pieces than allowed fails with 1008', async function () {
      const message = binary(Buffer.alloc(12, 9));
      const ok = await compare({ maxBufferedChunks: 12 }, byteByByte(message));
      assert.deepStrictEqual(ok.frames, [[2, '09'.repeat(12)]]);
      const over = await compare({ maxBufferedChunks: 4 }, byteByByte(message));
      assert.deepStrictEqual(over.frames, [['close', 1008]]);
      assert.deepStrictEqual(over.events[0], ['error', 'WS_ERR_TOO_MANY_BUFFERED_PARTS', 'RangeError']);
    });

    it('default 262144 is handed to each connection', async function () {
      const wss = new WebSocketServer({ noServer: true });
      const [serverEnd] = duplexPair();
      track.add(serverEnd);
      let ws;
      wss.handleUpgrade(fakeRequest(), serverEnd, Buffer.alloc(0), (socket) => (ws = socket));
      // Read back through the parser the connection was built with (weft's internals).
      assert.strictEqual(ws._driver.conn.parser.maxBufferedChunks, 262144);
      assert.strictEqual(ws._driver.conn.parser.maxFragments, 16384);
      assert.strictEqual(ws._driver.conn.parser.maxPayload, 100 * 1024 * 1024);
    });
  });

  describe('maxPendingAutoPongs', function () {
    const pings = (n) => [Buffer.concat(Array.from({ length: n }, (_, i) => ping(String(i))))];

    it('more unanswered pings than allowed drop the connection (no close frame)', async function () {
      const { frames, events } = await compare({ maxPendingAutoPongs: 3 }, pings(5));
      assert.deepStrictEqual(frames, [
        [10, hex('0')],
        [10, hex('1')],
        [10, hex('2')],
      ]);
      assert.deepStrictEqual(events[events.length - 1], ['close', 1006, '']);
    });

    it('default 60: sixty pings in one go are answered, the sixty-first drops the connection', async function () {
      const ok = await compare({}, pings(60));
      assert.strictEqual(ok.frames.length, 60);
      assert.ok(!ok.events.some((e) => e[0] === 'close'));
      const over = await compare({}, pings(61));
      assert.strictEqual(over.frames.length, 60);
      assert.deepStrictEqual(over.events[over.events.length - 1], ['close', 1006, '']);
    });

    it('0 turns the limit off', async function () {
      const { frames } = await compare({ maxPendingAutoPongs: 0 }, pings(100));
      assert.strictEqual(frames.length, 100);
    });
  });

  describe('skipUTF8Validation', function () {
    it('false (default): invalid UTF-8 in a text message or a close reason fails with 1007', async function () {
      const bad = await compare({}, [text(INVALID_UTF8)]);
      assert.deepStrictEqual(bad.frames, [['close', 1007]]);
      assert.deepStrictEqual(bad.events[0], ['error', 'WS_ERR_INVALID_UTF8', 'Error']);
      const reason = Buffer.concat([closePayload(1000), INVALID_UTF8]);
      const badClose = await compare({}, [frame({ opcode: 8, payload: reason })]);
      assert.deepStrictEqual(badClose.frames, [['close', 1007]]);
    });

    it('true: invalid UTF-8 passes through', async function () {
      const { frames } = await compare({ skipUTF8Validation: true }, [text(INVALID_UTF8)]);
      assert.deepStrictEqual(frames, [[1, INVALID_UTF8.toString('hex')]]);
    });
  });

  describe('perMessageDeflate', function () {
    it('false (default): an offer is ignored, and RSV1 is a protocol error (1002)', async function () {
      const { frames, events } = await compare({}, [text('x', { rsv: 4 })]);
      assert.deepStrictEqual(frames, [['close', 1002]]);
      assert.deepStrictEqual(events[0], ['error', 'WS_ERR_UNEXPECTED_RSV_1', 'RangeError']);
      const wss = track.add(new WebSocketServer({ port: 0 }));
      const port = await portOf(wss);
      const { socket, head } = await rawClient(
        port,
        upgradeRequest({ headers: { 'Sec-WebSocket-Extensions': 'permessage-deflate; client_max_window_bits' } }),
      );
      track.add(socket);
      assert.strictEqual(statusOf(head + '\r\n'), 101);
      assert.doesNotMatch(head, /Sec-WebSocket-Extensions/i);
    });

    it('set: the offer is negotiated and both ends report permessage-deflate', async function () {
      const wss = track.add(new WebSocketServer({ port: 0, perMessageDeflate: { threshold: 0 } }));
      const port = await portOf(wss);
      const client = track.add(new WS(`ws://127.0.0.1:${port}`, { perMessageDeflate: true }));
      const [[ws]] = await Promise.all([once(wss, 'connection'), once(client, 'open')]);
      assert.strictEqual(client.extensions, 'permessage-deflate');
      assert.strictEqual(ws.extensions, 'permessage-deflate');
    });
  });

  describe('closeTimeout', function () {
    it('destroys the socket when the client does not answer our close frame', async function () {
      const wss = track.add(new WebSocketServer({ port: 0, closeTimeout: 50 }));
      const port = await portOf(wss);
      const connected = once(wss, 'connection');
      const { socket, reader, closed } = await rawClient(port);
      track.add(socket);
      const [ws] = await connected;
      assert.strictEqual(ws._closeTimeout, 50);
      const serverClosed = once(ws, 'close');
      ws.close(1001, 'going');
      const [closeFrame] = await framesFrom(socket, reader, 1);
      assert.strictEqual(closeFrame.opcode, 8);
      assert.strictEqual(closeFrame.payload.readUInt16BE(0), 1001);
      // The raw client never answers: the server gives up after closeTimeout.
      const [code] = await serverClosed;
      assert.strictEqual(code, 1006);
      await closed;
    });

    it('default 30000', async function () {
      const wss = track.add(new WebSocketServer({ port: 0 }));
      const connected = once(wss, 'connection');
      const { socket } = await rawClient(await portOf(wss));
      track.add(socket);
      const [ws] = await connected;
      assert.strictEqual(ws._closeTimeout, 30000);
    });
  });
});
