'use strict';
// Runs the suites that open real connections again with WEFT_TRANSPORT=stream: every connection is then
// carried on net.Socket's stream layer instead of Node's TCP handle (lib/transport/tcp-handle.ts, the
// default for plain TCP), so both transports pass the same tests. (The protocol core, the addon, the fuzz
// and the type suites open no connections: they are not repeated.)
const { rerun } = require('./support/rerun');

const dirs = ['faces', 'socket', 'compat', 'deflate', 'pubsub', 'websocket-node', 'cli', 'http2', 'transport'];
rerun('again with WEFT_TRANSPORT=stream (the stream transport)', { WEFT_TRANSPORT: 'stream' }, dirs.map((dir) => `test/${dir}/**/*.test.js`));
