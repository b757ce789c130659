'use strict';
// Runs the core and native suites again with the native paths switched off (WS_NO_BUFFER_UTIL,
// WS_NO_UTF_8_VALIDATE), as a user without the addon gets them: the pure-JS fallback must pass alone.
const { spawnSync } = require('child_process');
const path = require('path');

const mocha = require.resolve('mocha/bin/mocha.js');
const specs = ['test/protocol', 'test/native', 'test/fuzz'];
const env = { ...process.env, WS_NO_BUFFER_UTIL: '1', WS_NO_UTF_8_VALIDATE: '1' };
console.log('\n# again with WS_NO_BUFFER_UTIL=1 WS_NO_UTF_8_VALIDATE=1 (pure-JS fallback)');
const r = spawnSync(process.execPath, [mocha, '--no-config', '--exit', '--timeout', '10000', '--recursive', ...specs], {
  cwd: path.join(__dirname, '..'),
  env,
  stdio: 'inherit',
});
process.exit(r.status === null ? 1 : r.status);
