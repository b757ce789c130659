/**
 * WebSocketStream: the WHATWG streams face of a WebSocket (as Chromium ships it). `opened` resolves with
 * a ReadableStream of received messages and a WritableStream of messages to send; `closed` resolves with
 * the close code and reason. Backpressure is real both ways: when the readable's queue is full the
 * WebSocket stops reading its socket (the peer's sends stall on TCP), and each write resolves only
 * once its frame has been handed to the kernel.
 *
 * Client: `new WebSocketStream(url, { protocols, signal })`. Server (or any open weft WebSocket):
 * `WebSocketStream.from(ws)`.
 */
import type { ReadableStream, ReadableStreamDefaultController, WritableStream, WritableStreamDefaultController } from 'stream/web';
import { WebSocket } from './websocket';
import { isValidSubprotocolList } from './protocol/handshake';

/** What `opened` resolves with. */
export interface WebSocketOpenInfo {
  /** Received messages: a string for each text message, a Uint8Array for each binary one. */
  readable: ReadableStream<string | Uint8Array>;
  /** Messages to send: a string is sent as text, an ArrayBuffer or ArrayBufferView as binary. */
  writable: WritableStream<string | BufferSource>;
  /** The subprotocol the server selected ('' when none). */
  protocol: string;
  /** The negotiated extensions ('' when none). */
  extensions: string;
}

/** A close code and reason: what `closed` resolves with, and what `close()` takes. */
export interface WebSocketCloseInfo {
  /** 1000 or 3000–4999 when closing; any received code (1005 when the peer sent none) in `closed`. */
  closeCode?: number;
  /** At most 123 bytes of UTF-8 when closing. */
  reason?: string;
}

/** Options of `new WebSocketStream(url, options)`. */
export interface WebSocketStreamOptions {
  /** Subprotocols to offer. */
  protocols?: string | string[];
  /** Aborts the opening handshake: `opened` and `closed` reject with the signal's reason. No effect once open. */
  signal?: AbortSignal;
  /**
   * weft: how many received messages the readable queues before the socket stops being read
   * (default 16).
   */
  highWaterMark?: number;
  /** weft: any other option is handed to the underlying client WebSocket (headers, perMessageDeflate, ...). */
  [option: string]: unknown;
}

/** Options of `WebSocketStream.from(ws, options)`. */
export interface WebSocketStreamFromOptions {
  /** How many received messages the readable queues before the socket stops being read (default 16). */
  highWaterMark?: number;
}

type BufferSource = ArrayBufferView | ArrayBuffer;

const DEFAULT_HIGH_WATER_MARK = 16;
const MAX_REASON_BYTES = 123;
const CONNECTING = 0;
const OPEN = 1;
const CLOSED = 3;

/**
 * The error `closed` (and `opened`, and the streams) fail with when the connection did not close
 * cleanly; passed to `writable.abort()` or `readable.cancel()` it chooses the close code and reason.
 */
export class WebSocketError extends DOMException {
  /** The close code (1006 for an abnormal closure), or null when none was given. */
  closeCode: number | null;
  /** The close reason ('' when none). */
  reason: string;

  /**
   * `new WebSocketError(message?, { closeCode?, reason? })`: the code must be 1000 or 3000–4999 and the
   * reason at most 123 bytes; a reason without a code means 1000.
   */
  constructor(message = '', init: WebSocketCloseInfo = {}) {
    super(message, 'WebSocketError');
    const { code, reason } = closeInfo(init);
    this.closeCode = code === undefined ? null : code;
    this.reason = reason;
  }
}

/** A WebSocketError with any close code (the received or abnormal ones the constructor refuses). */
function connectionError(message: string, code: number, reason: string): WebSocketError {
  const err = new WebSocketError(message);
  err.closeCode = code;
  err.reason = reason;
  return err;
}

/**
 * Reads a WebSocketCloseInfo dictionary as the WHATWG rules do: TypeError for a non-object or a code
 * out of the unsigned-short range, InvalidAccessError for a code not 1000 or 3000–4999, SyntaxError
 * for a reason over 123 bytes. A non-empty reason without a code means 1000.
 */
