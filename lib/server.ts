/**
 * WebSocketServer: ws 8.23's server face (port | server | noServer, handleUpgrade, verifyClient,
 * shouldHandle, handleProtocols, client tracking, close). The opening handshake's rules live in
 * protocol/handshake.ts; this file joins them to HTTP requests and sockets, and hands each upgraded
 * socket to a WebSocket.
 *
 * Order of the server's opening handshake (RFC 6455 §4.2.1 reading the request, §4.2.2 answering):
 * validate the request (method, Upgrade, key, version, `shouldHandle`, subprotocols, extensions) →
 * negotiate extensions → `verifyClient` (sync or async) → drop a socket that is already half-closed →
 * 503 once the server is closing → select a subprotocol → build the 101 lines → 'headers' event →
 * write them → `ws.setSocket` → track the client → `cb(ws, req)`.
 */
import { EventEmitter } from 'events';
import * as http from 'http';
import type * as https from 'https';
import type * as http2 from 'http2';
import type { Duplex } from 'stream';
import { WebSocket } from './websocket';
import type { WebSocketServerEvents } from './types/events';
import type { ConnectionOptions } from './socket/connection-options';
import { PerMessageDeflate, negotiateServer, type DeflateHandshakeOptions, type PerMessageDeflateOptions } from './deflate';
import { DEFAULT_TRANSPORT, kDriver } from './socket/driver';
import { checkTopic, existingHubOf, hubOf, type PubSubAdapter, type PublishOptions, type PublishResult } from './pubsub/hub';
import {
  DEFAULT_CLOSE_TIMEOUT,
  DEFAULT_MAX_BUFFERED_CHUNKS,
  DEFAULT_MAX_FRAGMENTS,
  DEFAULT_MAX_PAYLOAD,
  DEFAULT_MAX_PENDING_AUTO_PONGS,
} from './protocol/constants';
import { format as formatExtensions, type ExtensionOffers, type ExtensionParams } from './protocol/extension';
import {
  HandshakeMessage,
  STATUS_CODES,
  buildAcceptResponse,
  httpErrorResponse,
  serializeResponse,
  validateUpgradeRequest,
} from './protocol/handshake';
import { attachHttp2, handleStream, isHttp2Server, type Http2HandshakeRequest } from './http2/server';
import { acceptOnHandle, type AcceptHook, type PendingAccept } from './transport/accept';
import { TcpTransport } from './transport/tcp-handle';
import { readUpgradeHead } from './protocol/request-head';
import { AcceptedRequest } from './socket/accepted-request';

/** What `verifyClient` is given: the handshake request and what ws derives from it. */
export interface VerifyClientInfo<Request extends http.IncomingMessage = http.IncomingMessage> {
  /**
   * `Origin` (version 13) or `Sec-WebSocket-Origin` (version 8), as the client sent it. Typed `string`
   * as in `@types/ws`, but undefined at run time when the client sent none (as in ws).
   */
  origin: string;
  /** Whether the connection is TLS (`req.socket.authorized || req.socket.encrypted`). */
  secure: boolean;
  /** The handshake request. */
  req: Request;
}

/** The callback of an asynchronous `verifyClient`: a falsy `result` rejects (401 unless `code`). */
export type VerifyClientCallback = (
  result: boolean,
  code?: number,
  message?: string,
  headers?: http.OutgoingHttpHeaders,
) => void;

/** A synchronous `verifyClient`: true accepts the handshake, false rejects it with 401. */
export type VerifyClientCallbackSync<Request extends http.IncomingMessage = http.IncomingMessage> = (
  info: VerifyClientInfo<Request>,
) => boolean;

/** An asynchronous `verifyClient` (it declares two parameters): it answers through `callback`. */
export type VerifyClientCallbackAsync<Request extends http.IncomingMessage = http.IncomingMessage> = (
  info: VerifyClientInfo<Request>,
  callback: VerifyClientCallback,
) => void;

/**
 * `verifyClient`: synchronous (`info → boolean`) or, when it declares two parameters, asynchronous
 * (VerifyClientCallbackSync or VerifyClientCallbackAsync; one signature, so `(info) => ...` is typed).
 */
export type VerifyClient<Request extends http.IncomingMessage = http.IncomingMessage> = (
  info: VerifyClientInfo<Request>,
  callback: VerifyClientCallback,
) => boolean | void;

/** Picks the subprotocol from those the client offered (in its order); false selects none. */
export type HandleProtocols<Request extends http.IncomingMessage = http.IncomingMessage> = (
  protocols: Set<string>,
  request: Request,
) => string | false;

/** The constructor `options.WebSocket` names: weft's `WebSocket` or a class extending it. */
export type WebSocketClass = typeof WebSocket;

/**
 * Options of `new WebSocketServer(options, callback)`; defaults are ws 8.23's. Other keys are kept on
 * `server.options` and reach the WebSocket constructor, as in ws. `T` is the class of the connections
 * (the `WebSocket` option), `U` the class of the handshake requests (the HTTP server's `IncomingMessage`).
 * weft's per-connection options (`heartbeat`, `maxBackpressure`, `backpressurePolicy`, ...) come from
 * ConnectionOptions.
 */
