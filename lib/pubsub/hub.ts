/**
 * Topics on the server: `ws.subscribe(topic)`, `ws.publish(topic, data)`, `server.publish(topic, data)`.
 *
 * One broadcast: the payload is framed ONCE per publish — server frames are unmasked, so every
 * subscriber gets the same bytes — then, for each subscriber, its backpressure is checked (the same rules
 * as `send`: past `maxBackpressure` the message is dropped, or the socket closed under policy 'close') and
 * the shared frame is written with `conn.sendRaw(frame, null, undefined)`: no per-subscriber copy, no
 * per-subscriber closure. Sockets written to are corked on their first write and uncorked together by
 * one `setImmediate` (lib/transport/cork.ts), so the publishes of one turn of the event loop — from one
 * callback or from many sockets' reads — leave in one writev per socket (a batch that outgrows the
 * socket's high-water mark is flushed at once instead).
 * With `compress`, subscribers whose permessage-deflate resets the server's context after every message
 * (server_no_context_takeover) share ONE deflate per publish and window size; the others get the
 * uncompressed frame (RFC 7692 lets a sender leave any message uncompressed). A large deflate's frame
 * is a header and zlib's output chunks, written as they are to every subscriber of that window size.
 *
 * Everything is installed on WebSocket.prototype / WebSocketServer.prototype by a mixin: a connection
 * pays only for its two reserved slots (`_topics`, `_hub`), both null until it subscribes. A hub (the
 * topic registry `Map<topic, Set<ws>>`) belongs to each server and is created on first use; a server
 * given a `pubsub` adapter (see `PubSubAdapter`: `MemoryPubSub` in process, `RedisPubSub` across
 * processes) also forwards its publishes there and delivers what other nodes publish.
 */
import { createDeflateRaw, deflateRawSync, constants as zlibConstants, type ZlibOptions } from 'zlib';
import { Opcode, ReadyState } from '../protocol/constants';
import { MERGE_LIMIT, buildFrameFromChunks, dropTail, frameHeader, mergedFrame } from '../protocol/frame';
import type { WebSocket } from '../websocket';
import { SendStatus, exceedsLimit } from '../socket/connection-options';
import { isBlob, toBuffer } from '../util/convert';

/** Options of `publish`. */
export interface PublishOptions {
  /** Send a binary message (default: true unless `data` is a string). */
  binary?: boolean;
  /**
   * Compress where it costs one shared deflate (subscribers that negotiated server_no_context_takeover
   * and whose threshold the message reaches); default false, as in uWebSockets and Bun.
   */
  compress?: boolean;
}

/** What one publish did on this process: how many subscribers got the frame, and how. */
export interface PublishResult {
  /** Written, and the subscriber's buffer is within its limit (SendStatus.SENT). */
  sent: number;
  /** Written, but the subscriber now holds more than its limit: wait for its 'drain' (BACKPRESSURE). */
  backpressure: number;
  /** Not written: the subscriber was not open or already past `maxBackpressure` (DROPPED). */
  dropped: number;
}

/** Where an adapter hands the messages other nodes published (a hub implements it). */
export interface PubSubReceiver {
  /** Delivers a message published elsewhere to this node's subscribers of `topic`. */
  deliver(topic: string, payload: Buffer, binary: boolean, compress: boolean): void;
}

/**
 * Scale-out seam: carries publishes between nodes (processes or servers). A hub calls `attach` once,
 * `subscribe`/`unsubscribe` when a topic gains its first / loses its last local subscriber, and
 * `publish` after every local delivery (which never waits for the adapter). An adapter must not throw
 * from these calls: it reports failures itself (RedisPubSub emits 'error').
 *
 * Guarantee of the shipped adapters: at most once, ordered per publisher and topic.
 */
