'use strict';
// Chromium against a weft server on HTTP/2 (`npm run test:browser`): a page loaded over h2 opens a
// `wss://` WebSocket, which Chromium sends as an extended CONNECT (RFC 8441) on the page's own h2
// connection when the server advertises SETTINGS_ENABLE_CONNECT_PROTOCOL — checked on the server by
// comparing the sessions the page request and the WebSocket arrived on — and over HTTP/1.1 when not.
const assert = require('assert');
const fs = require('fs');
const http2 = require('http2');
const os = require('os');
const path = require('path');
const WebSocket = require('../..');
const { CHROMIUM } = require('./harness');

const TLS = {
  cert: fs.readFileSync(path.join(__dirname, '..', 'fixtures', 'certificate.pem')),
  key: fs.readFileSync(path.join(__dirname, '..', 'fixtures', 'key.pem')),
};

/** The test page: opens a WebSocket to /ws, sends two messages, records the echoes and the close. */
const PAGE = `<!doctype html><meta charset="utf-8"><title>h2</title><script>
window.result = new Promise((resolve) => {
  const events = [];
  const ws = new WebSocket('wss://' + location.host + '/ws?from=page');
  ws.binaryType = 'arraybuffer';
  ws.onopen = () => { events.push('open'); ws.send('héllo'); ws.send(new Uint8Array([1, 2, 3]).buffer); };
  ws.onmessage = (e) => {
    events.push(typeof e.data === 'string' ? 'text:' + e.data : 'binary:' + Array.from(new Uint8Array(e.data)).join(','));
    if (events.length === 3) ws.close(4321, 'page done');
  };
  ws.onerror = () => events.push('error');
  ws.onclose = (e) => { events.push('close:' + e.code + ':' + e.reason); resolve(events); };
});
</script>`;

/**
 * An h2 server (TLS, HTTP/1.1 allowed) serving PAGE at `/`; `connectProtocol` false keeps the
 * WebSocketServer off the server's streams (it then only gets HTTP/1.1 upgrades).
 */
async function start(connectProtocol) {
  const seen = { page: null, ws: null };
  const server = http2.createSecureServer({ ...TLS, allowHTTP1: true }, (req, res) => {
    if (req.url === '/') {
      seen.page = { httpVersion: req.httpVersion, session: req.stream ? req.stream.session : null };
      res.setHeader('content-type', 'text/html; charset=utf-8');
      res.end(PAGE);
    } else {
      res.statusCode = 404;
      res.end();
    }
  });
  let wss;
  if (connectProtocol) {
    wss = new WebSocket.WebSocketServer({ server, path: '/ws' });
  } else {
    wss = new WebSocket.WebSocketServer({ noServer: true, path: '/ws' });
    server.on('upgrade', (req, socket, head) => wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req)));
  }
  const closed = new Promise((resolve) => {
    wss.on('connection', (ws, req) => {
      seen.ws = { method: req.method, url: req.url, httpVersion: req.httpVersion, session: req.stream ? req.stream.session : null };
      ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
      ws.on('close', (code, reason) => resolve([code, reason.toString()]));
    });
  });
  const sockets = new Set();
  server.on('connection', (socket) => sockets.add(socket));
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: server.address().port,
    seen,
    closed,
    async stop() {
      await new Promise((resolve) => wss.close(resolve));
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

describe('Chromium: WebSockets over HTTP/2 (RFC 8441)', function () {
  let browser;
  let userDataDir;

  before(async function () {
    if (!fs.existsSync(CHROMIUM)) {
      throw new Error(`Chromium not found at ${CHROMIUM}: apt-get update && apt-get install -y chromium`);
    }
    const { chromium } = require('playwright-core');
    userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'weft-chromium-h2-'));
    // The fixture certificate is self-signed: Chromium is told to accept it (page and WebSocket alike).
    browser = await chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM,
      headless: true,
      ignoreHTTPSErrors: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--ignore-certificate-errors'],
    });
  });

  after(async function () {
    if (browser) await browser.close();
    if (userDataDir) fs.rmSync(userDataDir, { recursive: true, force: true });
  });

  it('opens the page’s wss:// WebSocket as a CONNECT stream on the page’s own h2 session', async () => {
    const server = await start(true);
    const page = await browser.newPage();
    try {
      await page.goto(`https://localhost:${server.port}/`);
      const events = await page.evaluate(() => window.result);
      assert.deepStrictEqual(events, ['open', 'text:héllo', 'binary:1,2,3', 'close:4321:page done']);
      assert.deepStrictEqual(await server.closed, [4321, 'page done']);
      assert.strictEqual(server.seen.page.httpVersion, '2.0');
      assert.strictEqual(server.seen.ws.method, 'CONNECT');
      assert.strictEqual(server.seen.ws.url, '/ws?from=page');
      assert.ok(server.seen.ws.session !== null);
      assert.strictEqual(server.seen.ws.session, server.seen.page.session);
    } finally {
      await page.close();
      await server.stop();
    }
  });

  it('uses HTTP/1.1 for the WebSocket when the h2 server does not advertise the connect protocol', async () => {
    const server = await start(false);
    const page = await browser.newPage();
    try {
      await page.goto(`https://localhost:${server.port}/`);
      const events = await page.evaluate(() => window.result);
      assert.deepStrictEqual(events, ['open', 'text:héllo', 'binary:1,2,3', 'close:4321:page done']);
      assert.strictEqual(server.seen.page.httpVersion, '2.0');
      assert.strictEqual(server.seen.ws.method, 'GET');
      assert.strictEqual(server.seen.ws.httpVersion, '1.1');
    } finally {
      await page.close();
      await server.stop();
    }
  });
});
