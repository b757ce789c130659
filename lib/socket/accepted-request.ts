/**
 * The `req` of an upgrade accepted on the listening handle (transport/accept.ts): an
 * http.IncomingMessage as Node's parser leaves one for 'upgrade' — method, url, HTTP/1.1, `rawHeaders`
 * (and `headers` from them, by Node's own rules), `upgrade` true, complete and ended — whose `socket`
 * (and `connection`) is the connection's net.Socket, made on first use: the same object as the
 * WebSocket's `_socket`.
 */
import * as http from 'http';
import type { Socket } from 'net';
import type { TcpTransport } from '../transport/tcp-handle';

const kTransport = Symbol('weft-request-transport');
const kSocket = Symbol('weft-request-socket');

type Internals = {
  [kTransport]: TcpTransport | null;
  [kSocket]: Socket | null;
  upgrade: boolean;
  _addHeaderLines(headers: string[], n: number): void;
};

export class AcceptedRequest extends http.IncomingMessage {
  constructor(url: string, rawHeaders: string[]) {
    super(null as unknown as Socket);
    const self = this as unknown as Internals;
    self[kTransport] = null;
    this.httpVersionMajor = 1;
    this.httpVersionMinor = 1;
    this.httpVersion = '1.1';
    this.method = 'GET';
    this.url = url;
    self.upgrade = true;
    // Node builds `headers` from these, lazily, with its rules for repeated names.
    self._addHeaderLines(rawHeaders, rawHeaders.length);
    this.complete = true;
    this.push(null);
  }

  /** @internal The connection: `socket` is made from it when first read. */
  setTransport(t: TcpTransport): void {
    (this as unknown as Internals)[kTransport] = t;
  }
}

// An accessor on the prototype: IncomingMessage's constructor assigns `socket` (through the setter).
Object.defineProperty(AcceptedRequest.prototype, 'socket', {
  get(this: Internals): Socket | null {
    const t = this[kTransport];
    return t !== null && t !== undefined ? t.shellSocket() : this[kSocket];
  },
  set(this: Internals, socket: Socket | null) {
    this[kSocket] = socket;
    if (socket !== null && socket !== undefined) this[kTransport] = null;
  },
  enumerable: true,
  configurable: true,
});
