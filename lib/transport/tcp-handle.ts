/**
 * A transport past net.Socket's stream layer: reads and writes a plain TCP (or Unix-socket) connection
 * through Node's libuv handle directly — `readStart`/`onread` in, `writeBuffer`/`writev` out — with no
 * Readable/Writable machinery in between (no push, no 'data' event, no write queue, no afterWrite tick).
 *
 * `adopt(socket, head)` takes the handle out of an upgraded `net.Socket` and returns a `TcpTransport`, or
 * null when it cannot (TLS, any other Duplex, a subclass of net.Socket, Node internals unavailable, bytes
 * the socket holds that cannot be carried over): the caller then stays on the stream path. The
 * `net.Socket` itself stays behind as a *shell*: it keeps its place in its server's connection count
 * (`server.close()` waits for it), keeps its 'close' listeners (they hear it when the connection really
 * closes), keeps answering `remoteAddress` & co., and its methods (`destroy`, `end`, `write`,
 * `setKeepAlive`, `setTimeout`, …) act on the transport. It is what `ws._socket` can stay.
 *
 * Node internals used (checked on Node 18, 20, 22, 24, 26; refused outside 18–26):
 * - `process.binding('stream_wrap')`: `WriteWrap`, `ShutdownWrap`, `streamBaseState` and its indexes
 *   `kReadBytesOrError`, `kArrayBufferOffset`, `kBytesWritten`, `kLastWriteWasAsync`. Never called when
 *   `process.binding` is wrapped by --pending-deprecation (it would print DEP0111, or throw on a later
 *   tick under --throw-deprecation); a throw (the permission model) means unavailable.
 * - the TCPWrap/PipeWrap handle: `readStart`, `readStop`, `onread`, `useUserBuffer`, `writeBuffer`,
 *   `writev`, `shutdown`, `close`, `reset`, `getpeername`, `getsockname`, `setNoDelay`, `setKeepAlive`,
 *   `ref`, `unref`, `bytesRead`, `bytesWritten`, and net's `reading` flag on it (a handle that reads is
 *   taken over reading).
 * - net.Socket's private `_handle`, `_readableState`, `_getpeername`/`_getsockname`, `_destroy` (called
 *   once the handle is closed: with `_handle` null it only does the server's bookkeeping and emits
 *   'close').
 *
 * Per connection: one TcpTransport object (96 bytes idle; what few connections need in a second one, made
 * when needed), no closures. The handle, the write requests and the shell find their transport through a
 * field, and every callback is a module-level function.
 */
import * as net from 'net';
import * as stream from 'stream';
import { getSystemErrorName } from 'util';

// --- Node internals --------------------------------------------------------------------------------

/** The slice of `process.binding('stream_wrap')` this module uses. */
interface StreamWrapBinding {
  WriteWrap: new () => WriteReq;
  ShutdownWrap: new () => ShutdownReq;
  streamBaseState: Int32Array;
  kReadBytesOrError: number;
  kArrayBufferOffset: number;
  kBytesWritten: number;
  kLastWriteWasAsync: number;
}

/** A write request (a `WriteWrap`): its fields are ours; C++ calls `oncomplete(status)` with it as `this`. */
interface WriteReq {
  oncomplete: (this: WriteReq, status: number) => void;
  transport: TcpTransport | null;
  /** The bytes in flight, kept alive until the kernel has them (the buffer, or the array of buffers). */
  data: Buffer | Buffer[] | null;
  /** The callbacks of the writes this request carries (one function, an array, or null). */
  cbs: WriteCallback | WriteCallback[] | null;
  bytes: number;
}

interface ShutdownReq {
  oncomplete: (this: ShutdownReq, status: number) => void;
  transport: TcpTransport | null;
}

/** A libuv stream handle as Node's `TCP`/`Pipe` wrap exposes it. */
interface StreamHandle {
  /** Returns the buffer the next read goes into (as useUserBuffer would), or undefined to keep the one installed. */
  onread: (this: StreamHandle, ab?: ArrayBuffer) => Buffer | undefined;
  reading: boolean;
  readonly bytesRead: number;
  readonly bytesWritten: number;
  readStart(): number;
  readStop(): number;
  useUserBuffer(buf: Uint8Array): number;
  writeBuffer(req: WriteReq, buf: Uint8Array): number;
  writev(req: WriteReq, chunks: Buffer[], allBuffers: boolean): number;
  shutdown(req: ShutdownReq): number;
  close(cb: (this: StreamHandle) => void): void;
  reset?(cb: (this: StreamHandle) => void): number;
  getpeername?(out: object): number;
  getsockname?(out: object): number;
  setNoDelay?(on: boolean): number;
  setKeepAlive?(on: boolean, delaySecs: number): number;
  ref(): void;
  unref(): void;
  [kTransport]?: TcpTransport;
}

/** What a net.Socket carries that this module reads (private fields). */
interface SocketInternals {
  _handle: StreamHandle | null;
  _readableState: { length: number; ended: boolean; endEmitted: boolean; decoder: unknown; objectMode: boolean; flowing: boolean | null };
  _writableState: { length: number; ended: boolean; highWaterMark: number };
  [kTransport]?: TcpTransport;
}

type NetSocket = net.Socket & SocketInternals;

const kTransport = Symbol('weft-tcp-transport');
/** libuv's UV_EOF (the same on every platform). */
const UV_EOF = -4095;
const UV_ENOTCONN = -107;
/**
 * The shared read buffer: what libuv is offered per read(2) in the 'copy' and 'view' modes. Larger than
 * Node's 64 KiB: a large message then arrives in fewer reads (fewer callbacks, fewer allocations); in
 * bench/transport.js a 64 KiB echo went from 1.24 reads and 1.6 page faults per message to 1.00 and
 * 0.04, a 1 MiB echo from 16.6 reads to 4.6. One buffer per process. WEFT_TCP_READ_BUFFER overrides it
 * (read once, when the first socket is adopted; for benchmarks).
 */
const READ_BUFFER_SIZE = 256 * 1024;
/** A read at least this large asks the owner whether a large message is coming (bulkReadSize). */
const BULK_READ_HINT = 32 * 1024;
/** The largest read buffer of a connection's own. */
const BULK_READ_MAX = 1024 * 1024;
/** Versions whose internals were checked (engines: ^18 || ^20 || ^22 || ^24 || ^26). */
const MIN_MAJOR = 18;
const MAX_MAJOR = 26;

let binding: StreamWrapBinding | null = null;
let unavailable: string | null | undefined; // undefined: not probed yet; null: available
let streamState: Int32Array = new Int32Array(4);
let kReadBytesOrError = 0;
let kArrayBufferOffset = 1;
let kLastWriteWasAsync = 3;

/**
 * Why the handle transport cannot be used in this process, or null when it can. Probed once, on first
 * use (importing this module touches nothing).
 */
export function tcpHandleUnavailable(): string | null {
  if (unavailable === undefined) unavailable = probe();
  return unavailable;
}

function probe(): string | null {
  const env = process.env.WEFT_TCP_HANDLE;
  if (env === '0' || env === 'false' || env === 'off') return 'disabled by WEFT_TCP_HANDLE';
  const major = Number(process.versions.node.split('.')[0]);
  if (!(major >= MIN_MAJOR && major <= MAX_MAJOR)) return `Node ${process.versions.node} is not one the handle transport was checked on`;
  const p = process as unknown as { binding?: ((name: string) => unknown) & { name: string } };
  // --pending-deprecation (or NODE_PENDING_DEPRECATION=1) wraps process.binding in util.deprecate: calling
  // it would print DEP0111, and under --throw-deprecation throw on a later tick, out of reach of a catch.
  if (typeof p.binding !== 'function' || p.binding.name !== 'binding') return 'process.binding is deprecated in this process (--pending-deprecation)';
  let b: Partial<StreamWrapBinding>;
  try {
    b = p.binding('stream_wrap') as Partial<StreamWrapBinding>;
  } catch (err) {
    // The permission model (--permission, --experimental-permission) refuses process.binding.
    return `process.binding('stream_wrap') failed: ${(err as Error).message}`;
  }
  if (
    b === null ||
    typeof b !== 'object' ||
    typeof b.WriteWrap !== 'function' ||
    typeof b.ShutdownWrap !== 'function' ||
    !(b.streamBaseState instanceof Int32Array) ||
    typeof b.kReadBytesOrError !== 'number' ||
    typeof b.kArrayBufferOffset !== 'number' ||
    typeof b.kLastWriteWasAsync !== 'number' ||
    typeof b.kBytesWritten !== 'number' ||
    Math.max(b.kReadBytesOrError, b.kArrayBufferOffset, b.kLastWriteWasAsync, b.kBytesWritten) >= b.streamBaseState.length
  ) {
    return "process.binding('stream_wrap') does not have the expected shape";
  }
  binding = b as StreamWrapBinding;
  streamState = binding.streamBaseState;
  kReadBytesOrError = binding.kReadBytesOrError;
  kArrayBufferOffset = binding.kArrayBufferOffset;
  kLastWriteWasAsync = binding.kLastWriteWasAsync;
  return null;
}

