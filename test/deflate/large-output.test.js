'use strict';
// Large compressed messages go out as zlib produced them: a header of their own, then zlib's output
// chunks (no join, no copy), with RFC 7692 §7.2.1's trailer (00 00 ff ff) removed even where it
// straddles chunks. Checked against real peers over real sockets: a raw client that reads the frames
// byte for byte (each payload must be the bytes a reference zlib stream gives, as before and as ws
// sends them), the `ws` package as an independent client and server, and for a publish, subscribers of
// several window sizes. The suite reruns on the stream transport (test/run-stream.js).
const assert = require('assert');
const crypto = require('crypto');
const net = require('net');
const zlib = require('zlib');
const { once } = require('events');
const WS = require('ws');
const WsPerMessageDeflate = WS.PerMessageDeflate;
const WebSocket = require('../..');
const { WebSocketServer } = require('../../dist/lib/server');
const { Driver } = require('../../dist/lib/socket/driver');
const { dropTail, maskedFrame, mergedFrame, buildFrameFromChunks } = require('../../dist/lib/protocol/frame');
const { prng } = require('../support/prng');
const { trackZlib, negotiatedPair } = require('./helpers');
const { Sender } = require('../../dist/lib/compat/sender');

const TRAILER = Buffer.from([0x00, 0x00, 0xff, 0xff]);
const MiB = 1024 * 1024;

/** Text that deflates to about half (hex of seeded random bytes): `n` bytes. */
function textOf(n, seed) {
  return prng(seed).bytes(Math.ceil(n / 2)).toString('hex').slice(0, n);
}

/** Binary data that deflates somewhat: runs of a byte between random stretches. */
function binaryOf(n, seed) {
  const next = prng(seed);
  const b = Buffer.alloc(n);
  let i = 0;
  while (i < n) {
    const run = 1 + next.int(64);
    if (next() < 0.5) b.fill(next.int(256), i, Math.min(n, i + run));
    else for (let j = i; j < Math.min(n, i + run); j++) b[j] = next.int(256);
    i += run;
  }
  return b;
}

/**
 * The payloads weft (and ws) must send: each message written to a raw deflate stream and sync-flushed,
 * the trailer removed; one stream for all (context takeover) or a fresh one per message. Also the
 * stream's output chunks of each message, to see where they split.
 */
async function referencePayloads(messages, { windowBits, takeover, chunkSize }) {
  const out = [];
  let stream = null;
  for (const m of messages) {
    if (stream === null) stream = zlib.createDeflateRaw({ windowBits, ...(chunkSize ? { chunkSize } : {}) });
    const chunks = [];
    const onData = (c) => chunks.push(c);
    stream.on('data', onData);
    stream.write(typeof m === 'string' ? Buffer.from(m) : m);
    await new Promise((resolve) => stream.flush(zlib.constants.Z_SYNC_FLUSH, resolve));
    stream.removeListener('data', onData);
    const all = Buffer.concat(chunks);
    assert.ok(all.subarray(-4).equals(TRAILER), 'a sync flush ends with the trailer');
    out.push({ payload: all.subarray(0, all.length - 4), chunks });
    if (!takeover) {
      stream.close();
      stream = null;
    }
  }
  if (stream !== null) stream.close();
  return out;
}

/**
 * A raw client reading server frames without joining its reads until a frame is whole (FrameReader
 * joins on every read: too slow for frames of several MiB). Offers `extensions`.
 */
