'use strict';
// `weft connect`: spawned against weft's WebSocketServer and against a raw peer on net.

const assert = require('assert');
const fs = require('fs');
const http = require('http');
const https = require('https');
const net = require('net');
const os = require('os');
const path = require('path');
const { WebSocketServer } = require('../..');
const { TLS } = require('../support/server');
const { start, run, killAll, rawPeer } = require('../support/cli');
const { frame } = require('../support/frames');

const CA = path.join(__dirname, '..', 'fixtures', 'certificate.pem');

describe('weft connect', function () {
  const closers = [];
  afterEach(async () => {
    killAll();
    await Promise.all(closers.splice(0).map((close) => close()));
  });

  /** A weft server; `onConnection(ws, req)`. Resolves with `{ wss, url, seen }` (seen: requests). */
  async function weftServer(onConnection = () => {}, options = {}) {
    const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', ...options });
    await new Promise((resolve) => wss.on('listening', resolve));
    const seen = [];
    wss.on('connection', (ws, req) => {
      seen.push({ ws, req, messages: [], close: null });
      const entry = seen[seen.length - 1];
      ws.on('message', (data, isBinary) => entry.messages.push(isBinary ? Buffer.from(data) : data.toString()));
      ws.on('close', (code, reason) => (entry.close = { code, reason: reason.toString() }));
      onConnection(ws, req);
    });
    closers.push(
      () =>
        new Promise((resolve) => {
          for (const c of wss.clients) c.terminate();
          wss.close(resolve);
        }),
    );
    return { wss, url: `ws://127.0.0.1:${wss.address().port}`, seen };
  }

  /** An echo server. */
  function echoServer(options) {
    return weftServer((ws) => ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary })), options);
  }

  function trackRaw(peer) {
    closers.push(
      () =>
        new Promise((resolve) => {
          for (const p of peer.peers) p.socket.destroy();
          peer.server.close(resolve);
        }),
    );
    return peer;
  }

  describe('usage', function () {
    it('exits 1 on an unknown option, a missing URL and a bad URL', async function () {
      const unknown = await run(['connect', 'ws://127.0.0.1:1', '--frobnicate']);
      assert.strictEqual(unknown.code, 1);
      assert.match(unknown.stderr, /unknown option --frobnicate/);
      assert.strictEqual((await run(['connect'])).code, 1);
      const bad = await run(['connect', 'ftp://example.com/']);
      assert.strictEqual(bad.code, 1);
      assert.strictEqual(bad.stdout, '');
    });

    it('exits 1 when --ca names a file that does not exist', async function () {
      const r = await run(['connect', 'wss://127.0.0.1:1', '--ca', path.join(os.tmpdir(), 'weft-no-such-ca.pem')]);
      assert.strictEqual(r.code, 1);
      assert.match(r.stderr, /cannot read --ca/);
    });

    it('--help lists the options and the exit statuses, and exits 0', async function () {
      const r = await run(['--help']);
      assert.strictEqual(r.code, 0);
      for (const flag of ['--subprotocol', '--header', '--origin', '--auth', '--no-check', '--ca', '--execute', '--slash']) {
        assert.ok(r.stdout.includes(flag), flag);
      }
      assert.match(r.stdout, /Exit status/);
    });
  });

  describe('--execute', function () {
    it('sends the message, prints the reply, closes with 1000 and exits 0', async function () {
      const { url, seen } = await echoServer();
      const r = await run(['connect', url, '-x', 'hello', '--count', '1']);
      assert.strictEqual(r.code, 0, r.stderr);
      assert.strictEqual(r.stdout, 'hello\n');
      assert.match(r.stderr, /connected to/);
      assert.deepStrictEqual(seen[0].messages, ['hello']);
      await waitUntil(() => seen[0].close !== null);
      assert.strictEqual(seen[0].close.code, 1000);
    });

    it('waits --wait seconds for replies when no --count is given', async function () {
      const { url } = await weftServer((ws) => ws.on('message', () => setTimeout(() => ws.send('late'), 50)));
      const r = await run(['connect', url, '-x', 'q', '-w', '0.5']);
      assert.strictEqual(r.code, 0, r.stderr);
      assert.strictEqual(r.stdout, 'late\n');
    });

    it('sends several --execute messages in order (wscat form -c URL)', async function () {
      const { url, seen } = await echoServer();
      const r = await run(['-c', url, '-x', 'a', '-x', 'b', '-x', 'c', '--count', '3']);
      assert.strictEqual(r.code, 0, r.stderr);
      assert.strictEqual(r.stdout, 'a\nb\nc\n');
      assert.deepStrictEqual(seen[0].messages, ['a', 'b', 'c']);
    });
  });

  describe('exit statuses', function () {
    it('exits 4 when the server closes with an error code, printing the code and reason', async function () {
      const { url } = await weftServer((ws) => ws.on('message', () => ws.close(4001, 'go away')));
      const r = await run(['connect', url, '-x', 'x', '-w', '-1']);
      assert.strictEqual(r.code, 4);
      assert.match(r.stderr, /code: 4001, reason: "go away"/);
    });

    it('exits 0 when the server closes with 1001', async function () {
      const { url } = await weftServer((ws) => ws.close(1001));
      const r = await run(['connect', url, '-w', '-1'], { input: '' });
      assert.strictEqual(r.code, 0, r.stderr);
    });

    it('exits 3 when a raw peer drops the TCP connection without a close frame', async function () {
      const peer = trackRaw(await rawPeer({ onFrame: (f, socket) => socket.destroy() }));
      const r = await run(['connect', `ws://127.0.0.1:${peer.port}`, '-x', 'boom', '-w', '-1']);
      assert.strictEqual(r.code, 3);
      assert.match(r.stderr, /code: 1006/);
    });

    it('exits 5 after failing the connection with 1002 when a raw peer sends a masked frame', async function () {
      const masked = Buffer.from([0x81, 0x82, 1, 2, 3, 4, 0x68 ^ 1, 0x69 ^ 2]);
      const peer = trackRaw(
        await rawPeer({
          onOpen: (socket) => socket.write(masked),
          onFrame: (f, socket) => {
            if (f.opcode === 8) socket.end(frame({ opcode: 8, payload: f.payload, mask: false }));
          },
        }),
      );
      const r = await run(['connect', `ws://127.0.0.1:${peer.port}`, '-w', '-1']);
      assert.strictEqual(r.code, 5);
      assert.strictEqual(r.stdout, '');
      assert.match(r.stderr, /WS_ERR_UNEXPECTED_MASK/);
      const close = peer.peers[0].frames.frames.find((f) => f.opcode === 8);
      assert.strictEqual(close.payload.readUInt16BE(0), 1002);
    });

    it('exits 5 when a message is over --max-payload (weft closes with 1009)', async function () {
      const { url, seen } = await weftServer((ws) => ws.send('x'.repeat(100)));
      const r = await run(['connect', url, '--max-payload', '10', '-w', '-1']);
      assert.strictEqual(r.code, 5);
      assert.strictEqual(r.stdout, '');
      assert.match(r.stderr, /WS_ERR_UNSUPPORTED_MESSAGE_LENGTH/);
      await waitUntil(() => seen[0].close !== null);
      assert.strictEqual(seen[0].close.code, 1009);
    });

    it('exits 2 when nothing listens', async function () {
      const port = await freePort();
      const r = await run(['connect', `ws://127.0.0.1:${port}`]);
      assert.strictEqual(r.code, 2);
      assert.match(r.stderr, /ECONNREFUSED/);
    });

    it('exits 2 when the server refuses the handshake with 401', async function () {
      const { url } = await weftServer(() => {}, { verifyClient: (info, cb) => cb(false, 401) });
      const r = await run(['connect', url, '-x', 'x']);
      assert.strictEqual(r.code, 2);
      assert.match(r.stderr, /401/);
    });

    it('exits 2 when the server picks no offered subprotocol', async function () {
      const { url } = await weftServer(() => {}, { handleProtocols: () => false });
      const r = await run(['connect', url, '-s', 'chat', '-x', 'x']);
      assert.strictEqual(r.code, 2);
    });

    it('exits 2 after --connect-timeout when a raw peer never answers the upgrade', async function () {
      const peer = trackRaw(await rawPeer({ respond: false }));
      const r = await run(['connect', `ws://127.0.0.1:${peer.port}`, '--connect-timeout', '0.2']);
      assert.strictEqual(r.code, 2);
      assert.match(r.stderr, /timed out/i);
    });

    it('a first SIGINT closes with 1000 and exits 0', async function () {
      const { url, seen } = await echoServer();
      const cli = start(['connect', url]);
      await cli.waitFor('stderr', /connected to/);
      cli.child.kill('SIGINT');
      const r = await cli.exited;
      assert.strictEqual(r.code, 0, r.stderr);
      await waitUntil(() => seen[0].close !== null);
      assert.strictEqual(seen[0].close.code, 1000);
    });
  });

  describe('what reaches the server', function () {
    it('sends --header, --origin, --auth and --subprotocol in the upgrade request', async function () {
      const { url, seen } = await weftServer((ws) => ws.send(`protocol=${ws.protocol}`));
      const r = await run([
        'connect',
        `${url}/path?q=1`,
        '-H',
        'X-Token: abc 123',
        '--header=X-Other:2',
        '-o',
        'https://origin.example',
        '--auth',
        'alice:s3cret',
        '-s',
        'v1.chat',
        '-s',
        'v2.chat',
        '--count',
        '1',
      ]);
      assert.strictEqual(r.code, 0, r.stderr);
      assert.strictEqual(r.stdout, 'protocol=v1.chat\n');
      assert.match(r.stderr, /subprotocol: v1\.chat/);
      const { headers, url: reqUrl } = seen[0].req;
      assert.strictEqual(reqUrl, '/path?q=1');
      assert.strictEqual(headers['x-token'], 'abc 123');
      assert.strictEqual(headers['x-other'], '2');
      assert.strictEqual(headers.origin, 'https://origin.example');
      assert.strictEqual(headers.authorization, 'Basic ' + Buffer.from('alice:s3cret').toString('base64'));
      assert.strictEqual(headers['sec-websocket-protocol'], 'v1.chat,v2.chat');
    });

    it('sends exactly one masked text frame per stdin line, then a 1000 close frame (raw peer)', async function () {
      const peer = trackRaw(
        await rawPeer({
          onFrame: (f, socket) => {
            if (f.opcode === 8) socket.end(frame({ opcode: 8, payload: f.payload, mask: false }));
          },
        }),
      );
      const r = await run(['connect', `ws://127.0.0.1:${peer.port}`], { input: 'first line\nsecond\n\nlast' });
      assert.strictEqual(r.code, 0, r.stderr);
      const frames = peer.peers[0].frames.frames;
      assert.deepStrictEqual(
        frames.map((f) => [f.fin, f.opcode, f.masked, f.payload.toString()]),
        [
          [true, 1, true, 'first line'],
          [true, 1, true, 'second'],
          [true, 1, true, ''],
          [true, 1, true, 'last'],
          [true, 8, true, Buffer.from([0x03, 0xe8]).toString()],
        ],
      );
    });
  });

  describe('redirects', function () {
    it('follows a redirect with -L, and exits 2 on it without', async function () {
      const { url, seen } = await echoServer();
      const server = http.createServer();
      server.on('upgrade', (req, socket) => {
        socket.end(`HTTP/1.1 302 Found\r\nLocation: ${url}/moved\r\nContent-Length: 0\r\n\r\n`);
      });
      await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
      closers.push(() => new Promise((resolve) => server.close(resolve)));
      const from = `ws://127.0.0.1:${server.address().port}/old`;
      const refused = await run(['connect', from, '-x', 'x']);
      assert.strictEqual(refused.code, 2);
      assert.match(refused.stderr, /302/);
      const followed = await run(['connect', from, '-L', '-x', 'hop', '--count', '1']);
      assert.strictEqual(followed.code, 0, followed.stderr);
      assert.strictEqual(followed.stdout, 'hop\n');
      assert.strictEqual(seen[0].req.url, '/moved');
    });
  });

  describe('piping', function () {
    it('stdin lines go out as messages and replies come back on stdout, one per line', async function () {
      const { url, seen } = await weftServer((ws) =>
        ws.on('message', (data) => ws.send(data.toString().toUpperCase())),
      );
      const r = await run(['connect', url], { input: 'alpha\nbeta\ngamma\n' });
      assert.strictEqual(r.code, 0, r.stderr);
      assert.strictEqual(r.stdout, 'ALPHA\nBETA\nGAMMA\n');
      assert.deepStrictEqual(seen[0].messages, ['alpha', 'beta', 'gamma']);
      assert.doesNotMatch(r.stdout, /connected/);
    });

    it('a large input arrives whole and in order (reading pauses while the socket is backed up)', async function () {
      const { url, seen } = await weftServer();
      const lines = Array.from({ length: 3000 }, (_, i) => `${i}:${'x'.repeat(1000)}`);
      const r = await run(['connect', url, '-q'], { input: lines.join('\n') + '\n' });
      assert.strictEqual(r.code, 0, r.stderr);
      await waitUntil(() => seen[0].close !== null);
      assert.strictEqual(seen[0].messages.length, lines.length);
      assert.ok(seen[0].messages.every((m, i) => m === lines[i]));
    });

    it('--quiet leaves stderr empty on a normal run', async function () {
      const { url } = await echoServer();
      const r = await run(['connect', url, '-q'], { input: 'x\n' });
      assert.strictEqual(r.code, 0);
      assert.strictEqual(r.stdout, 'x\n');
      assert.strictEqual(r.stderr, '');
    });
  });

  describe('--slash commands', function () {
    it('/ping prints the pong with its round-trip time', async function () {
      const { url } = await echoServer();
      const cli = start(['connect', url, '--slash']);
      await cli.waitFor('stderr', /connected to/);
      cli.child.stdin.write('/ping hello\n');
      const [line] = await cli.waitFor('stderr', /< pong hello \(\d+\.\d{3} ms\)/);
      assert.ok(line);
      cli.child.stdin.end();
      assert.strictEqual((await cli.exited).code, 0);
    });

    it('/close CODE REASON closes with that code and reason (exit 4 for a non-1000 code)', async function () {
      const { url, seen } = await echoServer();
      const r = await run(['connect', url, '--slash', '-w', '-1'], { input: '/close 4002 all done\n' });
      assert.strictEqual(r.code, 4);
      await waitUntil(() => seen[0].close !== null);
      assert.deepStrictEqual(seen[0].close, { code: 4002, reason: 'all done' });
    });

    it('/close alone closes with 1005 (no status) and exits 0; /pong sends a pong (raw peer)', async function () {
      const peer = trackRaw(
        await rawPeer({
          onFrame: (f, socket) => {
            if (f.opcode === 8) socket.end(frame({ opcode: 8, payload: f.payload, mask: false }));
          },
        }),
      );
      const r = await run(['connect', `ws://127.0.0.1:${peer.port}`, '--slash', '-w', '-1'], {
        input: '/pong unasked\n/close\n',
      });
      assert.strictEqual(r.code, 0, r.stderr);
      const frames = peer.peers[0].frames.frames;
      assert.deepStrictEqual(
        frames.map((f) => [f.opcode, f.payload.toString()]),
        [
          [10, 'unasked'],
          [8, ''],
        ],
      );
    });

    it('without --slash a line starting with / is a message', async function () {
      const { url, seen } = await echoServer();
      const r = await run(['connect', url], { input: '/close 4000\n' });
      assert.strictEqual(r.code, 0);
      assert.deepStrictEqual(seen[0].messages, ['/close 4000']);
    });

    it('-P prints the pings the peer sends', async function () {
      const { url } = await weftServer((ws) => ws.ping('are you there'));
      const cli = start(['connect', url, '-P']);
      await cli.waitFor('stderr', /< ping are you there/);
      cli.child.stdin.end();
      assert.strictEqual((await cli.exited).code, 0);
    });
  });

  describe('output formats', function () {
    const bytes = Buffer.from([0x00, 0x01, 0x02, 0xfe, 0xff]);

    it('prints binary messages as hex by default and as base64 with --binary base64', async function () {
      const { url } = await weftServer((ws) => ws.send(bytes));
      const hex = await run(['connect', url, '--count', '1'], { input: '' });
      assert.strictEqual(hex.stdout, '000102feff\n');
      const b64 = await run(['connect', url, '--count', '1', '--binary', 'base64'], { input: '' });
      assert.strictEqual(b64.stdout, 'AAEC/v8=\n');
    });

    it('--binary hex / base64 decode input lines into binary frames', async function () {
      const { url, seen } = await echoServer();
      const hex = await run(['connect', url, '-b', 'hex'], { input: '000102feff\n' });
      assert.strictEqual(hex.code, 0, hex.stderr);
      assert.strictEqual(hex.stdout, '000102feff\n');
      assert.deepStrictEqual(seen[0].messages, [bytes]);
      const b64 = await run(['connect', url, '-b', 'base64', '-x', 'AAEC/v8=', '--count', '1']);
      assert.strictEqual(b64.stdout, 'AAEC/v8=\n');
      assert.deepStrictEqual(seen[1].messages, [bytes]);
    });

    it('reports a line that is not hex without sending it', async function () {
      const { url, seen } = await echoServer();
      const r = await run(['connect', url, '-b', 'hex'], { input: 'zz\n' });
      assert.strictEqual(r.code, 0);
      assert.match(r.stderr, /not hex/);
      await waitUntil(() => seen[0].close !== null);
      assert.deepStrictEqual(seen[0].messages, []);
    });

    it('--json pretty-prints JSON messages and leaves other text alone', async function () {
      const { url } = await weftServer((ws) => {
        ws.send('{"a":1,"b":[true,null]}');
        ws.send('not {json');
        ws.send('{broken');
      });
      const pretty = await run(['connect', url, '--json', '--count', '3'], { input: '' });
      assert.strictEqual(pretty.stdout, '{\n  "a": 1,\n  "b": [\n    true,\n    null\n  ]\n}\nnot {json\n{broken\n');
      const plain = await run(['connect', url, '--count', '3'], { input: '' });
      assert.strictEqual(plain.stdout, '{"a":1,"b":[true,null]}\nnot {json\n{broken\n');
    });
  });

  describe('TLS', function () {
    async function tlsServer() {
      const server = https.createServer(TLS);
      const wss = new WebSocketServer({ server });
      wss.on('connection', (ws) => ws.on('message', (data) => ws.send(`tls:${data}`)));
      await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
      closers.push(
        () =>
          new Promise((resolve) => {
            for (const c of wss.clients) c.terminate();
            wss.close();
            server.close(resolve);
          }),
      );
      return `wss://localhost:${server.address().port}`;
    }

    it('refuses the self-signed certificate by default (exit 2)', async function () {
      const url = await tlsServer();
      const r = await run(['connect', url, '-x', 'x']);
      assert.strictEqual(r.code, 2);
      assert.match(r.stderr, /self[- ]signed/i);
    });

    it('connects with --ca naming the certificate', async function () {
      const url = await tlsServer();
      const r = await run(['connect', url, '--ca', CA, '-x', 'x', '--count', '1']);
      assert.strictEqual(r.code, 0, r.stderr);
      assert.strictEqual(r.stdout, 'tls:x\n');
    });

    it('--http2 opens the WebSocket as an RFC 8441 CONNECT stream of an h2 session', async function () {
      const http2 = require('http2');
      const server = http2.createSecureServer({ ...TLS, allowHTTP1: true });
      const wss = new WebSocketServer({ server });
      const methods = [];
      wss.on('connection', (ws, req) => {
        methods.push(`${req.method} ${req.httpVersion}`);
        ws.on('message', (data) => ws.send(`h2:${data}`));
      });
      await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
      closers.push(
        () =>
          new Promise((resolve) => {
            for (const c of wss.clients) c.terminate();
            wss.close();
            server.close(resolve);
          }),
      );
      const url = `wss://localhost:${server.address().port}`;
      const r = await run(['connect', url, '--http2', '--ca', CA, '-x', 'x', '--count', '1']);
      assert.strictEqual(r.code, 0, r.stderr);
      assert.strictEqual(r.stdout, 'h2:x\n');
      // Without the flag the same server is reached over HTTP/1.1.
      const plain = await run(['connect', url, '--ca', CA, '-x', 'y', '--count', '1']);
      assert.strictEqual(plain.code, 0, plain.stderr);
      assert.deepStrictEqual(methods, ['CONNECT 2.0', 'GET 1.1']);
    });

    it('connects with --no-check', async function () {
      const url = await tlsServer();
      const r = await run(['connect', url, '-n', '-x', 'y', '--count', '1']);
      assert.strictEqual(r.code, 0, r.stderr);
      assert.strictEqual(r.stdout, 'tls:y\n');
    });
  });

  describe('interactive mode', function () {
    it('keeps a history: Up recalls the earlier line, and --history-file saves it', async function () {
      const { url, seen } = await echoServer();
      const file = path.join(os.tmpdir(), `weft-cli-history-${process.pid}`);
      fs.writeFileSync(file, 'from the file\n');
      closers.push(async () => fs.rmSync(file, { force: true }));
      const cli = start(['connect', url, '--interactive', '--history-file', file]);
      await cli.waitFor('stdout', /connected to/);
      cli.child.stdin.write('first\n');
      await cli.waitFor('stdout', /< first/);
      cli.child.stdin.write('second\n');
      await cli.waitFor('stdout', /< second/);
      // Up, Up: "first"; then Up three times: the entry loaded from the file
      cli.child.stdin.write('\x1b[A\x1b[A\r');
      await waitUntil(() => seen[0].messages.length === 3);
      cli.child.stdin.write('\x1b[A\x1b[A\x1b[A\r');
      await waitUntil(() => seen[0].messages.length === 4);
      cli.child.stdin.end();
      const r = await cli.exited;
      assert.strictEqual(r.code, 0, r.stderr);
      assert.deepStrictEqual(seen[0].messages, ['first', 'second', 'first', 'from the file']);
      assert.match(r.stdout, /< first/);
      assert.deepStrictEqual(fs.readFileSync(file, 'utf8').split('\n').filter(Boolean), ['second', 'first', 'from the file']);
    });
  });
});

/** Resolves once `predicate()` is true (checked every 10 ms). */
function waitUntil(predicate) {
  return new Promise((resolve) => {
    const tick = () => (predicate() ? resolve() : setTimeout(tick, 10));
    tick();
  });
}

/** A port nothing listens on (it was free a moment ago). */
function freePort() {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}
