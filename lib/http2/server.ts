/**
 * WebSockets over HTTP/2 (RFC 8441), server side: a WebSocketServer given an `http2` server advertises
 * SETTINGS_ENABLE_CONNECT_PROTOCOL, takes the extended CONNECT streams whose `:protocol` is
 * `websocket`, runs the opening handshake's checks on them (protocol/handshake.ts, deflate/) and runs
 * the WebSocket on the stream itself: the stream is the Duplex `setSocket` is given.
 *
 * Order, as `handleUpgrade`'s: validate the request (`:method`, `:protocol`, version, `shouldHandle`,
 * subprotocols, extensions) → negotiate extensions → `verifyClient` → drop a stream that is already
 * gone → 503 once the server is closing → select a subprotocol → 'headers' event → `:status 200` →
 * `ws.setSocket(stream)` → track the client → `cb(ws, req)`.
 */
import type * as http2 from 'http2';
import type { IncomingMessage } from 'http';
import type { Duplex } from 'stream';
import type { WebSocket } from '../websocket';
import type { WebSocketServer } from '../server';
import { kDriver } from '../socket/driver';
import { negotiateServer, PerMessageDeflate } from '../deflate';
import { HandshakeMessage, STATUS_CODES, validateConnectRequest, type HttpHeaders } from '../protocol/handshake';

// HTTP/2 error codes (RFC 9113 §7; Node's http2.constants.NGHTTP2_*), written here so that loading weft
// does not load Node's http2 module, a third of `require('weft')` for servers that never see HTTP/2
// (test/package/startup.test.js). http2/client.ts loads it when it opens a session.
const NGHTTP2_NO_ERROR = 0x0;
export const NGHTTP2_CANCEL = 0x8;

/** An `http2` server: what `new WebSocketServer({ server })` may be given besides an `http`/`https` one. */
export type Http2AnyServer = http2.Http2Server | http2.Http2SecureServer;

/** Callback of `handleStream`: the opened WebSocket and the request-like object of its CONNECT. */
export type StreamCallback = (ws: WebSocket, request: Http2HandshakeRequest) => void;

/** Marks a stream a WebSocketServer took, so the `'connect'` guard below leaves it alone. */
const kClaimed = Symbol('weft-http2-claimed');

type ClaimedStream = http2.ServerHttp2Stream & { [kClaimed]?: boolean; [kDriver]?: unknown };

/** Whether `server` is one of Node's `http2` servers (they alone have `updateSettings`). */
export function isHttp2Server(server: object): server is Http2AnyServer {
  return typeof (server as { updateSettings?: unknown }).updateSettings === 'function';
}

/**
 * What `'connection'`, `verifyClient`, `shouldHandle` and `handleProtocols` are given for an HTTP/2
 * handshake, in place of an `http.IncomingMessage`: the fields those read, with HTTP/1.1's names.
 * `headers` has the regular header fields (lower-case) plus `host` from `:authority`; the
 * pseudo-header fields stay readable as `authority`, `scheme` and `url` (`:path`).
 */
export class Http2HandshakeRequest {
  /** Always `'CONNECT'` (RFC 8441 §4). */
  readonly method = 'CONNECT';
  readonly httpVersion = '2.0';
  readonly httpVersionMajor = 2;
  readonly httpVersionMinor = 0;
  /** `:path`: the request target, query included. */
  readonly url: string;
  /** `:authority`. */
  readonly authority: string | undefined;
  /** `:scheme` (`https` or `http`). */
  readonly scheme: string | undefined;
  /** The header fields, lower-case, without pseudo-headers; `host` is `:authority`. */
  readonly headers: Record<string, string | string[] | undefined>;
  /** The session's socket (Node's proxy over the TLS or TCP socket: `encrypted`, `remoteAddress`, ...). */
  readonly socket: Duplex;
  /** The stream the WebSocket runs on. */
  readonly stream: http2.ServerHttp2Stream;

  constructor(stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders) {
    const plain: Record<string, string | string[] | undefined> = {};
    for (const name of Object.keys(headers)) {
      if (name.charCodeAt(0) !== 0x3a /* ':' */) plain[name] = headers[name];
    }
    const authority = headers[':authority'];
    if (authority !== undefined && plain.host === undefined) plain.host = authority;
    this.headers = plain;
    this.url = headers[':path'] || '/';
    this.authority = authority;
    this.scheme = headers[':scheme'];
    this.stream = stream;
    this.socket = stream.session !== undefined ? (stream.session.socket as Duplex) : (undefined as unknown as Duplex);
  }

