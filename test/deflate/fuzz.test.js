'use strict';
// Seeded fuzz of the inflate path through the core: a server Connection with weft's PerMessageDeflate
// is fed client traffic mixing valid compressed messages (made by ws's PerMessageDeflate, an independent
// compressor), fragmented ones with pings in between, uncompressed ones, garbage and bit-flipped deflate
// data, bombs, invalid UTF-8, protocol violations and close frames — in random chunks, at random times,
// with the codec's answers randomly delayed, many connections at once so the limiter interleaves them.
//
// Invariants: nothing throws; after an error exactly one close frame goes out, with the error's status
// (1002, 1007 or 1009), and no message follows; every delivered message is the one sent at that place;
// the same bytes cut and timed differently give the same trace; closing the connection while an
// inflate is pending is quiet. Set WEFT_FUZZ_CASES to run more cases; a failing seed is printed and
// belongs in SEEDS below.

const assert = require('assert');
const zlib = require('zlib');
const ws = require('ws');
const { Connection } = require('../../dist/lib/protocol/connection');
const { PerMessageDeflate } = require('../../dist/lib/deflate/permessage-deflate');
const { kStatusCode } = require('../../dist/lib/protocol/constants');
const { RecordingSink, cframe, prng } = require('../protocol/helpers');
const { accepted } = require('./helpers');
const { parseFrames } = require('../support/frames');

/** Seeds kept from earlier failures (none so far), run before the random ones. */
const SEEDS = [];
const CASES = Number(process.env.WEFT_FUZZ_CASES) || 400;
const BATCH = 16;

const HEADERS = [
  'permessage-deflate',
  'permessage-deflate; client_no_context_takeover',
  'permessage-deflate; client_max_window_bits=9',
  'permessage-deflate; server_no_context_takeover; client_no_context_takeover; client_max_window_bits=10',
];

const pick = (rnd, list) => list[Math.floor(rnd() * list.length)];
const int = (rnd, n) => Math.floor(rnd() * n);

function randomBytes(rnd, n) {
  const b = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) b[i] = int(rnd, 256);
  return b;
}

const ALPHABET = ['a', 'b', 'c', ' ', 'é', '✓', '😀', 'weft ', 'zlib '].map((s) => Buffer.from(s));

function randomText(rnd, n) {
  const pieces = [];
  let len = 0;
  while (len < n) {
    const p = pick(rnd, ALPHABET);
    pieces.push(p);
    len += p.length;
  }
  return Buffer.concat(pieces, len);
}

