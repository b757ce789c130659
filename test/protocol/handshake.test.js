'use strict';

// The opening handshake (RFC 6455 §4) as pure functions: rule by rule, with the RFC's examples, and
// differentially against ws 8.23 driven over in-memory Duplex streams (no network).

const assert = require('assert');
const crypto = require('crypto');
const fs = require('fs');
const path = require('path');
const { Duplex } = require('stream');
const ws = require('ws');
const {
  generateKey,
  acceptKey,
  isValidKey,
  validateUpgradeRequest,
  buildAcceptResponse,
  serializeResponse,
  httpErrorResponse,
  validateUpgradeResponse,
  isValidSubprotocolList,
  HandshakeMessage,
  STATUS_CODES,
  SUPPORTED_VERSIONS,
} = require('../../dist/lib/protocol/handshake');

/** The sample nonce of RFC 6455 §1.3 / §4.2.2, and the accept value the RFC derives from it. */
const RFC_KEY = 'dGhlIHNhbXBsZSBub25jZQ==';
const RFC_ACCEPT = 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=';

const { prng } = require('../support/prng');

/** The headers of the RFC 6455 §1.2 sample request, as Node presents them, with `overrides` applied. */
function requestHeaders(overrides = {}) {
  const headers = {
    host: 'server.example.com',
    upgrade: 'websocket',
    connection: 'Upgrade',
    'sec-websocket-key': RFC_KEY,
    'sec-websocket-version': '13',
    origin: 'http://example.com',
  };
  for (const name of Object.keys(overrides)) {
    if (overrides[name] === undefined) delete headers[name];
    else headers[name] = overrides[name];
  }
  return headers;
}

/** A Duplex with the few net.Socket methods ws calls, recording everything written to it. */
function fakeSocket(onWrite) {
  const socket = new Duplex({
    read() {},
    write(chunk, encoding, callback) {
      onWrite(chunk.toString());
      callback();
    },
  });
  socket.setTimeout = socket.setNoDelay = socket.setKeepAlive = socket.ref = socket.unref = function () {
    return this;
  };
  return socket;
}

/** What a ws 8.23 server writes in answer to a request with `method` and `headers`. */
async function wsServerAnswer(method, headers, perMessageDeflate) {
  const wss = new ws.WebSocketServer({ noServer: true, perMessageDeflate });
  let written = '';
  const socket = fakeSocket((data) => {
    written += data;
  });
  wss.handleUpgrade({ method, headers, url: '/' }, socket, Buffer.alloc(0), (client) => client.terminate());
  await new Promise(setImmediate);
  return written;
}

/** What weft's pure functions say the server writes for the same request. */
function weftServerAnswer(method, headers, perMessageDeflate) {
  const result = validateUpgradeRequest(method, headers, { parseExtensions: perMessageDeflate });
  if (!result.ok) return httpErrorResponse(result.status, result.message, result.headers);
  // ws's default handleProtocols selects the first offered subprotocol.
  const [protocol] = result.protocols;
  return serializeResponse(buildAcceptResponse(result.key, protocol, undefined));
}

/**
 * Opens a ws 8.23 client over an in-memory Duplex that answers the upgrade request with
 * `responseLines(expectedAccept)`. Resolves with the request's key and the client's fate: `null` if
 * it opened, else the message of its error.
 */
function wsClientVerdict(responseLines, protocols, perMessageDeflate) {
  return new Promise((resolve) => {
    let request = '';
    let key;
    const socket = fakeSocket(function onWrite(data) {
      request += data;
      if (key !== undefined || !request.includes('\r\n\r\n')) return;
      key = /\r\nSec-WebSocket-Key: ([^\r]*)\r\n/i.exec(request)[1];
      socket.push(responseLines(crypto.createHash('sha1').update(key + '258EAFA5-E914-47DA-95CA-C5AB0DC85B11').digest('base64')).join('\r\n') + '\r\n\r\n');
    });
    const client = new ws('ws://example.invalid/', protocols, { perMessageDeflate, createConnection: () => socket });
    client.on('open', () => {
      resolve({ key, verdict: null });
      client.terminate();
    });
    client.on('error', (err) => resolve({ key, verdict: err.message }));
  });
}

