/**
 * WebSocket-Node's `request` (WebSocketRequest): one pending opening handshake, handed to the server's
 * 'request' listeners to `accept()` or `reject()`. The request is read with weft's pure handshake
 * checks (protocol/handshake.ts); `accept()` hands the socket to weft's WebSocketServer, which writes
 * the 101 and starts the core — this file adds only what WebSocket-Node puts around that: parsed
 * resource, cookies and extensions, X-Forwarded-For, the Origin and Set-Cookie response lines.
 */
import { EventEmitter } from 'events';
import type * as http from 'http';
import { parse as parseQuery, type ParsedUrlQuery } from 'querystring';
import type { Duplex } from 'stream';
import { HandshakeMessage, httpErrorResponse, validateUpgradeRequest } from '../protocol/handshake';
import { isToken } from '../protocol/subprotocol';
import { forwardedAddress, type WebSocketServer as WeftServer } from '../server';
import { NodeSocket, WebSocketConnection } from './connection';
import { weftOptions, type ServerConfig } from './options';
import { cookieLine, parseCookies, type Cookie, type SetCookie } from './cookies';

/** `request.resourceURL`: the request target split as `url.parse(resource, true)` splits a path. */
export interface ResourceURL {
  protocol: null;
  slashes: null;
  auth: null;
  host: null;
  port: null;
  hostname: null;
  /** `#...`, or null. */
  hash: string | null;
  /** `?...`, or null without a `?`. */
  search: string | null;
  /** The query string, parsed (repeated keys give arrays). */
  query: ParsedUrlQuery;
  pathname: string;
  /** pathname + search. */
  path: string;
  href: string;
}

/** One offered extension, as WebSocket-Node parses `Sec-WebSocket-Extensions` (lower-cased). */
export interface RequestedExtension {
  name: string;
  params: Array<{ name: string; value: string | undefined }>;
}

/** What a request needs from the server face that received it. */
export interface RequestOwner {
  /** @internal weft's server, in noServer mode, that completes accepted upgrades. */
  readonly _weft: WeftServer;
  /** @internal */
  _requestResolved(request: WebSocketRequest): void;
  /** @internal */
  _requestAccepted(connection: WebSocketConnection): void;
}

/** @internal What `accept()` leaves on the http request for the weft server's hooks to read. */
export const kAccept = Symbol('weft-websocket-node-accept');
/** On the socket while the request is pending: the request. */
const kRequest = Symbol('weft-websocket-node-request');

/** @internal The accept in progress: the protocol to answer with, extra lines, and the socket made. */
export interface PendingAccept {
  protocol: string | undefined;
  lines: string[];
  ws: NodeSocket | null;
}

type PendingSocket = Duplex & { [kRequest]?: WebSocketRequest; remoteAddress?: string };

/** An error of `readHandshake()`: `httpCode` and `headers` are what the rejection answers with. */
export type HandshakeError = Error & { httpCode?: number; headers?: Record<string, string> };

/**
 * A pending WebSocket-Node handshake. Events: `requestAccepted(connection)`, `requestRejected(request)`,
 * `requestResolved(request)`.
 */
export class WebSocketRequest extends EventEmitter {
  /** The upgraded socket. */
  readonly socket: Duplex;
  /** The HTTP request. */
  readonly httpRequest: http.IncomingMessage;
  /** The request target (`/path?query`). */
  readonly resource: string;
  /** The request target, parsed. */
  resourceURL: ResourceURL;
  /** The Host header. */
  host: string | undefined;
  /** The Sec-WebSocket-Key header. */
  key: string | undefined;
  /** 13, or 8. */
  webSocketVersion: number | undefined;
  /** `Origin` (version 13) or `Sec-WebSocket-Origin` (version 8), if sent. */
  origin: string | undefined;
  /** The requested subprotocols, lower-cased, in the client's order. */
  requestedProtocols: string[];
  /**
   * Lower-cased subprotocol → as the client wrote it (the 101 answers in the client's case). A
   * prototype-less object: a protocol named `__proto__` or `constructor` is a plain key.
   */
  protocolFullCaseMap: Record<string, string>;
  /** The offered extensions (none is ever accepted). */
  requestedExtensions: RequestedExtension[];
  /** The request's cookies. */
  cookies: Cookie[];
  /**
   * The client's address: the right-most X-Forwarded-For entry (the one the proxy in front appended)
   * unless the server ignores that header.
   */
  remoteAddress: string | undefined;
  /** X-Forwarded-For entries, then the socket's address. */
  remoteAddresses: Array<string | undefined>;
  /** The configuration of the server that received the request. */
  readonly serverConfig: ServerConfig;
  /** @internal */ _resolved: boolean;
  /** @internal The socket ended or closed before accept/reject. */
  _socketIsClosing: boolean;
  /** @internal */ readonly _owner: RequestOwner | null;
  /** @internal Bytes read past the handshake. */
  readonly _head: Buffer;

