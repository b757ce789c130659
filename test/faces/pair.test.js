'use strict';
// WebSocketPair (Cloudflare Workers' shape) over the in-memory transport: real RFC 6455 frames, no TCP.
const assert = require('assert');
const { once } = require('events');
const { WebSocketPair } = require('../../dist/lib/pair');
const { memoryPair } = require('../../dist/lib/transport/memory');

describe('WebSocketPair', () => {
  it('is {0: client, 1: server}: Object.values gives [client, server]', () => {
    const pair = new WebSocketPair();
    const [client, server] = Object.values(pair);
    assert.strictEqual(client, pair[0]);
    assert.strictEqual(server, pair[1]);
    assert.strictEqual(Object.keys(pair).length, 2);
    assert.strictEqual(client._isServer, false);
    assert.strictEqual(server._isServer, true);
  });

  it('throws when sending before accept(), as Cloudflare does', () => {
    const [client, server] = Object.values(new WebSocketPair());
    assert.throws(() => server.send('x'), { name: 'TypeError', message: 'You must call accept() on this WebSocket before sending messages.' });
    assert.throws(() => client.send('x'), TypeError);
  });

  it('queues what arrives before accept() and delivers it in order after', async () => {
    const [client, server] = Object.values(new WebSocketPair());
    client.accept();
    client.send('one');
    client.send(Buffer.from([1, 2, 3]));
    client.send('three');
    const got = [];
    server.on('message', (data, isBinary) => got.push(isBinary ? Array.from(new Uint8Array(data)) : data.toString()));
    await new Promise((r) => setImmediate(r));
    assert.deepStrictEqual(got, [], 'nothing before accept');
    server.accept();
    while (got.length < 3) await once(server, 'message');
    assert.deepStrictEqual(got, ['one', [1, 2, 3], 'three']);
  });

  it('delivers binary as ArrayBuffer by default and honours binaryType', async () => {
    const [client, server] = Object.values(new WebSocketPair());
    client.accept();
    server.accept();
    client.send(new Uint8Array([9, 8]));
    const [data] = await once(server, 'message');
    assert.ok(data instanceof ArrayBuffer);
    server.binaryType = 'nodebuffer';
    client.send(new Uint8Array([7]));
    const [data2] = await once(server, 'message');
    assert.ok(Buffer.isBuffer(data2));
  });

  it('carries large and fragmented messages through the real framing', async () => {
    const [client, server] = Object.values(new WebSocketPair());
    client.accept();
    server.accept();
    server.binaryType = 'nodebuffer';
    const big = Buffer.alloc(3 * 1024 * 1024, 0x42);
    const got = [];
    server.on('message', (data) => got.push(data));
    client.send(big);
    client.send('ab', { fin: false });
    client.send('cd', { fin: true });
    while (got.length < 2) await once(server, 'message');
    assert.ok(got[0].equals(big));
    assert.strictEqual(got[1].toString(), 'abcd');
  });

  it('close fires on both ends with code and reason; codes are validated as on a socket', async () => {
    const [client, server] = Object.values(new WebSocketPair());
    client.accept();
    server.accept();
    assert.throws(() => server.close(1005), TypeError);
    const closed = Promise.all([once(client, 'close'), once(server, 'close')]);
    server.close(4001, 'done');
    const [[ccode, creason], [scode, sreason]] = await closed;
    assert.strictEqual(ccode, 4001);
    assert.strictEqual(creason.toString(), 'done');
    assert.strictEqual(scode, 4001);
    assert.strictEqual(sreason.toString(), 'done');
    assert.strictEqual(client.readyState, 3);
    assert.strictEqual(server.readyState, 3);
  });

  it('the receiver owns its copy: a sender that reuses its buffer after send() does not change what arrives', async () => {
    // Small, just past 16 KiB and large; server to client (unmasked: the payload is not copied by masking)
    // and client to server; with an earlier send still in flight so that the big one waits in the queue.
    for (const size of [100, 16 * 1024 + 1, 1 << 20]) {
      for (const fromServer of [true, false]) {
        const [client, server] = Object.values(new WebSocketPair());
        client.accept();
        server.accept();
        const [tx, rx] = fromServer ? [server, client] : [client, server];
        rx.binaryType = 'nodebuffer';
        const got = [];
        const both = new Promise((resolve) => rx.on('message', (data) => got.push(data) === 2 && resolve()));
        tx.send(Buffer.from('first'));
        const buf = Buffer.alloc(size, 0x41);
        tx.send(buf);
        buf.fill(0x5a);
        await both;
        assert.strictEqual(got[1].length, size);
        assert.ok(got[1].every((b) => b === 0x41), `${size} bytes ${fromServer ? 'server->client' : 'client->server'}: the receiver saw the reuse`);
        // And the other way round: the receiver writing into what it got leaves the sender's buffer alone.
        got[1].fill(0x51);
        assert.strictEqual(buf[0], 0x5a);
        client.terminate();
      }
    }
  });

  it('terminate() on one end is an abnormal close (1006) on the other', async () => {
    const [client, server] = Object.values(new WebSocketPair());
    client.accept();
    server.accept();
    const peerClosed = once(server, 'close');
    client.terminate();
    const [code] = await peerClosed;
    assert.strictEqual(code, 1006);
  });
});

describe('memory transport', () => {
  it('moves bytes both ways in order, with backpressure', async () => {
    const [a, b] = memoryPair();
    const chunks = [];
    b.on('data', (c) => chunks.push(c));
    for (let i = 0; i < 100; i++) a.write(Buffer.from([i]));
    await new Promise((r) => setImmediate(r));
    assert.deepStrictEqual(Buffer.concat(chunks), Buffer.from(Array.from({ length: 100 }, (_, i) => i)));
    // Backpressure: a reader that does not read holds the writer's callbacks.
    const [c, d] = memoryPair();
    let done = 0;
    const payload = Buffer.alloc(64 * 1024);
    for (let i = 0; i < 8; i++) c.write(payload, () => done++);
    await new Promise((r) => setImmediate(r));
    assert.ok(done < 8, 'writes wait for the reader');
    d.resume();
    await new Promise((r) => setTimeout(r, 20));
    assert.strictEqual(done, 8);
  });

  it('end() reaches the peer as end of input; destroy() closes the peer', async () => {
    const [a, b] = memoryPair();
    b.resume();
    const ended = once(b, 'end');
    a.end();
    await ended;
    const [c, d] = memoryPair();
    const closed = once(d, 'close');
    c.destroy();
    await closed;
    assert.strictEqual(d.destroyed, true);
  });
});
