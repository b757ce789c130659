'use strict';
// ws's semi-private WebSocket members that integrations read, differential: the same connection is made
// with ws 8.23 (ws client, ws server) and with weft (weft client, weft server), and the members are
// read at the same points of its life.
const assert = require('assert');
const http = require('http');
const { once, EventEmitter } = require('events');
const ws = require('ws');
const weft = require('../..');

const MEMBERS = [
  '_binaryType', '_closeCode', '_closeFrameReceived', '_closeFrameSent', '_closeTimer', '_errorEmitted',
  '_paused', '_protocol', '_readyState', '_isServer', '_autoPong', '_redirects', '_bufferedAmount',
  '_pendingAutoPongs', '_closeTimeout',
];

function show(value) {
  if (Buffer.isBuffer(value)) return `buf:${value.toString()}`;
  if (value === null) return null;
  if (typeof value === 'object') return typeof value; // a timer, a socket
  return value;
}

/**
 * Left out where noted: ws keeps the cleared close timer object after 'close' (weft drops it: null), and
 * ws has `_bufferedAmount` on clients only (weft's server-side sockets have it too, 0 until closed).
 */
function snapshot(socket, skip = []) {
  const out = {};
  for (const name of MEMBERS) if (!skip.includes(name)) out[name] = show(socket[name]);
  out._closeMessage = show(socket._closeMessage);
  out._extensions = Object.keys(socket._extensions);
  out._receiver = socket._receiver === null ? null : 'object';
  out._sender = socket._sender === null ? null : 'object';
  out._socket = socket._socket === null ? null : 'object';
  return out;
}

function receiverFields(socket) {
  const r = socket._receiver;
  return {
    emitter: r instanceof EventEmitter,
    _allowSynchronousEvents: r._allowSynchronousEvents,
    _binaryType: r._binaryType,
    _extensions: Object.keys(r._extensions),
    _isServer: r._isServer,
    _maxPayload: r._maxPayload,
    _skipUTF8Validation: r._skipUTF8Validation,
    _totalPayloadLength: r._totalPayloadLength,
  };
}

/** One connection's life with `lib`, the members read at each step. */
async function life(lib) {
  const seen = {};
  const wss = new lib.WebSocketServer({
    port: 0,
    maxPayload: 4096,
    skipUTF8Validation: true,
    allowSynchronousEvents: false,
    perMessageDeflate: true,
  });
  await once(wss, 'listening');
  const { port } = wss.address();
  // An HTTP server that sends the client on to the WebSocket server once.
  const redirector = http.createServer((req, res) => {
    res.writeHead(302, { Location: `ws://127.0.0.1:${port}/` });
    res.end();
  });
  redirector.listen(0, '127.0.0.1');
  await once(redirector, 'listening');

  const client = new lib.WebSocket(`ws://127.0.0.1:${redirector.address().port}/`, { followRedirects: true, maxPayload: 2048 });
  seen.connecting = snapshot(client);
  const [[server]] = await Promise.all([once(wss, 'connection'), once(client, 'open')]);
  seen.clientOpen = snapshot(client);
  seen.serverOpen = snapshot(server, ['_bufferedAmount']);
  seen.clientReceiver = receiverFields(client);
  seen.serverReceiver = receiverFields(server);
  server.binaryType = 'arraybuffer';
  seen.binaryTypeFollows = server._receiver._binaryType;
  seen.senderSocket = client._sender._socket === client._socket;
  seen.sameReceiver = client._receiver === client._receiver;

  client.close(4001, 'done');
  seen.clientClosing = snapshot(client);
  const [code] = await once(server, 'close');
  seen.serverCloseCode = code;
  await once(client, 'close');
  seen.clientClosed = snapshot(client, ['_closeTimer']);
  seen.serverClosed = snapshot(server, ['_closeTimer', '_bufferedAmount']);

  wss.close();
  redirector.close();
  return seen;
}

