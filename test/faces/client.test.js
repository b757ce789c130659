'use strict';

// The WebSocket client against ws 8.23's WebSocketServer (a weft-independent peer): opening, echo of
// text and binary, readyState and url, subprotocol selection (argument, string, `protocols` option),
// the errors the constructor throws (URL, subprotocol list, protocol version), and http:/https: URLs.
//
// WEFT_CLIENT_UNDER_TEST=ws runs the same assertions against ws 8.23's client.

const assert = require('assert');
const http = require('http');
const { WebSocketServer } = require('ws');

const underWs = process.env.WEFT_CLIENT_UNDER_TEST === 'ws';
const WebSocket = underWs ? require('ws') : require('../../dist/lib/websocket').WebSocket;
const { once, outcome } = require('../support/client');

/** Resolves with the arguments of the next `event` on `emitter`. */

describe('client', function () {
  let wss;
  let url;
  let clients = [];
  /** The request of each connection the server accepted. */
  let requests = [];

  function client(...args) {
    const ws = new WebSocket(...args);
    clients.push(ws);
    return ws;
  }

  beforeEach(async function () {
    wss = new WebSocketServer({
      port: 0,
      host: '127.0.0.1',
      handleProtocols: (protocols) => (protocols.has('chat.v2') ? 'chat.v2' : protocols.values().next().value || false),
    });
    requests = [];
    wss.on('connection', (peer, req) => {
      requests.push(req);
      peer.on('message', (data, isBinary) => peer.send(data, { binary: isBinary }));
    });
    await once(wss, 'listening');
    url = `ws://127.0.0.1:${wss.address().port}`;
  });

  afterEach(async function () {
    for (const ws of clients) {
      ws.removeAllListeners('error');
      ws.on('error', () => {});
      ws.terminate();
    }
    clients = [];
    for (const peer of wss.clients) peer.terminate();
    await new Promise((resolve) => wss.close(resolve));
  });

  describe('opening', function () {
    it('goes CONNECTING → OPEN, with url, protocol and extensions', async function () {
      const ws = client(`${url}/some/path?q=1`);
      assert.strictEqual(ws.readyState, WebSocket.CONNECTING);
      assert.strictEqual(ws.url, `${url}/some/path?q=1`);
      assert(ws._req instanceof http.ClientRequest);
      await once(ws, 'open');
      assert.strictEqual(ws.readyState, WebSocket.OPEN);
      assert.strictEqual(ws.protocol, '');
      assert.strictEqual(ws.extensions, '');
      assert.strictEqual(ws._req, null);
      assert.strictEqual(ws._isServer, false);
      assert.strictEqual(requests[0].url, '/some/path?q=1');
    });

    it('echoes text as a Buffer with isBinary false', async function () {
      const ws = client(url);
      await once(ws, 'open');
      ws.send('héllo wörld');
      const [data, isBinary] = await once(ws, 'message');
      assert(Buffer.isBuffer(data));
      assert.strictEqual(data.toString(), 'héllo wörld');
      assert.strictEqual(isBinary, false);
    });

    it('echoes binary data', async function () {
      const ws = client(url);
      await once(ws, 'open');
      const payload = Buffer.from([0, 1, 2, 253, 254, 255]);
      ws.send(payload);
      const [data, isBinary] = await once(ws, 'message');
      assert.deepStrictEqual(data, payload);
      assert.strictEqual(isBinary, true);
    });

    it('throws on send() while CONNECTING', function () {
      const ws = client(url);
      assert.throws(() => ws.send('x'), { message: 'WebSocket is not open: readyState 0 (CONNECTING)' });
    });

    it('sets the instance up with the default options', async function () {
      const ws = client(url);
      await once(ws, 'open');
      assert.strictEqual(ws._autoPong, true);
      assert.strictEqual(ws._closeTimeout, 30000);
    });

    it('keeps autoPong and closeTimeout from the options', async function () {
      const ws = client(url, { autoPong: false, closeTimeout: 1234, allowSynchronousEvents: false });
      await once(ws, 'open');
      assert.strictEqual(!!ws._autoPong, false);
      assert.strictEqual(ws._closeTimeout, 1234);
    });
  });

  describe('subprotocols (§4.1 item 10)', function () {
    it('selects the one the server picks from an array', async function () {
      const ws = client(url, ['chat.v1', 'chat.v2']);
      await once(ws, 'open');
      assert.strictEqual(requests[0].headers['sec-websocket-protocol'], 'chat.v1,chat.v2');
      assert.strictEqual(ws.protocol, 'chat.v2');
    });

    it('takes a single string', async function () {
      const ws = client(url, 'chat.v1');
      await once(ws, 'open');
      assert.strictEqual(ws.protocol, 'chat.v1');
    });

    it('takes options as the second argument', async function () {
      const ws = client(url, { headers: { 'X-Two': '2' } });
      await once(ws, 'open');
      assert.strictEqual(requests[0].headers['x-two'], '2');
      assert.strictEqual(ws.protocol, '');
    });

    it('reads options.protocols when the argument is left out (ws 8.22+)', async function () {
      const a = client(url, { protocols: ['chat.v1', 'chat.v2'] });
      const b = client(url, undefined, { protocols: 'chat.v1' });
      await Promise.all([once(a, 'open'), once(b, 'open')]);
      assert.strictEqual(a.protocol, 'chat.v2');
      assert.strictEqual(b.protocol, 'chat.v1');
    });

    it('prefers the protocols argument to options.protocols', async function () {
      const ws = client(url, 'chat.v1', { protocols: ['chat.v2'] });
      await once(ws, 'open');
      assert.strictEqual(ws.protocol, 'chat.v1');
    });

    const invalid = [
      ['a duplicate', ['chat', 'chat']],
      ['an empty string', ['']],
      ['a separator', ['a b']],
      ['a comma list as one string', 'a,b'],
      ['a non-string', [1]],
      ['null', null],
      ['a duplicate in options.protocols', undefined, { protocols: ['x', 'x'] }],
    ];
    for (const [what, protocols, options] of invalid) {
      it(`throws SyntaxError for ${what}`, function () {
        assert.throws(() => new WebSocket(url, protocols, options), {
          name: 'SyntaxError',
          message: 'An invalid or duplicated subprotocol was specified',
        });
      });
    }

    it('accepts protocols that differ only in case', async function () {
      const ws = client(url, ['Chat', 'chat']);
      await once(ws, 'open');
      assert.strictEqual(ws.protocol, 'Chat');
    });
  });

  describe('URLs (§3)', function () {
    const errors = [
      ['not a url', 'Invalid URL: not a url'],
      ['', 'Invalid URL: '],
      ['ws://[::1', 'Invalid URL: ws://[::1'],
      ['ftp://example.com', 'The URL\'s protocol must be one of "ws:", "wss:", "http:", "https:", or "ws+unix:"'],
      ['file:///tmp/x', 'The URL\'s protocol must be one of "ws:", "wss:", "http:", "https:", or "ws+unix:"'],
      ['ws+unix:', "The URL's pathname is empty"],
      ['ws://example.com/#frag', 'The URL contains a fragment identifier'],
      ['wss://example.com#a', 'The URL contains a fragment identifier'],
      [new URL('ws://example.com/path#x'), 'The URL contains a fragment identifier'],
    ];
    for (const [address, message] of errors) {
      it(`throws SyntaxError "${message}" for ${JSON.stringify(String(address))}`, function () {
        assert.throws(() => new WebSocket(address), { name: 'SyntaxError', message });
      });
    }

    it('checks the protocol version before the URL', function () {
      assert.throws(() => new WebSocket('ftp://x', { protocolVersion: 7 }), {
        name: 'RangeError',
        message: 'Unsupported protocol version: 7 (supported versions: 8, 13)',
      });
    });

    for (const version of [7, '13', 0]) {
      it(`throws RangeError for protocolVersion ${JSON.stringify(version)}`, function () {
        assert.throws(() => new WebSocket(url, { protocolVersion: version }), {
          name: 'RangeError',
          message: `Unsupported protocol version: ${version} (supported versions: 8, 13)`,
        });
      });
    }

    it('checks the URL before the subprotocols', function () {
      assert.throws(() => new WebSocket('ftp://x', ['a', 'a']), { message: /^The URL's protocol/ });
    });

    it('accepts an empty fragment, as URL parsing drops it', async function () {
      const ws = client(`${url}/#`);
      assert.strictEqual(ws.url, `${url}/#`);
      await once(ws, 'open');
    });

    it('connects to an http: URL as ws: without changing the URL object', async function () {
      const target = new URL(`http://127.0.0.1:${wss.address().port}/x?y=1`);
      const ws = client(target);
      assert.strictEqual(target.protocol, 'http:');
      assert.strictEqual(target.href, `http://127.0.0.1:${wss.address().port}/x?y=1`);
      assert.strictEqual(ws.url, `${url}/x?y=1`);
      await once(ws, 'open');
      assert.strictEqual(requests[0].url, '/x?y=1');
    });

    it('connects to an http: string as ws:', async function () {
      const ws = client(`http://127.0.0.1:${wss.address().port}`);
      assert.strictEqual(ws.url, `${url}/`);
      await once(ws, 'open');
    });

    it('reads https: as wss:', function () {
      const target = new URL('https://127.0.0.1:1/');
      const ws = client(target);
      ws.on('error', () => {});
      assert.strictEqual(ws.url, 'wss://127.0.0.1:1/');
      assert.strictEqual(target.protocol, 'https:');
    });

    it('takes a ws: URL object as is', async function () {
      const ws = client(new URL(`${url}/obj`));
      assert.strictEqual(ws.url, `${url}/obj`);
      await once(ws, 'open');
      assert.strictEqual(requests[0].url, '/obj');
    });
  });

  describe('connection errors', function () {
    it('emits ECONNREFUSED, then close 1006', async function () {
      const port = wss.address().port;
      for (const peer of wss.clients) peer.terminate();
      await new Promise((resolve) => wss.close(resolve));
      wss = new WebSocketServer({ noServer: true });
      const ws = client(`ws://127.0.0.1:${port}`);
      const result = await outcome(ws);
      assert.strictEqual(result.error.code, 'ECONNREFUSED');
      assert.deepStrictEqual(result.events, [`error(2): ${result.error.message}`, 'close(3): 1006']);
    });

    it('emits a DNS failure, then close 1006', async function () {
      const ws = client('ws://weft-nonexistent.invalid/', {
        lookup: (hostname, options, callback) => {
          const err = Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
          callback(err);
        },
      });
      const result = await outcome(ws);
      assert.strictEqual(result.error.code, 'ENOTFOUND');
      assert.strictEqual(result.code, 1006);
      assert.strictEqual(result.events.length, 2);
    });
  });
});

describe('client: protocols argument vs options.protocols (ws 8.22+)', () => {
  const WS = require('ws');
  const WebSocket = require('../..');
  let wss;
  before((done) => { wss = new WS.WebSocketServer({ port: 0 }, done); });
  after((done) => wss.close(done));

  const offered = (...args) => new Promise((resolve, reject) => {
    wss.once('headers', (headers, req) => resolve(req.headers['sec-websocket-protocol']));
    const ws = new WebSocket(`ws://127.0.0.1:${wss.address().port}`, ...args);
    ws.on('open', () => ws.terminate());
    ws.on('error', reject);
  });

  it('takes options.protocols when the argument is missing or is the options object', async () => {
    assert.strictEqual(await offered(undefined, { protocols: ['a', 'b'] }), 'a,b');
    assert.strictEqual(await offered({ protocols: 'c' }), 'c');
  });

  it('an explicit argument wins, even an empty list', async () => {
    assert.strictEqual(await offered(['x'], { protocols: ['y'] }), 'x');
    assert.strictEqual(await offered([], { protocols: ['y'] }), undefined);
  });
});

describe('client: generateMask (ws 8.x: a key buffer of the connection\'s own)', () => {
  const WS = require('ws');
  let wss;
  before((done) => { wss = new WS.WebSocketServer({ port: 0, host: '127.0.0.1' }, done); });
  after((done) => wss.close(done));

  /** Opens a client with `options`, sends `messages`, and returns the raw frames' mask keys as the server read them. */
  async function maskKeys(options, messages) {
    const keys = new Promise((resolve) => {
      wss.once('connection', (peer) => {
        const raw = [];
        peer._socket.prependListener('data', (chunk) => raw.push(chunk));
        let n = 0;
        peer.on('message', () => {
          if (++n < messages.length) return;
          // Each frame: 2 header bytes (payloads < 126 B), the 4-byte key, the payload.
          const bytes = Buffer.concat(raw);
          const found = [];
          for (let off = 0; off < bytes.length; off += 6 + (bytes[off + 1] & 0x7f)) found.push(bytes.subarray(off + 2, off + 6).toString('hex'));
          peer.close();
          resolve(found);
        });
      });
    });
    const ws = new WebSocket(`ws://127.0.0.1:${wss.address().port}`, options);
    ws.on('open', () => { for (const m of messages) ws.send(m); });
    const [closeCode] = await once(ws, 'close');
    assert.strictEqual(closeCode, 1005);
    return keys;
  }

  it('a generator that writes nothing leaves the key at zeros, whatever other connections used', async () => {
    // A connection with random keys first: its key must not leak into the next one's frames.
    const random = await maskKeys({}, ['a', 'b']);
    assert.ok(random.some((k) => k !== '00000000'), `random keys ${random}`);
    assert.deepStrictEqual(await maskKeys({ generateMask() {} }, ['foo']), ['00000000']);
  });

  it('the key is kept from frame to frame: a generator may change part of it', async () => {
    const keys = await maskKeys({ generateMask: (key) => { key[3]++; } }, ['x', 'y', 'z']);
    assert.deepStrictEqual(keys, ['00000001', '00000002', '00000003']);
  });
});