  /** Node's name for the socket. */
  get connection(): Duplex {
    return this.socket;
  }
}

/**
 * Attaches `wss` to an `http2` server: turns on SETTINGS_ENABLE_CONNECT_PROTOCOL (RFC 8441 §3) for the
 * sessions it opens from now on, and takes its WebSocket CONNECT streams. Returns the detacher.
 *
 * Node's compatibility layer (present once the server has a `'request'` listener) answers every
 * CONNECT with 405 unless a `'connect'` listener exists: the guard installed here claims the
 * WebSocket streams first, and keeps the 405 for any other CONNECT while it is the only listener.
 */
export function attachHttp2(wss: WebSocketServer, server: Http2AnyServer, cb: StreamCallback): () => void {
  server.updateSettings({ enableConnectProtocol: true });
  const onStream = (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders): void => {
    if (!isWebSocketConnect(headers)) return;
    (stream as ClaimedStream)[kClaimed] = true;
    handleStream(wss, stream, headers, cb);
  };
  const onConnect = (req: http2.Http2ServerRequest, res: http2.Http2ServerResponse): void => {
    if ((req.stream as ClaimedStream)[kClaimed] === true) return;
    if (server.listenerCount('connect') === 1) {
      res.statusCode = 405;
      res.end();
    }
  };
  // First in line: the compatibility layer's own 'stream' listener must find the stream claimed.
  server.prependListener('stream', onStream);
  server.on('connect', onConnect);
  return () => {
    server.removeListener('stream', onStream);
    server.removeListener('connect', onConnect);
  };
}

/** Whether a stream's request is an extended CONNECT for a WebSocket (RFC 8441 §4, §5). */
function isWebSocketConnect(headers: http2.IncomingHttpHeaders): boolean {
  const protocol = headers[':protocol'];
  return headers[':method'] === 'CONNECT' && typeof protocol === 'string' && protocol.toLowerCase() === 'websocket';
}

/**
 * Handles one extended CONNECT stream: the HTTP/2 counterpart of `handleUpgrade` (RFC 8441 §5 —
 * "The Sec-WebSocket-Version, Sec-WebSocket-Protocol and Sec-WebSocket-Extensions header fields are
 * used as in RFC 6455"; a 2xx status accepts). A rejection is answered with the status and message
 * the HTTP/1.1 handshake would get (never through 'wsClientError': its listeners write HTTP/1.1 bytes).
 */
export function handleStream(
  wss: WebSocketServer,
  stream: http2.ServerHttp2Stream,
  headers: http2.IncomingHttpHeaders,
  cb: StreamCallback,
): void {
  // Until the stream is handed to the WebSocket, a reset must not become an unhandled 'error'.
  stream.on('error', destroyStream);
  const options = wss.options;
  const req = new Http2HandshakeRequest(stream, headers);
  const request = req as unknown as IncomingMessage;

  const result = validateConnectRequest(headers as HttpHeaders, {
    parseExtensions: !!options.perMessageDeflate,
    shouldHandle: () => wss.shouldHandle(request),
  });
  if (!result.ok) {
    refuse(stream, result.status, result.message, result.headers);
    return;
  }

  let negotiated: ReturnType<typeof negotiateServer>;
  try {
    negotiated = negotiateServer(result.extensionsHeader, options);
  } catch {
    refuse(stream, 400, HandshakeMessage.INVALID_EXTENSIONS_REQUEST);
    return;
  }

  if (options.verifyClient) {
    wss._verify(request, result.version, (verified, code, message, extra) => {
      if (!verified) {
        refuse(stream, code || 401, message, extra as Record<string, string | number> | undefined);
        return;
      }
      accept(wss, stream, req, result.protocols, negotiated, cb);
    });
    return;
  }
  accept(wss, stream, req, result.protocols, negotiated, cb);
}

