'use strict';
// The frame writer: exact bytes out for each role, fragmentation, RSV1 and ordering behind compression.
const assert = require('assert');
const { RecordingSink, connect } = require('./helpers');
const { FrameWriter } = require('../../dist/lib/protocol/writer');
const { mergedFrame, headerSize, randomMask, MERGE_LIMIT, COPY_LIMIT } = require('../../dist/lib/protocol/frame');
const { FrameParser } = require('../../dist/lib/protocol/parser');
const { IdentityCodec } = require('../../dist/lib/protocol/codec');

const fixedMask = (k) => { k[0] = 1; k[1] = 2; k[2] = 3; k[3] = 4; };

function writer(options) {
  const sink = new RecordingSink();
  return { sink, w: new FrameWriter(sink, { mask: false, ...options }) };
}

/** Parses bytes with a fresh parser in the opposite role and returns the messages. */
function parseBack(bytes, isServer, codec) {
  const got = [];
  const p = new FrameParser(
    { onMessage: (d, b) => got.push([b, Buffer.from(d)]), onControl: (op, d) => got.push([op, Buffer.from(d)]), onParseError(e) { throw e; } },
    { isServer, maxPayload: 0, maxFragments: 0, maxBufferedChunks: 0, skipUTF8Validation: false, codec },
  );
  p.push(bytes);
  return got;
}

describe('FrameWriter (RFC 6455 §5.2, §5.3)', () => {
  it('server text frame: unmasked, one write', () => {
    const { sink, w } = writer();
    w.sendData('Hello', false, true, false);
    assert.deepStrictEqual(sink.writtenHex(), ['810548656c6c6f']);
  });

  it('client frames are masked with the injected key (§5.7 example bytes)', () => {
    const { sink, w } = writer({ mask: true, generateMask: (k) => Buffer.from('37fa213d', 'hex').copy(k) });
    w.sendData('Hello', false, true, false);
    assert.deepStrictEqual(sink.writtenHex(), ['818537fa213d7f9f4d5158']);
    w.sendData(Buffer.from('Hello'), true, true, false);
    assert.deepStrictEqual(sink.writtenHex()[1], '828537fa213d7f9f4d5158');
  });

  it('does not modify the caller\'s buffer when masking', () => {
    const { w } = writer({ mask: true, generateMask: fixedMask });
    const data = Buffer.from('abcdef');
    w.sendData(data, true, true, false);
    assert.strictEqual(data.toString(), 'abcdef');
  });

  it('uses 16-bit and 64-bit lengths where needed, and round-trips through the parser', () => {
    for (const n of [125, 126, 65535, 65536, MERGE_LIMIT, MERGE_LIMIT + 1, 200000]) {
      for (const mask of [false, true]) {
        const { sink, w } = writer({ mask, generateMask: fixedMask });
        const data = Buffer.alloc(n, 0x5a);
        w.sendData(data, true, true, false);
        const bytes = Buffer.concat(sink.written);
        assert.strictEqual(bytes.length, headerSize(n, mask) + n);
        const got = parseBack(bytes, mask);
        assert.strictEqual(got.length, 1);
        assert.ok(got[0][1].equals(data), `n=${n} mask=${mask}`);
      }
    }
  });

  it('writes an unmasked payload over COPY_LIMIT without copying it (header + the caller\'s buffer); a small one merged', () => {
    // The writer's own output calls, not a sink that joins them.
    const calls = [];
    const w = new FrameWriter({ write: (first, second, cb) => { calls.push([first, second]); if (cb) cb(); } }, { mask: false });
    for (const size of [COPY_LIMIT + 1, 4096, MERGE_LIMIT + 1]) {
      const data = Buffer.alloc(size, 7);
      w.sendData(data, true, true, false);
      const [first, second] = calls.pop();
      assert.strictEqual(second, data, `${size}`);
      assert.deepStrictEqual(first, Buffer.from([0x82, 126, size >> 8, size & 255]));
    }
    for (const size of [COPY_LIMIT, 10]) {
      const data = Buffer.alloc(size, 7);
      w.sendData(data, true, true, false);
      const [first, second] = calls.pop();
      assert.strictEqual(second, null, `${size}`);
      assert.strictEqual(first.length, 2 + (size > 125 ? 2 : 0) + size);
      assert.ok(first.subarray(first.length - size).equals(data));
    }
    // A frame to share (publish) is one buffer whatever its size.
    const shared = mergedFrame(Buffer.alloc(MERGE_LIMIT + 1, 7), 2, true, false);
    assert.strictEqual(shared.length, 4 + MERGE_LIMIT + 1);
    assert.deepStrictEqual(shared.subarray(0, 4), Buffer.from([0x82, 126, (MERGE_LIMIT + 1) >> 8, (MERGE_LIMIT + 1) & 255]));
  });

  it('fragments: the first frame carries the opcode, the rest are continuations, FIN on the last', () => {
    const { sink, w } = writer();
    w.sendData('a', false, false, false);
    w.sendData('b', false, false, false);
    w.sendData('c', false, true, false);
    w.sendData('d', true, true, false);
    assert.deepStrictEqual(sink.writtenHex(), ['010161', '000162', '800163', '820164']);
  });

  it('control frames: ping/pong/close bytes', () => {
    const { sink, w } = writer();
    w.sendControl(9, Buffer.from('p'));
    w.sendControl(10, Buffer.alloc(0));
    w.sendControl(8, Buffer.from([0x03, 0xe8]));
    assert.deepStrictEqual(sink.writtenHex(), ['890170', '8a00', '880203e8']);
  });

  it('RSV1 only on the first frame of a compressed message (RFC 7692 §6)', () => {
    const codec = new IdentityCodec();
    const { sink, w } = writer({ codec });
    w.sendData('ab', false, false, true);
    w.sendData('cd', false, true, true);
    w.sendData('ef', false, true, false);
    assert.deepStrictEqual(sink.writtenHex(), ['41026162', '80026364', '81026566']);
    assert.strictEqual(codec.compressed, 2);
  });

  it('keeps order while an asynchronous compression is in flight, control frames included', (done) => {
    const later = {
      compress(data, fin, cb) { setImmediate(cb, null, data); },
      decompress(data, fin, cb) { setImmediate(cb, null, data); },
      shouldCompress: () => true,
      cleanup() {},
    };
    const { sink, w } = writer({ codec: later });
    const order = [];
    w.sendData('one', false, true, true, () => order.push(1));
    w.sendControl(9, Buffer.from('p'), () => order.push(2));
    w.sendData('two', false, true, false, () => order.push(3));
    assert.strictEqual(sink.written.length, 0);
    // The message being compressed counts too (3 + 1 + 3), as ws's bufferedAmount has it.
    assert.strictEqual(w.queuedBytes, 7);
    setImmediate(() => setImmediate(() => {
      assert.deepStrictEqual(sink.writtenHex(), ['c1036f6e65', '890170', '810374776f']);
      assert.deepStrictEqual(order, [1, 2, 3]);
      assert.strictEqual(w.queuedBytes, 0);
      done();
    }));
  });

  it('randomMask fills keys from a crypto pool (not all equal)', () => {
    const seen = new Set();
    const k = Buffer.alloc(4);
    for (let i = 0; i < 5000; i++) { randomMask(k); seen.add(k.readUInt32BE(0)); }
    assert.ok(seen.size > 4900);
  });
});

