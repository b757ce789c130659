'use strict';

// weft's WebSocket-Node request face: what a 'request' carries, accept() and reject() as the real
// `websocket` client (and raw sockets) see them, the router, keepalive and handshakes that go wrong.

const assert = require('assert');
const { weft, real, Tracker, mountServer, connect, nextConnection, rawUpgrade, once } = require('./helpers');

/** Connects a real client and resolves with the `httpResponse` it gets (the handshake was refused). */
function refusedResponse(url, protocols, origin, headers) {
  return new Promise((resolve, reject) => {
    const client = new real.client();
    client.on('connect', () => reject(new Error('unexpectedly accepted')));
    client.on('connectFailed', reject);
    client.on('httpResponse', (response) => resolve(response));
    client.connect(url, protocols, origin, headers);
  });
}

describe('websocket-node: requests (real client and raw sockets → weft server)', () => {
  const tracker = new Tracker();
  afterEach(() => tracker.closeAll());

  it('a request carries resource, query, host, origin, lower-cased protocols, extensions, cookies', async () => {
    const httpServer = await tracker.httpServer();
    const server = mountServer(weft, tracker, httpServer);
    const seen = once(server, 'request');
    const client = connect(real, tracker, `${httpServer.url}/chat/room?id=7&tag=a&tag=b`, ['Chat.V2', 'superchat'], 'http://example.test', {
      Cookie: 'sid=abc%20def; theme="dark"',
      'Sec-WebSocket-Extensions': 'permessage-deflate; client_max_window_bits, x-foo',
    });
    const [request] = await seen;
    assert.strictEqual(request.resource, '/chat/room?id=7&tag=a&tag=b');
    assert.strictEqual(request.resourceURL.pathname, '/chat/room');
    assert.strictEqual(request.resourceURL.search, '?id=7&tag=a&tag=b');
    assert.deepStrictEqual({ ...request.resourceURL.query }, { id: '7', tag: ['a', 'b'] });
    assert.strictEqual(request.host, `127.0.0.1:${httpServer.address().port}`);
    assert.strictEqual(request.origin, 'http://example.test');
    assert.strictEqual(request.webSocketVersion, 13);
    assert.deepStrictEqual(request.requestedProtocols, ['chat.v2', 'superchat']);
    assert.deepStrictEqual(request.requestedExtensions, [
      { name: 'permessage-deflate', params: [{ name: 'client_max_window_bits', value: undefined }] },
      { name: 'x-foo', params: [] },
    ]);
    assert.deepStrictEqual(request.cookies, [
      { name: 'sid', value: 'abc def' },
      { name: 'theme', value: 'dark' },
    ]);
    assert.match(request.remoteAddress, /127\.0\.0\.1$/);
    assert.strictEqual(request.httpRequest.headers.origin, 'http://example.test');
    // Accepting in lower case answers in the client's case.
    const accepted = once(request, 'requestAccepted');
    const connection = request.accept('chat.v2', request.origin);
    assert.strictEqual((await accepted)[0], connection);
    assert.strictEqual((await client).protocol, 'Chat.V2');
    assert.strictEqual(connection.protocol, 'chat.v2');
    assert.strictEqual(connection.webSocketVersion, 13);
    assert.throws(() => request.accept('chat.v2'), /may only be accepted or rejected one time/);
  });

  it('reject(status, reason, extraHeaders): the status, X-WebSocket-Reject-Reason and the headers reach the client', async () => {
    const httpServer = await tracker.httpServer();
    const server = mountServer(weft, tracker, httpServer);
    const rejected = [];
    server.on('request', (request) => {
      request.on('requestRejected', (r) => rejected.push(r === request));
      request.reject(401, 'Need\r\n credentials', { 'WWW-Authenticate': 'Basic realm="x"' });
    });
    const response = await refusedResponse(`${httpServer.url}/`);
    assert.strictEqual(response.statusCode, 401);
    assert.strictEqual(response.headers['x-websocket-reject-reason'], 'Need credentials');
    assert.strictEqual(response.headers['www-authenticate'], 'Basic realm="x"');
    assert.deepStrictEqual(rejected, [true]);
    assert.deepStrictEqual(server.pendingRequests, []);
  });

  it('reject() without a status is 403; the real client reports it through connectFailed', async () => {
    const httpServer = await tracker.httpServer();
    const server = mountServer(weft, tracker, httpServer);
    server.on('request', (request) => request.reject());
    await assert.rejects(connect(real, tracker, `${httpServer.url}/`), /non-101 status: 403 Forbidden/);
  });

  it('no request listener and no autoAcceptConnections: 404', async () => {
    const httpServer = await tracker.httpServer();
    mountServer(weft, tracker, httpServer);
    const response = await refusedResponse(`${httpServer.url}/`);
    assert.strictEqual(response.statusCode, 404);
    assert.strictEqual(response.headers['x-websocket-reject-reason'], 'No handler is configured to accept the connection.');
  });

  it('accept() of a protocol the client did not request: 500 to the client, and it throws', async () => {
    const httpServer = await tracker.httpServer();
    const server = mountServer(weft, tracker, httpServer);
    const thrown = new Promise((resolve) => {
      server.on('request', (request) => {
        try {
          request.accept('other');
        } catch (err) {
          resolve(err);
        }
      });
    });
    const response = await refusedResponse(`${httpServer.url}/`, 'mine');
    assert.strictEqual(response.statusCode, 500);
    assert.match((await thrown).message, /not requested by the client/);
  });

  it('accept() with an origin and cookies: Origin and Set-Cookie lines in the 101; a bad cookie is 500', async () => {
    const httpServer = await tracker.httpServer();
    const server = mountServer(weft, tracker, httpServer);
    const errors = [];
    server.on('request', (request) => {
      if (request.requestedProtocols[0] === 'bad') {
        try {
          request.accept('bad', null, [{ name: 'c', value: 'd' }, { name: 'a@b', value: 'x' }]);
        } catch (err) {
          errors.push(err.message);
        }
        return;
      }
      request.accept('good', request.origin, [
        { name: 'sid', value: 'abc', path: '/', httponly: true, maxage: 60 },
        { name: 'theme', value: 'dark', secure: true, domain: 'Example.TEST', expires: new Date(Date.UTC(2030, 0, 1)) },
      ]);
    });
    const { head } = await rawUpgrade(tracker, httpServer.address().port, { Origin: 'http://o.test', 'Sec-WebSocket-Protocol': 'good' });
    assert.match(head, /^HTTP\/1\.1 101 /);
    assert.match(head, /\r\nOrigin: http:\/\/o\.test\r\n/);
    assert.match(head, /\r\nSet-Cookie: sid=abc;Path=\/;Max-Age=60;HttpOnly(\r\n|$)/);
    assert.match(head, /\r\nSet-Cookie: theme=dark;Domain=example\.test;Expires=Tue, 01 Jan 2030 00:00:00 GMT;Secure(\r\n|$)/);
    assert.match(head, /\r\nSec-WebSocket-Protocol: good\r\n/);
    const bad = await rawUpgrade(tracker, httpServer.address().port, { 'Sec-WebSocket-Protocol': 'bad' });
    assert.match(bad.head, /^HTTP\/1\.1 500 /);
    assert.deepStrictEqual(errors, ['Illegal character @ in cookie name']);
  });

  it('subprotocols named like prototype keys (__proto__, constructor) are plain names', async () => {
    const httpServer = await tracker.httpServer();
    const server = mountServer(weft, tracker, httpServer);
    const thrown = [];
    server.on('request', (request) => {
      const wanted = request.requestedProtocols.includes('chat') ? '__proto__' : request.requestedProtocols[0];
      try {
        request.accept(wanted);
      } catch (err) {
        thrown.push(err.message);
      }
    });
    const port = httpServer.address().port;
    for (const name of ['__proto__', '__PROTO__', 'constructor', 'toString']) {
      const { head } = await rawUpgrade(tracker, port, { 'Sec-WebSocket-Protocol': name });
      assert.match(head, /^HTTP\/1\.1 101 /, name);
      const answered = /\r\nSec-WebSocket-Protocol: ([^\r]*)/i.exec(head);
      assert.strictEqual(answered && answered[1], name, 'answered with the name the client sent');
    }
    // Accepting '__proto__' that the client did not request is refused, as any other unrequested name.
    const { head } = await rawUpgrade(tracker, port, { 'Sec-WebSocket-Protocol': 'chat' });
    assert.match(head, /^HTTP\/1\.1 500 /);
    assert.deepStrictEqual(thrown, ['Specified protocol was not requested by the client.']);
  });

  it('invalid handshakes: no Host is 400, a missing version 400, an unsupported one 426; each is an upgradeError', async () => {
    const httpServer = await tracker.httpServer();
    const server = mountServer(weft, tracker, httpServer);
    const errors = [];
    server.on('upgradeError', (err) => errors.push(err.message));
    server.on('request', () => assert.fail('no request expected'));
    const port = httpServer.address().port;
    const noHost = await rawUpgrade(tracker, port, { Host: null });
    assert.match(noHost.head, /^HTTP\/1\.1 400 /);
    assert.match(noHost.head, /X-WebSocket-Reject-Reason: Client must provide a Host header\./);
    const noVersion = await rawUpgrade(tracker, port, { 'Sec-WebSocket-Version': null });
    assert.match(noVersion.head, /^HTTP\/1\.1 400 /);
    const version = await rawUpgrade(tracker, port, { 'Sec-WebSocket-Version': '7' });
    assert.match(version.head, /^HTTP\/1\.1 426 /);
    assert.match(version.head, /\r\nSec-WebSocket-Version: 13, 8(\r\n|$)/);
    const badKey = await rawUpgrade(tracker, port, { 'Sec-WebSocket-Key': 'short' });
    assert.match(badKey.head, /^HTTP\/1\.1 400 /);
    assert.deepStrictEqual(errors, [
      'Client must provide a Host header.',
      'Client must provide a value for Sec-WebSocket-Version.',
      'Unsupported websocket client version: 7. Only versions 8 and 13 are supported.',
      'Missing or invalid Sec-WebSocket-Key header',
    ]);
  });

  it('X-Forwarded-For: ignored by default (weft is safe by default), believed with ignoreXForwardedFor: false', async () => {
    // 'explicit undefined' passes { ignoreXForwardedFor: undefined }: the default, not trust.
    for (const ignoreXForwardedFor of [undefined, 'explicit undefined', false, true]) {
      const httpServer = await tracker.httpServer();
      const config = ignoreXForwardedFor === undefined ? {} : { ignoreXForwardedFor: ignoreXForwardedFor === false || ignoreXForwardedFor === true ? ignoreXForwardedFor : undefined };
      const server = mountServer(weft, tracker, httpServer, config);
      server.on('request', (request) => request.accept());
      const accepted = nextConnection(server);
      await connect(real, tracker, `${httpServer.url}/`, null, null, { 'X-Forwarded-For': '203.0.113.9, 10.0.0.1' });
      const connection = await accepted;
      if (ignoreXForwardedFor !== false) {
        assert.match(connection.remoteAddress, /127\.0\.0\.1$/);
        assert.strictEqual(connection.remoteAddresses.length, 1);
      } else {
        // The right-most entry, which the proxy in front appended: the client wrote the ones left of it.
        assert.strictEqual(connection.remoteAddress, '10.0.0.1');
        assert.strictEqual(connection.remoteAddresses.length, 3);
        assert.deepStrictEqual(connection.remoteAddresses.slice(0, 2), ['203.0.113.9', '10.0.0.1']);
        assert.strictEqual(connection.ws.remoteAddress, '10.0.0.1');
      }
    }
  });

  it('a peer that pings without reading is dropped (maxPendingAutoPongs, as weft and ws do), whatever the face', async () => {
    const httpServer = await tracker.httpServer();
    const server = mountServer(weft, tracker, httpServer);
    server.on('request', (request) => request.accept());
    const accepted = nextConnection(server);
    const { socket } = await rawUpgrade(tracker, httpServer.address().port);
    socket.pause(); // never reads a pong
    const connection = await accepted;
    const closed = once(connection, 'close');
    let gone = false;
    socket.on('close', () => (gone = true));
    socket.on('error', () => (gone = true)); // the server resets the connection it drops
    // Masked pings with a 125-byte payload (an all-zero mask key), 512 to a write.
    const ping = Buffer.concat([Buffer.from([0x89, 0x80 | 125, 0, 0, 0, 0]), Buffer.alloc(125, 0x70)]);
    const batch = Buffer.concat(Array(512).fill(ping));
    const CAP = 64 * 1024 * 1024; // far past what the kernel's buffers hold: without a limit, never cut
    let sent = 0;
    while (!gone && sent < CAP) {
      sent += batch.length;
      if (!socket.write(batch)) await new Promise((resolve) => socket.once('drain', resolve).once('close', resolve));
    }
    assert.ok(sent < CAP, `still connected after ${sent} bytes of pings: the pongs pile up in the server`);
    const [code, description] = await closed;
    assert.strictEqual(code, 1006);
    assert.match(description, /pongs pending/);
  });

  it('a client that hangs up before accept(): the connection closes with 1006 on the next tick', async () => {
    const httpServer = await tracker.httpServer();
    const server = mountServer(weft, tracker, httpServer);
    // The raw client's upgrade stays unanswered: nobody accepts before it is gone.
    rawUpgrade(tracker, httpServer.address().port).catch(() => {});
    const [request] = await once(server, 'request');
    assert.deepStrictEqual(server.pendingRequests, [request]);
    request.socket.destroy();
    await new Promise((resolve) => request.socket.once('close', resolve));
    assert.deepStrictEqual(server.pendingRequests, []);
    const connection = request.accept();
    assert.strictEqual(connection.closeEventEmitted, false);
    const [code, description] = await once(connection, 'close');
    assert.strictEqual(code, 1006);
    assert.strictEqual(description, 'TCP connection lost before handshake completed.');
    assert.strictEqual(connection.state, 'closed');
  });

  it('keepalive: a silent peer is pinged and dropped with 1006 "Peer not responding."', async () => {
    const httpServer = await tracker.httpServer();
    const server = mountServer(weft, tracker, httpServer, { keepaliveInterval: 40, keepaliveGracePeriod: 40 });
    server.on('request', (request) => request.accept());
    const accepted = nextConnection(server);
    const { socket, head } = await rawUpgrade(tracker, httpServer.address().port);
    assert.match(head, /^HTTP\/1\.1 101 /);
    const connection = await accepted;
    const ping = new Promise((resolve) => socket.once('data', resolve));
    const [code, description] = await once(connection, 'close');
    assert.strictEqual((await ping)[0], 0x89, 'a ping frame reached the peer first');
    assert.strictEqual(code, 1006);
    assert.strictEqual(description, 'Peer not responding.');
  });

  it('keepalive: a peer that answers pings stays connected', async () => {
    const httpServer = await tracker.httpServer();
    const server = mountServer(weft, tracker, httpServer, { keepaliveInterval: 30, keepaliveGracePeriod: 30 });
    server.on('request', (request) => request.accept());
    const accepted = nextConnection(server);
    await connect(real, tracker, `${httpServer.url}/`);
    const connection = await accepted;
    let pongs = 0;
    while (pongs < 3) {
      await once(connection, 'pong');
      pongs++;
    }
    assert.strictEqual(connection.connected, true);
  });

  it('router: requests dispatched by path and protocol; unrouted ones get 404', async () => {
    const httpServer = await tracker.httpServer();
    const server = mountServer(weft, tracker, httpServer);
    const router = new weft.router({ server });
    tracker.add(() => router.detachServer());
    const routed = [];
    router.mount('/chat', 'chat', (request) => {
      routed.push(['chat', request.protocol, request.resourceURL.pathname]);
      request.accept(request.origin);
    });
    router.mount(/^\/any\//, '*', (request) => {
      routed.push(['any', request.protocol]);
      request.accept();
    });
    router.mount('*', null, (request) => {
      routed.push(['none', request.protocol]);
      request.reject(403, 'nope');
    });
    assert.throws(() => router.mount('/chat', 'CHAT', () => {}), /only mount one handler/);
    const chat = await connect(real, tracker, `${httpServer.url}/chat`, ['unknown', 'Chat']);
    assert.strictEqual(chat.protocol, 'Chat', 'answered in the client\'s case');
    const any = await connect(real, tracker, `${httpServer.url}/any/thing`, 'whatever');
    assert.strictEqual(any.protocol, 'whatever');
    assert.strictEqual((await refusedResponse(`${httpServer.url}/else`)).statusCode, 403);
    assert.strictEqual((await refusedResponse(`${httpServer.url}/else`, 'chat')).statusCode, 404);
    assert.deepStrictEqual(routed, [['chat', 'chat', '/chat'], ['any', 'whatever'], ['none', null]]);
    router.unmount('*', null);
    assert.throws(() => router.unmount('*', null), /Unable to find a route/);
  });
});
