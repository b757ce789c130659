/**
 * One direction of permessage-deflate: a raw zlib stream (InflateRaw or DeflateRaw) driven one frame at
 * a time, through the process-wide limiter.
 *
 * The life of a request: `request()` stores it and queues the pipe in the limiter → `runJob()` (when a
 * slot is free) creates the zlib stream on first use and writes the frame (plus, when inflating a
 * message's last frame, the 0x00 0x00 0xff 0xff tail) and a sync flush → zlib's `'data'` events collect
 * the output, counting inflated bytes against `maxPayload` → the flush callback (or `'error'`) ends the
 * job: the slot is freed, the stream kept, reset or closed per the context takeover rules, and the
 * caller's callback runs last, when every field is consistent again (a `chunked` request gets zlib's
 * output chunks, not joined).
 *
 * Small requests of a pipe made with `inlineMax` skip the thread pool (see `inline()`): the same zlib
 * stream is driven synchronously on the main thread, and the answer still comes later (in the event
 * loop's check phase, after the I/O already waiting: see `finish()`).
 *
 * Every event is checked against the stream it came from: a stream that was dropped (after an error, a
 * bomb, `cleanup()`) can still deliver a late flush callback or `'data'`; those are ignored, so nothing
 * answers twice and nothing touches a released stream.
 */
import * as zlib from 'zlib';
import { EMPTY_BUFFER, kStatusCode } from '../protocol/constants';
import { violation } from '../protocol/errors';
import type { ChunksCallback, CodecCallback } from '../protocol/codec';
import { dropTail } from '../protocol/frame';
import type { Limiter, LimiterJob } from './limiter';

/** RFC 7692 §7.2.2: the tail appended to a message before inflating it (and stripped after deflating). */
const TRAILER = Buffer.from([0x00, 0x00, 0xff, 0xff]);

/**
 * Messages this large, deflated without context takeover, borrow a stream (pooled apart) with 64 KiB
 * output buffers instead of 16 KiB: each buffer is a round trip from zlib's thread to the main thread,
 * whose CPU for 16 MiB of text falls from 30-50 ms to 11-17 ms. Not when the user set chunkSize, nor at
 * level 0 (stored blocks follow the buffer size: the bytes would change). pubsub/hub.ts does the same.
 */
const LARGE_INPUT = 256 * 1024;
const LARGE_CHUNK = 64 * 1024;

/**
 * Inline zlib: a request this small (input bytes) is deflated or inflated on the main thread, through the
 * stream's own handle (`writeSync`, as zlib's `*Sync` functions do, but keeping the context), instead of a
 * trip through libuv's thread pool. The trip dominates small messages: deflating and inflating 1 KiB of
 * text took 134 µs of CPU per message through the pool and 4–6 µs inline (Node 20, 2 vCPU). Past a few
 * KiB zlib's own work dominates instead, and the pool spreads it over other cores: with text that barely
 * compresses, a 4 KiB echo still cost 25% less CPU inline at the same throughput, an 8 KiB one no less
 * CPU and a third less throughput (bench/, `deflate-*` rows). Hence the line.
 */
export const INLINE_MAX = inlineLine(4 * 1024);

/** WEFT_INLINE_ZLIB=<bytes> moves the line, =0 turns inline mode off (for measurements). */
function inlineLine(byDefault: number): number {
  const env = process.env.WEFT_INLINE_ZLIB;
  if (env === undefined || env === '') return byDefault;
  const n = Number(env);
  return Number.isInteger(n) && n >= 0 ? n : byDefault;
}
/**
 * Inflating inline stops after this much output (a small frame can inflate to ~1000× its size): the rest
 * of the frame goes through the thread pool, so one frame never holds the main thread for long.
 */
const INLINE_OUTPUT_MAX = 64 * 1024;
/** pump(): all input consumed, all output collected. */
const PUMP_DONE = -1;
/** pump(): the request ended early (zlib error, or a decompression bomb): it has been answered. */
const PUMP_STOPPED = -2;

/** zlib's stream internals inline mode drives (Node 18–26); checked once, on the first stream. */
interface ZInternals {
  _handle: {
    writeSync(flush: number, input: Buffer, inOff: number, inLen: number, out: Buffer, outOff: number, outLen: number): void;
  } | null;
  _writeState: Uint32Array;
  _outBuffer: Buffer;
  _outOffset: number;
  _chunkSize: number;
  bytesWritten: number;
}

