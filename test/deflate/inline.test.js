'use strict';
// Inline zlib: on weft's own connections, a compressed message of at most INLINE_MAX bytes (4 KiB of
// input) is deflated or inflated on the main thread, through the zlib stream's own handle, instead of a
// round trip through libuv's thread pool. What must not change: the bytes (the same deflate stream, context
// takeover and all), the order, the answers coming on a later tick (bufferedAmount, callbacks failing
// when the socket goes mid-compress, as ws), the limits (maxPayload, corrupt data → 1007), and a frame
// that inflates to a lot still not holding the main thread for long. Checked against real peers: the `ws`
// package as client and server, and a raw client that writes exactly the frames a test needs. The suite
// reruns on the stream transport (test/run-stream.js).
const assert = require('assert');
const zlib = require('zlib');
const { once } = require('events');
const WS = require('ws');
const WebSocket = require('../..');
const { WebSocketServer } = require('../../dist/lib/server');
const { INLINE_MAX } = require('../../dist/lib/deflate/zlib-pipe');
const { prng } = require('../support/prng');
const { upgradeRequest, rawClient } = require('../support/server');
const { frame } = require('../support/frames');
const { trackZlib } = require('./helpers');

/** Text that deflates to about half (hex of seeded random bytes): `n` bytes. */
function textOf(n, seed) {
  return prng(seed).bytes(Math.ceil(n / 2)).toString('hex').slice(0, n);
}

/**
 * Counts the writes made through weft's zlib streams' API (the thread pool path; inline makes none). The
 * `ws` peer's own streams are tracked too: they are told apart by weft's mark on its streams.
 */
function countStreamWrites(tracker) {
  const counter = { writes: 0 };
  const push = tracker.streams.push;
  // Each stream is wrapped as it is created (trackZlib records it then).
  tracker.streams.push = function (...streams) {
    for (const s of streams) {
      const write = s.write;
      s.write = function (...args) {
        if (Object.getOwnPropertySymbols(this).some((k) => k.description === 'weft-zlib-pipe')) counter.writes++;
        return write.apply(this, args);
      };
    }
    return push.apply(this, streams);
  };
  return counter;
}

