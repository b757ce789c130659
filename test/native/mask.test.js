'use strict';
// mask/unmask: one suite body, run against the JS fallback, the addon (every SIMD kernel set this CPU
// runs), the dispatcher and bufferutil; plus a seeded "addon equals fallback" property.
const assert = require('assert');
const vm = require('vm');
const { prng, refMask, forEachImplementation, buffer } = require('./support');

const MASKS = [
  [0x00, 0x00, 0x00, 0x00],
  [0xff, 0xff, 0xff, 0xff],
  [0x01, 0x02, 0x03, 0x04],
  [0x80, 0x40, 0x20, 0x10],
  [0x37, 0xfa, 0x21, 0x3d], // RFC 6455 section 5.7's example key
  [0xff, 0x00, 0x00, 0x00],
  [0x00, 0x00, 0x00, 0xff],
];

/** A view of `len` bytes at byteOffset `off` (mod 8) inside a larger, guard-filled buffer. */
function placed(len, off, fill) {
  const backing = Buffer.alloc(len + off + 16, fill);
  return { backing, view: backing.subarray(off, off + len) };
}

function expectedMask(src, key, len) {
  const out = Buffer.alloc(len);
  refMask(src, key, out, 0, len);
  return out;
}

forEachImplementation('mask', (impl, opts) => {
  describe('mask(source, mask, output, offset, length)', () => {
    it('matches the byte-by-byte reference for lengths 0..300, every source/output alignment', () => {
      const rnd = prng(1);
      for (let len = 0; len <= 300; len++) {
        for (let srcOff = 0; srcOff < 8; srcOff++) {
          const key = Buffer.from(MASKS[(len + srcOff) % MASKS.length]);
          const src = placed(len, srcOff, 0xaa).view;
          for (let i = 0; i < len; i++) src[i] = rnd.int(256);
          const srcCopy = Buffer.from(src);
          const want = expectedMask(src, key, len);
          for (let dstOff = 0; dstOff < 8; dstOff++) {
            const offset = (len + dstOff) % 5;
            const { backing, view } = placed(len + offset + 3, dstOff, 0x5c);
            impl.mask(src, key, view, offset, len);
            const got = view.subarray(offset, offset + len);
            if (!got.equals(want)) assert.fail(`len ${len} srcOff ${srcOff} dstOff ${dstOff} offset ${offset}`);
            // Nothing outside output[offset, offset + length) is written, and the source is left alone.
            for (let i = 0; i < backing.length; i++) {
              const inside = i >= dstOff + offset && i < dstOff + offset + len;
              if (!inside && backing[i] !== 0x5c) assert.fail(`wrote outside the range at ${i} (len ${len})`);
            }
            assert.ok(src.equals(srcCopy));
          }
        }
      }
    });

    it('applies every mask byte in its position (each key byte alone, 1..40 bytes)', () => {
      for (let k = 0; k < 4; k++) {
        for (const v of [0x01, 0x80, 0xff]) {
          const key = Buffer.alloc(4);
          key[k] = v;
          for (let len = 1; len <= 40; len++) {
            const src = Buffer.alloc(len, 0x0f);
            const out = Buffer.alloc(len);
            impl.mask(src, key, out, 0, len);
            for (let i = 0; i < len; i++) assert.strictEqual(out[i], i % 4 === k ? 0x0f ^ v : 0x0f, `key ${k} len ${len} i ${i}`);
          }
        }
      }
    });

    it('handles 64 KiB and larger inputs on unaligned views', () => {
      const rnd = prng(2);
      for (const len of [65536, 65537, 65539, 65543, 65536 + 125, (1 << 20) + 3]) {
        const srcOff = rnd.int(8);
        const dstOff = rnd.int(8);
        const src = placed(len, srcOff, 0).view;
        rnd.bytes(len).copy(src);
        const key = rnd.bytes(4);
        const want = expectedMask(src, key, len);
        const { view } = placed(len + 10, dstOff, 0x33);
        impl.mask(src, key, view, 7, len);
        assert.ok(view.subarray(7, 7 + len).equals(want), `len ${len}`);
        assert.deepStrictEqual([...view.subarray(0, 7)], [0x33, 0x33, 0x33, 0x33, 0x33, 0x33, 0x33]);
        assert.deepStrictEqual([...view.subarray(7 + len)], [0x33, 0x33, 0x33]);
      }
    });

    it('masks in place when source and output are the same bytes, and masking twice restores the input', () => {
      const rnd = prng(3);
      for (const len of [0, 1, 3, 7, 8, 15, 31, 33, 64, 127, 128, 129, 255, 1000, 4099]) {
        const data = placed(len, len % 8, 0).view;
        rnd.bytes(len).copy(data);
        const orig = Buffer.from(data);
        const key = rnd.bytes(4);
        impl.mask(data, key, data, 0, len);
        assert.ok(data.equals(expectedMask(orig, key, len)), `len ${len}`);
        impl.mask(data, key, data, 0, len);
        assert.ok(data.equals(orig), `len ${len} round trip`);
      }
    });

    it('masks a prefix when length < source.length, and uses only the first 4 bytes of a longer mask', () => {
      const src = Buffer.from('abcdefghijklmnopqrstuvwxyz');
      const out = Buffer.alloc(30, 0);
      impl.mask(src, Buffer.from([1, 2, 3, 4, 99, 99]), out, 2, 10);
      assert.ok(out.subarray(2, 12).equals(expectedMask(src, Buffer.from([1, 2, 3, 4]), 10)));
      assert.ok(out.subarray(12).equals(Buffer.alloc(18)));
      assert.ok(out.subarray(0, 2).equals(Buffer.alloc(2)));
    });

    it('accepts plain Uint8Arrays, not only Buffers', () => {
      const src = new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9]);
      const out = new Uint8Array(12);
      impl.mask(src, new Uint8Array([0xff, 0, 0xff, 0]), out, 3, 9);
      assert.deepStrictEqual([...out], [0, 0, 0, 0xfe, 2, 0xfc, 4, 0xfa, 6, 0xf8, 8, 0xf6]);
    });

    if (opts.strict) describeMaskArgErrors(impl);
  });

  describe('unmask(buffer, mask)', () => {
    it('matches the reference for lengths 0..300 at every alignment, in place, without touching neighbours', () => {
      const rnd = prng(4);
      for (let len = 0; len <= 300; len++) {
        for (let off = 0; off < 8; off++) {
          const key = Buffer.from(MASKS[(len * 3 + off) % MASKS.length]);
          const { backing, view } = placed(len, off, 0x77);
          for (let i = 0; i < len; i++) view[i] = rnd.int(256);
          const want = expectedMask(view, key, len);
          impl.unmask(view, key);
          if (!view.equals(want)) assert.fail(`len ${len} off ${off}`);
          for (let i = 0; i < backing.length; i++) {
            if ((i < off || i >= off + len) && backing[i] !== 0x77) assert.fail(`wrote outside at ${i} (len ${len})`);
          }
        }
      }
    });

    it('handles 64 KiB and larger, and is its own inverse', () => {
      const rnd = prng(5);
      for (const len of [65536, 65541, (1 << 20) + 1]) {
        const view = placed(len, 1 + rnd.int(7), 0).view;
        rnd.bytes(len).copy(view);
        const orig = Buffer.from(view);
        const key = rnd.bytes(4);
        impl.unmask(view, key);
        assert.ok(view.equals(expectedMask(orig, key, len)), `len ${len}`);
        impl.unmask(view, key);
        assert.ok(view.equals(orig));
      }
    });

    if (opts.strict) {
      it('throws TypeError ERR_INVALID_ARG_TYPE / RangeError ERR_OUT_OF_RANGE on bad arguments', () => {
        const buf = Buffer.from([1, 2, 3, 4, 5]);
        const key = Buffer.from([1, 2, 3, 4]);
        const typeErr = { name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' };
        for (const bad of [undefined, null, 'abcd', 42, [1, 2, 3, 4], {}, new Uint16Array(4), new Int8Array(4), new Uint8ClampedArray(4), new DataView(new ArrayBuffer(4)), new ArrayBuffer(4)]) {
          assert.throws(() => impl.unmask(bad, key), typeErr);
          assert.throws(() => impl.unmask(buf, bad), typeErr);
        }
        assert.throws(() => impl.unmask(buf), typeErr);
        assert.throws(() => impl.unmask(buf, Buffer.from([1, 2, 3])), { name: 'RangeError', code: 'ERR_OUT_OF_RANGE' });
        assert.deepStrictEqual([...buf], [1, 2, 3, 4, 5]);
      });
    }
  });
});

