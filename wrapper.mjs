// ESM entry: the same objects as the CommonJS entry, with ws's named exports (no `Server`, as ws).
import WebSocket from './dist/index.js';

export const {
  createWebSocketStream,
  extension,
  Receiver,
  Sender,
  subprotocol,
  WebSocketServer,
} = WebSocket;
export { WebSocket };
export default WebSocket;
