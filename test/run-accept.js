'use strict';
// Runs the suites whose servers listen in `port` mode again with WEFT_ACCEPT=handle: every such server
// then accepts its connections on the listening TCP handle and opens WebSockets without a net.Socket
// (lib/transport/accept.ts, the opt-in `accept: 'handle'`), so that this path passes what the usual one
// passes — ws's behaviour, the differential suite against ws, pub/sub, deflate, the faces.
const { rerun } = require('./support/rerun');

const dirs = ['faces', 'socket', 'compat', 'deflate', 'pubsub', 'transport'];
rerun('again with WEFT_ACCEPT=handle (port-mode servers accept on the listening handle)', { WEFT_ACCEPT: 'handle' }, dirs.map((dir) => `test/${dir}/**/*.test.js`));
