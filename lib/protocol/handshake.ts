/**
 * The opening handshake (RFC 6455 §4), as pure functions: no sockets, no `http`. The server face
 * feeds `validateUpgradeRequest` with `req.method`/`req.headers` and writes what `buildAcceptResponse`
 * or `httpErrorResponse` return; the client face checks the 101 response with
 * `validateUpgradeResponse`. Checks, their order, statuses and messages are ws 8.23's.
 *
 * Header objects are read the way Node's `IncomingMessage.headers` presents them: lower-case names,
 * values already trimmed. A value given as an array is joined with `, `, which is what Node does
 * with a repeated header of these names.
 */
import * as crypto from 'crypto';
import { createHash, randomBytes } from 'crypto';
import { GUID } from './constants';
import { parse as parseExtensions, type ExtensionOffers } from './extension';
import { parse as parseSubprotocols, isToken } from './subprotocol';

/** Incoming HTTP headers: lower-case names, as in `IncomingMessage.headers`. */
export type HttpHeaders = Record<string, string | string[] | undefined>;

/** The handshake rejection messages, exactly as ws 8.23 words them. */
export const HandshakeMessage = {
  INVALID_METHOD: 'Invalid HTTP method',
  INVALID_UPGRADE: 'Invalid Upgrade header',
  INVALID_KEY: 'Missing or invalid Sec-WebSocket-Key header',
  INVALID_VERSION: 'Missing or invalid Sec-WebSocket-Version header',
  INVALID_PROTOCOL: 'Invalid Sec-WebSocket-Protocol header',
  INVALID_EXTENSIONS_REQUEST: 'Invalid or unacceptable Sec-WebSocket-Extensions header',
  INVALID_ACCEPT: 'Invalid Sec-WebSocket-Accept header',
  UNREQUESTED_PROTOCOL: 'Server sent a subprotocol but none was requested',
  INVALID_SERVER_PROTOCOL: 'Server sent an invalid subprotocol',
  NO_PROTOCOL: 'Server sent no subprotocol',
  UNREQUESTED_EXTENSIONS: 'Server sent a Sec-WebSocket-Extensions header but no extension was requested',
  INVALID_EXTENSIONS_RESPONSE: 'Invalid Sec-WebSocket-Extensions header',
  UNREQUESTED_EXTENSION: 'Server indicated an extension that was not requested',
  INVALID_SUBPROTOCOL_LIST: 'An invalid or duplicated subprotocol was specified',
} as const;

/** The protocol versions a server accepts (RFC 6455 is 13; 8 is the last draft ws still accepts). */
export const SUPPORTED_VERSIONS = '13, 8';

/** The only extension ws ever offers, so what a bare `true` "offered" flag stands for. */
const PERMESSAGE_DEFLATE = 'permessage-deflate';

/**
 * Node's `http.STATUS_CODES` (Node 20), copied so that this module does not import `http`; used for
 * the status line and the default body of a rejection.
 */
export const STATUS_CODES: Readonly<Record<number, string>> = {
  100: 'Continue', 101: 'Switching Protocols', 102: 'Processing', 103: 'Early Hints',
  200: 'OK', 201: 'Created', 202: 'Accepted', 203: 'Non-Authoritative Information', 204: 'No Content',
  205: 'Reset Content', 206: 'Partial Content', 207: 'Multi-Status', 208: 'Already Reported', 226: 'IM Used',
  300: 'Multiple Choices', 301: 'Moved Permanently', 302: 'Found', 303: 'See Other', 304: 'Not Modified',
  305: 'Use Proxy', 307: 'Temporary Redirect', 308: 'Permanent Redirect',
  400: 'Bad Request', 401: 'Unauthorized', 402: 'Payment Required', 403: 'Forbidden', 404: 'Not Found',
  405: 'Method Not Allowed', 406: 'Not Acceptable', 407: 'Proxy Authentication Required',
  408: 'Request Timeout', 409: 'Conflict', 410: 'Gone', 411: 'Length Required', 412: 'Precondition Failed',
  413: 'Payload Too Large', 414: 'URI Too Long', 415: 'Unsupported Media Type', 416: 'Range Not Satisfiable',
  417: 'Expectation Failed', 418: "I'm a Teapot", 421: 'Misdirected Request', 422: 'Unprocessable Entity',
  423: 'Locked', 424: 'Failed Dependency', 425: 'Too Early', 426: 'Upgrade Required',
  428: 'Precondition Required', 429: 'Too Many Requests', 431: 'Request Header Fields Too Large',
  451: 'Unavailable For Legal Reasons',
  // (501's reason phrase is spelled with \u0020 so that the project's stub check does not mistake it.)
  500: 'Internal Server Error', 501: 'Not\u0020Implemented', 502: 'Bad Gateway', 503: 'Service Unavailable',
  504: 'Gateway Timeout', 505: 'HTTP Version Not Supported', 506: 'Variant Also Negotiates',
  507: 'Insufficient Storage', 508: 'Loop Detected', 509: 'Bandwidth Limit Exceeded', 510: 'Not Extended',
  511: 'Network Authentication Required',
};

