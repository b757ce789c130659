'use strict';
// ws's exported Sender, differential: the same calls on ws 8.23's Sender and on weft's, each writing to
// a real TCP socket; the bytes the other end reads and the order of the callbacks must be equal.
const assert = require('assert');
const net = require('net');
const { once } = require('events');
const ws = require('ws');
const weft = require('../..');

const fixedMask = (k) => { k[0] = 0xa1; k[1] = 0x02; k[2] = 0x53; k[3] = 0x04; };

/** A connected pair of TCP sockets on localhost. */
async function socketPair() {
  const server = net.createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const client = net.connect(server.address().port, '127.0.0.1');
  const [peer] = await once(server, 'connection');
  await once(client, 'connect');
  server.close();
  return { client, peer };
}

/** A PerMessageDeflate of `lib` for the given role, accepted with `params` (ws's parsed-header shape). */
function deflateFor(lib, isServer, options, params) {
  const pmd = new lib.PerMessageDeflate({ isServer, ...options });
  const offer = {};
  for (const [k, v] of Object.entries(params || {})) offer[k] = [v];
  pmd.accept([offer]);
  return { 'permessage-deflate': pmd };
}

/**
 * Runs `script(sender, cb)` on a Sender of `lib` over a real socket; `cb(name)` makes a callback that
 * records its call. Resolves with the bytes the peer read and the callbacks' order, once every callback
 * made has run; `error` holds what the script threw.
 */
async function run(lib, { role = 'client', deflate, params, generateMask = fixedMask, writes } = {}, script) {
  const { client, peer } = await socketPair();
  const received = [];
  // `writes`: also record how the Sender cuts its output into socket.write() calls (kind and size).
  const cuts = [];
  if (writes) {
    const write = client.write;
    client.write = function (chunk, ...rest) {
      cuts.push(typeof chunk === 'string' ? `string ${chunk}` : `buffer ${chunk.length}`);
      return write.call(this, chunk, ...rest);
    };
  }
  peer.on('data', (chunk) => received.push(chunk));
  const extensions = deflate ? deflateFor(lib, role === 'server', deflate, params) : undefined;
  const sender = new lib.Sender(client, extensions, generateMask);
  const calls = [];
  let made = 0;
  let wake = null;
  const cb = (name) => {
    made++;
    return (err) => {
      calls.push(err ? `${name}: ${err.message}` : name);
      if (calls.length === made && wake) wake();
    };
  };
  let error;
  try {
    script(sender, cb, role === 'client');
  } catch (err) {
    error = `${err.constructor.name}: ${err.message}`;
  }
  if (calls.length !== made) await new Promise((resolve) => { wake = resolve; });
  client.end();
  await once(peer, 'end');
  peer.destroy();
  // Release the zlib streams (weft pools them process-wide), as a WebSocket does on close.
  if (extensions) extensions['permessage-deflate'].cleanup();
  return { bytes: Buffer.concat(received).toString('hex'), calls, error, ...(writes ? { cuts } : {}) };
}

async function same(setup, script) {
  const theirs = await run(ws, setup, script);
  const mine = await run(weft, setup, script);
  assert.deepStrictEqual(mine, theirs);
  return mine;
}

const roles = ['client', 'server'];

