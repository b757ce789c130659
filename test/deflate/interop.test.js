'use strict';
// Wire-level interop with the ws package (deflate on), both ways: ws's Sender + PerMessageDeflate
// bytes parsed by weft's core + codec, and weft's bytes parsed by ws's Receiver + PerMessageDeflate,
// after a negotiation done by one side's helper and accepted by the other's. Also weft's
// PerMessageDeflate used inside ws's own Receiver/Sender (its public shape is ws's).

const assert = require('assert');
const ws = require('ws');
const { Connection } = require('../../dist/lib/protocol/connection');
const { PerMessageDeflate } = require('../../dist/lib/deflate/permessage-deflate');
const { negotiateServer, clientOffer, acceptClientResponse } = require('../../dist/lib/deflate/handshake-steps');
const { RecordingSink } = require('../protocol/helpers');
const { countingCodec, text } = require('./helpers');
const { parseFrames } = require('../support/frames');

/** A fake socket for ws's Sender: collects bytes. */
function socket() {
  const out = [];
  return { out, cork() {}, uncork() {}, write(b, cb) { out.push(Buffer.from(b)); if (cb) process.nextTick(cb); return true; } };
}

/** Messages: [data, binary, pieces]. */
const MESSAGES = [
  ['hello', false],
  [text(3 * 1024 * 1024, 3), true],
  ['a fragmented message, '.repeat(200), false, 4],
  ['', false],
  [text(5000, 4), true, 3],
  ['tiny', true],
  ['€uro ✓ '.repeat(400), false],
];

function split(data, pieces) {
  const buf = Buffer.from(data);
  if (!pieces) return [buf];
  const step = Math.ceil(buf.length / pieces);
  const out = [];
  for (let i = 0; i < pieces; i++) out.push(buf.subarray(i * step, Math.min(buf.length, (i + 1) * step)));
  return out;
}

/** ws's Sender writes every message; resolves with the bytes. */
async function wsSend(pmd, isServer) {
  const sock = socket();
  const sender = new ws.Sender(sock, pmd ? { 'permessage-deflate': pmd } : {});
  const done = [];
  for (const [data, binary, pieces] of MESSAGES) {
    const parts = split(data, pieces);
    parts.forEach((part, i) => {
      done.push(new Promise((r) => sender.send(part, { binary, compress: true, fin: i === parts.length - 1, mask: !isServer }, r)));
    });
  }
  await Promise.all(done);
  return Buffer.concat(sock.out);
}

/** weft's core writes every message; resolves with the bytes. */
async function weftSend(codec, isServer) {
  const sink = new RecordingSink();
  const conn = new Connection(sink, { isServer, codec });
  const done = [];
  for (const [data, binary, pieces] of MESSAGES) {
    const parts = split(data, pieces);
    parts.forEach((part, i) => {
      done.push(new Promise((r) => conn.sendMessage(part, binary, i === parts.length - 1, true, r)));
    });
  }
  await Promise.all(done);
  return Buffer.concat(sink.written);
}

/** weft's core parses `bytes` (in uneven chunks); resolves with [data, isBinary] per message. */
async function weftParse(bytes, pmd, isServer) {
  const codec = countingCodec(pmd);
  const got = [];
  const errors = [];
  const sink = Object.assign(new RecordingSink(), {
    onMessage(d, b) { got.push([Buffer.from(d), b]); },
    onError(e) { errors.push(e); },
  });
  const conn = new Connection(sink, { isServer, codec });
  for (let pos = 0, n = 1; pos < bytes.length; pos += n, n = (n * 7 + 13) % 65536 + 1) {
    conn.receiveData(Buffer.from(bytes.subarray(pos, pos + n)));
  }
  await codec.whenIdle();
  assert.deepStrictEqual(errors, []);
  return got;
}

/** ws's Receiver parses `bytes`; resolves with [data, isBinary] per message. */
function wsParse(bytes, pmd, isServer) {
  return new Promise((resolve, reject) => {
    const r = new ws.Receiver({ isServer, extensions: pmd ? { 'permessage-deflate': pmd } : {} });
    const got = [];
    r.on('message', (d, b) => {
      got.push([Buffer.from(d), b]);
      if (got.length === MESSAGES.length) resolve(got);
    });
    r.on('error', reject);
    r.write(bytes);
  });
}

function check(got) {
  assert.strictEqual(got.length, MESSAGES.length);
  MESSAGES.forEach(([data, binary], i) => {
    assert.strictEqual(got[i][1], binary, `message ${i} type`);
    assert.ok(got[i][0].equals(Buffer.from(data)), `message ${i} content`);
  });
}

/**
 * How many of the frames in `bytes` (a client's when `fromClient`: masked; a server's: unmasked) carry
 * RSV1; RSV2 and RSV3 must be clear everywhere.
 */
