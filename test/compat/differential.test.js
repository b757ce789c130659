'use strict';
// weft against ws, case by case, in both roles: a raw peer on a real socket sends the same bytes to a
// weft endpoint and to a ws 8.23 endpoint, and what each does in return must be the same — the messages
// it delivers or echoes, the pongs, the close frame it sends and its status, the error (code and message)
// and close event it reports, whether it drops the TCP connection. The cases follow RFC 6455's rules the
// way conformance suites group them: framing and lengths, pings and pongs, reserved bits, reserved
// opcodes, fragmentation, UTF-8 in text messages (whole and split at every byte), close codes and
// reasons, large messages, permessage-deflate (RFC 7692); and the opening handshake both ways (what the
// server answers to malformed or unusual upgrade requests, what the client makes of malformed or unusual
// responses). One deliberate difference, asserted as such:
// weft fails an invalid UTF-8 text message as soon as the bad byte arrives ("fail fast"), where ws
// waits for the message (or the frame) to end.
const assert = require('assert');
const crypto = require('crypto');
const net = require('net');
const zlib = require('zlib');
const ws = require('ws');
const weft = require('../..');
const { frame, closePayload, FrameReader } = require('../support/frames');
const { prng } = require('../support/prng');

const TEXT = 1;
const BINARY = 2;
const CONT = 0;
const CLOSE = 8;
const PING = 9;
const PONG = 10;
const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
/** The ping each case ends with: its pong says the endpoint is still open and has handled everything before it. */
const MARK = 'end-of-case';
/** Longest a case may take: past it the outcome says 'hung', and no endpoint should ever hang. */
const CASE_MS = 5000;

const hex = (s) => Buffer.from(s.replace(/ /g, ''), 'hex');
const digest = (b) => `${b.length}:${crypto.createHash('sha256').update(b).digest('hex').slice(0, 12)}`;
const wait = (ms) => ({ wait: ms });

/** A permessage-deflate payload (RFC 7692 §7.2.1: the sync flush's 00 00 ff ff taken off). */
function deflated(data) {
  const d = zlib.deflateRawSync(Buffer.from(data), { finishFlush: zlib.constants.Z_SYNC_FLUSH });
  return d.subarray(0, d.length - 4);
}

/**
 * Reassembles the data frames of one direction into messages (inflating compressed ones: the payloads
 * so far form one deflate stream, so each message is the new tail of inflating all of them), with the
 * control frames in between, as lines.
 */
class Transcript {
  constructor() {
    this.lines = [];
    this.parts = null;
    this.compressed = false;
    this.stream = [];
    this.inflatedSoFar = 0;
  }

  add(f) {
    if (f.opcode >= 8) {
      if (f.opcode === CLOSE) {
        const code = f.payload.length >= 2 ? f.payload.readUInt16BE(0) : 'none';
        this.lines.push(`close ${code}${f.payload.length > 2 ? ` ${JSON.stringify(f.payload.subarray(2).toString())}` : ''}`);
      } else this.lines.push(`${f.opcode === PING ? 'ping' : f.opcode === PONG ? 'pong' : `opcode ${f.opcode}`} ${digest(f.payload)}`);
      return;
    }
    if (f.opcode !== CONT) {
      this.parts = { type: f.opcode === TEXT ? 'text' : f.opcode === BINARY ? 'binary' : `opcode ${f.opcode}`, chunks: [] };
      this.compressed = (f.rsv & 4) !== 0;
    }
    if (this.parts === null) return this.lines.push('continuation without a message');
    this.parts.chunks.push(f.payload);
    if (!f.fin) return undefined;
    let data = Buffer.concat(this.parts.chunks);
    if (this.compressed) {
      this.stream.push(data, Buffer.from([0, 0, 0xff, 0xff]));
      const all = zlib.inflateRawSync(Buffer.concat(this.stream), { finishFlush: zlib.constants.Z_SYNC_FLUSH });
      data = all.subarray(this.inflatedSoFar);
      this.inflatedSoFar = all.length;
    }
    this.lines.push(`${this.parts.type} ${digest(data)}`);
    this.parts = null;
    return undefined;
  }
}

// ---- server role: a raw client against an echo server ------------------------------------------------

