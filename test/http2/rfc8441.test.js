'use strict';

// WebSockets over HTTP/2 (RFC 8441): weft's server against Node's own http2 client (frames written and
// read by hand, so nothing of weft's client is involved), then weft's client against weft's server.

const assert = require('assert');
const http2 = require('http2');
const https = require('https');
const zlib = require('zlib');
const WebSocket = require('../..');
const { WebSocketServer } = WebSocket;
const { TLS, once } = require('../support/server');
const { frame, closePayload, FrameReader } = require('../support/frames');
const { validateConnectRequest } = require('../../dist/lib/protocol/handshake');

const { NGHTTP2_CANCEL, NGHTTP2_NO_ERROR } = http2.constants;

/** Everything a test opened: client sessions, WebSocketServers, servers (closed in that order). */
let opened = [];

afterEach(async () => {
  const items = opened.splice(0).reverse();
  const waits = [];
  for (const item of items) {
    if (typeof item.handleUpgrade === 'function') {
      if (item.clients) for (const c of item.clients) c.terminate();
      waits.push(new Promise((resolve) => item.close(() => resolve())));
    } else if (typeof item.request === 'function' && typeof item.destroy === 'function' && typeof item.ping === 'function') {
      item.destroy();
    } else if (typeof item.terminate === 'function') {
      item.on('error', () => {});
      item.terminate();
    }
  }
  await Promise.all(waits);
  // The servers' sessions (Http2Server#close waits for them).
  for (const item of items) {
    if (typeof item.listen === 'function' && item.sessions !== undefined) {
      for (const session of item.sessions) session.destroy();
      for (const socket of item.sockets) socket.destroy();
    }
  }
  for (const item of items) {
    if (typeof item.listen === 'function' && item.listening) {
      waits.push(new Promise((resolve) => item.close(() => resolve())));
    }
  }
  await Promise.all(waits);
});

function track(item) {
  opened.push(item);
  // An http2 server: remember its sessions and sockets, for afterEach to end them.
  if (typeof item.updateSettings === 'function') {
    item.sessions = [];
    item.sockets = [];
    item.on('session', (session) => item.sessions.push(session));
    item.on('connection', (socket) => item.sockets.push(socket));
  }
  return item;
}

/**
 * An h2 server (TLS with HTTP/1.1 allowed and a page handler, unless `plain`) with a WebSocketServer on
 * it; resolves with { server, wss, port, sessions } once listening. `sessions` collects the server's
 * sessions, so they can be compared with the one a stream arrived on.
 */
async function h2Server(wssOptions = {}, { plain = false, handler = pageHandler } = {}) {
  const server = track(
    plain ? http2.createServer() : http2.createSecureServer({ ...TLS, allowHTTP1: true }, handler || undefined),
  );
  const sessions = server.sessions;
  const wss = track(new WebSocketServer({ server, ...wssOptions }));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, wss, port: server.address().port, sessions };
}

function pageHandler(req, res) {
  res.end(`page over ${req.httpVersion}`);
}

/** A client session of Node's http2 module, resolved once the server's SETTINGS arrived. */
async function connect(port, plain = false) {
  const session = track(
    http2.connect(`${plain ? 'http' : 'https'}://localhost:${port}`, { ca: TLS.cert, rejectUnauthorized: false }),
  );
  session.on('error', () => {});
  await once(session, 'remoteSettings');
  return session;
}

/** Sends an extended CONNECT (RFC 8441 §4); resolves with { stream, headers, reader } on the response. */
async function openStream(session, { path = '/', headers = {}, plain = false } = {}) {
  const stream = session.request(
    {
      ':method': 'CONNECT',
      ':protocol': 'websocket',
      ':scheme': plain ? 'http' : 'https',
      ':path': path,
      ':authority': 'localhost',
      'sec-websocket-version': '13',
      ...headers,
    },
    { endStream: false },
  );
  stream.on('error', () => {});
  const reader = new FrameReader({ masked: false });
  const chunks = [];
  stream.on('data', (chunk) => {
    chunks.push(chunk);
    reader.push(chunk);
  });
  const [response] = await once(stream, 'response');
  return { stream, headers: response, reader, chunks };
}

/** Resolves once `reader` holds at least `n` frames (the stream's data feeds it). */
async function frames(stream, reader, n) {
  while (reader.frames.length < n) await once(stream, 'data');
  return reader.frames.slice(0, n);
}

