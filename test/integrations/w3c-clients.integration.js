'use strict';
// W3C WebSocket clients that are not weft against weft's WebSocketServer: Node's built-in WebSocket
// (undici inside Node; global since Node 22, behind --experimental-websocket on Node 20, which run.js
// passes) and the `undici` package's WebSocket.
const assert = require('assert');
const undici = require('undici');
const { weft, once, nextEvent, within, noise } = require('./support');

const clients = [
  ["Node's built-in WebSocket", () => globalThis.WebSocket, null],
  ["undici's WebSocket", () => undici.WebSocket, undici.ping],
];

for (const [name, getClass, ping] of clients) {
  describe(`${name} against weft's server`, function () {
    let wss;
    let port;
    let connections;

    async function start(options = {}) {
      wss = new weft.WebSocketServer({ port: 0, host: '127.0.0.1', ...options });
      await once(wss, 'listening');
      port = wss.address().port;
      connections = [];
      wss.on('connection', (ws, req) => connections.push({ ws, req }));
    }

    /** Opens a client; resolves with it and the server's side of the connection. */
    async function connect(protocols) {
      const WebSocket = getClass();
      assert.strictEqual(typeof WebSocket, 'function', `${name} is not available in this Node ${process.version}`);
      const server = once(wss, 'connection');
      const client = new WebSocket(`ws://127.0.0.1:${port}/`, protocols);
      client.binaryType = 'arraybuffer';
      await within(nextEvent(client, 'open'), 5000, 'open');
      const [ws, req] = await server;
      return { client, ws, req };
    }

    /** Server echoes every message as it came (text as text, binary as binary). */
    function echo(ws) {
      ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
    }

    afterEach(async function () {
      if (!wss) return;
      for (const { ws } of connections) ws.terminate();
      await new Promise((resolve) => wss.close(resolve));
      wss = null;
    });

    it('round-trips text, non-ASCII included, as a string', async function () {
      await start();
      const { client, ws } = await connect();
      echo(ws);
      const text = 'héllo wörld, 𝄞 and 🌍';
      const got = nextEvent(client, 'message');
      client.send(text);
      const event = await within(got, 5000, 'the echo');
      assert.strictEqual(event.data, text);
      client.close();
    });

    it('round-trips binary as an ArrayBuffer, every byte value', async function () {
      await start();
      const { client, ws } = await connect();
      const seen = once(ws, 'message');
      echo(ws);
      const bytes = new Uint8Array(256).map((_, i) => i);
      const got = nextEvent(client, 'message');
      client.send(bytes);
      const [data, isBinary] = await seen;
      assert.strictEqual(isBinary, true);
      assert.deepStrictEqual(Buffer.from(data), Buffer.from(bytes));
      const event = await within(got, 5000, 'the echo');
      assert.ok(event.data instanceof ArrayBuffer, 'binary arrives as an ArrayBuffer');
      assert.deepStrictEqual(Buffer.from(event.data), Buffer.from(bytes));
      client.close();
    });

    it('round-trips a 1 MiB binary message and a 1 MiB text message', async function () {
      await start();
      const { client, ws } = await connect();
      echo(ws);
      const binary = noise(1024 * 1024);
      let got = nextEvent(client, 'message');
      client.send(binary);
      let event = await within(got, 10000, 'the 1 MiB binary echo');
      assert.strictEqual(event.data.byteLength, binary.length);
      assert.ok(Buffer.from(event.data).equals(binary), '1 MiB binary came back intact');

      const text = 'λ'.repeat(512 * 1024); // 1 MiB of UTF-8
      got = nextEvent(client, 'message');
      client.send(text);
      event = await within(got, 10000, 'the 1 MiB text echo');
      assert.strictEqual(event.data, text);
      client.close();
    });

    it('negotiates permessage-deflate and inflates what the server compresses, 1 MiB included', async function () {
      await start({ perMessageDeflate: { threshold: 0 } });
      const { client, ws, req } = await connect();
      assert.match(client.extensions, /^permessage-deflate/);
      assert.strictEqual(ws.extensions, 'permessage-deflate');
      echo(ws);

      const small = 'compress me '.repeat(20);
      let got = nextEvent(client, 'message');
      client.send(small);
      assert.strictEqual((await within(got, 5000, 'the small echo')).data, small);

      const big = JSON.stringify(Array.from({ length: 40000 }, (_, i) => ({ id: i, name: `item ${i % 97}` })));
      assert.ok(big.length > 1024 * 1024);
      const before = req.socket.bytesWritten;
      got = nextEvent(client, 'message');
      client.send(big);
      const event = await within(got, 10000, 'the 1 MiB compressed echo');
      assert.strictEqual(event.data, big);
      const onWire = req.socket.bytesWritten - before;
      assert.ok(onWire < big.length / 4, `the echo went out compressed (${onWire} bytes for ${big.length})`);
      client.close();
    });

    it('assembles a message the server sends in fragments (fin: false), compressed or not', async function () {
      await start({ perMessageDeflate: { threshold: 0 } });
      const { client, ws } = await connect();
      const parts = ['first part, ', 'sécond part, ', 'third and last'];
      for (const compress of [false, true]) {
        const got = nextEvent(client, 'message');
        parts.forEach((part, i) => ws.send(part, { fin: i === parts.length - 1, compress }));
        assert.strictEqual((await within(got, 5000, 'the assembled message')).data, parts.join(''));
      }
      const got = nextEvent(client, 'message');
      ws.send(Buffer.from([1, 2]), { binary: true, fin: false });
      ws.send(Buffer.from([3]), { binary: true, fin: true });
      assert.deepStrictEqual([...new Uint8Array((await within(got, 5000, 'the binary message')).data)], [1, 2, 3]);
      client.close();
    });

    it('answers the server\'s ping with a pong carrying the same payload', async function () {
      await start();
      const { client, ws } = await connect();
      const pong = once(ws, 'pong');
      ws.ping(Buffer.from('are you there?'));
      const [data] = await within(pong, 5000, 'the pong');
      assert.strictEqual(data.toString(), 'are you there?');
      client.close();
    });

    if (ping) {
      it('sends a ping the server sees (and answers) with its payload', async function () {
        await start();
        const { client, ws } = await connect();
        echo(ws);
        const seen = once(ws, 'ping');
        ping(client, Buffer.from('ping from undici'));
        const [data] = await within(seen, 5000, 'the ping');
        assert.strictEqual(data.toString(), 'ping from undici');
        // The connection is still usable after the server's automatic pong.
        const got = nextEvent(client, 'message');
        client.send('after ping');
        assert.strictEqual((await within(got, 5000, 'the echo')).data, 'after ping');
        client.close();
      });
    }

    it('closes from the client: the server sees the code and reason, the client a clean close', async function () {
      await start();
      const { client, ws } = await connect();
      const serverClose = once(ws, 'close');
      const clientClose = nextEvent(client, 'close');
      client.close(4001, 'client says bye ✓');
      const [code, reason] = await within(serverClose, 5000, "the server's close");
      assert.strictEqual(code, 4001);
      assert.strictEqual(reason.toString(), 'client says bye ✓');
      const event = await within(clientClose, 5000, "the client's close");
      assert.strictEqual(event.code, 4001);
      assert.strictEqual(event.reason, 'client says bye ✓');
      assert.strictEqual(event.wasClean, true);
    });

    it('closes from the server: the client sees the code and reason, the server the echoed code', async function () {
      await start();
      const { client, ws } = await connect();
      const serverClose = once(ws, 'close');
      const clientClose = nextEvent(client, 'close');
      ws.close(4002, 'server says bye');
      const event = await within(clientClose, 5000, "the client's close");
      assert.strictEqual(event.code, 4002);
      assert.strictEqual(event.reason, 'server says bye');
      assert.strictEqual(event.wasClean, true);
      // The server's 'close' carries the close frame the client echoed: the same code (the reason is
      // the client's to choose, and these clients echo none).
      const [code] = await within(serverClose, 5000, "the server's close");
      assert.strictEqual(code, 4002);
    });

    it('delivers compressed messages the server sent just before closing, then the close', async function () {
      await start({ perMessageDeflate: { threshold: 0 } });
      const { client, ws } = await connect();
      const got = [];
      client.addEventListener('message', (event) => got.push(event.data));
      const clientClose = nextEvent(client, 'close');
      const big = 'last words '.repeat(50000);
      ws.send('one');
      ws.send(big);
      ws.send('three');
      ws.close(4004, 'that is all');
      const event = await within(clientClose, 5000, "the client's close");
      assert.deepStrictEqual(got.map((m) => m.length), [3, big.length, 5]);
      assert.strictEqual(got[1], big);
      assert.strictEqual(event.code, 4004);
      assert.strictEqual(event.reason, 'that is all');
      assert.strictEqual(event.wasClean, true);
    });

    it('closes from the server with the longest reason a close frame holds (123 bytes)', async function () {
      await start();
      const { client, ws } = await connect();
      const clientClose = nextEvent(client, 'close');
      const reason = 'é'.repeat(61) + 'x'; // 123 bytes of UTF-8
      assert.strictEqual(Buffer.byteLength(reason), 123);
      ws.close(4003, reason);
      const event = await within(clientClose, 5000, "the client's close");
      assert.strictEqual(event.code, 4003);
      assert.strictEqual(event.reason, reason);
      assert.strictEqual(event.wasClean, true);
    });

    it('closes from the server without a code: the client sees 1005', async function () {
      await start();
      const { client, ws } = await connect();
      const serverClose = once(ws, 'close');
      const clientClose = nextEvent(client, 'close');
      ws.close();
      const event = await within(clientClose, 5000, "the client's close");
      assert.strictEqual(event.code, 1005);
      assert.strictEqual(event.reason, '');
      assert.strictEqual(event.wasClean, true);
      const [code] = await within(serverClose, 5000, "the server's close");
      assert.strictEqual(code, 1005);
    });

    it('closes from the server with 1000 and no reason', async function () {
      await start();
      const { client, ws } = await connect();
      const clientClose = nextEvent(client, 'close');
      ws.close(1000);
      const event = await within(clientClose, 5000, "the client's close");
      assert.strictEqual(event.code, 1000);
      assert.strictEqual(event.reason, '');
      assert.strictEqual(event.wasClean, true);
    });

    it('sees a server-side terminate() as an unclean close (1006)', async function () {
      await start();
      const { client, ws } = await connect();
      const clientClose = nextEvent(client, 'close');
      ws.terminate();
      const event = await within(clientClose, 5000, "the client's close");
      assert.strictEqual(event.code, 1006);
      assert.strictEqual(event.wasClean, false);
    });

    it('fails to connect when verifyClient refuses the handshake: an error event, never open', async function () {
      let seen = 0;
      await start({
        verifyClient: (info, callback) => {
          seen++;
          callback(false, 401, 'Unauthorized');
        },
      });
      const WebSocket = getClass();
      const client = new WebSocket(`ws://127.0.0.1:${port}/`);
      let opened = false;
      client.addEventListener('open', () => { opened = true; });
      await within(nextEvent(client, 'error'), 5000, 'the error');
      assert.strictEqual(opened, false);
      assert.notStrictEqual(client.readyState, WebSocket.OPEN);
      assert.ok(seen >= 1, 'the server saw the handshake');
      assert.strictEqual(connections.length, 0);
      client.close();
    });

    it('agrees on the subprotocol the server picks from the ones offered', async function () {
      let offered;
      await start({
        handleProtocols: (protocols) => {
          offered = [...protocols];
          return protocols.has('v2.weft') ? 'v2.weft' : false;
        },
      });
      const { client, ws } = await connect(['v1.weft', 'v2.weft']);
      assert.deepStrictEqual(offered, ['v1.weft', 'v2.weft']);
      assert.strictEqual(client.protocol, 'v2.weft');
      assert.strictEqual(ws.protocol, 'v2.weft');
      client.close();
    });
  });
}
