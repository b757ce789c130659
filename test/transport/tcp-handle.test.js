'use strict';
// The TCP handle transport (lib/transport/tcp-handle.ts) against real sockets: a net.Server or an
// http.Server's 'upgrade' hands a socket over, adopt() takes its libuv handle, and the transport reads and
// writes it with no stream layer. Run on every supported Node: scripts/with-node.sh 18 npx mocha test/transport
const assert = require('assert');
const net = require('net');
const http = require('http');
const tls = require('tls');
const os = require('os');
const path = require('path');
const fs = require('fs');
const { once } = require('events');
const { execFileSync, spawnSync } = require('child_process');
const { adopt, transportOf, tcpHandleUnavailable, TcpTransport } = require('../../dist/lib/transport/tcp-handle');
const { memoryPair } = require('../../dist/lib/transport/memory');

const MODULE = require.resolve('../../dist/lib/transport/tcp-handle');
const major = Number(process.versions.node.split('.')[0]);

/** An owner that records what the transport reports; `onData` may answer through `t`. */
class Recorder {
  constructor(onData) {
    this.t = null;
    this.chunks = [];
    this.events = [];
    this.errors = [];
    this.drains = 0;
    this.onData = onData || null;
    this.endOnEnd = false;
    this.closed = new Promise((resolve) => (this.resolveClosed = resolve));
  }
  get data() {
    return Buffer.concat(this.chunks);
  }
  onTransportData(chunk) {
    // The chunk may be a view of a reused buffer ('view' mode): keep a copy.
    this.chunks.push(Buffer.from(chunk));
    if (this.onData !== null) this.onData(chunk, this.t);
  }
  onTransportEnd() {
    this.events.push('end');
    // What the driver does on an http.Server's (half-open) sockets: end our side in turn.
    if (this.endOnEnd && this.t !== null) this.t.end();
  }
  onTransportError(err) {
    this.events.push('error');
    this.errors.push(err);
  }
  onTransportClose(hadError) {
    this.events.push(hadError ? 'close(error)' : 'close');
    this.resolveClosed(hadError);
  }
  onTransportDrain() {
    this.drains++;
    this.events.push('drain');
  }
}

/** A net.Server whose connections are adopted; resolves with the server and its port. */
async function adoptingServer(onTransport, options, serverOptions = {}) {
  const server = net.createServer(serverOptions, (socket) => {
    const t = adopt(socket, null, options);
    assert.ok(t instanceof TcpTransport, 'adopted');
    onTransport(t, socket);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, port: server.address().port };
}

function echoOwner() {
  return new Recorder((chunk, t) => t.write(Buffer.from(chunk), null));
}

/** An owner for an http.Server's sockets (allowHalfOpen): it ends on the peer's FIN, as the driver does. */
function started(t, owner) {
  owner.t = t;
  owner.endOnEnd = true;
  t.start(owner);
  return owner;
}

async function connect(port) {
  const c = net.connect(port, '127.0.0.1');
  await once(c, 'connect');
  return c;
}

const kReader = Symbol('reader');

/**
 * Resolves with exactly the next `n` bytes from `socket` (what arrives past them is kept for the next
 * call, so a reply that shares a chunk with the 101 is not lost).
 */
function readBytes(socket, n) {
  let r = socket[kReader];
  if (r === undefined) {
    r = socket[kReader] = { parts: [], length: 0, want: 0, resolve: null, reject: null };
    socket.on('data', (d) => {
      r.parts.push(d);
      r.length += d.length;
      settle(r);
    });
    socket.on('error', (err) => r.reject && r.reject(err));
  }
  return new Promise((resolve, reject) => {
    r.want = n;
    r.resolve = resolve;
    r.reject = reject;
    settle(r);
  });
}

function settle(r) {
  if (r.resolve === null || r.length < r.want) return;
  const all = r.parts.length === 1 ? r.parts[0] : Buffer.concat(r.parts);
  const out = all.subarray(0, r.want);
  r.parts = r.want < all.length ? [all.subarray(r.want)] : [];
  r.length = all.length - r.want;
  const resolve = r.resolve;
  r.resolve = r.reject = null;
  resolve(out);
}

function closeServer(server) {
  return new Promise((resolve) => server.close(() => resolve()));
}

/** A pattern that shows misordered or lost bytes. */
function pattern(n, seed = 0) {
  const b = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + seed + (i >>> 8)) & 0xff;
  return b;
}