async function rawClient(port, extensions) {
  const socket = net.connect(port, '127.0.0.1');
  socket.on('error', () => {});
  await once(socket, 'connect');
  socket.write(
    'GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
      `Sec-WebSocket-Key: ${crypto.randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n` +
      `Sec-WebSocket-Extensions: ${extensions}\r\n\r\n`,
  );
  const raw = { socket, frames: [], response: null, waiters: [] };
  let parts = [];
  let total = 0;
  const take = (n) => {
    const all = parts.length === 1 ? parts[0] : Buffer.concat(parts, total);
    parts = all.length > n ? [all.subarray(n)] : [];
    total -= n;
    return all.subarray(0, n);
  };
  const peek = (n) => (parts[0].length >= n ? parts[0] : Buffer.concat(parts, total)).subarray(0, n);
  socket.on('data', (chunk) => {
    parts.push(chunk);
    total += chunk.length;
    if (raw.response === null) {
      const all = Buffer.concat(parts, total);
      const end = all.indexOf('\r\n\r\n');
      if (end === -1) return;
      raw.response = all.subarray(0, end).toString('latin1');
      parts = [all.subarray(end + 4)];
      total = parts[0].length;
    }
    for (;;) {
      if (total < 2) break;
      const h = peek(Math.min(total, 10));
      assert.strictEqual(h[1] & 0x80, 0, 'a server frame is not masked');
      let len = h[1] & 0x7f;
      let hs = 2;
      if (len === 126) {
        if (total < 4) break;
        len = h.readUInt16BE(2);
        hs = 4;
      } else if (len === 127) {
        if (total < 10) break;
        len = h.readUInt32BE(2) * 2 ** 32 + h.readUInt32BE(6);
        hs = 10;
      }
      if (total < hs + len) break;
      const bytes = Buffer.from(take(hs + len));
      raw.frames.push({ fin: (bytes[0] & 0x80) !== 0, rsv1: (bytes[0] & 0x40) !== 0, opcode: bytes[0] & 0x0f, payload: bytes.subarray(hs), bytes });
    }
    for (const w of raw.waiters.splice(0)) w();
  });
  raw.waitFrames = (n) =>
    new Promise((resolve) => {
      const check = () => (raw.frames.length >= n ? resolve(raw.frames) : raw.waiters.push(check));
      check();
    });
  while (raw.response === null) await once(socket, 'data');
  assert.match(raw.response, /^HTTP\/1\.1 101 /);
  return raw;
}

function offer({ windowBits, takeover }) {
  return `permessage-deflate; server_max_window_bits=${windowBits}${takeover ? '' : '; server_no_context_takeover'}; client_max_window_bits`;
}

/** Counts the frames that went out as a header and a list of chunks (Driver.writeChunks). */
function spyWriteChunks() {
  const orig = Driver.prototype.writeChunks;
  const spy = { calls: [], restore: () => (Driver.prototype.writeChunks = orig) };
  Driver.prototype.writeChunks = function (header, chunks, cb) {
    spy.calls.push({ header: Buffer.from(header), chunks: chunks.length, bytes: chunks.reduce((n, c) => n + c.length, 0) });
    return orig.call(this, header, chunks, cb);
  };
  return spy;
}

