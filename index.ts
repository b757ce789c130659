/**
 * weft — the public surface, shaped as ws's: `require('weft')` is the WebSocket class with the other
 * exports attached as statics, and the type namespace carries the names code written against
 * `@types/ws` uses (`WebSocket.RawData`, `WebSocket.ServerOptions`, ...).
 */
import type { IncomingMessage, ClientRequest } from 'http';
import type { DuplexOptions } from 'stream';
import type { URL } from 'url';
import {
  WebSocket as WebSocketClass,
  type BinaryType as BinaryTypeValue,
  type ReadyStateValue as ReadyStateType,
  type SendOptions as SendOpts,
  type SendStatusValue as SendStatusType,
} from './lib/websocket';
import type { ClientOptions as ClientOpts } from './lib/client';
import {
  WebSocketServer as WebSocketServerClass,
  type ServerOptions as ServerOpts,
  type VerifyClientInfo as VerifyInfo,
  type VerifyClientCallbackSync as VerifySync,
  type VerifyClientCallbackAsync as VerifyAsync,
  type VerifyClientCallback as VerifyCallback,
  type HandleProtocols as HandleProtocolsFn,
} from './lib/server';
import type { PerMessageDeflateOptions as DeflateOptions } from './lib/deflate';
import type { ConnectionOptions as ConnOptions } from './lib/socket/connection-options';
import type { HeartbeatOptions as HeartbeatOpts } from './lib/socket/heartbeat';
import type {
  Event as EventClass,
  MessageEvent as MessageEventClass,
  CloseEvent as CloseEventClass,
  ErrorEvent as ErrorEventClass,
  WebSocketEventMap as EventMap,
  AddEventListenerOptions as ListenerOptions,
} from './lib/socket/event-target';
import type {
  RawData as RawDataType,
  Data as DataType,
  BufferLike as BufferLikeType,
  SendCallback as SendCallbackType,
  WebSocketEvents as WebSocketEventsMap,
  WebSocketServerEvents as WebSocketServerEventsMap,
  FrameEvent as FrameEventType,
} from './lib/types/events';
import type { PublishOptions as PublishOpts, PublishResult as PublishRes, PubSubAdapter as Adapter } from './lib/pubsub/hub';
import type { Peer as PeerClass, Hooks, PeerAdapterOptions as AdapterOptions, Message as PeerMessageClass } from './lib/peer';
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
};
for (const [name, value] of Object.entries(statics)) {
  Object.defineProperty(WebSocketClass, name, { value, enumerable: true, writable: true, configurable: true });
}

/** The WebSocket class, with ws's statics. */
const WebSocket = WebSocketClass as typeof WebSocketClass & Statics;
type WebSocket = WebSocketClass;

// The type names code written against `@types/ws` uses (`WebSocket.RawData`, `WebSocket.ServerOptions`, ...)
// and weft's own, each an alias of the one declaration in lib/ that the runtime is written against.
// eslint-disable-next-line @typescript-eslint/no-namespace
declare namespace WebSocket {
  /** A received message: a Buffer (text too), an ArrayBuffer, or fragments, by `binaryType`. */
  type RawData = RawDataType;
  /** A message payload: a string or any RawData. */
  type Data = DataType;
  /** What `send()`, `ping()` and `pong()` accept. */
  type BufferLike = BufferLikeType;
  /** The callback of `send()`, `ping()` and `pong()`: no error once written, else the Error. */
  type SendCallback = SendCallbackType;
  /** Per-send options (`binary`, `compress`, `fin`, `mask`). */
  type SendOptions = SendOpts;
  /** weft: what `send()` returns (a `SendStatus` value: BACKPRESSURE 0, SENT 1, DROPPED 2). */
  type SendStatus = SendStatusType;
  /** `binaryType`'s values. */
  type BinaryType = BinaryTypeValue;
  /** `readyState`'s values, CONNECTING (0) to CLOSED (3). */
  type ReadyState = ReadyStateType;
  /** A WebSocket's events and their listeners' arguments (augmentable). */
  type WebSocketEvents = WebSocketEventsMap;
  /** A WebSocketServer's events and their listeners' arguments. */
  type WebSocketServerEvents<W = WebSocketClass, R = IncomingMessage> = WebSocketServerEventsMap<W, R>;
  /** weft: a data frame ('frame' event, with `assembleFragments: false`). */
  type FrameEvent = FrameEventType;

