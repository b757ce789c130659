/**
 * WebSocket-Node's `connection` (WebSocketConnection) as a thin face over one weft WebSocket: every
 * byte goes through weft's core; this file only translates events, states and close bookkeeping into
 * WebSocket-Node's shapes. weft's events reach the face through module-level listeners that find it
 * in a slot of the socket, so a connection costs no closures.
 */
import { EventEmitter } from 'events';
import type { Duplex } from 'stream';
import { WebSocket } from '../websocket';
import type { Conveniences } from '../socket/conveniences';
import { CLOSE_DESCRIPTIONS, describeCloseCode } from '../protocol/close';
import {
  DEFAULT_MAX_PENDING_AUTO_PONGS,
  MAX_CLOSE_REASON,
  MAX_CONTROL_PAYLOAD,
  ReadyState,
  isValidStatusCode,
  kStatusCode,
} from '../protocol/constants';
import type { WriteCallback } from '../protocol/writer';
import type { ConnectionConfig } from './options';

/** The slot of a NodeSocket (and of its net socket) that holds the connection face. */
export const kConnection = Symbol('weft-websocket-node-connection');

/** WebSocket-Node's connection states. */
export type ConnectionState = 'open' | 'peer_requested_close' | 'ending' | 'closed';

/** A 'message' event: text as a string, binary as a Buffer. */
export type Message = { type: 'utf8'; utf8Data: string } | { type: 'binary'; binaryData: Buffer };

/** A 'frame' event (with `assembleFragments: false`): one data frame, WebSocket-Node's field names. */
export interface Frame {
  fin: boolean;
  rsv1: boolean;
  rsv2: boolean;
  rsv3: boolean;
  /** Whether the frame arrived masked (every client-to-server frame is). */
  mask: boolean;
  /** 1 text, 2 binary (first frame of a message), 0 continuation. */
  opcode: number;
  /** Payload length in bytes. */
  length: number;
  binaryPayload: Buffer;
}

/** How a connection came to be: the details WebSocket-Node copies from the request or the client. */
export interface ConnectionDetails {
  /** The accepted subprotocol, as the server accepted it or the client's server named it. */
  protocol: string | null | undefined;
  /** The protocol version spoken (13, or 8). */
  webSocketVersion: number;
  /** The peer's address (for servers: the request's, X-Forwarded-For included unless ignored). */
  remoteAddress: string | undefined;
  /** The peer's address chain (X-Forwarded-For entries, then the socket's address). */
  remoteAddresses: Array<string | undefined>;
}

/**
 * The weft WebSocket under a WebSocket-Node connection: weft's own class, plus a slot for the face and
 * one override: a heartbeat timeout is reported as WebSocket-Node reports its keepalive drop.
 */
export class NodeSocket extends WebSocket {
  /** @internal The face, once the connection is open. */
  [kConnection]: WebSocketConnection | null = null;
  /** @internal The client still waiting for this socket's handshake. */
  _wsnClient: unknown = null;

  /** Destroys the socket at once (weft's); a heartbeat timeout becomes 1006 'Peer not responding.'. */
  override terminate(): void {
    const conn = this[kConnection];
    // The heartbeat terminates only with a ping outstanding; a face that already chose its close
    // reason (drop, close, failure) keeps it.
    if (conn !== null && !conn._localReason && this._heartbeat !== null && this._heartbeatTicks < 0) {
      conn._setReason(1006, 'Peer not responding.');
    }
    super.terminate();
  }
}

/**
 * A WebSocket-Node connection. Events: `message(Message)`, `frame(Frame)` (with `assembleFragments:
 * false`), `close(reasonCode, description)`, `error(err)` (a socket error, only when listened for), `ping(cancel,
 * data)`, `pong(data)`, `drain`. Created by `request.accept()` and the client's 'connect' event.
 */
