'use strict';
// Backpressure against a real slow reader over TCP: send() reports what happened, maxBackpressure
// bounds what one reader that never reads can make the server hold, 'drain' says when to go on.
const assert = require('assert');
const net = require('net');
const crypto = require('crypto');
const { once } = require('events');
const { WebSocketServer } = require('../../dist/lib/server');
const { SendStatus } = require('../../dist/lib/websocket');

/** A raw client that completes the handshake and then reads nothing (its socket stays paused). */
async function stalledClient(port) {
  const socket = net.connect(port, '127.0.0.1');
  await once(socket, 'connect');
  const key = crypto.randomBytes(16).toString('base64');
  socket.write(`GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`);
  await once(socket, 'readable');
  socket.read();
  socket.pause();
  return socket;
}

describe('backpressure (slow reader over TCP)', () => {
  let wss;
  let sockets = [];
  afterEach((done) => {
    for (const s of sockets) s.destroy();
    sockets = [];
    wss.close(() => done());
  });

  async function setup(options) {
    wss = new WebSocketServer({ port: 0, ...options });
    await once(wss, 'listening');
    const connected = once(wss, 'connection');
    sockets.push(await stalledClient(wss.address().port));
    const [ws] = await connected;
    return ws;
  }

  it('without maxBackpressure: ws behaviour (everything is queued) with an honest BACKPRESSURE status', async () => {
    const ws = await setup({});
    const chunk = Buffer.alloc(64 * 1024);
    const statuses = new Set();
    for (let i = 0; i < 200; i++) statuses.add(ws.send(chunk));
    assert.ok(statuses.has(SendStatus.BACKPRESSURE));
    assert.ok(!statuses.has(SendStatus.DROPPED));
    assert.ok(ws.bufferedAmount > 4 * 1024 * 1024, 'nothing dropped');
  });

  it('maxBackpressure drops sends past the limit and reports them; memory stays bounded; drain follows reading', async () => {
    const limit = 1024 * 1024;
    const ws = await setup({ maxBackpressure: limit });
    const chunk = Buffer.alloc(64 * 1024);
    const counts = { 0: 0, 1: 0, 2: 0 };
    let dropErr = null;
    for (let i = 0; i < 1500; i++) {
      counts[ws.send(chunk, (err) => { if (err) dropErr = err; })]++;
    }
    assert.ok(counts[SendStatus.DROPPED] > 1000, JSON.stringify(counts));
    assert.ok(ws.bufferedAmount < limit + 2 * chunk.length, `held ${ws.bufferedAmount} bytes`);
    await new Promise((r) => setImmediate(r));
    assert.strictEqual(dropErr && dropErr.code, 'WEFT_ERR_BACKPRESSURE');
    // The reader starts reading: the socket drains and the WebSocket says so.
    const drained = once(ws, 'drain');
    sockets[0].resume();
    await drained;
    assert.strictEqual(ws.send('after drain'), SendStatus.SENT);
  });

  it('maxBackpressure applies to the message that would cross it: one message larger than the limit is not sent', async () => {
    const limit = 1024 * 1024;
    const ws = await setup({ maxBackpressure: limit });
    const errors = [];
    const onSent = (err) => errors.push(err && err.code);
    // Nothing is queued yet: before, any single message passed, however large.
    assert.strictEqual(ws.send(Buffer.alloc(8 * limit), onSent), SendStatus.DROPPED);
    assert.strictEqual(ws.send(new Uint8Array(limit + 1).buffer, onSent), SendStatus.DROPPED);
    assert.strictEqual(ws.send('x'.repeat(limit + 1), onSent), SendStatus.DROPPED);
    // 2 bytes per 'é': the string's length fits, its UTF-8 does not.
    assert.strictEqual(ws.send('é'.repeat(limit / 2 + 1), onSent), SendStatus.DROPPED);
    assert.strictEqual(ws.send(new Blob([Buffer.alloc(limit + 1)]), onSent), SendStatus.DROPPED);
    assert.strictEqual(ws.bufferedAmount, 0, 'nothing was queued');
    // What fits is sent; the message that would take the socket past the limit is the one dropped.
    assert.notStrictEqual(ws.send(Buffer.alloc(limit / 2), onSent), SendStatus.DROPPED);
    assert.notStrictEqual(ws.send('é'.repeat(limit / 8), onSent), SendStatus.DROPPED);
    await new Promise((r) => setImmediate(r));
    assert.deepStrictEqual(errors.slice(0, 5), Array(5).fill('WEFT_ERR_BACKPRESSURE'));
  });

  it('policy "close": a single message larger than maxBackpressure closes the socket with 1008', async () => {
    const ws = await setup({ maxBackpressure: 64 * 1024, backpressurePolicy: 'close', closeTimeout: 100 });
    assert.strictEqual(ws.send(Buffer.alloc(1024 * 1024)), SendStatus.DROPPED);
    assert.strictEqual(ws.readyState, 2);
    const [code] = await once(ws, 'close');
    assert.strictEqual(code, 1006);
  });

  it('backpressurePolicy "close" closes the slow reader with 1008', async () => {
    const ws = await setup({ maxBackpressure: 256 * 1024, backpressurePolicy: 'close', closeTimeout: 100 });
    const chunk = Buffer.alloc(64 * 1024);
    // The kernel's socket buffers absorb a few MiB first; keep sending until the limit bites.
    let status;
    let sent = 0;
    while (sent < 4000 && (status = ws.send(chunk)) !== SendStatus.DROPPED) sent++;
    assert.strictEqual(status, SendStatus.DROPPED, `${sent} sends`);
    assert.strictEqual(ws.readyState, 2);
    const [code] = await once(ws, 'close'); // the reader never answers: closeTimeout ends it
    assert.strictEqual(code, 1006);
  });

  it('backpressureCloseCode: 1013 sends "try again later" instead of 1008', async () => {
    const ws = await setup({ maxBackpressure: 256 * 1024, backpressurePolicy: 'close', backpressureCloseCode: 1013, closeTimeout: 300 });
    const chunk = Buffer.alloc(64 * 1024);
    let sent = 0;
    while (sent < 4000 && ws.send(chunk) !== SendStatus.DROPPED) sent++;
    assert.strictEqual(ws.readyState, 2);
    // The close frame queued behind the unsent data carries 1013: read it from the raw stream's end.
    sockets[0].resume();
    const bytes = [];
    sockets[0].on('data', (d) => bytes.push(d));
    await once(sockets[0], 'end');
    const all = Buffer.concat(bytes);
    const close = all.lastIndexOf(Buffer.from([0x88]));
    assert.ok(close !== -1);
    assert.strictEqual(all.readUInt16BE(close + 2), 1013);
  });

  it('send() on a closed socket reports DROPPED', async () => {
    const ws = await setup({});
    ws.terminate();
    await once(ws, 'close');
    assert.strictEqual(ws.send('x'), SendStatus.DROPPED);
  });
});