/** undefined: not probed yet. */
let inlineUsable: boolean | undefined;

function inlineReady(stream: ZStream): boolean {
  const z = stream as unknown as ZInternals;
  if (inlineUsable === undefined) {
    const h = z._handle;
    inlineUsable =
      h !== null &&
      typeof h === 'object' &&
      typeof h.writeSync === 'function' &&
      z._writeState instanceof Uint32Array &&
      z._writeState.length >= 2 &&
      typeof z._chunkSize === 'number' &&
      typeof z._outOffset === 'number' &&
      Buffer.isBuffer(z._outBuffer) &&
      typeof z.bytesWritten === 'number';
  }
  // The stream must be idle: nothing written through the stream API still waiting for zlib's thread.
  return inlineUsable && z._handle !== null && !stream.destroyed && stream.writableLength === 0;
}

/** Delivers an inline request's answer (`setImmediate` target: no closure per request). */
function deliverAnswer(pipe: ZlibPipe): void {
  pipe.deliver();
}

/** The pipe a zlib stream belongs to, so the shared listeners below need no closure per stream. */
const kPipe = Symbol('weft-zlib-pipe');
/** The stream's flush callback, made once per stream (it reads the current pipe from kPipe). */
const kFlushed = Symbol('weft-zlib-flushed');
/** The pool key of a stream's settings. */
const kKey = Symbol('weft-zlib-key');

type ZStream = (zlib.InflateRaw | zlib.DeflateRaw) & {
  [kPipe]?: ZlibPipe;
  [kFlushed]?: (err?: Error | null) => void;
  [kKey]?: string;
};

/**
 * Idle zlib streams of no-context-takeover pipes, by settings. Such a stream carries nothing from one
 * message to the next, so between messages it belongs to no connection: an idle compressed connection
 * holds no zlib context at all, and a busy one borrows a reset stream instead of paying for a new one
 * (creating a zlib context costs far more than deflating a small message). The pool is bounded, so at
 * most POOL_MAX contexts per setting outlive the messages that used them — and none outlives the last
 * connection with that setting (see removeUser).
 */
const pool = new Map<string, ZStream[]>();
const POOL_MAX = 16;
/** Idle streams are closed when their pool has not been used for this long (ms). */
const POOL_IDLE_MS = 1000;
/** When each pool was last borrowed from, and its sweep timer (one per setting, unref'd). */
const lastUse = new Map<string, number>();
const sweeps = new Map<string, NodeJS.Timeout>();
/** Open pipes per pool key: when the last one is cleaned up, its idle streams are closed too. */
const users = new Map<string, number>();

function addUser(key: string): void {
  users.set(key, (users.get(key) || 0) + 1);
}

/** The last connection with these settings is gone: no zlib handle outlives it. */
function removeUser(key: string): void {
  const left = (users.get(key) || 1) - 1;
  if (left > 0) users.set(key, left);
  else {
    users.delete(key);
    closePool(key);
  }
}

function closePool(key: string): void {
  const list = pool.get(key);
  pool.delete(key);
  lastUse.delete(key);
  const timer = sweeps.get(key);
  if (timer !== undefined) clearTimeout(timer);
  sweeps.delete(key);
  if (list !== undefined) for (const stream of list) stream.close();
}

/** Closes a pool that went unused for POOL_IDLE_MS: quiet servers give their zlib memory back. */
function sweep(key: string): void {
  sweeps.delete(key);
  const idle = Date.now() - (lastUse.get(key) || 0);
  if (idle >= POOL_IDLE_MS) closePool(key);
  else scheduleSweep(key, POOL_IDLE_MS - idle);
}

function scheduleSweep(key: string, ms: number): void {
  if (sweeps.has(key)) return;
  const timer = setTimeout(sweep, ms, key);
  timer.unref();
  sweeps.set(key, timer);
}

function borrow(key: string): ZStream | null {
  const list = pool.get(key);
  if (list === undefined || list.length === 0) return null;
  lastUse.set(key, Date.now());
  return list.pop() as ZStream;
}