// --- the read buffer ---------------------------------------------------------------------------------

/**
 * How received bytes reach the owner:
 * - `'copy'` (default): libuv reads into one 256 KiB buffer shared by every adopted handle; each read is
 *   copied into a buffer of its own size (Node's 8 KiB pool below 4 KiB). The owner may keep the chunk.
 * - `'view'`: the chunk is a view of that shared buffer, valid only during `onTransportData`: the owner
 *   must copy what it keeps (`write()` copies a view of that buffer it is given: a write libuv finishes
 *   later would send bytes the next read has overwritten). For consumers that never keep views.
 * - `'alloc'`: Node's own allocation (a fresh 64 KiB buffer per read, shrunk to its length); no copy.
 */
export type ReadMode = 'copy' | 'view' | 'alloc';

let readBuffer: Buffer | null = null;

function sharedReadBuffer(): Buffer {
  // One buffer for all handles is safe: a read lands in it and is handed to JS before the loop reads
  // again, on any handle. It must stay referenced (C++ keeps only its address).
  if (readBuffer === null) {
    const size = Number(process.env.WEFT_TCP_READ_BUFFER);
    readBuffer = Buffer.allocUnsafeSlow(size >= 1024 && size <= 16 * 1024 * 1024 ? Math.floor(size) : READ_BUFFER_SIZE);
  }
  return readBuffer;
}

// --- the owner's interface -----------------------------------------------------------------------------

export type WriteCallback = (err?: Error | null) => void;

/**
 * What a transport reports to (the driver, in phase 2). Prefixed names, so that a class that is also the
 * protocol's Sink (with its own onClose/onError/onDrain) can implement both.
 */
export interface TransportOwner {
  /**
   * Bytes from the peer. Replies written during this call leave together, in one writev, when it returns.
   * With `read: 'view'` the chunk is valid only during the call.
   */
  onTransportData(chunk: Buffer): void;
  /** The peer ended its side (FIN). Reading has stopped; writing may go on until `end()`. */
  onTransportEnd(): void;
  /** A read or write failed (ECONNRESET, EPIPE, …): reported once, then the transport closes. */
  onTransportError(err: Error): void;
  /** The handle is closed; nothing more will be reported. */
  onTransportClose(hadError: boolean): void;
  /** A write had returned false, and everything written has now been handed to the kernel. */
  onTransportDrain(): void;
  /**
   * Optional, asked after a large read (`'copy'` mode): how many of the next bytes belong to one message
   * the owner will keep whole (0: none, or not worth it). The next read then goes into a buffer of that
   * size (at most BULK_READ_MAX) that is handed over as the chunk instead of being copied.
   */
  bulkReadSize?(): number;
  /**
   * Optional, asked first, on the same occasions: a view of the buffer where the owner keeps the next
   * bytes it expects (a large message's payload), or null. The next read goes straight into it, and the
   * chunk it yields (a view of those bytes, in place) must be handed to the owner next.
   */
  readInto?(): Buffer | null;
  /**
   * Optional: whether the owner holds input back (the user paused, or the core is not taking input) while
   * the transport may still be reading on. The shell's `isPaused()` reports it, as a paused net.Socket would.
   */
  isInputPaused?(): boolean;
}

export interface AdoptOptions {
  /** How received bytes are handed over (see ReadMode). */
  read?: ReadMode;
}

const OPEN = 0;
/** `destroy()` (or an error) closed the handle; waiting for libuv's close callback. */
const CLOSING = 1;
const CLOSED = 2;

// TcpTransport.flags
const F_READING = 1;
const F_STARTED = 1 << 1;
const F_PAUSED = 1 << 2;
const F_READ_ENDED = 1 << 3;
const F_ENDING = 1 << 4;
const F_SHUTDOWN_DONE = 1 << 5;
const F_HAD_ERROR = 1 << 6;
const F_ERROR_REPORTED = 1 << 7;
const F_NEED_DRAIN = 1 << 8;
const F_TAP_DATA = 1 << 9;
const F_CLOSE_AFTER_SHUTDOWN = 1 << 10;
const F_OWNER_ENDS = 1 << 11;
const F_ALLOW_HALF_OPEN = 1 << 12;
const F_MODE_VIEW = 1 << 13;
const F_MODE_ALLOC = 1 << 14;
const F_MODE = F_MODE_VIEW | F_MODE_ALLOC;
/** The shell's `_writableState.length` no longer mirrors the bytes buffered here (see `mirror()`). */
const F_UNMIRRORED = 1 << 15;
/** The state (OPEN 0, CLOSING 1, CLOSED 2) in two bits. */
const F_STATE_SHIFT = 16;
const F_STATE = 3 << F_STATE_SHIFT;
/** The cork count above them (nesting is a few levels deep: the whole stays a small integer). */
const F_CORK_SHIFT = 18;
const F_BELOW_CORK = (1 << F_CORK_SHIFT) - 1;

interface SockAddr {
  address?: string;
  family?: string;
  port?: number;
}

// --- the transport ---------------------------------------------------------------------------------------

/** One adopted connection. */
export class TcpTransport {
  /** The handle (kept after close for `bytesRead`/`bytesWritten`). */
  handle: StreamHandle;
  owner: TransportOwner | null;
  /**
   * The net.Socket the handle came from (adopt), or made for it on first use (`shellSocket()`) when the
   * connection was accepted on the listening handle (transport/accept.ts): null until then. Finished
   * ('close') once the handle closes.
   */
  shell: net.Socket | null;
  /**
   * The server whose connection count this connection is in, when the transport keeps that count itself
   * (accepted on the listening handle); null when a net.Socket from net.Server does (adopt).
   */
  server: net.Server | null;
  /**
   * The booleans below (F_*), the read mode, the state and the cork count, in one small integer: an idle
   * connection keeps this object, and fields of their own would cost it 112 bytes more. The names stay,
   * as accessors.
   */
  private flags: number;
  /** Writes waiting for the next flush (one writev). */
  private queue: Buffer[] | null;
  /** @internal The callbacks of the queued writes. */
  queueCbs: WriteCallback[] | null;
  /** Bytes in `queue`. */
  queuedBytes: number;
  /** Bytes handed to libuv that it has not finished writing (whole writes, as Node counts them). */
  writingBytes: number;
  /** What few connections need (see TransportRare): made the first time it is. */
  private rare: TransportRare | null;

  constructor(handle: StreamHandle, socket: net.Socket | null, readMode: ReadMode, head: Buffer | null, allowHalfOpen?: boolean) {
    this.handle = handle;
    this.owner = null;
    this.shell = socket;
    this.server = null;
    const halfOpen = socket !== null ? socket.allowHalfOpen === true : allowHalfOpen === true;
    this.flags = (readMode === 'view' ? F_MODE_VIEW : readMode === 'alloc' ? F_MODE_ALLOC : 0) | (halfOpen ? F_ALLOW_HALF_OPEN : 0);
    this.queue = null;
    this.queueCbs = null;
    this.queuedBytes = 0;
    this.writingBytes = 0;
    this.rare = null;
    if (head !== null) this.head = head;
  }

  /** @internal Bytes received before `start()` (the upgrade's head, bytes the socket had read). */
  get head(): Buffer | null {
    const r = this.rare;
    return r === null ? null : r.head;
  }
  set head(b: Buffer | null) {
    if (b !== null || this.rare !== null) rareOf(this).head = b;
  }

  /** Set by the shell's setTimeout: refreshed by every read and write; emits 'timeout' on the shell. */
  get idleTimer(): NodeJS.Timeout | null {
    const r = this.rare;
    return r === null ? null : r.idleTimer;
  }
  set idleTimer(timer: NodeJS.Timeout | null) {
    if (timer !== null || this.rare !== null) rareOf(this).idleTimer = timer;
  }

  // --- the flags, by name ---