function rsv1Count(bytes, fromClient) {
  const frames = parseFrames(bytes, { masked: fromClient });
  assert.ok(frames.every((f) => (f.rsv & 3) === 0), 'no RSV2/RSV3');
  return frames.filter((f) => f.rsv === 4).length;
}

const SETUPS = [
  { client: {}, server: {} },
  { client: { threshold: 0 }, server: { serverNoContextTakeover: true, clientNoContextTakeover: true, threshold: 0 } },
  { client: { clientMaxWindowBits: 10, serverMaxWindowBits: 9 }, server: {} },
  { client: { clientNoContextTakeover: true }, server: { serverMaxWindowBits: 11, clientMaxWindowBits: 12 } },
];

describe('permessage-deflate interop with ws (bytes)', function () {
  this.timeout(30000);

  SETUPS.forEach(({ client: clientOpts, server: serverOpts }) => {
    const label = `client ${JSON.stringify(clientOpts)} / server ${JSON.stringify(serverOpts)}`;

    it(`ws client → weft server, ${label}`, async function () {
      // ws offers, weft's server helper answers, ws accepts the answer.
      const wsClient = new ws.PerMessageDeflate({ ...clientOpts });
      const offer = ws.extension.format({ 'permessage-deflate': wsClient.offer() });
      const { extension: server, header } = negotiateServer(offer, { perMessageDeflate: serverOpts });
      wsClient.accept(ws.extension.parse(header)['permessage-deflate']);
      const bytes = await wsSend(wsClient, false);
      assert.ok(rsv1Count(bytes, true) > 0);
      check(await weftParse(bytes, server, true));
      server.cleanup();
      wsClient.cleanup();
    });

    it(`weft client → ws server, ${label}`, async function () {
      // weft's client helper offers, ws's server accepts, weft's client helper accepts ws's answer.
      const { extension: client, header: offer } = clientOffer({ perMessageDeflate: clientOpts });
      const wsServer = new ws.PerMessageDeflate({ ...serverOpts, isServer: true });
      const response = ws.extension.format({ 'permessage-deflate': [wsServer.accept(ws.extension.parse(offer)['permessage-deflate'])] });
      assert.strictEqual(acceptClientResponse(response, client), client);
      const bytes = await weftSend(client.codec(), false);
      assert.ok(rsv1Count(bytes, true) > 0);
      check(await wsParse(bytes, wsServer, true));
      client.cleanup();
      wsServer.cleanup();
    });

    it(`weft server → ws client, ${label}`, async function () {
      const wsClient = new ws.PerMessageDeflate({ ...clientOpts });
      const offer = ws.extension.format({ 'permessage-deflate': wsClient.offer() });
      const { extension: server, header } = negotiateServer(offer, { perMessageDeflate: serverOpts });
      wsClient.accept(ws.extension.parse(header)['permessage-deflate']);
      const bytes = await weftSend(server.codec(), true);
      assert.ok(rsv1Count(bytes, false) > 0);
      check(await wsParse(bytes, wsClient, false));
      server.cleanup();
      wsClient.cleanup();
    });

    it(`ws server → weft client, ${label}`, async function () {
      const { extension: client, header: offer } = clientOffer({ perMessageDeflate: clientOpts });
      const wsServer = new ws.PerMessageDeflate({ ...serverOpts, isServer: true });
      const response = ws.extension.format({ 'permessage-deflate': [wsServer.accept(ws.extension.parse(offer)['permessage-deflate'])] });
      acceptClientResponse(response, client);
      const bytes = await wsSend(wsServer, true);
      assert.ok(rsv1Count(bytes, false) > 0);
      check(await weftParse(bytes, client, false));
      client.cleanup();
      wsServer.cleanup();
    });
  });

  it('writes the same frames as ws for the same messages (same zlib settings)', async function () {
    const mk = (Ctor) => {
      const p = new Ctor({ isServer: true });
      p.accept(ws.extension.parse('permessage-deflate')['permessage-deflate']);
      return p;
    };
    const mine = mk(PerMessageDeflate);
    const theirs = mk(ws.PerMessageDeflate);
    const a = await weftSend(mine.codec(), true);
    const b = await wsSend(theirs, true);
    assert.strictEqual(a.toString('hex'), b.toString('hex'));
    mine.cleanup();
    theirs.cleanup();
  });

  it('weft\'s PerMessageDeflate works inside ws\'s own Sender and Receiver', async function () {
    const server = new PerMessageDeflate({ isServer: true });
    const client = new PerMessageDeflate({});
    const accepted = server.accept(ws.extension.parse(ws.extension.format({ 'permessage-deflate': client.offer() }))['permessage-deflate']);
    client.accept(ws.extension.parse(ws.extension.format({ 'permessage-deflate': [accepted] }))['permessage-deflate']);
    const bytes = await wsSend(client, false);
    assert.ok(rsv1Count(bytes, true) > 0);
    check(await wsParse(bytes, server, true));
    client.cleanup();
    server.cleanup();
  });
});
