'use strict';

// WebSocketServer: construction and options, the three modes (port | server | noServer), address(),
// client tracking, close() and the WebSocket subclass option. Real sockets, ws's client.

const assert = require('assert');
const http = require('http');
const net = require('net');
const WS = require('ws');
const { WebSocketServer, Server } = require('../../dist/lib/server');
const { WebSocket } = require('../../dist/lib/websocket');
const { Tracker, portOf, once, rawExchange, withoutDate, statusOf } = require('../support/server');

const ONE_OF = 'One and only one of the "port", "server", or "noServer" options must be specified';

describe('WebSocketServer', function () {
  const track = new Tracker();
  afterEach(() => track.closeAll());

  /** Opens a ws client to `port` and resolves once it is open. */
  async function connect(port, path = '/', protocols, options) {
    const client = track.add(new WS(`ws://127.0.0.1:${port}${path}`, protocols, options));
    await once(client, 'open');
    return client;
  }

  /** Sends `text` from `client` and resolves with the echo (the server must echo). */
  async function roundTrip(client, text) {
    const reply = once(client, 'message');
    client.send(text);
    const [data] = await reply;
    return data.toString();
  }

  function echo(ws) {
    ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
  }

  describe('constructor', function () {
    it('is exported as Server too', function () {
      assert.strictEqual(Server, WebSocketServer);
      const wss = new Server({ noServer: true });
      assert.ok(wss instanceof WebSocketServer);
      assert.ok(wss instanceof require('events').EventEmitter);
    });

    it('throws a TypeError unless exactly one of port, server and noServer is given', function () {
      const server = http.createServer();
      const bad = [
        {},
        undefined,
        { port: null },
        { noServer: false },
        { port: 0, server },
        { port: 0, noServer: true },
        { server, noServer: true },
        { port: 0, server, noServer: true },
      ];
      for (const options of bad) {
        assert.throws(
          () => new WebSocketServer(options),
          (err) => err instanceof TypeError && err.message === ONE_OF,
          JSON.stringify(options && Object.keys(options)),
        );
      }
      // `port: null` does not count, `server: null` neither.
      assert.doesNotThrow(() => new WebSocketServer({ port: null, noServer: true }));
      assert.doesNotThrow(() => new WebSocketServer({ server: null, noServer: true }));
      assert.doesNotThrow(() => new WebSocketServer({ server }));
    });

    it('merges the options over ws 8.23 defaults', function () {
      const wss = new WebSocketServer({ noServer: true });
      const o = wss.options;
      assert.strictEqual(o.allowSynchronousEvents, true);
      assert.strictEqual(o.autoPong, true);
      assert.strictEqual(o.backlog, null);
      assert.strictEqual(o.clientTracking, true);
      assert.strictEqual(o.closeTimeout, 30000);
      assert.strictEqual(o.handleProtocols, null);
      assert.strictEqual(o.host, null);
      assert.strictEqual(o.maxBufferedChunks, 262144);
      assert.strictEqual(o.maxFragments, 16384);
      assert.strictEqual(o.maxPendingAutoPongs, 60);
      assert.strictEqual(o.maxPayload, 104857600);
      assert.strictEqual(o.noServer, true);
      assert.strictEqual(o.path, null);
      assert.strictEqual(o.perMessageDeflate, false);
      assert.strictEqual(o.port, null);
      assert.strictEqual(o.server, null);
      assert.strictEqual(o.skipUTF8Validation, false);
      assert.strictEqual(o.verifyClient, null);
      assert.strictEqual(o.WebSocket, WebSocket);
      // Same keys as ws's merged options.
      const wsOptions = new WS.WebSocketServer({ noServer: true }).options;
      assert.deepStrictEqual(Object.keys(o).sort(), Object.keys(wsOptions).sort());
    });

    it('wss.path (typed by @types/ws, absent from ws): the path option, or \'\' when any path is accepted', function () {
      assert.strictEqual(new WebSocketServer({ noServer: true }).path, '');
      assert.strictEqual(new WebSocketServer({ noServer: true, path: '/chat' }).path, '/chat');
    });

    it('keeps given options, unknown ones included, and turns perMessageDeflate true into {}', function () {
      const verifyClient = () => true;
      const wss = new WebSocketServer({ noServer: true, maxPayload: 5, verifyClient, perMessageDeflate: true, custom: 1 });
      assert.strictEqual(wss.options.maxPayload, 5);
      assert.strictEqual(wss.options.verifyClient, verifyClient);
      assert.deepStrictEqual(wss.options.perMessageDeflate, {});
      assert.strictEqual(wss.options.custom, 1);
      const pmd = { threshold: 10 };
      assert.strictEqual(new WebSocketServer({ noServer: true, perMessageDeflate: pmd }).options.perMessageDeflate, pmd);
    });

    it('has a clients Set only with clientTracking', function () {
      assert.ok(new WebSocketServer({ noServer: true }).clients instanceof Set);
      const untracked = new WebSocketServer({ noServer: true, clientTracking: false });
      assert.strictEqual('clients' in untracked, false);
    });
  });

  describe('port mode', function () {
    it('creates an HTTP server, calls the callback and emits listening', async function () {
      let called = 0;
      const wss = track.add(new WebSocketServer({ port: 0, host: '127.0.0.1' }, () => called++));
      await once(wss, 'listening');
      assert.strictEqual(called, 1);
      const addr = wss.address();
      assert.strictEqual(addr.address, '127.0.0.1');
      assert.ok(addr.port > 0);
      assert.ok(wss._server instanceof http.Server);
    });

    it('accepts connections and echoes with ws as the client', async function () {
      const wss = track.add(new WebSocketServer({ port: 0 }));
      wss.on('connection', echo);
      const client = await connect(await portOf(wss));
      assert.strictEqual(await roundTrip(client, 'hello'), 'hello');
    });

    it('answers plain HTTP requests with 426, byte for byte as ws does', async function () {
      const ours = track.add(new WebSocketServer({ port: 0 }));
      const theirs = track.add(new WS.WebSocketServer({ port: 0 }));
      const request = 'GET /anything HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n';
      const a = await rawExchange(await portOf(ours), request);
      const b = await rawExchange(await portOf(theirs), request);
      assert.strictEqual(statusOf(a), 426);
      assert.match(a, /\r\nContent-Type: text\/plain\r\n/);
      assert.ok(a.endsWith('\r\n\r\nUpgrade Required'));
      assert.strictEqual(withoutDate(a), withoutDate(b));
      // And through Node's client: status, type, body.
      const res = await new Promise((resolve) => http.get(`http://127.0.0.1:${ours.address().port}/`, resolve));
      let body = '';
      res.on('data', (d) => (body += d));
      await once(res, 'end');
      assert.strictEqual(res.statusCode, 426);
      assert.strictEqual(res.headers['content-type'], 'text/plain');
      assert.strictEqual(body, 'Upgrade Required');
    });

    it("re-emits the HTTP server's errors (port in use)", async function () {
      const first = track.add(new WebSocketServer({ port: 0, host: '127.0.0.1' }));
      const port = await portOf(first);
      const second = track.add(new WebSocketServer({ port, host: '127.0.0.1' }));
      const [err] = await once(second, 'error');
      assert.strictEqual(err.code, 'EADDRINUSE');
    });

    it('passes backlog to listen (a small backlog still accepts)', async function () {
      const wss = track.add(new WebSocketServer({ port: 0, backlog: 1 }));
      assert.strictEqual(wss.options.backlog, 1);
      wss.on('connection', echo);
      const client = await connect(await portOf(wss));
      assert.strictEqual(await roundTrip(client, 'b'), 'b');
    });
  });

  describe('server mode', function () {
    it("handles the server's upgrades and re-emits listening and error", async function () {
      const server = track.add(http.createServer((req, res) => res.end('plain')));
      const wss = new WebSocketServer({ server });
      assert.strictEqual(server.listenerCount('upgrade'), 1);
      let listening = 0;
      wss.on('listening', () => listening++);
      server.listen(0, '127.0.0.1');
      await once(server, 'listening');
      assert.strictEqual(listening, 1);
      assert.deepStrictEqual(wss.address(), server.address());
      wss.on('connection', echo);
      const client = await connect(server.address().port);
      assert.strictEqual(await roundTrip(client, 'srv'), 'srv');
      // Plain requests are the server's own business.
      const text = await rawExchange(server.address().port, 'GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
      assert.strictEqual(statusOf(text), 200);
      const error = new Error('boom');
      const seen = once(wss, 'error');
      server.emit('error', error);
      assert.strictEqual((await seen)[0], error);
    });

    it('does not take a callback (it is for port mode only)', function () {
      const server = http.createServer();
      let called = false;
      new WebSocketServer({ server }, () => (called = true)); // eslint-disable-line no-new
      server.emit('listening');
      assert.strictEqual(called, false);
    });
  });

  describe('noServer mode', function () {
    it('address() throws', function () {
      const wss = new WebSocketServer({ noServer: true });
      assert.throws(() => wss.address(), { message: 'The server is operating in "noServer" mode' });
    });

    it('upgrades what the application hands to handleUpgrade', async function () {
      const server = track.add(http.createServer());
      const wss = track.add(new WebSocketServer({ noServer: true }));
      server.on('upgrade', (req, socket, head) => {
        wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
      });
      wss.on('connection', echo);
      server.listen(0, '127.0.0.1');
      const client = await connect(await portOf(server));
      assert.strictEqual(await roundTrip(client, 'ns'), 'ns');
    });
  });

  describe('clientTracking', function () {
    it('adds each connection to clients and removes it once closed', async function () {
      const wss = track.add(new WebSocketServer({ port: 0 }));
      const port = await portOf(wss);
      const serverSide = [];
      wss.on('connection', (ws) => {
        assert.ok(wss.clients.has(ws), 'tracked before the connection event');
        serverSide.push(ws);
      });
      const a = await connect(port);
      const b = await connect(port);
      await new Promise((r) => setImmediate(r));
      assert.strictEqual(wss.clients.size, 2);
      assert.deepStrictEqual([...wss.clients], serverSide);
      a.close();
      await once(serverSide[0], 'close');
      assert.strictEqual(wss.clients.size, 1);
      assert.ok(wss.clients.has(serverSide[1]));
      b.terminate();
      await once(serverSide[1], 'close');
      assert.strictEqual(wss.clients.size, 0);
    });

    it('tracks nothing with clientTracking false', async function () {
      const wss = track.add(new WebSocketServer({ port: 0, clientTracking: false }));
      wss.on('connection', echo);
      const client = await connect(await portOf(wss));
      assert.strictEqual(await roundTrip(client, 'x'), 'x');
      assert.strictEqual(wss.clients, undefined);
    });
  });

  describe('close()', function () {
    it('port mode: closes the internal server, emits close once every connection is gone', async function () {
      const wss = new WebSocketServer({ port: 0 });
      const port = await portOf(wss);
      const serverSide = [];
      wss.on('connection', (ws) => {
        serverSide.push(ws);
        echo(ws);
      });
      const client = await connect(port);
      const events = [];
      wss.on('close', () => events.push('event'));
      const closed = new Promise((resolve) => wss.close((...args) => resolve(args)));
      assert.strictEqual(wss.address(), null);
      // Existing clients are not closed, and keep working.
      assert.strictEqual(await roundTrip(client, 'still'), 'still');
      assert.strictEqual(serverSide[0].readyState, WebSocket.OPEN);
      assert.deepStrictEqual(events, []);
      // New connections are refused: the listener is gone.
      const refused = await new Promise((resolve) => {
        const s = net.connect(port, '127.0.0.1');
        s.on('error', (err) => resolve(err.code));
        s.on('connect', () => {
          s.destroy();
          resolve('connected');
        });
      });
      assert.strictEqual(refused, 'ECONNREFUSED');
      client.close();
      assert.deepStrictEqual(await closed, []);
      assert.deepStrictEqual(events, ['event']);
      assert.strictEqual(wss._server, null);
    });

    it('calls back with "The server is not running" when already closed', async function () {
      const wss = new WebSocketServer({ noServer: true });
      await new Promise((resolve) => wss.close(resolve));
      let events = 0;
      wss.on('close', () => events++);
      const [err] = await new Promise((resolve) => wss.close((...args) => resolve(args)));
      assert.ok(err instanceof Error);
      assert.strictEqual(err.message, 'The server is not running');
      assert.strictEqual(events, 1, "'close' is emitted again");
      // Without a callback it still emits, and does not throw.
      wss.close();
      await once(wss, 'close');
    });

    it('called twice while closing: both callbacks get no error', async function () {
      const wss = new WebSocketServer({ port: 0 });
      await portOf(wss);
      const results = await Promise.all([
        new Promise((resolve) => wss.close((...a) => resolve(a))),
        new Promise((resolve) => wss.close((...a) => resolve(a))),
      ]);
      assert.deepStrictEqual(results, [[], []]);
    });

    it('server mode: leaves the HTTP server running, detaches, emits close after the last client', async function () {
      const server = track.add(http.createServer((req, res) => res.end('ok')));
      server.listen(0, '127.0.0.1');
      const port = await portOf(server);
      const before = ['upgrade', 'listening', 'error'].map((e) => server.listenerCount(e));
      const wss = new WebSocketServer({ server });
      assert.deepStrictEqual(['upgrade', 'listening', 'error'].map((e) => server.listenerCount(e)), before.map((n) => n + 1));
      const serverSide = [];
      wss.on('connection', (ws) => {
        serverSide.push(ws);
        echo(ws);
      });
      const client = await connect(port);
      let closed = false;
      const done = new Promise((resolve) =>
        wss.close(() => {
          closed = true;
          resolve();
        }),
      );
      assert.deepStrictEqual(['upgrade', 'listening', 'error'].map((e) => server.listenerCount(e)), before);
      assert.strictEqual(server.listening, true);
      assert.strictEqual(await roundTrip(client, 'alive'), 'alive');
      await new Promise((r) => setImmediate(r));
      assert.strictEqual(closed, false, "'close' waits for the tracked client");
      client.close();
      await done;
      assert.strictEqual(wss.clients.size, 0);
      assert.strictEqual(statusOf(await rawExchange(port, 'GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')), 200);
    });

    it('server mode without clients (or without tracking) emits close on the next tick', async function () {
      for (const clientTracking of [true, false]) {
        const server = http.createServer();
        const wss = new WebSocketServer({ server, clientTracking });
        let closed = false;
        wss.close(() => (closed = true));
        assert.strictEqual(closed, false, 'not synchronously');
        await new Promise((r) => process.nextTick(r));
        assert.strictEqual(closed, true);
      }
    });

    it('clientTracking false in server mode: close does not wait for clients', async function () {
      const server = track.add(http.createServer());
      server.listen(0, '127.0.0.1');
      const wss = new WebSocketServer({ server, clientTracking: false });
      wss.on('connection', echo);
      const client = await connect(await portOf(server));
      await new Promise((resolve) => wss.close(resolve));
      assert.strictEqual(client.readyState, WS.OPEN);
      assert.strictEqual(await roundTrip(client, 'after'), 'after');
    });

    it('answers later handshakes with 503', async function () {
      const server = track.add(http.createServer());
      const wss = new WebSocketServer({ noServer: true });
      server.on('upgrade', (req, socket, head) => {
        wss.handleUpgrade(req, socket, head, () => assert.fail('must not connect'));
      });
      server.listen(0, '127.0.0.1');
      const port = await portOf(server);
      await new Promise((resolve) => wss.close(resolve));
      const client = track.add(new WS(`ws://127.0.0.1:${port}`));
      const [, res] = await once(client, 'unexpected-response');
      assert.strictEqual(res.statusCode, 503);
      let body = '';
      res.on('data', (d) => (body += d));
      await once(res, 'end');
      assert.strictEqual(body, 'Service Unavailable');
    });
  });

  describe('the WebSocket option', function () {
    it('instantiates the given subclass with the server options', async function () {
      const constructed = [];
      class Tagged extends WebSocket {
        constructor(address, protocols, options) {
          super(address, protocols, options);
          constructed.push([address, protocols, options]);
          this.tag = 'tagged';
        }
        shout(text) {
          this.send(text.toUpperCase());
        }
      }
      const wss = track.add(new WebSocketServer({ port: 0, WebSocket: Tagged }));
      const [[ws], client] = await Promise.all([once(wss, 'connection'), portOf(wss).then((port) => connect(port))]);
      assert.ok(ws instanceof Tagged);
      assert.ok(ws instanceof WebSocket);
      assert.strictEqual(ws.tag, 'tagged');
      assert.deepStrictEqual(constructed, [[null, undefined, wss.options]]);
      const got = once(client, 'message');
      ws.shout('hey');
      assert.strictEqual((await got)[0].toString(), 'HEY');
    });

    it('hands autoPong, allowSynchronousEvents and closeTimeout to the constructor', async function () {
      const wss = track.add(new WebSocketServer({ port: 0, closeTimeout: 1234, autoPong: false, allowSynchronousEvents: false }));
      const [[ws]] = await Promise.all([once(wss, 'connection'), portOf(wss).then((p) => connect(p))]);
      assert.strictEqual(ws._closeTimeout, 1234);
      assert.strictEqual(ws._autoPong, false);
      assert.strictEqual(ws._allowSynchronousEvents, false);
    });
  });
});