export interface ServerOptions<
  T extends typeof WebSocket = typeof WebSocket,
  U extends typeof http.IncomingMessage = typeof http.IncomingMessage,
> extends ConnectionOptions {
  /** Whether 'message', 'ping' and 'pong' may be emitted several times in one tick. Default `true`. */
  allowSynchronousEvents?: boolean;
  /** Answer pings automatically. Default `true`. */
  autoPong?: boolean;
  /** `listen()` backlog in `port` mode. Default `null` (Node's 511). */
  backlog?: number | null;
  /** Keep the connected clients in `server.clients`. Default `true`. */
  clientTracking?: boolean;
  /** Milliseconds to wait for the closing handshake before destroying the socket. Default 30000. */
  closeTimeout?: number;
  /** Selects the subprotocol. Default `null`: the first one the client offered. */
  handleProtocols?: HandleProtocols<InstanceType<U>> | null;
  /** Host to listen on in `port` mode. Default `null` (all interfaces). */
  host?: string | null;
  /** Most chunks a connection's parser may hold. Default 262144; 0 is unlimited. */
  maxBufferedChunks?: number;
  /** Most frames in one message. Default 16384; 0 is unlimited. */
  maxFragments?: number;
  /** Largest message, in bytes. Default 100 MiB; 0 is unlimited. */
  maxPayload?: number;
  /** Automatic pongs that may await their flush before the connection is dropped. Default 60. */
  maxPendingAutoPongs?: number;
  /** Handle no HTTP server at all: the caller routes upgrades to `handleUpgrade`. Default `false`. */
  noServer?: boolean;
  /** Accept only requests whose pathname is exactly this. Default `null` (any). */
  path?: string | null;
  /** permessage-deflate settings (RFC 7692); `true` means `{}`. Default `false`. */
  perMessageDeflate?: boolean | PerMessageDeflateOptions;
  /** Port of an HTTP server the WebSocketServer creates and listens with. Default `null`. */
  port?: number | null;
  /**
   * An existing HTTP/S server whose 'upgrade' requests this server handles. Default `null`. weft: an
   * `http2` server too — its extended CONNECT streams (RFC 8441) are handled as well (lib/http2/).
   */
  server?: http.Server<U> | https.Server<U> | http2.Http2Server | http2.Http2SecureServer | null;
  /**
   * weft: how each connection's bytes are carried. `'native'` (the default) reads and writes plain TCP
   * connections through Node's TCP handle, past net.Socket's stream layer (less CPU per message); TLS and
   * other streams stay on the stream path, as does every connection where Node's internals are
   * unavailable. `ws._socket` stays the net.Socket. `'stream'` keeps every connection on net.Socket's
   * stream layer (as does `WEFT_TRANSPORT=stream` in the environment, for every socket).
   */
  transport?: 'stream' | 'native';
  /**
   * weft, `port` mode only: where connections are accepted. `'handle'` (opt-in) takes them from the
   * listening TCP handle and reads the request head there: a well-formed WebSocket upgrade is answered
   * without net.Socket or Node's HTTP parser, and `ws._socket` / `req.socket` are made only when first
   * read (less CPU per connect, less memory per connection); every other request — and every upgrade
   * with a `verifyClient`, an overridden `shouldHandle`/`handleUpgrade`/`completeUpgrade`, or a user's
   * 'connection'/'upgrade' listener on the HTTP server — goes to the HTTP server as usual. Where Node's internals are unavailable it is
   * `'server'`, the default: the HTTP server accepts every connection.
   */
  accept?: 'server' | 'handle';
  /** Do not check text messages and close reasons for valid UTF-8. Default `false`. */
  skipUTF8Validation?: boolean;
  /** Accepts or rejects a handshake. Default `null` (accept). */
  verifyClient?: VerifyClient<InstanceType<U>> | null;
  /**
   * The class to instantiate for each connection: weft's `WebSocket` (default) or a subclass; its
   * instances are what 'connection' and `clients` give.
   */
  WebSocket?: T;
  /**
   * weft: how many proxies in front of the server to trust for `ws.remoteAddress`, as Express's `trust
   * proxy` counts hops: `true` is 1 (the right-most `X-Forwarded-For` entry, the one your proxy
   * appended), `n` the n-th entry from the right (the left-most if there are fewer). Entries left of
   * that are the client's to write and never believed. Default `false` (the socket's address).
   */
  trustProxy?: boolean | number;
  /** Accepted and ignored (legacy ws): Hixie-76 is not supported. */
  disableHixie?: boolean;
  /**
   * weft: a scale-out adapter (MemoryPubSub, RedisPubSub) that carries publishes to other nodes; one
   * adapter per server. It stays yours: `server.close()` leaves it open, call `adapter.close()`.
   */
  pubsub?: PubSubAdapter | null;
}

/** `server.options`: the options merged over ws 8.23's defaults. */
export interface ResolvedServerOptions<
  T extends typeof WebSocket = typeof WebSocket,
  U extends typeof http.IncomingMessage = typeof http.IncomingMessage,
