'use strict';
// Without context takeover, connections borrow reset zlib streams from a shared pool. What one
// connection inflated must never be reachable from another connection's message, not even through
// `message.buffer` (the ArrayBuffer behind a delivered Buffer): real clients, a real weft server.

const assert = require('assert');
const ws = require('ws');
const { WebSocketServer } = require('../..');

function open(url) {
  return new Promise((resolve, reject) => {
    const c = new ws.WebSocket(url, { perMessageDeflate: { threshold: 0, clientNoContextTakeover: true, serverNoContextTakeover: true } });
    c.once('open', () => resolve(c));
    c.once('error', reject);
  });
}

describe('permessage-deflate: one connection\'s plaintext stays its own', function () {
  this.timeout(10000);

  for (const size of [100, 4096, 5000, 12000]) {
    it(`a ${size}-byte message inflated right after another connection's holds only its own bytes in .buffer`, async () => {
      const wss = new WebSocketServer({
        port: 0,
        perMessageDeflate: { threshold: 0, serverNoContextTakeover: true, clientNoContextTakeover: true },
      });
      await new Promise((r) => wss.once('listening', r));
      const url = `ws://127.0.0.1:${wss.address().port}`;
      const received = [];
      const got = new Promise((resolve) => {
        wss.on('connection', (s) => s.on('message', (data, isBinary) => {
          received.push({ data, isBinary });
          if (received.length === 2) resolve();
        }));
      });
      const a = await open(url);
      const b = await open(url);
      // The secret is sent first, so the same pooled inflate stream serves b's message right after it.
      const secret = Buffer.alloc(4096, 'S');
      await new Promise((r) => a.send(secret, { binary: true, compress: true }, r));
      await new Promise((r) => setTimeout(r, 50));
      b.send(Buffer.alloc(size, 'b'), { binary: true, compress: true });
      await got;
      const mine = received[1].data;
      assert.strictEqual(mine.length, size);
      assert.ok(mine.every((x) => x === 0x62), 'the message itself is intact');
      // Its backing store holds this message alone (Node's shared pool for small Buffers would hold
      // other allocations of the process too).
      assert.strictEqual(mine.buffer.byteLength, size);
      const backing = Buffer.from(mine.buffer);
      assert.strictEqual(backing.includes(Buffer.from('SSSSSSSS')), false, "another connection's bytes are reachable through .buffer");
      a.terminate();
      b.terminate();
      await new Promise((r) => wss.close(r));
    });
  }
});
