'use strict';
// WebSocket-Node conveniences and legacy ws members on weft's own WebSocket, against a real peer
// (an in-memory pair: real frames through the core on both ends).
const assert = require('assert');
const { once } = require('events');
require('../../dist/lib/socket/conveniences');
const { WebSocketPair } = require('../../dist/lib/pair');

function open(clientOptions = {}, serverOptions = {}) {
  const [c, s] = Object.values(new WebSocketPair());
  // Each end reads its own WebSocket-Node options, as a client and a server would be configured.
  const { WebSocket } = require('../../dist/lib/websocket');
  c._extra = new WebSocket(null, undefined, clientOptions)._extra;
  s._extra = new WebSocket(null, undefined, serverOptions)._extra;
  c.accept();
  s.accept();
  c.binaryType = 'nodebuffer';
  s.binaryType = 'nodebuffer';
  return [c, s];
}

const collect = (ws, event, n) =>
  new Promise((resolve) => {
    const got = [];
    ws.on(event, function on(...args) {
      got.push(args.length === 1 ? args[0] : args);
      if (got.length === n) {
        ws.removeListener(event, on);
        resolve(got);
      }
    });
  });

describe('WebSocket-Node conveniences', () => {
  it('sendUTF / sendBytes', async () => {
    const [c, s] = open();
    const got = collect(s, 'message', 2);
    c.sendUTF('héllo');
    c.sendBytes(Buffer.from([1, 2]));
    assert.throws(() => c.sendBytes('nope'), TypeError);
    const [[text, tb], [bin, bb]] = await got;
    assert.strictEqual(text.toString(), 'héllo');
    assert.strictEqual(tb, false);
    assert.deepStrictEqual([...bin], [1, 2]);
    assert.strictEqual(bb, true);
  });

  it('connected, closeReasonCode / closeDescription (-1 / null before close, then the peer\'s)', async () => {
    const [c, s] = open();
    assert.strictEqual(c.connected, true);
    assert.strictEqual(c.closeReasonCode, -1);
    assert.strictEqual(c.closeDescription, null);
    assert.strictEqual(c.webSocketVersion, 13);
    assert.strictEqual(c.protocolVersion, 13);
    assert.deepStrictEqual(c.supports, { binary: true });
    const closed = Promise.all([once(c, 'close'), once(s, 'close')]);
    s.close(1001);
    await closed;
    assert.strictEqual(c.connected, false);
    assert.strictEqual(c.closeReasonCode, 1001);
    assert.strictEqual(c.closeDescription, 'Remote peer is going away');
  });

  it('drop(): close frame then destroy without waiting; the peer sees the code', async () => {
    const [c, s] = open();
    const peer = once(s, 'close');
    const mine = once(c, 'close');
    c.drop(4002, 'bye now');
    const [code, reason] = await peer;
    assert.strictEqual(code, 4002);
    assert.strictEqual(reason.toString(), 'bye now');
    await mine;
    assert.strictEqual(c.closeReasonCode, 4002);
    assert.strictEqual(c.closeDescription, 'bye now');
  });

  it('drop() defaults to 1002 with the standard description', async () => {
    const [c, s] = open();
    const peer = once(s, 'close');
    c.drop();
    const [code, reason] = await peer;
    assert.strictEqual(code, 1002);
    assert.strictEqual(reason.toString(), 'Protocol error');
  });

  it('assembleFragments: false emits a frame event per data frame', async () => {
    const [c, s] = open({}, { assembleFragments: false });
    let messages = 0;
    s.on('message', () => messages++);
    const frames = collect(s, 'frame', 3);
    c.send('ab', { fin: false });
    c.send('cd', { fin: false });
    c.send('ef', { fin: true });
    const got = await frames;
    assert.deepStrictEqual(got.map((f) => [f.opcode, f.fin, f.payload.toString()]), [[1, false, 'ab'], [0, false, 'cd'], [0, true, 'ef']]);
    assert.strictEqual(messages, 0);
  });

  it('fragmentOutgoingMessages splits large messages at fragmentationThreshold', async () => {
    const [c, s] = open({ fragmentOutgoingMessages: true, fragmentationThreshold: 1000 }, { assembleFragments: false });
    const frames = collect(s, 'frame', 4);
    c.send(Buffer.alloc(3500, 7));
    const got = await frames;
    assert.deepStrictEqual(got.map((f) => [f.opcode, f.fin, f.payload.length]), [[2, false, 1000], [0, false, 1000], [0, false, 1000], [0, true, 500]]);
  });

  it('maxReceivedFrameSize closes with 1009 when a frame is larger; maxReceivedMessageSize aliases maxPayload', async () => {
    const [c, s] = open({}, { maxReceivedFrameSize: 10 });
    const err = once(s, 'error');
    const closed = once(c, 'close');
    c.send(Buffer.alloc(11));
    const [e] = await err;
    assert.strictEqual(e.code, 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH');
    assert.strictEqual((await closed)[0], 1009);

    const [c2, s2] = open({}, { maxReceivedMessageSize: 5 });
    const err2 = once(s2, 'error');
    c2.send('123456');
    assert.strictEqual((await err2)[0].code, 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH');
  });

  it('legacy stream(): send(data, final) writes fragments of one message', async () => {
    const [c, s] = open();
    const got = once(s, 'message');
    c.stream({ binary: false }, (err, send) => {
      assert.strictEqual(err, null);
      send('one ');
      send('two ');
      send('three', true);
    });
    const [data, isBinary] = await got;
    assert.strictEqual(data.toString(), 'one two three');
    assert.strictEqual(isBinary, false);
  });
});

describe('remoteAddress and webSocketVersion over TCP', () => {
  const WS = require('ws');
  const { WebSocketServer } = require('../../dist/lib/server');
  let wss;
  afterEach((done) => (wss ? wss.close(() => done()) : done()));

  const connect = async (options, headers, version = 13) => {
    wss = new WebSocketServer({ port: 0, ...options });
    await once(wss, 'listening');
    const conn = once(wss, 'connection');
    const client = new WS(`ws://127.0.0.1:${wss.address().port}`, { headers, protocolVersion: version });
    const [ws] = await conn;
    await once(client, 'open');
    client.terminate();
    return ws;
  };

  it('ignores X-Forwarded-For unless the server trusts a proxy', async () => {
    const ws = await connect({}, { 'X-Forwarded-For': '203.0.113.7' });
    assert.match(ws.remoteAddress, /127\.0\.0\.1$/);
  });

  it('trustProxy counts hops from the right: the client writes the left-most X-Forwarded-For entries', async () => {
    // The client sent "X-Forwarded-For: 6.6.6.6"; proxy 1 (the far one) appended 203.0.113.7, proxy 2
    // (in front of the server) appended 10.0.0.1.
    const header = { 'X-Forwarded-For': '6.6.6.6, 203.0.113.7, 10.0.0.1' };
    const cases = [
      [true, '10.0.0.1'],
      [1, '10.0.0.1'],
      [2, '203.0.113.7'],
      [3, '6.6.6.6'],
      [9, '6.6.6.6'],
    ];
    for (const [trustProxy, expected] of cases) {
      const ws = await connect({ trustProxy }, header);
      assert.strictEqual(ws.remoteAddress, expected, `trustProxy: ${trustProxy}`);
      await new Promise((resolve) => wss.close(resolve));
    }
    for (const trustProxy of [false, 0]) {
      const ws = await connect({ trustProxy }, header);
      assert.match(ws.remoteAddress, /127\.0\.0\.1$/, `trustProxy: ${trustProxy}`);
      await new Promise((resolve) => wss.close(resolve));
    }
    const ws = await connect({ trustProxy: true }, { 'X-Forwarded-For': '203.0.113.7' });
    assert.strictEqual(ws.remoteAddress, '203.0.113.7');
  });

  it('drop() frees the socket of a peer that does not read: destroyed, "close" emitted (with and without the close frame)', async () => {
    const { Resources } = require('../pubsub/helpers');
    const res = new Resources();
    try {
      wss = await res.server();
      for (const skipCloseFrame of [true, false]) {
        const { server: ws } = await res.raw(wss, { stall: true });
        // 13 MiB the peer never reads: most of it stays queued in this process.
        const chunk = Buffer.alloc(1 << 20, 0x61);
        for (let i = 0; i < 13; i++) ws.send(chunk);
        assert.ok(ws.bufferedAmount > 0);
        const closed = once(ws, 'close');
        ws.drop(1001, 'going', skipCloseFrame);
        const [code] = await closed;
        assert.strictEqual(ws._socket.destroyed, true, `skipCloseFrame: ${skipCloseFrame}`);
        assert.strictEqual(ws.closeReasonCode, 1001);
        assert.strictEqual(code, 1006, 'no close frame came back');
      }
    } finally {
      wss = null;
      await res.closeAll();
    }
  });

  it('reports the version a draft-8 client spoke', async () => {
    const ws = await connect({}, {}, 8);
    assert.strictEqual(ws.webSocketVersion, 8);
    assert.strictEqual(ws.protocolVersion, 8);
  });
});
