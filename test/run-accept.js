'use strict';
// Runs the suites whose servers listen in `port` mode again with WEFT_ACCEPT=handle: every such server
// then accepts its connections on the listening TCP handle and opens WebSockets without a net.Socket
// (lib/transport/accept.ts, the opt-in `accept: 'handle'`), so that this path passes what the usual one
// passes — ws's behaviour, the differential suite against ws, pub/sub, deflate, the faces.
const { spawnSync } = require('child_process');
const path = require('path');

const mocha = require.resolve('mocha/bin/mocha.js');
const specs = ['faces', 'socket', 'compat', 'deflate', 'pubsub', 'transport'].map((dir) => `test/${dir}/**/*.test.js`);
console.log("\n# again with WEFT_ACCEPT=handle (port-mode servers accept on the listening handle)");
const r = spawnSync(process.execPath, [mocha, '--no-config', '--exit', '--timeout', '10000', ...specs], {
  cwd: path.join(__dirname, '..'),
  env: { ...process.env, WEFT_ACCEPT: 'handle' },
  stdio: 'inherit',
});
process.exit(r.status === null ? 1 : r.status);