export interface PubSubAdapter {
  /** Called once by the hub that uses this adapter; other nodes' messages go to `receiver.deliver`. */
  attach(receiver: PubSubReceiver): void;
  /** Starts receiving `topic` from other nodes. */
  subscribe(topic: string): void;
  /** Stops receiving `topic`. */
  unsubscribe(topic: string): void;
  /** Sends a message this node published to the other nodes (never back to this one). */
  publish(topic: string, payload: Buffer, binary: boolean, compress: boolean): void;
  /** Releases the adapter's connections. */
  close(): Promise<void>;
}

// --- topic names ---------------------------------------------------------------------------------

/** A lone surrogate (with the u flag, a surrogate pair is one code point and does not match). */
const LONE_SURROGATE = /[\uD800-\uDFFF]/u;

/**
 * Throws a TypeError (code WEFT_ERR_INVALID_TOPIC) unless `topic` is a string of well-formed UTF-16.
 * A lone surrogate has no UTF-8 form: encoded for Redis it would become U+FFFD and name another
 * topic in the other processes. The same rule holds with every adapter, and for every topic method.
 */
export function checkTopic(topic: unknown): asserts topic is string {
  if (typeof topic !== 'string') throw topicError('The topic must be a string');
  if (LONE_SURROGATE.test(topic)) throw topicError('The topic must be well-formed Unicode (it has a lone surrogate)');
}

function topicError(message: string): TypeError {
  const err = new TypeError(message) as TypeError & { code: string };
  err.code = 'WEFT_ERR_INVALID_TOPIC';
  return err;
}

// --- the hub ------------------------------------------------------------------------------------

type Subscriber = WebSocket;

/** The permessage-deflate instance fields a shared deflate needs (server side). */
interface DeflateLike {
  params: { server_no_context_takeover?: true; server_max_window_bits?: number | true } | null;
  /** @internal */
  _options: { zlibDeflateOptions?: ZlibOptions };
  shouldCompress(length: number): boolean;
}

/** Window bits of a subscriber that may take a shared, context-free deflate; 0 when it may not. */
function sharedWindowBits(ws: Subscriber): number {
  const pmd = ws._extensions['permessage-deflate'] as DeflateLike | undefined;
  if (pmd === undefined || pmd.params === null || !pmd.params.server_no_context_takeover) return 0;
  const bits = pmd.params.server_max_window_bits;
  const n = typeof bits === 'number' ? bits : 15;
  // zlib's raw deflate cannot honour a 256-byte window (it uses 512): those get the plain frame.
  return n >= 9 ? n : 0;
}

/**
 * Largest payload deflated on the main thread (well under a millisecond); larger ones are deflated on
 * zlib's thread pool while their subscribers hold their place in line, so a publish never stalls the
 * event loop for long, however large.
 */
const SYNC_DEFLATE_LIMIT = 32 * 1024;

function deflateOptions(bits: number, zlibOptions: ZlibOptions | undefined): ZlibOptions {
  return { ...zlibOptions, windowBits: bits, finishFlush: zlibConstants.Z_SYNC_FLUSH };
}

/** Payloads this large are deflated into 64 KiB output buffers (see LARGE_INPUT in deflate/zlib-pipe.ts). */
const LARGE_INPUT = 256 * 1024;
const LARGE_CHUNK = 64 * 1024;

/** Whether `chunks` (`length` bytes) end with RFC 7692's 0x00 0x00 0xff 0xff, wherever they are split. */
function endsWithTrailer(chunks: readonly Buffer[], length: number): boolean {
  if (length < 4) return false;
  let want = 3; // index into the trailer, from its end
  for (let i = chunks.length - 1; i >= 0 && want >= 0; i--) {
    const chunk = chunks[i];
    for (let j = chunk.length - 1; j >= 0 && want >= 0; j--, want--) {
      if (chunk[j] !== (want >= 2 ? 0xff : 0x00)) return false;
    }
  }
  return true;
}

/** Frames a whole message deflated without context (RFC 7692 §7.2.1) with RSV1 set. */
function deflatedFrame(out: Buffer, opcode: number): Buffer {
  // §7.2.1: remove the 0x00 0x00 0xff 0xff that the sync flush leaves at the end.
  const n = out.length;
  const body = n >= 4 && out[n - 4] === 0 && out[n - 3] === 0 && out[n - 2] === 0xff && out[n - 1] === 0xff ? out.subarray(0, n - 4) : out;
  return mergedFrame(body, opcode, true, true);
}