  /** OPEN, CLOSING or CLOSED. */
  get state(): number {
    return (this.flags & F_STATE) >>> F_STATE_SHIFT;
  }
  set state(state: number) {
    this.flags = (this.flags & ~F_STATE) | (state << F_STATE_SHIFT);
  }

  /** Nesting of cork()/read callbacks: writes are queued while it is above 0. */
  get corked(): number {
    return this.flags >>> F_CORK_SHIFT;
  }
  set corked(n: number) {
    this.flags = (this.flags & F_BELOW_CORK) | (n << F_CORK_SHIFT);
  }

  /** @internal The read buffer of this connection's own that the handle reads into, or null (the shared one). */
  get bulkBuffer(): Buffer | null {
    const r = this.rare;
    return r === null ? null : r.bulk;
  }

  /**
   * @internal After a read in `'copy'` mode that was large or went into a buffer of its own: the buffer
   * the next read goes into — one of this connection's own while its owner expects a large message
   * (`bulkReadSize()`), the shared one again after — or undefined to keep the one installed.
   */
  nextReadBuffer(handedOver: boolean): Buffer | undefined {
    const owner = this.owner;
    let want = 0;
    if (this.state === OPEN && owner !== null) {
      if (owner.readInto !== undefined) {
        const into = owner.readInto();
        if (into !== null) {
          const rare = rareOf(this);
          rare.bulk = into;
          rare.inPlace = true;
          return into;
        }
      }
      if (owner.bulkReadSize !== undefined) want = owner.bulkReadSize();
    }
    const r = this.rare;
    let cur = r === null ? null : r.bulk;
    if (r !== null && r.inPlace) {
      // The owner's buffer takes no more reads (its frame is complete, or input is held back now).
      r.inPlace = false;
      r.bulk = cur = null;
      handedOver = true;
    }
    if (want < BULK_READ_HINT) {
      if (cur === null) return handedOver ? sharedReadBuffer() : undefined;
      (r as TransportRare).bulk = null;
      return sharedReadBuffer();
    }
    if (cur !== null && !handedOver) return undefined;
    const fresh = Buffer.allocUnsafeSlow(want < BULK_READ_MAX ? want : BULK_READ_MAX);
    rareOf(this).bulk = fresh;
    return fresh;
  }

  /** @internal The installed read buffer is the owner's own (readInto): every read there is handed over. */
  get readsInPlace(): boolean {
    const r = this.rare;
    return r !== null && r.inPlace;
  }

  /** How received bytes are handed over (see ReadMode). */
  get readMode(): ReadMode {
    const m = this.flags & F_MODE;
    return m === 0 ? 'copy' : m === F_MODE_VIEW ? 'view' : 'alloc';
  }

  /** `write()` returns false once this many bytes are buffered (the socket's writableHighWaterMark). */
  get highWaterMark(): number {
    const s = this.shell;
    return s !== null ? (s as NetSocket)._writableState.highWaterMark : socketHighWaterMark();
  }

  /** The socket's allowHalfOpen: when false, the peer's FIN ends our side too (after onTransportEnd). */
  get allowHalfOpen(): boolean {
    return (this.flags & F_ALLOW_HALF_OPEN) !== 0;
  }

  /** The handle is reading (readStart and no readStop since): from adoption when the socket was reading. */
  private get reading(): boolean {
    return (this.flags & F_READING) !== 0;
  }
  private set reading(on: boolean) {
    this.flags = on ? this.flags | F_READING : this.flags & ~F_READING;
  }

  private get started(): boolean {
    return (this.flags & F_STARTED) !== 0;
  }
  private set started(on: boolean) {
    this.flags = on ? this.flags | F_STARTED : this.flags & ~F_STARTED;
  }

  private get paused(): boolean {
    return (this.flags & F_PAUSED) !== 0;
  }
  private set paused(on: boolean) {
    this.flags = on ? this.flags | F_PAUSED : this.flags & ~F_PAUSED;
  }

  /** The peer's FIN has been read. */
  get readEnded(): boolean {
    return (this.flags & F_READ_ENDED) !== 0;
  }
  set readEnded(on: boolean) {
    this.flags = on ? this.flags | F_READ_ENDED : this.flags & ~F_READ_ENDED;
  }

  /** `end()` was called: no more writes; the shutdown is on its way or done. */
  get ending(): boolean {
    return (this.flags & F_ENDING) !== 0;
  }
  set ending(on: boolean) {
    this.flags = on ? this.flags | F_ENDING : this.flags & ~F_ENDING;
  }

  private get shutdownDone(): boolean {
    return (this.flags & F_SHUTDOWN_DONE) !== 0;
  }
  private set shutdownDone(on: boolean) {
    this.flags = on ? this.flags | F_SHUTDOWN_DONE : this.flags & ~F_SHUTDOWN_DONE;
  }

  /** The connection closed because of an error (or `destroy(err)`). */
  private get hadError(): boolean {
    return (this.flags & F_HAD_ERROR) !== 0;
  }
  private set hadError(on: boolean) {
    this.flags = on ? this.flags | F_HAD_ERROR : this.flags & ~F_HAD_ERROR;
  }

  private get errorReported(): boolean {
    return (this.flags & F_ERROR_REPORTED) !== 0;
  }
  private set errorReported(on: boolean) {
    this.flags = on ? this.flags | F_ERROR_REPORTED : this.flags & ~F_ERROR_REPORTED;
  }

  /** @internal A write returned false: `onTransportDrain` is due once everything is written. */
  get needDrain(): boolean {
    return (this.flags & F_NEED_DRAIN) !== 0;
  }
  set needDrain(on: boolean) {
    this.flags = on ? this.flags | F_NEED_DRAIN : this.flags & ~F_NEED_DRAIN;
  }

  /**
   * Someone listens for 'data' on the shell: each read is emitted there, and the owner hears it from a
   * listener of the shell's own (shellData), in the place a library's listener on a net.Socket would have.
   */
  get tapData(): boolean {
    return (this.flags & F_TAP_DATA) !== 0;
  }
  set tapData(on: boolean) {
    this.flags = on ? this.flags | F_TAP_DATA : this.flags & ~F_TAP_DATA;
  }

  /** `destroyOnceFinished()`: the connection closes as soon as the FIN is out. */
  private get closeAfterShutdown(): boolean {
    return (this.flags & F_CLOSE_AFTER_SHUTDOWN) !== 0;
  }
  private set closeAfterShutdown(on: boolean) {
    this.flags = on ? this.flags | F_CLOSE_AFTER_SHUTDOWN : this.flags & ~F_CLOSE_AFTER_SHUTDOWN;
  }

  /** The owner ends our side itself after the peer's FIN (the driver does, when the user has not paused). */
  get ownerEnds(): boolean {
    return (this.flags & F_OWNER_ENDS) !== 0;
  }
  set ownerEnds(on: boolean) {
    this.flags = on ? this.flags | F_OWNER_ENDS : this.flags & ~F_OWNER_ENDS;
  }

  // --- the Wire shape (transport/wire.ts): what the driver and the face use, named as on a socket ---

  /** Bytes buffered on our side (as `bufferedBytes`). */
  get writableLength(): number {
    return this.queuedBytes + this.writingBytes;
  }

  get writableHighWaterMark(): number {
    return this.highWaterMark;
  }

  get writableCorked(): number {
    return this.corked;
  }

  /** The FIN is out (the shutdown completed). */
  get writableFinished(): boolean {
    return this.shutdownDone;
  }

  /** After `end()`: closes the connection as soon as the FIN is out, without waiting for the peer's. */
  destroyOnceFinished(): void {
    if (this.shutdownDone) this.close(false);
    else this.closeAfterShutdown = true;
  }

  /**
   * Starts reading and hands every event to `owner`. Bytes that arrived before adoption are delivered on
   * the next tick (after the caller's synchronous setup, as a stream's unshifted head would be).
   */
  start(owner: TransportOwner): void {
    if (this.started) return;
    this.started = true;
    this.owner = owner;
    if (this.state === CLOSED) {
      // Closed before it started (its shell destroyed): the owner still hears it, once.
      process.nextTick(lateClose, this);
      return;
    }
    if (this.state !== OPEN) return;
    const r = this.rare;
    if (r !== null) {
      if (r.head !== null) process.nextTick(deliverHead, this);
      if (r.earlyStatus !== 0) {
        // The FIN (or a read error) came before start(): it follows the bytes before it; no more reads.
        const status = r.earlyStatus;
        r.earlyStatus = 0;
        process.nextTick(deliverEarlyStatus, this, status);
        return;
      }
    }
    if (!this.paused) this.readStart();
  }

