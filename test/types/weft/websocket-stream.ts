// weft's WebSocketStream and async iteration, written as a TypeScript user would: must type-check
// against weft's declarations (test/types/run.js).
import WebSocket, { WebSocketServer } from 'weft';

async function client(): Promise<void> {
  const controller = new AbortController();
  const options: WebSocket.WebSocketStreamOptions = { protocols: ['chat'], signal: controller.signal, highWaterMark: 8 };
  const wss = new WebSocket.WebSocketStream('ws://localhost:8080', options);
  const info: WebSocket.WebSocketOpenInfo = await wss.opened;
  const writer = info.writable.getWriter();
  await writer.write('text');
  await writer.write(new Uint8Array([1, 2]));
  await writer.write(new ArrayBuffer(4));
  for await (const chunk of info.readable) {
    const s: string = typeof chunk === 'string' ? chunk : String(chunk.byteLength);
    void s;
  }
  wss.close({ closeCode: 1000, reason: 'done' });
  const closed: WebSocket.WebSocketCloseInfo = await wss.closed;
  const code: number | undefined = closed.closeCode;
  void code;
  await info.writable.abort(new WebSocket.WebSocketError('stop', { closeCode: 4000 }));
  const url: string = wss.url;
  void url;
}

function server(): void {
  const wss = new WebSocketServer({ port: 8080 });
  wss.on('connection', async (ws) => {
    const stream: WebSocket.WebSocketStream = WebSocket.WebSocketStream.from(ws, { highWaterMark: 4 });
    const { readable, writable } = await stream.opened;
    await readable.pipeTo(writable);
  });
  wss.on('connection', async (ws: WebSocket) => {
    for await (const [data, isBinary] of ws) ws.send(data, { binary: isBinary });
  });
}

void client;
void server;
