'use strict';
/**
 * A floor below net-echo.js: the same bare WebSocket echo (bare-echo.js) with no net.Socket at all — a
 * listening TCP handle of Node's own (`process.binding('tcp_wrap')`), each accepted connection read with
 * `readStart`/`onread` and written with `writeBuffer`/`writev`, closed with `shutdown` + `close`. What a
 * server on Node costs once net.Server, net.Socket and http.Server are gone but Node's libuv handles and
 * its JS-to-C++ calls remain: the connect cycle (accept, upgrade, close) and the memory of an idle
 * connection are where it differs from net-echo.js.
 *
 *   node --expose-gc bench/servers/handle-echo.js
 *
 * Node internals (the handle API that lib/transport/tcp-handle.ts checks before using it); a bench
 * reference only, never a path of weft's.
 */
const { parseArgs, stats, serve } = require('./common');
const { Conn } = require('./bare-echo');

const args = parseArgs(process.argv.slice(2));
const { TCP, constants } = process.binding('tcp_wrap');
const { WriteWrap, ShutdownWrap, streamBaseState, kReadBytesOrError, kArrayBufferOffset } = process.binding('stream_wrap');

const clients = new Set();

function noop() {}

function onClose() {
  clients.delete(this.owner);
}

function onShutdown() {
  this.handle.close(onClose);
}

/**
 * The socket side of a Conn on a bare handle: writes made between cork() and uncork() leave in one
 * writeBuffer or writev; end() shuts the write side down once they are out, then closes.
 */
class HandleSocket {
  constructor(handle) {
    this.handle = handle;
    this.corked = 0;
    this.queue = [];
    this.closed = false;
  }

  cork() {
    this.corked++;
  }

  uncork() {
    if (--this.corked === 0) this.flush();
  }

  write(data) {
    this.queue.push(typeof data === 'string' ? Buffer.from(data, 'latin1') : data);
    if (this.corked === 0) this.flush();
  }

  flush() {
    const q = this.queue;
    if (q.length === 0 || this.closed) return;
    this.queue = [];
    const req = new WriteWrap();
    req.handle = this.handle;
    req.oncomplete = noop;
    req.async = false;
    const err = q.length === 1 ? this.handle.writeBuffer(req, q[0]) : this.handle.writev(req, q, true);
    if (err !== 0) {
      stats.errors++;
      this.destroy();
    }
  }

  end() {
    if (this.closed) return;
    this.flush();
    this.closed = true;
    this.handle.readStop();
    const req = new ShutdownWrap();
    req.handle = this.handle;
    req.oncomplete = onShutdown;
    if (this.handle.shutdown(req) !== 0) this.handle.close(onClose);
  }

  destroy() {
    if (this.closed) return;
    this.closed = true;
    this.handle.readStop();
    this.handle.close(onClose);
  }
}

function onRead(arrayBuffer) {
  const n = streamBaseState[kReadBytesOrError];
  const c = this.owner;
  if (n > 0) c.data(Buffer.from(arrayBuffer, streamBaseState[kArrayBufferOffset], n));
  else if (n < 0) c.socket.destroy(); // EOF or an error: nothing is half-open here
}

const server = new TCP(constants.SERVER);
server.onconnection = (err, handle) => {
  if (err) {
    stats.errors++;
    return;
  }
  handle.setNoDelay(true);
  const c = new Conn(new HandleSocket(handle));
  clients.add(c);
  handle.owner = c;
  handle.onread = onRead;
  handle.readStart();
};
let err = server.bind('127.0.0.1', Number(args.port || 0));
if (err === 0) err = server.listen(511);
if (err !== 0) throw new Error(`handle-echo: bind/listen failed (${err})`);
const addr = {};
server.getsockname(addr);
serve({ port: addr.port, impl: 'handle' }, () => clients.size, () => server.close());
