'use strict';
// Differential audit: ws 8.23 and weft run through the same scenarios against the same real servers.
// In every state a client goes through (CONNECTING before and after its request, during a redirect,
// OPEN, CLOSING, CLOSED) and from inside every event listener, each public method and getter is
// called; whether it throws (and with what), what the callbacks receive, and every event emitted up
// to 'close' (with its code) must be the same for both libraries.
const assert = require('assert');
const http = require('http');
const net = require('net');
const crypto = require('crypto');
const ws = require('ws');
const weft = require('../..');

const LIBS = { ws: ws.WebSocket, weft: weft.WebSocket };

/** The actions tried at each point: a name and what it does to the client (cb collects callbacks). */
const ACTIONS = {
  'close()': (c) => c.close(),
  'close(1000, reason)': (c) => c.close(1000, 'bye'),
  'close(1005) (invalid code)': (c) => c.close(1005),
  'terminate()': (c) => c.terminate(),
  // (send's return value is left out: weft reports a send status where ws returns undefined.)
  'send(text)': (c) => {
    c.send('x');
  },
  'send(text, cb)': (c, cb) => {
    c.send('x', cb('send'));
  },
  'send(buffer, {compress}, cb)': (c, cb) => {
    c.send(Buffer.from('abc'), { compress: true }, cb('send'));
  },
  'ping()': (c) => c.ping(),
  'ping(data, mask, cb)': (c, cb) => c.ping('p', undefined, cb('ping')),
  'pong(data, cb)': (c, cb) => c.pong('q', cb('pong')),
  'pause()': (c) => c.pause(),
  'resume()': (c) => c.resume(),
  'pause() then resume()': (c) => {
    c.pause();
    c.resume();
  },
  getters: (c) =>
    JSON.stringify({
      bufferedAmount: c.bufferedAmount,
      protocol: c.protocol,
      extensions: c.extensions,
      url: c.url,
      readyState: c.readyState,
      isPaused: c.isPaused,
      binaryType: c.binaryType,
    }),
  'send(plain) then bufferedAmount': (c) => {
    c.send('abc', { compress: false });
    return c.bufferedAmount;
  },
  'binaryType = arraybuffer': (c) => {
    c.binaryType = 'arraybuffer';
    return c.binaryType;
  },
};

let httpServer;
let wss;
let garbage;
let refusedPort;
let base;
const held = new Set();

function acceptKey(key) {
  return crypto.createHash('sha1').update(key + '258EAFA5-E914-47DA-95CA-C5AB0DC85B11').digest('base64');
}

/**
 * The points where the action runs: `on` names the client event (or 'sync' right after the
 * constructor, 'later' a moment after it), `path` the server behaviour, `options` the client's.
 */
const POINTS = {
  'CONNECTING, right after the constructor': { path: '/ws', on: 'sync' },
  'CONNECTING, request sent, no answer yet': { path: '/slow', on: 'later' },
  "'error' listener: connection refused": { refused: true, on: 'error' },
  "'error' listener: garbage instead of an HTTP response": { garbage: true, on: 'error' },
  "'error' listener: 101 with a wrong Sec-WebSocket-Accept": { path: '/badkey', on: 'error' },
  "'error' listener: 400 response": { path: '/bad', on: 'error' },
  "'unexpected-response' listener": { path: '/bad', on: 'unexpected-response' },
  "'upgrade' listener": { path: '/ws', on: 'upgrade' },
  "'redirect' listener": { path: '/redirect', on: 'redirect', options: { followRedirects: true } },
  "'open' listener": { path: '/ws', on: 'open' },
  "'message' listener": { path: '/hello', on: 'message' },
  "'message' listener, uncompressed (run while the received chunk is handled)": {
    path: '/hello',
    on: 'message',
    options: { perMessageDeflate: false },
  },
  'CLOSING (after close() in open)': { path: '/ws', on: 'closing' },
  "'error' listener: protocol error while OPEN": { path: '/badframe', on: 'error' },
  "'close' listener after a clean close": { path: '/bye', on: 'close' },
  "'close' listener after a failed connect": { refused: true, on: 'close' },
};

function errorText(err) {
  // Success: ws's callbacks get null from a socket write and undefined from a corked batch (Node's
  // writev), so which one a call gets depends on timing; both mean "no error".
  if (err === undefined || err === null) return 'no error';
  return `${err.constructor.name}: ${err.message}`;
}

