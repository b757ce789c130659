/**
 * `npm start`: a demo chat on http://localhost:8080 (PORT overrides). A plain http.Server serves the page
 * and hands upgrades for /chat to a weft WebSocketServer in noServer mode — the Express pattern.
 */
import * as fs from 'fs';
import * as http from 'http';
import * as path from 'path';
import WebSocket = require('../index');
import { nativePaths } from '../lib/util/buffer';

const PORT = Number(process.env.PORT || 8080);
const page = fs.readFileSync(path.join(__dirname, '..', '..', 'demo', 'page.html'));

/** Starts the demo server; resolves with it once listening. */
export function startDemo(port: number = PORT): Promise<http.Server> {
  const wss = new WebSocket.WebSocketServer({ noServer: true });

  wss.on('connection', (ws: WebSocket) => {
    ws.send('welcome to weft');
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      // Broadcast: text to everyone (the sender sees its own words), binary echoed to the sender only.
      if (isBinary) {
        ws.send(data, { binary: true });
        return;
      }
      const text = data.toString();
      if (text === '/close') {
        ws.close(4000, 'closed on request');
        return;
      }
      for (const client of wss.clients) {
        if (client.readyState === WebSocket.OPEN) client.send(text);
      }
    });
  });

  const server = http.createServer((req, res) => {
    if (req.url === '/' || req.url === '/index.html') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(page);
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain' });
    res.end('not found\n');
  });

  server.on('upgrade', (req, socket, head) => {
    if (new URL(req.url || '/', 'http://localhost').pathname !== '/chat') {
      socket.destroy();
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
  });

  return new Promise((resolve) => server.listen(port, () => resolve(server)));
}

if (require.main === module) {
  startDemo().then((server) => {
    const addr = server.address();
    const port = addr !== null && typeof addr === 'object' ? addr.port : PORT;
    console.log(`weft demo: http://localhost:${port}/  (WebSocket endpoint ws://localhost:${port}/chat)`);
    console.log(`native paths: mask/unmask=${nativePaths.mask}, utf-8 validation=${nativePaths.utf8}`);
  });
}