/** The accepting half: `:status 200` with the selected subprotocol and extensions, then the WebSocket. */
function accept(
  wss: WebSocketServer,
  stream: http2.ServerHttp2Stream,
  req: Http2HandshakeRequest,
  protocols: Set<string>,
  negotiated: ReturnType<typeof negotiateServer>,
  cb: StreamCallback,
): void {
  // The client may have reset the stream (or the session gone) while verifyClient was deciding.
  if (stream.destroyed || stream.closed || stream.headersSent) {
    if (!stream.destroyed) stream.close(NGHTTP2_CANCEL);
    return;
  }
  if ((stream as ClaimedStream)[kDriver] !== undefined) {
    throw new Error('server.handleStream() was called more than once with the same stream');
  }
  if (!wss._accepting()) {
    refuse(stream, 503);
    return;
  }

  const request = req as unknown as IncomingMessage;
  const ws = wss._createClient(protocols, request);
  // The response in HTTP/1.1's line form, so 'headers' listeners may read it and push their own lines.
  const lines = ['HTTP/2 200'];
  if (ws._protocol) lines.push(`Sec-WebSocket-Protocol: ${ws._protocol}`);
  if (negotiated !== null) {
    ws._extensions = { [PerMessageDeflate.extensionName]: negotiated.extension };
    lines.push(`Sec-WebSocket-Extensions: ${negotiated.header}`);
  }
  wss.emit('headers', lines, request);

  // RFC 8441 §5: "a successful response ... 2xx"; no Sec-WebSocket-Accept.
  stream.respond(responseHeaders(lines), { endStream: false });
  stream.removeListener('error', destroyStream);
  cancelOnDestroy(stream);
  // The stream has no address of its own: the session's socket has it (trustProxy may override it).
  const address = (req.socket as Duplex & { remoteAddress?: string } | undefined)?.remoteAddress;
  if (address !== undefined) ws._remoteAddress = address;
  wss._startClient(ws, stream, undefined, request, cb as unknown as Parameters<WebSocketServer['_startClient']>[4]);
}

/** HTTP/2 response headers from the handshake lines (HTTP/1.1 connection-specific fields dropped). */
function responseHeaders(lines: readonly string[]): http2.OutgoingHttpHeaders {
  const out: http2.OutgoingHttpHeaders = { ':status': 200 };
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i];
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    if (CONNECTION_SPECIFIC.has(name)) continue;
    const value = line.slice(colon + 1).trim();
    const previous = out[name];
    if (previous === undefined) out[name] = value;
    else out[name] = Array.isArray(previous) ? [...previous, value] : [String(previous), value];
  }
  return out;
}

/** Fields HTTP/2 forbids (RFC 9113 §8.2.2) or that RFC 8441 does not use. */
const CONNECTION_SPECIFIC: ReadonlySet<string> = new Set([
  'connection',
  'upgrade',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'sec-websocket-accept',
]);

/**
 * Answers a refused handshake with `status`, `message` as the body (the reason phrase when empty), as
 * the HTTP/1.1 path does, then closes the stream (RST_STREAM NO_ERROR once the response is out: the
 * client's half has nothing more to say).
 */
function refuse(stream: http2.ServerHttp2Stream, status: number, message?: string, headers?: Record<string, string | number>): void {
  if (stream.destroyed || stream.closed) return;
  if (stream.headersSent) {
    stream.close(NGHTTP2_CANCEL);
    return;
  }
  const body = message || STATUS_CODES[status] || '';
  const out: http2.OutgoingHttpHeaders = {
    ':status': status,
    'content-type': 'text/html',
    'content-length': Buffer.byteLength(body),
  };
  if (headers !== undefined) {
    for (const name of Object.keys(headers)) {
      const lower = name.toLowerCase();
      if (!CONNECTION_SPECIFIC.has(lower)) out[lower] = headers[name];
    }
  }
  stream.respond(out);
  stream.once('finish', closeStream);
  stream.end(body);
}

function closeStream(this: http2.ServerHttp2Stream): void {
  if (!this.closed) this.close(NGHTTP2_NO_ERROR);
}

function destroyStream(this: Duplex): void {
  this.destroy();
}

/**
 * RFC 8441 §5: "An RST_STREAM with error code CANCEL (0x8) is the equivalent of a TCP RST in the 'fail
 * the WebSocket connection' case". The WebSocket destroys its socket to fail the connection (terminate,
 * close timeout): on this stream that sends RST_STREAM(CANCEL) instead of Node's NO_ERROR. A clean
 * close never gets here — both sides' END_STREAM close the stream first.
 */
export function cancelOnDestroy(stream: http2.Http2Stream): void {
  (stream as Duplex).destroy = destroyWithCancel;
}

function destroyWithCancel(this: http2.Http2Stream, err?: Error | null): http2.Http2Stream {
  if ((err === undefined || err === null) && !this.closed && !this.destroyed) {
    // close() sends the RST_STREAM and destroys the stream once nghttp2 has closed it.
    this.close(NGHTTP2_CANCEL);
    return this;
  }
  return (Object.getPrototypeOf(this) as { destroy(this: http2.Http2Stream, err?: Error | null): http2.Http2Stream }).destroy.call(this, err);
}
