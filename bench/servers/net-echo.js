'use strict';
/**
 * The floor for the echo rows: a bare net.Socket WebSocket echo with no library, what any server
 * built on Node's stream layer pays at least.
 *
 *   node --expose-gc bench/servers/net-echo.js
 *
 * The echo itself is bare-echo.js's (shared with handle-echo.js).
 */
const net = require('net');
const { parseArgs, stats, serve } = require('./common');
const { Conn } = require('./bare-echo');

const args = parseArgs(process.argv.slice(2));

const clients = new Set();

const server = net.createServer((socket) => {
  socket.setNoDelay(true);
  const c = new Conn(socket);
  clients.add(c);
  socket.on('data', (chunk) => c.data(chunk));
  socket.on('error', () => stats.errors++);
  socket.on('close', () => clients.delete(c));
});

server.listen(Number(args.port || 0), '127.0.0.1', () => {
  serve(
    { port: server.address().port, impl: 'net' },
    () => clients.size,
    () => server.close(),
  );
});
