'use strict';
// Helpers of the pub/sub tests: servers and clients that are all closed afterwards, a raw client that
// reads server frames byte for byte (to see RSV1 and the exact bytes), and a stalled reader.

const crypto = require('crypto');
const net = require('net');
const zlib = require('zlib');
const { once } = require('events');
const WsClient = require('ws');
const { WebSocketServer } = require('../..');
const { FrameReader } = require('../support/frames');

/** Everything a test opened; `closeAll()` in afterEach. */
class Resources {
  constructor() {
    this.servers = [];
    this.sockets = [];
  }

  /** A weft WebSocketServer listening on a free loopback port; resolves with it. */
  async server(options = {}) {
    const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', ...options });
    this.servers.push(wss);
    await once(wss, 'listening');
    return wss;
  }

  /**
   * A `ws` client connected to `wss`; resolves with `{ client, server }` (server: the weft socket).
   * `client.received` collects `[text-or-buffer, isBinary]`.
   */
  async client(wss, options = {}) {
    const connection = once(wss, 'connection');
    const client = new WsClient(`ws://127.0.0.1:${wss.address().port}`, options);
    this.sockets.push(client);
    client.received = [];
    client.on('message', (data, isBinary) => client.received.push([isBinary ? data : data.toString(), isBinary]));
    client.on('error', () => {});
    await once(client, 'open');
    const [server] = await connection;
    return { client, server };
  }

  /**
   * A raw TCP client that completes the handshake (offering `extensions` if given) and then reads the
   * server's frames into `raw.frames` (a FrameReader's: `{ fin, rsv, opcode, masked, mask, payload, bytes }`;
   * a masked frame fails). `stall: true` stops reading after the handshake (a slow reader) until
   * `raw.resume()`. Resolves with `{ raw, server }`.
   */
  async raw(wss, { extensions, stall = false } = {}) {
    const connection = once(wss, 'connection');
    const socket = net.connect(wss.address().port, '127.0.0.1');
    this.sockets.push(socket);
    socket.on('error', () => {});
    await once(socket, 'connect');
    const key = crypto.randomBytes(16).toString('base64');
    socket.write(
      'GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
        `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n` +
        (extensions ? `Sec-WebSocket-Extensions: ${extensions}\r\n` : '') +
        '\r\n',
    );
    const reader = new FrameReader({ masked: false });
    const raw = { socket, frames: reader.frames, response: '', waiters: [] };
    let head = Buffer.alloc(0);
    let inHead = true;
    // The bytes that came with the end of the head while stalled: read on resume().
    let stalled = null;
    const onData = (chunk) => {
      if (inHead) {
        head = Buffer.concat([head, chunk]);
        const end = head.indexOf('\r\n\r\n');
        if (end === -1) return;
        raw.response = head.subarray(0, end).toString('latin1');
        chunk = head.subarray(end + 4);
        inHead = false;
        if (stall) {
          stalled = chunk;
          socket.removeListener('data', onData);
          socket.pause();
          return;
        }
      }
      reader.push(chunk);
      for (const w of raw.waiters.splice(0)) w();
    };
    socket.on('data', onData);
    /** A stalled reader starts reading (and parsing) again. */
    raw.resume = () => {
      socket.on('data', onData);
      socket.resume();
      if (stalled !== null) {
        const pending = stalled;
        stalled = null;
        onData(pending);
      }
    };
    /** Resolves once at least `n` frames arrived. */
    raw.waitFrames = (n) =>
      new Promise((resolve) => {
        const check = () => (raw.frames.length >= n ? resolve(raw.frames) : raw.waiters.push(check));
        check();
      });
    const [server] = await connection;
    while (inHead) await new Promise((r) => setImmediate(r));
    return { raw, server };
  }

  /** Closes every client, socket and server. */
  async closeAll() {
    for (const s of this.sockets.splice(0)) {
      if (typeof s.terminate === 'function') s.terminate();
      else s.destroy();
    }
    await Promise.all(
      this.servers.splice(0).map((wss) => {
        for (const ws of wss.clients || []) ws.terminate();
        return new Promise((resolve) => wss.close(() => resolve()));
      }),
    );
  }
}

/** Inflates a permessage-deflate payload (RFC 7692 §7.2.2: append 00 00 ff ff first). */
function inflate(payload) {
  return zlib.inflateRawSync(Buffer.concat([payload, Buffer.from([0, 0, 0xff, 0xff])]), { finishFlush: zlib.constants.Z_SYNC_FLUSH });
}

/**
 * Resolves when `predicate()` holds, checking after each turn of the event loop. After 8 s it throws, with
 * `describe()`'s account of the state when given: a wait that never ends says which one it was, before
 * mocha's own timeout would say only that the test took too long.
 */
async function until(predicate, describe) {
  const deadline = Date.now() + 8000;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`still waiting after 8 s${describe ? `: ${describe()}` : ''}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

module.exports = { Resources, inflate, until };