describe('inline zlib (small compressed messages on the main thread)', function () {
  this.timeout(20000);
  const open = [];
  let tracker = null;
  const track = (x) => (open.push(x), x);

  afterEach(async () => {
    if (tracker !== null) tracker.restore();
    tracker = null;
    for (const x of open.splice(0).reverse()) {
      if (typeof x.terminate === 'function') x.terminate();
      else if (typeof x.destroy === 'function') x.destroy();
      else if (typeof x.close === 'function') await new Promise((r) => x.close(() => r()));
    }
  });

  async function weftServer(options) {
    const wss = track(new WebSocketServer({ port: 0, ...options }));
    await once(wss, 'listening');
    return wss;
  }

  async function wsServer(options) {
    const wss = track(new WS.WebSocketServer({ port: 0, ...options }));
    await once(wss, 'listening');
    return wss;
  }

  /** Sends every message from `from` and collects what `to` receives, in order. */
  async function exchange(from, to, messages) {
    const got = [];
    const done = new Promise((resolve, reject) => {
      to.on('message', (data, isBinary) => {
        got.push(isBinary ? Buffer.from(data) : data.toString());
        if (got.length === messages.length) resolve();
      });
      to.on('close', (code) => reject(new Error(`closed with ${code} after ${got.length} messages`)));
    });
    for (const m of messages) from.send(m, { compress: true });
    await done;
    return got;
  }

  // 0: an empty message still needs its empty deflate block (zlib gives none for a repeated sync flush).
  const SIZES = [0, 1, 100, 1000, INLINE_MAX - 1, INLINE_MAX, INLINE_MAX + 1, 3 * INLINE_MAX];
  const messagesOf = (seed) =>
    SIZES.flatMap((n, i) => [textOf(n, seed + i), Buffer.from(textOf(n, seed + 100 + i))]).concat(
      // Repeats: with context takeover, later copies deflate against the earlier ones.
      SIZES.map((n, i) => textOf(n, seed + i)),
    );

  for (const [label, pmd] of [
    ['context takeover', { threshold: 0 }],
    ['no context takeover, window 10', { threshold: 0, serverNoContextTakeover: true, clientNoContextTakeover: true, serverMaxWindowBits: 10, clientMaxWindowBits: 10 }],
  ]) {
    it(`${label}: a weft server and a ws client exchange messages around the line, intact and in order; only the large ones use the thread pool`, async () => {
      tracker = trackZlib();
      const writes = countStreamWrites(tracker);
      const wss = await weftServer({ perMessageDeflate: pmd });
      const client = track(new WS(`ws://127.0.0.1:${wss.address().port}`, { perMessageDeflate: pmd }));
      const [[server]] = await Promise.all([once(wss, 'connection'), once(client, 'open')]);
      assert.strictEqual(server.extensions.length > 0, true, 'permessage-deflate negotiated');

      // Small ones only: nothing written through a zlib stream's API.
      const small = messagesOf(1).filter((m) => m.length <= INLINE_MAX);
      assert.deepStrictEqual(await exchange(client, server, small), small);
      assert.deepStrictEqual(await exchange(server, client, small), small);
      assert.strictEqual(writes.writes, 0, 'every message up to INLINE_MAX was inflated and deflated inline');

      const all = messagesOf(7);
      assert.deepStrictEqual(await exchange(client, server, all), all);
      assert.deepStrictEqual(await exchange(server, client, all), all);
      assert.ok(writes.writes > 0, 'the messages over INLINE_MAX went through the thread pool');
    });
  }

  it('empty messages and empty fragments, one after another and after a non-empty one, reach a ws peer intact', async () => {
    const wss = await weftServer({ perMessageDeflate: { threshold: 0 } });
    const client = track(new WS(`ws://127.0.0.1:${wss.address().port}`, { perMessageDeflate: { threshold: 0 } }));
    const [[server]] = await Promise.all([once(wss, 'connection'), once(client, 'open')]);
    const got = [];
    client.on('message', (data, isBinary) => got.push(isBinary ? Buffer.from(data) : data.toString()));
    const closed = once(client, 'close');
    server.send('abc');
    server.send('');
    server.send('');
    server.send(Buffer.alloc(0));
    // One message in fragments, empty ones among them (each frame is a sync flush of its own).
    server.send('', { fin: false });
    server.send('de', { fin: false });
    server.send('', { fin: false });
    server.send('', { fin: false });
    server.send('f', { fin: true });
    server.send('');
    server.send('end');
    server.close(1000);
    const [code] = await closed;
    assert.strictEqual(code, 1000, 'the ws client read every frame without a protocol error');
    assert.deepStrictEqual(got, ['abc', '', '', Buffer.alloc(0), 'def', '', 'end']);
  });

  it("a peer's FIN read while messages wait for their compressed answer comes first: the send callbacks fail as in ws", async () => {
    // The answer of an inline deflate waits for the loop's check phase, as a thread pool answer waits for
    // a later turn: I/O the loop already has (here the server's FIN, sent right after the 101) is handled
    // before it, so the messages are never written and their callbacks get ws's error.
    const wss = await wsServer({ perMessageDeflate: { threshold: 0 } });
    wss.on('connection', (peer) => peer._socket.end());
    const client = track(new WebSocket(`ws://127.0.0.1:${wss.address().port}`, { perMessageDeflate: { threshold: 0 } }));
    await once(client, 'open');
    const answers = [];
    const record = (name) => (err) => answers.push([name, client.readyState, err ? err.message : null]);
    client.send('foo');
    client.send('bar', record('bar'));
    client.send('baz');
    client.send('qux', record('qux'));
    client.close();
    const [code] = await once(client, 'close');
    const lost = 'The socket was closed while data was being compressed';
    assert.deepStrictEqual(answers, [['bar', WebSocket.CLOSING, lost], ['qux', WebSocket.CLOSING, lost]]);
    assert.strictEqual(code, 1006);
  });

  it('an inline inflate answers after the immediates queued before it: a message handler sees the next one still inflating', async () => {
    // ws's Receiver is in its inflating state (5) there, waiting on the pool; weft's inline answer waits
    // for the check phase, so an immediate queued by the handler runs first and finds the same state.
    const wss = await wsServer({ perMessageDeflate: true });
    wss.on('connection', (peer) => peer._socket.write(Buffer.from('c10100c10100c10100c10100', 'hex')));
    const client = track(new WebSocket(`ws://127.0.0.1:${wss.address().port}`, { perMessageDeflate: true }));
    const states = [];
    const messages = [];
    client.on('message', (data) => {
      if (messages.push(data.toString()) > 1) return;
      setImmediate(() => process.nextTick(() => {
        states.push(client._receiver._state);
        client.close(1000);
      }));
    });
    const [code] = await once(client, 'close');
    assert.deepStrictEqual(states, [5], 'the second message was still being inflated');
    assert.deepStrictEqual(messages, ['', '', '', '']);
    assert.strictEqual(code, 1000);
  });

  it('a weft client and a ws server: the same, with zlib chunks of 64 bytes (many output pieces per message)', async () => {
    const pmd = { threshold: 0, zlibDeflateOptions: { chunkSize: 64 }, zlibInflateOptions: { chunkSize: 64 } };
    const wss = await wsServer({ perMessageDeflate: { threshold: 0 } });
    const client = track(new WebSocket(`ws://127.0.0.1:${wss.address().port}`, { perMessageDeflate: pmd }));
    const [[server]] = await Promise.all([once(wss, 'connection'), once(client, 'open')]);
    const all = messagesOf(20);
    assert.deepStrictEqual(await exchange(client, server, all), all);
    assert.deepStrictEqual(await exchange(server, client, all), all);
  });

  it('answers still come later: bufferedAmount counts a message being compressed, and terminate() fails the callbacks in order', async () => {
    const wss = await weftServer({ perMessageDeflate: true });
    const client = track(new WebSocket(`ws://127.0.0.1:${wss.address().port}`, { perMessageDeflate: { threshold: 0 } }));
    await once(client, 'open');
    client.send('foo');
    assert.strictEqual(client.bufferedAmount, 3);
    const sent = new Promise((resolve, reject) => client.send('bar', (err) => (err ? reject(err) : resolve())));
    assert.strictEqual(client.bufferedAmount, 6);
    await sent;
    assert.strictEqual(client.bufferedAmount, 0);

    const errors = [];
    client.send('a', (err) => errors.push(['a', err && err.message]));
    client.send('b', (err) => errors.push(['b', err && err.message]));
    client.terminate();
    await once(client, 'close');
    const msg = 'The socket was closed while data was being compressed';
    assert.deepStrictEqual(errors, [['a', msg], ['b', msg]]);
  });

  it('a frame under the line that inflates past 64 KiB finishes through the thread pool, and the context goes on', async () => {
    tracker = trackZlib();
    const writes = countStreamWrites(tracker);
    const wss = await weftServer({ perMessageDeflate: true, maxPayload: 8 * 1024 * 1024 });
    const connected = once(wss, 'connection');
    const { socket } = await rawClient(wss.address().port, upgradeRequest({ headers: { 'Sec-WebSocket-Extensions': 'permessage-deflate' } }));
    track(socket);
    const [server] = await connected;
    // One deflate stream with context takeover, as a client keeps it: 1 MiB of one byte deflates to ~1 KiB.
    const deflate = zlib.createDeflateRaw();
    const deflateSync = (buf) =>
      new Promise((resolve) => {
        const out = [];
        deflate.on('data', (c) => out.push(c));
        deflate.write(buf);
        deflate.flush(zlib.constants.Z_SYNC_FLUSH, () => {
          deflate.removeAllListeners('data');
          const all = Buffer.concat(out);
          resolve(all.subarray(0, all.length - 4));
        });
      });
    const big = Buffer.alloc(1024 * 1024, 0x61);
    const after = Buffer.from(textOf(5000, 3));
    const first = await deflateSync(big);
    assert.ok(first.length <= INLINE_MAX, `the frame is under the line (${first.length} bytes)`);
    const second = await deflateSync(after);
    const got = [];
    const both = new Promise((resolve) => server.on('message', (d) => got.push(Buffer.from(d)) === 2 && resolve()));
    socket.write(Buffer.concat([frame({ opcode: 2, rsv: 4, payload: first }), frame({ opcode: 2, rsv: 4, payload: second })]));
    await both;
    assert.ok(got[0].equals(big), 'the large message arrives whole');
    assert.ok(got[1].equals(after), 'and the next one inflates against the same context');
    // (The rest of the frame, the tail and the flush: three writes.)
    assert.strictEqual(writes.writes, 3, 'the rest of the first frame, and only that, went through the thread pool');
    deflate.close();
  });

  it('limits hold inline: a small frame over maxPayload closes 1009, corrupt deflate data 1007, and the process goes on', async () => {
    const wss = await weftServer({ perMessageDeflate: true, maxPayload: 32 * 1024 });
    for (const [payload, code, errCode] of [
      [zlib.deflateRawSync(Buffer.alloc(1024 * 1024)), 1009, 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH'],
      [Buffer.from([0xff, 0xff, 0xff, 0xff, 0x00, 0x12]), 1007, 'Z_DATA_ERROR'],
    ]) {
      assert.ok(payload.length <= INLINE_MAX);
      const connected = once(wss, 'connection');
      const { socket, reader } = await rawClient(wss.address().port, upgradeRequest({ headers: { 'Sec-WebSocket-Extensions': 'permessage-deflate' } }));
      track(socket);
      const [server] = await connected;
      const failed = once(server, 'error');
      // A second compressed frame right behind the bad one, in the same read: it must not reach zlib.
      const bad = frame({ opcode: 2, rsv: 4, payload });
      socket.write(Buffer.concat([bad, bad]));
      const [err] = await failed;
      assert.strictEqual(err.code, errCode);
      for (let i = 0; i < 200 && reader.closeCode === undefined; i++) await new Promise((r) => setTimeout(r, 10));
      assert.strictEqual(reader.closeCode, code);
    }
  });

  it('a peer that ends its deflate stream (BFINAL) in every message: each is inflated by a fresh context', async () => {
    const wss = await weftServer({ perMessageDeflate: true });
    const connected = once(wss, 'connection');
    const { socket } = await rawClient(wss.address().port, upgradeRequest({ headers: { 'Sec-WebSocket-Extensions': 'permessage-deflate' } }));
    track(socket);
    const [server] = await connected;
    const texts = [textOf(10, 1), textOf(3000, 2), textOf(INLINE_MAX, 3), 'x'];
    const got = [];
    const all = new Promise((resolve) => server.on('message', (d) => got.push(d.toString()) === texts.length && resolve()));
    // deflateRawSync ends each stream with a final block; the 00 00 ff ff tail is then left unused.
    socket.write(Buffer.concat(texts.map((t) => frame({ opcode: 1, rsv: 4, payload: zlib.deflateRawSync(Buffer.from(t)) }))));
    await all;
    assert.deepStrictEqual(got, texts);
  });
});
