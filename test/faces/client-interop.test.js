'use strict';

// A weft client talking to ws 8.23's WebSocketServer once the handshake is done: fragmented messages,
// messages of several MiB, ordering, pings and pongs with payloads, and the closing handshake with codes
// and reasons started by either side.
//
// WEFT_CLIENT_UNDER_TEST=ws runs the same assertions against ws 8.23's client.

const assert = require('assert');
const { WebSocketServer } = require('ws');

const underWs = process.env.WEFT_CLIENT_UNDER_TEST === 'ws';
const WebSocket = underWs ? require('ws') : require('../../dist/lib/websocket').WebSocket;
const { once } = require('../support/client');

/** Resolves with the arguments of the next `event` on `emitter`. */

/** Deterministic pseudo-random bytes (xorshift32 from `seed`), so a failure can be replayed. */
function bytes(length, seed) {
  const out = Buffer.alloc(length);
  let x = seed | 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

describe('client interop with ws\'s server', function () {
  let wss;
  let clients = [];

  /** Connects a client; resolves [client, its peer on the server] once both are open. */
  async function connect(options, serverOptions = {}) {
    if (!wss) {
      wss = new WebSocketServer({ port: 0, host: '127.0.0.1', ...serverOptions });
      await once(wss, 'listening');
    }
    const peer = once(wss, 'connection');
    const ws = new WebSocket(`ws://127.0.0.1:${wss.address().port}`, options);
    clients.push(ws);
    const [[server]] = await Promise.all([peer, once(ws, 'open')]);
    return [ws, server];
  }

  afterEach(async function () {
    for (const ws of clients) {
      ws.removeAllListeners('error');
      ws.on('error', () => {});
      ws.terminate();
    }
    clients = [];
    if (wss) {
      for (const peer of wss.clients) peer.terminate();
      await new Promise((resolve) => wss.close(resolve));
      wss = null;
    }
  });

  describe('data (§5.4 fragmentation, §5.2 lengths)', function () {
    it('sends a fragmented text message that the server reassembles', async function () {
      const [ws, server] = await connect();
      const got = once(server, 'message');
      ws.send('frag', { fin: false });
      ws.send('men', { fin: false });
      ws.send('ted ✓', { fin: true });
      const [data, isBinary] = await got;
      assert.strictEqual(data.toString(), 'fragmented ✓');
      assert.strictEqual(isBinary, false);
    });

    it('reassembles a fragmented binary message from the server', async function () {
      const [ws, server] = await connect();
      const got = once(ws, 'message');
      server.send(Buffer.from([1, 2]), { fin: false });
      server.send(Buffer.from([3]), { fin: false });
      server.send(Buffer.from([4, 5]), { fin: true });
      const [data, isBinary] = await got;
      assert.deepStrictEqual(data, Buffer.from([1, 2, 3, 4, 5]));
      assert.strictEqual(isBinary, true);
    });

    it('answers a ping that arrives between fragments', async function () {
      const [ws, server] = await connect();
      const got = once(ws, 'message');
      const pong = once(server, 'pong');
      server.send('a', { fin: false });
      server.ping('mid');
      server.send('b', { fin: true });
      const [[data], [payload]] = await Promise.all([got, pong]);
      assert.strictEqual(data.toString(), 'ab');
      assert.strictEqual(payload.toString(), 'mid');
    });

    for (const size of [125, 126, 65535, 65536, 5 * 1024 * 1024 + 3]) {
      it(`round-trips ${size} bytes both ways`, async function () {
        const [ws, server] = await connect();
        server.on('message', (data, isBinary) => server.send(data, { binary: isBinary }));
        const payload = bytes(size, size);
        const got = once(ws, 'message');
        ws.send(payload);
        const [data, isBinary] = await got;
        assert.strictEqual(isBinary, true);
        assert.strictEqual(data.length, size);
        assert(data.equals(payload));
      });
    }

    it('receives a large text message split in many fragments', async function () {
      const [ws, server] = await connect();
      const part = 'x'.repeat(64 * 1024 - 1) + '€';
      const got = once(ws, 'message');
      for (let i = 0; i < 50; i++) server.send(part, { fin: i === 49 });
      const [data] = await got;
      assert.strictEqual(data.toString(), part.repeat(50));
    });

    it('keeps the order of many messages both ways', async function () {
      const [ws, server] = await connect();
      server.on('message', (data) => server.send(data, { binary: false }));
      const received = [];
      const done = new Promise((resolve) =>
        ws.on('message', (data) => {
          received.push(data.toString());
          if (received.length === 1000) resolve();
        }),
      );
      for (let i = 0; i < 1000; i++) ws.send(String(i));
      await done;
      assert.deepStrictEqual(received, Array.from({ length: 1000 }, (_, i) => String(i)));
    });

    it('closes with 1009 when the server sends more than maxPayload', async function () {
      const [ws, server] = await connect({ maxPayload: 1024 });
      const error = once(ws, 'error');
      const closed = once(server, 'close');
      server.send(Buffer.alloc(1025));
      const [err] = await error;
      assert.strictEqual(err.code, 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH');
      const [code] = await closed;
      assert.strictEqual(code, 1009);
    });
  });

  describe('pings and pongs (§5.5.2, §5.5.3)', function () {
    it('pings the server with a payload and gets its pong', async function () {
      const [ws, server] = await connect();
      const ping = once(server, 'ping');
      const pong = once(ws, 'pong');
      ws.ping('are you there');
      assert.strictEqual((await ping)[0].toString(), 'are you there');
      assert.strictEqual((await pong)[0].toString(), 'are you there');
    });

    it('answers the server\'s ping automatically and emits it', async function () {
      const [ws, server] = await connect();
      const ping = once(ws, 'ping');
      const pong = once(server, 'pong');
      server.ping(Buffer.from([0xde, 0xad]));
      assert.deepStrictEqual((await ping)[0], Buffer.from([0xde, 0xad]));
      assert.deepStrictEqual((await pong)[0], Buffer.from([0xde, 0xad]));
    });

    it('sends an unsolicited pong', async function () {
      const [ws, server] = await connect();
      const pong = once(server, 'pong');
      ws.pong('hb');
      assert.strictEqual((await pong)[0].toString(), 'hb');
    });

    it('lets the application answer pings with autoPong: false', async function () {
      const [ws, server] = await connect({ autoPong: false });
      const pongs = [];
      server.on('pong', (data) => pongs.push(data.toString()));
      ws.on('ping', (data) => ws.pong(`manual ${data}`));
      server.ping('1');
      await once(server, 'pong');
      assert.deepStrictEqual(pongs, ['manual 1']);
    });
  });

  describe('closing (§7)', function () {
    it('closes with a code and reason; the server echoes them', async function () {
      const [ws, server] = await connect();
      const serverClose = once(server, 'close');
      const clientClose = once(ws, 'close');
      ws.close(4000, 'client says bye');
      assert.strictEqual(ws.readyState, WebSocket.CLOSING);
      const [code, reason] = await serverClose;
      assert.strictEqual(code, 4000);
      assert.strictEqual(reason.toString(), 'client says bye');
      const [echoed, echoedReason] = await clientClose;
      assert.strictEqual(echoed, 4000);
      assert.strictEqual(echoedReason.toString(), 'client says bye');
      assert.strictEqual(ws.readyState, WebSocket.CLOSED);
    });

    it('gets the server\'s code and reason', async function () {
      const [ws, server] = await connect();
      const closed = once(ws, 'close');
      const serverClosed = once(server, 'close');
      server.close(1001, 'going away ✓');
      const [code, reason] = await closed;
      assert.strictEqual(code, 1001);
      assert.strictEqual(reason.toString(), 'going away ✓');
      assert.strictEqual((await serverClosed)[0], 1001);
    });

    it('reports 1005 both ways for a close without a code', async function () {
      const [ws, server] = await connect();
      const serverClose = once(server, 'close');
      const clientClose = once(ws, 'close');
      ws.close();
      assert.strictEqual((await serverClose)[0], 1005);
      assert.strictEqual((await clientClose)[0], 1005);
    });

    it('reports 1006 to the server when the client terminates', async function () {
      const [ws, server] = await connect();
      const serverClose = once(server, 'close');
      const clientClose = once(ws, 'close');
      ws.terminate();
      assert.strictEqual((await clientClose)[0], 1006);
      assert.strictEqual((await serverClose)[0], 1006);
    });

    it('reports 1006 to the client when the server terminates', async function () {
      const [ws, server] = await connect();
      const clientClose = once(ws, 'close');
      server.terminate();
      const [code, reason] = await clientClose;
      assert.strictEqual(code, 1006);
      assert.strictEqual(reason.length, 0);
    });

    it('delivers the messages sent before the close', async function () {
      const [ws, server] = await connect();
      const received = [];
      ws.on('message', (data) => received.push(data.toString()));
      server.send('one');
      server.send('two');
      server.close(1000);
      await once(ws, 'close');
      assert.deepStrictEqual(received, ['one', 'two']);
    });
  });
});