/** Parses response head lines into `statusCode` and Node-style headers (lower-case names, repeats joined). */
function parseResponseLines(lines) {
  const statusCode = Number(lines[0].split(' ')[1]);
  const headers = {};
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(':');
    const name = line.slice(0, colon).toLowerCase();
    const value = line.slice(colon + 1).trim();
    headers[name] = name in headers ? `${headers[name]}, ${value}` : value;
  }
  return { statusCode, headers };
}

describe('handshake (RFC 6455 §4)', () => {
  describe('keys (§4.1, §4.2.2)', () => {
    it('acceptKey gives the RFC 6455 §1.3 example value', () => {
      assert.strictEqual(acceptKey(RFC_KEY), RFC_ACCEPT);
    });

    it('acceptKey is base64(SHA-1(key + GUID))', () => {
      const key = 'x3JJHMbDL1EzLkh9GBhXDw==';
      const expected = crypto.createHash('sha1').update(key + '258EAFA5-E914-47DA-95CA-C5AB0DC85B11').digest('base64');
      assert.strictEqual(acceptKey(key), expected);
      assert.strictEqual(acceptKey(key), 'HSmrc0sMlYUkAGmm5OPpG2HaGWk=');
    });

    it('generateKey returns 16 random bytes in base64, a valid key', () => {
      const key = generateKey();
      assert.strictEqual(key.length, 24);
      assert.strictEqual(Buffer.from(key, 'base64').length, 16);
      assert.strictEqual(Buffer.from(key, 'base64').toString('base64'), key);
      assert.ok(isValidKey(key));
    });

    it('generateKey returns a new nonce every time', () => {
      const keys = new Set();
      for (let i = 0; i < 64; i++) keys.add(generateKey());
      assert.strictEqual(keys.size, 64);
    });

    const keys = [
      [RFC_KEY, true],
      ['AAAAAAAAAAAAAAAAAAAAAA==', true],
      // The unused low bits of the last character are not checked (as ws).
      ['AAAAAAAAAAAAAAAAAAAAAB==', true],
      ['++++++++++++++++++++//==', true],
      ['', false],
      ['bad', false],
      ['AAAAAAAAAAAAAAAAAAAAAAA=', false],
      ['AAAAAAAAAAAAAAAAAAAAA==', false],
      ['AAAAAAAAAAAAAAAAAAAAAAA==', false],
      ['AAAAAAAAAAAAAAAAAAAAA-==', false],
      ['AAAAAAAAAAAAAAAAAAAAA_==', false],
      ['AAAAAAAAAAAAAAAAAAAAA ==', false],
      ['AAAAAAAAAAAAAAAAAAAAAA=A', false],
      [`${RFC_KEY}, ${RFC_KEY}`, false],
    ];
    for (const [key, expected] of keys) {
      it(`isValidKey(${JSON.stringify(key)}) is ${expected}`, () => {
        assert.strictEqual(isValidKey(key), expected);
      });
    }
  });

  describe('validateUpgradeRequest (server side, §4.2.1)', () => {
    it('accepts the RFC 6455 §1.2 sample request', () => {
      assert.deepStrictEqual(validateUpgradeRequest('GET', requestHeaders()), {
        ok: true,
        key: RFC_KEY,
        version: 13,
        protocols: new Set(),
        extensionsHeader: undefined,
        extensions: null,
      });
    });

    it('item 1: rejects a method other than GET with 405', () => {
      for (const method of ['POST', 'HEAD', 'PUT', 'get', '']) {
        assert.deepStrictEqual(
          validateUpgradeRequest(method, requestHeaders()),
          { ok: false, status: 405, message: 'Invalid HTTP method', clientError: true },
          method,
        );
      }
    });

    it('item 3: accepts Upgrade: websocket in any case', () => {
      for (const upgrade of ['websocket', 'WebSocket', 'WEBSOCKET']) {
        assert.strictEqual(validateUpgradeRequest('GET', requestHeaders({ upgrade })).ok, true, upgrade);
      }
    });

    it('item 3: rejects a missing or other Upgrade with 400', () => {
      for (const upgrade of [undefined, '', 'h2c', 'websocket, h2c', 'web socket', ['websocket', 'websocket']]) {
        assert.deepStrictEqual(
          validateUpgradeRequest('GET', requestHeaders({ upgrade })),
          { ok: false, status: 400, message: 'Invalid Upgrade header', clientError: true },
          String(upgrade),
        );
      }
    });

    it('item 5: rejects a missing or malformed Sec-WebSocket-Key with 400', () => {
      for (const key of [undefined, '', 'bad', 'AAAAAAAAAAAAAAAAAAAAAAA=', 'AAAAAAAAAAAAAAAAAAAAA-==', [RFC_KEY, RFC_KEY]]) {
        assert.deepStrictEqual(
          validateUpgradeRequest('GET', requestHeaders({ 'sec-websocket-key': key })),
          { ok: false, status: 400, message: 'Missing or invalid Sec-WebSocket-Key header', clientError: true },
          String(key),
        );
      }
    });

    it('item 5: returns the key as sent', () => {
      const key = 'AAAAAAAAAAAAAAAAAAAAAB==';
      assert.strictEqual(validateUpgradeRequest('GET', requestHeaders({ 'sec-websocket-key': key })).key, key);
    });

    it('item 6: accepts versions 13 and 8', () => {
      assert.strictEqual(validateUpgradeRequest('GET', requestHeaders({ 'sec-websocket-version': '13' })).version, 13);
      assert.strictEqual(validateUpgradeRequest('GET', requestHeaders({ 'sec-websocket-version': '8' })).version, 8);
    });

    it('item 6: coerces the version as a JavaScript number, as ws does', () => {
      for (const [value, version] of [['013', 13], ['13.0', 13], ['0xd', 13], ['1.3e1', 13], [' 13 ', 13], ['8.0', 8], ['0b1000', 8]]) {
        assert.strictEqual(validateUpgradeRequest('GET', requestHeaders({ 'sec-websocket-version': value })).version, version, value);
      }
    });

    it('§4.4: rejects any other version with 400 and Sec-WebSocket-Version: 13, 8', () => {
      for (const version of [undefined, '', '0', '7', '12', '14', 'abc', '13, 8', ['13', '13']]) {
        assert.deepStrictEqual(
          validateUpgradeRequest('GET', requestHeaders({ 'sec-websocket-version': version })),
          {
            ok: false,
            status: 400,
            message: 'Missing or invalid Sec-WebSocket-Version header',
            headers: { 'Sec-WebSocket-Version': '13, 8' },
            clientError: true,
          },
          String(version),
        );
      }
      assert.strictEqual(SUPPORTED_VERSIONS, '13, 8');
    });

    it('item 8: returns the offered subprotocols in order, none when the header is absent', () => {
      const offered = validateUpgradeRequest('GET', requestHeaders({ 'sec-websocket-protocol': 'chat, superchat' }));
      assert.deepStrictEqual([...offered.protocols], ['chat', 'superchat']);
      assert.ok(offered.protocols instanceof Set);
      assert.deepStrictEqual([...validateUpgradeRequest('GET', requestHeaders()).protocols], []);
    });

    it('item 8: joins repeated Sec-WebSocket-Protocol values as Node does', () => {
      const result = validateUpgradeRequest('GET', requestHeaders({ 'sec-websocket-protocol': ['b', 'a'] }));
      assert.deepStrictEqual([...result.protocols], ['b', 'a']);
    });

    it('item 8: rejects an unparsable or duplicated Sec-WebSocket-Protocol with 400', () => {
      for (const protocol of ['', ',', 'a,a', 'a b', 'a,', '"a"', ['a', 'a']]) {
        assert.deepStrictEqual(
          validateUpgradeRequest('GET', requestHeaders({ 'sec-websocket-protocol': protocol })),
          { ok: false, status: 400, message: 'Invalid Sec-WebSocket-Protocol header', clientError: true },
          String(protocol),
        );
      }
    });

    it('item 9: without parseExtensions, keeps the raw header and ignores that it is malformed', () => {
      const result = validateUpgradeRequest('GET', requestHeaders({ 'sec-websocket-extensions': ';;' }));
      assert.strictEqual(result.ok, true);
      assert.strictEqual(result.extensionsHeader, ';;');
      assert.strictEqual(result.extensions, null);
    });

    it('item 9: with parseExtensions, returns the parsed offers and the raw header', () => {
      const header = 'permessage-deflate; client_max_window_bits, permessage-deflate';
      const result = validateUpgradeRequest('GET', requestHeaders({ 'sec-websocket-extensions': header }), { parseExtensions: true });
      assert.strictEqual(result.ok, true);
      assert.strictEqual(result.extensionsHeader, header);
      const offer = Object.assign(Object.create(null), { client_max_window_bits: [true] });
      assert.deepStrictEqual(result.extensions, Object.assign(Object.create(null), { 'permessage-deflate': [offer, Object.create(null)] }));
    });

    it('item 9: with parseExtensions and no header, extensions is null', () => {
      const result = validateUpgradeRequest('GET', requestHeaders(), { parseExtensions: true });
      assert.strictEqual(result.extensions, null);
      assert.strictEqual(result.extensionsHeader, undefined);
    });

    it('item 9: with parseExtensions, rejects an unparsable Sec-WebSocket-Extensions with 400', () => {
      for (const extensions of ['', ';', 'a,,b', 'a; b=""']) {
        assert.deepStrictEqual(
          validateUpgradeRequest('GET', requestHeaders({ 'sec-websocket-extensions': extensions }), { parseExtensions: true }),
          { ok: false, status: 400, message: 'Invalid or unacceptable Sec-WebSocket-Extensions header', clientError: true },
          extensions,
        );
      }
    });

    describe('checks run in ws order: the first failing check is reported', () => {
      const bad = {
        method: 'POST',
        upgrade: 'h2c',
        'sec-websocket-key': 'bad',
        'sec-websocket-version': '7',
        'sec-websocket-protocol': 'a,a',
        'sec-websocket-extensions': ';',
      };
      const order = [
        ['method', 'Invalid HTTP method'],
        ['upgrade', 'Invalid Upgrade header'],
        ['sec-websocket-key', 'Missing or invalid Sec-WebSocket-Key header'],
        ['sec-websocket-version', 'Missing or invalid Sec-WebSocket-Version header'],
        ['sec-websocket-protocol', 'Invalid Sec-WebSocket-Protocol header'],
        ['sec-websocket-extensions', 'Invalid or unacceptable Sec-WebSocket-Extensions header'],
      ];
      for (let i = 0; i < order.length; i++) {
        it(`${order[i][0]} is checked before ${order.slice(i + 1).map(([name]) => name).join(', ') || 'nothing'}`, () => {
          const overrides = {};
          for (const [name] of order.slice(i)) if (name !== 'method') overrides[name] = bad[name];
          const method = i === 0 ? bad.method : 'GET';
          const result = validateUpgradeRequest(method, requestHeaders(overrides), { parseExtensions: true });
          assert.strictEqual(result.message, order[i][1]);
        });
      }
    });

    describe('shouldHandle', () => {
      it('is called once, after the version check, and a falsy result rejects with 400 Bad Request', () => {
        let calls = 0;
        const result = validateUpgradeRequest('GET', requestHeaders({ 'sec-websocket-protocol': 'a,a' }), {
          shouldHandle: () => {
            calls++;
            return false;
          },
        });
        assert.strictEqual(calls, 1);
        assert.deepStrictEqual(result, { ok: false, status: 400, message: 'Bad Request', clientError: false });
      });

      it('is not called when an earlier check fails', () => {
        let calls = 0;
        const result = validateUpgradeRequest('GET', requestHeaders({ 'sec-websocket-version': '7' }), {
          shouldHandle: () => ++calls,
        });
        assert.strictEqual(calls, 0);
        assert.strictEqual(result.message, 'Missing or invalid Sec-WebSocket-Version header');
      });

      it('a truthy result lets the later checks run', () => {
        const result = validateUpgradeRequest('GET', requestHeaders({ 'sec-websocket-protocol': 'a,a' }), {
          shouldHandle: () => 1,
        });
        assert.strictEqual(result.message, 'Invalid Sec-WebSocket-Protocol header');
        assert.strictEqual(result.clientError, true);
      });
    });

    describe('differential against a ws 8.23 server (handleUpgrade over an in-memory socket)', () => {
      const pools = {
        method: ['GET', 'GET', 'GET', 'POST'],
        upgrade: ['websocket', 'websocket', 'WebSocket', 'h2c', 'websocket, h2c'],
        'sec-websocket-key': [RFC_KEY, RFC_KEY, 'AAAAAAAAAAAAAAAAAAAAAB==', 'bad', 'AAAAAAAAAAAAAAAAAAAAAAA='],
        'sec-websocket-version': ['13', '13', '8', '7', '', '0xd', '13.0', '14'],
        'sec-websocket-protocol': [undefined, undefined, '', 'a', 'chat, superchat', 'a,a', ',', 'b ,a'],
        'sec-websocket-extensions': [undefined, undefined, '', 'foo', ';', 'x; y="1"', 'a,,b'],
      };

      it('writes the same bytes for every single-header variation of the RFC sample request', async () => {
        for (const perMessageDeflate of [false, true]) {
          for (const name of Object.keys(pools)) {
            for (const value of pools[name]) {
              const method = name === 'method' ? value : 'GET';
              const headers = name === 'method' ? requestHeaders() : requestHeaders({ [name]: value });
              const expected = await wsServerAnswer(method, headers, perMessageDeflate);
              assert.ok(expected.startsWith('HTTP/1.1 '), expected);
              assert.strictEqual(weftServerAnswer(method, headers, perMessageDeflate), expected, `${name}=${value}`);
            }
          }
        }
      });

      it('writes the same bytes for 300 seeded random requests', async () => {
        const random = prng(2024);
        const pick = (list) => list[Math.floor(random() * list.length)];
        const statuses = new Set();
        for (let n = 0; n < 300; n++) {
          const perMessageDeflate = random() < 0.5;
          const overrides = {};
          for (const name of Object.keys(pools)) if (name !== 'method') overrides[name] = pick(pools[name]);
          const method = pick(pools.method);
          const headers = requestHeaders(overrides);
          const expected = await wsServerAnswer(method, headers, perMessageDeflate);
          assert.strictEqual(weftServerAnswer(method, headers, perMessageDeflate), expected, JSON.stringify({ method, headers, perMessageDeflate }));
          statuses.add(expected.slice(9, 12));
        }
        assert.deepStrictEqual([...statuses].sort(), ['101', '400', '405']);
      });
    });
  });

  describe('buildAcceptResponse / serializeResponse (§4.2.2 step 5)', () => {
    it('builds the RFC 6455 §1.3 response', () => {
      assert.deepStrictEqual(buildAcceptResponse(RFC_KEY, undefined, undefined), [
        'HTTP/1.1 101 Switching Protocols',
        'Upgrade: websocket',
        'Connection: Upgrade',
        `Sec-WebSocket-Accept: ${RFC_ACCEPT}`,
      ]);
    });

    it('adds the selected subprotocol, then the accepted extensions', () => {
      assert.deepStrictEqual(buildAcceptResponse(RFC_KEY, 'chat', 'permessage-deflate; client_max_window_bits=10'), [
        'HTTP/1.1 101 Switching Protocols',
        'Upgrade: websocket',
        'Connection: Upgrade',
        `Sec-WebSocket-Accept: ${RFC_ACCEPT}`,
        'Sec-WebSocket-Protocol: chat',
        'Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits=10',
      ]);
    });

    it('leaves out an empty subprotocol and empty extensions', () => {
      assert.strictEqual(buildAcceptResponse(RFC_KEY, '', '').length, 4);
      assert.deepStrictEqual(buildAcceptResponse(RFC_KEY, undefined, 'x').slice(4), ['Sec-WebSocket-Extensions: x']);
    });

    it('returns a fresh mutable array each time (the headers event may add lines)', () => {
      const first = buildAcceptResponse(RFC_KEY, undefined, undefined);
      const second = buildAcceptResponse(RFC_KEY, undefined, undefined);
      assert.notStrictEqual(first, second);
      first.push('X-Extra: 1');
      assert.strictEqual(second.length, 4);
      assert.ok(serializeResponse(first).endsWith('X-Extra: 1\r\n\r\n'));
    });

    it('serializeResponse joins lines with CRLF and ends with an empty line', () => {
      assert.strictEqual(serializeResponse(['HTTP/1.1 101 Switching Protocols', 'Upgrade: websocket']), 'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n');
      assert.strictEqual(
        serializeResponse(buildAcceptResponse(RFC_KEY, undefined, undefined)),
        `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${RFC_ACCEPT}\r\n\r\n`,
      );
    });
  });

  describe('httpErrorResponse', () => {
    const cases = [
      [[405, 'Invalid HTTP method'], 'HTTP/1.1 405 Method Not Allowed\r\nConnection: close\r\nContent-Type: text/html\r\nContent-Length: 19\r\n\r\nInvalid HTTP method'],
      [
        [400, 'Missing or invalid Sec-WebSocket-Version header', { 'Sec-WebSocket-Version': '13, 8' }],
        'HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Type: text/html\r\nContent-Length: 47\r\nSec-WebSocket-Version: 13, 8\r\n\r\nMissing or invalid Sec-WebSocket-Version header',
      ],
      // The default body is the reason phrase; so is an empty message (ws uses `message || reason`).
      [[401], 'HTTP/1.1 401 Unauthorized\r\nConnection: close\r\nContent-Type: text/html\r\nContent-Length: 12\r\n\r\nUnauthorized'],
      [[503, ''], 'HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Type: text/html\r\nContent-Length: 19\r\n\r\nService Unavailable'],
      // Content-Length counts UTF-8 bytes.
      [[418, 'ünï'], "HTTP/1.1 418 I'm a Teapot\r\nConnection: close\r\nContent-Type: text/html\r\nContent-Length: 5\r\n\r\nünï"],
      // A header with the same name replaces the default in place; other names follow in order.
      [
        [401, 'nope', { Connection: 'keep-alive', 'X-A': 1, 'content-type': 'x' }],
        'HTTP/1.1 401 Unauthorized\r\nConnection: keep-alive\r\nContent-Type: text/html\r\nContent-Length: 4\r\nX-A: 1\r\ncontent-type: x\r\n\r\nnope',
      ],
      // An unknown status gets an empty reason phrase (ws 8.23 throws instead).
      [[499, 'x'], 'HTTP/1.1 499 \r\nConnection: close\r\nContent-Type: text/html\r\nContent-Length: 1\r\n\r\nx'],
    ];
    for (const [args, expected] of cases) {
      it(`httpErrorResponse(${args.map((arg) => JSON.stringify(arg)).join(', ')})`, () => {
        assert.strictEqual(httpErrorResponse(...args), expected);
      });
    }

    it('uses the same reason phrases as Node', () => {
      assert.deepStrictEqual({ ...STATUS_CODES }, { ...require('http').STATUS_CODES });
    });
  });

  describe('validateUpgradeResponse (client side, §4.1)', () => {
    const KEY = RFC_KEY;
    const ok = (extra = {}) => ({
      statusCode: 101,
      headers: { upgrade: 'websocket', connection: 'Upgrade', 'sec-websocket-accept': RFC_ACCEPT, ...extra },
    });
    const cases = [
      ['the RFC 6455 §1.3 response opens', ok(), [], false, null],
      ['Upgrade is compared case-insensitively', ok({ upgrade: 'WebSocket' }), [], false, null],
      ['a status other than 101', { statusCode: 200, headers: {} }, [], false, 'Unexpected server response: 200'],
      ['a missing Upgrade', ok({ upgrade: undefined }), [], false, 'Invalid Upgrade header'],
      ['another Upgrade', ok({ upgrade: 'h2c' }), [], false, 'Invalid Upgrade header'],
      ['Upgrade is checked before the accept value', ok({ upgrade: 'h2c', 'sec-websocket-accept': 'x' }), [], false, 'Invalid Upgrade header'],
      ['a missing Sec-WebSocket-Accept', ok({ 'sec-websocket-accept': undefined }), [], false, 'Invalid Sec-WebSocket-Accept header'],
      ['a wrong Sec-WebSocket-Accept', ok({ 'sec-websocket-accept': acceptKey(generateKey()) }), [], false, 'Invalid Sec-WebSocket-Accept header'],
      ['a subprotocol when none was requested', ok({ 'sec-websocket-protocol': 'chat' }), [], false, 'Server sent a subprotocol but none was requested'],
      ['an empty subprotocol when none was requested', ok({ 'sec-websocket-protocol': '' }), [], false, 'Server sent a subprotocol but none was requested'],
      ['a subprotocol that was not requested', ok({ 'sec-websocket-protocol': 'superchat' }), ['chat'], false, 'Server sent an invalid subprotocol'],
      ['subprotocols are compared case-sensitively', ok({ 'sec-websocket-protocol': 'Chat' }), ['chat'], false, 'Server sent an invalid subprotocol'],
      ['a list of subprotocols', ok({ 'sec-websocket-protocol': 'chat, superchat' }), ['chat', 'superchat'], false, 'Server sent an invalid subprotocol'],
      ['no subprotocol when some were requested', ok(), ['chat'], false, 'Server sent no subprotocol'],
      ['one of the requested subprotocols opens', ok({ 'sec-websocket-protocol': 'superchat' }), ['chat', 'superchat'], false, null],
      ['the subprotocol is checked before the extensions', ok({ 'sec-websocket-protocol': 'chat', 'sec-websocket-extensions': 'x' }), [], false, 'Server sent a subprotocol but none was requested'],
      ['extensions when none were offered', ok({ 'sec-websocket-extensions': 'permessage-deflate' }), [], false, 'Server sent a Sec-WebSocket-Extensions header but no extension was requested'],
      ['extensions when an empty list was offered', ok({ 'sec-websocket-extensions': 'permessage-deflate' }), [], [], 'Server sent a Sec-WebSocket-Extensions header but no extension was requested'],
      ['an empty Sec-WebSocket-Extensions', ok({ 'sec-websocket-extensions': '' }), [], true, 'Invalid Sec-WebSocket-Extensions header'],
      ['an unparsable Sec-WebSocket-Extensions', ok({ 'sec-websocket-extensions': ';' }), [], true, 'Invalid Sec-WebSocket-Extensions header'],
      ['an extension that was not offered', ok({ 'sec-websocket-extensions': 'foo' }), [], true, 'Server indicated an extension that was not requested'],
      ['two extensions', ok({ 'sec-websocket-extensions': 'permessage-deflate, foo' }), [], ['permessage-deflate', 'foo'], 'Server indicated an extension that was not requested'],
      ['the offered extension (true stands for permessage-deflate)', ok({ 'sec-websocket-extensions': 'permessage-deflate; server_no_context_takeover' }), [], true, null],
      ['the offered extension, named', ok({ 'sec-websocket-extensions': 'foo; bar' }), [], ['foo'], null],
      ['the offered extension twice (one name)', ok({ 'sec-websocket-extensions': 'permessage-deflate, permessage-deflate' }), [], true, null],
      ['no extensions when some were offered', ok(), [], true, null],
      ['repeated headers are joined as Node joins them', ok({ 'sec-websocket-protocol': ['chat', 'chat'] }), ['chat'], false, 'Server sent an invalid subprotocol'],
    ];
    for (const [title, response, protocols, offered, expected] of cases) {
      it(`${title} -> ${expected === null ? 'null' : JSON.stringify(expected)}`, () => {
        assert.strictEqual(validateUpgradeResponse(response, KEY, protocols, offered), expected);
      });
    }

    it('matches a ws 8.23 client on crafted responses (over an in-memory socket)', async () => {
      const head = (accept) => ['HTTP/1.1 101 Switching Protocols', 'Upgrade: websocket', 'Connection: Upgrade', `Sec-WebSocket-Accept: ${accept}`];
      const responses = [
        (a) => head(a),
        (a) => ['HTTP/1.1 101 Switching Protocols', 'Upgrade: WebSocket', 'Connection: Upgrade', `Sec-WebSocket-Accept: ${a}`],
        (a) => ['HTTP/1.1 101 Switching Protocols', 'Upgrade: foo', 'Connection: Upgrade', `Sec-WebSocket-Accept: ${a}`],
        () => head('x'),
        () => head(RFC_ACCEPT),
        (a) => head(a).slice(0, 3),
        (a) => [...head(a), 'Sec-WebSocket-Protocol: a'],
        (a) => [...head(a), 'Sec-WebSocket-Protocol: b'],
        (a) => [...head(a), 'Sec-WebSocket-Protocol: '],
        (a) => [...head(a), 'Sec-WebSocket-Protocol: a', 'Sec-WebSocket-Protocol: b'],
        (a) => [...head(a), 'Sec-WebSocket-Extensions: permessage-deflate'],
        (a) => [...head(a), 'Sec-WebSocket-Extensions: permessage-deflate, permessage-deflate'],
        (a) => [...head(a), 'Sec-WebSocket-Extensions: '],
        (a) => [...head(a), 'Sec-WebSocket-Extensions: ;'],
        (a) => [...head(a), 'Sec-WebSocket-Extensions: foo'],
        (a) => [...head(a), 'Sec-WebSocket-Extensions: permessage-deflate, foo'],
        (a) => [...head(a), 'Sec-WebSocket-Protocol: b', 'Sec-WebSocket-Extensions: ;'],
        () => ['HTTP/1.1 200 OK', 'Content-Length: 0'],
        () => ['HTTP/1.1 403 Forbidden', 'Content-Length: 0'],
      ];
      const verdicts = new Set();
      for (const responseLines of responses) {
        for (const protocols of [[], ['a'], ['a', 'b']]) {
          for (const perMessageDeflate of [false, true]) {
            const { key, verdict } = await wsClientVerdict(responseLines, protocols, perMessageDeflate);
            const response = parseResponseLines(responseLines(acceptKey(key)));
            const label = JSON.stringify({ response: responseLines('<accept>'), protocols, perMessageDeflate });
            assert.strictEqual(validateUpgradeResponse(response, key, protocols, perMessageDeflate), verdict, label);
            verdicts.add(verdict);
          }
        }
      }
      // Every outcome of the check was reached at least once.
      assert.deepStrictEqual([...verdicts].sort(), [
        HandshakeMessage.INVALID_ACCEPT,
        HandshakeMessage.INVALID_EXTENSIONS_RESPONSE,
        HandshakeMessage.INVALID_SERVER_PROTOCOL,
        HandshakeMessage.INVALID_UPGRADE,
        HandshakeMessage.UNREQUESTED_EXTENSIONS,
        HandshakeMessage.UNREQUESTED_PROTOCOL,
        HandshakeMessage.NO_PROTOCOL,
        HandshakeMessage.UNREQUESTED_EXTENSION,
        'Unexpected server response: 200',
        'Unexpected server response: 403',
        null,
      ].sort());
    });
  });

  describe('isValidSubprotocolList (client side, §4.1 step 10)', () => {
    const cases = [
      [[], true],
      [['chat'], true],
      [['chat', 'superchat'], true],
      [['a', 'A'], true],
      [['a', 'a'], false],
      [['a', 'b', 'a'], false],
      [[''], false],
      [['a b'], false],
      [['a,b'], false],
      [[' a'], false],
      [['é'], false],
      [[1], false],
      [[null], false],
      [[new String('a')], false],
    ];
    for (const [protocols, expected] of cases) {
      it(`${require('util').inspect(protocols)} is ${expected ? 'valid' : 'invalid'} (as ws decides)`, () => {
        assert.strictEqual(isValidSubprotocolList(protocols), expected);
        let threw = null;
        try {
          const client = new ws('ws://example.invalid/', protocols, { createConnection: () => fakeSocket(() => {}) });
          client.on('error', () => {});
          client.terminate();
        } catch (err) {
          threw = err;
        }
        if (expected) {
          assert.strictEqual(threw, null);
        } else {
          assert.ok(threw instanceof SyntaxError);
          assert.strictEqual(threw.message, HandshakeMessage.INVALID_SUBPROTOCOL_LIST);
        }
      });
    }
  });

  describe('layering', () => {
    it('handshake, extension and subprotocol import only crypto and lib/protocol modules', () => {
      for (const file of ['handshake.ts', 'extension.ts', 'subprotocol.ts']) {
        const source = fs.readFileSync(path.join(__dirname, '../../lib/protocol', file), 'utf8');
        const specifiers = [...source.matchAll(/^import[^'"]*['"]([^'"]+)['"]/gm)].map((match) => match[1]);
        for (const specifier of specifiers) {
          assert.ok(specifier === 'crypto' || /^\.\/[a-z-]+$/.test(specifier), `${file} imports ${specifier}`);
        }
      }
    });
  });
});
