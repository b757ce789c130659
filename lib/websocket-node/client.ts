/**
 * WebSocket-Node's `client` (WebSocketClient): `connect(url, protocols, origin, headers,
 * requestOptions)` runs weft's client handshake (lib/client.ts) and reports `connect(connection)`,
 * `connectFailed(error)` or `httpResponse(response, client)`.
 */
import { EventEmitter } from 'events';
import type * as http from 'http';
import type { Duplex } from 'stream';
import { ReadyState } from '../protocol/constants';
import { isToken } from '../protocol/subprotocol';
import { NodeSocket, WebSocketConnection } from './connection';
import { checkKeepalive, clientDefaults, weftOptions, withDefaults, type ClientConfig } from './options';

/** Options WebSocket-Node never lets `tlsOptions` override. */
const EXCLUDED_TLS_OPTIONS = new Set(['hostname', 'port', 'method', 'path', 'headers']);

/**
 * A WebSocket-Node client. Events: `connect(connection)`, `connectFailed(error)`, and
 * `httpResponse(response, client)` for a non-101 answer when someone listens for it (instead of
 * 'connectFailed').
 */
export class WebSocketClient extends EventEmitter {
  /** The configuration, over WebSocket-Node's client defaults. */
  readonly config: ClientConfig & { tlsOptions: Record<string, unknown> };
  /** The URL of the last `connect()`. */
  url: URL | null;
  /** Whether the last `connect()` was to a `wss:` URL. */
  secure: boolean;
  /** The subprotocols requested by the last `connect()`. */
  protocols: string[];
  /** The origin sent by the last `connect()`. */
  origin: string | undefined;
  /** The subprotocol the server selected (undefined when none). */
  protocol: string | undefined;
  /** The server's 101 response. */
  response: http.IncomingMessage | null;
  /** The upgraded socket. */
  socket: Duplex | null;
  /** @internal The weft socket of the handshake in progress. */
  _ws: NodeSocket | null;

  /** Creates a client; throws for a `webSocketVersion` other than 8 or 13. */
  constructor(config?: ClientConfig) {
    super();
    const defaults = clientDefaults();
    const tlsOptions = { ...defaults.tlsOptions, ...(config && config.tlsOptions) };
    this.config = { ...withDefaults(defaults, config), tlsOptions };
    if (this.config.webSocketVersion !== 8 && this.config.webSocketVersion !== 13) {
      throw new Error('Requested webSocketVersion is not supported. Allowed values are 8 and 13.');
    }
    checkKeepalive(this.config);
    this.url = null;
    this.secure = false;
    this.protocols = [];
    this.origin = undefined;
    this.protocol = undefined;
    this.response = null;
    this.socket = null;
    this._ws = null;
  }

  /**
   * Opens a connection to `requestUrl` (`ws:`/`wss:`), requesting `protocols` (a string or an array),
   * sending `origin` and `headers`; `requestOptions` go to `http(s).request` (host, port, method, path
   * and headers excepted). Throws for a URL without protocol or host, or an invalid protocol name.
   */
  connect(
    requestUrl: string | URL | { href: string },
    protocols?: string | string[] | null,
    origin?: string | null,
    headers?: Record<string, unknown> | null,
    requestOptions?: Record<string, unknown> | null,
  ): void {
    const list = normalizeProtocols(protocols);
    let url: URL;
    try {
      url = new URL(typeof requestUrl === 'string' ? requestUrl : requestUrl.href);
    } catch {
      throw new Error('You must specify a full WebSocket URL, including protocol.');
    }
    if (!url.host) throw new Error('You must specify a full WebSocket URL, including hostname. Relative URLs are not supported.');
    for (const protocol of list) {
      if (!isToken(protocol)) throw new Error(`Protocol list contains invalid character in "${protocol}"`);
    }
    this.protocols = list;
    this.origin = origin || undefined;
    this.url = url;
    this.secure = url.protocol === 'wss:';
    this.protocol = undefined;
    this.response = null;
    this.socket = null;

    const ws = new NodeSocket(url.href, list, clientOptions(this.config, this.secure, origin, headers, requestOptions));
    ws._wsnClient = this;
    this._ws = ws;
    ws.on('upgrade', wsOnUpgrade);
    ws.on('unexpected-response', wsOnUnexpectedResponse);
    ws.on('open', wsOnOpen);
    ws.on('error', wsOnHandshakeError);
  }

  /** Abandons the handshake in progress (no event follows). */
  abort(): void {
    const ws = this._ws;
    if (ws === null) return;
    this._ws = null;
    ws._wsnClient = null;
    if (ws.readyState === ReadyState.CONNECTING) ws.terminate();
  }
}

/** A protocols argument as WebSocket-Node reads it: a non-empty string is a list of one. */
export function normalizeProtocols(protocols: unknown): string[] {
  if (typeof protocols === 'string') return protocols.length > 0 ? [protocols] : [];
  return Array.isArray(protocols) ? (protocols as string[]) : [];
}

/**
 * The options of weft's `new WebSocket(url, protocols, options)` for a WebSocket-Node client:
 * `requestOptions` (agent off by default, as WebSocket-Node), then `tlsOptions` for `wss:`, then the
 * connection settings, the protocol version, the origin and the headers (tlsOptions' under the given).
 */
