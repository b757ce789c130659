'use strict';

// ws's README client examples, ported as tests: the code in each test is the README's, with the
// server (ws 8.23's WebSocketServer) at a local address instead of www.host.com / websocket-echo.com,
// `console` replaced by a recording logger, and the timeouts shortened. ("Use the Node.js streams
// API" lives with createWebSocketStream's tests.)
//
// WEFT_CLIENT_UNDER_TEST=ws runs the same assertions against ws 8.23's client.

const assert = require('assert');
const http = require('http');
const net = require('net');
const util = require('util');
const { WebSocketServer } = require('ws');

const underWs = process.env.WEFT_CLIENT_UNDER_TEST === 'ws';
const WebSocket = underWs ? require('ws') : require('../../dist/lib/websocket').WebSocket;
const { once } = require('../support/client');

/** Resolves with the arguments of the next `event` on `emitter`. */

describe('ws README client examples', function () {
  let wss;
  let host;
  let clients = [];
  let closers = [];
  /** Lines the examples log (their `console.log`/`console.error`). */
  let logged;
  const console = {
    log: (...args) => logged.push(util.format(...args)),
    error: (...args) => logged.push(`error: ${util.format(...args)}`),
  };

  /** `new WebSocket(...)` that the afterEach hook cleans up. */
  function open(...args) {
    const ws = new WebSocket(...args);
    clients.push(ws);
    return ws;
  }

  beforeEach(async function () {
    logged = [];
    wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    await once(wss, 'listening');
    host = `127.0.0.1:${wss.address().port}`;
  });

  afterEach(async function () {
    for (const ws of clients) {
      clearTimeout(ws.pingTimeout);
      ws.removeAllListeners('error');
      ws.on('error', () => {});
      ws.terminate();
    }
    clients = [];
    for (const close of closers) await close();
    closers = [];
    for (const peer of wss.clients) peer.terminate();
    await new Promise((resolve) => wss.close(resolve));
  });

  it('WebSocket compression: a client with perMessageDeflate: false', async function () {
    const request = once(wss, 'connection');
    const ws = open(`ws://${host}/path`, {
      perMessageDeflate: false,
    });
    await once(ws, 'open');
    const [, req] = await request;
    assert.strictEqual(req.url, '/path');
    assert.strictEqual(req.headers['sec-websocket-extensions'], undefined);
    assert.strictEqual(ws.extensions, '');
  });

  it('Sending and receiving text data', async function () {
    wss.on('connection', (peer) => peer.on('message', (data) => peer.send(`echo ${data}`)));

    const ws = open(`ws://${host}/path`);

    ws.on('error', console.error);

    ws.on('open', function open() {
      ws.send('something');
    });

    ws.on('message', function message(data) {
      console.log('received: %s', data);
    });

    await once(ws, 'message');
    assert.deepStrictEqual(logged, ['received: echo something']);
  });

  it('Sending binary data', async function () {
    const received = new Promise((resolve) =>
      wss.on('connection', (peer) => peer.on('message', (data, isBinary) => resolve([data, isBinary]))),
    );

    const ws = open(`ws://${host}/path`);

    ws.on('error', console.error);

    ws.on('open', function open() {
      const array = new Float32Array(5);

      for (var i = 0; i < array.length; ++i) {
        array[i] = i / 2;
      }

      ws.send(array);
    });

    const [data, isBinary] = await received;
    assert.strictEqual(isBinary, true);
    assert.strictEqual(data.length, 20);
    const floats = new Float32Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.length));
    assert.deepStrictEqual(Array.from(floats), [0, 0.5, 1, 1.5, 2]);
    assert.deepStrictEqual(logged, []);
  });

  it('Client with round-trip time (numbers are sent as text)', async function () {
    const texts = [];
    wss.on('connection', (peer) =>
      peer.on('message', (data, isBinary) => {
        texts.push([data.toString(), isBinary]);
        if (texts.length === 3) peer.close();
        else peer.send(data, { binary: isBinary });
      }),
    );

    const ws = open(`ws://${host}/`);

    ws.on('error', console.error);

    ws.on('open', function open() {
      console.log('connected');
      ws.send(Date.now());
    });

    ws.on('close', function close() {
      console.log('disconnected');
    });

    ws.on('message', function message(data) {
      console.log(`Round-trip time: ${Date.now() - data} ms`);

      setTimeout(function timeout() {
        ws.send(Date.now());
      }, 5);
    });

    await once(ws, 'close');
    assert.strictEqual(texts.length, 3);
    for (const [text, isBinary] of texts) {
      assert.match(text, /^\d{13}$/);
      assert.strictEqual(isBinary, false);
    }
    // Two echoes came back (the server closed on the third message).
    assert.strictEqual(logged.length, 4);
    assert.strictEqual(logged[0], 'connected');
    assert.match(logged[1], /^Round-trip time: \d+ ms$/);
    assert.match(logged[2], /^Round-trip time: \d+ ms$/);
    assert.strictEqual(logged[3], 'disconnected');
  });

  it('How to detect and close broken connections? (client side)', async function () {
    // The server pings every 10 ms, then stops: the client's heartbeat timeout then terminates it.
    let pings = 0;
    wss.on('connection', (peer) => {
      const interval = setInterval(() => {
        if (++pings === 5) clearInterval(interval);
        peer.ping();
      }, 10);
      peer.on('close', () => clearInterval(interval));
    });
    const timeout = 100;

    function heartbeat() {
      clearTimeout(this.pingTimeout);

      // Use `WebSocket#terminate()`, which immediately destroys the connection,
      // instead of `WebSocket#close()`, which waits for the close timer.
      // Delay should be equal to the interval at which your server
      // sends out pings plus a conservative assumption of the latency.
      this.pingTimeout = setTimeout(() => {
        this.terminate();
      }, timeout);
    }

    const client = open(`ws://${host}/`);

    const heartbeats = [];
    client.on('error', console.error);
    client.on('open', heartbeat);
    client.on('ping', heartbeat);
    client.on('ping', () => heartbeats.push(client.readyState));
    client.on('close', function clear() {
      clearTimeout(this.pingTimeout);
    });

    const [code] = await once(client, 'close');
    assert.strictEqual(code, 1006);
    assert.deepStrictEqual(heartbeats, [1, 1, 1, 1, 1]);
    assert.deepStrictEqual(logged, []);
  });

  it('How to connect via a proxy? Use a custom http.Agent (an HTTP CONNECT tunnel)', async function () {
    // A minimal forward proxy: HTTP CONNECT, then bytes both ways.
    const tunnels = [];
    const proxy = http.createServer();
    proxy.on('connect', (req, socket, head) => {
      tunnels.push(req.url);
      const [hostname, port] = req.url.split(':');
      const upstream = net.connect(Number(port), hostname, () => {
        socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
        upstream.write(head);
        upstream.pipe(socket).pipe(upstream);
      });
      upstream.on('error', () => socket.destroy());
      socket.on('error', () => upstream.destroy());
      closers.push(async () => {
        upstream.destroy();
        socket.destroy();
      });
    });
    await new Promise((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    closers.push(() => new Promise((resolve) => proxy.close(resolve)));

    // What https-proxy-agent / socks-proxy-agent do, in a few lines.
    class TunnelAgent extends http.Agent {
      createConnection(options, callback) {
        const connect = http.request({
          host: '127.0.0.1',
          port: proxy.address().port,
          method: 'CONNECT',
          path: `${options.host}:${options.port}`,
        });
        connect.on('connect', (res, socket) => callback(null, socket));
        connect.on('error', callback);
        connect.end();
      }
    }

    wss.on('connection', (peer) => peer.send('through the tunnel'));
    const agent = new TunnelAgent();
    const ws = open(`ws://${host}/`, { agent });
    ws.on('error', console.error);
    const [data] = await once(ws, 'message');
    assert.strictEqual(data.toString(), 'through the tunnel');
    assert.deepStrictEqual(tunnels, [host]);
    agent.destroy();
  });
});
