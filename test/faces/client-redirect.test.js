'use strict';

// Redirects during the opening handshake (RFC 6455 §4.1: "the server might redirect the client using a
// 3xx status code (but clients are not required to follow them)"): followRedirects, maxRedirects, the
// 'redirect' event, the URL errors of a redirect target (emitted, not thrown), ws's header stripping on
// cross-host and wss→ws redirects (unless a 'redirect' listener exists), redirects to ws+unix:,
// finishRequest and handshakeTimeout per request.
//
// WEFT_CLIENT_UNDER_TEST=ws runs the same assertions against ws 8.23's client.

const assert = require('assert');
const fs = require('fs');
const http = require('http');
const https = require('https');
const net = require('net');
const os = require('os');
const path = require('path');
const tls = require('tls');
const { WebSocketServer } = require('ws');

const underWs = process.env.WEFT_CLIENT_UNDER_TEST === 'ws';
const WebSocket = underWs ? require('ws') : require('../../dist/lib/websocket').WebSocket;
const { once } = require('../support/client');

const fixtures = path.join(__dirname, '..', 'fixtures');
const cert = fs.readFileSync(path.join(fixtures, 'certificate.pem'));
const key = fs.readFileSync(path.join(fixtures, 'key.pem'));

/** Resolves with the arguments of the next `event` on `emitter`. */

/**
 * Records 'redirect', 'open', 'error' and 'close' in order; resolves at 'close' or 'open'. With
 * `watchRedirects` false it adds no 'redirect' listener, which would turn off the header stripping.
 */
function outcome(ws, watchRedirects = true) {
  return new Promise((resolve) => {
    const events = [];
    let error = null;
    if (watchRedirects) ws.on('redirect', (url) => events.push(`redirect: ${url}`));
    ws.on('open', () => {
      events.push('open');
      resolve({ events, error });
    });
    ws.on('error', (err) => {
      error = err;
      events.push(`error(${ws.readyState}): ${err.message}`);
    });
    ws.on('close', (code) => {
      events.push(`close(${ws.readyState}): ${code}`);
      resolve({ events, error });
    });
  });
}

/** A raw 3xx response. */
function redirectResponse(location, status = 302) {
  return `HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\nLocation: ${location}\r\nContent-Length: 0\r\n\r\n`;
}

