'use strict';
// WebSocket frames as the tests see them on the wire (RFC 6455 §5.2), in either direction: `frame()`
// builds one (masked, as a client sends it, unless `mask: false`), `closePayload()` a close frame's body,
// `FrameReader` reads a stream of frames back from chunks of any size, and `parseFrames()` reads a buffer
// that holds whole frames only (what a recording sink wrote, say) in one go.

const assert = require('assert');
const crypto = require('crypto');

/**
 * A frame: `opcode`, `payload` (Buffer|string), `fin` (default true), `rsv` (0..7, the RSV1-3 bits),
 * `mask` (default true: a client's frame; false: a server's), `length` to lie about the payload length.
 */
function frame({ opcode, payload = Buffer.alloc(0), fin = true, rsv = 0, mask = true, length }) {
  const data = Buffer.isBuffer(payload) ? payload : Buffer.from(payload);
  const len = length === undefined ? data.length : length;
  let header;
  if (len < 126) {
    header = Buffer.alloc(2);
    header[1] = len;
  } else if (len < 65536) {
    header = Buffer.alloc(4);
    header[1] = 126;
    header.writeUInt16BE(len, 2);
  } else {
    header = Buffer.alloc(10);
    header[1] = 127;
    header.writeUInt32BE(Math.floor(len / 2 ** 32), 2);
    header.writeUInt32BE(len >>> 0, 6);
  }
  header[0] = (fin ? 0x80 : 0) | ((rsv & 7) << 4) | (opcode & 0x0f);
  if (!mask) return Buffer.concat([header, data]);
  header[1] |= 0x80;
  const key = crypto.randomBytes(4);
  const masked = Buffer.alloc(data.length);
  for (let i = 0; i < data.length; i++) masked[i] = data[i] ^ key[i & 3];
  return Buffer.concat([header, key, masked]);
}

/** A close frame payload: 2-byte status then the reason. */
function closePayload(code, reason = '') {
  const b = Buffer.alloc(2 + Buffer.byteLength(reason));
  b.writeUInt16BE(code, 0);
  b.write(reason, 2);
  return b;
}

/**
 * Reads the frames of one direction of a connection. `push(chunk)` takes the bytes as they arrive (a
 * frame may be split across chunks, or a chunk hold several frames) and returns the frames it
 * completed; `frames` holds all of them, in order, and `buffer` the bytes of a frame not yet complete.
 *
 * Each frame is `{ fin, rsv, opcode, masked, mask, payload, bytes }`: `rsv` the RSV1-3 bits (0..7),
 * `masked` whether it was sent masked, `mask` its 4-byte key (null when unmasked), `payload` unmasked,
 * `bytes` the whole frame as it came on the wire (header, key and masked payload).
 *
 * `new FrameReader({ masked: false })` reads what a server sends and `{ masked: true }` what a client
 * sends: a frame masked the other way fails an assertion (RFC 6455 §5.1) as soon as its header is
 * in. Without the option either is read, and each frame's `masked` tells.
 */
class FrameReader {
  constructor({ masked } = {}) {
    this.expectMasked = masked;
    this.buffer = Buffer.alloc(0);
    this.frames = [];
  }

  push(chunk) {
    // A copy, always: the writer may reuse the chunk's memory before a split frame is complete.
    this.buffer = Buffer.concat([this.buffer, chunk]);
    const completed = [];
    for (;;) {
      const b = this.buffer;
      if (b.length < 2) break;
      const masked = (b[1] & 0x80) !== 0;
      if (this.expectMasked !== undefined) {
        assert.strictEqual(
          masked,
          this.expectMasked,
          this.expectMasked ? 'a client frame must be masked' : 'a server frame must not be masked',
        );
      }
      let len = b[1] & 0x7f;
      let offset = 2;
      if (len === 126) {
        if (b.length < 4) break;
        len = b.readUInt16BE(2);
        offset = 4;
      } else if (len === 127) {
        if (b.length < 10) break;
        len = b.readUInt32BE(2) * 2 ** 32 + b.readUInt32BE(6);
        offset = 10;
      }
      const mask = masked ? b.subarray(offset, offset + 4) : null;
      if (masked) offset += 4;
      if (b.length < offset + len) break;
      const payload = Buffer.from(b.subarray(offset, offset + len));
      if (mask) for (let i = 0; i < payload.length; i++) payload[i] ^= mask[i & 3];
      const f = {
        fin: (b[0] & 0x80) !== 0,
        rsv: (b[0] >> 4) & 7,
        opcode: b[0] & 0x0f,
        masked,
        mask: mask && Buffer.from(mask),
        payload,
        // A view, not a copy: `b` is the reader's own (push() concatenates into a new buffer).
        bytes: b.subarray(0, offset + len),
      };
      this.frames.push(f);
      completed.push(f);
      this.buffer = b.subarray(offset + len);
    }
    return completed;
  }

  /** The first close frame's status (1005 when it had none), or undefined when no close frame came. */
  get closeCode() {
    const close = this.frames.find((f) => f.opcode === 8);
    if (close === undefined) return undefined;
    return close.payload.length >= 2 ? close.payload.readUInt16BE(0) : 1005;
  }
}

/**
 * The frames of `buffer`, which must hold whole frames only: a truncated last frame fails an
 * assertion rather than being read short. `options` as FrameReader's (`{ masked }` checks the sender's role).
 */
function parseFrames(buffer, options) {
  const reader = new FrameReader(options);
  reader.push(buffer);
  assert.strictEqual(reader.buffer.length, 0, `${reader.buffer.length} bytes of an incomplete frame after ${reader.frames.length} frames`);
  return reader.frames;
}

module.exports = { frame, closePayload, FrameReader, parseFrames };