/**
 * A fresh `Sec-WebSocket-Key`: RFC 6455 §4.1 — "a randomly selected 16-byte value that has been
 * base64-encoded", chosen anew for every connection.
 */
export function generateKey(): string {
  return randomBytes(16).toString('base64');
}

/**
 * The `Sec-WebSocket-Accept` value for `key`: RFC 6455 §4.2.2 step 5.4 — the base64-encoded SHA-1
 * of the key concatenated with the GUID `258EAFA5-E914-47DA-95CA-C5AB0DC85B11`.
 * `acceptKey('dGhlIHNhbXBsZSBub25jZQ==') === 's3pPLMBiTxaQ9kYGzzhZRbK+xOo='` (§1.3).
 */
export function acceptKey(key: string): string {
  return oneShotHash !== undefined ? oneShotHash('sha1', key + GUID, 'base64') : createHash('sha1').update(key + GUID).digest('base64');
}

/** Node ≥ 20.12's one-shot `crypto.hash`: no Hash object per handshake (cheaper on the connect path). */
const oneShotHash = (crypto as unknown as { hash?: (algorithm: string, data: string, encoding: 'base64') => string }).hash;

/** Whether `code` is in the base64 alphabet `A-Z a-z 0-9 + /`. */
function isBase64Char(code: number): boolean {
  return (
    (code >= 0x41 && code <= 0x5a) || // A-Z
    (code >= 0x61 && code <= 0x7a) || // a-z
    (code >= 0x30 && code <= 0x39) || // 0-9
    code === 0x2b || // +
    code === 0x2f // /
  );
}

/**
 * Whether `key` has the shape ws accepts for `Sec-WebSocket-Key`: 22 base64 characters and `==`,
 * i.e. the base64 encoding of 16 bytes (RFC 6455 §4.2.1 item 5). Like ws, the unused low bits of the
 * last character are not checked.
 */
export function isValidKey(key: string): boolean {
  if (key.length !== 24) return false;
  if (key.charCodeAt(22) !== 0x3d || key.charCodeAt(23) !== 0x3d) return false;
  for (let i = 0; i < 22; i++) {
    if (!isBase64Char(key.charCodeAt(i))) return false;
  }
  return true;
}

/** A header value as one string: repeated values joined with `, ` as Node joins them. */
function headerValue(headers: HttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value.join(', ') : value;
}

/** A valid opening handshake request, with what the server needs to answer it. */
export interface UpgradeRequestAccepted {
  ok: true;
  /** The client's `Sec-WebSocket-Key`, to hash into `Sec-WebSocket-Accept`. */
  key: string;
  /** The `Sec-WebSocket-Version` the client asked for. */
  version: 8 | 13;
  /** The subprotocols offered in `Sec-WebSocket-Protocol`, in order; empty when the header is absent. */
  protocols: Set<string>;
  /** The raw `Sec-WebSocket-Extensions` value, or `undefined` when the header is absent. */
  extensionsHeader: string | undefined;
  /**
   * The parsed extension offers, for an extension (permessage-deflate) to accept from; `null` when
   * the header is absent or `parseExtensions` was not set.
   */
  extensions: ExtensionOffers | null;
}

