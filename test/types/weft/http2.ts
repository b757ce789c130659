// WebSockets over HTTP/2 as the README shows them: must type-check against weft's declarations
// (test/types/run.js compiles it as a user's project does).
import * as http2 from 'http2';
import WebSocket, { WebSocketServer } from 'weft';

const server = http2.createSecureServer({ allowHTTP1: true }, (req, res) => res.end('page'));
const wss = new WebSocketServer({ server, path: '/ws' });
wss.on('connection', (ws: WebSocket) => ws.send('hello'));

const options: WebSocket.ServerOptions = { server: http2.createServer() };
void options;

const routed = new WebSocketServer({ noServer: true });
server.on('stream', (stream, headers) => {
  if (headers[':protocol'] !== 'websocket') return;
  routed.handleStream(stream, headers, (ws, req) => {
    const url: string = req.url;
    const method: string = req.method;
    const host = req.headers.host;
    void [url, method, host];
    ws.close(1000);
  });
});

const session = http2.connect('https://localhost:8443');
const a = new WebSocket('wss://localhost:8443/ws', { http2: true, rejectUnauthorized: false });
const b = new WebSocket('wss://localhost:8443/ws', { http2: session });
void [a, b];
