'use strict';
// Input held back while a message is inflated or events are deferred stays bounded: the socket stops
// being read while the core holds input, and reading resumes (in order) once it is processed. A hostile
// peer streaming tiny compressed messages as fast as it can must not grow the queue without limit, in
// either role, and messages must keep being handled meanwhile. (test/hostile/ has the long version.)
const assert = require('assert');
const crypto = require('crypto');
const net = require('net');
const zlib = require('zlib');
const weft = require('../..');
const { upgradeRequest, rawClient, portOf, once } = require('../support/server');
const { frame } = require('../support/frames');

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
/**
 * The most input the core may hold: its high-water mark (16 KiB) plus the most a socket delivers in one
 * 'data' event (64 KiB), which may arrive on top of it.
 */
// The parser's high-water mark plus one read: a net.Socket reads up to 64 KiB at a time, the 'native'
// transport (the default; not with WEFT_TRANSPORT=stream) up to its 256 KiB shared read buffer.
const BOUND = 16 * 1024 + (process.env.WEFT_TRANSPORT !== 'stream' ? 256 : 64) * 1024;
const STREAM_MS = 1500;

function deflated(text) {
  const out = zlib.deflateRawSync(Buffer.from(text), { finishFlush: zlib.constants.Z_SYNC_FLUSH });
  return out.subarray(0, out.length - 4);
}

/** Many tiny compressed text messages in one buffer (masked for a client, plain for a server). */
function floodOf(mask, compressed = true) {
  const one = compressed ? frame({ opcode: 1, rsv: 4, payload: deflated('x'), mask }) : frame({ opcode: 1, payload: 'x', mask });
  return Buffer.concat(new Array(4096).fill(one));
}

/** Writes `blob` to `socket` as fast as it drains, until stopped. */
function pump(socket, blob) {
  let on = true;
  const write = () => {
    while (on && !socket.destroyed && socket.write(blob));
  };
  socket.on('drain', write);
  write();
  return () => {
    on = false;
  };
}

/** The connection's frame parser (ws's `_receiver` is ws's shape, not the parser). */
const parserOf = (ws) => ws._driver.conn.parser;

/** Bytes of input the parser holds back (read from its queue itself, not from a counter it keeps). */
function heldBytes(ws) {
  const rare = parserOf(ws).rare; // what few parsers need, held input among it: null until then
  const pending = rare ? rare.pending : [];
  let n = 0;
  for (const chunk of pending) n += chunk.length;
  return n;
}

/** Samples the peer's queued input and counts its messages while the flood runs. */
async function watch(socket, ms) {
  let messages = 0;
  let maxQueued = 0;
  let counterOff = 0;
  socket.on('message', () => messages++);
  // Also right after each chunk is fed: a small compressed message is inflated inline and answered on the
  // next tick, so what it holds back is held only until then, never when a timer fires.
  const parser = parserOf(socket);
  const push = parser.push;
  parser.push = function (chunk) {
    const ok = push.call(this, chunk);
    maxQueued = Math.max(maxQueued, heldBytes(socket));
    return ok;
  };
  const timer = setInterval(() => {
    const held = heldBytes(socket);
    if (parserOf(socket).queuedBytes !== held) counterOff++;
    maxQueued = Math.max(maxQueued, held);
  }, 5);
  await new Promise((resolve) => setTimeout(resolve, ms));
  clearInterval(timer);
  return { messages, maxQueued, counterOff };
}

describe('input held back while inflating or deferring is bounded', function () {
  this.timeout(10000);
  let wss;
  let server;
  afterEach((done) => {
    if (server) server.close();
    server = null;
    if (wss) wss.close(() => done());
    else done();
    wss = null;
  });

  for (const [name, options, compressed] of [
    ['compressed messages (inflate pending)', { perMessageDeflate: true }, true],
    ['allowSynchronousEvents: false (events deferred)', { allowSynchronousEvents: false }, false],
  ]) {
    it(`server: a client flooding ${name}`, async () => {
      wss = new weft.WebSocketServer({ port: 0, ...options });
      await once(wss, 'listening');
      const connected = once(wss, 'connection');
      const headers = compressed ? { 'Sec-WebSocket-Extensions': 'permessage-deflate' } : {};
      const { socket } = await rawClient(await portOf(wss), upgradeRequest({ headers }));
      const [peer] = await connected;
      const stop = pump(socket, floodOf(true, compressed));
      const { messages, maxQueued, counterOff } = await watch(peer, STREAM_MS);
      stop();
      socket.destroy();
      // (What the core still holds is delivered before 'close', as ws does; the test does not wait.)
      peer.terminate();
      assert.ok(messages > 0, 'messages are handled during the flood');
      assert.ok(maxQueued > 0, 'input was held back at some point');
      assert.ok(maxQueued <= BOUND, `queued input stays bounded (max ${maxQueued} bytes)`);
      assert.strictEqual(counterOff, 0, 'queuedBytes counts exactly the bytes held');
    });
  }

  it('client: a server flooding compressed messages', async () => {
    const flood = floodOf(false);
    server = net.createServer((socket) => {
      socket.on('error', () => {});
      socket.once('data', (head) => {
        const key = /sec-websocket-key: *([^\r]+)/i.exec(head.toString('latin1'))[1];
        const accept = crypto.createHash('sha1').update(key + GUID).digest('base64');
        socket.write(
          'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
            `Sec-WebSocket-Accept: ${accept}\r\nSec-WebSocket-Extensions: permessage-deflate\r\n\r\n`,
        );
        const stop = pump(socket, flood);
        socket.on('close', stop);
      });
    });
    await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
    const client = new weft.WebSocket(`ws://127.0.0.1:${server.address().port}`);
    await once(client, 'open');
    const { messages, maxQueued, counterOff } = await watch(client, STREAM_MS);
    client.terminate();
    assert.ok(messages > 0, 'messages are handled during the flood');
    assert.ok(maxQueued <= BOUND, `queued input stays bounded (max ${maxQueued} bytes)`);
    assert.strictEqual(counterOff, 0, 'queuedBytes counts exactly the bytes held');
  });

  it("the user's pause() holds the socket even when the core's queue drains; resume() reads on", async () => {
    wss = new weft.WebSocketServer({ port: 0, allowSynchronousEvents: false });
    await once(wss, 'listening');
    const connected = once(wss, 'connection');
    const { socket } = await rawClient(await portOf(wss), upgradeRequest());
    const [peer] = await connected;
    const stop = pump(socket, floodOf(true, false));
    let messages = 0;
    peer.on('message', () => {
      if (++messages === 1) peer.pause();
    });
    // Wait until the core has processed everything it held (it stops being fed once paused).
    while (messages === 0 || heldBytes(peer) !== 0) await new Promise((resolve) => setImmediate(resolve));
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.strictEqual(peer.isPaused, true);
    const t = peer._driver.transport;
    assert.strictEqual(t !== null ? t.isPaused : peer._socket.isPaused(), true, 'the socket stays paused after the core drained');
    const before = messages;
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.strictEqual(messages, before, 'nothing is read while paused');
    peer.resume();
    while (messages === before) await new Promise((resolve) => setTimeout(resolve, 5));
    stop();
    socket.destroy();
    peer.terminate();
  });
});
