'use strict';
// Helpers of the CLI tests: spawn `node bin/weft.js`, and a raw WebSocket peer on net that speaks the
// opening handshake by hand and reads the client's frames (support/frames.js).

const { spawn } = require('child_process');
const crypto = require('crypto');
const net = require('net');
const path = require('path');
const { FrameReader } = require('./frames');

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

/**
 * A raw peer: a net server that answers the upgrade by hand, then calls `onFrame(frame, socket, frames)`
 * for each client frame (a FrameReader's: payload unmasked, `masked` says how it came). `onOpen(socket)`
 * runs right after the 101. Resolves with `{ server, port, peers }` where `peers` collects
 * `{ socket, request, frames }` per connection (`frames` the connection's FrameReader).
 */
async function rawPeer({ onOpen = () => {}, onFrame = () => {}, respond = true } = {}) {
  const peers = [];
  const server = net.createServer((socket) => {
    const peer = { socket, request: '', frames: new FrameReader() };
    peers.push(peer);
    socket.on('error', () => {});
    let head = Buffer.alloc(0);
    let upgraded = false;
    socket.on('data', (chunk) => {
      if (upgraded) {
        for (const f of peer.frames.push(chunk)) onFrame(f, socket, peer.frames.frames);
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

module.exports = { start, run, killAll, rawPeer };
