/**
 * WebSocket-Node's `router` (WebSocketRouter) and the request it hands to handlers
 * (WebSocketRouterRequest): dispatches a server's 'request' events by resource path (a string, `'*'`
 * or a RegExp) and subprotocol (a name, or `'*'`); unrouted requests are rejected with 404.
 */
import { EventEmitter } from 'events';
import type * as http from 'http';
import type { WebSocketConnection } from './connection';
import type { SetCookie } from './cookies';
import type { Cookie } from './cookies';
import type { RequestedExtension, ResourceURL, WebSocketRequest } from './request';
import type { WebSocketServer } from './server';

/** The protocol key of handlers mounted without a protocol (matched by requests that name none). */
const NO_PROTOCOL = '____no_protocol____';

/** A routed request's handler. */
export type RouteHandler = (request: WebSocketRouterRequest) => void;

interface Route {
  path: RegExp;
  pathString: string;
  protocol: string;
  callback: RouteHandler;
}

/** Routes a WebSocket-Node server's requests to handlers by path and subprotocol. */
export class WebSocketRouter extends EventEmitter {
  /** `{ server }`: the server to attach to at construction. */
  readonly config: { server: WebSocketServer | null };
  /** The mounted routes, in mount order. */
  readonly handlers: Route[];
  /** The attached server, or null. */
  server: WebSocketServer | null;
  /** @internal */
  private readonly _onRequest: (request: WebSocketRequest) => void;

  /** Creates a router, attached to `config.server` when given. */
  constructor(config?: { server?: WebSocketServer | null }) {
    super();
    this.config = { server: (config && config.server) || null };
    this.handlers = [];
    this.server = null;
    this._onRequest = (request) => this.handleRequest(request);
    if (this.config.server) this.attachServer(this.config.server);
  }

  /** Starts routing `server`'s 'request' events. */
  attachServer(server: WebSocketServer): void {
    if (!server) throw new Error('You must specify a WebSocketServer instance to attach to.');
    this.server = server;
    server.on('request', this._onRequest);
  }

  /** Stops routing the attached server's requests. */
  detachServer(): void {
    if (this.server === null) throw new Error('Cannot detach from server: not attached.');
    this.server.removeListener('request', this._onRequest);
    this.server = null;
  }

  /**
   * Routes requests for `path` (exact string, `'*'` for any, or a RegExp tested on the pathname) that
   * request `protocol` (case-insensitive; `'*'` any; falsy: requests naming no protocol) to `callback`.
   */
  mount(path: string | RegExp, protocol: string | null | undefined, callback: RouteHandler): void {
    if (!path) throw new Error('You must specify a path for this handler.');
    if (!callback) throw new Error('You must specify a callback for this handler.');
    const pattern = this.pathToRegExp(path);
    if (!(pattern instanceof RegExp)) throw new Error('Path must be specified as either a string or a RegExp.');
    const key = (protocol || NO_PROTOCOL).toLocaleLowerCase();
    const pathString = pattern.toString();
    if (this.findHandlerIndex(pathString, key) !== -1) {
      throw new Error('You may only mount one handler per path/protocol combination.');
    }
    this.handlers.push({ path: pattern, pathString, protocol: key, callback });
  }

  /** Removes the route mounted with `path` and `protocol`; throws if there is none. */
  unmount(path: string | RegExp, protocol?: string | null): void {
    const index = this.findHandlerIndex(this.pathToRegExp(path).toString(), protocol || NO_PROTOCOL);
    if (index === -1) throw new Error('Unable to find a route matching the specified path and protocol.');
    this.handlers.splice(index, 1);
  }

  /** The index of the route with this path pattern and protocol, or -1. */
  findHandlerIndex(pathString: string, protocol: string): number {
    const key = protocol.toLocaleLowerCase();
    return this.handlers.findIndex((route) => route.pathString === pathString && route.protocol === key);
  }

  /** A path as the RegExp it routes by: `'*'` matches all, another string matches exactly. */
  pathToRegExp(path: string | RegExp): RegExp {
    if (typeof path !== 'string') return path;
    if (path === '*') return /^.*$/;
    return new RegExp(`^${path.replace(/[-[\]{}()*+?.,\\^$|#\s]/g, '\\$&')}$`);
  }

  /**
   * Routes one request: for each protocol the client requested, in its order, the first route whose
   * path matches and whose protocol is that one (or `'*'`) gets it; otherwise 404.
   */
  handleRequest(request: WebSocketRequest): void {
    const requested = request.requestedProtocols.length > 0 ? request.requestedProtocols : [NO_PROTOCOL];
    const pathname = request.resourceURL.pathname;
    for (const name of requested) {
      const protocol = name.toLocaleLowerCase();
      for (const route of this.handlers) {
        if (route.path.test(pathname) && (route.protocol === protocol || route.protocol === '*')) {
          route.callback(new WebSocketRouterRequest(request, protocol));
          return;
        }
      }
    }
    request.reject(404, 'No handler is available for the given request.');
  }
}

/**
 * The request a route handler gets: the underlying request's fields, with the routed `protocol` (null
 * when the client named none) already chosen. Events: `requestAccepted(connection)`, `requestRejected`.
 */
export class WebSocketRouterRequest extends EventEmitter {
  /** The server's request. */
  readonly webSocketRequest: WebSocketRequest;
  /** The protocol this route serves, or null. */
  readonly protocol: string | null;
  readonly origin: string | undefined;
  readonly resource: string;
  readonly resourceURL: ResourceURL;
  readonly httpRequest: http.IncomingMessage;
  readonly remoteAddress: string | undefined;
  readonly webSocketVersion: number | undefined;
  readonly requestedExtensions: RequestedExtension[];
  readonly cookies: Cookie[];

  /** Wraps `request`, routed for `protocol`. */
  constructor(request: WebSocketRequest, protocol: string) {
    super();
    this.webSocketRequest = request;
    this.protocol = protocol === NO_PROTOCOL ? null : protocol;
    this.origin = request.origin;
    this.resource = request.resource;
    this.resourceURL = request.resourceURL;
    this.httpRequest = request.httpRequest;
    this.remoteAddress = request.remoteAddress;
    this.webSocketVersion = request.webSocketVersion;
    this.requestedExtensions = request.requestedExtensions;
    this.cookies = request.cookies;
  }

  /** Accepts with the routed protocol, `origin` and `cookies`; returns the connection. */
  accept(origin?: string | null, cookies?: SetCookie[]): WebSocketConnection {
    const connection = this.webSocketRequest.accept(this.protocol, origin, cookies);
    this.emit('requestAccepted', connection);
    return connection;
  }

  /** Rejects the request (see `request.reject`). */
  reject(status?: number, reason?: string, extraHeaders?: Record<string, unknown>): void {
    this.webSocketRequest.reject(status, reason, extraHeaders);
    this.emit('requestRejected', this);
  }
}