function giveBack(stream: ZStream): void {
  const key = stream[kKey] as string;
  let list = pool.get(key);
  if (list === undefined) {
    list = [];
    pool.set(key, list);
  }
  if (list.length >= POOL_MAX || !users.has(key)) {
    stream.close();
    return;
  }
  stream[kPipe] = undefined;
  stream.reset();
  list.push(stream);
  lastUse.set(key, Date.now());
  scheduleSweep(key, POOL_IDLE_MS);
}

/** @internal For tests: how many idle streams the pool holds. */
export function pooledStreams(): number {
  let n = 0;
  for (const list of pool.values()) n += list.length;
  return n;
}

/** A request waiting behind the one in flight (only when a caller overlaps requests; the core never does). */
interface Backlog {
  data: Buffer;
  fin: boolean;
  chunked: boolean;
  cb: ChunksCallback;
}

/** How a pipe is set up once the handshake has fixed the parameters. */
export interface PipeSettings {
  /** true: InflateRaw (the peer's messages); false: DeflateRaw (ours). */
  inflate: boolean;
  /** LZ77 window size (RFC 7692 §7.1.2); 15 when not negotiated. */
  windowBits: number;
  /** Reset the context after each message (§7.1.1): no stream is kept between messages. */
  noContextTakeover: boolean;
  /** Largest inflated message (bytes), 0 for none. */
  maxPayload: number;
  /** User's zlib options (chunkSize, level, memLevel, ...); windowBits is overridden. */
  zlibOptions: zlib.ZlibOptions | undefined;
  /** Requests with at most this many input bytes run inline (see INLINE_MAX); 0: always the thread pool. */
  inlineMax?: number;
}

/** One zlib direction of one connection. */
export class ZlibPipe implements LimiterJob {
  private readonly limiter: Limiter;
  private readonly inflate: boolean;
  private readonly noContextTakeover: boolean;
  private readonly maxPayload: number;
  private readonly zlibOptions: zlib.ZlibOptions;
  /** The pool key for this pipe's settings (no-context-takeover pipes only). */
  private readonly poolKey: string;
  /** Settings and pool key of a stream for large messages ('': none, see LARGE_INPUT). */
  private readonly largeOptions: zlib.ZlibOptions | null;
  private readonly largeKey: string;
  private readonly inlineMax: number;

  /** The live zlib stream, or null: created on first use, dropped when no longer needed. */
  stream: ZStream | null;
  /** The flush callback of `stream` (one per stream, since the flush itself does not say which stream). */
  private flushed: ((err?: Error | null) => void) | null;

  // The request in flight or waiting for a limiter slot (cb === null: none).
  private data: Buffer;
  private fin: boolean;
  /** The output goes back as zlib's chunks (`cb` is a ChunksCallback), else joined (a CodecCallback). */
  private chunked: boolean;
  private cb: ChunksCallback | null;
  private backlog: Backlog[] | null;
  /** The stream is working on the current request. */
  private running: boolean;
  /** A limiter slot is held (from runJob() to finish()). */
  private slot: boolean;
  /**
   * The current request is worked inline: once done, its answer waits for setImmediate, `cb` staying set
   * meanwhile (later requests queue behind it, cleanup() fails it as one in flight).
   */
  private inlined: boolean;
  // An inline request's answer, waiting for its turn.
  private answerErr: Error | null;
  private answerOut: Buffer | Buffer[] | undefined;
  private answerLength: number;
  /** The stream emitted 'end' (the peer set BFINAL, RFC 7692 §7.2.3.5): it cannot take more input. */
  private ended: boolean;
  /** cleanup() was called: every later request fails. */
  private closed: boolean;

  // Output of the current request (a chunked request takes the array away with it).
  private chunks: Buffer[];
  private bytes: number;
  /** Inflated bytes of the current message so far, across its frames. */
  private messageBytes: number;