function closeInfo(info: unknown): { code: number | undefined; reason: string } {
  if (info === undefined || info === null) return { code: undefined, reason: '' };
  if (typeof info !== 'object' && typeof info !== 'function') {
    throw new TypeError('The close information must be an object');
  }
  const raw = (info as WebSocketCloseInfo).closeCode;
  const rawReason = (info as WebSocketCloseInfo).reason;
  let code: number | undefined;
  if (raw !== undefined) {
    const n = Number(raw);
    if (!Number.isFinite(n)) throw new TypeError(`The close code ${String(raw)} is not a finite number`);
    code = Math.trunc(n);
    if (code < 0 || code > 0xffff) throw new TypeError(`The close code ${code} is outside the range of an unsigned short`);
    if (code !== 1000 && (code < 3000 || code > 4999)) {
      throw new DOMException(`The close code must be either 1000, or between 3000 and 4999. ${code} is neither.`, 'InvalidAccessError');
    }
  }
  // Lone surrogates count as U+FFFD (3 bytes), as the UTF-8 encoding of the close frame makes them.
  const reason = rawReason === undefined ? '' : String(rawReason);
  if (Buffer.byteLength(reason) > MAX_REASON_BYTES) {
    throw new DOMException('The close reason must not be greater than 123 UTF-8 bytes.', 'SyntaxError');
  }
  if (code === undefined && reason !== '') code = 1000;
  return { code, reason };
}

/**
 * What the client would refuse before connecting, as a SyntaxError DOMException: a URL that does not
 * parse, a scheme other than ws:, wss:, http:, https: or ws+unix:, a fragment, a bad subprotocol list.
 */
function checkTarget(address: string, protocols: unknown[]): void {
  let url: URL;
  try {
    url = new URL(address);
  } catch {
    throw new DOMException(`Invalid URL: ${address}`, 'SyntaxError');
  }
  if (!['ws:', 'wss:', 'http:', 'https:', 'ws+unix:'].includes(url.protocol) || url.hash) {
    throw new DOMException(`Invalid URL: ${address}`, 'SyntaxError');
  }
  if (protocols.length !== 0 && !isValidSubprotocolList(protocols)) {
    throw new DOMException('An invalid or duplicated subprotocol was specified', 'SyntaxError');
  }
}

/** Set by `from()` for the constructor it calls: the WebSocket to adopt instead of connecting. */
let adopting: WebSocket | null = null;

function noop(): void {}

/** A WebSocket as a pair of WHATWG streams, with `opened`/`closed` promises. */
export class WebSocketStream {
  /** The URL connected to ('' for a server-side socket). */
  readonly url: string;
  /** Resolves once the connection is open; rejects if it could not be established. */
  readonly opened: Promise<WebSocketOpenInfo>;
  /** Resolves with the close code and reason after a clean close; rejects with a WebSocketError otherwise. */
  readonly closed: Promise<WebSocketCloseInfo>;

  #ws: WebSocket | null = null;
  #readable!: ReadableStream<string | Uint8Array>;
  #writable!: WritableStream<string | BufferSource>;
  #readController!: ReadableStreamDefaultController<string | Uint8Array>;
  #writeController!: WritableStreamDefaultController;
  #resolveOpened!: (info: WebSocketOpenInfo) => void;
  #rejectOpened!: (err: unknown) => void;
  #resolveClosed!: (info: WebSocketCloseInfo) => void;
  #rejectClosed!: (err: unknown) => void;
  /** Resolves when the connection has closed (the writable's close() waits for it). */
  #ended: Promise<void>;
  #endedSettle!: (err: unknown) => void;
  #wasOpen = false;
  /** True while this stream has paused the WebSocket because the readable's queue is full. */
  #paused = false;
  /** Set once a close started: the socket is read to the end so the peer's close frame arrives. */
  #closing = false;
  /** The readable was cancelled or has ended: later messages are dropped. */
  #readableDone = false;
  /** The writable's close() is waiting for the closing handshake. */
  #writableClosing = false;
  #error: Error | null = null;
  #abortReason: unknown = undefined;
  #aborted = false;
  #signal: AbortSignal | null = null;
  #onAbort: (() => void) | null = null;

