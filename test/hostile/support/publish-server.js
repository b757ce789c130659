'use strict';
// The server side of the publish-stall test, in a process of its own so that the event loop it watches
// is the server's alone. Messages: 'publish' → publishes 16 MiB with compress and starts watching the
// loop; 'report' (sent as soon as the last subscriber has the message) → the figures for the interval
// from the publish until then: { publishMs, intervalMs, maxDelayMs, turns }, where `turns` holds the
// time of each turn of the loop that ran a 5 ms timer, in ms since the publish.
const crypto = require('crypto');
const { monitorEventLoopDelay } = require('perf_hooks');
const { WebSocketServer } = require('../../..');

const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', perMessageDeflate: { threshold: 0 }, maxPayload: 64 * 1024 * 1024 });
wss.on('connection', (ws) => {
  ws.on('error', () => {});
  ws.subscribe('big');
});
wss.on('listening', () => process.send({ port: wss.address().port }));
const histogram = monitorEventLoopDelay({ resolution: 5 });
let t0 = 0;
let publishMs = 0;
let turns = [];
let ticker = null;
process.on('message', (m) => {
  if (m.type === 'publish') {
    // 16 MiB of text, as bytes: encoding a string is the caller's cost (ws pays it per send). The payload
    // and its hash are made before the watch starts: they are the test's work, not the publish's.
    const payload = Buffer.from(crypto.randomBytes(8 * 1024 * 1024).toString('hex'));
    const sha = crypto.createHash('sha256').update(payload).digest('hex');
    histogram.enable();
    // Started before the publish, so that a stall from its very start is measured. A timer fires at
    // most once per turn of the loop, so its firings count turns (one per 5 ms at most while it idles).
    ticker = setInterval(() => turns.push(performance.now() - t0), 5);
    setTimeout(() => {
      turns = [];
      t0 = performance.now();
      const result = wss.publish('big', payload, { compress: true, binary: false });
      publishMs = performance.now() - t0;
      process.send({ result, sha });
    }, 20);
  } else if (m.type === 'report') {
    const intervalMs = performance.now() - t0;
    clearInterval(ticker);
    histogram.disable();
    process.send({ publishMs, intervalMs, maxDelayMs: histogram.max / 1e6, turns });
  }
});
process.on('disconnect', () => process.exit(0));
