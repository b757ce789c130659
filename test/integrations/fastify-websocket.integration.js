'use strict';
// fastify 5 with @fastify/websocket 11, whose `ws` is weft: routes, hooks that answer the upgrade
// request with plain HTTP, and injectWS (an in-memory client built from ws's internals).
const assert = require('assert');
const Fastify = require('fastify');
const fastifyWebsocket = require('@fastify/websocket');
const { weft, once, within, assertWeftSocket } = require('./support');

describe('@fastify/websocket over weft', function () {
  let app;
  let port;
  const sockets = [];

  /** A fastify app with the plugin and these routes: /echo (WebSocket only), /both (HTTP and WebSocket), /private (a hook answers 401 without a token). */
  async function build({ listen = true, options = {} } = {}) {
    app = Fastify();
    await app.register(fastifyWebsocket, { options: { perMessageDeflate: { threshold: 0 }, ...options } });
    app.decorate('wsSeen', []);
    app.register(async function routes(scope) {
      scope.get('/echo', { websocket: true }, (socket, request) => {
        app.wsSeen.push({ socket, url: request.url });
        socket.on('message', (data, isBinary) => socket.send(data, { binary: isBinary }));
      });
      scope.route({
        method: 'GET',
        url: '/both',
        handler: async () => ({ via: 'http' }),
        wsHandler: (socket) => socket.send(JSON.stringify({ via: 'websocket' })),
      });
      scope.register(async function privateScope(inner) {
        inner.addHook('preValidation', async (request, reply) => {
          if (request.headers.authorization !== 'Bearer letmein') {
            await reply.code(401).header('content-type', 'text/plain').send('no token, no socket');
          }
        });
        inner.get('/private', { websocket: true }, (socket, request) => {
          socket.send(`welcome ${request.headers.authorization.slice(7)}`);
        });
      });
    });
    if (listen) {
      await app.listen({ port: 0, host: '127.0.0.1' });
      port = app.server.address().port;
    } else {
      await app.ready();
    }
  }

  function client(path, options) {
    const ws = new weft.WebSocket(`ws://127.0.0.1:${port}${path}`, options);
    sockets.push(ws);
    return ws;
  }

  afterEach(async function () {
    for (const ws of sockets.splice(0)) {
      ws.on('error', () => {}); // terminate() on a CONNECTING client emits one
      ws.terminate();
    }
    if (app) await app.close();
    app = null;
  });

  it('runs the plugin on weft\'s WebSocketServer and echoes text and binary, compressed', async function () {
    await build();
    assert.ok(app.websocketServer instanceof weft.WebSocketServer, "the plugin's server is weft's");
    const ws = client('/echo?room=1', { perMessageDeflate: true });
    await within(once(ws, 'open'), 5000, 'open');
    assert.strictEqual(ws.extensions, 'permessage-deflate');
    assert.strictEqual(app.wsSeen.length, 1);
    assertWeftSocket(app.wsSeen[0].socket, 'the route handler\'s socket');
    assert.strictEqual(app.wsSeen[0].url, '/echo?room=1');

    const got = [];
    const two = new Promise((resolve) => ws.on('message', (data, isBinary) => {
      got.push([data, isBinary]);
      if (got.length === 2) resolve();
    }));
    ws.send('hello fastify '.repeat(100));
    ws.send(Buffer.from([1, 2, 3, 250]));
    await within(two, 5000, 'two echoes');
    assert.strictEqual(got[0][1], false);
    assert.strictEqual(got[0][0].toString(), 'hello fastify '.repeat(100));
    assert.strictEqual(got[1][1], true);
    assert.deepStrictEqual([...got[1][0]], [1, 2, 3, 250]);

    const serverClose = once(app.wsSeen[0].socket, 'close');
    ws.close(4100, 'done here');
    const [code, reason] = await within(serverClose, 5000, "the route's close");
    assert.strictEqual(code, 4100);
    assert.strictEqual(reason.toString(), 'done here');
  });

  it('routes plain GETs to the HTTP handler and upgrades to the wsHandler on the same URL', async function () {
    await build();
    const res = await fetch(`http://127.0.0.1:${port}/both`);
    assert.strictEqual(res.status, 200);
    assert.deepStrictEqual(await res.json(), { via: 'http' });
    const ws = client('/both');
    const [data] = await within(once(ws, 'message'), 5000, 'the message');
    assert.deepStrictEqual(JSON.parse(data), { via: 'websocket' });
  });

  it('lets a hook answer the upgrade request with a plain HTTP 401 the client sees', async function () {
    await build();
    const ws = client('/private');
    const [, res] = await within(once(ws, 'unexpected-response'), 5000, 'unexpected-response');
    assert.strictEqual(res.statusCode, 401);
    assert.strictEqual(res.headers['content-type'], 'text/plain');
    let body = '';
    res.setEncoding('utf8');
    for await (const chunk of res) body += chunk;
    assert.strictEqual(body, 'no token, no socket');
    // As with ws, a client that listens for 'unexpected-response' stays CONNECTING until it gives up.
    assert.strictEqual(ws.readyState, weft.WebSocket.CONNECTING);
    const error = once(ws, 'error');
    const closed = once(ws, 'close');
    ws.terminate();
    assert.strictEqual((await error)[0].message, 'WebSocket was closed before the connection was established');
    const [code] = await within(closed, 5000, 'the close');
    assert.strictEqual(code, 1006);
  });

  it('reports the hook\'s 401 as an error when the client has no unexpected-response listener', async function () {
    await build();
    const ws = client('/private');
    const closed = once(ws, 'close');
    const [err] = await within(once(ws, 'error'), 5000, 'the error');
    assert.strictEqual(err.message, 'Unexpected server response: 401');
    const [code] = await within(closed, 5000, 'the close');
    assert.strictEqual(code, 1006);
  });

  it('lets the upgrade through when the hook is satisfied', async function () {
    await build();
    const ws = client('/private', { headers: { authorization: 'Bearer letmein' } });
    const [data] = await within(once(ws, 'message'), 5000, 'the message');
    assert.strictEqual(data.toString(), 'welcome letmein');
  });

  it('injectWS: an in-memory client (weft\'s WebSocket on a stream pair) talks to the route', async function () {
    await build({ listen: false });
    const ws = await within(app.injectWS('/echo'), 5000, 'injectWS');
    assertWeftSocket(ws, 'the injected client');
    assert.strictEqual(ws.readyState, weft.WebSocket.OPEN);
    assertWeftSocket(app.wsSeen[0].socket, "the route's socket");
    for (const [data, binary] of [['through memory', false], [Buffer.from([9, 8, 7, 0, 255]), true]]) {
      const got = once(ws, 'message');
      ws.send(data, { binary });
      const [echo, isBinary] = await within(got, 5000, 'the echo');
      assert.strictEqual(isBinary, binary);
      assert.deepStrictEqual(Buffer.from(echo), Buffer.from(data));
    }
    const closed = once(ws, 'close');
    ws.terminate();
    const [code] = await within(closed, 5000, "the injected client's close");
    assert.strictEqual(code, 1006);
    assert.strictEqual(ws.readyState, weft.WebSocket.CLOSED);
  });

  it('injectWS: passes upgrade headers to hooks, and rejects when a hook answers 401', async function () {
    await build({ listen: false });
    await assert.rejects(app.injectWS('/private'), { message: 'Unexpected server response: 401' });
    // The route greets in the same turn as the upgrade: listen from onInit, before 'open'.
    let greeting;
    const greeted = new Promise((resolve) => { greeting = resolve; });
    const ws = await within(app.injectWS('/private', { headers: { authorization: 'Bearer letmein' } }, {
      onInit: (socket) => socket.on('message', (data) => greeting(data.toString())),
    }), 5000, 'injectWS');
    assert.strictEqual(await within(greeted, 5000, 'the greeting'), 'welcome letmein');
    ws.terminate();
  });

  it('applies the plugin\'s ws options: a message over maxPayload closes with 1009', async function () {
    await build({ options: { maxPayload: 1024 } });
    const ws = client('/echo');
    await within(once(ws, 'open'), 5000, 'open');
    const echoed = once(ws, 'message');
    ws.send(Buffer.alloc(1024, 1));
    assert.strictEqual((await within(echoed, 5000, 'the echo'))[0].length, 1024);
    const serverError = once(app.wsSeen[0].socket, 'error');
    const closed = once(ws, 'close');
    ws.send(Buffer.alloc(1025, 1));
    const [err] = await within(serverError, 5000, "the route socket's error");
    assert.strictEqual(err.code, 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH');
    const [code] = await within(closed, 5000, 'the close');
    assert.strictEqual(code, 1009);
  });

  it('closes open sockets when fastify closes', async function () {
    await build();
    const ws = client('/echo');
    await within(once(ws, 'open'), 5000, 'open');
    const closed = once(ws, 'close');
    await app.close();
    app = null;
    const [code] = await within(closed, 5000, 'the close');
    assert.strictEqual(code, 1005);
  });
});
