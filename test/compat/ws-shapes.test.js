'use strict';
// ws's exported Receiver/Sender shapes (thin adapters over weft's core), checked against ws's own
// classes on the same inputs, and Blob sends keeping their order.
const assert = require('assert');
const { once } = require('events');
const { PassThrough } = require('stream');
const ws = require('ws');
const weft = require('../..');
const { parseFrames } = require('../support/frames');
const { WebSocketPair } = weft;

const fixedMask = (k) => { k[0] = 0x11; k[1] = 0x22; k[2] = 0x33; k[3] = 0x44; };

function masked(opcode, payload, fin = true) {
  const [header, body] = ws.Sender.frame(Buffer.from(payload), { fin, opcode, mask: true, readOnly: true, rsv1: false, generateMask: fixedMask });
  return body ? Buffer.concat([header, body]) : header;
}

/** Records a receiver's events as a trace. */
function trace(receiver) {
  const out = [];
  receiver.on('message', (d, isBinary) => out.push(['message', isBinary, Buffer.isBuffer(d) ? d.toString('hex') : d instanceof ArrayBuffer ? `ab:${Buffer.from(d).toString('hex')}` : d.map((x) => x.toString('hex'))]));
  receiver.on('ping', (d) => out.push(['ping', d.toString('hex')]));
  receiver.on('pong', (d) => out.push(['pong', d.toString('hex')]));
  receiver.on('conclude', (code, reason) => out.push(['conclude', code, reason.toString()]));
  receiver.on('error', (e) => out.push(['error', e.code, e.message]));
  return out;
}

describe('Receiver (ws shape)', () => {
  const cases = {
    'text, binary, ping, pong, close': [masked(1, 'hi'), masked(2, [1, 2]), masked(9, 'p'), masked(10, 'q'), masked(8, Buffer.concat([Buffer.from([0x03, 0xe8]), Buffer.from('bye')]))],
    'fragmented with an interleaved ping': [masked(1, 'ab', false), masked(9, ''), masked(0, 'cd')],
    'close without status': [masked(8, '')],
    'bad opcode': [masked(3, 'x')],
    'invalid UTF-8': [masked(1, [0xff])],
    'too big': [masked(2, Buffer.alloc(20))],
  };
  for (const [name, frames] of Object.entries(cases)) {
    for (const binaryType of ['nodebuffer', 'arraybuffer', 'fragments']) {
      it(`${name} (${binaryType}): same events as ws's Receiver`, async () => {
        const options = { isServer: true, binaryType, maxPayload: 10 };
        const mine = new weft.Receiver(options);
        const theirs = new ws.Receiver(options);
        const a = trace(mine);
        const b = trace(theirs);
        for (const f of frames) {
          mine.write(Buffer.from(f));
          theirs.write(Buffer.from(f));
        }
        await new Promise((r) => setImmediate(r));
        assert.deepStrictEqual(a, b);
        assert.ok(a.length > 0);
      });
    }
  }

  it('allowSynchronousEvents: false emits one message per turn', async () => {
    const r = new weft.Receiver({ isServer: true, allowSynchronousEvents: false });
    const got = trace(r);
    r.write(Buffer.concat([masked(1, 'a'), masked(1, 'b')]));
    assert.deepStrictEqual(got, []);
    await new Promise((res) => setImmediate(res));
    assert.strictEqual(got.length, 1);
    await new Promise((res) => setImmediate(res));
    assert.strictEqual(got.length, 2);
  });
});

