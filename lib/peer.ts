/**
 * The hooks/Peer face, as crossws defines it: `upgrade(request)`, `open(peer)`, `message(peer, message)`,
 * `close(peer, { code, reason })`, `error(peer, error)`, `drain(peer)`, over weft's WebSocketServer.
 *
 * ```js
 * const peers = new PeerAdapter({ hooks: { message(peer, m) { peer.publish('chat', m.text()); } } });
 * httpServer.on('upgrade', peers.handleUpgrade);          // the Express pattern
 * // or: new PeerAdapter({ hooks, wss: existingWeftServer }) — port, server or noServer mode
 * ```
 *
 * A Peer is created per connection (the face is opt-in); the WebSocket's listeners are module-level
 * functions that find their Peer in a WeakMap, so a connection carries no closures.
 */
import * as http from 'http';
import type { Duplex } from 'stream';
import { randomUUID } from 'crypto';
import { WebSocket } from './websocket';
import { WebSocketServer, type ServerOptions } from './server';
import type { SendOptions, SendStatusValue } from './websocket';
import type { BufferLike } from './types/events';
import type { PublishOptions, PublishResult } from './pubsub/hub';
import { toArrayBuffer } from './util/convert';
import { peerAddressOf } from './socket/conveniences';


type MaybePromise<T> = T | Promise<T>;

/** What `upgrade` may return to accept: headers to add to the 101 response, context to merge. */
export interface UpgradeAccept {
  headers?: HeadersLike;
  context?: Record<string, unknown>;
}

/** What `upgrade` may return or throw to refuse: a `Response`, or a plain status/headers/body. */
export interface UpgradeReject {
  status: number;
  statusText?: string;
  headers?: HeadersLike;
  body?: string | Uint8Array;
}

/** Headers as a Headers object, a list of pairs or a record. */
export type HeadersLike = Headers | [string, string][] | Record<string, string | string[]>;

/** The hooks (all optional). Errors thrown (or rejected) by a hook go to the `error` hook when there is one. */
export interface Hooks {
  /**
   * Before the handshake completes. Set `request.context`; return `{ headers, context }` to accept
   * (headers are added to the 101 response), or return/throw a `Response` or `{ status, headers, body }`
   * to refuse with that HTTP response.
   */
  upgrade?(request: UpgradeRequest): MaybePromise<UpgradeAccept | UpgradeReject | Response | void>;
  /** A connection is open. */
  open?(peer: Peer): MaybePromise<void>;
  /** A message arrived. */
  message?(peer: Peer, message: Message): MaybePromise<void>;
  /** The connection is closed (`reason` is a string). */
  close?(peer: Peer, details: { code: number; reason: string }): MaybePromise<void>;
  /** The connection failed (a protocol error, a socket error) or a hook threw. */
  error?(peer: Peer, error: Error): MaybePromise<void>;
  /** The peer's send buffer drained after backpressure: sending may go on. */
  drain?(peer: Peer): MaybePromise<void>;
}

/** The upgrade request, Request-like: `url`, `method`, `headers` (a Headers), and a mutable `context`. */
export class UpgradeRequest {
  /** The full URL (http: or https: by the socket's encryption). */
  readonly url: string;
  /** The HTTP method (GET). */
  readonly method: string;
  /** Per-connection data shared with the Peer (`peer.context`). */
  context: Record<string, unknown>;
  /** The Node request it was made from. */
  readonly node: { req: http.IncomingMessage };
  /** @internal */
  private _headers: Headers | null;

  constructor(req: http.IncomingMessage, context: Record<string, unknown> = {}) {
    const encrypted = !!(req.socket as { encrypted?: boolean } | undefined)?.encrypted;
    this.url = `${encrypted ? 'https' : 'http'}://${req.headers.host || 'localhost'}${req.url || '/'}`;
    this.method = req.method || 'GET';
    this.context = context;
    this.node = { req };
    this._headers = null;
  }

  /** The request headers (built on first use). */
  get headers(): Headers {
    if (this._headers === null) {
      const headers = new Headers();
      const raw = this.node.req.headers;
      for (const name of Object.keys(raw)) {
        const value = raw[name];
        if (Array.isArray(value)) for (const v of value) headers.append(name, v);
        else if (value !== undefined) headers.set(name, value);
      }
      this._headers = headers;
    }
    return this._headers;
  }
}

