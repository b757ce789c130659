// weft's additions, typed: module augmentation reaching `wss.clients`, the conveniences, topics,
// SendStatus, heartbeat and the other per-connection options, WebSocketPair, PeerAdapter, the
// websocket-node module. Type-checked against weft in every module mode (test/types/run.js).
import WebSocket, { WebSocketServer, WebSocketPair, SendStatus, PeerAdapter, MemoryPubSub } from 'weft';
import type { ConnectionOptions, PublishResult, SendCallback, WebSocketEvents } from 'weft';
import { server as NodeServer, client as NodeClient, type connection } from 'weft/websocket-node';
import * as http from 'http';

new WebSocket.Server({ noServer: true });
const wss = new WebSocketServer({
  port: 0,
  heartbeat: { interval: 30000, timeout: 10000 },
  maxBackpressure: 1 << 20,
  backpressurePolicy: 'close',
  backpressureCloseCode: 1013,
  pubsub: new MemoryPubSub(),
  trustProxy: false,
  accept: 'handle',
  transport: 'native',
});

// Conveniences (WebSocket-Node's and legacy ws's names), topics and SendStatus.
wss.on('connection', (ws, req) => {
  ws.sendUTF('text');
  ws.sendBytes(Buffer.from('bytes'));
  const code: number = ws.closeReasonCode;
  const description: string | null = ws.closeDescription;
  const remote: string | undefined = ws.remoteAddress;
  const connected: boolean = ws.connected;
  ws.subscribe('room');
  const subscribed: boolean = ws.isSubscribed('room');
  const topics: Set<string> = ws.topics;
  const result: PublishResult = ws.publish('room', 'hi', { binary: false });
  const status = ws.send('x');
  if (status === SendStatus.BACKPRESSURE) ws.once('drain', () => ws.resume());
  if (status === WebSocket.SendStatus.DROPPED) ws.drop(1008, 'slow');
  ws.on('frame', (frame) => frame.payload.length + frame.opcode);
  const done: SendCallback = (err) => void err?.message;
  ws.send('y', done);
  for (const name of ['open', 'message'] as const satisfies readonly (keyof WebSocketEvents)[]) void name;
  console.log(req.url, code, description, remote, connected, subscribed, topics, result);
});
const counts: PublishResult = wss.publish('room', Buffer.from('all'));
const subscribers: number = wss.subscriberCount('room');

// Per-connection options on the client too.
const options: ConnectionOptions = { heartbeat: { interval: 1000, timeout: 500 }, maxBackpressure: 1024 };
const client = new WebSocket('ws://localhost:1', { ...options, backpressurePolicy: 'drop' });
client.on('message', (data, isBinary) => (isBinary ? data : data.toString()));

// WebSocketPair (Cloudflare's shape).
const pair = new WebSocketPair();
const [a, b] = [pair[0], pair[1]];
a.accept();
b.accept();
b.addEventListener('message', (event) => a.send(`echo: ${String(event.data)}`));

// PeerAdapter (crossws's hooks).
const adapter = new PeerAdapter({
  hooks: {
    open(peer) {
      peer.subscribe('chat');
      peer.send('welcome');
    },
    message(peer, message) {
      peer.publish('chat', message.text());
    },
  },
});
const httpServer = http.createServer();
httpServer.on('upgrade', adapter.handleUpgrade);

// weft/websocket-node (WebSocket-Node's API).
const nodeServer = new NodeServer({ httpServer, autoAcceptConnections: false });
nodeServer.on('request', (request) => {
  const conn: connection = request.accept('echo-protocol', request.origin);
  conn.on('message', (message) => {
    if (message.type === 'utf8') conn.sendUTF(message.utf8Data);
  });
});
const nodeClient = new NodeClient();
void nodeClient;

export { counts, subscribers, client };
