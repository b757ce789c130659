'use strict';
// Memory a message in progress holds follows its payload bytes, not the size of the reads it came in:
// a peer sending a 1-byte fragment per 64 KiB read (padded with pongs) must not pin 64 KiB per byte.
// The chunks' ArrayBuffers are watched with WeakRefs and the collector is run for real.

const assert = require('assert');
const v8 = require('v8');
const vm = require('vm');
const { connect, cframe } = require('./helpers');
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
