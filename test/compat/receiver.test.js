'use strict';
// ws's exported Receiver, differential: the same chunks are written to ws 8.23's Receiver and to weft's,
// and the traces (events, write callbacks and their order) must be equal; the key expectations are also
// spelled out, so that a change in both libraries would not pass unnoticed.
const assert = require('assert');
const zlib = require('zlib');
const ws = require('ws');
const weft = require('../..');

const kStatus = (err) => {
  const sym = Object.getOwnPropertySymbols(err).find((s) => String(s) === 'Symbol(status-code)');
  return sym === undefined ? undefined : err[sym];
};

/** An unmasked frame (the client role reads these). */
function frame(opcode, payload, { fin = true, rsv1 = false } = {}) {
  const body = Buffer.from(payload);
  const b1 = body.length < 126 ? body.length : 126;
  const head = Buffer.from([(fin ? 0x80 : 0) | (rsv1 ? 0x40 : 0) | opcode, b1]);
  const ext = b1 === 126 ? Buffer.from([body.length >> 8, body.length & 0xff]) : Buffer.alloc(0);
  return Buffer.concat([head, ext, body]);
}

/** A masked frame (the server role reads these). */
function masked(opcode, payload, { fin = true, rsv1 = false } = {}) {
  const body = Buffer.from(payload);
  const key = Buffer.from([0x37, 0xfa, 0x21, 0x3d]);
  const out = Buffer.alloc(6 + body.length);
  out[0] = (fin ? 0x80 : 0) | (rsv1 ? 0x40 : 0) | opcode;
  out[1] = 0x80 | body.length;
  key.copy(out, 2);
  for (let i = 0; i < body.length; i++) out[6 + i] = body[i] ^ key[i & 3];
  return out;
}

/** RFC 7692: a message's deflated bytes without the 00 00 ff ff tail, split into `parts` pieces. */
function deflated(text, parts = 1) {
  const all = zlib.deflateRawSync(Buffer.from(text), { finishFlush: zlib.constants.Z_SYNC_FLUSH });
  const body = all.subarray(0, all.length - 4);
  const out = [];
  const step = Math.ceil(body.length / parts);
  for (let i = 0; i < parts; i++) out.push(body.subarray(i * step, Math.min(body.length, (i + 1) * step)));
  return out;
}

/** Each frame written as two chunks, its 2-byte header and then its payload (as ws's own tests feed it). */
function headerThenPayload(frames) {
  return frames.flatMap((f) => [f.subarray(0, 2), f.subarray(2)]);
}

/** One compressed message in frames (RSV1 on the first frame only). */
function compressedFrames(opcode, text, parts = 1) {
  return deflated(text, parts).map((piece, i) =>
    frame(i === 0 ? opcode : 0, piece, { fin: i === parts - 1, rsv1: i === 0 }));
}

function show(value) {
  if (Buffer.isBuffer(value)) return `buf:${value.toString('hex')}`;
  if (value instanceof ArrayBuffer) return `ab:${Buffer.from(value).toString('hex')}`;
  if (Array.isArray(value)) return `frags:${value.map((b) => b.toString('hex')).join(',')}`;
  if (typeof Blob === 'function' && value instanceof Blob) return `blob:${value.size}`;
  if (value instanceof Error) return `${value.constructor.name}/${value.code}/${kStatus(value)}/${value.message}`;
  return value;
}

/**
 * Writes `chunks` one after the other without waiting (as a socket's data handler does) and records
 * every event and write callback until all callbacks have run and the events they lead to are out.
 */
function drive(lib, { options = {}, deflate, chunks }) {
  const opts = { ...options };
  let pmd = null;
  if (deflate) {
    pmd = new lib.PerMessageDeflate({ ...deflate });
    pmd.accept([{}]);
    opts.extensions = { 'permessage-deflate': pmd };
  }
  const receiver = new lib.Receiver(opts);
  const events = [];
  for (const name of ['message', 'ping', 'pong', 'conclude', 'error', 'finish']) {
    receiver.on(name, (...args) => events.push([name, ...args.map(show)].join(' ')));
  }
  let failed = false;
  return new Promise((resolve) => {
    let left = chunks.length;
    chunks.forEach((chunk, i) => {
      receiver.write(Buffer.from(chunk), (err) => {
        // Writes that follow the first failed one are not compared on their error: the stream has failed
        // by then, and ws still parses such a chunk as if it began a frame where weft ignores it.
        if (failed) events.push(`write ${i} after the error`);
        else events.push(`write ${i}${err ? ` ${err.code}` : ''}`);
        if (err) failed = true;
        if (--left !== 0) return;
        setImmediate(() => setImmediate(() => {
          // Release the zlib streams (weft pools them process-wide), as a WebSocket does on close.
          if (pmd !== null) pmd.cleanup();
          resolve(events);
        }));
      });
    });
  });
}

