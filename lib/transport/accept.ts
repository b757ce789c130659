/**
 * Accepting on the listening handle: a server's new connections are taken from its TCP handle before
 * net.Server makes a net.Socket for them, and their first bytes — the request head — are read on the
 * raw handle. An acceptor (the WebSocketServer in `accept: 'handle'` mode) looks at each complete head:
 * a WebSocket upgrade it takes becomes a TcpTransport with no net.Socket at all (one is made only when
 * user code asks for `ws._socket` or `req.socket`); anything else — a plain request, a malformed or
 * unusual one, a head that is slow to come or too large — is handed to the http.Server as if it had
 * accepted the connection itself, with the bytes read so far put back in front, so that Node's own
 * parser answers it exactly as it always does. (docs/accept-on-handle.md says why and what it costs.)
 *
 * Node internals used, beside those of tcp-handle.ts: the listening handle's `onconnection(err, handle)`
 * (replaced while hooked; the original is called for every connection handed over), net.Server's
 * `_connections` count, the accepted handle's `readStart`/`readStop`/`onread`/`reading`, and the http
 * server's `_consumed` flag on a handle (set on a handed-over one, so that http reads it through the
 * socket, behind the bytes put back, instead of consuming the handle from C++).
 */
import * as http from 'http';
import * as net from 'net';
import { acceptedTransport, lastReadOffset, lastReadStatus, tcpHandleUnavailable, type TcpTransport } from './tcp-handle';

/** libuv's UV_EOF. */
const UV_EOF = -4095;
/** A head not complete this long after the connection came (two sweeps) goes to the http.Server. */
const SWEEP_MS = 2000;
/**
 * A head not complete after this many reads goes to the http.Server too: a client's head comes in one
 * or two, and the bytes read so far are joined at each read (Node's parser takes a trickle in its stride).
 */
const MAX_HEAD_READS = 8;

interface ListenHandle {
  onconnection: (this: ListenHandle, err: number, client?: ClientHandle) => void;
  [kHook]?: AcceptHook;
}

interface ClientHandle {
  /** (C++ takes only a function here.) */
  onread: (this: ClientHandle, ab?: ArrayBuffer) => unknown;
  reading: boolean;
  readStart(): number;
  readStop(): number;
  close(cb?: () => void): void;
  setNoDelay?(on: boolean): number;
  _consumed?: boolean;
  [kPending]?: PendingAccept;
}

type CountedServer = net.Server & { _connections: number; _emitCloseIfDrained?: () => void; maxConnections?: number | null };

const kHook = Symbol('weft-accept-hook');
const kPending = Symbol('weft-accept-pending');

/** What decides about a complete request head. */
export interface HeadAcceptor {
  /**
   * The head of a connection accepted on the handle is in `bytes[0, end)` (bytes past `end` came with
   * it). Return true after taking the connection (`take()`), false to hand it to the http.Server.
   */
  onRequestHead(pending: PendingAccept, bytes: Buffer, end: number): boolean;
}

/** A connection accepted on the listening handle whose request head is not complete yet. */
export class PendingAccept {
  readonly handle: ClientHandle;
  readonly hook: AcceptHook;
  /** The bytes read so far. */
  bytes: Buffer | null = null;
  /** Reads so far. */
  reads = 0;
  /** Its place in the hook's list of pending connections (-1: not in it). */
  index = -1;
  /** The sweep during which it came (see AcceptHook.sweep). */
  sweep: number;
  constructor(handle: ClientHandle, hook: AcceptHook) {
    this.handle = handle;
    this.hook = hook;
    this.sweep = hook.sweeps;
  }

  /**
   * The acceptor takes the connection: a transport on its handle, no net.Socket, with the bytes after
   * the head (`bytes[end...]`) to be delivered first. It stays in the server's connection count.
   */
  take(bytes: Buffer, end: number): TcpTransport {
    this.hook.forget(this);
    return acceptedTransport(this.handle, this.hook.server, end < bytes.length ? bytes.subarray(end) : null);
  }
}

/** One server's hook on its listening handle. */
export class AcceptHook {
  readonly server: CountedServer;
  readonly acceptor: HeadAcceptor;
  private readonly listen: ListenHandle;
  /** @internal The listening handle's own onconnection (net's), for the connections handed over. */
  readonly original: ListenHandle['onconnection'];
  /** Connections whose head is being read (each knows its index: removed by swapping the last in). */
  private readonly pending: PendingAccept[] = [];
  private timer: NodeJS.Timeout | null = null;
  /** Sweeps done (a pending connection older than one full sweep is handed over). */
  sweeps = 0;
  /** A connection being handed over, and the bytes to put back in front of its socket. */
  private handing: ClientHandle | null = null;
  private handingBytes: Buffer | null = null;
  private handingEnd = false;
  private readonly onSocket: (socket: net.Socket) => void;

