// Misuse that must not compile: each line after `// @ts-expect-error` is an error, and tsc fails
// (TS2578) if one of them compiles (test/types/run.js).
import WebSocket, { WebSocketServer } from 'weft';

const wss = new WebSocketServer({ port: 0 });
wss.on('connection', (ws, req) => {
  // @ts-expect-error a typo'd method
  ws.sendd('x');
  ws.on('message', (data, isBinary) => {
    // @ts-expect-error RawData has no such method
    data.sendd();
    // @ts-expect-error isBinary is a boolean
    isBinary.toFixed();
  });
  // @ts-expect-error the close code is a number
  ws.on('close', (code) => code.toUpperCase());
  // @ts-expect-error the request is an IncomingMessage
  req.sendd();
  // @ts-expect-error the close code is a number, not a string
  ws.close('1000');
  // @ts-expect-error an unknown listener method
  ws.onn('message', () => {});
  // @ts-expect-error the W3C close event's code is a number
  ws.addEventListener('close', (event) => event.code.toUpperCase());
  // @ts-expect-error the event's target is the WebSocket
  ws.addEventListener('message', (event) => event.target.sendd());
  // @ts-expect-error the event's target is the WebSocket
  ws.onclose = (event) => event.target.closee();
  // @ts-expect-error a W3C event type the WebSocket never fires
  ws.addEventListener('frame', () => {});
  // @ts-expect-error readyState is read-only
  ws.readyState = 3;
  // @ts-expect-error an option of send() that does not exist
  ws.send('x', { binaryy: true });
});
// @ts-expect-error a typo'd server method
wss.handleUpgradee();
// @ts-expect-error a wrong option type
new WebSocketServer({ port: '8080' });
// @ts-expect-error an unknown server option
new WebSocketServer({ port: 0, maxPayloadd: 1 });
// @ts-expect-error a wrong option type for weft's heartbeat
new WebSocketServer({ port: 0, heartbeat: 1000 });
// @ts-expect-error backpressurePolicy is 'drop' or 'close'
new WebSocketServer({ port: 0, backpressurePolicy: 'queue' });
// @ts-expect-error accept is 'server' or 'handle'
new WebSocketServer({ port: 0, accept: 'native' });
// @ts-expect-error the WebSocket option must be a WebSocket class
new WebSocketServer({ noServer: true, WebSocket: Map });
// @ts-expect-error wss.clients holds WebSockets
wss.clients.forEach((ws) => ws.sendd());
// @ts-expect-error a client option of the wrong type
new WebSocket('ws://x', { handshakeTimeout: '1s' });
// @ts-expect-error the address is a string or URL
new WebSocket(8080);
// @ts-expect-error readyState constants are literals
const open: 2 = WebSocket.OPEN;
void open;

// weft/websocket-node: WebSocket-Node's events are typed too.
import { server as NodeServer, client as NodeClient } from 'weft/websocket-node';
const nodeServer = new NodeServer({ autoAcceptConnections: false });
nodeServer.on('request', (request) => {
  // @ts-expect-error a typo'd request method
  request.acceptt();
  const conn = request.accept(null, request.origin);
  conn.on('message', (message) => {
    // @ts-expect-error a binary message has no utf8Data
    if (message.type === 'binary') message.utf8Data.trim();
  });
  // @ts-expect-error the close code is a number
  conn.on('close', (code) => code.trim());
});
// @ts-expect-error connectFailed gives an Error
new NodeClient().on('connectFailed', (err) => err.connection);
