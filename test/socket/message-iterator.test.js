'use strict';
// `for await (const [data, isBinary] of ws)` (lib/socket/message-iterator.ts) on weft clients and server
// sockets over loopback: messages in order, the end on close, the error of a failed connection,
// pausing while the loop falls behind, and leaving the loop early.
const assert = require('assert');
const http = require('http');
const net = require('net');
const WebSocket = require('../..');
const { once } = require('../support/client');

describe('WebSocket async iteration', () => {
  let wss;
  let url;
  let nextServer;

  beforeEach(async () => {
    wss = new WebSocket.WebSocketServer({ port: 0 });
    nextServer = () => new Promise((resolve) => wss.once('connection', resolve));
    await once(wss, 'listening');
    url = `ws://127.0.0.1:${wss.address().port}`;
  });

  afterEach(async () => {
    for (const ws of wss.clients) ws.terminate();
    await new Promise((resolve) => wss.close(resolve));
  });

  it('yields [data, isBinary] for each message in order and ends when the peer closes', async () => {
    const accepted = nextServer();
    const client = new WebSocket(url);
    const server = await accepted;
    server.send('one');
    server.send(Buffer.from([1, 2]));
    server.send('three');
    server.close(4000, 'bye');
    const got = [];
    for await (const [data, isBinary] of client) got.push([isBinary ? [...data] : data.toString(), isBinary]);
    assert.deepStrictEqual(got, [['one', false], [[1, 2], true], ['three', false]]);
    assert.strictEqual(client.readyState, WebSocket.CLOSED);
    assert.strictEqual(client.listenerCount('message'), 0);
  });

  it('binaryType applies to what it yields (text stays a Buffer, as in message events)', async () => {
    const accepted = nextServer();
    const client = new WebSocket(url);
    client.binaryType = 'arraybuffer';
    const server = await accepted;
    server.send(Buffer.from([5]));
    server.send('t');
    server.close();
    const got = [];
    for await (const [data, isBinary] of client) got.push([Object.prototype.toString.call(data), isBinary]);
    assert.deepStrictEqual(got, [
      ['[object ArrayBuffer]', true],
      ['[object Uint8Array]', false],
    ]);
  });

  it('works on server sockets: an echo loop that ends when the client closes', async () => {
    const loopDone = new Promise((resolve, reject) => {
      wss.once('connection', async (ws) => {
        try {
          let n = 0;
          for await (const [data, isBinary] of ws) {
            ws.send(data, { binary: isBinary });
            n++;
          }
          resolve(n);
        } catch (err) {
          reject(err);
        }
      });
    });
    const client = new WebSocket(url);
    await once(client, 'open');
    const echoes = [];
    client.on('message', (data) => echoes.push(data.toString()));
    for (const m of ['a', 'b', 'c']) client.send(m);
    while (echoes.length < 3) await once(client, 'message');
    client.close();
    assert.strictEqual(await loopDone, 3);
    assert.deepStrictEqual(echoes, ['a', 'b', 'c']);
  });

  it('throws the error of a failed connection (a refused handshake) instead of crashing', async () => {
    const server = http.createServer((req, res) => res.writeHead(403).end());
    await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const client = new WebSocket(`ws://127.0.0.1:${server.address().port}`);
      await assert.rejects(
        (async () => {
          for await (const message of client) assert.fail(`unexpected ${message}`);
        })(),
        /Unexpected server response: 403/,
      );
    } finally {
      server.close();
    }
  });

  it('throws a protocol error after the messages received before it', async () => {
    // A raw server: a valid text frame, then a frame with the reserved opcode 0x3.
    const server = net.createServer((socket) => {
      socket.once('data', (req) => {
        const key = /Sec-WebSocket-Key: (.+)\r\n/i.exec(req.toString())[1];
        const accept = require('crypto')
          .createHash('sha1')
          .update(key + '258EAFA5-E914-47DA-95CA-C5AB0DC85B11')
          .digest('base64');
        socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`);
        socket.write(Buffer.from([0x81, 0x02, 0x68, 0x69, 0x83, 0x00]));
      });
      socket.on('error', () => {});
    });
    await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const client = new WebSocket(`ws://127.0.0.1:${server.address().port}`);
      const got = [];
      await assert.rejects(
        (async () => {
          for await (const [data] of client) got.push(data.toString());
        })(),
        (err) => err.code === 'WS_ERR_INVALID_OPCODE',
      );
      assert.deepStrictEqual(got, ['hi']);
      client.terminate();
    } finally {
      server.close();
    }
  });

  it('ends at once on a closed socket', async () => {
    const client = new WebSocket(url);
    await once(client, 'open');
    client.terminate();
    await once(client, 'close');
    const it = client[Symbol.asyncIterator]();
    assert.deepStrictEqual(await it.next(), { value: undefined, done: true });
  });

  it('pauses the socket while the loop falls behind (the server stalls), then gets every message in order', async () => {
    const CHUNK = 64 * 1024;
    const accepted = nextServer();
    const client = new WebSocket(url);
    const server = await accepted;
    await once(client, 'open');
    const it = client[Symbol.asyncIterator]();
    let written = 0;
    let COUNT = 0;
    // Nobody calls next(). The kernel's buffers on loopback grow with the traffic (tcp_rmem's maximum is
    // often 32 MiB), so the server sends 8 MiB at a time until its writes stop progressing.
    while (written === COUNT && COUNT < 4096) {
      for (let i = 0; i < 128; i++, COUNT++) server.send(Buffer.alloc(CHUNK, COUNT & 0xff), () => written++);
      let last = -1;
      let quiet = 0;
      while (quiet < 5 && written < COUNT) {
        await new Promise((resolve) => setTimeout(resolve, 40));
        if (written === last) quiet++;
        else {
          quiet = 0;
          last = written;
        }
      }
    }
    assert.ok(client.isPaused, 'the client socket is paused');
    assert.ok(written < COUNT, `the server wrote ${written} of ${COUNT}`);
    assert.ok(server.bufferedAmount > 0);
    for (let i = 0; i < COUNT; i++) {
      const { value, done } = await it.next();
      assert.strictEqual(done, false);
      assert.strictEqual(value[0][0], i & 0xff, `message ${i} in order`);
      assert.strictEqual(value[1], true);
    }
    assert.strictEqual(written, COUNT);
    assert.strictEqual(client.isPaused, false);
    client.close();
    assert.deepStrictEqual(await it.next(), { value: undefined, done: true });
  });

  it('leaving the loop early stops listening, resumes reading and keeps the connection open', async () => {
    const accepted = nextServer();
    const client = new WebSocket(url);
    const server = await accepted;
    await once(client, 'open');
    for (let i = 0; i < 40; i++) server.send(String(i));
    let first;
    for await (const [data] of client) {
      first = data.toString();
      // Let the rest arrive and fill the queue past its mark, so the socket is paused.
      while (!client.isPaused) await new Promise((resolve) => setTimeout(resolve, 5));
      break;
    }
    assert.strictEqual(first, '0');
    assert.strictEqual(client.isPaused, false);
    assert.strictEqual(client.listenerCount('message'), 0);
    assert.strictEqual(client.readyState, WebSocket.OPEN);
    // Reading goes on: what was still in the socket arrives, then a message sent now.
    const after = new Promise((resolve) => client.on('message', (data) => data.toString() === 'after' && resolve()));
    server.send('after');
    await after;
    client.close();
    await once(client, 'close');
  });
});
