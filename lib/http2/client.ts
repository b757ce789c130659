/**
 * WebSockets over HTTP/2 (RFC 8441), client side, opt-in (`new WebSocket(url, { http2: true })`, or
 * `{ http2: session }` to open the WebSocket as a stream of an existing `ClientHttp2Session`): waits for
 * the server's SETTINGS, sends the extended CONNECT when it advertised SETTINGS_ENABLE_CONNECT_PROTOCOL,
 * and otherwise hands the connection back to the HTTP/1.1 handshake (client.ts). The request's header
 * fields and the checks of the response are the HTTP/1.1 handshake's (protocol/handshake.ts), less what
 * RFC 8441 §5 drops (Upgrade, Connection, Sec-WebSocket-Key, Sec-WebSocket-Accept).
 */
import type * as http2 from 'http2';
import { ReadyState } from '../protocol/constants';
import { HandshakeMessage, validateNegotiation } from '../protocol/handshake';
import type { SetSocketOptions, WebSocket } from '../websocket';
import { emitErrorAndClose } from '../socket/handshake-failure';
import { cancelOnDestroy, NGHTTP2_CANCEL } from './server';

/** What client.ts hands over once the HTTP/1.1 request's headers are built. */
export interface Http2Attempt {
  /** `true` for a session of this WebSocket's own, or the session to open the stream on. */
  session: true | http2.ClientHttp2Session;
  /** The target (`ws:`/`wss:`, already checked). */
  url: URL;
  isSecure: boolean;
  /** The HTTP/1.1 request's headers (the user's, then the handshake's). */
  headers: Record<string, unknown>;
  /** `user:password` from the URL, sent as Basic authorization unless a header names one. */
  auth: string | undefined;
  /** The offered subprotocols. */
  protocols: readonly string[];
  /** The extension offer (permessage-deflate), or null. */
  extensions: { readonly names: readonly string[]; accept(header: string, ws: WebSocket): string | null } | null;
  /** Milliseconds the handshake may take (0 or undefined: no limit). */
  handshakeTimeout: number | undefined;
  /** TLS and connection options for a session of our own (`ca`, `rejectUnauthorized`, `servername`, ...). */
  connectOptions: Record<string, unknown>;
  /** `setSocket`'s options once accepted. */
  socketOptions: SetSocketOptions;
  /** Runs the HTTP/1.1 handshake instead (the server did not enable the connect protocol). */
  fallback: () => void;
}

/** The HTTP/1.1 header fields RFC 8441 §5 leaves out (and those HTTP/2 forbids, RFC 9113 §8.2.2). */
const DROPPED: ReadonlySet<string> = new Set([
  'connection',
  'upgrade',
  'sec-websocket-key',
  'host',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
]);

/** The messages of validateNegotiation's subprotocol checks (a failure there leaves `ws.protocol` unset). */
const PROTOCOL_ERRORS: ReadonlySet<string> = new Set<string>([
  HandshakeMessage.UNREQUESTED_PROTOCOL,
  HandshakeMessage.INVALID_SERVER_PROTOCOL,
  HandshakeMessage.NO_PROTOCOL,
]);

/** The TLS/net options passed on to `http2.connect` for a session of our own. */
export const CONNECT_OPTIONS: readonly string[] = [
  'ca', 'cert', 'key', 'pfx', 'passphrase', 'ciphers', 'ecdhCurve', 'minVersion', 'maxVersion', 'secureOptions',
  'rejectUnauthorized', 'servername', 'checkServerIdentity', 'lookup', 'family', 'localAddress', 'secureContext',
];

/** One WebSocket's HTTP/2 opening handshake. */
class Http2Handshake {
  readonly ws: WebSocket;
  readonly attempt: Http2Attempt;
  session: http2.ClientHttp2Session | null = null;
  /** Whether the session is this WebSocket's own (closed with it). */
  owned = false;
  stream: http2.ClientHttp2Stream | null = null;
  timer: NodeJS.Timeout | null = null;
  /** The CONNECT went out (no falling back after that). */
  sent = false;
  done = false;
  /** The WebSocket's 'close' listener while the handshake runs (close()/terminate() while connecting). */
  readonly onClose: () => void;

  constructor(ws: WebSocket, attempt: Http2Attempt) {
    this.ws = ws;
    this.attempt = attempt;
    this.onClose = () => this.cleanup();
  }