/** Runs the case on both receivers; returns weft's trace after checking it equals ws's. */
async function same(scenario) {
  const theirs = await drive(ws, scenario);
  const mine = await drive(weft, scenario);
  assert.deepStrictEqual(mine, theirs);
  return mine;
}

describe('compat: Receiver (ws 8.23 differential)', () => {
  describe('compressed messages', () => {
    it('ignores any data after a close frame (a compressed message before it)', async () => {
      const trace = await same({
        deflate: {},
        chunks: [Buffer.concat(compressedFrames(1, 'first')), frame(8, ''), frame(1, 'after'), frame(1, 'more')],
      });
      assert.deepStrictEqual(trace.filter((e) => !e.startsWith('write')), [
        `message buf:${Buffer.from('first').toString('hex')} false`,
        'conclude 1005 buf:',
        'finish',
      ]);
    });

    it('keeps processing writes after a chunk that holds a compressed message plus more bytes', async () => {
      const trace = await same({
        deflate: {},
        chunks: [
          Buffer.concat([...compressedFrames(1, 'one'), frame(1, 'two')]),
          Buffer.concat([frame(1, 'three'), ...compressedFrames(2, 'four')]),
          frame(9, 'ping'),
        ],
      });
      const messages = trace.filter((e) => e.startsWith('message'));
      assert.deepStrictEqual(messages, [
        `message buf:${Buffer.from('one').toString('hex')} false`,
        `message buf:${Buffer.from('two').toString('hex')} false`,
        `message buf:${Buffer.from('three').toString('hex')} false`,
        `message buf:${Buffer.from('four').toString('hex')} true`,
      ]);
      assert.ok(trace.includes(`ping buf:${Buffer.from('ping').toString('hex')}`));
      assert.deepStrictEqual(trace.filter((e) => e.startsWith('write')), ['write 0', 'write 1', 'write 2']);
    });

    it('a write completes only after the inflate it started (callback after the message)', async () => {
      const trace = await same({ deflate: {}, chunks: [Buffer.concat(compressedFrames(1, 'hello')), frame(1, 'x')] });
      assert.ok(trace.indexOf('write 0') > trace.findIndex((e) => e.startsWith('message')));
    });

    it('emits WS_ERR_INVALID_UTF8 (1007) for invalid UTF-8 in a fragmented compressed text message', async () => {
      // Valid up to its last byte, which starts a sequence that never ends: only the message's end shows it.
      // (weft checks text as it arrives, so bytes that are wrong early fail on an earlier write than ws.)
      const pieces = zlib.deflateRawSync(Buffer.concat([Buffer.from('a text that ends in caf'), Buffer.from([0xc3])]), {
        finishFlush: zlib.constants.Z_SYNC_FLUSH,
      });
      const body = pieces.subarray(0, pieces.length - 4);
      const half = body.length >> 1;
      const trace = await same({
        deflate: {},
        chunks: headerThenPayload([frame(1, body.subarray(0, half), { fin: false, rsv1: true }), frame(0, body.subarray(half))]),
      });
      assert.ok(trace.includes('error Error/WS_ERR_INVALID_UTF8/1007/Invalid WebSocket frame: invalid UTF-8 sequence'), trace.join('\n'));
    });

    it('emits WS_ERR_INVALID_UTF8 (1007) for invalid UTF-8 split over uncompressed fragments', async () => {
      const trace = await same({ chunks: [frame(1, [0xe2, 0x82], { fin: false }), frame(0, [0x28])] });
      assert.ok(trace.includes('error Error/WS_ERR_INVALID_UTF8/1007/Invalid WebSocket frame: invalid UTF-8 sequence'));
    });

    it('emits WS_ERR_UNSUPPORTED_MESSAGE_LENGTH (1009) when one compressed frame inflates past maxPayload', async () => {
      const trace = await same({
        options: { maxPayload: 25 },
        deflate: { maxPayload: 25 },
        chunks: headerThenPayload(compressedFrames(1, 'A'.repeat(50))),
      });
      assert.ok(trace.includes('error RangeError/WS_ERR_UNSUPPORTED_MESSAGE_LENGTH/1009/Max payload size exceeded'), trace.join('\n'));
    });

    it('emits WS_ERR_UNSUPPORTED_MESSAGE_LENGTH (1009) when compressed fragments add up past maxPayload', async () => {
      // 30 bytes that barely compress, in two frames of about 15 inflated bytes each (limit 25).
      const text = 'abcdefghijklmnopqrstuvwxyz0123';
      const trace = await same({ options: { maxPayload: 25 }, deflate: { maxPayload: 25 }, chunks: headerThenPayload(compressedFrames(1, text, 2)) });
      assert.ok(trace.includes('error RangeError/WS_ERR_UNSUPPORTED_MESSAGE_LENGTH/1009/Max payload size exceeded'), trace.join('\n'));
    });

    it('emits WS_ERR_UNSUPPORTED_MESSAGE_LENGTH (1009) for an uncompressed frame or fragments past maxPayload', async () => {
      for (const chunks of [[frame(2, 'abcd')], [frame(2, 'ab', { fin: false }), frame(0, 'cd')]]) {
        const trace = await same({ options: { maxPayload: 3 }, chunks });
        assert.ok(trace.includes('error RangeError/WS_ERR_UNSUPPORTED_MESSAGE_LENGTH/1009/Max payload size exceeded'));
      }
    });

    it('emits ws\'s too-many-fragments error for a compressed message over maxFragments', async () => {
      const trace = await same({ options: { maxFragments: 1 }, deflate: {}, chunks: headerThenPayload(compressedFrames(1, 'foobar', 2)) });
      assert.ok(trace.includes('error RangeError/WS_ERR_TOO_MANY_BUFFERED_PARTS/1008/Too many message fragments'), trace.join('\n'));
    });

    it('emits ws\'s too-many-fragments error for an uncompressed message over maxFragments', async () => {
      const trace = await same({ options: { maxFragments: 2 }, chunks: [Buffer.concat([frame(2, 'a', { fin: false }), frame(0, 'b', { fin: false }), frame(0, 'c')])] });
      assert.ok(trace.includes('error RangeError/WS_ERR_TOO_MANY_BUFFERED_PARTS/1008/Too many message fragments'));
    });

    it('inflates with ws\'s own PerMessageDeflate under extensions too', async () => {
      const pmd = new ws.PerMessageDeflate();
      pmd.accept([{}]);
      const receiver = new weft.Receiver({ extensions: { 'permessage-deflate': pmd } });
      const got = [];
      receiver.on('message', (data) => got.push(data.toString()));
      for (const chunk of headerThenPayload([...compressedFrames(1, 'through ws'), frame(1, 'after')])) receiver.write(chunk);
      await new Promise((resolve) => receiver.end(resolve));
      pmd.cleanup();
      assert.deepStrictEqual(got, ['through ws', 'after']);
    });

    it('emits the inflate error of corrupt compressed data', async () => {
      const trace = await same({ deflate: {}, chunks: [frame(1, [0xff, 0xff, 0xff], { rsv1: true }), frame(1, 'x')] });
      assert.ok(trace.some((e) => e.startsWith('error') && e.includes('/1007/')), trace.join('\n'));
    });
  });

  describe('options and events', () => {
    const mixed = () => [
      masked(1, 'héllo'),
      masked(2, [1, 2, 3], { fin: false }),
      masked(9, 'p'),
      masked(0, [4, 5]),
      masked(10, ''),
      masked(8, Buffer.concat([Buffer.from([0x03, 0xe8]), Buffer.from('bye')])),
    ];
    for (const binaryType of ['nodebuffer', 'arraybuffer', 'fragments', 'blob']) {
      for (const allowSynchronousEvents of [true, false]) {
        for (const split of ['whole', 'bytes']) {
          it(`binaryType ${binaryType}, allowSynchronousEvents ${allowSynchronousEvents}, ${split}: same trace as ws`, async () => {
            const all = Buffer.concat(mixed());
            const chunks = split === 'whole' ? [all] : [...all].map((b) => Buffer.from([b]));
            const trace = await same({ options: { isServer: true, binaryType, allowSynchronousEvents }, chunks });
            assert.ok(trace.some((e) => e.startsWith('conclude 1000')));
            assert.strictEqual(trace.filter((e) => e.startsWith('message')).length, 2);
          });
        }
      }
    }

    it('allowSynchronousEvents false: each event gets its own turn, and the write completes after them', async () => {
      const trace = await same({ options: { allowSynchronousEvents: false }, chunks: [Buffer.concat([frame(1, 'a'), frame(9, ''), frame(1, 'b')]), frame(1, 'c')] });
      assert.deepStrictEqual(trace.slice(0, 4), ['message buf:61 false', 'ping buf:', 'message buf:62 false', 'write 0']);
    });

    it('allowSynchronousEvents false with compressed messages', async () => {
      await same({ options: { allowSynchronousEvents: false }, deflate: {}, chunks: [Buffer.concat([...compressedFrames(1, 'zip'), frame(1, 'plain'), ...compressedFrames(1, 'zap')])] });
    });

    it('skipUTF8Validation passes invalid text through, as ws', async () => {
      const trace = await same({ options: { skipUTF8Validation: true }, chunks: [frame(1, [0xff, 0xfe]), frame(8, [0x03, 0xe8, 0xff])] });
      assert.deepStrictEqual(trace.filter((e) => !e.startsWith('write')), ['message buf:fffe false', 'conclude 1000 buf:ff', 'finish']);
    });

    it('isServer: an unmasked frame is WS_ERR_EXPECTED_MASK; client: a masked one is WS_ERR_UNEXPECTED_MASK', async () => {
      const a = await same({ options: { isServer: true }, chunks: [frame(1, 'x')] });
      assert.ok(a.includes('error RangeError/WS_ERR_EXPECTED_MASK/1002/Invalid WebSocket frame: MASK must be set'));
      const b = await same({ options: { isServer: false }, chunks: [masked(1, 'x')] });
      assert.ok(b.includes('error RangeError/WS_ERR_UNEXPECTED_MASK/1002/Invalid WebSocket frame: MASK must be clear'));
    });

    it('maxBufferedChunks: too many held chunks is WS_ERR_TOO_MANY_BUFFERED_PARTS (1008)', async () => {
      const f = frame(2, 'abcde');
      const trace = await same({ options: { maxBufferedChunks: 2 }, chunks: [f.subarray(0, 2), f.subarray(2, 3), f.subarray(3, 4), f.subarray(4)] });
      assert.ok(trace.includes('error RangeError/WS_ERR_TOO_MANY_BUFFERED_PARTS/1008/Too many buffered chunks'));
    });

    it('close frames: status and reason, no status (1005), bad status, bad UTF-8 reason', async () => {
      for (const payload of [[0x0f, 0xa0, 0x61], [], [0x03, 0xed], [0x03, 0xe8, 0xc3]]) {
        const trace = await same({ chunks: [frame(8, payload)] });
        assert.ok(trace.some((e) => e.startsWith('conclude') || e.startsWith('error')));
      }
    });

    it('exposes ws\'s option fields with ws\'s values', () => {
      const extensions = {};
      for (const options of [{}, { allowSynchronousEvents: false, binaryType: 'arraybuffer', extensions, isServer: true, maxPayload: 7, skipUTF8Validation: true }]) {
        const mine = new weft.Receiver(options);
        const theirs = new ws.Receiver(options);
        for (const field of ['_allowSynchronousEvents', '_binaryType', '_isServer', '_maxPayload', '_skipUTF8Validation']) {
          assert.deepStrictEqual(mine[field], theirs[field], field);
        }
        assert.deepStrictEqual(mine._extensions, theirs._extensions);
      }
    });

    it('_totalPayloadLength counts the message being received and is reset when it ends', async () => {
      const run = async (lib) => {
        const r = new lib.Receiver({ maxPayload: 10 });
        const got = [r._totalPayloadLength];
        r.on('ping', () => got.push(`ping ${r._totalPayloadLength}`));
        r.on('message', () => got.push(`message ${r._totalPayloadLength}`));
        r.write(frame(2, 'He', { fin: false }));
        got.push(r._totalPayloadLength);
        r.write(frame(9, ''));
        r.write(frame(0, 'llo'));
        await new Promise((resolve) => setImmediate(resolve));
        got.push(r._totalPayloadLength);
        return got;
      };
      const mine = await run(weft);
      assert.deepStrictEqual(mine, await run(ws));
      assert.deepStrictEqual(mine, [0, 2, 'ping 2', 'message 0', 0]);
    });

    it('_binaryType can change between messages, as ws\'s WebSocket does it', async () => {
      const run = async (lib) => {
        const r = new lib.Receiver();
        const got = [];
        r.on('message', (d) => got.push(show(d)));
        r.write(frame(2, [1, 2], { fin: false }));
        r.write(frame(0, [3]));
        r._binaryType = 'fragments';
        r.write(frame(2, [4], { fin: false }));
        r.write(frame(0, [5]));
        r._binaryType = 'arraybuffer';
        r.write(frame(2, [6]));
        await new Promise((resolve) => setImmediate(resolve));
        return got;
      };
      const mine = await run(weft);
      assert.deepStrictEqual(mine, await run(ws));
      assert.deepStrictEqual(mine, ['buf:010203', 'frags:04,05', 'ab:06']);
    });
  });
});
