'use strict';
// lib/util/native.ts + the nativePaths/implementations surface of lib/util/buffer.ts: the addon is
// found when built, WS_NO_BUFFER_UTIL / WS_NO_UTF_8_VALIDATE are honoured, nothing throws when parts
// are missing. Env cases run in child processes because the loader decides once, at require time.
const assert = require('assert');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawnSync } = require('child_process');
const { root, buffer, native } = require('./support');

const built = fs.existsSync(path.join(root, 'build', 'Release', 'weft.node'));
const hasIsUtf8 = typeof require('buffer').isUtf8 === 'function';

/** Runs a child that loads dist/lib/util/buffer from `dir` with `env`; returns what it reports. */
function probe(env, dir = root) {
  const script = `
    const b = require(${JSON.stringify(path.join(dir, 'dist/lib/util/buffer'))});
    const n = require(${JSON.stringify(path.join(dir, 'dist/lib/util/native'))});
    const impls = {};
    for (const [k, v] of Object.entries(b.implementations)) impls[k] = Object.keys(v).sort();
    const x = Buffer.from('héllo wörld, long enough to take the native path €€€€€€€€€€€€€€€€€€€€€€€€');
    const out = Buffer.alloc(x.length);
    b.mask(x, Buffer.from([1, 2, 3, 4]), out, 0, x.length);
    b.unmask(out, Buffer.from([1, 2, 3, 4]));
    console.log(JSON.stringify({ paths: b.nativePaths, impls, addon: n.weftAddon !== null, roundTrip: out.equals(x), utf8: b.isValidUTF8(x) }));`;
  const childEnv = { ...process.env };
  delete childEnv.WS_NO_BUFFER_UTIL;
  delete childEnv.WS_NO_UTF_8_VALIDATE;
  Object.assign(childEnv, env);
  const r = spawnSync(process.execPath, ['-e', script], { env: childEnv, encoding: 'utf8' });
  assert.strictEqual(r.status, 0, r.stderr);
  return JSON.parse(r.stdout);
}

