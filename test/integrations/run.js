'use strict';
// `npm run test:integrations`: installs this folder's own npm project (real socket.io, engine.io,
// fastify, crossws, undici, with every `ws` in their tree replaced by this checkout through npm
// `overrides`; see package.json and ws-is-weft/) when its node_modules is missing or older than the
// lockfile, then runs the *.integration.js suites with mocha. Node 20 gets --experimental-websocket so
// that Node's built-in WebSocket client is there to test (it is global from Node 22 on).
const { spawnSync } = require('child_process');
const fs = require('fs');
const path = require('path');

const here = __dirname;
const root = path.join(here, '..', '..');

function mtime(file) {
  try {
    return fs.statSync(file).mtimeMs;
  } catch {
    return -1;
  }
}

const installed = mtime(path.join(here, 'node_modules', '.package-lock.json'));
if (installed < 0 || installed < mtime(path.join(here, 'package-lock.json')) || installed < mtime(path.join(here, 'package.json'))) {
  console.log('# npm ci in test/integrations');
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const r = spawnSync(npm, ['ci', '--no-audit', '--no-fund'], { cwd: here, stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status === null ? 1 : r.status);
}

const nodeFlags = [];
if (Number(process.versions.node.split('.')[0]) < 22) nodeFlags.push('--experimental-websocket');

const mocha = require.resolve('mocha/bin/mocha.js', { paths: [root] });
const files = fs.readdirSync(here).filter((f) => f.endsWith('.integration.js')).sort().map((f) => path.join('test', 'integrations', f));
const r = spawnSync(process.execPath, [...nodeFlags, mocha, '--no-config', '--exit', '--timeout', '20000', ...process.argv.slice(2), ...files], {
  cwd: root,
  stdio: 'inherit',
});
process.exit(r.status === null ? 1 : r.status);
