'use strict';
// What WebSockets over HTTP/2 (RFC 8441) cost weft's server: CPU per echoed message of the server
// process, h2 (one extended CONNECT stream per TLS connection) against TLS HTTP/1.1 (one upgraded TLS
// connection each), for 32 B and 16 KiB binary messages, interleaved h1 h2 h1 h2 … over R rounds; the
// figure per cell is the median, and the ratio h2 ÷ h1.
//
//   npm run build && node bench/h2.js [--rounds=5] [--window=1] [--warmup=0.3] [--conns=10] [--inflight=8]
//
// Three processes: this driver, the server (both servers in one process, only one loaded at a time),
// and a client process per measurement (prebuilt frames over Node's tls / http2). About 1 minute by default.
const { fork } = require('child_process');
const fs = require('fs');
const path = require('path');

const args = Object.fromEntries(
  process.argv.slice(2).filter((a) => a.startsWith('--')).map((a) => {
    const [k, v] = a.slice(2).split('=');
    return [k, v === undefined ? true : v];
  }),
);
const ROUNDS = Number(args.rounds || 5);
const WINDOW = Number(args.window || 1);
const WARMUP = Number(args.warmup || 0.3);
const CONNS = Number(args.conns || 10);
const INFLIGHT = Math.min(64, Number(args.inflight || 16));
const SIZES = [32, 16384];
const TLS = {
  cert: fs.readFileSync(path.join(__dirname, '..', 'test', 'fixtures', 'certificate.pem')),
  key: fs.readFileSync(path.join(__dirname, '..', 'test', 'fixtures', 'key.pem')),
};

if (args.server) runServer();
else if (args.client) runClient();
else main();

/** The server process: an https server and an http2 server, a weft WebSocketServer on each, echoing. */
function runServer() {
  const https = require('https');
  const http2 = require('http2');
  const { WebSocketServer } = require('..');
  let messages = 0;
  const onConnection = (ws) => {
    ws.on('message', (data, isBinary) => {
      messages++;
      ws.send(data, { binary: isBinary });
    });
  };
  const h1 = https.createServer(TLS);
  new WebSocketServer({ server: h1 }).on('connection', onConnection);
  const h2 = http2.createSecureServer({ ...TLS, allowHTTP1: true });
  new WebSocketServer({ server: h2 }).on('connection', onConnection);
  let listening = 0;
  const ready = () => {
    if (++listening === 2) process.send({ ports: { h1: h1.address().port, h2: h2.address().port } });
  };
  h1.listen(0, '127.0.0.1', ready);
  h2.listen(0, '127.0.0.1', ready);
  process.on('message', (msg) => {
    if (msg === 'snap') {
      const cpu = process.cpuUsage();
      process.send({ cpu: cpu.user + cpu.system, messages });
    }
  });
}

/**
 * A client process: CONNS connections, INFLIGHT messages in flight on each, until told to stop. It is
 * kept cheap (the same work for both protocols): masked frames are built once, echoes are counted from
 * the byte count (the server's frames have a fixed size), and each read is answered with that many
 * frames in one write. With `--verbose` each measurement prints its rate and the server's CPU share: a
 * server well under 100% means the figures include how well each protocol batches at that load. h1: a TLS socket and a hand-written upgrade; h2: a session and an extended CONNECT.
 */
