'use strict';
// A server for the hostile suite, in a child process of its own so that its RSS is its alone.
// argv[2]: 'weft' or 'ws'. Reports { port } when listening; answers 'rss' with { rss } and
// 'wait-message' with { rss, length } once the first message has arrived. Extra options: argv[3] (JSON).
const impl = process.argv[2];
const extra = process.argv[3] ? JSON.parse(process.argv[3]) : {};
const { WebSocketServer } = impl === 'ws' ? require('ws') : require('../../..');

const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', ...extra });
let messages = 0;
let lastLength = 0;
let waiting = false;
wss.on('connection', (ws) => {
  ws.on('error', () => {});
  ws.on('message', (data) => {
    messages++;
    lastLength = Array.isArray(data) ? data.reduce((n, b) => n + b.length, 0) : data.length;
    if (waiting) {
      waiting = false;
      process.send({ rss: process.memoryUsage().rss, length: lastLength, messages });
    }
  });
});
wss.on('listening', () => process.send({ port: wss.address().port }));
process.on('message', (m) => {
  if (m === 'rss') process.send({ rss: process.memoryUsage().rss, messages });
  else if (m === 'wait-message') {
    if (messages > 0) process.send({ rss: process.memoryUsage().rss, length: lastLength, messages });
    else waiting = true;
  }
});
process.on('disconnect', () => process.exit(0));