> extends ServerOptions<T, U> {
  allowSynchronousEvents: boolean;
  autoPong: boolean;
  backlog: number | null;
  clientTracking: boolean;
  closeTimeout: number;
  handleProtocols: HandleProtocols<InstanceType<U>> | null;
  host: string | null;
  maxBufferedChunks: number;
  maxFragments: number;
  maxPayload: number;
  maxPendingAutoPongs: number;
  noServer: boolean;
  path: string | null;
  perMessageDeflate: false | PerMessageDeflateOptions;
  port: number | null;
  server: http.Server<U> | https.Server<U> | http2.Http2Server | http2.Http2SecureServer | null;
  skipUTF8Validation: boolean;
  transport?: 'stream' | 'native';
  verifyClient: VerifyClient<InstanceType<U>> | null;
  WebSocket: T;
}

/** Callback of `handleUpgrade` / `completeUpgrade`. */
export type UpgradeCallback = (ws: WebSocket, request: http.IncomingMessage) => void;

/**
 * Where `port` mode accepts connections when the `accept` option is not given: `'server'`, unless
 * WEFT_ACCEPT=handle is in the environment (the suites and the bench run both).
 */
const DEFAULT_ACCEPT: 'server' | 'handle' = process.env.WEFT_ACCEPT === 'handle' ? 'handle' : 'server';

/** @internal The server's life cycle, numeric for V8. */
const ServerState = { RUNNING: 0, CLOSING: 1, CLOSED: 2 } as const;

/** A socket with the slot `setSocket` fills (ws's `socket[kWebSocket]`): set means already upgraded. */
type UpgradeSocket = Duplex & { [kDriver]?: unknown };

/**
 * A WebSocket server, ws 8.23's `WebSocketServer`: give it exactly one of `port` (it creates and
 * listens with an HTTP server), `server` (it handles that server's 'upgrade' requests) or
 * `noServer` (the caller hands requests to `handleUpgrade`).
 *
 * Events: `connection(ws, req)`, `headers(lines, req)`, `listening`, `error(err)`, `close`,
 * `wsClientError(err, socket, req)`.
 */
export class WebSocketServer<
  T extends typeof WebSocket = typeof WebSocket,
  U extends typeof http.IncomingMessage = typeof http.IncomingMessage,
