'use strict';
// Seeded fuzzing of the protocol core, bounded to a few seconds: random and mutated frame streams in
// random chunkings. Invariants: nothing throws; after an error exactly one close frame has gone out, with
// the violation's status, and nothing is delivered after it; every chunking of the same input yields the
// same trace and the same bytes out. Inputs that once broke an invariant live in seeds/ as hex.
const assert = require('assert');
const fs = require('fs');
const path = require('path');
const { Connection } = require('../../dist/lib/protocol/connection');
const { IdentityCodec } = require('../../dist/lib/protocol/codec');
const { RecordingSink, frame, prng } = require('../protocol/helpers');
const { parseFrames } = require('../support/frames');

const ITERATIONS = Number(process.env.WEFT_FUZZ_ITERATIONS || 1500);
const SEED = Number(process.env.WEFT_FUZZ_SEED || 0x5eed);

/** Runs `bytes` through a fresh connection in the given chunking; returns trace and writes. */
function execute(bytes, cuts, options) {
  const sink = new RecordingSink();
  // A zero mask key keeps a client's output deterministic (and readable: masked bytes equal the plain ones).
  const conn = new Connection(sink, { generateMask: (k) => k.fill(0), ...options });
  let prev = 0;
  for (const c of [...cuts, bytes.length]) {
    conn.receiveData(Buffer.from(bytes.subarray(prev, c)));
    prev = c;
  }
  return { trace: sink.trace, written: sink.writtenHex() };
}

function checkInvariants(result, label, isServer) {
  // Everything written is whole frames, masked as the role requires (a client masks, a server doesn't).
  const written = parseFrames(Buffer.from(result.written.join(''), 'hex'), { masked: !isServer });
  const closes = written.filter((f) => f.opcode === 8);
  assert.ok(closes.length <= 1, `${label}: more than one close frame`);
  const errIndex = result.trace.findIndex((t) => t[0] === 'error');
  if (errIndex !== -1) {
    const [, code, status] = result.trace[errIndex];
    assert.match(code, /^WS_ERR_/, label);
    assert.ok([1002, 1007, 1008, 1009].includes(status), `${label}: status ${status}`);
    assert.strictEqual(closes.length, 1, `${label}: a violation must send one close frame`);
    assert.ok(closes[0].payload.length >= 2, `${label}: the close frame has a status`);
    assert.strictEqual(closes[0].payload.readUInt16BE(0), status, `${label}: close frame carries the violation status`);
    const after = result.trace.slice(errIndex + 1).filter((t) => t[0] !== 'end');
    assert.deepStrictEqual(after, [], `${label}: nothing after the error`);
  }
}

/** A random but mostly well-formed stream of frames, with occasional mutations. */
function generate(rand, isServer) {
  const frames = [];
  const count = 1 + Math.floor(rand() * 6);
  let fragmenting = false;
  for (let i = 0; i < count; i++) {
    const r = rand();
    let opcode;
    let fin = true;
    if (r < 0.15) opcode = 9;
    else if (r < 0.2) opcode = 10;
    else if (r < 0.25) opcode = 8;
    else {
      opcode = fragmenting ? 0 : rand() < 0.5 ? 1 : 2;
      fin = rand() < 0.6;
      fragmenting = !fin;
    }
    const sizes = [0, 1, 5, 125, 126, 300, 70000];
    let size = sizes[Math.floor(rand() * sizes.length)];
    if (opcode >= 8) size = Math.min(size, 125);
    const payload = Buffer.alloc(size);
    const ascii = rand() < 0.7;
    for (let j = 0; j < size; j++) payload[j] = ascii ? 0x20 + Math.floor(rand() * 90) : Math.floor(rand() * 256);
    if (opcode === 8 && size >= 2) payload.writeUInt16BE([1000, 1001, 1005, 3000, 4999, 999, 1016][Math.floor(rand() * 7)], 0);
    frames.push(frame({ opcode, fin, payload, mask: isServer ? [rand() * 256, rand() * 256, rand() * 256, rand() * 256].map(Math.floor) : null, rsv1: rand() < 0.03 }));
  }
  const bytes = Buffer.concat(frames);
  // Mutations: flip bits, truncate, or splice in garbage.
  const m = rand();
  if (m < 0.2) {
    for (let k = 0; k < 3; k++) bytes[Math.floor(rand() * bytes.length)] ^= 1 << Math.floor(rand() * 8);
  } else if (m < 0.3) {
    return bytes.subarray(0, Math.floor(rand() * bytes.length));
  } else if (m < 0.4) {
    const junk = Buffer.alloc(1 + Math.floor(rand() * 20));
    for (let k = 0; k < junk.length; k++) junk[k] = Math.floor(rand() * 256);
    return Buffer.concat([bytes, junk]);
  }
  return bytes;
}

function randomCuts(rand, length) {
  const cuts = [];
  const mode = rand();
  if (mode < 0.1 && length < 400) {
    for (let i = 1; i < length; i++) cuts.push(i); // byte by byte
  } else {
    let pos = 0;
    while (pos < length) {
      pos += 1 + Math.floor(rand() * (mode < 0.5 ? 16 : 4096));
      if (pos < length) cuts.push(pos);
    }
  }
  return cuts;
}

describe('fuzz: protocol core', function () {
  this.timeout(60000);

  for (const role of ['server', 'client']) {
    for (const codec of [false, true]) {
      it(`${role}${codec ? ' with a codec' : ''}: random streams never throw and obey the invariants (${ITERATIONS} inputs)`, () => {
        const rand = prng(SEED + (role === 'server' ? 1 : 2) + (codec ? 10 : 0));
        for (let i = 0; i < ITERATIONS; i++) {
          const isServer = role === 'server';
          const bytes = rand() < 0.1 ? randomBytes(rand) : generate(rand, isServer);
          const options = () => ({ isServer, maxPayload: 65536, codec: codec ? new IdentityCodec() : null });
          const label = `${role} #${i} ${bytes.subarray(0, 32).toString('hex')}`;
          const whole = execute(bytes, [], options());
          checkInvariants(whole, label, isServer);
          const split = execute(bytes, randomCuts(rand, bytes.length), options());
          assert.deepStrictEqual(split, whole, `${label}: chunking changed the trace`);
        }
      });
    }
  }

  it('replays every saved seed', () => {
    const dir = path.join(__dirname, 'seeds');
    const files = fs.readdirSync(dir).filter((f) => f.endsWith('.hex'));
    assert.ok(files.length > 0, 'the seed corpus is not empty');
    for (const f of files) {
      const bytes = Buffer.from(fs.readFileSync(path.join(dir, f), 'utf8').replace(/\s+/g, ''), 'hex');
      for (const isServer of [true, false]) {
        const whole = execute(bytes, [], { isServer });
        checkInvariants(whole, f, isServer);
        const bytewise = [];
        for (let i = 1; i < bytes.length; i++) bytewise.push(i);
        assert.deepStrictEqual(execute(bytes, bytewise, { isServer }), whole, `${f}: byte-by-byte differs`);
      }
    }
  });
});

function randomBytes(rand) {
  const b = Buffer.alloc(Math.floor(rand() * 64));
  for (let i = 0; i < b.length; i++) b[i] = Math.floor(rand() * 256);
  return b;
}