function describeMaskArgErrors(impl) {
  it('throws TypeError ERR_INVALID_ARG_TYPE / RangeError ERR_OUT_OF_RANGE on bad arguments, writing nothing', () => {
    const src = Buffer.from([1, 2, 3, 4, 5, 6, 7, 8]);
    const key = Buffer.from([9, 9, 9, 9]);
    const out = Buffer.alloc(8, 0xee);
    const typeErr = { name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' };
    const rangeErr = { name: 'RangeError', code: 'ERR_OUT_OF_RANGE' };
    const badBuffers = [undefined, null, 'abcd', 42, [1, 2, 3, 4], {}, new Uint16Array(8), new Int8Array(8), new Uint8ClampedArray(8), new DataView(new ArrayBuffer(8)), new ArrayBuffer(8)];
    for (const bad of badBuffers) {
      assert.throws(() => impl.mask(bad, key, out, 0, 4), typeErr);
      assert.throws(() => impl.mask(src, bad, out, 0, 4), typeErr);
      assert.throws(() => impl.mask(src, key, bad, 0, 4), typeErr);
    }
    for (const bad of [undefined, null, '1', 1n, {}, [1]]) {
      assert.throws(() => impl.mask(src, key, out, bad, 4), typeErr);
      assert.throws(() => impl.mask(src, key, out, 0, bad), typeErr);
    }
    for (const bad of [-1, 0.5, NaN, Infinity, -Infinity, 2 ** 53, Number.MAX_VALUE]) {
      assert.throws(() => impl.mask(src, key, out, bad, 4), rangeErr, `offset ${bad}`);
      assert.throws(() => impl.mask(src, key, out, 0, bad), rangeErr, `length ${bad}`);
    }
    assert.throws(() => impl.mask(src, Buffer.from([1, 2, 3]), out, 0, 4), rangeErr); // short mask
    assert.throws(() => impl.mask(src, key, out, 0, 9), rangeErr); // length > source.length and output
    assert.throws(() => impl.mask(src, key, Buffer.alloc(20), 0, 9), rangeErr); // length > source.length only
    assert.throws(() => impl.mask(src.subarray(0, 3), key, Buffer.alloc(20), 0, 4), rangeErr); // a view's length counts
    assert.throws(() => impl.mask(src, key, out, 5, 4), rangeErr); // offset + length > output.length
    assert.throws(() => impl.mask(src, key, out, 9, 0), rangeErr); // offset > output.length
    assert.throws(() => impl.mask(src, key, out, 2 ** 52, 2 ** 52), rangeErr); // sum beyond any buffer
    assert.throws(() => impl.mask(src, key, out), typeErr); // missing arguments
    assert.deepStrictEqual([...out], [0xee, 0xee, 0xee, 0xee, 0xee, 0xee, 0xee, 0xee]);
    // Edge cases that are allowed: empty range at the very end, offset == output.length.
    impl.mask(src, key, out, 8, 0);
    impl.mask(src, key, out, 4, 4);
    assert.deepStrictEqual([...out], [0xee, 0xee, 0xee, 0xee, 1 ^ 9, 2 ^ 9, 3 ^ 9, 4 ^ 9]);
  });

  it('throws RangeError ERR_OUT_OF_RANGE when source and output partly overlap, writing nothing; the same bytes are fine', () => {
    const key = Buffer.from([0x37, 0xfa, 0x21, 0x3d]);
    const rangeErr = { name: 'RangeError', code: 'ERR_OUT_OF_RANGE', message: /overlap/ };
    for (const length of [1, 5, 31, 64, 200, 4096]) {
      const backing = Buffer.alloc(length * 3);
      for (let i = 0; i < backing.length; i++) backing[i] = i & 0xff;
      const before = Buffer.from(backing);
      const source = backing.subarray(length, 2 * length);
      // Output starting inside the source, and ending inside it; through output's offset too.
      for (const shift of [1, 3, 4, 17, length - 1]) {
        if (shift <= 0 || shift >= length) continue;
        assert.throws(() => impl.mask(source, key, backing.subarray(length + shift), 0, length), rangeErr, `+${shift}, ${length} B`);
        assert.throws(() => impl.mask(source, key, backing.subarray(length - shift), 0, length), rangeErr, `-${shift}, ${length} B`);
        assert.throws(() => impl.mask(source, key, backing, length + shift, length), rangeErr, `offset +${shift}, ${length} B`);
        // The same memory seen through a view of another Uint8Array over the same ArrayBuffer.
        const other = new Uint8Array(backing.buffer, backing.byteOffset, backing.length);
        assert.throws(() => impl.mask(source, key, other, length - shift, length), rangeErr, `other view -${shift}, ${length} B`);
      }
      assert.ok(backing.equals(before), 'nothing written');
      // Allowed: the same bytes (in place), and ranges that only touch.
      impl.mask(source, key, backing, length, length);
      const expected = Buffer.from(before.subarray(length, 2 * length));
      for (let i = 0; i < length; i++) expected[i] ^= key[i & 3];
      assert.ok(backing.subarray(length, 2 * length).equals(expected));
      impl.mask(source, key, backing, 2 * length, length);
      impl.mask(source, key, backing, 0, length);
    }
  });

  it('accepts Uint8Arrays from another realm (vm context)', () => {
    const foreign = vm.runInNewContext('[new Uint8Array([1, 2, 3, 4, 5]), new Uint8Array([1, 1, 1, 1]), new Uint8Array(5)]');
    assert.ok(!(foreign[0] instanceof Uint8Array));
    impl.mask(foreign[0], foreign[1], foreign[2], 0, 5);
    assert.deepStrictEqual([...foreign[2]], [0, 3, 2, 5, 4]);
  });
}

describe('mask/unmask property: the addon equals the fallback and the reference (seeded)', () => {
  const { implementations: impls } = buffer;
  const candidates = [
    ['dispatcher', { mask: buffer.mask, unmask: buffer.unmask }],
    // What the protocol core calls: the same dispatch without argument checks on the small-input path.
    ['core entry points (maskFrame/unmaskFrame)', { mask: buffer.maskFrame, unmask: buffer.unmaskFrame }],
  ];
  if (impls.weft && impls.weft.mask) candidates.push(['weft addon', impls.weft]);
  for (const seed of [0x5eed, 0xbadc0de, 20240601]) {
    it(`random lengths, offsets and masks (seed ${seed})`, () => {
      const rnd = prng(seed);
      for (let iter = 0; iter < 400; iter++) {
        // Mostly short and mid lengths, sometimes large, so every kernel stage and tail is hit.
        const r = rnd();
        const len = r < 0.6 ? rnd.int(200) : r < 0.95 ? rnd.int(5000) : rnd.int(200000);
        const srcOff = rnd.int(16);
        const src = placed(len, srcOff, 0).view;
        rnd.bytes(len).copy(src);
        const key = rnd.bytes(4 + rnd.int(3));
        const offset = rnd.int(9);
        const outOff = rnd.int(16);
        const want = expectedMask(src, key, len);
        const jsOut = placed(len + offset, outOff, 0x11).view;
        impls.js.mask(src, key, jsOut, offset, len);
        assert.ok(jsOut.subarray(offset).equals(want), `js mask len ${len}`);
        for (const [name, impl] of candidates) {
          const out = placed(len + offset, outOff, 0x11).view;
          impl.mask(src, key, out, offset, len);
          if (!out.equals(jsOut)) assert.fail(`${name} mask differs from the fallback: seed ${seed} iter ${iter} len ${len}`);
          const inPlace = Buffer.from(src);
          impl.unmask(inPlace, key);
          if (!inPlace.equals(want)) assert.fail(`${name} unmask differs: seed ${seed} iter ${iter} len ${len}`);
        }
        // maskInPlace: a range inside a larger buffer, masked where it is; the bytes around it untouched.
        const frame = placed(offset + len + 3, outOff, 0x5c).view;
        src.copy(frame, offset);
        buffer.maskInPlace(frame, key, offset, len);
        if (!frame.subarray(offset, offset + len).equals(want)) assert.fail(`maskInPlace differs: seed ${seed} iter ${iter} len ${len}`);
        for (const i of [...Array(offset).keys(), offset + len, offset + len + 1, offset + len + 2]) {
          if (frame[i] !== 0x5c) assert.fail(`maskInPlace wrote outside its range at ${i}: seed ${seed} iter ${iter} len ${len}`);
        }
      }
    });
  }
});
