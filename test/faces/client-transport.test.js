'use strict';

// How the client reaches the server: ws+unix: URLs (a Unix socket in os.tmpdir()), and wss: over TLS
// (RFC 6455 §4.1: "If /secure/ is true, the client MUST perform a TLS handshake over the connection")
// with the fixture certificate as `ca`, rejectUnauthorized, SNI and servername. The peer is ws 8.23's
// WebSocketServer.
//
// WEFT_CLIENT_UNDER_TEST=ws runs the same assertions against ws 8.23's client.

const assert = require('assert');
const fs = require('fs');
const http = require('http');
const https = require('https');
const os = require('os');
const path = require('path');
const { WebSocketServer } = require('ws');

const underWs = process.env.WEFT_CLIENT_UNDER_TEST === 'ws';
const WebSocket = underWs ? require('ws') : require('../../dist/lib/websocket').WebSocket;
const { once, outcome } = require('../support/client');
const outcomeNoMessage = (ws) => outcome(ws, { withMessage: false });

const fixtures = path.join(__dirname, '..', 'fixtures');
const cert = fs.readFileSync(path.join(fixtures, 'certificate.pem'));
const key = fs.readFileSync(path.join(fixtures, 'key.pem'));

/** Resolves with the arguments of the next `event` on `emitter`. */

