'use strict';

// ws's README server examples, ported as they are written there (console output turned into
// assertions), running on weft's WebSocketServer with ws's client on the other end.

const assert = require('assert');
const http = require('http');
const https = require('https');
const WS = require('ws');
const { WebSocketServer } = require('../../dist/lib/server');
const { WebSocket } = require('../../dist/lib/websocket');
const { TLS, Tracker, portOf, once, rawExchange, upgradeRequest } = require('../support/server');

describe('WebSocketServer: ws README examples', function () {
  const track = new Tracker();
  afterEach(() => track.closeAll());

  /** Errors any 'error' listener of the examples saw (README: `ws.on('error', console.error)`). */
  let errors;
  beforeEach(() => (errors = []));
  afterEach(() => assert.deepStrictEqual(errors, []));
  const logError = (err) => errors.push(err);

  async function open(url, options) {
    const client = track.add(new WS(url, options));
    client.on('error', logError);
    await once(client, 'open');
    return client;
  }

  it('Simple server', async function () {
    const wss = track.add(new WebSocketServer({ port: 0 }));
    const received = [];
    wss.on('connection', function connection(ws) {
      ws.on('error', logError);
      ws.on('message', function message(data) {
        received.push(`received: ${data}`);
      });
      ws.send('something');
    });
    const client = track.add(new WS(`ws://127.0.0.1:${await portOf(wss)}`));
    const [data] = await once(client, 'message');
    assert.strictEqual(data.toString(), 'something');
    client.send('hello');
    const [ws] = [...wss.clients];
    await once(ws, 'message');
    assert.deepStrictEqual(received, ['received: hello']);
  });

  it('External HTTP/S server', async function () {
    const server = track.add(https.createServer({ cert: TLS.cert, key: TLS.key }));
    const wss = new WebSocketServer({ server });
    wss.on('connection', function connection(ws) {
      ws.on('error', logError);
      ws.on('message', function message(data) {
        ws.send(`received: ${data}`);
      });
      ws.send('something');
    });
    server.listen(0, '127.0.0.1');
    const client = track.add(new WS(`wss://localhost:${await portOf(server)}`, { ca: TLS.cert }));
    const [first] = await once(client, 'message');
    assert.strictEqual(first.toString(), 'something');
    client.send('over https');
    const [second] = await once(client, 'message');
    assert.strictEqual(second.toString(), 'received: over https');
  });

  it('Multiple servers sharing a single HTTP/S server', async function () {
    const server = track.add(http.createServer());
    const wss1 = track.add(new WebSocketServer({ noServer: true }));
    const wss2 = track.add(new WebSocketServer({ noServer: true }));

    wss1.on('connection', function connection(ws) {
      ws.on('error', logError);
      ws.send('from wss1');
    });
    wss2.on('connection', function connection(ws) {
      ws.on('error', logError);
      ws.send('from wss2');
    });

    server.on('upgrade', function upgrade(request, socket, head) {
      const { pathname } = new URL(request.url, 'wss://base.url');
      if (pathname === '/foo') {
        wss1.handleUpgrade(request, socket, head, function done(ws) {
          wss1.emit('connection', ws, request);
        });
      } else if (pathname === '/bar') {
        wss2.handleUpgrade(request, socket, head, function done(ws) {
          wss2.emit('connection', ws, request);
        });
      } else {
        socket.destroy();
      }
    });
    server.listen(0, '127.0.0.1');
    const port = await portOf(server);

    for (const [path, expected] of [
      ['/foo', 'from wss1'],
      ['/bar?q=1', 'from wss2'],
    ]) {
      const client = track.add(new WS(`ws://127.0.0.1:${port}${path}`));
      const [data] = await once(client, 'message');
      assert.strictEqual(data.toString(), expected);
    }
    assert.strictEqual(wss1.clients.size, 1);
    assert.strictEqual(wss2.clients.size, 1);
    const stray = track.add(new WS(`ws://127.0.0.1:${port}/baz`));
    const [err] = await once(stray, 'error');
    assert.strictEqual(err.code, 'ECONNRESET');
  });

  it('Client authentication', async function () {
    const socketErrors = [];
    function onSocketError(err) {
      socketErrors.push(err);
    }
    // The README leaves authenticate() to the reader: a token in the query string here.
    function authenticate(request, next) {
      const token = new URL(request.url, 'http://x').searchParams.get('token');
      setImmediate(() => (token === 'secret' ? next(null, 'alice') : next(new Error('bad token'))));
    }

    const server = track.add(http.createServer());
    const wss = track.add(new WebSocketServer({ noServer: true }));
    const messages = [];
    wss.on('connection', function connection(ws, request, client) {
      ws.on('error', logError);
      ws.on('message', function message(data) {
        messages.push(`Received message ${data} from user ${client}`);
        ws.send('ack');
      });
    });

    server.on('upgrade', function upgrade(request, socket, head) {
      socket.on('error', onSocketError);
      authenticate(request, function next(err, client) {
        if (err || !client) {
          socket.write('HTTP/1.1 401 Unauthorized\r\n\r\n');
          socket.destroy();
          return;
        }
        socket.removeListener('error', onSocketError);
        wss.handleUpgrade(request, socket, head, function done(ws) {
          wss.emit('connection', ws, request, client);
        });
      });
    });
    server.listen(0, '127.0.0.1');
    const port = await portOf(server);

    const client = await open(`ws://127.0.0.1:${port}/?token=secret`);
    client.send('hi');
    await once(client, 'message');
    assert.deepStrictEqual(messages, ['Received message hi from user alice']);

    const text = await rawExchange(port, upgradeRequest({ path: '/?token=wrong' }));
    assert.strictEqual(text, 'HTTP/1.1 401 Unauthorized\r\n\r\n');
    assert.deepStrictEqual(socketErrors, []);
  });

  it('Server broadcast (to all clients, and to all others)', async function () {
    const wss = track.add(new WebSocketServer({ port: 0 }));
    wss.on('connection', function connection(ws) {
      ws.on('error', logError);
      ws.on('message', function message(data, isBinary) {
        const everyone = data.toString().startsWith('all:');
        wss.clients.forEach(function each(client) {
          if ((everyone || client !== ws) && client.readyState === WebSocket.OPEN) {
            client.send(data, { binary: isBinary });
          }
        });
      });
    });
    const port = await portOf(wss);
    const clients = [];
    for (let i = 0; i < 4; i++) clients.push(await open(`ws://127.0.0.1:${port}`));
    while (wss.clients.size < 4) await new Promise((r) => setImmediate(r));

    const inbox = clients.map(() => []);
    clients.forEach((c, i) => c.on('message', (data, isBinary) => inbox[i].push([data.toString(), isBinary])));
    const everyoneGets = (n) => Promise.all(clients.map((c, i) => waitFor(() => inbox[i].length >= n)));

    clients[0].send('all: hello');
    await everyoneGets(1);
    clients[1].send(Buffer.from('others'));
    // client 1 must not get its own message: make sure with a later broadcast to all.
    await Promise.all(clients.filter((_, i) => i !== 1).map((c) => waitFor(() => inbox[clients.indexOf(c)].length >= 2)));
    clients[2].send('all: bye');
    await Promise.all(clients.map((c, i) => waitFor(() => inbox[i].length >= (i === 1 ? 2 : 3))));
    for (let i = 0; i < 4; i++) {
      const expected = [['all: hello', false]];
      if (i !== 1) expected.push(['others', true]);
      expected.push(['all: bye', false]);
      assert.deepStrictEqual(inbox[i], expected, `client ${i}`);
    }
  });

  it('How to get the IP address of the client', async function () {
    const wss = track.add(new WebSocketServer({ port: 0 }));
    const ips = [];
    wss.on('connection', function connection(ws, req) {
      ws.on('error', logError);
      ips.push(req.socket.remoteAddress);
      // Behind a proxy:
      if (req.headers['x-forwarded-for']) ips.push(req.headers['x-forwarded-for'].split(',')[0].trim());
    });
    const port = await portOf(wss);
    await open(`ws://127.0.0.1:${port}`, { headers: { 'X-Forwarded-For': '203.0.113.7, 10.0.0.1' } });
    while (ips.length < 2) await new Promise((r) => setImmediate(r));
    assert.match(ips[0], /^(::ffff:)?127\.0\.0\.1$/);
    assert.strictEqual(ips[1], '203.0.113.7');
  });

  it('How to detect and close broken connections', async function () {
    function heartbeat() {
      this.isAlive = true;
    }
    const wss = track.add(new WebSocketServer({ port: 0 }));
    wss.on('connection', function connection(ws) {
      ws.isAlive = true;
      ws.on('error', logError);
      ws.on('pong', heartbeat);
    });
    // The README runs this every 30 s with setInterval; here each round is called by hand.
    function ping() {
      wss.clients.forEach(function each(ws) {
        if (ws.isAlive === false) return ws.terminate();
        ws.isAlive = false;
        ws.ping();
      });
    }
    const port = await portOf(wss);
    const healthy = await open(`ws://127.0.0.1:${port}`);
    const broken = await open(`ws://127.0.0.1:${port}`, { autoPong: false }); // never answers pings
    while (wss.clients.size < 2) await new Promise((r) => setImmediate(r));
    const [serverHealthy, serverBroken] = [...wss.clients];

    const brokenPinged = once(broken, 'ping');
    ping();
    await Promise.all([once(serverHealthy, 'pong'), brokenPinged]);
    assert.strictEqual(serverHealthy.isAlive, true);
    assert.strictEqual(serverBroken.isAlive, false);

    const brokenClosed = once(broken, 'close');
    ping();
    const [code] = await brokenClosed;
    assert.strictEqual(code, 1006);
    assert.strictEqual(wss.clients.size, 1);
    assert.ok(wss.clients.has(serverHealthy));
    await once(serverHealthy, 'pong');
    assert.strictEqual(healthy.readyState, WS.OPEN);
  });
});

/** Resolves once `condition()` holds, checking after each turn of the event loop. */
async function waitFor(condition) {
  while (!condition()) await new Promise((r) => setImmediate(r));
}
