'use strict';
// Utf8Validator (lib/util/utf8.ts): streaming, fail-fast validation of text split into pieces.
const assert = require('assert');
const path = require('path');
const { prng, root, refFirstError, refValid, buffer } = require('./support');
const { hex, VALID, INVALID, randomText, damage } = require('./vectors');

const { Utf8Validator } = require(path.join(root, 'dist/lib/util/utf8'));

/**
 * Pushes the pieces (cut at the given ascending offsets) through `v`. Returns the index of the first
 * piece whose push returned false (pieces.length if none) and end()'s verdict.
 */
function run(v, bytes, cuts) {
  const bounds = [0, ...cuts, bytes.length];
  let firstFalse = bounds.length - 1;
  let ok = true;
  for (let p = 0; p + 1 < bounds.length; p++) {
    const pushed = v.push(bytes.subarray(bounds[p], bounds[p + 1]));
    if (!pushed && ok) firstFalse = p;
    if (!pushed) ok = false;
    // Once false, it stays false for the rest of the message.
    else assert.ok(ok, 'push returned true after an earlier false');
  }
  return { firstFalse, ended: v.end(), bounds };
}

/** The piece that contains byte `index`. */
function pieceOf(bounds, index) {
  for (let p = 0; p + 1 < bounds.length; p++) if (index < bounds[p + 1]) return p;
  return bounds.length - 2;
}

/** Checks the verdicts of one run against the reference: same final verdict, false at the right piece. */
function check(v, bytes, cuts, label) {
  const { firstFalse, ended, bounds } = run(v, bytes, cuts);
  const err = refFirstError(bytes);
  const valid = err === bytes.length;
  if (ended !== valid) assert.fail(`${label}: end() ${ended}, whole-buffer ${valid} (${bytes.toString('hex')} cut at ${cuts})`);
  assert.strictEqual(ended, buffer.isValidUTF8(bytes));
  const pieces = bounds.length - 1;
  // -1: a valid prefix that stops mid-character; no push may fail, only end().
  const wantFalse = err >= 0 && err < bytes.length ? pieceOf(bounds, err) : pieces;
  if (firstFalse !== wantFalse) {
    assert.fail(`${label}: first false at piece ${firstFalse}, want ${wantFalse} (error at byte ${err}; ${bytes.toString('hex')} cut at ${cuts})`);
  }
}

