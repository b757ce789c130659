/**
 * The driver: joins one protocol Connection to one transport (a net/tls socket or any Duplex) and to the
 * WebSocket face. It is the core's Sink. Socket listeners are module-level functions that find their
 * driver through a symbol on the socket, so a connection costs no closures.
 */
import type { Duplex } from 'stream';
import { Connection, type Sink } from '../protocol/connection';
import type { WsError } from '../protocol/errors';
import type { Codec } from '../protocol/codec';
import { writePair } from '../transport/write';
import type { Wire } from '../transport/wire';
import { corkOnce } from '../transport/cork';
import { adopt, TcpTransport, type TransportOwner } from '../transport/tcp-handle';
import type { WriteCallback } from '../protocol/writer';
import { ReadyState } from '../protocol/constants';

/** The slot on a socket that points back at its driver (ws keeps its WebSocket there). */
export const kDriver = Symbol('weft-driver');

/**
 * Where a WebSocket keeps ws's `_receiver` shape once code has read it (compat/websocket-state.ts): the
 * driver emits ws's receiver events there that code listens for (`'conclude'`).
 */
export const kReceiverShape = Symbol('weft-receiver-shape');

/**
 * What the driver needs from the face above it (the WebSocket class implements this): settings it reads,
 * and the face's own verbs. The connection's state is the Connection's; the driver writes nothing here.
 */
export interface DriverHost {
  readonly _closeTimeout: number;
  readonly _allowSynchronousEvents: boolean;
  readonly _paused: boolean;
  /** Delivers a data message (binaryType conversion happens there). */
  _deliver(data: Buffer | Buffer[], isBinary: boolean): void;
  /** Emits 'error' unless one was emitted already. */
  _emitError(err: Error): void;
  emit(event: string | symbol, ...args: unknown[]): boolean;
  emitClose(): void;
  /**
   * Releases the zlib contexts: compressions still pending fail now, their callbacks called while the
   * connection is still CLOSING (as ws's cleanup runs before its readyState turns CLOSED).
   */
  _releaseCodecs(): void;
  /**
   * An automatic pong is due: true when the face sends it itself (its `pong()` is overridden, which ws
   * calls for it), with `done` as the callback; false for the core to write it.
   */
  _sendAutoPong(data: Buffer, done: (err?: Error | null) => void): boolean;
  terminate(): void;
}

type SocketWithDriver = Duplex & { [kDriver]?: Driver; _readableState?: { length: number; endEmitted: boolean } };

/** Connection options the face hands to setSocket (ws's names). */
export interface DriverOptions {
  isServer: boolean;
  maxPayload?: number;
  maxFragments?: number;
  maxBufferedChunks?: number;
  maxPendingAutoPongs?: number;
  skipUTF8Validation?: boolean;
  autoPong?: boolean;
  fragments?: boolean;
  assemble?: boolean;
  maxFrameSize?: number;
  generateMask?: ((mask: Buffer) => void) | null;
  /** The negotiated permessage-deflate codec. */
  codec?: Codec | null;
  /**
   * 'native': read and write a plain TCP socket through Node's handle, past net.Socket's stream layer
   * (transport/tcp-handle.ts); any other socket, or where Node's internals are unavailable, stays on the
   * stream path. 'stream' (the default): the socket's Readable/Writable.
   */
  transport?: TransportName;
}

/** How a connection's bytes are carried (see DriverOptions.transport). */
export type TransportName = 'stream' | 'native';

/**
 * The transport used when none is asked for: 'native' (plain TCP connections on Node's TCP handle; every
 * other connection, and every one where Node's internals are unavailable, stays on the stream path).
 * WEFT_TRANSPORT=stream in the environment makes it 'stream' (the suites run on both).
 */
export const DEFAULT_TRANSPORT: TransportName = process.env.WEFT_TRANSPORT === 'stream' ? 'stream' : 'native';