/**
 * One deflate of a large payload for every subscriber sharing a window size: each has reserved its
 * place in its writer's line; when zlib answers, the same frame fills every place (or, should zlib
 * fail, the plain frame: RFC 7692 lets any message go uncompressed): a header and zlib's output chunks,
 * not joined, shared by all (server frames are not masked: nothing writes to them).
 */
class PendingDeflate {
  readonly conns: Conn[] = [];
  readonly tickets: number[] = [];
  private readonly chunks: Buffer[] = [];
  private length = 0;
  private done = false;

  constructor(
    private readonly payload: Buffer,
    private readonly opcode: number,
  ) {}

  start(bits: number, zlibOptions: ZlibOptions | undefined): void {
    const options = deflateOptions(bits, zlibOptions);
    if (this.payload.length >= LARGE_INPUT && options.chunkSize === undefined && options.level !== 0) {
      options.chunkSize = LARGE_CHUNK;
    }
    // As zlib.deflateRaw (end() with a finishing sync flush: the same bytes), without its concat.
    const stream = createDeflateRaw(options);
    stream.on('data', (chunk: Buffer) => {
      this.chunks.push(chunk);
      this.length += chunk.length;
    });
    stream.on('error', (err: Error) => this.finish(err));
    stream.on('end', () => {
      stream.close();
      this.finish(null);
    });
    stream.end(this.payload);
  }

  private finish(err: Error | null): void {
    if (this.done) return;
    this.done = true;
    const chunks = this.chunks;
    let length = this.length;
    let header: Buffer;
    let frame: Buffer | null = null;
    const o = { opcode: this.opcode, fin: true, rsv1: true, maskKey: null };
    if (err !== null) {
      frame = header = mergedFrame(this.payload, this.opcode, true, false);
    } else {
      // §7.2.1: remove the 0x00 0x00 0xff 0xff the sync flush leaves at the end (it may straddle chunks).
      if (endsWithTrailer(chunks, length)) length = dropTail(chunks, length, 4);
      if (length <= MERGE_LIMIT) {
        frame = header = buildFrameFromChunks(chunks, length, o);
      } else {
        header = frameHeader(length, this.opcode, true, true);
      }
    }
    for (let i = 0; i < this.conns.length; i++) {
      if (frame !== null) this.conns[i].fulfilRaw(this.tickets[i], frame);
      else this.conns[i].fulfilRawChunks(this.tickets[i], header, chunks);
    }
  }
}

type Conn = NonNullable<WebSocket['_driver']>['conn'];

/** Turns what `publish` accepts into one Buffer (strings are encoded once per publish). */
function payloadOf(data: unknown): Buffer {
  if (typeof data === 'string') return Buffer.from(data);
  if (data === undefined || data === null) return Buffer.alloc(0);
  if (isBlob(data)) throw new TypeError('publish() does not take a Blob: read it first (await blob.arrayBuffer())');
  return toBuffer(data);
}

/**
 * A topic registry and its fan-out: `Map<topic, Set<ws>>`. Each WebSocketServer has one (created on first
 * use); sockets that belong to no server share a process-wide one. Exported for adapters and tests.
 */
export class Hub implements PubSubReceiver {
  /** Subscribers by topic; a topic is removed with its last subscriber. */
  readonly topics: Map<string, Set<Subscriber>>;
  /** The scale-out adapter, or null (this process only). */
  readonly adapter: PubSubAdapter | null;

  constructor(adapter: PubSubAdapter | null = null) {
    this.topics = new Map();
    this.adapter = adapter;
    if (adapter !== null) adapter.attach(this);
  }