/** One test case: the client's bytes and what the server should deliver, message by message. */
async function generate(seed) {
  const rnd = prng(seed);
  const header = pick(rnd, HEADERS);
  const maxPayload = pick(rnd, [0, 3000, 70000]);
  const ref = accepted(ws.PerMessageDeflate, false, header, { threshold: 0 });
  const deflate = (data) => new Promise((resolve) => ref.compress(data, true, (err, out) => resolve(out)));
  const parts = [];
  // Per data message: { data: Buffer | null (unknown), mustFail: boolean }.
  const expected = [];
  let unknown = false; // a corrupt message got through: later contents cannot be predicted

  const ping = () => cframe({ opcode: 9, payload: randomBytes(rnd, int(rnd, 4)) });
  const message = (opcode, payload, rsv1) => {
    // Split the payload into 1–4 frames (empty ones allowed), with pings between some of them.
    const k = 1 + int(rnd, 4);
    const cuts = [0];
    for (let i = 1; i < k; i++) cuts.push(int(rnd, payload.length + 1));
    cuts.push(payload.length);
    cuts.sort((a, b) => a - b);
    for (let i = 0; i < k; i++) {
      parts.push(cframe({ opcode: i === 0 ? opcode : 0, rsv1: rsv1 && i === 0, fin: i === k - 1, payload: payload.subarray(cuts[i], cuts[i + 1]) }));
      if (i < k - 1 && rnd() < 0.3) parts.push(ping());
    }
  };

  const count = 1 + int(rnd, 12);
  for (let i = 0; i < count; i++) {
    const r = rnd();
    const binary = rnd() < 0.5;
    if (r < 0.42) {
      // A valid compressed message.
      const size = rnd() < 0.1 ? 20000 + int(rnd, 100000) : int(rnd, 3000);
      const data = binary ? randomBytes(rnd, size).fill(int(rnd, 4), 0, size >> 1) : randomText(rnd, size);
      message(binary ? 2 : 1, await deflate(data), true);
      expected.push({ data: unknown ? null : data, mustFail: false });
    } else if (r < 0.52) {
      // A valid uncompressed message (RSV1 clear is legal with permessage-deflate).
      const data = binary ? randomBytes(rnd, int(rnd, 2000)) : randomText(rnd, int(rnd, 2000));
      message(binary ? 2 : 1, data, false);
      expected.push({ data, mustFail: false });
    } else if (r < 0.58) {
      parts.push(ping());
    } else if (r < 0.65) {
      // Garbage "deflate" data: usually 1007, sometimes it inflates to something.
      message(2, randomBytes(rnd, int(rnd, 300)), true);
      expected.push({ data: null, mustFail: false });
      unknown = true;
    } else if (r < 0.72) {
      // A valid message with flipped bits.
      const data = randomText(rnd, 10 + int(rnd, 2000));
      const payload = Buffer.from(await deflate(data));
      for (let f = 0; f <= int(rnd, 3); f++) if (payload.length) payload[int(rnd, payload.length)] ^= 1 << int(rnd, 8);
      message(binary ? 2 : 1, payload, true);
      expected.push({ data: null, mustFail: false });
      unknown = true;
    } else if (r < 0.77) {
      // A bomb: small on the wire, large inflated.
      const data = Buffer.alloc(100000 + int(rnd, 300000));
      message(2, await deflate(data), true);
      expected.push({ data: unknown ? null : data, mustFail: maxPayload > 0 });
    } else if (r < 0.82) {
      // Invalid UTF-8 in a compressed text message: 1007.
      message(1, await deflate(Buffer.from([0x61, 0xff, 0xfe, 0x62])), true);
      expected.push({ data: null, mustFail: true });
    } else if (r < 0.88) {
      // A protocol violation: RSV1 on a control frame, or on a continuation, or an unmasked frame.
      const v = int(rnd, 3);
      if (v === 0) parts.push(cframe({ opcode: 9, rsv1: true, payload: Buffer.from('x') }));
      else if (v === 1) parts.push(cframe({ opcode: 0, rsv1: true, payload: Buffer.from('x') }));
      else parts.push(Buffer.from([0x82, 0x01, 0x00]));
    } else if (r < 0.92) {
      parts.push(cframe({ opcode: 8, payload: Buffer.from([0x03, 0xe8]) }));
    } else {
      // A message whose deflate data ends in a final block (BFINAL, RFC 7692 §7.2.3.4).
      const data = randomText(rnd, int(rnd, 500));
      message(1, zlib.deflateRawSync(data), true);
      expected.push({ data: null, mustFail: false });
      unknown = true;
    }
  }
  ref.cleanup();
  return { header, maxPayload, bytes: Buffer.concat(parts), expected };
}

/** A codec wrapper that delays each answer at random: next tick, next turn, or a timer. */
function delaying(inner, rnd) {
  const later = (cb, err, out) => {
    const d = rnd();
    if (d < 0.25) cb(err, out);
    else if (d < 0.5) process.nextTick(cb, err, out);
    else if (d < 0.8) setImmediate(cb, err, out);
    else setTimeout(cb, int(rnd, 3), err, out);
  };
  const c = {
    inflight: 0,
    decompress(data, fin, cb) { c.inflight++; inner.decompress(data, fin, (e, o) => later((e2, o2) => { c.inflight--; cb(e2, o2); }, e, o)); },
    compress(data, fin, cb) { c.inflight++; inner.compress(data, fin, (e, o) => later((e2, o2) => { c.inflight--; cb(e2, o2); }, e, o)); },
    shouldCompress: (n) => inner.shouldCompress(n),
    cleanup: () => inner.cleanup(),
  };
  return c;
}

