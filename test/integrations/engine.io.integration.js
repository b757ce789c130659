'use strict';
// engine.io with `wsEngine: WebSocketServer` (weft's, passed explicitly as its docs show for other
// engines) and engine.io-client (whose `ws` is weft too).
const assert = require('assert');
const engine = require('engine.io');
const { Socket } = require('engine.io-client');
const { weft, http, once, listen, closeServer, within, noise, assertWeftSocket } = require('./support');

describe('engine.io with wsEngine: weft.WebSocketServer', function () {
  let httpServer;
  let eio;
  let port;
  const clients = [];

  async function start(options = {}) {
    httpServer = http.createServer();
    eio = engine.attach(httpServer, { wsEngine: weft.WebSocketServer, transports: ['websocket'], ...options });
    port = await listen(httpServer);
  }

  function client(options = {}) {
    const socket = new Socket(`ws://127.0.0.1:${port}`, { transports: ['websocket'], ...options });
    clients.push(socket);
    return socket;
  }

  /** Opens a client; resolves with it and engine.io's server-side socket. */
  async function connect(options) {
    const serverSide = once(eio, 'connection');
    const socket = client(options);
    await within(once(socket, 'open'), 5000, 'open');
    const [serverSocket] = await serverSide;
    return { socket, serverSocket };
  }

  afterEach(async function () {
    // A failed test may leave a client whose close() throws (what failed it); the test reports that,
    // and it must not stop the tests after it. After a passed test it fails the hook.
    const errors = [];
    for (const socket of clients.splice(0)) {
      try {
        socket.close();
      } catch (err) {
        errors.push(err);
      }
    }
    if (eio) eio.close();
    if (httpServer) await closeServer(httpServer);
    eio = httpServer = null;
    if (errors.length > 0 && this.currentTest.state === 'passed') throw errors[0];
  });

  it('builds its WebSocket server from weft and hands engine.io weft sockets', async function () {
    await start();
    assert.ok(eio.ws instanceof weft.WebSocketServer, "engine.io's ws server is weft's");
    const { socket, serverSocket } = await connect();
    assert.strictEqual(serverSocket.transport.name, 'websocket');
    assertWeftSocket(serverSocket.transport.socket, "the server's transport socket");
    assertWeftSocket(socket.transport.ws, "the client's transport socket");
  });

  it('round-trips text and binary messages in order', async function () {
    await start();
    const { socket, serverSocket } = await connect();
    const serverGot = [];
    serverSocket.on('message', (data) => {
      serverGot.push(data);
      serverSocket.send(data);
    });
    const clientGot = [];
    const all = new Promise((resolve) => socket.on('message', (data) => {
      clientGot.push(data);
      if (clientGot.length === 3) resolve();
    }));
    const bytes = Buffer.from([0, 1, 2, 127, 128, 255]);
    socket.send('first: héllo');
    socket.send(bytes);
    socket.send('third 🌍');
    await within(all, 5000, 'three echoes');
    assert.strictEqual(serverGot[0], 'first: héllo');
    assert.ok(Buffer.isBuffer(serverGot[1]) && serverGot[1].equals(bytes), 'the server got the bytes as a Buffer');
    assert.strictEqual(clientGot[0], 'first: héllo');
    assert.ok(Buffer.from(clientGot[1]).equals(bytes), 'the client got the bytes back');
    assert.strictEqual(clientGot[2], 'third 🌍');
  });

  for (const deflate of [false, true]) {
    it(`round-trips 1 MiB binary and text${deflate ? ' with permessage-deflate at both ends' : ''}`, async function () {
      const options = { maxHttpBufferSize: 4 * 1024 * 1024 };
      if (deflate) options.perMessageDeflate = { threshold: 0 };
      await start(options);
      const { socket, serverSocket } = await connect(deflate ? { perMessageDeflate: { threshold: 0 } } : {});
      assert.strictEqual(serverSocket.transport.socket.extensions, deflate ? 'permessage-deflate' : '');
      serverSocket.on('message', (data) => serverSocket.send(data));
      const binary = noise(1024 * 1024);
      const text = JSON.stringify(Array.from({ length: 30000 }, (_, i) => ({ n: i, s: 'value ' + (i % 13) })));
      const got = [];
      const both = new Promise((resolve) => socket.on('message', (data) => {
        got.push(data);
        if (got.length === 2) resolve();
      }));
      socket.send(binary);
      socket.send(text);
      await within(both, 10000, 'both echoes');
      assert.ok(Buffer.from(got[0]).equals(binary), '1 MiB binary came back intact');
      assert.strictEqual(got[1], text);
    });
  }

  it('closes from the server: the client sees "transport close"', async function () {
    await start();
    const { socket, serverSocket } = await connect();
    const closed = once(socket, 'close');
    serverSocket.close();
    const [reason] = await within(closed, 5000, "the client's close");
    assert.strictEqual(reason, 'transport close');
  });

  it('closes from the client: the server sees "transport close"', async function () {
    await start();
    const { socket, serverSocket } = await connect();
    const closed = once(serverSocket, 'close');
    socket.close();
    const [reason] = await within(closed, 5000, "the server's close");
    assert.strictEqual(reason, 'transport close');
  });

  it('adds the headers engine.io\'s "initial_headers" and "headers" hooks set to the 101 answer', async function () {
    await start();
    eio.on('initial_headers', (headers) => {
      headers['set-cookie'] = 'session=abc; Path=/; HttpOnly';
    });
    eio.on('headers', (headers) => {
      headers['x-weft-interop'] = 'yes';
    });
    // weft's own client, so the 101 response's headers can be read from its 'upgrade' event.
    const ws = new weft.WebSocket(`ws://127.0.0.1:${port}/engine.io/?EIO=4&transport=websocket`);
    const upgrade = once(ws, 'upgrade');
    const firstMessage = once(ws, 'message');
    const [res] = await within(upgrade, 5000, 'the upgrade');
    assert.strictEqual(res.headers['x-weft-interop'], 'yes');
    assert.deepStrictEqual(res.headers['set-cookie'], ['session=abc; Path=/; HttpOnly']);
    // engine.io's open packet ("0" + JSON) is the first message.
    const [data, isBinary] = await within(firstMessage, 5000, 'the open packet');
    assert.strictEqual(isBinary, false);
    assert.match(data.toString(), /^0\{"sid":"[\w-]+"/);
    ws.close();
    await once(ws, 'close');
  });

  it('reports a handshake refused by allowRequest as an error on the client', async function () {
    const seen = [];
    await start({
      allowRequest: (req, callback) => {
        seen.push(req.url);
        callback('go away', false);
      },
    });
    const socket = client();
    const closed = once(socket, 'close'); // emitted right after 'error'
    const [err] = await within(once(socket, 'error'), 5000, 'the error');
    assert.strictEqual(err.message, 'websocket error');
    assert.match(String(err.description && err.description.message), /Unexpected server response: 400/);
    assert.strictEqual(seen.length, 1);
    const [reason] = await within(closed, 5000, 'the close');
    assert.strictEqual(reason, 'transport error');
  });
});