describe('client transports', function () {
  let server;
  let wss;
  let clients = [];
  let requests = [];

  function client(...args) {
    const ws = new WebSocket(...args);
    clients.push(ws);
    return ws;
  }

  /** Starts a ws server on `httpServer`, listening with `listenArgs`; it records requests and echoes. */
  async function start(httpServer, ...listenArgs) {
    server = httpServer;
    wss = new WebSocketServer({ server });
    wss.on('connection', (peer, req) => {
      requests.push({ url: req.url, headers: req.headers, servername: req.socket.servername });
      peer.on('message', (data, isBinary) => peer.send(data, { binary: isBinary }));
    });
    await new Promise((resolve) => server.listen(...listenArgs, resolve));
  }

  async function echo(ws, text) {
    const reply = once(ws, 'message');
    ws.send(text);
    const [data] = await reply;
    return data.toString();
  }

  afterEach(async function () {
    for (const ws of clients) {
      ws.removeAllListeners('error');
      ws.on('error', () => {});
      ws.terminate();
    }
    clients = [];
    requests = [];
    if (wss) {
      for (const peer of wss.clients) peer.terminate();
      wss.close();
      wss = null;
    }
    if (server) {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      server = null;
    }
  });

  describe('ws+unix:', function () {
    let socketPath;
    beforeEach(async function () {
      socketPath = path.join(os.tmpdir(), `weft-client-${process.pid}-${Date.now()}.sock`);
      await start(http.createServer(), socketPath);
    });
    afterEach(function () {
      fs.rmSync(socketPath, { force: true });
    });

    it('connects to the socket and requests the path after the ":"', async function () {
      const ws = client(`ws+unix:${socketPath}:/some/path?x=1`);
      await once(ws, 'open');
      assert.strictEqual(ws.url, `ws+unix:${socketPath}:/some/path?x=1`);
      assert.strictEqual(requests[0].url, '/some/path?x=1');
      assert.strictEqual(await echo(ws, 'over ipc'), 'over ipc');
    });

    it('requests / when the URL has no request path', async function () {
      const ws = client(`ws+unix:${socketPath}`);
      await once(ws, 'open');
      assert.strictEqual(requests[0].url, '/');
      assert.strictEqual(requests[0].headers.host, 'localhost');
    });

    it('takes a URL object', async function () {
      const ws = client(new URL(`ws+unix:${socketPath}:/obj`));
      await once(ws, 'open');
      assert.strictEqual(requests[0].url, '/obj');
    });

    it('reports a missing socket as error then close 1006', async function () {
      const ws = client(`ws+unix:${socketPath}.missing:/`);
      const result = await outcomeNoMessage(ws);
      assert.strictEqual(result.error.code, 'ENOENT');
      assert.deepStrictEqual(result.events, ['error(2)', 'close(3): 1006']);
    });
  });

  describe('wss:', function () {
    let port;
    beforeEach(async function () {
      await start(https.createServer({ cert, key }), 0, '127.0.0.1');
      port = server.address().port;
    });

    it('connects with the fixture as ca, sending SNI for the host name', async function () {
      const ws = client(`wss://localhost:${port}/secure`, { ca: cert, lookup: localhost });
      await once(ws, 'open');
      assert.strictEqual(ws.url, `wss://localhost:${port}/secure`);
      assert.strictEqual(requests[0].url, '/secure');
      assert.strictEqual(requests[0].servername, 'localhost');
      assert.strictEqual(await echo(ws, 'encrypted'), 'encrypted');
      assert.strictEqual(ws._socket.encrypted, true);
    });

    it('sends no SNI for an IP address', async function () {
      const ws = client(`wss://127.0.0.1:${port}/`, { ca: cert });
      await once(ws, 'open');
      assert.strictEqual(requests[0].servername, false);
    });

    it('passes the servername option through (and checks the certificate against it)', async function () {
      const lax = client(`wss://127.0.0.1:${port}/`, { servername: 'custom.test', rejectUnauthorized: false });
      await once(lax, 'open');
      assert.strictEqual(requests[0].servername, 'custom.test');
      const strict = client(`wss://127.0.0.1:${port}/`, { servername: 'custom.test', ca: cert });
      const result = await outcomeNoMessage(strict);
      assert.strictEqual(result.error.code, 'ERR_TLS_CERT_ALTNAME_INVALID');
      assert.deepStrictEqual(result.events, ['error(2)', 'close(3): 1006']);
    });

    it('rejects the self-signed certificate without ca: error, then close 1006', async function () {
      const ws = client(`wss://127.0.0.1:${port}/`);
      const result = await outcomeNoMessage(ws);
      assert.strictEqual(result.error.code, 'DEPTH_ZERO_SELF_SIGNED_CERT');
      assert.deepStrictEqual(result.events, ['error(2)', 'close(3): 1006']);
      assert.strictEqual(requests.length, 0);
    });

    it('connects with rejectUnauthorized: false', async function () {
      const ws = client(`wss://127.0.0.1:${port}/`, { rejectUnauthorized: false });
      await once(ws, 'open');
      assert.strictEqual(await echo(ws, 'unverified'), 'unverified');
    });

    it('reads https: as wss:', async function () {
      const ws = client(`https://127.0.0.1:${port}/h`, { ca: cert });
      assert.strictEqual(ws.url, `wss://127.0.0.1:${port}/h`);
      await once(ws, 'open');
      assert.strictEqual(ws._socket.encrypted, true);
    });

    it('fails a plain ws: connection to the TLS server', async function () {
      const ws = client(`ws://127.0.0.1:${port}/`);
      const result = await outcomeNoMessage(ws);
      assert(result.error);
      assert.deepStrictEqual(result.events, ['error(2)', 'close(3): 1006']);
    });

    it('uses an https.Agent given as agent', async function () {
      const agent = new https.Agent({ ca: cert });
      const created = [];
      const original = agent.createConnection.bind(agent);
      agent.createConnection = (options, callback) => {
        created.push(options.host);
        return original(options, callback);
      };
      const ws = client(`wss://127.0.0.1:${port}/`, { agent });
      await once(ws, 'open');
      assert.deepStrictEqual(created, ['127.0.0.1']);
      agent.destroy();
    });
  });
});

/** A `lookup` that resolves every name to 127.0.0.1 (the server listens on IPv4 only). */
function localhost(hostname, options, callback) {
  if (options.all) callback(null, [{ address: '127.0.0.1', family: 4 }]);
  else callback(null, '127.0.0.1', 4);
}
