/**
 * Scale-out on Redis: a PubSubAdapter over two `ioredis` connections (one publishes, one subscribes).
 * `ioredis` is an optional peer dependency, loaded the first time a RedisPubSub is made: weft never
 * needs it otherwise.
 *
 * ```js
 * const pubsub = new RedisPubSub({ url: 'redis://127.0.0.1:6379' });
 * pubsub.on('error', (err) => log(err));                      // outages are reported here
 * const wss = new WebSocketServer({ port: 8080, pubsub });    // server.publish / ws.publish reach every process
 * ```
 *
 * GUARANTEE: at most once, ordered per publisher and topic.
 * - A publish is delivered to this process's subscribers at once (synchronously, never waiting for
 *   Redis), then sent to Redis with one PUBLISH on the publishing connection; every other process that
 *   has subscribers to the topic delivers it to them. Messages from one process on one topic arrive
 *   everywhere in the order they were published (one connection in, one connection out, FIFO).
 * - At most once: nothing is retried. While Redis is unreachable, publishes are delivered locally and
 *   not forwarded (counted in `dropped`, reported once per outage as an 'error' with code
 *   WEFT_ERR_PUBSUB_UNAVAILABLE); a PUBLISH in flight when the connection breaks is not resent (it may
 *   or may not have reached Redis). Messages published elsewhere during the outage are lost for this
 *   process. Redis pub/sub itself keeps nothing for a subscriber that is away.
 * - After Redis returns, every topic with local subscribers is subscribed again before 'ready' is
 *   emitted; delivery resumes from there.
 */
import { EventEmitter } from 'events';
import { randomBytes } from 'crypto';
import * as bufferModule from 'buffer';
import { checkTopic, type PubSubAdapter, type PubSubReceiver } from './hub';

/** The part of an ioredis client this adapter uses (so weft's types never name ioredis). */
export interface RedisClientLike {
  readonly status: string;
  on(event: string, listener: (...args: any[]) => void): unknown;
  publish(channel: string, message: Buffer, cb: (err: Error | null | undefined) => void): unknown;
  subscribe(...args: unknown[]): unknown;
  unsubscribe(...args: unknown[]): unknown;
  disconnect(): void;
}

/** Options of a RedisPubSub. */
export interface RedisPubSubOptions {
  /** A redis:// URL (default: ioredis' default, 127.0.0.1:6379). */
  url?: string;
  /** ioredis options for both connections (host, port, password, tls, sentinels, retryStrategy...). */
  redis?: Record<string, unknown>;
  /** Prefix of the Redis channels (default 'weft:'): the channel of topic T is prefix + T. */
  prefix?: string;
}

type RedisConstructor = new (...args: unknown[]) => RedisClientLike;
let RedisClass: RedisConstructor | null = null;

/** Loads ioredis on first use, with an error that says what to install. */
function loadIoredis(): RedisConstructor {
  if (RedisClass !== null) return RedisClass;
  let mod: unknown;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    mod = require('ioredis');
  } catch (err) {
    const e = new Error("RedisPubSub needs the 'ioredis' package: npm install ioredis") as Error & { code: string; cause: unknown };
    e.code = 'WEFT_ERR_IOREDIS_MISSING';
    e.cause = err;
    throw e;
  }
  // ioredis exports the class itself (CommonJS), also as `.default`.
  RedisClass = (typeof mod === 'function' ? mod : (mod as { default: unknown }).default) as RedisConstructor;
  return RedisClass;
}

// The envelope: version, flags, the publishing node's id (so a node ignores its own echo), the payload.
const VERSION = 1;
const FLAG_BINARY = 1;
const FLAG_COMPRESS = 2;
const ID_SIZE = 16;
const HEADER_SIZE = 2 + ID_SIZE;
/** Channels per SUBSCRIBE when the subscriptions are restored after a (re)connection. */
const RESUBSCRIBE_BATCH = 1000;

/**
 * A PubSubAdapter on Redis pub/sub. Events: 'error' (connection failures, publishes dropped during an
 * outage, failed subscriptions), 'down' (Redis became unreachable), 'ready' (connected, and every local
 * topic subscribed again).
 */
