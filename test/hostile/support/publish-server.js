'use strict';
// The server side of the publish-stall test, in a process of its own so that the event-loop delay it
// reports is the server's alone. Messages: 'publish' → publishes 16 MiB with compress and starts
// watching the loop; 'report' → { publishMs, maxDelayMs } and stops watching.
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
let publishMs = 0;
process.on('message', (m) => {
  if (m.type === 'publish') {
    // 16 MiB of text, as bytes: encoding a string is the caller's cost (ws pays it per send).
    const payload = Buffer.from(crypto.randomBytes(8 * 1024 * 1024).toString('hex'));
    histogram.enable();
    setTimeout(() => {
      const t0 = performance.now();
      const result = wss.publish('big', payload, { compress: true, binary: false });
      publishMs = performance.now() - t0;
      process.send({ result, sha: crypto.createHash('sha256').update(payload).digest('hex') });
    }, 20);
  } else if (m.type === 'report') {
    histogram.disable();
    process.send({ publishMs, maxDelayMs: histogram.max / 1e6 });
  }
});
process.on('disconnect', () => process.exit(0));