export class WebSocketConnection extends EventEmitter {
  static readonly CLOSE_REASON_NORMAL = 1000;
  static readonly CLOSE_REASON_GOING_AWAY = 1001;
  static readonly CLOSE_REASON_PROTOCOL_ERROR = 1002;
  static readonly CLOSE_REASON_UNPROCESSABLE_INPUT = 1003;
  static readonly CLOSE_REASON_RESERVED = 1004;
  static readonly CLOSE_REASON_NOT_PROVIDED = 1005;
  static readonly CLOSE_REASON_ABNORMAL = 1006;
  static readonly CLOSE_REASON_INVALID_DATA = 1007;
  static readonly CLOSE_REASON_POLICY_VIOLATION = 1008;
  static readonly CLOSE_REASON_MESSAGE_TOO_BIG = 1009;
  static readonly CLOSE_REASON_EXTENSION_REQUIRED = 1010;
  static readonly CLOSE_REASON_INTERNAL_SERVER_ERROR = 1011;
  static readonly CLOSE_REASON_TLS_HANDSHAKE_FAILED = 1015;
  /** The standard descriptions of the close codes (weft's table). */
  static readonly CLOSE_DESCRIPTIONS: Readonly<Record<number, string>> = CLOSE_DESCRIPTIONS;

  /** The weft WebSocket carrying this connection (weft's and ws's API, for code that wants both). */
  readonly ws: NodeSocket;
  /** The configuration the connection was created with. */
  readonly config: ConnectionConfig;
  /** The underlying socket (net.Socket or tls.TLSSocket), or null if the handshake never completed. */
  socket: Duplex | null;
  /** The accepted subprotocol (undefined or null when none). */
  protocol: string | null | undefined;
  /** Negotiated extensions: always empty (WebSocket-Node negotiates none). */
  extensions: unknown[];
  /** The peer's address. */
  remoteAddress: string | undefined;
  /** The peer's address chain (X-Forwarded-For entries, then the socket's address). */
  remoteAddresses: Array<string | undefined>;
  /** The protocol version spoken (13, or 8). */
  webSocketVersion: number;
  /** Whether frames this side sends are masked (a client's are). */
  maskOutgoingPackets: boolean;
  /** The close code: -1 while open, then ours (close/drop/failure) or the peer's. */
  closeReasonCode: number;
  /** The close description: null while open, then ours or the peer's reason (or the code's description). */
  closeDescription: string | null | undefined;
  /** Whether 'close' has been emitted. */
  closeEventEmitted: boolean;
  /** @internal This side chose the close reason (close(), drop(), a failure, a socket error). */
  _localReason: boolean;
  /** @internal close() was called: state 'ending'. */
  _ending: boolean;
  /** @internal The owning server face, told when the connection closes. */
  _owner: { _connectionClosed(conn: WebSocketConnection, code: number, description: string | null | undefined): void } | null;
  /** @internal Automatic pongs written but not yet flushed to the network. */
  _pendingPongs: number;
  /** @internal Counts a pong flushed (bound on the first ping: no closure per pong). */
  _pongFlushed: WriteCallback | null;

  /** Wraps an open (or, after a lost handshake, never-opened) weft socket. */
  constructor(ws: NodeSocket, config: ConnectionConfig, details: ConnectionDetails) {
    super();
    this.ws = ws;
    this.config = config;
    this.socket = ws._socket;
    this.protocol = details.protocol;
    this.extensions = [];
    this.remoteAddress = details.remoteAddress;
    this.remoteAddresses = details.remoteAddresses;
    this.webSocketVersion = details.webSocketVersion;
    this.maskOutgoingPackets = !ws._isServer;
    this.closeReasonCode = -1;
    this.closeDescription = null;
    this.closeEventEmitted = false;
    this._localReason = false;
    this._ending = false;
    this._owner = null;
    this._pendingPongs = 0;
    this._pongFlushed = null;

    ws[kConnection] = this;
    ws.on('message', wsOnMessage);
    ws.on('frame', wsOnFrame);
    ws.on('ping', wsOnPing);
    ws.on('pong', wsOnPong);
    ws.on('drain', wsOnDrain);
    ws.on('error', wsOnError);
    ws.on('close', wsOnClose);
    const socket = this.socket as (Duplex & { [kConnection]?: WebSocketConnection }) | null;
    if (socket !== null) {
      socket[kConnection] = this;
      socket.on('error', socketOnError);
      if (config.keepalive && config.useNativeKeepalive) {
        const tcp = socket as Duplex & { setKeepAlive?: (on: boolean, delay: number) => void };
        if (typeof tcp.setKeepAlive === 'function') tcp.setKeepAlive(true, config.keepaliveInterval as number);
      }
    }
  }