/** Feeds `bytes` to a fresh server connection, cut and timed by `feedSeed`; returns what happened. */
async function run(testCase, feedSeed, abortAt = -1) {
  const rnd = prng(feedSeed);
  const pmd = accepted(PerMessageDeflate, true, testCase.header, { maxPayload: testCase.maxPayload });
  const codec = delaying(pmd, rnd);
  const sink = new RecordingSink();
  const conn = new Connection(sink, { isServer: true, codec, maxPayload: testCase.maxPayload });
  const bytes = testCase.bytes;
  let pos = 0;
  let chunk = 0;
  let aborted = false;
  while (pos < bytes.length) {
    const n = 1 + int(rnd, rnd() < 0.5 ? 16 : 4096);
    conn.receiveData(Buffer.from(bytes.subarray(pos, pos + n)));
    pos += n;
    if (chunk++ === abortAt) {
      // The transport closes while an inflate may be pending: what the face does on 'close'.
      conn.closed();
      pmd.cleanup();
      aborted = true;
      break;
    }
    const t = rnd();
    if (t < 0.3) await new Promise((r) => setImmediate(r));
    else if (t < 0.35) await new Promise((r) => setTimeout(r, 1));
  }
  // Settle: every codec answer has landed and nothing is queued any more.
  for (let quiet = 0; quiet < 3;) {
    await new Promise((r) => setImmediate(r));
    if (codec.inflight === 0) quiet++;
    else { quiet = 0; await new Promise((r) => setTimeout(r, 1)); }
  }
  pmd.cleanup();
  const messages = [];
  const msgSink = sink.trace.filter((t) => t[0] === 'message');
  for (const t of msgSink) messages.push(Buffer.from(t[2], 'hex'));
  return { sink, trace: sink.trace, written: sink.written.map((b) => b.toString('hex')), messages, aborted };
}

function checkInvariants(testCase, result, label) {
  const { trace, sink } = result;
  const errorAt = trace.findIndex((t) => t[0] === 'error');
  const errors = trace.filter((t) => t[0] === 'error');
  assert.ok(errors.length <= 1, `${label}: more than one error`);
  if (errorAt !== -1) {
    // Nothing is delivered after an error.
    assert.ok(trace.slice(errorAt + 1).every((t) => t[0] === 'end'), `${label}: events after the error: ${JSON.stringify(trace.slice(errorAt))}`);
    assert.ok([1002, 1007, 1009].includes(errors[0][2]), `${label}: status ${errors[0][2]}`);
  }
  // At most one close frame; after an error exactly one, carrying the error's status. (A server's
  // frames: unmasked.)
  const closes = parseFrames(Buffer.concat(sink.written), { masked: false }).filter((f) => f.opcode === 8);
  assert.ok(closes.length <= 1, `${label}: ${closes.length} close frames`);
  if (errorAt !== -1 && !trace.slice(0, errorAt).some((t) => t[0] === 'close')) {
    assert.strictEqual(closes.length, 1, `${label}: no close frame after the error`);
    assert.strictEqual(closes[0].payload.readUInt16BE(0), errors[0][2], `${label}: close status`);
  }
  // Every delivered message is the one sent at that place.
  assert.ok(result.messages.length <= testCase.expected.length, `${label}: too many messages`);
  result.messages.forEach((m, i) => {
    const want = testCase.expected[i];
    assert.ok(!want.mustFail, `${label}: message ${i} should have failed`);
    if (want.data !== null) assert.ok(m.equals(want.data), `${label}: message ${i} differs`);
  });
  // With no error, no close and the input complete, everything arrived.
  if (!result.aborted && errorAt === -1 && !trace.some((t) => t[0] === 'close')) {
    assert.strictEqual(result.messages.length, testCase.expected.length, `${label}: messages missing`);
  }
}

