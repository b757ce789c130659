/**
 * Conveniences other libraries' users rely on, as methods and properties of weft's own WebSocket:
 * WebSocket-Node's connection members (sendUTF, sendBytes, drop, closeReasonCode, closeDescription,
 * connected, webSocketVersion, remoteAddress) and the legacy ws 0.4-era members that do not conflict
 * with ws 8 (bytesReceived, protocolVersion, supports, stream). websocket.ts installs them on the
 * prototype: an idle connection pays nothing for them.
 */
import type { Duplex } from 'stream';
import { ReadyState } from '../protocol/constants';
import { describeCloseCode } from '../protocol/close';
import type { WriteCallback } from '../protocol/writer';
import type { WebSocket } from '../websocket';
import type { BufferLike } from '../types/events';

/** The close code and description a drop() chose, kept for closeReasonCode/closeDescription. */
const kDropped = Symbol('weft-dropped');

type Dropped = { code: number; description: string };
type Host = WebSocket & { [kDropped]?: Dropped; _remoteAddress?: string; _protocolVersion?: number };

/** Members added to WebSocket.prototype. */
export interface Conveniences {
  sendUTF(data: unknown, cb?: WriteCallback): void;
  sendBytes(data: Buffer, cb?: WriteCallback): void;
  drop(reasonCode?: number, description?: string, skipCloseFrame?: boolean): void;
  readonly closeReasonCode: number;
  readonly closeDescription: string | null;
  readonly connected: boolean;
  readonly webSocketVersion: number;
  readonly protocolVersion: number;
  readonly remoteAddress: string | undefined;
  readonly bytesReceived: number;
  readonly supports: { binary: boolean };
  stream(options: { binary?: boolean } | ((err: Error | null, send?: StreamSend) => void), cb?: (err: Error | null, send?: StreamSend) => void): void;
}

/** `send(data, final)` handed to a `stream()` callback. */
export type StreamSend = (data: unknown, final?: boolean) => void;

const methods = {
  /** WebSocket-Node: sends text. */
  sendUTF(this: Host, data: unknown, cb?: WriteCallback): void {
    this.send(String(data), cb);
  },

  /** WebSocket-Node: sends a Buffer as a binary message. */
  sendBytes(this: Host, data: Buffer, cb?: WriteCallback): void {
    if (!Buffer.isBuffer(data)) throw new TypeError('You must pass a Node Buffer object to sendBytes()');
    this.send(data, { binary: true }, cb);
  },

  /**
   * WebSocket-Node: closes at once — a close frame (unless skipped) and then the socket is destroyed
   * without waiting for the peer's answer. The default code is 1002, the description the standard one.
   * The socket is ended and destroyed as soon as the close frame has been handed to it: at once when
   * the frame is skipped or bytes remain queued in this process (a peer that does not read would never
   * let them, or the FIN, go: the queue is freed and 'close' follows), else on 'finish', which then comes
   * as soon as the FIN is out.
   */
  drop(this: Host, reasonCode = 1002, description?: string, skipCloseFrame = false): void {
    const text = description === undefined ? describeCloseCode(reasonCode) : description;
    this[kDropped] = { code: reasonCode, description: text };
    const driver = this._driver;
    if (this.readyState === ReadyState.CONNECTING || driver === null) {
      this.terminate();
      return;
    }
    if (this.readyState === ReadyState.OPEN && !skipCloseFrame) {
      const reason = Buffer.byteLength(text) <= 123 ? text : undefined;
      this.close(reasonCode, reason);
    }
    driver.conn.transportEnding();
    // The close frame is queued ahead of the FIN. What the kernel took goes out after destroy() too;
    // what is still queued here is dropped with the socket.
    driver.endThenDestroy(skipCloseFrame);
  },
};