  /** Whether the connection is open: false once either side has started closing. */
  get connected(): boolean {
    return this.state === 'open';
  }

  /** 'open', 'peer_requested_close' (the peer's close frame arrived), 'ending' (ours went out) or 'closed'. */
  get state(): ConnectionState {
    if (this.closeEventEmitted) return 'closed';
    if (this._ending) return 'ending';
    if (this.ws._closeFrameReceived) return 'peer_requested_close';
    return this.ws.readyState === ReadyState.OPEN ? 'open' : 'ending';
  }

  /** Bytes queued but not yet handed to the network. */
  get bytesWaitingToFlush(): number {
    return this.ws.bufferedAmount;
  }

  /** Sends a Buffer as binary, anything else (through its `toString()`) as text. */
  send(data: unknown, cb?: WriteCallback): void {
    if (Buffer.isBuffer(data)) this.sendBytes(data, cb);
    else if (data !== null && data !== undefined && typeof (data as { toString?: unknown }).toString === 'function') {
      this.sendUTF(data, cb);
    } else throw new Error('Data provided must either be a Node Buffer or implement toString()');
  }

  /** Sends text (`data.toString()`), split into frames past `fragmentationThreshold` when configured. */
  sendUTF(data: unknown, cb?: WriteCallback): void {
    this.ws.send(String((data as { toString(): string }).toString()), cb);
  }

  /** Sends a Buffer as a binary message. Throws for anything else. */
  sendBytes(data: Buffer, cb?: WriteCallback): void {
    if (!Buffer.isBuffer(data)) {
      throw new Error('You must pass a Node Buffer object to WebSocketConnection.prototype.sendBytes()');
    }
    this.ws.send(data, { binary: true }, cb);
  }

  /**
   * @internal The automatic answer to a ping, under the same limit as weft's own (`maxPendingAutoPongs`,
   * default 60; 0: none): a peer that keeps pinging without reading would make the pongs pile up in
   * this process; past the limit the connection is dropped (1006).
   */
  _autoPong(data: Buffer): void {
    const limit = this.config.maxPendingAutoPongs === undefined ? DEFAULT_MAX_PENDING_AUTO_PONGS : Number(this.config.maxPendingAutoPongs);
    if (limit > 0 && this._pendingPongs >= limit) {
      if (!this._localReason) this._setReason(1006, 'Peer does not read: too many pongs pending.');
      this.ws.terminate();
      return;
    }
    this._pendingPongs++;
    if (this._pongFlushed === null) this._pongFlushed = this._onPongFlushed.bind(this);
    this.ws.pong(data, undefined, this._pongFlushed);
  }

  /** @internal */
  private _onPongFlushed(): void {
    this._pendingPongs--;
  }

  /** Sends a ping; a payload over 125 bytes is truncated, as WebSocket-Node truncates it. */
  ping(data?: unknown): void {
    this._control(true, data);
  }

  /** Sends a pong (unsolicited, or after cancelling the automatic one in a 'ping' listener). */
  pong(data?: unknown): void {
    this._control(false, data);
  }

  /** @internal */
  private _control(ping: boolean, data: unknown): void {
    if (this.ws.readyState !== ReadyState.OPEN) return;
    let payload: Buffer | undefined;
    if (data) payload = Buffer.isBuffer(data) ? data : Buffer.from(String(data));
    if (payload !== undefined && payload.length > MAX_CONTROL_PAYLOAD) payload = payload.subarray(0, MAX_CONTROL_PAYLOAD);
    if (ping) this.ws.ping(payload);
    else this.ws.pong(payload);
  }