/** Runs `steps` (frames to write, or { wait: ms }) from a raw client; resolves with what came back. */
function asClient(port, { steps, offer }) {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    const reader = new FrameReader();
    const t = new Transcript();
    const out = [];
    let head = Buffer.alloc(0);
    let upgraded = false;
    let finished = false;
    const finish = (how) => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      socket.destroy();
      resolve([...out, ...t.lines, how]);
    };
    const timer = setTimeout(() => finish('hung'), CASE_MS);
    socket.on('error', () => {});
    socket.on('close', () => finish('connection closed'));
    socket.on('connect', () => {
      const key = crypto.randomBytes(16).toString('base64');
      socket.write(
        `GET / HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\n` +
          `Sec-WebSocket-Version: 13\r\n${offer ? `Sec-WebSocket-Extensions: ${offer}\r\n` : ''}\r\n`,
      );
    });
    const onFrames = (frames) => {
      for (const f of frames) {
        if (f.masked) t.lines.push('a masked frame');
        if (f.opcode === PONG && f.payload.toString() === MARK) return finish('open');
        t.add(f);
      }
      return undefined;
    };
    socket.on('data', async (chunk) => {
      if (upgraded) return onFrames(reader.push(chunk));
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) return undefined;
      upgraded = true;
      const response = head.subarray(0, end).toString('latin1');
      const ext = /\r\nsec-websocket-extensions: *([^\r]*)/i.exec(response);
      out.push(response.split('\r\n')[0] + (ext ? `, extensions: ${ext[1]}` : ''));
      onFrames(reader.push(head.subarray(end + 4)));
      for (const step of [...steps, frame({ opcode: PING, payload: MARK })]) {
        if (finished) return undefined;
        if (Buffer.isBuffer(step)) socket.write(step);
        else {
          await new Promise((r) => setTimeout(r, step.wait));
          out.push(`after ${step.wait} ms: [${t.lines.join(', ')}]`);
        }
      }
      return undefined;
    });
  });
}

/** An echo server as ws's README writes one, on `lib`. */
async function echoServer(lib, perMessageDeflate) {
  const wss = new lib.WebSocketServer({ port: 0, host: '127.0.0.1', perMessageDeflate });
  wss.on('connection', (socket) => {
    socket.on('error', () => {});
    socket.on('message', (data, isBinary) => socket.send(data, { binary: isBinary }));
  });
  await new Promise((resolve) => wss.on('listening', resolve));
  return wss;
}

async function closeServer(wss) {
  for (const client of wss.clients) client.terminate();
  await new Promise((resolve) => wss.close(resolve));
}

const masked = (opcode, payload, extra) => frame({ opcode, payload, ...extra });
const closeFrame = (code, reason) => masked(CLOSE, closePayload(code, reason));

/** Every byte of `bytes` in its own frame: a text message split at each byte. */
const perByte = (bytes) => [...bytes].map((b, i) => masked(i === 0 ? TEXT : CONT, Buffer.from([b]), { fin: i === bytes.length - 1 }));

const UTF8 = {
  'valid: κόσμε': 'cebae1bdb9cf83cebcceb5',
  'valid: U+10FFFF, the last code point': 'f48fbfbf',
  'valid: U+FFFE and U+FFFF (noncharacters are valid)': 'efbfbeefbfbf',
  'valid: NUL': '00',
  'valid: a BOM': 'efbbbf',
  'invalid: a surrogate (U+D800)': 'eda080',
  'invalid: a surrogate pair written as two code points': 'eda0bdedb2a9',
  'invalid: overlong "/" in two bytes': 'c0af',
  'invalid: overlong "/" in three bytes': 'e080af',
  'invalid: overlong "/" in four bytes': 'f08080af',
  'invalid: past U+10FFFF': 'f4908080',
  'invalid: 0xF5': 'f5',
  'invalid: 0xFE 0xFF': 'feff',
  'invalid: a lone continuation byte': '80',
  'invalid: a truncated three-byte sequence': 'e282',
  'invalid: κόσμε then a surrogate then text': 'cebae1bdb9cf83cebcceb5eda080656469746564',
};

const data = prng(0x5eed);
const MIB = data.bytes(1 << 20);

