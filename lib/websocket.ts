/**
 * WebSocket: the ws-compatible EventEmitter face over one protocol Connection. Methods, properties,
 * events, error messages and their timing follow ws 8.23; the bytes are the
 * core's. The client handshake lives in client.ts, the server's in server.ts.
 */
import { EventEmitter } from 'events';
import type { Duplex } from 'stream';
import type { ClientRequest, ClientRequestArgs } from 'http';
import {
  BINARY_TYPES,
  DEFAULT_CLOSE_TIMEOUT,
  DEFAULT_MAX_PENDING_AUTO_PONGS,
  EMPTY_BUFFER,
  MAX_CONTROL_PAYLOAD,
  READY_STATE_NAMES,
  ReadyState,
} from './protocol/constants';
import type { WriteCallback } from './protocol/writer';
import { Driver, type DriverOptions } from './socket/driver';
import { TcpTransport } from './transport/tcp-handle';
import type { Connection } from './protocol/connection';
import { SenderCompat } from './compat/sender-shape';
import { installWsState } from './compat/websocket-state';
import { binaryMessage, isBlob, toBuffer } from './util/convert';
import { wheelFor, type HeartbeatOptions, type HeartbeatWheel } from './socket/heartbeat';
import { SendStatus, exceedsLimit, extraOptions, sendFragmented, type ExtraOptions, type SendStatusValue } from './socket/connection-options';

export { SendStatus, type ExtraOptions, type SendStatusValue } from './socket/connection-options';
import { initAsClient } from './client';
import { abortHandshake } from './socket/handshake-failure';
import { applyEventTarget, type EventTargetMixin } from './socket/event-target';
import { applyConveniences, type Conveniences } from './socket/conveniences';
import { applyTopics, leaveTopics, type TopicMethods } from './pubsub/topics';
import { messageIterator, type Message } from './socket/message-iterator';
import { compactListeners } from './socket/listeners';
import type { BufferLike, SendCallback, WebSocketEvents } from './types/events';
import type { ClientOptions } from './client';

/** Options accepted by `setSocket` (what a server or a client hands over after the handshake). */
export interface SetSocketOptions {
  allowSynchronousEvents?: boolean;
  generateMask?: ((mask: Buffer) => void) | null;
  maxPayload?: number;
  maxFragments?: number;
  maxBufferedChunks?: number;
  maxPendingAutoPongs?: number;
  skipUTF8Validation?: boolean;
  /** weft: 'native' carries a plain TCP socket on Node's handle, past the stream layer (see ServerOptions). */
  transport?: 'stream' | 'native';
}

/** Per-send options, as ws has them. */
export interface SendOptions {
  /** Send as a binary message (default: true unless `data` is a string). */
  binary?: boolean | undefined;
  /** Compress with permessage-deflate when it was negotiated (default true). */
  compress?: boolean | undefined;
  /** Whether this is the message's last fragment (default true). */
  fin?: boolean | undefined;
  /** Mask the frame (default: the role's rule, clients mask); for testing peers. */
  mask?: boolean | undefined;
}

/** The `binaryType` values: how binary messages are delivered. */
export type BinaryType = 'nodebuffer' | 'arraybuffer' | 'fragments' | 'blob';

/** The connection states, CONNECTING (0), OPEN (1), CLOSING (2), CLOSED (3). */
export type ReadyStateValue = 0 | 1 | 2 | 3;

/**
 * A WebSocket's members that most connections leave at their defaults (a server's sockets never have a
 * URL or a request, few speak draft 8, sit behind a trusted proxy, turn automatic pongs off or send
 * after closing): made the first time one is set to anything else.
 */
class Rare {
  url: string | undefined = undefined;
  req: ClientRequest | null = null;
  maxPendingAutoPongs: number | undefined = undefined;
  senderCompat: SenderCompat | null = null;
  protocolVersion = 13;
  remoteAddress: string | undefined = undefined;
  autoPong: boolean = true;
  bufferedAmount = 0;
}

/** A WebSocket connection, client or server side, with ws's API. */
export class WebSocket extends EventEmitter {
  /** The connection is not yet open. */
  static readonly CONNECTING = ReadyState.CONNECTING;
  /** The connection is open and ready to communicate. */
  static readonly OPEN = ReadyState.OPEN;
  /** The connection is closing. */
  static readonly CLOSING = ReadyState.CLOSING;
  /** The connection is closed. */
  static readonly CLOSED = ReadyState.CLOSED;
  /** The connection is not yet open. */
  declare readonly CONNECTING: 0;
  /** The connection is open and ready to communicate. */
  declare readonly OPEN: 1;
  /** The connection is closing. */
  declare readonly CLOSING: 2;
  /** The connection is closed. */
  declare readonly CLOSED: 3;

  /**
   * @internal The state while there is no Connection: CONNECTING until the connection opens, CLOSING or
   * CLOSED when the opening handshake fails. From `setSocket` on, the Connection owns the state.
   */
  _handshakeState: number;
  /** @internal */ _binaryType: BinaryType;
  /** @internal */ _protocol: string;
  /** @internal Negotiated extensions by name, null while none (`_extensions` makes the object on demand). */
  _exts: Record<string, unknown> | null;
  /** @internal */ _isServer: boolean;
  /** @internal The socket, or null (not connected; or accepted on the listening handle and not asked for yet: see `_socket`). */
  _sockRef: Duplex | null;
  /** @internal */ _driver: Driver | null;
  /** @internal */ _closeTimeout: number;
  /** @internal */ _errorEmitted: boolean;
  /** @internal */ _paused: boolean;
  /** @internal */ _allowSynchronousEvents: boolean;
  /** @internal The opt-in heartbeat wheel this connection joins when it opens (see heartbeat.ts). */
  _heartbeat: HeartbeatWheel | null;
  /** @internal Sweeps of silence, or (negative) since the heartbeat's ping: see heartbeat.ts. */
  _heartbeatTicks: number;
  /** @internal WebSocket-Node-style options, only when one was given (most connections pay nothing). */
  _extra: ExtraOptions | null;
  /** @internal Members most connections leave at their defaults (see Rare): null until one is set. */
  _rare: Rare | null;
  /** @internal Pub/sub: the topics this socket is subscribed to (created on first subscribe). */
  _topics: Set<string> | null;
  /** @internal Pub/sub: the hub this socket publishes through (set by its server). */
  _hub: unknown;

