'use strict';
// permessage-deflate over real sockets: a weft server with `perMessageDeflate` and the ws package's
// client (which offers the extension by default), both directions, plus the bomb over the wire.
const assert = require('assert');
const { once } = require('events');
const WS = require('ws');
const { WebSocketServer } = require('../../dist/lib/server');

function listen(options) {
  return new Promise((resolve) => {
    const wss = new WebSocketServer({ port: 0, ...options }, () => resolve(wss));
  });
}

describe('permessage-deflate over sockets (weft server ↔ ws client)', () => {
  let wss;
  afterEach((done) => {
    for (const c of wss.clients) c.terminate();
    wss.close(() => done());
  });

  it('negotiates and round-trips compressed text and binary, large and fragmented', async () => {
    wss = await listen({ perMessageDeflate: { threshold: 0 } });
    wss.on('connection', (ws) => ws.on('message', (d, isBinary) => ws.send(d, { binary: isBinary })));
    const client = new WS(`ws://127.0.0.1:${wss.address().port}`);
    await once(client, 'open');
    assert.strictEqual(client.extensions, 'permessage-deflate');
    const [server] = wss.clients;
    assert.strictEqual(server.extensions, 'permessage-deflate');
    const big = Buffer.alloc(4 * 1024 * 1024);
    for (let i = 0; i < big.length; i++) big[i] = (i * 31) & 0xff;
    const msgs = ['hello '.repeat(1000), Buffer.from([1, 2, 3]), big];
    const got = [];
    client.on('message', (d, isBinary) => got.push([d, isBinary]));
    for (const m of msgs) client.send(m);
    client.send('frag-', { fin: false });
    client.send('mented', { fin: true });
    while (got.length < 4) await once(client, 'message');
    assert.strictEqual(got[0][0].toString(), msgs[0]);
    assert.deepStrictEqual([...got[1][0]], [1, 2, 3]);
    assert.ok(got[2][0].equals(big));
    assert.strictEqual(got[3][0].toString(), 'frag-mented');
    assert.deepStrictEqual(got.map((g) => g[1]), [false, true, true, false]);
    client.close();
    await once(client, 'close');
  });

  it('a decompression bomb closes with 1009 once the inflated size passes maxPayload', async () => {
    wss = await listen({ perMessageDeflate: true, maxPayload: 64 * 1024 });
    const serverError = new Promise((resolve) => wss.on('connection', (ws) => ws.on('error', resolve)));
    const client = new WS(`ws://127.0.0.1:${wss.address().port}`, { maxPayload: 0 });
    await once(client, 'open');
    client.send(Buffer.alloc(16 * 1024 * 1024)); // 16 MiB of zeros deflate to a few KiB
    const [code] = await once(client, 'close');
    const err = await serverError;
    assert.strictEqual(code, 1009);
    assert.strictEqual(err.code, 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH');
  });

  it('without perMessageDeflate the server negotiates nothing', async () => {
    wss = await listen({});
    const client = new WS(`ws://127.0.0.1:${wss.address().port}`);
    await once(client, 'open');
    assert.strictEqual(client.extensions, '');
    client.close();
    await once(client, 'close');
  });
});

describe('permessage-deflate over sockets (weft client)', () => {
  const WebSocket = require('../..');
  let server;
  afterEach((done) => server.close(() => done()));

  for (const [name, make] of [
    ['ws server', (cb) => new WS.WebSocketServer({ port: 0, perMessageDeflate: { threshold: 0 } }, cb)],
    ['weft server', (cb) => new WebSocketServer({ port: 0, perMessageDeflate: { threshold: 0 } }, cb)],
  ]) {
    it(`weft client ↔ ${name}: negotiated by default, round trips of every size`, async () => {
      await new Promise((resolve) => { server = make(resolve); });
      server.on('connection', (ws) => ws.on('message', (d, isBinary) => ws.send(d, { binary: isBinary })));
      const client = new WebSocket(`ws://127.0.0.1:${server.address().port}`, { perMessageDeflate: { threshold: 0 } });
      await once(client, 'open');
      assert.strictEqual(client.extensions, 'permessage-deflate');
      const sizes = [0, 1, 125, 1024, 70000, 2 * 1024 * 1024];
      const got = [];
      client.on('message', (d) => got.push(d));
      for (const n of sizes) client.send(Buffer.alloc(n, n & 0xff));
      client.send('text '.repeat(100));
      while (got.length < sizes.length + 1) await once(client, 'message');
      sizes.forEach((n, i) => assert.ok(got[i].equals(Buffer.alloc(n, n & 0xff)), `size ${n}`));
      assert.strictEqual(got[sizes.length].toString(), 'text '.repeat(100));
      client.close();
      await once(client, 'close');
    });
  }
});
