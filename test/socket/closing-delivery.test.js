'use strict';
// Data that arrives while CLOSING (after our close frame, before the peer's) is delivered, compressed
// or not, in both roles (RFC 6455 §5.5.1 lets the peer keep sending until its own close frame) — also
// when the close frame and the end of the stream arrive while a message is still being inflated.
const assert = require('assert');
const crypto = require('crypto');
const net = require('net');
const zlib = require('zlib');
const ws = require('ws');
const weft = require('../..');
const { upgradeRequest, rawClient, portOf, once } = require('../support/server');
const { frame, closePayload, FrameReader } = require('../support/frames');

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

/** A permessage-deflate payload (RFC 7692 §7.2.1: sync flush, trailer removed). */
function deflated(text) {
  const out = zlib.deflateRawSync(Buffer.from(text), { finishFlush: zlib.constants.Z_SYNC_FLUSH });
  return out.subarray(0, out.length - 4);
}

/** The frames a peer sends after our close: a compressed and a plain text message, then its close. */
function lateFrames(mask) {
  return Buffer.concat([
    frame({ opcode: 1, rsv: 4, payload: deflated('compressed late'), mask }),
    frame({ opcode: 1, payload: 'plain late', mask }),
    frame({ opcode: 8, payload: closePayload(4001, 'bye'), mask }),
  ]);
}

/** Records a socket's messages and resolves at 'close' with them and the close code. */
function record(socket) {
  const messages = [];
  socket.on('message', (data) => messages.push(data.toString()));
  return new Promise((resolve) => socket.on('close', (code) => resolve({ messages, code })));
}

/**
 * A raw server: accepts the handshake with permessage-deflate, waits for the client's close frame,
 * then writes `lateFrames` and its close in ONE write and ends the stream at once.
 */
function rawServer() {
  const server = net.createServer((socket) => {
    socket.on('error', () => {});
    let buffered = Buffer.alloc(0);
    let upgraded = false;
    const reader = new FrameReader();
    socket.on('data', (chunk) => {
      if (upgraded) {
        reader.push(chunk);
        if (reader.frames.some((f) => f.opcode === 8)) socket.end(lateFrames(false));
        return;
      }
      buffered = Buffer.concat([buffered, chunk]);
      const end = buffered.indexOf('\r\n\r\n');
      if (end === -1) return;
      const key = /sec-websocket-key: *([^\r]+)/i.exec(buffered.toString('latin1'))[1];
      const accept = crypto.createHash('sha1').update(key + GUID).digest('base64');
      upgraded = true;
      socket.write(
        'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
          `Sec-WebSocket-Accept: ${accept}\r\nSec-WebSocket-Extensions: permessage-deflate\r\n\r\n`,
      );
      reader.push(buffered.subarray(end + 4));
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

describe('data received while CLOSING is delivered', () => {
  describe('client role', () => {
    for (const allowSynchronousEvents of [true, false]) {
      it(`after close(): a compressed and a plain message, then the close and EOF in one chunk (allowSynchronousEvents: ${allowSynchronousEvents})`, async () => {
        const server = await rawServer();
        const client = new weft.WebSocket(`ws://127.0.0.1:${server.address().port}`, { allowSynchronousEvents });
        const result = record(client);
        client.on('open', () => client.close(1000));
        const { messages, code } = await result;
        server.close();
        assert.deepStrictEqual(messages, ['compressed late', 'plain late']);
        assert.strictEqual(code, 4001);
      });
    }

    for (const [name, Server] of [['ws', ws.WebSocketServer], ['weft', weft.WebSocketServer]]) {
      it(`echo with compress: true answered after send(); close() (${name} server): delivered, closes 1005`, async () => {
        const wss = new Server({ port: 0, perMessageDeflate: { threshold: 0 } });
        await once(wss, 'listening');
        wss.on('connection', (s) => s.on('message', (m) => s.send(m, { compress: true })));
        const client = new weft.WebSocket(`ws://127.0.0.1:${wss.address().port}`, { perMessageDeflate: { threshold: 0 } });
        const result = record(client);
        client.on('open', () => {
          client.send('hi');
          client.close();
        });
        const { messages, code } = await result;
        await new Promise((resolve) => wss.close(resolve));
        assert.deepStrictEqual(messages, ['hi']);
        assert.strictEqual(code, 1005);
      });
    }
  });

  describe('server role', () => {
    let wss;
    afterEach((done) => wss.close(() => done()));

    it("after the server's close(): the client's compressed and plain messages, then its close and EOF in one chunk", async () => {
      wss = new weft.WebSocketServer({ port: 0, perMessageDeflate: true });
      await once(wss, 'listening');
      const result = new Promise((resolve) =>
        wss.on('connection', (socket) => {
          record(socket).then(resolve);
          socket.close(1001);
        }),
      );
      const request = upgradeRequest({ headers: { 'Sec-WebSocket-Extensions': 'permessage-deflate' } });
      const { socket, head, reader } = await rawClient(await portOf(wss), request);
      assert.match(head, /permessage-deflate/i);
      const sendLate = () => {
        if (reader.frames.some((f) => f.opcode === 8)) socket.end(lateFrames(true));
        else socket.once('data', () => setImmediate(sendLate));
      };
      sendLate();
      const { messages, code } = await result;
      assert.deepStrictEqual(messages, ['compressed late', 'plain late']);
      assert.strictEqual(code, 4001);
    });

    it('a ws client echoing with compression after the server closed: delivered', async () => {
      wss = new weft.WebSocketServer({ port: 0, perMessageDeflate: { threshold: 0 } });
      await once(wss, 'listening');
      const result = new Promise((resolve) =>
        wss.on('connection', (socket) => {
          record(socket).then(resolve);
          socket.send('ping-me');
          socket.close();
        }),
      );
      const client = new ws.WebSocket(`ws://127.0.0.1:${await portOf(wss)}`, { perMessageDeflate: { threshold: 0 } });
      client.on('message', (m) => client.send(m, { compress: true }));
      const { messages, code } = await result;
      assert.deepStrictEqual(messages, ['ping-me']);
      assert.strictEqual(code, 1005);
    });
  });
});