  /**
   * A server-side instance: `setSocket` later attaches it to an upgraded socket (what the server does
   * with the `WebSocket` option's class).
   */
  constructor(address: null, protocols?: undefined, options?: Record<string, unknown>);
  /** Opens a client connection to `address` (`ws:`, `wss:`, `http:`, `https:` or `ws+unix:`). */
  constructor(address: string | URL, options?: ClientOptions | ClientRequestArgs);
  /** Opens a client connection to `address`, offering the given subprotocol(s). */
  constructor(address: string | URL, protocols?: string | string[], options?: ClientOptions | ClientRequestArgs);
  constructor(address: string | URL | null, protocols?: unknown, options?: Record<string, unknown>) {
    super();
    compactListeners(this);
    this._handshakeState = ReadyState.CONNECTING;
    this._binaryType = 'nodebuffer';
    this._protocol = '';
    this._exts = null;
    this._isServer = true;
    this._sockRef = null;
    this._driver = null;
    this._closeTimeout = DEFAULT_CLOSE_TIMEOUT;
    this._errorEmitted = false;
    this._paused = false;
    this._allowSynchronousEvents = true;
    this._heartbeat = null;
    this._heartbeatTicks = 0;
    this._extra = null;
    this._rare = null;
    this._topics = null;
    this._hub = null;

    if (address !== null) {
      this._isServer = false;
      // As ws 8.22+: a missing protocols argument (or an options object in its place) takes
      // `options.protocols`; an explicit argument, even [], wins over it.
      if (protocols !== undefined && protocols !== null && typeof protocols === 'object' && !Array.isArray(protocols)) {
        options = protocols as Record<string, unknown>;
        protocols = undefined;
      }
      if (protocols === undefined) {
        const fromOptions = options ? options.protocols : undefined;
        protocols = fromOptions === undefined ? [] : Array.isArray(fromOptions) ? fromOptions : [fromOptions];
      } else if (!Array.isArray(protocols)) {
        protocols = [protocols];
      }
      if (options && options.heartbeat) this._heartbeat = wheelFor(options.heartbeat as HeartbeatOptions);
      if (options) this._extra = extraOptions(options);
      initAsClient(this, address, protocols, options);
    } else {
      const o = options || {};
      if (o.autoPong !== undefined) this._autoPong = !!o.autoPong;
      if (o.allowSynchronousEvents !== undefined) this._allowSynchronousEvents = !!o.allowSynchronousEvents;
      // As ws: an options object without `closeTimeout` leaves no time for the peer's close frame (the
      // timer fires on the next turn). WebSocketServer always passes its own (30 s by default);
      // @fastify/websocket's injectWS relies on this to finish a close over a stream that never ends.
      if (options) this._closeTimeout = typeof o.closeTimeout === 'number' ? o.closeTimeout : 0;
      if (o.maxPendingAutoPongs !== undefined) {
        // (The default needs no slot: the core applies it when none is given.)
        const max = Number(o.maxPendingAutoPongs);
        if (max !== DEFAULT_MAX_PENDING_AUTO_PONGS) this._rareState().maxPendingAutoPongs = max;
      }
      if (o.heartbeat) this._heartbeat = wheelFor(o.heartbeat as HeartbeatOptions);
      this._extra = extraOptions(o);
    }
  }

  /** @internal */
  _rareState(): Rare {
    if (this._rare === null) this._rare = new Rare();
    return this._rare;
  }

  /** @internal Negotiated extensions by name (ws's shape: `{ 'permessage-deflate': PerMessageDeflate }`). */
  get _extensions(): Record<string, unknown> {
    if (this._exts === null) this._exts = {};
    return this._exts;
  }

  /** @internal */
  set _extensions(extensions: Record<string, unknown>) {
    this._exts = extensions;
  }

  /** @internal The URL a client connects to (undefined on a server-side socket). */
  get _url(): string | undefined {
    return this._rare === null ? undefined : this._rare.url;
  }

  /** @internal */
  set _url(url: string | undefined) {
    if (url !== undefined || this._rare !== null) this._rareState().url = url;
  }

  /** @internal The client's handshake request while CONNECTING. */
  get _req(): ClientRequest | null {
    return this._rare === null ? null : this._rare.req;
  }

  /** @internal */
  set _req(req: ClientRequest | null) {
    if (req !== null || this._rare !== null) this._rareState().req = req;
  }

  /** @internal Answer pings automatically (the `autoPong` option; default true). */
  get _autoPong(): boolean {
    return this._rare === null ? true : this._rare.autoPong;
  }

  /** @internal */
  set _autoPong(on: boolean) {
    if (on !== true || this._rare !== null) this._rareState().autoPong = on;
  }

  /** @internal Bytes passed to send() while not open (part of bufferedAmount). */
  get _bufferedAmount(): number {
    return this._rare === null ? 0 : this._rare.bufferedAmount;
  }

  /** @internal */
  set _bufferedAmount(bytes: number) {
    if (bytes !== 0 || this._rare !== null) this._rareState().bufferedAmount = bytes;
  }

  /** @internal The protocol version spoken: 13, or 8 for draft-hybi-10 peers. */
  get _protocolVersion(): number {
    return this._rare === null ? 13 : this._rare.protocolVersion;
  }

  /** @internal */
  set _protocolVersion(version: number) {
    if (version !== 13 || this._rare !== null) this._rareState().protocolVersion = version;
  }

  /** @internal The client's address as a trusted proxy reported it (X-Forwarded-For), if any. */
  get _remoteAddress(): string | undefined {
    return this._rare === null ? undefined : this._rare.remoteAddress;
  }

  /** @internal */
  set _remoteAddress(address: string | undefined) {
    if (address !== undefined || this._rare !== null) this._rareState().remoteAddress = address;
  }

