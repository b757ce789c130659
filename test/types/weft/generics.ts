// WebSocketServer's generics as @types/ws declares them: a subclass with extra members, given as the
// `WebSocket` option and/or the type argument, is what 'connection', `clients` and handleUpgrade give.
import * as http from 'http';
import WebSocket, { WebSocketServer } from 'weft';

// A subclass with extra members, as the server's `WebSocket` option and as the generic.
class MyWebSocket extends WebSocket {
  isAlive = true;
  userId?: string;
}
const typed = new WebSocketServer<typeof MyWebSocket>({ noServer: true, WebSocket: MyWebSocket });
typed.on('connection', (ws, req: http.IncomingMessage) => {
  ws.isAlive = true;
  ws.userId = req.headers['x-user'] as string;
  ws.on('pong', function heartbeat() {
    this.isAlive = true;
  });
});
typed.clients.forEach((ws) => {
  if (!ws.isAlive) return ws.terminate();
  ws.isAlive = false;
  ws.ping();
});
const inferred = new WebSocketServer({ noServer: true, WebSocket: MyWebSocket });
for (const ws of inferred.clients) ws.isAlive = false;
const server = http.createServer();
server.on('upgrade', (request, socket, head) => {
  typed.handleUpgrade(request, socket, head, (ws, req) => {
    ws.isAlive = true;
    typed.emit('connection', ws, req);
  });
});

const viaServer = new WebSocket.Server({ noServer: true });
const viaStatic = new WebSocket.WebSocketServer<typeof MyWebSocket>({ noServer: true, WebSocket: MyWebSocket });
viaStatic.clients.forEach((ws) => ws.isAlive);
class MyRequest extends http.IncomingMessage {
  user = 'ada';
}
const withRequest = new WebSocketServer<typeof MyWebSocket, typeof MyRequest>({
  noServer: true,
  verifyClient: (info) => info.req.user === 'ada',
  handleProtocols: (protocols, request) => (request.user ? 'chat' : false),
});
withRequest.on('connection', (ws, req) => {
  ws.userId = req.user;
});
export { viaServer };