  type WebSocket = WebSocketClass;
  type WebSocketServer<
    T extends typeof WebSocketClass = typeof WebSocketClass,
    U extends typeof IncomingMessage = typeof IncomingMessage,
  > = WebSocketServerClass<T, U>;
  type Server<
    T extends typeof WebSocketClass = typeof WebSocketClass,
    U extends typeof IncomingMessage = typeof IncomingMessage,
  > = WebSocketServerClass<T, U>;
  type Receiver = ReceiverClass;
  type Sender = SenderClass;
  type PerMessageDeflate = PerMessageDeflateClass;
  type WebSocketPair = WebSocketPairClass;
  type WebSocketStream = WebSocketStreamClass;
  type WebSocketError = WebSocketErrorClass;
  type PeerAdapter = PeerAdapterClass;
  type MemoryPubSub = MemoryPubSubClass;
  type MemoryBus = MemoryBusClass;
  type RedisPubSub = RedisPubSubClass;
  /** weft: a connection as PeerAdapter's hooks see it (crossws's Peer). */
  type Peer = PeerClass;
  /** weft: PeerAdapter's hooks (crossws's). */
  type PeerHooks = Hooks;
  /** weft: options of `new PeerAdapter(options)`. */
  type PeerAdapterOptions = AdapterOptions;
  /** weft: a message as PeerAdapter's `message` hook gets it. */
  type PeerMessage = PeerMessageClass;
  /** What a WebSocketStream's `opened` resolves with. */
  type WebSocketOpenInfo = OpenInfo;
  /** A close code and reason: a WebSocketStream's `closed` value and `close()` argument. */
  type WebSocketCloseInfo = CloseInfo;
  /** Options of `new WebSocketStream(url, options)`. */
  type WebSocketStreamOptions = StreamOptions;
  /** Options of `WebSocketStream.from(ws, options)`. */
  type WebSocketStreamFromOptions = StreamFromOptions;

  /** Certificate and key data (`@types/ws`'s name). */
  type CertMeta = string | string[] | Buffer | Buffer[];

  /** What `verifyClient` is given. */
  type VerifyClientInfo<Request extends IncomingMessage = IncomingMessage> = VerifyInfo<Request>;
  /** A synchronous `verifyClient`. */
  type VerifyClientCallbackSync<Request extends IncomingMessage = IncomingMessage> = VerifySync<Request>;
  /** An asynchronous `verifyClient` (two parameters). */
  type VerifyClientCallbackAsync<Request extends IncomingMessage = IncomingMessage> = VerifyAsync<Request>;
  /** The callback an asynchronous `verifyClient` answers through. */
  type VerifyClientCallback = VerifyCallback;
  /** The `handleProtocols` option. */
  type HandleProtocols<Request extends IncomingMessage = IncomingMessage> = HandleProtocolsFn<Request>;
  /** The `finishRequest` client option: it must end the request. */
  type FinishRequestCallback = (request: ClientRequest, websocket: WebSocketClass) => void;

  /** permessage-deflate options (RFC 7692), for the server and the client. */
  type PerMessageDeflateOptions = DeflateOptions;
  /** Options of `new WebSocket(address, protocols?, options?)`: ws's, http(s).request's, and weft's. */
  type ClientOptions = ClientOpts;
  /** Options of `new WebSocketServer(options)`: ws's and weft's. */
  type ServerOptions<
    U extends typeof WebSocketClass = typeof WebSocketClass,
    V extends typeof IncomingMessage = typeof IncomingMessage,
  > = ServerOpts<U, V>;
  /** weft: the per-connection options (heartbeat, backpressure, WebSocket-Node's) of both. */
  type ConnectionOptions = ConnOptions;
  /** weft: the `heartbeat` option. */
  type HeartbeatOptions = HeartbeatOpts;
  /** weft: options of `publish()`. */
  type PublishOptions = PublishOpts;
  /** weft: what `publish()` reports. */
  type PublishResult = PublishRes;
  /** weft: a scale-out adapter for the `pubsub` server option. */
  type PubSubAdapter = Adapter;

  /** What `server.address()` returns in `port` and `server` modes (unless a pipe: then a string). */
  interface AddressInfo {
    address: string;
    family: string;
    port: number;
  }

  /** The W3C event of 'open', as `addEventListener`/`onopen` deliver it. */
  interface Event extends EventClass {
    readonly target: WebSocketClass;
  }
  /** The W3C event of 'error'. */
  interface ErrorEvent extends ErrorEventClass {
    readonly target: WebSocketClass;
    readonly error: any;
  }
  /** The W3C event of 'close'. */
  interface CloseEvent extends CloseEventClass {
    readonly target: WebSocketClass;
  }
  /**
   * The W3C event of 'message', typed as `@types/ws` has it: `data` a string (text) or the binaryType's
   * value (with `binaryType` 'blob', which `@types/ws` does not know, a Blob).
   */
  interface MessageEvent extends MessageEventClass {
    readonly target: WebSocketClass;
    readonly data: Data;
  }
  /** The W3C event each type is fired with. */
  type WebSocketEventMap = EventMap;
  /** Options of `addEventListener` (`once`). */
  type EventListenerOptions = ListenerOptions;

  type CreateWebSocketStreamOptions = DuplexOptions;
  type UrlLike = string | URL;
}

export = WebSocket;
