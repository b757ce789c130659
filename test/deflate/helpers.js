'use strict';
// Helpers for the permessage-deflate tests: zlib stream tracking, negotiated PerMessageDeflate pairs,
// and two core Connections wired to each other. (Frames on the wire: ../support/frames.js.)

const zlib = require('zlib');
const ws = require('ws');
const { Connection } = require('../../dist/lib/protocol/connection');
const { PerMessageDeflate } = require('../../dist/lib/deflate/permessage-deflate');
const { parse } = require('../../dist/lib/protocol/extension');
const { kStatusCode } = require('../../dist/lib/protocol/constants');
const { prng } = require('../protocol/helpers');

/**
 * Wraps zlib.createInflateRaw/createDeflateRaw (weft looks them up at call time) and records every
 * stream created until `restore()`. ws's own streams are recorded too, so callers filter by creator.
 */
function trackZlib() {
  const origInflate = zlib.createInflateRaw;
  const origDeflate = zlib.createDeflateRaw;
  const streams = [];
  // zlib's exports are read-only but configurable: redefine them for the test's duration.
  const set = (name, fn) => Object.defineProperty(zlib, name, { value: fn, writable: false, enumerable: true, configurable: true });
  set('createInflateRaw', function (opts) {
    const s = origInflate.call(zlib, opts);
    s.__kind = 'inflate';
    s.__opts = opts;
    streams.push(s);
    return s;
  });
  set('createDeflateRaw', function (opts) {
    const s = origDeflate.call(zlib, opts);
    s.__kind = 'deflate';
    s.__opts = opts;
    streams.push(s);
    return s;
  });
  return {
    streams,
    /** Streams whose native handle is still open. */
    live() {
      return streams.filter((s) => !s.destroyed || s._handle);
    },
    restore() {
      set('createInflateRaw', origInflate);
      set('createDeflateRaw', origDeflate);
    },
  };
}

/** Negotiates a weft client and a weft server PerMessageDeflate with the given options. */
function negotiatedPair(clientOpts = {}, serverOpts = {}, maxPayload = 0) {
  const client = new PerMessageDeflate({ ...clientOpts, isServer: false, maxPayload });
  const server = new PerMessageDeflate({ ...serverOpts, isServer: true, maxPayload });
  const offer = parse(ws.extension.format({ 'permessage-deflate': client.offer() }))['permessage-deflate'];
  const accepted = server.accept(offer);
  client.accept(parse(ws.extension.format({ 'permessage-deflate': [accepted] }))['permessage-deflate']);
  return { client, server };
}

/** A PerMessageDeflate (weft's or ws's) accepted with the response header `header`. */
function accepted(Ctor, isServer, header, opts = {}) {
  const p = new Ctor({ ...opts, isServer });
  p.accept(ws.extension.parse(header)['permessage-deflate']);
  return p;
}

