'use strict';

// WebSocket-Node's README examples (server, client, W3C client), run with weft's module in place of
// `require('websocket')` — against each other, and each against the real package on the other end.

const assert = require('assert');
const { weft, real, Tracker, mountServer } = require('./helpers');

/** The README's echo server, on `lib` (weft's module or the real package). */
function readmeServer(lib, tracker, httpServer, originIsAllowed, log) {
  const wsServer = mountServer(lib, tracker, httpServer, { autoAcceptConnections: false });
  wsServer.on('request', function (request) {
    if (!originIsAllowed(request.origin)) {
      // Make sure we only accept requests from an allowed origin
      request.reject();
      log.push(`rejected ${request.origin}`);
      return;
    }
    const connection = request.accept('echo-protocol', request.origin);
    log.push('accepted');
    connection.on('message', function (message) {
      if (message.type === 'utf8') {
        connection.sendUTF(message.utf8Data);
      } else if (message.type === 'binary') {
        connection.sendBytes(message.binaryData);
      }
    });
    connection.on('close', function (reasonCode, description) {
      log.push(`server close ${reasonCode} ${description} ${connection.remoteAddress}`);
    });
  });
  return wsServer;
}

/**
 * The README's client, on `lib`, sending three numbers (the README sends one per second while
 * connected) and closing once they are echoed.
 */
function readmeClient(lib, url, origin) {
  return new Promise((resolve, reject) => {
    const client = new lib.client();
    const received = [];
    const sent = [];
    client.on('connectFailed', function (error) {
      reject(error);
    });
    client.on('connect', function (connection) {
      connection.on('error', reject);
      connection.on('close', function (reasonCode, description) {
        resolve({ sent, received, reasonCode, description, protocol: connection.protocol });
      });
      connection.on('message', function (message) {
        if (message.type === 'utf8') {
          received.push(message.utf8Data);
          if (received.length === 3) connection.close();
        }
      });
      function sendNumber() {
        if (connection.connected && sent.length < 3) {
          const number = Math.round(Math.random() * 0xffffff);
          sent.push(number.toString());
          connection.sendUTF(number.toString());
          setImmediate(sendNumber);
        }
      }
      sendNumber();
    });
    client.connect(url, 'echo-protocol', origin);
  });
}

/** The README's W3C client, on `lib`: three numbers, then close. */
function readmeW3CClient(lib, url) {
  return new Promise((resolve) => {
    const client = new lib.w3cwebsocket(url, 'echo-protocol');
    const received = [];
    const sent = [];
    const events = [];
    client.onerror = function () {
      events.push('error');
    };
    client.onopen = function () {
      events.push('open');
      function sendNumber() {
        if (client.readyState === client.OPEN && sent.length < 3) {
          const number = Math.round(Math.random() * 0xffffff);
          sent.push(number.toString());
          client.send(number.toString());
          setImmediate(sendNumber);
        }
      }
      sendNumber();
    };
    client.onclose = function (event) {
      events.push('close');
      resolve({ sent, received, events, code: event.code, protocol: client.protocol });
    };
    client.onmessage = function (e) {
      if (typeof e.data === 'string') {
        received.push(e.data);
        if (received.length === 3) client.close();
      }
    };
  });
}

const pairs = [
  ['weft server, weft client', weft, weft],
  ['weft server, real client', weft, real],
  ['real server, weft client', real, weft],
];

describe('websocket-node: README examples', () => {
  const tracker = new Tracker();
  afterEach(() => tracker.closeAll());

  for (const [title, serverLib, clientLib] of pairs) {
    describe(title, () => {
      it('echo server + client example: numbers echoed, protocol echo-protocol, close 1000 both sides', async () => {
        const httpServer = await tracker.httpServer();
        const log = [];
        // Resolves when the server logs its connection's close.
        const serverClosed = new Promise((resolve) => {
          log.push = function push(line) {
            Array.prototype.push.call(this, line);
            if (line.startsWith('server close')) resolve();
            return this.length;
          };
        });
        readmeServer(serverLib, tracker, httpServer, () => true, log);
        const result = await readmeClient(clientLib, `${httpServer.url}/`, 'http://example.test');
        assert.deepStrictEqual(result.received, result.sent);
        assert.strictEqual(result.protocol, 'echo-protocol');
        assert.strictEqual(result.reasonCode, 1000);
        assert.strictEqual(result.description, 'Normal connection closure');
        await serverClosed;
        assert.strictEqual(log[0], 'accepted');
        assert.match(log[1], /^server close 1000 Normal connection closure (::ffff:)?127\.0\.0\.1$/);
      });

      it('originIsAllowed false: request.reject() answers 403 and the client reports connectFailed', async () => {
        const httpServer = await tracker.httpServer();
        const log = [];
        readmeServer(serverLib, tracker, httpServer, (origin) => origin !== 'http://evil.test', log);
        await assert.rejects(readmeClient(clientLib, `${httpServer.url}/`, 'http://evil.test'), (err) => {
          assert.match(err.message, /^Server responded with a non-101 status: 403 Forbidden\n/);
          return true;
        });
        assert.deepStrictEqual(log, ['rejected http://evil.test']);
      });
    });
  }

  for (const serverLib of [weft, real]) {
    it(`W3C client example (weft's w3cwebsocket) against ${serverLib === weft ? "weft's" : 'the real'} echo server`, async () => {
      const httpServer = await tracker.httpServer();
      const log = [];
      readmeServer(serverLib, tracker, httpServer, () => true, log);
      const result = await readmeW3CClient(weft, `${httpServer.url}/`);
      assert.deepStrictEqual(result.events, ['open', 'close']);
      assert.deepStrictEqual(result.received, result.sent);
      assert.strictEqual(result.protocol, 'echo-protocol');
      assert.strictEqual(result.code, 1000);
    });
  }

  it("W3C client example (real w3cwebsocket) against weft's echo server", async () => {
    const httpServer = await tracker.httpServer();
    const log = [];
    readmeServer(weft, tracker, httpServer, () => true, log);
    const result = await readmeW3CClient(real, `${httpServer.url}/`);
    assert.deepStrictEqual(result.events, ['open', 'close']);
    assert.deepStrictEqual(result.received, result.sent);
    assert.strictEqual(result.protocol, 'echo-protocol');
    assert.strictEqual(result.code, 1000);
  });

  it('W3C client example: a refused connection gives onerror then onclose (1006), nothing thrown', async () => {
    const httpServer = await tracker.httpServer();
    const url = `${httpServer.url}/`;
    await tracker.closeAll(); // nobody listens there any more
    const client = new weft.w3cwebsocket(url, 'echo-protocol');
    const events = [];
    client.onerror = () => events.push('error');
    client.onopen = () => events.push('open');
    const event = await new Promise((resolve) => {
      client.onclose = resolve;
    });
    assert.deepStrictEqual(events, ['error']);
    assert.strictEqual(event.code, 1006);
    assert.strictEqual(event.wasClean, false);
    assert.strictEqual(client.readyState, client.CLOSED);
  });
});
