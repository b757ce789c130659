'use strict';

// Hostile traffic against one WebSocketServer on loopback: many connections at once sending mutated
// and fuzzed handshakes, protocol violations after valid frames, random bytes, all in random chunkings,
// and abrupt resets — while a well-behaved ws client keeps echoing. Seeded (WEFT_HOSTILE_SEED to
// replay), bounded in size. Invariants: the process stays up; every violation gets its RFC 6455 close
// code (and the matching WS_ERR_* on the server), every bad handshake its HTTP error; no connection
// is left behind.

const assert = require('assert');
const net = require('net');
const WS = require('ws');
const { WebSocketServer } = require('../../dist/lib/server');
const {
  Tracker,
  portOf,
  once,
  prng,
  upgradeRequest,
  statusOf,
  traceServer,
} = require('../support/server');
const { frame, closePayload, FrameReader } = require('../support/frames');

const SEED = Number(process.env.WEFT_HOSTILE_SEED || 0x5eed1e55);
const CONNECTIONS = Number(process.env.WEFT_HOSTILE_CONNECTIONS || 1200);
const CONCURRENCY = 48;
const MAX_PAYLOAD = 64 * 1024;

/** Close codes a client may send (RFC 6455 §7.4). */
function isValidStatusCode(code) {
  return (code >= 1000 && code <= 1014 && code !== 1004 && code !== 1005 && code !== 1006) || (code >= 3000 && code <= 4999);
}

/**
 * The protocol violations, each with the close code RFC 6455 gives it and ws's error code.
 * `make(rand)` returns the bytes of the offending frame(s).
 */
const VIOLATIONS = [
  ['unmasked frame', 1002, 'WS_ERR_EXPECTED_MASK', () => frame({ opcode: 1, payload: 'x', mask: false })],
  ['RSV1 without an extension', 1002, 'WS_ERR_UNEXPECTED_RSV_1', () => frame({ opcode: 2, payload: 'x', rsv: 4 })],
  ['RSV2', 1002, 'WS_ERR_UNEXPECTED_RSV_2_3', () => frame({ opcode: 1, payload: 'x', rsv: 2 })],
  ['RSV3', 1002, 'WS_ERR_UNEXPECTED_RSV_2_3', () => frame({ opcode: 9, rsv: 1 })],
  ['reserved opcode', 1002, 'WS_ERR_INVALID_OPCODE', (r) => frame({ opcode: r.pick([3, 4, 5, 6, 7, 11, 12, 13, 14, 15]) })],
  ['continuation without a start', 1002, 'WS_ERR_INVALID_OPCODE', () => frame({ opcode: 0, payload: 'x' })],
  [
    'new data frame inside a fragmented message',
    1002,
    'WS_ERR_INVALID_OPCODE',
    () => Buffer.concat([frame({ opcode: 2, payload: 'a', fin: false }), frame({ opcode: 1, payload: 'b' })]),
  ],
  ['fragmented control frame', 1002, 'WS_ERR_EXPECTED_FIN', () => frame({ opcode: 9, payload: 'p', fin: false })],
  [
    'control frame over 125 bytes',
    1002,
    'WS_ERR_INVALID_CONTROL_PAYLOAD_LENGTH',
    (r) => frame({ opcode: r.pick([8, 9, 10]), payload: Buffer.alloc(126 + r.int(200)) }),
  ],
  ['close frame of 1 byte', 1002, 'WS_ERR_INVALID_CONTROL_PAYLOAD_LENGTH', () => frame({ opcode: 8, payload: Buffer.from([3]) })],
  [
    'invalid close code',
    1002,
    'WS_ERR_INVALID_CLOSE_CODE',
    (r) => frame({ opcode: 8, payload: closePayload(r.pick([0, 999, 1004, 1005, 1006, 1015, 2000, 2999, 5000, 65535])) }),
  ],
  ['invalid UTF-8 text', 1007, 'WS_ERR_INVALID_UTF8', () => frame({ opcode: 1, payload: Buffer.from([0x61, 0xff, 0x62]) })],
  [
    'invalid UTF-8 across fragments',
    1007,
    'WS_ERR_INVALID_UTF8',
    () =>
      Buffer.concat([
        frame({ opcode: 1, payload: Buffer.from('ok \xe2', 'latin1'), fin: false }),
        frame({ opcode: 0, payload: Buffer.from([0x28, 0xa1]) }),
      ]),
  ],
  [
    'invalid UTF-8 close reason',
    1007,
    'WS_ERR_INVALID_UTF8',
    () => frame({ opcode: 8, payload: Buffer.concat([closePayload(1000), Buffer.from([0xc0, 0x80])]) }),
  ],
  [
    'message over maxPayload',
    1009,
    'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH',
    (r) => frame({ opcode: 2, length: MAX_PAYLOAD + 1 + r.int(1e6), payload: Buffer.alloc(r.int(64)) }),
  ],
  [
    'fragments over maxPayload',
    1009,
    'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH',
    () =>
      Buffer.concat([
        frame({ opcode: 2, payload: Buffer.alloc(MAX_PAYLOAD / 2), fin: false }),
        frame({ opcode: 0, payload: Buffer.alloc(MAX_PAYLOAD / 2 + 1) }),
      ]),
  ],
  [
    '64-bit length beyond 2^53 - 1',
    1009,
    'WS_ERR_UNSUPPORTED_DATA_PAYLOAD_LENGTH',
    () => {
      const f = frame({ opcode: 2, length: 2 ** 32, payload: Buffer.alloc(0) });
      f[2] = 0x80; // most significant byte of the 64-bit length
      return f;
    },
  ],
];

