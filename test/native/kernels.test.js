'use strict';
// native/test/kernels.c checks every kernel this build and CPU have against byte-at-a-time references,
// without Node (the same program runs the NEON kernels under qemu, and any kernel under sanitizers).
// Here it is compiled with the machine's C compiler and run, once optimised and once with
// AddressSanitizer and UndefinedBehaviorSanitizer.
const assert = require('assert');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawnSync } = require('child_process');

const native = path.join(__dirname, '..', '..', 'native');
const sources = ['test/kernels.c', 'mask.c', 'utf8.c', 'cpu.c'].map((f) => path.join(native, f));
const cc = process.env.CC || 'cc';

function build(flags) {
  const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'weft-kernels-')), 'kernels');
  const r = spawnSync(cc, [...flags, `-I${native}`, ...sources, '-o', out], { encoding: 'utf8' });
  return { out, ok: r.status === 0, stderr: r.stderr || String(r.error || '') };
}

function run(binary) {
  const r = spawnSync(binary, [], { encoding: 'utf8', timeout: 60000 });
  assert.strictEqual(r.status, 0, `${binary} failed:\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

describe('native kernels, compiled and run without Node (native/test/kernels.c)', function () {
  this.timeout(120000);

  it('every kernel set of this CPU matches the references (-O2)', () => {
    const b = build(['-O2']);
    assert.ok(b.ok, `the C compiler (${cc}) could not build the kernel check:\n${b.stderr}`);
    const report = run(b.out);
    assert.match(report, /scalar/);
  });

  it('and under AddressSanitizer + UndefinedBehaviorSanitizer (no read or write outside a buffer)', () => {
    const b = build(['-O1', '-g', '-fsanitize=address,undefined', '-fno-sanitize-recover=all']);
    assert.ok(b.ok, `the sanitizer build failed:\n${b.stderr}`);
    run(b.out);
  });
});
