'use strict';
// The parser, bytes in → exact sink calls out, grouped by RFC 6455 section. No sockets.
const assert = require('assert');
const { frame, cframe, connect, feedSplit, hex } = require('./helpers');
const { IdentityCodec } = require('../../dist/lib/protocol/codec');

const TEXT = 1, BINARY = 2, CLOSE = 8, PING = 9, PONG = 10;

// The parser's own output: what the connection does with it ('end' after the close frame) is tested in
// connection.test.js.
const parsed = (trace) => trace.filter((t) => t[0] !== 'end');

function run(bytes, options) {
  return parsed(feedSplit(bytes, [], options).trace);
}

describe('FrameParser (RFC 6455 §5)', () => {
  describe('§5.2 base framing', () => {
    it('parses an unmasked single-frame text message (§5.7 example "Hello")', () => {
      assert.deepStrictEqual(run(hex('810548656c6c6f'), { isServer: false }), [['message', 'text', '48656c6c6f']]);
    });

    it('parses the masked "Hello" example of §5.7', () => {
      assert.deepStrictEqual(run(hex('818537fa213d7f9f4d5158')), [['message', 'text', '48656c6c6f']]);
    });

    it('reads 7-bit, 16-bit and 64-bit payload lengths', () => {
      for (const n of [0, 1, 125, 126, 127, 65535, 65536, 70000]) {
        const payload = Buffer.alloc(n, 0x61);
        const trace = run(cframe({ opcode: BINARY, payload }));
        assert.deepStrictEqual(trace, [['message', 'binary', payload.toString('hex')]], `length ${n}`);
      }
    });

    it('accepts a non-minimal length encoding (the RFC asks for minimal, ws accepts it)', () => {
      const trace = run(cframe({ opcode: BINARY, payload: 'ab', len: '64' }));
      assert.deepStrictEqual(trace, [['message', 'binary', '6162']]);
    });

    it('rejects a 64-bit length with the most significant bit set', () => {
      const bad = Buffer.concat([hex('82ff80000000000000 01'), Buffer.from([1, 2, 3, 4])]);
      const trace = run(bad);
      assert.deepStrictEqual(trace.slice(-1), [['error', 'WS_ERR_UNSUPPORTED_DATA_PAYLOAD_LENGTH', 1009]]);
    });

    it('rejects a length of 2^53 and accepts the header of 2^53 - 1 (then the limit applies)', () => {
      const over = Buffer.concat([hex('82ff0020000000000000'), Buffer.from(KEY4())]);
      assert.deepStrictEqual(run(over, { maxPayload: 0 }), [['error', 'WS_ERR_UNSUPPORTED_DATA_PAYLOAD_LENGTH', 1009]]);
      const max = Buffer.concat([hex('82ff001fffffffffffff'), Buffer.from(KEY4())]);
      assert.deepStrictEqual(run(max, { maxPayload: 0 }), []);
      assert.deepStrictEqual(run(max), [['error', 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH', 1009]]);
    });

    it('rejects RSV2 and RSV3', () => {
      assert.deepStrictEqual(run(cframe({ opcode: TEXT, rsv2: true })), [['error', 'WS_ERR_UNEXPECTED_RSV_2_3', 1002]]);
      assert.deepStrictEqual(run(cframe({ opcode: TEXT, rsv3: true })), [['error', 'WS_ERR_UNEXPECTED_RSV_2_3', 1002]]);
    });

    it('rejects RSV1 when no extension was negotiated', () => {
      assert.deepStrictEqual(run(cframe({ opcode: TEXT, rsv1: true })), [['error', 'WS_ERR_UNEXPECTED_RSV_1', 1002]]);
    });

    it('rejects reserved opcodes 3-7 and 0xB-0xF', () => {
      for (const opcode of [3, 4, 5, 6, 7, 0xb, 0xc, 0xd, 0xe, 0xf]) {
        assert.deepStrictEqual(run(cframe({ opcode })), [['error', 'WS_ERR_INVALID_OPCODE', 1002]], `opcode ${opcode}`);
      }
    });

    it('fails fast: a bad first byte is reported before the rest of the header arrives', () => {
      const { sink, conn } = connect();
      conn.receiveData(Buffer.from([0x83]));
      assert.deepStrictEqual(parsed(sink.trace), [['error', 'WS_ERR_INVALID_OPCODE', 1002]]);
    });

    it('ignores everything after a violation', () => {
      const bytes = Buffer.concat([cframe({ opcode: 3 }), cframe({ opcode: TEXT, payload: 'x' })]);
      assert.deepStrictEqual(run(bytes), [['error', 'WS_ERR_INVALID_OPCODE', 1002]]);
    });
  });

  describe('§5.3 client-to-server masking', () => {
    it('a server rejects an unmasked frame', () => {
      assert.deepStrictEqual(run(frame({ opcode: TEXT, payload: 'hi' })), [['error', 'WS_ERR_EXPECTED_MASK', 1002]]);
    });

    it('a client rejects a masked frame', () => {
      assert.deepStrictEqual(run(cframe({ opcode: TEXT, payload: 'hi' }), { isServer: false }), [
        ['error', 'WS_ERR_UNEXPECTED_MASK', 1002],
      ]);
    });

    it('unmasks payloads split at every offset (mask key rotation across chunks)', () => {
      const payload = Buffer.from('0123456789abcdefghij');
      const bytes = cframe({ opcode: BINARY, payload });
      for (let a = 1; a < bytes.length; a++) {
        for (let b = a; b < bytes.length; b += 3) {
          const trace = feedSplit(bytes, a === b ? [a] : [a, b]).trace;
          assert.deepStrictEqual(trace, [['message', 'binary', payload.toString('hex')]], `cuts ${a},${b}`);
        }
      }
    });
  });

  describe('§5.4 fragmentation', () => {
    it('assembles a fragmented text message with an interleaved ping', () => {
      const bytes = Buffer.concat([
        cframe({ opcode: TEXT, fin: false, payload: 'Hel' }),
        cframe({ opcode: PING, payload: 'p' }),
        cframe({ opcode: 0, fin: false, payload: 'l' }),
        cframe({ opcode: 0, fin: true, payload: 'o' }),
      ]);
      assert.deepStrictEqual(run(bytes), [['ping', '70'], ['message', 'text', '48656c6c6f']]);
    });

    it('accepts empty fragments', () => {
      const bytes = Buffer.concat([
        cframe({ opcode: BINARY, fin: false }),
        cframe({ opcode: 0, fin: false }),
        cframe({ opcode: 0, fin: true, payload: [1] }),
      ]);
      assert.deepStrictEqual(run(bytes), [['message', 'binary', '01']]);
    });

    it('rejects a continuation frame with no message in progress', () => {
      assert.deepStrictEqual(run(cframe({ opcode: 0, payload: 'x' })), [['error', 'WS_ERR_INVALID_OPCODE', 1002]]);
    });

    it('rejects a new data frame inside a fragmented message', () => {
      const bytes = Buffer.concat([cframe({ opcode: TEXT, fin: false, payload: 'a' }), cframe({ opcode: BINARY, payload: 'b' })]);
      assert.deepStrictEqual(run(bytes), [['error', 'WS_ERR_INVALID_OPCODE', 1002]]);
    });

    it('delivers binary messages as frame payloads in fragments mode', () => {
      const got = [];
      const { conn } = connect({ fragments: true });
      conn.parser.handler = { onMessage: (d) => got.push(d), onControl() {}, onParseError(e) { throw e; } };
      const bytes = Buffer.concat([
        cframe({ opcode: BINARY, fin: false, payload: 'ab' }),
        cframe({ opcode: 0, fin: true, payload: 'cd' }),
      ]);
      // Feed byte by byte: a frame arriving in pieces is still one fragment.
      for (const b of bytes) conn.receiveData(Buffer.from([b]));
      assert.strictEqual(got.length, 1);
      assert.deepStrictEqual(got[0].map(String), ['ab', 'cd']);
    });
  });

  describe('§5.5 control frames', () => {
    it('rejects a fragmented control frame', () => {
      assert.deepStrictEqual(run(cframe({ opcode: PING, fin: false })), [['error', 'WS_ERR_EXPECTED_FIN', 1002]]);
    });

    it('rejects a control frame with a payload over 125 bytes', () => {
      const bytes = cframe({ opcode: PING, payload: Buffer.alloc(126) });
      assert.deepStrictEqual(run(bytes), [['error', 'WS_ERR_INVALID_CONTROL_PAYLOAD_LENGTH', 1002]]);
    });

    it('rejects a close frame with a 1-byte payload', () => {
      assert.deepStrictEqual(run(cframe({ opcode: CLOSE, payload: [3] })), [
        ['error', 'WS_ERR_INVALID_CONTROL_PAYLOAD_LENGTH', 1002],
      ]);
    });

    it('rejects RSV1 on a control frame even with an extension', () => {
      const bytes = cframe({ opcode: PING, rsv1: true });
      assert.deepStrictEqual(run(bytes, { codec: new IdentityCodec() }), [['error', 'WS_ERR_UNEXPECTED_RSV_1', 1002]]);
    });

    it('delivers a 125-byte ping split across chunks', () => {
      const payload = Buffer.alloc(125, 7);
      const bytes = cframe({ opcode: PING, payload });
      const trace = feedSplit(bytes, [3, 50, 100]).trace;
      assert.deepStrictEqual(trace, [['ping', payload.toString('hex')]]);
    });

    it('delivers pongs', () => {
      assert.deepStrictEqual(run(cframe({ opcode: PONG, payload: 'z' })), [['pong', '7a']]);
    });
  });

  describe('§5.6 / §8.1 text must be UTF-8', () => {
    it('rejects invalid UTF-8 in a single frame', () => {
      assert.deepStrictEqual(run(cframe({ opcode: TEXT, payload: [0xc0, 0xaf] })), [['error', 'WS_ERR_INVALID_UTF8', 1007]]);
    });

    it('accepts a code point split across fragments', () => {
      const euro = Buffer.from('€'); // e2 82 ac
      const bytes = Buffer.concat([
        cframe({ opcode: TEXT, fin: false, payload: euro.subarray(0, 1) }),
        cframe({ opcode: 0, fin: false, payload: euro.subarray(1, 2) }),
        cframe({ opcode: 0, fin: true, payload: euro.subarray(2) }),
      ]);
      assert.deepStrictEqual(run(bytes), [['message', 'text', 'e282ac']]);
    });

    it('fails fast across fragments: the error comes with the fragment that proves it, not at FIN', () => {
      const { sink, conn } = connect();
      conn.receiveData(cframe({ opcode: TEXT, fin: false, payload: 'ok' }));
      assert.deepStrictEqual(sink.trace, []);
      conn.receiveData(cframe({ opcode: 0, fin: false, payload: [0xed, 0xa0] })); // a surrogate's start
      assert.deepStrictEqual(parsed(sink.trace), [['error', 'WS_ERR_INVALID_UTF8', 1007]]);
    });

    it('fails fast inside one large frame, before its payload has all arrived', () => {
      const payload = Buffer.alloc(100000, 0x61);
      payload[10] = 0xff;
      const bytes = cframe({ opcode: TEXT, payload });
      const { sink, conn } = connect();
      conn.receiveData(bytes.subarray(0, 1000));
      assert.deepStrictEqual(parsed(sink.trace), [['error', 'WS_ERR_INVALID_UTF8', 1007]]);
    });

    it('rejects a message that ends inside a code point', () => {
      const bytes = Buffer.concat([
        cframe({ opcode: TEXT, fin: false, payload: 'a' }),
        cframe({ opcode: 0, fin: true, payload: [0xe2, 0x82] }),
      ]);
      assert.deepStrictEqual(run(bytes), [['error', 'WS_ERR_INVALID_UTF8', 1007]]);
    });

    it('skipUTF8Validation lets invalid text through', () => {
      const trace = run(cframe({ opcode: TEXT, payload: [0xff] }), { skipUTF8Validation: true });
      assert.deepStrictEqual(trace, [['message', 'text', 'ff']]);
    });
  });

  describe('limits (checked when the length is known)', () => {
    it('maxPayload: rejects from the header alone, before any payload byte', () => {
      const { sink, conn } = connect({ maxPayload: 10 });
      conn.receiveData(cframe({ opcode: BINARY, payload: Buffer.alloc(11) }).subarray(0, 6));
      assert.deepStrictEqual(parsed(sink.trace), [['error', 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH', 1009]]);
    });

    it('maxPayload counts the whole fragmented message', () => {
      const bytes = Buffer.concat([
        cframe({ opcode: BINARY, fin: false, payload: Buffer.alloc(6) }),
        cframe({ opcode: 0, fin: true, payload: Buffer.alloc(5) }),
      ]);
      assert.deepStrictEqual(run(bytes, { maxPayload: 10 }), [['error', 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH', 1009]]);
      assert.strictEqual(run(bytes, { maxPayload: 11 })[0][0], 'message');
    });

    it('maxFragments: a message of more data frames than allowed closes with 1008', () => {
      const frames = [];
      for (let i = 0; i < 4; i++) frames.push(cframe({ opcode: i ? 0 : BINARY, fin: i === 3, payload: 'a' }));
      const bytes = Buffer.concat(frames);
      assert.deepStrictEqual(run(bytes, { maxFragments: 3 }), [['error', 'WS_ERR_TOO_MANY_BUFFERED_PARTS', 1008]]);
      assert.strictEqual(run(bytes, { maxFragments: 4 })[0][0], 'message');
    });

    it('maxBufferedChunks: a frame trickled in too many pieces closes with 1008', () => {
      const bytes = cframe({ opcode: BINARY, payload: Buffer.alloc(20) });
      const cuts = [];
      for (let i = 7; i < bytes.length; i++) cuts.push(i); // one payload byte per chunk
      assert.deepStrictEqual(parsed(feedSplit(bytes, cuts, { maxBufferedChunks: 10 }).trace), [
        ['error', 'WS_ERR_TOO_MANY_BUFFERED_PARTS', 1008],
      ]);
      assert.strictEqual(feedSplit(bytes, cuts, { maxBufferedChunks: 20 }).trace[0][0], 'message');
    });
  });

  describe('suspend / resume (one message per turn)', () => {
    it('holds later messages until resumed, in order', () => {
      const { sink, conn } = connect();
      const onMessage = sink.onMessage.bind(sink);
      sink.onMessage = (d, b) => {
        onMessage(d, b);
        conn.parser.suspend();
      };
      conn.receiveData(Buffer.concat([cframe({ opcode: TEXT, payload: 'a' }), cframe({ opcode: TEXT, payload: 'b' })]));
      conn.receiveData(cframe({ opcode: TEXT, payload: 'c' }));
      assert.deepStrictEqual(sink.trace, [['message', 'text', '61']]);
      conn.parser.resume();
      assert.deepStrictEqual(sink.trace.length, 2);
      conn.parser.resume();
      assert.deepStrictEqual(sink.trace.map((t) => t[2]), ['61', '62', '63']);
    });
  });
});

function KEY4() {
  return [0x37, 0xfa, 0x21, 0x3d];
}

describe('FrameParser: frames that arrive in pieces are unmasked as they are joined', () => {
  const { prng } = require('./helpers');
  it('binary, compressed and unchecked-text frames give the same bytes in every chunking', () => {
    const rand = prng(77);
    for (let round = 0; round < 200; round++) {
      const size = 1 + Math.floor(rand() * 3000);
      const payload = Buffer.alloc(size);
      for (let i = 0; i < size; i++) payload[i] = Math.floor(rand() * 256);
      const key = [0, 1, 2, 3].map(() => Math.floor(rand() * 256));
      const fin = rand() < 0.5;
      const bytes = Buffer.concat([
        frame({ opcode: 2, fin, payload, mask: key }),
        ...(fin ? [] : [frame({ opcode: 0, fin: true, payload: payload.subarray(0, 7), mask: key.slice().reverse() })]),
      ]);
      const cuts = [];
      for (let pos = 1 + Math.floor(rand() * 50); pos < bytes.length; pos += 1 + Math.floor(rand() * 700)) cuts.push(pos);
      const expected = fin ? payload : Buffer.concat([payload, payload.subarray(0, 7)]);
      for (const options of [{}, { skipUTF8Validation: true }, { fragments: true }]) {
        const trace = feedSplit(bytes, cuts, options).trace;
        assert.deepStrictEqual(trace, [['message', 'binary', expected.toString('hex')]], `round ${round}`);
      }
    }
  });
});
