'use strict';
// Helpers of the CLI tests: spawn `node bin/weft.js`, and a raw WebSocket peer on net that speaks the
// opening handshake by hand and reads the client's masked frames.

const { spawn } = require('child_process');
const crypto = require('crypto');
const net = require('net');
const path = require('path');

const BIN = path.join(__dirname, '..', '..', 'bin', 'weft.js');
const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

/** Every CLI process a test started, killed in afterEach if it is still running. */
const running = new Set();

/**
 * Starts the CLI with `args`. Returns `{ child, stdout(), stderr(), exited, waitFor(stream, re) }`:
 * `exited` resolves with `{ code, signal, stdout, stderr }`; `waitFor` resolves once the stream's text
 * matches `re` (with the match).
 */
function start(args, { input } = {}) {
  const child = spawn(process.execPath, [BIN, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  running.add(child);
  const out = { stdout: '', stderr: '' };
  const waiters = [];
  const check = () => {
    for (let i = waiters.length - 1; i >= 0; i--) {
      const m = waiters[i].re.exec(out[waiters[i].stream]);
      if (m) {
        waiters[i].resolve(m);
        waiters.splice(i, 1);
      }
    }
  };
  child.stdout.on('data', (d) => {
    out.stdout += d;
    check();
  });
  child.stderr.on('data', (d) => {
    out.stderr += d;
    check();
  });
  child.stdin.on('error', () => {});
  const exited = new Promise((resolve) => {
    child.on('close', (code, signal) => {
      running.delete(child);
      for (const w of waiters.splice(0)) {
        w.reject(new Error(`exited (${code}) before ${w.stream} matched ${w.re}: ${JSON.stringify(out)}`));
      }
      resolve({ code, signal, stdout: out.stdout, stderr: out.stderr });
    });
  });
  if (input !== undefined) child.stdin.end(input);
  return {
    child,
    exited,
    get stdout() {
      return out.stdout;
    },
    get stderr() {
      return out.stderr;
    },
    waitFor(stream, re) {
      return new Promise((resolve, reject) => {
        waiters.push({ stream, re, resolve, reject });
        check();
      });
    },
  };
}

/** Runs the CLI to its end: resolves with `{ code, signal, stdout, stderr }`. */
function run(args, options) {
  return start(args, options).exited;
}

/** Kills what a test left running. */
function killAll() {
  for (const child of running) child.kill('SIGKILL');
  running.clear();
}

/** A server frame (unmasked). */
function serverFrame(opcode, payload = Buffer.alloc(0)) {
  const data = Buffer.isBuffer(payload) ? payload : Buffer.from(payload);
  if (data.length > 125) throw new Error('serverFrame: short payloads only');
  return Buffer.concat([Buffer.from([0x80 | opcode, data.length]), data]);
}

/** Reads a client's frames, unmasking them: `{ fin, opcode, masked, payload }`. */
class ClientFrames {
  constructor() {
    this.buffer = Buffer.alloc(0);
    this.frames = [];
  }
  push(chunk) {
    this.buffer = Buffer.concat([this.buffer, chunk]);
    for (;;) {
      const b = this.buffer;
      if (b.length < 2) return;
      let len = b[1] & 0x7f;
      let offset = 2;
      if (len === 126) {
        if (b.length < 4) return;
        len = b.readUInt16BE(2);
        offset = 4;
      } else if (len === 127) {
        if (b.length < 10) return;
        len = Number(b.readBigUInt64BE(2));
        offset = 10;
      }
      const masked = (b[1] & 0x80) !== 0;
      const key = masked ? b.subarray(offset, offset + 4) : null;
      if (masked) offset += 4;
      if (b.length < offset + len) return;
      const payload = Buffer.from(b.subarray(offset, offset + len));
      if (key) for (let i = 0; i < payload.length; i++) payload[i] ^= key[i & 3];
      this.frames.push({ fin: (b[0] & 0x80) !== 0, opcode: b[0] & 0x0f, masked, payload });
      this.buffer = b.subarray(offset + len);
    }
  }
}

/**
 * A raw peer: a net server that answers the upgrade by hand, then calls `onFrame(frame, socket, frames)`
 * for each client frame. `onOpen(socket)` runs right after the 101. Resolves with `{ server, port, peers }`
 * where `peers` collects `{ socket, request, frames }` per connection.
 */
async function rawPeer({ onOpen = () => {}, onFrame = () => {}, respond = true } = {}) {
  const peers = [];
  const server = net.createServer((socket) => {
    const peer = { socket, request: '', frames: new ClientFrames() };
    peers.push(peer);
    socket.on('error', () => {});
    let head = Buffer.alloc(0);
    let upgraded = false;
    socket.on('data', (chunk) => {
      if (upgraded) {
        const before = peer.frames.frames.length;
        peer.frames.push(chunk);
        for (const f of peer.frames.frames.slice(before)) onFrame(f, socket, peer.frames.frames);
        return;
      }
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf('\r\n\r\n');
      if (end === -1) return;
      peer.request = head.subarray(0, end).toString('latin1');
      if (!respond) return;
      const key = /^sec-websocket-key:\s*(\S+)/im.exec(peer.request)[1];
      const accept = crypto.createHash('sha1').update(key + GUID).digest('base64');
      socket.write(
        'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
          `Sec-WebSocket-Accept: ${accept}\r\n\r\n`,
      );
      upgraded = true;
      onOpen(socket);
      const rest = head.subarray(end + 4);
      if (rest.length > 0) socket.emit('data', rest);
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: server.address().port, peers };
}

module.exports = { start, run, killAll, rawPeer, serverFrame };
