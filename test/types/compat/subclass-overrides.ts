// Subclasses written against ws + @types/ws that override its methods with @types/ws's signatures (send
// returning nothing, shouldHandle returning boolean | Promise<boolean>): they must still compile, be
// usable where a WebSocket / WebSocketServer is expected, and type `this` in listeners as either.
// Compiled against weft and, with the import changed to 'ws', against ws + @types/ws (test/types/run.js).
import type { IncomingMessage } from 'http';
import type { Duplex } from 'stream';
import WebSocket, { WebSocketServer } from 'weft';

class QueueingSocket extends WebSocket {
  private readonly pending: string[] = [];
  send(data: any, ...rest: any[]): void {
    if (this.readyState !== WebSocket.OPEN) {
      this.pending.push(String(data));
      return;
    }
    (super.send as (...args: any[]) => unknown)(data, ...rest);
  }
  close(code?: number, data?: string | Buffer): void {
    this.pending.length = 0;
    super.close(code, data);
  }
  ping(data?: any, mask?: boolean, cb?: (err: Error) => void): void {
    super.ping(data, mask, cb);
  }
  terminate(): void {
    super.terminate();
  }
}

class PathServer extends WebSocketServer {
  shouldHandle(request: IncomingMessage): boolean | Promise<boolean> {
    return request.url === '/live' && super.shouldHandle(request);
  }
  handleUpgrade(
    request: IncomingMessage,
    socket: Duplex,
    upgradeHead: Buffer,
    callback: (client: WebSocket, request: IncomingMessage) => void,
  ): void {
    super.handleUpgrade(request, socket, upgradeHead, callback);
  }
  close(cb?: (err?: Error) => void): void {
    super.close(cb);
  }
}

const server = new PathServer({ noServer: true });
server.on('connection', function (this: WebSocketServer, ws: WebSocket, req: IncomingMessage) {
  ws.send(`${this.clients.size} ${req.url}`);
});
const client = new QueueingSocket('ws://localhost:1/live');
client.on('close', function (this: WebSocket, code: number, reason: Buffer) {
  console.log(this.readyState, code, reason.toString());
});
function useSocket(ws: WebSocket): void {
  ws.send('x', (err?: Error) => void err);
}
function useServer(wss: WebSocketServer): void {
  wss.close();
}
useSocket(client);
useServer(server);