describe('Sender (ws shape)', () => {
  it('Sender.frame returns the same buffers as ws for every mask/readOnly/size combination', () => {
    for (const size of [0, 5, 125, 126, 70000]) {
      for (const mask of [false, true]) {
        for (const readOnly of [false, true]) {
          for (const gen of [fixedMask, (k) => k.fill(0)]) {
            const opts = { fin: true, opcode: 2, mask, readOnly, rsv1: false, generateMask: gen };
            const a = weft.Sender.frame(Buffer.alloc(size, 0x61), { ...opts });
            const b = ws.Sender.frame(Buffer.alloc(size, 0x61), { ...opts });
            assert.strictEqual(a.length, b.length, `size ${size} mask ${mask} readOnly ${readOnly}`);
            assert.ok(Buffer.concat(a).equals(Buffer.concat(b)));
          }
        }
      }
    }
  });

  it('send / ping / pong / close write the same bytes as ws\'s Sender', async () => {
    const run = (Sender) => {
      const sink = new PassThrough();
      const chunks = [];
      sink.on('data', (c) => chunks.push(c));
      const s = new Sender(sink, {}, fixedMask);
      s.send('hello', { binary: false, fin: true, mask: true, compress: false });
      s.send(Buffer.from([1, 2, 3]), { binary: true, fin: true, mask: false, compress: false });
      s.ping('p', true);
      s.pong(Buffer.alloc(0), false);
      s.close(1000, 'done', true);
      return new Promise((r) => setImmediate(() => r(Buffer.concat(chunks).toString('hex'))));
    };
    assert.strictEqual(await run(weft.Sender), await run(ws.Sender));
    const s = new weft.Sender(new PassThrough());
    assert.throws(() => s.ping(Buffer.alloc(126), false), { name: 'RangeError', message: 'The data size must not be greater than 125 bytes' });
    assert.throws(() => s.close(1005), { name: 'TypeError', message: 'First argument must be a valid error code number' });
  });

  it('sendFrame writes pre-framed bytes (engine.io\'s path) in order with other sends', async () => {
    const [client, server] = Object.values(new WebSocketPair());
    client.accept();
    server.accept();
    server.binaryType = 'nodebuffer';
    const got = [];
    client.binaryType = 'nodebuffer';
    client.on('message', (d) => got.push(d.toString()));
    server.send('first');
    server._sender.sendFrame(weft.Sender.frame(Buffer.from('pre-framed'), { fin: true, opcode: 1, mask: false, readOnly: false, rsv1: false }));
    server.send('last');
    while (got.length < 3) await once(client, 'message');
    assert.deepStrictEqual(got, ['first', 'pre-framed', 'last']);
  });
});

describe('Blob sends', () => {
  it('a Blob goes out as binary, and later sends wait for it (order kept)', async () => {
    const [client, server] = Object.values(new WebSocketPair());
    client.accept();
    server.accept();
    server.binaryType = 'nodebuffer';
    const got = [];
    server.on('message', (d, isBinary) => got.push([isBinary, d.toString()]));
    client.send(new Blob(['blob-one']));
    client.send('text-two');
    client.send(new Blob(['blob-three']), { binary: false });
    client.ping(new Blob(['pi']));
    const pinged = once(server, 'ping');
    while (got.length < 3) await once(server, 'message');
    assert.deepStrictEqual(got, [[true, 'blob-one'], [false, 'text-two'], [false, 'blob-three']]);
    assert.strictEqual((await pinged)[0].toString(), 'pi');
  });
});

describe('send({ mask }) against the role, as ws allows', () => {
  const net = require('net');
  it('a server can send a masked frame when asked (a client would reject it, as the RFC says); the next frame follows the role again', async () => {
    // Server side: weft server, raw TCP client reading the bytes.
    const wss = new weft.WebSocketServer({ port: 0 });
    await once(wss, 'listening');
    const conn = once(wss, 'connection');
    const sock = net.connect(wss.address().port, '127.0.0.1');
    await once(sock, 'connect');
    sock.write('GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n');
    const [server] = await conn;
    const chunks = [];
    sock.on('data', (d) => chunks.push(d));
    server.send('a', { mask: true });
    server.send('b');
    await new Promise((r) => setTimeout(r, 50));
    const bytes = Buffer.concat(chunks);
    // Either masking is read: each frame says how it came.
    const frames = parseFrames(bytes.subarray(bytes.indexOf('\r\n\r\n') + 4));
    assert.strictEqual(frames.length, 2);
    assert.deepStrictEqual([frames[0].masked, frames[0].fin, frames[0].rsv, frames[0].opcode, frames[0].payload.toString()], [true, true, 0, 1, 'a'], 'first frame masked');
    assert.strictEqual(frames[1].bytes.toString('hex'), '810162', 'second frame unmasked again');
    sock.destroy();
    server.terminate();
    await new Promise((r) => wss.close(r));
  });
});