/** Resolves with the body once the stream ends. */
async function body(stream, chunks) {
  if (!stream.readableEnded) await once(stream, 'end');
  return Buffer.concat(chunks).toString();
}

/** Resolves with the stream's RST_STREAM code once it closed. */
async function closed(stream) {
  if (!stream.closed || !stream.destroyed) await once(stream, 'close');
  return stream.rstCode;
}

function echo(ws) {
  ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
}

describe('HTTP/2 (RFC 8441): the server, with Node’s http2 client', () => {
  it('advertises SETTINGS_ENABLE_CONNECT_PROTOCOL and answers a WebSocket CONNECT with :status 200, no Sec-WebSocket-Accept', async () => {
    const { wss, port } = await h2Server();
    const session = await connect(port);
    assert.strictEqual(session.remoteSettings.enableConnectProtocol, true);
    const connection = once(wss, 'connection');
    const { headers } = await openStream(session, { path: '/chat?room=1' });
    assert.strictEqual(headers[':status'], 200);
    assert.strictEqual(headers['sec-websocket-accept'], undefined);
    assert.strictEqual(headers.upgrade, undefined);
    const [ws, req] = await connection;
    assert.strictEqual(ws.readyState, WebSocket.OPEN);
    assert.strictEqual(req.method, 'CONNECT');
    assert.strictEqual(req.url, '/chat?room=1');
    assert.strictEqual(req.headers.host, 'localhost');
    assert.strictEqual(req.headers['sec-websocket-version'], '13');
    assert.strictEqual(req.headers[':path'], undefined);
    assert.strictEqual(req.socket.encrypted, true);
    assert.strictEqual(req.stream.session, [...wss.clients][0]._socket.session);
    assert.strictEqual(ws.remoteAddress, '127.0.0.1');
  });

  it('echoes text, binary and a 1 MiB message, masked client frames in, unmasked frames out', async () => {
    const { wss, port } = await h2Server();
    wss.on('connection', echo);
    const session = await connect(port);
    const { stream, reader } = await openStream(session);
    const big = Buffer.alloc(1024 * 1024);
    for (let i = 0; i < big.length; i++) big[i] = (i * 31) & 0xff;
    stream.write(frame({ opcode: 1, payload: 'héllo' }));
    stream.write(frame({ opcode: 2, payload: Buffer.from([0, 1, 2, 255]) }));
    stream.write(frame({ opcode: 2, payload: big }));
    const [text, binary, large] = await frames(stream, reader, 3);
    assert.deepStrictEqual([text.opcode, text.masked, text.payload.toString()], [1, false, 'héllo']);
    assert.deepStrictEqual([binary.opcode, [...binary.payload]], [2, [0, 1, 2, 255]]);
    assert.strictEqual(large.opcode, 2);
    assert.ok(large.payload.equals(big));
  });

  it('answers a ping with a pong carrying its payload', async () => {
    const { port } = await h2Server();
    const session = await connect(port);
    const { stream, reader } = await openStream(session);
    stream.write(frame({ opcode: 9, payload: 'are you there' }));
    const [pong] = await frames(stream, reader, 1);
    assert.deepStrictEqual([pong.opcode, pong.payload.toString()], [10, 'are you there']);
  });

  it('client-initiated close: the code reaches the server, the close is echoed, both sides END_STREAM (no reset)', async () => {
    const { wss, port } = await h2Server();
    const serverClose = new Promise((resolve) =>
      wss.on('connection', (ws) => ws.on('close', (code, reason) => resolve([code, reason.toString()]))),
    );
    const session = await connect(port);
    const { stream, reader } = await openStream(session);
    stream.end(frame({ opcode: 8, payload: closePayload(4000, 'done') }));
    const [close] = await frames(stream, reader, 1);
    assert.strictEqual(close.opcode, 8);
    assert.strictEqual(close.payload.readUInt16BE(0), 4000);
    assert.deepStrictEqual(await serverClose, [4000, 'done']);
    await once(stream, 'end');
    assert.strictEqual(await closed(stream), NGHTTP2_NO_ERROR);
  });

  it('server-initiated close: the close frame, then END_STREAM once the client answered', async () => {
    const { wss, port } = await h2Server();
    const serverClose = new Promise((resolve) =>
      wss.on('connection', (ws) => {
        ws.on('close', (code) => resolve(code));
        ws.close(4001, 'bye');
      }),
    );
    const session = await connect(port);
    const { stream, reader } = await openStream(session);
    const [close] = await frames(stream, reader, 1);
    assert.deepStrictEqual([close.payload.readUInt16BE(0), close.payload.subarray(2).toString()], [4001, 'bye']);
    stream.end(frame({ opcode: 8, payload: closePayload(4001) }));
    assert.strictEqual(await serverClose, 4001);
    await once(stream, 'end');
    assert.strictEqual(await closed(stream), NGHTTP2_NO_ERROR);
  });

  it('terminate() resets the stream with RST_STREAM(CANCEL); a protocol error closes with 1002 and END_STREAM', async () => {
    const { wss, port } = await h2Server();
    wss.on('connection', (ws) => {
      ws.on('error', () => {});
      ws.on('message', (data) => {
        if (data.toString() === 'terminate') ws.terminate();
      });
    });
    const session = await connect(port);
    const first = await openStream(session);
    first.stream.write(frame({ opcode: 1, payload: 'terminate' }));
    assert.strictEqual(await closed(first.stream), NGHTTP2_CANCEL);

    // An unmasked client frame: the server sends close 1002 and ends its side, as it ends a TCP socket.
    const second = await openStream(session);
    second.stream.write(frame({ opcode: 1, payload: 'x', mask: false }));
    const [close] = await frames(second.stream, second.reader, 1);
    assert.strictEqual(close.payload.readUInt16BE(0), 1002);
    if (!second.stream.readableEnded) await once(second.stream, 'end');
  });

  it('rejects with the HTTP/1.1 handshake’s statuses and messages', async () => {
    const { wss, port } = await h2Server({ path: '/ws' });
    const session = await connect(port);

    const badVersion = await openStream(session, { path: '/ws', headers: { 'sec-websocket-version': '12' } });
    assert.strictEqual(badVersion.headers[':status'], 400);
    assert.strictEqual(badVersion.headers['sec-websocket-version'], '13, 8');
    assert.strictEqual(await body(badVersion.stream, badVersion.chunks), 'Missing or invalid Sec-WebSocket-Version header');

    const wrongPath = await openStream(session, { path: '/elsewhere' });
    assert.strictEqual(wrongPath.headers[':status'], 400);
    assert.strictEqual(await body(wrongPath.stream, wrongPath.chunks), 'Bad Request');

    const badProtocol = await openStream(session, { path: '/ws', headers: { 'sec-websocket-protocol': 'a,,b' } });
    assert.strictEqual(badProtocol.headers[':status'], 400);
    assert.strictEqual(await body(badProtocol.stream, badProtocol.chunks), 'Invalid Sec-WebSocket-Protocol header');

    assert.strictEqual(wss.clients.size, 0);
  });

  it('after close() the WebSocketServer lets go of the server’s streams (Node’s 405 again)', async () => {
    const { wss, port } = await h2Server();
    const session = await connect(port);
    const before = await openStream(session);
    assert.strictEqual(before.headers[':status'], 200);
    wss.close(); // its 'close' waits for the open client; the server's listeners go at once
    const after = await openStream(session);
    assert.strictEqual(after.headers[':status'], 405);
  });

  it('a closing WebSocketServer answers 503 to a stream handed to handleStream', async () => {
    const server = track(http2.createSecureServer({ ...TLS, settings: { enableConnectProtocol: true } }));
    const wss = track(new WebSocketServer({ noServer: true }));
    server.on('stream', (stream, headers) => wss.handleStream(stream, headers, () => {}));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const session = await connect(server.address().port);
    wss.close();
    const refused = await openStream(session);
    assert.strictEqual(refused.headers[':status'], 503);
    assert.strictEqual(await body(refused.stream, refused.chunks), 'Service Unavailable');
  });

  it('verifyClient: a synchronous refusal is 401; an asynchronous one answers its own status, message and headers', async () => {
    const { port } = await h2Server({
      verifyClient(info, done) {
        assert.strictEqual(info.secure, true);
        assert.strictEqual(info.req.method, 'CONNECT');
        if (info.origin === 'https://good.example') done(true);
        else done(false, 403, 'Not you', { 'X-Reason': 'origin' });
      },
    });
    const session = await connect(port);
    const refused = await openStream(session, { headers: { origin: 'https://evil.example' } });
    assert.strictEqual(refused.headers[':status'], 403);
    assert.strictEqual(refused.headers['x-reason'], 'origin');
    assert.strictEqual(await body(refused.stream, refused.chunks), 'Not you');
    const accepted = await openStream(session, { headers: { origin: 'https://good.example' } });
    assert.strictEqual(accepted.headers[':status'], 200);

    const sync = await h2Server({ verifyClient: () => false });
    const session2 = await connect(sync.port);
    const denied = await openStream(session2);
    assert.strictEqual(denied.headers[':status'], 401);
    assert.strictEqual(await body(denied.stream, denied.chunks), 'Unauthorized');
  });

  it('subprotocols through handleProtocols, and lines pushed by a headers listener become response headers', async () => {
    const { wss, port } = await h2Server({
      handleProtocols: (protocols, req) => {
        assert.strictEqual(req.method, 'CONNECT');
        return protocols.has('chat.v2') ? 'chat.v2' : false;
      },
    });
    wss.on('headers', (lines) => {
      assert.strictEqual(lines[0], 'HTTP/2 200');
      lines.push('Set-Cookie: session=1', 'Connection: keep-alive');
    });
    const connection = once(wss, 'connection');
    const session = await connect(port);
    const { headers } = await openStream(session, { headers: { 'sec-websocket-protocol': 'chat.v1, chat.v2' } });
    assert.strictEqual(headers[':status'], 200);
    assert.strictEqual(headers['sec-websocket-protocol'], 'chat.v2');
    assert.deepStrictEqual(headers['set-cookie'], ['session=1']);
    assert.strictEqual(headers.connection, undefined);
    const [ws] = await connection;
    assert.strictEqual(ws.protocol, 'chat.v2');
  });

  it('negotiates permessage-deflate: compressed frames both ways', async () => {
    const { wss, port } = await h2Server({ perMessageDeflate: { threshold: 0 } });
    wss.on('connection', echo);
    const session = await connect(port);
    const { stream, headers, reader } = await openStream(session, {
      headers: { 'sec-websocket-extensions': 'permessage-deflate; client_max_window_bits' },
    });
    assert.strictEqual(headers[':status'], 200);
    assert.match(headers['sec-websocket-extensions'], /^permessage-deflate/);
    const text = 'compress me '.repeat(50);
    const deflated = zlib.deflateRawSync(Buffer.from(text), { finishFlush: zlib.constants.Z_SYNC_FLUSH });
    stream.write(frame({ opcode: 1, rsv: 4, payload: deflated.subarray(0, deflated.length - 4) }));
    const [reply] = await frames(stream, reader, 1);
    assert.strictEqual(reply.rsv, 4);
    const inflated = zlib.inflateRawSync(Buffer.concat([reply.payload, Buffer.from([0, 0, 0xff, 0xff])]), {
      finishFlush: zlib.constants.Z_SYNC_FLUSH,
    });
    assert.strictEqual(inflated.toString(), text);
  });

  it('keeps HTTP/1.1 upgrades, plain requests and the 405 for other CONNECTs working on the same server', async () => {
    const { wss, port } = await h2Server();
    wss.on('connection', echo);
    // A page over h2.
    const session = await connect(port);
    const page = session.request({ ':path': '/' });
    const pageChunks = [];
    page.on('data', (c) => pageChunks.push(c));
    await once(page, 'end');
    assert.strictEqual(Buffer.concat(pageChunks).toString(), 'page over 2.0');
    // A CONNECT that is not a WebSocket: Node's compatibility layer still answers 405.
    const tunnel = session.request({ ':method': 'CONNECT', ':authority': 'example.com:443' }, { endStream: false });
    const [tunnelResponse] = await once(tunnel, 'response');
    assert.strictEqual(tunnelResponse[':status'], 405);
    tunnel.close();
    // A WebSocket over HTTP/1.1 (TLS, ALPN http/1.1).
    const ws = track(new WebSocket(`wss://localhost:${port}/`, { ca: TLS.cert }));
    const [req] = await Promise.all([once(wss, 'connection').then(([, r]) => r), once(ws, 'open')]);
    assert.strictEqual(req.httpVersion, '1.1');
    assert.strictEqual(req.method, 'GET');
    ws.send('over h1');
    const [data] = await once(ws, 'message');
    assert.strictEqual(data.toString(), 'over h1');
  });

  it('runs on a cleartext Http2Server (h2c) with no request handler', async () => {
    const { wss, port } = await h2Server({}, { plain: true });
    wss.on('connection', echo);
    const session = await connect(port, true);
    const { stream, headers, reader } = await openStream(session, { plain: true });
    assert.strictEqual(headers[':status'], 200);
    stream.write(frame({ opcode: 1, payload: 'h2c' }));
    const [reply] = await frames(stream, reader, 1);
    assert.strictEqual(reply.payload.toString(), 'h2c');
  });

  it('handleStream (noServer): the caller routes the stream; the callback gets the WebSocket and the request', async () => {
    const server = track(http2.createSecureServer({ ...TLS }));
    server.updateSettings({ enableConnectProtocol: true });
    const wss = track(new WebSocketServer({ noServer: true }));
    const accepted = new Promise((resolve) => {
      server.on('stream', (stream, headers) => {
        if (headers[':method'] !== 'CONNECT') return;
        wss.handleStream(stream, headers, (ws, req) => resolve([ws, req]));
      });
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const session = await connect(server.address().port);
    const { stream, reader } = await openStream(session, { path: '/routed' });
    const [ws, req] = await accepted;
    assert.strictEqual(req.url, '/routed');
    assert.ok(wss.clients.has(ws));
    ws.send('routed');
    const [message] = await frames(stream, reader, 1);
    assert.strictEqual(message.payload.toString(), 'routed');
  });
});

describe('HTTP/2 (RFC 8441): validateConnectRequest', () => {
  const base = { ':method': 'CONNECT', ':protocol': 'websocket', ':path': '/', ':scheme': 'https', 'sec-websocket-version': '13' };
  it('accepts an extended CONNECT with no key, and rejects a wrong method, protocol or version', () => {
    const ok = validateConnectRequest(base);
    assert.strictEqual(ok.ok, true);
    assert.strictEqual(ok.key, '');
    assert.strictEqual(validateConnectRequest({ ...base, ':method': 'GET' }).status, 405);
    assert.strictEqual(validateConnectRequest({ ...base, ':protocol': 'connect-udp' }).status, 400);
    assert.deepStrictEqual(validateConnectRequest({ ...base, 'sec-websocket-version': '14' }).headers, {
      'Sec-WebSocket-Version': '13, 8',
    });
  });
});

describe('HTTP/2 (RFC 8441): weft’s client', () => {
  it('http2: true opens the WebSocket as a CONNECT stream; messages and close codes both ways', async () => {
    const { wss, port } = await h2Server();
    const serverSide = once(wss, 'connection');
    const ws = track(new WebSocket(`wss://localhost:${port}/live`, ['p1'], { http2: true, ca: TLS.cert }));
    await once(ws, 'open');
    const [peer, req] = await serverSide;
    assert.strictEqual(req.method, 'CONNECT');
    assert.strictEqual(req.url, '/live');
    assert.strictEqual(ws.protocol, 'p1');
    assert.strictEqual(ws.extensions, '');
    peer.on('message', (data) => peer.send(`echo ${data}`));
    ws.send('hi');
    const [data] = await once(ws, 'message');
    assert.strictEqual(data.toString(), 'echo hi');
    const serverClosed = once(peer, 'close');
    ws.close(4100, 'client bye');
    const [[code, reason], [clientCode]] = await Promise.all([serverClosed, once(ws, 'close')]);
    assert.deepStrictEqual([code, reason.toString(), clientCode], [4100, 'client bye', 4100]);
  });

  it('negotiates permessage-deflate over h2', async () => {
    const { wss, port } = await h2Server({ perMessageDeflate: { threshold: 0 } });
    wss.on('connection', echo);
    const ws = track(new WebSocket(`wss://localhost:${port}/`, { http2: true, ca: TLS.cert }));
    await once(ws, 'open');
    assert.strictEqual(ws.extensions, 'permessage-deflate');
    const payload = Buffer.alloc(200000, 'abc');
    ws.send(payload);
    const [data] = await once(ws, 'message');
    assert.ok(data.equals(payload));
  });

  it('server close and terminate reach the client: 1000 after a handshake, 1006 after RST_STREAM(CANCEL)', async () => {
    const { wss, port } = await h2Server();
    wss.on('connection', (peer) => {
      peer.on('message', (data) => (data.toString() === 'close' ? peer.close(1000) : peer.terminate()));
    });
    const a = track(new WebSocket(`wss://localhost:${port}/`, { http2: true, ca: TLS.cert }));
    await once(a, 'open');
    a.send('close');
    assert.strictEqual((await once(a, 'close'))[0], 1000);
    const b = track(new WebSocket(`wss://localhost:${port}/`, { http2: true, ca: TLS.cert }));
    await once(b, 'open');
    b.send('terminate');
    assert.strictEqual((await once(b, 'close'))[0], 1006);
  });

  it('a client terminate() closes its stream with RST_STREAM(CANCEL); the server sees 1006', async () => {
    // (Node's Http2Stream#close ends the writable side first: over TLS the END_STREAM can reach a peer
    // that answers it before the reset does, so the code is checked where it is sent.)
    const { wss, port } = await h2Server();
    const serverSide = once(wss, 'connection');
    const ws = track(new WebSocket(`wss://localhost:${port}/`, { http2: true, ca: TLS.cert }));
    await once(ws, 'open');
    const [peer] = await serverSide;
    const peerClosed = once(peer, 'close');
    const clientClosed = once(ws, 'close');
    const stream = ws._socket;
    ws.terminate();
    assert.strictEqual(stream.rstCode, NGHTTP2_CANCEL);
    const [code] = await peerClosed;
    assert.strictEqual(code, 1006);
    assert.strictEqual((await clientClosed)[0], 1006);
  });

  it('several WebSockets share a ClientHttp2Session that is passed in', async () => {
    const { wss, port, sessions } = await h2Server();
    const session = track(http2.connect(`https://localhost:${port}`, { ca: TLS.cert }));
    const reqs = [];
    wss.on('connection', (peer, req) => reqs.push(req));
    const a = track(new WebSocket(`wss://localhost:${port}/a`, { http2: session }));
    const b = track(new WebSocket(`wss://localhost:${port}/b`, { http2: session }));
    await Promise.all([once(a, 'open'), once(b, 'open')]);
    assert.strictEqual(sessions.length, 1);
    assert.deepStrictEqual(reqs.map((r) => r.url).sort(), ['/a', '/b']);
    assert.strictEqual(reqs[0].stream.session, sessions[0]);
    assert.strictEqual(reqs[1].stream.session, sessions[0]);
    a.close();
    await once(a, 'close');
    assert.strictEqual(session.closed, false);
  });

  it('falls back to HTTP/1.1 when the server speaks h2 without the connect protocol, or HTTP/1.1 only', async () => {
    // h2 without SETTINGS_ENABLE_CONNECT_PROTOCOL: the WebSocketServer only routes HTTP/1.1 upgrades.
    const server = track(http2.createSecureServer({ ...TLS, allowHTTP1: true }));
    const wss = track(new WebSocketServer({ noServer: true }));
    server.on('upgrade', (req, socket, head) => wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req)));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const connection = once(wss, 'connection');
    const ws = track(new WebSocket(`wss://localhost:${server.address().port}/`, { http2: true, ca: TLS.cert }));
    await once(ws, 'open');
    const [, req] = await connection;
    assert.strictEqual(req.httpVersion, '1.1');

    const h1 = track(https.createServer({ ...TLS }));
    const wss1 = track(new WebSocketServer({ server: h1 }));
    h1.listen(0, '127.0.0.1');
    await once(h1, 'listening');
    const connection1 = once(wss1, 'connection');
    const ws1 = track(new WebSocket(`wss://localhost:${h1.address().port}/`, { http2: true, ca: TLS.cert }));
    await once(ws1, 'open');
    assert.strictEqual((await connection1)[1].method, 'GET');
  });

  it('a refused CONNECT fails with the status; a handshake with no answer times out', async () => {
    const { port } = await h2Server({
      verifyClient(info, done) {
        if (info.req.url === '/deny') done(false, 403);
        // '/hang': never answered
      },
    });
    const denied = track(new WebSocket(`wss://localhost:${port}/deny`, { http2: true, ca: TLS.cert }));
    const deniedClose = once(denied, 'close');
    const [err] = await once(denied, 'error');
    assert.strictEqual(err.message, 'Unexpected server response: 403');
    assert.strictEqual((await deniedClose)[0], 1006);

    const hang = track(new WebSocket(`wss://localhost:${port}/hang`, { http2: true, ca: TLS.cert, handshakeTimeout: 100 }));
    const [timeout] = await once(hang, 'error');
    assert.strictEqual(timeout.message, 'Opening handshake has timed out');
  });

  it('close() while the CONNECT is pending cancels it', async () => {
    let pending = null;
    const { port } = await h2Server({
      verifyClient(info, done) {
        pending = info.req.stream;
        void done;
      },
    });
    const ws = track(new WebSocket(`wss://localhost:${port}/`, { http2: true, ca: TLS.cert }));
    ws.on('error', () => {});
    while (pending === null) await new Promise((resolve) => setTimeout(resolve, 5));
    ws.close();
    await once(ws, 'close');
    if (!pending.closed) await once(pending, 'close');
    assert.strictEqual(pending.rstCode, NGHTTP2_CANCEL);
  });
});