/** A received message; every conversion is computed once and cached. */
export class Message {
  /** The message as the WebSocket delivered it. */
  readonly rawData: Buffer;
  /** Whether it arrived as a binary message. */
  readonly isBinary: boolean;
  /** The peer it came from. */
  readonly peer: Peer;
  /** @internal */
  private _id: string | undefined;
  /** @internal */
  private _text: string | undefined;
  /** @internal */
  private _json: { value: unknown } | undefined;
  /** @internal */
  private _u8: Uint8Array | undefined;
  /** @internal */
  private _ab: ArrayBuffer | undefined;
  /** @internal */
  private _blob: Blob | undefined;

  constructor(rawData: Buffer, isBinary: boolean, peer: Peer) {
    this.rawData = rawData;
    this.isBinary = isBinary;
    this.peer = peer;
    this._id = undefined;
    this._text = undefined;
    this._json = undefined;
    this._u8 = undefined;
    this._ab = undefined;
    this._blob = undefined;
  }

  /** A uuid v4 for this message (made on first use). */
  get id(): string {
    if (this._id === undefined) this._id = randomUUID();
    return this._id;
  }

  /** The message as UTF-8 text. */
  text(): string {
    if (this._text === undefined) this._text = this.rawData.toString('utf8');
    return this._text;
  }

  /** The text parsed as JSON (throws a SyntaxError for invalid JSON; the result is cached). */
  json<T = unknown>(): T {
    if (this._json === undefined) this._json = { value: JSON.parse(this.text()) };
    return this._json.value as T;
  }

  /** The bytes as a Uint8Array (a view, no copy). */
  uint8Array(): Uint8Array {
    if (this._u8 === undefined) {
      const b = this.rawData;
      this._u8 = new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
    }
    return this._u8;
  }

  /** The bytes as an ArrayBuffer of exactly the message's length. */
  arrayBuffer(): ArrayBuffer {
    if (this._ab === undefined) this._ab = toArrayBuffer(this.rawData);
    return this._ab;
  }

  /** The bytes as a Blob. */
  blob(): Blob {
    if (this._blob === undefined) this._blob = new Blob([this.uint8Array()]);
    return this._blob;
  }

  /** The text. */
  toString(): string {
    return this.text();
  }
}

/** One connection, as the hooks see it. */
export class Peer {
  /** The weft WebSocket (ws's API, and more). */
  readonly websocket: WebSocket;
  /** Per-connection data, the object `upgrade` filled in as `request.context`. */
  readonly context: Record<string, unknown>;
  /** The adapter this peer belongs to. */
  readonly adapter: PeerAdapter;
  /** @internal */
  private _id: string | undefined;
  /** @internal */
  private _request: UpgradeRequest | http.IncomingMessage;

  constructor(ws: WebSocket, request: UpgradeRequest | http.IncomingMessage, context: Record<string, unknown>, adapter: PeerAdapter) {
    this.websocket = ws;
    this.context = context;
    this.adapter = adapter;
    this._id = undefined;
    this._request = request;
  }

  /** A uuid v4 (made on first use, with `crypto.randomUUID()`). */
  get id(): string {
    if (this._id === undefined) this._id = randomUUID();
    return this._id;
  }

  /** The upgrade request: `url`, `method`, `headers`. */
  get request(): UpgradeRequest {
    const r = this._request;
    if (r instanceof UpgradeRequest) return r;
    const built = new UpgradeRequest(r, this.context);
    this._request = built;
    return built;
  }

  /** The client's address (a trusted proxy's X-Forwarded-For when the server trusts one). */
  get remoteAddress(): string | undefined {
    const ws = this.websocket;
    if (ws._remoteAddress !== undefined) return ws._remoteAddress;
    return peerAddressOf(ws);
  }

  /** Bytes waiting to be sent. */
  get bufferedAmount(): number {
    return this.websocket.bufferedAmount;
  }

  /** The topics this peer is subscribed to (a copy). */
  get topics(): Set<string> {
    return this.websocket.topics;
  }

  /** Every open peer of the same adapter. */
  get peers(): Set<Peer> {
    return this.adapter.peers;
  }

  /**
   * Sends a message: strings as text, bytes as binary, other values as JSON text. Returns weft's
   * SendStatus (SENT, BACKPRESSURE or DROPPED).
   */
  send(data: unknown, options?: { compress?: boolean }): SendStatusValue | void {
    const opts = options !== undefined && options !== null && options.compress !== undefined ? { compress: !!options.compress } : undefined;
    return this.websocket.send(toSendable(data) as BufferLike, opts as SendOptions);
  }

  /** Subscribes to `topic`. */
  subscribe(topic: string): void {
    this.websocket.subscribe(topic);
  }