/** The Sink between a Connection and a socket. */
export class Driver implements Sink, TransportOwner {
  readonly host: DriverHost;
  /**
   * The socket, once there is one (see `socket`): null while a connection accepted on the listening
   * handle (transport/accept.ts) runs on its transport alone.
   */
  private sock: SocketWithDriver | null;
  /** What the bytes go through: the socket itself (any Duplex is a Wire), or the adopted TCP handle. */
  wire: Wire;
  /** The adopted handle with the 'native' transport (null: the stream path). */
  transport: TcpTransport | null;
  /**
   * What only the 'native' transport needs, made the first time it is (paused input, a FIN held back,
   * 'drain' watched, input discarded): null on an idle connection of either transport.
   */
  private native: NativeInput | null;
  readonly conn: Connection;
  /** The core holds input back (an inflate is pending, events are deferred): the socket is paused. */
  inputHeld: boolean;
  /**
   * While a received chunk is handled (its replies corked into one writev): the socket's buffered bytes
   * before it, else -1. `bufferedAmount` reports this meanwhile, as if each reply had been written at once.
   */
  lengthBeforeChunk: number;
  /** ws's closeTimeout, once the closing handshake started: the socket is destroyed when it fires. */
  closeTimer: NodeJS.Timeout | null;
  /** Bytes arrived since the heartbeat's last sweep (a field write per chunk: free when it is off). */
  heard: boolean;

  /**
   * `socket`: the upgraded socket (any Duplex); or, accepted on the listening handle, its transport —
   * the net.Socket is then made the first time someone asks for it.
   */
  constructor(host: DriverHost, socket: Duplex | TcpTransport, options: DriverOptions) {
    this.host = host;
    if (socket instanceof TcpTransport) {
      this.sock = null;
      this.wire = socket;
      this.transport = socket;
    } else {
      this.sock = socket as SocketWithDriver;
      this.wire = socket;
      this.transport = null;
    }
    this.native = null;
    this.conn = new Connection(this, options);
    this.inputHeld = false;
    this.lengthBeforeChunk = -1;
    this.closeTimer = null;
    this.heard = false;
  }

  /**
   * Starts reading: attaches the listeners and replays `head` (bytes read past the handshake), on the
   * transport asked for (`options.transport`, handed here rather than kept: adoption may still fail).
   */
  attach(head: Buffer | undefined, transport?: TransportName): void {
    const accepted = this.transport;
    if (accepted !== null && this.sock === null) {
      // Accepted on the listening handle: the transport is there already, holding the bytes that came
      // behind the request head (TCP_NODELAY was set when the connection was accepted).
      accepted.ownerEnds = true;
      accepted.start(this);
      return;
    }
    const socket = this.socket;
    socket[kDriver] = this;
    const s = socket as Duplex & { setTimeout?: (ms: number) => void; setNoDelay?: (on?: boolean) => void };
    // Small frames must not wait for Nagle's algorithm. Asked of the net.Socket before any adoption: it
    // remembers the setting and makes no setsockopt call when it is already on (http.Server turns it on
    // for every connection it accepts), where the adopted handle would make one every time.
    if (typeof s.setNoDelay === 'function') s.setNoDelay();
    if ((transport === undefined ? DEFAULT_TRANSPORT : transport) === 'native') {
      const t = adopt(socket as never, head);
      if (t !== null) {
        this.transport = t;
        this.wire = t;
        t.ownerEnds = true;
        t.start(this);
        return;
      }
    }
    if (typeof s.setTimeout === 'function') s.setTimeout(0);
    if (head !== undefined && head.length > 0) socket.unshift(head);
    socket.on('close', socketOnClose);
    socket.on('data', socketOnData);
    socket.on('end', socketOnEnd);
    socket.on('error', socketOnError);
  }

  /**
   * The socket as integrations see it (`ws._socket`): the upgraded socket, or — accepted on the listening
   * handle — a net.Socket made now for the transport, once (transport/tcp-handle.ts, `shellSocket()`).
   */
  get socket(): SocketWithDriver {
    const s = this.sock;
    if (s !== null) return s;
    const shell = (this.transport as TcpTransport).shellSocket() as SocketWithDriver;
    if (this.conn.readyState !== ReadyState.CLOSED) shell[kDriver] = this;
    this.sock = shell;
    return shell;
  }

  /** The socket, if one was made (null: accepted on the listening handle, and nobody asked yet). */
  get socketIfMade(): SocketWithDriver | null {
    return this.sock;
  }

  /**
   * The transport of a connection accepted on the listening handle while no socket has been made for it
   * (null otherwise): what reads the peer's address and counts bytes without making one.
   */
  get transportOnly(): TcpTransport | null {
    return this.sock === null ? this.transport : null;
  }

