'use strict';
// What `npm publish` would ship: `npm pack --dry-run --json` lists the files; they must be exactly the
// runtime (compiled JS + declarations), the native sources and prebuilt binaries, the install step,
// the entries package.json names, and the legal/readme files; nothing else (no tests, no source maps,
// no TypeScript sources), within a size budget:
//   unpacked, without prebuilds: <= 900 kB   (the compiled JS is emitted without comments, the declarations
//                                             keep theirs for editors; the CLI and the websocket-node
//                                             module are about 135 kB of it)
//   prebuilds (4 binaries):      <= 256 kB
//   packed tarball:              <= 300 kB
const assert = require('assert');
const crypto = require('crypto');
const fs = require('fs');
const path = require('path');
const { spawnSync } = require('child_process');

const root = path.join(__dirname, '..', '..');
const pkg = require(path.join(root, 'package.json'));

// Unpacked: about 135 kB of it are the CLI and the WebSocket-Node face, 65 kB the README.
const BUDGET = { unpackedWithoutPrebuilds: 900 * 1000, prebuilds: 256 * 1024, packed: 320 * 1024 };
const PREBUILDS = [
  'prebuilds/linux-arm64/weft.glibc.node',
  'prebuilds/linux-arm64/weft.musl.node',
  'prebuilds/linux-x64/weft.glibc.node',
  'prebuilds/linux-x64/weft.musl.node',
];

describe('package contents (npm pack --dry-run)', function () {
  this.timeout(60000);
  let pack;
  before(() => {
    const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
    const r = spawnSync(npm, ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: root, encoding: 'utf8' });
    assert.strictEqual(r.status, 0, r.stderr);
    pack = JSON.parse(r.stdout)[0];
  });

  it('ships only runtime files, native sources, prebuilds and the install step', () => {
    const allowed = [
      /^(README\.md|LICENSE|package\.json|binding\.gyp|browser\.js|browser\.d\.ts|wrapper\.mjs|wrapper\.d\.mts|types\/index\.d\.ts|scripts\/install\.js|bin\/weft\.js)$/,
      /^dist\/index\.(js|d\.ts)$/,
      /^dist\/lib\/.+\.(js|d\.ts)$/,
      /^native\/[^/]+\.(c|h)$/,
      /^prebuilds\/linux-(x64|arm64)\/weft\.(glibc|musl)\.node$/,
    ];
    const paths = pack.files.map((f) => f.path);
    const stray = paths.filter((p) => !allowed.some((re) => re.test(p)));
    assert.deepStrictEqual(stray, [], 'files that should not be published');
    for (const bad of paths.filter((p) => /\.map$|\.ts$/.test(p) && !p.endsWith('.d.ts'))) assert.fail(`ships ${bad}`);
    for (const needed of ['LICENSE', 'README.md', 'binding.gyp', 'scripts/install.js', ...PREBUILDS]) {
      assert.ok(paths.includes(needed), needed);
    }
    // Every C source binding.gyp compiles, so a from-source install can build.
    const gyp = fs.readFileSync(path.join(root, 'binding.gyp'), 'utf8');
    for (const src of gyp.match(/native\/[\w-]+\.c/g)) assert.ok(paths.includes(src), src);
    // Every compiled module has its declarations.
    for (const js of paths.filter((p) => /^dist\/.+\.js$/.test(p))) assert.ok(paths.includes(js.replace(/\.js$/, '.d.ts')), js);
  });

  it('ships every file package.json points at', () => {
    const paths = new Set(pack.files.map((f) => f.path));
    const targets = [pkg.main, pkg.types, pkg.browser];
    const walk = (v) => (typeof v === 'string' ? targets.push(v) : v && Object.values(v).forEach(walk));
    walk(pkg.exports);
    for (const t of targets.filter((t) => t !== './package.json')) assert.ok(paths.has(t.replace(/^\.\//, '')), t);
    assert.match(pkg.scripts.install, /^node scripts\/install\.js$/);
  });

  it(`stays within its size budget (${JSON.stringify(BUDGET)})`, () => {
    const prebuilds = pack.files.filter((f) => f.path.startsWith('prebuilds/')).reduce((n, f) => n + f.size, 0);
    assert.ok(pack.unpackedSize - prebuilds <= BUDGET.unpackedWithoutPrebuilds, `unpacked without prebuilds: ${pack.unpackedSize - prebuilds} B`);
    assert.ok(prebuilds <= BUDGET.prebuilds, `prebuilds: ${prebuilds} B`);
    assert.ok(pack.size <= BUDGET.packed, `packed: ${pack.size} B`);
  });

  it('has the metadata a registry page needs: MIT LICENSE, repository, homepage, bugs, engines', () => {
    assert.strictEqual(pkg.license, 'MIT');
    assert.match(fs.readFileSync(path.join(root, 'LICENSE'), 'utf8'), /^MIT License\n\nCopyright \(c\) \d{4} /);
    assert.match(pkg.repository.url, /^git\+https:\/\/github\.com\/[\w-]+\/weft\.git$/);
    assert.match(pkg.homepage, /^https:\/\/github\.com\/[\w-]+\/weft#readme$/);
    assert.match(pkg.bugs.url, /^https:\/\/github\.com\/[\w-]+\/weft\/issues$/);
    // The Node lines .ci/run tests (npm test on each).
    assert.strictEqual(pkg.engines.node, '^18.0.0 || ^20.0.0 || ^22.0.0 || ^24.0.0 || ^26.0.0');
    const ci = fs.readFileSync(path.join(root, '.ci', 'run'), 'utf8');
    assert.match(ci, /for major in 18 22 24 26; do/);
  });
});

describe('prebuilds/', () => {
  it('were built from the current native sources (else run `npm run prebuilds`)', () => {
    const recorded = fs.readFileSync(path.join(root, 'prebuilds', 'SOURCES.sha256'), 'utf8').trim().split('\n');
    const files = recorded.map((line) => line.split(/\s+/)[1]);
    const current = fs.readdirSync(path.join(root, 'native')).filter((f) => /\.(c|h)$/.test(f)).map((f) => `native/${f}`);
    assert.deepStrictEqual(files.filter((f) => f !== 'binding.gyp').sort(), current.sort(), 'the set of native sources changed');
    for (const line of recorded) {
      const [hash, file] = line.split(/\s+/);
      const now = crypto.createHash('sha256').update(fs.readFileSync(path.join(root, file))).digest('hex');
      assert.strictEqual(now, hash, `${file} changed since prebuilds/ were built: run \`npm run prebuilds\``);
    }
  });

  it('are ELF shared objects for their directory\'s architecture', () => {
    for (const file of PREBUILDS) {
      const head = Buffer.alloc(20);
      const fd = fs.openSync(path.join(root, file), 'r');
      fs.readSync(fd, head, 0, 20, 0);
      fs.closeSync(fd);
      assert.strictEqual(head.subarray(0, 4).toString('latin1'), '\x7fELF', file);
      assert.strictEqual(head.readUInt16LE(16), 3, `${file}: ET_DYN`);
      assert.strictEqual(head.readUInt16LE(18), file.includes('arm64') ? 183 : 62, `${file}: e_machine`);
    }
  });
});