  /** Unsubscribes from `topic`. */
  unsubscribe(topic: string): void {
    this.websocket.unsubscribe(topic);
  }

  /** Publishes to every subscriber of `topic` but this peer; returns the local counts. */
  publish(topic: string, data: unknown, options?: PublishOptions): PublishResult {
    return this.websocket.publish(topic, toSendable(data), options);
  }

  /** Starts the closing handshake. */
  close(code?: number, reason?: string): void {
    this.websocket.close(code, reason);
  }

  /** Drops the connection at once. */
  terminate(): void {
    this.websocket.terminate();
  }

  /** The id. */
  toString(): string {
    return this.id;
  }
}

/** crossws sends values that are neither strings nor bytes as JSON. */
function toSendable(data: unknown): unknown {
  if (typeof data === 'string' || data instanceof ArrayBuffer || ArrayBuffer.isView(data) || data === undefined || data === null) {
    return data;
  }
  if (typeof data === 'number' || typeof data === 'boolean') return String(data);
  if (typeof Blob === 'function' && data instanceof Blob) return data;
  return JSON.stringify(data);
}

/** Options of a PeerAdapter. */
export interface PeerAdapterOptions {
  /** The hooks. */
  hooks: Hooks;
  /** A weft WebSocketServer to plug into (any mode); without it one is made in noServer mode. */
  wss?: WebSocketServer;
  /** Options of the server made when `wss` is not given (noServer is forced). */
  serverOptions?: ServerOptions;
}

/** Per-request state between `upgrade` and 'connection' (weakly held: nothing leaks on a refusal). */
interface Pending {
  request: UpgradeRequest;
  headers: [string, string][] | null;
}

const pendingByReq = new WeakMap<http.IncomingMessage, Pending>();
const peerOf = new WeakMap<WebSocket, Peer>();
const adapterOf = new WeakMap<WebSocketServer, PeerAdapter>();

/**
 * Runs the hooks for one weft WebSocketServer. `handleUpgrade(req, socket, head)` (bound: pass it to
 * `httpServer.on('upgrade', ...)`) runs the `upgrade` hook and completes the handshake; a server given in
 * `port` or `server` mode runs the hook for the upgrades it receives itself.
 */
export class PeerAdapter {
  /** The hooks. */
  readonly hooks: Hooks;
  /** The server doing the handshakes. */
  readonly wss: WebSocketServer;
  /** The open peers. */
  readonly peers: Set<Peer>;
  /** Handles an HTTP upgrade request (bound to this adapter). */
  readonly handleUpgrade: (req: http.IncomingMessage, socket: Duplex, head: Buffer) => void;
  /** @internal */
  private readonly emitConnection: (ws: WebSocket, req: http.IncomingMessage) => void;

  constructor(options: PeerAdapterOptions) {
    if (options === null || typeof options !== 'object' || typeof options.hooks !== 'object' || options.hooks === null) {
      throw new TypeError('PeerAdapter needs { hooks }');
    }
    this.hooks = options.hooks;
    this.peers = new Set();
    let wss = options.wss;
    if (wss === undefined) {
      const serverOptions: ServerOptions = { ...options.serverOptions, noServer: true };
      delete serverOptions.port;
      delete serverOptions.server;
      wss = new WebSocketServer(serverOptions);
    }
    const server = wss;
    if (adapterOf.has(wss)) throw new Error('This WebSocketServer already has a PeerAdapter');
    adapterOf.set(wss, this);
    this.wss = wss;
    this.emitConnection = (ws, req) => {
      server.emit('connection', ws, req);
    };
    this.handleUpgrade = (req, socket, head) => {
      server.handleUpgrade(req, socket, head, this.emitConnection);
    };
    wss.on('headers', serverOnHeaders);
    wss.on('connection', serverOnConnection);
    // Every handshake of this server goes through the `upgrade` hook first (an own property shadows the
    // prototype's method; the server's own 'upgrade' listener calls `this.handleUpgrade`).
    const base = wss.handleUpgrade;
    const adapter = this;
    wss.handleUpgrade = function handleUpgradeWithHook(req, socket, head, cb) {
      adapter._upgrade(base, req, socket, head, cb);
    };
  }

  /** Publishes to every subscriber of `topic` on this server (and other nodes, with an adapter). */
  publish(topic: string, data: unknown, options?: PublishOptions): PublishResult {
    return this.wss.publish(topic, toSendable(data), options);
  }

  /** Closes every open peer with `code` and `reason`. */
  closeAll(code?: number, reason?: string): void {
    for (const peer of this.peers) peer.close(code, reason);
  }