export class RedisPubSub extends EventEmitter implements PubSubAdapter {
  /** This node's id (in every envelope it publishes). */
  readonly nodeId: Buffer;
  /** The channel prefix. */
  readonly prefix: string;
  /** Publishes sent to Redis, received from other nodes, and not forwarded because Redis was away. */
  readonly stats: { published: number; received: number; dropped: number };
  /** @internal */ readonly _pub: RedisClientLike;
  /** @internal */ readonly _sub: RedisClientLike;
  /** @internal */
  private receiver: PubSubReceiver | null;
  /** @internal */
  private readonly topics: Set<string>;
  /** @internal */
  private up: boolean;
  /** @internal */
  private closed: boolean;
  /** @internal Whether the current outage has been reported (one 'error' per outage for dropped publishes). */
  private reportedDown: boolean;
  /** @internal Counts restorations of the subscriptions: answers to an earlier one are ignored. */
  private generation: number;
  /** @internal */
  private readonly published: (err: Error | null | undefined) => void;
  /** @internal */
  private readonly subscribed: (err: Error | null | undefined) => void;

  constructor(options: RedisPubSubOptions = {}) {
    super();
    const Redis = loadIoredis();
    this.nodeId = randomBytes(ID_SIZE);
    this.prefix = options.prefix === undefined ? 'weft:' : String(options.prefix);
    this.stats = { published: 0, received: 0, dropped: 0 };
    this.receiver = null;
    this.topics = new Set();
    this.up = false;
    this.closed = false;
    this.reportedDown = false;
    this.generation = 0;
    const base = { ...(options.redis || {}) };
    const make = (extra: Record<string, unknown>): RedisClientLike =>
      options.url !== undefined ? new Redis(options.url, { ...base, ...extra }) : new Redis({ ...base, ...extra });
    // Publisher: fail fast while disconnected and never resend (at most once, no stale bursts later).
    this._pub = make({ enableOfflineQueue: false, autoResendUnfulfilledCommands: false, maxRetriesPerRequest: 0 });
    // Subscriber: we restore the subscriptions ourselves on every (re)connection, then say 'ready'.
    this._sub = make({ autoResubscribe: false, maxRetriesPerRequest: null });
    this.published = this.onPublished.bind(this);
    this.subscribed = this.onSubscribed.bind(this);
    const onError = this.report.bind(this);
    this._pub.on('error', onError);
    this._sub.on('error', onError);
    const onReady = this.onReady.bind(this);
    this._pub.on('ready', onReady);
    this._sub.on('ready', onReady);
    const onDown = this.onDown.bind(this);
    this._pub.on('close', onDown);
    this._sub.on('close', onDown);
    this._sub.on('messageBuffer', this.onMessage.bind(this));
  }

  /** Whether both connections are up and the subscriptions restored. */
  get ready(): boolean {
    return this.up;
  }

  /** @inheritdoc */
  attach(receiver: PubSubReceiver): void {
    if (this.receiver !== null) throw new Error('This adapter is already attached to a hub: give each server its own');
    this.receiver = receiver;
  }

  /** @inheritdoc */
  subscribe(topic: string): void {
    checkTopic(topic);
    this.topics.add(topic);
    // Only on a ready connection: 'ready' subscribes every topic anyway, and a SUBSCRIBE queued before
    // the connection is up puts it in subscriber mode too early (ioredis 5 then fails its ready check
    // with an 'error' that has no code).
    if (!this.closed && this._sub.status === 'ready') this._sub.subscribe(this.prefix + topic, this.subscribed);
  }

  /** @inheritdoc */
  unsubscribe(topic: string): void {
    checkTopic(topic);
    this.topics.delete(topic);
    if (!this.closed && this._sub.status === 'ready') this._sub.unsubscribe(this.prefix + topic, this.subscribed);
  }

