'use strict';
// One server process of idle.scale.js (forked with --expose-gc): a weft WebSocketServer on 127.0.0.1
// with the default transport (native; WEFT_TRANSPORT=stream flips it), echoing whatever it gets. It counts what
// happens to its connections and answers the parent over IPC:
//   {id, cmd: 'mem'}    several GCs, then {rss, heapUsed, external, clients}
//   {id, cmd: 'stats'}  {clients, peers, open, native, connections, closes, closeCodes, fresh, errors,
//                        firstError, loop: event-loop delay since the last 'stats' (ms: p99, max)}
// The peers' connections are counted apart from the parent's fresh clients (those ask for /fresh):
// `peers`, `open`, `native`, `connections`, `closes` and `closeCodes` are the peers' only.
//   {id, cmd: 'ping'}   {} at once (the parent times the round trip: is the event loop free?)
//   {cmd: 'exit'}       close the server and exit
// It exits by itself when the parent goes away, so that a killed test leaves no server behind.

const { monitorEventLoopDelay } = require('perf_hooks');
const { WebSocketServer } = require('../..');

const stats = { connections: 0, closes: 0, closeCodes: {}, fresh: { connections: 0, closes: 0, closeCodes: {} }, errors: 0, firstError: null };
const fresh = new Set(); // the fresh clients' server sides (a handful at most)
const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });

function onError(err) {
  if (stats.errors++ === 0) stats.firstError = String((err && err.stack) || err);
}

wss.on('error', onError);
wss.on('connection', (ws, req) => {
  const counts = req.url === '/fresh' ? stats.fresh : stats;
  if (counts === stats.fresh) fresh.add(ws);
  counts.connections++;
  ws.on('error', onError);
  ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
  ws.on('close', (code) => {
    fresh.delete(ws);
    counts.closes++;
    counts.closeCodes[code] = (counts.closeCodes[code] || 0) + 1;
  });
});

const loop = monitorEventLoopDelay({ resolution: 10 });
loop.enable();

async function memory() {
  // Several passes: the first frees young garbage, later ones let finalizers and weak refs settle.
  for (let i = 0; i < 4; i++) {
    global.gc();
    await new Promise((r) => setImmediate(r));
  }
  const m = process.memoryUsage();
  return { rss: m.rss, heapUsed: m.heapUsed, external: m.external, clients: wss.clients.size };
}

function snapshot() {
  let open = 0;
  let native = 0;
  for (const ws of wss.clients) {
    if (fresh.has(ws)) continue;
    if (ws.readyState === ws.OPEN) open++;
    // The adopted TCP handle of the 'native' transport (null on the stream path).
    if (ws._driver !== null && ws._driver.transport !== null) native++;
  }
  const out = {
    ...stats,
    clients: wss.clients.size,
    peers: wss.clients.size - fresh.size,
    open,
    native,
    loop: { p99: loop.percentile(99) / 1e6, max: loop.max / 1e6 },
  };
  loop.reset();
  return out;
}

process.on('disconnect', () => process.exit(1));
process.on('message', async (msg) => {
  switch (msg.cmd) {
    case 'mem':
      process.send({ id: msg.id, ...(await memory()) });
      break;
    case 'stats':
      process.send({ id: msg.id, ...snapshot() });
      break;
    case 'ping':
      process.send({ id: msg.id });
      break;
    case 'exit':
      wss.close(() => process.exit(0));
      setTimeout(() => process.exit(0), 2000).unref();
      break;
  }
});

wss.on('listening', () => process.send({ event: 'listening', port: wss.address().port, pid: process.pid }));
