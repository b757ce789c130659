'use strict';
/**
 * Broadcast server for the fanout rows: every message received is sent to every open client
 * (the publisher included), with the loop from ws's README:
 *
 *   wss.clients.forEach((c) => c.readyState === WebSocket.OPEN && c.send(data, { binary }))
 *
 *   node bench/servers/broadcast.js --impl=weft|ws|ws-js [--publish]
 *
 * --publish: use the server's topic publish instead (weft's `server.publish()`, from a later issue:
 * every client subscribes to one topic on connection and a message is published to it once).
 * When the implementation has no publish(), the README loop is used and the ready message says so
 * (mode: 'forEach'), so a table never claims a publish() figure it did not measure.
 * ops = deliveries (sends) so that CPU per op is CPU per delivered message.
 */
const { load, parseArgs, stats, serve } = require('./common');

const args = parseArgs(process.argv.slice(2));
const WebSocket = load(args.impl);
const OPEN = WebSocket.OPEN;

const wss = new WebSocket.WebSocketServer({ port: Number(args.port || 0), host: '127.0.0.1' });
const TOPIC = 'all';
const usePublish = !!args.publish && typeof wss.publish === 'function';

function onError() {
  stats.errors++;
}

wss.on('connection', (ws) => {
  stats.conns++;
  ws.on('error', onError);
  if (usePublish) {
    ws.subscribe(TOPIC);
    ws.on('message', (data, isBinary) => {
      stats.ops += wss.clients.size; // deliveries the publish fans out to
      wss.publish(TOPIC, data, { binary: isBinary });
    });
    return;
  }
  ws.on('message', (data, isBinary) => {
    wss.clients.forEach((client) => {
      if (client.readyState === OPEN) {
        stats.ops++;
        client.send(data, { binary: isBinary });
      }
    });
  });
});

wss.on('listening', () => {
  serve(
    { port: wss.address().port, impl: args.impl, mode: usePublish ? 'publish' : 'forEach' },
    () => wss.clients.size,
    () => wss.close(),
  );
});