/** Handshake mutations with the status and body ws answers them with. */
const BAD_HANDSHAKES = [
  [() => upgradeRequest({ method: 'POST' }), 405, 'Invalid HTTP method'],
  [() => upgradeRequest({ headers: { Upgrade: 'websockets' } }), 400, 'Invalid Upgrade header'],
  [(r) => upgradeRequest({ headers: { 'Sec-WebSocket-Key': r.bytes(8).toString('hex') } }), 400, 'Missing or invalid Sec-WebSocket-Key header'],
  [(r) => upgradeRequest({ headers: { 'Sec-WebSocket-Version': r.pick(['0', '7', '9', '12', '14', '-13', 'x']) } }), 400, 'Missing or invalid Sec-WebSocket-Version header'],
  [() => upgradeRequest({ headers: { 'Sec-WebSocket-Protocol': 'a,,b' } }), 400, 'Invalid Sec-WebSocket-Protocol header'],
  [() => upgradeRequest({ path: '/not-here' }), 400, 'Bad Request'],
];

/** Statuses a fuzzed request may get: 101 if still valid, ws's rejections, Node's parser errors. */
const FUZZ_STATUSES = new Set([101, 400, 405, 408, 413, 426, 431, 505]);

describe('WebSocketServer under hostile traffic', function () {
  this.timeout(60000);
  const track = new Tracker();
  after(() => track.closeAll());

  it('each violation class gets its close code and error code, as in ws', async function () {
    const rand = prng(SEED);
    for (const [name, code, errCode, make] of VIOLATIONS) {
      const bytes = make(rand);
      const options = { maxPayload: MAX_PAYLOAD };
      const ours = await traceServer(WebSocketServer, options, [bytes], track);
      const theirs = await traceServer(WS.WebSocketServer, options, [bytes], track);
      assert.deepStrictEqual(ours.frames, [['close', code]], name);
      assert.strictEqual(ours.events[0][1], errCode, name);
      assert.deepStrictEqual(ours, theirs, name);
    }
  });

  it('stays up, answers every violation correctly, and keeps a good client echoing', async function () {
    const rand = prng(SEED);
    const wss = track.add(new WebSocketServer({ port: 0, host: '127.0.0.1', path: '/', maxPayload: MAX_PAYLOAD }));
    const port = await portOf(wss);

    // Server side: echo, and remember each connection's errors by the client's port.
    const serverErrors = new Map();
    wss.on('connection', (ws, req) => {
      const key = req.socket.remotePort;
      serverErrors.set(key, []);
      ws.on('error', (err) => serverErrors.get(key).push(err.code));
      ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
    });

    const good = await goodClient(port, rand);
    const stats = {};
    const count = (kind) => (stats[kind] = (stats[kind] || 0) + 1);

    let next = 0;
    async function worker() {
      while (next < CONNECTIONS) {
        const id = next++;
        const r = prng(SEED + id * 7919);
        const roll = r();
        try {
          if (roll < 0.35) await violation(r, count);
          else if (roll < 0.45) await cleanClose(r, count);
          else if (roll < 0.6) await badHandshake(r, count);
          else if (roll < 0.72) await fuzzedHandshake(r, count);
          else if (roll < 0.86) await randomFrames(r, count);
          else await reset(r, count);
        } catch (err) {
          err.message = `connection #${id} (seed ${SEED}): ${err.message}`;
          throw err;
        }
        // The well-behaved client is served all along.
        await good.roundTrip();
      }
    }

    /** Opens a raw connection, writes `bytes` in random chunks and collects all it receives. */
    function session(r, bytes, { endAfterHead = false, resetAfter = -1 } = {}) {
      return new Promise((resolve) => {
        const socket = track.add(net.connect(port, '127.0.0.1'));
        socket.setNoDelay(true);
        const received = [];
        let localPort;
        let sawHead = false;
        let written = false;
        const maybeEnd = () => {
          if (endAfterHead && sawHead && written && !socket.destroyed) socket.end();
        };
        socket.on('error', () => {});
        socket.on('data', (d) => {
          received.push(d);
          if (!sawHead && Buffer.concat(received).includes('\r\n\r\n')) {
            sawHead = true;
            maybeEnd();
          }
        });
        socket.on('close', () => resolve({ data: Buffer.concat(received), localPort }));
        socket.on('connect', async () => {
          localPort = socket.localPort;
          const chunks = split(r, bytes);
          for (let i = 0; i < chunks.length; i++) {
            if (i === resetAfter) return socket.resetAndDestroy();
            if (socket.destroyed || socket.writableEnded) break;
            socket.write(chunks[i]);
            await new Promise((res) => setImmediate(res));
          }
          if (resetAfter >= chunks.length) return socket.resetAndDestroy();
          written = true;
          if (!endAfterHead && !socket.destroyed && !socket.writableEnded) socket.end();
          maybeEnd();
        });
      });
    }

    /** Splits the 101 head from the frames that follow it. */
    function parseUpgrade(data) {
      const end = data.indexOf('\r\n\r\n');
      assert.notStrictEqual(end, -1, `no response head: ${JSON.stringify(data.toString('latin1'))}`);
      const head = data.subarray(0, end).toString('latin1');
      const reader = new FrameReader({ masked: false });
      reader.push(data.subarray(end + 4));
      return { head, frames: reader.frames, rest: reader.buffer };
    }

    /** Valid frames with what the server must answer to each (echo, or pong). */
    function validFrames(r) {
      const bytes = [];
      const expected = [];
      const n = r.int(5);
      let pings = 0;
      for (let i = 0; i < n; i++) {
        const kind = r.int(4);
        if (kind === 0) {
          const text = randomText(r);
          bytes.push(frame({ opcode: 1, payload: text }));
          expected.push([1, Buffer.from(text).toString('hex')]);
        } else if (kind === 1) {
          const data = r.bytes(r.pick([0, 1, 125, 126, 200, 65535, 65536, 70000].filter((n) => n <= MAX_PAYLOAD)));
          bytes.push(frame({ opcode: 2, payload: data }));
          expected.push([2, data.toString('hex')]);
        } else if (kind === 2 && pings < 4) {
          pings++;
          const data = r.bytes(r.int(126));
          bytes.push(frame({ opcode: 9, payload: data }));
          expected.push([10, data.toString('hex')]);
        } else {
          // A fragmented message, with a ping between fragments now and then (RFC 6455 §5.4).
          const opcode = r.pick([1, 2]);
          const parts = [];
          const pieces = 2 + r.int(3);
          const pongs = [];
          for (let p = 0; p < pieces; p++) {
            const piece = opcode === 1 ? Buffer.from(randomText(r)) : r.bytes(r.int(300));
            parts.push(piece);
            bytes.push(frame({ opcode: p === 0 ? opcode : 0, payload: piece, fin: p === pieces - 1 }));
            if (p < pieces - 1 && pings < 4 && r() < 0.3) {
              pings++;
              const data = r.bytes(r.int(20));
              bytes.push(frame({ opcode: 9, payload: data }));
              pongs.push([10, data.toString('hex')]);
            }
          }
          expected.push(...pongs, [opcode, Buffer.concat(parts).toString('hex')]);
        }
      }
      return { bytes, expected };
    }

    async function violation(r, countKind) {
      const [name, code, errCode, make] = r.pick(VIOLATIONS);
      countKind(`violation: ${name}`);
      const { bytes, expected } = validFrames(r);
      bytes.push(make(r));
      if (r() < 0.5) bytes.push(r.bytes(1 + r.int(200))); // trailing garbage: must be ignored
      const { data, localPort } = await session(r, Buffer.concat([Buffer.from(upgradeRequest()), ...bytes]));
      const { head, frames, rest } = parseUpgrade(data);
      assert.match(head, /^HTTP\/1\.1 101 /);
      assert.deepStrictEqual(
        frames.map((f) => (f.opcode === 8 ? ['close', f.payload.readUInt16BE(0)] : [f.opcode, f.payload.toString('hex')])),
        [...expected, ['close', code]],
        name,
      );
      assert.ok(frames.every((f) => !f.masked && f.fin && f.rsv === 0));
      assert.strictEqual(rest.length, 0, 'nothing after the close frame');
      assert.deepStrictEqual(serverErrors.get(localPort), [errCode], name);
    }

    async function cleanClose(r, countKind) {
      countKind('clean close');
      const { bytes, expected } = validFrames(r);
      const code = r.pick([1000, 1001, 1003, 1008, 1011, 3000, 4999]);
      const reason = randomText(r).slice(0, 30);
      bytes.push(frame({ opcode: 8, payload: closePayload(code, reason) }));
      const { data, localPort } = await session(r, Buffer.concat([Buffer.from(upgradeRequest()), ...bytes]));
      const { frames } = parseUpgrade(data);
      const close = frames[frames.length - 1];
      assert.deepStrictEqual(
        frames.slice(0, -1).map((f) => [f.opcode, f.payload.toString('hex')]),
        expected,
      );
      assert.strictEqual(close.opcode, 8);
      assert.strictEqual(close.payload.readUInt16BE(0), code, 'the close code is echoed');
      assert.deepStrictEqual(serverErrors.get(localPort), []);
    }

    async function badHandshake(r, countKind) {
      const [make, status, body] = r.pick(BAD_HANDSHAKES);
      countKind(`handshake ${status}`);
      const { data } = await session(r, Buffer.from(make(r)));
      const text = data.toString('latin1');
      assert.strictEqual(statusOf(text), status, JSON.stringify(text));
      assert.ok(text.endsWith(`\r\n\r\n${body}`), JSON.stringify(text));
    }

    async function fuzzedHandshake(r, countKind) {
      countKind('fuzzed handshake');
      let bytes = Buffer.from(upgradeRequest({ headers: { 'Sec-WebSocket-Protocol': 'chat' } }));
      const edits = 1 + r.int(6);
      for (let i = 0; i < edits; i++) {
        const at = r.int(bytes.length);
        const op = r.int(3);
        if (op === 0) bytes[at] = r.int(256);
        else if (op === 1) bytes = Buffer.concat([bytes.subarray(0, at), r.bytes(1 + r.int(8)), bytes.subarray(at)]);
        else bytes = Buffer.concat([bytes.subarray(0, at), bytes.subarray(at + 1 + r.int(8))]);
      }
      const { data } = await session(r, bytes);
      const text = data.toString('latin1');
      if (text.length === 0) return; // an incomplete request the server dropped on our FIN
      assert.ok(FUZZ_STATUSES.has(statusOf(text)), JSON.stringify(text));
    }

    async function randomFrames(r, countKind) {
      countKind('random bytes after the handshake');
      const garbage = r.bytes(1 + r.int(400));
      const { data } = await session(r, Buffer.concat([Buffer.from(upgradeRequest()), garbage]), { endAfterHead: true });
      const { head, frames } = parseUpgrade(data);
      assert.match(head, /^HTTP\/1\.1 101 /);
      assert.ok(frames.every((f) => !f.masked && f.rsv === 0), 'server frames are unmasked, RSV clear');
      const closeAt = frames.findIndex((f) => f.opcode === 8);
      if (closeAt !== -1) {
        assert.strictEqual(closeAt, frames.length - 1, 'nothing after the close frame');
        const payload = frames[closeAt].payload;
        if (payload.length > 0) {
          const code = payload.readUInt16BE(0);
          assert.ok([1002, 1007, 1008, 1009].includes(code) || isValidStatusCode(code), `close code ${code}`);
        }
      }
    }

    async function reset(r, countKind) {
      countKind('reset');
      const { bytes } = validFrames(r);
      const all = Buffer.concat([Buffer.from(upgradeRequest()), ...bytes]);
      await session(r, all, { resetAfter: r.int(4) });
    }

    await Promise.all(Array.from({ length: CONCURRENCY }, worker));

    // Every hostile connection is gone on the server too; only the good client remains.
    while (wss.clients.size > 1) await new Promise((res) => setTimeout(res, 10));
    assert.strictEqual(wss.clients.size, 1);
    assert.ok(good.completed >= CONNECTIONS, `good client round trips: ${good.completed}`);
    await good.roundTrip();
    good.stop();
    if (process.env.WEFT_HOSTILE_STATS) console.log(good.completed, stats);
    // Make sure the run covered what it claims to.
    const kinds = Object.keys(stats);
    assert.ok(kinds.filter((k) => k.startsWith('violation')).length >= 10, JSON.stringify(stats));
    for (const kind of ['clean close', 'fuzzed handshake', 'random bytes after the handshake', 'reset']) {
      assert.ok(stats[kind] > 0, `${kind} not exercised: ${JSON.stringify(stats)}`);
    }
  });

  /**
   * A ws client that echoes through the server in a loop; `roundTrip()` sends one more random
   * message and resolves when its echo is back (and equal).
   */
  async function goodClient(port, rand) {
    const client = track.add(new WS(`ws://127.0.0.1:${port}/`));
    await once(client, 'open');
    const waiting = [];
    const state = { completed: 0, stopped: false };
    client.on('message', (data, isBinary) => {
      const [sent, binary, resolve, reject] = waiting.shift();
      if (isBinary !== binary || !Buffer.from(sent).equals(Buffer.from(data))) reject(new Error('echo mismatch'));
      else {
        state.completed++;
        resolve();
      }
    });
    const closed = new Promise((_, reject) => client.on('close', (code) => state.stopped || reject(new Error(`good client closed: ${code}`))));
    closed.catch(() => {});
    function roundTrip() {
      const binary = rand() < 0.5;
      const data = binary ? rand.bytes(rand.int(2000)) : randomText(rand);
      return Promise.race([
        closed,
        new Promise((resolve, reject) => {
          waiting.push([data, binary, resolve, reject]);
          client.send(data, { binary });
        }),
      ]);
    }
    // Its own loop, on top of the round trips the workers ask for.
    (async () => {
      while (!state.stopped && client.readyState === WS.OPEN) await roundTrip().catch(() => {});
    })();
    return {
      roundTrip,
      get completed() {
        return state.completed;
      },
      stop() {
        state.stopped = true;
      },
    };
  }
});

/** Random valid UTF-8 text: ASCII, 2-, 3- and 4-byte characters. */
function randomText(r) {
  const pool = ['a', 'Z', ' ', '0', 'é', 'ß', '€', '中', '😀', '\u0000', '\u007f', '\uffff'];
  let s = '';
  const n = r.int(40);
  for (let i = 0; i < n; i++) s += r.pick(pool);
  return s;
}

/** Splits `bytes` into 1 to 8 random pieces (some of them one byte long). */
function split(r, bytes) {
  const cuts = new Set();
  const n = r.int(8);
  for (let i = 0; i < n; i++) cuts.add(1 + r.int(Math.max(1, bytes.length - 1)));
  const points = [...cuts].filter((c) => c < bytes.length).sort((a, b) => a - b);
  const chunks = [];
  let start = 0;
  for (const p of points) {
    chunks.push(bytes.subarray(start, p));
    start = p;
  }
  chunks.push(bytes.subarray(start));
  return chunks;
}