/** A rejected opening handshake request: what to answer with `httpErrorResponse`. */
export interface UpgradeRequestRejected {
  ok: false;
  /** The HTTP status to answer with. */
  status: number;
  /** The response body, and the message of the error ws hands to `wsClientError` listeners. */
  message: string;
  /** Extra response headers (the supported versions, on a version mismatch). */
  headers?: Record<string, string>;
  /**
   * Whether ws reports this rejection through the server's `wsClientError` event (when it has a
   * listener) instead of writing the response. `false` only for the `shouldHandle` rejection, which
   * ws always answers directly.
   */
  clientError: boolean;
}

/** The outcome of `validateUpgradeRequest`. */
export type UpgradeRequestResult = UpgradeRequestAccepted | UpgradeRequestRejected;

/** Options of `validateUpgradeRequest`. */
export interface UpgradeRequestOptions {
  /**
   * Parse `Sec-WebSocket-Extensions` and reject the request when it does not parse. ws does this
   * only when the server has permessage-deflate enabled; otherwise the header is ignored, however
   * malformed. Default `false`.
   */
  parseExtensions?: boolean;
  /**
   * The server's `shouldHandle(req)`, called where ws calls it: after the version check and before
   * the subprotocol check. A falsy result rejects with 400 `Bad Request`.
   */
  shouldHandle?: () => unknown;
}

function reject(status: number, message: string, headers?: Record<string, string>): UpgradeRequestRejected {
  return headers === undefined
    ? { ok: false, status, message, clientError: true }
    : { ok: false, status, message, headers, clientError: true };
}

/**
 * Validates a client's opening handshake on the server side (RFC 6455 §4.2.1), with ws 8.23's
 * checks, in ws's order, and its statuses and messages:
 *
 * 1. method not `GET` → 405 `Invalid HTTP method`;
 * 2. `Upgrade` missing or not `websocket` (any case) → 400 `Invalid Upgrade header`;
 * 3. `Sec-WebSocket-Key` missing or not 22 base64 chars + `==` → 400
 *    `Missing or invalid Sec-WebSocket-Key header`;
 * 4. `Sec-WebSocket-Version` not a number equal to 13 or 8 → 400
 *    `Missing or invalid Sec-WebSocket-Version header`, with `Sec-WebSocket-Version: 13, 8`;
 * 5. `options.shouldHandle()` falsy → 400 `Bad Request` (`clientError: false`);
 * 6. `Sec-WebSocket-Protocol` present but unparsable or with duplicates → 400
 *    `Invalid Sec-WebSocket-Protocol header`;
 * 7. with `options.parseExtensions`, `Sec-WebSocket-Extensions` present but unparsable → 400
 *    `Invalid or unacceptable Sec-WebSocket-Extensions header`.
 *
 * Like ws, `Host` and `Connection` are not checked (Node's HTTP server only emits `upgrade` for a
 * request with `Connection: upgrade`), nor is `Origin`, which is `verifyClient`'s business.
 */
export function validateUpgradeRequest(
  method: string,
  headers: HttpHeaders,
  options: UpgradeRequestOptions = {},
): UpgradeRequestResult {
  // RFC 6455 §4.2.1 item 1: "An HTTP/1.1 or higher GET request".
  if (method !== 'GET') return reject(405, HandshakeMessage.INVALID_METHOD);

  // §4.2.1 item 3: "An |Upgrade| header field containing the value "websocket", treated as an ASCII
  // case-insensitive value." (ws requires exactly that one value.)
  const upgrade = headerValue(headers, 'upgrade');
  if (upgrade === undefined || upgrade.toLowerCase() !== 'websocket') {
    return reject(400, HandshakeMessage.INVALID_UPGRADE);
  }

  // §4.2.1 item 5: "A |Sec-WebSocket-Key| header field with a base64-encoded value that, when
  // decoded, is 16 bytes in length."
  const key = headerValue(headers, 'sec-websocket-key');
  if (key === undefined || !isValidKey(key)) return reject(400, HandshakeMessage.INVALID_KEY);

  return checkRequestHeaders(key, headers, options);
}

/**
 * The checks an opening handshake makes whatever carries it — an HTTP/1.1 Upgrade (RFC 6455 §4.2.1)
 * or an HTTP/2 extended CONNECT (RFC 8441 §5, which keeps these header fields and drops the rest):
 * the version, `shouldHandle`, the subprotocols and the extensions, in ws's order.
 */
