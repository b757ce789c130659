'use strict';
// The addon in worker threads: each thread that loads weft gets its own kernel set, chosen at load, so
// one thread switching kernels (setSimd, used by tests and benchmarks) never changes what another
// thread runs, and threads masking and validating at the same time all get the right results.
const assert = require('assert');
const path = require('path');
const { Worker } = require('worker_threads');
const { refMask } = require('./support');

// The addon itself, loaded as node-gyp-build finds it (also when a test run switches weft's use of it off).
const root = path.join(__dirname, '..', '..');
const addon = require('node-gyp-build')(root);

/** Runs `body` (a function's source) in a worker that has `addon` in scope; resolves with what it posts. */
function inWorker(body) {
  const src = `
    const { parentPort } = require('worker_threads');
    const addon = require('node-gyp-build')(${JSON.stringify(root)});
    (${body})(addon, parentPort);
  `;
  return new Promise((resolve, reject) => {
    const w = new Worker(src, { eval: true });
    w.once('message', resolve);
    w.once('error', reject);
  });
}

describe('weft addon in worker threads', function () {
  this.timeout(20000);

  it("a worker's setSimd changes its own kernels only", async () => {
    const best = addon.simd();
    const seen = await inWorker(`(addon, port) => {
      const before = addon.simd();
      const switched = addon.setSimd('scalar');
      port.postMessage({ before, switched, after: addon.simd() });
    }`);
    assert.strictEqual(seen.before, best, 'a new thread starts with the best set');
    assert.strictEqual(seen.switched, true);
    assert.strictEqual(seen.after, 'scalar');
    assert.strictEqual(addon.simd(), best, "the main thread's set is unchanged");
  });

  it('four workers masking and validating at once all get the reference results', async () => {
    const results = await Promise.all(
      [0, 1, 2, 3].map((seed) =>
        inWorker(`(addon, port) => {
          const crypto = require('crypto');
          let ok = 0;
          for (let i = 0; i < 2000; i++) {
            const n = 1 + ((i * 37 + ${seed}) % 5000);
            const src = crypto.randomBytes(n);
            const key = crypto.randomBytes(4);
            const out = Buffer.alloc(n);
            addon.mask(src, key, out, 0, n);
            let same = true;
            for (let j = 0; j < n; j++) if (out[j] !== (src[j] ^ key[j & 3])) { same = false; break; }
            const text = Buffer.from('héllo wörld '.repeat(1 + (i % 50)));
            if (same && addon.isValidUTF8(text) && !addon.isValidUTF8(Buffer.concat([text, Buffer.from([0xc3])]))) ok++;
          }
          port.postMessage(ok);
        }`),
      ),
    );
    assert.deepStrictEqual(results, [2000, 2000, 2000, 2000]);
    // The main thread still agrees with the reference.
    const src = Buffer.from('main thread check');
    const key = Buffer.from([1, 2, 3, 4]);
    const out = Buffer.alloc(src.length);
    const expected = Buffer.alloc(src.length);
    addon.mask(src, key, out, 0, src.length);
    refMask(src, key, expected, 0, src.length);
    assert.ok(out.equals(expected));
  });
});
