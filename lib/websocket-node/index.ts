/**
 * weft/websocket-node — WebSocket-Node's public API (the npm `websocket` package) over weft, so that
 * code written for it runs with a changed import:
 *
 * ```js
 * const { server: WebSocketServer, client: WebSocketClient } = require('weft/websocket-node');
 * ```
 *
 * Every byte goes through weft's core: the server completes upgrades with weft's WebSocketServer, the
 * client runs weft's client handshake, and a `connection` is a thin face over a weft WebSocket
 * (`connection.ws`). Where the two libraries' behaviour differs:
 *
 * - keepalive is weft's shared heartbeat (one timer per setting, not one per connection): silence is
 *   checked once per sweep (a quarter of the shorter of keepaliveInterval and keepaliveGracePeriod),
 *   so a ping or a drop comes up to one sweep later than WebSocket-Node's timers would fire; with
 *   `dropConnectionOnKeepaliveTimeout: false` a silent peer is pinged once, not every interval, until
 *   it speaks again; `useNativeKeepalive` is TCP keep-alive, as in WebSocket-Node;
 * - a peer's close frame without a status code is reported as 1005 'Reason not provided', not 1006;
 * - protocol violations are found by weft's core (ws's rules): the close description is weft's error
 *   message, and the close frame weft sends carries the status code only; 'frame' events
 *   (`assembleFragments: false`) are emitted for data frames only, not for control frames; protocol
 *   violations emit no 'error' (as in WebSocket-Node), socket errors do, to a listener only;
 * - the handshake is checked by weft too: a malformed Sec-WebSocket-Key or a duplicated subprotocol
 *   is refused with 400; an unsupported version is answered 426 with `Sec-WebSocket-Version: 13, 8`;
 * - `accept()` matches the protocol case-insensitively; close code 1015 may not be sent;
 * - close reasons longer than 123 bytes are cut to 123 on the wire, and ping/pong payloads to 125;
 * - `request.resourceURL` is split from the request target with url.parse's field names (no legacy
 *   `url.parse` call); `client.url` is a WHATWG URL;
 * - X-Forwarded-For is ignored unless `ignoreXForwardedFor: false` is set (WebSocket-Node believes it
 *   by default; any client can send it, so weft asks you to say a proxy you control rewrites it); then
 *   `remoteAddress` is its right-most entry, the one that proxy appended (WebSocket-Node's left-most
 *   entry is the client's to write); a config key passed as `undefined` keeps its default;
 * - permessage-deflate and other extensions are never negotiated (as in WebSocket-Node), and there is
 *   no `frame` (WebSocketFrame) export: frames are weft's core's business;
 * - the W3C client's close event has W3C's `reason`/`wasClean` (weft's CloseEvent), `protocol` is ''
 *   (not undefined) when none was selected, and `binaryType` may also be 'blob'.
 */
import { NodeSocket, WebSocketConnection } from './connection';
import { WebSocketRequest } from './request';
import { WebSocketServer } from './server';
import { WebSocketClient } from './client';
import { W3CWebSocket } from './w3c';
import { WebSocketRouter, WebSocketRouterRequest } from './router';

/** The server: `new server({ httpServer, ... })`, events 'request', 'connect', 'close'. */
export const server = WebSocketServer;
/** The server's request object: `accept(protocol, origin, cookies)` / `reject(status, reason, headers)`. */
export const request = WebSocketRequest;
/** The client: `connect(url, protocols, origin, headers, requestOptions)`, events 'connect', 'connectFailed'. */
export const client = WebSocketClient;
/** An open connection: 'message', 'close', 'frame', 'ping', 'pong'; `sendUTF`, `sendBytes`, `close`, `drop`. */
export const connection = WebSocketConnection;
/** The W3C-style client (`onopen`, `onmessage`, `addEventListener`, `binaryType`). */
export const w3cwebsocket = W3CWebSocket;
/** Routes a server's requests by path and subprotocol. */
export const router = WebSocketRouter;
/** The request a router hands to a route handler. */
export const routerRequest = WebSocketRouterRequest;
/** The WebSocket-Node release whose API this module mirrors. */
export const version = '1.0.35';

/** The classes, under their own names, for TypeScript users. */
export { WebSocketServer, WebSocketRequest, WebSocketClient, WebSocketConnection, W3CWebSocket, WebSocketRouter, WebSocketRouterRequest, NodeSocket };
export type { ServerConfig, ClientConfig, ConnectionConfig } from './options';
export type { Message, Frame, ConnectionState, ConnectionEvents } from './connection';
export type { ServerEvents } from './server';
export type { ClientEvents } from './client';
export type { ResourceURL, RequestedExtension } from './request';
export type { Cookie, SetCookie } from './cookies';

// TypeScript's names for the values above (`import { server } from ...; let s: server`).
/** The server class's instance type. */
export type server = WebSocketServer;
/** The request class's instance type. */
export type request = WebSocketRequest;
/** The client class's instance type. */
export type client = WebSocketClient;
/** The connection class's instance type. */
export type connection = WebSocketConnection;
/** The W3C client's instance type. */
export type w3cwebsocket = W3CWebSocket;
/** The router's instance type. */
export type router = WebSocketRouter;
/** The routed request's instance type. */
export type routerRequest = WebSocketRouterRequest;