const serverCases = {
  'text of 0 bytes': [masked(TEXT, '')],
  'text of 125 bytes (7-bit length)': [masked(TEXT, 'x'.repeat(125))],
  'text of 126 bytes (16-bit length)': [masked(TEXT, 'x'.repeat(126))],
  'text of 65535 bytes': [masked(TEXT, 'x'.repeat(65535))],
  'binary of 65536 bytes (64-bit length)': [masked(BINARY, data.bytes(65536))],
  'binary of 1 MiB': [masked(BINARY, MIB)],
  'a 16-bit length used for 2 bytes (not minimal, still valid)': [Buffer.concat([Buffer.from([0x81, 0xfe, 0, 2, 0, 0, 0, 0]), Buffer.from('hi')])],
  'a frame written one byte at a time': [...masked(TEXT, 'hello')].map((b) => Buffer.from([b])),
  'an unmasked client frame': [frame({ opcode: TEXT, payload: 'hi', mask: false })],
  'a 64-bit length with its top bit set': [Buffer.concat([Buffer.from([0x82, 0xff, 0x80, 0, 0, 0, 0, 0, 0, 1]), Buffer.alloc(4)])],
  'ping, empty': [masked(PING, '')],
  'ping of 125 bytes': [masked(PING, Buffer.alloc(125, 0xfe))],
  'ping of 126 bytes': [masked(PING, Buffer.alloc(126, 1))],
  'a fragmented ping': [masked(PING, 'ab', { fin: false }), masked(CONT, 'cd')],
  'an unsolicited pong, then text': [masked(PONG, 'x'), masked(TEXT, 'after')],
  'ten pings in a row': Array.from({ length: 10 }, (_, i) => masked(PING, `ping ${i}`)),
  'text, then RSV2 set on the next': [masked(TEXT, 'ok'), masked(TEXT, 'bad', { rsv: 2 }), masked(PING, '')],
  'RSV1 on a ping': [masked(PING, '', { rsv: 4 })],
  'text in two fragments': [masked(TEXT, 'ab', { fin: false }), masked(CONT, 'cd')],
  'a ping between two fragments': [masked(TEXT, 'ab', { fin: false }), masked(PING, 'p'), masked(CONT, 'cd')],
  'a continuation with no message started': [masked(CONT, 'ab')],
  'a new text message inside a fragmented one': [masked(TEXT, 'ab', { fin: false }), masked(TEXT, 'cd')],
  'a fragmented close': [masked(CLOSE, closePayload(1000), { fin: false })],
  'a message of a thousand one-byte fragments': [
    masked(TEXT, 'a', { fin: false }),
    ...Array.from({ length: 998 }, () => masked(CONT, 'b', { fin: false })),
    masked(CONT, 'c'),
  ],
  'a message of empty fragments': [masked(TEXT, '', { fin: false }), masked(CONT, '', { fin: false }), masked(CONT, '')],
  'a text message of 4 MiB in 64 KiB fragments': Array.from({ length: 64 }, (_, i) =>
    masked(i === 0 ? TEXT : CONT, Buffer.alloc(65536, 0x61), { fin: i === 63 }),
  ),
  'a three-byte character split between fragments': [masked(TEXT, hex('e282'), { fin: false }), masked(CONT, hex('ac'))],
  'close, empty': [masked(CLOSE, '')],
  'close, then text': [closeFrame(1000), masked(TEXT, 'late')],
  'close with a 1-byte payload': [masked(CLOSE, Buffer.from([3]))],
  'close with a 123-byte reason': [closeFrame(1000, 'r'.repeat(123))],
  'close with a 124-byte reason': [closeFrame(1000, 'r'.repeat(124))],
  'close with an invalid UTF-8 reason': [masked(CLOSE, Buffer.concat([closePayload(1000), hex(UTF8['invalid: a surrogate (U+D800)'])]))],
  'ping, close, ping': [masked(PING, 'x'), closeFrame(1000), masked(PING, 'y')],
};
for (const op of [3, 4, 5, 6, 7, 11, 12, 13, 14, 15]) serverCases[`reserved opcode ${op}`] = [masked(TEXT, 'a'), masked(op, 'x'), masked(PING, '')];
for (const rsv of [1, 2, 3, 4, 5, 6, 7]) serverCases[`RSV bits ${rsv.toString(2).padStart(3, '0')} on text`] = [masked(TEXT, 'hi', { rsv })];
for (const [name, bytes] of Object.entries(UTF8)) {
  serverCases[`UTF-8 ${name}`] = [masked(TEXT, hex(bytes))];
  serverCases[`UTF-8 ${name}, a fragment per byte`] = perByte(hex(bytes));
}
for (const code of [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 3999, 4000, 4999]) {
  serverCases[`close code ${code} (valid)`] = [closeFrame(code)];
}
for (const code of [0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535]) {
  serverCases[`close code ${code} (invalid)`] = [closeFrame(code)];
}

const deflateCases = {
  'a compressed text message': { offer: 'permessage-deflate', steps: [masked(TEXT, deflated('hello hello hello'), { rsv: 4 })] },
  'a compressed message in two fragments': {
    offer: 'permessage-deflate',
    steps: [masked(TEXT, deflated('x'.repeat(1000)).subarray(0, 5), { fin: false, rsv: 4 }), masked(CONT, deflated('x'.repeat(1000)).subarray(5))],
  },
  'RSV1 on a continuation': {
    offer: 'permessage-deflate',
    steps: [masked(TEXT, deflated('x'.repeat(100)), { fin: false, rsv: 4 }), masked(CONT, deflated('y'), { rsv: 4 })],
  },
  'RSV1 on a ping': { offer: 'permessage-deflate', steps: [masked(PING, 'x', { rsv: 4 })] },
  'a compressed payload that is not deflate': { offer: 'permessage-deflate', steps: [masked(TEXT, Buffer.from([0xff, 0xff, 0xff, 0xff]), { rsv: 4 })] },
  'compressed invalid UTF-8': { offer: 'permessage-deflate', steps: [masked(TEXT, deflated(hex('cebae1bdb9cf83cebcceb5eda080')), { rsv: 4 })] },
  'offer: server_max_window_bits=8': { offer: 'permessage-deflate; server_max_window_bits=8', steps: [masked(TEXT, deflated('abc'), { rsv: 4 })] },
  'offer: client_max_window_bits with no value': { offer: 'permessage-deflate; client_max_window_bits', steps: [masked(TEXT, deflated('abc'), { rsv: 4 })] },
  'offer: both no_context_takeover': {
    offer: 'permessage-deflate; client_no_context_takeover; server_no_context_takeover',
    steps: [masked(TEXT, deflated('abc'), { rsv: 4 }), masked(TEXT, deflated('abc'), { rsv: 4 })],
  },
  'offer: an invalid one first, then a valid one': { offer: 'permessage-deflate; server_max_window_bits=7, permessage-deflate', steps: [] },
  'offer: an unknown extension': { offer: 'x-unknown; a=1', steps: [masked(TEXT, 'plain')] },
  'RSV1 with no extension negotiated': { offer: null, steps: [masked(TEXT, deflated('abc'), { rsv: 4 })] },
};

