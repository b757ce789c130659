'use strict';
// `accept: 'handle'` end to end (lib/transport/accept.ts, lib/socket/accepted-request.ts): a `port` mode
// server that takes its connections from the listening TCP handle, reads the request head there, and
// opens WebSockets with no net.Socket until someone asks for one — and hands everything it does not
// take to its HTTP server. Real clients and raw sockets on the other end. With WEFT_TRANSPORT=stream
// (test/run-stream.js) the server keeps every connection on a net.Socket: the same tests then check
// that nothing is hooked and that everything still works the usual way.
const HOOKED = process.env.WEFT_TRANSPORT !== 'stream';
const assert = require('assert');
const http = require('http');
const net = require('net');
const { once } = require('events');
const ws = require('ws');
const { WebSocket, WebSocketServer } = require('../..');

const KEY = 'dGhlIHNhbXBsZSBub25jZQ==';
const request = (path = '/', extra = '') =>
  `GET ${path} HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${KEY}\r\nSec-WebSocket-Version: 13\r\n${extra}\r\n`;

async function until(check, ms = 5000) {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${check}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** A masked client frame. */
function frame(opcode, payload) {
  const data = Buffer.from(payload);
  const mask = Buffer.from([1, 2, 3, 4]);
  const masked = Buffer.from(data.map((b, i) => b ^ mask[i & 3]));
  return Buffer.concat([Buffer.from([0x80 | opcode, 0x80 | data.length]), mask, masked]);
}

/** A raw TCP client that collects what it receives. */
function raw(port) {
  const socket = net.connect(port, '127.0.0.1');
  socket.got = Buffer.alloc(0);
  socket.on('data', (d) => (socket.got = Buffer.concat([socket.got, d])));
  socket.on('error', () => {});
  socket.gone = once(socket, 'close');
  return socket;
}

describe("accept: 'handle' (connections taken from the listening handle)", function () {
  this.timeout(20000);
  const servers = [];
  const clients = [];
  async function server(options = {}) {
    const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', accept: 'handle', ...options });
    servers.push(wss);
    await once(wss, 'listening');
    wss.on('connection', (s) => s.on('error', () => {}));
    return wss;
  }
  afterEach(async () => {
    for (const c of clients.splice(0)) c.destroy ? c.destroy() : c.terminate();
    for (const wss of servers.splice(0)) {
      for (const c of wss.clients) c.terminate();
      await new Promise((r) => wss.close(() => r()));
    }
  });

  it('opens WebSockets with no net.Socket through messages large and small and the closing handshake; counts the connection in and out', async () => {
    const wss = await server();
    assert.strictEqual(wss._acceptHook !== null, HOOKED);
    const port = wss.address().port;
    const client = new ws.WebSocket(`ws://127.0.0.1:${port}/chat?room=1`);
    clients.push(client);
    const [socket, req] = await once(wss, 'connection');
    const t = socket._driver.transport;
    assert.ok(req instanceof http.IncomingMessage);
    assert.strictEqual(req.url, '/chat?room=1');
    // weft's own address reader asks the handle: still no net.Socket after it.
    assert.strictEqual(socket.remoteAddress, '127.0.0.1');
    if (HOOKED) {
      assert.strictEqual(t.shell, null, 'no net.Socket');
      assert.strictEqual(wss._server._connections, 1, 'counted in');
    }
    socket.on('message', (data, isBinary) => socket.send(data, { binary: isBinary }));
    await once(client, 'open');
    for (const size of [5, 200 * 1024, 3 * 1024 * 1024]) {
      const sent = Buffer.alloc(size, size & 0xff);
      client.send(sent);
      const [got] = await once(client, 'message');
      assert.ok(got.equals(sent), `${size} bytes echoed`);
    }
    const closed = once(socket, 'close');
    client.close(4000, 'bye');
    const [code, reason] = await closed;
    assert.strictEqual(code, 4000);
    assert.strictEqual(reason.toString(), 'bye');
    await once(client, 'close');
    if (HOOKED) assert.strictEqual(t.shell, null, 'still no net.Socket');
    await until(() => wss._server._connections === 0);
  });

  it("req is what Node's HTTP parser makes of the same bytes (repeated headers joined by its rules)", async () => {
    const bytes = request('/p?q=1&r', 'X-Twice: 1\r\nx-twice: 2\r\nCookie: a=1\r\nCookie: b=2\r\nSet-Cookie: s\r\nSet-Cookie: t\r\n');
    const wss = await server();
    const reference = http.createServer();
    reference.on('upgrade', (r, s) => {
      reference.req = r;
      s.destroy();
    });
    await new Promise((r) => reference.listen(0, '127.0.0.1', r));
    const a = raw(wss.address().port);
    const b = raw(reference.address().port);
    clients.push(a, b);
    a.write(bytes);
    b.write(bytes);
    const [socket, req] = await once(wss, 'connection');
    await until(() => reference.req !== undefined);
    const theirs = reference.req;
    for (const k of ['method', 'url', 'httpVersion', 'httpVersionMajor', 'httpVersionMinor', 'upgrade', 'complete', 'rawHeaders', 'headers', 'trailers', 'rawTrailers', 'aborted']) {
      assert.deepStrictEqual(req[k], theirs[k], k);
    }
    assert.strictEqual(req.readableEnded || req.readableLength === 0, true);
    if (HOOKED) assert.strictEqual(socket._driver.transport.shell, null, 'reading req made no socket');
    reference.close();
  });

  it('ws._socket and req.socket are one net.Socket, made on first use, that stands for the connection', async () => {
    const wss = await server();
    const client = new WebSocket(`ws://127.0.0.1:${wss.address().port}`);
    clients.push(client);
    const [socket, req] = await once(wss, 'connection');
    await once(client, 'open');
    const s = req.socket;
    assert.ok(s instanceof net.Socket);
    assert.strictEqual(socket._socket, s);
    assert.strictEqual(req.connection, s);
    assert.strictEqual(s.remoteAddress, '127.0.0.1');
    assert.strictEqual(s.remotePort, client._socket.localPort);
    assert.strictEqual(s.localPort, wss.address().port);
    assert.strictEqual(socket.remoteAddress, '127.0.0.1');
    if (HOOKED) assert.strictEqual(s.server, wss._server);
    // Bytes written before it was made are counted, and it keeps up with what follows.
    const before = s.bytesRead;
    assert.ok(before > 0);
    client.send('more');
    await once(socket, 'message');
    assert.ok(s.bytesRead > before);
    // Its events are the connection's: 'end' and 'close' when the peer goes; the WebSocket sees 1006.
    const ended = once(s, 'close');
    const wsClosed = once(socket, 'close');
    client._socket.destroy();
    await ended;
    const [code] = await wsClosed;
    assert.strictEqual(code, 1006);
    await until(() => wss._server._connections === 0);
  });

  it("the socket's own destroy() and setTimeout() act on the connection", async () => {
    const wss = await server();
    const client = new WebSocket(`ws://127.0.0.1:${wss.address().port}`);
    clients.push(client);
    const [socket] = await once(wss, 'connection');
    await once(client, 'open');
    const s = socket._socket;
    const timedOut = once(s, 'timeout');
    s.setTimeout(50);
    await timedOut;
    s.setTimeout(0);
    const closed = once(client, 'close');
    s.destroy();
    const [code] = await closed;
    assert.strictEqual(code, 1006);
    await until(() => wss._server._connections === 0);
  });

  it('handleProtocols and a headers listener may read req.socket before the WebSocket opens', async () => {
    let port;
    const wss = await server({
      handleProtocols: (set, req) => {
        port = req.socket.remotePort;
        return set.has('b') ? 'b' : false;
      },
    });
    const seen = [];
    wss.on('headers', (lines, req) => {
      lines.push('X-Seen: 1');
      seen.push(req.socket.remoteAddress);
    });
    const client = new ws.WebSocket(`ws://127.0.0.1:${wss.address().port}`, ['a', 'b']);
    clients.push(client);
    // (ws emits 'open' right after 'upgrade', in the same tick.)
    const upgraded = once(client, 'upgrade');
    const opened = once(client, 'open');
    const [socket, req] = await once(wss, 'connection');
    const [res] = await upgraded;
    assert.strictEqual(res.headers['x-seen'], '1');
    await opened;
    assert.strictEqual(client.protocol, 'b');
    assert.strictEqual(socket.protocol, 'b');
    assert.strictEqual(port, client._socket.localPort);
    assert.deepStrictEqual(seen, ['127.0.0.1']);
    assert.strictEqual(socket._socket, req.socket);
    socket.send('after');
    const [msg] = await once(client, 'message');
    assert.strictEqual(msg.toString(), 'after');
  });

  it('bytes right behind the request, a head in a few pieces, and one that trickles in all reach the WebSocket', async () => {
    const wss = await server();
    const got = [];
    wss.on('connection', (s) => s.on('message', (d) => got.push(d.toString())));
    const a = raw(wss.address().port);
    clients.push(a);
    a.write(Buffer.concat([Buffer.from(request()), frame(1, 'behind')]));
    await until(() => got.length === 1);
    assert.deepStrictEqual(got, ['behind']);

    // A head in three pieces is read here; one that trickles (many reads) goes to Node's parser. Both open.
    for (const [piece, taken] of [[70, true], [7, false]]) {
      const b = raw(wss.address().port);
      clients.push(b);
      const bytes = Buffer.from(request(`/in-pieces-of-${piece}`));
      const connected = once(wss, 'connection');
      for (let i = 0; i < bytes.length; i += piece) {
        b.write(bytes.subarray(i, i + piece));
        await new Promise((r) => setTimeout(r, 5));
      }
      const [socket, req] = await connected;
      assert.strictEqual(req.url, `/in-pieces-of-${piece}`);
      if (HOOKED) assert.strictEqual(socket._driver.socketIfMade === null, taken, taken ? 'read on the handle' : 'handed to the HTTP server');
      const n = got.length;
      b.write(frame(1, `pieces of ${piece}`));
      await until(() => got.length === n + 1);
      assert.strictEqual(got[n], `pieces of ${piece}`);
      assert.ok(b.got.toString('latin1').startsWith('HTTP/1.1 101 Switching Protocols\r\n'));
    }
  });

  it('what it does not take goes to the HTTP server: plain requests, verifyClient, a connection listener, the stream transport', async () => {
    // A plain request: ws's 426, from the HTTP server.
    const wss = await server();
    const a = raw(wss.address().port);
    clients.push(a);
    a.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    await until(() => a.got.includes('\r\n\r\nUpgrade Required'));
    assert.ok(a.got.toString().startsWith('HTTP/1.1 426 Upgrade Required\r\n'));

    // verifyClient runs on the usual path (a net.Socket from the start), and accepts.
    const verified = await server({ verifyClient: (info) => info.req.headers['x-ok'] === '1' });
    const c1 = new WebSocket(`ws://127.0.0.1:${verified.address().port}`, { headers: { 'x-ok': '1' } });
    clients.push(c1);
    const [s1] = await once(verified, 'connection');
    if (HOOKED) assert.notStrictEqual(s1._driver.socketIfMade, null, 'accepted by the HTTP server');
    await once(c1, 'open');

    // Someone watching the HTTP server's connections sees every one.
    const watched = await server();
    const seen = [];
    watched._server.on('connection', (sock) => seen.push(sock));
    const c2 = new WebSocket(`ws://127.0.0.1:${watched.address().port}`);
    clients.push(c2);
    const [s2] = await once(watched, 'connection');
    assert.strictEqual(seen.length, 1);
    assert.strictEqual(s2._socket, seen[0]);
    await once(c2, 'open');

    // transport: 'stream' keeps every connection on a net.Socket: nothing is hooked.
    const streamed = await server({ transport: 'stream' });
    assert.strictEqual(streamed._acceptHook, null);
    const c3 = new WebSocket(`ws://127.0.0.1:${streamed.address().port}`);
    clients.push(c3);
    const [s3] = await once(streamed, 'connection');
    assert.strictEqual(s3._driver.transport, null);
    await once(c3, 'open');
  });

  it('a head cut short by the FIN is answered as the HTTP server answers it; a reset costs nothing', async () => {
    const wss = await server();
    const reference = await server({ accept: 'server' });
    const answers = [];
    for (const w of [wss, reference]) {
      const c = raw(w.address().port);
      clients.push(c);
      c.end('GET / HTTP/1.1\r\nHost: x\r\nUpgr');
      await c.gone;
      answers.push(c.got.toString('latin1'));
    }
    assert.strictEqual(answers[0], answers[1]);
    assert.match(answers[0], /^HTTP\/1\.1 400 Bad Request\r\n/);
    const r = raw(wss.address().port);
    r.write('GET / HT');
    await until(() => !HOOKED || wss._acceptHook.pendingCount === 1);
    r.resetAndDestroy();
    await until(() => wss._server._connections === 0);
    if (HOOKED) assert.strictEqual(wss._acceptHook.pendingCount, 0);
  });

  it('a head that does not come within seconds is handed to the HTTP server, which then decides', async () => {
    const wss = await server();
    const handed = [];
    const c = raw(wss.address().port);
    clients.push(c);
    c.write('GET / HTTP/1.1\r\nHost: x\r\n');
    if (HOOKED) await until(() => wss._acceptHook.pendingCount === 1);
    // (A 'connection' listener added now: the connection was taken before it.)
    wss._server.on('connection', (s) => handed.push(s));
    if (HOOKED) await until(() => handed.length === 1, 8000);
    // The rest of the head now goes to Node's parser, behind what was read: an upgrade on the usual path.
    c.write('Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ' + KEY + '\r\nSec-WebSocket-Version: 13\r\n\r\n');
    const [socket] = await once(wss, 'connection');
    assert.notStrictEqual(socket._driver.socketIfMade, null);
    await until(() => c.got.includes('\r\n\r\n'));
    assert.ok(c.got.toString().startsWith('HTTP/1.1 101 Switching Protocols\r\n'));
  });

  it("close() hands the connections still reading their head to the HTTP server and completes once they are gone", async () => {
    const wss = await server();
    const c = raw(wss.address().port);
    c.write('GET / HT');
    if (HOOKED) await until(() => wss._acceptHook.pendingCount === 1);
    const handed = [];
    wss._server.on('connection', (s) => handed.push(s));
    let closed = false;
    servers.splice(servers.indexOf(wss), 1);
    const done = new Promise((r) => wss.close(() => r((closed = true))));
    if (HOOKED) assert.strictEqual(handed.length, 1, 'handed over at once');
    await new Promise((r) => setTimeout(r, 50));
    if (!closed) c.destroy();
    await done;
    assert.strictEqual(wss._acceptHook, null);
  });
});
