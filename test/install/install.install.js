'use strict';
// `npm run test:install`: the packed tarball installed into fresh projects, as users get it. In each,
// a real server/client echo runs through the installed package (CommonJS and ESM) and
// require('weft').native says which paths are active. weft itself comes from the tarball (no
// network); its dependency node-gyp-build comes from the registry (or npm's cache).
//
//   (a) plain `npm install`                       prebuilt addon, nothing compiled
//   (b) no compiler, make or python on PATH       prebuilt addon
//   (c) --ignore-scripts                          prebuilt addon
//   (g) --strict-allow-scripts, weft's install script denied in allowScripts: prebuilt addon
// and, with a tarball whose prebuilds/ were removed (a platform weft has no binary for):
//   (d) with a compiler                           compiled from source at install
//   (e) no compiler (foreground scripts)          install succeeds, one visible line, JS fallback,
//                                                 one run-time warning on the first load only
//   (f) --ignore-scripts                          JS fallback, the reason names the platform
const assert = require('assert');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawnSync } = require('child_process');

const root = path.join(__dirname, '..', '..');
const platformTag = `${process.platform}-${process.arch}${process.platform === 'linux' ? (fs.existsSync('/etc/alpine-release') ? ' (musl)' : ' (glibc)') : ''}`;

/** [node, npm-cli.js]: the npm running this suite, or the one on PATH. */
function npmCommand() {
  const cli = process.env.npm_execpath;
  if (cli && /npm-cli\.js$/.test(cli)) return [process.env.npm_node_execpath || process.execPath, cli];
  const which = spawnSync('sh', ['-c', 'command -v npm'], { encoding: 'utf8' }).stdout.trim();
  const real = fs.realpathSync(which);
  if (/npm-cli\.js$/.test(real)) return [process.execPath, real];
  // A wrapper script (scripts/with-node.sh's shim): its last line names node and npm-cli.js.
  const m = /exec "([^"]+)" "([^"]+npm-cli\.js)"/.exec(fs.readFileSync(real, 'utf8'));
  assert.ok(m, `cannot find npm-cli.js behind ${which}`);
  return [m[1], m[2]];
}

function run(cmd, args, opts) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, ...opts });
  return { status: r.status, out: `${r.stdout || ''}${r.stderr || ''}${r.error ? r.error.message : ''}`, stderr: r.stderr || '' };
}

/** A PATH with only node (and sh, which npm runs scripts with): no cc, gcc, make or python. */
function barePath(dir) {
  const bin = path.join(dir, 'bare-bin');
  fs.mkdirSync(bin);
  fs.symlinkSync(process.execPath, path.join(bin, 'node'));
  fs.symlinkSync('/bin/sh', path.join(bin, 'sh'));
  return bin;
}

const check = `
const WebSocket = require('weft');
const { once } = require('events');
(async () => {
  const esm = await import('weft');
  const wss = new WebSocket.WebSocketServer({ port: 0 });
  await once(wss, 'listening');
  wss.on('connection', (ws) => ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary })));
  const ws = new WebSocket('ws://127.0.0.1:' + wss.address().port);
  await once(ws, 'open');
  const text = 'weft ünïcödé ✓ '.repeat(5000);
  const bytes = require('crypto').randomBytes(70000);
  const got = [];
  ws.on('message', (data, isBinary) => got.push([Buffer.from(data), isBinary]));
  ws.send(text);
  ws.send(bytes);
  while (got.length < 2) await once(ws, 'message');
  ws.close();
  wss.close();
  const dir = require('path').dirname(require.resolve('weft/package.json'));
  console.log(JSON.stringify({
    native: WebSocket.native,
    esmSame: esm.native === WebSocket.native && esm.WebSocketServer === WebSocket.WebSocketServer,
    echo: got[0][0].toString() === text && !got[0][1] && got[1][0].equals(bytes) && got[1][1],
    built: require('fs').existsSync(require('path').join(dir, 'build', 'Release', 'weft.node')),
  }));
})();
`;