const getters: Record<string, (this: Host) => unknown> = {
  /** WebSocket-Node: the close code (-1 until closed). */
  closeReasonCode(this: Host): number {
    if (this.readyState !== ReadyState.CLOSED) return -1;
    const dropped = this[kDropped];
    return dropped !== undefined ? dropped.code : this._closeCode;
  },
  /** WebSocket-Node: the peer's close reason, or the standard description of the code (null until closed). */
  closeDescription(this: Host): string | null {
    if (this.readyState !== ReadyState.CLOSED) return null;
    const dropped = this[kDropped];
    if (dropped !== undefined) return dropped.description;
    const reason = this._closeMessage;
    return reason.length > 0 ? reason.toString() : describeCloseCode(this._closeCode);
  },
  /** WebSocket-Node: whether the connection is open. */
  connected(this: Host): boolean {
    return this.readyState === ReadyState.OPEN;
  },
  /** WebSocket-Node: the protocol version spoken (13, or 8 for the older draft clients). */
  webSocketVersion(this: Host): number {
    return this._protocolVersion || 13;
  },
  /** Legacy ws: the protocol version spoken. */
  protocolVersion(this: Host): number {
    return this._protocolVersion || 13;
  },
  /** The peer's address (a trusted proxy's X-Forwarded-For when the server is told to trust it). */
  remoteAddress(this: Host): string | undefined {
    if (this._remoteAddress !== undefined) return this._remoteAddress;
    return peerAddressOf(this);
  },
  /** Legacy ws: bytes received on the socket so far. */
  bytesReceived(this: Host): number {
    // Accepted on the listening handle with no net.Socket made yet: the handle counts (none is made here).
    const t = this._driver === null ? null : this._driver.transportOnly;
    if (t !== null) return t.bytesRead;
    const socket = this._socket as (Duplex & { bytesRead?: number }) | null;
    return socket === null || typeof socket.bytesRead !== 'number' ? 0 : socket.bytesRead;
  },
  /** Legacy ws: what the connection supports (binary frames, always). */
  supports(): { binary: boolean } {
    return { binary: true };
  },
};

/**
 * Legacy ws: streaming send. `cb(error, send)` is called once; `send(data, final)` writes one fragment,
 * and `final = true` ends the message.
 */
function stream(
  this: Host,
  options: { binary?: boolean } | ((err: Error | null, send?: StreamSend) => void),
  cb?: (err: Error | null, send?: StreamSend) => void,
): void {
  if (typeof options === 'function') {
    cb = options;
    options = {};
  }
  const callback = cb as (err: Error | null, send?: StreamSend) => void;
  if (this.readyState !== ReadyState.OPEN) {
    process.nextTick(callback, new Error('not opened'));
    return;
  }
  const binary = options.binary !== false;
  const send: StreamSend = (data, final) => this.send(data as BufferLike, { binary, fin: !!final });
  process.nextTick(callback, null, send);
}

/** Installs the conveniences on a WebSocket prototype (websocket.ts does, once). */
export function applyConveniences(proto: object): void {
  for (const [name, fn] of Object.entries(methods)) {
    Object.defineProperty(proto, name, { value: fn, writable: true, configurable: true, enumerable: false });
  }
  Object.defineProperty(proto, 'stream', { value: stream, writable: true, configurable: true, enumerable: false });
  for (const [name, get] of Object.entries(getters)) {
    Object.defineProperty(proto, name, { get, configurable: true, enumerable: false });
  }
}

/**
 * The peer's address as the socket reports it. A connection accepted on the listening handle with no
 * net.Socket made yet is asked through its handle, so that reading the address makes none.
 */
export function peerAddressOf(ws: WebSocket): string | undefined {
  const t = ws._driver === null ? null : ws._driver.transportOnly;
  if (t !== null) {
    const address = t.peerAddress();
    return address === null ? undefined : address.address;
  }
  const socket = ws._socket as (Duplex & { remoteAddress?: string }) | null;
  return socket === null ? undefined : socket.remoteAddress;
}