  constructor(server: CountedServer, listen: ListenHandle, acceptor: HeadAcceptor) {
    this.server = server;
    this.acceptor = acceptor;
    this.listen = listen;
    this.original = listen.onconnection;
    const hook = this;
    // The socket net.Server makes for a handed-over connection gets the bytes read so far back, before
    // the http.Server's own 'connection' listener starts reading it.
    this.onSocket = function putBack(socket: net.Socket): void {
      const h = hook.handing;
      if (h === null || (socket as unknown as { _handle: unknown })._handle !== h) return;
      const bytes = hook.handingBytes;
      hook.handing = hook.handingBytes = null;
      if (bytes !== null && bytes.length > 0) socket.unshift(bytes);
      if (hook.handingEnd) socket.push(null);
    };
    server.prependListener('connection', this.onSocket);
    listen[kHook] = this;
    listen.onconnection = onConnection;
  }

  /** How many connections are reading their head. */
  get pendingCount(): number {
    return this.pending.length;
  }

  /** Whether the next connection is read here (no one else watches the server's connections). */
  takesConnections(): boolean {
    const server = this.server;
    if (server.maxConnections != null && server._connections >= server.maxConnections) return false;
    // http.Server's own listener and ours: a user's 'connection' listener expects every connection.
    return server.listenerCount('connection') === 2;
  }

  /** @internal A new connection: count it in, as net.Server would, and read its head. */
  accepted(handle: ClientHandle): void {
    this.server._connections++;
    // As http.Server does for every connection (noDelay defaults to true there).
    if (typeof handle.setNoDelay === 'function') handle.setNoDelay(true);
    const p = new PendingAccept(handle, this);
    handle[kPending] = p;
    handle.onread = onHeadRead;
    p.index = this.pending.length;
    this.pending.push(p);
    if (this.timer === null) {
      this.timer = setInterval(sweep, SWEEP_MS, this);
      this.timer.unref();
    }
    const err = handle.readStart();
    if (err !== 0) {
      this.drop(p);
      return;
    }
    handle.reading = true;
  }

  /** @internal No longer pending (taken, handed over or gone). */
  forget(p: PendingAccept): void {
    p.handle[kPending] = undefined;
    const list = this.pending;
    const i = p.index;
    if (i < 0 || list[i] !== p) return;
    const last = list.pop() as PendingAccept;
    if (last !== p) {
      list[i] = last;
      last.index = i;
    }
    p.index = -1;
    if (list.length === 0 && this.timer !== null) {
      clearInterval(this.timer);
      this.timer = null;
    }
  }

  /**
   * @internal Hands the connection to the http.Server, as if net.Server had accepted it just now: with
   * the bytes read so far in front of its socket (and its FIN after them when it came).
   */
  handOver(p: PendingAccept, ended: boolean): void {
    this.forget(p);
    const handle = p.handle;
    if (handle.reading) {
      handle.readStop();
      handle.reading = false;
    }
    handle.onread = ignoreRead;
    this.server._connections--;
    // http then reads through the socket (behind the bytes put back), not from C++ straight off the handle.
    handle._consumed = true;
    this.handing = handle;
    this.handingBytes = p.bytes;
    this.handingEnd = ended;
    try {
      this.original.call(this.listen, 0, handle);
    } finally {
      this.handing = this.handingBytes = null;
      this.handingEnd = false;
    }
  }

  /** @internal The connection failed (or the peer left) before its head was complete: close it. */
  drop(p: PendingAccept): void {
    this.forget(p);
    const handle = p.handle;
    handle.onread = ignoreRead;
    handle.close();
    const server = this.server;
    server._connections--;
    if (typeof server._emitCloseIfDrained === 'function') server._emitCloseIfDrained();
  }

  /** @internal Heads still incomplete since the sweep before last go to the http.Server. */
  sweep(): void {
    const due: PendingAccept[] = [];
    for (const p of this.pending) if (p.sweep < this.sweeps) due.push(p);
    this.sweeps++;
    for (const p of due) this.handOver(p, false);
  }