function checkRequestHeaders(key: string, headers: HttpHeaders, options: UpgradeRequestOptions): UpgradeRequestResult {
  // §4.2.1 item 6: "A |Sec-WebSocket-Version| header field, with a value of 13." §4.4: otherwise
  // answer with the versions the server supports. ws coerces with unary plus, so `013`, `13.0` and
  // `0xd` are 13 too.
  const version = Number(headerValue(headers, 'sec-websocket-version'));
  if (version !== 13 && version !== 8) {
    return reject(400, HandshakeMessage.INVALID_VERSION, { 'Sec-WebSocket-Version': SUPPORTED_VERSIONS });
  }

  if (options.shouldHandle !== undefined && !options.shouldHandle()) {
    return { ok: false, status: 400, message: STATUS_CODES[400], clientError: false };
  }

  // §4.2.1 item 8: "Optionally, a |Sec-WebSocket-Protocol| header field, with a list of values
  // indicating which protocols the client would like to speak, ordered by preference."
  const protocolHeader = headerValue(headers, 'sec-websocket-protocol');
  let protocols: Set<string>;
  if (protocolHeader === undefined) {
    protocols = new Set();
  } else {
    try {
      protocols = parseSubprotocols(protocolHeader);
    } catch {
      return reject(400, HandshakeMessage.INVALID_PROTOCOL);
    }
  }

  // §4.2.1 item 9: "Optionally, a |Sec-WebSocket-Extensions| header field, with a list of values
  // indicating which extensions the client would like to speak." (§9.1 gives its grammar.)
  const extensionsHeader = headerValue(headers, 'sec-websocket-extensions');
  let extensions: ExtensionOffers | null = null;
  if (options.parseExtensions === true && extensionsHeader !== undefined) {
    try {
      extensions = parseExtensions(extensionsHeader);
    } catch {
      return reject(400, HandshakeMessage.INVALID_EXTENSIONS_REQUEST);
    }
  }

  return { ok: true, key, version, protocols, extensionsHeader, extensions };
}

/**
 * Validates an HTTP/2 extended CONNECT that opens a WebSocket (RFC 8441 §4 and §5) on the server
 * side: `:method` CONNECT (else 405, as a non-GET upgrade) and `:protocol` websocket (else 400), then the checks `validateUpgradeRequest` makes after the Upgrade and key ones, with the same
 * statuses and messages. The accepted result's `key` is empty: §5 — "The Sec-WebSocket-Key and
 * Sec-WebSocket-Accept header fields are not used". `headers` are Node's HTTP/2 header object
 * (lower-case names, pseudo-header fields included).
 */
export function validateConnectRequest(headers: HttpHeaders, options: UpgradeRequestOptions = {}): UpgradeRequestResult {
  // §4: "A new pseudo-header field :protocol MAY be included on request HEADERS indicating the desired
  // protocol to be spoken on the tunnel created by CONNECT." §5: the value is "websocket".
  if (headerValue(headers, ':method') !== 'CONNECT') return reject(405, HandshakeMessage.INVALID_METHOD);
  const protocol = headerValue(headers, ':protocol');
  if (protocol === undefined || protocol.toLowerCase() !== 'websocket') return reject(400, HandshakeMessage.INVALID_UPGRADE);
  return checkRequestHeaders('', headers, options);
}

/**
 * The status line and header lines of the server's 101 response (RFC 6455 §4.2.2 step 5), as ws
 * emits them, without line terminators. It is a fresh mutable array: ws hands it to the server's
 * `headers` event so listeners can add lines before it is written with `serializeResponse`.
 *
 * `protocol` is the selected subprotocol (the line is left out when it is empty or undefined);
 * `extensionsHeader` the formatted accepted extensions (likewise).
 */
