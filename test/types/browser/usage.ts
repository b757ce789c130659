// Browser code importing weft, type-checked against browser.d.ts (the "browser" condition).
import WebSocket from 'weft';

const ws: WebSocket = new WebSocket('wss://example.com/chat', ['chat']);
ws.binaryType = 'arraybuffer';
ws.onopen = (event: Event) => ws.send(`hello at ${event.timeStamp}`);
ws.onmessage = (event: MessageEvent) => {
  if (typeof event.data === 'string') console.log(event.data.toUpperCase());
  else console.log((event.data as ArrayBuffer).byteLength);
};
ws.addEventListener('close', (event: CloseEvent) => console.log(event.code, event.reason, event.wasClean));
ws.send(new Uint8Array([1, 2, 3]));
ws.send(new Blob(['x']));
const state: number = ws.readyState === WebSocket.OPEN ? WebSocket.CLOSING : ws.bufferedAmount;
const same: typeof WebSocket.WebSocket = WebSocket.WebSocket;
new same('ws://localhost:8080');
console.log(state);

// Node-only names are typed `never`: using them does not compile.
// @ts-expect-error WebSocketServer needs Node.js
new WebSocket.WebSocketServer({ port: 8080 });
// @ts-expect-error createWebSocketStream needs Node.js
WebSocket.createWebSocketStream(ws);
// @ts-expect-error Node's WebSocket events (ws.on) are not the platform's
ws.on('message', () => {});