  /** @internal Runs the `upgrade` hook, then the server's own handshake (or the refusal). */
  _upgrade(
    base: WebSocketServer['handleUpgrade'],
    req: http.IncomingMessage,
    socket: Duplex,
    head: Buffer,
    cb: (ws: WebSocket, req: http.IncomingMessage) => void,
  ): void {
    const wss = this.wss;
    const hook = this.hooks.upgrade;
    const upgrade = req.headers.upgrade;
    // Requests the server refuses anyway (wrong path, not a WebSocket upgrade) do not reach the hook.
    if (hook === undefined || !wss.shouldHandle(req) || typeof upgrade !== 'string' || upgrade.toLowerCase() !== 'websocket') {
      base.call(wss, req, socket, head, cb);
      return;
    }
    const request = new UpgradeRequest(req);
    // Until the server's handshake takes the socket, a reset must not crash the process.
    socket.on('error', destroyOnError);
    let result: unknown;
    try {
      result = hook.call(this.hooks, request);
    } catch (err) {
      result = Promise.reject(err);
    }
    if (result === undefined) {
      socket.removeListener('error', destroyOnError);
      pendingByReq.set(req, { request, headers: null });
      base.call(wss, req, socket, head, cb);
      return;
    }
    Promise.resolve(result).then(
      (value) => this._decided(base, value, false, request, req, socket, head, cb),
      (err) => this._decided(base, err, true, request, req, socket, head, cb),
    );
  }

  /** @internal */
  private _decided(
    base: WebSocketServer['handleUpgrade'],
    value: unknown,
    rejected: boolean,
    request: UpgradeRequest,
    req: http.IncomingMessage,
    socket: Duplex,
    head: Buffer,
    cb: (ws: WebSocket, req: http.IncomingMessage) => void,
  ): void {
    socket.removeListener('error', destroyOnError);
    if (socket.destroyed) return;
    const refusal = refusalOf(value);
    if (refusal !== null) {
      refusal.then(
        (bytes) => {
          socket.once('finish', destroySelf);
          socket.end(bytes);
        },
        () => refuse(socket, 500),
      );
      return;
    }
    if (rejected) {
      // The hook failed with something that is not a response: 500, as a server error.
      refuse(socket, 500);
      return;
    }
    let headers: [string, string][] | null = null;
    if (value !== undefined && value !== null && typeof value === 'object') {
      const accept = value as UpgradeAccept;
      if (accept.context !== undefined && accept.context !== null) Object.assign(request.context, accept.context);
      if (accept.headers !== undefined) {
        try {
          headers = headerPairs(accept.headers);
        } catch {
          refuse(socket, 500);
          return;
        }
      }
    }
    pendingByReq.set(req, { request, headers });
    try {
      base.call(this.wss, req, socket, head, cb);
    } catch {
      socket.destroy();
    }
  }

  /** @internal Calls a hook; what it throws or rejects goes to the `error` hook (or is rethrown). */
  _call(name: 'open' | 'message' | 'close' | 'error' | 'drain', peer: Peer, arg?: unknown): void {
    const hook = this.hooks[name] as ((peer: Peer, arg?: unknown) => unknown) | undefined;
    if (hook === undefined) return;
    const onError = name === 'error' ? undefined : this.hooks.error;
    if (onError === undefined) {
      hook.call(this.hooks, peer, arg);
      return;
    }
    try {
      const r = hook.call(this.hooks, peer, arg) as Promise<unknown> | undefined;
      if (r !== undefined && r !== null && typeof r.then === 'function') r.then(undefined, (err) => this._call('error', peer, toError(err)));
    } catch (err) {
      this._call('error', peer, toError(err));
    }
  }
}

function toError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}

/** The HTTP response bytes of a refusal (a Response, or `{ status, statusText, headers, body }`), or null. */
function refusalOf(value: unknown): Promise<Buffer> | null {
  let source = value;
  if (source !== null && typeof source === 'object' && !(source instanceof Response) && (source as { response?: unknown }).response instanceof Response) {
    source = (source as { response: Response }).response;
  }
  if (typeof Response === 'function' && source instanceof Response) {
    const res = source;
    return res.arrayBuffer().then((ab) => responseBytes(res.status, res.statusText, headerPairs(res.headers), Buffer.from(ab)));
  }
  if (source !== null && typeof source === 'object' && typeof (source as UpgradeReject).status === 'number') {
    const r = source as UpgradeReject;
    try {
      const body = r.body === undefined ? Buffer.alloc(0) : typeof r.body === 'string' ? Buffer.from(r.body) : Buffer.from(r.body);
      return Promise.resolve(responseBytes(r.status, r.statusText, r.headers === undefined ? [] : headerPairs(r.headers), body));
    } catch (err) {
      return Promise.reject(err);
    }
  }
  return null;
}