  /**
   * @internal A read callback before `start()` (the handle was left reading at adoption): reading stops
   * until `start()`, which delivers what came — bytes after the head, a FIN or an error — in order.
   */
  readBeforeStart(nread: number, chunk: Buffer | null): void {
    this.reading = false;
    this.handle.readStop();
    if (chunk !== null) {
      // (A 'view' chunk lives in the shared buffer, which the next read on any handle overwrites.)
      const own = this.readMode === 'view' ? Buffer.from(chunk) : chunk;
      const head = this.head;
      this.head = head === null ? own : Buffer.concat([head, own]);
    } else {
      const r = rareOf(this);
      if (r.earlyStatus === 0) r.earlyStatus = nread;
    }
  }

  /** @internal adopt(): the handle was reading when it was taken over, and goes on. */
  adoptedReading(): void {
    this.reading = true;
  }

  /** @internal start() was called. */
  get isStarted(): boolean {
    return this.started;
  }

  /**
   * The peer's address (`{ address, family, port }`), read from the handle; null when it cannot be (the
   * connection closed). The shell caches it where net.Socket does (`_peername`), so nothing is kept
   * here and it is read once.
   */
  peerAddress(): SockAddr | null {
    if (this.state === CLOSED || typeof this.handle.getpeername !== 'function') return null;
    const out: SockAddr = {};
    return this.handle.getpeername(out) === 0 ? out : null;
  }

  /** Our address, as `peerAddress()` (the shell caches it in `_sockname`). */
  sockAddress(): SockAddr | null {
    if (this.state === CLOSED || typeof this.handle.getsockname !== 'function') return null;
    const out: SockAddr = {};
    return this.handle.getsockname(out) === 0 ? out : null;
  }

  /** Bytes buffered on our side: queued for the next flush plus handed to libuv and not yet written. */
  get bufferedBytes(): number {
    return this.queuedBytes + this.writingBytes;
  }

  /**
   * The bytes buffered here are counted in the shell's `_writableState.length` too, as a net.Socket counts
   * what ws writes through it (code compares `ws.bufferedAmount` with it; ws's own tests do). Only while
   * nobody writes through the shell's own Writable: its accounting needs `length` to be its own (its
   * 'drain' and its end() wait for 0), so the first such write or end() stops the mirror (`unmirror()`).
   */
  private mirror(delta: number): void {
    const s = this.shell;
    if ((this.flags & F_UNMIRRORED) === 0 && s !== null) (s as NetSocket)._writableState.length += delta;
  }

  /** @internal Stops mirroring (see `mirror()`): the shell's `length` is its Writable's own again. */
  unmirror(): void {
    const s = this.shell;
    // (Without a shell there is nothing to stop: one made later starts mirrored.)
    if ((this.flags & F_UNMIRRORED) !== 0 || s === null) return;
    this.flags |= F_UNMIRRORED;
    (s as NetSocket)._writableState.length -= this.queuedBytes + this.writingBytes;
  }

  /** @internal The shell's `_writableState.length` counts the bytes buffered here (see `mirror()`). */
  get mirrored(): boolean {
    return (this.flags & F_UNMIRRORED) === 0;
  }

  get destroyed(): boolean {
    return this.state !== OPEN;
  }

  get bytesRead(): number {
    return this.state === CLOSED ? (this.rare as TransportRare).finalBytesRead : this.handle.bytesRead;
  }

  get bytesWritten(): number {
    return this.state === CLOSED ? (this.rare as TransportRare).finalBytesWritten : this.handle.bytesWritten;
  }

  get closedWithError(): boolean {
    return this.hadError;
  }

  get isPaused(): boolean {
    return this.paused;
  }

  /**
   * Bytes handed to the shell (`socket.push()`/`socket.unshift()`): delivered as if read from the handle —
   * now when started (the owner holds them if it is paused), else with the head at `start()`.
   */
  inject(chunk: Buffer): void {
    if (this.state !== OPEN || chunk.length === 0) return;
    if (this.started) {
      this.received(chunk);
      return;
    }
    const head = this.head;
    this.head = head === null ? chunk : Buffer.concat([head, chunk]);
  }

  /** The shell's `push(null)`: the input ends here, as if the peer's FIN had been read (no more reads). */
  injectEnd(): void {
    if (this.state !== OPEN || this.readEnded) return;
    if (this.reading) {
      this.reading = false;
      this.handle.readStop();
    }
    if (this.started) {
      this.eof();
      return;
    }
    const r = rareOf(this);
    if (r.earlyStatus === 0) r.earlyStatus = UV_EOF;
  }

  // --- writing ---

  /**
   * Writes `first` and, when given, `second` right behind it (a header and its payload). Outside a read
   * callback and uncorked, they leave at once (one write or writev); otherwise with the rest of the batch.
   * `cb` runs once the bytes are with the kernel, in write order, never synchronously; with an error if
   * the connection failed or was closed first. Returns false when the caller should wait for
   * `onTransportDrain`.
   */
  write(first: Buffer, second: Buffer | null, cb?: WriteCallback): boolean {
    if (this.state !== OPEN || this.ending) {
      if (cb !== undefined) process.nextTick(cb, this.state !== OPEN ? destroyedError() : writeAfterEndError());
      return false;
    }
    if (this.readMode === 'view') {
      // A view of the shared read buffer would be overwritten by the next read before a write that
      // libuv finishes later has sent it: such bytes are copied.
      if (first.buffer === (readBuffer as Buffer).buffer) first = Buffer.from(first);
      if (second !== null && second.buffer === (readBuffer as Buffer).buffer) second = Buffer.from(second);
    }
    let q = this.queue;
    if (q === null) q = this.queue = [];
    q.push(first);
    let bytes = first.length;
    if (second !== null) {
      q.push(second);
      bytes += second.length;
    }
    this.queuedBytes += bytes;
    this.mirror(bytes);
    if (cb !== undefined) {
      if (this.queueCbs === null) this.queueCbs = [];
      this.queueCbs.push(cb);
    }
    if (this.corked === 0) this.flush();
    if (this.queuedBytes + this.writingBytes < this.highWaterMark) return true;
    this.needDrain = true;
    return false;
  }

  /** Holds writes back until the matching `uncork()` (nestable); they then leave in one writev. */
  cork(): void {
    this.corked++;
  }

  uncork(): void {
    if (this.corked === 0) return;
    if (--this.corked === 0) this.flush();
  }

  /** Hands the queued writes to libuv now, in one writev, whatever the cork. */
  flush(): void {
    const q = this.queue;
    if (q === null || q.length === 0 || this.state !== OPEN) return;
    const bytes = this.queuedBytes;
    const cbs = takeCallbacks(this);
    this.queuedBytes = 0;
    const handle = this.handle;
    let req = spareReq;
    if (req === null) req = newWriteReq();
    req.transport = this;
    const single = q.length === 1;
    const err = single ? handle.writeBuffer(req, q[0]) : handle.writev(req, q, true);
    if (this.idleTimer !== null) this.idleTimer.refresh();
    if (err !== 0) {
      q.length = 0;
      this.mirror(-bytes);
      req.transport = null;
      // C++ may have wrapped and disposed of the request: never reuse it.
      if (spareReq === req) spareReq = null;
      const e = errnoError(err, 'write');
      if (cbs !== null) process.nextTick(callCallbacks, cbs, e);
      this.fail(e);
      return;
    }
    if (streamState[kLastWriteWasAsync] !== 0) {
      // libuv holds on to the buffers' memory until the write completes: the request keeps them alive.
      spareReq = null;
      if (single) {
        req.data = q.pop() as Buffer;
      } else {
        req.data = q;
        this.queue = null;
      }
      req.cbs = cbs;
      req.bytes = bytes;
      this.writingBytes += bytes;
      return;
    }
    // Written in full at once: the request was never handed to C++ and serves the next write too.
    this.mirror(-bytes);
    spareReq = req;
    req.transport = null;
    // Emptied keeping its backing store, as util/array.ts's emptyArray does (this folder imports no other).
    if (q.length > 8) q.length = 0;
    else while (q.length > 0) q.pop();
    if (cbs !== null) process.nextTick(callCallbacks, cbs, null);
    if (this.needDrain && this.writingBytes === 0 && this.queuedBytes === 0) process.nextTick(drained, this);
  }

  // --- reading ---

