// ws's README examples as a TypeScript user writes them against ws + @types/ws (strict, listener
// parameters left to inference). Compiled against weft and against ws + @types/ws (test/types/run.js).
import { createServer, type IncomingMessage } from 'http';
import { createServer as createHttpsServer } from 'https';
import WebSocket, { WebSocketServer, createWebSocketStream } from 'weft';

// Sending and receiving text data.
const client = new WebSocket('ws://www.host.com/path');
client.on('error', console.error);
client.on('open', function open() {
  client.send('something');
});
client.on('message', function message(data) {
  console.log('received: %s', data);
});

// Sending binary data.
client.on('open', function open() {
  const array = new Float32Array(5);
  for (let i = 0; i < array.length; ++i) array[i] = i / 2;
  client.send(array);
});

// Simple server.
const wss = new WebSocketServer({ port: 8080 });
wss.on('connection', function connection(ws) {
  ws.on('error', console.error);
  ws.on('message', function message(data) {
    console.log('received: %s', data);
  });
  ws.send('something');
});

// External HTTP/S server.
const httpsServer = createHttpsServer({ cert: 'cert', key: 'key' });
const wssTls = new WebSocketServer({ server: httpsServer });
wssTls.on('connection', function connection(ws) {
  ws.on('message', (data) => console.log('received: %s', data));
});
httpsServer.listen(8443);

// Multiple servers sharing a single HTTP/S server.
const server = createServer();
const wss1 = new WebSocketServer({ noServer: true });
const wss2 = new WebSocketServer({ noServer: true });
wss1.on('connection', function connection(ws) {
  ws.on('error', console.error);
});
server.on('upgrade', function upgrade(request, socket, head) {
  const { pathname } = new URL(request.url as string, 'wss://base.url');
  if (pathname === '/foo') {
    wss1.handleUpgrade(request, socket, head, function done(ws) {
      wss1.emit('connection', ws, request);
    });
  } else if (pathname === '/bar') {
    wss2.handleUpgrade(request, socket, head, function done(ws) {
      wss2.emit('connection', ws, request);
    });
  } else {
    socket.destroy();
  }
});

// Client authentication (a third 'connection' argument of the caller's own: the listener is annotated,
// as @types/ws requires for a listener that does not match the event's).
function onSocketError(err: Error): void {
  console.error(err);
}
function authenticate(request: unknown, next: (err: Error | null, client?: { id: string }) => void): void {
  void request;
  next(null, { id: 'a' });
}
server.on('upgrade', function upgrade(request, socket, head) {
  socket.on('error', onSocketError);
  authenticate(request, function next(err, authed) {
    if (err || !authed) {
      socket.write('HTTP/1.1 401 Unauthorized\r\n\r\n');
      socket.destroy();
      return;
    }
    socket.removeListener('error', onSocketError);
    wss1.handleUpgrade(request, socket, head, function done(ws) {
      wss1.emit('connection', ws, request, authed);
    });
  });
});
wss1.on('connection', function connection(ws: WebSocket, request: IncomingMessage, authed: { id: string }) {
  ws.on('message', function message(data) {
    console.log(`Received message ${data} from user ${authed.id} at ${request.socket.remoteAddress}`);
  });
});

// Server broadcast, to every client but the sender, with isBinary.
wss.on('connection', function connection(ws) {
  ws.on('message', function message(data, isBinary) {
    wss.clients.forEach(function each(other) {
      if (other !== ws && other.readyState === WebSocket.OPEN) other.send(data, { binary: isBinary });
    });
  });
});

// Round-trip time.
const rtt = new WebSocket('wss://websocket-echo.com/');
rtt.on('open', function open() {
  console.log('connected');
  rtt.send(Date.now());
});
rtt.on('close', function close() {
  console.log('disconnected');
});
rtt.on('message', function message(data) {
  console.log(`Round-trip time: ${Date.now() - Number(data)} ms`);
  setTimeout(function timeout() {
    rtt.send(Date.now());
  }, 500);
});

// Streams API.
const duplex = createWebSocketStream(rtt, { encoding: 'utf8' });
duplex.on('error', console.error);
duplex.pipe(process.stdout);
process.stdin.pipe(duplex);

// The IP address of the client.
wss.on('connection', function connection(ws, req) {
  const ip = req.socket.remoteAddress;
  const forwarded = (req.headers['x-forwarded-for'] as string | undefined)?.split(',')[0].trim();
  ws.on('error', console.error);
  console.log(ip, forwarded);
});

// Detecting broken connections: a ping timer per client connection.
function heartbeat(ws: WebSocket, timer: { id?: NodeJS.Timeout }): void {
  clearTimeout(timer.id);
  timer.id = setTimeout(() => ws.terminate(), 30000 + 1000);
}
const timer: { id?: NodeJS.Timeout } = {};
const pinged = new WebSocket('wss://websocket-echo.com/');
pinged.on('error', console.error);
pinged.on('open', () => heartbeat(pinged, timer));
pinged.on('ping', () => heartbeat(pinged, timer));
pinged.on('close', function clear() {
  clearTimeout(timer.id);
});
