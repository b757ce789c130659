/**
 * WebSocket-Node's configuration objects (server, client, connection), their documented defaults, and
 * how each maps onto the options weft's own WebSocket, server and client read. Nothing here touches a
 * socket: it is the one place that says which WebSocket-Node setting becomes which weft setting.
 */
import type * as http from 'http';
import type * as https from 'https';

/** Settings every WebSocket-Node connection reads (server- and client-side). */
export interface ConnectionConfig {
  /** Largest frame payload accepted, in bytes; a larger one closes with 1009. */
  maxReceivedFrameSize?: number;
  /** Largest message accepted (only while assembling fragments), in bytes; larger closes with 1009. */
  maxReceivedMessageSize?: number;
  /** Split outgoing messages larger than `fragmentationThreshold` into several frames. */
  fragmentOutgoingMessages?: boolean;
  /** Largest outgoing frame payload when `fragmentOutgoingMessages` is on, in bytes. */
  fragmentationThreshold?: number;
  /** true: 'message' events with whole messages; false: a 'frame' event per data frame instead. */
  assembleFragments?: boolean;
  /** true (default): TCP_NODELAY, frames go out at once. false: Nagle's algorithm batches them. */
  disableNagleAlgorithm?: boolean;
  /** Milliseconds to wait for the peer's close frame after sending ours, then the socket is closed. */
  closeTimeout?: number;
  /** Ping the peer after `keepaliveInterval` ms without receiving anything. */
  keepalive?: boolean;
  /** Milliseconds of silence before a keepalive ping. */
  keepaliveInterval?: number;
  /** Drop a peer that stays silent for `keepaliveGracePeriod` ms after a keepalive ping. */
  dropConnectionOnKeepaliveTimeout?: boolean;
  /** Milliseconds a pinged peer has to send something before it is dropped. */
  keepaliveGracePeriod?: number;
  /** Use TCP keep-alive probes (every `keepaliveInterval` ms) instead of WebSocket pings. */
  useNativeKeepalive?: boolean;
  /**
   * weft: automatic pongs written but not yet flushed before the peer is dropped (default 60, as
   * weft's and ws's `maxPendingAutoPongs`; 0: no limit). A peer that pings without reading is cut off.
   */
  maxPendingAutoPongs?: number;
}

/** `new server(config)` / `server.mount(config)`. */
export interface ServerConfig extends ConnectionConfig {
  /** The HTTP(S) server(s) whose 'upgrade' requests this server handles. Required. */
  httpServer?: http.Server | https.Server | Array<http.Server | https.Server> | null;
  /** Accept every request (first requested protocol, any origin) without a 'request' event. */
  autoAcceptConnections?: boolean;
  /**
   * true (weft's default; WebSocket-Node's is false): the `X-Forwarded-For` header, which any client can
   * send, is ignored. Set false only behind a proxy you control: then `remoteAddress` is its right-most entry (the one
   * that proxy appended; WebSocket-Node takes the left-most, which the client writes) and
   * `remoteAddresses` the whole list. `undefined` keeps the default.
   */
  ignoreXForwardedFor?: boolean;
  /** Parse the `Cookie` header into `request.cookies`. Default true. */
  parseCookies?: boolean;
  /** Parse `Sec-WebSocket-Extensions` into `request.requestedExtensions`. Default true. */
  parseExtensions?: boolean;
}

/** `new client(config)`. */
export interface ClientConfig extends ConnectionConfig {
  /** `Sec-WebSocket-Version` to speak: 13 (default) or 8. */
  webSocketVersion?: number;
  /** Options for `https.request` on `wss:` URLs (`headers` among them are sent too). */
  tlsOptions?: Record<string, unknown>;
}

/**
 * `config` over `defaults`: a key set to `undefined` keeps its default (so `{ ignoreXForwardedFor:
 * undefined }` still ignores the header). Only the config's own keys are read.
 */
export function withDefaults<T extends object>(defaults: T, config: object | null | undefined): T {
  const out = { ...defaults } as Record<string, unknown>;
  if (config) {
    for (const key of Object.keys(config)) {
      const value = (config as Record<string, unknown>)[key];
      if (value !== undefined) out[key] = value;
    }
  }
  return out as T;
}