/** Cases where weft closes on invalid UTF-8 before the message ends, and ws only after. */
const failFast = {
  'fail fast: invalid UTF-8 in the first fragment': [masked(TEXT, hex(UTF8['invalid: κόσμε then a surrogate then text']), { fin: false }), wait(300), masked(CONT, 'x')],
  'fail fast: invalid UTF-8 at the start of a frame still arriving': [
    masked(TEXT, Buffer.concat([hex(UTF8['invalid: κόσμε then a surrogate then text']), Buffer.alloc(10000, 0x41)])).subarray(0, 40),
    wait(300),
  ],
};

describe('weft against ws, byte for byte (both roles, real sockets)', function () {
  this.timeout(60000);

  describe('server role: a raw client sends, the echo server answers', () => {
    const servers = {};
    before(async () => {
      servers.weft = await echoServer(weft, false);
      servers.ws = await echoServer(ws, false);
      servers.weftDeflate = await echoServer(weft, { threshold: 0 });
      servers.wsDeflate = await echoServer(ws, { threshold: 0 });
    });
    after(async () => {
      for (const s of Object.values(servers)) await closeServer(s);
    });

    for (const [name, steps] of Object.entries(serverCases)) {
      it(name, async () => {
        const a = await asClient(servers.weft.address().port, { steps });
        const b = await asClient(servers.ws.address().port, { steps });
        assert.deepStrictEqual(a, b);
        assert.notStrictEqual(a[a.length - 1], 'hung');
      });
    }

    for (const [name, c] of Object.entries(deflateCases)) {
      it(`permessage-deflate: ${name}`, async () => {
        const a = await asClient(servers.weftDeflate.address().port, c);
        const b = await asClient(servers.wsDeflate.address().port, c);
        assert.deepStrictEqual(a, b);
        assert.notStrictEqual(a[a.length - 1], 'hung');
      });
    }

    for (const [name, steps] of Object.entries(failFast)) {
      it(name, async () => {
        const a = await asClient(servers.weft.address().port, { steps });
        const b = await asClient(servers.ws.address().port, { steps });
        // weft: the 1007 is out before the wait is over; ws: nothing yet.
        assert.deepStrictEqual(a, ['HTTP/1.1 101 Switching Protocols', 'close 1007', 'connection closed']);
        assert.strictEqual(b[1], 'after 300 ms: []');
        // Where ws got to the end of the message, it closed the same way.
        if (b.length > 3) assert.deepStrictEqual(b.slice(2), ['close 1007', 'connection closed']);
      });
    }
  });

  describe('client role: a raw server sends, the client reports', () => {
    /**
     * A raw server that answers the upgrade (with `extensions` when given) and writes `steps` (frames, {
     * wait }, or 'end' for a FIN), then the closing ping; resolves with what the client reported and
     * what it sent.
     */
    function asServer(lib, { steps, extensions }) {
      return new Promise((resolve) => {
        const reader = new FrameReader();
        const sent = new Transcript();
        const events = [];
        let finished = false;
        let client = null;
        const server = net.createServer((socket) => {
          let head = Buffer.alloc(0);
          let upgraded = false;
          socket.on('error', () => {});
          socket.on('close', () => events.push('connection closed'));
          socket.on('data', async (chunk) => {
            if (upgraded) {
              for (const f of reader.push(chunk)) {
                if (!f.masked) sent.lines.push('an unmasked frame');
                if (f.opcode === PONG && f.payload.toString() === MARK) return finish('open');
                sent.add(f);
              }
              return undefined;
            }
            head = Buffer.concat([head, chunk]);
            const end = head.indexOf('\r\n\r\n');
            if (end < 0) return undefined;
            upgraded = true;
            const key = /\r\nsec-websocket-key: *([^\r]*)/i.exec(head.subarray(0, end).toString('latin1'))[1];
            const accept = crypto.createHash('sha1').update(key + GUID).digest('base64');
            socket.write(
              `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n` +
                `${extensions ? `Sec-WebSocket-Extensions: ${extensions}\r\n` : ''}\r\n`,
            );
            for (const step of [...steps, frame({ opcode: PING, payload: MARK, mask: false })]) {
              if (finished || socket.destroyed) return undefined;
              if (step === 'end') socket.end();
              else if (Buffer.isBuffer(step)) socket.write(step);
              else {
                await new Promise((r) => setTimeout(r, step.wait));
                events.push(`after ${step.wait} ms`);
              }
            }
            return undefined;
          });
        });
        const finish = (how) => {
          if (finished) return;
          finished = true;
          clearTimeout(timer);
          // The close event comes a turn after the connection closes: let it in.
          setTimeout(() => {
            resolve({ events: [...events], sent: [...sent.lines], how });
            client.terminate();
            server.close();
          }, 20);
        };
        const timer = setTimeout(() => finish('hung'), CASE_MS);
        server.listen(0, '127.0.0.1', () => {
          client = new lib.WebSocket(`ws://127.0.0.1:${server.address().port}`, { perMessageDeflate: extensions !== undefined });
          client.on('message', (msg, isBinary) => events.push(`message ${isBinary ? 'binary' : 'text'} ${digest(msg)}`));
          client.on('ping', (payload) => payload.toString() !== MARK && events.push(`ping ${digest(payload)}`));
          client.on('pong', (payload) => events.push(`pong ${digest(payload)}`));
          client.on('error', (err) => events.push(`error ${err.code}: ${err.message}`));
          client.on('close', (code, reason) => {
            events.push(`close ${code} ${JSON.stringify(reason.toString())}`);
            finish('closed');
          });
        });
      });
    }

    const unmasked = (opcode, payload, extra) => frame({ opcode, payload, mask: false, ...extra });
    const serverClose = (code, reason) => unmasked(CLOSE, closePayload(code, reason));
    const clientCases = {
      'text of 125 bytes': [unmasked(TEXT, 'x'.repeat(125))],
      'binary of 65536 bytes': [unmasked(BINARY, data.bytes(65536))],
      'binary of 1 MiB': [unmasked(BINARY, MIB)],
      'ping of 125 bytes': [unmasked(PING, Buffer.alloc(125, 3))],
      'ping of 126 bytes': [unmasked(PING, Buffer.alloc(126, 3))],
      'a fragmented ping': [unmasked(PING, 'a', { fin: false })],
      'an unsolicited pong, then text': [unmasked(PONG, 'x'), unmasked(TEXT, 'y')],
      'RSV2 set': [unmasked(TEXT, 'x', { rsv: 2 })],
      'RSV1 with no extension negotiated': [unmasked(TEXT, 'x', { rsv: 4 })],
      'reserved opcode 3': [unmasked(3, 'x')],
      'reserved opcode 11': [unmasked(11, 'x')],
      'a ping between two fragments': [unmasked(TEXT, 'ab', { fin: false }), unmasked(PING, 'p'), unmasked(CONT, 'cd')],
      'a continuation with no message started': [unmasked(CONT, 'x')],
      'a new text message inside a fragmented one': [unmasked(TEXT, 'a', { fin: false }), unmasked(TEXT, 'b')],
      'a masked server frame': [frame({ opcode: TEXT, payload: 'x', mask: true })],
      'invalid UTF-8': [unmasked(TEXT, hex(UTF8['invalid: κόσμε then a surrogate then text']))],
      'a three-byte character split between fragments': [unmasked(TEXT, hex('e282'), { fin: false }), unmasked(CONT, hex('ac'))],
      'close, empty': [unmasked(CLOSE, '')],
      'close 1000 with a reason': [serverClose(1000, 'bye')],
      'close with a 1-byte payload': [unmasked(CLOSE, Buffer.from([3]))],
      'close with a 124-byte reason': [serverClose(1000, 'r'.repeat(124))],
      'close with an invalid UTF-8 reason': [unmasked(CLOSE, Buffer.concat([closePayload(1000), hex('eda080')]))],
      'close, then text': [serverClose(1000), unmasked(TEXT, 'late')],
      'a 64-bit length with its top bit set': [Buffer.from([0x82, 0x7f, 0x80, 0, 0, 0, 0, 0, 0, 1])],
      'the connection ended with no close frame': ['end'],
    };
    for (const code of [1000, 1001, 1012, 1014, 3000, 4999]) clientCases[`close code ${code} (valid)`] = [serverClose(code)];
    for (const code of [0, 1005, 1006, 1015, 1016, 2999, 5000]) clientCases[`close code ${code} (invalid)`] = [serverClose(code)];
    const clientDeflate = {
      'a compressed text message': [unmasked(TEXT, deflated('hello hello hello'), { rsv: 4 })],
      'RSV1 on a continuation': [unmasked(TEXT, deflated('x'.repeat(100)), { fin: false, rsv: 4 }), unmasked(CONT, deflated('y'), { rsv: 4 })],
      'a compressed payload that is not deflate': [unmasked(TEXT, Buffer.from([0xff, 0xff, 0xff]), { rsv: 4 })],
      'RSV1 on a ping': [unmasked(PING, 'x', { rsv: 4 })],
    };

    for (const [name, steps] of Object.entries(clientCases)) {
      it(name, async () => {
        const a = await asServer(weft, { steps });
        const b = await asServer(ws, { steps });
        assert.deepStrictEqual(a, b);
        assert.notStrictEqual(a.how, 'hung');
      });
    }
    for (const [name, steps] of Object.entries(clientDeflate)) {
      it(`permessage-deflate: ${name}`, async () => {
        const a = await asServer(weft, { steps, extensions: 'permessage-deflate' });
        const b = await asServer(ws, { steps, extensions: 'permessage-deflate' });
        assert.deepStrictEqual(a, b);
        assert.notStrictEqual(a.how, 'hung');
      });
    }

    it('fail fast: invalid UTF-8 in the first fragment', async () => {
      const steps = [unmasked(TEXT, hex('eda080'), { fin: false }), wait(300), unmasked(CONT, 'x')];
      const a = await asServer(weft, { steps });
      const b = await asServer(ws, { steps });
      const error = 'error WS_ERR_INVALID_UTF8: Invalid WebSocket frame: invalid UTF-8 sequence';
      // weft reports and closes at once; ws after the message's last fragment. Both send 1007.
      assert.strictEqual(a.events[0], error);
      assert.strictEqual(b.events[0], 'after 300 ms');
      assert.strictEqual(b.events[1], error);
      assert.deepStrictEqual(a.sent, ['close 1007']);
      assert.deepStrictEqual(b.sent, ['close 1007']);
    });
  });
});