> extends EventEmitter {
  /** The options, merged over the defaults (ws's shape; read by integrations and tests). */
  options: ResolvedServerOptions<T, U>;
  /**
   * The connected clients (instances of the `WebSocket` option's class), while `clientTracking` is on;
   * the property is absent otherwise.
   */
  declare clients: Set<InstanceType<T>>;
  /** @internal The HTTP server in use (created in `port` mode, given in `server` mode), or null. */
  _server: http.Server | https.Server | http2.Http2Server | http2.Http2SecureServer | null;
  /** @internal Detaches the listeners put on `_server`, or null. */
  _removeListeners: (() => void) | null;
  /** @internal `accept: 'handle'`: the hook on the listening handle (transport/accept.ts), once listening. */
  _acceptHook: AcceptHook | null;
  /** @internal RUNNING, CLOSING or CLOSED. */
  _state: number;
  /** @internal `close()` was called while clients were connected: emit 'close' when the last goes. */
  _shouldEmitClose: boolean;
  /** @internal The 'close' listener every tracked client shares (one function per server, not per client). */
  private readonly _untrack: (this: WebSocket) => void;

  /**
   * Creates a server. Throws `TypeError` unless exactly one of `port`, `server` and `noServer` is
   * given. `callback` is a 'listening' listener of the server created in `port` mode.
   */
  constructor(options?: ServerOptions<T, U>, callback?: () => void) {
    super();
    const opts: ResolvedServerOptions<T, U> = {
      allowSynchronousEvents: true,
      autoPong: true,
      maxBufferedChunks: DEFAULT_MAX_BUFFERED_CHUNKS,
      maxFragments: DEFAULT_MAX_FRAGMENTS,
      maxPayload: DEFAULT_MAX_PAYLOAD,
      maxPendingAutoPongs: DEFAULT_MAX_PENDING_AUTO_PONGS,
      skipUTF8Validation: false,
      perMessageDeflate: false,
      handleProtocols: null,
      clientTracking: true,
      closeTimeout: DEFAULT_CLOSE_TIMEOUT,
      verifyClient: null,
      noServer: false,
      backlog: null, // null: net's default (511)
      server: null,
      host: null,
      path: null,
      port: null,
      WebSocket: WebSocket as T,
      ...options,
    } as ResolvedServerOptions<T, U>;

    const hasPort = opts.port !== null && opts.port !== undefined;
    if ((hasPort ? 1 : 0) + (opts.server ? 1 : 0) + (opts.noServer ? 1 : 0) !== 1) {
      throw new TypeError('One and only one of the "port", "server", or "noServer" options must be specified');
    }

    this._server = null;
    this._removeListeners = null;
    this._acceptHook = null;
    this._state = ServerState.RUNNING;
    this._shouldEmitClose = false;
    const wss = this;
    this._untrack = function untrack(this: WebSocket): void {
      const clients = wss.clients;
      clients.delete(this as InstanceType<T>);
      if (wss._shouldEmitClose && clients.size === 0) process.nextTick(emitClose, wss);
    };

    if (hasPort) {
      const server = http.createServer(answerUpgradeRequired);
      // net.Server#listen skips the arguments that are null/undefined.
      if ((opts.accept === undefined ? DEFAULT_ACCEPT : opts.accept) === 'handle') server.prependOnceListener('listening', () => hookAccept(this, server));
      server.listen(opts.port as number, opts.host as string, opts.backlog as number, callback);
      this._server = server;
    } else if (opts.server) {
      this._server = opts.server;
    }

    if (this._server !== null) this._removeListeners = this._attach(this._server);

    if ((opts.perMessageDeflate as unknown) === true) opts.perMessageDeflate = {};
    if (opts.clientTracking) this.clients = new Set();
    this.options = opts;
  }

  /**
   * @internal Re-emits the HTTP server's 'listening' and 'error', and handles its 'upgrade' requests (and, on an
   * `http2` server, its WebSocket CONNECT streams).
   */
  private _attach(server: http.Server | https.Server | http2.Http2Server | http2.Http2SecureServer): () => void {
    const onListening = (): void => {
      this.emit('listening');
    };
    const onError = (err: Error): void => {
      this.emit('error', err);
    };
    const emitConnection = (ws: WebSocket, req: http.IncomingMessage | Http2HandshakeRequest): void => {
      this.emit('connection', ws, req);
    };
    const onUpgrade = (req: http.IncomingMessage, socket: Duplex, head: Buffer): void => {
      this.handleUpgrade(req as InstanceType<U>, socket, head, emitConnection);
    };
    server.on('listening', onListening);
    server.on('error', onError);
    server.on('upgrade', onUpgrade);
    // RFC 8441: WebSockets over HTTP/2 streams (lib/http2/server.ts).
    const detachHttp2 = isHttp2Server(server) ? attachHttp2(this, server, emitConnection) : null;
    return () => {
      server.removeListener('listening', onListening);
      server.removeListener('error', onError);
      server.removeListener('upgrade', onUpgrade);
      if (detachHttp2 !== null) detachHttp2();
    };
  }

  /** The `path` option: the only pathname this server accepts ('' when any is). */
  get path(): string {
    return this.options.path || '';
  }

  /** Publishes to every subscriber of `topic` (on every node, with an adapter); returns the local counts. */
  publish(topic: string, data: unknown, options?: PublishOptions): PublishResult {
    return hubOf(this).publish(topic, data, options, null);
  }

  /** How many of this server's sockets are subscribed to `topic`. */
  subscriberCount(topic: string): number {
    checkTopic(topic);
    const hub = existingHubOf(this);
    return hub === undefined ? 0 : hub.subscriberCount(topic);
  }

  /**
   * The address the HTTP server is bound to (`server.address()`), or null when there is none (after
   * `close()`). Throws in `noServer` mode.
   */
  address(): ReturnType<http.Server['address']> {
    if (this.options.noServer) throw new Error('The server is operating in "noServer" mode');
    if (this._server === null) return null;
    return (this._server as http.Server).address();
  }

  /**
   * Stops accepting connections. Existing clients are NOT closed. A server created in `port` mode
   * is closed and 'close' follows its 'close' (so, once every connection is gone); a given server is
   * left running, and 'close' is emitted on the next tick, or, with client tracking, once the last
   * client has closed. `cb` is a one-time 'close' listener; if the server was already closed it gets
   * `Error('The server is not running')`.
   */
  close(cb?: (err?: Error) => void): void {
    if (this._state === ServerState.CLOSED) {
      if (cb) this.once('close', () => cb(new Error('The server is not running')));
      process.nextTick(emitClose, this);
      return;
    }
    if (cb) this.once('close', cb);
    if (this._state === ServerState.CLOSING) return;
    this._state = ServerState.CLOSING;

    const server = this._server;
    if (this._removeListeners !== null) this._removeListeners();
    this._removeListeners = null;
    this._server = null;

    if (this.options.noServer || this.options.server) {
      // Someone else's server (or none): leave it running.
      if (this.clients !== undefined && this.clients.size > 0) this._shouldEmitClose = true;
      else process.nextTick(emitClose, this);
    } else {
      // Our own server: its 'close' waits for every connection, the upgraded ones included.
      if (this._acceptHook !== null) this._acceptHook.detach();
      this._acceptHook = null;
      (server as http.Server).close(() => emitClose(this));
    }
  }

  /**
   * Whether this server handles `req`: with `path` set, the request's pathname (its URL up to any
   * `?`) must equal it. Overridable. Its result is taken by its truth, as ws takes it: the declared type
   * is `@types/ws`'s (so that its subclasses' overrides fit), but a returned Promise counts as true.
   */
  shouldHandle(req: http.IncomingMessage): boolean | Promise<boolean> {
    const path = this.options.path;
    if (path) {
      const url = req.url || '';
      const query = url.indexOf('?');
      const pathname = query === -1 ? url : url.slice(0, query);
      if (pathname !== path) return false;
    }
    return true;
  }

  /**
   * Handles an HTTP Upgrade request on `socket` (a net/tls socket or any Duplex): validates it,
   * asks `verifyClient`, and on success writes the 101 response and calls `cb(ws, req)`. A rejected
   * request is answered with an HTTP error and the socket ended — or, for the checks of the request
   * itself, reported through 'wsClientError' when that event has a listener.
   */
  handleUpgrade(
    req: InstanceType<U>,
    socket: Duplex,
    head: Buffer,
    cb: (client: InstanceType<T>, request: InstanceType<U>) => void,
  ): void {
    // Until the 101 is written, nobody else listens for the socket's errors (Node's HTTP server has
    // let go of it): a reset mid-handshake must destroy the socket, not crash the process.
    socket.on('error', destroySocket);

    const options = this.options;

    // RFC 6455 §4.2.1: read the client's opening handshake (method, Upgrade, Sec-WebSocket-Key,
    // Sec-WebSocket-Version, then `shouldHandle`, Sec-WebSocket-Protocol, Sec-WebSocket-Extensions).
    const result = validateUpgradeRequest(req.method as string, req.headers, {
      parseExtensions: !!options.perMessageDeflate,
      shouldHandle: () => this.shouldHandle(req),
    });
    if (!result.ok) {
      // §4.2.1: "If the server, while reading the handshake, finds that the client did not send a
      // handshake that matches the description below ..., the server MUST stop processing the
      // client's handshake and return an HTTP response with an appropriate error code".
      if (result.clientError) rejectOrReport(this, req, socket, result.status, result.message, result.headers);
      else abortHandshake(socket, result.status, result.message);
      return;
    }

    // §4.2.2 step 4 /extensions/: the extensions the server is ready to use, from the client's offers.
    let extensions: Record<string, AcceptedExtension>;
    try {
      extensions = negotiateExtensions(result.extensionsHeader, result.extensions, options);
    } catch {
      rejectOrReport(this, req, socket, 400, HandshakeMessage.INVALID_EXTENSIONS_REQUEST);
      return;
    }

    if (options.verifyClient) {
      this._verify(req, result.version, (verified, code, message, headers) => {
        if (!verified) {
          abortHandshake(socket, code || 401, message, headers);
          return;
        }
        this.completeUpgrade(extensions, result.key, result.protocols, req, socket, head, cb as UpgradeCallback);
      });
      return;
    }

    this.completeUpgrade(extensions, result.key, result.protocols, req, socket, head, cb as UpgradeCallback);
  }

  /**
   * weft: handles an HTTP/2 extended CONNECT stream (RFC 8441) — `noServer`'s counterpart of
   * `handleUpgrade` for callers that route an `http2` server's streams themselves. `headers` are the
   * stream's request headers (the 'stream' event's second argument); the server's session must have
   * advertised `enableConnectProtocol`. Runs the same checks as `handleUpgrade`, answers `:status 200`
   * (or the same rejection statuses) and calls `cb(ws, req)` with a request-like object.
   */
  handleStream(
    stream: http2.ServerHttp2Stream,
    headers: http2.IncomingHttpHeaders,
    cb: (ws: WebSocket, request: Http2HandshakeRequest) => void,
  ): void {
    handleStream(this, stream, headers, cb);
  }

  /**
   * @internal Asks `verifyClient` (synchronous or asynchronous) about `req`; `done` gets its verdict
   * (and, when refused, the status, message and headers it named).
   */
  _verify(req: http.IncomingMessage, version: number, done: VerifyClientCallback): void {
    const verifyClient = this.options.verifyClient as VerifyClient;
    // §4.2.2 step 2: "The server can perform additional client authentication, for example, by
    // returning a 401 status code"; step 4 /origin/: a server that does not wish to accept the
    // connection "MUST return an appropriate HTTP error code (e.g., 403 Forbidden)". ws: 401 unless
    // verifyClient names another. `secure` reflects step 1 (TLS).
    const transport = req.socket as (Duplex & { authorized?: boolean; encrypted?: boolean }) | undefined;
    const info: VerifyClientInfo = {
      origin: req.headers[version === 8 ? 'sec-websocket-origin' : 'origin'] as string,
      secure: !!(transport && (transport.authorized || transport.encrypted)),
      req,
    };
    if (verifyClient.length === 2) {
      (verifyClient as (info: VerifyClientInfo, callback: VerifyClientCallback) => void)(info, done);
      return;
    }
    // A synchronous refusal is a bare 401, as in ws.
    if ((verifyClient as (info: VerifyClientInfo) => boolean)(info)) done(true);
    else done(false, 401);
  }

  /**
   * @internal ws's semi-private second half of `handleUpgrade`: answers an accepted request with
   * 101, creates the WebSocket and calls `cb(ws, req)`. Throws if the socket was already upgraded.
   */
  completeUpgrade(
    extensions: Record<string, AcceptedExtension>,
    key: string,
    protocols: Set<string>,
    req: http.IncomingMessage,
    socket: Duplex,
    head: Buffer,
    cb: UpgradeCallback,
  ): void {
    // The client may have gone (FIN or reset) while verifyClient was deciding: nothing to answer.
    if (!socket.readable || !socket.writable) {
      socket.destroy();
      return;
    }
    if ((socket as UpgradeSocket)[kDriver] !== undefined) {
      throw new Error(
        'server.handleUpgrade() was called more than once with the same socket, possibly due to a misconfiguration',
      );
    }
    if (this._state !== ServerState.RUNNING) {
      abortHandshake(socket, 503);
      return;
    }

    const ws = this._createClient(protocols, req);

    // §4.2.2: "If the server finishes these steps without aborting the WebSocket handshake, the
    // server considers the WebSocket connection to be established and that the WebSocket connection
    // is in the OPEN state."
    socket.write(this._acceptResponse(ws, extensions, key, req));
    socket.removeListener('error', destroySocket);

    this._startClient(ws, socket, head, req, cb);
  }

  /**
   * @internal The 101 response for `ws` (made by _createClient, its subprotocol chosen), its extensions
   * installed, after the 'headers' listeners have seen the lines.
   */
  _acceptResponse(ws: WebSocket, extensions: Record<string, AcceptedExtension>, key: string, req: http.IncomingMessage): string {
    // §4.2.2 step 5: "If the server chooses to accept the incoming connection, it MUST reply with a
    // valid HTTP response": 5.1 the 101 status line, 5.2 Upgrade, 5.3 Connection, 5.4
    // Sec-WebSocket-Accept, 5.5 Sec-WebSocket-Protocol, 5.6 Sec-WebSocket-Extensions.
    const extensionsHeader = acceptedExtensionsHeader(extensions);
    if (extensionsHeader !== undefined) ws._extensions = extensions;
    const lines = buildAcceptResponse(key, ws._protocol || undefined, extensionsHeader);
    // Listeners may inspect the lines and push their own (cookies, for instance) before they go out.
    this.emit('headers', lines, req);
    return serializeResponse(lines);
  }

  /** @internal Whether new connections are accepted (not once `close()` was called: they get 503). */
  _accepting(): boolean {
    return this._state === ServerState.RUNNING;
  }

  /**
   * @internal The server-side WebSocket of an accepted handshake, its subprotocol selected (§4.2.2
   * step 4 /subprotocol/: "Either a single value representing the subprotocol the server is ready to
   * use or null" — chosen from the client's list only) and kept in `ws._protocol`.
   */
  _createClient(protocols: Set<string>, req: http.IncomingMessage): WebSocket {
    const options = this.options;
    // ws hands the merged options (unknown keys included) to the constructor.
    const ws = new options.WebSocket(null, undefined, options as unknown as Record<string, unknown>);
    // Pub/sub (lib/pubsub/): the socket publishes through this server's topic hub.
    ws._hub = this;
    if (protocols.size > 0) {
      const selected = options.handleProtocols
        ? options.handleProtocols(protocols, req as InstanceType<U>)
        : (protocols.values().next().value as string);
      if (selected) ws._protocol = selected;
    }
    return ws;
  }

  /** @internal Opens `ws` on the accepted `socket`, tracks it and calls `cb(ws, req)`. */
  _startClient(ws: WebSocket, socket: Duplex | TcpTransport, head: Buffer | undefined, req: http.IncomingMessage, cb: UpgradeCallback): void {
    const options = this.options;
    // WebSocket-Node's members: the version spoken, and the client's address as a proxy reports it —
    // only when the server is told to trust one (a header anyone can send is never believed by default).
    if (req.headers['sec-websocket-version'] === '8') ws._protocolVersion = 8;
    if (options.trustProxy) {
      const address = forwardedAddress(req.headers['x-forwarded-for'], options.trustProxy === true ? 1 : Number(options.trustProxy));
      if (address !== '') ws._remoteAddress = address;
    }

    const connection = {
      allowSynchronousEvents: options.allowSynchronousEvents,
      maxBufferedChunks: options.maxBufferedChunks,
      maxFragments: options.maxFragments,
      maxPayload: options.maxPayload,
      maxPendingAutoPongs: options.maxPendingAutoPongs,
      skipUTF8Validation: options.skipUTF8Validation,
      transport: options.transport,
    };
    if (socket instanceof TcpTransport) ws._openOnTransport(socket as TcpTransport, connection);
    else ws.setSocket(socket as Duplex, head, connection);

    if (this.clients !== undefined) {
      this.clients.add(ws as InstanceType<T>);
      ws.on('close', this._untrack);
    }

    cb(ws, req);
  }
}

