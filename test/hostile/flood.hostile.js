'use strict';
// Peers that do not read (`npm run test:hostile`, not part of `npm test`): each case prints its figures
// (peak RSS of this process, the longest event-loop stall, how long until the server let go) and
// asserts the memory and safety bounds: RSS well under 256 MiB, no stall of 250 ms or more.
//
// - A ping flood from a client that never reads the pongs, against weft's main API and against the
//   WebSocket-Node face: both cut it off (maxPendingAutoPongs) instead of queueing pongs without bound.
// - drop() on a socket whose peer does not read, 13 MiB sent (what the kernel's buffers do not take,
//   ~10 MiB, queued): the socket and its queue are freed
//   and 'close' is emitted, with and without the close frame.

const assert = require('assert');
const crypto = require('crypto');
const http = require('http');
const net = require('net');
const { once } = require('events');
const { monitorEventLoopDelay } = require('perf_hooks');
const { WebSocketServer } = require('../..');
const wsn = require('../../dist/lib/websocket-node');

const RSS_BOUND = 256 * 1024 * 1024;
const STALL_BOUND_MS = 250;
const MiB = 1024 * 1024;

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Samples RSS every 20 ms and the event loop's delay until `stop()`. The delay histogram records the time
 * between two firings of its 10 ms timer, so a stall before its first firing or after its last goes
 * unseen; the operations watched here take a few ms, less than one period. So this resolves only once
 * the histogram has recorded a sample, and `stop()` waits for one more firing before it reads it.
 */
async function monitor() {
  const histogram = monitorEventLoopDelay({ resolution: 10 });
  histogram.enable();
  while (histogram.count === 0) await sleep(5);
  const start = process.hrtime.bigint();
  let peak = process.memoryUsage.rss();
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage.rss());
  }, 20);
  return {
    get peak() {
      return Math.max(peak, process.memoryUsage.rss());
    },
    async stop() {
      const elapsedMs = Number(process.hrtime.bigint() - start) / 1e6;
      const peakRss = Math.max(peak, process.memoryUsage.rss());
      clearInterval(timer);
      const seen = histogram.count;
      while (histogram.count === seen) await sleep(5);
      histogram.disable();
      return { peakRss, stallMs: histogram.max / 1e6, elapsedMs };
    },
  };
}

function report(name, f, extra = '') {
  console.log(`      ${name}: peak RSS ${(f.peakRss / MiB).toFixed(1)} MiB, longest stall ${f.stallMs.toFixed(1)} ms, ${f.elapsedMs.toFixed(0)} ms${extra}`);
}

