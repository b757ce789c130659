'use strict';
// Runs the suites that open real connections again with WEFT_TRANSPORT=native: every plain TCP
// connection is then carried on Node's TCP handle (lib/transport/tcp-handle.ts) instead of the socket's
// stream layer, so both transports pass the same tests. (The protocol core, the addon, the fuzz and the
// type suites open no connections: they are not repeated.)
const { spawnSync } = require('child_process');
const path = require('path');

const mocha = require.resolve('mocha/bin/mocha.js');
const specs = ['faces', 'socket', 'compat', 'deflate', 'pubsub', 'websocket-node', 'cli', 'http2', 'transport'].map(
  (dir) => `test/${dir}/**/*.test.js`,
);
console.log('\n# again with WEFT_TRANSPORT=native (the TCP-handle transport)');
const r = spawnSync(process.execPath, [mocha, '--no-config', '--exit', '--timeout', '10000', ...specs], {
  cwd: path.join(__dirname, '..'),
  env: { ...process.env, WEFT_TRANSPORT: 'native' },
  stdio: 'inherit',
});
process.exit(r.status === null ? 1 : r.status);