  start(): void {
    const attempt = this.attempt;
    const ws = this.ws;
    if (attempt.handshakeTimeout) {
      this.timer = setTimeout(() => this.fail('Opening handshake has timed out'), attempt.handshakeTimeout);
    }
    // close()/terminate() while connecting: ws has reported the abort; cancel what is in flight. After
    // the handshake it closes a session of our own with the WebSocket.
    ws.once('close', this.onClose);

    if (attempt.session === true) {
      const origin = `${attempt.isSecure ? 'https' : 'http'}://${attempt.url.host}`;
      const options: Record<string, unknown> = { ...attempt.connectOptions };
      if (attempt.isSecure && options.servername === undefined && !/^[\d.]+$|^\[/.test(attempt.url.hostname)) {
        options.servername = attempt.url.hostname;
      }
      const { connect } = require('http2') as typeof import('http2');
      const session = connect(origin, options as http2.SecureClientSessionOptions);
      this.session = session;
      this.owned = true;
      // RFC 8441 §3: the server's SETTINGS (the first frame it sends) says whether CONNECT may carry
      // :protocol. A session that fails before it arrives falls back too: the server may speak HTTP/1.1 only.
      const onError = (): void => this.fallback();
      session.once('error', onError);
      session.once('close', onError);
      session.once('remoteSettings', (settings: http2.Settings) => {
        session.removeListener('error', onError);
        session.removeListener('close', onError);
        session.on('error', noop); // a later session error reaches the WebSocket through its stream
        if (settings.enableConnectProtocol) this.request();
        else this.fallback();
      });
      return;
    }

    const session = attempt.session;
    this.session = session;
    if (session.remoteSettings.enableConnectProtocol) {
      this.request();
      return;
    }
    const decide = (): void => {
      if (session.remoteSettings.enableConnectProtocol) this.request();
      else this.fallback();
    };
    // Still connecting: the server's SETTINGS are on their way. Otherwise they precede the server's PING
    // acknowledgement: once a ping returns, the settings are known.
    if (session.connecting) session.once('remoteSettings', decide);
    else session.ping((err) => (err ? this.fallback() : decide()));
  }

  /** RFC 8441 §4–§5: the extended CONNECT with the WebSocket header fields. */
  private request(): void {
    if (this.done || this.ws.readyState !== ReadyState.CONNECTING) return;
    const attempt = this.attempt;
    const url = attempt.url;
    const headers: http2.OutgoingHttpHeaders = {};
    const given = attempt.headers;
    for (const name of Object.keys(given)) {
      const lower = name.toLowerCase();
      if (DROPPED.has(lower) || given[name] === undefined) continue;
      headers[lower] = given[name] as string;
    }
    if (attempt.auth && headers.authorization === undefined) {
      headers.authorization = 'Basic ' + Buffer.from(attempt.auth).toString('base64');
    }
    headers[':method'] = 'CONNECT';
    headers[':protocol'] = 'websocket';
    headers[':scheme'] = attempt.isSecure ? 'https' : 'http';
    headers[':authority'] = url.host;
    headers[':path'] = url.pathname + url.search;

    let stream: http2.ClientHttp2Stream;
    try {
      stream = (this.session as http2.ClientHttp2Session).request(headers, { endStream: false });
    } catch (err) {
      this.fail((err as Error).message);
      return;
    }
    this.sent = true;
    this.stream = stream;
    stream.on('error', (err: Error) => {
      if (!this.done) this.fail(err.message);
    });
    stream.on('close', () => {
      if (!this.done) this.fail(`Unexpected server response: stream closed (${stream.rstCode})`);
    });
    stream.once('response', (response: http2.IncomingHttpHeaders & http2.IncomingHttpStatusHeader) => this.response(stream, response));
  }

  private response(stream: http2.ClientHttp2Stream, response: http2.IncomingHttpHeaders & http2.IncomingHttpStatusHeader): void {
    if (this.done) return;
    const ws = this.ws;
    const status = response[':status'] as number;
    // RFC 8441 §5: "a successful 2xx response" opens the WebSocket.
    if (!(status >= 200 && status < 300)) {
      this.fail(`Unexpected server response: ${status}`);
      return;
    }
    const attempt = this.attempt;
    const extensions = attempt.extensions;
    const message = validateNegotiation(response, attempt.protocols, extensions === null ? false : extensions.names);
    const protocol = response['sec-websocket-protocol'];
    if (typeof protocol === 'string' && protocol !== '' && (message === null || !PROTOCOL_ERRORS.has(message))) {
      ws._protocol = protocol;
    }
    if (message !== null) {
      this.fail(message);
      return;
    }
    const extensionHeader = response['sec-websocket-extensions'];
    if (extensions !== null && typeof extensionHeader === 'string') {
      const failure = extensions.accept(extensionHeader, ws);
      if (failure !== null) {
        this.fail(failure);
        return;
      }
    }
    this.finish();
    stream.removeAllListeners('error');
    stream.removeAllListeners('close');
    cancelOnDestroy(stream);
    ws.setSocket(stream, undefined, attempt.socketOptions);
  }

  /** The server did not enable the connect protocol (or the session failed first): HTTP/1.1 instead. */
  private fallback(): void {
    if (this.done || this.sent) return;
    this.finish();
    this.ws.removeListener('close', this.onClose);
    this.cleanup();
    if (this.ws.readyState === ReadyState.CONNECTING) this.attempt.fallback();
  }

  /** Fails the handshake: RST_STREAM(CANCEL), then 'error' and 'close' as the HTTP/1.1 path does. */
  private fail(message: string): void {
    if (this.done) return;
    this.finish();
    const ws = this.ws;
    if (ws.readyState !== ReadyState.CONNECTING) return;
    ws._handshakeState = ReadyState.CLOSING;
    const err = new Error(message);
    process.nextTick(emitErrorAndClose, ws, err);
  }

  private finish(): void {
    this.done = true;
    if (this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
    }
  }

  /** The WebSocket closed: cancel a stream still opening; close a session of our own. */
  private cleanup(): void {
    this.finish();
    const stream = this.stream;
    if (stream !== null && !stream.closed && this.ws._driver === null) stream.close(NGHTTP2_CANCEL);
    const session = this.session;
    if (this.owned && session !== null && !session.closed) session.close();
  }
}

/** Starts the HTTP/2 opening handshake of the client `ws`. */
export function openHttp2(ws: WebSocket, attempt: Http2Attempt): void {
  new Http2Handshake(ws, attempt).start();
}

function noop(): void {}
