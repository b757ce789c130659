/**
 * WebSocket-Node's `server` (WebSocketServer): mounted on one or more HTTP(S) servers, it turns each
 * 'upgrade' into a `request` for its listeners (or accepts it itself with `autoAcceptConnections`),
 * keeps the open connections, and closes or broadcasts to them. Upgrades are completed by a weft
 * WebSocketServer in noServer mode, created with the options options.ts derives from the config.
 */
import { EventEmitter } from 'events';
import type * as http from 'http';
import type * as https from 'https';
import type { Duplex } from 'stream';
import { WebSocketServer as WeftServer, type WebSocketClass } from '../server';
import { NodeSocket, type WebSocketConnection } from './connection';
import { checkKeepalive, serverDefaults, weftOptions, withDefaults, type ServerConfig } from './options';
import { WebSocketRequest, kAccept, type HandshakeError, type PendingAccept, type RequestOwner } from './request';

type HttpServer = http.Server | https.Server;
type UpgradeRequest = http.IncomingMessage & { [kAccept]?: PendingAccept };

/**
 * A WebSocket-Node server. Events: `request(request)`, `connect(connection)`, `close(connection,
 * reasonCode, description)`, `upgradeError(error)` (a request that is no valid handshake; it has been
 * answered with its HTTP error already).
 */
export class WebSocketServer extends EventEmitter implements RequestOwner {
  /** The configuration, over WebSocket-Node's defaults (set by `mount`). */
  config: ServerConfig & { httpServer: HttpServer[] };
  /** The open connections. */
  connections: WebSocketConnection[];
  /** Requests not yet accepted or rejected. */
  pendingRequests: WebSocketRequest[];
  /** @internal weft's server (noServer mode) that completes accepted upgrades. */
  _weft: WeftServer;
  /** @internal The 'upgrade' listener put on each HTTP server. */
  private readonly _onUpgrade: (req: http.IncomingMessage, socket: Duplex, head: Buffer) => void;

  /** Creates a server; with `config`, mounts it at once (`config.httpServer` is then required). */
  constructor(config?: ServerConfig) {
    super();
    this.config = { ...serverDefaults(), httpServer: [] };
    this.connections = [];
    this.pendingRequests = [];
    this._weft = createWeftServer(this.config);
    this._onUpgrade = (req, socket, head) => this.handleUpgrade(req, socket, head);
    if (config) this.mount(config);
  }

  /**
   * Applies `config` over the defaults and starts handling the 'upgrade' requests of
   * `config.httpServer` (one server or an array). Throws without one.
   */
  mount(config: ServerConfig): void {
    const merged = withDefaults(serverDefaults(), config) as ReturnType<typeof serverDefaults>;
    if (!merged.httpServer) throw new Error('You must specify an httpServer on which to mount the WebSocket server.');
    checkKeepalive(merged);
    const servers = Array.isArray(merged.httpServer) ? merged.httpServer : [merged.httpServer];
    this.config = { ...merged, httpServer: servers };
    this._weft = createWeftServer(this.config);
    for (const server of servers) server.on('upgrade', this._onUpgrade);
  }

  /** Stops handling upgrades (open connections stay open). */
  unmount(): void {
    for (const server of this.config.httpServer) server.removeListener('upgrade', this._onUpgrade);
  }

  /** Closes every open connection (1000), and rejects every pending request with 503 on the next tick. */
  closeAllConnections(): void {
    for (const connection of this.connections.slice()) connection.close();
    for (const request of this.pendingRequests.slice()) process.nextTick(rejectUnavailable, request);
  }

  /** Sends `data` to every open connection: a Buffer as binary, anything else as text. */
  broadcast(data: unknown): void {
    if (Buffer.isBuffer(data)) this.broadcastBytes(data);
    else if (data !== null && data !== undefined && typeof (data as { toString?: unknown }).toString === 'function') this.broadcastUTF(data);
  }

  /** Sends text to every open connection. */
  broadcastUTF(data: unknown): void {
    for (const connection of this.connections) connection.sendUTF(data);
  }

  /** Sends binary data to every open connection. */
  broadcastBytes(data: Buffer): void {
    for (const connection of this.connections) connection.sendBytes(data);
  }

  /** `unmount()` then `closeAllConnections()`. */
  shutDown(): void {
    this.unmount();
    this.closeAllConnections();
  }