describe('FrameParser with a codec (the Codec seam)', () => {
  it('accepts RSV1 on the first frame and routes the message through decompress', () => {
    const codec = new IdentityCodec();
    const { sink, conn } = connect({ codec });
    conn.receiveData(Buffer.from([0xc1, 0x82, 0, 0, 0, 0, 0x68, 0x69]));
    assert.deepStrictEqual(sink.trace, [['message', 'text', '6869']]);
    assert.strictEqual(codec.decompressed, 1);
  });

  it('waits in an explicit state while an inflate is pending; input arriving meanwhile is kept in order', (done) => {
    const pending = [];
    const codec = {
      decompress(data, fin, cb) { pending.push(() => cb(null, Buffer.concat([data, Buffer.from('!')]))); },
      compress() {},
      shouldCompress: () => true,
      cleanup() {},
    };
    const { sink, conn } = connect({ codec });
    const f = (first, b) => Buffer.from([first, 0x81, 0, 0, 0, 0, b]);
    conn.receiveData(Buffer.concat([f(0xc2, 0x61), f(0x82, 0x62)]));
    conn.receiveData(f(0xc2, 0x63));
    assert.deepStrictEqual(sink.trace, []);
    assert.strictEqual(pending.length, 1, 'one inflate at a time');
    pending.shift()();
    assert.deepStrictEqual(sink.trace, [['message', 'binary', '6121'], ['message', 'binary', '62']]);
    setImmediate(() => {
      pending.shift()();
      assert.deepStrictEqual(sink.trace.map((t) => t[2]), ['6121', '62', '6321']);
      done();
    });
  });

  it('a codec error fails the connection with its status', () => {
    const { kStatusCode } = require('../../dist/lib/protocol/constants');
    const codec = {
      decompress(data, fin, cb) { const e = new RangeError('Max payload size exceeded'); e.code = 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH'; e[kStatusCode] = 1009; cb(e); },
      compress() {}, shouldCompress: () => true, cleanup() {},
    };
    const { sink, conn } = connect({ codec });
    conn.receiveData(Buffer.from([0xc2, 0x81, 0, 0, 0, 0, 0x61]));
    assert.deepStrictEqual(sink.trace, [['end'], ['error', 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH', 1009]]);
    assert.deepStrictEqual(sink.writtenHex(), ['880203f1']);
  });
});

describe('FrameWriter: pre-framed bytes and fragmented messages', () => {
  it('whole frames (a broadcast, engine.io) wait until the fragmented message in progress ends', () => {
    const { sink, w } = writer();
    w.sendData('a', false, false, false);
    w.sendRaw(Buffer.from('890170', 'hex'), null); // a pre-framed ping
    w.sendData('b', false, false, false);
    w.sendControl(10, Buffer.alloc(0)); // a control frame may go between fragments (§5.4)
    w.sendData('c', false, true, false);
    w.sendRaw(Buffer.from('8100', 'hex'), null);
    assert.deepStrictEqual(sink.writtenHex(), ['010161', '000162', '8a00', '800163', '890170', '8100']);
  });
});