describe('large compressed messages: zlib output chunks written as they are', () => {
  const opened = [];
  function track(x) {
    opened.push(x);
    return x;
  }
  afterEach(async () => {
    for (const x of opened.splice(0).reverse()) {
      if (typeof x.handleUpgrade === 'function') {
        for (const c of x.clients) c.terminate();
        await new Promise((r) => x.close(() => r()));
      } else if (typeof x.terminate === 'function') {
        x.on('error', () => {});
        x.terminate();
      } else if (typeof x.destroy === 'function') x.destroy();
      else await new Promise((r) => x.close(() => r()));
    }
  });

  async function server(options) {
    const wss = track(new WebSocketServer({ port: 0, host: '127.0.0.1', maxPayload: 0, ...options }));
    await once(wss, 'listening');
    return wss;
  }

  describe('the frame helpers', () => {
    it('dropTail removes the last bytes across chunks, changing only the array (never the buffers)', () => {
      const a = Buffer.from('hello');
      const b = Buffer.from([0x00, 0x00]);
      const c = Buffer.from([0xff]);
      const d = Buffer.from([0xff]);
      const copies = [a, b, c, d].map((x) => Buffer.from(x));
      let list = [a, b, c, d];
      assert.strictEqual(dropTail(list, 9, 4), 5);
      assert.deepStrictEqual(list, [a]);
      assert.strictEqual(list[0], a, 'a chunk the tail does not reach is kept as it is');
      // The tail ends inside a chunk: that chunk becomes a shorter view.
      const e = Buffer.from([1, 2, 0x00, 0x00, 0xff]);
      list = [a, e, d];
      assert.strictEqual(dropTail(list, 11, 4), 7);
      assert.strictEqual(Buffer.concat(list).toString('hex'), Buffer.concat([a, Buffer.from([1, 2])]).toString('hex'));
      assert.strictEqual(list[1].buffer, e.buffer, 'a view, not a copy');
      // Wholly in the last chunk.
      list = [a, Buffer.from([9, 0, 0, 0xff, 0xff])];
      assert.strictEqual(dropTail(list, 10, 4), 6);
      assert.deepStrictEqual([...list[1]], [9]);
      [a, b, c, d].forEach((x, i) => assert.ok(x.equals(copies[i]), 'no buffer was written to'));
    });

    it('buildFrameFromChunks equals the one-buffer frame of the joined payload, masked across odd chunk boundaries, the chunks untouched', () => {
      const next = prng(7);
      for (const sizes of [[1], [3, 5], [1, 1, 1, 1, 1], [7, 130, 2, 65536, 3], [0, 6, 0]]) {
        const chunks = sizes.map((n) => next.bytes(n));
        const before = chunks.map((c) => Buffer.from(c));
        const joined = Buffer.concat(chunks);
        for (const maskKey of [null, Buffer.from([0x12, 0x34, 0x56, 0x78])]) {
          const o = { opcode: 2, fin: true, rsv1: true, maskKey };
          const expected = maskKey ? maskedFrame(joined, 2, true, true, maskKey) : mergedFrame(joined, 2, true, true);
          const got = buildFrameFromChunks(chunks, joined.length, o);
          assert.ok(got.equals(expected), `sizes ${sizes}, ${maskKey ? 'masked' : 'unmasked'}`);
        }
        chunks.forEach((c, i) => assert.ok(c.equals(before[i]), 'masking never writes into a chunk'));
      }
    });
  });

  describe('ws.send(data, { compress: true }) from a weft server', () => {
    for (const cfg of [
      { windowBits: 15, takeover: true },
      { windowBits: 15, takeover: false },
      { windowBits: 9, takeover: false },
      { windowBits: 12, takeover: true },
    ]) {
      const name = `window ${cfg.windowBits}, context takeover ${cfg.takeover ? 'on' : 'off'}`;

      it(`${name}: MiBs of text and binary leave as zlib's chunks, byte for byte what a deflate stream gives`, async function () {
        this.timeout(60000);
        const wss = await server({ perMessageDeflate: { threshold: 0 } });
        const connection = once(wss, 'connection');
        const raw = await rawClient(wss.address().port, offer(cfg));
        track(raw.socket);
        const [ws] = await connection;
        const messages = [textOf(3 * MiB, 1), binaryOf(2 * MiB, 2), textOf(40000, 3), 'small'];
        const expected = await referencePayloads(messages, cfg);
        const spy = spyWriteChunks();
        const sent = [];
        try {
          messages.forEach((m, i) => ws.send(m, { compress: true }, (err) => sent.push([i, err || null])));
          await raw.waitFrames(messages.length);
        } finally {
          spy.restore();
        }
        assert.deepStrictEqual(sent, messages.map((m, i) => [i, null]), 'every send callback once, in order, without an error');
        raw.frames.forEach((f, i) => {
          assert.strictEqual(f.rsv1, true, `message ${i} compressed`);
          assert.strictEqual(f.opcode, typeof messages[i] === 'string' ? 1 : 2);
          assert.ok(f.payload.equals(expected[i].payload), `message ${i}: the bytes of a deflate stream, trailer removed`);
        });
        // The three large ones went out as a header and zlib's chunks (the small one merged, as before).
        assert.deepStrictEqual(
          spy.calls.map((c) => c.bytes),
          expected.slice(0, 3).map((e) => e.payload.length),
          'header + chunks for each large message',
        );
        assert.ok(spy.calls.every((c) => c.chunks > 1));
        spy.calls.forEach((c, i) => assert.ok(c.header.equals(raw.frames[i].bytes.subarray(0, c.header.length))));
      });

      it(`${name}: a ws client's large messages echoed compressed arrive intact (text and binary)`, async function () {
        this.timeout(60000);
        const wss = await server({ perMessageDeflate: { threshold: 0 } });
        wss.on('connection', (ws) => ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary, compress: true })));
        const client = track(
          new WS(`ws://127.0.0.1:${wss.address().port}`, {
            maxPayload: 0,
            perMessageDeflate: { serverMaxWindowBits: cfg.windowBits, serverNoContextTakeover: !cfg.takeover },
          }),
        );
        await once(client, 'open');
        const params = client._extensions['permessage-deflate'].params;
        assert.strictEqual(params.server_max_window_bits, cfg.windowBits);
        assert.strictEqual(!!params.server_no_context_takeover, !cfg.takeover);
        const messages = [textOf(4 * MiB, 11), binaryOf(3 * MiB, 12), binaryOf(5 * MiB + 3, 13)];
        const got = [];
        client.on('message', (d, isBinary) => got.push([d, isBinary]));
        for (const m of messages) client.send(m);
        while (got.length < messages.length) await once(client, 'message');
        got.forEach(([d, isBinary], i) => {
          const m = messages[i];
          assert.strictEqual(isBinary, typeof m !== 'string');
          assert.ok(typeof m === 'string' ? d.toString() === m : d.equals(m), `message ${i} intact`);
        });
      });
    }

    it('bufferedAmount: the message is counted while compressed, then as the frame handed to the socket; terminate mid-compress fails the callbacks in order', async function () {
      this.timeout(30000);
      const wss = await server({ perMessageDeflate: { threshold: 0 } });
      const connection = once(wss, 'connection');
      // A raw client that never reads: what is written stays buffered in this process.
      const raw = await rawClient(wss.address().port, offer({ windowBits: 15, takeover: true }));
      track(raw.socket);
      raw.socket.pause();
      const [ws] = await connection;
      // Random bytes: the frame (as large as the message) is more than the kernel takes from a peer
      // that does not read.
      const big = crypto.randomBytes(16 * MiB);
      const expected = await referencePayloads([big], { windowBits: 15, takeover: true });
      const log = [];
      ws.send(big, { compress: true }, (err) => log.push(['first', err ? err.message : null]));
      assert.strictEqual(ws.bufferedAmount, big.length, 'the message, while zlib works on it');
      await new Promise((resolve) => {
        const check = () => (ws.bufferedAmount !== big.length ? resolve() : setTimeout(check, 2));
        check();
      });
      // The frame went to the socket: the kernel took some of it, the rest is buffered here.
      const frameSize = 10 + expected[0].payload.length;
      const buffered = ws.bufferedAmount;
      assert.ok(buffered > 0 && buffered <= frameSize, `${buffered} of a ${frameSize}-byte frame`);
      // Two more, then terminate while the second is being compressed.
      ws.send(big, { compress: true }, (err) => log.push(['second', err ? 'error' : null]));
      ws.send('third', { compress: true }, (err) => log.push(['third', err ? 'error' : null]));
      ws.terminate();
      await once(ws, 'close');
      while (log.length < 3) await new Promise((r) => setTimeout(r, 5));
      assert.deepStrictEqual(
        log.map((l) => l[0]),
        ['first', 'second', 'third'],
      );
      assert.strictEqual(log[1][1], 'error');
      assert.strictEqual(log[2][1], 'error');
    });
  });

  describe('a weft client', () => {
    for (const cfg of [
      { windowBits: 15, takeover: true },
      { windowBits: 10, takeover: false },
    ]) {
      it(`window ${cfg.windowBits}, context takeover ${cfg.takeover ? 'on' : 'off'}: two clients' large messages (masked per connection) reach a ws server intact, the same compressed bytes as a deflate stream`, async function () {
        this.timeout(60000);
        // What ws's server hands its inflater: the unmasked compressed payload of each message.
        const seen = [];
        const decompress = WsPerMessageDeflate.prototype.decompress;
        WsPerMessageDeflate.prototype.decompress = function (data, fin, cb) {
          seen.push(Buffer.from(data));
          return decompress.call(this, data, fin, cb);
        };
        try {
          const wss = track(new WS.WebSocketServer({ port: 0, host: '127.0.0.1', maxPayload: 0, perMessageDeflate: { threshold: 0 } }));
          await once(wss, 'listening');
          const perConnection = [];
          wss.on('connection', (ws) => {
            const list = [];
            perConnection.push(list);
            ws.on('message', (d, isBinary) => list.push([d, isBinary]));
          });
          const messages = [textOf(3 * MiB, 31), binaryOf(2 * MiB + 1, 32)];
          const clients = [];
          for (let i = 0; i < 2; i++) {
            const c = track(
              new WebSocket(`ws://127.0.0.1:${wss.address().port}`, {
                perMessageDeflate: { clientMaxWindowBits: cfg.windowBits, clientNoContextTakeover: !cfg.takeover },
              }),
            );
            await once(c, 'open');
            clients.push(c);
          }
          for (const m of messages) for (const c of clients) c.send(m, { compress: true });
          while (perConnection.length < 2 || perConnection.some((l) => l.length < messages.length)) await new Promise((r) => setTimeout(r, 10));
          for (const list of perConnection) {
            list.forEach(([d, isBinary], i) => {
              assert.strictEqual(isBinary, typeof messages[i] !== 'string');
              assert.ok(d.equals(Buffer.from(messages[i])), `message ${i} intact`);
            });
          }
          // Each connection compressed the same sequence: the same bytes, those of a deflate stream.
          const expected = await referencePayloads(messages, cfg);
          assert.strictEqual(seen.length, 4);
          assert.strictEqual(seen.filter((p) => p.equals(expected[0].payload)).length, 2, 'message 0: a deflate stream\'s bytes, trailer removed');
          assert.strictEqual(seen.filter((p) => p.equals(expected[1].payload)).length, 2, 'message 1: a deflate stream\'s bytes, trailer removed');
        } finally {
          WsPerMessageDeflate.prototype.decompress = decompress;
        }
      });
    }
  });

  describe('the trailer split across chunks', () => {
    // Node's zlib never ends a sync flush in the last 4 bytes of an output chunk by itself: when its
    // output buffer fills inside the flush marker, it calls deflate again and the marker comes whole in
    // the next chunk (measured: over 3000 inputs at a 64-byte chunkSize, the last chunk was never under
    // 5 bytes). Another zlib need not, so the split is forced here: every chunk a deflate stream emits
    // is cut into three (all but its last 3 bytes, 2 bytes, 1 byte), which puts the trailer's
    // 00 | 00 ff | ff across the last three chunks of each message.
    function splitDeflateOutput() {
      const orig = zlib.createDeflateRaw;
      const set = (fn) => Object.defineProperty(zlib, 'createDeflateRaw', { value: fn, writable: false, enumerable: true, configurable: true });
      const lasts = [];
      set(function (opts) {
        const stream = orig.call(zlib, opts);
        const push = stream.push;
        const lengths = [];
        lasts.push(lengths);
        stream.push = function (chunk) {
          if (chunk === null || chunk.length < 4) {
            if (chunk !== null) lengths.push(chunk.length);
            return push.call(this, chunk);
          }
          const n = chunk.length;
          lengths.push(n - 3, 2, 1);
          push.call(this, chunk.subarray(0, n - 3));
          push.call(this, chunk.subarray(n - 3, n - 1));
          return push.call(this, chunk.subarray(n - 1));
        };
        return stream;
      });
      return { lasts, restore: () => set(orig) };
    }

    for (const [label, size] of [
      // (Over INLINE_MAX of input, so that zlib's output goes through the stream, where the split is made.)
      ['a frame merged behind its header (under 16 KiB compressed)', 24000],
      ['a header and the chunks (over 16 KiB compressed)', 3 * MiB],
    ]) {
      it(`ws.send: ${label}: the frame carries exactly the deflate bytes, and a ws client inflates it`, async function () {
        this.timeout(30000);
        const cfg = { windowBits: 15, takeover: true };
        const input = Buffer.from(textOf(size, 41));
        const [expected] = await referencePayloads([input], cfg);
        const split = splitDeflateOutput();
        const spy = spyWriteChunks();
        try {
          const wss = await server({ perMessageDeflate: { threshold: 0 } });
          const connection = once(wss, 'connection');
          const raw = await rawClient(wss.address().port, offer(cfg));
          track(raw.socket);
          const [ws] = await connection;
          ws.send(input, { binary: true, compress: true });
          await raw.waitFrames(1);
          assert.strictEqual(raw.frames[0].rsv1, true);
          assert.ok(raw.frames[0].payload.equals(expected.payload), 'the payload is the deflate output, trailer removed');
          assert.strictEqual(split.lasts.length, 1, 'one deflate stream');
          assert.deepStrictEqual(split.lasts[0].slice(-2), [2, 1], 'its output ended in chunks of 2 and 1 bytes');
          assert.strictEqual(spy.calls.length, size > MiB ? 1 : 0, 'header and chunks only for the large one');
          // And an independent peer: ws inflates it to the input.
          const client = track(new WS(`ws://127.0.0.1:${wss.address().port}`, { maxPayload: 0 }));
          const [[ws2]] = await Promise.all([once(wss, 'connection'), once(client, 'open')]);
          ws2.send(input, { binary: true, compress: true });
          const [data] = await once(client, 'message');
          assert.ok(data.equals(input));
        } finally {
          split.restore();
          spy.restore();
        }
      });
    }

    it('a weft client: the masked frame built from split chunks carries exactly the deflate bytes', async function () {
      this.timeout(30000);
      const seen = [];
      const decompress = WsPerMessageDeflate.prototype.decompress;
      WsPerMessageDeflate.prototype.decompress = function (data, fin, cb) {
        seen.push(Buffer.from(data));
        return decompress.call(this, data, fin, cb);
      };
      const split = splitDeflateOutput();
      try {
        const wss = track(new WS.WebSocketServer({ port: 0, host: '127.0.0.1', maxPayload: 0, perMessageDeflate: { threshold: 0 } }));
        await once(wss, 'listening');
        const input = Buffer.from(textOf(MiB + 7, 44));
        const [expected] = await referencePayloads([input], { windowBits: 15, takeover: true });
        const received = new Promise((resolve) => wss.on('connection', (ws) => ws.on('message', resolve)));
        const c = track(new WebSocket(`ws://127.0.0.1:${wss.address().port}`));
        await once(c, 'open');
        c.send(input, { compress: true });
        const data = await received;
        assert.ok(data.equals(input));
        assert.strictEqual(seen.length, 1);
        assert.ok(seen[0].equals(expected.payload), 'the deflate output, trailer removed');
        assert.deepStrictEqual(split.lasts[0].slice(-2), [2, 1]);
      } finally {
        WsPerMessageDeflate.prototype.decompress = decompress;
        split.restore();
      }
    });

    it('publish: the shared deflate split there reaches every subscriber as the exact deflate bytes', async function () {
      this.timeout(30000);
      const input = Buffer.from(textOf(2 * MiB, 43));
      const expected = zlib.deflateRawSync(input, { windowBits: 15, finishFlush: zlib.constants.Z_SYNC_FLUSH });
      const wss = await server({ perMessageDeflate: { threshold: 0 } });
      wss.on('connection', (ws) => ws.subscribe('t'));
      const raws = [];
      for (let i = 0; i < 2; i++) {
        const raw = await rawClient(wss.address().port, offer({ windowBits: 15, takeover: false }));
        track(raw.socket);
        raws.push(raw);
      }
      const client = track(new WS(`ws://127.0.0.1:${wss.address().port}`, { maxPayload: 0, perMessageDeflate: { serverNoContextTakeover: true } }));
      await once(client, 'open');
      while (wss.clients.size < 3) await new Promise((r) => setTimeout(r, 5));
      const split = splitDeflateOutput();
      let message;
      try {
        message = once(client, 'message');
        wss.publish('t', input, { binary: true, compress: true });
        await Promise.all(raws.map((r) => r.waitFrames(1)));
      } finally {
        split.restore();
      }
      const [data] = await message;
      for (const raw of raws) assert.ok(raw.frames[0].payload.equals(expected.subarray(0, expected.length - 4)), 'exactly the deflate output, trailer removed');
      assert.strictEqual(split.lasts.length, 1, 'one deflate for the three');
      assert.deepStrictEqual(split.lasts[0].slice(-2), [2, 1]);
      assert.ok(data.equals(input));
    });
  });

  describe('server.publish(topic, data, { compress: true })', () => {
    it('subscribers of several window sizes: each size gets its deflate, identical bytes for all of that size; ws subscribers inflate it', async function () {
      this.timeout(60000);
      const wss = await server({ perMessageDeflate: { threshold: 0 } });
      wss.on('connection', (ws) => ws.subscribe('big'));
      const sizes = [9, 11, 15];
      const raws = {};
      const clients = [];
      for (const bits of sizes) {
        raws[bits] = [];
        for (let i = 0; i < 2; i++) {
          const raw = await rawClient(wss.address().port, offer({ windowBits: bits, takeover: false }));
          track(raw.socket);
          raws[bits].push(raw);
        }
        const c = track(new WS(`ws://127.0.0.1:${wss.address().port}`, { maxPayload: 0, perMessageDeflate: { serverNoContextTakeover: true, serverMaxWindowBits: bits } }));
        c.received = [];
        c.on('message', (d, isBinary) => c.received.push([d, isBinary]));
        await once(c, 'open');
        clients.push(c);
      }
      while (wss.clients.size < sizes.length * 3) await new Promise((r) => setTimeout(r, 5));
      const text = textOf(3 * MiB, 51);
      const binary = binaryOf(2 * MiB, 52);
      // Deflated off the main thread too, but to a few KiB: merged behind its header, as before.
      const small = 'a'.repeat(MiB);
      const spy = spyWriteChunks();
      let results;
      try {
        results = [text, binary, small].map((m) => wss.publish('big', m, { compress: true }));
        await Promise.all(sizes.flatMap((bits) => raws[bits].map((r) => r.waitFrames(3))));
      } finally {
        spy.restore();
      }
      for (const r of results) assert.strictEqual(r.sent + r.backpressure, sizes.length * 3);
      for (const bits of sizes) {
        const [a, b] = raws[bits];
        for (const [i, m] of [text, binary, small].entries()) {
          const expected = zlib.deflateRawSync(m, { windowBits: bits, finishFlush: zlib.constants.Z_SYNC_FLUSH });
          assert.ok(expected.subarray(-4).equals(TRAILER));
          assert.ok(a.frames[i].bytes.equals(b.frames[i].bytes), `window ${bits}, message ${i}: the same frame for both`);
          assert.strictEqual(a.frames[i].rsv1, true);
          assert.strictEqual(a.frames[i].opcode, i === 1 ? 2 : 1);
          assert.ok(a.frames[i].payload.equals(expected.subarray(0, expected.length - 4)), `window ${bits}, message ${i}: zlib's deflate, trailer removed`);
        }
      }
      // The two large frames went out to every subscriber as a header and zlib's chunks (2 x 9).
      assert.strictEqual(spy.calls.length, 2 * sizes.length * 3);
      assert.ok(spy.calls.every((c) => c.chunks > 1));
      for (const c of clients) {
        while (c.received.length < 3) await once(c, 'message');
        assert.strictEqual(c.received[2][0].toString(), small);
        assert.strictEqual(c.received[0][1], false);
        assert.strictEqual(c.received[0][0].toString(), text);
        assert.strictEqual(c.received[1][1], true);
        assert.ok(c.received[1][0].equals(binary));
      }
    });
  });

  it("ws's Sender shape (compat): a large compressed send leaves as a header and zlib's chunks, the deflate bytes", async function () {
    this.timeout(30000);
    const srv = track(net.createServer());
    srv.listen(0, '127.0.0.1');
    await once(srv, 'listening');
    const accepted = once(srv, 'connection');
    const peer = track(net.connect(srv.address().port, '127.0.0.1'));
    const [socket] = await accepted;
    track(socket);
    const { server: pmd } = negotiatedPair({}, {});
    const sender = new Sender(socket, { 'permessage-deflate': pmd });
    const calls = [];
    const writeChunks = Sender.prototype.writeChunks;
    sender.writeChunks = function (header, chunks, cb) {
      calls.push(chunks.length);
      return writeChunks.call(this, header, chunks, cb);
    };
    const input = textOf(2 * MiB, 71);
    const [expected] = await referencePayloads([input], { windowBits: 15, takeover: true });
    const parts = [];
    let total = 0;
    peer.on('data', (c) => {
      parts.push(c);
      total += c.length;
    });
    const done = new Promise((resolve, reject) => sender.send(input, { binary: false, compress: true, fin: true, mask: false }, (err) => (err ? reject(err) : resolve())));
    await done;
    while (total < 10 + expected.payload.length) await once(peer, 'data');
    const bytes = Buffer.concat(parts);
    assert.strictEqual(bytes[0], 0xc1, 'FIN, RSV1, text');
    assert.strictEqual(bytes[1], 127);
    assert.strictEqual(bytes.readUInt32BE(6), expected.payload.length);
    assert.ok(bytes.subarray(10).equals(expected.payload), 'the deflate output, trailer removed');
    assert.strictEqual(calls.length, 1);
    assert.ok(calls[0] > 1);
    pmd.cleanup();
  });

  it('a large message without context takeover borrows a stream with large output buffers; none outlives the connection', async function () {
    this.timeout(30000);
    const tracker = trackZlib();
    try {
      const wss = await server({ perMessageDeflate: { threshold: 0 } });
      const connection = once(wss, 'connection');
      const raw = await rawClient(wss.address().port, offer({ windowBits: 15, takeover: false }));
      track(raw.socket);
      const [ws] = await connection;
      ws.send(textOf(MiB, 61), { compress: true });
      ws.send(textOf(1000, 62), { compress: true });
      await raw.waitFrames(2);
      const deflates = tracker.streams.filter((s) => s.__kind === 'deflate');
      assert.deepStrictEqual(
        deflates.map((s) => (s.__opts.chunkSize === undefined ? 'default' : s.__opts.chunkSize)),
        [65536, 'default'],
        'one stream with 64 KiB output buffers for the large message, one with the default for the small one',
      );
      ws.terminate();
      await once(ws, 'close');
      await new Promise((r) => setTimeout(r, 20));
      assert.strictEqual(tracker.live().filter((s) => s.__kind === 'deflate').length, 0, 'every deflate stream closed with the last connection');
    } finally {
      tracker.restore();
    }
  });
});
