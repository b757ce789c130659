'use strict';

// weft's WebSocket-Node client faces (client + connection, w3cwebsocket) against the real `websocket`
// package's server (WebSocket-Node itself) over loopback sockets.

const assert = require('assert');
const { weft, real, Tracker, mountServer, connect, collect, nextConnection, pattern, once } = require('./helpers');

/** The arguments of `emitter`'s next 'close' (unlike events.once, not failed by an 'error'). */
function closeOf(emitter) {
  return new Promise((resolve) => emitter.once('close', (...args) => resolve(args)));
}

describe('websocket-node: weft client → real server', () => {
  const tracker = new Tracker();
  afterEach(() => tracker.closeAll());

  /** A real server (accepting with the first requested protocol) and weft's client connected to it. */
  async function pair(serverConfig = {}, clientConfig = {}, protocol = 'test') {
    const httpServer = await tracker.httpServer();
    const server = mountServer(real, tracker, httpServer, serverConfig);
    const requests = [];
    server.on('request', (request) => {
      requests.push(request);
      request.accept(request.requestedProtocols[0], request.origin);
    });
    const accepted = nextConnection(server);
    const client = await connect(weft, tracker, `${httpServer.url}/path?q=1`, protocol, 'http://origin.test', { 'X-Custom': 'yes' }, undefined, clientConfig);
    return { server, serverConn: await accepted, client, request: requests[0], httpServer };
  }

  it('connects: protocol, origin, headers and the connection\'s properties', async () => {
    const { client, request, serverConn } = await pair();
    assert.strictEqual(request.origin, 'http://origin.test');
    assert.strictEqual(request.httpRequest.headers['x-custom'], 'yes');
    assert.strictEqual(request.resource, '/path?q=1');
    assert.strictEqual(client.protocol, 'test');
    assert.strictEqual(client.connected, true);
    assert.strictEqual(client.state, 'open');
    assert.strictEqual(client.webSocketVersion, 13);
    assert.strictEqual(client.closeReasonCode, -1);
    assert.strictEqual(client.closeDescription, null);
    assert.strictEqual(client.maskOutgoingPackets, true);
    assert.strictEqual(client.socket, client.ws._socket);
    assert.match(client.remoteAddress, /127\.0\.0\.1$/);
    assert.ok(client instanceof weft.connection);
    assert.strictEqual(weft.connection.CLOSE_REASON_NORMAL, 1000);
    assert.strictEqual(weft.connection.CLOSE_DESCRIPTIONS[1001], 'Remote peer is going away');
    assert.strictEqual(serverConn.protocol, 'test');
  });

  it('utf8 and binary messages both ways', async () => {
    const { client, serverConn } = await pair();
    const atServer = collect(serverConn, 'message', 2);
    client.sendUTF('grüße 🌍');
    client.send(Buffer.from([9, 8, 7]));
    const got = (await atServer).map(([m]) => m);
    assert.deepStrictEqual(got[0], { type: 'utf8', utf8Data: 'grüße 🌍' });
    assert.deepStrictEqual([...got[1].binaryData], [9, 8, 7]);
    const atClient = collect(client, 'message', 2);
    serverConn.sendUTF('back ✓');
    serverConn.sendBytes(Buffer.from('bin'));
    const back = (await atClient).map(([m]) => m);
    assert.deepStrictEqual(back[0], { type: 'utf8', utf8Data: 'back ✓' });
    assert.strictEqual(back[1].type, 'binary');
    assert.strictEqual(back[1].binaryData.toString(), 'bin');
  });

  it('fragmented and large messages both ways (real server limits: 64 KiB frames, 1 MiB messages)', async () => {
    const { client, serverConn } = await pair();
    const big = pattern(1000 * 1024, 3); // weft fragments at 16 KiB by default, under the real server's 64 KiB frames
    const atServer = once(serverConn, 'message');
    client.sendBytes(big);
    assert.ok((await atServer)[0].binaryData.equals(big));
    const text = 'ŵ'.repeat(300 * 1024);
    const atClient = once(client, 'message');
    serverConn.sendUTF(text);
    assert.strictEqual((await atClient)[0].utf8Data, text);
  });

  it('assembleFragments: false on weft\'s client: the real server\'s fragments as frame events', async () => {
    const { client, serverConn } = await pair({ fragmentationThreshold: 100 }, { assembleFragments: false });
    const frames = collect(client, 'frame', 3);
    serverConn.sendBytes(pattern(250));
    const got = (await frames).map(([f]) => [f.opcode, f.fin, f.length, f.mask]);
    assert.deepStrictEqual(got, [[2, false, 100, false], [0, false, 100, false], [0, true, 50, false]]);
  });

  it('assembleFragments: false on the real server: weft\'s fragments as its frames', async () => {
    const { client, serverConn } = await pair({ assembleFragments: false }, { fragmentationThreshold: 10 });
    const frames = collect(serverConn, 'frame', 3);
    client.sendUTF('abcdefghijklmnopqrstuvwxy');
    const got = (await frames).map(([f]) => [f.opcode, f.fin, f.binaryPayload.toString()]);
    assert.deepStrictEqual(got, [[1, false, 'abcdefghij'], [0, false, 'klmnopqrst'], [0, true, 'uvwxy']]);
  });

  it('fragmentOutgoingMessages: false sends one frame (the real server refuses it past 64 KiB with 1009)', async () => {
    const { client, serverConn } = await pair({}, { fragmentOutgoingMessages: false });
    // The real server destroys its socket right after its close frame: the client may read the frame
    // or hit a reset first (a socket error, reported as 1006 and an 'error' to listeners).
    const errors = [];
    client.on('error', (err) => errors.push(err.code));
    const closes = Promise.all([closeOf(client), closeOf(serverConn)]);
    client.sendBytes(pattern(70 * 1024));
    const [[clientCode, clientDescription], [serverCode]] = await closes;
    assert.strictEqual(serverCode, 1009);
    if (clientCode === 1006) {
      assert.match(clientDescription, /^Socket Error: \w+ E[A-Z]+$/);
      assert.strictEqual(errors.length, 1);
    } else {
      assert.strictEqual(clientCode, 1009);
    }
  });

  it('a message over the client\'s maxReceivedMessageSize closes with 1009', async () => {
    const { client, serverConn } = await pair({}, { maxReceivedMessageSize: 100 * 1024 });
    const closes = Promise.all([once(client, 'close'), once(serverConn, 'close')]);
    serverConn.sendBytes(pattern(300 * 1024));
    const [[clientCode, clientDescription], [serverCode]] = await closes;
    assert.strictEqual(clientCode, 1009);
    assert.match(clientDescription, /payload size/i);
    assert.strictEqual(serverCode, 1009);
  });

  it('close from weft\'s client (3001, text) and from the real server (1001, text)', async () => {
    let { client, serverConn } = await pair();
    let closes = Promise.all([once(client, 'close'), once(serverConn, 'close')]);
    client.close(3001, 'client says bye');
    assert.strictEqual(client.state, 'ending');
    assert.deepStrictEqual(await closes, [[3001, 'client says bye'], [3001, 'client says bye']]);
    ({ client, serverConn } = await pair());
    closes = Promise.all([once(client, 'close'), once(serverConn, 'close')]);
    serverConn.close(1001, 'server going away');
    assert.deepStrictEqual(await closes, [[1001, 'server going away'], [1001, 'server going away']]);
    assert.strictEqual(client.closeReasonCode, 1001);
    assert.strictEqual(client.closeDescription, 'server going away');
    assert.strictEqual(client.connected, false);
  });

  it('drop() both ways', async () => {
    let { client, serverConn } = await pair();
    let serverClosed = once(serverConn, 'close');
    const events = [];
    client.on('close', (...args) => events.push(args));
    client.drop(4400, 'weft drops');
    assert.deepStrictEqual(events, [[4400, 'weft drops']]);
    assert.deepStrictEqual(await serverClosed, [4400, 'weft drops']);
    ({ client, serverConn } = await pair());
    const clientClosed = once(client, 'close');
    serverConn.drop(1008, 'policy');
    assert.deepStrictEqual(await clientClosed, [1008, 'policy']);
    assert.strictEqual(client.state, 'closed');
  });

  it('a socket that ends without a close frame: 1006 "Connection dropped by remote peer."', async () => {
    const { client, serverConn } = await pair();
    const closed = once(client, 'close');
    serverConn.socket.destroy();
    assert.deepStrictEqual(await closed, [1006, 'Connection dropped by remote peer.']);
  });

  it('pings from the real server are answered; ping events and cancel() on weft\'s client', async () => {
    const { client, serverConn } = await pair();
    const pongs = collect(serverConn, 'pong', 2);
    const pings = [];
    client.on('ping', (cancel, data) => {
      pings.push(data.toString());
      if (data.toString() === 'quiet') {
        cancel();
        client.pong('instead');
      }
    });
    serverConn.ping('quiet');
    serverConn.ping('loud');
    assert.deepStrictEqual((await pongs).map(([d]) => d.toString()), ['instead', 'loud']);
    assert.deepStrictEqual(pings, ['quiet', 'loud']);
    const pong = once(client, 'pong');
    client.ping('hello');
    assert.strictEqual((await pong)[0].toString(), 'hello');
  });

  it('rejections: connectFailed with the status and headers, or httpResponse when listened for', async () => {
    const httpServer = await tracker.httpServer();
    const server = mountServer(real, tracker, httpServer);
    server.on('request', (request) => {
      if (request.requestedProtocols[0] === 'auth') request.reject(401, 'who are you', { 'WWW-Authenticate': 'Bearer' });
      else request.reject();
    });
    await assert.rejects(connect(weft, tracker, `${httpServer.url}/`), (err) => {
      assert.match(err.message, /^Server responded with a non-101 status: 403 Forbidden\nResponse Headers Follow:\n/);
      assert.match(err.message, /\nconnection: close\n/);
      return true;
    });
    const client = new weft.client();
    const failed = [];
    client.on('connectFailed', (err) => failed.push(err));
    const [response, self] = await new Promise((resolve) => {
      client.on('httpResponse', (...args) => resolve(args));
      client.connect(`${httpServer.url}/`, 'auth');
    });
    assert.strictEqual(self, client);
    assert.strictEqual(response.statusCode, 401);
    assert.strictEqual(response.headers['x-websocket-reject-reason'], 'who are you');
    assert.strictEqual(response.headers['www-authenticate'], 'Bearer');
    assert.deepStrictEqual(failed, []);
  });

  it('connectFailed for a refused connection and for a server that selects no requested protocol', async () => {
    const httpServer = await tracker.httpServer();
    const server = mountServer(real, tracker, httpServer);
    server.on('request', (request) => request.accept(null));
    await assert.rejects(connect(weft, tracker, `${httpServer.url}/`, 'needed'), /subprotocol/);
    const url = `${httpServer.url}/`;
    await tracker.closeAll();
    await assert.rejects(connect(weft, tracker, url), (err) => err.code === 'ECONNREFUSED');
  });

  it('connect() argument errors throw as WebSocket-Node\'s do', () => {
    const client = new weft.client();
    assert.throws(() => client.connect('not a url'), /You must specify a full WebSocket URL, including protocol/);
    assert.throws(() => client.connect('ws://127.0.0.1:1/', 'bad protocol'), /Protocol list contains invalid character/);
    assert.throws(() => new weft.client({ webSocketVersion: 9 }), /Allowed values are 8 and 13/);
  });

  it('webSocketVersion 8: the real server sees version 8 and Sec-WebSocket-Origin', async () => {
    const { request, client } = await pair({}, { webSocketVersion: 8 });
    assert.strictEqual(request.webSocketVersion, 8);
    assert.strictEqual(request.origin, 'http://origin.test');
    assert.strictEqual(request.httpRequest.headers['sec-websocket-origin'], 'http://origin.test');
    assert.strictEqual(client.webSocketVersion, 8);
  });

  it('abort() abandons the handshake without an event', async () => {
    const httpServer = await tracker.httpServer();
    const server = mountServer(real, tracker, httpServer);
    const seen = once(server, 'request');
    const client = new weft.client();
    const events = [];
    client.on('connect', () => events.push('connect'));
    client.on('connectFailed', () => events.push('connectFailed'));
    client.connect(`${httpServer.url}/`);
    const [request] = await seen;
    client.abort();
    const socketClosed = once(request.socket, 'close');
    request.accept(); // too late: the client is gone
    await socketClosed;
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepStrictEqual(events, []);
  });

  describe('w3cwebsocket', () => {
    it('text and binary (ArrayBuffer), close code and reason from the real server', async () => {
      const httpServer = await tracker.httpServer();
      const server = mountServer(real, tracker, httpServer);
      server.on('request', (request) => request.accept('w3c'));
      const accepted = nextConnection(server);
      const socket = new weft.w3cwebsocket(`${httpServer.url}/`, 'w3c', 'http://o.test', { 'X-Extra': '1' });
      tracker.add(() => socket.terminate());
      assert.strictEqual(socket.binaryType, 'arraybuffer');
      assert.throws(() => socket.send('too early'), /cannot call send\(\) while not connected/);
      assert.throws(() => {
        socket.binaryType = 'nodebuffer';
      }, SyntaxError);
      await new Promise((resolve) => socket.addEventListener('open', resolve));
      const serverConn = await accepted;
      assert.strictEqual(socket.protocol, 'w3c');
      const messages = [];
      socket.onmessage = (event) => messages.push(event.data);
      const atServer = collect(serverConn, 'message', 3);
      socket.send('hi');
      socket.send(new Uint8Array([1, 2, 3]).buffer);
      socket.send(new String('boxed'));
      const got = (await atServer).map(([m]) => m);
      assert.deepStrictEqual(got[0], { type: 'utf8', utf8Data: 'hi' });
      assert.deepStrictEqual([...got[1].binaryData], [1, 2, 3]);
      assert.deepStrictEqual(got[2], { type: 'utf8', utf8Data: 'boxed' });
      serverConn.sendUTF('text');
      serverConn.sendBytes(Buffer.from([4, 5]));
      const closed = new Promise((resolve) => {
        socket.onclose = resolve;
      });
      serverConn.close(4321, 'w3c bye');
      const event = await closed;
      assert.strictEqual(messages[0], 'text');
      assert.ok(messages[1] instanceof ArrayBuffer);
      assert.deepStrictEqual([...new Uint8Array(messages[1])], [4, 5]);
      assert.strictEqual(event.code, 4321);
      assert.strictEqual(event.reason, 'w3c bye');
      assert.strictEqual(socket.readyState, weft.w3cwebsocket.CLOSED);
      assert.throws(() => socket.send('late'), /cannot call send\(\) while not connected/);
    });

    it('close() without a code sends 1000, as WebSocket-Node\'s W3C client', async () => {
      const httpServer = await tracker.httpServer();
      const server = mountServer(real, tracker, httpServer);
      server.on('request', (request) => request.accept());
      const accepted = nextConnection(server);
      const socket = new weft.w3cwebsocket(`${httpServer.url}/`);
      tracker.add(() => socket.terminate());
      await new Promise((resolve) => {
        socket.onopen = resolve;
      });
      const serverConn = await accepted;
      const closed = once(serverConn, 'close');
      socket.close();
      assert.deepStrictEqual(await closed, [1000, 'Normal connection closure']);
    });
  });
});