  /** Adds `ws` to `topic`; false if it was subscribed already. */
  subscribe(ws: Subscriber, topic: string): boolean {
    let mine = ws._topics;
    if (mine === null) mine = ws._topics = new Set();
    else if (mine.has(topic)) return false;
    mine.add(topic);
    let subs = this.topics.get(topic);
    if (subs === undefined) {
      subs = new Set();
      this.topics.set(topic, subs);
      if (this.adapter !== null) this.adapter.subscribe(topic);
    }
    subs.add(ws);
    return true;
  }

  /** Removes `ws` from `topic`; false if it was not subscribed. */
  unsubscribe(ws: Subscriber, topic: string): boolean {
    const mine = ws._topics;
    if (mine === null || !mine.delete(topic)) return false;
    this.remove(ws, topic);
    return true;
  }

  /** Removes `ws` from every topic (it closed). */
  leaveAll(ws: Subscriber): void {
    const mine = ws._topics;
    if (mine === null) return;
    ws._topics = null;
    for (const topic of mine) this.remove(ws, topic);
  }

  /** @internal */
  private remove(ws: Subscriber, topic: string): void {
    const subs = this.topics.get(topic);
    if (subs === undefined) return;
    subs.delete(ws);
    if (subs.size === 0) {
      this.topics.delete(topic);
      if (this.adapter !== null) this.adapter.unsubscribe(topic);
    }
  }

  /** How many sockets of this hub are subscribed to `topic`. */
  subscriberCount(topic: string): number {
    const subs = this.topics.get(topic);
    return subs === undefined ? 0 : subs.size;
  }

  /**
   * Publishes to every local subscriber of `topic` but `exclude`, then hands the message to the adapter
   * (local delivery never waits for it). Returns what happened locally.
   */
  publish(topic: string, data: unknown, options: PublishOptions | undefined, exclude: Subscriber | null): PublishResult {
    checkTopic(topic);
    // Numbers are sent as text, as send() sends them.
    if (typeof data === 'number') data = String(data);
    const payload = payloadOf(data);
    let binary = typeof data !== 'string';
    let compress = false;
    if (options !== undefined && options !== null) {
      if (options.binary !== undefined) binary = !!options.binary;
      if (options.compress !== undefined) compress = !!options.compress;
    }
    const result: PublishResult = { sent: 0, backpressure: 0, dropped: 0 };
    const subs = this.topics.get(topic);
    if (subs !== undefined) fanOut(subs, payload, binary, compress, exclude, result);
    if (this.adapter !== null) this.adapter.publish(topic, payload, binary, compress);
    return result;
  }

  /** A message another node published: delivered to the local subscribers only. */
  deliver(topic: string, payload: Buffer, binary: boolean, compress: boolean): void {
    const subs = this.topics.get(topic);
    if (subs !== undefined) fanOut(subs, payload, binary, compress, null, { sent: 0, backpressure: 0, dropped: 0 });
  }
}

/**
 * THE BROADCAST PATH. Frames `payload` once (plain, and at most one shared deflate per window size,
 * both built on first need), then checks each subscriber's backpressure and writes the shared bytes.
 */
