'use strict';
// socket.io 4 server and socket.io-client 4 (engine.io and engine.io-client under them), both loading
// weft as their `ws`.
const assert = require('assert');
const { Server } = require('socket.io');
const { io: connectClient } = require('socket.io-client');
const fs = require('fs');
const https = require('https');
const path = require('path');
const { weft, http, once, listen, within, noise, assertWeftSocket } = require('./support');

const fixtures = path.join(__dirname, '..', 'fixtures');

describe('socket.io 4 over weft at both ends', function () {
  const servers = [];
  const clients = [];

  /** An http server with socket.io attached, listening on `port` (ephemeral when 0). */
  async function startIo(options = {}, port = 0) {
    const httpServer = http.createServer();
    const io = new Server(httpServer, options);
    const bound = await listen(httpServer, port);
    servers.push(io);
    return { io, httpServer, port: bound };
  }

  function client(port, options = {}) {
    const socket = connectClient(`http://127.0.0.1:${port}`, {
      transports: ['websocket'],
      reconnection: false,
      forceNew: true,
      ...options,
    });
    clients.push(socket);
    return socket;
  }

  afterEach(async function () {
    // A failed test may leave a client whose disconnect() throws (what failed it); that is reported by
    // the test itself, and must not stop the tests after it. After a passed test it fails the hook.
    const errors = [];
    for (const socket of clients.splice(0)) {
      try {
        socket.disconnect();
      } catch (err) {
        errors.push(err);
      }
    }
    for (const io of servers.splice(0)) await new Promise((resolve) => io.close(() => resolve()));
    if (errors.length > 0 && this.currentTest.state === 'passed') throw errors[0];
  });

  it('connects over a WebSocket that is weft on both sides and round-trips an event with an ack', async function () {
    const { io, port } = await startIo();
    const serverSocket = new Promise((resolve) => io.on('connection', resolve));
    io.on('connection', (socket) => socket.on('echo', (payload, ack) => ack({ got: payload, id: socket.id })));
    const socket = client(port);
    await within(once(socket, 'connect'), 5000, 'connect');
    const s = await serverSocket;

    assert.strictEqual(s.conn.transport.name, 'websocket');
    assertWeftSocket(s.conn.transport.socket, "the server's transport socket");
    assert.strictEqual(socket.io.engine.transport.name, 'websocket');
    assertWeftSocket(socket.io.engine.transport.ws, "the client's transport socket");

    const payload = { text: 'héllo 🌍', list: [1, 2.5, null, true], nested: { a: 'b' } };
    const answer = await within(socket.emitWithAck('echo', payload), 5000, 'the ack');
    assert.deepStrictEqual(answer, { got: payload, id: socket.id });
  });

  it('passes the client\'s extraHeaders and query through weft\'s client to the handshake', async function () {
    const { io, port } = await startIo();
    const handshake = new Promise((resolve) => io.on('connection', (socket) => resolve(socket.handshake)));
    const socket = client(port, { extraHeaders: { 'x-weft-token': 'abc123' }, query: { room: 'lobby' } });
    await within(once(socket, 'connect'), 5000, 'connect');
    const seen = await handshake;
    assert.strictEqual(seen.headers['x-weft-token'], 'abc123');
    assert.strictEqual(seen.query.room, 'lobby');
  });

  it('connects over TLS (wss://) with the client trusting the server\'s certificate through `ca`', async function () {
    const httpsServer = https.createServer({
      cert: fs.readFileSync(path.join(fixtures, 'certificate.pem')),
      key: fs.readFileSync(path.join(fixtures, 'key.pem')),
    });
    const io = new Server(httpsServer);
    servers.push(io);
    const port = await listen(httpsServer);
    io.on('connection', (s) => s.on('echo', (payload, ack) => ack({ payload, secure: s.handshake.secure })));
    const socket = connectClient(`https://127.0.0.1:${port}`, {
      transports: ['websocket'],
      reconnection: false,
      forceNew: true,
      ca: fs.readFileSync(path.join(fixtures, 'certificate.pem')),
    });
    clients.push(socket);
    await within(once(socket, 'connect'), 5000, 'connect');
    assertWeftSocket(socket.io.engine.transport.ws, "the client's transport socket");
    assert.match(socket.io.engine.transport.ws.url, /^wss:\/\/127\.0\.0\.1:/);
    assert.deepStrictEqual(await within(socket.emitWithAck('echo', 'over tls'), 5000, 'the ack'), { payload: 'over tls', secure: true });
  });

  it('refuses a TLS server the client does not trust (no ca): connect_error, no connection', async function () {
    const httpsServer = https.createServer({
      cert: fs.readFileSync(path.join(fixtures, 'certificate.pem')),
      key: fs.readFileSync(path.join(fixtures, 'key.pem')),
    });
    const io = new Server(httpsServer);
    servers.push(io);
    const port = await listen(httpsServer);
    let connections = 0;
    io.on('connection', () => connections++);
    const socket = connectClient(`https://127.0.0.1:${port}`, { transports: ['websocket'], reconnection: false, forceNew: true });
    clients.push(socket);
    const [err] = await within(once(socket, 'connect_error'), 5000, 'connect_error');
    assert.strictEqual(err.message, 'websocket error');
    assert.match(String(err.description && err.description.message), /self[- ]signed certificate/);
    assert.strictEqual(connections, 0);
  });

  it('upgrades from HTTP long-polling to a weft WebSocket', async function () {
    const { io, port } = await startIo();
    io.on('connection', (socket) => socket.on('echo', (payload, ack) => ack(payload)));
    const socket = client(port, { transports: ['polling', 'websocket'] });
    assert.strictEqual(socket.io.engine.transport.name, 'polling');
    const upgraded = once(socket.io.engine, 'upgrade');
    await within(once(socket, 'connect'), 5000, 'connect');
    await within(upgraded, 5000, 'the upgrade');
    assert.strictEqual(socket.io.engine.transport.name, 'websocket');
    assertWeftSocket(socket.io.engine.transport.ws, "the client's upgraded transport socket");
    assert.strictEqual(await within(socket.emitWithAck('echo', 'after upgrade'), 5000, 'the ack'), 'after upgrade');
    // The echo came after the client's upgrade packet on the same WebSocket: the server has switched.
    const serverSocket = io.sockets.sockets.get(socket.id);
    assert.strictEqual(serverSocket.conn.transport.name, 'websocket');
    assertWeftSocket(serverSocket.conn.transport.socket, "the server's upgraded transport socket");
  });

  it('delivers to rooms: members get the room message, others only the broadcast, the sender not its own', async function () {
    const { io, port } = await startIo();
    io.on('connection', (socket) => {
      socket.on('join', (room, ack) => {
        socket.join(room);
        ack();
      });
      socket.on('shout', (room, text) => socket.to(room).emit('heard', text));
    });
    const sockets = [client(port), client(port), client(port)];
    await Promise.all(sockets.map((s) => within(once(s, 'connect'), 5000, 'connect')));
    const logs = sockets.map((s) => {
      const log = [];
      s.onAny((event, arg) => log.push(`${event}:${arg}`));
      return log;
    });
    await sockets[0].emitWithAck('join', 'a');
    await sockets[1].emitWithAck('join', 'a');

    const done = sockets.map((s) => once(s, 'all'));
    io.to('a').emit('news', 'for a');
    io.emit('all', 'everyone');
    await within(Promise.all(done), 5000, 'the broadcast');
    assert.deepStrictEqual(logs[0], ['news:for a', 'all:everyone']);
    assert.deepStrictEqual(logs[1], ['news:for a', 'all:everyone']);
    assert.deepStrictEqual(logs[2], ['all:everyone']);

    const heard = once(sockets[1], 'heard');
    sockets[0].emit('shout', 'a', 'from 0');
    await within(heard, 5000, 'the room message');
    // Each connection is ordered: once everyone has the next broadcast, nothing else is in flight.
    const again = sockets.map((s) => once(s, 'all'));
    io.emit('all', 'again');
    await within(Promise.all(again), 5000, 'the second broadcast');
    assert.deepStrictEqual(logs[0], ['news:for a', 'all:everyone', 'all:again']);
    assert.deepStrictEqual(logs[1], ['news:for a', 'all:everyone', 'heard:from 0', 'all:again']);
    assert.deepStrictEqual(logs[2], ['all:everyone', 'all:again']);
  });

  for (const deflate of [false, true]) {
    it(`round-trips binary attachments (Buffers in a nested payload, 512 KiB included)${deflate ? ' with permessage-deflate at both ends' : ''}`, async function () {
      const options = deflate ? { perMessageDeflate: { threshold: 0 } } : {};
      const { io, port } = await startIo(options);
      let serverSide;
      io.on('connection', (socket) => {
        serverSide = socket;
        socket.on('bin', (payload, ack) => {
          ack({
            isBuffer: Buffer.isBuffer(payload.big) && Buffer.isBuffer(payload.parts[1]),
            echo: payload,
          });
        });
      });
      const socket = client(port, options);
      await within(once(socket, 'connect'), 5000, 'connect');
      assert.strictEqual(serverSide.conn.transport.socket.extensions, deflate ? 'permessage-deflate' : '');

      const payload = {
        label: 'binary',
        big: noise(512 * 1024),
        parts: ['text', Buffer.from([0, 1, 2, 253, 254, 255]), Buffer.from('x'.repeat(100000))],
      };
      const answer = await within(socket.emitWithAck('bin', payload), 10000, 'the ack');
      assert.strictEqual(answer.isBuffer, true);
      assert.strictEqual(answer.echo.label, 'binary');
      assert.ok(Buffer.from(answer.echo.big).equals(payload.big), 'the 512 KiB buffer came back intact');
      assert.strictEqual(answer.echo.parts[0], 'text');
      assert.ok(Buffer.from(answer.echo.parts[1]).equals(payload.parts[1]));
      assert.ok(Buffer.from(answer.echo.parts[2]).equals(payload.parts[2]));
    });
  }

  it('reconnects after the server is closed and started again on the same port', async function () {
    const first = await startIo();
    const port = first.port;
    const firstIds = [];
    first.io.on('connection', (socket) => firstIds.push(socket.id));
    const socket = client(port, { reconnection: true, reconnectionDelay: 50, reconnectionDelayMax: 100, randomizationFactor: 0 });
    await within(once(socket, 'connect'), 5000, 'the first connect');
    assert.strictEqual(firstIds.length, 1);

    const disconnected = once(socket, 'disconnect');
    const failedAttempts = [];
    socket.io.on('reconnect_error', (err) => failedAttempts.push(err.message));
    servers.splice(servers.indexOf(first.io), 1);
    await new Promise((resolve) => first.io.close(() => resolve()));
    const [reason] = await within(disconnected, 5000, 'the disconnect');
    assert.strictEqual(reason, 'transport close');

    // While nothing listens, the client's attempts fail (connection refused)...
    await within(new Promise((resolve) => {
      const check = () => (failedAttempts.length >= 2 ? resolve() : setTimeout(check, 20));
      check();
    }), 5000, 'two failed reconnection attempts');
    assert.strictEqual(socket.connected, false);

    // ...and once a server is back on the port, the next attempt connects to it.
    const second = await startIo({}, port);
    const reconnectedManager = once(socket.io, 'reconnect');
    const reconnected = once(socket, 'connect');
    second.io.on('connection', (s) => s.on('whoami', (ack) => ack('second server')));
    const [attempts] = await within(reconnectedManager, 5000, 'the reconnect');
    await within(reconnected, 5000, 'the connect after the reconnect');
    assert.ok(attempts > failedAttempts.length - 1, `reconnected at attempt ${attempts}`);
    assert.strictEqual(socket.connected, true);
    assertWeftSocket(socket.io.engine.transport.ws, "the reconnected client's transport socket");
    assert.strictEqual(await within(socket.emitWithAck('whoami'), 5000, 'the ack'), 'second server');
    assert.deepStrictEqual(failedAttempts.filter((m) => m !== 'websocket error'), []);
  });

  it('reports a handshake the server rejects over HTTP (allowRequest) as connect_error', async function () {
    const seen = [];
    const { port } = await startIo({
      allowRequest: (req, callback) => {
        seen.push(req.url);
        callback('not allowed', false);
      },
    });
    const socket = client(port);
    const [err] = await within(once(socket, 'connect_error'), 5000, 'connect_error');
    assert.strictEqual(err.message, 'websocket error');
    assert.strictEqual(socket.connected, false);
    assert.strictEqual(seen.length, 1);
    assert.match(seen[0], /transport=websocket/);
    // The description is the WebSocket's error event: weft's client saw engine.io's 400 answer.
    assert.match(String(err.description && err.description.message), /Unexpected server response: 400/);
  });

  it('reports a connection refused by a namespace middleware as connect_error with its data', async function () {
    const { io, port } = await startIo();
    io.use((socket, next) => {
      const err = new Error('not authorized');
      err.data = { token: socket.handshake.auth.token, hint: 'log in' };
      next(err);
    });
    const socket = client(port, { auth: { token: 'wrong' } });
    const [err] = await within(once(socket, 'connect_error'), 5000, 'connect_error');
    assert.strictEqual(err.message, 'not authorized');
    assert.deepStrictEqual(err.data, { token: 'wrong', hint: 'log in' });
    assert.strictEqual(socket.connected, false);
  });

  it('sees a server-side disconnect as "io server disconnect"', async function () {
    const { io, port } = await startIo();
    io.on('connection', (s) => s.on('kick me', () => s.disconnect(true)));
    const socket = client(port);
    await within(once(socket, 'connect'), 5000, 'connect');
    const disconnected = once(socket, 'disconnect');
    socket.emit('kick me');
    const [reason] = await within(disconnected, 5000, 'the disconnect');
    assert.strictEqual(reason, 'io server disconnect');
  });
});
