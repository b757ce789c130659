/**
 * weft in a browser bundle (the package's "browser" condition; TypeScript picks these types with
 * `"customConditions": ["browser"]`): the platform's own WebSocket (lib "dom"). The names that need
 * Node.js exist so shared code imports cleanly, but are typed `never` here and throw when used.
 */
type PlatformWebSocket = typeof globalThis.WebSocket;

interface ServerOnly {
  /** Needs Node.js: throws in the browser. */
  readonly WebSocketServer: never;
  readonly Server: never;
  readonly createWebSocketStream: never;
  readonly Receiver: never;
  readonly Sender: never;
  readonly PerMessageDeflate: never;
  readonly WebSocketPair: never;
  readonly PeerAdapter: never;
  readonly MemoryPubSub: never;
  readonly MemoryBus: never;
  readonly RedisPubSub: never;
  readonly extension: never;
  readonly subprotocol: never;
  readonly SendStatus: never;
  readonly native: never;
}

/** WHATWG's WebSocketStream and WebSocketError: the platform's, where its "dom" lib declares them. */
type Platform<K extends string> = typeof globalThis extends { [P in K]: infer T } ? T : never;
interface PlatformStreams {
  readonly WebSocketStream: Platform<'WebSocketStream'>;
  readonly WebSocketError: Platform<'WebSocketError'>;
}

declare const WebSocket: PlatformWebSocket &
  ServerOnly &
  PlatformStreams & { readonly WebSocket: PlatformWebSocket & ServerOnly & PlatformStreams };
type WebSocket = globalThis.WebSocket;

export = WebSocket;