  /** @inheritdoc */
  publish(topic: string, payload: Buffer, binary: boolean, compress: boolean): void {
    checkTopic(topic);
    if (this.closed) return;
    if (this._pub.status !== 'ready') {
      this.stats.dropped++;
      if (!this.reportedDown) {
        this.reportedDown = true;
        this.report(
          codeError(
            'Redis is unavailable: publishes are delivered locally but not forwarded to other processes',
            'WEFT_ERR_PUBSUB_UNAVAILABLE',
          ),
        );
      }
      return;
    }
    const envelope = Buffer.allocUnsafe(HEADER_SIZE + payload.length);
    envelope[0] = VERSION;
    envelope[1] = (binary ? FLAG_BINARY : 0) | (compress ? FLAG_COMPRESS : 0);
    this.nodeId.copy(envelope, 2);
    payload.copy(envelope, HEADER_SIZE);
    this.stats.published++;
    this._pub.publish(this.prefix + topic, envelope, this.published);
  }

  /** Disconnects both connections; the adapter is done for good. */
  close(): Promise<void> {
    this.closed = true;
    this.up = false;
    this._pub.disconnect();
    this._sub.disconnect();
    return Promise.resolve();
  }

  /** @internal */
  private onMessage(channel: Buffer, message: Buffer): void {
    if (this.receiver === null || message.length < HEADER_SIZE || message[0] !== VERSION) return;
    // Our own publishes come back from Redis: their subscribers here were served already.
    if (message.compare(this.nodeId, 0, ID_SIZE, 2, HEADER_SIZE) === 0) return;
    const prefix = this.prefix;
    // A channel name that is not UTF-8 (published by something other than weft) names no topic: decoded,
    // its bytes would become U+FFFD and reach another topic's subscribers.
    if (!isUtf8(channel)) return;
    const name = channel.toString();
    if (!name.startsWith(prefix)) return;
    this.stats.received++;
    const flags = message[1];
    this.receiver.deliver(name.slice(prefix.length), message.subarray(HEADER_SIZE), (flags & FLAG_BINARY) !== 0, (flags & FLAG_COMPRESS) !== 0);
  }

  /** @internal */
  private onReady(): void {
    if (this.closed || this._pub.status !== 'ready' || this._sub.status !== 'ready') return;
    if (this.topics.size === 0) {
      this.markUp();
      return;
    }
    // SUBSCRIBE in batches: one command with every channel would spread them all into one call (past
    // ~120k topics, more arguments than a call can take) and build one huge request.
    const generation = ++this.generation;
    let pending = 0;
    let failed = false;
    const done = (err: Error | null | undefined): void => {
      if (generation !== this.generation || failed) return;
      if (err) {
        failed = true;
        this.report(err);
      } else if (--pending === 0) {
        this.markUp();
      }
    };
    let batch: string[] = [];
    for (const topic of this.topics) {
      batch.push(this.prefix + topic);
      if (batch.length === RESUBSCRIBE_BATCH) {
        pending++;
        this._sub.subscribe(batch, done);
        batch = [];
      }
    }
    if (batch.length > 0) {
      pending++;
      this._sub.subscribe(batch, done);
    }
  }

  /** @internal */
  private markUp(): void {
    if (this.up || this.closed) return;
    this.up = true;
    this.reportedDown = false;
    this.emit('ready');
  }

  /** @internal */
  private onDown(): void {
    if (!this.up || this.closed) return;
    this.up = false;
    this.emit('down');
  }

  /** @internal */
  private onPublished(err: Error | null | undefined): void {
    if (err) {
      this.stats.dropped++;
      this.report(err);
    }
  }

  /** @internal */
  private onSubscribed(err: Error | null | undefined): void {
    // A subscription lost with the connection is made again on 'ready'; others are worth reporting.
    if (err && !this.closed) this.report(err);
  }

  /** @internal Reports a failure: an 'error' event when someone listens, else a process warning (never a throw). */
  private report(err: Error): void {
    if (this.closed) return;
    if (this.listenerCount('error') > 0) this.emit('error', err);
    else process.emitWarning(err);
  }
}

/** Whether `bytes` are well-formed UTF-8 (buffer.isUtf8 where Node has it; else a round trip). */
const isUtf8: (bytes: Buffer) => boolean =
  typeof (bufferModule as { isUtf8?: unknown }).isUtf8 === 'function'
    ? (bufferModule as unknown as { isUtf8: (bytes: Buffer) => boolean }).isUtf8
    : (bytes) => Buffer.from(bytes.toString()).equals(bytes);

function codeError(message: string, code: string): Error {
  const err = new Error(message) as Error & { code: string };
  err.code = code;
  return err;
}