  /**
   * Starts forwarding the socket's 'drain' to the WebSocket: attached the first time a send meets
   * backpressure, so that idle connections carry no extra listener.
   */
  watchDrain(): void {
    if (this.transport !== null) {
      nativeInput(this).drainWatched = true;
      return;
    }
    const socket = this.socket;
    if (socket.listeners('drain').indexOf(socketOnDrain) === -1) socket.on('drain', socketOnDrain);
  }

  /**
   * Bytes written to the wire and not yet taken by the kernel. While a received chunk is handled (its
   * replies corked), the count from before the chunk: ws would have written each reply at once.
   */
  bufferedBytes(): number {
    const wire = this.wire;
    return this.lengthBeforeChunk >= 0 && wire.writableCorked > 0 ? this.lengthBeforeChunk : wire.writableLength;
  }

  /** The buffered bytes past which a send reports backpressure (the wire's high-water mark). */
  get highWaterMark(): number {
    return this.wire.writableHighWaterMark;
  }

  /** Hands writes held by a cork (a chunk's replies, a turn's broadcasts) to the wire now. */
  flushCorked(): void {
    // (An uncork after this is a no-op: a read's, a turn's broadcasts'.)
    const wire = this.wire;
    while (wire.writableCorked > 0) wire.uncork();
  }

  /**
   * A broadcast frame of `length` bytes is about to be written: corked until the check phase of this turn
   * of the loop while the batch stays within the high-water mark; past it, what is held is flushed now
   * (holding a large batch longer would only hold memory, and count against maxBackpressure). Returns
   * true when the frame must be flushed right after it is written (`flushCorked()`).
   */
  batchWrite(length: number): boolean {
    const wire = this.wire;
    if (wire.writableLength + length <= wire.writableHighWaterMark) {
      corkOnce(wire);
      return false;
    }
    this.flushCorked();
    return true;
  }

  /** `terminate()`: what is corked goes to the kernel (so nothing ws would have sent is lost), then the wire is destroyed. */
  destroyWire(): void {
    this.flushCorked();
    this.wire.destroy();
  }

  /**
   * WebSocket-Node's `drop()`: the FIN follows what is queued; the wire is destroyed at once when
   * `now` or bytes remain queued in this process (a peer that does not read would never let them, or
   * the FIN, go), else as soon as the FIN is out.
   */
  endThenDestroy(now: boolean): void {
    const wire = this.wire;
    wire.end();
    if (now || wire.writableFinished || wire.writableLength > 0) wire.destroy();
    else if (this.transport !== null) this.transport.destroyOnceFinished();
    else this.socket.once('finish', destroyAfterFinish);
  }

  /** The user's `pause()`. */
  pauseReading(): void {
    // (The 'native' transport reads on into pausedInput until it holds a high-water mark's worth; its
    // shell reads as paused at once, as the socket does here on the stream path.)
    if (this.transport === null) this.wire.pause();
    else this.transport.markPaused();
  }

  /** The user's `resume()`: the socket flows again unless the core is still holding input back. */
  resumeReading(): void {
    const n = this.native;
    if (n !== null) {
      if (n.pausedInput !== null && !this.feedPausedInput(n)) return;
      if (n.endPending && !this.host._paused) {
        n.endPending = false;
        this.onTransportEnd();
      }
    }
    if (!this.inputHeld) this.wire.resume();
  }

  /** @internal TransportOwner: the user paused, or the core holds input back (the shell's isPaused()). */
  isInputPaused(): boolean {
    return this.host._paused || this.inputHeld;
  }

  /** @internal 'native' transport: bytes read while paused, not yet handed to the core. */
  get pausedBytes(): number {
    return this.native === null ? 0 : this.native.pausedBytes;
  }

  /** Hands the input read while paused to the core; false when the core holds input back again. */
  private feedPausedInput(n: NativeInput): boolean {
    const chunks = n.pausedInput as Buffer[];
    n.pausedInput = null;
    n.pausedBytes = 0;
    for (let i = 0; i < chunks.length; i++) {
      if (n.discarding) return true;
      if (this.host._paused) {
        // Paused again by a listener: the rest waits for the next resume().
        n.hold(chunks.slice(i));
        return false;
      }
      if (!this.conn.receiveData(chunks[i])) {
        this.inputHeld = true;
        (this.transport as TcpTransport).pause();
        if (i + 1 < chunks.length) n.hold(chunks.slice(i + 1));
        return false;
      }
    }
    return true;
  }

