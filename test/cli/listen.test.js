'use strict';
// `weft listen`: spawned, with weft clients connecting to it.

const assert = require('assert');
const net = require('net');
const WebSocket = require('../..');
const { TLS } = require('../support/server');
const { start, run, killAll } = require('../support/cli');

/** Resolves with the arguments of the next `event`. */
function once(emitter, event) {
  return new Promise((resolve) => emitter.once(event, (...args) => resolve(args)));
}

describe('weft listen', function () {
  const clients = [];
  afterEach(() => {
    for (const ws of clients.splice(0)) ws.terminate();
    killAll();
  });

  /** Starts `weft listen 0 ...args`; resolves with the CLI handle and the URL it prints. */
  async function listen(args = []) {
    const cli = start(['listen', '0', '--host', '127.0.0.1', ...args]);
    const [, url] = await cli.waitFor('stderr', /listening on (wss?:\/\/\S+)/);
    return { cli, url };
  }

  /** A weft client that has opened, collecting its messages. */
  async function client(url, protocols, options) {
    const ws = new WebSocket(url, protocols, options);
    clients.push(ws);
    ws.messages = [];
    ws.on('message', (data, isBinary) => ws.messages.push(isBinary ? Buffer.from(data) : data.toString()));
    await once(ws, 'open');
    return ws;
  }

  it('prints connections and messages; stdin lines reach every client; SIGTERM closes them with 1001, exit 0', async function () {
    const { cli, url } = await listen();
    const a = await client(url);
    await cli.waitFor('stderr', /client #1 connected from 127\.0\.0\.1:\d+/);
    const b = await client(url);
    await cli.waitFor('stderr', /client #2 connected/);
    a.send('from a');
    b.send('from b');
    await cli.waitFor('stdout', /from a\n[^]*from b\n|from b\n[^]*from a\n/);
    cli.child.stdin.write('to everyone\n');
    await Promise.all([once(a, 'message'), once(b, 'message')]);
    assert.deepStrictEqual(a.messages, ['to everyone']);
    assert.deepStrictEqual(b.messages, ['to everyone']);
    const closes = [once(a, 'close'), once(b, 'close')];
    cli.child.kill('SIGTERM');
    for (const [code, reason] of await Promise.all(closes)) {
      assert.strictEqual(code, 1001);
      assert.strictEqual(reason.toString(), 'server shutting down');
    }
    const r = await cli.exited;
    assert.strictEqual(r.code, 0, r.stderr);
    assert.match(r.stderr, /client #1 disconnected \(code: 1001/);
  });

  it('accepts the first offered subprotocol on its --subprotocol list', async function () {
    const { cli, url } = await listen(['-s', 'b.proto', '-s', 'c.proto']);
    const ws = await client(url, ['a.proto', 'c.proto', 'b.proto']);
    assert.strictEqual(ws.protocol, 'c.proto');
    await cli.waitFor('stderr', /subprotocol: c\.proto/);
  });

  it('--json and --binary base64 shape what it prints; --binary base64 decodes what it sends', async function () {
    const { cli, url } = await listen(['--json', '--binary', 'base64']);
    const ws = await client(url);
    ws.send('{"k":[1]}');
    ws.send(Buffer.from([1, 2, 3]));
    await cli.waitFor('stdout', /\{\n {2}"k": \[\n {4}1\n {2}\]\n\}\nAQID\n/);
    cli.child.stdin.write('/w==\n');
    await once(ws, 'message');
    assert.deepStrictEqual(ws.messages, [Buffer.from([0xff])]);
  });

  it('--slash: /ping times each client\'s pong, /close closes the clients and keeps listening', async function () {
    const { cli, url } = await listen(['--slash']);
    const ws = await client(url);
    await cli.waitFor('stderr', /client #1 connected/);
    cli.child.stdin.write('/ping x\n');
    await cli.waitFor('stderr', /< #1 pong x \(\d+\.\d{3} ms\)/);
    const closed = once(ws, 'close');
    cli.child.stdin.write('/close 4321 later\n');
    const [code, reason] = await closed;
    assert.strictEqual(code, 4321);
    assert.strictEqual(reason.toString(), 'later');
    const again = await client(url);
    assert.strictEqual(again.readyState, WebSocket.OPEN);
  });

  it('serves wss: with --cert and --key', async function () {
    const fixtures = require('path').join(__dirname, '..', 'fixtures');
    const { cli, url } = await listen(['--cert', `${fixtures}/certificate.pem`, '--key', `${fixtures}/key.pem`]);
    assert.match(url, /^wss:/);
    const ws = await client(url.replace('127.0.0.1', 'localhost'), [], { ca: TLS.cert });
    ws.send('secure');
    await cli.waitFor('stdout', /^secure\n/);
  });

  it('exits 2 when the port is taken, and 1 on a port that is not a number', async function () {
    const taken = net.createServer();
    await new Promise((resolve) => taken.listen(0, '127.0.0.1', resolve));
    try {
      const r = await run(['listen', String(taken.address().port), '--host', '127.0.0.1']);
      assert.strictEqual(r.code, 2);
      assert.match(r.stderr, /EADDRINUSE/);
    } finally {
      taken.close();
    }
    assert.strictEqual((await run(['listen', 'eighty'])).code, 1);
  });

  it('a weft client and `weft connect` talk to `weft listen`', async function () {
    const { cli, url } = await listen();
    const peer = start(['connect', url]);
    await cli.waitFor('stderr', /client #1 connected/);
    peer.child.stdin.write('ping from connect\n');
    await cli.waitFor('stdout', /^ping from connect\n/);
    cli.child.stdin.write('pong from listen\n');
    await peer.waitFor('stdout', /^pong from listen\n/);
    peer.child.stdin.end();
    assert.strictEqual((await peer.exited).code, 0);
    await cli.waitFor('stderr', /client #1 disconnected \(code: 1000\)/);
  });
});
