'use strict';
// Runs the suites that open real connections again with WEFT_TRANSPORT=stream: every connection is then
// carried on net.Socket's stream layer instead of Node's TCP handle (lib/transport/tcp-handle.ts, the
// default for plain TCP), so both transports pass the same tests. (The protocol core, the addon, the fuzz
// and the type suites open no connections: they are not repeated.)
const { spawnSync } = require('child_process');
const path = require('path');

const mocha = require.resolve('mocha/bin/mocha.js');
const specs = ['faces', 'socket', 'compat', 'deflate', 'pubsub', 'websocket-node', 'cli', 'http2', 'transport'].map(
  (dir) => `test/${dir}/**/*.test.js`,
);
console.log('\n# again with WEFT_TRANSPORT=stream (the stream transport)');
const r = spawnSync(process.execPath, [mocha, '--no-config', '--exit', '--timeout', '10000', ...specs], {
  cwd: path.join(__dirname, '..'),
  env: { ...process.env, WEFT_TRANSPORT: 'stream' },
  stdio: 'inherit',
});
process.exit(r.status === null ? 1 : r.status);