  /** How binary messages are delivered: 'nodebuffer' (default), 'arraybuffer', 'fragments' or 'blob'. */
  get binaryType(): BinaryType {
    return this._binaryType;
  }

  set binaryType(type: BinaryType) {
    if (!BINARY_TYPES.includes(type)) return;
    this._binaryType = type;
    if (this._driver !== null) this._driver.conn.deliverFragments = type === 'fragments' || type === 'blob';
  }

  /** Bytes queued to be sent but not yet handed to the network, framing included. */
  get bufferedAmount(): number {
    const driver = this._driver;
    if (driver === null) return this._bufferedAmount;
    return driver.bufferedBytes() + driver.conn.queuedBytes + this._bufferedAmount;
  }

  /** Names of the negotiated extensions, comma-separated ('' when none). */
  get extensions(): string {
    return this._exts === null ? '' : Object.keys(this._exts).join();
  }

  /** Whether reading is paused (`pause()`). */
  get isPaused(): boolean {
    return this._paused;
  }

  /** The subprotocol the server selected ('' when none). */
  get protocol(): string {
    return this._protocol;
  }

  /** CONNECTING (0), OPEN (1), CLOSING (2) or CLOSED (3). */
  get readyState(): ReadyStateValue {
    const driver = this._driver;
    return (driver === null ? this._handshakeState : driver.conn.readyState) as ReadyStateValue;
  }

  /** @internal ws's `_readyState` (read-only here: the state changes through the Connection's verbs). */
  get _readyState(): number {
    return this.readyState;
  }

  /** @internal ws's `_closeTimer`: armed once the closing handshake starts, null after 'close'. */
  get _closeTimer(): NodeJS.Timeout | null {
    const driver = this._driver;
    return driver === null ? null : driver.closeTimer;
  }

  /**
   * The URL the client connected to. Typed `string` as in `@types/ws`; undefined on a server-side
   * socket, as in ws.
   */
  get url(): string {
    return this._url as string;
  }

  /** @internal ws's `_closeCode`: the close status to report. */
  get _closeCode(): number {
    return this._driver === null ? 1006 : this._driver.conn.closeCode;
  }

  /** @internal ws's `_closeMessage`. */
  get _closeMessage(): Buffer {
    return this._driver === null ? EMPTY_BUFFER : this._driver.conn.closeReason;
  }

  /** @internal */
  get _closeFrameReceived(): boolean {
    return this._driver !== null && this._driver.conn.closeReceived;
  }

  /** @internal */
  get _closeFrameSent(): boolean {
    return this._driver !== null && this._driver.conn.closeFlushed;
  }

  /**
   * @internal ws's `_sender`, for integrations that write pre-framed bytes (engine.io's
   * `_sender.sendFrame(frames, cb)`): created on first use, so idle connections do not pay for it.
   */
  get _sender(): { sendFrame(list: Buffer[], cb?: WriteCallback): void; readonly _bufferedBytes: number } | null {
    if (this._driver === null) return null;
    const rare = this._rareState();
    if (rare.senderCompat === null) rare.senderCompat = new SenderCompat(this._driver);
    return rare.senderCompat;
  }

  /**
   * Attaches an upgraded socket (a net/tls socket or any Duplex) and opens the connection: emits 'open'.
   * `head` holds bytes read past the handshake. Used by the server, the client and integrations.
   */
  setSocket(socket: Duplex, head: Buffer | undefined, options: SetSocketOptions = {}): void {
    this._open(socket, head, options);
  }

  /**
   * @internal Opens the connection on a transport accepted on the listening handle (transport/accept.ts):
   * as `setSocket`, with the net.Socket made only when someone asks for it (`_socket`, `req.socket`).
   */
  _openOnTransport(transport: TcpTransport, options: SetSocketOptions): void {
    this._open(transport, undefined, options);
  }

  /**
   * @internal The socket: the upgraded one, or — accepted on the listening handle — a net.Socket made
   * for the connection now, on first use (transport/tcp-handle.ts, `shellSocket()`). Null before connecting.
   */
  get _socket(): Duplex | null {
    const s = this._sockRef;
    if (s !== null) return s;
    const driver = this._driver;
    return driver === null ? null : (this._sockRef = driver.socket);
  }
  /** @internal */
  set _socket(socket: Duplex | null) {
    this._sockRef = socket;
  }

  /** @internal setSocket and _openOnTransport. */
  private _open(socket: Duplex | TcpTransport, head: Buffer | undefined, options: SetSocketOptions): void {
    const opts: DriverOptions = {
      isServer: this._isServer,
      maxPayload: options.maxPayload,
      maxFragments: options.maxFragments,
      maxBufferedChunks: options.maxBufferedChunks,
      maxPendingAutoPongs:
        options.maxPendingAutoPongs !== undefined
          ? options.maxPendingAutoPongs
          : this._rare === null
            ? undefined
            : this._rare.maxPendingAutoPongs,
      skipUTF8Validation: options.skipUTF8Validation,
      autoPong: this._autoPong,
      fragments: this._binaryType === 'fragments' || this._binaryType === 'blob',
      generateMask: options.generateMask,
      transport: options.transport,
    };
    const extra = this._extra;
    if (extra !== null) {
      opts.assemble = extra.assembleFragments;
      opts.maxFrameSize = extra.maxReceivedFrameSize;
      if (extra.maxReceivedMessageSize !== undefined) opts.maxPayload = extra.maxReceivedMessageSize;
    }
    if (options.allowSynchronousEvents !== undefined) this._allowSynchronousEvents = !!options.allowSynchronousEvents;
    // A negotiated permessage-deflate instance is also the core's codec (RFC 7692 behind the Codec seam).
    const pmd = this._exts === null ? undefined : (this._exts['permessage-deflate'] as { codec(inline?: boolean): DriverOptions['codec'] } | undefined);
    // Inline zlib for small messages (see PerMessageDeflate.codec): a user-supplied extension object
    // that takes no argument ignores it.
    if (pmd !== undefined) opts.codec = pmd.codec(true);
    const driver = new Driver(this, socket, opts);
    this._driver = driver;
    const accepted = socket instanceof TcpTransport;
    if (!accepted) this._sockRef = socket;
    driver.attach(head, opts.transport);
    if (extra !== null && extra.disableNagleAlgorithm === false) {
      const s = socket as (Duplex | TcpTransport) & { setNoDelay?: (on: boolean) => void };
      if (typeof s.setNoDelay === 'function') s.setNoDelay(false);
    }
    if (this._heartbeat !== null) this._heartbeat.add(this);
    this.emit('open');
  }