describe('client redirects', function () {
  let closers = [];
  let clients = [];

  function client(...args) {
    const ws = new WebSocket(...args);
    clients.push(ws);
    return ws;
  }

  /**
   * A site: an http(s) server whose upgrade requests are answered by `routes[pathname](req, socket)`
   * when there is such a route, or accepted by a ws WebSocketServer otherwise. Every upgrade request is
   * recorded in `site.requests` ({ url, headers }). Listens on 127.0.0.1 or on `socketPath`.
   */
  async function site(routes = {}, { secure = false, socketPath } = {}) {
    const server = secure ? https.createServer({ cert, key }) : http.createServer();
    const wss = new WebSocketServer({ noServer: true });
    const sockets = new Set();
    const requests = [];
    server.on('connection', (socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
    });
    server.on('secureConnection', (socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
    });
    server.on('upgrade', (req, socket, head) => {
      socket.on('error', () => {});
      requests.push({ url: req.url, headers: req.headers });
      const route = routes[new URL(req.url, 'http://x').pathname];
      if (route) route(req, socket);
      else wss.handleUpgrade(req, socket, head, (ws) => ws.send('welcome'));
    });
    if (socketPath) await new Promise((resolve) => server.listen(socketPath, resolve));
    else await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
    closers.push(async () => {
      for (const ws of wss.clients) ws.terminate();
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    });
    const port = socketPath ? 0 : server.address().port;
    return { server, wss, requests, port, url: `${secure ? 'wss' : 'ws'}://127.0.0.1:${port}` };
  }

  afterEach(async function () {
    for (const ws of clients) {
      ws.removeAllListeners('error');
      ws.on('error', () => {});
      ws.terminate();
    }
    clients = [];
    for (const close of closers) await close();
    closers = [];
  });

  describe('following', function () {
    it('follows a 302 to another server, emitting redirect(url, req) before open', async function () {
      const target = await site();
      const origin = await site({ '/start': (req, socket) => socket.end(redirectResponse(`${target.url}/end?x=1`)) });
      const ws = client(`${origin.url}/start`, { followRedirects: true });
      const welcome = once(ws, 'message');
      const seen = [];
      ws.on('redirect', (url, req) => seen.push([url, req instanceof http.ClientRequest, req === ws._req, ws.url]));
      const result = await outcome(ws);
      assert.deepStrictEqual(result.events, [`redirect: ${target.url}/end?x=1`, 'open']);
      assert.deepStrictEqual(seen, [[`${target.url}/end?x=1`, true, true, `${target.url}/end?x=1`]]);
      assert.strictEqual(ws.url, `${target.url}/end?x=1`);
      assert.deepStrictEqual(target.requests.map((r) => r.url), ['/end?x=1']);
      const [message] = await welcome;
      assert.strictEqual(message.toString(), 'welcome');
    });

    it('resolves a relative Location against the current URL', async function () {
      const s = await site({ '/a/start': (req, socket) => socket.end(redirectResponse('next?q=2', 307)) });
      const ws = client(`${s.url}/a/start`, { followRedirects: true });
      const result = await outcome(ws);
      assert.deepStrictEqual(result.events, [`redirect: ${s.url}/a/next?q=2`, 'open']);
      assert.deepStrictEqual(s.requests.map((r) => r.url), ['/a/start', '/a/next?q=2']);
    });

    for (const status of [301, 303, 308]) {
      it(`follows a ${status}`, async function () {
        const s = await site({ '/': (req, socket) => socket.end(redirectResponse('/to', status)) });
        const result = await outcome(client(s.url, { followRedirects: true }));
        assert.deepStrictEqual(result.events, [`redirect: ${s.url}/to`, 'open']);
      });
    }

    it('follows an http: Location as ws:', async function () {
      const s = await site({ '/': (req, socket) => socket.end(redirectResponse(`http://127.0.0.1:${s.port}/to`)) });
      const result = await outcome(client(s.url, { followRedirects: true }));
      assert.deepStrictEqual(result.events, [`redirect: ${s.url}/to`, 'open']);
    });

    it('keeps the subprotocols across redirects', async function () {
      const s = await site({ '/': (req, socket) => socket.end(redirectResponse('/to')) });
      const ws = client(s.url, ['p1', 'p2'], { followRedirects: true });
      await once(ws, 'open');
      assert.deepStrictEqual(s.requests.map((r) => r.headers['sec-websocket-protocol']), ['p1,p2', 'p1,p2']);
      assert.strictEqual(ws.protocol, 'p1');
    });

    it('does not follow by default: "Unexpected server response: 302"', async function () {
      const s = await site({ '/': (req, socket) => socket.end(redirectResponse('/to')) });
      const result = await outcome(client(s.url));
      assert.deepStrictEqual(result.events, ['error(2): Unexpected server response: 302', 'close(3): 1006']);
      assert.strictEqual(s.requests.length, 1);
    });

    it('hands an unfollowed redirect to unexpected-response', async function () {
      const s = await site({ '/': (req, socket) => socket.end(redirectResponse('/to')) });
      const ws = client(s.url);
      const [, res] = await once(ws, 'unexpected-response');
      assert.strictEqual(res.statusCode, 302);
      assert.strictEqual(res.headers.location, '/to');
    });

    it('does not follow a 3xx without Location', async function () {
      const s = await site({ '/': (req, socket) => socket.end('HTTP/1.1 300 Multiple Choices\r\nContent-Length: 0\r\n\r\n') });
      const result = await outcome(client(s.url, { followRedirects: true }));
      assert.deepStrictEqual(result.events, ['error(2): Unexpected server response: 300', 'close(3): 1006']);
    });

    it('hands each request to finishRequest', async function () {
      const s = await site({ '/': (req, socket) => socket.end(redirectResponse('/to')) });
      const requests = [];
      const ws = client(s.url, {
        followRedirects: true,
        finishRequest(req, socket) {
          requests.push([req, socket]);
          req.setHeader('X-Hop', String(requests.length));
          req.end();
        },
      });
      await once(ws, 'open');
      assert.strictEqual(requests.length, 2);
      assert.notStrictEqual(requests[0][0], requests[1][0]);
      assert.strictEqual(requests[0][1], ws);
      assert.strictEqual(requests[1][1], ws);
      assert.deepStrictEqual(s.requests.map((r) => r.headers['x-hop']), ['1', '2']);
    });
  });

  describe('maxRedirects', function () {
    function loop(s) {
      return (req, socket) => socket.end(redirectResponse(`/loop${s.requests.length}`));
    }

    it('fails with "Maximum redirects exceeded" after maxRedirects', async function () {
      const routes = {};
      const s = await site(routes);
      for (let i = 0; i < 20; i++) routes[i === 0 ? '/' : `/loop${i}`] = loop(s);
      const result = await outcome(client(s.url, { followRedirects: true, maxRedirects: 2 }));
      assert.deepStrictEqual(result.events, [
        `redirect: ${s.url}/loop1`,
        `redirect: ${s.url}/loop2`,
        'error(2): Maximum redirects exceeded',
        'close(3): 1006',
      ]);
      assert.strictEqual(s.requests.length, 3);
    });

    it('allows 10 redirects by default', async function () {
      const routes = {};
      const s = await site(routes);
      for (let i = 0; i < 20; i++) routes[i === 0 ? '/' : `/loop${i}`] = loop(s);
      const result = await outcome(client(s.url, { followRedirects: true }));
      assert.strictEqual(result.events.filter((e) => e.startsWith('redirect')).length, 10);
      assert.deepStrictEqual(result.events.slice(-2), ['error(2): Maximum redirects exceeded', 'close(3): 1006']);
      assert.strictEqual(s.requests.length, 11);
    });

    it('opens when the redirects stay within maxRedirects', async function () {
      const s = await site({
        '/': (req, socket) => socket.end(redirectResponse('/one')),
        '/one': (req, socket) => socket.end(redirectResponse('/two')),
      });
      const result = await outcome(client(s.url, { followRedirects: true, maxRedirects: 2 }));
      assert.deepStrictEqual(result.events.slice(-1), ['open']);
    });

    it('fails on the first redirect with maxRedirects: 0', async function () {
      const s = await site({ '/': (req, socket) => socket.end(redirectResponse('/to')) });
      const result = await outcome(client(s.url, { followRedirects: true, maxRedirects: 0 }));
      assert.deepStrictEqual(result.events, ['error(2): Maximum redirects exceeded', 'close(3): 1006']);
    });
  });

  describe('a bad redirect target is emitted, not thrown', function () {
    const targets = [
      ['http://[', 'Invalid URL: http://['],
      ['ftp://example.com/', 'The URL\'s protocol must be one of "ws:", "wss:", "http:", "https:", or "ws+unix:"'],
      ['/to#fragment', 'The URL contains a fragment identifier'],
      ['ws+unix:', "The URL's pathname is empty"],
    ];
    for (const [location, message] of targets) {
      it(`Location ${location} → SyntaxError "${message}", then close 1006`, async function () {
        const s = await site({ '/': (req, socket) => socket.end(redirectResponse(location)) });
        const ws = client(s.url, { followRedirects: true });
        const result = await outcome(ws);
        assert.deepStrictEqual(result.events, [`error(2): ${message}`, 'close(3): 1006']);
        assert.strictEqual(result.error.name, 'SyntaxError');
        assert.strictEqual(s.requests.length, 1);
        // A target that parsed is the URL from then on, as in ws.
        let expected = `${s.url}/`;
        try {
          expected = new URL(location, expected).href;
        } catch {
          // Unparsable: the URL stays the one that redirected.
        }
        assert.strictEqual(ws.url, expected);
      });
    }
  });

  describe('credentials and cookies (header stripping)', function () {
    const given = { Authorization: 'Bearer t0k3n', Cookie: 'sid=1', Host: 'custom.example', 'X-Keep': 'kept' };

    /** Runs a chain origin → `location(target)` with `options`; resolves the target's request headers. */
    async function hop(location, options = {}, addListener = false) {
      const target = await site();
      const origin = await site({ '/': (req, socket) => socket.end(redirectResponse(location(target, origin))) });
      const { url: urlOf, ...rest } = options;
      const ws = client(urlOf ? urlOf(origin) : origin.url, { followRedirects: true, headers: given, ...rest });
      const result = await outcome(ws, addListener);
      assert.deepStrictEqual(result.events.slice(-1), ['open']);
      assert.strictEqual(ws.listenerCount('redirect'), addListener ? 1 : 0);
      return { first: origin.requests[0].headers, last: (target.requests[0] || origin.requests[1]).headers };
    }

    it('keeps them on a same-host redirect', async function () {
      const { first, last } = await hop((t, o) => `${o.url}/to`);
      for (const headers of [first, last]) {
        assert.strictEqual(headers.authorization, 'Bearer t0k3n');
        assert.strictEqual(headers.cookie, 'sid=1');
        assert.strictEqual(headers.host, 'custom.example');
        assert.strictEqual(headers['x-keep'], 'kept');
      }
    });

    it('drops authorization, cookie and host on a redirect to another host:port', async function () {
      const { first, last } = await hop((t) => t.url);
      assert.strictEqual(first.authorization, 'Bearer t0k3n');
      assert.strictEqual(last.authorization, undefined);
      assert.strictEqual(last.cookie, undefined);
      assert.strictEqual(last.host, `127.0.0.1:${last.host.split(':')[1]}`);
      assert.notStrictEqual(last.host, 'custom.example');
      assert.strictEqual(last['x-keep'], 'kept');
    });

    it('keeps them on a cross-host redirect when a redirect listener exists', async function () {
      const { last } = await hop((t) => t.url, {}, true);
      assert.strictEqual(last.authorization, 'Bearer t0k3n');
      assert.strictEqual(last.cookie, 'sid=1');
      assert.strictEqual(last.host, 'custom.example');
    });

    it('carries URL credentials to a same-host redirect and drops them cross-host', async function () {
      const basic = 'Basic ' + Buffer.from('u s:p@w').toString('base64');
      const options = { headers: { 'X-Keep': 'kept' }, url: (o) => `ws://u%20s:p%40w@127.0.0.1:${o.port}/` };
      const same = await hop((t, o) => `${o.url}/to`, options);
      assert.strictEqual(same.first.authorization, basic);
      assert.strictEqual(same.last.authorization, basic);
      const cross = await hop((t) => t.url, options);
      assert.strictEqual(cross.first.authorization, basic);
      assert.strictEqual(cross.last.authorization, undefined);
    });

    it('lets an Authorization header win over URL credentials', async function () {
      const options = { url: (o) => `ws://user:pass@127.0.0.1:${o.port}/` };
      const { first, last } = await hop((t, o) => `${o.url}/to`, options);
      assert.strictEqual(first.authorization, 'Bearer t0k3n');
      assert.strictEqual(last.authorization, 'Bearer t0k3n');
    });

    it('does not change the options object passed in', async function () {
      const options = { followRedirects: true, headers: { Authorization: 'Bearer x' } };
      const s = await site({ '/': (req, socket) => socket.end(redirectResponse('/to')) });
      const ws = client(`ws://a:b@127.0.0.1:${s.port}/`, options);
      await once(ws, 'open');
      assert.deepStrictEqual(options, { followRedirects: true, headers: { Authorization: 'Bearer x' } });
    });

    it('drops authorization and cookie, but not host, on a wss: → ws: redirect to the same host', async function () {
      const plain = await site();
      const secure = await site({ '/': (req, socket) => socket.end(redirectResponse('ws://weft.test:4000/down')) }, { secure: true });
      // Both URLs name weft.test:4000; the connection goes to the TLS or the plain site by scheme.
      const createConnection = (options) =>
        options.defaultPort === 443
          ? tls.connect({ host: '127.0.0.1', port: secure.port, ca: cert, servername: 'localhost' })
          : net.connect(plain.port, '127.0.0.1');
      const ws = client('wss://weft.test:4000/', { followRedirects: true, headers: given, createConnection });
      const result = await outcome(ws, false);
      assert.deepStrictEqual(result.events, ['open']);
      assert.strictEqual(ws.url, 'ws://weft.test:4000/down');
      assert.strictEqual(secure.requests[0].headers.authorization, 'Bearer t0k3n');
      const last = plain.requests[0].headers;
      assert.strictEqual(last.authorization, undefined);
      assert.strictEqual(last.cookie, undefined);
      assert.strictEqual(last.host, 'custom.example');
      assert.strictEqual(last['x-keep'], 'kept');
    });

    it('keeps them on a ws: → wss: redirect to the same host', async function () {
      const secure = await site({}, { secure: true });
      const plain = await site({ '/': (req, socket) => socket.end(redirectResponse('wss://weft.test:4000/up')) });
      const createConnection = (options) =>
        options.defaultPort === 443
          ? tls.connect({ host: '127.0.0.1', port: secure.port, ca: cert, servername: 'localhost' })
          : net.connect(plain.port, '127.0.0.1');
      const ws = client('ws://weft.test:4000/', { followRedirects: true, headers: given, createConnection });
      const result = await outcome(ws, false);
      assert.deepStrictEqual(result.events, ['open']);
      assert.strictEqual(ws.url, 'wss://weft.test:4000/up');
      assert.strictEqual(secure.requests[0].headers.authorization, 'Bearer t0k3n');
      assert.strictEqual(secure.requests[0].headers.cookie, 'sid=1');
    });
  });

  describe('ws+unix: targets', function () {
    let socketPath;
    beforeEach(function () {
      socketPath = path.join(os.tmpdir(), `weft-client-redirect-${process.pid}-${Date.now()}.sock`);
    });
    afterEach(function () {
      try {
        fs.unlinkSync(socketPath);
      } catch {
        // Already removed by server.close().
      }
    });

    it('follows a redirect from TCP to a Unix socket, dropping credentials', async function () {
      const unix = await site({}, { socketPath });
      const tcp = await site({ '/': (req, socket) => socket.end(redirectResponse(`ws+unix:${socketPath}:/ipc?x=1`)) });
      const ws = client(tcp.url, { followRedirects: true, headers: { Authorization: 'Bearer t' } });
      const result = await outcome(ws, false);
      assert.deepStrictEqual(result.events, ['open']);
      assert.strictEqual(ws.url, `ws+unix:${socketPath}:/ipc?x=1`);
      assert.strictEqual(unix.requests[0].url, '/ipc?x=1');
      assert.strictEqual(unix.requests[0].headers.authorization, undefined);
    });

    it('keeps credentials on a redirect within the same Unix socket', async function () {
      const unix = await site({ '/a': (req, socket) => socket.end(redirectResponse(`ws+unix:${socketPath}:/b`)) }, { socketPath });
      const ws = client(`ws+unix:${socketPath}:/a`, { followRedirects: true, headers: { Authorization: 'Bearer t' } });
      await once(ws, 'open');
      assert.deepStrictEqual(unix.requests.map((r) => [r.url, r.headers.authorization]), [
        ['/a', 'Bearer t'],
        ['/b', 'Bearer t'],
      ]);
    });
  });

  describe('during a redirect', function () {
    it('restarts handshakeTimeout for each request', async function () {
      // Each hop answers after 600 ms, within the 1000 ms limit; the two together take longer.
      const s = await site({ '/': (req, socket) => setTimeout(() => socket.end(redirectResponse('/to')), 600) });
      const target = s.wss;
      const delayed = target.handleUpgrade.bind(target);
      target.handleUpgrade = (req, socket, head, cb) => setTimeout(() => delayed(req, socket, head, cb), 600);
      const result = await outcome(client(s.url, { followRedirects: true, handshakeTimeout: 1000 }));
      assert.deepStrictEqual(result.events, [`redirect: ${s.url}/to`, 'open']);
    });

    it('times out a redirected request that never answers', async function () {
      const s = await site({ '/': (req, socket) => socket.end(redirectResponse('/hang')), '/hang': () => {} });
      const result = await outcome(client(s.url, { followRedirects: true, handshakeTimeout: 50 }));
      assert.deepStrictEqual(result.events, [
        `redirect: ${s.url}/hang`,
        'error(2): Opening handshake has timed out',
        'close(3): 1006',
      ]);
    });

    it('aborts when a redirect listener closes the WebSocket', async function () {
      const s = await site({ '/': (req, socket) => socket.end(redirectResponse('/to')) });
      const ws = client(s.url, { followRedirects: true });
      ws.on('redirect', () => ws.close());
      const result = await outcome(ws);
      assert.deepStrictEqual(result.events, [
        `redirect: ${s.url}/to`,
        'error(2): WebSocket was closed before the connection was established',
        'close(3): 1006',
      ]);
      await new Promise((resolve) => setTimeout(resolve, 20));
      assert.strictEqual(s.requests.length, 1);
    });
  });
});
