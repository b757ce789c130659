'use strict';
// fastify serving HTTP/2 (`http2: true` with `allowHTTP1`), weft's WebSocketServer on fastify's server:
// WebSockets arrive as RFC 8441 CONNECT streams from an h2 client and as upgrades from an HTTP/1.1
// client, while fastify's own routes keep answering over h2 — as the README shows it.
const assert = require('assert');
const fs = require('fs');
const path = require('path');
const Fastify = require('fastify');
const { weft, once, within, repoRoot } = require('./support');

const key = fs.readFileSync(path.join(repoRoot, 'test', 'fixtures', 'key.pem'));
const cert = fs.readFileSync(path.join(repoRoot, 'test', 'fixtures', 'certificate.pem'));

describe('fastify over HTTP/2 with weft', function () {
  this.timeout(15000);
  let app;
  let wss;
  afterEach(async () => {
    if (wss) for (const c of wss.clients) c.terminate();
    if (wss) await new Promise((r) => wss.close(r));
    if (app) await app.close();
    app = wss = null;
  });

  it('WebSockets over h2 (CONNECT) and HTTP/1.1 (upgrade) on fastify.server; routes answer over h2', async () => {
    app = Fastify({ http2: true, https: { key, cert, allowHTTP1: true } });
    app.get('/', async () => ({ hello: 'h2' }));
    wss = new weft.WebSocketServer({ server: app.server, path: '/ws' });
    const seen = [];
    wss.on('connection', (ws, req) => {
      seen.push(`${req.method} ${req.httpVersion}`);
      ws.on('message', (data) => ws.send(`echo:${data}`));
    });
    await app.listen({ port: 0, host: '127.0.0.1' });
    const url = `wss://localhost:${app.server.address().port}/ws`;

    for (const http2 of [true, false]) {
      const ws = new weft.WebSocket(url, { http2, ca: cert });
      await within(once(ws, 'open'), 5000, 'open');
      ws.send(http2 ? 'over h2' : 'over 1.1');
      const [reply] = await within(once(ws, 'message'), 5000, 'message');
      assert.strictEqual(reply.toString(), http2 ? 'echo:over h2' : 'echo:over 1.1');
      ws.close(1000);
      const [code] = await within(once(ws, 'close'), 5000, 'close');
      assert.strictEqual(code, 1000);
    }
    assert.deepStrictEqual(seen, ['CONNECT 2.0', 'GET 1.1']);

    // fastify's route, over h2.
    const http2 = require('http2');
    const session = http2.connect(`https://localhost:${app.server.address().port}`, { ca: cert });
    const req = session.request({ ':path': '/' });
    let body = '';
    req.on('data', (d) => (body += d));
    await within(once(req, 'end'), 5000, 'route');
    session.close();
    assert.deepStrictEqual(JSON.parse(body), { hello: 'h2' });
  });
});
