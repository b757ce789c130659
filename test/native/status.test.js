'use strict';
// require('weft').native: which implementation masks and validates, and why the addon is not used
// when it is not. Cases run in child processes (the loader decides once, at require time), some on a
// copy of the package laid out as an install without a usable addon.
const assert = require('assert');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawnSync } = require('child_process');
const { root } = require('./support');

const hasIsUtf8 = typeof require('buffer').isUtf8 === 'function';

/** Loads `dir`'s entry in a child with `env`; returns { native, stderr }. */
function status(env = {}, dir = root) {
  const childEnv = { ...process.env };
  delete childEnv.WS_NO_BUFFER_UTIL;
  delete childEnv.WS_NO_UTF_8_VALIDATE;
  delete childEnv.NODE_NO_WARNINGS;
  Object.assign(childEnv, env);
  const r = spawnSync(process.execPath, ['-e', `console.log(JSON.stringify(require(${JSON.stringify(dir)}).native))`], {
    env: childEnv,
    encoding: 'utf8',
  });
  assert.strictEqual(r.status, 0, r.stderr);
  return { native: JSON.parse(r.stdout), stderr: r.stderr };
}

/** A copy of the package (dist, package.json, binding.gyp) with node-gyp-build but no addon anywhere. */
function packageWithoutAddon() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'weft-status-'));
  fs.cpSync(path.join(root, 'dist'), path.join(dir, 'dist'), { recursive: true });
  for (const f of ['package.json', 'binding.gyp']) fs.copyFileSync(path.join(root, f), path.join(dir, f));
  fs.mkdirSync(path.join(dir, 'node_modules'));
  fs.symlinkSync(path.join(root, 'node_modules', 'node-gyp-build'), path.join(dir, 'node_modules', 'node-gyp-build'), 'dir');
  return dir;
}

describe("require('weft').native", function () {
  this.timeout(30000);

  it('is frozen and agrees with what the loader chose, in this process', () => {
    const { native } = require(root);
    const { nativePaths } = require(path.join(root, 'dist/lib/util/buffer'));
    assert.ok(Object.isFrozen(native));
    assert.strictEqual(native.mask, { weft: 'addon', bufferutil: 'bufferutil', js: 'js' }[nativePaths.mask]);
    assert.strictEqual(native.utf8, { weft: 'addon', 'buffer.isUtf8': 'isUtf8', 'utf-8-validate': 'utf-8-validate', js: 'js' }[nativePaths.utf8]);
    assert.strictEqual('reason' in native, native.mask !== 'addon');
  });

  it('with the addon built: mask by the addon, UTF-8 by buffer.isUtf8 where Node has it, no reason', () => {
    const { native, stderr } = status();
    assert.deepStrictEqual(native, { mask: 'addon', utf8: hasIsUtf8 ? 'isUtf8' : 'addon' });
    assert.strictEqual(stderr, '');
  });

  it('WS_NO_BUFFER_UTIL=1 gives JS masking and says so', () => {
    assert.deepStrictEqual(status({ WS_NO_BUFFER_UTIL: '1' }).native, {
      mask: 'js',
      utf8: hasIsUtf8 ? 'isUtf8' : 'addon',
      reason: 'WS_NO_BUFFER_UTIL is set',
    });
  });

  it('no build and no prebuild for this platform: JS, and the reason names the platform', () => {
    const dir = packageWithoutAddon();
    try {
      const { native, stderr } = status({}, dir);
      assert.strictEqual(native.mask, 'js');
      assert.strictEqual(native.utf8, hasIsUtf8 ? 'isUtf8' : 'js');
      const libc = process.platform === 'linux' ? ` (${fs.existsSync('/etc/alpine-release') ? 'musl' : 'glibc'})` : '';
      assert.strictEqual(native.reason, `no prebuilt addon for ${process.platform}-${process.arch}${libc} and none built from source`);
      assert.strictEqual(stderr, '', 'no warning without a failed install');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('after a failed install build: its reason, and one warning on the first load only', () => {
    const dir = packageWithoutAddon();
    try {
      fs.mkdirSync(path.join(dir, 'build'));
      const reason = 'native addon not built (gyp: could not find any Python installation)';
      fs.writeFileSync(path.join(dir, 'build', 'install-failed.json'), JSON.stringify({ reason }));
      const first = status({}, dir);
      assert.strictEqual(first.native.mask, 'js');
      assert.strictEqual(first.native.reason, reason);
      assert.match(first.stderr, /\(node:\d+\) \[WEFT_NO_ADDON\] Warning: weft: native addon not built \(gyp: could not find any Python installation\); using the pure-JS fallback/);
      assert.strictEqual(first.stderr.trim().split('\n').filter((l) => l.includes('WEFT_NO_ADDON')).length, 1);
      const second = status({}, dir);
      assert.strictEqual(second.native.reason, reason);
      assert.strictEqual(second.stderr, '');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
