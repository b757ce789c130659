/**
 * The client side of the opening handshake (RFC 6455 §4.1): URL checks, the HTTP upgrade request over
 * `http`/`https`, redirects, and the checks of the server's response, with ws 8.23's options, defaults,
 * events, error messages and their order. Loading this module plugs `initAsClient` into the WebSocket
 * constructor (`new WebSocket(url, protocols?, options?)`); once the server has accepted, the socket is
 * handed to `WebSocket#setSocket` and the protocol core takes over.
 */
import { PerMessageDeflate, acceptClientResponse, clientOffer, type DeflateHandshakeOptions } from './deflate';
import { request as httpRequest, type ClientRequest, type IncomingMessage, type OutgoingHttpHeaders } from 'http';
import { request as httpsRequest, type RequestOptions as HttpsRequestOptions } from 'https';
import { connect as netConnectRaw, isIP, type NetConnectOpts, type Socket, type createConnection as netCreateConnection } from 'net';
import { connect as tlsConnectRaw, type ConnectionOptions, type TLSSocket } from 'tls';
import { unescape } from 'querystring';
import type { Duplex } from 'stream';
import type { ClientHttp2Session } from 'http2';
import {
  DEFAULT_CLOSE_TIMEOUT,
  DEFAULT_MAX_BUFFERED_CHUNKS,
  DEFAULT_MAX_FRAGMENTS,
  DEFAULT_MAX_PAYLOAD,
  DEFAULT_MAX_PENDING_AUTO_PONGS,
  ReadyState,
} from './protocol/constants';
import { HandshakeMessage, generateKey, isValidSubprotocolList, validateUpgradeResponse } from './protocol/handshake';
import type { ConnectionOptions as WeftConnectionOptions } from './socket/connection-options';
import type { PerMessageDeflateOptions } from './deflate';
import type { WebSocket, SetSocketOptions } from './websocket';
import { abortHandshake, emitErrorAndClose, kAborted } from './socket/handshake-failure';
import { CONNECT_OPTIONS, openHttp2 } from './http2/client';

/**
 * Options of `new WebSocket(address, protocols?, options)`: ws 8.23's client options, plus any option of
 * `http.request()`/`https.request()` (`agent`, `headers`, `lookup`, `createConnection`, `ca`,
 * `rejectUnauthorized`, `auth`, `localAddress`, `family`, `servername`, ...), which are passed through.
 * `socketPath`, `hostname`, `protocol`, `timeout`, `method`, `host`, `path` and `port` are ignored: the
 * URL decides them.
 */
export interface ClientOptions extends Omit<HttpsRequestOptions, 'headers' | 'createConnection'>, WeftConnectionOptions {
  /** Request headers; the handshake's own headers override same-named ones. */
  headers?: OutgoingHttpHeaders;
  /**
   * Makes the connection instead of `net.connect`/`tls.connect`, called as `http.request()` calls it:
   * `(options, oncreate)`, returning the socket or handing it to `oncreate`. `net.createConnection`
   * itself is accepted too (its type is what `@types/ws` declares here).
   */
  createConnection?: HttpsRequestOptions['createConnection'] | typeof netCreateConnection;
  /** Whether `message`/`ping`/`pong` may be emitted several times in one tick. Default `true`. */
  allowSynchronousEvents?: boolean;
  /** Whether pings are answered with a pong automatically. Default `true`. */
  autoPong?: boolean;
  /** Milliseconds `close()` waits for the closing handshake before destroying the socket. Default 30000. */
  closeTimeout?: number;
  /** Called instead of `req.end()` with each handshake request (the first and every redirect); must end it. */
  finishRequest?: (req: ClientRequest, ws: WebSocket) => void;
  /** Whether 3xx responses with a `Location` are followed. Default `false`. */
  followRedirects?: boolean;
  /** Fills the 4-byte masking key of each outgoing frame, synchronously. Default: random bytes. */
  generateMask?: (mask: Buffer) => void;
  /** Milliseconds the opening handshake may take (reset on each redirect). Default: no limit. */
  handshakeTimeout?: number;
  /** The most chunks buffered for one message (0: no limit). Default 262144. */
  maxBufferedChunks?: number;
  /** The most fragments of one message (0: no limit). Default 16384. */
  maxFragments?: number;
  /** The largest message accepted, in bytes (0: no limit). Default 104857600 (100 MiB). */
  maxPayload?: number;
  /** The most pings awaiting their automatic pong before the connection is terminated. Default 60. */
  maxPendingAutoPongs?: number;
  /** The most redirects followed. Default 10. */
  maxRedirects?: number;
  /** Sent as `Origin` (protocol version 13) or `Sec-WebSocket-Origin` (version 8). */
  origin?: string;
  /** permessage-deflate (RFC 7692): `true` (default) offers it with ws's defaults; an object sets them. */
  perMessageDeflate?: boolean | PerMessageDeflateOptions;
  /** `Sec-WebSocket-Version`: 13 (default) or 8. */
  protocolVersion?: number;
  /** The subprotocols, when the `protocols` argument is not given (ws 8.22+). */
  protocols?: string | string[];
  /**
   * weft: how each connection's bytes are carried. `'native'` (the default) reads and writes plain TCP
   * connections through Node's TCP handle, past net.Socket's stream layer (less CPU per message); `wss:`
   * and HTTP/2 stay on the stream path, as does every connection where Node's internals are unavailable.
   * `ws._socket` stays the net.Socket. `'stream'` keeps the connection on net.Socket's stream layer (as
   * does `WEFT_TRANSPORT=stream` in the environment, for every socket).
   */
  transport?: 'stream' | 'native';
  /** Whether UTF-8 validation of text messages and close reasons is skipped. Default `false`. */
  skipUTF8Validation?: boolean;
  /**
   * weft: open the WebSocket as an HTTP/2 stream (RFC 8441) — `true` on a session of its own, or on the
   * `ClientHttp2Session` given — when the server advertises SETTINGS_ENABLE_CONNECT_PROTOCOL; over
   * HTTP/1.1 otherwise. Default `false`.
   */
  http2?: boolean | ClientHttp2Session;
}