  /**
   * Starts the closing handshake with `reasonCode` (default 1000) and `description` (default: the
   * code's standard description, which is also sent). Throws for a code that may not be sent. A no-op
   * once the connection is not open.
   */
  close(reasonCode?: number, description?: string): void {
    if (!this.connected) return;
    const code = typeof reasonCode === 'number' ? reasonCode : 1000;
    if (!isValidStatusCode(code)) throw new Error(`Close code ${code} is not valid.`);
    const text = typeof description === 'string' ? description : CLOSE_DESCRIPTIONS[code];
    this._setReason(code, text);
    this._ending = true;
    this.ws.close(code, text === undefined ? undefined : truncateUtf8(text, MAX_CLOSE_REASON));
  }

  /**
   * Closes at once: a close frame with `reasonCode` (default 1002) and `description` (unless
   * `skipCloseFrame`, or the code may not be sent), then the socket is destroyed once it has flushed.
   * 'close' is emitted before this returns, as in WebSocket-Node.
   */
  drop(reasonCode?: number, description?: string, skipCloseFrame?: boolean): void {
    const code = typeof reasonCode === 'number' ? reasonCode : 1002;
    const text = typeof description === 'string' ? description : CLOSE_DESCRIPTIONS[code];
    this._setReason(code, text);
    this._ending = true;
    const ws = this.ws;
    if (ws.readyState === ReadyState.OPEN || ws.readyState === ReadyState.CLOSING) {
      const skip = !!skipCloseFrame || !isValidStatusCode(code);
      (ws as NodeSocket & Conveniences).drop(code, text === undefined ? '' : truncateUtf8(text, MAX_CLOSE_REASON), skip);
    }
    this._emitClose();
  }

  /** Stops reading from the socket. */
  pause(): void {
    this.ws.pause();
  }

  /** Resumes reading after `pause()`. */
  resume(): void {
    this.ws.resume();
  }

  /** @internal Records the close reason this side chose (the first one wins until 'close'). */
  _setReason(code: number, description: string | undefined): void {
    if (this._localReason) return;
    this._localReason = true;
    this.closeReasonCode = code;
    this.closeDescription = description;
  }

  /** @internal Emits 'close' once, with the recorded reason (or the peer's, if this side chose none). */
  _emitClose(code = 1006, reason?: Buffer): void {
    if (this.closeEventEmitted) return;
    if (!this._localReason) {
      this.closeReasonCode = code;
      if (code === 1006) this.closeDescription = 'Connection dropped by remote peer.';
      else if (reason !== undefined && reason.length > 0) this.closeDescription = reason.toString();
      else this.closeDescription = describeCloseCode(code);
    }
    this.closeEventEmitted = true;
    const owner = this._owner;
    this.emit('close', this.closeReasonCode, this.closeDescription);
    if (owner !== null) owner._connectionClosed(this, this.closeReasonCode, this.closeDescription);
  }
}

/** `text` cut to at most `max` UTF-8 bytes, never inside a character (a close reason's limit is 123). */
function truncateUtf8(text: string, max: number): string {
  if (Buffer.byteLength(text) <= max) return text;
  let out = '';
  let used = 0;
  for (const ch of text) {
    const size = Buffer.byteLength(ch);
    if (used + size > max) break;
    out += ch;
    used += size;
  }
  return out;
}

// --- weft's events → WebSocket-Node's (module-level: no closure per connection) ---------------------

function wsOnMessage(this: NodeSocket, data: Buffer, isBinary: boolean): void {
  const conn = this[kConnection] as WebSocketConnection;
  const message: Message = isBinary ? { type: 'binary', binaryData: data } : { type: 'utf8', utf8Data: data.toString() };
  conn.emit('message', message);
}

function wsOnFrame(this: NodeSocket, frame: { opcode: number; fin: boolean; payload: Buffer }): void {
  const conn = this[kConnection] as WebSocketConnection;
  const out: Frame = {
    fin: frame.fin,
    rsv1: false,
    rsv2: false,
    rsv3: false,
    mask: this._isServer,
    opcode: frame.opcode,
    length: frame.payload.length,
    binaryPayload: frame.payload,
  };
  conn.emit('frame', out);
}

/** WebSocket-Node answers pings itself; a 'ping' listener may call `cancel()` to keep it from doing so. */
function wsOnPing(this: NodeSocket, data: Buffer): void {
  const conn = this[kConnection] as WebSocketConnection;
  if (conn.listenerCount('ping') > 0) {
    let cancelled = false;
    conn.emit('ping', () => {
      cancelled = true;
    }, data);
    if (cancelled) return;
  }
  if (this.readyState === ReadyState.OPEN) conn._autoPong(data);
}