describe('Utf8Validator', () => {
  it('gives the whole-buffer verdict for every split point of the vectors, in and around text', () => {
    const v = new Utf8Validator();
    for (const s of [...VALID, ...INVALID]) {
      const core = hex(s);
      for (const bytes of [core, Buffer.concat([Buffer.from('ab'), core, Buffer.from('cd')]), Buffer.concat([Buffer.from('é€'), core])]) {
        for (let i = 0; i <= bytes.length; i++) check(v, bytes, [i], s);
      }
    }
  });

  it('gives the whole-buffer verdict for every 2-cut split of short inputs, and byte by byte', () => {
    const v = new Utf8Validator();
    const inputs = [...VALID, ...INVALID].map(hex).filter((b) => b.length <= 12);
    inputs.push(Buffer.from('a€𝄞é'), hex('f0 9f 98 80 e2 82 ac c3 a9'));
    for (const bytes of inputs) {
      for (let i = 0; i <= bytes.length; i++) for (let j = i; j <= bytes.length; j++) check(v, bytes, [i, j], 'two cuts');
      check(v, bytes, [...Array(bytes.length).keys()].slice(1), 'byte by byte');
    }
  });

  it('every split point of random texts (seeded) agrees with the whole-buffer validator', () => {
    const rnd = prng(0x57ea);
    const v = new Utf8Validator();
    for (let iter = 0; iter < 150; iter++) {
      let bytes = randomText(rnd, 1 + rnd.int(60));
      if (iter % 2) bytes = damage(rnd, bytes);
      for (let i = 0; i <= bytes.length; i++) check(v, bytes, [i], `seed 0x57ea iter ${iter}`);
    }
  });

  it('random chunkings of large texts (seeded): false exactly at the piece that proves it', () => {
    const rnd = prng(424242);
    const v = new Utf8Validator();
    for (let iter = 0; iter < 60; iter++) {
      let bytes = randomText(rnd, 100 + rnd.int(70000));
      if (iter % 3 === 1) bytes = damage(rnd, bytes);
      const cuts = [];
      for (let at = rnd.int(50); at < bytes.length; at += 1 + rnd.int(iter % 2 ? 9 : 4000)) cuts.push(at);
      check(v, bytes, cuts, `seed 424242 iter ${iter}`);
    }
  });

  describe('fails fast', () => {
    const cases = [
      ['impossible lead at the end', ['41 c0'], 0],
      ['F5 lead', ['41 42 f5'], 0],
      ['FF', ['ff'], 0],
      ['stray continuation', ['41 80'], 0],
      ['E0 then < A0, in one piece', ['41 e0 80'], 0],
      ['E0 then < A0, across pieces', ['41 e0', '9f'], 1],
      ['ED then > 9F (surrogate)', ['ed', 'a0'], 1],
      ['F0 then < 90 (overlong)', ['f0 8f'], 0],
      ['F4 then > 8F (> U+10FFFF)', ['f4', '90'], 1],
      ['lead then non-continuation', ['e2 82', '41'], 1],
      ['lead then lead', ['c3', 'c3'], 1],
      ['third byte bad', ['f0 90', '80 41'], 1],
      ['carried character completed, then a stray byte', ['e2', '82 ac 80'], 1],
    ];
    for (const [name, pieces, at] of cases) {
      it(`${name}: false at piece ${at}`, () => {
        const v = new Utf8Validator();
        const results = pieces.map((p) => v.push(hex(p)));
        assert.deepStrictEqual(results, pieces.map((_, i) => i < at));
        assert.strictEqual(v.push(Buffer.from('fine')), false, 'stays false');
        assert.strictEqual(v.end(), false);
      });
    }

    it('does not fail early on a valid prefix of a character', () => {
      const v = new Utf8Validator();
      for (const p of ['f0', '9f', '98']) assert.strictEqual(v.push(hex(p)), true, p);
      assert.strictEqual(v.push(hex('80 41')), true);
      assert.strictEqual(v.end(), true);
    });
  });

  it('end() is false for a message that stops inside a character, and starts the next message clean', () => {
    const v = new Utf8Validator();
    assert.strictEqual(v.push(hex('41 e2 82')), true);
    assert.strictEqual(v.end(), false);
    // The carried E2 82 must be gone: AC alone is now a stray continuation...
    assert.strictEqual(v.push(hex('ac')), false);
    assert.strictEqual(v.end(), false);
    // ...and after end(), a good message is good again.
    assert.strictEqual(v.push(Buffer.from('ok €')), true);
    assert.strictEqual(v.end(), true);
  });

  it('reset() forgets the carried character and a failure', () => {
    const v = new Utf8Validator();
    assert.strictEqual(v.push(hex('f0 9f')), true);
    v.reset();
    assert.strictEqual(v.push(Buffer.from('abc')), true);
    assert.strictEqual(v.end(), true);
    assert.strictEqual(v.push(hex('ff')), false);
    v.reset();
    assert.strictEqual(v.push(Buffer.from('abc')), true);
    assert.strictEqual(v.end(), true);
  });

  it('accepts empty pieces anywhere, and an empty message', () => {
    const v = new Utf8Validator();
    assert.strictEqual(v.end(), true);
    for (const p of ['', 'e2', '', '82', '', 'ac', '']) assert.strictEqual(v.push(hex(p)), true);
    assert.strictEqual(v.end(), true);
    assert.strictEqual(v.push(hex('')), true);
    assert.strictEqual(v.push(hex('e2')), true);
    assert.strictEqual(v.push(hex('')), true);
    assert.strictEqual(v.end(), false);
  });

  it('agrees with refValid on the pieces of one long valid message', () => {
    const v = new Utf8Validator();
    const text = Buffer.from('Grüße — 你好 — 🎉 '.repeat(5000));
    assert.ok(refValid(text));
    for (let at = 0; at < text.length; at += 4093) assert.strictEqual(v.push(text.subarray(at, at + 4093)), true, `at ${at}`);
    assert.strictEqual(v.end(), true);
  });
});
