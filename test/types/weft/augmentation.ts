// ws's README heartbeat, with the flag declared once for every WebSocket by module augmentation; it
// reaches `wss.clients` and 'connection', in every module mode.
import { WebSocketServer } from 'weft';

declare module 'weft' {
  interface WebSocket {
    isAlive: boolean;
  }
}
const wss = new WebSocketServer({ port: 0 });
wss.on('connection', (ws) => {
  ws.isAlive = true;
  ws.on('pong', function () {
    this.isAlive = true;
  });
});
const interval = setInterval(() => {
  wss.clients.forEach((ws) => {
    if (ws.isAlive === false) return ws.terminate();
    ws.isAlive = false;
    ws.ping();
  });
}, 30000);
wss.on('close', () => clearInterval(interval));
