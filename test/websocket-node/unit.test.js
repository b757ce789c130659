'use strict';

// The pure parts of weft's WebSocket-Node module (cookies, resource and extension parsing, the option
// mapping, router paths, the export shape) and a TLS round trip with the real package.

const assert = require('assert');
const https = require('https');
const fs = require('fs');
const path = require('path');
const { once } = require('events');
const { weft, real, Tracker, mountServer, nextConnection } = require('./helpers');
const { parseCookies, cookieLine } = require('../../dist/lib/websocket-node/cookies');
const { parseResource, parseExtensions } = require('../../dist/lib/websocket-node/request');
const { weftOptions, serverDefaults, clientDefaults } = require('../../dist/lib/websocket-node/options');
const { WebSocket } = require('../../dist/lib/websocket');

describe('websocket-node: module shape and pure helpers', () => {
  it('exports WebSocket-Node\'s names (and the same connection statics as the real package)', () => {
    for (const name of ['server', 'client', 'request', 'connection', 'w3cwebsocket', 'router', 'version']) {
      assert.ok(name in real, `the real package has ${name}`);
      assert.ok(weft[name] !== undefined, `weft's module has ${name}`);
    }
    assert.strictEqual(weft.version, '1.0.35');
    for (const key of Object.keys(real.connection).filter((k) => k.startsWith('CLOSE_REASON_'))) {
      assert.strictEqual(weft.connection[key], real.connection[key], key);
    }
    assert.strictEqual(weft.w3cwebsocket.OPEN, 1);
    assert.ok(new weft.client() instanceof require('events').EventEmitter);
  });

  it('a connection is a face over weft\'s own WebSocket', () => {
    assert.ok(weft.NodeSocket.prototype instanceof WebSocket);
    assert.ok(weft.w3cwebsocket.prototype instanceof WebSocket);
  });

  it('parseCookies: pairs, quoted and percent-encoded values, a bare name', () => {
    assert.deepStrictEqual(parseCookies('a=1; b="two"; c=%41%42, d'), [
      { name: 'a', value: '1' },
      { name: 'b', value: 'two' },
      { name: 'c', value: 'AB' },
      { name: 'd', value: null },
    ]);
    assert.deepStrictEqual(parseCookies(undefined), []);
    assert.deepStrictEqual(parseCookies('bad=%E0%A4%A'), [{ name: 'bad', value: '%E0%A4%A' }]);
  });

  it('cookieLine: attributes in order; each invalid field rejected with its message', () => {
    const seen = new Set();
    assert.strictEqual(cookieLine({ name: 'n', value: '"quoted"', path: '/p', maxage: '30.4' }, seen), 'n="quoted";Path=/p;Max-Age=30');
    assert.throws(() => cookieLine({ name: 'n', value: 'again' }, seen), /same cookie name twice/);
    const fresh = () => new Set();
    assert.throws(() => cookieLine({ name: 'x' }, fresh()), /at least provide a "name" and "value"/);
    assert.throws(() => cookieLine({ name: 'x', value: 'a,b' }, fresh()), /Illegal character , in cookie value/);
    assert.throws(() => cookieLine({ name: 'x', value: 'v', path: '/a\x01' }, fresh()), /in cookie path/);
    assert.throws(() => cookieLine({ name: 'x', value: 'v', domain: 5 }, fresh()), /Domain must be specified/);
    assert.throws(() => cookieLine({ name: 'x', value: 'v', expires: 'tomorrow' }, fresh()), /"expires" must be/);
    assert.throws(() => cookieLine({ name: 'x', value: 'v', maxage: -1 }, fresh()), /"maxage" must be/);
    assert.throws(() => cookieLine({ name: 'x', value: 'v', secure: 'yes' }, fresh()), /"secure" must be/);
    assert.throws(() => cookieLine({ name: 'x', value: 'v', httponly: 1 }, fresh()), /"httponly" must be/);
    // Control characters, spaces and semicolons are stripped before the checks (no header injection).
    assert.strictEqual(cookieLine({ name: 'a\r\nb', value: 'c; d' }, fresh()), 'ab=cd');
  });

  it('parseResource: url.parse(resource, true)\'s fields for a request target', () => {
    const url = require('url');
    for (const target of ['/', '/a/b', '/a?x=1&x=2&y', '/a?', '/a?q=%20s#frag', '/p%20q']) {
      const legacy = url.parse(target, true);
      const ours = parseResource(target);
      for (const key of ['pathname', 'search', 'path', 'href', 'hash', 'protocol', 'host']) {
        assert.strictEqual(ours[key], legacy[key], `${target} ${key}`);
      }
      assert.deepStrictEqual({ ...ours.query }, { ...legacy.query }, `${target} query`);
    }
  });

  it('parseExtensions: names and parameters, lower-cased', () => {
    assert.deepStrictEqual(parseExtensions('Foo; A=1; b, bar'), [
      { name: 'foo', params: [{ name: 'a', value: '1' }, { name: 'b', value: undefined }] },
      { name: 'bar', params: [] },
    ]);
    assert.deepStrictEqual(parseExtensions(undefined), []);
  });

  it('weftOptions: WebSocket-Node settings mapped to weft\'s', () => {
    const server = weftOptions(serverDefaults());
    assert.deepStrictEqual(server, {
      perMessageDeflate: false,
      autoPong: false,
      assembleFragments: true,
      fragmentOutgoingMessages: true,
      fragmentationThreshold: 0x4000,
      maxReceivedFrameSize: 0x10000,
      maxReceivedMessageSize: 0x100000,
      maxPayload: 0x100000,
      disableNagleAlgorithm: true,
      closeTimeout: 5000,
      heartbeat: { interval: 20000, timeout: 10000 },
    });
    const client = weftOptions({ ...clientDefaults(), assembleFragments: false, disableNagleAlgorithm: false });
    assert.strictEqual(client.heartbeat, undefined);
    assert.strictEqual(client.maxPayload, 0, 'no message limit without assembling');
    assert.strictEqual(client.maxReceivedMessageSize, undefined);
    assert.strictEqual(client.disableNagleAlgorithm, false);
    const noDrop = weftOptions({ keepalive: true, keepaliveInterval: 100, dropConnectionOnKeepaliveTimeout: false });
    assert.strictEqual(noDrop.heartbeat.interval, 100);
    assert.ok(noDrop.heartbeat.timeout > 1e15, 'never dropped');
    assert.strictEqual(weftOptions({ keepalive: true, useNativeKeepalive: true, keepaliveInterval: 1 }).heartbeat, undefined);
  });

  it('mount() and client config errors as WebSocket-Node words them', () => {
    assert.throws(() => new weft.server({}), /must specify an httpServer/);
    assert.throws(() => new weft.server({ httpServer: {}, keepaliveInterval: 'soon' }), /keepaliveInterval must be specified and numeric/);
    assert.throws(() => new weft.client({ keepalive: true }), /keepaliveInterval must be specified/);
  });

  it('router paths: exact strings (escaped), \'*\', RegExps', () => {
    const router = new weft.router();
    assert.ok(router.pathToRegExp('/a.b').test('/a.b'));
    assert.ok(!router.pathToRegExp('/a.b').test('/aXb'));
    assert.ok(!router.pathToRegExp('/a').test('/a/b'));
    assert.ok(router.pathToRegExp('*').test('/anything/at/all'));
    const re = /^\/x/;
    assert.strictEqual(router.pathToRegExp(re), re);
    assert.throws(() => router.mount('', 'p', () => {}), /specify a path/);
    assert.throws(() => router.mount('/a', 'p'), /specify a callback/);
    assert.throws(() => router.detachServer(), /not attached/);
  });
});