/**
 * The extension half of the client handshake: what to offer in `Sec-WebSocket-Extensions` (RFC 6455
 * §4.1, request item 11) and how to take the server's answer (§4.1, response item 5).
 */
export interface ClientExtensionOffer {
  /** The `Sec-WebSocket-Extensions` request header value. */
  readonly header: string;
  /** The names of the offered extensions (what the response may name). */
  readonly names: readonly string[];
  /**
   * Accepts the server's `Sec-WebSocket-Extensions` value, which already parsed and named exactly one
   * offered extension. Installs the negotiated extension on `ws._extensions` and returns `null`, or
   * returns the handshake error message (ws: `Invalid Sec-WebSocket-Extensions header`).
   */
  accept(header: string, ws: WebSocket): string | null;
}

/**
 * The client's permessage-deflate offer (RFC 7692 §5) from the `perMessageDeflate` option (ws default
 * `true`) and `maxPayload`, or `null` to offer none (then a response naming an extension fails with
 * `Server sent a Sec-WebSocket-Extensions header but no extension was requested`).
 */
export function createExtensionOffer(perMessageDeflate: unknown, maxPayload: number): ClientExtensionOffer | null {
  const offer = clientOffer({ perMessageDeflate: perMessageDeflate as DeflateHandshakeOptions['perMessageDeflate'], maxPayload });
  if (offer === null) return null;
  const extension = offer.extension;
  return {
    header: offer.header,
    names: [PerMessageDeflate.extensionName],
    accept(header: string, ws: WebSocket): string | null {
      try {
        acceptClientResponse(header, extension);
      } catch (err) {
        return (err as Error).message;
      }
      ws._extensions = { [PerMessageDeflate.extensionName]: extension };
      return null;
    },
  };
}

/**
 * The messages `validateUpgradeResponse` returns from its last check, the extension one: ws records the
 * selected subprotocol before that check, so `ws.protocol` is set even when it fails.
 */
const EXTENSION_ERRORS: ReadonlySet<string> = new Set<string>([
  HandshakeMessage.UNREQUESTED_EXTENSIONS,
  HandshakeMessage.INVALID_EXTENSIONS_RESPONSE,
  HandshakeMessage.UNREQUESTED_EXTENSION,
]);

/** The `Sec-WebSocket-Version` values a client may send (RFC 6455 is 13; 8 is draft-ietf-hybi-10). */
const PROTOCOL_VERSIONS: readonly number[] = [8, 13];