/** A raw TCP client that completes a WebSocket handshake on `port` and then stops reading. */
async function stalledClient(port) {
  const socket = net.connect(port, '127.0.0.1');
  socket.on('error', () => {});
  await once(socket, 'connect');
  socket.write(
    'GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
      `Sec-WebSocket-Key: ${crypto.randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
  );
  let head = Buffer.alloc(0);
  while (head.indexOf('\r\n\r\n') === -1) head = Buffer.concat([head, (await once(socket, 'data'))[0]]);
  assert.match(head.toString('latin1'), /^HTTP\/1\.1 101 /);
  socket.pause();
  return socket;
}

/**
 * Floods `socket` with masked 125-byte pings (respecting its own drain, so the client's memory stays
 * flat) until the server drops it, RSS passes the bound, or 20 s pass. Returns the bytes sent.
 */
async function pingFlood(socket, mon) {
  const ping = Buffer.concat([Buffer.from([0x89, 0x80 | 125, 0, 0, 0, 0]), Buffer.alloc(125, 0x70)]);
  const batch = Buffer.concat(Array(512).fill(ping));
  let gone = false;
  socket.on('close', () => (gone = true));
  const deadline = Date.now() + 20000;
  let sent = 0;
  while (!gone && mon.peak < RSS_BOUND && Date.now() < deadline) {
    sent += batch.length;
    if (!socket.write(batch)) await new Promise((resolve) => socket.once('drain', resolve).once('close', resolve));
  }
  return { sent, gone };
}

describe('hostile peers that do not read', function () {
  this.timeout(120000);

  it('ping flood, weft main API: cut off, memory bounded', async () => {
    const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    await once(wss, 'listening');
    try {
      const connection = once(wss, 'connection');
      const socket = await stalledClient(wss.address().port);
      const [ws] = await connection;
      const closed = once(ws, 'close');
      const mon = await monitor();
      const { sent, gone } = await pingFlood(socket, mon);
      const f = await mon.stop();
      report('weft main API', f, `, ${(sent / MiB).toFixed(1)} MiB of pings until cut off`);
      assert.ok(gone, 'the flooding client is cut off');
      await closed;
      assert.ok(f.peakRss < RSS_BOUND, `peak RSS ${f.peakRss}`);
      assert.ok(f.stallMs < STALL_BOUND_MS, `stall ${f.stallMs} ms`);
    } finally {
      await new Promise((resolve) => wss.close(resolve));
    }
  });

  it('ping flood, weft/websocket-node: cut off by the same limit, memory bounded', async () => {
    const httpServer = http.createServer();
    httpServer.listen(0, '127.0.0.1');
    await once(httpServer, 'listening');
    const server = new wsn.server({ httpServer });
    server.on('request', (request) => request.accept());
    try {
      const connection = once(server, 'connect');
      const socket = await stalledClient(httpServer.address().port);
      const [conn] = await connection;
      const closed = once(conn, 'close');
      const mon = await monitor();
      const { sent, gone } = await pingFlood(socket, mon);
      const f = await mon.stop();
      report('weft/websocket-node', f, `, ${(sent / MiB).toFixed(1)} MiB of pings until cut off`);
      assert.ok(gone, 'the flooding client is cut off');
      const [code] = await closed;
      assert.strictEqual(code, 1006);
      assert.ok(f.peakRss < RSS_BOUND, `peak RSS ${f.peakRss}`);
      assert.ok(f.stallMs < STALL_BOUND_MS, `stall ${f.stallMs} ms`);
    } finally {
      server.shutDown();
      await new Promise((resolve) => httpServer.close(resolve));
    }
  });

  for (const skipCloseFrame of [true, false]) {
    it(`drop(${skipCloseFrame ? 'skipCloseFrame' : 'with a close frame'}) with 13 MiB sent, MiBs still queued, to a peer that does not read: freed, 'close' emitted`, async () => {
      const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
      await once(wss, 'listening');
      try {
        const connection = once(wss, 'connection');
        const client = await stalledClient(wss.address().port);
        const [ws] = await connection;
        const chunk = Buffer.alloc(MiB, 0x61);
        for (let i = 0; i < 13; i++) ws.send(chunk);
        const queued = ws.bufferedAmount;
        // The kernel's buffers take a few MiB; most of the 13 must still be queued in the process.
        assert.ok(queued > 6 * MiB, `only ${queued} bytes queued`);
        const mon = await monitor();
        const closed = once(ws, 'close');
        ws.drop(1001, 'going away', skipCloseFrame);
        await closed;
        const f = await mon.stop();
        report(`drop(skipCloseFrame: ${skipCloseFrame})`, f, ` until 'close', ${(queued / MiB).toFixed(1)} MiB were queued`);
        assert.strictEqual(ws._socket.destroyed, true);
        assert.strictEqual(ws._socket.writableLength, 0, 'the queue is released');
        assert.ok(f.peakRss < RSS_BOUND, `peak RSS ${f.peakRss}`);
        assert.ok(f.stallMs < STALL_BOUND_MS, `stall ${f.stallMs} ms`);
        client.destroy();
      } finally {
        await new Promise((resolve) => wss.close(resolve));
      }
    });
  }
});