describe('permessage-deflate fuzz (inflate path through the core)', function () {
  this.timeout(120000);

  it(`${SEEDS.length} kept seeds + ${CASES} random cases, ${BATCH} connections at a time`, async function () {
    const seeds = [...SEEDS];
    for (let i = 0; i < CASES; i++) seeds.push(0x5eed0000 + i);
    let errorsSeen = 0;
    let messagesSeen = 0;
    let closesSeen = 0;
    const statuses = new Set();
    for (let b = 0; b < seeds.length; b += BATCH) {
      await Promise.all(seeds.slice(b, b + BATCH).map(async (seed) => {
        const label = `seed ${seed}`;
        try {
          const testCase = await generate(seed);
          const a = await run(testCase, seed ^ 0xa5a5);
          const c = await run(testCase, seed ^ 0x5a5a);
          checkInvariants(testCase, a, label);
          checkInvariants(testCase, c, label);
          // Cut and timed differently, the same bytes give the same events and the same output.
          assert.deepStrictEqual(c.trace, a.trace, `${label}: trace depends on chunking/timing`);
          assert.deepStrictEqual(c.written, a.written, `${label}: output depends on chunking/timing`);
          // Closing mid-stream (maybe while inflating) is quiet and delivers a prefix of the same trace.
          const cut = await run(testCase, seed ^ 0x3c3c, 1 + (seed % 7));
          checkInvariants(testCase, cut, `${label} (closed early)`);
          const delivered = cut.trace.filter((t) => t[0] === 'message');
          assert.deepStrictEqual(delivered, a.trace.filter((t) => t[0] === 'message').slice(0, delivered.length));
          const err = a.trace.find((t) => t[0] === 'error');
          if (err) { errorsSeen++; statuses.add(err[2]); }
          if (a.trace.some((t) => t[0] === 'close')) closesSeen++;
          messagesSeen += a.messages.length;
        } catch (e) {
          e.message = `${label}: ${e.message}`;
          throw e;
        }
      }));
    }
    // The generator reached every path it is meant to.
    assert.ok(messagesSeen > seeds.length, `messages ${messagesSeen}`);
    assert.ok(closesSeen > 0);
    assert.deepStrictEqual([...statuses].sort(), [1002, 1007, 1009]);
    assert.ok(errorsSeen > 10);
  });

  it('an error arriving while an inflate is pending waits its turn (queued input, explicit state)', async function () {
    const ref = accepted(ws.PerMessageDeflate, false, 'permessage-deflate', { threshold: 0 });
    const big = await new Promise((r) => ref.compress(Buffer.alloc(500000, 'a'), true, (e, o) => r(o)));
    ref.cleanup();
    const pmd = accepted(PerMessageDeflate, true, 'permessage-deflate');
    const sink = new RecordingSink();
    const conn = new Connection(sink, { isServer: true, codec: pmd.codec() });
    // One chunk: the compressed message, a ping, then a violation; all behind the pending inflate.
    conn.receiveData(Buffer.concat([
      cframe({ opcode: 2, rsv1: true, payload: big }),
      cframe({ opcode: 9, payload: Buffer.from('p') }),
      cframe({ opcode: 9, rsv1: true, payload: Buffer.from('x') }),
      cframe({ opcode: 2, payload: Buffer.from('never') }),
    ]));
    assert.deepStrictEqual(sink.trace, [], 'nothing is processed while the inflate is pending');
    assert.ok(conn.parser.queuedChunks > 0);
    await new Promise((r) => { const t = setInterval(() => { if (sink.trace.length >= 3) { clearInterval(t); r(); } }, 1); });
    const trace = sink.trace.filter((t) => t[0] !== 'end');
    assert.deepStrictEqual(trace.map((t) => t.slice(0, 2)), [['message', 'binary'], ['ping', '70'], ['error', 'WS_ERR_UNEXPECTED_RSV_1']]);
    assert.strictEqual(trace[2][2], 1002);
    // The pong for the ping, then one close frame with 1002; the frame after the violation is ignored.
    const out = parseFrames(Buffer.concat(sink.written), { masked: false });
    assert.deepStrictEqual(out.map((f) => f.opcode), [0xa, 0x8]);
    assert.strictEqual(out[1].payload.readUInt16BE(0), 1002);
    pmd.cleanup();
  });

  it('kStatusCode is the core\'s symbol on every codec error', async function () {
    const pmd = accepted(PerMessageDeflate, true, 'permessage-deflate', { maxPayload: 10 });
    // 0xff: a final block of the reserved type 3, which zlib rejects.
    const e1 = await new Promise((r) => pmd.decompress(Buffer.from([0xff, 0xff]), true, r));
    const e2 = await new Promise((r) => pmd.decompress(zlib.deflateRawSync(Buffer.alloc(1000)), true, r));
    assert.strictEqual(e1[kStatusCode], 1007);
    assert.strictEqual(e2[kStatusCode], 1009);
    pmd.cleanup();
  });
});