// ws's events, typed by name (WebSocketServerEvents in types/events.ts); any other name takes any listener.
export interface WebSocketServer<
  T extends typeof WebSocket = typeof WebSocket,
  U extends typeof http.IncomingMessage = typeof http.IncomingMessage,
> {
  /** Adds a listener for `event`; its parameters follow the event (`'connection'`: ws, request). */
  on<K extends keyof WebSocketServerEvents<any, any>>(event: K, listener: (this: this, ...args: WebSocketServerEvents<InstanceType<T>, InstanceType<U>>[K]) => void): this;
  on(event: string | symbol, listener: (this: this, ...args: any[]) => void): this;
  /** Adds a listener for the next `event` only. */
  once<K extends keyof WebSocketServerEvents<any, any>>(event: K, listener: (this: this, ...args: WebSocketServerEvents<InstanceType<T>, InstanceType<U>>[K]) => void): this;
  once(event: string | symbol, listener: (this: this, ...args: any[]) => void): this;
  /** Removes a listener. */
  off<K extends keyof WebSocketServerEvents<any, any>>(event: K, listener: (this: this, ...args: WebSocketServerEvents<InstanceType<T>, InstanceType<U>>[K]) => void): this;
  off(event: string | symbol, listener: (this: this, ...args: any[]) => void): this;
  /** Adds a listener for `event` (as `on`). */
  addListener<K extends keyof WebSocketServerEvents<any, any>>(event: K, listener: (this: this, ...args: WebSocketServerEvents<InstanceType<T>, InstanceType<U>>[K]) => void): this;
  addListener(event: string | symbol, listener: (this: this, ...args: any[]) => void): this;
  /** Removes a listener (as `off`). */
  removeListener<K extends keyof WebSocketServerEvents<any, any>>(event: K, listener: (this: this, ...args: WebSocketServerEvents<InstanceType<T>, InstanceType<U>>[K]) => void): this;
  removeListener(event: string | symbol, listener: (this: this, ...args: any[]) => void): this;
  /** Adds a listener before the others of `event`. */
  prependListener<K extends keyof WebSocketServerEvents<any, any>>(event: K, listener: (this: this, ...args: WebSocketServerEvents<InstanceType<T>, InstanceType<U>>[K]) => void): this;
  prependListener(event: string | symbol, listener: (this: this, ...args: any[]) => void): this;
  /** Adds a one-time listener before the others of `event`. */
  prependOnceListener<K extends keyof WebSocketServerEvents<any, any>>(event: K, listener: (this: this, ...args: WebSocketServerEvents<InstanceType<T>, InstanceType<U>>[K]) => void): this;
  prependOnceListener(event: string | symbol, listener: (this: this, ...args: any[]) => void): this;
}

