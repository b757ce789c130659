// Subclasses written against ws + @types/ws that override its methods with @types/ws's signatures (send
// returning nothing, shouldHandle returning boolean | Promise<boolean>, every other method as declared
// there): they must still compile, be usable where a WebSocket / WebSocketServer is expected, and type
// `this` in listeners as either.
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

// Every other method @types/ws declares, overridden with exactly its signature there.
class EverySocketMethod extends WebSocket {
  pong(data?: any, mask?: boolean, cb?: (err: Error) => void): void {
    super.pong(data, mask, cb);
  }
  pause(): void {
    super.pause();
  }
  resume(): void {
    super.resume();
  }
  addEventListener<K extends keyof WebSocket.WebSocketEventMap>(
    type: K,
    listener: ((event: WebSocket.WebSocketEventMap[K]) => void) | { handleEvent(event: WebSocket.WebSocketEventMap[K]): void },
    options?: WebSocket.EventListenerOptions,
  ): void {
    super.addEventListener(type, listener, options);
  }
  removeEventListener<K extends keyof WebSocket.WebSocketEventMap>(
    type: K,
    listener: ((event: WebSocket.WebSocketEventMap[K]) => void) | { handleEvent(event: WebSocket.WebSocketEventMap[K]): void },
  ): void {
    super.removeEventListener(type, listener);
  }
  on(event: string | symbol, listener: (this: WebSocket, ...args: any[]) => void): this {
    return super.on(event, listener);
  }
  once(event: string | symbol, listener: (this: WebSocket, ...args: any[]) => void): this {
    return super.once(event, listener);
  }
  off(event: string | symbol, listener: (this: WebSocket, ...args: any[]) => void): this {
    return super.off(event, listener);
  }
  addListener(event: string | symbol, listener: (...args: any[]) => void): this {
    return super.addListener(event, listener);
  }
  removeListener(event: string | symbol, listener: (...args: any[]) => void): this {
    return super.removeListener(event, listener);
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
  address(): WebSocket.AddressInfo | string | null {
    return super.address();
  }
  on(event: string | symbol, listener: (this: WebSocketServer, ...args: any[]) => void): this {
    return super.on(event, listener);
  }
  once(event: string | symbol, listener: (this: WebSocketServer, ...args: any[]) => void): this {
    return super.once(event, listener);
  }
  off(event: string | symbol, listener: (this: WebSocketServer, ...args: any[]) => void): this {
    return super.off(event, listener);
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
useSocket(new EverySocketMethod('ws://localhost:1'));
useServer(server);
