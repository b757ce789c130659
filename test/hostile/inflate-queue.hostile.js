'use strict';
// A hostile peer streams tiny compressed messages as fast as it can for ~10 s, in each role, against
// weft and against ws 8.23 (each in its own process, so peak RSS is its own). While a message is being
// inflated, input must wait in a bounded queue with the socket paused, and messages must keep being
// handled at a rate comparable to ws's. Prints peak RSS, messages handled and the largest queue seen.
//
// Run by `npm run test:hostile`; `node test/hostile/inflate-queue.hostile.js <weft|ws> <server|client> <ms>`
// runs one side alone and prints its figures as JSON.
const assert = require('assert');
const crypto = require('crypto');
const net = require('net');
const path = require('path');
const zlib = require('zlib');
const { execFile } = require('child_process');

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
const RUN_MS = 10000;
/** The most input weft's core may hold: its 16 KiB high-water mark plus one 64 KiB socket chunk. */
// (On the TCP-handle transport, the default, one read is up to its 256 KiB shared buffer.)
const BOUND = 16 * 1024 + (process.env.WEFT_TRANSPORT !== 'stream' ? 256 : 64) * 1024;

function frame(payload, mask) {
  const header = Buffer.from([0xc1, payload.length | (mask ? 0x80 : 0)]); // FIN + RSV1, text
  if (!mask) return Buffer.concat([header, payload]);
  const key = crypto.randomBytes(4);
  const body = Buffer.alloc(payload.length);
  for (let i = 0; i < payload.length; i++) body[i] = payload[i] ^ key[i & 3];
  return Buffer.concat([header, key, body]);
}

function flood(mask) {
  const out = zlib.deflateRawSync(Buffer.from('x'), { finishFlush: zlib.constants.Z_SYNC_FLUSH });
  const one = frame(out.subarray(0, out.length - 4), mask);
  return Buffer.concat(new Array(4096).fill(one));
}

function pump(socket, blob) {
  const write = () => {
    while (!socket.destroyed && socket.write(blob));
  };
  socket.on('drain', write);
  write();
}

/** Bytes the library holds back from the socket: weft's parser queue, or ws's Receiver buffer. */
function held(ws) {
  return ws._driver !== undefined && ws._driver !== null ? ws._driver.conn.parser.queuedBytes : ws._receiver.writableLength;
}

/** One side alone, in this process: resolves with its figures. */
async function child(libName, role, ms) {
  const lib = libName === 'ws' ? require('ws') : require('../..');
  let socket = null;
  let server = null;
  let wss = null;
  if (role === 'server') {
    wss = new lib.WebSocketServer({ port: 0, host: '127.0.0.1', perMessageDeflate: true });
    await new Promise((resolve) => wss.on('listening', resolve));
    const connected = new Promise((resolve) => wss.on('connection', resolve));
    const raw = net.connect(wss.address().port, '127.0.0.1');
    raw.on('error', () => {});
    raw.write(
      'GET / HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
        `Sec-WebSocket-Key: ${crypto.randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n` +
        'Sec-WebSocket-Extensions: permessage-deflate\r\n\r\n',
    );
    raw.once('data', () => pump(raw, flood(true)));
    socket = await connected;
  } else {
    server = net.createServer((raw) => {
      raw.on('error', () => {});
      raw.once('data', (head) => {
        const key = /sec-websocket-key: *([^\r]+)/i.exec(head.toString('latin1'))[1];
        const accept = crypto.createHash('sha1').update(key + GUID).digest('base64');
        raw.write(
          'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
            `Sec-WebSocket-Accept: ${accept}\r\nSec-WebSocket-Extensions: permessage-deflate\r\n\r\n`,
        );
        pump(raw, flood(false));
      });
    });
    await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
    socket = new lib.WebSocket(`ws://127.0.0.1:${server.address().port}`);
    await new Promise((resolve) => socket.on('open', resolve));
  }
  let messages = 0;
  let maxQueued = 0;
  socket.on('message', () => messages++);
  socket.on('error', () => {});
  const sampler = setInterval(() => {
    maxQueued = Math.max(maxQueued, held(socket));
  }, 10);
  await new Promise((resolve) => setTimeout(resolve, ms));
  clearInterval(sampler);
  return { lib: libName, role, seconds: ms / 1000, messages, maxQueued, peakRssMiB: Math.round(process.resourceUsage().maxRSS / 1024) };
}

if (require.main === module) {
  const [libName, role, ms] = process.argv.slice(2);
  child(libName, role, Number(ms)).then((figures) => {
    process.stdout.write(JSON.stringify(figures) + '\n');
    process.exit(0);
  });
} else {
  describe('hostile: a peer streaming tiny compressed messages (input queue while inflating)', function () {
    this.timeout(RUN_MS * 2 + 30000);

    function measure(libName, role) {
      return new Promise((resolve, reject) => {
        const args = [path.join(__dirname, path.basename(__filename)), libName, role, String(RUN_MS)];
        execFile(process.execPath, args, { encoding: 'utf8' }, (err, out) => {
          if (err) reject(err);
          else resolve(JSON.parse(out.trim().split('\n').pop()));
        });
      });
    }

    for (const role of ['server', 'client']) {
      it(`weft as the ${role}: bounded queue and memory, messages handled as ws handles them`, async () => {
        // Both at once, so that whatever else loads the machine weighs on both alike.
        const [weft, ws] = await Promise.all([measure('weft', role), measure('ws', role)]);
        for (const f of [weft, ws]) {
          console.log(
            `      ${f.lib.padEnd(4)} ${f.role}: ${f.messages} messages in ${f.seconds} s, ` +
              `peak RSS ${f.peakRssMiB} MiB, largest input queue ${f.maxQueued} bytes`,
          );
        }
        assert.ok(weft.maxQueued <= BOUND, `weft held ${weft.maxQueued} bytes of input`);
        assert.ok(weft.messages > 0, 'weft handled messages');
        // Same work as ws, within a wide margin (both share the machine the same way).
        assert.ok(weft.messages * 4 >= ws.messages, `weft handled ${weft.messages} messages, ws ${ws.messages}`);
        assert.ok(weft.peakRssMiB <= ws.peakRssMiB * 2 + 64, `weft peak RSS ${weft.peakRssMiB} MiB, ws ${ws.peakRssMiB} MiB`);
      });
    }
  });
}
