// ESM entry: the same objects as the CommonJS entry, with ws's named exports (no `Server`, as ws).
import WebSocket from './dist/index.js';

export const {
  createWebSocketStream,
  extension,
  PerMessageDeflate,
  Receiver,
  Sender,
  subprotocol,
  WebSocketServer,
  // weft's additions
  WebSocketPair,
  SendStatus,
  PeerAdapter,
  MemoryPubSub,
  MemoryBus,
  RedisPubSub,
  WebSocketStream,
  WebSocketError,
  native,
} = WebSocket;
export { WebSocket };
export default WebSocket;
