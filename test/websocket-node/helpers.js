'use strict';

// Shared helpers of the WebSocket-Node compat tests: HTTP servers on loopback whose sockets are all
// destroyed in the after hooks, event waiters, and the two sides under test — weft's module and the
// real `websocket` package (WebSocket-Node) as the peer.

const http = require('http');
const { once } = require('events');

const weft = require('../../dist/lib/websocket-node');
const real = require('websocket');

/** Resources a test opened; `closeAll()` (in afterEach) releases them. */
class Tracker {
  constructor() {
    this.servers = [];
    this.closers = [];
  }

  /** An http.Server listening on 127.0.0.1; its sockets (upgraded ones too) are destroyed on cleanup. */
  async httpServer(handler) {
    const server = http.createServer(handler || ((req, res) => {
      res.writeHead(404);
      res.end();
    }));
    const sockets = new Set();
    server.on('connection', (socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
    });
    this.servers.push({ server, sockets });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    server.url = `ws://127.0.0.1:${server.address().port}`;
    return server;
  }

  /** Runs `fn` on cleanup (before the HTTP servers are closed). */
  add(fn) {
    this.closers.push(fn);
  }

  async closeAll() {
    for (const fn of this.closers.splice(0).reverse()) {
      try {
        fn();
      } catch {
        // cleanup of something already closed
      }
    }
    const closing = [];
    for (const { server, sockets } of this.servers.splice(0)) {
      for (const socket of sockets) socket.destroy();
      if (server.listening) closing.push(new Promise((resolve) => server.close(resolve)));
    }
    await Promise.all(closing);
  }
}

/** A WebSocket-Node-shaped server (`lib` is weft's module or the real package) mounted on `httpServer`. */
function mountServer(lib, tracker, httpServer, config = {}) {
  const server = new lib.server({ httpServer, ...config });
  tracker.add(() => {
    server.shutDown();
    for (const connection of server.connections.slice()) connection.drop(1001, 'test over', true);
  });
  return server;
}

/**
 * Connects a WebSocket-Node-shaped client; resolves with the connection, rejects with connectFailed's
 * error. The connection is dropped on cleanup.
 */
function connect(lib, tracker, url, protocols, origin, headers, options, config) {
  const client = new lib.client(config);
  return new Promise((resolve, reject) => {
    client.on('connect', (connection) => {
      tracker.add(() => connection.drop(1001, 'test over', true));
      resolve(connection);
    });
    client.on('connectFailed', reject);
    client.connect(url, protocols, origin, headers, options);
  });
}

/** The next `count` emissions of `event` (each as its argument list). */
function collect(emitter, event, count) {
  return new Promise((resolve) => {
    const got = [];
    emitter.on(event, function listener(...args) {
      got.push(args);
      if (got.length === count) {
        emitter.removeListener(event, listener);
        resolve(got);
      }
    });
  });
}

/** The next 'connect' of a server face (the server-side connection). */
function nextConnection(server) {
  return once(server, 'connect').then(([connection]) => connection);
}

/** A Buffer of `size` bytes with a recognisable pattern. */
function pattern(size, seed = 1) {
  const buf = Buffer.allocUnsafe(size);
  for (let i = 0; i < size; i++) buf[i] = (i * 31 + seed) & 0xff;
  return buf;
}

module.exports = { weft, real, Tracker, mountServer, connect, collect, nextConnection, pattern, once };

const net = require('net');
const crypto = require('crypto');

/**
 * Sends a raw upgrade request (`headers` over a valid version-13 handshake; a null value removes a
 * header) and resolves with `{ socket, head }`: the response head as text, the socket still open
 * (destroyed on cleanup).
 */
function rawUpgrade(tracker, port, headers = {}, path = '/') {
  const all = {
    Host: `127.0.0.1:${port}`,
    Upgrade: 'websocket',
    Connection: 'Upgrade',
    'Sec-WebSocket-Key': crypto.randomBytes(16).toString('base64'),
    'Sec-WebSocket-Version': '13',
    ...headers,
  };
  let request = `GET ${path} HTTP/1.1\r\n`;
  for (const [name, value] of Object.entries(all)) if (value !== null) request += `${name}: ${value}\r\n`;
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    tracker.add(() => socket.destroy());
    let data = Buffer.alloc(0);
    socket.on('error', reject);
    socket.on('data', function onData(chunk) {
      data = Buffer.concat([data, chunk]);
      const end = data.indexOf('\r\n\r\n');
      if (end === -1) return;
      socket.removeListener('data', onData);
      resolve({ socket, head: data.subarray(0, end).toString(), rest: data.subarray(end + 4) });
    });
    socket.on('end', () => resolve({ socket, head: data.toString(), rest: Buffer.alloc(0) }));
    socket.write(request + '\r\n');
  });
}

module.exports.rawUpgrade = rawUpgrade;