function wsOnPong(this: NodeSocket, data: Buffer): void {
  (this[kConnection] as WebSocketConnection).emit('pong', data);
}

function wsOnDrain(this: NodeSocket): void {
  (this[kConnection] as WebSocketConnection).emit('drain');
}

/**
 * weft failed the connection (a protocol violation: it has sent the close frame with 1002/1007/1009).
 * WebSocket-Node drops such a peer with that code and emits no 'error' (the message is the close
 * description), so neither does this face.
 */
function wsOnError(this: NodeSocket, err: Error & { [kStatusCode]?: number }): void {
  const conn = this[kConnection] as WebSocketConnection;
  if (conn.closeEventEmitted) return;
  conn._setReason(err[kStatusCode] || 1006, err.message);
  conn._ending = true;
}

function wsOnClose(this: NodeSocket, code: number, reason: Buffer): void {
  (this[kConnection] as WebSocketConnection)._emitClose(code, reason);
}

/** A socket error (reset, ...) closes with 1006 'Socket Error: <syscall> <code>', as WebSocket-Node does. */
function socketOnError(this: Duplex & { [kConnection]?: WebSocketConnection }, err: Error & { syscall?: string; code?: string }): void {
  const conn = this[kConnection];
  if (conn === undefined || conn.closeEventEmitted) return;
  conn._setReason(1006, `Socket Error: ${err.syscall} ${err.code}`);
  if (conn.listenerCount('error') > 0) conn.emit('error', err);
}

/** The events of a WebSocketConnection and their listeners' arguments (WebSocket-Node's). */
export interface ConnectionEvents {
  /** A message: `{ type: 'utf8', utf8Data }` or `{ type: 'binary', binaryData }`. */
  message: [message: Message];
  /** One data frame (with `assembleFragments: false`). */
  frame: [frame: Frame];
  /** The connection closed: the close code and its description. */
  close: [reasonCode: number, description: string];
  /** A socket error (protocol violations close the connection without one). */
  error: [error: Error];
  /** A ping; call `cancel()` to keep the automatic pong from being sent. */
  ping: [cancel: () => void, data: Buffer];
  /** A pong. */
  pong: [data: Buffer];
  /** The socket's write buffer emptied. */
  drain: [];
}

// Typed by name (ConnectionEvents); any other name takes any listener.
export interface WebSocketConnection {
  on<K extends keyof ConnectionEvents>(event: K, listener: (this: this, ...args: ConnectionEvents[K]) => void): this;
  on(event: string | symbol, listener: (this: this, ...args: any[]) => void): this;
  once<K extends keyof ConnectionEvents>(event: K, listener: (this: this, ...args: ConnectionEvents[K]) => void): this;
  once(event: string | symbol, listener: (this: this, ...args: any[]) => void): this;
  off<K extends keyof ConnectionEvents>(event: K, listener: (this: this, ...args: ConnectionEvents[K]) => void): this;
  off(event: string | symbol, listener: (this: this, ...args: any[]) => void): this;
  addListener<K extends keyof ConnectionEvents>(event: K, listener: (this: this, ...args: ConnectionEvents[K]) => void): this;
  addListener(event: string | symbol, listener: (this: this, ...args: any[]) => void): this;
  removeListener<K extends keyof ConnectionEvents>(event: K, listener: (this: this, ...args: ConnectionEvents[K]) => void): this;
  removeListener(event: string | symbol, listener: (this: this, ...args: any[]) => void): this;
  prependListener<K extends keyof ConnectionEvents>(event: K, listener: (this: this, ...args: ConnectionEvents[K]) => void): this;
  prependListener(event: string | symbol, listener: (this: this, ...args: any[]) => void): this;
  prependOnceListener<K extends keyof ConnectionEvents>(event: K, listener: (this: this, ...args: ConnectionEvents[K]) => void): this;
  prependOnceListener(event: string | symbol, listener: (this: this, ...args: any[]) => void): this;
}