  /** Stops reading (readStop) until `resume()`. The shell reads as paused (see `markPaused()`). */
  pause(): void {
    this.paused = true;
    if (this.reading) {
      this.reading = false;
      this.handle.readStop();
    }
    this.markPaused();
  }

  /** Reads again; the shell flows again and emits 'resume' (on the next tick), as a resumed net.Socket. */
  resume(): void {
    this.paused = false;
    if (this.started) this.readStart();
    const s = this.shell as NetSocket | null;
    if (this.state === OPEN && s !== null && s._readableState.flowing === false) ReadableProto.resume.call(s);
  }

  /**
   * The owner stopped taking input, whether reading goes on or not (a paused WebSocket reads on up to a
   * high-water mark): the shell now reads as a paused net.Socket — `readableFlowing` false, one 'pause'
   * event — as the socket itself does on the stream path, where the library pauses it. Code waits for
   * that event (ws's own tests do).
   */
  markPaused(): void {
    const s = this.shell;
    if (this.state === OPEN && s !== null) ReadableProto.pause.call(s);
  }

  private readStart(): void {
    if (this.reading || this.readEnded || this.state !== OPEN) return;
    const err = this.handle.readStart();
    if (err !== 0 && err !== UV_ENOTCONN) {
      this.fail(errnoError(err, 'read'));
      return;
    }
    this.reading = true;
  }

  /** @internal A read callback with `nread` bytes at the start of the shared buffer / in `ab`. */
  received(chunk: Buffer): void {
    if (this.idleTimer !== null) this.idleTimer.refresh();
    const owner = this.owner as TransportOwner;
    // Replies made while this chunk is handled leave together, in one writev, when it is done.
    this.corked++;
    try {
      if (this.tapData) (this.shell as net.Socket).emit('data', this.readMode === 'view' ? Buffer.from(chunk) : chunk);
      else owner.onTransportData(chunk);
    } finally {
      // (The owner may have uncorked fully meanwhile, to hand its writes over at once.)
      if (this.corked > 0 && --this.corked === 0) this.flush();
    }
  }

  /** @internal The peer's FIN. */
  eof(): void {
    this.readEnded = true;
    this.reading = false;
    if (this.owner !== null) this.owner.onTransportEnd();
    if (this.state !== OPEN) return;
    // The shell's own 'end', for listeners on it.
    const s = this.shell;
    if (s !== null) {
      s.emit('end');
      if (this.state !== OPEN) return;
    }
    // As a net.Socket would: without allowHalfOpen (net.Server's default) our side ends in turn. An
    // http.Server's sockets allow half-open connections: there the owner decides (the driver ends).
    if (!this.ending && !this.ownerEnds && (!this.allowHalfOpen || this.owner === null)) this.end();
    else if (this.shutdownDone) this.close(false);
  }

  // --- ending ---

  /**
   * Ends our side: flushes what is queued, then shuts the write side down (libuv waits for the writes in
   * flight). The handle is closed once the peer has ended its side too (or on `destroy()`).
   */
  end(): void {
    if (this.ending || this.state !== OPEN) return;
    this.ending = true;
    this.flush();
    if (this.state !== OPEN) return;
    const req = new (binding as StreamWrapBinding).ShutdownWrap();
    req.oncomplete = onShutdownComplete;
    req.transport = this;
    const err = this.handle.shutdown(req);
    if (err === 1 || err === UV_ENOTCONN) {
      // Finished synchronously (Node's net treats both so).
      req.transport = null;
      process.nextTick(shutdownFinished, this);
    } else if (err !== 0) {
      req.transport = null;
      this.fail(errnoError(err, 'shutdown'));
    }
  }

  /** @internal */
  afterShutdown(): void {
    this.shutdownDone = true;
    // The shell's 'finish', as a net.Socket emits it once its FIN is out (createWebSocketStream waits for it).
    const s = this.shell;
    if (this.state === OPEN && s !== null) s.emit('finish');
    if ((this.readEnded || this.closeAfterShutdown) && this.state === OPEN) this.close(false);
  }

  /** Closes the connection now: queued writes fail; `onTransportClose(hadError)` follows. */
  destroy(err?: Error | null): void {
    this.close(err !== undefined && err !== null);
  }

  /** Closes with a TCP RST instead of a FIN (Node's `resetAndDestroy`); a plain close where unsupported. */
  reset(): void {
    if (this.state !== OPEN) return;
    const handle = this.handle;
    if (typeof handle.reset !== 'function') {
      this.close(false);
      return;
    }
    this.beginClose(false);
    if (handle.reset(onHandleClose) !== 0) handle.close(onHandleClose);
  }

  /** @internal A read or write failed: report it once, then close. */
  fail(err: Error): void {
    if (this.state !== OPEN) return;
    // Set first: an owner that destroys the transport from onTransportError still closes with an error.
    this.hadError = true;
    if (!this.errorReported) {
      this.errorReported = true;
      if (this.owner !== null) this.owner.onTransportError(err);
      // ws keeps an 'error' listener on its socket; the shell has at least adopt()'s no-op.
      const s = this.shell;
      if (s !== null) s.emit('error', err);
    }
    this.close(true);
  }

  private close(hadError: boolean): void {
    if (this.state !== OPEN) return;
    this.beginClose(hadError);
    this.handle.close(onHandleClose);
  }

  private beginClose(hadError: boolean): void {
    this.unmirror();
    this.state = CLOSING;
    if (hadError) this.hadError = true;
    this.reading = false;
    if (this.idleTimer !== null) {
      clearTimeout(this.idleTimer);
      this.idleTimer = null;
    }
    // Writes never handed to libuv fail now; those in flight fail (ECANCELED) when the handle closes.
    const cbs = takeCallbacks(this);
    this.queuedBytes = 0;
    if (this.queue !== null) this.queue.length = 0;
    if (cbs !== null) process.nextTick(callCallbacks, cbs, destroyedError());
    // The shell is destroyed at once (as net destroys a socket before its handle is closed): writes to
    // it fail quietly from now on. Its 'close' and the server's bookkeeping wait for the handle.
    const socket = this.shell;
    if (socket !== null && !socket.destroyed) socket.destroy();
  }

  /** @internal libuv closed the handle. */
  closed(): void {
    this.state = CLOSED;
    const handle = this.handle;
    const r = rareOf(this);
    r.finalBytesRead = handle.bytesRead;
    r.finalBytesWritten = handle.bytesWritten;
    handle[kTransport] = undefined;
    // The shell: the server counts the connection out (server.close() may complete) and its 'close'
    // listeners hear it, on the next tick (net.Socket's own _destroy, with no handle left to close).
    const shell = this.shell;
    if (shell !== null) {
      (SocketProto as unknown as { _destroy(err: Error | null, cb: (err?: Error | null) => void): void })._destroy.call(shell, null, noop);
    }
    // Accepted on the listening handle: the count is ours to keep, as net.Socket's _destroy keeps it.
    const server = this.server as (net.Server & { _connections: number; _emitCloseIfDrained?: () => void }) | null;
    if (server !== null) {
      this.server = null;
      server._connections--;
      if (typeof server._emitCloseIfDrained === 'function') server._emitCloseIfDrained();
    }
    const owner = this.owner;
    if (owner !== null) owner.onTransportClose(this.hadError);
  }

  /** @internal */
  afterWrite(req: WriteReq, status: number): void {
    this.writingBytes -= req.bytes;
    this.mirror(-req.bytes);
    const cbs = req.cbs;
    req.cbs = null;
    req.data = null;
    req.transport = null;
    if (status < 0) {
      const err = this.state !== OPEN ? destroyedError() : errnoError(status, 'write');
      if (cbs !== null) callCallbacks(cbs, err);
      this.fail(err);
      return;
    }
    if (this.idleTimer !== null) this.idleTimer.refresh();
    if (cbs !== null) callCallbacks(cbs, null);
    if (this.needDrain && this.writingBytes === 0 && this.queuedBytes === 0 && this.state === OPEN) drained(this);
  }