describe('weft against ws: the opening handshake (both roles, real sockets)', function () {
  this.timeout(60000);
  const KEY = 'dGhlIHNhbXBsZSBub25jZQ==';
  /** An upgrade request: the usual headers, each replaced by `over[name]` (null: left out). */
  const upgrade = (requestLine, over = {}, extra = '') => {
    const h = { Host: 'localhost', Upgrade: 'websocket', Connection: 'Upgrade', 'Sec-WebSocket-Key': KEY, 'Sec-WebSocket-Version': '13', ...over };
    const lines = Object.entries(h)
      .filter(([, v]) => v !== null)
      .map(([k, v]) => `${k}: ${v}\r\n`);
    return `${requestLine}\r\n${lines.join('')}${extra}\r\n`;
  };
  const GET = 'GET / HTTP/1.1';
  const requests = {
    'a valid upgrade': upgrade(GET),
    'POST': upgrade('POST / HTTP/1.1'),
    'HTTP/1.0': upgrade('GET / HTTP/1.0'),
    'no Upgrade header': upgrade(GET, { Upgrade: null }),
    'Upgrade: foo': upgrade(GET, { Upgrade: 'foo' }),
    'Upgrade: WebSocket (case)': upgrade(GET, { Upgrade: 'WebSocket' }),
    'no Connection header': upgrade(GET, { Connection: null }),
    'Connection: keep-alive, Upgrade': upgrade(GET, { Connection: 'keep-alive, Upgrade' }),
    'no key': upgrade(GET, { 'Sec-WebSocket-Key': null }),
    'a short key': upgrade(GET, { 'Sec-WebSocket-Key': 'abc' }),
    'a key with a character outside base64': upgrade(GET, { 'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ!=' }),
    'no version': upgrade(GET, { 'Sec-WebSocket-Version': null }),
    'version 8': upgrade(GET, { 'Sec-WebSocket-Version': '8' }),
    'version 14': upgrade(GET, { 'Sec-WebSocket-Version': '14' }),
    'subprotocols chat, superchat': upgrade(GET, { 'Sec-WebSocket-Protocol': 'chat, superchat' }),
    'a subprotocol twice': upgrade(GET, { 'Sec-WebSocket-Protocol': 'chat, chat' }),
    'a subprotocol that is not a token': upgrade(GET, { 'Sec-WebSocket-Protocol': 'ch at' }),
    'an empty subprotocol header': upgrade(GET, { 'Sec-WebSocket-Protocol': '' }),
    'an extension header that does not parse': upgrade(GET, { 'Sec-WebSocket-Extensions': 'permessage-deflate; =x' }),
    'permessage-deflate with an unknown parameter': upgrade(GET, { 'Sec-WebSocket-Extensions': 'permessage-deflate; foo=1' }),
    'permessage-deflate with a parameter twice': upgrade(GET, { 'Sec-WebSocket-Extensions': 'permessage-deflate; server_no_context_takeover; server_no_context_takeover' }),
    'permessage-deflate; client_max_window_bits': upgrade(GET, { 'Sec-WebSocket-Extensions': 'permessage-deflate; client_max_window_bits' }),
    'another path': upgrade('GET /other HTTP/1.1'),
    'a plain GET': 'GET / HTTP/1.1\r\nHost: x\r\n\r\n',
    'not HTTP': 'HELLO\r\n\r\n',
    'a 20 kB header': upgrade(GET, {}, `X-Big: ${'a'.repeat(20000)}\r\n`),
    'a frame right behind the request': upgrade(GET) + '\x81\x82abcd\x29\x03',
    // What the strict reader of `accept: 'handle'` leaves to Node's parser (transport/accept.ts): each
    // must still be answered as ws answers it.
    'a header sent twice': upgrade(GET, {}, 'X-Twice: 1\r\nx-twice: 2\r\nHost: again\r\n'),
    'bare LF line ends': upgrade(GET).replace(/\r\n/g, '\n'),
    'a folded header line': upgrade(GET, {}, 'X-Folded: a\r\n b\r\n'),
    'a tab in a header value': upgrade(GET, { 'Sec-WebSocket-Protocol': 'chat,\tsuperchat' }),
    'a space before the colon': upgrade(GET, {}, 'X-Odd : 1\r\n'),
    'trailing space in a value': upgrade(GET, { Upgrade: 'websocket ' }),
    'a value with a byte above 0x7f': upgrade(GET, {}, 'X-Latin: caf\xe9\r\n'),
    'lower-case get': upgrade('get / HTTP/1.1'),
    'an absolute-form target': upgrade('GET http://localhost/ HTTP/1.1'),
    'no Host': upgrade(GET, { Host: null }),
    'Content-Length: 0': upgrade(GET, { 'Content-Length': '0' }),
    'Transfer-Encoding: chunked': upgrade(GET, { 'Transfer-Encoding': 'chunked' }),
    'an empty header value': upgrade(GET, {}, 'X-Empty:\r\n'),
    'a header name with a non-token byte': upgrade(GET, {}, 'X(Bad): 1\r\n'),
  };
  const invalid = ['POST', 'Upgrade: foo', 'no key', 'a short key', 'no version', 'version 14', 'a subprotocol twice', 'not HTTP', 'a 20 kB header'];
  const extensions = Object.keys(requests).filter((name) => /permessage|extension/.test(name));
  /** Server options, each with the requests that tell something about them (every request for the defaults). */
  const configurations = {
    'defaults': { options: {}, names: Object.keys(requests) },
    'perMessageDeflate': { options: { perMessageDeflate: true }, names: ['a valid upgrade', ...extensions] },
    'handleProtocols': {
      options: { handleProtocols: (set) => (set.has('superchat') ? 'superchat' : false) },
      names: ['a valid upgrade', 'subprotocols chat, superchat', 'a subprotocol twice'],
    },
    'path /ws': { options: { path: '/ws' }, names: ['a valid upgrade', 'another path'] },
    'verifyClient refusing with 403': { options: { verifyClient: (info, cb) => cb(false, 403, 'Nope', { 'X-Why': 'because' }) }, names: ['a valid upgrade', 'no key'] },
    "a 'wsClientError' listener": { options: {}, listener: true, names: ['a valid upgrade', ...invalid] },
  };

  /** What a raw client gets back for `request` (the Date header taken out), and whether the connection stayed open. */
  function exchange(port, request) {
    return new Promise((resolve) => {
      const socket = net.connect(port, '127.0.0.1');
      let got = '';
      const done = (how) => {
        clearTimeout(timer);
        socket.destroy();
        resolve(`${got.replace(/\r\nDate: [^\r]*/i, '')} | ${how}`);
      };
      // A response that keeps the connection open (426 with keep-alive, a 101) is complete well within this.
      const timer = setTimeout(() => done('open'), 200);
      socket.on('connect', () => socket.write(request, 'latin1'));
      socket.on('data', (d) => (got += d.toString('latin1')));
      socket.on('error', () => {});
      socket.on('close', () => done('connection closed'));
    });
  }

  for (const [config, { options, listener, names }] of Object.entries(configurations)) {
    describe(`server role, ${config}`, () => {
      const servers = {};
      const clientErrors = { weft: [], ws: [], 'weft-handle': [] };
      before(async () => {
        for (const [name, lib, own] of [['weft', weft, { accept: 'server' }], ['ws', ws, {}], ['weft-handle', weft, { accept: 'handle' }]]) {
          const wss = new lib.WebSocketServer({ port: 0, host: '127.0.0.1', ...own, ...options });
          wss.on('connection', (socket) => socket.on('error', () => {}));
          if (listener) {
            wss.on('wsClientError', (err, socket) => {
              clientErrors[name].push(`${err.code} ${err.message}`);
              socket.end('HTTP/1.1 400 Bad Request\r\nX-Handled-By: listener\r\n\r\n');
            });
          }
          await new Promise((resolve) => wss.on('listening', resolve));
          servers[name] = wss;
        }
      });
      after(async () => {
        for (const wss of Object.values(servers)) await closeServer(wss);
      });
      for (const name of names) {
        it(name, async () => {
          const a = await exchange(servers.weft.address().port, requests[name]);
          const b = await exchange(servers.ws.address().port, requests[name]);
          // weft accepting on the listening handle answers as ws does too.
          const c = await exchange(servers['weft-handle'].address().port, requests[name]);
          assert.strictEqual(a, b);
          assert.strictEqual(c, b, "accept: 'handle'");
          assert.deepStrictEqual(clientErrors.weft, clientErrors.ws);
          assert.deepStrictEqual(clientErrors['weft-handle'], clientErrors.ws, "accept: 'handle'");
        });
      }
    });
  }

  describe('client role: what the client makes of the response', () => {
    const accept = (key) => crypto.createHash('sha1').update(key + GUID).digest('base64');
    const ok = (key, extra = '') => `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept(key)}\r\n${extra}\r\n`;
    const responses = {
      'a valid 101': { respond: (k) => ok(k) },
      'a wrong Sec-WebSocket-Accept': { respond: () => 'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: xxx\r\n\r\n' },
      'no Sec-WebSocket-Accept': { respond: () => 'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n' },
      '200 OK': { respond: () => 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi' },
      '401 with a body': { respond: () => 'HTTP/1.1 401 Unauthorized\r\nContent-Length: 4\r\n\r\nnope' },
      '401, with an unexpected-response listener': { respond: () => 'HTTP/1.1 401 Unauthorized\r\nContent-Length: 4\r\n\r\nnope', unexpected: true },
      '302 (redirects not followed)': { respond: () => 'HTTP/1.1 302 Found\r\nLocation: /x\r\nContent-Length: 0\r\n\r\n' },
      '101 with no Upgrade header': { respond: (k) => `HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept(k)}\r\n\r\n` },
      '101 with Upgrade: foo': { respond: (k) => `HTTP/1.1 101 Switching Protocols\r\nUpgrade: foo\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept(k)}\r\n\r\n` },
      'a subprotocol that was not asked for': { respond: (k) => ok(k, 'Sec-WebSocket-Protocol: chat\r\n') },
      'an extension that was not offered': { respond: (k) => ok(k, 'Sec-WebSocket-Extensions: x-foo\r\n') },
      'not HTTP': { respond: () => 'FOO BAR\r\n\r\n' },
      'the connection closed before a response': { respond: () => null },
      'no subprotocol where one was asked for': { respond: (k) => ok(k), protocols: ['chat'] },
      'another subprotocol than the one asked for': { respond: (k) => ok(k, 'Sec-WebSocket-Protocol: other\r\n'), protocols: ['chat'] },
      'the subprotocol asked for': { respond: (k) => ok(k, 'Sec-WebSocket-Protocol: chat\r\n'), protocols: ['chat'] },
      'permessage-deflate accepted': { respond: (k) => ok(k, 'Sec-WebSocket-Extensions: permessage-deflate\r\n'), deflate: true },
      'permessage-deflate with an unknown parameter': { respond: (k) => ok(k, 'Sec-WebSocket-Extensions: permessage-deflate; foo\r\n'), deflate: true },
      'permessage-deflate twice': { respond: (k) => ok(k, 'Sec-WebSocket-Extensions: permessage-deflate, permessage-deflate\r\n'), deflate: true },
      'permessage-deflate; client_max_window_bits=8': { respond: (k) => ok(k, 'Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits=8\r\n'), deflate: true },
      'an extension header that does not parse': { respond: (k) => ok(k, 'Sec-WebSocket-Extensions: permessage-deflate;;\r\n'), deflate: true },
    };

    /** The client's events when a raw server answers its upgrade with `respond(key)` (null: drops it). */
    function connect(lib, { respond, protocols, deflate, unexpected }) {
      return new Promise((resolve) => {
        const events = [];
        const server = net.createServer((socket) => {
          let head = '';
          socket.on('error', () => {});
          socket.on('data', (d) => {
            head += d.toString('latin1');
            if (!head.includes('\r\n\r\n')) return;
            const response = respond(/\r\nsec-websocket-key: *([^\r]*)/i.exec(head)[1]);
            if (response === null) socket.destroy();
            else socket.write(response, 'latin1');
          });
        });
        server.listen(0, '127.0.0.1', () => {
          const client = new lib.WebSocket(`ws://127.0.0.1:${server.address().port}/`, protocols, { perMessageDeflate: !!deflate });
          let timer = null;
          // Settles a little after the outcome (an 'error' comes before its 'close'), or after 500 ms.
          const settle = (ms) => {
            clearTimeout(timer);
            timer = setTimeout(() => {
              resolve(events.slice());
              client.terminate();
              server.close();
            }, ms);
          };
          settle(500);
          client.on('open', () => {
            events.push(`open, protocol "${client.protocol}", extensions "${client.extensions}"`);
            settle(20);
          });
          client.on('error', (err) => events.push(`error ${err.code} ${err.message}`));
          client.on('close', (code, reason) => {
            events.push(`close ${code} "${reason}"`);
            settle(20);
          });
          if (unexpected) {
            client.on('unexpected-response', (req, res) => {
              events.push(`unexpected-response ${res.statusCode}`);
              req.destroy();
              settle(50);
            });
          }
        });
      });
    }

    for (const [name, c] of Object.entries(responses)) {
      it(name, async () => {
        const a = await connect(weft, c);
        const b = await connect(ws, c);
        assert.deepStrictEqual(a, b);
        assert.ok(a.length > 0, 'the client reported something');
      });
    }
  });
});