  /**
   * Stops accepting here (the server is closing): the listening handle's own callback is back, and the
   * connections still reading their head go to the http.Server (whose close() then ends the idle ones).
   */
  detach(): void {
    if (this.listen.onconnection === onConnection) this.listen.onconnection = this.original;
    this.listen[kHook] = undefined;
    for (const p of this.pending.slice()) this.handOver(p, false);
    this.server.removeListener('connection', this.onSocket);
  }
}

/**
 * Hooks `server`'s listening handle (call once it listens) so that `acceptor` sees each new connection's
 * request head first. Returns null, leaving the server as it is, where this cannot be done: Node's
 * internals are unavailable (see tcpHandleUnavailable), the server is not listening on a TCP handle of
 * its own (a cluster worker's handle belongs to the primary), or it is hooked already.
 */
export function acceptOnHandle(server: net.Server, acceptor: HeadAcceptor): AcceptHook | null {
  if (tcpHandleUnavailable() !== null) return null;
  const listen = (server as unknown as { _handle?: ListenHandle | null })._handle;
  if (listen === null || listen === undefined || typeof listen.onconnection !== 'function' || listen[kHook] !== undefined) return null;
  if ((listen as { constructor?: { name?: string } }).constructor?.name !== 'TCP') return null;
  if (typeof (server as CountedServer)._connections !== 'number') return null;
  return new AcceptHook(server as CountedServer, listen, acceptor);
}

// --- module-level callbacks ----------------------------------------------------------------------------

function onConnection(this: ListenHandle, err: number, client?: ClientHandle): void {
  const hook = this[kHook];
  if (hook === undefined || err !== 0 || client === undefined || !hook.takesConnections() || typeof client.readStart !== 'function') {
    (hook !== undefined ? hook.original : noop).call(this, err, client);
    return;
  }
  hook.accepted(client);
}

/** The accepted handle's onread while its head is read (Node's allocation: `ab` holds the bytes). */
function onHeadRead(this: ClientHandle, ab?: ArrayBuffer): undefined {
  const p = this[kPending];
  if (p === undefined) return undefined;
  const nread = lastReadStatus();
  const hook = p.hook;
  if (nread > 0 && ab !== undefined) {
    const chunk = Buffer.from(ab, lastReadOffset(), nread);
    const before = p.bytes;
    const bytes = (p.bytes = before === null ? chunk : Buffer.concat([before, chunk]));
    const end = headEnd(bytes, before === null ? 0 : before.length - 3);
    if (end === -1) {
      // Incomplete: wait for more, up to the size Node's parser would take, in a few reads.
      if (++p.reads >= MAX_HEAD_READS || bytes.length > maxHeaderSize(hook.server)) hook.handOver(p, false);
      return undefined;
    }
    // (A head below the size limit is one Node's parser takes: it counts only part of these bytes.)
    if (end === -2 || end >= maxHeaderSize(hook.server) || !hook.acceptor.onRequestHead(p, bytes, end)) {
      if (this[kPending] === p) hook.handOver(p, false);
    }
    return undefined;
  }
  if (nread === 0) return undefined;
  // The peer's FIN, or an error, before a complete head: nothing to answer when nothing came.
  if (nread === UV_EOF && p.bytes !== null) hook.handOver(p, true);
  else hook.drop(p);
  return undefined;
}

function sweep(hook: AcceptHook): void {
  hook.sweep();
}

/** The largest head Node's http parser takes (`maxHeaderSize`, 16 KiB unless configured). */
function maxHeaderSize(server: net.Server): number {
  const own = (server as { maxHeaderSize?: number }).maxHeaderSize;
  if (typeof own === 'number' && own > 0) return own;
  return typeof http.maxHeaderSize === 'number' ? http.maxHeaderSize : 16 * 1024;
}

/**
 * Where a request head ends in `buf` (the index after its blank line), -1 while it is incomplete, -2
 * when a line ends in a bare LF (handed to Node's parser, which decides about it). `from`: where an
 * earlier look stopped, less three bytes.
 */
export function headEnd(buf: Buffer, from: number): number {
  const n = buf.length;
  for (let i = from < 0 ? 0 : from; i < n; i++) {
    if (buf[i] !== 10) continue;
    if (i === 0 || buf[i - 1] !== 13) return -2;
    if (i >= 3 && buf[i - 2] === 10 && buf[i - 3] === 13) return i + 1;
  }
  return -1;
}

function noop(): void {}

/** The onread of a handle between owners (net.Socket installs its own), or being closed. */
function ignoreRead(): undefined {
  return undefined;
}