describe('installing the packed tarball', function () {
  this.timeout(300000);
  const [npmNode, npmCli] = npmCommand();
  let tmp;
  let tarball;
  let tarballNoPrebuilds;

  before(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'weft-install-'));
    const packed = run(npmNode, [npmCli, 'pack', '--ignore-scripts', '--pack-destination', tmp, '--json'], { cwd: root });
    assert.strictEqual(packed.status, 0, packed.out);
    tarball = path.join(tmp, JSON.parse(packed.out.slice(packed.out.indexOf('['))).pop().filename);
    // The same package as a platform without a prebuilt binary sees it.
    const x = path.join(tmp, 'x');
    fs.mkdirSync(x);
    assert.strictEqual(run('tar', ['xzf', tarball, '-C', x]).status, 0);
    fs.rmSync(path.join(x, 'package', 'prebuilds'), { recursive: true });
    tarballNoPrebuilds = path.join(tmp, 'weft-no-prebuilds.tgz');
    assert.strictEqual(run('tar', ['czf', tarballNoPrebuilds, '-C', x, 'package']).status, 0);
  });

  after(() => {
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  let n = 0;
  /** npm install <file> into a new project; returns { dir, install }. */
  function install(file, { args = [], bare = false, manifest = {} } = {}) {
    const dir = path.join(tmp, `app${++n}`);
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: `app${n}`, private: true, ...manifest }));
    const env = { ...process.env };
    for (const k of Object.keys(env)) if (/^npm_/i.test(k)) delete env[k];
    delete env.WS_NO_BUFFER_UTIL;
    delete env.WS_NO_UTF_8_VALIDATE;
    delete env.PYTHON;
    delete env.NODE_NO_WARNINGS;
    if (bare) env.PATH = barePath(dir);
    const spec = file === null ? [] : [file];
    const r = run(npmNode, [npmCli, 'install', ...spec, '--no-audit', '--no-fund', '--prefer-offline', ...args], { cwd: dir, env });
    assert.strictEqual(r.status, 0, r.out);
    return { dir, install: r, env };
  }

  /** Runs the echo check in the project; returns its report and stderr. */
  function probe({ dir, env }) {
    const r = run(process.execPath, ['-e', check], { cwd: dir, env });
    assert.strictEqual(r.status, 0, r.out);
    const report = JSON.parse(r.out.slice(r.out.indexOf('{"native"')).split('\n')[0]);
    assert.strictEqual(report.echo, true, 'echo through the installed package');
    assert.strictEqual(report.esmSame, true, 'ESM and CommonJS see the same objects');
    return { ...report, stderr: r.stderr };
  }

  const prebuilt = { mask: 'addon', utf8: 'isUtf8' };

  // Linux x64/arm64 (glibc or musl) have prebuilt binaries; this suite runs there.
  describe(`on ${platformTag}: the prebuilt addon`, () => {
    it('(a) npm install: loads the prebuilt addon, compiles nothing', () => {
      const got = probe(install(tarball));
      assert.deepStrictEqual(got.native, prebuilt);
      assert.strictEqual(got.built, false);
      assert.strictEqual(got.stderr, '');
    });

    it('(b) with no compiler, make or python on PATH: the same', () => {
      const project = install(tarball, { bare: true });
      const got = probe(project);
      assert.deepStrictEqual(got.native, prebuilt);
      assert.strictEqual(got.built, false);
    });

    it('(c) --ignore-scripts: the same', () => {
      const got = probe(install(tarball, { args: ['--ignore-scripts'] }));
      assert.deepStrictEqual(got.native, prebuilt);
    });

    it("(g) --strict-allow-scripts with weft's script denied in allowScripts: the same", () => {
      // The entry `npm install-scripts deny weft` writes into the project (keyed by how weft was resolved).
      const manifest = { dependencies: { weft: `file:${tarball}` }, allowScripts: { [`file:${tarball}`]: false } };
      const got = probe(install(null, { manifest, args: ['--strict-allow-scripts'] }));
      assert.deepStrictEqual(got.native, prebuilt);
      assert.strictEqual(got.built, false);
    });
  });

  describe('where no prebuilt addon matches', () => {
    it('(d) with a compiler: compiled from source at install, and used', () => {
      const got = probe(install(tarballNoPrebuilds));
      assert.strictEqual(got.built, true);
      assert.deepStrictEqual(got.native, prebuilt);
    });

    it('(e) no compiler: the install succeeds with one line saying so; JS fallback, warned once at run time', () => {
      const project = install(tarballNoPrebuilds, { bare: true, args: ['--foreground-scripts'] });
      const lines = project.install.out.split('\n').filter((l) => l.startsWith('weft: '));
      assert.strictEqual(lines.length, 1, project.install.out);
      assert.match(lines[0], /^weft: native addon not built \(.*\); weft works on its pure-JS fallback\. For the addon: install Python 3, make and a C compiler, then `npm rebuild weft`\.$/);
      const first = probe(project);
      assert.strictEqual(first.native.mask, 'js');
      assert.strictEqual(first.native.utf8, 'isUtf8');
      assert.match(first.native.reason, /^native addon not built \(.*python.*\)$/i);
      assert.match(first.stderr, /\[WEFT_NO_ADDON\] Warning: weft: native addon not built/);
      const second = probe(project);
      assert.deepStrictEqual(second.native, first.native);
      assert.strictEqual(second.stderr, '', 'the warning comes once');
    });

    it('(f) --ignore-scripts: JS fallback, the reason names the platform', () => {
      const got = probe(install(tarballNoPrebuilds, { args: ['--ignore-scripts'] }));
      assert.deepStrictEqual(got.native, {
        mask: 'js',
        utf8: 'isUtf8',
        reason: `no prebuilt addon for ${platformTag} and none built from source`,
      });
      assert.strictEqual(got.stderr, '');
    });
  });
});
