'use strict';
// The crossws-style face against real `ws` clients: hooks (upgrade/open/message/close/error/drain), the
// Peer and Message APIs, plugged into an http.Server's 'upgrade' (the Express pattern) and into a weft
// WebSocketServer of its own.

const assert = require('assert');
const http = require('http');
const net = require('net');
const crypto = require('crypto');
const { once } = require('events');
const WsClient = require('ws');
const weft = require('../..');
const { until } = require('./helpers');

const { PeerAdapter, WebSocketServer, SendStatus } = weft;
const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('pub/sub: hooks and Peer', () => {
  let httpServer = null;
  let adapter = null;
  const clients = [];
  let events;

  afterEach(async () => {
    for (const c of clients.splice(0)) c.terminate ? c.terminate() : c.destroy();
    if (adapter !== null) {
      for (const p of adapter.peers) p.terminate();
      await new Promise((r) => adapter.wss.close(() => r()));
      adapter = null;
    }
    if (httpServer !== null) {
      await new Promise((r) => httpServer.close(() => r()));
      httpServer = null;
    }
  });

  /** An http.Server whose upgrades go to a PeerAdapter (the Express pattern); returns its port. */
  async function express(hooks, serverOptions) {
    events = [];
    adapter = new PeerAdapter({ hooks, serverOptions });
    httpServer = http.createServer((req, res) => res.end('plain http'));
    httpServer.on('upgrade', adapter.handleUpgrade);
    await new Promise((r) => httpServer.listen(0, '127.0.0.1', r));
    return httpServer.address().port;
  }

  function connect(port, path = '/', options = {}) {
    const c = new WsClient(`ws://127.0.0.1:${port}${path}`, options);
    clients.push(c);
    c.on('error', () => {});
    return c;
  }

  it('upgrade sets context and adds headers; open sees the Peer: id, request, remoteAddress, websocket, context', async () => {
    let opened;
    const port = await express({
      upgrade(request) {
        assert.strictEqual(request.headers.get('x-token'), 'secret');
        request.context.user = 'ada';
        return { headers: { 'x-hello': 'world' }, context: { role: 'admin' } };
      },
      open(peer) {
        opened = peer;
      },
    });
    const c = connect(port, '/room?x=1', { headers: { 'x-token': 'secret' } });
    const open = once(c, 'open');
    const [response] = await once(c, 'upgrade');
    assert.strictEqual(response.headers['x-hello'], 'world');
    await open;
    await until(() => opened !== undefined);
    assert.match(opened.id, UUID_V4);
    assert.strictEqual(opened.id, opened.id, 'stable');
    assert.strictEqual(String(opened), opened.id);
    assert.deepStrictEqual(opened.context, { user: 'ada', role: 'admin' });
    assert.strictEqual(opened.request.url, `http://127.0.0.1:${port}/room?x=1`);
    assert.strictEqual(opened.request.method, 'GET');
    assert.strictEqual(opened.request.headers.get('x-token'), 'secret');
    assert.strictEqual(opened.request.context, opened.context);
    assert.match(opened.remoteAddress, /127\.0\.0\.1$/);
    assert.ok(opened.websocket instanceof weft.WebSocket);
    assert.strictEqual(opened.peers.has(opened), true);
  });

  it('two peers get different uuids; without an upgrade hook the request is still there', async () => {
    const ids = [];
    const port = await express({ open: (peer) => ids.push([peer.id, peer.request.headers.get('x-n'), peer.request.url]) });
    connect(port, '/a', { headers: { 'x-n': '1' } });
    connect(port, '/b', { headers: { 'x-n': '2' } });
    await until(() => ids.length === 2);
    ids.sort((a, b) => a[1].localeCompare(b[1]));
    assert.notStrictEqual(ids[0][0], ids[1][0]);
    for (const [id] of ids) assert.match(id, UUID_V4);
    assert.deepStrictEqual(ids.map((x) => x[2]), [`http://127.0.0.1:${port}/a`, `http://127.0.0.1:${port}/b`]);
  });

  it('message: text/json/uint8Array/arrayBuffer/blob, each computed once', async () => {
    const got = [];
    const port = await express({ message: (peer, message) => got.push(message) });
    const c = connect(port);
    await once(c, 'open');
    c.send(JSON.stringify({ a: [1, 2] }));
    c.send(Buffer.from([0, 1, 2, 255]));
    await until(() => got.length === 2);
    const [text, bin] = got;
    assert.strictEqual(text.isBinary, false);
    assert.strictEqual(text.text(), '{"a":[1,2]}');
    assert.deepStrictEqual(text.json(), { a: [1, 2] });
    assert.strictEqual(text.json(), text.json(), 'cached');
    assert.strictEqual(String(text), '{"a":[1,2]}');
    assert.match(text.id, UUID_V4);
    assert.strictEqual(bin.isBinary, true);
    assert.deepStrictEqual([...bin.uint8Array()], [0, 1, 2, 255]);
    assert.strictEqual(bin.uint8Array(), bin.uint8Array());
    const ab = bin.arrayBuffer();
    assert.ok(ab instanceof ArrayBuffer);
    assert.deepStrictEqual([...new Uint8Array(ab)], [0, 1, 2, 255]);
    assert.strictEqual(bin.arrayBuffer(), ab);
    const blob = bin.blob();
    assert.strictEqual(blob.size, 4);
    assert.strictEqual(bin.blob(), blob);
    assert.deepStrictEqual([...new Uint8Array(await blob.arrayBuffer())], [0, 1, 2, 255]);
    assert.strictEqual(text.peer, bin.peer);
  });

  it('send, subscribe, publish (sender excluded), unsubscribe, topics; the adapter publishes to all', async () => {
    const peers = [];
    const port = await express({
      open(peer) {
        peers.push(peer);
        peer.subscribe('chat');
      },
      message(peer, message) {
        if (message.text() === 'leave') peer.unsubscribe('chat');
        else peer.publish('chat', `${peer.context.name || 'someone'}: ${message.text()}`);
      },
    });
    const a = connect(port);
    const b = connect(port);
    const received = { a: [], b: [] };
    a.on('message', (d) => received.a.push(d.toString()));
    b.on('message', (d) => received.b.push(d.toString()));
    await Promise.all([once(a, 'open'), once(b, 'open')]);
    await until(() => peers.length === 2);
    assert.deepStrictEqual([...peers[0].topics], ['chat']);
    a.send('hello');
    await until(() => received.b.length === 1);
    assert.deepStrictEqual(received.b, ['someone: hello']);
    assert.strictEqual(peers[0].send({ json: true }), SendStatus.SENT);
    assert.strictEqual(peers[0].send('text', { compress: false }), SendStatus.SENT);
    assert.deepStrictEqual(adapter.publish('chat', 'to everyone'), { sent: 2, backpressure: 0, dropped: 0 });
    b.send('leave');
    await until(() => peers.every((p) => p.topics.size === 1) === false);
    assert.deepStrictEqual(adapter.publish('chat', 'only the subscribed'), { sent: 1, backpressure: 0, dropped: 0 });
    await until(() => received.a.length === 4 && received.b.length === 2);
    assert.deepStrictEqual(received.b, ['someone: hello', 'to everyone']);
    received.a.sort();
    assert.deepStrictEqual(received.a.sort(), ['{"json":true}', 'only the subscribed', 'text', 'to everyone'].sort());
  });

  it('close hook gets { code, reason }; terminate gives 1006; peer.close(code, reason) reaches the client', async () => {
    const closes = [];
    const opened = [];
    const port = await express({ open: (p) => opened.push(p), close: (peer, details) => closes.push([peer, details]) });
    const a = connect(port);
    await once(a, 'open');
    a.close(4001, 'bye');
    await until(() => closes.length === 1);
    assert.deepStrictEqual(closes[0][1], { code: 4001, reason: 'bye' });
    assert.strictEqual(adapter.peers.has(closes[0][0]), false);
    const b = connect(port);
    await once(b, 'open');
    await until(() => opened.length === 2);
    opened[1].terminate();
    await until(() => closes.length === 2);
    assert.strictEqual(closes[1][1].code, 1006);
    const c = connect(port);
    await until(() => opened.length === 3);
    const closed = once(c, 'close');
    opened[2].close(4002, 'server says bye');
    const [code, reason] = await closed;
    assert.strictEqual(code, 4002);
    assert.strictEqual(reason.toString(), 'server says bye');
    await until(() => closes.length === 3);
    assert.strictEqual(adapter.peers.size, 0);
  });

  describe('refusals', () => {
    async function refused(port, path) {
      const c = connect(port, path);
      const [, res] = await once(c, 'unexpected-response');
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (body += d));
      await once(res, 'end');
      return { status: res.statusCode, headers: res.headers, body };
    }

    it('a thrown or returned Response, a { status, headers, body }, a failing hook (500); an async hook may accept', async () => {
      const opened = [];
      const port = await express({
        async upgrade(request) {
          const path = new URL(request.url).pathname;
          if (path === '/throw-response') throw new Response('no token', { status: 401, headers: { 'x-why': 'token' } });
          if (path === '/return-response') return new Response(null, { status: 429, statusText: 'Slow Down' });
          if (path === '/plain') return { status: 403, headers: { 'x-plain': '1' }, body: 'forbidden' };
          if (path === '/fail') throw new Error('hook bug');
          await new Promise((r) => setTimeout(r, 1));
          return { headers: [['x-async', 'yes']] };
        },
        open: (peer) => opened.push(peer),
      });
      const r1 = await refused(port, '/throw-response');
      assert.strictEqual(r1.status, 401);
      assert.strictEqual(r1.headers['x-why'], 'token');
      assert.strictEqual(r1.body, 'no token');
      const r2 = await refused(port, '/return-response');
      assert.strictEqual(r2.status, 429);
      const r3 = await refused(port, '/plain');
      assert.deepStrictEqual([r3.status, r3.headers['x-plain'], r3.body], [403, '1', 'forbidden']);
      const r4 = await refused(port, '/fail');
      assert.strictEqual(r4.status, 500);
      assert.strictEqual(opened.length, 0);
      const ok = connect(port, '/fine');
      const [response] = await once(ok, 'upgrade');
      assert.strictEqual(response.headers['x-async'], 'yes');
      await until(() => opened.length === 1);
    });
  });

  it('error hook: protocol errors of the connection, and what other hooks throw', async () => {
    const errors = [];
    const port = await express({
      message(peer, message) {
        throw new Error(`cannot handle ${message.text()}`);
      },
      error: (peer, err) => errors.push([peer, err]),
    });
    const c = connect(port);
    await once(c, 'open');
    c.send('this');
    await until(() => errors.length === 1);
    assert.strictEqual(errors[0][1].message, 'cannot handle this');
    // A raw client sends a frame with a reserved opcode (0x3): the connection fails with 1002.
    const socket = net.connect(port, '127.0.0.1');
    clients.push(socket);
    await once(socket, 'connect');
    socket.write(
      `GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${crypto.randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
    );
    await once(socket, 'data');
    socket.write(Buffer.from([0x83, 0x80, 1, 2, 3, 4]));
    await until(() => errors.length === 2);
    assert.strictEqual(errors[1][1].code, 'WS_ERR_INVALID_OPCODE');
    assert.notStrictEqual(errors[1][0], errors[0][0]);
  });

  it('drain hook after backpressure, with a slow reader', async () => {
    let peer;
    let drains = 0;
    const port = await express({ open: (p) => (peer = p), drain: () => drains++ });
    const socket = net.connect(port, '127.0.0.1');
    clients.push(socket);
    await once(socket, 'connect');
    socket.write(
      `GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${crypto.randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
    );
    await once(socket, 'data');
    socket.pause();
    await until(() => peer !== undefined);
    const chunk = Buffer.alloc(256 * 1024);
    let status;
    let n = 0;
    while ((status = peer.send(chunk)) === SendStatus.SENT && n < 1000) n++;
    assert.strictEqual(status, SendStatus.BACKPRESSURE);
    assert.strictEqual(drains, 0);
    socket.resume();
    await until(() => drains === 1);
    assert.ok(peer.bufferedAmount < 256 * 1024);
  });

  it('plugs into a weft WebSocketServer in port mode: its own upgrades run the hooks too', async () => {
    const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    await once(wss, 'listening');
    const opened = [];
    adapter = new PeerAdapter({
      wss,
      hooks: {
        upgrade: (request) => (request.url.endsWith('/no') ? new Response('no', { status: 403 }) : undefined),
        open: (peer) => opened.push(peer),
      },
    });
    assert.throws(() => new PeerAdapter({ wss, hooks: {} }), /already has a PeerAdapter/);
    const port = wss.address().port;
    const refusedClient = connect(port, '/no');
    const [, res] = await once(refusedClient, 'unexpected-response');
    assert.strictEqual(res.statusCode, 403);
    const c = connect(port, '/yes');
    await once(c, 'open');
    await until(() => opened.length === 1);
    assert.strictEqual(opened[0].request.url, `http://127.0.0.1:${port}/yes`);
    const got = once(c, 'message');
    opened[0].send('hi from port mode');
    assert.strictEqual((await got)[0].toString(), 'hi from port mode');
  });
});
