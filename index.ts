/**
 * weft — the public surface, shaped as ws's: `require('weft')` is the WebSocket class with the other
 * exports attached as statics, and the type namespace carries the names code written against
 * `@types/ws` uses (`WebSocket.RawData`, `WebSocket.ServerOptions`, ...).
 */
import type { IncomingMessage, ClientRequest, OutgoingHttpHeaders, Server as HttpServer } from 'http';
import type { Server as HttpsServer } from 'https';
import type { ClientHttp2Session, Http2SecureServer, Http2Server } from 'http2';
import type { Duplex, DuplexOptions } from 'stream';
import type { SecureContextOptions } from 'tls';
import type { LookupFunction, Socket } from 'net';
import type { URL } from 'url';
import { WebSocket as WebSocketClass } from './lib/websocket';
import './lib/client';
import { WebSocketServer as WebSocketServerClass } from './lib/server';
import { createWebSocketStream as createStream } from './lib/stream';
import { Receiver as ReceiverClass } from './lib/compat/receiver';
import { Sender as SenderClass } from './lib/compat/sender';
import { PerMessageDeflate as PerMessageDeflateClass } from './lib/deflate';
import { WebSocketPair as WebSocketPairClass } from './lib/pair';
import { SendStatus as SendStatusValues } from './lib/websocket';
import * as extensionModule from './lib/protocol/extension';
import * as subprotocolModule from './lib/protocol/subprotocol';
import { MemoryBus as MemoryBusClass, MemoryPubSub as MemoryPubSubClass } from './lib/pubsub/memory';
import { PeerAdapter as PeerAdapterClass } from './lib/peer';
import { RedisPubSub as RedisPubSubClass } from './lib/pubsub/redis';
import {
  WebSocketStream as WebSocketStreamClass,
  WebSocketError as WebSocketErrorClass,
  type WebSocketCloseInfo as CloseInfo,
  type WebSocketOpenInfo as OpenInfo,
  type WebSocketStreamOptions as StreamOptions,
  type WebSocketStreamFromOptions as StreamFromOptions,
} from './lib/websocket-stream';
import { nativeStatus, type NativeStatus } from './lib/util/buffer';

/** The statics ws attaches to its default export. */
interface Statics {
  WebSocket: typeof WebSocketClass;
  WebSocketServer: typeof WebSocketServerClass;
  Server: typeof WebSocketServerClass;
  createWebSocketStream: typeof createStream;
  Receiver: typeof ReceiverClass;
  Sender: typeof SenderClass;
  PerMessageDeflate: typeof PerMessageDeflateClass;
  /** weft: two connected in-memory WebSockets (Cloudflare Workers' WebSocketPair). */
  WebSocketPair: typeof WebSocketPairClass;
  /** weft: what send() returns (SENT, BACKPRESSURE, DROPPED). */
  SendStatus: typeof SendStatusValues;
  extension: { parse: typeof extensionModule.parse; format: typeof extensionModule.format };
  subprotocol: { parse: typeof subprotocolModule.parse };
  /** weft: crossws-style hooks and Peers over a WebSocketServer (lib/peer.ts). */
  PeerAdapter: typeof PeerAdapterClass;
  /** weft: the in-process pub/sub adapter, and the bus that joins its nodes (lib/pubsub/). */
  MemoryPubSub: typeof MemoryPubSubClass;
  MemoryBus: typeof MemoryBusClass;
  /** weft: the Redis pub/sub adapter (needs the optional peer dependency ioredis). */
  RedisPubSub: typeof RedisPubSubClass;
  /** weft: the WHATWG WebSocketStream (streams with backpressure), client and `from(ws)` (lib/websocket-stream.ts). */
  WebSocketStream: typeof WebSocketStreamClass;
  /** weft: the error a WebSocketStream's `closed` rejects with; its code and reason close the connection when aborting. */
  WebSocketError: typeof WebSocketErrorClass;
  /** weft: which native paths are active (`{ mask, utf8, reason? }`), for logs and support requests. */
  native: NativeStatus;
}

const statics: Statics = {
  WebSocket: WebSocketClass,
  WebSocketServer: WebSocketServerClass,
  Server: WebSocketServerClass,
  createWebSocketStream: createStream,
  Receiver: ReceiverClass,
  Sender: SenderClass,
  PerMessageDeflate: PerMessageDeflateClass,
  WebSocketPair: WebSocketPairClass,
  SendStatus: SendStatusValues,
  extension: { parse: extensionModule.parse, format: extensionModule.format },
  subprotocol: { parse: subprotocolModule.parse },
  PeerAdapter: PeerAdapterClass,
  MemoryPubSub: MemoryPubSubClass,
  MemoryBus: MemoryBusClass,
  RedisPubSub: RedisPubSubClass,
  WebSocketStream: WebSocketStreamClass,
  WebSocketError: WebSocketErrorClass,
  native: nativeStatus,
};
for (const [name, value] of Object.entries(statics)) {
  Object.defineProperty(WebSocketClass, name, { value, enumerable: true, writable: true, configurable: true });
}

/** The WebSocket class, with ws's statics. */
const WebSocket = WebSocketClass as typeof WebSocketClass & Statics;
type WebSocket = WebSocketClass;