  /** @internal Emits 'close' once, with the close status and reason (1006 and empty if none arrived). */
  emitClose(): void {
    // What a closed connection leaves, before 'close' is emitted: its topics, its zlib contexts (as ws
    // releases them), its place in the heartbeat sweep.
    leaveTopics(this);
    // (With a Connection, it is CLOSED already: the driver closed it before calling here.)
    if (this._driver === null) this._handshakeState = ReadyState.CLOSED;
    this._releaseCodecs();
    if (this._heartbeat !== null) this._heartbeat.delete(this);
    this.emit('close', this._closeCode, this._closeMessage);
  }

  /** @internal Releases the zlib contexts (once; the driver calls it before the connection turns CLOSED). */
  _releaseCodecs(): void {
    const pmd = this._exts === null ? undefined : (this._exts['permessage-deflate'] as { cleanup(): void } | undefined);
    if (pmd !== undefined) pmd.cleanup();
  }

  /** @internal Delivers a data message with ws's binaryType conversion (text is a Buffer, always). */
  _deliver(data: Buffer | Buffer[], isBinary: boolean): void {
    if (!isBinary) {
      this.emit('message', data, false);
      return;
    }
    this.emit('message', binaryMessage(data, this._binaryType), true);
  }

  /**
   * Starts the closing handshake (RFC 6455 §7.1.2) with an optional status code and reason; the
   * socket is destroyed if the peer does not answer within `closeTimeout`.
   */
  close(code?: number, reason?: string | Buffer): void {
    const state = this.readyState;
    if (state === ReadyState.CLOSED) return;
    if (state === ReadyState.CONNECTING) {
      this._abortHandshake('WebSocket was closed before the connection was established');
      return;
    }
    const driver = this._driver;
    if (state === ReadyState.CLOSING) {
      // (No driver: a handshake that failed is closing; its 'close' is on its way.)
      if (driver !== null && driver.conn.closeDone) driver.wire.end();
      return;
    }
    // OPEN: there is a Connection. It throws ws's TypeError/RangeError before any state changes.
    (driver as Driver).conn.close(code, reason);
    (driver as Driver).startCloseTimer();
  }

  /** Destroys the connection at once, without a closing handshake. */
  terminate(): void {
    const state = this.readyState;
    if (state === ReadyState.CLOSED) return;
    if (state === ReadyState.CONNECTING) {
      this._abortHandshake('WebSocket was closed before the connection was established');
      return;
    }
    const driver = this._driver;
    if (driver !== null) {
      driver.conn.transportEnding();
      // Writes made while a received chunk is handled are corked (one writev per chunk): they go to the
      // kernel first, so that terminate() loses no more than ws's would (only what the kernel refuses).
      driver.destroyWire();
    }
  }

  /** Stops reading from the socket (no-op while CONNECTING or CLOSED). */
  pause(): void {
    const state = this.readyState;
    if (state === ReadyState.CONNECTING || state === ReadyState.CLOSED) return;
    this._paused = true;
    const driver = this._driver;
    // A failed handshake has no socket: ws throws this TypeError here, and so does weft.
    if (driver === null) throw new TypeError("Cannot read properties of null (reading 'pause')");
    driver.pauseReading();
  }

  /** Resumes reading after `pause()`. */
  resume(): void {
    const state = this.readyState;
    if (state === ReadyState.CONNECTING || state === ReadyState.CLOSED) return;
    this._paused = false;
    const driver = this._driver;
    // A failed handshake has no socket: ws throws this TypeError here, and so does weft.
    if (driver === null) throw new TypeError("Cannot read properties of null (reading '_writableState')");
    driver.resumeReading();
  }

  /**
   * Sends a message: a string (text) or Buffer/TypedArray/ArrayBuffer/DataView/Blob/array (binary);
   * numbers are sent as text. `cb` runs once the frame is written, or with an Error if not open.
   * Returns a `SendStatus` value (weft); the declared type adds `void` only so that a subclass written
   * for `@types/ws`, whose `send` returns nothing, may override it.
   */
  send(data: BufferLike, cb?: SendCallback): SendStatusValue | void;
  send(data: BufferLike, options: SendOptions, cb?: SendCallback): SendStatusValue | void;
  send(data: unknown, options?: SendOptions | WriteCallback, cb?: WriteCallback): SendStatusValue | void {
    const driver = this._driver;
    if (driver === null && this._handshakeState === ReadyState.CONNECTING) {
      throw new Error('WebSocket is not open: readyState 0 (CONNECTING)');
    }
    if (typeof options === 'function') {
      cb = options;
      options = undefined;
    }
    if (typeof data === 'number') data = data.toString();
    if (driver === null || driver.conn.readyState !== ReadyState.OPEN) {
      this._sendAfterClose(data, cb);
      return SendStatus.DROPPED;
    }
    // Read the options without spreading them into a new object: no allocation per send.
    let binary = typeof data !== 'string';
    let compress = true;
    let fin = true;
    if (options !== undefined && options !== null) {
      if (options.binary !== undefined) binary = !!options.binary;
      if (options.compress !== undefined) compress = !!options.compress;
      if (options.fin !== undefined) fin = !!options.fin;
      // ws's `mask` option: frames masked or not against the role's rule (for testing peers).
      if (options.mask !== undefined && !!options.mask === this._isServer) return this._sendMasked(data, options, cb);
    }
    const conn = driver.conn;
    if (conn.extension === null) compress = false;
    const extra = this._extra;
    if (extra !== null) {
      if (extra.maxBackpressure > 0 && exceedsLimit(this.bufferedAmount, data, extra.maxBackpressure)) return this._overLimit(cb);
      if (extra.fragmentationThreshold > 0 && !isBlob(data)) {
        if (sendFragmented(conn, data, binary, fin, compress, cb, extra.fragmentationThreshold)) return this._status();
      }
    }
    if (typeof data === 'string') {
      conn.sendMessage(data, binary, fin, compress, cb);
    } else if (isBlob(data)) {
      this._sendBlob(data, binary, fin, compress, cb);
    } else {
      conn.sendMessage(data === undefined || data === null ? EMPTY_BUFFER : toBuffer(data), binary, fin, compress, cb);
    }
    return this._status();
  }

