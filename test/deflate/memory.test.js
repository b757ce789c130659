'use strict';
// Memory: zlib streams are created lazily, never kept between messages without context takeover,
// released at once after an error, and every one of them is closed once the connection is cleaned up —
// also when zlib work is in flight at that moment. Every stream weft creates is tracked (zlib's
// factories are wrapped for the test) and checked for a released native handle.

const assert = require('assert');
const zlib = require('zlib');
const { PerMessageDeflate } = require('../../dist/lib/deflate/permessage-deflate');
const { pooledStreams } = require('../../dist/lib/deflate/zlib-pipe');
const { trackZlib, negotiatedPair, connectionPair, countingCodec, text, turns } = require('./helpers');

const released = (s) => s.destroyed && s._handle === null;

/** Waits until every tracked stream has emitted 'close' (its handle is gone). */
function allClosed(tracker) {
  return Promise.all(tracker.streams.map((s) => (s.closed || s._closeEmitted || s._handle === null && s.destroyed ? null : new Promise((r) => s.once('close', r)))));
}

describe('permessage-deflate memory', function () {
  this.timeout(20000);
  let tracker;
  beforeEach(function () { tracker = trackZlib(); });
  afterEach(function () { tracker.restore(); });

  it('creates no zlib stream until a compressed message is sent or received', async function () {
    const { client, server } = negotiatedPair();
    const pair = connectionPair(server.codec(), client.codec());
    // Uncompressed traffic needs no zlib either.
    pair.client.sendMessage('plain', false, true, false);
    pair.server.ping(Buffer.from('p'));
    await pair.serverSink.waitFor(1);
    await turns(3);
    assert.strictEqual(tracker.streams.length, 0);
    assert.strictEqual(server._inflate, null);
    assert.strictEqual(server._deflate, null);
    client.cleanup();
    server.cleanup();
    assert.strictEqual(tracker.streams.length, 0);
  });

  for (const takeover of [true, false]) {
    it(`${takeover ? 'with' : 'without'} context takeover: ${takeover ? 'one stream per direction for the connection' : 'no stream kept between messages'}, all released by cleanup()`, async function () {
      const opts = takeover ? {} : { serverNoContextTakeover: true, clientNoContextTakeover: true };
      const { client, server } = negotiatedPair({ threshold: 0 }, { ...opts, threshold: 0 });
      const sc = countingCodec(server);
      const cc = countingCodec(client);
      const pair = connectionPair(sc, cc);
      const N = 5;
      for (let i = 0; i < N; i++) {
        pair.client.sendMessage(`message ${i} `.repeat(100), false, true, true);
        pair.server.sendMessage(`reply ${i} `.repeat(100), false, true, true);
      }
      await Promise.all([pair.serverSink.waitFor(N), pair.clientSink.waitFor(N)]);
      await Promise.all([sc.whenIdle(), cc.whenIdle()]);
      assert.strictEqual(pair.serverSink.messages.length, N);
      if (takeover) {
        // 4 streams: each side's deflate and inflate, kept for the next message.
        assert.strictEqual(tracker.streams.length, 4);
        assert.strictEqual(tracker.live().length, 4);
      } else {
        // No connection keeps a stream between messages: each message borrows a reset stream from
        // the shared, bounded pool and gives it back, so streams are reused, not made per message.
        for (const ext of [client, server]) {
          assert.strictEqual(ext._inflate, null);
          assert.strictEqual(ext._deflate, null);
        }
        assert.ok(tracker.streams.length < 4 * N, `${tracker.streams.length} streams for ${4 * N} message directions`);
        assert.ok(tracker.live().length <= pooledStreams(), 'every live stream is idle in the pool');
      }
      client.cleanup();
      server.cleanup();
      // No zlib handle outlives the connections: with the last user of a setting gone, its pool is closed.
      await allClosed(tracker);
      assert.strictEqual(tracker.live().length, 0);
      assert.ok(tracker.streams.every(released));
      assert.strictEqual(pooledStreams(), 0);
    });
  }

  it('passes the negotiated window sizes and the user\'s zlib options to each stream', async function () {
    const { client, server } = negotiatedPair(
      { zlibDeflateOptions: { level: 2, memLevel: 5 }, zlibInflateOptions: { chunkSize: 4096 } },
      { serverMaxWindowBits: 10, clientMaxWindowBits: 12, zlibDeflateOptions: { level: 9, windowBits: 8 } },
    );
    const results = await Promise.all([
      new Promise((r) => client.compress(Buffer.from('abc'), true, (e, d) => r(d))),
      new Promise((r) => server.compress(Buffer.from('abc'), true, (e, d) => r(d))),
    ]);
    await Promise.all([
      new Promise((r) => server.decompress(results[0], true, r)),
      new Promise((r) => client.decompress(results[1], true, r)),
    ]);
    const opts = tracker.streams.map((s) => [s.__kind, s.__opts.windowBits, s.__opts.level, s.__opts.memLevel, s.__opts.chunkSize]);
    assert.deepStrictEqual(opts, [
      ['deflate', 12, 2, 5, undefined], // client deflates with client_max_window_bits
      ['deflate', 10, 9, undefined, undefined], // server deflates with server_max_window_bits (overrides the user's windowBits)
      ['inflate', 12, undefined, undefined, undefined], // server inflates the client's messages
      ['inflate', 10, undefined, undefined, 4096], // client inflates the server's
    ]);
    client.cleanup();
    server.cleanup();
  });

  it('releases the inflate stream right after corrupt data or a bomb', async function () {
    const { server } = negotiatedPair({}, {}, 1000);
    const err1 = await new Promise((r) => server.decompress(Buffer.from('not deflate at all'), true, r));
    assert.strictEqual(err1[Object.getOwnPropertySymbols(err1).find((s) => s.toString() === 'Symbol(status-code)')], 1007);
    assert.strictEqual(server._inflate, null);
    const err2 = await new Promise((r) => server.decompress(zlib.deflateRawSync(Buffer.alloc(100000)), true, r));
    assert.strictEqual(err2.code, 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH');
    assert.strictEqual(server._inflate, null);
    await allClosed(tracker);
    assert.strictEqual(tracker.streams.length, 2);
    assert.ok(tracker.streams.every(released));
  });

  it('no zlib handle outlives a connection closed while zlib work is in flight', async function () {
    const PAIRS = 8;
    const all = [];
    for (let p = 0; p < PAIRS; p++) {
      const { client, server } = negotiatedPair({ threshold: 0 }, { threshold: 0, serverNoContextTakeover: p % 2 === 1 });
      const pair = connectionPair(server.codec(), client.codec(), { seed: p });
      all.push({ client, server, pair });
      for (let i = 0; i < 4; i++) {
        pair.client.sendMessage(text(300000, p * 10 + i), true, true, true);
        pair.server.sendMessage(text(200000, p * 10 + i + 5), false, true, true);
      }
    }
    // Let some messages arrive and be inflated, then close every connection mid-flight.
    await all[0].pair.serverSink.waitFor(1);
    assert.ok(tracker.live().length > 0, 'work was in flight');
    const answersBefore = all.map(({ pair }) => pair.serverSink.messages.length + pair.clientSink.messages.length);
    for (const { client, server, pair } of all) {
      // What the face does when the transport closes: stop the core, then release the codec.
      pair.server.closed();
      pair.client.closed();
      server.cleanup();
      client.cleanup();
    }
    await allClosed(tracker);
    const created = tracker.streams.length;
    await turns(20);
    await new Promise((r) => setTimeout(r, 20));
    // Nothing was created afterwards, every stream's native handle is released, nothing more arrived.
    assert.strictEqual(tracker.streams.length, created);
    assert.strictEqual(tracker.live().length, 0);
    assert.ok(tracker.streams.every(released));
    assert.deepStrictEqual(all.map(({ pair }) => pair.serverSink.messages.length + pair.clientSink.messages.length), answersBefore);
    assert.ok(all.every(({ pair }) => pair.serverSink.errors.length === 0 && pair.clientSink.errors.length === 0));
  });

  it('an unused instance holds no stream and cleanup() creates none', function () {
    const p = new PerMessageDeflate({ isServer: true });
    p.cleanup();
    assert.strictEqual(tracker.streams.length, 0);
    let err = null;
    p.compress(Buffer.from('x'), true, (e) => { err = e; });
    assert.match(err.message, /deflate stream was closed/);
    assert.strictEqual(tracker.streams.length, 0);
  });
});

describe('permessage-deflate: the shared pool of no-context-takeover streams', function () {
  this.timeout(20000);
  const { negotiatedPair, connectionPair } = require('./helpers');
  const { pooledStreams } = require('../../dist/lib/deflate/zlib-pipe');

  it('lends streams between messages, and closes them when the pool goes unused (the connection still open)', async function () {
    const { client, server } = negotiatedPair({ threshold: 0 }, { threshold: 0, serverNoContextTakeover: true, clientNoContextTakeover: true });
    const pair = connectionPair(server.codec(), client.codec());
    pair.client.sendMessage('hello '.repeat(200), false, true, true);
    await pair.serverSink.waitFor(1);
    await new Promise((r) => setImmediate(r));
    assert.ok(pooledStreams() > 0, 'the reset stream waits in the pool');
    assert.strictEqual(server._inflate, null, 'the connection itself holds none');
    await new Promise((r) => setTimeout(r, 1600));
    assert.strictEqual(pooledStreams(), 0, 'an unused pool is closed');
    client.cleanup();
    server.cleanup();
  });
});