  constructor(limiter: Limiter, settings: PipeSettings) {
    this.limiter = limiter;
    this.inflate = settings.inflate;
    this.inlineMax = settings.inlineMax || 0;
    this.noContextTakeover = settings.noContextTakeover;
    this.maxPayload = settings.maxPayload;
    this.zlibOptions = { ...settings.zlibOptions, windowBits: settings.windowBits };
    this.poolKey = settings.noContextTakeover ? `${settings.inflate ? 'i' : 'd'}:${JSON.stringify(this.zlibOptions)}` : '';
    if (this.poolKey !== '') addUser(this.poolKey);
    const own = settings.zlibOptions;
    if (!settings.inflate && settings.noContextTakeover && (own === undefined || (own.chunkSize === undefined && own.level !== 0))) {
      this.largeOptions = { ...this.zlibOptions, chunkSize: LARGE_CHUNK };
      this.largeKey = `d:${JSON.stringify(this.largeOptions)}`;
      addUser(this.largeKey);
    } else {
      this.largeOptions = null;
      this.largeKey = '';
    }
    this.stream = null;
    this.flushed = null;
    this.data = TRAILER;
    this.fin = false;
    this.chunked = false;
    this.cb = null;
    this.backlog = null;
    this.running = false;
    this.slot = false;
    this.inlined = false;
    this.answerErr = null;
    this.answerOut = undefined;
    this.answerLength = 0;
    this.ended = false;
    this.closed = false;
    this.chunks = [];
    this.bytes = 0;
    this.messageBytes = 0;
  }

  /**
   * Queues one frame's payload; `cb` gets the output (or an error) once, always asynchronously unless
   * closed: one Buffer, or with `chunked` an array of zlib's chunks when there are several.
   */
  request(data: Buffer, fin: boolean, cb: CodecCallback | ChunksCallback, chunked = false): void {
    if (this.closed) {
      cb(this.closedError());
      return;
    }
    // (A CodecCallback is only ever given a Buffer: see `chunked`.)
    const answer = cb as ChunksCallback;
    if (this.cb !== null) {
      if (this.backlog === null) this.backlog = [];
      this.backlog.push({ data, fin, chunked, cb: answer });
      return;
    }
    this.data = data;
    this.fin = fin;
    this.chunked = chunked;
    this.cb = answer;
    this.start();
  }

  /** Starts the current request: inline when it is small enough and the stream allows, else in the pool. */
  private start(): void {
    if (this.inlineMax > 0 && this.data.length <= this.inlineMax && this.inline()) return;
    this.limiter.add(this);
  }

  /**
   * Works the current request on the main thread (the stream borrowed or created as for runJob()).
   * Returns false, having changed nothing, when the stream cannot be driven inline. The answer is
   * deferred to the check phase, as a thread pool answer comes in a later loop turn: callers see no
   * difference but time.
   */
  private inline(): boolean {
    const stream = this.stream !== null ? this.stream : this.open(false);
    if (!inlineReady(stream)) return false;
    this.running = true;
    this.inlined = true;
    const data = this.data;
    const flush = zlib.constants.Z_SYNC_FLUSH;
    let at: number;
    if (this.inflate) {
      at = this.pump(stream, data, flush, INLINE_OUTPUT_MAX);
      // RFC 7692 §7.2.2: the tail, after the message's last frame (when the peer's stream did not end).
      if (at === PUMP_DONE && this.fin && !this.ended) at = this.pump(stream, TRAILER, flush, 0);
    } else {
      // zlib makes no output for a sync flush with no input right after another (Z_BUF_ERROR), where
      // the message needs its empty stored block (RFC 7692 §7.2.3.6; the receiver appends 00 00 ff ff
      // to what it gets, which alone opens a stored block that eats the next message). A no-flush call
      // first makes the sync flush a new one, as a write through the stream API does.
      if (data.length === 0 && this.pump(stream, data, zlib.constants.Z_NO_FLUSH, 0) === PUMP_STOPPED) return true;
      at = this.pump(stream, data, flush, 0);
    }
    if (at === PUMP_STOPPED) return true; // answered (deferred) already
    if (at >= 0) {
      // The frame inflates to more than INLINE_OUTPUT_MAX: what is left of it goes through the thread
      // pool (runJob() writes it, then the tail), adding to the output collected so far.
      this.inlined = false;
      this.data = data.subarray(at);
      this.limiter.add(this);
      return true;
    }
    this.complete(stream);
    return true;
  }

