'use strict';
// Round trips through two core Connections (server codec ↔ client codec, sink wired to receiveData,
// random chunking on later turns): every negotiated parameter combination, fragmented and multi-MiB
// messages, both directions; then message order with many connections saturating the limiter.

const assert = require('assert');
const { getLimiter } = require('../../dist/lib/deflate/limiter');
const { negotiatedPair, connectionPair, text, countingCodec } = require('./helpers');
const { parseFrames } = require('../support/frames');

const BIG = text(4 * 1024 * 1024, 7);
const MEDIUM = text(200 * 1024, 8);

/** Sends `msgs` ([data, binary, fragments?]) from `conn`; a message with fragments goes out in pieces. */
function sendAll(conn, msgs) {
  for (const [data, binary, pieces] of msgs) {
    if (!pieces) {
      conn.sendMessage(data, binary, true, true);
      continue;
    }
    const buf = Buffer.from(data);
    const step = Math.ceil(buf.length / pieces);
    for (let i = 0; i < pieces; i++) {
      const part = buf.subarray(i * step, Math.min(buf.length, (i + 1) * step));
      conn.sendMessage(binary ? part : part.toString('latin1'), binary, i === pieces - 1, true);
    }
  }
}

function expectMessages(sink, msgs) {
  assert.strictEqual(sink.errors.length, 0, sink.errors.map((e) => e.message).join());
  assert.strictEqual(sink.messages.length, msgs.length);
  msgs.forEach(([data, binary], i) => {
    const got = sink.messages[i];
    assert.strictEqual(got.isBinary, binary, `message ${i} type`);
    assert.ok(got.data.equals(Buffer.from(data)), `message ${i} content (${got.data.length} vs ${Buffer.from(data).length})`);
  });
}

const COMBOS = [];
for (const serverNoContextTakeover of [false, true]) {
  for (const clientNoContextTakeover of [false, true]) {
    for (const serverMaxWindowBits of [undefined, 8, 15]) {
      for (const clientMaxWindowBits of [undefined, 9, 15]) {
        COMBOS.push({ serverNoContextTakeover, clientNoContextTakeover, serverMaxWindowBits, clientMaxWindowBits });
      }
    }
  }
}

