// The cases of code written against ws + @types/ws 8.18 that weft must accept unchanged (strict mode).
// Compiled against weft and, with the import changed to 'ws', against ws + @types/ws (test/types/run.js).
import * as http from 'http';
import * as net from 'net';
import type { Duplex } from 'stream';
import WebSocket, { WebSocketServer, createWebSocketStream } from 'weft';
import type {
  AddressInfo,
  ClientOptions,
  Data,
  PerMessageDeflateOptions,
  RawData,
  ServerOptions,
  VerifyClientCallbackAsync,
  VerifyClientCallbackSync,
} from 'weft';

// Listener parameters are inferred from the event name (no annotation needed under noImplicitAny).
const wss = new WebSocketServer({ port: 0 });
wss.on('connection', (ws, req) => {
  const ip: string | undefined = req.socket.remoteAddress;
  ws.on('message', (data, isBinary) => {
    const copy: RawData = data;
    ws.send(copy, { binary: isBinary });
  });
  ws.on('close', (code, reason) => console.log(ip, code.toFixed(), reason.toString('utf8')));
  ws.on('error', (err) => console.error(err.message));
  ws.on('ping', (payload) => payload.length);
  ws.once('pong', function (payload) {
    this.ping(payload);
  });
  ws.off('message', () => {});
  ws.addListener('open', () => {});
  ws.removeListener('open', () => {});
  ws.on('custom-event', (...args: any[]) => args.length);
});
wss.on('headers', (headers, req) => headers.push(`X-Url: ${req.url}`));
wss.on('wsClientError', (err, socket: Duplex, req) => socket.end(`HTTP/1.1 400 ${err.message}\r\n\r\n`, () => req.destroy()));
wss.on('listening', () => {});
wss.once('close', () => {});
wss.on('error', (err) => err.stack);

// send/ping/pong callbacks as @types/ws types them.
function sendAll(ws: WebSocket): void {
  ws.send('text', (err?: Error) => {
    if (err) console.error(err);
  });
  ws.send(Buffer.from('x'), { binary: true, compress: false, fin: true, mask: false }, (err?: Error) => void err);
  ws.send(new Uint8Array(2));
  ws.send(new ArrayBuffer(2));
  ws.send(42);
  ws.ping();
  ws.ping('payload', false, (err: Error) => void err);
  ws.pong(Buffer.alloc(0), true, (err: Error) => void err);
}

// Properties and constants.
const path: string = wss.path;
function inspect(ws: WebSocket): void {
  const url: string = ws.url;
  const state: 0 | 1 | 2 | 3 = ws.readyState;
  const open: 1 = WebSocket.OPEN;
  const closed: 3 = ws.CLOSED;
  if (ws.readyState === WebSocket.OPEN) ws.close(1000, 'done');
  console.log(url, state, open, closed, ws.protocol, ws.extensions, ws.bufferedAmount, ws.isPaused);
  ws.pause();
  ws.resume();
}

// W3C face.
function w3c(ws: WebSocket): void {
  ws.onopen = (event: WebSocket.Event) => event.type;
  ws.onmessage = (event: WebSocket.MessageEvent) => {
    const data: Data = event.data;
    const same: WebSocket.Data = data;
    void same;
  };
  ws.onclose = (event: WebSocket.CloseEvent) => console.log(event.code, event.reason, event.wasClean);
  ws.onerror = (event: WebSocket.ErrorEvent) => console.log(event.message, event.error);
  ws.onmessage = (event) => console.log(event.data, event.type);
  const onMessage = (event: WebSocket.MessageEvent): void => void event.data;
  ws.addEventListener('message', onMessage, { once: true });
  ws.removeEventListener('message', onMessage);
  ws.addEventListener('close', (event) => event.code.toFixed());
  ws.addEventListener('message', (event) => event.target.send(String(event.data)));
  ws.onerror = (event) => event.target.terminate();
  ws.addEventListener('open', { handleEvent: (event: WebSocket.Event) => void event });
}

// The namespace's type names.
const clientOptions: ClientOptions = {
  handshakeTimeout: 1000,
  headers: { authorization: 'Bearer x' },
  perMessageDeflate: { clientNoContextTakeover: true, zlibDeflateOptions: { level: 3 } },
  followRedirects: true,
  maxPayload: 1024,
  skipUTF8Validation: false,
  finishRequest: (request: http.ClientRequest, websocket: WebSocket) => {
    void websocket;
    request.end();
  },
};
const client = new WebSocket('ws://localhost:1', clientOptions);
const client2 = new WebSocket(new URL('ws://localhost:1'), 'chat', { headers: { a: 'b' } });
const deflate: PerMessageDeflateOptions = { threshold: 1024, serverMaxWindowBits: 10, concurrencyLimit: 4 };
const verifySync: VerifyClientCallbackSync = (info) => info.secure || info.origin === 'https://example.com';
const verifyAsync: VerifyClientCallbackAsync = (info, callback) => callback(info.req.headers.host !== undefined, 401, 'no', { 'X-A': 'b' });
const serverOptions: ServerOptions = {
  noServer: true,
  perMessageDeflate: deflate,
  verifyClient: verifySync,
  handleProtocols: (protocols: Set<string>, request: http.IncomingMessage) => {
    void request;
    return protocols.has('chat') ? 'chat' : false;
  },
  clientTracking: true,
  maxPayload: 1 << 20,
};
const server2 = new WebSocketServer({ ...serverOptions, verifyClient: verifyAsync });
const nsOptions: WebSocket.ServerOptions = { port: 0, backlog: 10, host: '127.0.0.1' };
const nsClient: WebSocket.ClientOptions = { protocolVersion: 13, origin: 'x' };
const address: AddressInfo | string | null = wss.address();
const nsAddress: WebSocket.AddressInfo | string | null = wss.address();
const certs: WebSocket.CertMeta = 'pem';
const raw: WebSocket.RawData = Buffer.alloc(0);
const cb: WebSocket.FinishRequestCallback = (request) => request.end();
const duplex: Duplex = createWebSocketStream(client, { encoding: 'utf8' });
// `createConnection` typed as @types/ws has it: net.createConnection itself.
const viaNet = new WebSocket('ws://localhost:1', { createConnection: net.createConnection, allowSynchronousEvents: false });

// A method declared once for every server by module augmentation of ws's `Server` (as @types/ws's own
// tests do); it reaches servers made with `new WebSocketServer()`.
declare module 'weft' {
  interface Server {
    connectionCount(): number;
  }
}
const counted: number = server2.connectionCount() + wss.connectionCount();
const fromServer: WebSocket = new WebSocket(null);
wss.close((err?: Error) => void err);

export {
  sendAll,
  inspect,
  w3c,
  path,
  client2,
  server2,
  nsOptions,
  nsClient,
  address,
  nsAddress,
  certs,
  raw,
  cb,
  duplex,
  fromServer,
  viaNet,
  counted,
};