  /** @internal A send whose `mask` option goes against the role: the writer's masking is flipped around it. */
  private _sendMasked(data: unknown, options: SendOptions, cb: WriteCallback | undefined): SendStatusValue | void {
    const conn = (this._driver as Driver).conn;
    conn.maskFrames(!!options.mask);
    try {
      return this.send(data as BufferLike, { binary: options.binary, compress: options.compress, fin: options.fin }, cb);
    } finally {
      conn.maskByRole();
    }
  }

  /**
   * @internal What a send did: SENT, or BACKPRESSURE when the bytes waiting to go out now exceed `maxBackpressure`
   * (or, without it, the socket's high-water mark) — wait for 'drain' before sending more.
   */
  _status(): SendStatusValue {
    const driver = this._driver as Driver;
    const buffered = driver.wire.writableLength + driver.conn.queuedBytes;
    const extra = this._extra;
    const limit = extra !== null && extra.maxBackpressure > 0 ? extra.maxBackpressure : driver.highWaterMark;
    if (buffered <= limit) return SendStatus.SENT;
    driver.watchDrain();
    return SendStatus.BACKPRESSURE;
  }

  /** @internal A send past `maxBackpressure`: dropped and reported, or (policy 'close') the socket is closed. */
  _overLimit(cb: WriteCallback | undefined): SendStatusValue {
    if (cb) {
      const err = new Error('The message was dropped: the backpressure limit is exceeded') as Error & { code: string };
      err.code = 'WEFT_ERR_BACKPRESSURE';
      process.nextTick(cb, err);
    }
    const extra = this._extra as ExtraOptions;
    if (extra.backpressurePolicy === 'close') this.close(extra.backpressureCloseCode, 'Backpressure limit exceeded');
    else (this._driver as Driver).watchDrain();
    return SendStatus.DROPPED;
  }

  /** Sends a ping (payload ≤ 125 bytes). `mask` is accepted for ws compatibility; the role decides. */
  ping(cb?: SendCallback): void;
  ping(data?: BufferLike, mask?: boolean | SendCallback, cb?: SendCallback): void;
  ping(data?: unknown, mask?: boolean | WriteCallback, cb?: WriteCallback): void {
    this._control(0x9, data, mask, cb);
  }

  /** Sends a pong (payload ≤ 125 bytes). */
  pong(cb?: SendCallback): void;
  pong(data?: BufferLike, mask?: boolean | SendCallback, cb?: SendCallback): void;
  pong(data?: unknown, mask?: boolean | WriteCallback, cb?: WriteCallback): void {
    this._control(0xa, data, mask, cb);
  }

  /**
   * @internal An automatic pong is due. ws sends it by calling the socket's own `pong()`, so code that
   * replaces that method (to stay silent, or to watch pongs) decides; with the method untouched, the core
   * writes the pong (false).
   */
  _sendAutoPong(data: Buffer, done: (err?: Error | null) => void): boolean {
    if (this.pong === WebSocket.prototype.pong) return false;
    this.pong(data, !this._isServer, done);
    return true;
  }

  /** @internal */
  private _control(opcode: number, data: unknown, mask: unknown, cb: WriteCallback | undefined): void {
    const driver = this._driver;
    if (driver === null && this._handshakeState === ReadyState.CONNECTING) {
      throw new Error('WebSocket is not open: readyState 0 (CONNECTING)');
    }
    if (typeof data === 'function') {
      cb = data as WriteCallback;
      data = undefined;
    } else if (typeof mask === 'function') {
      cb = mask as WriteCallback;
    }
    if (typeof data === 'number') data = data.toString();
    if (driver === null || driver.conn.readyState !== ReadyState.OPEN) {
      this._sendAfterClose(data, cb);
      return;
    }
    let payload: Buffer;
    if (data === undefined || data === null || data === '') payload = EMPTY_BUFFER;
    else if (typeof data === 'string') payload = Buffer.from(data);
    else if (isBlob(data)) {
      this._controlBlob(opcode, data, cb);
      return;
    } else payload = toBuffer(data);
    if (payload.length > MAX_CONTROL_PAYLOAD) {
      throw new RangeError('The data size must not be greater than 125 bytes');
    }
    const conn = driver.conn;
    if (opcode === 0x9) conn.ping(payload, cb);
    else conn.pong(payload, cb);
  }

  /** @internal ws's sendAfterClose: count the bytes, and report the state to the callback on the next tick. */
  private _sendAfterClose(data: unknown, cb: WriteCallback | undefined): void {
    if (data) {
      const length = isBlob(data) ? data.size : typeof data === 'string' ? Buffer.byteLength(data) : toBuffer(data).length;
      this._bufferedAmount += length;
    }
    if (cb) {
      const state = this.readyState;
      const err = new Error(`WebSocket is not open: readyState ${state} (${READY_STATE_NAMES[state]})`);
      process.nextTick(cb, err);
    }
  }

  /** @internal Blobs are read asynchronously; the writer holds every later frame until the bytes arrive. */
  private _sendBlob(blob: Blob, binary: boolean, fin: boolean, compress: boolean, cb: WriteCallback | undefined): void {
    const conn = (this._driver as Driver).conn;
    const ticket = conn.reserve(blob.size);
    blob.arrayBuffer().then(
      (ab) => {
        if (this._blobLost(conn, ticket, cb)) return;
        conn.fulfil(ticket, Buffer.from(ab), binary, fin, compress, cb);
      },
      (err: Error) => this._blobFailed(conn, ticket, err, cb),
    );
  }

