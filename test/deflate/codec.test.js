'use strict';
// RFC 7692 §7.2: compress/decompress of PerMessageDeflate, alone and through the core, against the
// RFC's byte examples and ws's behaviour: tails, BFINAL, empty messages, corrupt data (1007), the
// decompression bomb (1009), threshold, per-send compress, cleanup, and the limiter.

const assert = require('assert');
const zlib = require('zlib');
const ws = require('ws');
const { PerMessageDeflate } = require('../../dist/lib/deflate/permessage-deflate');
const { Limiter, getLimiter } = require('../../dist/lib/deflate/limiter');
const { Connection } = require('../../dist/lib/protocol/connection');
const { kStatusCode } = require('../../dist/lib/protocol/constants');
const { RecordingSink, frame, hex } = require('../protocol/helpers');
const { countingCodec, trackZlib, negotiatedPair, accepted, turns } = require('./helpers');
const { parseFrames } = require('../support/frames');

const call = (p, method, data, fin) =>
  new Promise((resolve) => p[method](data, fin, (err, out) => resolve({ err, out })));

/** A client-role connection (server frames are unmasked) with a weft codec; resolves once every answer landed. */
async function clientParse(bytes, opts = {}, header = 'permessage-deflate') {
  const pmd = accepted(PerMessageDeflate, false, header, opts);
  const codec = countingCodec(pmd);
  const sink = new RecordingSink();
  const conn = new Connection(sink, { isServer: false, codec, maxPayload: opts.maxPayload });
  conn.receiveData(Buffer.from(bytes));
  await codec.whenIdle();
  return { sink, pmd, conn, codec };
}

/** The same bytes through ws's Receiver with ws's PerMessageDeflate. */
function wsParse(bytes, expected, opts = {}, header = 'permessage-deflate') {
  return new Promise((resolve) => {
    const pmd = accepted(ws.PerMessageDeflate, false, header, opts);
    const r = new ws.Receiver({ isServer: false, extensions: { 'permessage-deflate': pmd }, maxPayload: opts.maxPayload });
    const trace = [];
    r.on('message', (d, b) => {
      trace.push(['message', b ? 'binary' : 'text', Buffer.from(d).toString('hex')]);
      if (trace.length === expected) resolve(trace);
    });
    r.on('error', (e) => { trace.push(['error', e.code, e[Object.getOwnPropertySymbols(e)[0]]]); resolve(trace); });
    r.write(Buffer.from(bytes));
  });
}

const HELLO = Buffer.from('Hello').toString('hex');