/** ws's other name for the class (`require('ws').Server`). */
export { WebSocketServer as Server };

// --- Extension negotiation: THE SEAM for permessage-deflate -------------------------------------------

/**
 * An extension the server agreed to, as ws keeps it in `ws._extensions` (e.g. a PerMessageDeflate):
 * `params` are the parameters of the response offer.
 */
export interface AcceptedExtension {
  params: ExtensionParams | Record<string, unknown>;
}

/**
 * THE EXTENSION SEAM. Picks the extensions to use from the client's offers (RFC 6455 §9.1) and
 * returns them by name: ws's `extensions` object, which `completeUpgrade` takes, installs as
 * `ws._extensions` and answers with `acceptedExtensionsHeader`. `offersHeader` is the raw
 * `Sec-WebSocket-Extensions` value (undefined when absent); `offers` the same parsed, or null when
 * absent or when `options.perMessageDeflate` is off (only then does ws parse it). Throwing rejects the
 * handshake with 400 `Invalid or unacceptable Sec-WebSocket-Extensions header`.
 *
 * permessage-deflate is a later issue. When it lands it is negotiated here — with
 * `options.perMessageDeflate` and `options.maxPayload`, from `offers['permessage-deflate']` — and
 * returned as `{ 'permessage-deflate': instance }`, the instance carrying the accepted parameters in
 * `params` (ws's shape). Until then nothing is offered or accepted, whatever the options say.
 */
