'use strict';
// npm's install step for weft. Never fails the install: weft works without its addon.
//
// 1. A prebuilt binary under prebuilds/ that matches this platform (node-gyp-build's rules, libc
//    included) or an earlier build: nothing to do.
// 2. Otherwise (and always in weft's own checkout, so its tests run the sources): compile native/ with
//    node-gyp, which needs Python 3, make and a C compiler.
// 3. If that fails: one line on the terminal and in build/install-failed.json, which the loader
//    (dist/lib/util/native.js) reports as `native.reason` and warns about once at run time, since npm
//    hides the output of install scripts that succeed.
const fs = require('fs');
const path = require('path');
const { spawnSync } = require('child_process');

const root = path.join(__dirname, '..');
const marker = path.join(root, 'build', 'install-failed.json');

/** True when this is weft's own checkout being installed, not weft installed as a dependency. */
function isOwnCheckout() {
  const prefix = process.env.npm_config_local_prefix;
  return prefix !== undefined && path.resolve(prefix) === path.resolve(root);
}

/** The path of an addon node-gyp-build would load, if it loads, else null. */
function loadable() {
  try {
    const load = require('node-gyp-build');
    const file = load.path(root);
    require(file);
    return file;
  } catch {
    return null;
  }
}

/** node-gyp: npm's own (npm tells scripts where it is), else one on PATH. */
function nodeGypCommand() {
  const bundled = process.env.npm_config_node_gyp;
  if (bundled && fs.existsSync(bundled)) return [process.execPath, bundled];
  return ['node-gyp'];
}

/** The last meaningful line of node-gyp's output: usually says what was missing. */
function summary(output) {
  const lines = output.split('\n').map((l) => l.replace(/^gyp (ERR!|error)\s*(stack\s+)?(Error:\s*)?/, '').trim());
  const wanted = lines.find((l) => /find any Python|not found|No such file|command not found|ENOENT/i.test(l));
  return (wanted || lines.filter(Boolean).pop() || 'node-gyp failed').slice(0, 160);
}

/** Shows one line even where npm hides script output: on the controlling terminal when there is one. */
function announce(line) {
  process.stderr.write(line + '\n');
  try {
    const fd = fs.openSync('/dev/tty', 'w');
    fs.writeSync(fd, line + '\n');
    fs.closeSync(fd);
  } catch {
    // No terminal (CI, Windows): the loader warns on first use instead.
  }
}

function main() {
  try {
    fs.rmSync(marker, { force: true });
  } catch {}
  if (!isOwnCheckout() && loadable() !== null) return;

  const [cmd, ...args] = nodeGypCommand();
  const r = spawnSync(cmd, [...args, 'rebuild'], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const output = `${r.stdout || ''}${r.stderr || ''}${r.error ? r.error.message : ''}`;
  process.stdout.write(output);
  if (r.status === 0 && loadable() !== null) return;
  if (isOwnCheckout() && loadable() !== null) {
    announce(`weft: could not compile native/ (${summary(output)}); the prebuilt addon will be used`);
    return;
  }

  const reason = `native addon not built (${summary(output)})`;
  announce(
    `weft: ${reason}; weft works on its pure-JS fallback. For the addon: install Python 3, make and a C compiler, then \`npm rebuild weft\`.`,
  );
  try {
    fs.mkdirSync(path.dirname(marker), { recursive: true });
    fs.writeFileSync(marker, JSON.stringify({ reason }) + '\n');
  } catch {}
}

try {
  main();
} catch (err) {
  process.stderr.write(`weft: install step skipped (${err && err.message}); the pure-JS fallback will be used\n`);
}
process.exitCode = 0;
