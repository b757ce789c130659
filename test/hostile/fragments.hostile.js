'use strict';
// A peer that sends a message as 1-byte fragments, one per 64 KiB read (the rest of each read is pong
// padding), against a weft server and a ws server in a child process each: the server's RSS must follow
// the payload bytes it holds, not the reads they came in. Prints peak RSS for both.

const assert = require('assert');
const { fork } = require('child_process');
const net = require('net');
const path = require('path');
const crypto = require('crypto');

const READS = 3000; // 3000 × 64 KiB ≈ 190 MiB through the socket, 3000 payload bytes held
const BOUND = 96 * 1024 * 1024;

/** A masked client frame (RFC 6455 §5.2), built by hand. */
function frame(opcode, fin, payload) {
  const key = crypto.randomBytes(4);
  const n = payload.length;
  const head = n < 126 ? Buffer.from([(fin ? 0x80 : 0) | opcode, 0x80 | n]) : Buffer.from([(fin ? 0x80 : 0) | opcode, 0x80 | 126, n >> 8, n & 0xff]);
  const body = Buffer.alloc(n);
  for (let i = 0; i < n; i++) body[i] = payload[i] ^ key[i & 3];
  return Buffer.concat([head, key, body]);
}

function paddedRead(i) {
  const parts = [frame(i === 0 ? 2 : 0, false, Buffer.from([i & 0xff]))];
  let size = parts[0].length;
  const pong = frame(0xa, true, Buffer.alloc(125, 0x70));
  while (size + pong.length <= 65536) {
    parts.push(pong);
    size += pong.length;
  }
  return Buffer.concat(parts, size);
}

function startServer(impl) {
  const child = fork(path.join(__dirname, 'support', 'echo-server.js'), [impl], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  return new Promise((resolve, reject) => {
    child.once('message', (m) => resolve({ child, port: m.port }));
    child.once('error', reject);
  });
}

function ask(child, what) {
  return new Promise((resolve) => {
    child.once('message', resolve);
    child.send(what);
  });
}

async function attack(impl) {
  const { child, port } = await startServer(impl);
  const socket = net.connect(port, '127.0.0.1');
  await new Promise((r) => socket.once('connect', r));
  socket.write(
    'GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
      `Sec-WebSocket-Key: ${crypto.randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
  );
  await new Promise((r) => socket.once('data', r));
  const base = (await ask(child, 'rss')).rss;
  let peak = base;
  for (let i = 0; i < READS; i++) {
    if (!socket.write(paddedRead(i))) await new Promise((r) => socket.once('drain', r));
    if (i % 250 === 0) peak = Math.max(peak, (await ask(child, 'rss')).rss);
  }
  socket.write(frame(0, true, Buffer.from('!')));
  const result = await ask(child, 'wait-message');
  peak = Math.max(peak, result.rss);
  socket.destroy();
  child.kill();
  return { growth: peak - base, length: result.length };
}

describe('hostile: 1-byte fragments, one per 64 KiB read', function () {
  this.timeout(180000);

  it('server memory follows the payload bytes held (weft), printed beside ws', async () => {
    const weft = await attack('weft');
    const ws = await attack('ws');
    const mib = (n) => (n / 1048576).toFixed(1);
    console.log(`      1-byte fragments × ${READS} reads: RSS growth weft ${mib(weft.growth)} MiB, ws ${mib(ws.growth)} MiB`);
    assert.strictEqual(weft.length, READS + 1, 'the whole message arrived');
    assert.ok(weft.growth < BOUND, `weft grew ${mib(weft.growth)} MiB`);
  });
});
