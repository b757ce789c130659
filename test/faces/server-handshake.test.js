'use strict';

// WebSocketServer's opening handshake (RFC 6455 §4.2): every rejection status and message compared
// byte for byte with ws 8.23's server, path/shouldHandle, verifyClient (sync and async), handleProtocols,
// the 'headers' and 'wsClientError' events, handleUpgrade on an http.Server, on TLS and on a plain
// Duplex, and requests no HTTP parser should accept. Real sockets only.

const assert = require('assert');
const http = require('http');
const https = require('https');
const net = require('net');
const WS = require('ws');
const { WebSocketServer } = require('../../dist/lib/server');
const { WebSocket } = require('../../dist/lib/websocket');
const {
  TLS,
  RFC_KEY,
  RFC_ACCEPT,
  Tracker,
  portOf,
  once,
  upgradeRequest,
  rawExchange,
  statusOf,
  withoutDate,
  rawClient,
  framesFrom,
  duplexPair,
  fakeRequest,
  assertHttpError,
} = require('../support/server');
const { frame, FrameReader } = require('../support/frames');

describe('WebSocketServer handshake', function () {
  const track = new Tracker();
  afterEach(() => track.closeAll());

  function echo(ws) {
    ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
  }

  async function connect(url, protocols, options) {
    const client = track.add(new WS(url, protocols, options));
    await once(client, 'open');
    return client;
  }

  async function roundTrip(client, text) {
    const reply = once(client, 'message');
    client.send(text);
    const [data] = await reply;
    return data.toString();
  }

  /** A weft server and a ws server with the same options, both in port mode; resolves their ports. */
  async function pair(options = {}) {
    const ours = track.add(new WebSocketServer({ port: 0, host: '127.0.0.1', ...options }));
    const theirs = track.add(new WS.WebSocketServer({ port: 0, host: '127.0.0.1', ...options }));
    for (const wss of [ours, theirs]) wss.on('connection', (ws) => track.add(ws));
    return { ours: await portOf(ours), theirs: await portOf(theirs), wssOurs: ours, wssTheirs: theirs };
  }

  describe('rejections and acceptances, byte for byte as ws', function () {
    const key = (k) => upgradeRequest({ headers: { 'Sec-WebSocket-Key': k } });
    const version = (v) => upgradeRequest({ headers: { 'Sec-WebSocket-Version': v } });
    const protocol = (p) => upgradeRequest({ headers: { 'Sec-WebSocket-Protocol': p } });
    const cases = [
      // [name, request, expected status, expected body (rejections)]
      ['a valid version 13 request', upgradeRequest(), 101],
      ['version 8', version('8'), 101],
      ['Upgrade in another case', upgradeRequest({ headers: { Upgrade: 'WebSocket' } }), 101],
      ['Connection listing upgrade among others', upgradeRequest({ headers: { Connection: 'keep-alive, Upgrade' } }), 101],
      ['version written as 13.0 (ws coerces with +)', version('13.0'), 101],
      ['subprotocols (first one selected)', protocol('chat, superchat'), 101],
      ['a malformed extensions header (ignored without permessage-deflate)', upgradeRequest({ headers: { 'Sec-WebSocket-Extensions': ';;;' } }), 101],
      ['a query string', upgradeRequest({ path: '/x?y=1' }), 101],
      ['POST', upgradeRequest({ method: 'POST' }), 405, 'Invalid HTTP method'],
      ['PUT', upgradeRequest({ method: 'PUT' }), 405, 'Invalid HTTP method'],
      ['Upgrade: h2c', upgradeRequest({ headers: { Upgrade: 'h2c' } }), 400, 'Invalid Upgrade header'],
      ['Upgrade listing two protocols', upgradeRequest({ headers: { Upgrade: 'websocket, h2c' } }), 400, 'Invalid Upgrade header'],
      ['no Sec-WebSocket-Key', key(null), 400, 'Missing or invalid Sec-WebSocket-Key header'],
      ['a short key', key('dGhlIHNhbXBsZSBub25jZQ='), 400, 'Missing or invalid Sec-WebSocket-Key header'],
      ['a key of 16 bytes not ending in ==', key('dGhlIHNhbXBsZSBub25jZQ=x'), 400, 'Missing or invalid Sec-WebSocket-Key header'],
      ['a key with a non-base64 character', key('dGhlIHNhbXBsZSBub25jZ-==') , 400, 'Missing or invalid Sec-WebSocket-Key header'],
      ['two keys', key([RFC_KEY, RFC_KEY]), 400, 'Missing or invalid Sec-WebSocket-Key header'],
      ['no version', version(null), 400, 'Missing or invalid Sec-WebSocket-Version header'],
      ['version 12', version('12'), 400, 'Missing or invalid Sec-WebSocket-Version header'],
      ['an empty version', version(''), 400, 'Missing or invalid Sec-WebSocket-Version header'],
      ['an empty subprotocol', protocol('a,,b'), 400, 'Invalid Sec-WebSocket-Protocol header'],
      ['a duplicated subprotocol', protocol('a, a'), 400, 'Invalid Sec-WebSocket-Protocol header'],
      ['a subprotocol with a space inside', protocol('a b'), 400, 'Invalid Sec-WebSocket-Protocol header'],
      ['a plain GET (no upgrade)', 'GET / HTTP/1.1\r\nHost: x\r\n\r\n', 426, 'Upgrade Required'],
      ['Upgrade without Connection: upgrade', upgradeRequest({ headers: { Connection: 'keep-alive' } }), 426, 'Upgrade Required'],
      ['no Host header (Node does not insist on upgrades)', upgradeRequest({ headers: { Host: null } }), 101],
      ['a header line without a colon', 'GET / HTTP/1.1\r\nHost: x\r\nConnection Upgrade\r\n\r\n', 400],
      ['a request line of garbage', '\x00\x01\x02 garbage\r\n\r\n', 400],
      ['an invalid HTTP version', 'GET / HTTP/9.9\r\nHost: x\r\n\r\n', 400],
      ['one oversized header', upgradeRequest({ headers: { 'X-Big': 'a'.repeat(20000) } }), 431],
      ['too many headers', upgradeRequest({ headers: { 'X-Many': new Array(5000).fill('b') } }), 431],
      // Node's HTTP parser decides: Node 20+ rejects a bare LF, Node 18's accepts it (then: no upgrade).
      ['a bare LF where CRLF belongs', 'GET / HTTP/1.1\nHost: x\r\n\r\n', Number(process.versions.node.split('.')[0]) >= 20 ? 400 : 426],
    ];

    for (const [name, request, status, body] of cases) {
      it(`${name} → ${status}`, async function () {
        const { ours, theirs } = await pair();
        const a = await rawExchange(ours, request);
        const b = await rawExchange(theirs, request);
        assert.strictEqual(statusOf(a), statusOf(b), `ws answered ${JSON.stringify(b)}`);
        assert.strictEqual(statusOf(a), status, JSON.stringify(a));
        if (body !== undefined) assertHttpError(a, status, body);
        assert.strictEqual(withoutDate(a), withoutDate(b));
      });
    }

    it('a wrong version carries Sec-WebSocket-Version: 13, 8', async function () {
      const { ours } = await pair();
      const text = await rawExchange(ours, upgradeRequest({ headers: { 'Sec-WebSocket-Version': '7' } }));
      assert.match(text, /\r\nSec-WebSocket-Version: 13, 8\r\n/);
    });

    it('the 101 carries the RFC 6455 §1.3 accept value and the selected subprotocol', async function () {
      const { ours } = await pair();
      const text = await rawExchange(ours, upgradeRequest({ headers: { 'Sec-WebSocket-Protocol': 'chat, superchat' } }));
      assert.strictEqual(
        text,
        'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
          `Sec-WebSocket-Accept: ${RFC_ACCEPT}\r\nSec-WebSocket-Protocol: chat\r\n\r\n`,
      );
    });

    it('with perMessageDeflate on, a malformed extensions header is a 400 as in ws', async function () {
      const { ours, theirs } = await pair({ perMessageDeflate: true });
      const request = upgradeRequest({ headers: { 'Sec-WebSocket-Extensions': 'permessage-deflate; =x' } });
      const a = await rawExchange(ours, request);
      assertHttpError(a, 400, 'Invalid or unacceptable Sec-WebSocket-Extensions header');
      assert.strictEqual(withoutDate(a), withoutDate(await rawExchange(theirs, request)));
    });

    it('never crashes on a socket reset during the handshake', async function () {
      const wss = track.add(new WebSocketServer({ noServer: true }));
      const server = track.add(http.createServer());
      let release;
      const verifying = new Promise((resolve) => {
        wss.options.verifyClient = (info, cb) => {
          release = () => cb(true);
          resolve();
        };
      });
      let connected = false;
      let upgradeSocket;
      server.on('upgrade', (req, socket, head) => {
        upgradeSocket = socket;
        wss.handleUpgrade(req, socket, head, () => (connected = true));
      });
      server.listen(0, '127.0.0.1');
      const socket = net.connect(await portOf(server), '127.0.0.1', () => socket.write(upgradeRequest()));
      socket.on('error', () => {});
      await verifying;
      socket.resetAndDestroy();
      await once(upgradeSocket, 'close');
      assert.strictEqual(upgradeSocket.destroyed, true);
      release(); // verifyClient answers after the socket is gone: destroyed, no connection
      assert.strictEqual(connected, false);
    });
  });

  describe('path and shouldHandle', function () {
    it('accepts the path with or without a query, rejects others with 400 Bad Request', async function () {
      const wss = track.add(new WebSocketServer({ port: 0, path: '/echo' }));
      wss.on('connection', echo);
      const port = await portOf(wss);
      const base = `ws://127.0.0.1:${port}`;
      assert.strictEqual(await roundTrip(await connect(`${base}/echo`), 'a'), 'a');
      assert.strictEqual(await roundTrip(await connect(`${base}/echo?x=1&y=/other`), 'b'), 'b');
      for (const path of ['/', '/echo/', '/echoes', '/Echo', '/other?/echo']) {
        assertHttpError(await rawExchange(port, upgradeRequest({ path })), 400, 'Bad Request');
      }
    });

    it("a shouldHandle rejection is written even when wsClientError is listened (as ws)", async function () {
      const wss = track.add(new WebSocketServer({ port: 0, path: '/p' }));
      wss.on('wsClientError', () => assert.fail('not reported'));
      assertHttpError(await rawExchange(await portOf(wss), upgradeRequest({ path: '/q' })), 400, 'Bad Request');
    });

    it('can be overridden by a subclass or by assignment, and is called with the request', async function () {
      const seen = [];
      class Picky extends WebSocketServer {
        shouldHandle(req) {
          seen.push(req.url);
          return req.headers['x-let-me-in'] === 'yes';
        }
      }
      const wss = track.add(new Picky({ port: 0 }));
      wss.on('connection', echo);
      const port = await portOf(wss);
      assertHttpError(await rawExchange(port, upgradeRequest({ path: '/a' })), 400, 'Bad Request');
      const client = await connect(`ws://127.0.0.1:${port}/b`, { headers: { 'X-Let-Me-In': 'yes' } });
      assert.strictEqual(await roundTrip(client, 'in'), 'in');
      assert.deepStrictEqual(seen, ['/a', '/b']);

      const other = track.add(new WebSocketServer({ port: 0 }));
      other.shouldHandle = (req) => req.url === '/only';
      const otherPort = await portOf(other);
      assertHttpError(await rawExchange(otherPort, upgradeRequest({ path: '/' })), 400, 'Bad Request');
      assert.strictEqual(statusOf(await rawExchange(otherPort, upgradeRequest({ path: '/only' }))), 101);
    });

    it('is consulted after the version check and before the subprotocol check (ws order)', async function () {
      const wss = track.add(new WebSocketServer({ port: 0, path: '/p' }));
      const port = await portOf(wss);
      const badVersion = upgradeRequest({ path: '/q', headers: { 'Sec-WebSocket-Version': '1' } });
      assertHttpError(await rawExchange(port, badVersion), 400, 'Missing or invalid Sec-WebSocket-Version header');
      const badProtocol = upgradeRequest({ path: '/q', headers: { 'Sec-WebSocket-Protocol': 'a,,' } });
      assertHttpError(await rawExchange(port, badProtocol), 400, 'Bad Request');
    });
  });

  describe('verifyClient', function () {
    it('sync: true connects, false answers 401 Unauthorized', async function () {
      const infos = [];
      const wss = track.add(
        new WebSocketServer({
          port: 0,
          verifyClient: (info) => {
            infos.push(info);
            return info.req.url === '/ok';
          },
        }),
      );
      wss.on('connection', echo);
      const port = await portOf(wss);
      assert.strictEqual(await roundTrip(await connect(`ws://127.0.0.1:${port}/ok`, { origin: 'http://good.example' }), 'v'), 'v');
      assert.strictEqual(infos[0].origin, 'http://good.example');
      assert.strictEqual(infos[0].secure, false);
      assert.strictEqual(infos[0].req.url, '/ok');
      assert.ok(infos[0].req instanceof http.IncomingMessage);
      assert.deepStrictEqual(Object.keys(infos[0]).sort(), ['origin', 'req', 'secure']);
      const text = await rawExchange(port, upgradeRequest({ path: '/no' }));
      assertHttpError(text, 401, 'Unauthorized');
      assert.match(text, /^HTTP\/1\.1 401 Unauthorized\r\nConnection: close\r\nContent-Type: text\/html\r\nContent-Length: 12\r\n\r\n/);
    });

    it('reads the origin from Origin for version 13 and Sec-WebSocket-Origin for version 8', async function () {
      const origins = [];
      const wss = track.add(new WebSocketServer({ port: 0, verifyClient: (info) => origins.push(info.origin) > 0 }));
      const port = await portOf(wss);
      const both = { Origin: 'http://v13', 'Sec-WebSocket-Origin': 'http://v8' };
      await rawExchange(port, upgradeRequest({ headers: both }));
      await rawExchange(port, upgradeRequest({ headers: { ...both, 'Sec-WebSocket-Version': '8' } }));
      await rawExchange(port, upgradeRequest());
      assert.deepStrictEqual(origins, ['http://v13', 'http://v8', undefined]);
    });

    it('async: the callback decides, with a custom status, message and headers', async function () {
      const wss = track.add(
        new WebSocketServer({
          port: 0,
          verifyClient: (info, cb) => {
            const url = info.req.url;
            setImmediate(() => {
              if (url === '/ok') cb(true);
              else if (url === '/custom') cb(false, 403, 'Go away', { 'X-Reason': 'policy', 'Retry-After': 5 });
              else if (url === '/code-only') cb(false, 429);
              else cb(false);
            });
          },
        }),
      );
      wss.on('connection', echo);
      const port = await portOf(wss);
      assert.strictEqual(await roundTrip(await connect(`ws://127.0.0.1:${port}/ok`), 'async'), 'async');
      assert.strictEqual(
        await rawExchange(port, upgradeRequest({ path: '/custom' })),
        'HTTP/1.1 403 Forbidden\r\nConnection: close\r\nContent-Type: text/html\r\nContent-Length: 7\r\n' +
          'X-Reason: policy\r\nRetry-After: 5\r\n\r\nGo away',
      );
      assertHttpError(await rawExchange(port, upgradeRequest({ path: '/code-only' })), 429, 'Too Many Requests');
      assertHttpError(await rawExchange(port, upgradeRequest({ path: '/no' })), 401, 'Unauthorized');
      // And ws's client sees the status.
      const client = track.add(new WS(`ws://127.0.0.1:${port}/custom`));
      const [, res] = await once(client, 'unexpected-response');
      assert.strictEqual(res.statusCode, 403);
      assert.strictEqual(res.headers['x-reason'], 'policy');
      res.resume();
    });

    it('responses match ws for the same verifyClient', async function () {
      const verifyClient = (info, cb) => cb(info.req.url === '/ok', 451, undefined, { 'X-A': 'b' });
      const { ours, theirs } = await pair({ verifyClient });
      for (const path of ['/ok', '/no']) {
        const request = upgradeRequest({ path });
        assert.strictEqual(withoutDate(await rawExchange(ours, request)), withoutDate(await rawExchange(theirs, request)));
      }
    });

    it('async: a server closed meanwhile answers 503', async function () {
      let release;
      const wss = new WebSocketServer({
        noServer: true,
        verifyClient: (info, cb) => {
          release = () => cb(true);
        },
      });
      const server = track.add(http.createServer());
      server.on('upgrade', (req, socket, head) => wss.handleUpgrade(req, socket, head, () => assert.fail('no')));
      server.listen(0, '127.0.0.1');
      const port = await portOf(server);
      const response = rawExchange(port, upgradeRequest());
      while (release === undefined) await new Promise((r) => setImmediate(r));
      await new Promise((resolve) => wss.close(resolve));
      release();
      assertHttpError(await response, 503, 'Service Unavailable');
    });

    it('is not consulted for requests that fail the handshake checks', async function () {
      let calls = 0;
      const wss = track.add(new WebSocketServer({ port: 0, verifyClient: () => ++calls > 0 }));
      const port = await portOf(wss);
      await rawExchange(port, upgradeRequest({ method: 'POST' }));
      await rawExchange(port, upgradeRequest({ headers: { 'Sec-WebSocket-Protocol': ',' } }));
      assert.strictEqual(calls, 0);
      await rawExchange(port, upgradeRequest());
      assert.strictEqual(calls, 1);
    });
  });

  describe('handleProtocols', function () {
    it('defaults to the first offered subprotocol', async function () {
      const wss = track.add(new WebSocketServer({ port: 0 }));
      const [[ws], client] = await Promise.all([
        once(wss, 'connection'),
        portOf(wss).then((p) => connect(`ws://127.0.0.1:${p}`, ['b', 'a'])),
      ]);
      assert.strictEqual(ws.protocol, 'b');
      assert.strictEqual(client.protocol, 'b');
    });

    it('is given the offered Set (in order) and the request, and its choice is used', async function () {
      const calls = [];
      const wss = track.add(
        new WebSocketServer({
          port: 0,
          handleProtocols: (protocols, req) => {
            calls.push([protocols, req.url]);
            return protocols.has('json') ? 'json' : false;
          },
        }),
      );
      const port = await portOf(wss);
      const [[ws], client] = await Promise.all([
        once(wss, 'connection'),
        connect(`ws://127.0.0.1:${port}/p`, ['xml', 'json']),
      ]);
      assert.ok(calls[0][0] instanceof Set);
      assert.deepStrictEqual([...calls[0][0]], ['xml', 'json']);
      assert.strictEqual(calls[0][1], '/p');
      assert.strictEqual(ws.protocol, 'json');
      assert.strictEqual(client.protocol, 'json');
    });

    it('false selects none: no Sec-WebSocket-Protocol header, protocol is empty', async function () {
      const wss = track.add(new WebSocketServer({ port: 0, handleProtocols: () => false }));
      const seen = once(wss, 'connection');
      const port = await portOf(wss);
      const text = await rawExchange(port, upgradeRequest({ headers: { 'Sec-WebSocket-Protocol': 'a' } }));
      assert.strictEqual(statusOf(text), 101);
      assert.doesNotMatch(text, /Sec-WebSocket-Protocol/i);
      assert.strictEqual((await seen)[0].protocol, '');
    });

    it('is not called when no subprotocol is offered', async function () {
      let called = false;
      const wss = track.add(new WebSocketServer({ port: 0, handleProtocols: () => (called = true) }));
      const port = await portOf(wss);
      const [[ws]] = await Promise.all([once(wss, 'connection'), connect(`ws://127.0.0.1:${port}`)]);
      assert.strictEqual(called, false);
      assert.strictEqual(ws.protocol, '');
    });
  });

  describe("the 'headers' event", function () {
    it('gets the mutable 101 lines and the request; pushed lines go out', async function () {
      const wss = track.add(new WebSocketServer({ port: 0 }));
      let seen;
      wss.on('headers', (lines, req) => {
        seen = [lines.slice(), req.url];
        lines.push('Set-Cookie: session=abc');
        lines.push('X-Powered-By: weft');
      });
      const port = await portOf(wss);
      const client = track.add(new WS(`ws://127.0.0.1:${port}/h`));
      const opened = once(client, 'open');
      const [res] = await once(client, 'upgrade');
      assert.deepStrictEqual(seen, [
        [
          'HTTP/1.1 101 Switching Protocols',
          'Upgrade: websocket',
          'Connection: Upgrade',
          `Sec-WebSocket-Accept: ${res.headers['sec-websocket-accept']}`,
        ],
        '/h',
      ]);
      assert.deepStrictEqual(res.headers['set-cookie'], ['session=abc']);
      assert.strictEqual(res.headers['x-powered-by'], 'weft');
      await opened;
    });
  });

  describe("the 'wsClientError' event", function () {
    const bad = [
      [upgradeRequest({ method: 'POST' }), 'Invalid HTTP method'],
      [upgradeRequest({ headers: { Upgrade: 'nope' } }), 'Invalid Upgrade header'],
      [upgradeRequest({ headers: { 'Sec-WebSocket-Key': 'short' } }), 'Missing or invalid Sec-WebSocket-Key header'],
      [upgradeRequest({ headers: { 'Sec-WebSocket-Version': '99' } }), 'Missing or invalid Sec-WebSocket-Version header'],
      [upgradeRequest({ headers: { 'Sec-WebSocket-Protocol': '"' } }), 'Invalid Sec-WebSocket-Protocol header'],
    ];

    it('reports each handshake check failure instead of answering it; the listener owns the socket', async function () {
      const wss = track.add(new WebSocketServer({ port: 0 }));
      const reported = [];
      wss.on('wsClientError', (err, socket, req) => {
        reported.push([err.constructor, err.message, socket instanceof net.Socket, req.method]);
        socket.end('HTTP/1.1 418 I\'m a Teapot\r\nConnection: close\r\nContent-Length: 6\r\n\r\nteapot');
      });
      const port = await portOf(wss);
      for (const [request, message] of bad) {
        const text = await rawExchange(port, request);
        assert.strictEqual(text, "HTTP/1.1 418 I'm a Teapot\r\nConnection: close\r\nContent-Length: 6\r\n\r\nteapot");
        const last = reported[reported.length - 1];
        assert.deepStrictEqual(last, [Error, message, true, request.split(' ')[0]]);
      }
      assert.strictEqual(reported.length, bad.length);
    });

    it('reports the extensions header failure with perMessageDeflate on', async function () {
      const wss = track.add(new WebSocketServer({ port: 0, perMessageDeflate: true }));
      const messages = [];
      wss.on('wsClientError', (err, socket) => {
        messages.push(err.message);
        socket.destroy();
      });
      await rawExchange(await portOf(wss), upgradeRequest({ headers: { 'Sec-WebSocket-Extensions': 'x;' } }));
      assert.deepStrictEqual(messages, ['Invalid or unacceptable Sec-WebSocket-Extensions header']);
    });

    it('is not emitted for verifyClient rejections (written as ws does)', async function () {
      const wss = track.add(new WebSocketServer({ port: 0, verifyClient: () => false }));
      wss.on('wsClientError', () => assert.fail('not reported'));
      assertHttpError(await rawExchange(await portOf(wss), upgradeRequest()), 401, 'Unauthorized');
    });
  });

  describe('handleUpgrade', function () {
    it('on an existing http.Server with routes (the Express pattern)', async function () {
      const server = track.add(
        http.createServer((req, res) => {
          const body = `page ${req.url}`;
          res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': body.length });
          res.end(body);
        }),
      );
      const wss = track.add(new WebSocketServer({ noServer: true }));
      wss.on('connection', (ws, req) => {
        ws.send(`hello ${req.url}`);
        echo(ws);
      });
      server.on('upgrade', (req, socket, head) => {
        if (new URL(req.url, 'http://x').pathname === '/live') {
          wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
        } else {
          socket.destroy();
        }
      });
      server.listen(0, '127.0.0.1');
      const port = await portOf(server);
      const page = await rawExchange(port, 'GET /home HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
      assert.ok(page.endsWith('\r\n\r\npage /home'), page);
      const client = track.add(new WS(`ws://127.0.0.1:${port}/live?room=1`));
      const [greeting] = await once(client, 'message');
      assert.strictEqual(greeting.toString(), 'hello /live?room=1');
      assert.strictEqual(await roundTrip(client, 'routed'), 'routed');
      const refused = track.add(new WS(`ws://127.0.0.1:${port}/elsewhere`));
      const [err] = await once(refused, 'error');
      assert.strictEqual(err.code, 'ECONNRESET');
    });

    it('writes head bytes that arrived with the request to the connection', async function () {
      const wss = track.add(new WebSocketServer({ port: 0 }));
      wss.on('connection', echo);
      const port = await portOf(wss);
      const { socket, head, reader } = await rawClient(
        port,
        Buffer.concat([Buffer.from(upgradeRequest()), frame({ opcode: 1, payload: 'early' }), frame({ opcode: 2, payload: 'bird' })]),
      );
      track.add(socket);
      assert.match(head, /^HTTP\/1\.1 101 /);
      const frames = await framesFrom(socket, reader, 2);
      assert.deepStrictEqual(
        frames.map((f) => [f.opcode, f.payload.toString(), f.masked]),
        [
          [1, 'early', false],
          [2, 'bird', false],
        ],
      );
    });

    it('throws when called twice with the same socket', async function () {
      const server = track.add(http.createServer());
      const wss = track.add(new WebSocketServer({ noServer: true }));
      const thrown = new Promise((resolve) => {
        server.on('upgrade', (req, socket, head) => {
          let connections = 0;
          wss.handleUpgrade(req, socket, head, (ws) => {
            connections++;
            track.add(ws);
          });
          try {
            wss.handleUpgrade(req, socket, head, () => connections++);
            resolve(['no throw', connections]);
          } catch (err) {
            resolve([err.message, connections]);
          }
        });
      });
      server.listen(0, '127.0.0.1');
      const client = track.add(new WS(`ws://127.0.0.1:${await portOf(server)}`));
      client.on('error', () => {});
      assert.deepStrictEqual(await thrown, [
        'server.handleUpgrade() was called more than once with the same socket, possibly due to a misconfiguration',
        1,
      ]);
      await once(client, 'open');
    });

    it('two servers attached to one http.Server: the second throws from the upgrade listener (as ws)', async function () {
      const server = track.add(http.createServer());
      track.add(new WebSocketServer({ server }));
      const second = new WebSocketServer({ noServer: true });
      const errors = [];
      server.on('upgrade', (req, socket, head) => {
        try {
          second.handleUpgrade(req, socket, head, () => {});
        } catch (err) {
          errors.push(err.message);
        }
      });
      server.listen(0, '127.0.0.1');
      const client = await connect(`ws://127.0.0.1:${await portOf(server)}`);
      assert.strictEqual(client.readyState, WS.OPEN);
      assert.deepStrictEqual(errors, [
        'server.handleUpgrade() was called more than once with the same socket, possibly due to a misconfiguration',
      ]);
    });

    it('on a plain Duplex: 101, frames both ways, closing handshake', async function () {
      const wss = new WebSocketServer({ noServer: true });
      const [serverEnd, clientEnd] = duplexPair();
      track.add(serverEnd);
      track.add(clientEnd);
      let received = Buffer.alloc(0);
      clientEnd.on('data', (d) => (received = Buffer.concat([received, d])));
      const req = fakeRequest({ url: '/duplex', headers: { 'sec-websocket-protocol': 'p1' } });
      let ws;
      wss.handleUpgrade(req, serverEnd, Buffer.from(frame({ opcode: 1, payload: 'in head' })), (socket, request) => {
        ws = socket;
        assert.strictEqual(request, req);
        echo(ws);
      });
      assert.ok(ws instanceof WebSocket);
      assert.strictEqual(ws.readyState, WebSocket.OPEN);
      assert.strictEqual(ws.protocol, 'p1');
      assert.ok(wss.clients.has(ws));
      clientEnd.write(frame({ opcode: 2, payload: Buffer.from([1, 2, 3]) }));
      await new Promise((r) => setImmediate(r));
      const headEnd = received.indexOf('\r\n\r\n') + 4;
      assert.strictEqual(
        received.subarray(0, headEnd).toString(),
        'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
          `Sec-WebSocket-Accept: ${RFC_ACCEPT}\r\nSec-WebSocket-Protocol: p1\r\n\r\n`,
      );
      const reader = new FrameReader({ masked: false });
      reader.push(received.subarray(headEnd));
      assert.deepStrictEqual(
        reader.frames.map((f) => [f.opcode, f.payload.toString('hex')]),
        [
          [1, Buffer.from('in head').toString('hex')],
          [2, '010203'],
        ],
      );
      const closed = once(ws, 'close');
      clientEnd.write(frame({ opcode: 8, payload: Buffer.from([0x03, 0xe8]) }));
      clientEnd.end();
      const [code] = await closed;
      assert.strictEqual(code, 1000);
      assert.strictEqual(wss.clients.size, 0);
    });

    it('a Duplex behind an http.Server (emit connection) with ws as the client over it', async function () {
      const server = http.createServer();
      const wss = new WebSocketServer({ server });
      wss.on('connection', echo);
      const [serverEnd, clientEnd] = duplexPair();
      track.add(serverEnd);
      track.add(clientEnd);
      server.emit('connection', serverEnd);
      const client = await connect('ws://in-memory/', { createConnection: () => clientEnd });
      assert.strictEqual(await roundTrip(client, 'memory'), 'memory');
    });

    it('destroys a socket that is no longer writable or readable, without answering', async function () {
      const wss = new WebSocketServer({ noServer: true });
      for (const spoil of [(s) => s.end(), (s) => s.push(null)]) {
        const [serverEnd, clientEnd] = duplexPair();
        track.add(clientEnd);
        spoil(serverEnd);
        if (serverEnd.readable) serverEnd.resume(); // let a pushed EOF be consumed
        await new Promise((r) => setImmediate(r));
        let called = false;
        wss.handleUpgrade(fakeRequest(), serverEnd, Buffer.alloc(0), () => (called = true));
        assert.strictEqual(serverEnd.destroyed, true);
        assert.strictEqual(called, false);
      }
    });

    it('an error on the socket while verifying destroys it instead of throwing', async function () {
      let release;
      const wss = new WebSocketServer({ noServer: true, verifyClient: (info, cb) => (release = () => cb(true)) });
      const [serverEnd, clientEnd] = duplexPair();
      track.add(clientEnd);
      let called = false;
      wss.handleUpgrade(fakeRequest(), serverEnd, Buffer.alloc(0), () => (called = true));
      serverEnd.emit('error', new Error('ECONNRESET-like'));
      assert.strictEqual(serverEnd.destroyed, true);
      release();
      assert.strictEqual(called, false);
    });

    it('a rejected Duplex gets the HTTP error, then is destroyed once it is flushed', async function () {
      const wss = new WebSocketServer({ noServer: true });
      const [serverEnd, clientEnd] = duplexPair();
      track.add(clientEnd);
      let text = '';
      clientEnd.on('data', (d) => (text += d));
      wss.handleUpgrade(fakeRequest({ method: 'DELETE' }), serverEnd, Buffer.alloc(0), () => assert.fail('no'));
      await once(serverEnd, 'close');
      assertHttpError(text, 405, 'Invalid HTTP method');
    });

    it('completeUpgrade (semi-private) has ws signature and upgrades with the given protocols', async function () {
      const wss = new WebSocketServer({ noServer: true });
      assert.strictEqual(wss.completeUpgrade.length, 7);
      const [serverEnd, clientEnd] = duplexPair();
      track.add(clientEnd);
      let text = '';
      clientEnd.on('data', (d) => (text += d));
      let ws;
      const req = fakeRequest();
      wss.completeUpgrade({}, RFC_KEY, new Set(['x', 'y']), req, serverEnd, Buffer.alloc(0), (socket) => (ws = socket));
      track.add(ws);
      assert.strictEqual(ws.protocol, 'x');
      await new Promise((r) => setImmediate(r));
      assert.match(text, new RegExp(`Sec-WebSocket-Accept: ${RFC_ACCEPT.replace(/\+/g, '\\+')}\r\nSec-WebSocket-Protocol: x\r\n\r\n$`));
    });
  });

  describe('TLS', function () {
    it('works on an https.Server with verifyClient seeing secure: true', async function () {
      const server = track.add(https.createServer({ cert: TLS.cert, key: TLS.key }));
      const infos = [];
      const wss = new WebSocketServer({ server, verifyClient: (info) => infos.push(info) > 0 });
      wss.on('connection', echo);
      server.listen(0, '127.0.0.1');
      const port = await portOf(server);
      const client = await connect(`wss://localhost:${port}/secure`, { ca: TLS.cert });
      assert.strictEqual(await roundTrip(client, 'over tls'), 'over tls');
      const big = Buffer.alloc(200000, 7);
      const reply = once(client, 'message');
      client.send(big);
      const [echoed] = await reply;
      assert.ok(big.equals(echoed));
      assert.strictEqual(infos[0].secure, true);
      assert.strictEqual(infos[0].req.url, '/secure');
    });

    it('rejections go out over TLS too', async function () {
      const server = track.add(https.createServer({ cert: TLS.cert, key: TLS.key }));
      track.add(new WebSocketServer({ server, path: '/only' }));
      server.listen(0, '127.0.0.1');
      const client = track.add(new WS(`wss://localhost:${await portOf(server)}/other`, { ca: TLS.cert }));
      const [, res] = await once(client, 'unexpected-response');
      assert.strictEqual(res.statusCode, 400);
      res.resume();
    });
  });
});