/** Runs one client through one point with one action; resolves with everything observed. */
function run(lib, point, action) {
  return new Promise((resolve) => {
    const WebSocket = LIBS[lib];
    const trace = [];
    let result = null;
    const cb = (name) => (err) => trace.push(`cb ${name}: ${errorText(err)}`);
    const act = () => {
      if (result !== null) return;
      try {
        const value = ACTIONS[action](client, cb);
        result = value === undefined ? 'ok' : `ok ${value}`;
      } catch (err) {
        result = `threw ${errorText(err)}`;
      }
      trace.push(`action ${result}`);
      // What the action set off plays out within this window; a client it left hanging (paused, open,
      // or waiting for an answer that never comes) is then terminated, the same way for both libraries.
      if (!closed) settle = setTimeout(cutOff, 1200);
    };
    const cutOff = () => {
      if (closed) return;
      trace.push('(terminated by the test)');
      client.terminate();
    };
    const url = point.refused
      ? `ws://127.0.0.1:${refusedPort}/`
      : point.garbage
        ? `ws://127.0.0.1:${garbage.address().port}/`
        : `${base}${point.path}`;
    const client = new WebSocket(url, { perMessageDeflate: { threshold: 0 }, ...point.options });
    let closed = false;
    let settle;
    const finish = () => resolve({ result, trace });
    for (const event of ['open', 'upgrade', 'redirect', 'unexpected-response', 'message', 'error', 'close']) {
      client.on(event, (arg) => {
        if (event === 'error') trace.push(`error: ${arg.message}`);
        else if (event === 'close') trace.push(`close ${arg}`);
        else if (event === 'message') trace.push(`message ${Buffer.from(arg).toString()}`);
        else trace.push(event);
        if (event === point.on) act();
        if (point.on === 'closing' && event === 'open') {
          client.close();
          act();
        }
        if (event === 'close') {
          closed = true;
          clearTimeout(settle);
          // Callbacks and events that come after 'close' are part of the record too.
          setTimeout(finish, 30);
        }
      });
    }
    // A client that never reaches 'close' is recorded as such (the comparison then shows where).
    const stuck = setTimeout(() => {
      trace.push('(no close)');
      finish();
    }, 5000);
    client.on('close', () => clearTimeout(stuck));
    if (point.on === 'sync') act();
    if (point.on === 'later') setTimeout(act, 50);

  });
}

describe('drop-in audit: every method, in every state and listener, as ws 8.23', function () {
  this.timeout(10000);

  before((done) => {
    wss = new ws.WebSocketServer({ noServer: true, perMessageDeflate: true });
    httpServer = http.createServer((req, res) => res.end());
    httpServer.on('upgrade', (req, socket, head) => {
      socket.on('error', () => {});
      const path = req.url;
      if (path === '/slow') {
        held.add(socket);
        return;
      }
      if (path === '/bad') {
        socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
        return;
      }
      if (path === '/redirect') {
        socket.end('HTTP/1.1 302 Found\r\nLocation: /ws\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
        return;
      }
      if (path === '/badkey') {
        socket.end(
          'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
            `Sec-WebSocket-Accept: ${acceptKey('wrong')}\r\n\r\n`,
        );
        return;
      }
      wss.handleUpgrade(req, socket, head, (s) => {
        s.on('error', () => {});
        if (path === '/hello') s.send('hello');
        if (path === '/bye') s.close(1000, 'done');
        if (path === '/badframe') s._socket.write(Buffer.from([0x83, 0x00])); // reserved opcode 3
      });
    });
    garbage = net.createServer((socket) => {
      socket.on('error', () => {});
      socket.end('garbage\r\n\r\n');
    });
    const probe = net.createServer();
    probe.listen(0, '127.0.0.1', () => {
      refusedPort = probe.address().port;
      probe.close(() => {
        httpServer.listen(0, '127.0.0.1', () => {
          base = `ws://127.0.0.1:${httpServer.address().port}`;
          garbage.listen(0, '127.0.0.1', done);
        });
      });
    });
  });

  after((done) => {
    for (const socket of held) socket.destroy();
    for (const client of wss.clients) client.terminate();
    garbage.close();
    httpServer.close(() => done());
  });

  for (const [pointName, point] of Object.entries(POINTS)) {
    describe(pointName, () => {
      // Every action at this point, for both libraries, runs at once (one client each); the tests compare.
      const records = {};
      before(async () => {
        await Promise.all(
          Object.keys(ACTIONS).flatMap((action) =>
            Object.keys(LIBS).map(async (lib) => {
              records[`${lib} ${action}`] = await run(lib, point, action);
            }),
          ),
        );
      });
      for (const action of Object.keys(ACTIONS)) {
        it(action, () => {
          assert.deepStrictEqual(records[`weft ${action}`], records[`ws ${action}`]);
        });
      }
    });
  }
});