function fanOut(
  subs: Set<Subscriber>,
  payload: Buffer,
  binary: boolean,
  compress: boolean,
  exclude: Subscriber | null,
  result: PublishResult,
): void {
  const opcode = binary ? Opcode.BINARY : Opcode.TEXT;
  const length = payload.length;
  let plain: Buffer | null = null;
  // Shared deflated frames by window size (nearly always one: every socket of a server shares its options).
  let deflated: (Buffer | undefined)[] | null = null;
  // Large payloads: one deflate off the main thread per window size, with the zlib options it uses.
  let pending: (PendingDeflate | undefined)[] | null = null;
  let pendingOptions: (ZlibOptions | undefined)[] | null = null;
  for (const ws of subs) {
    if (ws === exclude) continue;
    const driver = ws._driver;
    // 1. A socket that is not open (or has sent its close frame) takes no data frame: dropped.
    if (driver === null || driver.conn.readyState !== ReadyState.OPEN) {
      result.dropped++;
      continue;
    }
    // 2. The same backpressure rule as send(): a message that would take the socket past
    //    maxBackpressure is dropped (or the socket closed, by policy).
    const extra = ws._extra;
    if (extra !== null && extra.maxBackpressure > 0 && exceedsLimit(ws.bufferedAmount, payload, extra.maxBackpressure)) {
      ws._overLimit(undefined);
      result.dropped++;
      continue;
    }
    // 3. The shared bytes: deflated for those that can share one deflate, plain for everyone else.
    let frame: Buffer;
    const codec = driver.conn.extension;
    const bits = compress && codec !== null ? sharedWindowBits(ws) : 0;
    if (bits !== 0 && (codec as NonNullable<typeof codec>).shouldCompress(length) && length > SYNC_DEFLATE_LIMIT) {
      // A subscriber in the middle of sending a fragmented message cannot take a frame before its end:
      // it gets the plain frame in its turn instead of a reserved place.
      const conn = driver.conn;
      if (!conn.sendingFragments) {
        if (pending === null) {
          pending = [];
          pendingOptions = [];
        }
        let job = pending[bits];
        if (job === undefined) {
          job = pending[bits] = new PendingDeflate(payload, opcode);
          (pendingOptions as (ZlibOptions | undefined)[])[bits] = (ws._extensions['permessage-deflate'] as DeflateLike)._options.zlibDeflateOptions;
        }
        job.conns.push(conn);
        job.tickets.push(conn.reserve(length));
        if (ws._status() === SendStatus.SENT) result.sent++;
        else result.backpressure++;
        continue;
      }
    }
    if (bits !== 0 && length <= SYNC_DEFLATE_LIMIT && (codec as NonNullable<typeof codec>).shouldCompress(length)) {
      if (deflated === null) deflated = [];
      let f = deflated[bits];
      if (f === undefined) {
        const pmd = ws._extensions['permessage-deflate'] as DeflateLike;
        f = deflated[bits] = deflatedFrame(deflateRawSync(payload, deflateOptions(bits, pmd._options.zlibDeflateOptions)), opcode);
      }
      frame = f;
    } else {
      if (plain === null) plain = mergedFrame(payload, opcode, true, false);
      frame = plain;
    }
    // 4. Write, in order with everything else this socket sends, batched with the turn's other writes.
    const now = driver.batchWrite(frame.length);
    driver.conn.sendRaw(frame, null, undefined);
    if (now) driver.flushCorked();
    if (ws._status() === SendStatus.SENT) result.sent++;
    else result.backpressure++;
  }
  if (pending !== null) {
    for (let bits = 0; bits < pending.length; bits++) {
      const job = pending[bits];
      if (job !== undefined) job.start(bits, (pendingOptions as (ZlibOptions | undefined)[])[bits]);
    }
  }
}

// --- where a socket's hub is -------------------------------------------------------------------

/** What owns a hub: a WebSocketServer (its `pubsub` option is the adapter). */
export interface HubOwner {
  readonly options: { pubsub?: PubSubAdapter | null };
}

/** A server's hub, on a symbol slot of the server (one per server, created on first use). */
const kHub = Symbol('weft-pubsub-hub');
type OwnerWithHub = HubOwner & { [kHub]?: Hub };

/** The hub of a server (created on first use, with the server's `pubsub` adapter if it has one). */
export function hubOf(server: HubOwner): Hub {
  const s = server as OwnerWithHub;
  let hub = s[kHub];
  if (hub === undefined) hub = s[kHub] = new Hub(server.options.pubsub || null);
  return hub;
}

/** The server's hub if it has made one (a server nobody subscribed on has none). */
export function existingHubOf(server: HubOwner): Hub | undefined {
  return (server as OwnerWithHub)[kHub];
}

let sharedHub: Hub | null = null;

/** The hub of server-role sockets that belong to no server (created on first use). */
export function processHub(): Hub {
  if (sharedHub === null) sharedHub = new Hub();
  return sharedHub;
}