  /**
   * Feeds `input` to the stream's handle synchronously, collecting the output through onChunk() as the
   * stream's 'data' events would. Returns PUMP_DONE, PUMP_STOPPED, or (once `budget` output bytes are
   * exceeded with more to come) the offset in `input` where the rest starts.
   */
  private pump(stream: ZStream, input: Buffer, flush: number, budget: number): number {
    const z = stream as unknown as ZInternals;
    const handle = z._handle as NonNullable<ZInternals['_handle']>;
    const state = z._writeState;
    const chunkSize = z._chunkSize;
    let inOff = 0;
    let inLen = input.length;
    let produced = 0;
    for (;;) {
      const out = z._outBuffer;
      const outOff = z._outOffset;
      const availOutBefore = chunkSize - outOff;
      handle.writeSync(flush, input, inOff, inLen, out, outOff, availOutBefore);
      if (z._handle === null || stream.destroyed) {
        // zlib failed (corrupt data) and destroyed the stream: its error is the request's answer, as it
        // would have been through the thread pool (same error, same code). The handle is closed: no
        // more calls on it.
        this.onStreamError(stream, stream.errored || new Error('zlib failed'));
        return PUMP_STOPPED;
      }
      const availOutAfter = state[0];
      const availInAfter = state[1];
      const have = availOutBefore - availOutAfter;
      z.bytesWritten += inLen - availInAfter;
      inOff += inLen - availInAfter;
      inLen = availInAfter;
      // As zlib's own loop: a full output buffer is never written to again (what was emitted stays).
      if (availOutAfter === 0 || outOff + have >= chunkSize) {
        z._outBuffer = Buffer.allocUnsafe(chunkSize);
        z._outOffset = 0;
      } else {
        z._outOffset = outOff + have;
      }
      if (have > 0) {
        this.onChunk(stream, out.subarray(outOff, outOff + have));
        if (stream !== this.stream || !this.running) return PUMP_STOPPED; // a decompression bomb
        produced += have;
      }
      if (availOutAfter !== 0) {
        // Output space left over: zlib took all it wanted. Input it left means the peer's deflate stream
        // ended (BFINAL, RFC 7692 §7.2.3.5), as the stream's 'end' would have said.
        if (inLen !== 0 && this.inflate) this.ended = true;
        return PUMP_DONE;
      }
      if (budget > 0 && produced >= budget) return inOff;
    }
  }

  /** @internal The turn after an inline request: its answer goes out, then the next request starts. */
  deliver(): void {
    if (!this.inlined) return; // cleanup() answered it already
    this.inlined = false;
    const cb = this.cb as ChunksCallback;
    const err = this.answerErr;
    const out = this.answerOut;
    const length = this.answerLength;
    this.cb = null;
    this.answerErr = null;
    this.answerOut = undefined;
    this.answerLength = 0;
    // The backlog first (before the callback can add to it): it keeps its place in the order.
    this.next();
    if (err !== null) cb(err, undefined);
    else cb(null, out, length);
  }

  /** @internal The limiter gave us a slot. */
  runJob(): void {
    if (this.closed || this.cb === null) {
      // Cleaned up while waiting for the slot: give it back.
      this.limiter.done();
      return;
    }
    this.slot = true;
    this.running = true;
    const stream = this.stream !== null ? this.stream : this.open(this.largeKey !== '' && this.data.length >= LARGE_INPUT);
    stream.write(this.data);
    // RFC 7692 §7.2.2: append 0x00 0x00 0xff 0xff to the payload of the message's last frame.
    if (this.inflate && this.fin) stream.write(TRAILER);
    // §7.2.1: a sync flush ends the output on a byte boundary (deflate) and yields all input (inflate).
    stream.flush(zlib.constants.Z_SYNC_FLUSH, this.flushed as () => void);
  }

  /** Borrows or creates the stream for a message (`large`: one with large output buffers). */
  private open(large: boolean): ZStream {
    const key = large ? this.largeKey : this.poolKey;
    const options = large ? (this.largeOptions as zlib.ZlibOptions) : this.zlibOptions;
    let stream = key !== '' ? borrow(key) : null;
    if (stream === null) {
      // Looked up on the module at call time (not destructured): tests wrap these to track every handle.
      const created: ZStream = this.inflate
        ? zlib.createInflateRaw(options)
        : zlib.createDeflateRaw(options);
      created.on('data', onData);
      created.on('error', onError);
      if (this.inflate) created.on('end', onEnd);
      created[kFlushed] = (err?: Error | null) => {
        const pipe = created[kPipe];
        if (pipe !== undefined) pipe.onFlushed(created, err);
      };
      created[kKey] = key;
      stream = created;
    }
    stream[kPipe] = this;
    this.flushed = stream[kFlushed] as (err?: Error | null) => void;
    this.stream = stream;
    this.ended = false;
    return stream;
  }

