'use strict';
// One weft server process of the scale suite (forked by redis.scale.js): a WebSocketServer whose
// publishes travel through RedisPubSub. Clients speak JSON: {op:'sub', topic} / {op:'pub', topic, data} /
// {op:'subMany', prefix, count} (topics prefix+0 ... prefix+count-1)
// (answered with {ack}); the parent drives it over IPC and hears the adapter's events.

// IOREDIS_PACKAGE names the ioredis install to use (the suite runs one process on ioredis 5, installed
// as the devDependency alias "ioredis5"; the others on the current major).
if (process.env.IOREDIS_PACKAGE) {
  const Module = require('module');
  const resolve = Module._resolveFilename;
  Module._resolveFilename = function (request, ...rest) {
    const mapped = request === 'ioredis' || request.startsWith('ioredis/') ? process.env.IOREDIS_PACKAGE + request.slice(7) : request;
    return resolve.call(this, mapped, ...rest);
  };
}

const { WebSocketServer, RedisPubSub } = require('../..');

const redisPort = Number(process.env.REDIS_PORT);
const name = process.env.WORKER_NAME;

const pubsub = new RedisPubSub({
  // Reconnect quickly: the suite restarts Redis and waits for 'ready'.
  redis: { host: '127.0.0.1', port: redisPort, retryStrategy: () => 50 },
  prefix: 'scale:',
});
pubsub.on('error', (err) => process.send({ event: 'error', code: err.code || null, message: err.message }));
pubsub.on('down', () => process.send({ event: 'down' }));
pubsub.on('ready', () => process.send({ event: 'ready' }));
// Topics subscribed before the connection is ready, as a hub does when a client subscribes early: one
// at once, one while the subscriber connection runs its ready check.
pubsub.subscribe('boot');
pubsub._sub.once('connect', () => pubsub.subscribe('boot:connecting'));

const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', pubsub });
wss.on('listening', () => process.send({ event: 'listening', port: wss.address().port }));
wss.on('connection', (ws) => {
  ws.on('message', (data) => {
    const msg = JSON.parse(data.toString());
    if (msg.op === 'sub') ws.subscribe(msg.topic);
    else if (msg.op === 'subMany') for (let i = 0; i < msg.count; i++) ws.subscribe(`${msg.prefix}${i}`);
    else if (msg.op === 'pub') ws.publish(msg.topic, msg.data);
    ws.send(JSON.stringify({ ack: msg.id }));
  });
});

process.on('message', (cmd) => {
  if (cmd.cmd === 'publish') {
    const result = wss.publish(cmd.topic, cmd.data);
    process.send({ event: 'published', id: cmd.id, result });
  } else if (cmd.cmd === 'close') {
    for (const ws of wss.clients) ws.terminate();
    wss.close(() => {
      // The adapter was passed in: closing the server leaves it working (and this process alive).
      process.send({ event: 'server closed', adapterReady: pubsub.ready });
      // Closing it too lets the process end by itself.
      pubsub.close().then(() => process.disconnect());
    });
  }
});

process.send({ event: 'started', name, ioredis: require('ioredis/package.json').version });
