'use strict';
// Sends behind a compression (or a Blob being read) in progress, compared with ws 8.23 in both roles:
// bufferedAmount counts every byte queued, the message being compressed included; and when the socket
// is destroyed (or terminate() runs) meanwhile, every pending send/ping/pong callback is called exactly
// once, in order, with ws's error.
const assert = require('assert');
const ws = require('ws');
const weft = require('../..');
const { once } = require('../support/server');

const LIBS = { ws, weft };
const PMD = { perMessageDeflate: { threshold: 0 } };

/**
 * Opens a connection where `lib` plays `role` (the other side is ws) and runs `script(socket, log)` on
 * the `lib` side as soon as it is open; resolves with the log once 'close' was emitted and callbacks
 * that follow it had their chance.
 */
async function session(lib, role, script) {
  const log = [];
  const Server = role === 'server' ? LIBS[lib].WebSocketServer : ws.WebSocketServer;
  const Client = role === 'client' ? LIBS[lib].WebSocket : ws.WebSocket;
  const wss = new Server({ port: 0, ...PMD });
  await once(wss, 'listening');
  const client = new Client(`ws://127.0.0.1:${wss.address().port}`, PMD);
  client.on('error', () => {});
  const [side] = role === 'client' ? (await once(client, 'open'), [client]) : await once(wss, 'connection');
  side.on('error', (err) => log.push(`error: ${err.message}`));
  const closed = once(side, 'close').then(([code]) => log.push(`close ${code}`));
  script(side, log);
  await closed;
  await new Promise((resolve) => setTimeout(resolve, 20));
  client.terminate();
  await new Promise((resolve) => wss.close(resolve));
  return log;
}

const cb = (log, name) => (err) => log.push(`${name}: ${err ? err.message : 'ok'}`);

/** Queues compressed and plain sends, pings and pongs behind the first compression. */
function queueSends(socket, log) {
  socket.send('abc', cb(log, 'send 1'));
  socket.send('def', cb(log, 'send 2'));
  socket.ping('p', cb(log, 'ping'));
  socket.send('ghi', { compress: false }, cb(log, 'send 3 (plain)'));
  socket.pong('q', cb(log, 'pong'));
  socket.send(Buffer.alloc(64 * 1024, 7), { binary: true }, cb(log, 'send 4 (64 KiB)'));
}

describe('sends behind a compression in progress (as ws 8.23)', () => {
  for (const role of ['client', 'server']) {
    describe(`${role} role`, () => {
      it('bufferedAmount counts every byte queued, the message being compressed included', async () => {
        const script = (socket, log) => {
          socket.send('abc');
          log.push(socket.bufferedAmount);
          socket.send('def');
          log.push(socket.bufferedAmount);
          socket.ping('p');
          socket.send('ghi', { compress: false });
          log.push(socket.bufferedAmount);
          socket.close();
        };
        const expected = await session('ws', role, script);
        const actual = await session('weft', role, script);
        assert.deepStrictEqual(actual, expected);
        assert.deepStrictEqual(actual.slice(0, 2), [3, 6]);
      });

      for (const [name, kill] of [
        ['terminate()', (socket) => socket.terminate()],
        ['the socket destroyed', (socket) => socket._socket.destroy()],
      ]) {
        it(`${name} while compressing: every pending callback once, in order, with an error`, async () => {
          const script = (socket, log) => {
            queueSends(socket, log);
            kill(socket);
          };
          const expected = await session('ws', role, script);
          const actual = await session('weft', role, script);
          assert.deepStrictEqual(actual, expected);
          const failed = 'The socket was closed while data was being compressed';
          assert.deepStrictEqual(actual, [
            `send 1: ${failed}`,
            `send 2: ${failed}`,
            `ping: ${failed}`,
            `send 3 (plain): ${failed}`,
            `pong: ${failed}`,
            `send 4 (64 KiB): ${failed}`,
            'close 1006',
          ]);
        });
      }

      for (const [name, kill] of [
        ['terminate()', (socket) => socket.terminate()],
        ['the socket destroyed', (socket) => socket._socket.destroy()],
      ]) {
        it(`${name} while a Blob is being read: its callback and those behind it, in order, with ws's error`, async () => {
          const script = (socket, log) => {
            socket.send(new Blob(['abc']), cb(log, 'blob'));
            socket.send('x', { compress: false }, cb(log, 'send'));
            socket.ping('p', cb(log, 'ping'));
            kill(socket);
          };
          const expected = await session('ws', role, script);
          const actual = await session('weft', role, script);
          assert.deepStrictEqual(actual, expected);
          const failed = 'The socket was closed while the blob was being read';
          assert.deepStrictEqual(actual, [`blob: ${failed}`, `send: ${failed}`, `ping: ${failed}`, 'close 1006']);
        });
      }

      it("a send made after the socket was destroyed (still OPEN until 'close') fails with the queue", async () => {
        const script = (socket, log) => {
          queueSends(socket, log);
          socket._socket.destroy();
          socket.send('late', cb(log, 'send after destroy'));
        };
        const expected = await session('ws', role, script);
        const actual = await session('weft', role, script);
        assert.deepStrictEqual(actual, expected);
      });
    });
  }
});
