/**
 * ws's semi-private WebSocket members that its ecosystem reads (`ws._receiver._maxPayload`,
 * `ws._redirects`, `ws._pendingAutoPongs`, ...), as getters installed on the prototype: nothing is
 * computed or allocated until one is read, so an idle connection pays nothing. The members that are
 * plain fields in weft too (`_binaryType`, `_socket`, ...) live on the WebSocket itself.
 */
import { EventEmitter } from 'events';
import { kReceiverShape, type Driver } from '../socket/driver';

/** What a client's handshake remembers across redirects (client.ts keeps it as `_handshakeChain`). */
interface RedirectChain {
  redirects: number;
}

/** The members of a weft WebSocket this module reads. */
interface Host {
  _driver: Driver | null;
  _binaryType: string;
  binaryType: string;
  _extensions: Record<string, unknown>;
  _isServer: boolean;
  _allowSynchronousEvents: boolean;
  _handshakeChain?: RedirectChain;
  [kReceiverShape]?: ReceiverShape;
}


/**
 * What ws's Receiver (a Writable) shows of its stream state, as code written against ws reads it
 * (`ws._receiver._writableState.needDrain` before resuming the socket, `.errorEmitted` when closing).
 * A snapshot of the live connection, made when read.
 */
export interface ReceiverWritableState {
  /** The receiver holds input back (an inflate is pending, or events are deferred): the socket is paused. */
  readonly needDrain: boolean;
  /** A protocol violation failed the connection. */
  readonly errorEmitted: boolean;
  /** weft holds no input in a Writable's buffer: 0. */
  readonly length: number;
}

/**
 * ws's `_receiver` as integrations see it: an EventEmitter with ws's option fields, read from the live
 * connection. weft parses frames in its core and emits on the WebSocket; of ws's receiver events
 * `'conclude'` (the peer's close frame: code, reason) is emitted here, after the WebSocket has answered
 * it, and `'drain'` once input held back while an inflate was pending flows again (the socket resumed
 * unless the user paused it), as ws's receiver emits them.
 */
export class ReceiverShape extends EventEmitter {
  private readonly ws: Host;
  private readonly driver: Driver;

  constructor(ws: Host, driver: Driver) {
    super();
    this.ws = ws;
    this.driver = driver;
  }

  get _allowSynchronousEvents(): boolean {
    return this.ws._allowSynchronousEvents;
  }

  get _binaryType(): string {
    return this.ws._binaryType;
  }

  set _binaryType(type: string) {
    this.ws.binaryType = type;
  }

  get _extensions(): Record<string, unknown> {
    return this.ws._extensions;
  }

  get _isServer(): boolean {
    return this.ws._isServer;
  }

  get _maxPayload(): number {
    return this.driver.conn.receiveState().maxPayload;
  }

  get _maxFragments(): number {
    return this.driver.conn.receiveState().maxFragments;
  }

  get _maxBufferedChunks(): number {
    return this.driver.conn.receiveState().maxBufferedChunks;
  }

  get _skipUTF8Validation(): boolean {
    return this.driver.conn.receiveState().skipUTF8Validation;
  }

  /** ws's Receiver state: 5 while an inflate is pending, 6 while an event is deferred, 4 in a payload, else 0. */
  get _state(): number {
    return this.driver.conn.receiveState().step;
  }

  /** Payload bytes of the message being received so far. */
  get _totalPayloadLength(): number {
    return this.driver.conn.receiveState().messageBytes;
  }

  /** The part of ws's Writable state that code reads from `_receiver` (see ReceiverWritableState). */
  get _writableState(): ReceiverWritableState {
    return { needDrain: this.driver.inputHeld, errorEmitted: this.driver.conn.failed, length: 0 };
  }
}

/** Installs the getters on WebSocket.prototype (once, from websocket.ts). */
export function installWsState(proto: object): void {
  Object.defineProperties(proto, {
    /** ws's Receiver: null until the connection has a socket. */
    _receiver: {
      configurable: true,
      get(this: Host): ReceiverShape | null {
        const driver = this._driver;
        if (driver === null) return null;
        let shape = this[kReceiverShape];
        if (shape === undefined) {
          shape = new ReceiverShape(this, driver);
          Object.defineProperty(this, kReceiverShape, { value: shape });
        }
        return shape;
      },
    },
    /** Automatic pongs not yet flushed (ws counts them against `maxPendingAutoPongs`). */
    _pendingAutoPongs: {
      configurable: true,
      get(this: Host): number {
        const driver = this._driver;
        return driver === null ? 0 : driver.conn.pendingAutoPongs;
      },
    },
    /** Redirects a client has followed (undefined on a server-side WebSocket, as in ws). */
    _redirects: {
      configurable: true,
      get(this: Host): number | undefined {
        const chain = this._handshakeChain;
        return chain === undefined ? undefined : chain.redirects;
      },
    },
  });
}
