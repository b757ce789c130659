'use strict';

// The client's opening handshake (RFC 6455 §4.1) against raw TCP servers that read the request and
// answer with crafted bytes: the request line and headers, every handshake error message, 'upgrade'
// and 'unexpected-response', handshakeTimeout, close/terminate during the handshake, the pass-through
// of http.request options (headers, agent, createConnection, lookup, auth), finishRequest,
// generateMask and the connection options handed to the core.
//
// WEFT_CLIENT_UNDER_TEST=ws runs the same assertions against ws 8.23's client.

const assert = require('assert');
const crypto = require('crypto');
const http = require('http');
const net = require('net');

const underWs = process.env.WEFT_CLIENT_UNDER_TEST === 'ws';
const WebSocket = underWs ? require('ws') : require('../../dist/lib/websocket').WebSocket;
const { once, outcome } = require('../support/client');
const { FrameReader } = require('../support/frames');

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

/** The Sec-WebSocket-Accept value for `key`, computed here independently of the code under test. */
function acceptOf(key) {
  return crypto.createHash('sha1').update(key + GUID).digest('base64');
}

/** A 101 response head for `key`, with `extra` header lines. */
function switching(key, extra = []) {
  const lines = ['HTTP/1.1 101 Switching Protocols', 'Upgrade: websocket', 'Connection: Upgrade'];
  lines.push(`Sec-WebSocket-Accept: ${acceptOf(key)}`, ...extra);
  return lines.join('\r\n') + '\r\n\r\n';
}

/** An unmasked server frame. */
function frame(opcode, payload, fin = true) {
  const data = Buffer.from(payload);
  assert(data.length < 126);
  return Buffer.concat([Buffer.from([(fin ? 0x80 : 0) | opcode, data.length]), data]);
}

/** Resolves with the arguments of the next `event` on `emitter`. */