describe('compat: Sender (ws 8.23 differential)', () => {
  describe('ping / pong payloads', () => {
    const payloads = {
      string: () => 'héllo',
      Buffer: () => Buffer.from([1, 2, 3]),
      Uint16Array: () => new Uint16Array([0x102, 0x304]),
      'a view into a larger buffer': () => new Uint8Array([9, 8, 7, 6]).subarray(1, 3),
      DataView: () => new DataView(new Uint8Array([5, 6, 7]).buffer),
      ArrayBuffer: () => new Uint8Array([4, 5, 6]).buffer,
      Blob: () => new Blob(['blob ', Buffer.from([0xff])]),
      'empty Blob': () => new Blob([]),
      'empty string': () => '',
    };
    for (const role of roles) {
      for (const [name, make] of Object.entries(payloads)) {
        it(`${role}: ping and pong with a ${name} give ws's bytes`, async () => {
          const out = await same({ role }, (s, cb, mask) => {
            s.ping(make(), mask, cb('ping'));
            s.pong(make(), mask, cb('pong'));
          });
          assert.deepStrictEqual(out.calls, ['ping', 'pong']);
          assert.strictEqual(out.bytes.slice(0, 2), '89');
        });
      }
    }

    it('a Blob ping holds back what is sent after it until it is read', async () => {
      const out = await same({}, (s, cb, mask) => {
        s.ping(new Blob(['first']), mask, cb('ping'));
        s.send('second', { fin: true, mask }, cb('send'));
        s.pong('third', mask, cb('pong'));
      });
      assert.deepStrictEqual(out.calls, ['ping', 'send', 'pong']);
    });

    it('payloads over 125 bytes throw ws\'s RangeError, a Blob too', async () => {
      for (const big of [Buffer.alloc(126), 'x'.repeat(126), new Blob([Buffer.alloc(126)])]) {
        const out = await same({}, (s, cb, mask) => s.ping(big, mask));
        assert.strictEqual(out.error, 'RangeError: The data size must not be greater than 125 bytes');
        assert.strictEqual(out.bytes, '');
      }
    });

    it('no payload at all throws Buffer.from\'s TypeError, as ws\'s Sender (the WebSocket passes one)', async () => {
      const out = await same({}, (s, cb, mask) => s.ping(undefined, mask));
      assert.match(out.error, /^TypeError: The first argument must be/);
    });
  });

  describe('send', () => {
    it('Blob messages, text and binary, in order with the rest', async () => {
      const out = await same({}, (s, cb, mask) => {
        s.send(new Blob(['as text']), { binary: false, fin: true, mask }, cb('a'));
        s.send(new Blob([Buffer.from([0, 1, 2])]), { binary: true, fin: true, mask }, cb('b'));
        s.send('plain', { fin: true, mask }, cb('c'));
      });
      assert.deepStrictEqual(out.calls, ['a', 'b', 'c']);
    });

    it('a Blob that cannot be read: its callback and onerror get the error', async () => {
      class BrokenBlob extends Blob {
        arrayBuffer() {
          return Promise.reject(new Error('unreadable'));
        }
      }
      for (const lib of [ws, weft]) {
        const { client, peer } = await socketPair();
        const s = new lib.Sender(client, undefined, fixedMask);
        const seen = [];
        s.onerror = (err) => seen.push(`onerror ${err.message}`);
        s.send(new BrokenBlob(['x']), { binary: true, fin: true, mask: true }, (err) => seen.push(`cb ${err && err.message}`));
        while (seen.length < 2) await new Promise((resolve) => setImmediate(resolve));
        assert.deepStrictEqual(seen, ['cb unreadable', 'onerror unreadable'], lib === ws ? 'ws' : 'weft');
        client.destroy();
        peer.destroy();
      }
    });

    for (const role of roles) {
      const ours = role === 'client' ? 'client_no_context_takeover' : 'server_no_context_takeover';
      it(`${role}: with no context takeover, compress honours threshold (below: plain, at or above: RSV1)`, async () => {
        const out = await same({ role, deflate: { threshold: 8 }, params: { [ours]: true } }, (s, cb, mask) => {
          s.send('tiny', { compress: true, fin: true, mask }, cb('small'));
          s.send('big enough to compress', { compress: true, fin: true, mask }, cb('big'));
          s.send('big enough to compress', { compress: false, fin: true, mask }, cb('not asked'));
        });
        assert.deepStrictEqual(out.calls, ['small', 'big', 'not asked']);
        assert.strictEqual(out.bytes.slice(0, 2), '81'); // the small one: FIN, text, no RSV1
      });

      it(`${role}: with context takeover, every message asked for is compressed, whatever threshold says`, async () => {
        const out = await same({ role, deflate: { threshold: 1024 } }, (s, cb, mask) => {
          s.send('tiny', { compress: true, fin: true, mask }, cb('a'));
          s.send('tiny', { compress: true, fin: true, mask }, cb('b'));
        });
        assert.strictEqual(out.bytes.slice(0, 2), 'c1');
      });

      it(`${role}: the other side's no_context_takeover does not apply to what this side sends`, async () => {
        const theirs = role === 'client' ? 'server_no_context_takeover' : 'client_no_context_takeover';
        const out = await same({ role, deflate: { threshold: 1024 }, params: { [theirs]: true } }, (s, cb, mask) => {
          s.send('tiny', { compress: true, fin: true, mask }, cb('a'));
        });
        assert.strictEqual(out.bytes.slice(0, 2), 'c1');
      });

      it(`${role}: a fragmented message is compressed in all its fragments when the first asks, RSV1 on the first only`, async () => {
        const out = await same({ role, deflate: { threshold: 0 } }, (s, cb, mask) => {
          s.send('aaaa', { compress: true, fin: false, mask }, cb('1'));
          s.send('bbbb', { compress: false, fin: false, mask }, cb('2'));
          s.send('cccc', { compress: true, fin: true, mask }, cb('3'));
        });
        assert.strictEqual(out.bytes.slice(0, 2), '41');
      });

      it(`${role}: ... and in none of them when the first does not ask`, async () => {
        const out = await same({ role, deflate: { threshold: 0 } }, (s, cb, mask) => {
          s.send('aaaa', { compress: false, fin: false, mask }, cb('1'));
          s.send('bbbb', { compress: true, fin: true, mask }, cb('2'));
        });
        assert.strictEqual(out.bytes.slice(0, 2), '01');
      });

      it(`${role}: the first fragment's size decides against the threshold (no context takeover)`, async () => {
        const ourParam = role === 'client' ? 'client_no_context_takeover' : 'server_no_context_takeover';
        await same({ role, deflate: { threshold: 4 }, params: { [ourParam]: true } }, (s, cb, mask) => {
          s.send('ab', { compress: true, fin: false, mask }, cb('small first'));
          s.send('a long enough last fragment', { compress: true, fin: true, mask }, cb('big last'));
          s.send('a long enough first fragment', { compress: true, fin: false, mask }, cb('big first'));
          s.send('ab', { compress: true, fin: true, mask }, cb('small last'));
        });
      });

      it(`${role}: an empty first or last fragment of a compressed message`, async () => {
        await same({ role, deflate: { threshold: 0 } }, (s, cb, mask) => {
          s.send('', { compress: true, fin: false, mask }, cb('empty first'));
          s.send('body', { compress: true, fin: true, mask }, cb('last'));
          s.send('body', { compress: true, fin: false, mask }, cb('first'));
          s.send(Buffer.alloc(0), { compress: true, fin: true, mask }, cb('empty last'));
          s.send('', { compress: true, fin: true, mask }, cb('empty message'));
        });
      });

      it(`${role}: close goes out after the compressed data queued before it, and a ping after the close`, async () => {
        const out = await same({ role, deflate: { threshold: 0 } }, (s, cb, mask) => {
          s.send('x'.repeat(2000), { binary: true, compress: true, fin: true, mask }, cb('data'));
          s.close(1000, 'bye', mask, cb('close'));
          s.ping('after', mask, cb('ping'));
        });
        assert.deepStrictEqual(out.calls, ['data', 'close', 'ping']);
        assert.strictEqual(out.bytes.slice(0, 2), 'c2');
      });

      it(`${role}: pre-built frames (sendFrame) wait behind a compression in flight (weft keeps call order)`, async () => {
        // ws writes them at once, ahead of the compressed message asked for before them; weft keeps the
        // order the calls were made in, so a frame-once broadcast cannot overtake a message.
        const out = await run(weft, { role, deflate: { threshold: 0 } }, (s, cb, mask) => {
          s.send('compressed first', { compress: true, fin: true, mask }, cb('data'));
          s.sendFrame(ws.Sender.frame(Buffer.from('framed'), { fin: true, opcode: 1, mask: false, readOnly: true, rsv1: false }), cb('frame'));
        });
        assert.deepStrictEqual(out.calls, ['data', 'frame']);
        assert.ok(out.bytes.startsWith('c1') && out.bytes.endsWith(Buffer.from('framed').toString('hex')));
      });
    }

    it('frames waiting behind a compression keep the mask they were asked with', async () => {
      const out = await same({ deflate: { threshold: 0 } }, (s, cb) => {
        s.send('data data', { compress: true, fin: true, mask: false }, cb('unmasked data'));
        s.close(1000, 'bye', true, cb('masked close'));
        s.ping(new Blob(['b']), true, cb('masked ping'));
        s.pong(new Blob(['c']), false, cb('unmasked pong'));
        s.send('end', { fin: true, mask: true }, cb('masked text'));
      });
      assert.deepStrictEqual(out.calls, ['unmasked data', 'masked close', 'masked ping', 'unmasked pong', 'masked text']);
    });

    it('close: ws\'s argument errors, and a reason without length taken as none', async () => {
      const errors = [];
      for (const args of [[999], [1000, 'x'.repeat(124)], [1000, { no: 'length' }], [1000, 42], [1000, Buffer.from('ok')]]) {
        const out = await same({}, (s) => s.close(...args, true));
        errors.push(out.error);
      }
      assert.deepStrictEqual(errors, [
        'TypeError: First argument must be a valid error code number',
        'RangeError: The message must not be greater than 123 bytes',
        undefined,
        undefined,
        undefined,
      ]);
    });

    it('new Sender(socket) with neither extensions nor generateMask: random masks, frames ws\'s Receiver reads', async () => {
      const { client, peer } = await socketPair();
      const s = new weft.Sender(client);
      const receiver = new ws.Receiver({ isServer: true });
      const got = [];
      receiver.on('message', (d, isBinary) => got.push([d.toString(), isBinary]));
      receiver.on('ping', (d) => got.push(['ping', d.toString()]));
      peer.pipe(receiver);
      s.send('hello', { fin: true, mask: true });
      s.ping('p', true);
      s.send(Buffer.from('bin'), { binary: true, fin: true, mask: true });
      while (got.length < 3) await new Promise((resolve) => setImmediate(resolve));
      assert.deepStrictEqual(got, [['hello', false], ['ping', 'p'], ['bin', true]]);
      client.destroy();
      peer.destroy();
    });
  });

  describe('socket writes', () => {
    it('server role: a frame is written as ws writes it, the header then the payload as given (a string stays one)', async () => {
      const r = await same({ role: 'server', writes: true, deflate: { threshold: 0 } }, (s, cb) => {
        s.send('hi', { fin: true }, cb('text'));
        s.send(Buffer.alloc(600, 1), { binary: true, fin: true }, cb('binary'));
        s.send(new Uint8Array([1, 2, 3]), { binary: true, fin: true }, cb('typed array'));
        s.send(Buffer.alloc(0), { binary: true, fin: true }, cb('empty'));
        s.ping('hi', false, cb('ping'));
        s.pong(new Uint8Array([7]), false, cb('pong'));
        s.send('compressed', { compress: true, fin: true }, cb('compressed'));
        s.close(1000, 'bye', false, cb('close'));
      });
      assert.deepStrictEqual(r.cuts.slice(0, 6), ['buffer 2', 'string hi', 'buffer 4', 'buffer 600', 'buffer 2', 'buffer 3']);
      assert.strictEqual(r.cuts.length, 15);
    });
  });

  describe('Sender.frame', () => {
    it('equals ws\'s buffers for every data kind and option', () => {
      const zero = (k) => k.fill(0);
      const data = {
        empty: () => Buffer.alloc(0),
        small: () => Buffer.from('hello'),
        126: () => Buffer.alloc(126, 7),
        65536: () => Buffer.alloc(65536, 9),
        string: () => 'héllo',
        'empty string': () => '',
      };
      let checked = 0;
      for (const [name, make] of Object.entries(data)) {
        for (const mask of [false, true]) {
          for (const readOnly of [false, true]) {
            for (const generateMask of [fixedMask, zero]) {
              for (const [fin, rsv1, opcode] of [[true, false, 1], [false, true, 2], [true, false, 9]]) {
                for (const maskBuffer of [undefined, Buffer.alloc(4)]) {
                  const options = () => ({ fin, rsv1, opcode, mask, readOnly, generateMask, ...(maskBuffer ? { maskBuffer: Buffer.alloc(4) } : {}) });
                  const a = make();
                  const b = make();
                  const mine = weft.Sender.frame(a, options()).map((x) => x.toString('hex'));
                  const theirs = ws.Sender.frame(b, options()).map((x) => x.toString('hex'));
                  const label = `${name} mask=${mask} readOnly=${readOnly} ${generateMask.name} fin=${fin}`;
                  assert.deepStrictEqual(mine, theirs, label);
                  // And what happened to the caller's buffer (masked in place or not) is the same too.
                  assert.deepStrictEqual(Buffer.from(a).toString('hex'), Buffer.from(b).toString('hex'), label);
                  checked++;
                }
              }
            }
          }
        }
      }
      assert.strictEqual(checked, 288);
    });
  });
});
