'use strict';
// createWebSocketStream (lib/stream.ts) over real loopback connections: a server-side weft WebSocket
// attached with setSocket after a hand-written upgrade, facing ws's client or a raw TCP peer. The
// expected behaviour of each case was checked by running ws 8.23's own createWebSocketStream on it.
const assert = require('assert');
const crypto = require('crypto');
const http = require('http');
const net = require('net');
const { Duplex, Readable, Writable, pipeline } = require('stream');
const WsClient = require('ws');
const { WebSocket } = require('../../dist/lib/websocket');
const { createWebSocketStream } = require('../../dist/lib/stream');

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

/** The arguments of the next `name` event (unlike events.once, an 'error' meanwhile does not reject). */
function next(emitter, name) {
  return new Promise((resolve) => emitter.once(name, (...args) => resolve(args)));
}

describe('createWebSocketStream', () => {
  /** Everything a test opened, closed in afterEach. */
  let opened = [];

  afterEach(() => {
    const list = opened;
    opened = [];
    for (const item of list) {
      if (item instanceof WsClient || item instanceof WebSocket) item.terminate();
      else if (item instanceof net.Socket) item.destroy();
      else if (item instanceof Duplex) item.destroy();
      else if (item instanceof http.Server) {
        item.closeAllConnections();
        item.close();
      }
    }
  });

  /**
   * An http server whose 'upgrade' handler answers 101 and creates a server-side weft WebSocket. It
   * emits 'weft' with the instance and `attach()`, which calls setSocket (and so emits 'open');
   * unless `deferred`, attach is called at once.
   */
  async function listen(deferred) {
    const server = http.createServer();
    opened.push(server);
    server.on('upgrade', (req, socket, head) => {
      const accept = crypto.createHash('sha1').update(req.headers['sec-websocket-key'] + GUID).digest('base64');
      socket.write(
        'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
          `Sec-WebSocket-Accept: ${accept}\r\n\r\n`,
      );
      // As WebSocketServer does: without closeTimeout a hand-made socket waits for no close frame (ws's rule).
      const ws = new WebSocket(null, undefined, { closeTimeout: 30000 });
      opened.push(ws);
      const attach = () => ws.setSocket(socket, head, {});
      if (!deferred) attach();
      server.emit('weft', ws, attach);
    });
    server.listen(0, '127.0.0.1');
    await next(server, 'listening');
    return server;
  }

  /** A weft server-side WebSocket (open unless `deferred`) and ws's client (open). */
  async function connect(deferred = false) {
    const server = await listen(deferred);
    const client = new WsClient(`ws://127.0.0.1:${server.address().port}`);
    opened.push(client);
    const [[ws, attach]] = await Promise.all([next(server, 'weft'), next(client, 'open')]);
    return { ws, attach, client };
  }

  /** A weft server-side WebSocket and a raw TCP peer. */
  async function connectRaw() {
    const server = await listen(false);
    const sock = net.connect(server.address().port, '127.0.0.1');
    opened.push(sock);
    sock.on('error', () => {});
    // Read (and drop) what the server sends, so that its FIN is seen and answered.
    sock.resume();
    sock.write(
      'GET / HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
        'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
    );
    const [ws] = await next(server, 'weft');
    return { ws, sock };
  }

  /** Creates the stream and registers it for cleanup. */
  function stream(ws, options) {
    const duplex = createWebSocketStream(ws, options);
    opened.push(duplex);
    return duplex;
  }

  /** Resolves with the next `n` messages the ws client receives, as [text, isBinary]. */
  function clientMessages(client, n) {
    return new Promise((resolve) => {
      const out = [];
      client.on('message', function onMessage(data, isBinary) {
        out.push([data.toString(), isBinary]);
        if (out.length === n) {
          client.removeListener('message', onMessage);
          resolve(out);
        }
      });
    });
  }

  /** Resolves with the next `n` chunks read from `duplex` in flowing mode. */
  function chunks(duplex, n) {
    return new Promise((resolve) => {
      const out = [];
      duplex.on('data', function onData(chunk) {
        out.push(chunk);
        if (out.length === n) {
          duplex.removeListener('data', onData);
          duplex.pause();
          resolve(out);
        }
      });
    });
  }

  /** Records the stream's lifecycle events in order. */
  function lifecycle(duplex) {
    const events = [];
    for (const name of ['end', 'finish', 'close', 'error']) {
      duplex.on(name, (arg) => events.push(name === 'error' ? ['error', arg] : name));
    }
    return events;
  }

  describe('options', () => {
    it('returns a Duplex with object modes forced off, autoDestroy and emitClose off', async () => {
      const { ws } = await connect();
      const duplex = stream(ws, {
        objectMode: true,
        writableObjectMode: true,
        autoDestroy: true,
        emitClose: true,
        highWaterMark: 1234,
      });
      assert.ok(duplex instanceof Duplex);
      assert.strictEqual(duplex.readableObjectMode, false);
      assert.strictEqual(duplex.writableObjectMode, false);
      assert.strictEqual(duplex._readableState.autoDestroy, false);
      assert.strictEqual(duplex._writableState.autoDestroy, false);
      assert.strictEqual(duplex._readableState.emitClose, false);
      assert.strictEqual(duplex._writableState.emitClose, false);
      // Other options pass through.
      assert.strictEqual(duplex.readableHighWaterMark, 1234);
      assert.strictEqual(duplex.writableHighWaterMark, 1234);
      assert.strictEqual(duplex.allowHalfOpen, true);
    });
  });

  describe('reading', () => {
    it('pushes each message as one Buffer chunk, text included, in order', async () => {
      const { ws, client } = await connect();
      const duplex = stream(ws);
      const got = chunks(duplex, 3);
      client.send('héllo');
      client.send(Buffer.from([1, 2, 3]));
      // An empty message pushes an empty chunk, which a byte stream does not hand out as data.
      client.send('');
      client.send('end');
      const [a, b, c] = await got;
      assert.ok(Buffer.isBuffer(a) && Buffer.isBuffer(b) && Buffer.isBuffer(c));
      assert.strictEqual(a.toString(), 'héllo');
      assert.deepStrictEqual([...b], [1, 2, 3]);
      assert.strictEqual(c.toString(), 'end');
    });

    it('with readableObjectMode, text messages are strings and binary ones Buffers', async () => {
      const { ws, client } = await connect();
      const duplex = stream(ws, { readableObjectMode: true });
      assert.strictEqual(duplex.readableObjectMode, true);
      const got = chunks(duplex, 2);
      client.send('txt');
      client.send(Buffer.from('bin'));
      const [text, bin] = await got;
      assert.strictEqual(text, 'txt');
      assert.ok(Buffer.isBuffer(bin));
      assert.strictEqual(bin.toString(), 'bin');
    });

    it("with an encoding, every chunk is decoded to a string", async () => {
      const { ws, client } = await connect();
      const duplex = stream(ws, { encoding: 'utf8' });
      const got = chunks(duplex, 2);
      client.send('tëxt');
      client.send(Buffer.from('bin'));
      assert.deepStrictEqual(await got, ['tëxt', 'bin']);
    });

    it("the WebSocket's 'close' ends the readable side; the writable side stays open", async () => {
      const { ws, client } = await connect();
      const duplex = stream(ws);
      const events = lifecycle(duplex);
      const got = chunks(duplex, 1);
      client.send('last');
      assert.strictEqual((await got)[0].toString(), 'last');
      duplex.resume();
      client.close(1000);
      await next(duplex, 'end');
      assert.strictEqual(ws.readyState, WebSocket.CLOSED);
      assert.deepStrictEqual(events, ['end']);
      assert.strictEqual(duplex.destroyed, false);
      assert.strictEqual(duplex.writable, true);
    });

    it('a binary message the stream cannot hold (binaryType arraybuffer) errors the stream, as in ws', async () => {
      const { ws, client } = await connect();
      ws.binaryType = 'arraybuffer';
      const duplex = stream(ws);
      const events = lifecycle(duplex);
      client.send(Buffer.from('x'));
      await next(duplex, 'close');
      assert.strictEqual(events[0][0], 'error');
      assert.strictEqual(events[0][1].code, 'ERR_INVALID_ARG_TYPE');
      assert.deepStrictEqual(events.slice(1), ['close']);
    });
  });

  describe('writing', () => {
    it('sends each chunk as a binary message; strings too, since they are decoded to Buffers', async () => {
      const { ws, client } = await connect();
      const duplex = stream(ws);
      const got = clientMessages(client, 2);
      duplex.write('str');
      duplex.write(Buffer.from('buf'));
      assert.deepStrictEqual(await got, [
        ['str', true],
        ['buf', true],
      ]);
    });

    it('with decodeStrings: false, strings are sent as text messages', async () => {
      const { ws, client } = await connect();
      const duplex = stream(ws, { decodeStrings: false });
      const got = clientMessages(client, 2);
      duplex.write('str');
      duplex.write(Buffer.from('buf'));
      assert.deepStrictEqual(await got, [
        ['str', false],
        ['buf', true],
      ]);
    });

    it('the write callback runs once the message is written', async () => {
      const { ws } = await connect();
      const duplex = stream(ws);
      await new Promise((resolve, reject) => duplex.write('x', (err) => (err ? reject(err) : resolve())));
      assert.strictEqual(ws.bufferedAmount, 0);
    });

    it("writes and end() made while CONNECTING wait for 'open', then go out in order", async () => {
      const { ws, attach, client } = await connect(true);
      assert.strictEqual(ws.readyState, WebSocket.CONNECTING);
      const duplex = stream(ws);
      const events = lifecycle(duplex);
      const callbacks = [];
      duplex.write('a', () => callbacks.push('a'));
      duplex.write('b', () => callbacks.push('b'));
      duplex.end();
      const received = [];
      client.on('message', (data) => received.push(data.toString()));
      await new Promise((resolve) => setImmediate(resolve));
      // Nothing can have left: the WebSocket has no socket yet.
      assert.deepStrictEqual(callbacks, []);
      assert.deepStrictEqual(received, []);
      assert.strictEqual(ws.readyState, WebSocket.CONNECTING);

      const clientClosed = next(client, 'close');
      attach();
      const [code] = await clientClosed;
      assert.deepStrictEqual(received, ['a', 'b']);
      assert.deepStrictEqual(callbacks, ['a', 'b']);
      assert.strictEqual(code, 1005);
      duplex.resume();
      await next(duplex, 'close');
      assert.deepStrictEqual(events, ['finish', 'end', 'close']);
    });

    it("end() alone while CONNECTING waits for 'open', then closes", async () => {
      const { ws, attach, client } = await connect(true);
      const duplex = stream(ws);
      const events = lifecycle(duplex);
      duplex.end();
      await new Promise((resolve) => setImmediate(resolve));
      assert.deepStrictEqual(events, []);
      const clientClosed = next(client, 'close');
      const finished = next(duplex, 'finish');
      attach();
      const [code] = await clientClosed;
      assert.strictEqual(code, 1005);
      await finished;
      assert.deepStrictEqual(events, ['finish']);
    });

    it('a write after the WebSocket closed fails the write and errors then closes the stream', async () => {
      const { ws, client } = await connect();
      const duplex = stream(ws);
      duplex.resume();
      client.close();
      await next(duplex, 'end');
      const events = lifecycle(duplex);
      const closed = next(duplex, 'close');
      const callbackErr = await new Promise((resolve) => duplex.write('late', resolve));
      assert.ok(callbackErr instanceof Error);
      assert.strictEqual(callbackErr.message, 'WebSocket is not open: readyState 3 (CLOSED)');
      await closed;
      assert.deepStrictEqual(events, [['error', callbackErr], 'close']);
    });

    it('a stream error is re-emitted only when the user has no error listener of their own', async () => {
      const { ws, client } = await connect();
      const duplex = stream(ws);
      duplex.resume();
      client.close();
      await next(duplex, 'end');
      // Catch the re-emission that would otherwise be an uncaught exception.
      const unhandled = [];
      const emit = duplex.emit;
      duplex.emit = function (name, ...args) {
        if (name === 'error' && this.listenerCount('error') === 0) {
          unhandled.push(args[0]);
          return false;
        }
        return emit.call(this, name, ...args);
      };
      const closed = next(duplex, 'close');
      duplex.write('late');
      await closed;
      assert.strictEqual(unhandled.length, 1);
      assert.strictEqual(unhandled[0].message, 'WebSocket is not open: readyState 3 (CLOSED)');
      assert.strictEqual(duplex.destroyed, true);
    });
  });

  describe('piping', () => {
    it('pipes a Readable into the WebSocket: one message per chunk, then a closing handshake', async () => {
      const { ws, client } = await connect();
      const duplex = stream(ws);
      const got = clientMessages(client, 3);
      const clientClosed = next(client, 'close');
      duplex.resume();
      await new Promise((resolve, reject) =>
        pipeline(Readable.from([Buffer.from('one'), Buffer.from('two'), Buffer.from('three')]), duplex, (err) =>
          err ? reject(err) : resolve(),
        ),
      );
      assert.deepStrictEqual(await got, [
        ['one', true],
        ['two', true],
        ['three', true],
      ]);
      const [code] = await clientClosed;
      assert.strictEqual(code, 1005);
    });

    it('pipes the WebSocket into a Writable until the peer closes', async () => {
      const { ws, client } = await connect();
      const duplex = stream(ws);
      const collected = [];
      const sink = new Writable({
        write(chunk, _enc, cb) {
          collected.push(chunk.toString());
          cb();
        },
      });
      const finished = next(sink, 'finish');
      duplex.pipe(sink);
      for (const text of ['a', 'b', 'c']) client.send(text);
      client.close(1000);
      await finished;
      assert.deepStrictEqual(collected, ['a', 'b', 'c']);
    });

    it('echoes when piped into itself', async () => {
      const { ws, client } = await connect();
      const duplex = stream(ws);
      duplex.pipe(duplex);
      const got = clientMessages(client, 2);
      client.send('ping?');
      client.send(Buffer.from([9, 8]));
      const echoed = await got;
      assert.deepStrictEqual(echoed, [
        ['ping?', true],
        [Buffer.from([9, 8]).toString(), true],
      ]);
    });
  });

  describe('backpressure', () => {
    it('pauses the WebSocket when the buffer is full and resumes it when read', async () => {
      const { ws, client } = await connect();
      const duplex = stream(ws, { readableHighWaterMark: 16 });
      const calls = [];
      const pause = ws.pause;
      const resume = ws.resume;
      let onPause;
      const paused = new Promise((resolve) => (onPause = resolve));
      ws.pause = function () {
        calls.push('pause');
        pause.call(this);
        onPause();
      };
      ws.resume = function () {
        calls.push('resume');
        resume.call(this);
      };
      const count = 40;
      for (let i = 0; i < count; i++) client.send(Buffer.alloc(4, i));
      await paused;
      assert.strictEqual(ws.isPaused, true);
      assert.ok(duplex.readableLength >= 16, `buffered ${duplex.readableLength}`);
      assert.ok(calls.indexOf('resume') === -1, 'not resumed before anything was read');

      // Reading drains the buffer, which resumes the WebSocket, until every message has come through.
      const bytes = [];
      duplex.on('data', (chunk) => bytes.push(...chunk));
      while (bytes.length < count * 4) await next(duplex, 'data');
      const expected = [];
      for (let i = 0; i < count; i++) expected.push(i, i, i, i);
      assert.deepStrictEqual(bytes, expected);
      assert.ok(calls.includes('resume'));
      assert.strictEqual(calls[0], 'pause');
      assert.strictEqual(ws.isPaused, false);
    });
  });

  describe('end()', () => {
    it('closes the WebSocket with a closing handshake; finish, then end, then close', async () => {
      const { ws, client } = await connect();
      const duplex = stream(ws);
      const events = lifecycle(duplex);
      const order = [];
      ws.on('close', (code) => order.push(['ws close', code]));
      client.on('close', (code) => order.push(['client close', code]));
      duplex.resume();
      duplex.end('last words');
      const [data] = await next(client, 'message');
      assert.strictEqual(data.toString(), 'last words');
      await next(duplex, 'close');
      assert.deepStrictEqual(events, ['finish', 'end', 'close']);
      assert.strictEqual(ws.readyState, WebSocket.CLOSED);
      assert.deepStrictEqual(order, [
        ['client close', 1005],
        ['ws close', 1005],
      ]);
      assert.strictEqual(duplex.destroyed, true);
    });

    it('after the WebSocket closed, finishes at once and, the readable side having ended, closes', async () => {
      const { ws, client } = await connect();
      const duplex = stream(ws);
      duplex.resume();
      client.close(1000);
      await next(duplex, 'end');
      assert.strictEqual(duplex.destroyed, false);
      const events = lifecycle(duplex);
      duplex.end();
      await next(duplex, 'close');
      assert.deepStrictEqual(events, ['finish', 'close']);
    });
  });

  describe('destroy()', () => {
    it('terminates the WebSocket; the stream closes after it, without an error', async () => {
      const { ws, client } = await connect();
      const duplex = stream(ws);
      const events = lifecycle(duplex);
      const order = [];
      ws.on('close', (code) => order.push(['ws close', code]));
      duplex.on('close', () => order.push(['stream close']));
      const clientClosed = next(client, 'close');
      duplex.destroy();
      assert.strictEqual(ws.readyState, WebSocket.CLOSING);
      await next(duplex, 'close');
      assert.deepStrictEqual(events, ['close']);
      assert.deepStrictEqual(order, [['ws close', 1006], ['stream close']]);
      const [code] = await clientClosed;
      assert.strictEqual(code, 1006);
    });

    it('destroy(err) emits that error, then close', async () => {
      const { ws } = await connect();
      const duplex = stream(ws);
      const events = lifecycle(duplex);
      const mine = new Error('mine');
      duplex.destroy(mine);
      await next(duplex, 'close');
      assert.deepStrictEqual(events, [['error', mine], 'close']);
      assert.strictEqual(ws.readyState, WebSocket.CLOSED);
    });

    it("an error the WebSocket emits while being terminated is the stream's error", async () => {
      // Terminating a WebSocket that is still CONNECTING fails its handshake with an error.
      const { ws } = await connect(true);
      const duplex = stream(ws);
      const events = lifecycle(duplex);
      ws.on('close', (code) => events.push(['ws close', code]));
      duplex.destroy(new Error('mine'));
      await next(duplex, 'close');
      assert.strictEqual(events.length, 3);
      assert.deepStrictEqual(events[0], ['ws close', 1006]);
      assert.strictEqual(events[1][0], 'error');
      assert.strictEqual(events[1][1].message, 'WebSocket was closed before the connection was established');
      assert.strictEqual(events[2], 'close');
    });

    it('after the WebSocket closed, reports the error and closes on the next tick', async () => {
      const { ws, client } = await connect();
      const duplex = stream(ws);
      duplex.resume();
      client.close();
      await next(duplex, 'end');
      const events = lifecycle(duplex);
      const late = new Error('late');
      duplex.destroy(late);
      assert.deepStrictEqual(events, []);
      await next(duplex, 'close');
      assert.deepStrictEqual(events, [['error', late], 'close']);
    });
  });

  describe('errors from the WebSocket', () => {
    it('a protocol error destroys the stream with it, without terminating the WebSocket', async () => {
      const { ws, sock } = await connectRaw();
      const duplex = stream(ws);
      const events = lifecycle(duplex);
      ws.on('close', (code) => events.push(['ws close', code]));
      let terminated = 0;
      const terminate = ws.terminate;
      ws.terminate = function () {
        terminated++;
        return terminate.call(this);
      };
      const closed = next(duplex, 'close');
      // An unmasked frame from a client (RFC 6455 §5.1).
      sock.write(Buffer.from([0x81, 0x02, 0x68, 0x69]));
      await closed;
      // The stream waited for the WebSocket, which closed itself (1002 close frame, then the peer's
      // FIN): its error and close come after the WebSocket's close.
      assert.strictEqual(events.length, 3);
      assert.deepStrictEqual(events[0], ['ws close', 1006]);
      assert.strictEqual(events[1][0], 'error');
      assert.strictEqual(events[1][1].code, 'WS_ERR_EXPECTED_MASK');
      assert.strictEqual(events[2], 'close');
      assert.strictEqual(terminated, 0);
    });
  });
});