  // --- Sink ---------------------------------------------------------------------------------------

  /** @internal */
  onMessage(data: Buffer | Buffer[], isBinary: boolean): void {
    const host = this.host;
    if (host._allowSynchronousEvents) {
      host._deliver(data, isBinary);
      return;
    }
    // ws's allowSynchronousEvents: false — one event per turn of the event loop.
    this.conn.suspendInput();
    setImmediate(deferredMessage, this, data, isBinary);
  }

  /** @internal With assembleFragments: false, one 'frame' event per data frame (WebSocket-Node). */
  onFrame(opcode: number, fin: boolean, payload: Buffer): void {
    this.host.emit('frame', { opcode, fin, payload, binaryPayload: payload });
  }

  /** @internal */
  onPing(data: Buffer): void {
    this.control('ping', data);
  }

  /** @internal */
  onPong(data: Buffer): void {
    this.control('pong', data);
  }

  /** 'ping'/'pong' now, or (allowSynchronousEvents: false) on a later turn, holding the parser meanwhile. */
  private control(event: string, data: Buffer): void {
    if (this.host._allowSynchronousEvents) {
      this.host.emit(event, data);
      return;
    }
    this.conn.suspendInput();
    setImmediate(deferredControl, this, event, data);
  }

  /** @internal */
  autoPong(data: Buffer, done: (err?: Error | null) => void): boolean {
    return this.host._sendAutoPong(data, done);
  }

  /** @internal */
  onClose(code: number, reason: Buffer): void {
    // The peer's close frame: stop reading data, but keep the socket flowing so its 'end' arrives.
    this.stopReading();
    this.startCloseTimer();
    // ws's receiver emits 'conclude' here; its WebSocket's own listener (the close reply, CLOSING) runs
    // first, as ours already has.
    this.receiverEvent('conclude', code, reason);
  }

  /** @internal */
  onError(err: WsError): void {
    this.stopReading();
    this.startCloseTimer();
    // The failing close frame is on its way (the Connection is CLOSING): it leaves now rather than with
    // the rest of the chunk's replies.
    this.flushCorked();
    this.lengthBeforeChunk = -1;
    this.host._emitError(err);
  }

  /** @internal */
  write(first: Buffer, second: Buffer | null, cb: WriteCallback | undefined): void {
    const t = this.transport;
    if (t !== null) t.write(first, second, cb);
    else writePair(this.socket, first, second, cb);
  }

  /** @internal A header and payload buffers (zlib's chunks), corked into one writev; `cb` with the last. */
  writeChunks(header: Buffer, chunks: readonly Buffer[], cb: WriteCallback | undefined): void {
    const wire = this.wire;
    wire.cork();
    this.write(header, null, undefined);
    const last = chunks.length - 1;
    for (let i = 0; i < last; i++) this.write(chunks[i], null, undefined);
    this.write(chunks[last], null, cb);
    wire.uncork();
  }

  /** @internal The core holds no more input back: read again (unless the user paused). */
  onDrain(): void {
    this.inputHeld = false;
    const s = this.sock;
    if (!this.host._paused && (s !== null ? s[kDriver] === this : this.conn.readyState !== ReadyState.CLOSED)) this.wire.resume();
    // ws's receiver emits 'drain' here, after its WebSocket's listener resumed the socket.
    this.receiverEvent('drain');
  }

  /** @internal Emits one of ws's receiver events on `ws._receiver`, where code has read it (it exists). */
  private receiverEvent(name: string, ...args: unknown[]): void {
    const shape = (this.host as { [kReceiverShape]?: { emit(e: string, ...a: unknown[]): boolean } })[kReceiverShape];
    if (shape !== undefined) shape.emit(name, ...args);
  }

  /** @internal Input held back when the socket closed has been processed: the connection is closed. */
  onFinish(): void {
    closed(this);
  }

  /** @internal */
  isClosed(): boolean {
    return this.wire.destroyed;
  }

  /** @internal */
  end(): void {
    const t = this.transport;
    if (t !== null) {
      t.end();
      return;
    }
    const socket = this.socket;
    if (!socket.writableEnded && !socket.destroyed) socket.end();
  }