  /** Hands a no-context-takeover stream back to the pool after its message (or closes it). */
  private release(): void {
    const stream = this.stream;
    if (stream === null) return;
    this.stream = null;
    this.flushed = null;
    this.ended = false;
    giveBack(stream);
  }

  /** @internal Output from `stream`. */
  onChunk(stream: ZStream, chunk: Buffer): void {
    if (stream !== this.stream || !this.running) return;
    this.bytes += chunk.length;
    if (this.inflate) {
      this.messageBytes += chunk.length;
      if (this.maxPayload > 0 && this.messageBytes > this.maxPayload) {
        // A decompression bomb: stop inflating right now (destroying the stream stops zlib's output
        // loop after this chunk) and throw away what was inflated.
        this.drop();
        this.finish(
          violation.maxPayload(),
          undefined,
        );
        return;
      }
    }
    this.chunks.push(chunk);
  }

  /** @internal zlib failed on `stream` (corrupt deflate data); zlib has destroyed it already. */
  onStreamError(stream: ZStream, err: Error): void {
    if (stream !== this.stream) return;
    this.drop(); // zlib destroyed it; closing again is a no-op, and we forget it
    // As ws: zlib's own error (code 'Z_DATA_ERROR', ...) with close status 1007 (RFC 6455 §7.4.1:
    // the message data is not consistent with its type).
    if (this.inflate) (err as Error & { [kStatusCode]: number })[kStatusCode] = 1007;
    if (this.running) this.finish(err, undefined);
  }

  /** @internal `stream` ended: the peer's deflate stream had its final block. */
  onStreamEnd(stream: ZStream): void {
    if (stream === this.stream) this.ended = true;
  }

  /** @internal The flush of `stream` completed. */
  onFlushed(stream: ZStream, err?: Error | null): void {
    if (stream !== this.stream || !this.running) return; // a dropped stream's late answer
    if (err) {
      this.onStreamError(stream, err);
      return;
    }
    this.complete(stream);
  }

  /** All of the current request's output is in: hands it back (joined, trimmed, copied as needed). */
  private complete(stream: ZStream): void {
    let out: Buffer | Buffer[];
    let length = this.bytes;
    const chunks = this.chunks;
    // RFC 7692 §7.2.1: the 0x00 0x00 0xff 0xff the sync flush put at the end of the message is removed.
    const trim = !this.inflate && this.fin && length >= 4;
    if (chunks.length === 1) {
      out = chunks[0];
      // One result is a view into zlib's output buffer, which the stream reuses for later output. A
      // pooled stream serves every connection, so its buffer may hold another connection's plaintext:
      // the message gets a copy with a backing store of its own (not Node's shared allocation pool).
      // A small view of a connection's own stream is copied too, so that a message the user keeps does
      // not pin the whole 16 KiB buffer.
      if (this.inflate && out.length !== out.buffer.byteLength) {
        if (this.poolKey !== '') out = ownCopy(out);
        else if (out.length < out.buffer.byteLength >>> 2) out = Buffer.from(out);
      }
      if (trim) {
        length -= 4;
        out = out.subarray(0, length);
      }
    } else if (chunks.length === 0) {
      out = EMPTY_BUFFER;
    } else if (this.chunked) {
      // Handed over as they are (zlib never writes over output it emitted; callers only read it). The
      // trailer may straddle chunks.
      this.chunks = [];
      if (trim) length = dropTail(chunks, length, 4);
      out = chunks.length > 1 ? chunks : chunks.length === 1 ? chunks[0] : EMPTY_BUFFER;
    } else {
      out = Buffer.concat(chunks, length);
      if (trim) {
        length -= 4;
        out = out.subarray(0, length);
      }
    }

    // ('end' may still be on its way when the flush answers: the readable side has ended already then.)
    if (this.ended || (stream as unknown as { _readableState: { ended: boolean } })._readableState.ended) {
      // BFINAL ended the peer's stream: the next message starts a new one.
      this.drop();
    } else if (this.fin && this.noContextTakeover) {
      // §7.1.1: no context takeover: nothing is carried to the next message, so the connection keeps
      // no stream either (a zlib context is the main memory cost of a compressed connection); the
      // reset stream goes back to the shared pool for the next message, of any connection.
      this.release();
    }
    this.finish(null, out, length);
  }

