'use strict';
// The `transport` option end to end: which connections are carried on Node's TCP handle (plain TCP,
// server and client: the default) and which stay on the stream path (TLS, an explicit 'stream'), with
// real peers on both ends. The whole suite also runs with WEFT_TRANSPORT=stream (test/run-stream.js).
const DEFAULT_NATIVE = process.env.WEFT_TRANSPORT !== 'stream';
const assert = require('assert');
const fs = require('fs');
const https = require('https');
const net = require('net');
const path = require('path');
const { once } = require('events');
const ws = require('ws');
const { WebSocket, WebSocketServer } = require('../..');

const fixtures = path.join(__dirname, '..', 'fixtures');

async function listening(wss) {
  if (wss.address() === null) await once(wss, 'listening');
  return wss.address().port;
}

describe("transport: 'native'", () => {
  const open = [];
  afterEach(() => {
    for (const s of open.splice(0)) s.close();
  });

  it('a server adopts each plain TCP connection; ws._socket stays the net.Socket with its addresses', async () => {
    const wss = new WebSocketServer({ port: 0, transport: 'native' });
    open.push(wss);
    const port = await listening(wss);
    const client = new ws.WebSocket(`ws://127.0.0.1:${port}`);
    const [server] = await once(wss, 'connection');
    assert.notStrictEqual(server._driver.transport, null, 'carried on the handle');
    assert.ok(server._socket instanceof net.Socket);
    assert.strictEqual(server._socket.remoteAddress.replace('::ffff:', ''), '127.0.0.1');
    assert.strictEqual(server._socket.localPort, port);
    server.on('message', (data, isBinary) => server.send(data, { binary: isBinary }));
    await once(client, 'open');
    const big = Buffer.alloc(3 * 1024 * 1024, 7);
    client.send('hello');
    client.send(big);
    const got = [];
    client.on('message', (data) => got.push(data));
    while (got.length < 2) await new Promise((resolve) => setTimeout(resolve, 5));
    assert.strictEqual(got[0].toString(), 'hello');
    assert.ok(got[1].equals(big));
    client.close(4000, 'done');
    const [code, reason] = await once(server, 'close');
    assert.strictEqual(code, 4000);
    assert.strictEqual(reason.toString(), 'done');
    assert.strictEqual(server._socket.destroyed, true);
  });

  it(`no transport option: plain TCP connections are carried on the TCP handle, server and client (${DEFAULT_NATIVE ? 'the default' : "not with WEFT_TRANSPORT=stream"})`, async () => {
    const wss = new WebSocketServer({ port: 0 });
    open.push(wss);
    const client = new WebSocket(`ws://127.0.0.1:${await listening(wss)}`);
    const [server] = await once(wss, 'connection');
    await once(client, 'open');
    assert.strictEqual(server._driver.transport !== null, DEFAULT_NATIVE, 'server side');
    assert.strictEqual(client._driver.transport !== null, DEFAULT_NATIVE, 'client side');
    client.send('hello');
    const [data] = await once(server, 'message');
    assert.strictEqual(String(data), 'hello');
    client.close();
    await once(server, 'close');
  });

  it("'stream' keeps the socket's stream layer", async () => {
    const wss = new WebSocketServer({ port: 0, transport: 'stream' });
    open.push(wss);
    const client = new WebSocket(`ws://127.0.0.1:${await listening(wss)}`, { transport: 'stream' });
    const [server] = await once(wss, 'connection');
    await once(client, 'open');
    assert.strictEqual(server._driver.transport, null);
    assert.strictEqual(client._driver.transport, null);
    client.terminate();
    await once(server, 'close');
  });

  it('a client adopts its ws:// socket; the peer sees masked frames and a clean close', async () => {
    const wss = new ws.WebSocketServer({ port: 0 });
    open.push(wss);
    const port = await listening(wss);
    wss.on('connection', (peer) => peer.on('message', (data, isBinary) => peer.send(data, { binary: isBinary })));
    const client = new WebSocket(`ws://127.0.0.1:${port}`, { transport: 'native' });
    await once(client, 'open');
    assert.notStrictEqual(client._driver.transport, null);
    client.send('ping?');
    const [data] = await once(client, 'message');
    assert.strictEqual(data.toString(), 'ping?');
    client.close();
    const [code] = await once(client, 'close');
    assert.strictEqual(code, 1005);
  });

  it('TLS stays on the stream path (and works)', async () => {
    const server = https.createServer({
      cert: fs.readFileSync(path.join(fixtures, 'certificate.pem')),
      key: fs.readFileSync(path.join(fixtures, 'key.pem')),
    });
    const wss = new WebSocketServer({ server, transport: 'native' });
    open.push(wss, server);
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const client = new WebSocket(`wss://127.0.0.1:${server.address().port}`, { rejectUnauthorized: false, transport: 'native' });
    const [peer] = await once(wss, 'connection');
    await once(client, 'open');
    assert.strictEqual(peer._driver.transport, null);
    assert.strictEqual(client._driver.transport, null);
    peer.send('over tls');
    const [data] = await once(client, 'message');
    assert.strictEqual(data.toString(), 'over tls');
    client.close();
    await once(peer, 'close');
  });

  it('pause(): input is held (a close frame too) until resume(); the peer then gets its answer', async () => {
    const wss = new WebSocketServer({ port: 0, transport: 'native' });
    open.push(wss);
    const client = new ws.WebSocket(`ws://127.0.0.1:${await listening(wss)}`);
    const [server] = await once(wss, 'connection');
    await once(client, 'open');
    server.pause();
    const seen = [];
    server.on('message', (d) => seen.push(d.toString()));
    client.send('a');
    client.send('b');
    client.close(1000);
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.deepStrictEqual(seen, [], 'nothing is delivered while paused');
    assert.strictEqual(server.readyState, WebSocket.OPEN);
    server.resume();
    const [code] = await once(client, 'close');
    assert.strictEqual(code, 1000);
    assert.deepStrictEqual(seen, ['a', 'b']);
  });

  it('no setsockopt the stream path does not make: TCP_NODELAY, already on, is not set again', async () => {
    // http.Server turns Nagle off for every connection it accepts; net.Socket remembers it, and so the
    // driver's setNoDelay() costs nothing on either transport. On the adopted handle it would be a syscall.
    const http = require('http');
    const calls = { stream: 0, native: 0 };
    const server = http.createServer();
    for (const transport of ['stream', 'native']) {
      const wss = new WebSocketServer({ noServer: true, transport });
      server.removeAllListeners('upgrade');
      server.on('upgrade', (req, socket, head) => {
        const handle = socket._handle;
        const f = Object.getPrototypeOf(handle).setNoDelay;
        handle.setNoDelay = function (on) {
          calls[transport]++;
          return f.call(this, on);
        };
        wss.handleUpgrade(req, socket, head, (peer) => {
          assert.strictEqual(peer._driver.transport !== null, transport === 'native');
          peer.on('message', (d) => peer.send(d));
        });
      });
      if (!server.listening) {
        server.listen(0, '127.0.0.1');
        await once(server, 'listening');
      }
      const client = new ws.WebSocket(`ws://127.0.0.1:${server.address().port}`);
      await once(client, 'open');
      client.send('x');
      await once(client, 'message');
      client.close();
      await once(client, 'close');
    }
    server.close();
    assert.deepStrictEqual(calls, { stream: 0, native: 0 });
  });

  it('server.close() waits for adopted connections to end (ws 8 closes none itself)', async () => {
    const wss = new WebSocketServer({ port: 0, transport: 'native' });
    const port = await listening(wss);
    const client = new ws.WebSocket(`ws://127.0.0.1:${port}`);
    const [server] = await once(wss, 'connection');
    await once(client, 'open');
    let closed = false;
    wss.close(() => {
      closed = true;
    });
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.strictEqual(closed, false, 'the open connection holds the server');
    assert.strictEqual(client.readyState, ws.OPEN);
    server.terminate();
    await once(client, 'close');
    while (!closed) await new Promise((resolve) => setTimeout(resolve, 5));
    assert.strictEqual(server.readyState, WebSocket.CLOSED);
  });
});
