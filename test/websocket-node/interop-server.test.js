'use strict';

// weft's WebSocket-Node server face against the real `websocket` package's client (WebSocket-Node
// itself) over loopback sockets: messages, fragmentation, limits, closing, rejecting, dropping, pings.

const assert = require('assert');
const { weft, real, Tracker, mountServer, connect, collect, nextConnection, pattern, once } = require('./helpers');

describe('websocket-node: real client → weft server', () => {
  const tracker = new Tracker();
  afterEach(() => tracker.closeAll());

  /** A weft server accepting every request with `protocol`, and a real client connected to it. */
  async function pair(serverConfig = {}, clientConfig = {}, protocol = 'test') {
    const httpServer = await tracker.httpServer();
    const server = mountServer(weft, tracker, httpServer, serverConfig);
    server.on('request', (request) => request.accept(protocol, request.origin));
    const accepted = nextConnection(server);
    const client = await connect(real, tracker, `${httpServer.url}/`, protocol, undefined, undefined, undefined, clientConfig);
    return { server, serverConn: await accepted, client, httpServer };
  }

  it('utf8 and binary messages both ways (multi-byte text, empty messages)', async () => {
    const { serverConn, client } = await pair();
    const atServer = collect(serverConn, 'message', 4);
    client.sendUTF('héllo ✓ 𝄞');
    client.sendBytes(Buffer.from([0, 1, 254, 255]));
    client.sendUTF('');
    client.sendBytes(Buffer.alloc(0));
    const got = (await atServer).map(([m]) => m);
    assert.deepStrictEqual(got[0], { type: 'utf8', utf8Data: 'héllo ✓ 𝄞' });
    assert.strictEqual(got[1].type, 'binary');
    assert.deepStrictEqual([...got[1].binaryData], [0, 1, 254, 255]);
    assert.deepStrictEqual(got[2], { type: 'utf8', utf8Data: '' });
    assert.strictEqual(got[3].binaryData.length, 0);

    const atClient = collect(client, 'message', 3);
    serverConn.sendUTF('ünïcode');
    serverConn.send(Buffer.from('bytes'));
    serverConn.send(12345); // anything with toString() is text
    const back = (await atClient).map(([m]) => m);
    assert.deepStrictEqual(back[0], { type: 'utf8', utf8Data: 'ünïcode' });
    assert.strictEqual(back[1].type, 'binary');
    assert.strictEqual(back[1].binaryData.toString(), 'bytes');
    assert.deepStrictEqual(back[2], { type: 'utf8', utf8Data: '12345' });
    assert.throws(() => serverConn.sendBytes('not a buffer'), /must pass a Node Buffer/);
  });

  it('fragmented messages: the real client fragments, weft assembles; weft fragments, the real client assembles', async () => {
    const { serverConn, client } = await pair({ fragmentationThreshold: 1000 }, { fragmentationThreshold: 700 });
    const text = 'x'.repeat(5000) + 'é'.repeat(1000);
    const atServer = once(serverConn, 'message');
    client.sendUTF(text);
    assert.deepStrictEqual((await atServer)[0], { type: 'utf8', utf8Data: text });
    const bytes = pattern(10001);
    const atClient = once(client, 'message');
    serverConn.sendBytes(bytes);
    assert.ok((await atClient)[0].binaryData.equals(bytes));
  });

  it('assembleFragments: false on weft\'s side: one frame event per fragment, no message event', async () => {
    const { serverConn, client } = await pair({ assembleFragments: false }, { fragmentationThreshold: 1000 });
    const messages = [];
    serverConn.on('message', (m) => messages.push(m));
    const frames = collect(serverConn, 'frame', 4);
    const data = pattern(3500);
    client.sendBytes(data);
    const got = (await frames).map(([f]) => f);
    assert.deepStrictEqual(got.map((f) => [f.opcode, f.fin, f.length]), [[2, false, 1000], [0, false, 1000], [0, false, 1000], [0, true, 500]]);
    assert.ok(got.every((f) => f.mask === true && f.rsv1 === false));
    assert.ok(Buffer.concat(got.map((f) => f.binaryPayload)).equals(data));
    // A text message in one frame is a single frame event too.
    const one = once(serverConn, 'frame');
    client.sendUTF('short');
    const [frame] = await one;
    assert.deepStrictEqual([frame.opcode, frame.fin, frame.binaryPayload.toString()], [1, true, 'short']);
    assert.deepStrictEqual(messages, []);
  });

  it('assembleFragments: false on the real client: weft\'s fragments arrive as its frames', async () => {
    const { serverConn, client } = await pair({ fragmentationThreshold: 400 }, { assembleFragments: false });
    const frames = collect(client, 'frame', 3);
    serverConn.sendUTF('y'.repeat(1000));
    const got = (await frames).map(([f]) => [f.opcode, f.fin, f.binaryPayload.length]);
    assert.deepStrictEqual(got, [[1, false, 400], [0, false, 400], [0, true, 200]]);
  });

  it('large messages (900 KB) both ways under the default limits', async () => {
    const { serverConn, client } = await pair();
    const big = pattern(900 * 1024, 7);
    const atServer = once(serverConn, 'message');
    client.sendBytes(big);
    assert.ok((await atServer)[0].binaryData.equals(big));
    const text = 'z'.repeat(900 * 1024);
    const atClient = once(client, 'message');
    serverConn.sendUTF(text);
    assert.strictEqual((await atClient)[0].utf8Data, text);
  });

  it('a message over maxReceivedMessageSize closes with 1009 on both sides', async () => {
    const { serverConn, client } = await pair({ maxReceivedMessageSize: 64 * 1024 });
    const closes = Promise.all([once(serverConn, 'close'), once(client, 'close')]);
    client.sendBytes(pattern(200 * 1024));
    const [[serverCode], [clientCode]] = await closes;
    assert.strictEqual(serverCode, 1009);
    assert.strictEqual(serverConn.closeReasonCode, 1009);
    assert.strictEqual(clientCode, 1009);
  });

  it('a frame over maxReceivedFrameSize closes with 1009 (the real client sending unfragmented)', async () => {
    const { serverConn, client } = await pair({ maxReceivedFrameSize: 1024 }, { fragmentOutgoingMessages: false });
    const closes = Promise.all([once(serverConn, 'close'), once(client, 'close')]);
    client.sendUTF('q'.repeat(2000));
    const [[serverCode, serverDescription], [clientCode]] = await closes;
    assert.strictEqual(serverCode, 1009);
    assert.match(serverDescription, /frame size/i);
    assert.strictEqual(clientCode, 1009);
  });

  it('invalid UTF-8 from the peer closes with 1007', async () => {
    const { serverConn, client } = await pair();
    const frame = new real.frame(Buffer.alloc(4), Buffer.alloc(10), client.config);
    frame.opcode = 1;
    frame.fin = true;
    frame.binaryPayload = Buffer.from([0x68, 0xc3, 0x28]);
    const closes = Promise.all([once(serverConn, 'close'), once(client, 'close')]);
    client.sendFrame(frame);
    const [[serverCode], [clientCode]] = await closes;
    assert.strictEqual(serverCode, 1007);
    assert.strictEqual(clientCode, 1007);
  });

  it('close codes and descriptions: weft server closes (4000, custom), both sides report it', async () => {
    const { serverConn, client } = await pair();
    const closes = Promise.all([once(serverConn, 'close'), once(client, 'close')]);
    serverConn.close(4000, 'custom reason');
    assert.strictEqual(serverConn.connected, false);
    assert.strictEqual(serverConn.state, 'ending');
    assert.strictEqual(serverConn.closeReasonCode, 4000);
    const [server, clientSide] = await closes;
    assert.deepStrictEqual(server, [4000, 'custom reason']);
    assert.deepStrictEqual(clientSide, [4000, 'custom reason']);
    assert.strictEqual(serverConn.state, 'closed');
  });

  it('close codes and descriptions: the real client closes (1001, going), weft reports the peer\'s', async () => {
    const { serverConn, client } = await pair();
    const closes = Promise.all([once(serverConn, 'close'), once(client, 'close')]);
    client.close(1001, 'going away now');
    const [server, clientSide] = await closes;
    assert.deepStrictEqual(server, [1001, 'going away now']);
    assert.deepStrictEqual(clientSide, [1001, 'going away now']);
    assert.strictEqual(serverConn.closeReasonCode, 1001);
    assert.strictEqual(serverConn.closeDescription, 'going away now');
  });

  it('close() without arguments sends 1000 and its description; invalid codes throw', async () => {
    const { serverConn, client } = await pair();
    assert.throws(() => serverConn.close(1006), /^Error: Close code 1006 is not valid\.$/);
    assert.throws(() => serverConn.close(999), /Close code 999 is not valid/);
    assert.strictEqual(serverConn.connected, true);
    const closed = once(client, 'close');
    serverConn.close();
    assert.deepStrictEqual(await closed, [1000, 'Normal connection closure']);
  });

  it('drop() from weft: close frame with the code, \'close\' emitted before drop returns', async () => {
    const { serverConn, client } = await pair();
    const events = [];
    serverConn.on('close', (code, description) => events.push([code, description]));
    const clientClosed = once(client, 'close');
    serverConn.drop(1008, 'policy says no');
    assert.deepStrictEqual(events, [[1008, 'policy says no']]);
    assert.strictEqual(serverConn.state, 'closed');
    assert.deepStrictEqual(await clientClosed, [1008, 'policy says no']);
    assert.deepStrictEqual(events, [[1008, 'policy says no']], 'close is emitted once');
  });

  it('drop() from the real client: weft reports its code and description', async () => {
    const { serverConn, client } = await pair();
    const closed = once(serverConn, 'close');
    client.drop(4002, 'dropping you');
    assert.deepStrictEqual(await closed, [4002, 'dropping you']);
  });

  it('drop(code, description, skipCloseFrame = true): the peer sees 1006', async () => {
    const { serverConn, client } = await pair();
    const closed = once(client, 'close');
    serverConn.drop(1011, 'no frame', true);
    const [code] = await closed;
    assert.strictEqual(code, 1006);
    assert.strictEqual(serverConn.closeReasonCode, 1011);
  });

  it('pings: auto pong, the ping event, cancel() and a manual pong', async () => {
    const { serverConn, client } = await pair();
    const pongs = collect(client, 'pong', 3);
    client.ping('one'); // no listener: answered automatically
    await once(client, 'pong').then(([data]) => assert.strictEqual(data.toString(), 'one'));
    const pings = [];
    serverConn.on('ping', (cancel, data) => {
      pings.push(data.toString());
      if (data.toString() === 'two') {
        cancel();
        serverConn.pong('manual');
      }
    });
    client.ping('two');
    client.ping('three');
    const got = (await pongs).map(([d]) => d.toString());
    assert.deepStrictEqual(got, ['one', 'manual', 'three']);
    assert.deepStrictEqual(pings, ['two', 'three']);
    const atClient = once(client, 'ping');
    const serverPongs = collect(serverConn, 'pong', 2);
    serverConn.ping(Buffer.alloc(200, 1)); // truncated to 125 bytes
    assert.strictEqual((await atClient)[1].length, 125);
    serverConn.ping('back');
    const answers = (await serverPongs).map(([d]) => d);
    assert.ok(answers[0].equals(Buffer.alloc(125, 1)));
    assert.strictEqual(answers[1].toString(), 'back');
  });

  it('autoAcceptConnections: the first requested protocol, a connect event, no request event', async () => {
    const httpServer = await tracker.httpServer();
    const server = mountServer(weft, tracker, httpServer, { autoAcceptConnections: true });
    let requests = 0;
    server.on('request', () => requests++);
    const accepted = nextConnection(server);
    const client = await connect(real, tracker, `${httpServer.url}/`, ['Alpha', 'beta']);
    const serverConn = await accepted;
    assert.strictEqual(client.protocol, 'Alpha');
    assert.strictEqual(serverConn.protocol, 'alpha');
    assert.strictEqual(requests, 0);
    assert.deepStrictEqual(server.connections, [serverConn]);
  });

  it('server close event and connections list follow each connection', async () => {
    const { server, serverConn, client } = await pair();
    assert.deepStrictEqual(server.connections, [serverConn]);
    const closed = once(server, 'close');
    client.close(1000);
    const [conn, code, description] = await closed;
    assert.strictEqual(conn, serverConn);
    assert.strictEqual(code, 1000);
    assert.strictEqual(description, 'Normal connection closure');
    assert.deepStrictEqual(server.connections, []);
  });

  it('shutDown(): open connections close with 1000, pending requests get 503, later upgrades are ignored', async () => {
    const httpServer = await tracker.httpServer();
    const server = mountServer(weft, tracker, httpServer);
    let pending = null;
    server.on('request', (request) => {
      if (request.requestedProtocols[0] === 'wait') pending = request;
      else request.accept(request.requestedProtocols[0]);
    });
    const accepted = nextConnection(server);
    const client = await connect(real, tracker, `${httpServer.url}/`, 'now');
    await accepted;
    const failed = new Promise((resolve) => {
      const waiting = new real.client();
      waiting.on('httpResponse', (response) => resolve(response.statusCode));
      waiting.connect(`${httpServer.url}/`, 'wait');
    });
    while (pending === null) await new Promise((resolve) => setImmediate(resolve));
    assert.deepStrictEqual(server.pendingRequests, [pending]);
    const closed = once(client, 'close');
    server.shutDown();
    assert.deepStrictEqual(await closed, [1000, 'Normal connection closure']);
    assert.strictEqual(await failed, 503);
    assert.deepStrictEqual(server.pendingRequests, []);
    assert.strictEqual(httpServer.listenerCount('upgrade'), 0);
  });
});
