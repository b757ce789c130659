'use strict';
// Large messages on the native transport. Reads normally land in one buffer shared by every connection
// and are copied out; once a data frame has brought at least 64 KiB and more of it is still coming, the
// connection reads into a buffer of its own that becomes the chunk as it is (lib/transport/tcp-handle.ts
// nextReadBuffer, FrameParser.bulkReadSize). What can go wrong there: a handed-over buffer read into
// again, the shared buffer left behind on one handle, a peer making the server set aside more than it
// sent. Once about half of a large frame is here its payload buffer is made (FrameParser.readInto), and
// the rest is read straight into it: the kernel copies the bytes into place, the parser only unmasks them.
// Real sockets on both ends; the peers write raw frames so that the pieces arrive when the test says.
const assert = require('assert');
const crypto = require('crypto');
const { once } = require('events');
const ws = require('ws');
const { WebSocketServer } = require('../..');
const { frame } = require('../support/frames');
const { rawClient, framesFrom } = require('../support/server');

const KiB = 1024;
const MiB = 1024 * KiB;

async function listening(wss) {
  if (wss.address() === null) await once(wss, 'listening');
  return wss.address().port;
}

/** Waits (polling every 2 ms) until `pred()` holds; fails after `ms` with `what`. */
async function until(pred, what, ms = 10000) {
  const start = Date.now();
  while (!pred()) {
    if (Date.now() - start > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

/** A native server whose connections are handed to `onConnection` in order; `conns()` lists them. */
async function nativeServer(options = {}) {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', transport: 'native', ...options });
  const port = await listening(wss);
  const list = [];
  wss.on('connection', (socket) => list.push(socket));
  return { wss, port, conns: () => list };
}

/** A raw peer, upgraded, with its server-side WebSocket and that socket's transport. */
async function rawPeer(server) {
  const before = server.conns().length;
  const peer = await rawClient(server.port);
  await until(() => server.conns().length > before, 'the connection');
  const socket = server.conns()[before];
  const transport = socket._driver.transport;
  assert.notStrictEqual(transport, null, 'carried on the handle');
  return { ...peer, server: socket, transport, base: transport.bytesRead };
}

/** Writes `bytes` from the raw peer and waits until the server's handle has read all it was sent. */
async function send(peer, bytes, sentSoFar) {
  peer.socket.write(bytes);
  const total = sentSoFar + bytes.length;
  await until(() => peer.transport.bytesRead - peer.base >= total, `${total} bytes read`);
  return total;
}

describe('native transport: large messages read into buffers of their own', () => {
  const open = [];
  afterEach(() => {
    for (const s of open.splice(0)) s.close();
  });

  it('sets aside no more than the frame has brought, hands the buffer over, then goes back to the shared one', async () => {
    const server = await nativeServer();
    open.push(server.wss);
    const peer = await rawPeer(server);
    const payload = crypto.randomBytes(MiB);
    const bytes = frame({ opcode: 2, payload });
    const headerLength = bytes.length - payload.length;
    const got = once(peer.server, 'message');

    // 1000 bytes of a 1 MiB frame: not enough to set anything aside.
    let sent = await send(peer, bytes.subarray(0, headerLength + 1000), 0);
    assert.strictEqual(peer.transport.bulkBuffer, null);

    // 200 KiB more: the next read may take the frame's bytes whole, but never more than came so far.
    sent = await send(peer, bytes.subarray(sent, sent + 200 * KiB), sent);
    const bulk = peer.transport.bulkBuffer;
    assert.notStrictEqual(bulk, null, 'a buffer of its own once 64 KiB of the frame are in');
    assert.ok(bulk.length >= 64 * KiB && bulk.length <= sent - headerLength, `set aside ${bulk.length} after ${sent - headerLength} payload bytes`);

    await send(peer, bytes.subarray(sent), sent);
    const [data, isBinary] = await got;
    assert.strictEqual(isBinary, true);
    assert.ok(data.equals(payload), 'the message arrives intact');
    assert.strictEqual(peer.transport.bulkBuffer, null, 'back on the shared buffer once the frame is done');

    // Small frames after it still go through the shared buffer and arrive intact.
    const small = once(peer.server, 'message');
    await send(peer, frame({ opcode: 1, payload: 'after' }), bytes.length);
    assert.strictEqual(String((await small)[0]), 'after');
    peer.socket.destroy();
  });

  /** Sends `bytes` (a frame) up to payload byte `upTo` in two steps and returns the count sent. */
  async function sendUpTo(peer, bytes, upTo) {
    const headerLength = 14;
    const first = await send(peer, bytes.subarray(0, headerLength + (upTo >>> 1)), 0);
    return send(peer, bytes.subarray(first, headerLength + upTo), first);
  }

  it('once about half of a frame is here, the rest is read straight into the message: the buffer handed to "message" is the one the kernel read into', async () => {
    const server = await nativeServer();
    open.push(server.wss);
    const peer = await rawPeer(server);
    const payload = crypto.randomBytes(MiB);
    const bytes = frame({ opcode: 2, payload });
    const got = once(peer.server, 'message');
    const sent = await sendUpTo(peer, bytes, 600 * KiB);
    assert.strictEqual(peer.transport.readsInPlace, true, 'reading into the payload buffer');
    const into = peer.transport.bulkBuffer;
    assert.ok(into.length <= MiB - 600 * KiB, `the view covers what is still due (${into.length})`);
    await send(peer, bytes.subarray(sent), sent);
    const [data, isBinary] = await got;
    assert.strictEqual(isBinary, true);
    assert.ok(data.equals(payload), 'the message arrives intact (unmasked in place)');
    assert.strictEqual(data.buffer, into.buffer, 'the message is the buffer the reads landed in');
    assert.strictEqual(peer.transport.readsInPlace, false, 'back on the shared buffer once the frame is done');
    assert.strictEqual(peer.transport.bulkBuffer, null);
    // The next frames (a small one, then another large one) arrive intact too.
    const next = [];
    peer.server.on('message', (d) => next.push(d));
    const second = crypto.randomBytes(700 * KiB);
    peer.socket.write(Buffer.concat([frame({ opcode: 1, payload: 'between' }), frame({ opcode: 2, payload: second })]));
    await until(() => next.length === 2, 'two more messages');
    assert.strictEqual(String(next[0]), 'between');
    assert.ok(next[1].equals(second));
    peer.socket.destroy();
  });

  it('text read in place is validated: multi-byte characters across the reads pass, a bad byte in the in-place part closes with 1007', async () => {
    const server = await nativeServer();
    open.push(server.wss);
    const text = 'aé€𝄞'.repeat(100 * KiB);
    const good = Buffer.from(text);
    {
      const peer = await rawPeer(server);
      const got = once(peer.server, 'message');
      const bytes = frame({ opcode: 1, payload: good });
      const sent = await sendUpTo(peer, bytes, good.length >>> 1);
      await send(peer, bytes.subarray(sent), sent);
      const [data, isBinary] = await got;
      assert.strictEqual(isBinary, false);
      assert.strictEqual(data.toString(), text);
      peer.socket.destroy();
    }
    {
      const peer = await rawPeer(server);
      const bad = Buffer.from(good);
      bad[bad.length - 10] = 0xff; // never valid in UTF-8, well inside the part read in place
      const errors = [];
      peer.server.on('error', (err) => errors.push(err));
      // (events.once would reject on the 'error' that comes first.)
      const closed = new Promise((resolve) => peer.server.once('close', resolve));
      const bytes = frame({ opcode: 1, payload: bad });
      const sent = await sendUpTo(peer, bytes, bad.length >>> 1);
      assert.strictEqual(peer.transport.readsInPlace, true);
      peer.socket.write(bytes.subarray(sent));
      await closed;
      assert.strictEqual(errors.length, 1);
      assert.strictEqual(errors[0].code, 'WS_ERR_INVALID_UTF8');
      await framesFrom(peer.socket, peer.reader, 1);
      const [close] = peer.reader.frames;
      assert.strictEqual(close.opcode, 8);
      assert.strictEqual(close.payload.readUInt16BE(0), 1007);
      peer.socket.destroy();
    }
  });

  it('a compressed message read in place inflates intact (ws client, permessage-deflate)', async () => {
    const server = await nativeServer({ perMessageDeflate: true, maxPayload: 16 * MiB });
    open.push(server.wss);
    const client = new ws.WebSocket(`ws://127.0.0.1:${server.port}`, { perMessageDeflate: true });
    await once(client, 'open');
    const conn = server.conns()[server.conns().length - 1];
    // Random bytes do not compress: the compressed frame is as large as the message.
    const payload = crypto.randomBytes(2 * MiB);
    const got = once(conn, 'message');
    client.send(payload);
    const [data] = await got;
    assert.ok(data.equals(payload));
    client.close();
    await once(client, 'close');
  });

  it('a peer that announces a huge frame and trickles it gets nothing set aside beyond what it sent', async () => {
    const server = await nativeServer({ maxPayload: 256 * MiB });
    open.push(server.wss);
    const peer = await rawPeer(server);
    // A header claiming 200 MiB, then 48 KiB of it, then 80 KiB more.
    const header = frame({ opcode: 2, payload: Buffer.alloc(0), length: 200 * MiB }).subarray(0, 14);
    let sent = await send(peer, header, 0);
    sent = await send(peer, crypto.randomBytes(48 * KiB), sent);
    assert.strictEqual(peer.transport.bulkBuffer, null);
    sent = await send(peer, crypto.randomBytes(80 * KiB), sent);
    const bulk = peer.transport.bulkBuffer;
    assert.ok(bulk === null || bulk.length <= sent - header.length, `set aside ${bulk && bulk.length} after ${sent - header.length}`);
    assert.strictEqual(peer.transport.readsInPlace, false, 'no payload buffer for a frame mostly not sent');
    peer.socket.destroy();
    await once(peer.server, 'close');
  });

  it('several connections mid-message at once, small messages between them: every byte lands where it belongs', async () => {
    const server = await nativeServer({ maxPayload: 64 * MiB });
    open.push(server.wss);
    const peers = [];
    for (let i = 0; i < 4; i++) peers.push(await rawPeer(server));
    // Per peer: a 3 MiB binary frame, a ~1.5 MiB text message of multi-byte characters (cut anywhere,
    // characters included), and a binary message in three 400 KiB fragments.
    const text = 'aé€𝄞'.repeat(150 * KiB);
    const streams = peers.map(() => {
      const bin = crypto.randomBytes(3 * MiB);
      const frag = crypto.randomBytes(1200 * KiB);
      const wire = Buffer.concat([
        frame({ opcode: 2, payload: bin }),
        frame({ opcode: 1, payload: text }),
        frame({ opcode: 2, payload: frag.subarray(0, 400 * KiB), fin: false }),
        frame({ opcode: 0, payload: frag.subarray(400 * KiB, 800 * KiB), fin: false }),
        frame({ opcode: 0, payload: frag.subarray(800 * KiB) }),
      ]);
      return { bin, frag, wire };
    });
    const received = peers.map((p) => {
      const msgs = [];
      p.server.on('message', (data, isBinary) => msgs.push({ data, isBinary }));
      return msgs;
    });

    // A ws client echoing small messages meanwhile, through the shared buffer.
    const echoed = [];
    const small = new ws.WebSocket(`ws://127.0.0.1:${server.port}`);
    await once(small, 'open');
    const smallServer = server.conns()[server.conns().length - 1];
    smallServer.on('message', (d) => smallServer.send(d));
    small.on('message', (d) => echoed.push(String(d)));

    // Round robin, in uneven slices, each slice read before the next peer's.
    const sent = peers.map(() => 0);
    const smallSent = [];
    let round = 0;
    while (sent.some((n, i) => n < streams[i].wire.length)) {
      for (let i = 0; i < peers.length; i++) {
        const wire = streams[i].wire;
        if (sent[i] >= wire.length) continue;
        const slice = 37 * KiB + ((round * 7919 + i * 104729) % (700 * KiB));
        sent[i] = await send(peers[i], wire.subarray(sent[i], sent[i] + slice), sent[i]);
        small.send(`s${round}.${i}`);
        smallSent.push(`s${round}.${i}`);
      }
      round++;
    }
    await until(() => received.every((m) => m.length === 3), 'every message');
    for (let i = 0; i < peers.length; i++) {
      const [a, b, c] = received[i];
      assert.ok(a.isBinary && a.data.equals(streams[i].bin), `peer ${i}: the 3 MiB frame`);
      assert.ok(!b.isBinary && b.data.toString() === text, `peer ${i}: the text message`);
      assert.ok(c.isBinary && c.data.equals(streams[i].frag), `peer ${i}: the fragmented message`);
    }
    small.send('done');
    await until(() => echoed[echoed.length - 1] === 'done', 'the small echoes');
    assert.deepStrictEqual(echoed, [...smallSent, 'done'], 'every small message echoed, in order');
    small.close();
    for (const p of peers) p.socket.destroy();
  });

  it('pause() in the middle of a large message: the bytes held meanwhile and the rest arrive in order after resume()', async () => {
    const server = await nativeServer();
    open.push(server.wss);
    const peer = await rawPeer(server);
    const payload = crypto.randomBytes(2 * MiB);
    const bytes = frame({ opcode: 2, payload });
    let messages = 0;
    let last = null;
    peer.server.on('message', (data) => {
      messages++;
      last = data;
    });
    let sent = await send(peer, bytes.subarray(0, 300 * KiB), 0);
    peer.server.pause();
    // While paused the socket stops reading at some point: write and let it settle without waiting for reads.
    peer.socket.write(bytes.subarray(sent, sent + 700 * KiB));
    sent += 700 * KiB;
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.strictEqual(messages, 0);
    peer.server.resume();
    peer.socket.write(bytes.subarray(sent));
    await until(() => messages === 1, 'the message');
    assert.ok(last.equals(payload));
    peer.socket.destroy();
  });
});