/** What one WebSocket's opening handshake remembers across its redirects (ws keeps it on the instance). */
interface HandshakeChain {
  /** Redirects followed so far. */
  redirects: number;
  /** Whether the first URL was `ws+unix:`. */
  originalIpc: boolean;
  /** Whether the first URL was `wss:`. */
  originalSecure: boolean;
  /** The first URL's `host` (or socket path, for `ws+unix:`): a redirect elsewhere drops credentials. */
  originalHostOrSocketPath: string;
  /** The user's options; when following redirects, a copy with lower-cased header names. */
  options: ClientOptions | undefined;
  /** The HTTP/2 attempt (`options.http2`) is over: this handshake goes over HTTP/1.1. */
  noHttp2?: boolean;
}

/**
 * The options handed to `http.request()`: the user's, the defaults under them, and the handshake's
 * own fields over them.
 */
type RequestArgs = Omit<ClientOptions, 'headers'> & {
  headers: Record<string, unknown>;
  defaultPort?: number | string;
};

/** The arguments `http.request()` passes to `createConnection`. */
type ConnectArgs = RequestArgs & { path?: string | null; servername?: string };

/**
 * `initAsClient`: starts the opening handshake of the client `ws` (what `new WebSocket(address,
 * protocols, options)` runs). `protocols` is the normalised protocols argument (an array, already
 * resolved against `options.protocols` as in ws 8.22+). Throws `RangeError` for an unsupported
 * `protocolVersion` and `SyntaxError` for a bad URL or subprotocol list, with ws's messages; every
 * later failure is reported as `'error'` then `'close'`.
 */
export function initAsClient(ws: WebSocket, address: string | URL, protocols: unknown, options: unknown): void {
  const opts = (options === null || typeof options !== 'object' ? undefined : options) as ClientOptions | undefined;
  // websocket.ts has already resolved the protocols argument against `options.protocols`, as ws does.
  const list: unknown[] = Array.isArray(protocols) ? protocols : protocols === undefined ? [] : [protocols];
  const chain: HandshakeChain = {
    redirects: 0,
    originalIpc: false,
    originalSecure: false,
    originalHostOrSocketPath: '',
    options: opts,
  };
  (ws as unknown as { _handshakeChain: HandshakeChain })._handshakeChain = chain; // read as ws's `_redirects`
  openHandshake(ws, address, list, chain);
}


/** A parsed WebSocket URL, or the message of the SyntaxError it fails with. */
interface TargetUrl {
  url: URL;
  isSecure: boolean;
  isIpc: boolean;
  invalid: string | null;
}

/**
 * Parses a WebSocket URI (RFC 6455 §3, as §4.1 asks first: "the client MUST _Fail the WebSocket
 * Connection_" when it is not valid). Throws `SyntaxError('Invalid URL: X')` when it does not parse;
 * `http:`/`https:` are read as `ws:`/`wss:` (without changing a URL object passed in).
 */
function parseTarget(address: string | URL): TargetUrl {
  let url: URL;
  if (address instanceof URL) {
    url = address;
  } else {
    try {
      url = new URL(address);
    } catch {
      throw new SyntaxError(`Invalid URL: ${address}`);
    }
  }
  if (url.protocol === 'http:' || url.protocol === 'https:') {
    url = new URL(url);
    url.protocol = url.protocol === 'http:' ? 'ws:' : 'wss:';
  }
  const isSecure = url.protocol === 'wss:';
  const isIpc = url.protocol === 'ws+unix:';
  let invalid: string | null = null;
  if (url.protocol !== 'ws:' && !isSecure && !isIpc) {
    invalid = 'The URL\'s protocol must be one of "ws:", "wss:", "http:", "https:", or "ws+unix:"';
  } else if (isIpc && !url.pathname) {
    invalid = "The URL's pathname is empty";
  } else if (url.hash) {
    // §3: "Fragment identifiers are meaningless in the context of WebSocket URIs and MUST NOT be used
    // on these URIs."
    invalid = 'The URL contains a fragment identifier';
  }
  return { url, isSecure, isIpc, invalid };
}

/**
 * Sends one handshake request: the first, or the next one after a redirect. Returns after the request
 * has been ended (or handed to `finishRequest`); the rest happens in the request's listeners.
 */