/** The server configuration WebSocket-Node documents, with its defaults. */
export function serverDefaults(): Required<Omit<ServerConfig, 'httpServer' | 'maxPendingAutoPongs'>> & Pick<ServerConfig, 'httpServer' | 'maxPendingAutoPongs'> {
  return {
    httpServer: null,
    maxReceivedFrameSize: 0x10000,
    maxReceivedMessageSize: 0x100000,
    fragmentOutgoingMessages: true,
    fragmentationThreshold: 0x4000,
    keepalive: true,
    keepaliveInterval: 20000,
    dropConnectionOnKeepaliveTimeout: true,
    keepaliveGracePeriod: 10000,
    useNativeKeepalive: false,
    assembleFragments: true,
    autoAcceptConnections: false,
    ignoreXForwardedFor: true,
    parseCookies: true,
    parseExtensions: true,
    disableNagleAlgorithm: true,
    closeTimeout: 5000,
  };
}

/** The client configuration WebSocket-Node documents, with its defaults (no keepalive on clients). */
export function clientDefaults(): ClientConfig & { tlsOptions: Record<string, unknown> } {
  return {
    maxReceivedFrameSize: 0x100000,
    maxReceivedMessageSize: 0x800000,
    fragmentOutgoingMessages: true,
    fragmentationThreshold: 0x4000,
    webSocketVersion: 13,
    assembleFragments: true,
    disableNagleAlgorithm: true,
    closeTimeout: 5000,
    tlsOptions: {},
  };
}

/**
 * With `dropConnectionOnKeepaliveTimeout: false` a pinged peer is never dropped: weft's heartbeat
 * always has a deadline, so it gets one no connection lives to see (about 285,000 years).
 */
const NEVER = Number.MAX_SAFE_INTEGER;

/**
 * Checks the keepalive settings as WebSocket-Node does (it throws when a connection is created; this
 * is called earlier, when the server is mounted or the client created).
 */
export function checkKeepalive(config: ConnectionConfig): void {
  if (!config.keepalive) return;
  if (typeof config.keepaliveInterval !== 'number') {
    throw new Error('keepaliveInterval must be specified and numeric if keepalive is true.');
  }
  if (!config.useNativeKeepalive && config.dropConnectionOnKeepaliveTimeout && typeof config.keepaliveGracePeriod !== 'number') {
    throw new Error('keepaliveGracePeriod  must be specified and numeric if dropConnectionOnKeepaliveTimeout is true.');
  }
}

/**
 * The options weft's WebSocket (and server) read, for a connection configured as `config`:
 *
 * - `maxReceivedFrameSize`, `fragmentOutgoingMessages`, `fragmentationThreshold`, `assembleFragments`,
 *   `disableNagleAlgorithm` and `closeTimeout` are weft options of the same name and meaning;
 * - `maxReceivedMessageSize` is weft's `maxPayload` while assembling; with `assembleFragments: false`
 *   WebSocket-Node has no message limit, so neither has weft (`maxPayload: 0`);
 * - `keepalive` is weft's `heartbeat: { interval: keepaliveInterval, timeout: keepaliveGracePeriod }`
 *   (see the module README in index.ts for where the two differ);
 * - pings are answered by the connection wrapper, not by weft (`autoPong: false`), so that a 'ping'
 *   listener can cancel the pong as in WebSocket-Node;
 * - permessage-deflate is off: WebSocket-Node neither offers nor accepts extensions.
 */
export function weftOptions(config: ConnectionConfig): Record<string, unknown> {
  const assemble = config.assembleFragments !== false;
  const options: Record<string, unknown> = {
    perMessageDeflate: false,
    autoPong: false,
    assembleFragments: assemble,
    fragmentOutgoingMessages: !!config.fragmentOutgoingMessages,
    fragmentationThreshold: config.fragmentationThreshold,
    maxReceivedFrameSize: config.maxReceivedFrameSize,
    maxReceivedMessageSize: assemble ? config.maxReceivedMessageSize : undefined,
    maxPayload: assemble && config.maxReceivedMessageSize !== undefined ? config.maxReceivedMessageSize : 0,
    disableNagleAlgorithm: config.disableNagleAlgorithm !== false,
  };
  if (typeof config.closeTimeout === 'number') options.closeTimeout = config.closeTimeout;
  if (config.keepalive && !config.useNativeKeepalive) {
    options.heartbeat = {
      interval: config.keepaliveInterval,
      timeout: config.dropConnectionOnKeepaliveTimeout ? config.keepaliveGracePeriod : NEVER,
    };
  }
  return options;
}