/** Headers as validated [name, value] pairs (throws on a name or value that is not allowed in HTTP). */
function headerPairs(headers: HeadersLike): [string, string][] {
  const out: [string, string][] = [];
  const add = (name: string, value: unknown): void => {
    const v = String(value);
    http.validateHeaderName(name);
    http.validateHeaderValue(name, v);
    out.push([name, v]);
  };
  if (typeof Headers === 'function' && headers instanceof Headers) {
    headers.forEach((value, name) => add(name, value));
  } else if (Array.isArray(headers)) {
    for (const [name, value] of headers) add(name, value);
  } else {
    const record = headers as Record<string, string | string[]>;
    for (const name of Object.keys(record)) {
      const value = record[name];
      if (Array.isArray(value)) for (const v of value) add(name, v);
      else add(name, value);
    }
  }
  return out;
}

/** An HTTP/1.1 response that closes the connection. */
function responseBytes(status: number, statusText: string | undefined, headers: [string, string][], body: Buffer): Buffer {
  const code = status >= 200 && status <= 999 && status !== 101 ? status | 0 : 500;
  const text = (statusText || http.STATUS_CODES[code] || '').replace(/[\r\n]/g, ' ');
  const lines = [`HTTP/1.1 ${code} ${text}`, 'Connection: close'];
  let hasType = false;
  for (const [name, value] of headers) {
    const lower = name.toLowerCase();
    if (lower === 'content-length' || lower === 'connection' || lower === 'transfer-encoding') continue;
    if (lower === 'content-type') hasType = true;
    lines.push(`${name}: ${value}`);
  }
  if (!hasType && body.length > 0) lines.push('Content-Type: text/plain; charset=utf-8');
  lines.push(`Content-Length: ${body.length}`);
  return Buffer.concat([Buffer.from(lines.join('\r\n') + '\r\n\r\n', 'latin1'), body]);
}

function refuse(socket: Duplex, status: number): void {
  if (socket.destroyed) return;
  socket.once('finish', destroySelf);
  socket.end(responseBytes(status, undefined, [], Buffer.alloc(0)));
}

// --- listeners (module-level: no closure per connection) ---------------------------------------------

function destroyOnError(this: Duplex): void {
  this.destroy();
}

function destroySelf(this: Duplex): void {
  this.destroy();
}

/** Adds the `upgrade` hook's headers to the 101 response. */
function serverOnHeaders(this: WebSocketServer, lines: string[], req: http.IncomingMessage): void {
  const pending = pendingByReq.get(req);
  if (pending === undefined || pending.headers === null) return;
  for (const [name, value] of pending.headers) lines.push(`${name}: ${value}`);
}

/** A handshake completed: make the Peer, listen, and call `open`. */
function serverOnConnection(this: WebSocketServer, ws: WebSocket, req: http.IncomingMessage): void {
  const adapter = adapterOf.get(this) as PeerAdapter;
  const pending = pendingByReq.get(req);
  pendingByReq.delete(req);
  const request = pending !== undefined && pending.request !== null ? pending.request : null;
  const context = request !== null ? request.context : {};
  const peer = new Peer(ws, request !== null ? request : req, context, adapter);
  peerOf.set(ws, peer);
  adapter.peers.add(peer);
  ws.on('message', peerOnMessage);
  ws.on('close', peerOnClose);
  ws.on('error', peerOnError);
  ws.on('drain', peerOnDrain);
  adapter._call('open', peer);
}

function peerOnMessage(this: WebSocket, data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean): void {
  const peer = peerOf.get(this);
  if (peer === undefined) return;
  const bytes = Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as ArrayBuffer);
  peer.adapter._call('message', peer, new Message(bytes, isBinary, peer));
}

function peerOnClose(this: WebSocket, code: number, reason: Buffer): void {
  const peer = peerOf.get(this);
  if (peer === undefined) return;
  peerOf.delete(this);
  peer.adapter.peers.delete(peer);
  peer.adapter._call('close', peer, { code, reason: reason.toString() });
}

function peerOnError(this: WebSocket, err: Error): void {
  const peer = peerOf.get(this);
  if (peer !== undefined) peer.adapter._call('error', peer, err);
}

function peerOnDrain(this: WebSocket): void {
  const peer = peerOf.get(this);
  if (peer !== undefined) peer.adapter._call('drain', peer);
}