function openHandshake(ws: WebSocket, address: string | URL, protocols: unknown[], chain: HandshakeChain): void {
  const options = chain.options;
  const opts: RequestArgs = {
    allowSynchronousEvents: true,
    autoPong: true,
    closeTimeout: DEFAULT_CLOSE_TIMEOUT,
    protocolVersion: 13,
    maxBufferedChunks: DEFAULT_MAX_BUFFERED_CHUNKS,
    maxFragments: DEFAULT_MAX_FRAGMENTS,
    maxPayload: DEFAULT_MAX_PAYLOAD,
    maxPendingAutoPongs: DEFAULT_MAX_PENDING_AUTO_PONGS,
    skipUTF8Validation: false,
    perMessageDeflate: true,
    followRedirects: false,
    maxRedirects: 10,
    ...(options as Omit<ClientOptions, 'headers'>),
    // The URL decides these; whatever the user passed is dropped.
    socketPath: undefined,
    hostname: undefined,
    protocol: undefined,
    protocols: undefined,
    timeout: undefined,
    // §4.1 request item 2: "The method of the request MUST be GET, and the HTTP version MUST be at
    // least 1.1." (`http` sends HTTP/1.1.)
    method: 'GET',
    host: undefined,
    path: undefined,
    port: undefined,
    headers: {}, // built below, once the URL is known
  };

  if (!PROTOCOL_VERSIONS.includes(opts.protocolVersion as number)) {
    throw new RangeError(
      `Unsupported protocol version: ${opts.protocolVersion} (supported versions: ${PROTOCOL_VERSIONS.join(', ')})`,
    );
  }

  const target = parseTarget(address);
  const url = target.url;
  ws._url = url.href;
  if (target.invalid !== null) {
    const err = new SyntaxError(target.invalid);
    // The first URL fails the constructor; a redirect's fails the connection.
    if (chain.redirects === 0) throw err;
    ws._req = null;
    emitErrorAndClose(ws, err);
    return;
  }
  const { isSecure, isIpc } = target;

  ws._autoPong = !!opts.autoPong;
  ws._closeTimeout = opts.closeTimeout as number;

  const defaultPort = isSecure ? 443 : 80;
  // §4.1 request item 7: "The value of this header field MUST be a nonce consisting of a randomly
  // selected 16-byte value that has been base64-encoded ... randomly selected for each connection."
  const key = generateKey();
  const request = isSecure ? httpsRequest : httpRequest;

  // §4.1: "If /secure/ is true, the client MUST perform a TLS handshake over the connection after
  // opening the connection and before sending the handshake data."
  opts.createConnection = (opts.createConnection || (isSecure ? tlsConnect : netConnect)) as RequestArgs['createConnection'];
  opts.defaultPort = opts.defaultPort || defaultPort;
  opts.port = url.port || defaultPort;
  // §4.1 request item 4 (the Host header) is written by `http` from host, port and defaultPort.
  opts.host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  // §4.1 request items 5, 6, 7 and 9: `Upgrade: websocket`, `Connection: Upgrade`, the key and
  // `Sec-WebSocket-Version: 13` (or 8); they override same-named user headers.
  const headers: Record<string, unknown> = {
    ...(options !== undefined ? (options.headers as Record<string, unknown>) : undefined),
    'Sec-WebSocket-Version': opts.protocolVersion,
    'Sec-WebSocket-Key': key,
    Connection: 'Upgrade',
    Upgrade: 'websocket',
  };
  opts.headers = headers;
  // §4.1 request item 3: the Request-URI is the /resource name/ (§3: path and query).
  opts.path = url.pathname + url.search;
  opts.timeout = opts.handshakeTimeout;

  // §4.1 request item 11: "The request MAY include a header field with the name
  // |Sec-WebSocket-Extensions|."
  const extensions = opts.perMessageDeflate ? createExtensionOffer(opts.perMessageDeflate, opts.maxPayload as number) : null;
  if (extensions !== null) headers['Sec-WebSocket-Extensions'] = extensions.header;

  // §4.1 request item 10: "The request MAY include a header field with the name
  // |Sec-WebSocket-Protocol|. If present, this value indicates one or more comma-separated subprotocol
  // the client wishes to speak, ordered by preference. The elements that comprise this value MUST be
  // non-empty strings with characters in the range U+0021 to U+007E not including separator characters
  // as defined in [RFC2616] and MUST all be unique strings."
  if (protocols.length !== 0) {
    if (!isValidSubprotocolList(protocols)) throw new SyntaxError(HandshakeMessage.INVALID_SUBPROTOCOL_LIST);
    headers['Sec-WebSocket-Protocol'] = protocols.join(',');
  }
  const offered = protocols as string[];

  // §4.1 request item 8: |Origin| (optional outside browsers); draft 8 named it |Sec-WebSocket-Origin|.
  if (opts.origin) {
    if ((opts.protocolVersion as number) < 13) headers['Sec-WebSocket-Origin'] = opts.origin;
    else headers.Origin = opts.origin;
  }
  // §4.1 request item 12: "The request MAY include any other header fields, for example, cookies and/or
  // authentication-related header fields such as the |Authorization| header field".
  if (url.username || url.password) opts.auth = `${unescape(url.username)}:${unescape(url.password)}`;

  // `ws+unix:/path/to.sock:/request/path`: the socket path, then the request path after the first ':'.
  if (isIpc) {
    const path = opts.path;
    const colon = path.indexOf(':');
    if (colon === -1) {
      opts.socketPath = path;
      opts.path = '';
    } else {
      opts.socketPath = path.slice(0, colon);
      opts.path = path.slice(colon + 1);
    }
  }

  // weft, RFC 8441: as a stream of an HTTP/2 connection when asked for and the server allows it
  // (lib/http2/client.ts); it comes back here, over HTTP/1.1, when the server does not.
  if (opts.http2 && !isIpc && !chain.noHttp2) {
    chain.noHttp2 = true;
    const connectOptions: Record<string, unknown> = {};
    for (const name of CONNECT_OPTIONS) {
      if ((opts as Record<string, unknown>)[name] !== undefined) connectOptions[name] = (opts as Record<string, unknown>)[name];
    }
    openHttp2(ws, {
      session: opts.http2 === true ? true : opts.http2,
      url,
      isSecure,
      headers,
      auth: opts.auth || undefined,
      protocols: offered,
      extensions,
      handshakeTimeout: opts.handshakeTimeout,
      connectOptions,
      socketOptions: socketOptions(opts),
      fallback: () => openHandshake(ws, address, protocols, chain),
    });
    return;
  }

  let req: ClientRequest | null;
  if (opts.followRedirects) {
    prepareRedirectHeaders(ws, opts, url, isSecure, isIpc, chain);
    req = ws._req = request(opts as HttpsRequestOptions);
    // No early exit when a 'redirect' listener closes the WebSocket: the request is aborted by then,
    // and the listeners below still have to be attached to it.
    if (chain.redirects !== 0) ws.emit('redirect', ws._url, req);
  } else {
    req = ws._req = request(opts as HttpsRequestOptions);
  }
  const thisRequest = req;

  if (opts.timeout) {
    thisRequest.on('timeout', () => {
      if (ws._req === thisRequest) abortHandshake(ws, thisRequest, 'Opening handshake has timed out');
    });
  }

  thisRequest.on('error', (err: Error) => {
    if (req === null || (req as ClientRequest & { [kAborted]?: boolean })[kAborted]) return;
    req = ws._req = null;
    emitErrorAndClose(ws, err);
  });

  thisRequest.on('response', (res: IncomingMessage) => {
    const location = res.headers.location;
    const status = res.statusCode as number;
    // §4.1: "If the status code received from the server is not 101, the client handles the response
    // per HTTP [RFC2616] procedures. ... the server might redirect the client using a 3xx status code
    // (but clients are not required to follow them)".
    if (location && opts.followRedirects && status >= 300 && status < 400) {
      if (++chain.redirects > (opts.maxRedirects as number)) {
        abortHandshake(ws, thisRequest, 'Maximum redirects exceeded');
        return;
      }
      (thisRequest as ClientRequest & { [kAborted]?: boolean })[kAborted] = true;
      thisRequest.destroy();
      let next: URL;
      try {
        next = new URL(location, address);
      } catch {
        ws._req = null;
        emitErrorAndClose(ws, new SyntaxError(`Invalid URL: ${location}`));
        return;
      }
      openHandshake(ws, next, protocols, chain);
    } else if (!ws.emit('unexpected-response', thisRequest, res)) {
      abortHandshake(ws, thisRequest, `Unexpected server response: ${status}`);
    }
  });

  thisRequest.on('upgrade', (res: IncomingMessage, socket: Duplex, head: Buffer) => {
    ws.emit('upgrade', res);
    // An 'upgrade' listener may have closed the WebSocket.
    if (ws.readyState !== ReadyState.CONNECTING) return;
    req = ws._req = null;

    // §4.1, the client's checks of the server's handshake (items 1 to 6; 101 is implied by 'upgrade').
    const message = validateUpgradeResponse({ statusCode: res.statusCode, headers: res.headers }, key, offered, extensions === null ? false : extensions.names);
    // The selected subprotocol is recorded before the extension check, as ws does.
    const protocol = res.headers['sec-websocket-protocol'];
    if (protocol && (message === null || EXTENSION_ERRORS.has(message))) ws._protocol = protocol;
    if (message !== null) {
      abortHandshake(ws, socket, message);
      return;
    }
    const extensionHeader = res.headers['sec-websocket-extensions'];
    if (extensions !== null && extensionHeader !== undefined) {
      const failure = extensions.accept(extensionHeader, ws);
      if (failure !== null) {
        abortHandshake(ws, socket, failure);
        return;
      }
    }

    // §4.1: "If the server's response is validated as provided for above, it is said that _The
    // WebSocket Connection is Established_ and that the WebSocket Connection is in the OPEN state."
    ws.setSocket(socket, head, socketOptions(opts));
  });

  if (opts.finishRequest) opts.finishRequest(thisRequest, ws);
  else thisRequest.end();
}

