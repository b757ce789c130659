'use strict';
// WebSocketStream (lib/websocket-stream.ts) against real weft servers over loopback, and raw TCP peers
// where a handshake must hang: opening, echo of text and binary, close codes both ways, the `closed`
// values, abort via signal, and backpressure both ways.
const assert = require('assert');
const http = require('http');
const net = require('net');
const WebSocket = require('../..');
const { once } = require('../support/client');

const { WebSocketStream, WebSocketError, WebSocketServer } = WebSocket;

/** Resolves once `read()` has returned the same value `times` polls in a row (a quiet period, not a check). */
async function settle(read, times = 5, everyMs = 40) {
  let last = read();
  let same = 0;
  while (same < times) {
    await new Promise((resolve) => setTimeout(resolve, everyMs));
    const now = read();
    if (now === last) same++;
    else {
      same = 0;
      last = now;
    }
  }
  return last;
}

/** The outcome of a promise: { value } or { error }. */
function outcome(promise) {
  return promise.then(
    (value) => ({ value }),
    (error) => ({ error }),
  );
}

describe('WebSocketStream', () => {
  let wss;
  let url;
  /** Server-side sockets, in accept order; `accepted()` waits for the next one. */
  let serverSockets;
  let waiting;
  const cleanup = [];

  beforeEach(async () => {
    serverSockets = [];
    waiting = [];
    wss = new WebSocketServer({ port: 0, handleProtocols: (set) => (set.has('chat') ? 'chat' : false) });
    wss.on('connection', (ws) => {
      ws.on('error', () => {});
      if (waiting.length) waiting.shift()(ws);
      else serverSockets.push(ws);
    });
    await once(wss, 'listening');
    url = `ws://127.0.0.1:${wss.address().port}`;
  });

  afterEach(async () => {
    for (const fn of cleanup.splice(0)) fn();
    for (const ws of wss.clients) ws.terminate();
    await new Promise((resolve) => wss.close(resolve));
  });

  function accepted() {
    if (serverSockets.length) return Promise.resolve(serverSockets.shift());
    return new Promise((resolve) => waiting.push(resolve));
  }

  /** A server socket that echoes every message with its type. */
  async function echoing() {
    const ws = await accepted();
    ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
    return ws;
  }

  it('is exported from CommonJS and ESM', () => {
    const { spawnSync } = require('child_process');
    const path = require('path');
    assert.strictEqual(typeof WebSocketStream, 'function');
    assert.ok(WebSocketError.prototype instanceof DOMException);
    const script = `import WebSocket, { WebSocketStream, WebSocketError } from 'weft';
      console.log(WebSocketStream === WebSocket.WebSocketStream && WebSocketError === WebSocket.WebSocketError);`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
      cwd: path.join(__dirname, '..', '..'),
      encoding: 'utf8',
    });
    assert.strictEqual(r.stdout.trim(), 'true', r.stderr);
  });

  describe('client: opening and echo', () => {
    it('opened gives readable, writable, protocol and extensions; text comes back as strings', async () => {
      const client = new WebSocketStream(url, { protocols: ['chat', 'other'] });
      assert.strictEqual(client.url, url);
      const server = echoing();
      const info = await client.opened;
      await server;
      assert.strictEqual(info.protocol, 'chat');
      assert.strictEqual(info.extensions, '');
      assert.ok(info.readable instanceof ReadableStream);
      assert.ok(info.writable instanceof WritableStream);
      const writer = info.writable.getWriter();
      const reader = info.readable.getReader();
      await writer.write('héllo 😀');
      await writer.write('');
      assert.deepStrictEqual(await reader.read(), { value: 'héllo 😀', done: false });
      assert.deepStrictEqual(await reader.read(), { value: '', done: false });
      client.close();
      await client.closed;
    });

    it('binary comes back as plain Uint8Arrays; ArrayBuffer, views, DataView and Buffer are sent as binary', async () => {
      const client = new WebSocketStream(url);
      const received = [];
      accepted().then((ws) =>
        ws.on('message', (data, isBinary) => {
          received.push({ bytes: [...data], isBinary });
          ws.send(data, { binary: isBinary });
        }),
      );
      const { readable, writable } = await client.opened;
      const writer = writable.getWriter();
      const reader = readable.getReader();
      const big = new Uint8Array([9, 1, 2, 3, 9]);
      await writer.write(new Uint8Array([1, 2, 3]).buffer);
      await writer.write(big.subarray(1, 4)); // only the view's bytes go out
      await writer.write(new DataView(big.buffer, 1, 2));
      await writer.write(Buffer.from([4, 5]));
      await writer.write(new Uint16Array([0x0201]));
      const values = [];
      for (let i = 0; i < 5; i++) values.push((await reader.read()).value);
      for (const v of values) {
        assert.strictEqual(Object.getPrototypeOf(v), Uint8Array.prototype);
      }
      assert.deepStrictEqual(values.map((v) => [...v]), [[1, 2, 3], [1, 2, 3], [1, 2], [4, 5], [1, 2]]);
      assert.deepStrictEqual(received.map((r) => r.isBinary), [true, true, true, true, true]);
      client.close();
      await client.closed;
    });

    it('other chunks are sent as text, converted to strings', async () => {
      const client = new WebSocketStream(url);
      const server = await accepted();
      const got = [];
      server.on('message', (data, isBinary) => got.push([data.toString(), isBinary]));
      const { writable } = await client.opened;
      const writer = writable.getWriter();
      await writer.write(42);
      await writer.write({ toString: () => 'obj' });
      await assert.rejects(writer.write(Symbol('s')), TypeError);
      client.close();
      await client.closed;
      assert.deepStrictEqual(got, [['42', false], ['obj', false]]);
    });

    it('passes client options through to the weft client (headers)', async () => {
      const client = new WebSocketStream(url, { headers: { 'x-test': 'yes' } });
      let header;
      wss.once('headers', (_, req) => (header = req.headers['x-test']));
      await client.opened;
      assert.strictEqual(header, 'yes');
      client.close();
      await client.closed;
    });

    it('throws a SyntaxError DOMException for a bad URL or subprotocol list, aborted signal or not', () => {
      const isSyntaxError = (err) => err instanceof DOMException && err.name === 'SyntaxError';
      for (const signal of [undefined, AbortSignal.abort()]) {
        assert.throws(() => new WebSocketStream('ftp://x', { signal }), isSyntaxError);
        assert.throws(() => new WebSocketStream('not a url', { signal }), isSyntaxError);
        assert.throws(() => new WebSocketStream(`${url}/#frag`, { signal }), isSyntaxError);
        assert.throws(() => new WebSocketStream(url, { protocols: ['a', 'a'], signal }), isSyntaxError);
        assert.throws(() => new WebSocketStream(url, { protocols: ['a b'], signal }), isSyntaxError);
      }
      assert.throws(() => new WebSocketStream(url, 'chat'), TypeError);
    });

    it('opened and closed reject with a WebSocketError (1006) when the server refuses', async () => {
      const server = http.createServer((req, res) => res.writeHead(404).end());
      server.on('upgrade', (req, socket) => socket.end('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n'));
      await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
      cleanup.push(() => server.close());
      const client = new WebSocketStream(`ws://127.0.0.1:${server.address().port}`);
      const [opened, closed] = await Promise.all([outcome(client.opened), outcome(client.closed)]);
      assert.ok(opened.error instanceof WebSocketError, String(opened.error));
      assert.strictEqual(opened.error.closeCode, 1006);
      assert.match(opened.error.message, /404/);
      assert.strictEqual(closed.error, opened.error);
    });
  });

  describe('close codes and the closed promise', () => {
    it('close({ closeCode, reason }) reaches the server and closed resolves with them', async () => {
      const client = new WebSocketStream(url);
      const server = await accepted();
      await client.opened;
      const serverClose = once(server, 'close');
      client.close({ closeCode: 3001, reason: 'bye ✓' });
      const [code, reason] = await serverClose;
      assert.strictEqual(code, 3001);
      assert.strictEqual(reason.toString(), 'bye ✓');
      assert.deepStrictEqual(await client.closed, { closeCode: 3001, reason: 'bye ✓' });
    });

    it('close() sends an empty close frame (1005); a reason alone means 1000', async () => {
      const a = new WebSocketStream(url);
      const sa = await accepted();
      await a.opened;
      const saClose = once(sa, 'close');
      a.close();
      assert.strictEqual((await saClose)[0], 1005);
      assert.deepStrictEqual(await a.closed, { closeCode: 1005, reason: '' });

      const b = new WebSocketStream(url);
      const sb = await accepted();
      await b.opened;
      const sbClose = once(sb, 'close');
      b.close({ reason: 'done' });
      assert.deepStrictEqual((await sbClose).map(String), ['1000', 'done']);
      assert.deepStrictEqual(await b.closed, { closeCode: 1000, reason: 'done' });
    });

    it('close() checks its argument: TypeError, InvalidAccessError, SyntaxError', async () => {
      const client = new WebSocketStream(url);
      await client.opened;
      assert.throws(() => client.close(true), TypeError);
      for (const closeCode of [999, 1001, 1005, 2999, 5000]) {
        assert.throws(() => client.close({ closeCode }), (err) => err instanceof DOMException && err.name === 'InvalidAccessError', String(closeCode));
      }
      assert.throws(() => client.close({ closeCode: 70000 }), TypeError);
      assert.throws(() => client.close({ reason: 'x'.repeat(124) }), (err) => err.name === 'SyntaxError');
      assert.throws(() => client.close({ reason: '€'.repeat(42) }), (err) => err.name === 'SyntaxError'); // 126 bytes
      client.close({ closeCode: 4999, reason: '€'.repeat(41) }); // 123 bytes
      assert.deepStrictEqual(await client.closed, { closeCode: 4999, reason: '€'.repeat(41) });
    });

    it('a server close ends the readable after the messages sent before it; closed has its code', async () => {
      const client = new WebSocketStream(url);
      const server = await accepted();
      const { readable } = await client.opened;
      server.send('one');
      server.send(Buffer.from([1]));
      server.close(4000, 'server done');
      const got = [];
      for await (const chunk of readable) got.push(typeof chunk === 'string' ? chunk : [...chunk]);
      assert.deepStrictEqual(got, ['one', [1]]);
      assert.deepStrictEqual(await client.closed, { closeCode: 4000, reason: 'server done' });
    });

    it('an abnormal closure rejects closed with a WebSocketError (1006) and errors both streams', async () => {
      const client = new WebSocketStream(url);
      const server = await accepted();
      const { readable, writable } = await client.opened;
      const reader = readable.getReader();
      const writer = writable.getWriter();
      server.terminate();
      const closed = await outcome(client.closed);
      assert.ok(closed.error instanceof WebSocketError);
      assert.ok(closed.error instanceof DOMException);
      assert.strictEqual(closed.error.name, 'WebSocketError');
      assert.strictEqual(closed.error.closeCode, 1006);
      assert.strictEqual(closed.error.reason, '');
      await assert.rejects(reader.read(), (err) => err === closed.error);
      await assert.rejects(writer.write('late'), (err) => err === closed.error);
    });

    it('writable.close() closes cleanly (1005) and resolves once the closing handshake is done', async () => {
      const client = new WebSocketStream(url);
      const server = await accepted();
      const { writable } = await client.opened;
      const order = [];
      client.closed.then(() => order.push('closed'));
      server.on('close', (code) => order.push(`server ${code}`));
      await writable.getWriter().close();
      order.push('writer.close()');
      assert.deepStrictEqual(await client.closed, { closeCode: 1005, reason: '' });
      // The writer's close() waited for the server's close frame: the connection is closed by then.
      assert.strictEqual(order[order.length - 1], 'writer.close()');
      assert.ok(order.includes('closed'), order.join());
    });

    it('writable.abort(WebSocketError) and readable.cancel(WebSocketError) close with its code and reason', async () => {
      const a = new WebSocketStream(url);
      const sa = await accepted();
      const infoA = await a.opened;
      const saClose = once(sa, 'close');
      await infoA.writable.abort(new WebSocketError('stop', { closeCode: 4001, reason: 'aborted' }));
      assert.deepStrictEqual((await saClose).map(String), ['4001', 'aborted']);
      assert.deepStrictEqual(await a.closed, { closeCode: 4001, reason: 'aborted' });

      const b = new WebSocketStream(url);
      const sb = await accepted();
      const infoB = await b.opened;
      const sbClose = once(sb, 'close');
      await infoB.readable.cancel(new WebSocketError('', { reason: 'cancelled' }));
      assert.deepStrictEqual((await sbClose).map(String), ['1000', 'cancelled']);
      assert.deepStrictEqual(await b.closed, { closeCode: 1000, reason: 'cancelled' });
    });

    it('abort() and cancel() with anything but a WebSocketError close without a code (1005)', async () => {
      for (const how of ['abort', 'cancel']) {
        const client = new WebSocketStream(url);
        const server = await accepted();
        const info = await client.opened;
        const serverClose = once(server, 'close');
        if (how === 'abort') await info.writable.abort({ closeCode: 3456, reason: 'ignored' });
        else await info.readable.cancel({ closeCode: 3456, reason: 'ignored' });
        assert.strictEqual((await serverClose)[0], 1005, how);
        assert.deepStrictEqual(await client.closed, { closeCode: 1005, reason: '' }, how);
      }
    });

    it('WebSocketError checks its code and reason like close()', () => {
      const e = new WebSocketError('m', { closeCode: 3000, reason: 'r' });
      assert.strictEqual(e.message, 'm');
      assert.strictEqual(e.closeCode, 3000);
      assert.strictEqual(e.reason, 'r');
      assert.strictEqual(new WebSocketError().closeCode, null);
      assert.strictEqual(new WebSocketError('', { reason: 'x' }).closeCode, 1000);
      assert.throws(() => new WebSocketError('', { closeCode: 1006 }), (err) => err.name === 'InvalidAccessError');
      assert.throws(() => new WebSocketError('', { reason: 'x'.repeat(124) }), (err) => err.name === 'SyntaxError');
    });
  });

  describe('abort and close before open', () => {
    /** A TCP server that accepts connections and never answers the handshake. */
    async function silentServer() {
      const sockets = [];
      const server = net.createServer((s) => sockets.push(s));
      await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
      cleanup.push(() => {
        for (const s of sockets) s.destroy();
        server.close();
      });
      return { url: `ws://127.0.0.1:${server.address().port}`, sockets, server };
    }

    it('an already aborted signal: no connection is made, opened and closed reject with its reason', async () => {
      let connections = 0;
      wss.on('connection', () => connections++);
      const reason = new Error('not today');
      const client = new WebSocketStream(url, { signal: AbortSignal.abort(reason) });
      const [opened, closed] = await Promise.all([outcome(client.opened), outcome(client.closed)]);
      assert.strictEqual(opened.error, reason);
      assert.strictEqual(closed.error, reason);
      // A connection that was made would have been accepted by now: a later one proves the order.
      const probe = new WebSocketStream(url);
      await probe.opened;
      probe.close();
      await probe.closed;
      assert.strictEqual(connections, 1);
    });

    it('aborting during the handshake drops the connection and rejects with the signal\'s reason', async () => {
      const peer = await silentServer();
      const controller = new AbortController();
      const client = new WebSocketStream(peer.url, { signal: controller.signal });
      while (peer.sockets.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
      const request = await new Promise((resolve) => peer.sockets[0].once('data', resolve));
      assert.match(request.toString(), /^GET \/ HTTP\/1.1/);
      const socketClosed = once(peer.sockets[0], 'close');
      controller.abort();
      const [opened, closed] = await Promise.all([outcome(client.opened), outcome(client.closed)]);
      assert.strictEqual(opened.error.name, 'AbortError');
      assert.strictEqual(closed.error, opened.error);
      await socketClosed;
    });

    it('aborting after open does nothing', async () => {
      const controller = new AbortController();
      const client = new WebSocketStream(url, { signal: controller.signal });
      const server = await echoing();
      const { readable, writable } = await client.opened;
      controller.abort();
      const writer = writable.getWriter();
      await writer.write('still here');
      assert.deepStrictEqual(await readable.getReader().read(), { value: 'still here', done: false });
      assert.strictEqual(server.readyState, WebSocket.OPEN);
      client.close();
      await client.closed;
    });

    it('close() during the handshake rejects opened and closed with a WebSocketError', async () => {
      const peer = await silentServer();
      const client = new WebSocketStream(peer.url);
      client.close({ closeCode: 1000 });
      const [opened, closed] = await Promise.all([outcome(client.opened), outcome(client.closed)]);
      assert.ok(opened.error instanceof WebSocketError);
      assert.strictEqual(opened.error.closeCode, 1006);
      assert.strictEqual(closed.error, opened.error);
    });
  });

  describe('WebSocketStream.from(ws): the server side', () => {
    it('wraps an accepted socket: a weft client talks to a stream echo', async () => {
      let serverStream;
      const piped = new Promise((resolve) => {
        wss.once('connection', (ws) => {
          serverStream = WebSocketStream.from(ws);
          resolve(serverStream.opened.then(({ readable, writable }) => outcome(readable.pipeTo(writable))));
        });
      });
      const client = new WebSocket(url);
      await once(client, 'open');
      const got = [];
      client.on('message', (data, isBinary) => got.push([isBinary ? [...data] : data.toString(), isBinary]));
      client.send('text');
      client.send(Buffer.from([7, 8]));
      while (got.length < 2) await once(client, 'message');
      assert.deepStrictEqual(got, [['text', false], [[7, 8], true]]);
      const clientClose = once(client, 'close');
      client.close(4002, 'client bye');
      assert.deepStrictEqual((await clientClose).map(String), ['4002', 'client bye']);
      assert.deepStrictEqual(await serverStream.closed, { closeCode: 4002, reason: 'client bye' });
      await piped;
      assert.strictEqual(serverStream.url, '');
    });

    it('refuses a closed WebSocket and anything that is not a weft WebSocket', async () => {
      const client = new WebSocket(url);
      await once(client, 'open');
      client.terminate();
      await once(client, 'close');
      assert.throws(() => WebSocketStream.from(client), (err) => err.name === 'InvalidStateError');
      assert.throws(() => WebSocketStream.from({}), TypeError);
    });

    it('server close() with a code reaches the client and both closed promises', async () => {
      const connected = new Promise((resolve) => wss.once('connection', (ws) => resolve(WebSocketStream.from(ws))));
      const client = new WebSocketStream(url);
      const server = await connected;
      await Promise.all([client.opened, server.opened]);
      server.close({ closeCode: 3999, reason: 'maintenance' });
      assert.deepStrictEqual(await client.closed, { closeCode: 3999, reason: 'maintenance' });
      assert.deepStrictEqual(await server.closed, { closeCode: 3999, reason: 'maintenance' });
    });
  });

  describe('backpressure', () => {
    const CHUNK = 64 * 1024;
    const COUNT = 128;

    /** Sends COUNT chunks of CHUNK bytes, each filled with its index; counts the sends handed to the kernel. */
    function flood(ws) {
      const state = { written: 0 };
      for (let i = 0; i < COUNT; i++) ws.send(Buffer.alloc(CHUNK, i & 0xff), () => state.written++);
      return state;
    }

    /**
     * Sends CHUNK-byte messages (message i filled with i), 16 at a time, until the sends stop completing: the
     * peer has stopped reading and the socket buffers between are full. How much those buffers take is the
     * kernel's choice (loopback buffers autotune to tens of MiB, more when the reader reads in large pieces), so
     * a fixed count is not a stall on every machine. `send(i, done)` sends message i and calls done when it left.
     */
    async function floodUntilStalled(send) {
      const state = { sent: 0, done: 0 };
      const onDone = () => state.done++;
      while (state.sent < 2048) {
        for (let k = 0; k < 16; k++) send(state.sent++, onDone);
        if ((await settle(() => state.done, 3, 25)) < state.sent) return state;
      }
      throw new Error(`all ${state.sent} messages of ${CHUNK} bytes left: the peer never stopped reading`);
    }

    it('receive: a stream that is not read stops the socket; the server stalls; reading gets all 128 in order', async () => {
      const serverWs = accepted();
      const clientWs = new WebSocket(url);
      let delivered = 0;
      clientWs.on('message', () => delivered++);
      const stream = WebSocketStream.from(clientWs);
      const { readable } = await stream.opened;
      const server = await serverWs;
      const sent = await floodUntilStalled((i, done) => server.send(Buffer.alloc(CHUNK, i & 0xff), done));
      const written = await settle(() => sent.done);
      // The client stopped taking messages after a few, and the rest waits in the server's buffer.
      assert.ok(clientWs.isPaused, 'the client socket is paused');
      assert.ok(delivered < 64, `the client took ${delivered} messages`);
      assert.ok(written < sent.sent, `the server wrote ${written} of ${sent.sent}`);
      assert.ok(server.bufferedAmount > 0, 'the server has bytes it could not write');
      const reader = readable.getReader();
      for (let i = 0; i < sent.sent; i++) {
        const { value, done } = await reader.read();
        assert.strictEqual(done, false);
        assert.strictEqual(value.length, CHUNK);
        assert.strictEqual(value[0], i & 0xff, `message ${i} in order`);
        assert.strictEqual(value[CHUNK - 1], i & 0xff);
      }
      assert.strictEqual(sent.done, sent.sent);
      stream.close();
      await stream.closed;
    });

    it('receive, constructor client: the server stalls until the readable is read', async () => {
      const client = new WebSocketStream(url, { highWaterMark: 4 });
      const { readable } = await client.opened;
      const server = await accepted();
      const sent = await floodUntilStalled((i, done) => server.send(Buffer.alloc(CHUNK, i & 0xff), done));
      const written = await settle(() => sent.done);
      assert.ok(written < sent.sent, `the server wrote ${written} of ${sent.sent}`);
      assert.ok(server.bufferedAmount > 0);
      let n = 0;
      for await (const chunk of readable) {
        assert.strictEqual(chunk[0], n & 0xff);
        if (++n === sent.sent) break; // break cancels the readable: a clean close follows
      }
      assert.strictEqual(sent.done, sent.sent);
      assert.deepStrictEqual(await client.closed, { closeCode: 1005, reason: '' });
    });

    it('receive: a plain WebSocket client (no stream) takes all 128 at once', async () => {
      const serverWs = accepted();
      const clientWs = new WebSocket(url);
      let delivered = 0;
      clientWs.on('message', () => delivered++);
      await once(clientWs, 'open');
      const sent = flood(await serverWs);
      while (delivered < COUNT) await once(clientWs, 'message');
      assert.strictEqual(sent.written, COUNT);
      clientWs.close();
      await once(clientWs, 'close');
    });

    it('send: writes resolve as the socket drains; a peer that stops reading stalls the writer', async () => {
      const client = new WebSocketStream(url);
      const server = await accepted();
      server.pause();
      const received = [];
      server.on('message', (data) => received.push(data[0]));
      const { writable } = await client.opened;
      const writer = writable.getWriter();
      const writes = [];
      const sent = await floodUntilStalled((i, done) => {
        writes.push(writer.write(new Uint8Array(CHUNK).fill(i & 0xff)).then(done));
      });
      const stalled = await settle(() => sent.done);
      assert.ok(stalled < sent.sent, `${stalled} of ${sent.sent} writes resolved against a paused peer`);
      assert.ok(writer.desiredSize <= 0, 'the writer reports backpressure');
      server.resume();
      await Promise.all(writes);
      assert.strictEqual(sent.done, sent.sent);
      while (received.length < sent.sent) await once(server, 'message');
      assert.deepStrictEqual(received, Array.from({ length: sent.sent }, (_, i) => i & 0xff));
      await writer.close();
      assert.deepStrictEqual(await client.closed, { closeCode: 1005, reason: '' });
    });
  });
});