  /** @internal */
  private _controlBlob(opcode: number, blob: Blob, cb: WriteCallback | undefined): void {
    if (blob.size > MAX_CONTROL_PAYLOAD) throw new RangeError('The data size must not be greater than 125 bytes');
    const conn = (this._driver as Driver).conn;
    const ticket = conn.reserve(blob.size);
    blob.arrayBuffer().then(
      (ab) => {
        if (this._blobLost(conn, ticket, cb)) return;
        conn.fulfilControl(ticket, opcode, Buffer.from(ab), cb);
      },
      (err: Error) => this._blobFailed(conn, ticket, err, cb),
    );
  }

  /**
   * @internal The socket was destroyed while the Blob was read: its callback and every one queued behind it get
   * ws's error, on the next tick (outside the promise chain, so that a throwing callback is not swallowed).
   */
  private _blobLost(conn: Connection, ticket: number, cb: WriteCallback | undefined): boolean {
    if (this._driver === null || !this._driver.wire.destroyed) return false;
    process.nextTick(abandonBlob, conn, ticket, cb);
    return true;
  }

  /** @internal */
  private _blobFailed(conn: Connection, ticket: number, err: Error, cb: WriteCallback | undefined): void {
    conn.cancel(ticket);
    if (cb) process.nextTick(cb, err);
    if (this.readyState === ReadyState.CLOSED) return;
    if (this._driver !== null) this._driver.wire.end();
    this._emitError(err);
  }

  /** @internal Emits 'error' once per connection, as ws does (later errors are not reported). */
  _emitError(err: Error): void {
    if (this._errorEmitted) return;
    this._errorEmitted = true;
    this.emit('error', err);
  }

  /**
   * `for await (const [data, isBinary] of ws)`: the received messages, ending on close and throwing the
   * connection's error; reading pauses while the loop falls behind (see socket/message-iterator.ts).
   */
  [Symbol.asyncIterator](): AsyncIterableIterator<Message> {
    return messageIterator(this);
  }

  /** @internal Aborts a client handshake (close/terminate while CONNECTING, handshake failures). */
  _abortHandshake(message: string): void {
    abortHandshake(this, this._req, message);
  }
}


function abandonBlob(conn: Connection, ticket: number, cb: WriteCallback | undefined): void {
  conn.abandon(ticket, cb, new Error('The socket was closed while the blob was being read'));
}



// The parts of a WebSocket beyond the class body, all installed here (and typed by the interface):
// - the W3C face: onopen/onmessage/onclose/onerror and add/removeEventListener (socket/event-target.ts);
// - WebSocket-Node's and legacy ws's conveniences: sendUTF, drop, closeReasonCode, ... (socket/conveniences.ts);
// - topics: subscribe, publish, ... (pubsub/topics.ts).
// eslint-disable-next-line @typescript-eslint/no-empty-interface
export interface WebSocket extends EventTargetMixin, Conveniences, TopicMethods {
  // ws's events, typed by name (WebSocketEvents in types/events.ts); any other name takes any listener.
  /** Adds a listener for `event`; its parameters follow the event (`'message'`: data, isBinary). */
  on<K extends keyof WebSocketEvents>(event: K, listener: (this: this, ...args: WebSocketEvents[K]) => void): this;
  on(event: string | symbol, listener: (this: this, ...args: any[]) => void): this;
  /** Adds a listener for the next `event` only. */
  once<K extends keyof WebSocketEvents>(event: K, listener: (this: this, ...args: WebSocketEvents[K]) => void): this;
  once(event: string | symbol, listener: (this: this, ...args: any[]) => void): this;
  /** Removes a listener. */
  off<K extends keyof WebSocketEvents>(event: K, listener: (this: this, ...args: WebSocketEvents[K]) => void): this;
  off(event: string | symbol, listener: (this: this, ...args: any[]) => void): this;
  /** Adds a listener for `event` (as `on`). */
  addListener<K extends keyof WebSocketEvents>(event: K, listener: (this: this, ...args: WebSocketEvents[K]) => void): this;
  addListener(event: string | symbol, listener: (this: this, ...args: any[]) => void): this;
  /** Removes a listener (as `off`). */
  removeListener<K extends keyof WebSocketEvents>(event: K, listener: (this: this, ...args: WebSocketEvents[K]) => void): this;
  removeListener(event: string | symbol, listener: (this: this, ...args: any[]) => void): this;
  /** Adds a listener before the others of `event`. */
  prependListener<K extends keyof WebSocketEvents>(event: K, listener: (this: this, ...args: WebSocketEvents[K]) => void): this;
  prependListener(event: string | symbol, listener: (this: this, ...args: any[]) => void): this;
  /** Adds a one-time listener before the others of `event`. */
  prependOnceListener<K extends keyof WebSocketEvents>(event: K, listener: (this: this, ...args: WebSocketEvents[K]) => void): this;
  prependOnceListener(event: string | symbol, listener: (this: this, ...args: any[]) => void): this;
}
applyEventTarget(WebSocket.prototype);
applyConveniences(WebSocket.prototype);
applyTopics(WebSocket.prototype);

// ws defines the state constants on the prototype too, read-only and enumerable.
for (const [name, value] of Object.entries(ReadyState)) {
  Object.defineProperty(WebSocket.prototype, name, { enumerable: true, value });
  Object.defineProperty(WebSocket, name, { enumerable: true, value, writable: false, configurable: false });
}
// ws's semi-private members that integrations read (`_receiver`, `_redirects`, ...), computed on first read.
installWsState(WebSocket.prototype);
// And its accessors are enumerable, as ws's are.
for (const prop of ['binaryType', 'bufferedAmount', 'extensions', 'isPaused', 'protocol', 'readyState', 'url']) {
  const desc = Object.getOwnPropertyDescriptor(WebSocket.prototype, prop) as PropertyDescriptor;
  Object.defineProperty(WebSocket.prototype, prop, { ...desc, enumerable: true });
}