describe('client handshake (raw server)', function () {
  let servers = [];
  let clients = [];

  /**
   * A raw TCP server: reads one HTTP request head per connection, parses it, and calls
   * `onHead(socket, head, rest)`; `head` = { method, path, version, headers (lower-case names), lines }.
   * Every head it read is in `server.heads`.
   */
  async function rawServer(onHead) {
    const sockets = new Set();
    const heads = [];
    const server = net.createServer((socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => {});
      let buf = Buffer.alloc(0);
      const onData = (chunk) => {
        buf = Buffer.concat([buf, chunk]);
        const end = buf.indexOf('\r\n\r\n');
        if (end === -1) return;
        socket.removeListener('data', onData);
        const lines = buf.subarray(0, end).toString('latin1').split('\r\n');
        const [method, path, version] = lines[0].split(' ');
        const headers = {};
        for (const line of lines.slice(1)) {
          const colon = line.indexOf(':');
          headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
        }
        const head = { method, path, version, headers, lines: lines.slice(1) };
        heads.push(head);
        onHead(socket, head, buf.subarray(end + 4));
      };
      socket.on('data', onData);
    });
    server.sockets = sockets;
    server.heads = heads;
    servers.push(server);
    await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
    server.url = `ws://127.0.0.1:${server.address().port}`;
    return server;
  }

  /** A raw server that accepts every handshake and then hands the socket to `then(socket, head)`. */
  function acceptingServer(then = () => {}, extra = []) {
    return rawServer((socket, head) => {
      socket.write(switching(head.headers['sec-websocket-key'], extra));
      then(socket, head);
    });
  }

  function client(...args) {
    const ws = new WebSocket(...args);
    clients.push(ws);
    return ws;
  }

  afterEach(async function () {
    for (const ws of clients) {
      ws.removeAllListeners('error');
      ws.on('error', () => {});
      ws.terminate();
    }
    clients = [];
    for (const server of servers) {
      for (const socket of server.sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    }
    servers = [];
  });

  describe('the request (§4.1 items 1-12)', function () {
    it('is a GET for the resource name over HTTP/1.1 with the upgrade headers', async function () {
      const server = await acceptingServer();
      const ws = client(`${server.url}/chat/room?id=7&x=%20y`);
      await once(ws, 'open');
      const head = server.heads[0];
      assert.strictEqual(head.method, 'GET');
      assert.strictEqual(head.path, '/chat/room?id=7&x=%20y');
      assert.strictEqual(head.version, 'HTTP/1.1');
      assert.strictEqual(head.headers.host, `127.0.0.1:${server.address().port}`);
      assert.strictEqual(head.headers.upgrade, 'websocket');
      assert.strictEqual(head.headers.connection, 'Upgrade');
      assert.strictEqual(head.headers['sec-websocket-version'], '13');
      assert.strictEqual(head.headers['sec-websocket-protocol'], undefined);
      assert.strictEqual(head.headers.origin, undefined);
      // ws's header names, in ws's case.
      assert(head.lines.some((l) => l.startsWith('Sec-WebSocket-Key: ')));
      assert(head.lines.some((l) => l.startsWith('Sec-WebSocket-Version: ')));
    });

    it('sends a fresh 16-byte base64 Sec-WebSocket-Key on every connection', async function () {
      const server = await acceptingServer();
      const a = client(server.url);
      const b = client(server.url);
      await Promise.all([once(a, 'open'), once(b, 'open')]);
      const [k1, k2] = server.heads.map((h) => h.headers['sec-websocket-key']);
      for (const key of [k1, k2]) {
        assert.match(key, /^[A-Za-z0-9+/]{22}==$/);
        assert.strictEqual(Buffer.from(key, 'base64').length, 16);
      }
      assert.notStrictEqual(k1, k2);
    });

    it('offers permessage-deflate by default, as ws does; a server that declines leaves none', async function () {
      const server = await acceptingServer();
      const ws = client(server.url);
      await once(ws, 'open');
      const offer = server.heads[0].headers['sec-websocket-extensions'];
      assert.strictEqual(offer, 'permessage-deflate; client_max_window_bits');
      assert.strictEqual(ws.extensions, '');
    });

    it('sends no Sec-WebSocket-Extensions with perMessageDeflate: false', async function () {
      const server = await acceptingServer();
      const ws = client(server.url, { perMessageDeflate: false });
      await once(ws, 'open');
      assert.strictEqual(server.heads[0].headers['sec-websocket-extensions'], undefined);
    });

    it('joins the subprotocols with "," in Sec-WebSocket-Protocol', async function () {
      const server = await acceptingServer(() => {}, ['Sec-WebSocket-Protocol: b']);
      const ws = client(server.url, ['a', 'b', 'c']);
      await once(ws, 'open');
      assert.strictEqual(server.heads[0].headers['sec-websocket-protocol'], 'a,b,c');
      assert.strictEqual(ws.protocol, 'b');
    });

    it('sends origin as Origin with version 13', async function () {
      const server = await acceptingServer();
      const ws = client(server.url, { origin: 'https://example.com' });
      await once(ws, 'open');
      assert.strictEqual(server.heads[0].headers.origin, 'https://example.com');
      assert.strictEqual(server.heads[0].headers['sec-websocket-origin'], undefined);
    });

    it('sends origin as Sec-WebSocket-Origin and version 8 with protocolVersion: 8', async function () {
      const server = await acceptingServer();
      const ws = client(server.url, { origin: 'https://example.com', protocolVersion: 8 });
      await once(ws, 'open');
      assert.strictEqual(server.heads[0].headers['sec-websocket-version'], '8');
      assert.strictEqual(server.heads[0].headers['sec-websocket-origin'], 'https://example.com');
      assert.strictEqual(server.heads[0].headers.origin, undefined);
    });

    it('passes custom headers through, but the handshake headers win', async function () {
      const server = await acceptingServer();
      const ws = client(server.url, {
        headers: { 'X-Token': 'abc', Cookie: 'a=1', 'Sec-WebSocket-Version': '99', upgrade: 'h2c' },
      });
      await once(ws, 'open');
      const headers = server.heads[0].headers;
      assert.strictEqual(headers['x-token'], 'abc');
      assert.strictEqual(headers.cookie, 'a=1');
      assert.strictEqual(headers['sec-websocket-version'], '13');
      assert.strictEqual(headers.upgrade, 'websocket');
    });

    it('turns URL credentials into Authorization, unescaped', async function () {
      const server = await acceptingServer();
      const port = server.address().port;
      const ws = client(`ws://us%20er:p%40ss%3Aw@127.0.0.1:${port}/`);
      await once(ws, 'open');
      const expected = 'Basic ' + Buffer.from('us er:p@ss:w').toString('base64');
      assert.strictEqual(server.heads[0].headers.authorization, expected);
      // The URL keeps its escaped form.
      assert.strictEqual(ws.url, `ws://us%20er:p%40ss%3Aw@127.0.0.1:${port}/`);
    });

    it('passes the auth option through', async function () {
      const server = await acceptingServer();
      const ws = client(server.url, { auth: 'me:secret' });
      await once(ws, 'open');
      assert.strictEqual(server.heads[0].headers.authorization, 'Basic ' + Buffer.from('me:secret').toString('base64'));
    });

    it('ignores the request options the URL decides (host, port, path, method, protocol)', async function () {
      const server = await acceptingServer();
      const ws = client(`${server.url}/real`, {
        host: 'example.com', hostname: 'example.com', port: 1, path: '/fake', method: 'POST',
        protocol: 'https:', socketPath: '/nonexistent.sock',
      });
      await once(ws, 'open');
      assert.strictEqual(server.heads[0].method, 'GET');
      assert.strictEqual(server.heads[0].path, '/real');
    });

    it('hands each request to finishRequest(req, ws), which ends it', async function () {
      const server = await acceptingServer();
      const calls = [];
      const ws = client(server.url, {
        finishRequest(req, socket) {
          calls.push([req instanceof http.ClientRequest, socket, req === socket._req]);
          req.setHeader('X-Finished', 'yes');
          req.end();
        },
      });
      await once(ws, 'open');
      assert.deepStrictEqual(calls, [[true, ws, true]]);
      assert.strictEqual(server.heads[0].headers['x-finished'], 'yes');
    });

    it('sends nothing until finishRequest ends the request', async function () {
      const server = await acceptingServer();
      let request;
      const ws = client(server.url, { finishRequest: (req) => { request = req; } });
      await once(server, 'connection');
      await new Promise((resolve) => setTimeout(resolve, 50));
      assert.strictEqual(server.heads.length, 0);
      assert.strictEqual(ws.readyState, WebSocket.CONNECTING);
      request.setHeader('X-Late', '1');
      request.end();
      await once(ws, 'open');
      assert.strictEqual(server.heads.length, 1);
      assert.strictEqual(server.heads[0].headers['x-late'], '1');
    });
  });

  describe('request option pass-through', function () {
    it('uses createConnection with the request options (IPv6 brackets removed)', async function () {
      const server = await acceptingServer();
      const seen = [];
      const ws = client('ws://[::1]:9/path', {
        createConnection(options) {
          seen.push([options.host, String(options.port)]);
          return net.connect(server.address().port, '127.0.0.1');
        },
      });
      await once(ws, 'open');
      assert.deepStrictEqual(seen, [['::1', '9']]);
      assert.strictEqual(server.heads[0].headers.host, '[::1]:9');
      assert.strictEqual(server.heads[0].path, '/path');
      assert.strictEqual(ws.url, 'ws://[::1]:9/path');
    });

    it('takes net.createConnection itself as createConnection (the type @types/ws gives the option)', async function () {
      const server = await acceptingServer();
      const ws = client(`ws://127.0.0.1:${server.address().port}/direct`, { createConnection: net.createConnection });
      if (Number(process.versions.node.split('.')[0]) >= 20) {
        await once(ws, 'open');
        assert.strictEqual(server.heads.length, 1);
        assert.strictEqual(server.heads[0].path, '/direct');
        assert.strictEqual(ws.readyState, 1);
      } else {
        // Node 18's http.request hands its own options, request `path` included, to createConnection,
        // and net.createConnection takes a `path` for an IPC socket: ws fails the same way there.
        const { events, error } = await outcome(ws);
        assert.strictEqual(error.code, 'ENOENT');
        assert.deepStrictEqual(events, ['error(2): connect ENOENT /direct', 'close(3): 1006']);
        assert.strictEqual(server.heads.length, 0);
      }
    });

    it('resolves the host with the lookup option', async function () {
      const server = await acceptingServer();
      const names = [];
      const ws = client(`ws://weft-test.invalid:${server.address().port}/`, {
        lookup(hostname, options, callback) {
          names.push(hostname);
          if (options.all) callback(null, [{ address: '127.0.0.1', family: 4 }]);
          else callback(null, '127.0.0.1', 4);
        },
      });
      await once(ws, 'open');
      assert.deepStrictEqual(names, ['weft-test.invalid']);
      assert.strictEqual(server.heads[0].headers.host, `weft-test.invalid:${server.address().port}`);
    });

    it('connects through the agent option', async function () {
      const server = await acceptingServer();
      const created = [];
      class CountingAgent extends http.Agent {
        createConnection(options, callback) {
          created.push(options.host);
          return super.createConnection(options, callback);
        }
      }
      const agent = new CountingAgent();
      const ws = client(server.url, { agent });
      await once(ws, 'open');
      assert.deepStrictEqual(created, ['127.0.0.1']);
      agent.destroy();
    });

    it('binds to localAddress', async function () {
      const server = await acceptingServer();
      const ws = client(server.url, { localAddress: '127.0.0.1', family: 4 });
      const [socket] = await once(server, 'connection');
      await once(ws, 'open');
      assert.strictEqual(socket.remoteAddress, '127.0.0.1');
    });
  });

  describe('the response (§4.1 "the client MUST validate the server\'s response")', function () {
    /** Answers with `head(key)` and resolves the client's outcome and the server-side socket's close. */
    async function answer(respond, protocols, options) {
      const server = await rawServer((socket, head) => socket.write(respond(head.headers['sec-websocket-key'])));
      const ws = client(server.url, protocols, options);
      const [socket] = await once(server, 'connection');
      const closed = once(socket, 'close');
      const result = await outcome(ws);
      await closed;
      return { ws, ...result };
    }

    const failures = [
      ['Upgrade is not websocket', (k) => switching(k).replace('Upgrade: websocket', 'Upgrade: h2c'), [], 'Invalid Upgrade header'],
      ['Sec-WebSocket-Accept is wrong', (k) => switching(k).replace(acceptOf(k), acceptOf(k + 'x')), [], 'Invalid Sec-WebSocket-Accept header'],
      ['Sec-WebSocket-Accept is missing', (k) => switching(k).replace(/Sec-WebSocket-Accept: .*\r\n/, ''), [], 'Invalid Sec-WebSocket-Accept header'],
      ['a subprotocol comes unrequested', (k) => switching(k, ['Sec-WebSocket-Protocol: a']), [], 'Server sent a subprotocol but none was requested'],
      ['the subprotocol was not offered', (k) => switching(k, ['Sec-WebSocket-Protocol: c']), ['a', 'b'], 'Server sent an invalid subprotocol'],
      ['no subprotocol is selected', (k) => switching(k), ['a', 'b'], 'Server sent no subprotocol'],
      [
        'an extension comes unrequested',
        (k) => switching(k, ['Sec-WebSocket-Extensions: permessage-deflate']),
        [],
        'Server sent a Sec-WebSocket-Extensions header but no extension was requested',
      ],
      ['the status is 101 without an Upgrade header', (k) => switching(k).replace('Upgrade: websocket\r\n', ''), [], 'Unexpected server response: 101'],
    ];

    for (const [what, respond, protocols, message] of failures) {
      it(`fails with "${message}" when ${what}`, async function () {
        const result = await answer(respond, protocols, { perMessageDeflate: false });
        assert.deepStrictEqual(result.events, [`error(2): ${message}`, 'close(3): 1006']);
        assert.strictEqual(result.error.constructor, Error);
        // Past 'upgrade' the request is done with; a plain response leaves it in place, as ws does.
        if (message.startsWith('Unexpected')) assert(result.ws._req instanceof http.ClientRequest);
        else assert.strictEqual(result.ws._req, null);
      });
    }

    it('records the selected subprotocol before the extension check, as ws does', async function () {
      const result = await answer(
        (k) => switching(k, ['Sec-WebSocket-Protocol: b', 'Sec-WebSocket-Extensions: foo']),
        ['a', 'b'],
        { perMessageDeflate: false },
      );
      assert.strictEqual(result.error.message, 'Server sent a Sec-WebSocket-Extensions header but no extension was requested');
      assert.strictEqual(result.ws.protocol, 'b');
    });

    it('fails a default client whose server answers with an extension (none was offered)', async function () {
      const server = await rawServer((socket, head) =>
        socket.write(switching(head.headers['sec-websocket-key'], ['Sec-WebSocket-Extensions: x-unknown'])),
      );
      const result = await outcome(client(server.url));
      const expected = 'Server indicated an extension that was not requested';
      assert.deepStrictEqual(result.events, [`error(2): ${expected}`, 'close(3): 1006']);
    });

    it('accepts header values in any case and opens, emitting upgrade(res) first', async function () {
      const server = await rawServer((socket, head) =>
        socket.write(switching(head.headers['sec-websocket-key'], ['X-Extra: 1']).replace('Upgrade: websocket', 'Upgrade: WebSocket')),
      );
      const ws = client(server.url);
      const events = [];
      ws.on('upgrade', (res) => events.push(['upgrade', res.statusCode, res.headers['x-extra'], ws.readyState]));
      ws.on('open', () => events.push(['open', ws.readyState]));
      await once(ws, 'open');
      assert.deepStrictEqual(events, [['upgrade', 101, '1', 0], ['open', 1]]);
      assert.strictEqual(ws._req, null);
    });

    it('errors with "Unexpected server response: <status>" when unexpected-response has no listener', async function () {
      const result = await answer(() => 'HTTP/1.1 403 Forbidden\r\nContent-Length: 4\r\n\r\nnope');
      assert.deepStrictEqual(result.events, ['error(2): Unexpected server response: 403', 'close(3): 1006']);
    });

    it('hands a non-101 response to unexpected-response(req, res) and leaves the rest to it', async function () {
      const server = await rawServer((socket) =>
        socket.write('HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic\r\nContent-Length: 6\r\n\r\ndenied'),
      );
      const ws = client(server.url);
      const [req, res] = await once(ws, 'unexpected-response');
      assert(req instanceof http.ClientRequest);
      assert.strictEqual(req, ws._req);
      assert.strictEqual(res.statusCode, 401);
      assert.strictEqual(res.headers['www-authenticate'], 'Basic');
      let body = '';
      for await (const chunk of res) body += chunk;
      assert.strictEqual(body, 'denied');
      assert.strictEqual(ws.readyState, WebSocket.CONNECTING);
      const result = outcome(ws);
      ws.close();
      assert.deepStrictEqual((await result).events, [
        'error(2): WebSocket was closed before the connection was established',
        'close(3): 1006',
      ]);
    });

    it('reads the frames that arrive with the 101 response', async function () {
      const server = await rawServer((socket, head) => {
        socket.write(Buffer.concat([Buffer.from(switching(head.headers['sec-websocket-key'])), frame(1, 'early')]));
      });
      const ws = client(server.url);
      const [data, isBinary] = await once(ws, 'message');
      assert.strictEqual(data.toString(), 'early');
      assert.strictEqual(isBinary, false);
    });
  });

  describe('handshakeTimeout', function () {
    it('fails with "Opening handshake has timed out" when the server never answers', async function () {
      const server = await rawServer(() => {});
      const ws = client(server.url, { handshakeTimeout: 50 });
      const [socket] = await once(server, 'connection');
      const closed = once(socket, 'close');
      const result = await outcome(ws);
      assert.deepStrictEqual(result.events, ['error(2): Opening handshake has timed out', 'close(3): 1006']);
      await closed;
    });

    it('no longer applies once the connection is open', async function () {
      const server = await acceptingServer((socket) => setTimeout(() => socket.write(frame(1, 'late')), 150));
      const ws = client(server.url, { handshakeTimeout: 50 });
      const events = [];
      ws.on('error', (err) => events.push(err.message));
      await once(ws, 'open');
      const [data] = await once(ws, 'message');
      assert.strictEqual(data.toString(), 'late');
      assert.deepStrictEqual(events, []);
    });
  });

  describe('close() and terminate() during the handshake', function () {
    for (const method of ['close', 'terminate']) {
      it(`${method}() before the response: error, then close 1006, and the request is aborted`, async function () {
        const server = await rawServer(() => {});
        const ws = client(server.url);
        const [socket] = await once(server, 'connection');
        const closed = once(socket, 'close');
        const result = outcome(ws);
        ws[method]();
        assert.strictEqual(ws.readyState, WebSocket.CLOSING);
        assert.deepStrictEqual((await result).events, [
          'error(2): WebSocket was closed before the connection was established',
          'close(3): 1006',
        ]);
        await closed;
      });

      it(`${method}() in the same tick as the constructor`, async function () {
        const server = await rawServer(() => {});
        const ws = client(server.url);
        const result = outcome(ws);
        ws[method]();
        assert.deepStrictEqual((await result).events, [
          'error(2): WebSocket was closed before the connection was established',
          'close(3): 1006',
        ]);
      });

      it(`${method}() from an 'upgrade' listener: no 'open', and the socket is destroyed`, async function () {
        const server = await acceptingServer();
        const ws = client(server.url);
        ws.on('upgrade', () => ws[method]());
        const [socket] = await once(server, 'connection');
        const closed = once(socket, 'close');
        assert.deepStrictEqual((await outcome(ws)).events, [
          'error(2): WebSocket was closed before the connection was established',
          'close(3): 1006',
        ]);
        await closed;
      });
    }
  });

  describe('request errors', function () {
    it('reports ECONNREFUSED as error then close 1006', async function () {
      const server = await rawServer(() => {});
      const url = server.url;
      servers = [];
      await new Promise((resolve) => server.close(resolve));
      const ws = client(url);
      const result = await outcome(ws);
      assert.strictEqual(result.error.code, 'ECONNREFUSED');
      assert.strictEqual(result.events[1], 'close(3): 1006');
      assert.strictEqual(result.events.length, 2);
      assert.strictEqual(ws._req, null);
    });

    it('reports a connection reset before the response as error then close 1006', async function () {
      const server = await rawServer((socket) => socket.destroy());
      const result = await outcome(client(server.url));
      assert.strictEqual(result.error.code, 'ECONNRESET');
      assert.strictEqual(result.error.message, 'socket hang up');
      assert.deepStrictEqual(result.events.slice(1), ['close(3): 1006']);
    });
  });

  describe('connection options handed to the core', function () {
    it('masks with generateMask: zero mask, then a fixed one', async function () {
      let onFrames;
      const got = new Promise((resolve) => { onFrames = resolve; });
      // A client's frames: a frame not masked fails the reader.
      const reader = new FrameReader({ masked: true });
      const server = await acceptingServer((socket) => {
        socket.on('data', (chunk) => {
          reader.push(chunk);
          if (reader.frames.length >= 2) onFrames(reader.frames);
        });
      });
      const masks = [Buffer.alloc(4), Buffer.from([1, 2, 3, 4])];
      const ws = client(server.url, { generateMask: (mask) => masks.shift().copy(mask) });
      await once(ws, 'open');
      ws.send('hello');
      ws.send('world');
      const [first, second] = await got;
      // The exact bytes on the wire: the zero mask leaves the payload as is, the second is XORed with 1 2 3 4.
      assert.deepStrictEqual(first.bytes, Buffer.from([0x81, 0x85, 0, 0, 0, 0, ...Buffer.from('hello')]));
      assert.deepStrictEqual(first.mask, Buffer.alloc(4));
      assert.strictEqual(first.payload.toString(), 'hello');
      const world = Buffer.from('world').map((b, i) => b ^ (i % 4) + 1);
      assert.deepStrictEqual(second.bytes, Buffer.from([0x81, 0x85, 1, 2, 3, 4, ...world]));
      assert.deepStrictEqual(second.mask, Buffer.from([1, 2, 3, 4]));
      assert.strictEqual(second.payload.toString(), 'world');
    });

    it('enforces maxPayload', async function () {
      const server = await acceptingServer((socket) => socket.write(frame(2, Buffer.alloc(11))));
      const ws = client(server.url, { maxPayload: 10 });
      const [err] = await once(ws, 'error');
      assert.strictEqual(err.code, 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH');
      assert(err instanceof RangeError);
    });

    it('enforces maxFragments', async function () {
      const server = await acceptingServer((socket) =>
        socket.write(Buffer.concat([frame(1, 'a', false), frame(0, 'b', false), frame(0, 'c', true)])),
      );
      const ws = client(server.url, { maxFragments: 2 });
      const [err] = await once(ws, 'error');
      assert.strictEqual(err.code, 'WS_ERR_TOO_MANY_BUFFERED_PARTS');
    });

    it('validates UTF-8 unless skipUTF8Validation', async function () {
      const bad = Buffer.from([0xff, 0xfe]);
      const server = await acceptingServer((socket) => socket.write(frame(1, bad)));
      const strict = client(server.url);
      const [err] = await once(strict, 'error');
      assert.strictEqual(err.code, 'WS_ERR_INVALID_UTF8');
      const lax = client(server.url, { skipUTF8Validation: true });
      const [data, isBinary] = await once(lax, 'message');
      assert.deepStrictEqual(data, bad);
      assert.strictEqual(isBinary, false);
    });

    it('answers pings (before emitting \'ping\') unless autoPong is false', async function () {
      async function framesAfterPing(options) {
        let socket;
        const server = await acceptingServer((s) => {
          socket = s;
          s.write(frame(9, 'p'));
        });
        const ws = client(server.url, options);
        ws.on('ping', () => ws.send('marker'));
        // A client's frames: a frame not masked fails the reader.
        const reader = new FrameReader({ masked: true });
        await once(ws, 'open');
        await new Promise((resolve) => {
          socket.on('data', (chunk) => {
            for (const f of reader.push(chunk)) if (f.opcode === 1) resolve();
          });
        });
        return reader.frames.map((f) => [f.opcode, f.payload.toString()]);
      }
      assert.deepStrictEqual(await framesAfterPing({}), [[0xa, 'p'], [1, 'marker']]);
      assert.deepStrictEqual(await framesAfterPing({ autoPong: false }), [[1, 'marker']]);
    });

    it('emits messages of one chunk in one tick, or one per tick with allowSynchronousEvents: false', async function () {
      const twoFrames = Buffer.concat([frame(1, 'one'), frame(1, 'two')]);
      async function order(options) {
        const server = await rawServer((socket, head) =>
          socket.write(Buffer.concat([Buffer.from(switching(head.headers['sec-websocket-key'])), twoFrames])),
        );
        const ws = client(server.url, options);
        const events = [];
        ws.on('message', (data) => {
          events.push(data.toString());
          if (events.length === 1) process.nextTick(() => events.push('tick'));
        });
        while (events.length < 3) await new Promise((resolve) => setImmediate(resolve));
        return events;
      }
      assert.deepStrictEqual(await order({}), ['one', 'two', 'tick']);
      assert.deepStrictEqual(await order({ allowSynchronousEvents: false }), ['one', 'tick', 'two']);
    });

    it('keeps closeTimeout for the closing handshake', async function () {
      const server = await acceptingServer();
      const ws = client(server.url, { closeTimeout: 20 });
      await once(ws, 'open');
      // The raw server never answers the close frame: the socket is destroyed after closeTimeout.
      const result = outcome(ws);
      ws.close(1000);
      assert.deepStrictEqual((await result).events, ['close(3): 1006']);
    });
  });
});