describe('native loader (lib/util/native.ts)', function () {
  this.timeout(30000);

  it('with no variables set: the built addon is used for masking; isUtf8 (or the addon) for UTF-8', () => {
    const got = probe({});
    assert.strictEqual(got.roundTrip, true);
    assert.strictEqual(got.utf8, true);
    if (built) {
      assert.strictEqual(got.addon, true);
      assert.strictEqual(got.paths.mask, 'weft');
      assert.deepStrictEqual(got.impls.weft, ['isValidUTF8', 'mask', 'unmask']);
    }
    if (hasIsUtf8) assert.strictEqual(got.paths.utf8, 'buffer.isUtf8');
    else if (built) assert.strictEqual(got.paths.utf8, 'weft');
  });

  it('an empty value does not count as set (ws convention)', () => {
    const got = probe({ WS_NO_BUFFER_UTIL: '', WS_NO_UTF_8_VALIDATE: '' });
    assert.deepStrictEqual(got, probe({}));
  });

  it('WS_NO_BUFFER_UTIL=1: masking in JS; the addon still validates UTF-8', () => {
    const got = probe({ WS_NO_BUFFER_UTIL: '1' });
    assert.strictEqual(got.paths.mask, 'js');
    assert.strictEqual(got.roundTrip, true);
    assert.ok(!got.impls.bufferutil);
    if (built) assert.deepStrictEqual(got.impls.weft, ['isValidUTF8']);
  });

  it('WS_NO_UTF_8_VALIDATE=true: no native UTF-8 validator from an addon; masking unaffected', () => {
    const got = probe({ WS_NO_UTF_8_VALIDATE: 'true' });
    assert.ok(!got.impls['utf-8-validate']);
    assert.ok(!got.impls.weft || !got.impls.weft.includes('isValidUTF8'));
    assert.strictEqual(got.paths.utf8, hasIsUtf8 ? 'buffer.isUtf8' : 'js');
    if (built) assert.strictEqual(got.paths.mask, 'weft');
    assert.strictEqual(got.utf8, true);
  });

  it('both set: pure JS (plus Node\'s own buffer.isUtf8), and the addon is not even loaded', () => {
    const got = probe({ WS_NO_BUFFER_UTIL: '1', WS_NO_UTF_8_VALIDATE: '1' });
    assert.strictEqual(got.addon, false);
    assert.deepStrictEqual(got.paths, { mask: 'js', utf8: hasIsUtf8 ? 'buffer.isUtf8' : 'js' });
    assert.deepStrictEqual(Object.keys(got.impls).sort(), hasIsUtf8 ? ['buffer.isUtf8', 'js'] : ['js']);
    assert.strictEqual(got.roundTrip, true);
  });

  it('never throws when the addon, node-gyp-build and the optional packages are all missing', () => {
    // A copy of dist/lib/util outside the package: no binding.gyp above it, no node_modules.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'weft-loader-'));
    try {
      const util = path.join(dir, 'dist', 'lib', 'util');
      fs.mkdirSync(util, { recursive: true });
      for (const f of ['buffer.js', 'native.js', 'fallback.js']) fs.copyFileSync(path.join(root, 'dist/lib/util', f), path.join(util, f));
      let got = probe({}, dir);
      assert.strictEqual(got.addon, false);
      assert.strictEqual(got.paths.mask, 'js');
      assert.strictEqual(got.roundTrip, true);
      // With a binding.gyp but nothing built (node-gyp-build still unresolvable): same.
      fs.writeFileSync(path.join(dir, 'binding.gyp'), '{}');
      got = probe({}, dir);
      assert.strictEqual(got.addon, false);
      assert.strictEqual(got.paths.mask, 'js');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('without weft\'s addon: bufferutil and utf-8-validate are used, and the variables still switch them off', () => {
    // A copy of dist/lib/util with only the optional packages next to it (symlinked node_modules).
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'weft-loader-'));
    try {
      const util = path.join(dir, 'dist', 'lib', 'util');
      fs.mkdirSync(util, { recursive: true });
      for (const f of ['buffer.js', 'native.js', 'fallback.js']) fs.copyFileSync(path.join(root, 'dist/lib/util', f), path.join(util, f));
      fs.mkdirSync(path.join(dir, 'node_modules'));
      for (const pkg of ['bufferutil', 'utf-8-validate', 'node-gyp-build']) {
        fs.symlinkSync(path.join(root, 'node_modules', pkg), path.join(dir, 'node_modules', pkg), 'dir');
      }
      let got = probe({}, dir);
      assert.strictEqual(got.addon, false);
      assert.strictEqual(got.paths.mask, 'bufferutil');
      assert.deepStrictEqual(got.impls.bufferutil, ['mask', 'unmask']);
      assert.deepStrictEqual(got.impls['utf-8-validate'], ['isValidUTF8']);
      assert.strictEqual(got.paths.utf8, hasIsUtf8 ? 'buffer.isUtf8' : 'utf-8-validate');
      assert.strictEqual(got.roundTrip, true);
      got = probe({ WS_NO_BUFFER_UTIL: '1', WS_NO_UTF_8_VALIDATE: '1' }, dir);
      assert.strictEqual(got.paths.mask, 'js');
      assert.ok(!got.impls.bufferutil && !got.impls['utf-8-validate']);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('in this process: nativePaths and implementations match what was loaded', () => {
    const env = process.env;
    const noBU = !!env.WS_NO_BUFFER_UTIL;
    const noUV = !!env.WS_NO_UTF_8_VALIDATE;
    assert.ok(Object.isFrozen(buffer.nativePaths));
    assert.strictEqual(typeof buffer.implementations.js.mask, 'function');
    if (built && !noBU) assert.strictEqual(buffer.nativePaths.mask, 'weft');
    if (noBU) assert.strictEqual(buffer.nativePaths.mask, 'js');
    if (built && !(noBU && noUV)) assert.ok(native.weftAddon, 'the built addon must load');
    if (noBU && noUV) assert.strictEqual(native.weftAddon, null);
  });
});

describe('weft addon extras (simd / setSimd)', () => {
  const addon = native.weftAddon;
  if (!addon) return; // not built, or disabled by both variables: covered by the loader tests above

  it('reports its kernel set and switches only to sets this CPU runs', () => {
    const best = addon.simd();
    assert.ok(['scalar', 'sse2', 'avx2', 'neon'].includes(best), best);
    try {
      assert.strictEqual(addon.setSimd('scalar'), true);
      assert.strictEqual(addon.simd(), 'scalar');
      assert.strictEqual(addon.setSimd('bogus'), false);
      assert.strictEqual(addon.simd(), 'scalar');
      assert.strictEqual(addon.setSimd(process.arch === 'x64' ? 'neon' : 'avx2'), false);
      assert.throws(() => addon.setSimd(42), { name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' });
      if (process.arch === 'x64') assert.strictEqual(addon.setSimd('sse2'), true);
    } finally {
      addon.setSimd(best);
    }
    assert.strictEqual(addon.simd(), best);
  });
});
