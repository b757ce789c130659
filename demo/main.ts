/**
 * `npm start`: a demo chat on http://localhost:8080 (the PORT environment variable overrides). A plain
 * http.Server serves the page and hands upgrades for /chat to a weft WebSocketServer in noServer mode
 * — the Express pattern. Messages go out through the server's topics: every socket subscribes to
 * 'chat' (messages, joins, leaves) and 'stats' (connections and messages/s, once a second).
 *
 * The wire protocol, JSON text frames:
 *   client → server  {"type":"chat","text"}  {"type":"name","name"}  or plain text (a chat message);
 *                    the text '/close' makes the server close that socket with 4000
 *   server → client  {"type":"welcome","id","name","text"}  {"type":"chat","id","name","text"}
 *                    {"type":"system","text"}  {"type":"stats","connections","messagesPerSecond"}
 * Binary messages are echoed to their sender only.
 */
import * as fs from 'fs';
import * as http from 'http';
import * as path from 'path';
import WebSocket = require('../index');

const PORT = Number(process.env.PORT || 8080);
const page = fs.readFileSync(path.join(__dirname, '..', '..', 'demo', 'page.html'));

/** Longest name and message the demo accepts (characters). */
const MAX_NAME = 32;
const MAX_TEXT = 2000;

/** The demo's http.Server, with its WebSocketServer. */
export type DemoServer = http.Server & { wss: WebSocket.WebSocketServer };

/** Starts the demo server; resolves once listening, rejects with the listen error (e.g. EADDRINUSE). */
export function startDemo(port: number = PORT): Promise<DemoServer> {
  const wss = new WebSocket.WebSocketServer({ noServer: true });
  let nextId = 1;
  let messages = 0;

  const publish = (topic: string, message: object): void => {
    wss.publish(topic, JSON.stringify(message));
  };

  wss.on('connection', (ws: WebSocket) => {
    const me = { id: nextId, name: `guest-${nextId}` };
    nextId++;
    ws.subscribe('chat');
    ws.subscribe('stats');
    ws.send(JSON.stringify({ type: 'welcome', id: me.id, name: me.name, text: 'welcome to weft' }));
    publish('chat', { type: 'system', text: `${me.name} joined` });

    ws.on('message', (data: Buffer, isBinary: boolean) => {
      messages++;
      if (isBinary) {
        ws.send(data, { binary: true });
        return;
      }
      const raw = data.toString();
      if (raw === '/close') {
        ws.close(4000, 'closed on request');
        return;
      }
      let msg: { type?: unknown; text?: unknown; name?: unknown } = { type: 'chat', text: raw };
      if (raw.startsWith('{')) {
        try {
          msg = JSON.parse(raw);
        } catch {
          // Not JSON after all: plain text.
        }
      }
      if (msg.type === 'name' && typeof msg.name === 'string') {
        const name = msg.name.trim().slice(0, MAX_NAME);
        if (name === '' || name === me.name) return;
        publish('chat', { type: 'system', text: `${me.name} is now ${name}` });
        me.name = name;
      } else if (msg.type === 'chat' && typeof msg.text === 'string' && msg.text !== '') {
        publish('chat', { type: 'chat', id: me.id, name: me.name, text: msg.text.slice(0, MAX_TEXT) });
      }
    });

    ws.on('close', () => {
      publish('chat', { type: 'system', text: `${me.name} left` });
    });
  });

  // Live counters for every page, once a second while anyone listens.
  const stats = setInterval(() => {
    const rate = messages;
    messages = 0;
    if (wss.subscriberCount('stats') > 0) {
      publish('stats', { type: 'stats', connections: wss.clients.size, messagesPerSecond: rate });
    }
  }, 1000);
  stats.unref();

  const server = http.createServer((req, res) => {
    if (req.url === '/' || req.url === '/index.html') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(page);
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain' });
    res.end('not found\n');
  });
  server.on('close', () => clearInterval(stats));

  server.on('upgrade', (req, socket, head) => {
    if (new URL(req.url || '/', 'http://localhost').pathname !== '/chat') {
      socket.destroy();
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
  });

  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, () => {
      server.off('error', reject);
      resolve(Object.assign(server, { wss }));
    });
  });
}

if (require.main === module) {
  startDemo().then(
    (server) => {
      const addr = server.address();
      const port = addr !== null && typeof addr === 'object' ? addr.port : PORT;
      const { mask, utf8, reason } = WebSocket.native;
      console.log(`weft demo: http://localhost:${port}/  (WebSocket endpoint ws://localhost:${port}/chat)`);
      console.log(`native: mask=${mask}, utf8=${utf8}${reason ? ` (${reason})` : ''}`);
    },
    (err: NodeJS.ErrnoException) => {
      if (err.code === 'EADDRINUSE') {
        console.error(`weft demo: port ${PORT} is in use; pick another with PORT=${PORT + 1} npm start`);
      } else if (err.code === 'EACCES') {
        console.error(`weft demo: no permission to listen on port ${PORT}; pick another with PORT=8080 npm start`);
      } else {
        console.error(`weft demo: cannot listen on port ${PORT}: ${err.message}`);
      }
      process.exitCode = 1;
    },
  );
}