describe('transport/tcp-handle', function () {
  this.timeout(20000);

  it('is available on this Node (18–26) with no flags', () => {
    assert.strictEqual(tcpHandleUnavailable(), null);
  });

  describe('availability and the process flags', () => {
    // Each case runs in a child: the probe runs once per process.
    const script = `
      const net = require('net');
      const { adopt, tcpHandleUnavailable } = require(${JSON.stringify(MODULE)});
      const reason = tcpHandleUnavailable();
      const server = net.createServer((s) => {
        const t = adopt(s);
        console.log(JSON.stringify({ reason, adopted: t !== null }));
        if (t) t.destroy(); else s.destroy();
        server.close();
      }).listen(0, '127.0.0.1', () => net.connect(server.address().port, '127.0.0.1').on('error', () => {}));
    `;
    function run(flags, env) {
      const r = spawnSync(process.execPath, [...flags, '-e', script], {
        env: { ...process.env, NODE_OPTIONS: '', ...env },
        encoding: 'utf8',
        timeout: 15000,
      });
      return { status: r.status, out: r.stdout.trim() ? JSON.parse(r.stdout.trim()) : null, stderr: r.stderr };
    }

    for (const flags of [[], ['--no-deprecation'], ['--throw-deprecation']]) {
      it(`node ${flags.join(' ') || '(no flags)'}: available, adopts, prints nothing`, () => {
        const r = run(flags, {});
        assert.strictEqual(r.status, 0, r.stderr);
        assert.deepStrictEqual(r.out, { reason: null, adopted: true });
        assert.strictEqual(r.stderr, '');
      });
    }

    const refused = [
      [['--pending-deprecation'], {}],
      [['--pending-deprecation', '--throw-deprecation'], {}],
      [[], { NODE_PENDING_DEPRECATION: '1' }],
      [[], { WEFT_TCP_HANDLE: '0' }],
    ];
    for (const [flags, env] of refused) {
      it(`node ${flags.join(' ')} ${JSON.stringify(env)}: unavailable, falls back, no DEP0111, no throw`, () => {
        const r = run(flags, env);
        assert.strictEqual(r.status, 0, r.stderr);
        assert.strictEqual(r.out.adopted, false);
        assert.ok(typeof r.out.reason === 'string' && r.out.reason.length > 0);
        assert.doesNotMatch(r.stderr, /DEP0111|DeprecationWarning/);
      });
    }

    // Node 20+ refuses process.binding under its permission model; Node 18 has none, so there a preload
    // makes process.binding throw the way the permission model does (the same path in adopt()).
    const refusal =
      major >= 20
        ? {
            name: 'the permission model',
            // Node 25+ puts the network under the model too: the child must still listen.
            flags: [major >= 22 ? '--permission' : '--experimental-permission', '--allow-fs-read=*', ...(major >= 25 ? ['--allow-net'] : []), '--no-warnings'],
          }
        : { name: 'a process.binding that throws (Node 18 has no permission model)', flags: ['--require', path.join(__dirname, '..', 'fixtures', 'binding-refused.js')] };
    it(`${refusal.name} (process.binding refused): unavailable, no throw`, () => {
      const r = run(refusal.flags, {});
      assert.strictEqual(r.status, 0, r.stderr);
      assert.strictEqual(r.out.adopted, false);
      assert.match(r.out.reason, /process\.binding/);
    });
  });

  describe('what adopt() refuses (the caller stays on the stream path, the socket untouched)', () => {
    let server;
    let port;
    let pending;
    beforeEach(async () => {
      pending = [];
      server = net.createServer((s) => pending.shift()(s));
      server.listen(0, '127.0.0.1');
      await once(server, 'listening');
      port = server.address().port;
    });
    afterEach(() => closeServer(server));

    /** The server side of one fresh connection, and the client side. */
    async function pair() {
      const got = new Promise((resolve) => pending.push(resolve));
      const client = await connect(port);
      return [await got, client];
    }

    async function stillWorks(s, client) {
      // Untouched: the stream path still echoes.
      s.on('data', (d) => s.write(d));
      client.write('still');
      assert.strictEqual((await readBytes(client, 5)).toString(), 'still');
      client.destroy();
      s.destroy();
    }

    it('a Duplex that is not a net.Socket (the in-memory pair)', () => {
      const [a, b] = memoryPair();
      assert.strictEqual(adopt(a), null);
      a.destroy();
      b.destroy();
    });

    it('a subclass of net.Socket (tls.TLSSocket among them)', async () => {
      const [s, client] = await pair();
      Object.setPrototypeOf(s, tls.TLSSocket.prototype);
      assert.strictEqual(adopt(s), null);
      Object.setPrototypeOf(s, net.Socket.prototype);
      await stillWorks(s, client);
    });

    it("a socket with a 'data' listener (someone else reads it)", async () => {
      const [s, client] = await pair();
      const onData = () => {};
      s.on('data', onData);
      assert.strictEqual(adopt(s), null);
      s.removeListener('data', onData);
      await stillWorks(s, client);
    });

    it('a socket with bytes not yet written (corked)', async () => {
      const [s, client] = await pair();
      s.cork();
      s.write('x');
      assert.strictEqual(adopt(s), null);
      s.uncork();
      assert.strictEqual((await readBytes(client, 1)).toString(), 'x');
      await stillWorks(s, client);
    });

    it('a socket with an encoding set', async () => {
      const [s, client] = await pair();
      s.setEncoding('utf8');
      assert.strictEqual(adopt(s), null);
      client.destroy();
      s.destroy();
    });

    it('a socket whose peer has ended (EOF read)', async () => {
      const [s, client] = await pair();
      client.end();
      s.resume();
      await once(s, 'end');
      assert.strictEqual(adopt(s), null);
      s.destroy();
    });

    it('a destroyed socket', async () => {
      const [s, client] = await pair();
      s.destroy();
      assert.strictEqual(adopt(s), null);
      client.destroy();
    });

    it('a socket already adopted', async () => {
      const [s, client] = await pair();
      const t = adopt(s);
      assert.ok(t);
      assert.strictEqual(adopt(s), null);
      assert.strictEqual(transportOf(s), t);
      t.destroy();
      client.destroy();
    });
  });

  describe('echo over a net.Server', () => {
    for (const read of ['copy', 'view', 'alloc']) {
      it(`echoes in order (read: '${read}')`, async () => {
        let owner;
        const { server, port } = await adoptingServer((t) => {
          owner = echoOwner();
          owner.t = t;
          t.start(owner);
        }, { read });
        const client = await connect(port);
        const sent = pattern(300000, 7);
        const echoed = readBytes(client, sent.length);
        for (let off = 0; off < sent.length; off += 1000) client.write(sent.subarray(off, off + 1000));
        assert.ok((await echoed).equals(sent));
        client.end();
        assert.strictEqual(await owner.closed, false);
        assert.deepStrictEqual(owner.events.filter((e) => e !== 'drain'), ['end', 'close']);
        await closeServer(server);
      });
    }

    it("'view': writing the view itself is safe (the transport copies it), even when the write waits", async () => {
      let owner;
      const { server, port } = await adoptingServer((t) => {
        // Echo each view twice over, so that writes queue up behind a slow reader.
        owner = new Recorder((chunk, tt) => tt.write(chunk, chunk));
        owner.t = t;
        t.start(owner);
      }, { read: 'view' });
      const client = await connect(port);
      client.pause();
      const sent = pattern(4 << 20, 11);
      for (let off = 0; off < sent.length; off += 65536) client.write(sent.subarray(off, off + 65536));
      await new Promise((r) => setTimeout(r, 200));
      const echoed = readBytes(client, 2 * sent.length);
      client.resume();
      const got = await echoed;
      // Each read came back twice in a row: undo that and compare.
      const expected = Buffer.concat(owner.chunks.flatMap((c) => [c, c]));
      assert.ok(got.equals(expected));
      assert.ok(Buffer.concat(owner.chunks).equals(sent));
      client.destroy();
      await owner.closed;
      await closeServer(server);
    });

    it("'copy' and 'alloc' chunks are the owner's to keep; 'view' chunks share one buffer", async () => {
      const kept = { copy: [], view: [], alloc: [] };
      for (const read of Object.keys(kept)) {
        const { server, port } = await adoptingServer((t) => {
          const owner = new Recorder((chunk) => kept[read].push(chunk));
          t.start(owner);
        }, { read });
        const client = await connect(port);
        client.write('first');
        await new Promise((r) => setTimeout(r, 30));
        client.write('second');
        await new Promise((r) => setTimeout(r, 30));
        client.destroy();
        await closeServer(server);
      }
      assert.deepStrictEqual(kept.copy.map(String), ['first', 'second']);
      assert.deepStrictEqual(kept.alloc.map(String), ['first', 'second']);
      assert.strictEqual(kept.view[0].buffer, kept.view[1].buffer);
    });
  });

  describe('an http.Server upgrade handed over', () => {
    let server;
    let port;
    let onUpgrade;
    beforeEach(async () => {
      server = http.createServer((req, res) => res.end('plain'));
      server.on('upgrade', (req, socket, head) => onUpgrade(req, socket, head));
      server.listen(0, '127.0.0.1');
      await once(server, 'listening');
      port = server.address().port;
    });
    afterEach(() => {
      server.closeAllConnections?.();
      return closeServer(server);
    });

    /** Sends an upgrade request followed at once by `extra`; resolves with the client after the 101. */
    async function upgradeClient(extra = '') {
      const client = await connect(port);
      client.write(`GET / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: raw\r\n\r\n${extra}`);
      const head = await readBytes(client, 'HTTP/1.1 101 Switching Protocols\r\n\r\n'.length);
      assert.match(head.toString(), /^HTTP\/1\.1 101/);
      return client;
    }

    it('delivers the head first, then echoes; the shell keeps the addresses', async () => {
      let owner;
      let shell;
      let req;
      onUpgrade = (r, socket, head) => {
        req = r;
        socket.write('HTTP/1.1 101 Switching Protocols\r\n\r\n');
        const t = adopt(socket, head);
        assert.ok(t);
        shell = socket;
        owner = started(t, echoOwner());
      };
      const client = await upgradeClient('HEAD');
      assert.strictEqual((await readBytes(client, 4)).toString(), 'HEAD');
      client.write('after');
      assert.strictEqual((await readBytes(client, 5)).toString(), 'after');
      assert.strictEqual(req.socket, shell);
      assert.strictEqual(shell.remoteAddress, '127.0.0.1');
      assert.strictEqual(shell.remotePort, client.localPort);
      assert.strictEqual(shell.remoteFamily, 'IPv4');
      assert.strictEqual(shell.localAddress, '127.0.0.1');
      assert.strictEqual(shell.localPort, port);
      assert.deepStrictEqual(shell.address(), { address: '127.0.0.1', family: 'IPv4', port });
      assert.ok(shell instanceof net.Socket);
      assert.strictEqual(shell.readyState, 'open');
      assert.ok(shell.bytesRead > 0);
      const shellClosed = once(shell, 'close');
      client.end();
      await owner.closed;
      await shellClosed;
      assert.strictEqual(shell.destroyed, true);
      assert.strictEqual(shell.readyState, 'closed');
    });

    it('carries over bytes the socket read before adoption, after the head', async () => {
      let owner;
      onUpgrade = (r, socket, head) => {
        socket.write('HTTP/1.1 101 Switching Protocols\r\n\r\n');
        // Adopt later: what arrives meanwhile waits in the socket's readable buffer.
        setTimeout(() => {
          assert.ok(socket.readableLength > 0, 'bytes buffered in the socket');
          const t = adopt(socket, head);
          assert.ok(t);
          owner = started(t, new Recorder());
        }, 100);
      };
      const client = await upgradeClient('A');
      client.write('B');
      await new Promise((r) => setTimeout(r, 300));
      client.write('C');
      await new Promise((r) => setTimeout(r, 50));
      assert.strictEqual(owner.data.toString(), 'ABC');
      client.destroy();
      await owner.closed;
    });

    it('a reading handle is taken over as it reads: no readStop/readStart pair (two epoll_ctl calls)', async () => {
      const calls = [];
      let owner;
      onUpgrade = (r, socket, head) => {
        socket.write('HTTP/1.1 101 Switching Protocols\r\n\r\n');
        const handle = socket._handle;
        assert.strictEqual(handle.reading, true, 'an upgraded socket reads');
        for (const name of ['readStart', 'readStop']) {
          const f = Object.getPrototypeOf(handle)[name];
          handle[name] = function () {
            calls.push(name);
            return f.call(this);
          };
        }
        const t = adopt(socket, head);
        owner = started(t, echoOwner());
      };
      const client = await upgradeClient('A');
      assert.strictEqual((await readBytes(client, 1)).toString(), 'A');
      client.write('BC');
      assert.strictEqual((await readBytes(client, 2)).toString(), 'BC');
      assert.deepStrictEqual(calls, []);
      client.end();
      await owner.closed;
    });

    for (const read of ['copy', 'view', 'alloc']) {
      it(`reads that come between adopt() and start() wait for start(), in order, then the FIN (read: '${read}')`, async () => {
        let owner;
        let t;
        onUpgrade = (r, socket, head) => {
          socket.write('HTTP/1.1 101 Switching Protocols\r\n\r\n');
          t = adopt(socket, head, { read });
          // Started only once the peer has written twice and ended.
          setTimeout(() => (owner = started(t, new Recorder())), 300);
        };
        const client = await upgradeClient('A');
        client.write('B');
        await new Promise((r) => setTimeout(r, 50));
        client.write('C');
        await new Promise((r) => setTimeout(r, 50));
        client.end();
        await new Promise((r) => setTimeout(r, 300));
        assert.ok(owner, 'started');
        await owner.closed;
        assert.strictEqual(owner.data.toString(), 'ABC');
        assert.deepStrictEqual(owner.events, ['end', 'close']);
        client.destroy();
      });
    }

    it('a reset between adopt() and start() is reported after start(): one error, then close(hadError)', async function () {
      let owner;
      onUpgrade = (r, socket, head) => {
        socket.write('HTTP/1.1 101 Switching Protocols\r\n\r\n');
        const t = adopt(socket, head);
        setTimeout(() => (owner = started(t, new Recorder())), 300);
      };
      const client = await upgradeClient('A');
      client.resetAndDestroy();
      await new Promise((r) => setTimeout(r, 350));
      assert.ok(owner, 'started');
      assert.strictEqual(await owner.closed, true);
      assert.strictEqual(owner.data.toString(), 'A');
      assert.deepStrictEqual(owner.events, ['error', 'close(error)']);
      assert.strictEqual(owner.errors[0].code, 'ECONNRESET');
    });

    it('server.close() completes only after the adopted connections have ended', async () => {
      const owners = [];
      onUpgrade = (r, socket, head) => {
        socket.write('HTTP/1.1 101 Switching Protocols\r\n\r\n');
        const t = adopt(socket, head);
        owners.push(started(t, echoOwner()));
      };
      const a = await upgradeClient();
      const b = await upgradeClient();
      const count = () => new Promise((res, rej) => server.getConnections((e, n) => (e ? rej(e) : res(n))));
      assert.strictEqual(await count(), 2);
      let closed = false;
      const serverClosed = new Promise((resolve) => server.close(() => resolve((closed = true))));
      await new Promise((r) => setTimeout(r, 100));
      assert.strictEqual(closed, false, 'server.close() waits');
      a.write('still here');
      assert.strictEqual((await readBytes(a, 10)).toString(), 'still here');
      a.end();
      await owners[0].closed;
      await new Promise((r) => setTimeout(r, 50));
      assert.strictEqual(closed, false, 'one connection left');
      assert.strictEqual(await count(), 1);
      b.end();
      await serverClosed;
      assert.strictEqual(await count(), 0);
      // afterEach closes again: give it a fresh listening server to close.
      server = http.createServer().listen(0);
      await once(server, 'listening');
    });

    it("destroying the shell (a server's shutdown code) closes the connection", async () => {
      let owner;
      let shell;
      const shellEvents = [];
      onUpgrade = (r, socket, head) => {
        socket.write('HTTP/1.1 101 Switching Protocols\r\n\r\n');
        const t = adopt(socket, head);
        shell = socket;
        shell.on('close', () => shellEvents.push('close'));
        owner = started(t, new Recorder());
      };
      const client = await upgradeClient();
      shell.destroy();
      assert.strictEqual(shell.destroyed, true);
      await once(client, 'close');
      assert.strictEqual(await owner.closed, false);
      await new Promise((r) => setImmediate(r));
      assert.deepStrictEqual(shellEvents, ['close']);
    });

    it("the shell's write(), end(), setTimeout(), setNoDelay(), setKeepAlive() act on the connection", async () => {
      let owner;
      let shell;
      onUpgrade = (r, socket, head) => {
        socket.write('HTTP/1.1 101 Switching Protocols\r\n\r\n');
        const t = adopt(socket, head);
        shell = socket;
        owner = started(t, new Recorder());
      };
      const client = await upgradeClient();
      assert.strictEqual(shell.setNoDelay(true), shell);
      assert.strictEqual(shell.setKeepAlive(true, 1000), shell);
      let written = false;
      shell.write('raw bytes', () => (written = true));
      assert.strictEqual((await readBytes(client, 9)).toString(), 'raw bytes');
      assert.ok(written);
      let timedOut = 0;
      shell.setTimeout(50, () => timedOut++);
      await new Promise((r) => setTimeout(r, 150));
      assert.strictEqual(timedOut, 1);
      shell.setTimeout(0);
      shell.end();
      await once(client, 'end');
      client.end();
      assert.strictEqual(await owner.closed, false);
    });

    it("a 'data' listener on the shell hears every read too", async () => {
      let shell;
      onUpgrade = (r, socket, head) => {
        socket.write('HTTP/1.1 101 Switching Protocols\r\n\r\n');
        const t = adopt(socket, head, { read: 'view' });
        shell = socket;
        started(t, new Recorder());
      };
      const client = await upgradeClient();
      const tapped = [];
      shell.on('data', (d) => tapped.push(d));
      client.write('tap');
      await new Promise((r) => setTimeout(r, 50));
      client.write('ped');
      await new Promise((r) => setTimeout(r, 50));
      assert.strictEqual(Buffer.concat(tapped).toString(), 'tapped');
      client.destroy();
    });
  });

  describe('writing', () => {
    it('large writes: backpressure, one drain, ordered callbacks, bytes intact', async () => {
      let t;
      let owner;
      const { server, port } = await adoptingServer((tt) => {
        t = tt;
        owner = new Recorder();
        t.start(owner);
      });
      const client = await connect(port);
      client.pause();
      await new Promise((r) => setTimeout(r, 20));
      const chunk = 64 * 1024;
      const total = 16 * 1024 * 1024;
      const sent = pattern(total, 3);
      const order = [];
      let returnedFalse = 0;
      for (let off = 0, i = 0; off < total; off += chunk, i++) {
        const n = i;
        if (!t.write(sent.subarray(off, off + chunk), null, (err) => order.push(err ? err : n))) returnedFalse++;
      }
      assert.ok(returnedFalse > 0, 'write() reported backpressure');
      assert.ok(t.bufferedBytes > 0 && t.bufferedBytes <= total);
      assert.strictEqual(t.shell.writableLength, t.bufferedBytes);
      const received = readBytes(client, total);
      client.resume();
      assert.ok((await received).equals(sent));
      await new Promise((r) => setImmediate(r));
      assert.deepStrictEqual(order, Array.from({ length: total / chunk }, (_, i) => i));
      assert.strictEqual(owner.drains, 1);
      assert.strictEqual(t.bufferedBytes, 0);
      client.destroy();
      await owner.closed;
      await closeServer(server);
    });

    it('writes made during a read callback leave together, after it (header + payload in one writev)', async () => {
      const seen = [];
      let owner;
      const { server, port } = await adoptingServer((t) => {
        owner = new Recorder((chunk, tt) => {
          tt.write(Buffer.from('<'), Buffer.from(chunk));
          tt.write(Buffer.from('>'), null, () => seen.push('cb'));
          seen.push(tt.queuedBytes);
        });
        owner.t = t;
        t.start(owner);
      });
      const client = await connect(port);
      client.write('abc');
      const echoed = await readBytes(client, 5);
      assert.strictEqual(echoed.toString(), '<abc>');
      assert.deepStrictEqual(seen, [5, 'cb']);
      client.destroy();
      await owner.closed;
      await closeServer(server);
    });

    it('cork()/uncork() batch writes outside a read callback; callbacks are never synchronous', async () => {
      let t;
      let owner;
      const { server, port } = await adoptingServer((tt) => {
        t = tt;
        owner = new Recorder();
        t.start(owner);
      });
      const client = await connect(port);
      await new Promise((r) => setTimeout(r, 20));
      const calls = [];
      t.cork();
      t.write(Buffer.from('1'), null, () => calls.push(1));
      t.write(Buffer.from('2'), Buffer.from('3'), () => calls.push(2));
      assert.strictEqual(t.queuedBytes, 3);
      t.uncork();
      assert.strictEqual(t.queuedBytes, 0);
      assert.deepStrictEqual(calls, []);
      assert.strictEqual((await readBytes(client, 3)).toString(), '123');
      assert.deepStrictEqual(calls, [1, 2]);
      client.destroy();
      await owner.closed;
      await closeServer(server);
    });

    it('write after end() and after close fail through the callback, never throw', async () => {
      let t;
      let owner;
      const { server, port } = await adoptingServer((tt) => {
        t = tt;
        owner = new Recorder();
        t.start(owner);
      });
      const client = await connect(port);
      client.resume();
      await new Promise((r) => setTimeout(r, 20));
      t.end();
      let sync = true;
      const afterEnd = new Promise((resolve) => t.write(Buffer.from('x'), null, (err) => resolve([err, sync])));
      sync = false;
      const [err1, wasSync1] = await afterEnd;
      assert.strictEqual(err1.code, 'ERR_STREAM_WRITE_AFTER_END');
      assert.strictEqual(wasSync1, false);
      client.end();
      await owner.closed;
      assert.strictEqual(t.destroyed, true);
      const err2 = await new Promise((resolve) => assert.strictEqual(t.write(Buffer.from('y'), null, resolve), false));
      assert.strictEqual(err2.code, 'ERR_STREAM_DESTROYED');
      t.write(Buffer.from('z'), null); // no callback: nothing thrown
      t.end();
      t.destroy();
      await closeServer(server);
    });

    it('queued and in-flight writes fail with an error when the connection is destroyed', async () => {
      let t;
      let owner;
      const { server, port } = await adoptingServer((tt) => {
        t = tt;
        owner = new Recorder();
        t.start(owner);
      });
      const client = await connect(port);
      client.pause();
      await new Promise((r) => setTimeout(r, 20));
      const results = [];
      const big = Buffer.alloc(8 << 20);
      t.write(big, null, (err) => results.push(err ? err.code : 'ok'));
      t.cork();
      t.write(Buffer.from('queued'), null, (err) => results.push(err ? err.code : 'ok'));
      t.destroy();
      await owner.closed;
      await new Promise((r) => setImmediate(r));
      assert.strictEqual(results.length, 2);
      assert.strictEqual(results[1], 'ERR_STREAM_DESTROYED');
      assert.notStrictEqual(results[0], undefined);
      client.destroy();
      await closeServer(server);
    });
  });

  describe('ending and errors', () => {
    it('half-close: the peer ends first, we keep writing, then end', async () => {
      let owner;
      const { server, port } = await adoptingServer((t) => {
        owner = new Recorder();
        owner.onTransportEnd = function () {
          this.events.push('end');
          t.write(Buffer.from('after your FIN'), null);
          setTimeout(() => t.end(), 20);
        };
        t.start(owner);
      }, undefined, { allowHalfOpen: true });
      const client = net.connect({ port, host: '127.0.0.1', allowHalfOpen: true });
      await once(client, 'connect');
      client.end('bye');
      const got = readBytes(client, 14);
      assert.strictEqual((await got).toString(), 'after your FIN');
      await once(client, 'end');
      assert.strictEqual(await owner.closed, false);
      assert.strictEqual(owner.data.toString(), 'bye');
      assert.deepStrictEqual(owner.events, ['end', 'close']);
      await closeServer(server);
    });

    it('half-close: we end first, the peer keeps writing, then ends', async () => {
      let owner;
      const { server, port } = await adoptingServer((t) => {
        owner = new Recorder();
        t.start(owner);
        t.write(Buffer.from('bye'), null);
        t.end();
      }, undefined, { allowHalfOpen: true });
      const client = net.connect({ port, host: '127.0.0.1', allowHalfOpen: true });
      client.on('data', () => {});
      await once(client, 'end');
      client.end('still talking');
      assert.strictEqual(await owner.closed, false);
      assert.strictEqual(owner.data.toString(), 'still talking');
      await closeServer(server);
    });

    it('a reset by the peer: one error (ECONNRESET), then close(hadError)', async function () {
      let owner;
      const { server, port } = await adoptingServer((t) => {
        owner = new Recorder();
        t.start(owner);
      });
      const client = await connect(port);
      await new Promise((r) => setTimeout(r, 20));
      client.resetAndDestroy();
      assert.strictEqual(await owner.closed, true);
      assert.strictEqual(owner.errors.length, 1);
      assert.strictEqual(owner.errors[0].code, 'ECONNRESET');
      assert.strictEqual(owner.errors[0].syscall, 'read');
      assert.deepStrictEqual(owner.events, ['error', 'close(error)']);
      await closeServer(server);
    });

    it('an owner that destroys the transport from onTransportError still closes with hadError', async () => {
      let owner;
      const { server, port } = await adoptingServer((t) => {
        owner = new Recorder();
        owner.onTransportError = function (err) {
          this.events.push('error');
          this.errors.push(err);
          t.destroy();
        };
        t.start(owner);
      });
      const client = await connect(port);
      await new Promise((r) => setTimeout(r, 20));
      client.resetAndDestroy();
      assert.strictEqual(await owner.closed, true);
      assert.deepStrictEqual(owner.events, ['error', 'close(error)']);
      await closeServer(server);
    });

    it('writing to a peer that is gone: the error reaches the callbacks and is reported once', async () => {
      let t;
      let owner;
      const { server, port } = await adoptingServer((tt) => {
        t = tt;
        owner = new Recorder();
        t.start(owner);
        t.pause(); // do not read the RST: the writes meet it
      });
      const client = await connect(port);
      await new Promise((r) => setTimeout(r, 20));
      client.resetAndDestroy();
      await new Promise((r) => setTimeout(r, 50));
      const errors = [];
      for (let i = 0; i < 20; i++) t.write(Buffer.alloc(64 * 1024), null, (err) => errors.push(err && err.code));
      assert.strictEqual(await owner.closed, true);
      await new Promise((r) => setImmediate(r));
      assert.strictEqual(owner.errors.length, 1);
      assert.match(owner.errors[0].code, /^(EPIPE|ECONNRESET)$/);
      assert.strictEqual(errors.length, 20);
      assert.ok(errors.every((c) => typeof c === 'string'));
      await closeServer(server);
    });

    it('pause() stops reading until resume()', async () => {
      let t;
      let owner;
      const { server, port } = await adoptingServer((tt) => {
        t = tt;
        owner = new Recorder();
        t.start(owner);
        t.pause();
      });
      const client = await connect(port);
      client.write('held');
      await new Promise((r) => setTimeout(r, 50));
      assert.strictEqual(owner.chunks.length, 0);
      assert.strictEqual(t.isPaused, true);
      t.resume();
      await new Promise((r) => setTimeout(r, 50));
      assert.strictEqual(owner.data.toString(), 'held');
      client.destroy();
      await owner.closed;
      await closeServer(server);
    });

    it('an exception thrown by the owner leaves the transport uncorked', async () => {
      let t;
      let owner;
      const { server, port } = await adoptingServer((tt) => {
        t = tt;
        owner = new Recorder((chunk, x) => {
          x.write(Buffer.from('reply'), null);
          throw new Error('owner bug');
        });
        owner.t = t;
        t.start(owner);
      });
      const listeners = process.listeners('uncaughtException');
      process.removeAllListeners('uncaughtException');
      const caught = new Promise((resolve) => process.once('uncaughtException', resolve));
      try {
        const client = await connect(port);
        client.write('x');
        assert.strictEqual((await caught).message, 'owner bug');
        assert.strictEqual((await readBytes(client, 5)).toString(), 'reply');
        assert.strictEqual(t.corked, 0);
        client.destroy();
        await owner.closed;
      } finally {
        for (const l of listeners) process.on('uncaughtException', l);
      }
      await closeServer(server);
    });
  });

  it('many connections at once', async () => {
    const owners = [];
    const { server, port } = await adoptingServer((t) => {
      const owner = echoOwner();
      owner.t = t;
      t.start(owner);
      owners.push(owner);
    });
    const N = 200;
    const clients = await Promise.all(Array.from({ length: N }, () => connect(port)));
    await Promise.all(
      clients.map(async (c, i) => {
        const msg = Buffer.from(`message ${i} `.repeat(50));
        const echoed = readBytes(c, msg.length);
        c.write(msg);
        assert.ok((await echoed).equals(msg));
        c.end();
      }),
    );
    await Promise.all(owners.map((o) => o.closed));
    assert.strictEqual(owners.length, N);
    await closeServer(server);
    assert.strictEqual(server._connections, 0);
  });

  it('a Unix-socket server (a Pipe handle)', async () => {
    const file = path.join(os.tmpdir(), `weft-tcp-handle-${process.pid}.sock`);
    try {
      fs.unlinkSync(file);
    } catch {}
    let owner;
    const server = net.createServer((s) => {
      const t = adopt(s);
      assert.ok(t);
      owner = echoOwner();
      owner.t = t;
      t.start(owner);
    });
    server.listen(file);
    await once(server, 'listening');
    const client = net.connect(file);
    await once(client, 'connect');
    client.write('over a pipe');
    assert.strictEqual((await readBytes(client, 11)).toString(), 'over a pipe');
    client.end();
    await owner.closed;
    await closeServer(server);
  });

  it('the layering rule: transport/ imports no other lib/ folder', () => {
    const src = fs.readFileSync(path.join(__dirname, '../../lib/transport/tcp-handle.ts'), 'utf8');
    assert.doesNotMatch(src, /from '\.\.\//);
    // Nothing is probed at import: the module loads without touching process.binding.
    const out = execFileSync(
      process.execPath,
      ['--pending-deprecation', '--throw-deprecation', '-e', `require(${JSON.stringify(MODULE)}); console.log('ok')`],
      { encoding: 'utf8' },
    );
    assert.strictEqual(out.trim(), 'ok');
  });
});