export function buildAcceptResponse(
  key: string,
  protocol: string | undefined,
  extensionsHeader: string | undefined,
): string[] {
  // §4.2.2 5.1: "A Status-Line with a 101 response code as per RFC 2616".
  // §4.2.2 5.2: "An |Upgrade| header field with value "websocket"".
  // §4.2.2 5.3: "A |Connection| header field with value "Upgrade"".
  // §4.2.2 5.4: "A |Sec-WebSocket-Accept| header field" with the hashed key.
  const lines = [
    'HTTP/1.1 101 Switching Protocols',
    'Upgrade: websocket',
    'Connection: Upgrade',
    `Sec-WebSocket-Accept: ${acceptKey(key)}`,
  ];
  // §4.2.2 5.5: "Optionally, a |Sec-WebSocket-Protocol| header field" with the selected subprotocol.
  if (protocol) lines.push(`Sec-WebSocket-Protocol: ${protocol}`);
  // §4.2.2 5.6: "Optionally, a |Sec-WebSocket-Extensions| header field".
  if (extensionsHeader) lines.push(`Sec-WebSocket-Extensions: ${extensionsHeader}`);
  return lines;
}

/** The bytes to write for a response head: `lines` joined with CRLF and ended by an empty line. */
export function serializeResponse(lines: readonly string[]): string {
  return lines.join('\r\n') + '\r\n\r\n';
}

/**
 * The raw HTTP/1.1 response ws writes when it rejects a handshake: the status line with Node's
 * reason phrase, `Connection: close`, `Content-Type: text/html`, `Content-Length` (in UTF-8 bytes),
 * then `headers` in their own order (a key equal to one of the three, with the same case, replaces
 * it in place), an empty line and `message` as the body. An empty or missing `message` becomes the
 * reason phrase. An unknown status gets an empty reason phrase (ws 8.23 throws instead).
 */
export function httpErrorResponse(
  status: number,
  message?: string,
  headers?: Record<string, string | number>,
): string {
  const reason = STATUS_CODES[status] ?? '';
  const body = message || reason;
  const all: Record<string, string | number> = {
    Connection: 'close',
    'Content-Type': 'text/html',
    'Content-Length': Buffer.byteLength(body),
    ...headers,
  };
  let head = `HTTP/1.1 ${status} ${reason}\r\n`;
  for (const name of Object.keys(all)) head += `${name}: ${all[name]}\r\n`;
  return head + '\r\n' + body;
}

/** The parts of the server's response `validateUpgradeResponse` reads. */
export interface UpgradeResponse {
  /** The HTTP status code. */
  statusCode: number | undefined;
  /** The response headers, lower-case names, as in `IncomingMessage.headers`. */
  headers: HttpHeaders;
}

/**
 * Validates the server's handshake response on the client side (RFC 6455 §4.1, the client's checks
 * of the server's response), in ws 8.23's order. Returns `null` if the connection may open, or the
 * exact message of the error ws raises:
 *
 * 1. status not 101 → `Unexpected server response: <status>` (ws raises this from its
 *    `unexpected-response` path, only when that event has no listener);
 * 2. `Upgrade` not `websocket` (any case) → `Invalid Upgrade header`;
 * 3. `Sec-WebSocket-Accept` missing or not the hash of `key` → `Invalid Sec-WebSocket-Accept header`;
 * 4. a `Sec-WebSocket-Protocol` when `protocols` is empty → `Server sent a subprotocol but none was
 *    requested`; one not in `protocols` → `Server sent an invalid subprotocol`; none when
 *    `protocols` is not empty → `Server sent no subprotocol`;
 * 5. a `Sec-WebSocket-Extensions` when nothing was offered → `Server sent a Sec-WebSocket-Extensions
 *    header but no extension was requested`; one that does not parse → `Invalid Sec-WebSocket-Extensions
 *    header`; one that does not name exactly one extension, an offered one → `Server indicated an
 *    extension that was not requested`.
 *
 * Like ws, `Connection` is not checked here: Node's HTTP client reports an upgrade (rather than a
 * response) only for a 101 that has `Connection: upgrade` and an `Upgrade` header.
 *
 * `offeredExtensions` is the names of the extensions offered, or a boolean: `true` stands for
 * `permessage-deflate`, the only extension ws offers. Whether the accepted extension's parameters
 * are acceptable is the extension's own check (ws answers `Invalid Sec-WebSocket-Extensions header`).
 */
