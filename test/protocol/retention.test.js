'use strict';
// Memory a message in progress holds follows its payload bytes, not the size of the reads it came in:
// a peer sending a 1-byte fragment per 64 KiB read (padded with pongs) must not pin 64 KiB per byte.
// The chunks' ArrayBuffers are watched with WeakRefs and the collector is run for real.

const assert = require('assert');
const v8 = require('v8');
const vm = require('vm');
const { connect, cframe, frame, prng } = require('./helpers');
const { Opcode } = require('../../dist/lib/protocol/constants');

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc');

/** One 64 KiB read: one 1-byte continuation of a message, then pongs of 125 bytes as padding. */
function paddedRead(fragment) {
  const pong = cframe({ opcode: Opcode.PONG, payload: Buffer.alloc(125, 'p') });
  const parts = [fragment];
  let size = fragment.length;
  while (size + pong.length <= 65536) {
    parts.push(pong);
    size += pong.length;
  }
  return Buffer.concat(parts, size);
}

describe('parser: what a message in progress keeps alive', function () {
  this.timeout(20000);
  it('1-byte fragments, one per 64 KiB read: the reads are collectable while the message is open', async () => {
    const { sink, conn } = connect();
    const N = 100;
    const refs = [];
    const expected = [];
    for (let i = 0; i < N; i++) {
      const byte = Buffer.from([0x41 + (i % 26)]);
      expected.push(byte);
      const read = paddedRead(cframe({ opcode: i === 0 ? Opcode.BINARY : Opcode.CONTINUATION, fin: false, payload: byte }));
      refs.push(new WeakRef(read.buffer));
      conn.receiveData(read);
    }
    await new Promise((r) => setImmediate(r));
    gc();
    const alive = refs.filter((r) => r.deref() !== undefined).length;
    // Without the copy every read stays reachable from the message's parts (100 × 64 KiB).
    assert.ok(alive <= 2, `${alive} of ${N} reads are still alive`);
    conn.receiveData(cframe({ opcode: Opcode.CONTINUATION, fin: true, payload: Buffer.from('!') }));
    const messages = sink.trace.filter((t) => t[0] === 'message');
    assert.strictEqual(messages.length, 1);
    assert.strictEqual(messages[0][2], Buffer.concat([...expected, Buffer.from('!')]).toString('hex'));
  });

  it('a large frame in 64 KiB reads: once half of it is here, the reads already parsed are collectable', async () => {
    // Held until the frame ends, a 1 MiB frame's 16 reads outlive a collection or two and are freed in
    // batches; a process echoing such frames then trims and regrows its malloc heap, and every read and
    // every joined payload lands on fresh pages. Gathered into the payload from half-way, they die young.
    const { sink, conn } = connect();
    const payload = prng(16).bytes(1024 * 1024);
    const bytes = cframe({ opcode: Opcode.BINARY, payload });
    const refs = [];
    let at = 0;
    const feed = (n) => {
      const read = Buffer.from(bytes.subarray(at, at + n));
      at += n;
      refs.push(new WeakRef(read.buffer));
      conn.receiveData(read);
    };
    while (at < bytes.length / 2 + 3 * 65536) feed(65536);
    await new Promise((r) => setImmediate(r));
    gc();
    const alive = refs.filter((r) => r.deref() !== undefined).length;
    assert.ok(alive <= 1, `${alive} of ${refs.length} reads of the frame in progress are still alive`);
    while (at < bytes.length) feed(Math.min(65536, bytes.length - at));
    const messages = sink.trace.filter((t) => t[0] === 'message');
    assert.strictEqual(messages.length, 1);
    assert.ok(messages[0][2] === payload.toString('hex'), 'the payload arrived intact');
  });

  it('a frame only announced is not allocated: before half of it has arrived, the server holds what came', async () => {
    const { sink, conn } = connect({ maxPayload: 256 * 1024 * 1024 });
    const size = 64 * 1024 * 1024;
    const key = Buffer.from([1, 2, 3, 4]);
    const head = Buffer.from([0x82, 0xff, 0, 0, 0, 0, size >>> 24, (size >>> 16) & 0xff, 0, 0, ...key]);
    gc();
    const before = process.memoryUsage().arrayBuffers;
    conn.receiveData(Buffer.concat([head, Buffer.alloc(1024)]));
    for (let i = 0; i < 8; i++) conn.receiveData(Buffer.alloc(1024 * 1024)); // 8 MiB of 64
    gc();
    const held = process.memoryUsage().arrayBuffers - before;
    assert.ok(held < 12 * 1024 * 1024, `${(held / 1048576).toFixed(1)} MiB held for 8 MiB received of a 64 MiB frame`);
    assert.deepStrictEqual(sink.trace, []);
  });

  describe('large frames in pieces arrive intact, whatever the cuts', () => {
    const half = (n) => n >>> 1;
    const sizes = [65535, 65536, 65537, 200001, 1024 * 1024 + 3];
    /** Cut points: around half (where the payload buffer is made), 1-byte pieces there, and random ones. */
    function cutsFor(headerLen, n, seed) {
      const h = headerLen + half(n);
      const r = prng(seed);
      const cuts = new Set([headerLen, h - 1, h, h + 1, h + 2, headerLen + n - 1]);
      for (let i = 0; i < 12; i++) cuts.add(headerLen + Math.floor(r.bytes(4).readUInt32BE(0) / 2 ** 32 * n));
      return [...cuts].filter((c) => c > 0 && c < headerLen + n).sort((a, b) => a - b);
    }
    function feed(conn, bytes, cuts) {
      let prev = 0;
      for (const c of [...cuts, bytes.length]) {
        conn.receiveData(Buffer.from(bytes.subarray(prev, c)));
        prev = c;
      }
    }
    for (const role of ['server', 'client']) {
      for (const n of sizes) {
        it(`${role}: binary and UTF-8 text of ${n} bytes, then a message after it`, () => {
          const { sink, conn } = connect({ isServer: role === 'server' });
          const enc = role === 'server' ? cframe : frame;
          const bin = prng(n).bytes(n);
          const text = Buffer.from('é€😀a'.repeat(Math.ceil(n / 10) + 1));
          // Cut the text at a character boundary at or before n (so it stays valid UTF-8).
          let end = n;
          while ((text[end] & 0xc0) === 0x80) end--;
          const txt = text.subarray(0, end);
          for (const [opcode, payload, kind] of [[Opcode.BINARY, bin, 'binary'], [Opcode.TEXT, txt, 'text']]) {
            const first = enc({ opcode, payload });
            const bytes = Buffer.concat([first, enc({ opcode: Opcode.BINARY, payload: Buffer.from('next') })]);
            feed(conn, bytes, cutsFor(first.length - payload.length, payload.length, n + opcode));
            const got = sink.trace.filter((t) => t[0] === 'message').slice(-2);
            assert.strictEqual(got.length, 2);
            assert.strictEqual(got[0][1], kind);
            assert.ok(got[0][2] === payload.toString('hex'), `${kind} payload intact`);
            assert.deepStrictEqual(got[1], ['message', 'binary', Buffer.from('next').toString('hex')]);
          }
          assert.deepStrictEqual(sink.trace.filter((t) => t[0] === 'error'), []);
        });
      }
    }

    it('invalid UTF-8 in the second half of a large text frame still fails with 1007', () => {
      const { sink, conn } = connect();
      const payload = Buffer.alloc(300000, 'a');
      payload[250000] = 0xff;
      const bytes = cframe({ opcode: Opcode.TEXT, payload });
      feed(conn, bytes, [1000, 150000, 150008, 200000]);
      assert.deepStrictEqual(sink.trace.filter((t) => t[0] === 'error'), [['error', 'WS_ERR_INVALID_UTF8', 1007]]);
      assert.deepStrictEqual(sink.trace.filter((t) => t[0] === 'message'), []);
    });

    it('a large frame among fragments: the message is the fragments joined in order', () => {
      const { sink, conn } = connect();
      const a = prng(1).bytes(100);
      const b = prng(2).bytes(300000);
      const c = prng(3).bytes(70000);
      const bytes = Buffer.concat([
        cframe({ opcode: Opcode.BINARY, fin: false, payload: a }),
        cframe({ opcode: Opcode.CONTINUATION, fin: false, payload: b }),
        cframe({ opcode: Opcode.PING, payload: Buffer.from('p') }),
        cframe({ opcode: Opcode.CONTINUATION, fin: true, payload: c }),
      ]);
      const cuts = [];
      for (let i = 1000; i < bytes.length; i += 65536) cuts.push(i);
      feed(conn, bytes, cuts);
      const got = sink.trace.filter((t) => t[0] === 'message' || t[0] === 'ping');
      assert.strictEqual(got.length, 2);
      assert.deepStrictEqual(got[0], ['ping', Buffer.from('p').toString('hex')]);
      assert.ok(got[1][2] === Buffer.concat([a, b, c]).toString('hex'), 'joined in order');
    });
  });

  it('a message split across reads still arrives intact when its first piece is a small tail of a read', () => {
    const { sink, conn } = connect();
    const filler = Buffer.alloc(60000, 'f');
    const msg = Buffer.alloc(3000, 'm');
    const bytes = Buffer.concat([cframe({ opcode: Opcode.BINARY, payload: filler }), cframe({ opcode: Opcode.TEXT, payload: msg })]);
    // Cut so that only 100 bytes of the second message's payload are in the first read.
    const cut = bytes.length - msg.length + 100;
    conn.receiveData(Buffer.from(bytes.subarray(0, cut)));
    conn.receiveData(Buffer.from(bytes.subarray(cut)));
    const messages = sink.trace.filter((t) => t[0] === 'message');
    assert.deepStrictEqual(messages.map((m) => [m[1], m[2].length / 2]), [['binary', 60000], ['text', 3000]]);
    assert.strictEqual(messages[1][2], msg.toString('hex'));
  });
});
