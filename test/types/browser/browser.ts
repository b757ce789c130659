// The `browser` condition: weft is the platform's own WebSocket (lib "dom"); no Node API.
import WebSocket from 'weft';

const ws = new WebSocket('wss://example.com');
ws.binaryType = 'arraybuffer';
ws.onmessage = (event: MessageEvent) => console.log(event.data);
ws.addEventListener('close', (event) => console.log(event.code, event.wasClean));
const same: typeof globalThis.WebSocket = WebSocket.WebSocket;
// @ts-expect-error the browser entry has no server
new WebSocket.WebSocketServer({ port: 8080 });
export { same };