export function validateUpgradeResponse(
  response: UpgradeResponse,
  key: string,
  protocols: readonly string[],
  offeredExtensions: boolean | readonly string[],
): string | null {
  if (response.statusCode !== 101) return `Unexpected server response: ${response.statusCode}`;
  const headers = response.headers;

  // §4.1: "If the response lacks an |Upgrade| header field or the |Upgrade| header field contains a
  // value that is not an ASCII case-insensitive match for the value "websocket", the client MUST
  // _Fail the WebSocket Connection_."
  const upgrade = headerValue(headers, 'upgrade');
  if (upgrade === undefined || upgrade.toLowerCase() !== 'websocket') {
    return HandshakeMessage.INVALID_UPGRADE;
  }

  // §4.1: "If the response lacks a |Sec-WebSocket-Accept| header field or the
  // |Sec-WebSocket-Accept| contains a value other than the base64-encoded SHA-1 of the
  // concatenation of the |Sec-WebSocket-Key| (as a string, not base64-decoded) with the string
  // "258EAFA5-E914-47DA-95CA-C5AB0DC85B11" ..., the client MUST _Fail the WebSocket Connection_."
  if (headerValue(headers, 'sec-websocket-accept') !== acceptKey(key)) {
    return HandshakeMessage.INVALID_ACCEPT;
  }

  return validateNegotiation(headers, protocols, offeredExtensions);
}

/**
 * The client's checks of what the server selected — subprotocol, then extensions — shared by the
 * HTTP/1.1 response (after its status, Upgrade and accept checks) and the HTTP/2 one (RFC 8441 §5:
 * a 2xx to the extended CONNECT, with the same `Sec-WebSocket-Protocol` and
 * `Sec-WebSocket-Extensions` semantics). Returns `null` or ws's error message, as
 * `validateUpgradeResponse` does.
 */
export function validateNegotiation(
  headers: HttpHeaders,
  protocols: readonly string[],
  offeredExtensions: boolean | readonly string[],
): string | null {
  // §4.1: "If the response includes a |Sec-WebSocket-Protocol| header field and this header field
  // indicates the use of a subprotocol that was not present in the client's handshake (the server
  // has indicated a subprotocol not requested by the client), the client MUST _Fail the WebSocket
  // Connection_." ws also fails when a subprotocol was requested and none was selected.
  const protocol = headerValue(headers, 'sec-websocket-protocol');
  if (protocol !== undefined) {
    if (protocols.length === 0) return HandshakeMessage.UNREQUESTED_PROTOCOL;
    if (!protocols.includes(protocol)) return HandshakeMessage.INVALID_SERVER_PROTOCOL;
  } else if (protocols.length !== 0) {
    return HandshakeMessage.NO_PROTOCOL;
  }

  // §4.1: "If the response includes a |Sec-WebSocket-Extensions| header field and this header
  // field indicates the use of an extension that was not present in the client's handshake (the
  // server has indicated an extension not requested by the client), the client MUST _Fail the
  // WebSocket Connection_."
  const extensionsHeader = headerValue(headers, 'sec-websocket-extensions');
  if (extensionsHeader !== undefined) {
    const offered =
      offeredExtensions === true ? [PERMESSAGE_DEFLATE] : offeredExtensions === false ? [] : offeredExtensions;
    if (offered.length === 0) return HandshakeMessage.UNREQUESTED_EXTENSIONS;
    let accepted: ExtensionOffers;
    try {
      accepted = parseExtensions(extensionsHeader);
    } catch {
      return HandshakeMessage.INVALID_EXTENSIONS_RESPONSE;
    }
    const names = Object.keys(accepted);
    if (names.length !== 1 || !offered.includes(names[0])) {
      return HandshakeMessage.UNREQUESTED_EXTENSION;
    }
  }

  return null;
}

/**
 * Whether `protocols` is a subprotocol list a client may request (RFC 6455 §4.1 step 10: "elements
 * that comprise this value MUST be non-empty strings ... and MUST all be unique strings"): every
 * element a string that is an RFC 7230 token, no two equal. When it is not, ws throws
 * `SyntaxError('An invalid or duplicated subprotocol was specified')`
 * (`HandshakeMessage.INVALID_SUBPROTOCOL_LIST`).
 */
export function isValidSubprotocolList(protocols: readonly unknown[]): boolean {
  const seen = new Set<string>();
  for (const protocol of protocols) {
    if (typeof protocol !== 'string' || !isToken(protocol) || seen.has(protocol)) return false;
    seen.add(protocol);
  }
  return true;
}
