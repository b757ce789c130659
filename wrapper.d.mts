// Types of the ESM entry (wrapper.mjs): the default export is the WebSocket class with its statics, and
// the named exports are exactly the ones wrapper.mjs defines (no `Server` value, as ws's ESM entry). Types
// only: the `WebSocket.*` type names are exported by name too (`import type { RawData } from 'weft'`).
import WebSocket from './types/index.js';

export default WebSocket;
// The class itself (its statics as ws has them), so that `declare module 'weft' { interface WebSocket {...} }`
// merges into the class of every connection.
export { WebSocket } from './dist/lib/websocket.js';

export declare const createWebSocketStream: typeof WebSocket.createWebSocketStream;
export declare const extension: typeof WebSocket.extension;
export declare const PerMessageDeflate: typeof WebSocket.PerMessageDeflate;
export type PerMessageDeflate = WebSocket.PerMessageDeflate;
export declare const Receiver: typeof WebSocket.Receiver;
export type Receiver = WebSocket.Receiver;
export declare const Sender: typeof WebSocket.Sender;
export type Sender = WebSocket.Sender;
export declare const subprotocol: typeof WebSocket.subprotocol;
// The server class itself, and (types only, as @types/ws has it) under ws's other name: `declare module
// 'weft' { interface Server { ... } }` merges into every server's type.
export { WebSocketServer } from './dist/lib/server.js';
export type { WebSocketServer as Server } from './dist/lib/server.js';
// weft's additions
export declare const WebSocketPair: typeof WebSocket.WebSocketPair;
export type WebSocketPair = WebSocket.WebSocketPair;
export declare const SendStatus: typeof WebSocket.SendStatus;
export type SendStatus = WebSocket.SendStatus;
export declare const PeerAdapter: typeof WebSocket.PeerAdapter;
export type PeerAdapter = WebSocket.PeerAdapter;
export declare const MemoryPubSub: typeof WebSocket.MemoryPubSub;
export type MemoryPubSub = WebSocket.MemoryPubSub;
export declare const MemoryBus: typeof WebSocket.MemoryBus;
export type MemoryBus = WebSocket.MemoryBus;
export declare const RedisPubSub: typeof WebSocket.RedisPubSub;
export type RedisPubSub = WebSocket.RedisPubSub;
export declare const WebSocketStream: typeof WebSocket.WebSocketStream;
export type WebSocketStream = WebSocket.WebSocketStream;
export declare const WebSocketError: typeof WebSocket.WebSocketError;
export type WebSocketError = WebSocket.WebSocketError;
export declare const native: typeof WebSocket.native;
export type NativeStatus = WebSocket.NativeStatus;

export type RawData = WebSocket.RawData;
export type Data = WebSocket.Data;
export type BufferLike = WebSocket.BufferLike;
export type SendCallback = WebSocket.SendCallback;
export type SendOptions = WebSocket.SendOptions;
export type BinaryType = WebSocket.BinaryType;
export type ReadyState = WebSocket.ReadyState;
export type WebSocketEvents = WebSocket.WebSocketEvents;
export type WebSocketServerEvents<W = WebSocket, R = import('http').IncomingMessage> = WebSocket.WebSocketServerEvents<W, R>;
export type FrameEvent = WebSocket.FrameEvent;
export type Peer = WebSocket.Peer;
export type PeerHooks = WebSocket.PeerHooks;
export type PeerAdapterOptions = WebSocket.PeerAdapterOptions;
export type PeerMessage = WebSocket.PeerMessage;
export type WebSocketOpenInfo = WebSocket.WebSocketOpenInfo;
export type WebSocketCloseInfo = WebSocket.WebSocketCloseInfo;
export type WebSocketStreamOptions = WebSocket.WebSocketStreamOptions;
export type WebSocketStreamFromOptions = WebSocket.WebSocketStreamFromOptions;
export type CertMeta = WebSocket.CertMeta;
export type VerifyClientInfo<R extends import('http').IncomingMessage = import('http').IncomingMessage> = WebSocket.VerifyClientInfo<R>;
export type VerifyClientCallbackSync<R extends import('http').IncomingMessage = import('http').IncomingMessage> = WebSocket.VerifyClientCallbackSync<R>;
export type VerifyClientCallbackAsync<R extends import('http').IncomingMessage = import('http').IncomingMessage> = WebSocket.VerifyClientCallbackAsync<R>;
export type VerifyClientCallback = WebSocket.VerifyClientCallback;
export type HandleProtocols<R extends import('http').IncomingMessage = import('http').IncomingMessage> = WebSocket.HandleProtocols<R>;
export type FinishRequestCallback = WebSocket.FinishRequestCallback;
export type PerMessageDeflateOptions = WebSocket.PerMessageDeflateOptions;
export type ClientOptions = WebSocket.ClientOptions;
export type ServerOptions<
  T extends typeof WebSocket.WebSocket = typeof WebSocket.WebSocket,
  U extends typeof import('http').IncomingMessage = typeof import('http').IncomingMessage,
> = WebSocket.ServerOptions<T, U>;
export type ConnectionOptions = WebSocket.ConnectionOptions;
export type HeartbeatOptions = WebSocket.HeartbeatOptions;
export type PublishOptions = WebSocket.PublishOptions;
export type PublishResult = WebSocket.PublishResult;
export type PubSubAdapter = WebSocket.PubSubAdapter;
export type AddressInfo = WebSocket.AddressInfo;
export type Event = WebSocket.Event;
export type ErrorEvent = WebSocket.ErrorEvent;
export type CloseEvent = WebSocket.CloseEvent;
export type MessageEvent = WebSocket.MessageEvent;
export type WebSocketEventMap = WebSocket.WebSocketEventMap;
export type EventListenerOptions = WebSocket.EventListenerOptions;
export type CreateWebSocketStreamOptions = WebSocket.CreateWebSocketStreamOptions;
export type UrlLike = WebSocket.UrlLike;