  /** @internal */
  terminate(): void {
    this.host.terminate();
  }

  // --- helpers for the face ------------------------------------------------------------------------

  /** Arms the close timer once (ws's closeTimeout): the socket is destroyed if the peer never answers. */
  startCloseTimer(): void {
    if (this.closeTimer !== null) return;
    this.closeTimer = setTimeout(destroyWire, this.host._closeTimeout, this.wire);
  }

  // --- TransportOwner (the 'native' transport) -------------------------------------------------------

  /** @internal A read: replies made meanwhile leave in one writev after it (the transport corks). */
  onTransportData(chunk: Buffer): void {
    let n = this.native;
    if (n !== null && n.discarding) return;
    this.heard = true;
    const t = this.transport as TcpTransport;
    if (this.host._paused || (n !== null && n.pausedInput !== null)) {
      if (n === null) n = nativeInput(this);
      n.hold([chunk]);
      if (n.pausedBytes >= t.highWaterMark) t.pause();
      return;
    }
    this.lengthBeforeChunk = t.writingBytes;
    if (!this.conn.receiveData(chunk)) {
      this.inputHeld = true;
      t.pause();
    }
    this.lengthBeforeChunk = -1;
  }

  /** @internal A large message is coming in: how many of its bytes the next read may take whole. */
  bulkReadSize(): number {
    return this.readsFlowing() ? this.conn.bulkReadSize() : 0;
  }

  /** @internal Half of a large frame is here: where the next read may land in place (its payload buffer). */
  readInto(): Buffer | null {
    return this.readsFlowing() ? this.conn.readInto() : null;
  }

  /** The next read goes straight to the core (nothing held back, paused or discarded). */
  private readsFlowing(): boolean {
    const n = this.native;
    return !(this.inputHeld || this.host._paused || (n !== null && (n.discarding || n.pausedInput !== null)));
  }

  /** @internal The peer's FIN. */
  onTransportEnd(): void {
    // Paused by the user, the FIN waits behind the input read meanwhile, as a paused socket's 'end' does.
    const n = this.native;
    if ((n !== null && n.pausedInput !== null) || this.host._paused) {
      nativeInput(this).endPending = true;
      return;
    }
    this.conn.transportEnding();
    (this.transport as TcpTransport).end();
  }

  /** @internal The transport failed (ECONNRESET, EPIPE, ...): it closes itself next. */
  onTransportError(): void {
    this.conn.transportEnding();
  }

  /** @internal */
  onTransportClose(): void {
    const conn = this.conn;
    const n = this.native;
    // Input read while paused may hold the peer's close frame: it counts, as on the stream path.
    if (n !== null && n.pausedInput !== null && !conn.inputClosed && !n.discarding) {
      const chunks = n.pausedInput;
      n.pausedInput = null;
      for (const c of chunks) if (!conn.inputClosed) conn.receiveData(c);
    }
    conn.transportEnding();
    if (conn.endOfInput()) closed(this);
  }

  /** @internal */
  onTransportDrain(): void {
    const n = this.native;
    if (n !== null && n.drainWatched) this.host.emit('drain');
  }

  private stopReading(): void {
    if (this.transport !== null) {
      // Read on (so the FIN arrives), dropping what comes.
      nativeInput(this).discarding = true;
      if (!this.inputHeld) this.transport.resume();
      return;
    }
    const socket = this.socket;
    if (socket[kDriver] === undefined) return;
    socket.removeListener('data', socketOnData);
    process.nextTick(resumeSocket, socket);
  }
}

/** The 'native' transport's input state (made only for adopted connections, when first needed). */
class NativeInput {
  /** The peer's close frame came or the connection failed: further input is read (for the FIN) and dropped. */
  discarding = false;
  /**
   * Paused by the user: reads go on into this list up to a socket's high-water mark (as a paused
   * net.Socket fills its readable buffer), so that a close frame or a reset right behind them is still
   * seen; `resume()` feeds them to the core.
   */
  pausedInput: Buffer[] | null = null;
  /** Bytes in pausedInput. */
  pausedBytes = 0;
  /** The peer's FIN came while paused: handled on resume(), after the input read before it. */
  endPending = false;
  /** A send met backpressure: the WebSocket emits 'drain' from now on. */
  drainWatched = false;

