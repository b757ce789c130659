// Code written the way @types/ws users write it (ws's README examples, typed). It must compile against
// weft's declarations with only the import changed. Type-checked by test/types/run.js, against weft and against ws + @types/ws.
import * as http from 'http';
import WebSocket, { WebSocketServer, createWebSocketStream } from 'weft';
import type { RawData } from 'weft';

// Echo server.
const wss = new WebSocketServer({ port: 0, perMessageDeflate: false, maxPayload: 1024 });
wss.on('connection', function connection(ws: WebSocket, req: http.IncomingMessage) {
  const ip: string | undefined = req.socket.remoteAddress;
  ws.on('error', console.error);
  ws.on('message', function message(data: RawData, isBinary: boolean) {
    ws.send(data, { binary: isBinary });
    console.log(ip, data.toString());
  });
  ws.send('something');
});

// Broadcast.
function broadcast(server: WebSocketServer, data: WebSocket.Data): void {
  server.clients.forEach(function each(client: WebSocket) {
    if (client.readyState === WebSocket.OPEN) client.send(data, { binary: false });
  });
}

// noServer + http.Server upgrade routing.
const server = http.createServer();
const wss1 = new WebSocketServer({ noServer: true });
server.on('upgrade', function upgrade(request, socket, head) {
  wss1.handleUpgrade(request, socket, head, function done(ws: WebSocket) {
    wss1.emit('connection', ws, request);
  });
});

// verifyClient, handleProtocols, options objects typed through the namespace.
const options: WebSocket.ServerOptions = {
  noServer: true,
  verifyClient: (info: { origin: string; secure: boolean; req: http.IncomingMessage }) => info.origin !== 'evil',
  handleProtocols: (protocols: Set<string>) => protocols.values().next().value || false,
};
const wss2 = new WebSocketServer(options);
const address = (): string | WebSocket.AddressInfo | null => wss.address();

// Client.
const clientOptions: WebSocket.ClientOptions = { handshakeTimeout: 1000, headers: { 'x-token': 'a' } };
const ws = new WebSocket('ws://localhost:1/path', ['chat'], clientOptions);
ws.binaryType = 'arraybuffer';
ws.on('open', function open() {
  ws.send('hello');
  ws.ping();
  const amount: number = ws.bufferedAmount;
  console.log(amount, ws.protocol, ws.extensions, ws.url, ws.isPaused);
});
ws.on('close', (code: number, reason: Buffer) => console.log(code, reason.toString()));
ws.on('unexpected-response', (req: http.ClientRequest, res: http.IncomingMessage) => res.resume());
ws.onmessage = (event: WebSocket.MessageEvent) => console.log(event.data);
ws.addEventListener('close', (event: WebSocket.CloseEvent) => console.log(event.code, event.wasClean));
ws.close(1000, 'bye');
ws.terminate();

// Streams.
const duplex = createWebSocketStream(ws, { encoding: 'utf8' });
duplex.pipe(process.stdout);

// Constants on class and instance.
const states: number[] = [WebSocket.CONNECTING, WebSocket.OPEN, WebSocket.CLOSING, WebSocket.CLOSED, ws.OPEN];
export { broadcast, wss2, address, states };
