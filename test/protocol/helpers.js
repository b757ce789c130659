'use strict';
// Test helpers for the protocol core: a recording Sink, a hand-rolled frame encoder (independent of
// weft's own writer, so the two check each other), and a seeded PRNG.

const { Connection } = require('../../dist/lib/protocol/connection');
const { kStatusCode } = require('../../dist/lib/protocol/constants');

/** A Sink that records every call as a compact, comparable trace. */
class RecordingSink {
  constructor() {
    this.trace = [];
    this.written = [];
    this.ended = 0;
    this.terminated = 0;
  }
  onMessage(data, isBinary) {
    const buf = Array.isArray(data) ? Buffer.concat(data) : data;
    this.trace.push(['message', isBinary ? 'binary' : 'text', buf.toString('hex')]);
  }
  onPing(data) { this.trace.push(['ping', data.toString('hex')]); }
  onPong(data) { this.trace.push(['pong', data.toString('hex')]); }
  onClose(code, reason) { this.trace.push(['close', code, reason.toString('hex')]); }
  onError(err) { this.trace.push(['error', err.code, err[kStatusCode]]); }
  write(first, second, cb) {
    this.written.push(second ? Buffer.concat([first, second]) : Buffer.from(first));
    if (cb) cb();
  }
  end() { this.ended++; this.trace.push(['end']); }
  terminate() { this.terminated++; this.trace.push(['terminate']); }
  /** All written bytes as hex, one entry per write. */
  writtenHex() { return this.written.map((b) => b.toString('hex')); }
}

/**
 * Encodes one frame by hand (RFC 6455 §5.2). `len` forces the length encoding ('7', '16', '64') so tests
 * can send non-minimal encodings too.
 */
function frame({ fin = true, rsv1 = false, rsv2 = false, rsv3 = false, opcode, payload = Buffer.alloc(0), mask = null, len }) {
  payload = Buffer.from(payload);
  const n = payload.length;
  const enc = len || (n < 126 ? '7' : n < 65536 ? '16' : '64');
  const head = [((fin ? 0x80 : 0) | (rsv1 ? 0x40 : 0) | (rsv2 ? 0x20 : 0) | (rsv3 ? 0x10 : 0) | opcode)];
  const m = mask ? 0x80 : 0;
  if (enc === '7') head.push(m | n);
  else if (enc === '16') head.push(m | 126, (n >> 8) & 0xff, n & 0xff);
  else {
    head.push(m | 127);
    const hi = Math.floor(n / 2 ** 32);
    const lo = n >>> 0;
    head.push((hi >>> 24) & 0xff, (hi >>> 16) & 0xff, (hi >>> 8) & 0xff, hi & 0xff);
    head.push((lo >>> 24) & 0xff, (lo >>> 16) & 0xff, (lo >>> 8) & 0xff, lo & 0xff);
  }
  let body = payload;
  if (mask) {
    const key = Buffer.from(mask);
    head.push(...key);
    body = Buffer.alloc(n);
    for (let i = 0; i < n; i++) body[i] = payload[i] ^ key[i & 3];
  }
  return Buffer.concat([Buffer.from(head), body]);
}

/** A frame as a client sends it (masked with a fixed key). */
const KEY = [0x37, 0xfa, 0x21, 0x3d];
function cframe(opts) { return frame({ mask: KEY, ...opts }); }

/** Builds a connection with a recording sink. */
function connect(options = {}) {
  const sink = new RecordingSink();
  const conn = new Connection(sink, { isServer: true, ...options });
  return { sink, conn };
}

/** Feeds `bytes` to a fresh connection split at the given offsets and returns the sink. */
function feedSplit(bytes, cuts, options) {
  const { sink, conn } = connect(options);
  let prev = 0;
  for (const c of [...cuts, bytes.length]) {
    // Copy each piece: the parser unmasks in place and must not see a shared buffer twice.
    conn.receiveData(Buffer.from(bytes.subarray(prev, c)));
    prev = c;
  }
  return sink;
}

const { prng } = require('../support/prng');

const hex = (s) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

module.exports = { RecordingSink, frame, cframe, KEY, connect, feedSplit, prng, hex };