  /** Wraps an upgrade request; `readHandshake()` reads it. */
  constructor(socket: Duplex, httpRequest: http.IncomingMessage, serverConfig: ServerConfig, owner: RequestOwner | null = null, head?: Buffer) {
    super();
    this.socket = socket;
    this.httpRequest = httpRequest;
    this.resource = httpRequest.url || '/';
    this.resourceURL = parseResource(this.resource);
    this.host = undefined;
    this.key = undefined;
    this.webSocketVersion = undefined;
    this.origin = undefined;
    this.requestedProtocols = [];
    this.protocolFullCaseMap = Object.create(null) as Record<string, string>;
    this.requestedExtensions = [];
    this.cookies = [];
    this.remoteAddress = (socket as PendingSocket).remoteAddress;
    this.remoteAddresses = [this.remoteAddress];
    this.serverConfig = serverConfig;
    this._resolved = false;
    this._socketIsClosing = false;
    this._owner = owner;
    this._head = head || Buffer.alloc(0);
    // Until accept/reject, note a client that hangs up, and keep a reset from crashing the process.
    (socket as PendingSocket)[kRequest] = this;
    socket.on('end', socketGoneBeforeAccept);
    socket.on('close', socketGoneBeforeAccept);
    socket.on('error', socketErrorBeforeAccept);
  }

  /**
   * Reads the handshake into this object's fields; throws a `HandshakeError` for a request that is
   * not a valid WebSocket handshake (no Host: 400; a missing version: 400; an unsupported one: 426;
   * otherwise weft's checks, with ws's statuses and messages).
   */
  readHandshake(): void {
    const req = this.httpRequest;
    const headers = req.headers;
    this.host = headers.host;
    if (!this.host) throw handshakeError(400, 'Client must provide a Host header.');
    const result = validateUpgradeRequest(req.method || 'GET', headers);
    if (!result.ok) {
      if (result.message === HandshakeMessage.INVALID_VERSION) {
        const raw = headers['sec-websocket-version'];
        if (!raw || Number.isNaN(parseInt(String(raw), 10))) {
          throw handshakeError(400, 'Client must provide a value for Sec-WebSocket-Version.', result.headers);
        }
        throw handshakeError(426, `Unsupported websocket client version: ${raw}. Only versions 8 and 13 are supported.`, result.headers);
      }
      throw handshakeError(result.status, result.message, result.headers);
    }
    this.key = result.key;
    this.webSocketVersion = result.version;
    const origin = headers[result.version === 13 ? 'origin' : 'sec-websocket-origin'];
    this.origin = Array.isArray(origin) ? origin[0] : origin;

    for (const protocol of result.protocols) {
      const lower = protocol.toLocaleLowerCase();
      this.requestedProtocols.push(lower);
      this.protocolFullCaseMap[lower] = protocol;
    }

    const forwarded = headers['x-forwarded-for'];
    if (!this.serverConfig.ignoreXForwardedFor && typeof forwarded === 'string' && forwarded !== '') {
      const peer = this.remoteAddress;
      this.remoteAddresses = forwarded.split(/,\s*/);
      this.remoteAddresses.push(peer);
      // The entry the proxy in front appended (weft's `trustProxy: true`): the ones left of it are the
      // client's to write.
      this.remoteAddress = forwardedAddress(forwarded, 1) || peer;
    }

    if (this.serverConfig.parseExtensions !== false) this.requestedExtensions = parseExtensions(result.extensionsHeader);
    if (this.serverConfig.parseCookies !== false) this.cookies = parseCookies(headers.cookie);
  }