  /** Adds chunks to the paused input. */
  hold(chunks: Buffer[]): void {
    if (this.pausedInput === null) this.pausedInput = [];
    for (const c of chunks) {
      this.pausedInput.push(c);
      this.pausedBytes += c.length;
    }
  }
}

/** The driver's NativeInput, made now if it has none yet. */
function nativeInput(driver: Driver): NativeInput {
  // (A private field read from outside the class: this helper is the one place that makes it.)
  const d = driver as unknown as { native: NativeInput | null };
  if (d.native === null) d.native = new NativeInput();
  return d.native;
}

function deferredMessage(driver: Driver, data: Buffer | Buffer[], isBinary: boolean): void {
  if (driver.conn.readyState !== ReadyState.CLOSED) driver.host._deliver(data, isBinary);
  driver.conn.resumeInput();
}

function deferredControl(driver: Driver, event: string, data: Buffer): void {
  if (driver.conn.readyState !== ReadyState.CLOSED) driver.host.emit(event, data);
  driver.conn.resumeInput();
}

function destroyWire(wire: Wire): void {
  wire.destroy();
}

function destroyAfterFinish(this: Duplex): void {
  this.destroy();
}

function resumeSocket(socket: Duplex): void {
  socket.resume();
}

function socketOnData(this: SocketWithDriver, chunk: Buffer): void {
  const driver = this[kDriver] as Driver;
  // Any received byte is a sign of life for the opt-in heartbeat.
  driver.heard = true;
  // Replies sent while this chunk's messages are handled (an echo, a pong, several pipelined answers)
  // leave in one writev instead of one write syscall each; order and callbacks are unchanged.
  driver.lengthBeforeChunk = this.writableLength;
  this.cork();
  if (!driver.conn.receiveData(chunk)) {
    // The core is holding input back (inflating, or deferring events): stop reading until it drains,
    // so a peer cannot make it queue without limit.
    driver.inputHeld = true;
    this.pause();
  }
  this.uncork();
  driver.lengthBeforeChunk = -1;
}

/** The socket's buffer emptied: the WebSocket emits 'drain' (a backpressured sender may go on). */
function socketOnDrain(this: SocketWithDriver): void {
  const driver = this[kDriver];
  if (driver !== undefined) driver.host.emit('drain');
}

function socketOnEnd(this: SocketWithDriver): void {
  const driver = this[kDriver] as Driver;
  driver.conn.transportEnding();
  // Usually our side has ended already (after the close handshake): ending again would only build an
  // ERR_STREAM_ALREADY_FINISHED error object (with its stack) per connection for nothing.
  if (!this.writableEnded) this.end();
}

function socketOnError(this: SocketWithDriver): void {
  const driver = this[kDriver];
  this.removeListener('error', socketOnError);
  // A second error from a socket being torn down must not crash the process.
  this.on('error', noop);
  if (driver !== undefined) {
    driver.conn.transportEnding();
    this.destroy();
  }
}

function socketOnClose(this: SocketWithDriver): void {
  const driver = this[kDriver] as Driver;
  this.removeListener('close', socketOnClose);
  this.removeListener('data', socketOnData);
  this.removeListener('end', socketOnEnd);
  this.removeListener('drain', socketOnDrain);
  const conn = driver.conn;
  conn.transportEnding();

  // Bytes the socket read but nobody consumed (it was paused) may still hold the peer's close frame.
  const state = this._readableState;
  if (state !== undefined && !state.endEmitted && !conn.inputClosed && state.length !== 0) {
    const chunk = this.read(state.length) as Buffer | null;
    if (chunk !== null) conn.receiveData(chunk);
  }
  // Messages still being inflated (or deferred) and a close frame behind them are delivered before
  // 'close'; then the Connection reports onFinish().
  if (conn.endOfInput()) closed(driver);
}

/** The socket is closed and every byte it delivered has been processed: emit 'close'. */
function closed(driver: Driver): void {
  driver.host._releaseCodecs();
  driver.conn.closed();
  const socket = driver.socketIfMade;
  if (socket !== null) socket[kDriver] = undefined;
  if (driver.closeTimer !== null) {
    clearTimeout(driver.closeTimer);
    driver.closeTimer = null;
  }
  driver.host.emitClose();
}

function noop(): void {}