  /**
   * Handles one upgrade request (what the mounted 'upgrade' listener calls): an invalid handshake is
   * answered with its HTTP error and reported as 'upgradeError'; a valid one becomes a `request`.
   */
  handleUpgrade(req: http.IncomingMessage, socket: Duplex, head?: Buffer): void {
    const request = new WebSocketRequest(socket, req, this.config, this, head);
    try {
      request.readHandshake();
    } catch (e) {
      const err = e as HandshakeError;
      request.reject(err.httpCode || 400, err.message, err.headers);
      this.emit('upgradeError', err);
      return;
    }
    this.pendingRequests.push(request);
    if (!this.config.autoAcceptConnections && this.listenerCount('request') > 0) {
      this.emit('request', request);
    } else if (this.config.autoAcceptConnections) {
      request.accept(request.requestedProtocols[0], request.origin);
    } else {
      request.reject(404, 'No handler is configured to accept the connection.');
    }
  }

  /** @internal A request was accepted or rejected, or its client went away. */
  _requestResolved(request: WebSocketRequest): void {
    const index = this.pendingRequests.indexOf(request);
    if (index !== -1) this.pendingRequests.splice(index, 1);
  }

  /** @internal A request was accepted: track the connection and emit 'connect'. */
  _requestAccepted(connection: WebSocketConnection): void {
    connection._owner = this;
    this.connections.push(connection);
    this.emit('connect', connection);
  }

  /** @internal A tracked connection closed. */
  _connectionClosed(connection: WebSocketConnection, code: number, description: string | null | undefined): void {
    const index = this.connections.indexOf(connection);
    if (index !== -1) this.connections.splice(index, 1);
    this.emit('close', connection, code, description);
  }
}

/**
 * weft's server for `config`: noServer (the face routes upgrades), no client tracking (the face
 * tracks), the subprotocol and extra response lines that the accept in progress chose.
 */
function createWeftServer(config: ServerConfig): WeftServer {
  const server = new WeftServer({
    ...weftOptions(config),
    noServer: true,
    clientTracking: false,
    perMessageDeflate: false,
    trustProxy: !config.ignoreXForwardedFor,
    handleProtocols: acceptedProtocol,
    WebSocket: NodeSocket as unknown as WebSocketClass,
  });
  server.on('headers', addAcceptLines);
  return server;
}

/** weft's `handleProtocols`: the protocol `request.accept()` named (in the client's case), or none. */
function acceptedProtocol(_protocols: Set<string>, req: UpgradeRequest): string | false {
  const pending = req[kAccept];
  return pending !== undefined && pending.protocol ? pending.protocol : false;
}

/** weft's 'headers' event: append the Origin and Set-Cookie lines `request.accept()` built. */
function addAcceptLines(lines: string[], req: UpgradeRequest): void {
  const pending = req[kAccept];
  if (pending !== undefined) lines.push(...pending.lines);
}

function rejectUnavailable(request: WebSocketRequest): void {
  if (!request._resolved) request.reject(503);
}

/** The events of a WebSocketServer and their listeners' arguments (WebSocket-Node's). */
export interface ServerEvents {
  /** A handshake to accept or reject (without `autoAcceptConnections`). */
  request: [request: WebSocketRequest];
  /** A connection was accepted. */
  connect: [connection: WebSocketConnection];
  /** A connection closed: it, its close code and description. */
  close: [connection: WebSocketConnection, reasonCode: number, description: string];
  /** An upgrade could not be handled. */
  upgradeError: [error: Error];
}

// Typed by name (ServerEvents); any other name takes any listener.
export interface WebSocketServer {
  on<K extends keyof ServerEvents>(event: K, listener: (this: this, ...args: ServerEvents[K]) => void): this;
  on(event: string | symbol, listener: (this: this, ...args: any[]) => void): this;
  once<K extends keyof ServerEvents>(event: K, listener: (this: this, ...args: ServerEvents[K]) => void): this;
  once(event: string | symbol, listener: (this: this, ...args: any[]) => void): this;
  off<K extends keyof ServerEvents>(event: K, listener: (this: this, ...args: ServerEvents[K]) => void): this;
  off(event: string | symbol, listener: (this: this, ...args: any[]) => void): this;
  addListener<K extends keyof ServerEvents>(event: K, listener: (this: this, ...args: ServerEvents[K]) => void): this;
  addListener(event: string | symbol, listener: (this: this, ...args: any[]) => void): this;
  removeListener<K extends keyof ServerEvents>(event: K, listener: (this: this, ...args: ServerEvents[K]) => void): this;
  removeListener(event: string | symbol, listener: (this: this, ...args: any[]) => void): this;
  prependListener<K extends keyof ServerEvents>(event: K, listener: (this: this, ...args: ServerEvents[K]) => void): this;
  prependListener(event: string | symbol, listener: (this: this, ...args: any[]) => void): this;
  prependOnceListener<K extends keyof ServerEvents>(event: K, listener: (this: this, ...args: ServerEvents[K]) => void): this;
  prependOnceListener(event: string | symbol, listener: (this: this, ...args: any[]) => void): this;
}