  /**
   * Accepts the handshake: answers 101 with `acceptedProtocol` (one the client requested, in its case;
   * falsy for none), an `Origin` line naming `allowedOrigin` when given, and a `Set-Cookie` line per
   * cookie. Returns the connection — also when the client has already gone, in which case it closes
   * with 1006 on the next tick. Throws (after rejecting with 500) for a protocol the client did not
   * request or an invalid cookie; throws if the request was already accepted or rejected.
   */
  accept(acceptedProtocol?: string | null, allowedOrigin?: string | null, cookies?: SetCookie[]): WebSocketConnection {
    this._verifyResolution();
    let protocol: string | undefined;
    if (acceptedProtocol) {
      const lower = acceptedProtocol.toLocaleLowerCase();
      protocol = this.requestedProtocols.includes(lower) ? this.protocolFullCaseMap[lower] : String(acceptedProtocol);
      if (!isToken(protocol)) {
        this.reject(500);
        throw new Error(`Illegal character in subprotocol "${protocol}".`);
      }
      if (!this.requestedProtocols.includes(lower)) {
        this.reject(500);
        throw new Error('Specified protocol was not requested by the client.');
      }
    }

    const lines: string[] = [];
    if (allowedOrigin) {
      const name = this.webSocketVersion === 8 ? 'Sec-WebSocket-Origin' : 'Origin';
      lines.push(`${name}: ${allowedOrigin.replace(/[\r\n]/g, '')}`);
    }
    if (cookies) {
      try {
        if (!Array.isArray(cookies)) throw new Error('Value supplied for "cookies" argument must be an array.');
        const seen = new Set<string>();
        for (const cookie of cookies) lines.push(`Set-Cookie: ${cookieLine(cookie, seen)}`);
      } catch (err) {
        this.reject(500);
        throw err;
      }
    }

    this._resolve();
    this._detachSocket(!this._socketIsClosing);

    let ws: NodeSocket | null = null;
    const owner = this._owner;
    if (!this._socketIsClosing && owner !== null) {
      const req = this.httpRequest as http.IncomingMessage & { [kAccept]?: PendingAccept };
      const pending: PendingAccept = { protocol, lines, ws: null };
      req[kAccept] = pending;
      try {
        owner._weft.handleUpgrade(req, this.socket, this._head, captureSocket);
      } finally {
        req[kAccept] = undefined;
      }
      ws = pending.ws;
    }

    const details = {
      protocol: acceptedProtocol,
      webSocketVersion: this.webSocketVersion || 13,
      remoteAddress: this.remoteAddress,
      remoteAddresses: this.remoteAddresses,
    };
    let connection: WebSocketConnection;
    if (ws === null) {
      // The client hung up before the 101 could go out: WebSocket-Node still returns a connection,
      // and closes it with 1006 on the next tick.
      this.socket.destroy();
      connection = new WebSocketConnection(new NodeSocket(null, undefined, weftOptions(this.serverConfig)), this.serverConfig, details);
      process.nextTick(dropLostConnection, connection);
    } else {
      connection = new WebSocketConnection(ws, this.serverConfig, details);
    }
    if (owner !== null) owner._requestAccepted(connection);
    this.emit('requestAccepted', connection);
    return connection;
  }