  /** Ends the current request: frees the slot, starts the next one, then answers. */
  private finish(err: Error | null, out: Buffer | Buffer[] | undefined, length = 0): void {
    const cb = this.cb as ChunksCallback;
    if (err !== null || this.fin) this.messageBytes = 0;
    this.data = TRAILER; // a shared placeholder, so the pipe does not pin the caller's buffer
    this.chunks.length = 0;
    this.bytes = 0;
    this.running = false;
    if (this.inlined) {
      // Answered later (no limiter slot was taken): `cb` stays until then, the backlog after it. Not on
      // the next tick but after the I/O the loop already has waiting, as a pool answer would come: a peer's
      // FIN or close read meanwhile is seen first, so send callbacks fail and 'close' comes while data is
      // still being (de)compressed, in ws's order (ws's own tests check both; on the next tick they did not).
      this.answerErr = err;
      this.answerOut = out;
      this.answerLength = length;
      setImmediate(deliverAnswer, this);
      return;
    }
    this.cb = null;
    this.next();
    if (this.slot) {
      this.slot = false;
      this.limiter.done();
    }
    if (err !== null) cb(err, undefined);
    else cb(null, out, length);
  }

  /** Moves the first backlog request into place and queues it (behind other connections: fairness). */
  private next(): void {
    const backlog = this.backlog;
    if (backlog === null || backlog.length === 0) return;
    const req = backlog.shift() as Backlog;
    this.data = req.data;
    this.fin = req.fin;
    this.chunked = req.chunked;
    this.cb = req.cb;
    this.start();
  }

  /** Closes the stream (if any) and forgets it: its late events are ignored from now on. */
  private drop(): void {
    const stream = this.stream;
    if (stream === null) return;
    this.stream = null;
    this.flushed = null;
    this.ended = false;
    stream.close();
  }

  /**
   * Releases the stream for good and fails every request in flight or waiting, in order, with ws's
   * "The (in|de)flate stream was closed while data was being processed".
   */
  cleanup(): void {
    if (this.closed) return;
    this.closed = true;
    this.drop();
    if (this.poolKey !== '') removeUser(this.poolKey);
    if (this.largeKey !== '') removeUser(this.largeKey);
    // (An inline answer still waiting for its turn is failed now, as one in flight would be.)
    const cb = this.cb;
    const backlog = this.backlog;
    this.cb = null;
    this.answerOut = undefined;
    this.backlog = null;
    this.chunks.length = 0;
    this.data = TRAILER;
    this.running = false;
    this.inlined = false;
    if (this.slot) {
      this.slot = false;
      this.limiter.done();
    }
    // (A request still waiting for a slot keeps its place; runJob() sees `closed` and gives it back.)
    if (cb !== null) cb(this.closedError());
    if (backlog !== null) for (const req of backlog) req.cb(this.closedError());
  }

  private closedError(): Error {
    return new Error(`The ${this.inflate ? 'inflate' : 'deflate'} stream was closed while data was being processed`);
  }
}

/** A copy of `data` in an ArrayBuffer of exactly its size, shared with nothing else. */
function ownCopy(data: Buffer): Buffer {
  const copy = Buffer.allocUnsafeSlow(data.length);
  data.copy(copy);
  return copy;
}

// Listeners shared by every stream (`this` is the stream): no closures per stream for these.
function onData(this: ZStream, chunk: Buffer): void {
  (this[kPipe] as ZlibPipe).onChunk(this, chunk);
}

function onError(this: ZStream, err: Error): void {
  (this[kPipe] as ZlibPipe).onStreamError(this, err);
}

function onEnd(this: ZStream): void {
  (this[kPipe] as ZlibPipe).onStreamEnd(this);
}