describe('compat: WebSocket semi-private members (ws 8.23 differential)', () => {
  it('the same values as ws at each point of a connection (client through a redirect, and server)', async () => {
    const theirs = await life(ws);
    const mine = await life(weft);
    assert.deepStrictEqual(mine, theirs);
    // What the ecosystem reads, spelled out.
    assert.strictEqual(mine.connecting._receiver, null);
    assert.strictEqual(mine.connecting._sender, null);
    assert.strictEqual(mine.clientOpen._redirects, 1);
    assert.strictEqual(mine.serverOpen._redirects, undefined);
    assert.deepStrictEqual(mine.serverReceiver, {
      emitter: true,
      _allowSynchronousEvents: false,
      _binaryType: 'nodebuffer',
      _extensions: ['permessage-deflate'],
      _isServer: true,
      _maxPayload: 4096,
      _skipUTF8Validation: true,
      _totalPayloadLength: 0,
    });
    assert.strictEqual(mine.clientReceiver._maxPayload, 2048);
    assert.strictEqual(mine.binaryTypeFollows, 'arraybuffer');
    assert.strictEqual(mine.clientClosed._closeCode, 4001);
  });

  it('an idle connection builds no receiver shape until one is read', async () => {
    const wss = new weft.WebSocketServer({ port: 0 });
    await once(wss, 'listening');
    const client = new weft.WebSocket(`ws://127.0.0.1:${wss.address().port}/`);
    const [[server]] = await Promise.all([once(wss, 'connection'), once(client, 'open')]);
    const shapes = () => Object.getOwnPropertySymbols(server).filter((s) => s.description === 'weft-receiver-shape');
    assert.strictEqual(shapes().length, 0);
    assert.strictEqual(server._receiver._maxPayload, 100 * 1024 * 1024);
    assert.strictEqual(server._receiver, server._receiver);
    assert.strictEqual(shapes().length, 1);
    client.terminate();
    await once(server, 'close');
    wss.close();
  });

  it("ws._receiver emits 'conclude' for the peer's close frame, after the WebSocket has answered it (as ws)", async () => {
    async function concluded(lib, closeArgs) {
      const wss = new lib.WebSocketServer({ port: 0 });
      await once(wss, 'listening');
      const client = new lib.WebSocket(`ws://127.0.0.1:${wss.address().port}/`);
      const [[server]] = await Promise.all([once(wss, 'connection'), once(client, 'open')]);
      const log = [];
      client._receiver.on('conclude', (code, reason) => {
        log.push(['conclude', code, Buffer.isBuffer(reason) ? `buf:${reason}` : reason, client.readyState, client._closeFrameReceived, client._closeFrameSent]);
        client.send('late', (err) => log.push(['send', err && err.message]));
      });
      server.close(...closeArgs);
      const [code] = await once(client, 'close');
      log.push(['close', code]);
      await new Promise((resolve) => wss.close(resolve));
      return log;
    }
    for (const args of [[4001, 'bye'], []]) {
      const theirs = await concluded(ws, args);
      const mine = await concluded(weft, args);
      assert.deepStrictEqual(mine, theirs, JSON.stringify(args));
      assert.strictEqual(mine[0][0], 'conclude');
    }
  });

  it("_receiver._state and _sender._state show an inflate and a deflate in flight; terminate() fails a pending send while CLOSING (as ws)", async () => {
    async function states(lib) {
      const wss = new lib.WebSocketServer({ port: 0, perMessageDeflate: { threshold: 0 } });
      await once(wss, 'listening');
      const client = new lib.WebSocket(`ws://127.0.0.1:${wss.address().port}/`, { perMessageDeflate: { threshold: 0 } });
      const [[server]] = await Promise.all([once(wss, 'connection'), once(client, 'open')]);
      const log = [['open', client._receiver._state, client._sender._state]];
      // After the library's own 'data' listener: the compressed message is with zlib (ws: INFLATING, 5).
      // (Inside 'message' ws still says 5, weft already 0: not compared.)
      client._socket.on('data', () => log.push(['read', client._receiver._state]));
      const got = once(client, 'message');
      server.send('one');
      await got;
      log.push(['idle', client._receiver._state, client._sender._state]);
      client.send('hi', (err) => log.push(['send callback', client.readyState, err && err.message]));
      log.push(['deflating', client._sender._state]);
      client.terminate();
      await once(client, 'close');
      log.push(['closed', client.readyState]);
      await new Promise((resolve) => wss.close(resolve));
      return log;
    }
    const theirs = await states(ws);
    const mine = await states(weft);
    assert.deepStrictEqual(mine, theirs);
    assert.deepStrictEqual(mine, [
      ['open', 0, 0],
      ['read', 5],
      ['idle', 0, 0],
      ['deflating', 1],
      ['send callback', 2, 'The socket was closed while data was being compressed'],
      ['closed', 3],
    ]);
  });

  /**
   * A compressed frame and a 100,000-byte binary frame arrive in one read: while the first is with zlib,
   * the frame waiting behind it is past the receiver's high-water mark, so it holds input back
   * (needDrain) and pauses the socket; the large message then fills the stream's buffer, so the stream
   * pauses the WebSocket. Larger than 64 KiB because from Node 22 on streams' default high-water mark is
   * 64 KiB (ws's receiver is a Writable, the stream a Duplex); weft's receiver holds back past 16 KiB.
   * `userFirst`: the stream asks for more ('read') before the inflate is done, else only once 'drain'
   * has come.
   */
  async function heldInput(lib, userFirst) {
    const wss = new lib.WebSocketServer({ port: 0, perMessageDeflate: true });
    await once(wss, 'listening');
    const client = new lib.WebSocket(`ws://127.0.0.1:${wss.address().port}/`);
    const duplex = lib.createWebSocketStream(client);
    const log = [];
    const read = duplex._read;
    duplex._read = function () {
      duplex._read = read;
      log.push(['read', client._receiver._writableState.needDrain, client._socket.isPaused()]);
      read.call(duplex);
      log.push(['after read', client._receiver._writableState.needDrain, client._socket.isPaused()]);
      if (!userFirst) duplex.end();
    };
    await once(client, 'open');
    const state = client._receiver._writableState;
    assert.deepStrictEqual([state.needDrain, state.errorEmitted, state.length], [false, false, 0]);
    client._receiver.on('drain', () => {
      log.push(['drain', client._receiver._writableState.needDrain, client._socket.isPaused()]);
      if (userFirst) duplex.end();
      else duplex.resume();
    });
    const big = Buffer.concat([Buffer.from([0x82, 127, 0, 0, 0, 0, 0, 0x01, 0x86, 0xa0]), Buffer.alloc(100000, 7)]);
    const compressed = Buffer.from([0xc2, 0x01, 0x00]); // a 1-byte deflate block (rsv1), empty message
    client._socket.push(Buffer.concat([compressed, big]));
    // Flowing now: the stream's first 'read' comes a tick later, while the inflate is still pending.
    if (userFirst) duplex.resume();
    await once(duplex, 'close');
    await new Promise((resolve) => wss.close(resolve));
    return log;
  }

  it("_receiver._writableState.needDrain while an inflate holds input back, then 'drain' on _receiver (as ws)", async () => {
    for (const userFirst of [true, false]) {
      const theirs = await heldInput(ws, userFirst);
      const mine = await heldInput(weft, userFirst);
      assert.deepStrictEqual(mine, theirs, `userFirst ${userFirst}`);
    }
    // The stream reads first: resume() leaves the socket paused while input is held; at 'drain' the
    // large message has paused the WebSocket again.
    assert.deepStrictEqual(await heldInput(weft, true), [
      ['read', true, true],
      ['after read', true, true],
      ['drain', false, true],
    ]);
    // The inflate finishes first: 'drain' leaves the socket paused (the stream paused the WebSocket) until
    // the stream reads again.
    assert.deepStrictEqual(await heldInput(weft, false), [
      ['drain', false, true],
      ['read', false, true],
      ['after read', false, false],
    ]);
  });

  it('_receiver._writableState.errorEmitted once a protocol violation failed the connection (as ws)', async () => {
    async function failed(lib) {
      const wss = new lib.WebSocketServer({ port: 0 });
      await once(wss, 'listening');
      const client = new lib.WebSocket(`ws://127.0.0.1:${wss.address().port}/`);
      await once(client, 'open');
      const seen = { before: client._receiver._writableState.errorEmitted };
      client.on('error', (err) => {
        seen.error = [err.code, client._receiver._writableState.errorEmitted];
      });
      const closed = new Promise((resolve) =>
        client.on('close', (code) => resolve([code, client._receiver._writableState.errorEmitted])),
      );
      client._socket.push(Buffer.from([0x85, 0x00])); // reserved opcode 5
      seen.close = await closed;
      await new Promise((resolve) => wss.close(resolve));
      return seen;
    }
    const mine = await failed(weft);
    assert.deepStrictEqual(mine, await failed(ws));
    // The failing side stops reading, so the peer's answer is never read: 1006, as in ws.
    assert.deepStrictEqual(mine, { before: false, error: ['WS_ERR_INVALID_OPCODE', true], close: [1006, true] });
  });
});