describe('websocket-node: TLS', () => {
  const tracker = new Tracker();
  afterEach(() => tracker.closeAll());

  const tls = {
    cert: fs.readFileSync(path.join(__dirname, '..', 'fixtures', 'certificate.pem')),
    key: fs.readFileSync(path.join(__dirname, '..', 'fixtures', 'key.pem')),
  };

  async function httpsServer() {
    const server = https.createServer(tls);
    const sockets = new Set();
    server.on('secureConnection', (socket) => sockets.add(socket));
    tracker.add(() => {
      for (const socket of sockets) socket.destroy();
      server.close();
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    return server;
  }

  for (const [title, serverLib, clientLib] of [['real client → weft server', weft, real], ['weft client → real server', real, weft]]) {
    it(`wss: ${title}, tlsOptions.ca trusted, a message each way`, async () => {
      const server = await httpsServer();
      const wsServer = mountServer(serverLib, tracker, server);
      wsServer.on('request', (request) => request.accept('secure'));
      const accepted = nextConnection(wsServer);
      const client = new clientLib.client({ tlsOptions: { ca: tls.cert, servername: 'localhost' } });
      const connection = await new Promise((resolve, reject) => {
        client.on('connect', resolve);
        client.on('connectFailed', reject);
        client.connect(`wss://127.0.0.1:${server.address().port}/`, 'secure');
      });
      tracker.add(() => connection.drop(1001, 'over', true));
      const serverConn = await accepted;
      assert.strictEqual(connection.protocol, 'secure');
      assert.strictEqual(connection.socket.encrypted, true);
      const atServer = once(serverConn, 'message');
      connection.sendUTF('over tls');
      assert.deepStrictEqual((await atServer)[0], { type: 'utf8', utf8Data: 'over tls' });
      const atClient = once(connection, 'message');
      serverConn.sendBytes(Buffer.from([1, 2]));
      assert.deepStrictEqual([...(await atClient)[0].binaryData], [1, 2]);
    });
  }
});