describe('write batching (one writev per received chunk)', () => {
  const WS = require('ws');
  let wss;
  afterEach((done) => wss.close(() => done()));

  it('replies to pipelined messages arrive complete and in order; send-then-terminate still delivers', async () => {
    wss = new WebSocketServer({ port: 0 });
    await once(wss, 'listening');
    wss.on('connection', (ws) => ws.on('message', (d) => {
      if (d.toString() === 'bye') {
        ws.send('last words');
        ws.terminate();
        return;
      }
      ws.send(d);
    }));
    const client = new WS(`ws://127.0.0.1:${wss.address().port}`);
    await once(client, 'open');
    const got = [];
    client.on('message', (d) => got.push(d.toString()));
    // Many messages in one TCP write: the server handles them in one chunk and answers in one writev.
    const frames = [];
    for (let i = 0; i < 50; i++) frames.push(WS.Sender.frame(Buffer.from(`m${i}`), { fin: true, opcode: 1, mask: true, readOnly: true, rsv1: false }));
    frames.push(WS.Sender.frame(Buffer.from('bye'), { fin: true, opcode: 1, mask: true, readOnly: true, rsv1: false }));
    client._socket.write(Buffer.concat(frames.flat()));
    const [code] = await once(client, 'close');
    assert.deepStrictEqual(got, [...Array.from({ length: 50 }, (_, i) => `m${i}`), 'last words']);
    assert.strictEqual(code, 1006);
  });
});