  /**
   * The net.Socket that stands for this connection (`ws._socket`, `req.socket`): the one it was adopted
   * from, or — accepted on the listening handle — one made now, once, and brought up to date (bytes
   * buffered, paused, ended, closed). Its methods act on this transport, as an adopted socket's do.
   */
  shellSocket(): net.Socket {
    const existing = this.shell;
    if (existing !== null) return existing;
    const open = this.state === OPEN;
    // Made as net.Server makes an accepted connection's socket, on the handle (an async id of its own,
    // its address cache); a handle closing or closed is not touched.
    const s = (open
      ? new net.Socket({ handle: this.handle as never, allowHalfOpen: this.allowHalfOpen, readable: true, writable: true, manualStart: true } as net.SocketConstructorOpts)
      : new net.Socket({ allowHalfOpen: this.allowHalfOpen })) as NetSocket;
    // net's constructor pointed the handle's reads at itself: they stay the transport's.
    if (open) this.handle.onread = onRead;
    this.shell = s;
    if (this.server !== null) (s as unknown as { server: net.Server }).server = this.server;
    becomeShell(s, this);
    if (!open) {
      s.destroy();
      return s;
    }
    // Up to date: what is buffered here (see mirror()), input held back, either side ended.
    s._writableState.length += this.bufferedBytes;
    const o = this.owner;
    if (this.paused || (o !== null && o.isInputPaused !== undefined && o.isInputPaused())) ReadableProto.pause.call(s);
    if (this.readEnded) {
      s._readableState.ended = true;
      s._readableState.endEmitted = true;
    }
    if (this.ending) {
      const w = s._writableState as NetSocket['_writableState'] & { ending: boolean; finished: boolean };
      w.ending = w.ended = true;
      w.finished = this.shutdownDone;
    }
    return s;
  }

  // --- socket options ---

  setNoDelay(enable: boolean): void {
    const handle = this.handle;
    if (this.state === OPEN && typeof handle.setNoDelay === 'function') handle.setNoDelay(enable);
  }

  setKeepAlive(enable: boolean, initialDelayMs: number): void {
    const handle = this.handle;
    if (this.state === OPEN && typeof handle.setKeepAlive === 'function') {
      handle.setKeepAlive(enable, Math.trunc(initialDelayMs / 1000));
    }
  }

  ref(): void {
    if (this.state === OPEN) this.handle.ref();
  }

  unref(): void {
    if (this.state === OPEN) this.handle.unref();
  }

  /** Node's socket.setTimeout: 'timeout' on the shell after `ms` without a read or a write (0: off). */
  setIdleTimeout(ms: number): void {
    if (this.idleTimer !== null) {
      clearTimeout(this.idleTimer);
      this.idleTimer = null;
    }
    if (ms > 0 && this.state === OPEN) {
      this.idleTimer = setTimeout(onIdle, ms, this);
      this.idleTimer.unref();
    }
  }
}

// --- module-level callbacks (no closures per connection) -------------------------------------------------

/** Write requests whose write completed synchronously never reach C++: one is kept for the next write. */
let spareReq: WriteReq | null = null;

function newWriteReq(): WriteReq {
  const req = new (binding as StreamWrapBinding).WriteWrap();
  req.oncomplete = onWriteComplete;
  req.transport = null;
  req.data = null;
  req.cbs = null;
  req.bytes = 0;
  return req;
}

function onWriteComplete(this: WriteReq, status: number): void {
  const t = this.transport;
  if (t !== null) t.afterWrite(this, status);
}

function onShutdownComplete(this: ShutdownReq): void {
  const t = this.transport;
  this.transport = null;
  if (t !== null) t.afterShutdown();
}

function shutdownFinished(t: TcpTransport): void {
  t.afterShutdown();
}

function onHandleClose(this: StreamHandle): void {
  const t = this[kTransport];
  if (t !== undefined) t.closed();
}

/** The handle's onread: `this` is the handle; the count (or error) is in streamBaseState. */
function onRead(this: StreamHandle, ab?: ArrayBuffer): Buffer | undefined {
  const t = this[kTransport];
  if (t === undefined || t.state !== OPEN) return undefined;
  const nread = streamState[kReadBytesOrError];
  if (nread > 0) {
    let chunk: Buffer;
    let bulk: Buffer | null = null;
    let handedOver = false;
    const copyMode = ab === undefined && t.readMode === 'copy';
    if (ab !== undefined) {
      chunk = Buffer.from(ab, streamState[kArrayBufferOffset], nread);
    } else if (copyMode) {
      bulk = t.bulkBuffer;
      if (bulk !== null && (nread >= bulk.length >>> 1 || t.readsInPlace)) {
        // The read went into a buffer of this connection's own, at least half filled, or into the
        // owner's payload buffer (readInto): it is the chunk.
        chunk = nread === bulk.length ? bulk : bulk.subarray(0, nread);
        handedOver = true;
      } else {
        chunk = Buffer.allocUnsafe(nread);
        (bulk !== null ? bulk : (readBuffer as Buffer)).copy(chunk, 0, 0, nread);
      }
    } else {
      chunk = (readBuffer as Buffer).subarray(0, nread);
    }
    if (t.isStarted) t.received(chunk);
    else t.readBeforeStart(nread, chunk);
    // Returning anything but undefined installs it as the next read buffer (useUserBuffer). A buffer that
    // was handed over is always replaced: the next read must not land in bytes the owner holds.
    if (copyMode && (bulk !== null || nread >= BULK_READ_HINT)) return t.nextReadBuffer(handedOver);
    return undefined;
  }
  if (nread === 0) return undefined;
  if (!t.isStarted) t.readBeforeStart(nread, null);
  else if (nread === UV_EOF) t.eof();
  else t.fail(errnoError(nread, 'read'));
  return undefined;
}

/**
 * What few connections need, off the transport object so that an idle one does not carry it: bytes
 * delivered before the first read (an upgrade's head), an idle timer (the shell's setTimeout), the FIN
 * or read error of a handle read before `start()`, and the byte counts once the handle is gone.
 */
class TransportRare {
  head: Buffer | null = null;
  /** The read buffer of this connection's own while a large message comes in (see bulkReadSize). */
  bulk: Buffer | null = null;
  /** `bulk` is a view of the owner's payload buffer (readInto), not a buffer of ours. */
  inPlace = false;
  idleTimer: NodeJS.Timeout | null = null;
  /** A read callback's status (UV_EOF or an error) that came before start(); 0: none. */
  earlyStatus = 0;
  finalBytesRead = 0;
  finalBytesWritten = 0;
}

function rareOf(t: TcpTransport): TransportRare {
  // (A private field read from outside the class: this helper is the one place that makes it.)
  const o = t as unknown as { rare: TransportRare | null };
  if (o.rare === null) o.rare = new TransportRare();
  return o.rare;
}

function deliverEarlyStatus(t: TcpTransport, nread: number): void {
  if (t.state !== OPEN) return;
  if (nread === UV_EOF) t.eof();
  else t.fail(errnoError(nread, 'read'));
}

function deliverHead(t: TcpTransport): void {
  const head = t.head;
  t.head = null;
  if (head !== null && t.state === OPEN) t.received(head);
}

function lateClose(t: TcpTransport): void {
  if (t.owner !== null) t.owner.onTransportClose(t.closedWithError);
}

function drained(t: TcpTransport): void {
  if (!t.needDrain || t.state !== OPEN || t.bufferedBytes !== 0) return;
  t.needDrain = false;
  if (t.owner !== null) t.owner.onTransportDrain();
}

function onIdle(t: TcpTransport): void {
  t.idleTimer = null;
  const s = t.shell;
  if (t.state === OPEN && s !== null) s.emit('timeout');
}

function takeCallbacks(t: TcpTransport): WriteCallback | WriteCallback[] | null {
  const cbs = t.queueCbs;
  if (cbs === null || cbs.length === 0) return null;
  t.queueCbs = null;
  return cbs.length === 1 ? cbs[0] : cbs;
}

function callCallbacks(cbs: WriteCallback | WriteCallback[], err: Error | null): void {
  if (typeof cbs === 'function') {
    cbs(err);
    return;
  }
  for (let i = 0; i < cbs.length; i++) cbs[i](err);
}

function errnoError(errno: number, syscall: string): NodeJS.ErrnoException {
  let code: string;
  try {
    code = getSystemErrorName(errno);
  } catch {
    code = `E${-errno}`;
  }
  const err = new Error(`${syscall} ${code}`) as NodeJS.ErrnoException;
  err.errno = errno;
  err.code = code;
  err.syscall = syscall;
  return err;
}

function destroyedError(): Error {
  const err = new Error('Cannot call write after a stream was destroyed') as NodeJS.ErrnoException;
  err.code = 'ERR_STREAM_DESTROYED';
  return err;
}

function writeAfterEndError(): Error {
  const err = new Error('write after end') as NodeJS.ErrnoException;
  err.code = 'ERR_STREAM_WRITE_AFTER_END';
  return err;
}

function noop(): void {}

let defaultHighWaterMark = 0;

