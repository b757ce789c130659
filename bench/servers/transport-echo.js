'use strict';
/**
 * A raw echo (no WebSocket, no framing): every byte read is written back. The transport is what varies
 * (bench/transport.js compares them):
 *
 *   --transport=stream   net.Socket: 'data' + write() (Node's Readable/Writable machinery)
 *   --transport=handle   lib/transport/tcp-handle: the socket's libuv handle adopted, onread + writeBuffer
 *   --read=copy|alloc|view   (handle) how a read reaches the echo ('view': the transport copies the
 *                        view it is asked to write: a write may outlive the read buffer it points into)
 *   --read-buffer=N      (handle) the shared read buffer's size ('copy'/'view'; default 256 KiB)
 *
 * `stats.ops` counts echoed bytes; the harness divides by the message size.
 */
const net = require('net');
const path = require('path');
const { parseArgs, stats, serve } = require('./common');

const args = parseArgs(process.argv.slice(2));
const transport = args.transport || 'stream';
const read = args.read || 'copy';
// --read-buffer=N: the size of the shared read buffer ('copy'/'view'), read when the module loads.
if (args['read-buffer']) process.env.WEFT_TCP_READ_BUFFER = String(args['read-buffer']);
const { adopt, tcpHandleUnavailable } = require(path.join(__dirname, '..', '..', 'dist', 'lib', 'transport', 'tcp-handle'));

if (transport === 'handle' && tcpHandleUnavailable() !== null) {
  console.error(`transport-echo: the handle transport is unavailable: ${tcpHandleUnavailable()}`);
  process.exit(2);
}

let clients = 0;

// --- (a) net.Socket ---

function streamOnData(chunk) {
  stats.ops += chunk.length;
  this.write(chunk);
}

function streamOnError() {
  stats.errors++;
}

function streamOnClose() {
  clients--;
}

// --- (b) the adopted handle: one owner object per connection, module-level methods ---

class EchoOwner {
  constructor(t) {
    this.t = t;
  }
  onTransportData(chunk) {
    stats.ops += chunk.length;
    this.t.write(chunk, null);
  }
  onTransportEnd() {
    this.t.end();
  }
  onTransportError() {
    stats.errors++;
  }
  onTransportClose() {
    clients--;
  }
  onTransportDrain() {}
}

const server = net.createServer((socket) => {
  clients++;
  if (transport === 'handle') {
    const t = adopt(socket, null, { read });
    if (t === null) throw new Error('adopt() refused a plain net.Socket');
    t.setNoDelay(true);
    t.start(new EchoOwner(t));
    return;
  }
  socket.setNoDelay(true);
  socket.on('data', streamOnData);
  socket.on('error', streamOnError);
  socket.on('close', streamOnClose);
});

server.listen(Number(args.port || 0), '127.0.0.1', () => {
  serve(
    { port: server.address().port, impl: transport === 'handle' ? `handle-${read}` : 'stream' },
    () => clients,
    () => server.close(),
  );
});
