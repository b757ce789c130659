'use strict';
// What code does to `ws._socket` on a server connection — pause()/resume()/isPaused(), a 'data' listener
// put before or after the library's own, bytes handed in with push()/unshift(), push(null) — acts on the
// connection as it does with ws, whose `_socket` is the net.Socket itself. Differential: each scenario
// runs against a ws 8.23 server and a weft server (a ws client each time) and the logs must be equal.
// By default weft's `_socket` is the shell left behind by the TCP-handle transport; on the stream
// transport (test/run-stream.js repeats this file with WEFT_TRANSPORT=stream) it is the net.Socket, as in ws.
const assert = require('assert');
const { once } = require('events');
const ws = require('ws');
const weft = require('../..');
const { frame, closePayload } = require('../support/frames');

/** A ws client on a fresh `lib` server; `onServer(serverSocket, client, log)` drives the scenario. */
async function scenario(lib, onServer) {
  const wss = new lib.WebSocketServer({ port: 0 });
  await once(wss, 'listening');
  const log = [];
  const client = new ws.WebSocket(`ws://127.0.0.1:${wss.address().port}`);
  client.on('error', () => {});
  const [socket] = await once(wss, 'connection');
  await once(client, 'open').catch(() => {});
  try {
    await onServer(socket, client, log);
  } finally {
    client.terminate();
    await new Promise((resolve) => wss.close(resolve));
  }
  return log;
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function same(run) {
  const expected = await scenario(ws, run);
  const actual = await scenario(weft, run);
  assert.deepStrictEqual(actual, expected);
  return actual;
}

describe('ws._socket: what integrations do to the socket acts on the connection, as with ws', function () {
  this.timeout(10000);

  it("ws.pause()/resume() show in the socket's isPaused()", async () => {
    const log = await same(async (s, client, log) => {
      log.push([s.isPaused, s._socket.isPaused()]);
      s.pause();
      log.push([s.isPaused, s._socket.isPaused()]);
      s.resume();
      log.push([s.isPaused, s._socket.isPaused()]);
    });
    assert.deepStrictEqual(log, [[false, false], [true, true], [false, false]]);
  });

  it("ws.pause()/resume() emit 'pause' and 'resume' on the socket, once each, and show in readableFlowing", async () => {
    const log = await same(async (s, client, log) => {
      const socket = s._socket;
      socket.on('pause', () => log.push('pause event'));
      socket.on('resume', () => log.push('resume event'));
      log.push(`flowing ${socket.readableFlowing}`);
      s.pause();
      log.push(`paused, flowing ${socket.readableFlowing}`);
      s.pause();
      s.resume();
      log.push(`resumed, flowing ${socket.readableFlowing}`);
      // (A net.Socket emits 'resume' on the next tick.)
      await sleep(10);
      s.resume();
      await sleep(10);
      // A message sent meanwhile still arrives.
      client.send('after');
      const [data] = await once(s, 'message');
      log.push(`message ${data}`);
    });
    assert.deepStrictEqual(log, [
      'flowing true',
      'pause event',
      'paused, flowing false',
      'resumed, flowing true',
      'resume event',
      'message after',
    ]);
  });

  it("bytes waiting to leave show in the socket's _writableState.length as in bufferedAmount; writes and end() through the socket still work", async () => {
    const log = await same(async (s, client, log) => {
      const socket = s._socket;
      const data = Buffer.alloc(1024, 61);
      // (ws's own test: send until something waits, then compare with the socket's Writable.)
      for (let i = 0; i < 1e5 && s.bufferedAmount === 0; i++) s.send(data);
      log.push(`waiting ${s.bufferedAmount > 0}`);
      log.push(`_writableState.length ${socket._writableState.length === s.bufferedAmount}`);
      log.push(`writableLength ${socket.writableLength === s.bufferedAmount}`);
      while (s.bufferedAmount > 0) await sleep(5);
      log.push(`drained ${socket._writableState.length} ${socket.writableLength}`);
      // A frame written through the socket itself arrives, and its callback runs.
      const pinged = once(client, 'ping');
      await new Promise((resolve) => socket.write(frame({ opcode: 0x9, payload: 'raw', mask: false }), resolve));
      log.push(`ping ${(await pinged)[0]}`);
      // end() on the socket sends the FIN: the client sees the connection go without a close frame.
      const closed = once(client, 'close');
      socket.end();
      const [code] = await closed;
      log.push(`client close ${code}`);
    });
    assert.deepStrictEqual(log, [
      'waiting true',
      '_writableState.length true',
      'writableLength true',
      'drained 0 0',
      'ping raw',
      'client close 1006',
    ]);
  });

  it('ws._socket.pause() stops the messages until ws._socket.resume(); they then all arrive in order', async () => {
    const log = await same(async (s, client, log) => {
      s.on('message', (data) => log.push(`message ${data}`));
      s._socket.pause();
      log.push(`paused ${s._socket.isPaused()}`);
      client.send('a');
      client.send('b');
      // Nothing may arrive while the socket is paused (long enough for a local echo to have come many times).
      await sleep(150);
      log.push('resume');
      s._socket.resume();
      log.push(`paused ${s._socket.isPaused()}`);
      while (log.length < 5) await once(s, 'message');
    });
    assert.deepStrictEqual(log, ['paused true', 'resume', 'paused false', 'message a', 'message b']);
  });

  it("a 'data' listener prepended to the socket hears the bytes before they are parsed; one added after, after", async () => {
    const log = await same(async (s, client, log) => {
      s.on('message', (data) => log.push(`message ${data}`));
      s._socket.prependListener('data', (chunk) => log.push(`first ${chunk.length}`));
      client.send('hello');
      await once(s, 'message');
      s._socket.on('data', (chunk) => log.push(`last ${chunk.length}`));
      client.send('again');
      await once(s, 'message');
      await sleep(0);
    });
    // A client's 5-byte text frame: 2 bytes of header, a 4-byte mask key, the payload.
    assert.deepStrictEqual(log, ['first 11', 'message hello', 'first 11', 'message again', 'last 11']);
  });

  it('bytes pushed into the socket are read as if they came from the peer (push, then unshift)', async () => {
    const log = await same(async (s, client, log) => {
      s.on('message', (data, isBinary) => log.push(`message ${data.length} ${isBinary}`));
      s.on('close', (code, reason) => log.push(`close ${code} ${reason}`));
      // (On a flowing net.Socket a push is read at once, before push() returns: the waits are set first.)
      let next = once(s, 'message');
      s._socket.push(frame({ opcode: 0x2, payload: Buffer.alloc(16 * 1024, 7) }));
      await next;
      next = once(s, 'message');
      s._socket.unshift(frame({ opcode: 0x1, payload: 'unshifted' }));
      await next;
      next = once(s, 'close');
      s._socket.push(frame({ opcode: 0x8, payload: closePayload(4000, 'bye') }));
      await next;
    });
    assert.deepStrictEqual(log, ['message 16384 true', 'message 9 false', 'close 4000 bye']);
  });

  it('push(null) ends the input as the peer ending its side would: the connection closes with 1006', async () => {
    const log = await same(async (s, client, log) => {
      s.on('close', (code) => log.push(`close ${code}`));
      s._socket.on('end', () => log.push('end'));
      const closed = once(s, 'close');
      s._socket.push(null);
      await closed;
    });
    assert.deepStrictEqual(log, ['end', 'close 1006']);
  });
});