/** The connection options `setSocket` takes, from the handshake's options. */
function socketOptions(opts: RequestArgs): SetSocketOptions {
  return {
    allowSynchronousEvents: opts.allowSynchronousEvents,
    generateMask: opts.generateMask,
    maxBufferedChunks: opts.maxBufferedChunks,
    maxFragments: opts.maxFragments,
    maxPayload: opts.maxPayload,
    maxPendingAutoPongs: opts.maxPendingAutoPongs,
    skipUTF8Validation: opts.skipUTF8Validation,
    transport: opts.transport,
  };
}

/**
 * The header rules of a handshake that follows redirects (curl 7.77's, as ws has them). On the first
 * request, remember where it went and keep a copy of the user's options with lower-cased header names.
 * On a redirect to another host (or socket path), or from `wss:` to `ws:`, drop `authorization` and
 * `cookie` (and `host`, on another host) and the URL credentials — unless a `'redirect'` listener
 * exists, which then owns that decision. Credentials from a URL become an `authorization` header for
 * the requests that follow, unless one was given.
 */
function prepareRedirectHeaders(
  ws: WebSocket,
  opts: RequestArgs,
  url: URL,
  isSecure: boolean,
  isIpc: boolean,
  chain: HandshakeChain,
): void {
  const where = isIpc ? (opts.socketPath as string) : url.host;
  if (chain.redirects === 0) {
    chain.originalIpc = isIpc;
    chain.originalSecure = isSecure;
    chain.originalHostOrSocketPath = where;
    const lowered: Record<string, unknown> = {};
    const given = chain.options !== undefined ? chain.options.headers : undefined;
    if (given) {
      for (const name of Object.keys(given)) lowered[name.toLowerCase()] = (given as Record<string, unknown>)[name];
    }
    chain.options = { ...chain.options, headers: lowered as OutgoingHttpHeaders };
  } else if (ws.listenerCount('redirect') === 0) {
    const sameHost = isIpc === chain.originalIpc && where === chain.originalHostOrSocketPath;
    if (!sameHost || (chain.originalSecure && !isSecure)) {
      delete opts.headers.authorization;
      delete opts.headers.cookie;
      if (!sameHost) delete opts.headers.host;
      opts.auth = undefined;
    }
  }
  const headers = (chain.options as ClientOptions).headers as Record<string, unknown>;
  if (opts.auth && !headers.authorization) {
    headers.authorization = 'Basic ' + Buffer.from(opts.auth).toString('base64');
  }
}

/**
 * The default `createConnection` for `ws:` and `ws+unix:`. `http.request()` hands over its own options,
 * where `path` is the request path: `net.connect` would read it as an IPC path, so it is replaced by
 * `socketPath` (undefined for TCP).
 */
function netConnect(options: ConnectArgs): Socket {
  options.path = options.socketPath;
  return netConnectRaw(options as NetConnectOpts);
}

/**
 * The default `createConnection` for `wss:`. Sends SNI for the URL's host unless `servername` was given
 * (even empty) or the host is an IP literal, which SNI must not carry (RFC 6066 §3).
 */
function tlsConnect(options: ConnectArgs): TLSSocket {
  options.path = undefined;
  if (!options.servername && options.servername !== '') {
    options.servername = isIP(options.host as string) ? '' : (options.host as string);
  }
  return tlsConnectRaw(options as ConnectionOptions);
}
