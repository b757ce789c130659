'use strict';
/**
 * The WebSocket echo of the floor servers (net-echo.js on net.Socket, handle-echo.js on Node's TCP
 * handles with no net.Socket): one `Conn` per connection, over anything with `cork()`, `uncork()`,
 * `write(buf|string)`, `end()` and `destroy()`.
 *
 * Minimal on purpose: the upgrade is answered from the raw request head (no HTTP parser), frames are
 * parsed with the least bookkeeping that stays correct across chunk boundaries, payloads are unmasked
 * in place (bufferutil, the helper ws uses, when the payload is larger than a few words), and each echo
 * is written as an unmasked header + payload. No validation beyond that: the load generator is the
 * only peer. A frame that spans chunks is gathered once into a buffer of its size.
 */
const crypto = require('crypto');
const { stats } = require('./common');

let unmaskNative = null;
try {
  unmaskNative = require('bufferutil').unmask;
} catch {
  /* the JS loop below */
}

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

function unmask(buf, key) {
  if (unmaskNative !== null && buf.length >= 32) {
    unmaskNative(buf, key);
    return;
  }
  for (let i = 0; i < buf.length; i++) buf[i] ^= key[i & 3];
}

function header(opcode, len) {
  let h;
  if (len < 126) {
    h = Buffer.allocUnsafe(2);
    h[1] = len;
  } else if (len < 65536) {
    h = Buffer.allocUnsafe(4);
    h[1] = 126;
    h.writeUInt16BE(len, 2);
  } else {
    h = Buffer.allocUnsafe(10);
    h[1] = 127;
    h.writeUInt32BE(Math.floor(len / 0x100000000), 2);
    h.writeUInt32BE(len >>> 0, 6);
  }
  h[0] = 0x80 | opcode;
  return h;
}

/** Per-connection state: bytes of an unfinished frame, and nothing else. */
class Conn {
  constructor(socket) {
    this.socket = socket;
    this.head = null; // bytes of the HTTP request head while upgrading
    this.rest = null; // the first bytes of a header that spans chunks
    this.frame = null; // a frame that spans chunks, gathered here once its size is known
    this.fill = 0;
    this.open = false;
  }

  data(chunk) {
    if (!this.open) return this.upgrade(chunk);
    let pos = 0;
    if (this.frame !== null) {
      // Filling a frame that spans chunks (its size is known).
      const n = Math.min(this.frame.length - this.fill, chunk.length);
      chunk.copy(this.frame, this.fill, 0, n);
      this.fill += n;
      if (this.fill < this.frame.length) return;
      pos = n;
      const frame = this.frame;
      this.frame = null;
      this.socket.cork();
      this.frames(frame, 0);
      this.socket.uncork();
    } else if (this.rest !== null) {
      // A header that spans chunks: at most 13 bytes are carried over.
      chunk = Buffer.concat([this.rest, chunk]);
      this.rest = null;
    }
    if (pos === chunk.length) return;
    this.socket.cork();
    const used = this.frames(chunk, pos);
    this.socket.uncork();
    if (used === chunk.length) return;
    const left = chunk.length - used;
    const need = this.frameSize(chunk, used);
    if (need < 0) {
      this.rest = chunk.subarray(used);
    } else {
      this.frame = Buffer.allocUnsafe(need);
      this.fill = chunk.copy(this.frame, 0, used);
      if (this.fill !== left) throw new Error('unreachable');
    }
  }

  /** Total bytes of the frame starting at buf[pos], or -1 while its header is incomplete. */
  frameSize(buf, pos) {
    const avail = buf.length - pos;
    if (avail < 2) return -1;
    const len = buf[pos + 1] & 0x7f;
    if (len === 126) return avail < 4 ? -1 : 8 + buf.readUInt16BE(pos + 2);
    if (len === 127) return avail < 10 ? -1 : 14 + buf.readUInt32BE(pos + 2) * 0x100000000 + buf.readUInt32BE(pos + 6);
    return 6 + len;
  }

  /** Echoes every whole frame in buf from pos on; returns where the first incomplete one starts. */
  frames(buf, pos) {
    const socket = this.socket;
    for (;;) {
      const size = this.frameSize(buf, pos);
      if (size < 0 || buf.length - pos < size) return pos;
      const opcode = buf[pos] & 0x0f;
      const len7 = buf[pos + 1] & 0x7f;
      const h = (len7 === 127 ? 10 : len7 === 126 ? 4 : 2) + 4;
      const key = buf.subarray(pos + h - 4, pos + h);
      const payload = buf.subarray(pos + h, pos + size);
      pos += size;
      unmask(payload, key);
      if (opcode === 8) {
        socket.write(header(8, payload.length));
        if (payload.length) socket.write(payload);
        socket.end();
        return buf.length;
      }
      stats.ops++;
      socket.write(header(opcode, payload.length));
      socket.write(payload);
    }
  }

  upgrade(chunk) {
    this.head = this.head === null ? chunk : Buffer.concat([this.head, chunk]);
    const end = this.head.indexOf('\r\n\r\n');
    if (end < 0) return;
    const text = this.head.toString('latin1', 0, end);
    const m = /\r\nsec-websocket-key:\s*([^\r\n]+)/i.exec(text);
    if (!m) return this.socket.destroy();
    const accept = crypto.createHash('sha1').update(m[1].trim() + GUID).digest('base64');
    this.socket.write(
      `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`,
    );
    this.open = true;
    const after = this.head.subarray(end + 4);
    this.head = null;
    stats.conns++;
    if (after.length) this.data(after);
  }
}

module.exports = { Conn };