/** A Sink that records the trace and forwards written bytes to `peer` (set later), asynchronously. */
class PipeSink {
  constructor(name, rnd) {
    this.name = name;
    this.peer = null;
    this.rnd = rnd || null;
    this.messages = [];
    this.trace = [];
    this.errors = [];
    this.written = [];
    this.waiters = [];
  }
  onMessage(data, isBinary) {
    const buf = Array.isArray(data) ? Buffer.concat(data) : data;
    this.messages.push({ data: buf, isBinary });
    this.trace.push(['message', isBinary ? 'binary' : 'text', buf.length]);
    this.wake();
  }
  onPing(d) { this.trace.push(['ping', d.toString('hex')]); }
  onPong(d) { this.trace.push(['pong', d.toString('hex')]); }
  onClose(code) { this.trace.push(['close', code]); this.wake(); }
  onError(err) { this.errors.push(err); this.trace.push(['error', err.code, err[kStatusCode]]); this.wake(); }
  end() { this.trace.push(['end']); }
  terminate() { this.trace.push(['terminate']); }
  write(first, second, cb) {
    const buf = second ? Buffer.concat([first, second]) : Buffer.from(first);
    this.written.push(buf);
    const peer = this.peer;
    if (peer) {
      // Deliver in random pieces on later turns when a PRNG is given, else whole on the next turn.
      const pieces = [];
      if (this.rnd) {
        let pos = 0;
        while (pos < buf.length) {
          const n = 1 + Math.floor(this.rnd() * Math.min(buf.length - pos, this.rnd() < 0.5 ? 7 : 70000));
          pieces.push(buf.subarray(pos, pos + n));
          pos += n;
        }
      } else {
        pieces.push(buf);
      }
      this.deliver(peer, pieces);
    }
    if (cb) process.nextTick(cb);
  }
  deliver(peer, pieces) {
    // One queue per sink keeps the byte order across writes.
    if (!this.queue) this.queue = [];
    const wasEmpty = this.queue.length === 0;
    this.queue.push(...pieces);
    if (wasEmpty) setImmediate(() => this.pump(peer));
  }
  pump(peer) {
    const piece = this.queue.shift();
    peer.receiveData(piece);
    if (this.queue.length !== 0) {
      if (this.rnd && this.rnd() < 0.3) this.pump(peer);
      else setImmediate(() => this.pump(peer));
    }
  }
  wake() {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }
  /** Resolves once `n` messages arrived (or an error/close happened). */
  waitFor(n) {
    return new Promise((resolve) => {
      const check = () => {
        if (this.messages.length >= n || this.errors.length || this.trace.some((t) => t[0] === 'close')) resolve();
        else this.waiters.push(check);
      };
      check();
    });
  }
}

/** Two core Connections (server ↔ client) wired sink-to-receiveData with the given codecs. */
function connectionPair(serverCodec, clientCodec, options = {}) {
  const rnd = options.seed !== undefined ? prng(options.seed) : null;
  const serverSink = new PipeSink('server', rnd);
  const clientSink = new PipeSink('client', rnd);
  const server = new Connection(serverSink, { isServer: true, codec: serverCodec, maxPayload: options.maxPayload });
  const client = new Connection(clientSink, { isServer: false, codec: clientCodec, maxPayload: options.maxPayload });
  serverSink.peer = client;
  clientSink.peer = server;
  return { server, client, serverSink, clientSink };
}

/** Compressible but not trivial data: words from a small random vocabulary (seeded). */
function text(size, seed = 1) {
  const rnd = prng(seed);
  const words = [];
  for (let i = 0; i < 500; i++) {
    let w = '';
    const n = 2 + Math.floor(rnd() * 8);
    for (let j = 0; j < n; j++) w += String.fromCharCode(97 + Math.floor(rnd() * 26));
    words.push(w);
  }
  const parts = [];
  let len = 0;
  while (len < size) {
    const w = words[Math.floor(rnd() * words.length)] + ' ';
    parts.push(w);
    len += w.length;
  }
  return Buffer.from(parts.join('')).subarray(0, size);
}

/**
 * Wraps a codec and counts its requests in flight, so a test can wait until every answer has landed
 * (deterministically, not by timing). `whenIdle()` resolves once nothing is in flight for a few turns.
 */
function countingCodec(inner) {
  const c = {
    inflight: 0,
    calls: 0,
    decompress(data, fin, cb) {
      c.inflight++;
      c.calls++;
      inner.decompress(data, fin, (err, out) => { c.inflight--; cb(err, out); });
    },
    compress(data, fin, cb) {
      c.inflight++;
      c.calls++;
      inner.compress(data, fin, (err, out) => { c.inflight--; cb(err, out); });
    },
    shouldCompress(n) { return inner.shouldCompress(n); },
    cleanup() { inner.cleanup(); },
    async whenIdle() {
      for (let quiet = 0; quiet < 3;) {
        await new Promise((r) => setImmediate(r));
        if (c.inflight === 0) quiet++;
        else { quiet = 0; await new Promise((r) => setTimeout(r, 1)); }
      }
    },
  };
  return c;
}

/** Waits for `n` turns of the event loop (lets zlib callbacks and late events land). */
async function turns(n = 5) {
  for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r));
}

module.exports = { countingCodec, trackZlib, negotiatedPair, accepted, PipeSink, connectionPair, text, turns };
