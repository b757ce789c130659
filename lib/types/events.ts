/**
 * The types of what a WebSocket and a WebSocketServer emit, and of the callbacks they call: the
 * event-name → listener-arguments maps that type `on`/`once`/`off`/... (websocket.ts and server.ts
 * declare the overloads), shaped as `@types/ws` types ws's events. Types only: nothing here runs.
 */
import type { ClientRequest, IncomingMessage } from 'http';
import type { Duplex } from 'stream';

/**
 * A received message as the 'message' event delivers it: a Buffer (text messages too), or with
 * `binaryType` 'arraybuffer' an ArrayBuffer, with 'fragments' the frames' Buffers. (With 'blob', a
 * binary message is a Blob: `binaryType` 'blob' is weft's and ws 8.18's, `@types/ws` leaves it out.)
 */
export type RawData = Buffer | ArrayBuffer | Buffer[];

/** A message payload: a string, or any `RawData`. */
export type Data = string | Buffer | ArrayBuffer | Buffer[];

/**
 * What `send()` (and `ping()`/`pong()`) accept: a string (sent as text unless `binary`), a number
 * (sent as its decimal string), or bytes — Buffer, any TypedArray, DataView, ArrayBuffer, Blob, or an
 * array of byte values / an object whose `valueOf()` gives one of these (as `Buffer.from` takes).
 */
export type BufferLike =
  | string
  | number
  | Buffer
  | DataView
  | ArrayBufferView
  | ArrayBuffer
  | SharedArrayBuffer
  | Blob
  | readonly any[]
  | readonly number[]
  | { valueOf(): ArrayBuffer }
  | { valueOf(): SharedArrayBuffer }
  | { valueOf(): Uint8Array }
  | { valueOf(): readonly number[] }
  | { valueOf(): string }
  | { [Symbol.toPrimitive](hint: string): string };

/**
 * The callback of `send()`, `ping()` and `pong()`: called once the frame was handed to the socket
 * (with no error: `null` or `undefined`), or with the Error that kept it from being sent (the socket
 * was not open, or was destroyed first). Declared as a method so that callbacks typed
 * `(err?: Error) => void` or `(err: Error) => void`, as `@types/ws` has them, are accepted too.
 */
export type SendCallback = { bivarianceHack(err?: Error | null): void }['bivarianceHack'];

/** One data frame, as the 'frame' event delivers it when `assembleFragments: false` is set. */
export interface FrameEvent {
  /** 0x1 (text), 0x2 (binary) or 0x0 (continuation). */
  opcode: number;
  /** Whether this is the message's last frame. */
  fin: boolean;
  /** The frame's payload, unmasked. */
  payload: Buffer;
  /** The same Buffer as `payload` (WebSocket-Node's name). */
  binaryPayload: Buffer;
}

/**
 * A WebSocket's events and the arguments their listeners get: `ws.on('message', (data, isBinary) => ...)`.
 * Other event names take any listener.
 */
export interface WebSocketEvents {
  /** The connection is open (after the opening handshake). */
  open: [];
  /** A message arrived: `data` per `binaryType` (text is a Buffer too), `isBinary` false for text. */
  message: [data: RawData, isBinary: boolean];
  /** The connection closed: the peer's status code (1005 none given, 1006 no close frame) and reason. */
  close: [code: number, reason: Buffer];
  /** The connection failed (protocol violation: the Error has a `code` such as 'WS_ERR_INVALID_OPCODE'). */
  error: [error: Error];
  /** A ping arrived (already answered unless `autoPong: false`). */
  ping: [data: Buffer];
  /** A pong arrived. */
  pong: [data: Buffer];
  /** Client: the server's 101 response, before 'open'. */
  upgrade: [request: IncomingMessage];
  /** Client: a redirect is being followed (`followRedirects`). */
  redirect: [url: string, request: ClientRequest];
  /** Client: the server answered the handshake with something other than 101 (no 'error' then). */
  'unexpected-response': [request: ClientRequest, response: IncomingMessage];
  /** weft: the socket's write buffer emptied after a send returned BACKPRESSURE. */
  drain: [];
  /** weft: one data frame, only with the WebSocket-Node option `assembleFragments: false`. */
  frame: [frame: FrameEvent];
}

/**
 * A WebSocketServer's events and their listeners' arguments; `W` is the connections' class (the
 * `WebSocket` option), `R` the request's (`IncomingMessage` or the HTTP server's `IncomingMessage` option).
 */
export interface WebSocketServerEvents<W, R> {
  /** A client completed the opening handshake. */
  connection: [socket: W, request: R];
  /** The HTTP server failed (`port` and `server` modes). */
  error: [error: Error];
  /** The 101 response's lines, before they are written: push to add headers. */
  headers: [headers: string[], request: R];
  /** The server closed (after `close()`, once the HTTP server and the clients are gone). */
  close: [];
  /** The HTTP server is listening (`port` and `server` modes). */
  listening: [];
  /** A handshake was refused; with a listener, the server leaves the socket to it. */
  wsClientError: [error: Error, socket: Duplex, request: R];
}