export function clientOptions(
  config: ClientConfig & { tlsOptions: Record<string, unknown> },
  secure: boolean,
  origin: string | null | undefined,
  headers: Record<string, unknown> | null | undefined,
  requestOptions: Record<string, unknown> | null | undefined,
): Record<string, unknown> {
  const options: Record<string, unknown> = { agent: false, ...requestOptions };
  const tls = config.tlsOptions;
  if (secure) {
    for (const key of Object.keys(tls)) if (!EXCLUDED_TLS_OPTIONS.has(key)) options[key] = tls[key];
  }
  Object.assign(options, weftOptions(config));
  options.protocolVersion = config.webSocketVersion;
  if (origin) options.origin = origin;
  options.headers = { ...(secure ? (tls.headers as Record<string, unknown>) : undefined), ...headers };
  return options;
}

// --- the handshake's events (module-level; `this` is the weft socket) -------------------------------

function clientOf(ws: NodeSocket): WebSocketClient | null {
  return ws._wsnClient as WebSocketClient | null;
}

function wsOnUpgrade(this: NodeSocket, response: http.IncomingMessage): void {
  const client = clientOf(this);
  if (client === null) return;
  client.response = response;
  client.socket = response.socket;
}

/** A non-101 answer: 'httpResponse' when listened for, else 'connectFailed' with the status and headers. */
function wsOnUnexpectedResponse(this: NodeSocket, req: http.ClientRequest, response: http.IncomingMessage): void {
  const client = clientOf(this);
  this._wsnClient = null;
  if (client === null) {
    req.destroy();
    return;
  }
  client._ws = null;
  if (client.listenerCount('httpResponse') > 0) {
    client.emit('httpResponse', response, client);
    // As WebSocket-Node: half-close, so that the listener may still read the body.
    if (response.socket) response.socket.end();
    return;
  }
  req.destroy();
  const lines = Object.keys(response.headers).map((name) => `${name}: ${response.headers[name]}`);
  client.emit(
    'connectFailed',
    new Error(
      `Server responded with a non-101 status: ${response.statusCode} ${response.statusMessage}\n` +
        `Response Headers Follow:\n${lines.join('\n')}\n`,
    ),
  );
}

function wsOnOpen(this: NodeSocket): void {
  const client = clientOf(this);
  this._wsnClient = null;
  if (client === null) {
    this.terminate();
    return;
  }
  client._ws = null;
  client.protocol = this.protocol || undefined;
  const connection = new WebSocketConnection(this, client.config, {
    protocol: client.protocol,
    webSocketVersion: client.config.webSocketVersion as number,
    remoteAddress: (this._socket as (Duplex & { remoteAddress?: string }) | null)?.remoteAddress,
    remoteAddresses: [(this._socket as (Duplex & { remoteAddress?: string }) | null)?.remoteAddress],
  });
  client.emit('connect', connection);
}

/** An error before the connection opened (refused, bad handshake, ...) is 'connectFailed'. */
function wsOnHandshakeError(this: NodeSocket, err: Error): void {
  const client = clientOf(this);
  if (client === null || this.readyState === ReadyState.OPEN) return;
  this._wsnClient = null;
  client._ws = null;
  client.emit('connectFailed', err);
}

/** The events of a WebSocketClient and their listeners' arguments (WebSocket-Node's). */
export interface ClientEvents {
  /** The handshake succeeded. */
  connect: [connection: WebSocketConnection];
  /** The handshake failed. */
  connectFailed: [error: Error];
  /** The server answered with something other than 101 (only with a listener). */
  httpResponse: [response: http.IncomingMessage, client: WebSocketClient];
}

// Typed by name (ClientEvents); any other name takes any listener.
export interface WebSocketClient {
  on<K extends keyof ClientEvents>(event: K, listener: (this: this, ...args: ClientEvents[K]) => void): this;
  on(event: string | symbol, listener: (this: this, ...args: any[]) => void): this;
  once<K extends keyof ClientEvents>(event: K, listener: (this: this, ...args: ClientEvents[K]) => void): this;
  once(event: string | symbol, listener: (this: this, ...args: any[]) => void): this;
  off<K extends keyof ClientEvents>(event: K, listener: (this: this, ...args: ClientEvents[K]) => void): this;
  off(event: string | symbol, listener: (this: this, ...args: any[]) => void): this;
  addListener<K extends keyof ClientEvents>(event: K, listener: (this: this, ...args: ClientEvents[K]) => void): this;
  addListener(event: string | symbol, listener: (this: this, ...args: any[]) => void): this;
  removeListener<K extends keyof ClientEvents>(event: K, listener: (this: this, ...args: ClientEvents[K]) => void): this;
  removeListener(event: string | symbol, listener: (this: this, ...args: any[]) => void): this;
  prependListener<K extends keyof ClientEvents>(event: K, listener: (this: this, ...args: ClientEvents[K]) => void): this;
  prependListener(event: string | symbol, listener: (this: this, ...args: any[]) => void): this;
  prependOnceListener<K extends keyof ClientEvents>(event: K, listener: (this: this, ...args: ClientEvents[K]) => void): this;
  prependOnceListener(event: string | symbol, listener: (this: this, ...args: any[]) => void): this;
}