import type { IncomingMessage } from 'http';
import type { DuplexOptions } from 'stream';
import type {
  WebSocketServer as WebSocketServerClass,
  ServerOptions as ServerOpts,
  VerifyClientInfo as VerifyInfo,
  VerifyClientCallbackSync as VerifySync,
  VerifyClientCallbackAsync as VerifyAsync,
  VerifyClientCallback as VerifyCallback,
  HandleProtocols as HandleProtocolsFn,
} from './server';
import type { PerMessageDeflateOptions as DeflateOptions } from './deflate';
import type { ConnectionOptions as ConnOptions } from './socket/connection-options';
import type { HeartbeatOptions as HeartbeatOpts } from './socket/heartbeat';
import type {
  Event as EventClass,
  MessageEvent as MessageEventClass,
  CloseEvent as CloseEventClass,
  ErrorEvent as ErrorEventClass,
  WebSocketEventMap as EventMap,
  AddEventListenerOptions as ListenerOptions,
} from './socket/event-target';
import type {
  RawData as RawDataType,
  Data as DataType,
  BufferLike as BufferLikeType,
  SendCallback as SendCallbackType,
  WebSocketEvents as WebSocketEventsMap,
  WebSocketServerEvents as WebSocketServerEventsMap,
  FrameEvent as FrameEventType,
} from './types/events';
import type { PublishOptions as PublishOpts, PublishResult as PublishRes, PubSubAdapter as Adapter } from './pubsub/hub';
import type { Peer as PeerClass, Hooks, PeerAdapterOptions as AdapterOptions, Message as PeerMessageClass } from './peer';
import type { createWebSocketStream as createStream } from './stream';
import type { NativeStatus as NativeStatusType } from './util/buffer';
import type { Receiver as ReceiverClass } from './compat/receiver';
import type { Sender as SenderClass } from './compat/sender';
import type { PerMessageDeflate as PerMessageDeflateClass } from './deflate';
import type { WebSocketPair as WebSocketPairClass } from './pair';
import type { SendStatus as SendStatusValues } from './socket/connection-options';
import type * as extensionModule from './protocol/extension';
import type * as subprotocolModule from './protocol/subprotocol';
import type { MemoryBus as MemoryBusClass, MemoryPubSub as MemoryPubSubClass } from './pubsub/memory';
import type { PeerAdapter as PeerAdapterClass } from './peer';
import type { RedisPubSub as RedisPubSubClass } from './pubsub/redis';
import type {
  WebSocketStream as WebSocketStreamClass,
  WebSocketError as WebSocketErrorClass,
  WebSocketCloseInfo as CloseInfo,
  WebSocketOpenInfo as OpenInfo,
  WebSocketStreamOptions as StreamOptions,
  WebSocketStreamFromOptions as StreamFromOptions,
} from './websocket-stream';
type BinaryTypeAlias = BinaryType;
type ReadyStateAlias = ReadyStateValue;
type SendOptionsAlias = SendOptions;
type SendStatusAlias = SendStatusValue;
type ClientOptionsAlias = ClientOptions;

// The `WebSocket` namespace: what `require('weft')` carries besides the class. index.ts attaches the
// statics at run time (`WebSocket.WebSocketServer`, ...); the type names are those code written against
// `@types/ws` uses (`WebSocket.RawData`, `WebSocket.ServerOptions`, ...) and weft's own, each an alias of
// the one declaration in lib/ the runtime is written against. (The package's entry types, types/index.d.ts,
// re-export them, with `WebSocket.WebSocket` naming this class.)
// eslint-disable-next-line @typescript-eslint/no-namespace
export declare namespace WebSocket {
  const WebSocketServer: typeof WebSocketServerClass;
  const Server: typeof WebSocketServerClass;
  const createWebSocketStream: typeof createStream;
  const Receiver: typeof ReceiverClass;
  const Sender: typeof SenderClass;
  const PerMessageDeflate: typeof PerMessageDeflateClass;
  /** weft: two connected in-memory WebSockets (Cloudflare Workers' WebSocketPair). */
  const WebSocketPair: typeof WebSocketPairClass;
  /** weft: what send() returns (SENT, BACKPRESSURE, DROPPED). */
  const SendStatus: typeof SendStatusValues;
  const extension: { parse: typeof extensionModule.parse; format: typeof extensionModule.format };
  const subprotocol: { parse: typeof subprotocolModule.parse };
  /** weft: crossws-style hooks and Peers over a WebSocketServer (lib/peer.ts). */
  const PeerAdapter: typeof PeerAdapterClass;
  /** weft: the in-process pub/sub adapter, and the bus that joins its nodes (lib/pubsub/). */
  const MemoryPubSub: typeof MemoryPubSubClass;
  const MemoryBus: typeof MemoryBusClass;
  /** weft: the Redis pub/sub adapter (needs the optional peer dependency ioredis). */
  const RedisPubSub: typeof RedisPubSubClass;
  /** weft: the WHATWG WebSocketStream (streams with backpressure), client and `from(ws)` (lib/websocket-stream.ts). */
  const WebSocketStream: typeof WebSocketStreamClass;
  /** weft: the error a WebSocketStream's `closed` rejects with; its code and reason close the connection when aborting. */
  const WebSocketError: typeof WebSocketErrorClass;
  /** weft: which native paths are active (`{ mask, utf8, reason? }`), for logs and support requests. */
  const native: NativeStatusType;
  /** What `WebSocket.native` reports. */
  type NativeStatus = NativeStatusType;