  /**
   * Refuses the handshake with HTTP `status` (default 403), the reason in `X-WebSocket-Reject-Reason`
   * (and as the body), and `extraHeaders`; the socket is closed once the answer is flushed.
   */
  reject(status?: number, reason?: string, extraHeaders?: Record<string, unknown>): void {
    this._verifyResolution();
    this._resolve();
    this._detachSocket(false);
    const code = typeof status === 'number' ? status : 403;
    const headers: Record<string, string> = {};
    const text = reason ? reason.replace(/[\r\n]/g, '') : undefined;
    if (text) headers['X-WebSocket-Reject-Reason'] = text;
    if (extraHeaders) {
      for (const name of Object.keys(extraHeaders)) {
        headers[name.replace(/[\r\n]/g, '')] = String(extraHeaders[name]).replace(/[\r\n]/g, '');
      }
    }
    const socket = this.socket;
    if (socket.writable && !socket.destroyed) {
      socket.once('finish', destroySocket);
      socket.end(httpErrorResponse(code, text, headers));
    } else {
      socket.destroy();
    }
    this.emit('requestRejected', this);
  }

  /** @internal Throws unless the request is still pending. */
  _verifyResolution(): void {
    if (this._resolved) throw new Error('WebSocketRequest may only be accepted or rejected one time.');
  }

  /** @internal Marks the request accepted or rejected, and says so. */
  private _resolve(): void {
    this._resolved = true;
    if (this._owner !== null) this._owner._requestResolved(this);
    this.emit('requestResolved', this);
  }

  /** @internal Removes the pending-state listeners (keeping the error guard when the socket stays ours). */
  _detachSocket(all: boolean): void {
    const socket = this.socket as PendingSocket;
    socket[kRequest] = undefined;
    socket.removeListener('end', socketGoneBeforeAccept);
    socket.removeListener('close', socketGoneBeforeAccept);
    if (all) socket.removeListener('error', socketErrorBeforeAccept);
  }
}

/** `handleUpgrade`'s callback: keeps the socket weft made for the accept in progress. */
function captureSocket(ws: unknown, req: http.IncomingMessage & { [kAccept]?: PendingAccept }): void {
  const pending = req[kAccept];
  if (pending !== undefined) pending.ws = ws as NodeSocket;
}

function dropLostConnection(connection: WebSocketConnection): void {
  connection.drop(1006, 'TCP connection lost before handshake completed.', true);
}

function destroySocket(this: Duplex): void {
  this.destroy();
}

function socketGoneBeforeAccept(this: PendingSocket): void {
  const request = this[kRequest];
  if (request === undefined) return;
  request._socketIsClosing = true;
  request._detachSocket(false);
  if (request._owner !== null) request._owner._requestResolved(request);
}

function socketErrorBeforeAccept(this: PendingSocket): void {
  this.destroy();
}

function handshakeError(status: number, message: string, headers?: Record<string, string>): HandshakeError {
  const err: HandshakeError = new Error(message);
  err.httpCode = status;
  if (headers !== undefined) err.headers = headers;
  return err;
}

/** Splits a request target (`/path?query#hash`) into `url.parse(target, true)`'s fields. */
export function parseResource(resource: string): ResourceURL {
  let rest = resource;
  let hash: string | null = null;
  const sharp = rest.indexOf('#');
  if (sharp !== -1) {
    hash = rest.slice(sharp);
    rest = rest.slice(0, sharp);
  }
  const question = rest.indexOf('?');
  const pathname = question === -1 ? rest : rest.slice(0, question);
  const search = question === -1 ? null : rest.slice(question);
  return {
    protocol: null,
    slashes: null,
    auth: null,
    host: null,
    port: null,
    hostname: null,
    hash,
    search,
    query: parseQuery(search === null ? '' : search.slice(1)),
    pathname,
    path: rest,
    href: resource,
  };
}

/** `Sec-WebSocket-Extensions`, read leniently and lower-cased as WebSocket-Node reads it. */
export function parseExtensions(header: string | undefined): RequestedExtension[] {
  if (!header) return [];
  return header
    .toLocaleLowerCase()
    .split(/,\s*/)
    .map((offer) => {
      const [name, ...params] = offer.split(/;\s*/);
      return {
        name,
        params: params.map((param) => {
          const [key, value] = param.split('=');
          return { name: key, value };
        }),
      };
    });
}