function negotiateExtensions(
  offersHeader: string | undefined,
  offers: ExtensionOffers | null,
  options: ResolvedServerOptions,
): Record<string, AcceptedExtension> {
  void offers; // negotiateServer parses the raw header itself, with ws's rules
  const negotiated = negotiateServer(offersHeader, options as DeflateHandshakeOptions);
  return negotiated === null ? {} : { [PerMessageDeflate.extensionName]: negotiated.extension as unknown as AcceptedExtension };
}

/** The `Sec-WebSocket-Extensions` response value for the accepted extensions, or undefined if none. */
function acceptedExtensionsHeader(extensions: Record<string, AcceptedExtension>): string | undefined {
  const names = Object.keys(extensions);
  if (names.length === 0) return undefined;
  const response: Record<string, Record<string, unknown>[]> = {};
  for (const name of names) response[name] = [extensions[name].params as Record<string, unknown>];
  return formatExtensions(response);
}

// --- helpers (module-level: no closure per connection) -----------------------------------------------

/** `port` mode's answer to a plain HTTP request: 426 Upgrade Required, as ws answers it. */
function answerUpgradeRequired(_req: http.IncomingMessage, res: http.ServerResponse): void {
  const body = STATUS_CODES[426];
  res.writeHead(426, { 'Content-Length': body.length, 'Content-Type': 'text/plain' });
  res.end(body);
}

/**
 * `accept: 'handle'`, once the server listens: hooks its listening handle (transport/accept.ts) so that
 * upgrades are accepted there. Where that cannot be done the server stays as it is.
 */