  /** A received message: a Buffer (text too), an ArrayBuffer, or fragments, by `binaryType`. */
  type RawData = RawDataType;
  /** A message payload: a string or any RawData. */
  type Data = DataType;
  /** What `send()`, `ping()` and `pong()` accept. */
  type BufferLike = BufferLikeType;
  /** The callback of `send()`, `ping()` and `pong()`: no error once written, else the Error. */
  type SendCallback = SendCallbackType;
  /** Per-send options (`binary`, `compress`, `fin`, `mask`). */
  type SendOptions = SendOptionsAlias;
  /** weft: what `send()` returns (a `SendStatus` value: BACKPRESSURE 0, SENT 1, DROPPED 2). */
  type SendStatus = SendStatusAlias;
  /** `binaryType`'s values. */
  type BinaryType = BinaryTypeAlias;
  /** `readyState`'s values, CONNECTING (0) to CLOSED (3). */
  type ReadyState = ReadyStateAlias;
  /** A WebSocket's events and their listeners' arguments. */
  type WebSocketEvents = WebSocketEventsMap;
  /** A WebSocketServer's events and their listeners' arguments. */
  type WebSocketServerEvents<W = WebSocket, R = IncomingMessage> = WebSocketServerEventsMap<W, R>;
  /** weft: a data frame ('frame' event, with `assembleFragments: false`). */
  type FrameEvent = FrameEventType;

  type WebSocketServer<
    T extends typeof WebSocket = typeof WebSocket,
    U extends typeof IncomingMessage = typeof IncomingMessage,
  > = WebSocketServerClass<T, U>;
  type Server<
    T extends typeof WebSocket = typeof WebSocket,
    U extends typeof IncomingMessage = typeof IncomingMessage,
  > = WebSocketServerClass<T, U>;
  type Receiver = ReceiverClass;
  type Sender = SenderClass;
  type PerMessageDeflate = PerMessageDeflateClass;
  type WebSocketPair = WebSocketPairClass;
  type WebSocketStream = WebSocketStreamClass;
  type WebSocketError = WebSocketErrorClass;
  type PeerAdapter = PeerAdapterClass;
  type MemoryPubSub = MemoryPubSubClass;
  type MemoryBus = MemoryBusClass;
  type RedisPubSub = RedisPubSubClass;
  /** weft: a connection as PeerAdapter's hooks see it (crossws's Peer). */
  type Peer = PeerClass;
  /** weft: PeerAdapter's hooks (crossws's). */
  type PeerHooks = Hooks;
  /** weft: options of `new PeerAdapter(options)`. */
  type PeerAdapterOptions = AdapterOptions;
  /** weft: a message as PeerAdapter's `message` hook gets it. */
  type PeerMessage = PeerMessageClass;
  /** What a WebSocketStream's `opened` resolves with. */
  type WebSocketOpenInfo = OpenInfo;
  /** A close code and reason: a WebSocketStream's `closed` value and `close()` argument. */
  type WebSocketCloseInfo = CloseInfo;
  /** Options of `new WebSocketStream(url, options)`. */
  type WebSocketStreamOptions = StreamOptions;
  /** Options of `WebSocketStream.from(ws, options)`. */
  type WebSocketStreamFromOptions = StreamFromOptions;

  /** Certificate and key data (`@types/ws`'s name). */
  type CertMeta = string | string[] | Buffer | Buffer[];

  /** What `verifyClient` is given. */
  type VerifyClientInfo<Request extends IncomingMessage = IncomingMessage> = VerifyInfo<Request>;
  /** A synchronous `verifyClient`. */
  type VerifyClientCallbackSync<Request extends IncomingMessage = IncomingMessage> = VerifySync<Request>;
  /** An asynchronous `verifyClient` (two parameters). */
  type VerifyClientCallbackAsync<Request extends IncomingMessage = IncomingMessage> = VerifyAsync<Request>;
  /** The callback an asynchronous `verifyClient` answers through. */
  type VerifyClientCallback = VerifyCallback;
  /** The `handleProtocols` option. */
  type HandleProtocols<Request extends IncomingMessage = IncomingMessage> = HandleProtocolsFn<Request>;
  /** The `finishRequest` client option: it must end the request. */
  type FinishRequestCallback = (request: ClientRequest, websocket: WebSocket) => void;

  /** permessage-deflate options (RFC 7692), for the server and the client. */
  type PerMessageDeflateOptions = DeflateOptions;
  /** Options of `new WebSocket(address, protocols?, options?)`: ws's, http(s).request's, and weft's. */
  type ClientOptions = ClientOptionsAlias;
  /** Options of `new WebSocketServer(options)`: ws's and weft's. */
  type ServerOptions<
    U extends typeof WebSocket = typeof WebSocket,
    V extends typeof IncomingMessage = typeof IncomingMessage,
  > = ServerOpts<U, V>;
  /** weft: the per-connection options (heartbeat, backpressure, WebSocket-Node's) of both. */
  type ConnectionOptions = ConnOptions;
  /** weft: the `heartbeat` option. */
  type HeartbeatOptions = HeartbeatOpts;
  /** weft: options of `publish()`. */
  type PublishOptions = PublishOpts;
  /** weft: what `publish()` reports. */
  type PublishResult = PublishRes;
  /** weft: a scale-out adapter for the `pubsub` server option. */
  type PubSubAdapter = Adapter;

  /** What `server.address()` returns in `port` and `server` modes (unless a pipe: then a string). */
  interface AddressInfo {
    address: string;
    family: string;
    port: number;
  }

  /** The W3C event of 'open', as `addEventListener`/`onopen` deliver it. */
  interface Event extends EventClass {
    readonly target: WebSocket;
  }
  /** The W3C event of 'error'. */
  interface ErrorEvent extends ErrorEventClass {
    readonly target: WebSocket;
    readonly error: any;
  }
  /** The W3C event of 'close'. */
  interface CloseEvent extends CloseEventClass {
    readonly target: WebSocket;
  }
  /**
   * The W3C event of 'message', typed as `@types/ws` has it: `data` a string (text) or the binaryType's
   * value (with `binaryType` 'blob', which `@types/ws` does not know, a Blob).
   */
  interface MessageEvent extends MessageEventClass {
    readonly target: WebSocket;
    readonly data: Data;
  }
  /** The W3C event each type is fired with. */
  type WebSocketEventMap = EventMap;
  /** Options of `addEventListener` (`once`). */
  type EventListenerOptions = ListenerOptions;

  type CreateWebSocketStreamOptions = DuplexOptions;
  type UrlLike = string | URL;
}
