// The types of `require('weft')` (package.json "types", exports "require"): the WebSocket class with its
// statics, and the `WebSocket` namespace of type names. Everything is declared once in lib/ (the class and
// its namespace in lib/websocket.ts); this file gives the entry its shape: `WebSocket.WebSocket` is an alias
// of that class, so `declare module 'weft' { interface WebSocket { ... } }` merges into the class of every
// connection (`wss.clients`, 'connection'). The entry's value is that same class at run time
// (dist/index.js); it is declared here as a class extending it, with nothing added, so that the namespace
// can alias the class without naming itself.
import { WebSocket as WebSocketClass } from '../dist/lib/websocket';
import * as server from '../dist/lib/server';
import type { IncomingMessage } from 'http';

declare class WebSocket extends WebSocketClass {}

declare namespace WebSocket {
  export import WebSocket = WebSocketClass;
  export import RawData = WebSocketClass.RawData;
  export import Data = WebSocketClass.Data;
  export import BufferLike = WebSocketClass.BufferLike;
  export import SendCallback = WebSocketClass.SendCallback;
  export import SendOptions = WebSocketClass.SendOptions;
  export import SendStatus = WebSocketClass.SendStatus;
  export import BinaryType = WebSocketClass.BinaryType;
  export import ReadyState = WebSocketClass.ReadyState;
  export import WebSocketEvents = WebSocketClass.WebSocketEvents;
  export import WebSocketServerEvents = WebSocketClass.WebSocketServerEvents;
  export import FrameEvent = WebSocketClass.FrameEvent;
  // The server class under ws's two names, declared here as @types/ws declares it (a class `Server`, and
  // `WebSocketServer` its value with an interface of the same shape), so that `declare module 'weft' {
  // interface Server { ... } }` merges into every server made through this entry. (It adds nothing to
  // the class in lib/server.ts that it extends.)
  class Server<
    T extends typeof WebSocketClass = typeof WebSocketClass,
    U extends typeof IncomingMessage = typeof IncomingMessage,
  > extends server.WebSocketServer<T, U> {}
  const WebSocketServer: typeof Server;
  interface WebSocketServer<
    T extends typeof WebSocketClass = typeof WebSocketClass,
    U extends typeof IncomingMessage = typeof IncomingMessage,
  > extends Server<T, U> {}
  export import Receiver = WebSocketClass.Receiver;
  export import Sender = WebSocketClass.Sender;
  export import PerMessageDeflate = WebSocketClass.PerMessageDeflate;
  export import WebSocketPair = WebSocketClass.WebSocketPair;
  export import WebSocketStream = WebSocketClass.WebSocketStream;
  export import WebSocketError = WebSocketClass.WebSocketError;
  export import native = WebSocketClass.native;
  export import NativeStatus = WebSocketClass.NativeStatus;
  export import PeerAdapter = WebSocketClass.PeerAdapter;
  export import MemoryPubSub = WebSocketClass.MemoryPubSub;
  export import MemoryBus = WebSocketClass.MemoryBus;
  export import RedisPubSub = WebSocketClass.RedisPubSub;
  export import Peer = WebSocketClass.Peer;
  export import PeerHooks = WebSocketClass.PeerHooks;
  export import PeerAdapterOptions = WebSocketClass.PeerAdapterOptions;
  export import PeerMessage = WebSocketClass.PeerMessage;
  export import WebSocketOpenInfo = WebSocketClass.WebSocketOpenInfo;
  export import WebSocketCloseInfo = WebSocketClass.WebSocketCloseInfo;
  export import WebSocketStreamOptions = WebSocketClass.WebSocketStreamOptions;
  export import WebSocketStreamFromOptions = WebSocketClass.WebSocketStreamFromOptions;
  export import CertMeta = WebSocketClass.CertMeta;
  export import VerifyClientInfo = WebSocketClass.VerifyClientInfo;
  export import VerifyClientCallbackSync = WebSocketClass.VerifyClientCallbackSync;
  export import VerifyClientCallbackAsync = WebSocketClass.VerifyClientCallbackAsync;
  export import VerifyClientCallback = WebSocketClass.VerifyClientCallback;
  export import HandleProtocols = WebSocketClass.HandleProtocols;
  export import FinishRequestCallback = WebSocketClass.FinishRequestCallback;
  export import PerMessageDeflateOptions = WebSocketClass.PerMessageDeflateOptions;
  export import ClientOptions = WebSocketClass.ClientOptions;
  export import ServerOptions = WebSocketClass.ServerOptions;
  export import ConnectionOptions = WebSocketClass.ConnectionOptions;
  export import HeartbeatOptions = WebSocketClass.HeartbeatOptions;
  export import PublishOptions = WebSocketClass.PublishOptions;
  export import PublishResult = WebSocketClass.PublishResult;
  export import PubSubAdapter = WebSocketClass.PubSubAdapter;
  export import AddressInfo = WebSocketClass.AddressInfo;
  export import Event = WebSocketClass.Event;
  export import ErrorEvent = WebSocketClass.ErrorEvent;
  export import CloseEvent = WebSocketClass.CloseEvent;
  export import MessageEvent = WebSocketClass.MessageEvent;
  export import WebSocketEventMap = WebSocketClass.WebSocketEventMap;
  export import EventListenerOptions = WebSocketClass.EventListenerOptions;
  export import CreateWebSocketStreamOptions = WebSocketClass.CreateWebSocketStreamOptions;
  export import UrlLike = WebSocketClass.UrlLike;
}

export = WebSocket;
