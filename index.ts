/**
 * weft — the public surface, shaped as ws's: `require('weft')` is the WebSocket class with the other
 * exports attached as statics. Their types, and the type names code written against `@types/ws` uses
 * (`WebSocket.RawData`, `WebSocket.ServerOptions`, ...), are the `WebSocket` namespace merged with the
 * class in lib/websocket.ts; the package's entry types are types/index.d.ts.
 */
import { WebSocket } from './lib/websocket';
import { WebSocketServer } from './lib/server';
import { createWebSocketStream } from './lib/stream';
import { Receiver } from './lib/compat/receiver';
import { Sender } from './lib/compat/sender';
import { PerMessageDeflate } from './lib/deflate';
import { WebSocketPair } from './lib/pair';
import { SendStatus } from './lib/websocket';
import * as extensionModule from './lib/protocol/extension';
import * as subprotocolModule from './lib/protocol/subprotocol';
import { MemoryBus, MemoryPubSub } from './lib/pubsub/memory';
import { PeerAdapter } from './lib/peer';
import { RedisPubSub } from './lib/pubsub/redis';
import { WebSocketStream, WebSocketError } from './lib/websocket-stream';
import { nativeStatus } from './lib/util/buffer';

/** The statics ws attaches to its default export, and weft's (typed by the namespace in lib/websocket.ts). */
type StaticName =
  | 'WebSocketServer' | 'Server' | 'createWebSocketStream' | 'Receiver' | 'Sender' | 'PerMessageDeflate'
  | 'WebSocketPair' | 'SendStatus' | 'extension' | 'subprotocol' | 'PeerAdapter' | 'MemoryPubSub' | 'MemoryBus'
  | 'RedisPubSub' | 'WebSocketStream' | 'WebSocketError' | 'native';
const statics: Pick<typeof WebSocket, StaticName> & { WebSocket: typeof WebSocket } = {
  WebSocket,
  WebSocketServer,
  Server: WebSocketServer,
  createWebSocketStream,
  Receiver,
  Sender,
  PerMessageDeflate,
  WebSocketPair,
  SendStatus,
  extension: { parse: extensionModule.parse, format: extensionModule.format },
  subprotocol: { parse: subprotocolModule.parse },
  PeerAdapter,
  MemoryPubSub,
  MemoryBus,
  RedisPubSub,
  WebSocketStream,
  WebSocketError,
  native: nativeStatus,
};
for (const [name, value] of Object.entries(statics)) {
  Object.defineProperty(WebSocket, name, { value, enumerable: true, writable: true, configurable: true });
}

export = WebSocket;
