'use strict';
// Topics on the server against real `ws` clients: subscribe/unsubscribe/isSubscribed/topics, publish
// from a socket (the sender excluded) and from the server (everyone), subscriberCount, leaving on close,
// framing once with the same bytes for everyone, one shared deflate, corking once per turn of the loop.

const assert = require('assert');
const crypto = require('crypto');
const zlib = require('zlib');
const { once } = require('events');
const WebSocket = require('../..');
const frameModule = require('../../dist/lib/protocol/frame');
const { FrameWriter } = require('../../dist/lib/protocol/writer');
const { Resources, inflate, until } = require('./helpers');

const { WebSocketServer, WebSocketPair } = WebSocket;

describe('pub/sub: topics', () => {
  const res = new Resources();
  afterEach(() => res.closeAll());

  it('subscribe / unsubscribe / isSubscribed / topics, with their return values', async () => {
    const wss = await res.server();
    const { server: ws } = await res.client(wss);
    assert.strictEqual(ws.isSubscribed('a'), false);
    assert.deepStrictEqual([...ws.topics], []);
    assert.strictEqual(ws.subscribe('a'), true);
    assert.strictEqual(ws.subscribe('a'), false, 'already subscribed');
    assert.strictEqual(ws.subscribe('b'), true);
    assert.strictEqual(ws.isSubscribed('a'), true);
    assert.deepStrictEqual([...ws.topics].sort(), ['a', 'b']);
    // `topics` is a copy: changing it changes nothing.
    ws.topics.delete('a');
    assert.strictEqual(ws.isSubscribed('a'), true);
    assert.strictEqual(wss.subscriberCount('a'), 1);
    assert.strictEqual(ws.unsubscribe('a'), true);
    assert.strictEqual(ws.unsubscribe('a'), false);
    assert.strictEqual(ws.unsubscribe('never'), false);
    assert.strictEqual(ws.isSubscribed('a'), false);
    assert.strictEqual(wss.subscriberCount('a'), 0);
    assert.strictEqual(wss.subscriberCount('b'), 1);
    assert.throws(() => ws.subscribe(42), TypeError);
    assert.throws(() => ws.publish(42, 'x'), TypeError);
    assert.throws(() => wss.publish('b', new Blob(['x'])), TypeError);
  });

  it('ws.publish reaches every subscriber but the sender; server.publish reaches all; others get nothing', async () => {
    const wss = await res.server();
    const a = await res.client(wss);
    const b = await res.client(wss);
    const c = await res.client(wss);
    const outsider = await res.client(wss);
    for (const x of [a, b, c]) x.server.subscribe('room');
    outsider.server.subscribe('elsewhere');
    assert.strictEqual(wss.subscriberCount('room'), 3);

    assert.deepStrictEqual(a.server.publish('room', 'from a'), { sent: 2, backpressure: 0, dropped: 0 });
    assert.deepStrictEqual(wss.publish('room', Buffer.from([1, 2, 3])), { sent: 3, backpressure: 0, dropped: 0 });
    assert.deepStrictEqual(wss.publish('nobody', 'x'), { sent: 0, backpressure: 0, dropped: 0 });
    // A socket that is not subscribed may publish too.
    assert.deepStrictEqual(outsider.server.publish('room', 'from outside', { binary: true }), { sent: 3, backpressure: 0, dropped: 0 });

    await until(() => b.client.received.length === 3 && c.client.received.length === 3 && a.client.received.length === 2);
    for (const x of [b, c]) {
      assert.deepStrictEqual(x.client.received, [
        ['from a', false],
        [Buffer.from([1, 2, 3]), true],
        [Buffer.from('from outside'), true],
      ]);
    }
    assert.deepStrictEqual(a.client.received, [
      [Buffer.from([1, 2, 3]), true],
      [Buffer.from('from outside'), true],
    ]);
    // A round trip on the outsider: had anything been published to it, it would have arrived first.
    outsider.client.ping();
    await once(outsider.client, 'pong');
    assert.deepStrictEqual(outsider.client.received, []);
  });

  it('publishes keep their order with each other and with send()', async () => {
    const wss = await res.server();
    const a = await res.client(wss);
    a.server.subscribe('t');
    const expected = [];
    for (let i = 0; i < 50; i++) {
      if (i % 3 === 0) a.server.send(`send ${i}`);
      else wss.publish('t', `pub ${i}`);
      expected.push([`${i % 3 === 0 ? 'send' : 'pub'} ${i}`, false]);
    }
    await until(() => a.client.received.length === 50);
    assert.deepStrictEqual(a.client.received, expected);
  });

  it('a closed socket leaves its topics at once (before its close event), whichever side closes', async () => {
    const wss = await res.server();
    const a = await res.client(wss);
    const b = await res.client(wss);
    const c = await res.client(wss);
    for (const x of [a, b, c]) {
      x.server.subscribe('t');
      x.server.subscribe('u');
    }
    assert.strictEqual(wss.subscriberCount('t'), 3);
    let seenInClose = -1;
    a.server.on('close', () => {
      seenInClose = wss.subscriberCount('t');
    });
    a.client.close();
    await once(a.server, 'close');
    assert.strictEqual(seenInClose, 2);
    assert.deepStrictEqual([...a.server.topics], []);
    assert.strictEqual(a.server.isSubscribed('t'), false);
    b.client.terminate(); // no closing handshake: the socket just goes
    await once(b.server, 'close');
    c.server.close(1000);
    await once(c.server, 'close');
    assert.strictEqual(wss.subscriberCount('t'), 0);
    assert.strictEqual(wss.subscriberCount('u'), 0);
    // And a closed socket cannot join again (it would never leave).
    assert.strictEqual(a.server.subscribe('t'), false);
    assert.strictEqual(wss.subscriberCount('t'), 0);
  });

  it('a socket that is closing is skipped and counted as dropped', async () => {
    const wss = await res.server();
    const a = await res.client(wss);
    const b = await res.client(wss);
    a.server.subscribe('t');
    b.server.subscribe('t');
    a.server.close();
    assert.deepStrictEqual(wss.publish('t', 'x'), { sent: 1, backpressure: 0, dropped: 1 });
  });

  it('topics are per server; client sockets cannot subscribe; server-role sockets without a server share the process hub', async () => {
    const one = await res.server();
    const two = await res.server();
    const a = await res.client(one);
    const b = await res.client(two);
    a.server.subscribe('t');
    b.server.subscribe('t');
    assert.strictEqual(one.subscriberCount('t'), 1);
    assert.deepStrictEqual(one.publish('t', 'only one'), { sent: 1, backpressure: 0, dropped: 0 });
    const weftClient = new WebSocket(`ws://127.0.0.1:${one.address().port}`);
    res.sockets.push(weftClient);
    await once(weftClient, 'open');
    assert.throws(() => weftClient.subscribe('t'), /server feature/);

    const p1 = new WebSocketPair();
    const p2 = new WebSocketPair();
    for (const p of [p1, p2]) {
      p[0].accept();
      p[1].accept();
      p[0].received = [];
      p[0].addEventListener('message', (e) => p[0].received.push(e.data));
    }
    p1[1].subscribe('pairs');
    p2[1].subscribe('pairs');
    assert.deepStrictEqual(p1[1].publish('pairs', 'hello pair'), { sent: 1, backpressure: 0, dropped: 0 });
    await until(() => p2[0].received.length === 1);
    assert.deepStrictEqual(p2[0].received, ['hello pair']);
    assert.deepStrictEqual(p1[0].received, []);
    p1[0].close();
    p2[0].close();
    await Promise.all([once(p1[1], 'close'), once(p2[1], 'close')]);
    await until(() => a.client.received.length === 1);
    assert.deepStrictEqual(b.client.received, []);
  });

  it('frames once per publish: one mergedFrame, the same Buffer written to every subscriber', async () => {
    const wss = await res.server();
    const subs = [];
    for (let i = 0; i < 5; i++) subs.push(await res.client(wss));
    for (const s of subs) s.server.subscribe('t');
    const build = frameModule.mergedFrame;
    const sendRaw = FrameWriter.prototype.sendRaw;
    let builds = 0;
    const written = [];
    frameModule.mergedFrame = function (...args) {
      builds++;
      return build.apply(this, args);
    };
    FrameWriter.prototype.sendRaw = function (first, second, cb) {
      written.push([first, second, cb]);
      return sendRaw.call(this, first, second, cb);
    };
    try {
      wss.publish('t', 'x'.repeat(100000));
    } finally {
      frameModule.mergedFrame = build;
      FrameWriter.prototype.sendRaw = sendRaw;
    }
    assert.strictEqual(builds, 1);
    assert.strictEqual(written.length, 5);
    for (const [first, second, cb] of written) {
      assert.strictEqual(first, written[0][0], 'the very same bytes');
      assert.strictEqual(second, null);
      assert.strictEqual(cb, undefined);
    }
    await until(() => subs.every((s) => s.client.received.length === 1));
    for (const s of subs) assert.strictEqual(s.client.received[0][0].length, 100000);
  });

  /** Counts what leaves `ws`'s wire in each write: the socket's writev, or the adopted handle's flush. */
  function countBatches(ws) {
    const socket = ws._driver.wire;
    const batches = [];
    if (ws._driver.transport === null) {
      const writev = socket._writev;
      socket._writev = function (chunks, cb) {
        batches.push(chunks.length);
        return writev.call(this, chunks, cb);
      };
    } else {
      const flush = socket.flush;
      socket.flush = function () {
        if (this.queue !== null && this.queue.length > 0) batches.push(this.queue.length);
        return flush.call(this);
      };
    }
    return { socket, batches };
  }

  const turn = () => new Promise((r) => setImmediate(r));

  it('corks each subscriber on its first write and flushes once per turn of the loop: three publishes, one writev', async () => {
    const wss = await res.server();
    const a = await res.client(wss);
    a.server.subscribe('t');
    const { socket, batches } = countBatches(a.server);
    wss.publish('t', 'one');
    wss.publish('t', 'two');
    assert.strictEqual(socket.writableCorked, 1, 'corked once, not once per publish');
    // A later tick of the same turn (a promise, a nextTick) joins the same batch.
    await new Promise((r) => process.nextTick(r));
    wss.publish('t', 'three');
    assert.strictEqual(socket.writableCorked, 1);
    assert.deepStrictEqual(batches, [], 'nothing written yet');
    await turn();
    assert.strictEqual(socket.writableCorked, 0);
    assert.deepStrictEqual(batches, [3]);
    await until(() => a.client.received.length === 3);
    assert.deepStrictEqual(a.client.received.map((m) => m[0]), ['one', 'two', 'three']);
  });

  it("two publishers' messages read in one turn of the loop reach a subscriber in one write", async () => {
    const wss = await res.server();
    const sub = await res.client(wss);
    const p1 = await res.client(wss);
    const p2 = await res.client(wss);
    sub.server.subscribe('room');
    for (const p of [p1, p2]) p.server.on('message', (data, isBinary) => p.server.publish('room', data, { binary: isBinary }));
    const { batches } = countBatches(sub.server);
    // Both messages are in the kernel before the loop next polls (the clients write at once, and the
    // loop is held a moment), so both server sockets are readable in one poll: two read callbacks, each
    // publishing, in one turn of the loop.
    p1.client.send('from p1');
    p2.client.send('from p2');
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 30);
    await until(() => sub.client.received.length === 2);
    assert.deepStrictEqual(sub.client.received.map((m) => m[0]).sort(), ['from p1', 'from p2']);
    assert.deepStrictEqual(batches, [2], 'one writev of two frames, not a write per publish');
  });

  it('what a subscriber sends in the same turn stays in order behind the publishes held for it', async () => {
    const wss = await res.server();
    const a = await res.client(wss);
    a.server.subscribe('t');
    wss.publish('t', 'published');
    a.server.send('sent');
    process.nextTick(() => a.server.send('sent on a later tick'));
    await until(() => a.client.received.length === 3);
    assert.deepStrictEqual(a.client.received.map((m) => m[0]), ['published', 'sent', 'sent on a later tick']);
  });

  it('terminate() in the same turn hands the held publishes to the kernel before it drops the connection', async () => {
    const wss = await res.server();
    const a = await res.client(wss);
    a.server.subscribe('t');
    wss.publish('t', 'last words');
    wss.publish('t', 'and more');
    a.server.terminate();
    const [code] = await once(a.client, 'close');
    assert.strictEqual(code, 1006);
    assert.deepStrictEqual(a.client.received.map((m) => m[0]), ['last words', 'and more']);
  });

  it('a batch that outgrows the high-water mark is flushed at once, not held to the end of the turn', async () => {
    const wss = await res.server();
    const a = await res.client(wss);
    a.server.subscribe('t');
    const socket = a.server._driver.wire;
    wss.publish('t', 'small');
    assert.strictEqual(socket.writableCorked, 1);
    const big = Buffer.alloc(socket.writableHighWaterMark * 4, 1);
    // A fast reader: the kernel takes the bytes, nothing is held, so the status is SENT.
    assert.deepStrictEqual(wss.publish('t', big), { sent: 1, backpressure: 0, dropped: 0 });
    assert.strictEqual(socket.writableCorked, 0);
    assert.strictEqual(a.server.bufferedAmount, 0);
    wss.publish('t', 42);
    await until(() => a.client.received.length === 3);
    assert.deepStrictEqual(a.client.received[0], ['small', false]);
    assert.ok(a.client.received[1][0].equals(big));
    assert.deepStrictEqual(a.client.received[2], ['42', false], 'numbers go as text, as send() sends them');
  });

  describe('compression', () => {
    const NO_TAKEOVER = 'permessage-deflate; server_no_context_takeover';

    it('one deflate per publish for the subscribers without context takeover; the others get the plain frame', async () => {
      const wss = await res.server({ perMessageDeflate: { threshold: 0 } });
      const x = await res.raw(wss, { extensions: NO_TAKEOVER });
      const y = await res.raw(wss, { extensions: NO_TAKEOVER });
      const takeover = await res.raw(wss, { extensions: 'permessage-deflate' });
      const plain = await res.raw(wss);
      const real = await res.client(wss, { perMessageDeflate: { serverNoContextTakeover: true } });
      for (const s of [x, y, takeover, plain, real]) s.server.subscribe('t');
      assert.match(x.raw.response, /server_no_context_takeover/);

      const deflate = zlib.deflateRawSync;
      let deflates = 0;
      zlib.deflateRawSync = function (...args) {
        deflates++;
        return deflate.apply(this, args);
      };
      const text = 'compress me '.repeat(200);
      let result;
      try {
        result = wss.publish('t', text, { compress: true });
      } finally {
        zlib.deflateRawSync = deflate;
      }
      assert.strictEqual(deflates, 1);
      assert.deepStrictEqual(result, { sent: 5, backpressure: 0, dropped: 0 });
      const [[fx], [fy], [ft], [fp]] = await Promise.all([x, y, takeover, plain].map((s) => s.raw.waitFrames(1)));
      assert.strictEqual(fx.rsv, 4);
      assert.ok(fx.payload.length < text.length / 4, 'compressed');
      assert.ok(fx.bytes.equals(fy.bytes), 'the same deflated frame');
      assert.strictEqual(inflate(fx.payload).toString(), text);
      for (const f of [ft, fp]) {
        assert.strictEqual(f.rsv, 0);
        assert.strictEqual(f.opcode, 1);
        assert.strictEqual(f.payload.toString(), text);
      }
      // A real permessage-deflate peer (ws) reads the shared deflate.
      await until(() => real.client.received.length === 1);
      assert.strictEqual(real.client.received[0][0], text);
      // compress: false (the default) deflates nothing.
      wss.publish('t', text);
      const [, second] = await x.raw.waitFrames(2);
      assert.strictEqual(second.rsv, 0);
    });

    it('a large payload is deflated once off the main thread; each subscriber keeps its order', async () => {
      const wss = await res.server({ perMessageDeflate: { threshold: 0 } });
      const x = await res.raw(wss, { extensions: NO_TAKEOVER });
      const y = await res.raw(wss, { extensions: NO_TAKEOVER });
      const plain = await res.raw(wss);
      const real = await res.client(wss, { perMessageDeflate: { serverNoContextTakeover: true } });
      for (const s of [x, y, plain, real]) s.server.subscribe('t');
      const big = crypto.randomBytes(256 * 1024).toString('hex'); // 512 KiB of text that deflates to about half
      const syncDeflate = zlib.deflateRawSync;
      // (Run as a zlib stream, whose output chunks are written as they are: counted where it is created.)
      const asyncDeflate = zlib.createDeflateRaw;
      let syncCalls = 0;
      let asyncCalls = 0;
      zlib.deflateRawSync = function (...args) {
        syncCalls++;
        return syncDeflate.apply(this, args);
      };
      // zlib's exports are read-only but configurable (as in ../deflate/helpers.js).
      const setDeflate = (fn) => Object.defineProperty(zlib, 'createDeflateRaw', { value: fn, writable: false, enumerable: true, configurable: true });
      setDeflate(function (...args) {
        asyncCalls++;
        return asyncDeflate.apply(this, args);
      });
      let result;
      try {
        result = wss.publish('t', big, { compress: true });
        // Sent right after the publish, before zlib answered: it must still arrive after it.
        x.server.send('after');
        real.server.send('after');
      } finally {
        zlib.deflateRawSync = syncDeflate;
        setDeflate(asyncDeflate);
      }
      assert.strictEqual(syncCalls, 0, 'nothing large is deflated on the main thread');
      assert.strictEqual(asyncCalls, 1, 'one deflate for every subscriber that shares the window size');
      // 512 KiB is past a socket's high-water mark: reported as backpressure, but written (or in line).
      assert.strictEqual(result.sent + result.backpressure, 4);
      assert.strictEqual(result.dropped, 0);
      const [[fx, fafter], [fy], [fp]] = await Promise.all([x.raw.waitFrames(2), y.raw.waitFrames(1), plain.raw.waitFrames(1)]);
      assert.strictEqual(fx.rsv, 4);
      assert.ok(fx.bytes.equals(fy.bytes), 'the same deflated frame');
      assert.strictEqual(inflate(fx.payload).toString(), big);
      assert.ok(fafter.rsv === 4 || fafter.rsv === 0, `rsv ${fafter.rsv}`);
      assert.strictEqual((fafter.rsv === 4 ? inflate(fafter.payload) : fafter.payload).toString(), 'after');
      assert.strictEqual(fp.rsv, 0);
      assert.strictEqual(fp.payload.toString(), big);
      await until(() => real.client.received.length === 2);
      assert.deepStrictEqual(real.client.received.map(([d]) => d.length), [big.length, 5]);
      assert.strictEqual(real.client.received[0][0], big);
    });

    it('below the threshold, or for a smaller negotiated window, the plain frame is sent', async () => {
      const wss = await res.server({ perMessageDeflate: { threshold: 1000 } });
      const x = await res.raw(wss, { extensions: NO_TAKEOVER });
      const small = await res.raw(wss, { extensions: `${NO_TAKEOVER}; server_max_window_bits=10` });
      x.server.subscribe('t');
      small.server.subscribe('t');
      wss.publish('t', 'short', { compress: true });
      const long = 'a'.repeat(5000);
      wss.publish('t', long, { compress: true, binary: true });
      const [f1, f2] = await x.raw.waitFrames(2);
      assert.strictEqual(f1.rsv, 0);
      assert.strictEqual(f2.rsv, 4);
      assert.strictEqual(f2.opcode, 2);
      assert.strictEqual(inflate(f2.payload).toString(), long);
      const [, g2] = await small.raw.waitFrames(2);
      assert.match(small.raw.response, /server_max_window_bits=10/);
      assert.strictEqual(g2.rsv, 4, 'its own 1 KiB-window deflate');
      assert.strictEqual(inflate(g2.payload).toString(), long);
    });
  });

  it('works with the server in noServer mode (handleUpgrade)', async () => {
    const http = require('http');
    const wss = new WebSocketServer({ noServer: true });
    const server = http.createServer();
    server.on('upgrade', (req, socket, head) => wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req)));
    await new Promise((r) => server.listen(0, '127.0.0.1', r));
    try {
      const connected = once(wss, 'connection');
      const client = new (require('ws'))(`ws://127.0.0.1:${server.address().port}`);
      res.sockets.push(client);
      const [ws] = await connected;
      ws.subscribe('t');
      const got = once(client, 'message');
      assert.deepStrictEqual(wss.publish('t', 'via noServer'), { sent: 1, backpressure: 0, dropped: 0 });
      assert.strictEqual((await got)[0].toString(), 'via noServer');
    } finally {
      for (const ws of wss.clients) ws.terminate();
      wss.close();
      await new Promise((r) => server.close(r));
    }
  });
});