function hookAccept(wss: WebSocketServer, server: http.Server): void {
  if (wss._state !== ServerState.RUNNING || wss._server !== server) return;
  // A server on the stream transport keeps every connection on a net.Socket from the start.
  const transport = wss.options.transport;
  if ((transport === undefined ? DEFAULT_TRANSPORT : transport) === 'stream') return;
  wss._acceptHook = acceptOnHandle(server, {
    onRequestHead: (pending, bytes, end) => upgradeOnHandle(wss, server, pending, bytes, end),
  });
}

/**
 * A request head read on the listening handle: when it is a well-formed upgrade this server accepts as
 * it stands — no verifyClient, no step of the upgrade overridden, no other 'upgrade' listener, every check
 * of handleUpgrade passed — answers it with 101 on the connection's handle and opens the WebSocket
 * (what handleUpgrade and completeUpgrade do, without a net.Socket). Returns false for everything else:
 * the HTTP server then gets the connection and answers it the usual way (refusals included).
 */
function upgradeOnHandle(wss: WebSocketServer, server: http.Server, pending: PendingAccept, bytes: Buffer, end: number): boolean {
  const options = wss.options;
  if (!wss._accepting() || options.verifyClient || overridesUpgrade(wss)) return false;
  if (server.listenerCount('upgrade') !== 1) return false;
  // (Node's parser takes at most maxHeadersCount lines: 2000 unless set; 0 is no limit.)
  const maxHeaders = server.maxHeadersCount;
  const head = readUpgradeHead(bytes, end, maxHeaders === null || maxHeaders === undefined ? 2000 : maxHeaders === 0 ? Infinity : maxHeaders);
  if (head === null) return false;
  const req = new AcceptedRequest(head.url, head.rawHeaders);
  if (wss.shouldHandle(req) !== true) return false;
  const result = validateUpgradeRequest('GET', req.headers, { parseExtensions: !!options.perMessageDeflate });
  if (!result.ok) return false;
  let extensions: Record<string, AcceptedExtension>;
  try {
    extensions = negotiateExtensions(result.extensionsHeader, result.extensions, options);
  } catch {
    return false;
  }

  // Accepted: from here on as completeUpgrade, on the connection's transport.
  const transport = pending.take(bytes, end);
  req.setTransport(transport);
  const ws = wss._createClient(result.protocols, req);
  transport.write(Buffer.from(wss._acceptResponse(ws, extensions, result.key, req)), null);
  wss._startClient(ws, transport, undefined, req, emitConnectionOnHub);
  return true;
}

/**
 * Whether code replaced a step of the upgrade (a subclass, or an own property as PeerAdapter sets):
 * such a server's upgrades all go through handleUpgrade, where that code runs.
 */
function overridesUpgrade(wss: WebSocketServer): boolean {
  const proto = WebSocketServer.prototype;
  return wss.shouldHandle !== proto.shouldHandle || wss.handleUpgrade !== proto.handleUpgrade || wss.completeUpgrade !== proto.completeUpgrade;
}

/** The 'connection' event of the server `ws` was accepted by (its hub, set by _createClient). */
function emitConnectionOnHub(ws: WebSocket, req: http.IncomingMessage): void {
  (ws._hub as WebSocketServer).emit('connection', ws, req);
}

/** Marks the server closed and emits 'close'. */
function emitClose(server: WebSocketServer): void {
  server._state = ServerState.CLOSED;
  server.emit('close');
}

/** Listener (for 'error' while upgrading, 'finish' after a refusal) that destroys its socket. */
function destroySocket(this: Duplex): void {
  this.destroy();
}

/**
 * Refuses the handshake: writes an HTTP error response (ws's exact bytes), ends the socket and
 * destroys it once the response is flushed.
 */
function abortHandshake(
  socket: Duplex,
  status: number,
  message?: string,
  headers?: http.OutgoingHttpHeaders | Record<string, string>,
): void {
  socket.once('finish', destroySocket);
  socket.end(httpErrorResponse(status, message, headers as Record<string, string | number> | undefined));
}

/**
 * A request that fails the handshake checks: reported as 'wsClientError' (err, socket, req) when
 * someone listens — the listener then owns the socket — or answered with the HTTP error.
 */
function rejectOrReport(
  server: WebSocketServer,
  req: http.IncomingMessage,
  socket: Duplex,
  status: number,
  message: string,
  headers?: Record<string, string>,
): void {
  if (server.listenerCount('wsClientError') > 0) {
    const err = new Error(message);
    Error.captureStackTrace(err, rejectOrReport);
    server.emit('wsClientError', err, socket, req);
    return;
  }
  abortHandshake(socket, status, message, headers);
}

/**
 * The client address `hops` trusted proxies vouch for: the `hops`-th `X-Forwarded-For` entry from the
 * right (each proxy appends the address it received from), the left-most when there are fewer; ''
 * for none or a count that is not a positive integer.
 */
export function forwardedAddress(header: string | string[] | undefined, hops: number): string {
  if (typeof header !== 'string' || !(hops >= 1)) return '';
  const entries = header.split(',');
  const entry = entries[Math.max(0, entries.length - Math.floor(hops))];
  return entry.trim();
}