describe('permessage-deflate round trips through the core', function () {
  this.timeout(60000);

  it(`covers ${COMBOS.length} parameter combinations`, function () {
    assert.strictEqual(COMBOS.length, 36);
  });

  COMBOS.forEach((opts, n) => {
    const name = Object.entries(opts).filter(([, v]) => v !== undefined && v !== false).map(([k, v]) => (v === true ? k : `${k}=${v}`)).join(', ') || 'defaults';
    it(name, async function () {
      const zlibOpts = n % 5 === 0 ? { zlibDeflateOptions: { level: 1, memLevel: 4 }, zlibInflateOptions: { chunkSize: 1024 } } : {};
      const { client, server } = negotiatedPair({ ...zlibOpts, threshold: 0 }, { ...opts, ...zlibOpts, threshold: 0 });
      // The negotiated parameters are the ones asked for.
      assert.strictEqual(!!server.params.server_no_context_takeover, opts.serverNoContextTakeover);
      assert.strictEqual(!!client.params.client_no_context_takeover, opts.clientNoContextTakeover);
      assert.strictEqual(client.params.server_max_window_bits, opts.serverMaxWindowBits);
      assert.strictEqual(client.params.client_max_window_bits, opts.clientMaxWindowBits);

      const sc = countingCodec(server);
      const cc = countingCodec(client);
      const pair = connectionPair(sc, cc, { seed: 1000 + n });
      const fromClient = [
        ['hello', false],
        [BIG, true],
        ['fragmented ' + 'message '.repeat(300), false, 3],
        ['', false],
        [MEDIUM, true, 7],
        ['', true, 2],
        ['Ünïcødé ✓ '.repeat(50), false],
      ];
      const fromServer = [
        [MEDIUM.toString('latin1'), false],
        ['x', true],
        [BIG.subarray(0, 1024 * 1024), true, 4],
        ['bye', false],
      ];
      // The fragmented unicode-free text goes out as latin1 pieces of an ASCII string: still valid UTF-8.
      sendAll(pair.client, fromClient);
      sendAll(pair.server, fromServer);
      await Promise.all([pair.serverSink.waitFor(fromClient.length), pair.clientSink.waitFor(fromServer.length)]);
      expectMessages(pair.serverSink, fromClient);
      expectMessages(pair.clientSink, fromServer);
      // Compression really happened: RSV1 on first frames, never on continuations (nor RSV2/RSV3
      // anywhere). The client's frames: masked.
      const written = parseFrames(Buffer.concat(pair.clientSink.written), { masked: true });
      assert.ok(written.some((f) => f.rsv === 4 && f.opcode === 2));
      assert.ok(written.every((f) => f.rsv === 0 || (f.rsv === 4 && (f.opcode === 1 || f.opcode === 2))));
      const big = written.find((f) => f.rsv === 4 && f.opcode === 2);
      assert.ok(big.payload.length < BIG.length * 0.8, `the 4 MiB message was compressed (${big.payload.length})`);
      await Promise.all([sc.whenIdle(), cc.whenIdle()]);
      // No context takeover: no zlib stream kept between messages.
      if (opts.clientNoContextTakeover) {
        assert.strictEqual(client._deflate, null);
        assert.strictEqual(server._inflate, null);
      } else {
        assert.notStrictEqual(client._deflate, null);
      }
      if (opts.serverNoContextTakeover) {
        assert.strictEqual(server._deflate, null);
        assert.strictEqual(client._inflate, null);
      } else {
        assert.notStrictEqual(server._deflate, null);
      }
      client.cleanup();
      server.cleanup();
    });
  });

  it('keeps message order across many connections with the limiter saturated', async function () {
    const limiter = getLimiter();
    const PAIRS = 40;
    const MESSAGES = 25;
    const pairs = [];
    for (let p = 0; p < PAIRS; p++) {
      const { client, server } = negotiatedPair({ threshold: 0 }, { threshold: 0, serverNoContextTakeover: p % 2 === 0 });
      const pair = connectionPair(server.codec(), client.codec(), { seed: p });
      pairs.push({ pair, client, server });
    }
    const peakBefore = limiter.peak;
    let sawWaiting = false;
    for (let i = 0; i < MESSAGES; i++) {
      for (let p = 0; p < PAIRS; p++) {
        const { pair } = pairs[p];
        // Mixed sizes so that jobs finish out of order across connections.
        const size = (i * 7919 + p * 104729) % 5 === 0 ? 60000 : 10 + ((i * p) % 300);
        pair.client.sendMessage(`${p}:${i}:` + 'z'.repeat(size), false, true, true);
        pair.server.sendMessage(Buffer.from(`${p}/${i}`), true, true, i % 3 !== 0);
        if (i % 10 === 0) pair.client.ping(Buffer.from([i]));
      }
      if (limiter.waiting > 0) sawWaiting = true;
    }
    assert.ok(sawWaiting, 'the limiter had jobs waiting');
    await Promise.all(pairs.map(({ pair }) => Promise.all([pair.serverSink.waitFor(MESSAGES), pair.clientSink.waitFor(MESSAGES)])));
    assert.ok(limiter.peak <= limiter.concurrency);
    assert.ok(limiter.peak >= Math.min(limiter.concurrency, 2) || peakBefore >= 2);
    for (let p = 0; p < PAIRS; p++) {
      const { pair, client, server } = pairs[p];
      assert.strictEqual(pair.serverSink.errors.length, 0);
      assert.deepStrictEqual(pair.serverSink.messages.map((m) => m.data.toString().split(':').slice(0, 2).join(':')), Array.from({ length: MESSAGES }, (_, i) => `${p}:${i}`));
      assert.deepStrictEqual(pair.clientSink.messages.map((m) => m.data.toString()), Array.from({ length: MESSAGES }, (_, i) => `${p}/${i}`));
      // Pings went out in their place too: each pong's payload arrives in send order.
      assert.deepStrictEqual(pair.clientSink.trace.filter((t) => t[0] === 'pong').map((t) => t[1]), ['00', '0a', '14']);
      client.cleanup();
      server.cleanup();
    }
  });
});
