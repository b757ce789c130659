'use strict';
// A server-role WebSocket made by hand (`new WebSocket(null, undefined, options)`, as @fastify/websocket's
// injectWS does) with no `closeTimeout` in its options: as in ws, close() leaves no time for the peer's
// close frame, so a peer that never answers (a stream that never ends) still reaches CLOSED at once
// instead of after 30 s. With the option, or through a WebSocketServer, the wait is as configured.
const assert = require('assert');
const net = require('net');
const ws = require('ws');
const weft = require('../..');

/** A connected TCP pair whose far end reads everything and never answers. */
async function silentPair() {
  const server = net.createServer((s) => s.resume());
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const socket = net.connect(server.address().port, '127.0.0.1');
  await new Promise((r) => socket.once('connect', r));
  return { server, socket };
}

for (const [name, lib] of [['ws', ws], ['weft', weft]]) {
  describe(`${name}: closeTimeout of a WebSocket made by hand`, function () {
    this.timeout(5000);

    it('options without closeTimeout: close() to a silent peer ends in CLOSED with 1006 on the next turns', async () => {
      const { server, socket } = await silentPair();
      const client = new lib.WebSocket(null, undefined, { isServer: false });
      client.setSocket(socket, Buffer.alloc(0), { maxPayload: 0 });
      const closed = new Promise((resolve) => client.once('close', (code) => resolve(code)));
      client.close(4200);
      assert.strictEqual(await closed, 1006);
      server.close();
    });

    it('with closeTimeout, the peer gets that long: still CLOSING after a few turns', async () => {
      const { server, socket } = await silentPair();
      const client = new lib.WebSocket(null, undefined, { isServer: false, closeTimeout: 60000 });
      client.setSocket(socket, Buffer.alloc(0), { maxPayload: 0 });
      client.close(4200);
      await new Promise((r) => setTimeout(r, 50));
      assert.strictEqual(client.readyState, lib.WebSocket.CLOSING);
      client.terminate();
      server.close();
    });
  });
}
