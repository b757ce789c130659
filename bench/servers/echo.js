'use strict';
/**
 * Echo server for the server-side rows (echo, compressed echo, connect cycles, idle memory).
 *
 *   node --expose-gc bench/servers/echo.js --impl=weft|ws|ws-js [--deflate]
 *
 * The message handler is the one from ws's README, identical for every implementation; the only
 * additions are a counter increment (ops = messages echoed, conns = connections accepted) and an
 * error listener, so that a protocol error is counted rather than crashing the process.
 */
const { load, parseArgs, stats, serve } = require('./common');

const args = parseArgs(process.argv.slice(2));
const WebSocket = load(args.impl);

const wss = new WebSocket.WebSocketServer({ port: Number(args.port || 0), host: '127.0.0.1', perMessageDeflate: !!args.deflate });

function onError() {
  stats.errors++;
}

wss.on('connection', (ws) => {
  stats.conns++;
  ws.on('error', onError);
  ws.on('message', (data, isBinary) => {
    stats.ops++;
    ws.send(data, { binary: isBinary });
  });
});

wss.on('listening', () => {
  serve(
    { port: wss.address().port, impl: args.impl, deflate: !!args.deflate },
    () => wss.clients.size,
    () => wss.close(),
  );
});