  /**
   * Opens a client connection to `url` (ws:, wss:, http: or https:). Throws a SyntaxError DOMException
   * for a URL or subprotocol list the client refuses. Options other than `protocols`, `signal` and
   * `highWaterMark` go to the weft client WebSocket.
   */
  constructor(url: string | URL, options: WebSocketStreamOptions = {}) {
    this.opened = new Promise<WebSocketOpenInfo>((resolve, reject) => {
      this.#resolveOpened = resolve;
      this.#rejectOpened = reject;
    });
    this.closed = new Promise<WebSocketCloseInfo>((resolve, reject) => {
      this.#resolveClosed = resolve;
      this.#rejectClosed = reject;
    });
    this.#ended = new Promise<void>((resolve, reject) => {
      this.#endedSettle = (err) => (err === null ? resolve() : reject(err));
    });
    // Unobserved rejections of these must not take the process down; awaiting them still throws.
    this.opened.catch(noop);
    this.closed.catch(noop);
    this.#ended.catch(noop);

    const adopted = adopting;
    adopting = null;
    if (options !== undefined && options !== null && typeof options !== 'object') {
      throw new TypeError('The WebSocketStream options must be an object');
    }
    const opts = options === undefined || options === null ? {} : options;
    const hwm = opts.highWaterMark === undefined ? DEFAULT_HIGH_WATER_MARK : Number(opts.highWaterMark);
    if (!(hwm >= 1)) throw new RangeError(`highWaterMark must be at least 1, got ${String(opts.highWaterMark)}`);
    this.#makeStreams(hwm);

    if (adopted !== null) {
      this.url = adopted.url === undefined ? '' : adopted.url;
      this.#adopt(adopted);
      return;
    }

    this.url = String(url);
    const { protocols, signal, highWaterMark: _hwm, ...clientOptions } = opts;
    const list = protocols === undefined ? [] : typeof protocols === 'string' ? [protocols] : [...protocols];
    if (signal !== undefined && signal !== null && signal.aborted) {
      // The URL and the subprotocols are still checked, as for a connection; then nothing connects.
      checkTarget(this.url, list);
      this.#fail(signal.reason);
      return;
    }
    let ws: WebSocket;
    try {
      ws = new WebSocket(url, list, clientOptions);
    } catch (err) {
      if (err instanceof SyntaxError) throw new DOMException(err.message, 'SyntaxError');
      throw err;
    }
    if (signal !== undefined && signal !== null) {
      this.#signal = signal;
      this.#onAbort = () => this.#abortHandshake(signal.reason);
      signal.addEventListener('abort', this.#onAbort, { once: true });
    }
    this.#attach(ws);
  }

  /**
   * Wraps an accepted (or any open or connecting) weft WebSocket: the server-side face. The stream
   * takes the socket over: it sets `binaryType` to 'nodebuffer', pauses and resumes it for
   * backpressure, and listens for its errors. Throws an InvalidStateError DOMException if it is closed.
   */
  static from(ws: WebSocket, options: WebSocketStreamFromOptions = {}): WebSocketStream {
    if (!(ws instanceof WebSocket)) throw new TypeError('WebSocketStream.from() takes a weft WebSocket');
    if (ws.readyState === CLOSED) throw new DOMException('The WebSocket is already closed', 'InvalidStateError');
    adopting = ws;
    try {
      return new WebSocketStream('', { highWaterMark: options ? options.highWaterMark : undefined });
    } finally {
      adopting = null;
    }
  }

  /**
   * Starts the closing handshake with an optional code (1000 or 3000–4999) and reason (≤ 123 bytes;
   * a reason alone means 1000). Before the connection is open it abandons the handshake: `opened`
   * and `closed` reject. Does nothing once closing.
   */
  close(closeInfo_?: WebSocketCloseInfo): void {
    const { code, reason } = closeInfo(closeInfo_);
    this.#close(code, reason);
  }

  #makeStreams(highWaterMark: number): void {
    // Loaded here, not with weft: Node's web streams cost a sixth of `require('weft')` for those who never
    // open a WebSocketStream (test/package/startup.test.js).
    const { CountQueuingStrategy, ReadableStream, WritableStream } = require('stream/web') as typeof import('stream/web');
    this.#readable = new ReadableStream<string | Uint8Array>(
      {
        start: (controller) => {
          this.#readController = controller;
        },
        pull: () => {
          if (this.#paused) {
            this.#paused = false;
            (this.#ws as WebSocket).resume();
          }
        },
        cancel: (reason) => {
          this.#readableDone = true;
          this.#closeFor(reason);
        },
      },
      new CountQueuingStrategy({ highWaterMark }),
    );
    this.#writable = new WritableStream<string | BufferSource>({
      start: (controller) => {
        this.#writeController = controller;
      },
      write: (chunk) => this.#write(chunk),
      close: () => {
        this.#writableClosing = true;
        this.#close(undefined, '');
        return this.#ended;
      },
      abort: (reason) => {
        this.#closeFor(reason);
      },
    });
  }

  #adopt(ws: WebSocket): void {
    ws.binaryType = 'nodebuffer';
    this.#attach(ws);
    if (ws.readyState !== CONNECTING) this.#onOpen();
  }

  #attach(ws: WebSocket): void {
    this.#ws = ws;
    ws.on('open', () => this.#onOpen());
    ws.on('message', (data: Buffer, isBinary: boolean) => this.#onMessage(data, isBinary));
    ws.on('error', (err: Error) => {
      if (this.#error === null) this.#error = err;
    });
    ws.on('close', (code: number, reason: Buffer) => this.#onClose(code, reason.toString()));
  }

  #onOpen(): void {
    this.#dropSignal();
    const ws = this.#ws as WebSocket;
    this.#wasOpen = true;
    this.#resolveOpened({
      readable: this.#readable,
      writable: this.#writable,
      protocol: ws.protocol,
      extensions: ws.extensions,
    });
  }

  #onMessage(data: Buffer, isBinary: boolean): void {
    if (this.#readableDone) return;
    const controller = this.#readController;
    controller.enqueue(isBinary ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength) : data.toString());
    if (!this.#paused && !this.#closing && (controller.desiredSize as number) <= 0) {
      this.#paused = true;
      (this.#ws as WebSocket).pause();
    }
  }

  #onClose(code: number, reason: string): void {
    this.#dropSignal();
    const ws = this.#ws as WebSocket;
    if (!this.#wasOpen) {
      this.#fail(this.#aborted ? this.#abortReason : undefined);
      return;
    }
    const clean = ws._closeFrameReceived && ws._closeFrameSent;
    if (clean) {
      if (!this.#readableDone) {
        this.#readableDone = true;
        this.#readController.close();
      }
      this.#endedSettle(null);
      if (!this.#writableClosing) {
        this.#writeController.error(connectionError('The WebSocket connection is closed', code, reason));
      }
      this.#resolveClosed({ closeCode: code, reason });
      return;
    }
    const message = this.#error !== null ? this.#error.message : 'The WebSocket connection was closed abnormally';
    const err = connectionError(message, code, reason);
    if (!this.#readableDone) {
      this.#readableDone = true;
      this.#readController.error(err);
    }
    this.#endedSettle(err);
    this.#writeController.error(err);
    this.#rejectClosed(err);
  }

  /** The connection never opened: `opened`, `closed` and both streams fail with `reason` (a WebSocketError by default). */
  #fail(reason: unknown): void {
    const err =
      reason !== undefined
        ? reason
        : connectionError(
            this.#error !== null ? this.#error.message : 'The WebSocket connection could not be established',
            1006,
            '',
          );
    this.#readableDone = true;
    this.#readController.error(err);
    this.#writeController.error(err);
    this.#endedSettle(err);
    this.#rejectOpened(err);
    this.#rejectClosed(err);
  }

  #abortHandshake(reason: unknown): void {
    const ws = this.#ws as WebSocket;
    if (ws.readyState !== CONNECTING) return;
    this.#aborted = true;
    this.#abortReason = reason;
    ws.close();
  }

  #dropSignal(): void {
    if (this.#signal !== null) {
      this.#signal.removeEventListener('abort', this.#onAbort as () => void);
      this.#signal = null;
      this.#onAbort = null;
    }
  }

  /** `readable.cancel(reason)` / `writable.abort(reason)`: a WebSocketError's code and reason are used. */
  #closeFor(reason: unknown): void {
    if (reason instanceof WebSocketError) {
      this.#close(reason.closeCode === null ? undefined : reason.closeCode, reason.reason);
    } else {
      this.#close(undefined, '');
    }
  }

  #close(code: number | undefined, reason: string): void {
    const ws = this.#ws;
    if (ws === null || this.#closing) return;
    const state = ws.readyState;
    if (state === CONNECTING) {
      this.#closing = true;
      ws.close();
      return;
    }
    if (state !== OPEN) return;
    this.#closing = true;
    // The peer's close frame must be read for the closing handshake to complete.
    if (this.#paused) {
      this.#paused = false;
      ws.resume();
    }
    if (code === undefined) ws.close();
    else ws.close(code, reason);
  }

  #write(chunk: unknown): Promise<void> {
    const ws = this.#ws as WebSocket;
    let data: string | Buffer;
    let binary: boolean;
    if (typeof chunk === 'string') {
      data = chunk;
      binary = false;
    } else if (ArrayBuffer.isView(chunk)) {
      data = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
      binary = true;
    } else if (chunk instanceof ArrayBuffer || (typeof SharedArrayBuffer === 'function' && chunk instanceof SharedArrayBuffer)) {
      data = Buffer.from(chunk);
      binary = true;
    } else {
      // Anything else is converted to a string, as WebIDL converts it to a USVString (a Symbol throws).
      try {
        data = `${chunk as string}`;
      } catch (err) {
        return Promise.reject(err);
      }
      binary = false;
    }
    return new Promise<void>((resolve, reject) => {
      ws.send(data, { binary }, (err?: Error | null) => (err ? reject(err) : resolve()));
    });
  }
}
