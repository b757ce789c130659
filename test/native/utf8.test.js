'use strict';
// isValidUTF8: one suite body, run against the JS fallback, the addon (every SIMD kernel set), the
// dispatcher, utf-8-validate and buffer.isUtf8; plus a seeded "addon equals fallback" property.
const assert = require('assert');
const vm = require('vm');
const { prng, refValid, refFirstError, forEachImplementation, buffer, native } = require('./support');

const { hex, VALID, INVALID, contexts, randomText, damage } = require('./vectors');

forEachImplementation('isValidUTF8', (impl, opts) => {
  describe('isValidUTF8(buffer)', () => {
    it('accepts every boundary code point, alone and inside ASCII / non-ASCII text', () => {
      for (const v of VALID) {
        const bytes = hex(v);
        assert.strictEqual(impl.isValidUTF8(bytes), true, v);
        for (const nonAscii of [false, true]) {
          for (const b of contexts(bytes, nonAscii)) if (!impl.isValidUTF8(b)) assert.fail(`${v} in ${b.toString('hex')}`);
        }
      }
    });

    it('rejects overlongs, surrogates, > U+10FFFF, stray and truncated sequences, wherever they sit', () => {
      for (const v of INVALID) {
        const bytes = hex(v);
        assert.strictEqual(impl.isValidUTF8(bytes), false, v);
        for (const nonAscii of [false, true]) {
          for (const b of contexts(bytes, nonAscii)) if (impl.isValidUTF8(b)) assert.fail(`accepted ${v} in ${b.toString('hex')}`);
        }
      }
    });

    it('agrees with the reference on every 1- and 2-byte input, at several block positions', () => {
      // Preallocated: the pair is written in place at byte `pad` of a space-filled buffer.
      const cases = [0, 30, 31, 62, 63].map((pad) => ({ pad, buf: Buffer.alloc(pad * 2 + 2, 0x20) }));
      const one = Buffer.alloc(1);
      for (let a = 0; a < 256; a++) {
        one[0] = a;
        assert.strictEqual(impl.isValidUTF8(one), refValid(one), `${a}`);
        for (let b = 0; b < 256; b++) {
          for (const { pad, buf } of cases) {
            buf[pad] = a;
            buf[pad + 1] = b;
            const two = buf.subarray(pad, pad + 2);
            if (impl.isValidUTF8(buf) !== refValid(two)) assert.fail(`${two.toString('hex')} at ${pad}`);
          }
        }
      }
    });

    it('agrees with the reference on 3- and 4-byte sequences after every lead byte', () => {
      const probes = [0x00, 0x41, 0x7f, 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf, 0xc0, 0xc2, 0xe0, 0xf0, 0xff];
      // The sequence alone, and with its lead at byte 29 of a 32-byte block (it straddles the block end).
      const alone = Buffer.alloc(4);
      const placed = Buffer.alloc(33, 0x30);
      for (let lead = 0xc0; lead < 0x100; lead++) {
        for (let b1 = 0; b1 < 256; b1++) {
          for (const b2 of probes) {
            for (const b3 of [-1, 0x80, 0xbf]) {
              const n = b3 < 0 ? 3 : 4;
              alone[0] = placed[29] = lead;
              alone[1] = placed[30] = b1;
              alone[2] = placed[31] = b2;
              if (n === 4) alone[3] = placed[32] = b3;
              const seq = alone.subarray(0, n);
              const want = refValid(seq);
              if (impl.isValidUTF8(seq) !== want) assert.fail(seq.toString('hex'));
              if (impl.isValidUTF8(placed.subarray(0, 29 + n)) !== want) assert.fail(`${seq.toString('hex')} at 29`);
            }
          }
        }
      }
    });

    it('validates large inputs (64 KiB+, ASCII and mixed) with one bad byte anywhere', () => {
      const rnd = prng(7);
      const ascii = Buffer.alloc(65536 + 7, 'the quick brown fox ');
      const mixed = Buffer.from('ascii, ünïcödé, кириллица, 漢字, 🎉; '.repeat(1500));
      for (const big of [ascii, mixed]) {
        assert.strictEqual(impl.isValidUTF8(big), true);
        const shifted = big.subarray(1 + rnd.int(3)); // may start inside a character
        assert.strictEqual(impl.isValidUTF8(shifted), refValid(shifted));
        for (let k = 0; k < 25; k++) {
          const bad = Buffer.from(big);
          const at = k < 4 ? [0, 1, bad.length - 2, bad.length - 1][k] : rnd.int(bad.length);
          bad[at] = [0xff, 0x80, 0xc0, 0xed, 0xf5][k % 5];
          const want = refValid(bad);
          // FF, C0 and F5 can never appear; 80 and ED may happen to fit where they land.
          if (bad[at] !== 0x80 && bad[at] !== 0xed) assert.strictEqual(want, false);
          if (impl.isValidUTF8(bad) !== want) assert.fail(`byte ${at} := ${bad[at].toString(16)}: want ${want}`);
        }
        // Cut in the middle of a character: invalid exactly when the reference says so.
        for (let cut = big.length - 4; cut <= big.length; cut++) {
          assert.strictEqual(impl.isValidUTF8(big.subarray(0, cut)), refValid(big.subarray(0, cut)), `cut ${cut}`);
        }
      }
    });

    it('accepts plain Uint8Arrays and unaligned views', () => {
      const bytes = new Uint8Array(Buffer.from('xx ünïcödé text, long enough to reach a SIMD block: ✓✓✓'));
      for (let off = 0; off < 8; off++) {
        const view = bytes.subarray(off, off + 40);
        assert.strictEqual(impl.isValidUTF8(view), refValid(view), `off ${off}`);
      }
    });

    if (opts.strict) {
      it('throws TypeError ERR_INVALID_ARG_TYPE for anything but a Uint8Array', () => {
        for (const bad of [undefined, null, 'abc', 42, [0x41], {}, new Uint16Array(4), new Int8Array(4), new Uint8ClampedArray(4), new DataView(new ArrayBuffer(4)), new ArrayBuffer(4)]) {
          assert.throws(() => impl.isValidUTF8(bad), { name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' });
        }
        assert.throws(() => impl.isValidUTF8(), { name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' });
        assert.strictEqual(impl.isValidUTF8(vm.runInNewContext('new Uint8Array([0xc3, 0xa9])')), true);
        assert.strictEqual(impl.isValidUTF8(vm.runInNewContext('new Uint8Array([0xc3])')), false);
      });
    }
  });
});

describe('isValidUTF8 property: the addon equals the fallback and the reference (seeded)', () => {
  const { implementations: impls } = buffer;
  const candidates = [['dispatcher', buffer.isValidUTF8], ['js', impls.js.isValidUTF8]];
  if (impls.weft && impls.weft.isValidUTF8) candidates.push(['weft addon', impls.weft.isValidUTF8]);
  const { weftAddon } = native;
  // Every SIMD kernel set this CPU runs (probing switches sets, so the best one is put back at once).
  const best = weftAddon ? weftAddon.simd() : null;
  const levels = candidates.length > 2 ? ['scalar', 'sse2', 'neon', 'avx2'].filter((l) => weftAddon.setSimd(l)) : [null];
  if (best) weftAddon.setSimd(best);
  after(() => best && weftAddon.setSimd(best));

  for (const seed of [1, 0xc0ffee, 987654321]) {
    it(`random mostly-valid text with random corruptions, and random bytes (seed ${seed})`, () => {
      const rnd = prng(seed);
      let valid = 0;
      let invalid = 0;
      for (let iter = 0; iter < 600; iter++) {
        const r = rnd();
        const len = r < 0.5 ? rnd.int(100) : r < 0.95 ? rnd.int(3000) : rnd.int(100000);
        let buf = randomText(rnd, len);
        const kind = rnd();
        if (kind < 0.45) buf = damage(rnd, buf);
        else if (kind < 0.5) buf = rnd.bytes(len);
        const off = rnd.int(8);
        const view = Buffer.concat([Buffer.alloc(off), buf]).subarray(off);
        const want = refValid(view);
        if (want) valid++;
        else invalid++;
        for (const level of levels) {
          if (level) weftAddon.setSimd(level);
          for (const [name, fn] of candidates) {
            if (fn(view) !== want) assert.fail(`${name}${level ? ` (${level})` : ''}: seed ${seed} iter ${iter} ${view.length} B, want ${want}`);
          }
        }
      }
      // The generator must exercise both verdicts, or the property proves little.
      assert.ok(valid > 100 && invalid > 100, `valid ${valid}, invalid ${invalid}`);
    });
  }

  it('the reference agrees with TextDecoder({ fatal: true }) on the vectors and random inputs', () => {
    const td = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
    const decodes = (b) => {
      try {
        td.decode(b);
        return true;
      } catch {
        return false;
      }
    };
    for (const v of VALID) assert.strictEqual(refValid(hex(v)), true, v);
    for (const v of INVALID) assert.strictEqual(refValid(hex(v)), false, v);
    const rnd = prng(99);
    for (let i = 0; i < 3000; i++) {
      const b = i % 2 ? damage(rnd, randomText(rnd, rnd.int(64))) : rnd.bytes(rnd.int(8));
      assert.strictEqual(refValid(b), decodes(b), b.toString('hex'));
    }
    assert.strictEqual(refFirstError(hex('41 e0 80')), 2);
    assert.strictEqual(refFirstError(hex('41 e0 a0')), -1);
  });
});