function runClient() {
  const tls = require('tls');
  const http2 = require('http2');
  const crypto = require('crypto');
  const proto = args.proto;
  const size = Number(args.size);
  const port = Number(args.port);
  // One masked binary frame, then copies of it for up to 64 echoes per write.
  const header = size < 126 ? Buffer.from([0x82, 0x80 | size]) : Buffer.from([0x82, 0x80 | 126, size >> 8, size & 0xff]);
  const mask = crypto.randomBytes(4);
  const body = Buffer.alloc(size);
  for (let i = 0; i < size; i++) body[i] = 7 ^ mask[i & 3];
  const frame = Buffer.concat([header, mask, body]);
  const batches = [Buffer.alloc(0)];
  for (let n = 1; n <= 64; n++) batches.push(Buffer.concat(Array(n).fill(frame)));
  const echoBytes = size + (size < 126 ? 2 : 4);
  let open = 0;
  let stopping = false;
  const closers = [];

  const drive = (writable, readable) => {
    let pending = 0;
    readable.on('data', (chunk) => {
      if (stopping) return;
      pending += chunk.length;
      let n = Math.floor(pending / echoBytes);
      pending -= n * echoBytes;
      while (n > 0) {
        const k = Math.min(n, 64);
        writable.write(batches[k]);
        n -= k;
      }
    });
    writable.write(batches[INFLIGHT]);
    if (++open === CONNS) process.send('open');
  };

  for (let i = 0; i < CONNS; i++) {
    if (proto === 'h1') {
      const socket = tls.connect({ host: '127.0.0.1', port, ca: TLS.cert, servername: 'localhost', ALPNProtocols: ['http/1.1'] });
      closers.push(() => socket.destroy());
      socket.on('error', () => {});
      socket.on('secureConnect', () => {
        socket.setNoDelay(true);
        socket.write(
          `GET / HTTP/1.1\r\nHost: localhost:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
            `Sec-WebSocket-Key: ${crypto.randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
        );
        let head = '';
        const onHead = (chunk) => {
          head += chunk.toString('latin1');
          const end = head.indexOf('\r\n\r\n');
          if (end === -1) return;
          if (!head.startsWith('HTTP/1.1 101')) throw new Error(`upgrade refused: ${head.split('\r\n')[0]}`);
          socket.removeListener('data', onHead);
          drive(socket, socket);
        };
        socket.on('data', onHead);
      });
    } else {
      const session = http2.connect(`https://localhost:${port}`, { ca: TLS.cert });
      closers.push(() => session.destroy());
      session.on('error', () => {});
      session.once('remoteSettings', () => {
        const stream = session.request(
          { ':method': 'CONNECT', ':protocol': 'websocket', ':scheme': 'https', ':path': '/', ':authority': `localhost:${port}`, 'sec-websocket-version': '13' },
          { endStream: false },
        );
        stream.on('error', () => {});
        stream.once('response', (headers) => {
          if (headers[':status'] !== 200) throw new Error(`CONNECT refused: ${headers[':status']}`);
          drive(stream, stream);
        });
      });
    }
  }
  process.on('message', (msg) => {
    if (msg === 'stop') {
      stopping = true;
      for (const close of closers) close();
      setTimeout(() => process.exit(0), 50);
    }
  });
}

function waitFor(child, predicate) {
  return new Promise((resolve) => {
    const on = (msg) => {
      if (predicate(msg)) {
        child.removeListener('message', on);
        resolve(msg);
      }
    };
    child.on('message', on);
  });
}

const sleep = (s) => new Promise((resolve) => setTimeout(resolve, s * 1000));

/** One measurement: server CPU microseconds per echoed message over the window. */
async function measure(server, ports, proto, size) {
  const client = fork(__filename, ['--client', `--proto=${proto}`, `--size=${size}`, `--port=${ports[proto]}`, `--conns=${CONNS}`, `--inflight=${INFLIGHT}`]);
  await waitFor(client, (m) => m === 'open');
  await sleep(WARMUP);
  server.send('snap');
  const a = await waitFor(server, (m) => m && m.cpu !== undefined);
  await sleep(WINDOW);
  server.send('snap');
  const b = await waitFor(server, (m) => m && m.cpu !== undefined);
  client.send('stop');
  await new Promise((resolve) => client.once('exit', resolve));
  const n = b.messages - a.messages;
  if (args.verbose) console.log(`  ${proto} ${size}: ${Math.round(n / WINDOW)} msg/s, server CPU ${Math.round((b.cpu - a.cpu) / 1e4 / WINDOW)}%`);
  return (b.cpu - a.cpu) / n;
}

const median = (xs) => {
  const s = [...xs].sort((x, y) => x - y);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

async function main() {
  const server = fork(__filename, ['--server']);
  const { ports } = await waitFor(server, (m) => m && m.ports);
  const samples = {};
  for (const size of SIZES) samples[size] = { h1: [], h2: [] };
  console.log(`h2 vs TLS HTTP/1.1, server CPU per echoed message: ${CONNS} connections × ${INFLIGHT} in flight, ${ROUNDS} rounds of ${WARMUP}+${WINDOW} s`);
  for (let r = 0; r < ROUNDS; r++) {
    for (const size of SIZES) {
      for (const proto of r % 2 === 0 ? ['h1', 'h2'] : ['h2', 'h1']) {
        samples[size][proto].push(await measure(server, ports, proto, size));
      }
    }
    process.stdout.write(`round ${r + 1}/${ROUNDS}\n`);
  }
  server.kill();
  console.log('\n| message | TLS HTTP/1.1 (µs/msg) | h2 (µs/msg) | h2 ÷ h1 |');
  console.log('|---|---|---|---|');
  for (const size of SIZES) {
    const h1 = median(samples[size].h1);
    const h2 = median(samples[size].h2);
    const label = size >= 1024 ? `${size / 1024} KiB` : `${size} B`;
    console.log(`| ${label} | ${h1.toFixed(2)} | ${h2.toFixed(2)} | ${(h2 / h1).toFixed(2)}× |`);
  }
}