// eslint-disable-next-line @typescript-eslint/no-namespace
declare namespace WebSocket {
  /** A received message: a Buffer (text too), an ArrayBuffer, or fragments, by binaryType. */
  type RawData = Buffer | ArrayBuffer | Buffer[];
  /** Anything `send()` takes or a message may be. */
  type Data = string | Buffer | ArrayBuffer | Buffer[];
  type WebSocket = WebSocketClass;
  type WebSocketServer = WebSocketServerClass;
  type Server = WebSocketServerClass;
  type Receiver = ReceiverClass;
  type Sender = SenderClass;
  type PerMessageDeflate = PerMessageDeflateClass;
  type WebSocketPair = WebSocketPairClass;
  type WebSocketStream = WebSocketStreamClass;
  type WebSocketError = WebSocketErrorClass;
  /** What a WebSocketStream's `opened` resolves with. */
  type WebSocketOpenInfo = OpenInfo;
  /** A close code and reason: a WebSocketStream's `closed` value and `close()` argument. */
  type WebSocketCloseInfo = CloseInfo;
  /** Options of `new WebSocketStream(url, options)`. */
  type WebSocketStreamOptions = StreamOptions;
  /** Options of `WebSocketStream.from(ws, options)`. */
  type WebSocketStreamFromOptions = StreamFromOptions;
  /** What `WebSocket.native` reports. */
  type NativeStatus = import('./lib/util/buffer').NativeStatus;

  interface CertMeta {
    [key: string]: unknown;
  }

  /** `verifyClient` info. */
  interface VerifyClientInfo {
    origin: string;
    secure: boolean;
    req: IncomingMessage;
  }
  type VerifyClientCallbackSync<Request extends IncomingMessage = IncomingMessage> = (info: {
    origin: string;
    secure: boolean;
    req: Request;
  }) => boolean;
  type VerifyClientCallbackAsync<Request extends IncomingMessage = IncomingMessage> = (
    info: { origin: string; secure: boolean; req: Request },
    callback: (res: boolean, code?: number, message?: string, headers?: OutgoingHttpHeaders) => void,
  ) => void;
  type FinishRequestCallback = (request: ClientRequest, websocket: WebSocketClass) => void;

  /** permessage-deflate options (RFC 7692). */
  interface PerMessageDeflateOptions {
    serverNoContextTakeover?: boolean;
    clientNoContextTakeover?: boolean;
    serverMaxWindowBits?: number;
    clientMaxWindowBits?: number;
    zlibDeflateOptions?: Record<string, unknown>;
    zlibInflateOptions?: Record<string, unknown>;
    threshold?: number;
    concurrencyLimit?: number;
  }

  /** Client options: ws's, plus every http/https request option. */
  interface ClientOptions extends SecureContextOptions {
    protocol?: string;
    protocols?: string | string[];
    followRedirects?: boolean;
    generateMask?(mask: Buffer): void;
    handshakeTimeout?: number;
    maxRedirects?: number;
    perMessageDeflate?: boolean | PerMessageDeflateOptions;
    localAddress?: string;
    protocolVersion?: number;
    headers?: { [key: string]: string };
    origin?: string;
    agent?: unknown;
    host?: string;
    family?: number;
    checkServerIdentity?(servername: string, cert: CertMeta): boolean;
    rejectUnauthorized?: boolean;
    allowSynchronousEvents?: boolean;
    autoPong?: boolean;
    closeTimeout?: number;
    maxPayload?: number;
    maxFragments?: number;
    maxBufferedChunks?: number;
    maxPendingAutoPongs?: number;
    skipUTF8Validation?: boolean;
    createConnection?: (options: unknown, callback?: () => void) => Duplex | Socket;
    finishRequest?: FinishRequestCallback;
    lookup?: LookupFunction;
    servername?: string;
    auth?: string;
    /** weft: open the WebSocket as an HTTP/2 stream (RFC 8441) when the server allows it. */
    http2?: boolean | ClientHttp2Session;
    [option: string]: unknown;
  }

  /** Server options. */
  interface ServerOptions<
    U extends typeof WebSocketClass = typeof WebSocketClass,
    V extends typeof IncomingMessage = typeof IncomingMessage,
  > {
    host?: string;
    port?: number;
    backlog?: number;
    /** weft: an `http2` server too (WebSockets over its extended CONNECT streams, RFC 8441). */
    server?: HttpServer | HttpsServer | Http2Server | Http2SecureServer;
    verifyClient?: VerifyClientCallbackAsync<InstanceType<V>> | VerifyClientCallbackSync<InstanceType<V>>;
    handleProtocols?: (protocols: Set<string>, request: InstanceType<V>) => string | false;
    path?: string;
    noServer?: boolean;
    allowSynchronousEvents?: boolean;
    autoPong?: boolean;
    closeTimeout?: number;
    clientTracking?: boolean;
    perMessageDeflate?: boolean | PerMessageDeflateOptions;
    maxPayload?: number;
    maxFragments?: number;
    maxBufferedChunks?: number;
    maxPendingAutoPongs?: number;
    skipUTF8Validation?: boolean;
    WebSocket?: U;
  }

  interface AddressInfo {
    address: string;
    family: string;
    port: number;
  }

  /** The W3C event shapes delivered to `addEventListener` / `on*` listeners. */
  interface Event {
    type: string;
    target: WebSocketClass;
  }
  interface ErrorEvent {
    error: any;
    message: string;
    type: string;
    target: WebSocketClass;
  }
  interface CloseEvent {
    wasClean: boolean;
    code: number;
    reason: string;
    type: string;
    target: WebSocketClass;
  }
  interface MessageEvent {
    data: Data | Blob;
    type: string;
    target: WebSocketClass;
  }
  interface EventListenerOptions {
    once?: boolean;
  }

  type CreateWebSocketStreamOptions = DuplexOptions;
  type UrlLike = string | URL;
}

export = WebSocket;
