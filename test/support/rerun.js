'use strict';
// Runs test suites again in a child mocha with a few environment variables set: how npm test repeats
// its suites on the pure-JS fallback, the stream transport and accept-on-handle (test/run-*.js). Exits
// with mocha's status.
const { spawnSync } = require('child_process');
const path = require('path');

/** `title` is printed first; `env` is added to this process's; `specs` are mocha's spec arguments. */
function rerun(title, env, specs) {
  const mocha = require.resolve('mocha/bin/mocha.js');
  console.log(`\n# ${title}`);
  const r = spawnSync(process.execPath, [mocha, '--no-config', '--exit', '--timeout', '10000', '--recursive', ...specs], {
    cwd: path.join(__dirname, '..', '..'),
    env: { ...process.env, ...env },
    stdio: 'inherit',
  });
  process.exit(r.status === null ? 1 : r.status);
}

module.exports = { rerun };