/** A net.Socket's writableHighWaterMark by default (16 KiB before Node 22, 64 KiB from it). */
function socketHighWaterMark(): number {
  if (defaultHighWaterMark === 0) {
    const get = (stream as { getDefaultHighWaterMark?: (objectMode: boolean) => number }).getDefaultHighWaterMark;
    defaultHighWaterMark = typeof get === 'function' ? get(false) : 16 * 1024;
  }
  return defaultHighWaterMark;
}

// --- the shell: the net.Socket left behind ------------------------------------------------------------------

const SocketProto = net.Socket.prototype as net.Socket & Record<string, unknown>;
/** Readable's own pause()/resume(): the shell's flowing state and its 'pause'/'resume' events, nothing else. */
const ReadableProto = stream.Readable.prototype;

type Shell = NetSocket & Record<string, unknown>;

function transportOfShell(s: Shell): TcpTransport | undefined {
  return s[kTransport];
}

/** Bytes in the shell's own Writable (written through it, not yet handed on), without the mirror. */
function writableOwnLength(s: Shell, t: TcpTransport): number {
  const length = s._writableState.length;
  return t.mirrored ? length - t.bufferedBytes : length;
}

/**
 * The shell's `_getpeername`/`_getsockname`, as net.Socket's: read from the handle once, then cached in
 * the slot net uses (`_peername`, `_sockname`); `{}` when it cannot be read.
 */
function cachedAddress(s: Shell, slot: '_peername' | '_sockname'): SockAddr {
  const cached = s[slot] as SockAddr | null | undefined;
  if (cached) return cached;
  const t = transportOfShell(s);
  const out = t === undefined ? null : slot === '_peername' ? t.peerAddress() : t.sockAddress();
  if (out === null) return {};
  s[slot] = out;
  return out;
}

/** A method of the shell's prototype: writable and configurable, as a class's own methods are. */
function method(value: (...args: never[]) => unknown): PropertyDescriptor {
  return { value, writable: true, configurable: true };
}

/** An accessor of the shell's prototype (read-only, configurable). */
function getter(get: () => unknown): PropertyDescriptor {
  return { get, configurable: true };
}

/**
 * The prototype an adopted socket is switched to: net.Socket's, with what needs the handle redirected to
 * the transport. Nothing per connection: the methods find their transport through a field.
 */
const DetachedSocketProto: Record<string, unknown> = Object.create(SocketProto, {
  // Reading belongs to the transport (net's _read would wait for a 'connect' that never comes).
  _read: method(noop),
  _write: method(function _write(this: Shell, chunk: Buffer | string, encoding: BufferEncoding, cb: WriteCallback): void {
    const t = transportOfShell(this);
    if (t === undefined) {
      cb(destroyedError());
      return;
    }
    t.unmirror();
    // net.Socket keeps strings as they are (decodeStrings: false): they are encoded here.
    t.write(typeof chunk === 'string' ? Buffer.from(chunk, encoding) : chunk, null, cb);
  }),
  _writev: method(function _writev(this: Shell, chunks: { chunk: Buffer | string; encoding: BufferEncoding }[], cb: WriteCallback): void {
    const t = transportOfShell(this);
    if (t === undefined) {
      cb(destroyedError());
      return;
    }
    t.unmirror();
    t.cork();
    for (let i = 0; i < chunks.length; i++) {
      const { chunk, encoding } = chunks[i];
      t.write(typeof chunk === 'string' ? Buffer.from(chunk, encoding) : chunk, null, i === chunks.length - 1 ? cb : undefined);
    }
    t.uncork();
  }),
  _final: method(function _final(this: Shell, cb: WriteCallback): void {
    const t = transportOfShell(this);
    if (t !== undefined) t.end();
    cb();
  }),
  // The user destroyed the shell (socket.destroy(), server shutdown code): close the connection. The
  // shell's 'close' and the server's count follow when the handle is closed (TcpTransport.closed).
  _destroy: method(function _destroy(this: Shell, err: Error | null, cb: WriteCallback): void {
    const t = transportOfShell(this);
    if (t !== undefined && t.state === OPEN) t.destroy(err);
    cb(err);
  }),
  _getpeername: method(function _getpeername(this: Shell): SockAddr {
    return cachedAddress(this, '_peername');
  }),
  _getsockname: method(function _getsockname(this: Shell): SockAddr {
    return cachedAddress(this, '_sockname');
  }),
  setNoDelay: method(function setNoDelay(this: Shell, enable?: boolean): Shell {
    const t = transportOfShell(this);
    if (t !== undefined) t.setNoDelay(enable === undefined ? true : !!enable);
    return this;
  }),
  setKeepAlive: method(function setKeepAlive(this: Shell, enable?: boolean | number, initialDelay?: number): Shell {
    const t = transportOfShell(this);
    if (typeof enable === 'number') {
      initialDelay = enable;
      enable = false;
    }
    if (t !== undefined) t.setKeepAlive(!!enable, initialDelay === undefined ? 0 : initialDelay);
    return this;
  }),
  setTimeout: method(function setTimeout(this: Shell, ms: number, cb?: () => void): Shell {
    const t = transportOfShell(this);
    if (t !== undefined) t.setIdleTimeout(ms);
    if (cb !== undefined) {
      if (ms === 0) this.removeListener('timeout', cb);
      else this.once('timeout', cb);
    }
    return this;
  }),
  ref: method(function ref(this: Shell): Shell {
    const t = transportOfShell(this);
    if (t !== undefined) t.ref();
    return this;
  }),
  unref: method(function unref(this: Shell): Shell {
    const t = transportOfShell(this);
    if (t !== undefined) t.unref();
    return this;
  }),
  resetAndDestroy: method(function resetAndDestroy(this: Shell): Shell {
    const t = transportOfShell(this);
    if (t !== undefined) t.reset();
    else this.destroy();
    return this;
  }),
  bytesRead: getter(function bytesRead(this: Shell): number {
    const t = transportOfShell(this);
    return t !== undefined ? t.bytesRead : 0;
  }),
  bytesWritten: getter(function bytesWritten(this: Shell): number {
    const t = transportOfShell(this);
    return t !== undefined ? t.bytesWritten + writableOwnLength(this, t) : 0;
  }),
  bufferSize: getter(function bufferSize(this: Shell): number {
    const t = transportOfShell(this);
    return t !== undefined ? t.bufferedBytes + writableOwnLength(this, t) : this._writableState.length;
  }),
  writableLength: getter(function writableLength(this: Shell): number {
    const t = transportOfShell(this);
    return t !== undefined ? t.bufferedBytes + writableOwnLength(this, t) : this._writableState.length;
  }),
  // The shell's Writable finishes only once its `length` is its own (see TcpTransport.mirror).
  end: method(function end(this: Shell, ...args: unknown[]): Shell {
    const t = transportOfShell(this);
    if (t !== undefined) t.unmirror();
    return (SocketProto.end as (...a: unknown[]) => Shell).apply(this, args);
  }),
  // net's `pending` is "no handle or connecting": an adopted socket is connected.
  pending: getter(function pending(this: Shell): boolean {
    return false;
  }),
  // Pausing belongs to the transport (and its owner): Readable's own flags would say nothing about reads.
  isPaused: method(function isPaused(this: Shell): boolean {
    const t = transportOfShell(this);
    if (t === undefined) return (SocketProto.isPaused as () => boolean).call(this);
    const o = t.owner;
    return t.isPaused || (o !== null && o.isInputPaused !== undefined && o.isInputPaused());
  }),
  pause: method(function pause(this: Shell): Shell {
    const t = transportOfShell(this);
    if (t !== undefined) t.pause();
    return (SocketProto.pause as () => Shell).call(this);
  }),
  resume: method(function resume(this: Shell): Shell {
    const t = transportOfShell(this);
    // Only an explicit pause of the shell is undone: Readable's on('data') calls resume() too, and must
    // not restart a transport its owner paused.
    if (t !== undefined && this._readableState.flowing === false) t.resume();
    return (SocketProto.resume as () => Shell).call(this);
  }),
  // Bytes pushed into the shell (a test hack in ws's suite; proxies that unshift a head) reach the owner.
  push: method(function push(this: Shell, chunk: Buffer | string | null, encoding?: BufferEncoding): boolean {
    const t = transportOfShell(this);
    if (t === undefined || t.state !== OPEN) return (SocketProto.push as (c: unknown, e?: BufferEncoding) => boolean).call(this, chunk, encoding);
    if (chunk === null) {
      t.injectEnd();
      return false;
    }
    t.inject(typeof chunk === 'string' ? Buffer.from(chunk, encoding) : chunk);
    return true;
  }),
  unshift: method(function unshift(this: Shell, chunk: Buffer | string | null, encoding?: BufferEncoding): void {
    const t = transportOfShell(this);
    if (t === undefined || t.state !== OPEN || chunk === null) {
      (SocketProto.unshift as (c: unknown, e?: BufferEncoding) => void).call(this, chunk, encoding);
      return;
    }
    t.inject(typeof chunk === 'string' ? Buffer.from(chunk, encoding) : chunk);
  }),
  on: method(shellOn),
  addListener: method(shellOn),
  prependListener: method(function prependListener(this: Shell, event: string | symbol, listener: (...args: unknown[]) => void): Shell {
    tapIfData(this, event);
    return (SocketProto.prependListener as (e: string | symbol, l: unknown) => Shell).call(this, event, listener);
  }),
});