describe('permessage-deflate codec', function () {
  describe('RFC 7692 §7.2.3 examples, through the core, same as ws', function () {
    const examples = [
      // §7.2.3.1: one compressed DEFLATE block.
      ['one block', 'c1 07 f2 48 cd c9 c9 07 00', [HELLO]],
      // §7.2.3.1: the same message fragmented; RSV1 on the first frame only.
      ['fragmented', '41 03 f2 48 cd 80 04 c9 c9 07 00', [HELLO]],
      // §7.2.3.2: the second message refers back into the first one's window.
      ['sliding window shared', 'c1 07 f2 48 cd c9 c9 07 00 c1 05 f2 00 11 00 00', [HELLO, HELLO]],
      // §7.2.3.3: a DEFLATE block with no compression.
      ['stored block', 'c1 0b 00 05 00 fa ff 48 65 6c 6c 6f 00', [HELLO]],
      // §7.2.3.4: a DEFLATE block with BFINAL set; the next message starts a new stream.
      ['BFINAL', 'c1 08 f3 48 cd c9 c9 07 00 00 c1 08 f3 48 cd c9 c9 07 00 00', [HELLO, HELLO]],
      // §7.2.3.5: two DEFLATE blocks in one message.
      ['two blocks', 'c1 0d f2 48 05 00 00 00 ff ff ca c9 c9 07 00', [HELLO]],
      // §7.2.3.6: an empty message as one 0x00 octet, and as no payload at all.
      ['empty (0x00)', 'c1 01 00', ['']],
      ['empty (no payload)', 'c1 00', ['']],
    ];
    for (const [name, bytes, expected] of examples) {
      it(name, async function () {
        const { sink } = await clientParse(hex(bytes));
        const want = expected.map((h) => ['message', 'text', h]);
        assert.deepStrictEqual(sink.trace, want);
        assert.deepStrictEqual(await wsParse(hex(bytes), want.length), want);
      });
    }

    it('compresses "Hello" as §7.2.3.1, then as §7.2.3.2 with context takeover', async function () {
      const { server } = negotiatedPair();
      const first = await call(server, 'compress', Buffer.from('Hello'), true);
      assert.strictEqual(first.out.toString('hex'), 'f248cdc9c90700');
      const second = await call(server, 'compress', Buffer.from('Hello'), true);
      assert.strictEqual(second.out.toString('hex'), 'f200110000');
      server.cleanup();
    });

    it('without context takeover, each message compresses from scratch', async function () {
      const { server } = negotiatedPair({ serverNoContextTakeover: true });
      for (let i = 0; i < 3; i++) {
        const r = await call(server, 'compress', Buffer.from('Hello'), true);
        assert.strictEqual(r.out.toString('hex'), 'f248cdc9c90700');
      }
      server.cleanup();
    });

    it('keeps the sync-flush tail on non-final frames and strips it on the final one, as ws', async function () {
      const mine = negotiatedPair().client;
      const theirs = accepted(ws.PerMessageDeflate, false, 'permessage-deflate');
      for (const [data, fin] of [['hello', false], ['hello', true], ['', true], ['x'.repeat(5000), false], ['', false], ['', true]]) {
        const a = await call(mine, 'compress', Buffer.from(data), fin);
        const b = await call(theirs, 'compress', Buffer.from(data), fin);
        assert.strictEqual(a.out.toString('hex'), b.out.toString('hex'), `${data.length} ${fin}`);
      }
      mine.cleanup();
      theirs.cleanup();
    });
  });

  describe('corrupt data', function () {
    it('reports zlib\'s error with status 1007, as ws (code Z_DATA_ERROR, not a WS_ERR_ code)', async function () {
      const { server } = negotiatedPair();
      const mine = await call(server, 'decompress', Buffer.from('garbage!!!'), true);
      const theirs = await call(accepted(ws.PerMessageDeflate, true, 'permessage-deflate'), 'decompress', Buffer.from('garbage!!!'), true);
      assert.strictEqual(mine.err.code, 'Z_DATA_ERROR');
      assert.strictEqual(mine.err.code, theirs.err.code);
      assert.strictEqual(mine.err[kStatusCode], 1007);
      assert.strictEqual(mine.err.message, theirs.err.message);
      // The stream that failed is gone; the next message gets a fresh one.
      assert.strictEqual(server._inflate, null);
      const next = await call(server, 'decompress', zlib.deflateRawSync(Buffer.from('ok')), true);
      assert.strictEqual(next.out.toString(), 'ok');
      server.cleanup();
    });

    it('through the core: one close frame with 1007, nothing parsed after', async function () {
      const bytes = Buffer.concat([frame({ rsv1: true, opcode: 1, payload: Buffer.from('garbage!!!') }), frame({ opcode: 1, payload: Buffer.from('after') })]);
      const { sink } = await clientParse(bytes);
      assert.deepStrictEqual(sink.trace.filter((t) => t[0] !== 'end'), [['error', 'Z_DATA_ERROR', 1007]]);
      // A client's frames: masked.
      const closes = parseFrames(Buffer.concat(sink.written), { masked: true }).filter((f) => f.opcode === 8);
      assert.strictEqual(closes.length, 1);
      assert.strictEqual(closes[0].payload.readUInt16BE(0), 1007);
    });
  });

  describe('decompression bomb (maxPayload counts inflated bytes)', function () {
    const LIMIT = 64 * 1024;

    async function measure(fn) {
      const tracker = trackZlib();
      const counted = [];
      try {
        const result = await fn(() => {
          for (const s of tracker.streams) {
            if (s.__kind === 'inflate' && !s.__counted) {
              s.__counted = { bytes: 0 };
              counted.push(s.__counted);
              s.prependListener('data', (c) => { s.__counted.bytes += c.length; });
            }
          }
        });
        return { result, inflated: counted.reduce((a, c) => a + c.bytes, 0), live: tracker.live().length };
      } finally {
        tracker.restore();
      }
    }

    it('1 MiB of zeros against a 64 KiB limit: 1009, and inflating stops near the limit', async function () {
      const bomb = zlib.deflateRawSync(Buffer.alloc(1024 * 1024));
      const { result, inflated, live } = await measure(async (hook) => {
        const { server } = negotiatedPair({}, {}, LIMIT);
        const p = call(server, 'decompress', bomb, true);
        hook();
        const r = await p;
        await turns(5);
        server.cleanup();
        return r;
      });
      assert.strictEqual(result.err.code, 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH');
      assert.strictEqual(result.err[kStatusCode], 1009);
      assert.ok(result.err instanceof RangeError);
      assert.strictEqual(result.err.message, 'Max payload size exceeded');
      assert.strictEqual(result.out, undefined);
      // At most one zlib output chunk (16 KiB) past the limit, never the whole MiB.
      assert.ok(inflated > LIMIT && inflated <= LIMIT + 16 * 1024, `inflated ${inflated}`);
      assert.strictEqual(live, 0);
    });

    it('32 MiB of zeros through the core: one close frame with 1009, inflation stopped early', async function () {
      const bomb = zlib.deflateRawSync(Buffer.alloc(32 * 1024 * 1024), { level: 9 });
      // The compressed frame itself is under the limit: only inflating can catch it.
      assert.ok(bomb.length < LIMIT);
      const { result, inflated } = await measure(async (hook) => {
        const pmd = accepted(PerMessageDeflate, false, 'permessage-deflate', { maxPayload: LIMIT });
        const codec = countingCodec(pmd);
        const sink = new RecordingSink();
        const conn = new Connection(sink, { isServer: false, codec, maxPayload: LIMIT });
        conn.receiveData(frame({ rsv1: true, opcode: 2, payload: bomb }));
        hook();
        conn.receiveData(frame({ opcode: 2, payload: Buffer.from('late') }));
        await codec.whenIdle();
        pmd.cleanup();
        return sink;
      });
      assert.deepStrictEqual(result.trace.filter((t) => t[0] !== 'end'), [['error', 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH', 1009]]);
      const closes = parseFrames(Buffer.concat(result.written), { masked: true }).filter((f) => f.opcode === 8);
      assert.deepStrictEqual(closes.map((f) => f.payload.readUInt16BE(0)), [1009]);
      assert.ok(inflated > LIMIT && inflated <= LIMIT + 16 * 1024, `inflated ${inflated}`);
    });

    it('the limit is per message across frames, and resets with the next message', async function () {
      const { server } = negotiatedPair({}, {}, LIMIT);
      const deflater = zlib.createDeflateRaw();
      const piece = async (size, fin) => {
        deflater.write(Buffer.alloc(size, 'a'));
        const out = await new Promise((r) => { const c = []; deflater.on('data', (d) => c.push(d)); deflater.flush(zlib.constants.Z_SYNC_FLUSH, () => { deflater.removeAllListeners('data'); r(Buffer.concat(c)); }); });
        return fin ? out.subarray(0, out.length - 4) : out;
      };
      // Two messages of 60 KiB each: fine.
      for (let i = 0; i < 2; i++) {
        const r = await call(server, 'decompress', await piece(60 * 1024, true), true);
        assert.strictEqual(r.err, null);
        assert.strictEqual(r.out.length, 60 * 1024);
      }
      // One message of three 30 KiB frames: the third frame passes the limit.
      const r1 = await call(server, 'decompress', await piece(30 * 1024, false), false);
      const r2 = await call(server, 'decompress', await piece(30 * 1024, false), false);
      const r3 = await call(server, 'decompress', await piece(30 * 1024, true), true);
      assert.strictEqual(r1.err, null);
      assert.strictEqual(r2.err, null);
      assert.strictEqual(r3.err.code, 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH');
      deflater.close();
      server.cleanup();
    });

    it('maxPayload 0 means no limit', async function () {
      const { server } = negotiatedPair({}, {}, 0);
      const r = await call(server, 'decompress', zlib.deflateRawSync(Buffer.alloc(4 * 1024 * 1024)), true);
      assert.strictEqual(r.out.length, 4 * 1024 * 1024);
      server.cleanup();
    });
  });

  describe('threshold and per-send compress (RSV1 on the first frame only)', function () {
    /** Whether the one frame in `bytes` (masked unless from a server) has RSV1; RSV2/RSV3 must be clear. */
    function rsv1Of(bytes, isServer) {
      const written = parseFrames(bytes, { masked: !isServer });
      assert.strictEqual(written.length, 1);
      assert.ok(written[0].rsv === 4 || written[0].rsv === 0, `rsv ${written[0].rsv}`);
      return written[0].rsv === 4;
    }

    /** RSV1 of the frame ws's Sender writes with ws's PerMessageDeflate. */
    async function wsRsv1(header, isServer, size) {
      const out = [];
      const socket = { cork() {}, uncork() {}, write(b, cb) { out.push(Buffer.from(b)); if (cb) process.nextTick(cb); return true; } };
      const pmd = accepted(ws.PerMessageDeflate, isServer, header, { threshold: 100 });
      const sender = new ws.Sender(socket, { 'permessage-deflate': pmd });
      await new Promise((r) => sender.send(Buffer.alloc(size, 97), { binary: true, compress: true, fin: true, mask: !isServer }, r));
      pmd.cleanup();
      return rsv1Of(Buffer.concat(out), isServer);
    }

    async function weftRsv1(header, isServer, size, compress = true) {
      const pmd = accepted(PerMessageDeflate, isServer, header, { threshold: 100 });
      const sink = new RecordingSink();
      const conn = new Connection(sink, { isServer, codec: pmd.codec() });
      await new Promise((r) => conn.sendMessage(Buffer.alloc(size, 97), true, true, compress, r));
      pmd.cleanup();
      return rsv1Of(Buffer.concat(sink.written), isServer);
    }

    it('applies the threshold only when our side has no context takeover, as ws 8.23', async function () {
      let compressedSmall = 0;
      for (const header of ['permessage-deflate', 'permessage-deflate; server_no_context_takeover', 'permessage-deflate; client_no_context_takeover', 'permessage-deflate; server_no_context_takeover; client_no_context_takeover']) {
        for (const isServer of [true, false]) {
          for (const size of [0, 10, 99, 100, 2000]) {
            const mine = await weftRsv1(header, isServer, size);
            assert.strictEqual(mine, await wsRsv1(header, isServer, size), `${header} ${isServer} ${size}`);
            if (mine && size < 100) compressedSmall++;
          }
        }
      }
      assert.ok(compressedSmall > 0);
    });

    it('compress: false sends the message as is', async function () {
      assert.strictEqual(await weftRsv1('permessage-deflate', true, 5000, false), false);
    });

    it('a fragmented message has RSV1 on its first frame only and decodes whole', async function () {
      const { client, server } = negotiatedPair();
      const sink = new RecordingSink();
      const conn = new Connection(sink, { isServer: true, codec: server.codec() });
      conn.sendMessage('Hello, ', false, false, true);
      conn.sendMessage('compressed ', false, false, true);
      await new Promise((r) => conn.sendMessage('world', false, true, true, r));
      const fs = parseFrames(Buffer.concat(sink.written), { masked: false });
      assert.deepStrictEqual(fs.map((f) => [f.opcode, f.rsv, f.fin]), [[1, 4, false], [0, 0, false], [0, 0, true]]);
      const rsink = new RecordingSink();
      const codec = countingCodec(client);
      const rconn = new Connection(rsink, { isServer: false, codec });
      rconn.receiveData(Buffer.concat(sink.written));
      await codec.whenIdle();
      assert.deepStrictEqual(rsink.trace, [['message', 'text', Buffer.from('Hello, compressed world').toString('hex')]]);
      client.cleanup();
      server.cleanup();
    });
  });

  describe('overlapping requests and cleanup', function () {
    it('answers overlapping requests on one instance in order', async function () {
      const { server, client } = negotiatedPair();
      const msgs = ['one', 'two', 'three', 'x'.repeat(100000), 'five'];
      const compressed = await Promise.all(msgs.map((m) => call(client, 'compress', Buffer.from(m), true)));
      const order = [];
      const inflated = await Promise.all(compressed.map((c, i) => call(server, 'decompress', c.out, true).then((r) => { order.push(i); return r; })));
      assert.deepStrictEqual(order, [0, 1, 2, 3, 4]);
      assert.deepStrictEqual(inflated.map((r) => r.out.toString()), msgs);
      server.cleanup();
      client.cleanup();
    });

    it('cleanup() fails the request in flight and those waiting with ws\'s messages, once each', async function () {
      const { server } = negotiatedPair();
      const results = [];
      server.compress(Buffer.alloc(1e6, 1), true, (err) => results.push(['deflate', err && err.message]));
      server.decompress(zlib.deflateRawSync(Buffer.alloc(1e7)), true, (err) => results.push(['inflate1', err && err.message]));
      server.decompress(zlib.deflateRawSync(Buffer.alloc(10)), true, (err) => results.push(['inflate2', err && err.message]));
      server.cleanup();
      await turns(20);
      assert.deepStrictEqual(results, [
        ['inflate1', 'The inflate stream was closed while data was being processed'],
        ['inflate2', 'The inflate stream was closed while data was being processed'],
        ['deflate', 'The deflate stream was closed while data was being processed'],
      ]);
      assert.strictEqual(server._inflate, null);
      assert.strictEqual(server._deflate, null);
      // Done for good: later requests fail at once instead of opening zlib again.
      let late = null;
      server.decompress(Buffer.from([0]), true, (err) => { late = err; });
      assert.match(late.message, /inflate stream was closed/);
      assert.strictEqual(server._inflate, null);
      server.cleanup(); // twice is fine
    });

    for (const when of ['right after the request', 'inside the first inflated chunk']) {
      it(`cleanup() ${when} answers once and nothing throws later (ws 8.23 throws a TypeError here)`, async function () {
        const { server } = negotiatedPair();
        const answers = [];
        server.decompress(zlib.deflateRawSync(Buffer.alloc(1e7)), true, (err) => answers.push(err && err.message));
        const stream = server._inflate;
        assert.ok(stream);
        const closed = new Promise((r) => stream.once('close', r));
        if (when === 'right after the request') server.cleanup();
        else stream.prependOnceListener('data', () => server.cleanup());
        await closed;
        await turns(10);
        assert.deepStrictEqual(answers, ['The inflate stream was closed while data was being processed']);
        assert.ok(stream.destroyed);
        assert.strictEqual(stream._handle, null);
      });
    }
  });

  describe('Limiter', function () {
    it('runs at most `concurrency` jobs, in FIFO order, re-entrantly safe', function () {
      const lim = new Limiter(2);
      const started = [];
      const jobs = [];
      for (let i = 0; i < 5; i++) jobs.push({ runJob() { started.push(i); } });
      for (const j of jobs) lim.add(j);
      assert.deepStrictEqual(started, [0, 1]);
      assert.strictEqual(lim.pending, 2);
      assert.strictEqual(lim.waiting, 3);
      lim.done();
      assert.deepStrictEqual(started, [0, 1, 2]);
      lim.done();
      lim.done();
      assert.deepStrictEqual(started, [0, 1, 2, 3, 4]);
      // A job that finishes synchronously gives its slot straight back (no nested loop, nothing skipped).
      const sync = { runJob() { started.push('sync'); lim.done(); } };
      const after = { runJob() { started.push('after'); } };
      lim.add(sync);
      lim.add(after);
      assert.deepStrictEqual(started, [0, 1, 2, 3, 4]);
      lim.done();
      assert.deepStrictEqual(started, [0, 1, 2, 3, 4, 'sync', 'after']);
      lim.done();
      lim.done();
      assert.strictEqual(lim.pending, 0);
      assert.strictEqual(lim.peak, 2);
    });

    it('0 or nothing means no limit (as ws); the shared one keeps the first concurrency', function () {
      assert.strictEqual(new Limiter(0).concurrency, Infinity);
      assert.strictEqual(new Limiter().concurrency, Infinity);
      const first = getLimiter();
      assert.strictEqual(getLimiter(3), first);
      new PerMessageDeflate({ concurrencyLimit: 1 });
      assert.strictEqual(getLimiter(), first);
      assert.strictEqual(first.concurrency, getLimiter().concurrency);
    });

    it('stays correct over many queued jobs (head compaction)', function () {
      const lim = new Limiter(1);
      const seen = [];
      for (let i = 0; i < 5000; i++) lim.add({ runJob() { seen.push(i); } });
      for (let i = 0; i < 5000; i++) lim.done();
      assert.strictEqual(seen.length, 5000);
      assert.ok(seen.every((v, i) => v === i));
      assert.strictEqual(lim.waiting, 0);
    });
  });
});
