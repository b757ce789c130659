/**
 * WebSocketPair, as Cloudflare Workers define it: two connected weft WebSockets in memory (`{0: client,
 * 1: server}`), speaking real RFC 6455 frames through the protocol core over an in-memory transport —
 * no TCP. Each end starts delivering when `accept()` is called; what the peer sends before that waits,
 * in order. Useful for testing WebSocket handlers without ports and for bridging in-process components.
 */
import { DEFAULT_CLOSE_TIMEOUT, ReadyState } from './protocol/constants';
import { memoryPair, type MemoryEnd } from './transport/memory';
import { WebSocket, type SendOptions, type SendStatusValue, type SetSocketOptions } from './websocket';
import type { BufferLike, SendCallback } from './types/events';

/** Options for both ends of a pair (the connection limits a network socket would have). */
export type PairOptions = SetSocketOptions;

const NOT_ACCEPTED = 'You must call accept() on this WebSocket before sending messages.';

/** One end of a WebSocketPair: a weft WebSocket that waits for `accept()`. */
export class PairedWebSocket extends WebSocket {
  /** @internal */ _pairEnd: MemoryEnd | null;
  /** @internal */ _pairOptions: PairOptions;

  /** @internal Use `new WebSocketPair()`. */
  constructor(end: MemoryEnd, isServer: boolean, options: PairOptions) {
    super(null, undefined, { closeTimeout: DEFAULT_CLOSE_TIMEOUT, ...options } as Record<string, unknown>);
    this._isServer = isServer;
    this._pairEnd = end;
    this._pairOptions = options;
    // Cloudflare delivers binary messages as ArrayBuffers.
    this._binaryType = 'arraybuffer';
  }

  /** Starts delivery on this end (messages the peer sent meanwhile follow, in order). Idempotent. */
  accept(): void {
    const end = this._pairEnd;
    if (end === null) return;
    this._pairEnd = null;
    this.setSocket(end, undefined, this._pairOptions);
  }

  /** Whether `accept()` has been called. */
  get accepted(): boolean {
    return this._pairEnd === null;
  }

  /** As WebSocket's `send()`; throws a TypeError until this end is accepted. */
  override send(data: BufferLike, options?: SendOptions | SendCallback, cb?: SendCallback): SendStatusValue | void {
    if (this._pairEnd !== null) throw new TypeError(NOT_ACCEPTED);
    return super.send(data, options as SendOptions, cb);
  }

  /** As WebSocket's `ping()`; throws a TypeError until this end is accepted. */
  override ping(data?: BufferLike | SendCallback, mask?: boolean | SendCallback, cb?: SendCallback): void {
    if (this._pairEnd !== null) throw new TypeError(NOT_ACCEPTED);
    super.ping(data as BufferLike, mask, cb);
  }

  /** As WebSocket's `pong()`; throws a TypeError until this end is accepted. */
  override pong(data?: BufferLike | SendCallback, mask?: boolean | SendCallback, cb?: SendCallback): void {
    if (this._pairEnd !== null) throw new TypeError(NOT_ACCEPTED);
    super.pong(data as BufferLike, mask, cb);
  }

  /** Closes this end (accepting it first if needed, so that the close handshake can run). */
  override close(code?: number, reason?: string | Buffer): void {
    if (this._pairEnd !== null && this.readyState === ReadyState.CONNECTING) this.accept();
    super.close(code, reason);
  }

  override terminate(): void {
    const end = this._pairEnd;
    if (end !== null) {
      this._pairEnd = null;
      end.destroy();
      this._handshakeState = ReadyState.CLOSED;
      process.nextTick(emitCloseLater, this);
      return;
    }
    super.terminate();
  }
}

function emitCloseLater(ws: WebSocket): void {
  ws.emitClose();
}

/** Two connected WebSockets: `const [client, server] = Object.values(new WebSocketPair())`. */
export class WebSocketPair {
  /** The client end (frames it sends are masked, as a client's are). */
  0: PairedWebSocket;
  /** The server end. */
  1: PairedWebSocket;

  constructor(options: PairOptions = {}) {
    const [a, b] = memoryPair();
    this[0] = new PairedWebSocket(a, false, options);
    this[1] = new PairedWebSocket(b, true, options);
  }
}