function shellOn(this: Shell, event: string | symbol, listener: (...args: unknown[]) => void): Shell {
  tapIfData(this, event);
  return (SocketProto.on as (e: string | symbol, l: unknown) => Shell).call(this, event, listener);
}

/**
 * A 'data' listener on the shell gets every read too, as on a net.Socket, in its place among the
 * listeners: with the first one, the owner's own listener (shellData) goes in first, standing where the
 * library's listener on its socket would stand — prepended listeners run before it, added ones after.
 */
function tapIfData(s: Shell, event: string | symbol): void {
  if (event !== 'data') return;
  const t = transportOfShell(s);
  if (t === undefined || t.tapData) return;
  t.tapData = true;
  (SocketProto.on as (e: string, l: unknown) => Shell).call(s, 'data', shellData);
}

/** The owner's place among the shell's 'data' listeners, once someone else listens too. */
function shellData(this: Shell, chunk: Buffer): void {
  const t = transportOfShell(this);
  if (t !== undefined && t.state === OPEN && t.owner !== null) t.owner.onTransportData(chunk);
}

// --- accepted on the listening handle ---------------------------------------------------------------------

/** @internal In a handle's onread: the bytes read (or a negative errno, UV_EOF for the peer's FIN). */
export function lastReadStatus(): number {
  return streamState[kReadBytesOrError];
}

/** @internal In a handle's onread given an ArrayBuffer: where the bytes start in it. */
export function lastReadOffset(): number {
  return streamState[kArrayBufferOffset];
}

/**
 * @internal A transport for a connection accepted on the listening handle (transport/accept.ts), before
 * any net.Socket: `handle` is a connected TCP handle (reading or not), `head` the bytes read past the
 * request head, `server` the one whose connection count holds it (the transport counts it out when it
 * closes). As an http.Server's connection, it allows half-open (the driver ends our side after the
 * peer's FIN). The net.Socket (`shellSocket()`) is made when someone asks for it.
 */
export function acceptedTransport(handle: object, server: net.Server, head: Buffer | null): TcpTransport {
  const h = handle as StreamHandle;
  const t = new TcpTransport(h, null, 'copy', head !== null && head.length > 0 ? head : null, true);
  t.server = server;
  if (h.reading === true) t.adoptedReading();
  h[kTransport] = t;
  h.onread = onRead;
  h.useUserBuffer(sharedReadBuffer());
  return t;
}

// --- adoption ------------------------------------------------------------------------------------------------

const HTTP_LISTENER_WRAPPERS = ['on', 'addListener', 'prependListener'];

/** The transport an adopted socket (its shell) belongs to, if any. */
export function transportOf(socket: object): TcpTransport | null {
  const t = (socket as { [kTransport]?: TcpTransport })[kTransport];
  return t === undefined ? null : t;
}

/**
 * Takes the handle out of `socket` (a connected, plain-TCP or Unix-socket `net.Socket`, e.g. the one an
 * http.Server's 'upgrade' hands over after the 101 was written) and returns a transport that owns it, not
 * yet reading (call `start(owner)`), with `head` and any bytes the socket had read but not delivered to be
 * delivered first. Returns null — the socket untouched — when it cannot:
 * - the handle internals are unavailable (see `tcpHandleUnavailable()`);
 * - `socket` is not exactly a net.Socket (a tls.TLSSocket, a subclass, any other Duplex), or its handle is
 *   not a TCP or Pipe stream handle;
 * - it is connecting, destroyed, ended in either direction, or has bytes not yet written (a corked or
 *   pending write: they would have to leave before anything the transport writes);
 * - it has 'data' or 'readable' listeners (someone else reads it), a decoder (setEncoding) or objectMode,
 *   or an HTTP parser still attached (http.Server detaches its parser before 'upgrade').
 */
export function adopt(socket: net.Socket, head?: Buffer | null, options?: AdoptOptions): TcpTransport | null {
  if (tcpHandleUnavailable() !== null) return null;
  if (socket === null || typeof socket !== 'object' || Object.getPrototypeOf(socket) !== SocketProto) return null;
  const s = socket as NetSocket;
  const handle = s._handle;
  if (handle === null || handle === undefined || typeof handle !== 'object') return null;
  const kind = (handle as { constructor?: { name?: string } }).constructor?.name;
  if (kind !== 'TCP' && kind !== 'Pipe') return null;
  if (
    typeof handle.readStart !== 'function' ||
    typeof handle.readStop !== 'function' ||
    typeof handle.useUserBuffer !== 'function' ||
    typeof handle.writeBuffer !== 'function' ||
    typeof handle.writev !== 'function' ||
    typeof handle.shutdown !== 'function' ||
    typeof handle.close !== 'function'
  ) {
    return null;
  }
  if (s.connecting || s.destroyed || !s.readable || !s.writable) return null;
  const rs = s._readableState;
  const ws = s._writableState;
  if (rs === undefined || ws === undefined || rs.ended || rs.endEmitted || rs.decoder || rs.objectMode) return null;
  if (ws.ended || ws.length !== 0 || s.writableCorked !== 0) return null;
  if (s.listenerCount('data') !== 0 || s.listenerCount('readable') !== 0) return null;
  // An HTTP parser still attached may be consuming the handle's reads (http.Server frees it on upgrade).
  if ((s as { parser?: unknown }).parser != null) return null;

  const readMode: ReadMode = options !== undefined && options.read !== undefined ? options.read : 'copy';

  // Bytes the socket read after the handshake and still holds: they go first (after `head`).
  let bytes: Buffer | null = head !== undefined && head !== null && head.length > 0 ? head : null;
  if (rs.length !== 0) {
    const buffered = s.read() as Buffer | null;
    if (buffered !== null && buffered.length > 0) bytes = bytes === null ? buffered : Buffer.concat([bytes, buffered]);
  }

  // The socket's idle timer would fire on a connection it no longer sees.
  s.setTimeout(0);

  const t = new TcpTransport(handle, socket, readMode, bytes);

  // Take the handle over: no reads reach net.Socket's onStreamRead from now on. A handle that is reading
  // (an upgraded socket's is) is left reading — a readStop and a readStart would cost two epoll_ctl
  // calls per connection (libuv's re-add fails with EEXIST and is retried as a modify); a read that comes
  // before start() stops it again (readBeforeStart).
  if (handle.reading === true) t.adoptedReading();
  handle[kTransport] = t;
  handle.onread = onRead;
  if (readMode !== 'alloc') handle.useUserBuffer(sharedReadBuffer());

  // The shell. http.Server gave the socket its own on/addListener/prependListener (to take its parser
  // off the handle when someone listens for 'data'); with the parser gone they only shadow ours.
  // (Overwritten with the shell's own rather than deleted: a delete would turn every socket's properties
  // into a dictionary of its own, and give each socket its own hidden class.)
  for (const name of HTTP_LISTENER_WRAPPERS) {
    if (Object.prototype.hasOwnProperty.call(s, name)) (s as unknown as Record<string, unknown>)[name] = DetachedSocketProto[name];
  }
  becomeShell(s, t);
  return t;
}

/** Turns `s` into `t`'s shell: its handle-bound methods act on the transport from now on. */
function becomeShell(s: NetSocket, t: TcpTransport): void {
  s._handle = null;
  s[kTransport] = t;
  // The shell flows, as a socket read through a 'data' listener does (ws's own is: `readableFlowing` true).
  s._readableState.flowing = true;
  Object.setPrototypeOf(s, DetachedSocketProto);
  // As ws does with its sockets: an error the shell emits never becomes an uncaught exception.
  s.on('error', noop);
}
