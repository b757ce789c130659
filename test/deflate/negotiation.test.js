'use strict';
// RFC 7692 §5 and §7.1: negotiation tables (offer → response) and differential checks against ws's own
// PerMessageDeflate on the same inputs, plus the handshake helpers the server and client call.

const assert = require('assert');
const ws = require('ws');
const { PerMessageDeflate } = require('../../dist/lib/deflate/permessage-deflate');
const {
  negotiateServer,
  clientOffer,
  acceptClientResponse,
  SERVER_EXTENSION_ERROR,
} = require('../../dist/lib/deflate/handshake-steps');
const { parse, format } = require('../../dist/lib/protocol/extension');

/** Runs `accept` on `Ctor` and returns the outcome as comparable data. */
function outcome(Ctor, opts, header) {
  try {
    const p = new Ctor(opts);
    const offers = ws.extension.parse(header)['permessage-deflate'];
    const params = p.accept(offers);
    return {
      keys: Object.keys(params),
      json: JSON.stringify(params),
      header: ws.extension.format({ 'permessage-deflate': [params] }),
      stored: p.params === params,
    };
  } catch (err) {
    return { error: err.constructor.name, message: err.message };
  }
}

const HEADERS = [
  'permessage-deflate',
  'permessage-deflate; client_max_window_bits',
  'permessage-deflate; client_max_window_bits=8',
  'permessage-deflate; client_max_window_bits=10',
  'permessage-deflate; client_max_window_bits=15',
  'permessage-deflate; client_max_window_bits=7',
  'permessage-deflate; client_max_window_bits=16',
  'permessage-deflate; client_max_window_bits=1.5',
  'permessage-deflate; client_max_window_bits=0x0a',
  'permessage-deflate; client_max_window_bits=1e1',
  'permessage-deflate; client_max_window_bits=010',
  'permessage-deflate; client_max_window_bits="10"',
  'permessage-deflate; client_max_window_bits=+10',
  'permessage-deflate; client_max_window_bits=abc',
  'permessage-deflate; server_max_window_bits',
  'permessage-deflate; server_max_window_bits=8',
  'permessage-deflate; server_max_window_bits=10',
  'permessage-deflate; server_max_window_bits=15',
  'permessage-deflate; server_max_window_bits=16',
  'permessage-deflate; server_no_context_takeover',
  'permessage-deflate; server_no_context_takeover=1',
  'permessage-deflate; client_no_context_takeover',
  'permessage-deflate; client_no_context_takeover="x"',
  'permessage-deflate; client_no_context_takeover; client_no_context_takeover',
  'permessage-deflate; server_max_window_bits=10; server_max_window_bits=11',
  'permessage-deflate; foo',
  'permessage-deflate; foo=bar; client_max_window_bits=7',
  'permessage-deflate; __proto__',
  'permessage-deflate; constructor',
  'permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=9; client_max_window_bits=9',
  'permessage-deflate; client_max_window_bits; server_max_window_bits=10, permessage-deflate; client_max_window_bits',
  'permessage-deflate; server_max_window_bits=10, permessage-deflate',
  'permessage-deflate; server_no_context_takeover, permessage-deflate',
  'permessage-deflate; server_max_window_bits=9, permessage-deflate; server_max_window_bits=12',
  'permessage-deflate, permessage-deflate; foo',
  'permessage-deflate, permessage-deflate; client_max_window_bits=20',
];

const SERVER_OPTIONS = [
  {},
  { serverNoContextTakeover: true },
  { serverNoContextTakeover: false },
  { clientNoContextTakeover: true },
  { clientNoContextTakeover: false },
  { serverMaxWindowBits: 10 },
  { serverMaxWindowBits: 12 },
  { serverMaxWindowBits: true },
  { serverMaxWindowBits: false },
  { clientMaxWindowBits: 10 },
  { clientMaxWindowBits: true },
  { clientMaxWindowBits: false },
  { serverNoContextTakeover: true, clientNoContextTakeover: true, serverMaxWindowBits: 9, clientMaxWindowBits: 11 },
];

/** Every combination of the four negotiation options (each unset, true, false or a window size). */
const ALL_OPTIONS = [];
for (const snct of [undefined, true, false]) {
  for (const cnct of [undefined, true, false]) {
    for (const smwb of [undefined, 9, 12, true, false]) {
      for (const cmwb of [undefined, 8, 12, true, false]) {
        const o = {};
        if (snct !== undefined) o.serverNoContextTakeover = snct;
        if (cnct !== undefined) o.clientNoContextTakeover = cnct;
        if (smwb !== undefined) o.serverMaxWindowBits = smwb;
        if (cmwb !== undefined) o.clientMaxWindowBits = cmwb;
        ALL_OPTIONS.push(o);
      }
    }
  }
}

const CLIENT_OPTIONS = [
  {},
  { clientNoContextTakeover: true },
  { clientNoContextTakeover: false },
  { clientMaxWindowBits: 10 },
  { clientMaxWindowBits: 12 },
  { clientMaxWindowBits: true },
  { clientMaxWindowBits: false },
  { serverMaxWindowBits: 10, serverNoContextTakeover: true },
];

describe('permessage-deflate negotiation', function () {
  describe('RFC 7692 §7.1.3 examples (offer → response)', function () {
    // Each row: server options, client offer header, the response header the server sends.
    const table = [
      // §7.1.3: a plain offer is accepted as is.
      [{}, 'permessage-deflate', 'permessage-deflate'],
      // §7.1.2.2: a bare client_max_window_bits only says the client supports it; not echoed.
      [{}, 'permessage-deflate; client_max_window_bits', 'permessage-deflate'],
      // §7.1.2.2: the server may limit the client's window when the client announced support.
      [{ clientMaxWindowBits: 10 }, 'permessage-deflate; client_max_window_bits', 'permessage-deflate; client_max_window_bits=10'],
      // §7.1.3: two offers, the first acceptable one wins.
      [
        {},
        'permessage-deflate; client_max_window_bits; server_max_window_bits=10, permessage-deflate; client_max_window_bits',
        'permessage-deflate; server_max_window_bits=10',
      ],
      // §7.1.2.1: a server that needs a larger window than offered moves on to the fallback offer.
      [
        { serverMaxWindowBits: 12 },
        'permessage-deflate; server_max_window_bits=10, permessage-deflate',
        'permessage-deflate; server_max_window_bits=12',
      ],
      [{ serverMaxWindowBits: false }, 'permessage-deflate; server_max_window_bits=10, permessage-deflate', 'permessage-deflate'],
      // §7.1.1.1: the client asks the server not to take over context.
      [{}, 'permessage-deflate; server_no_context_takeover', 'permessage-deflate; server_no_context_takeover'],
      // §7.1.1.2: the server may add client_no_context_takeover on its own.
      [{ clientNoContextTakeover: true }, 'permessage-deflate', 'permessage-deflate; client_no_context_takeover'],
      // §7.1.1.1: a server that refuses to reset skips the offer that asks it to.
      [
        { serverNoContextTakeover: false },
        'permessage-deflate; server_no_context_takeover, permessage-deflate',
        'permessage-deflate',
      ],
      [
        { serverNoContextTakeover: true, serverMaxWindowBits: 11 },
        'permessage-deflate; client_max_window_bits',
        'permessage-deflate; server_no_context_takeover; server_max_window_bits=11',
      ],
    ];
    for (const [opts, offer, response] of table) {
      it(`${JSON.stringify(opts)}: ${offer} → ${response}`, function () {
        const result = negotiateServer(offer, { perMessageDeflate: opts });
        assert.strictEqual(result.header, response);
        assert.strictEqual(outcome(ws.PerMessageDeflate, { ...opts, isServer: true }, offer).header, response);
      });
    }

    const rejected = [
      [{ clientMaxWindowBits: 10 }, 'permessage-deflate', 'None of the extension offers can be accepted'],
      [{ serverNoContextTakeover: false }, 'permessage-deflate; server_no_context_takeover', 'None of the extension offers can be accepted'],
      [{ serverMaxWindowBits: 12 }, 'permessage-deflate; server_max_window_bits=10', 'None of the extension offers can be accepted'],
      [{}, 'permessage-deflate; server_max_window_bits=10; server_max_window_bits=10', 'Parameter "server_max_window_bits" must have only a single value'],
      [{}, 'permessage-deflate; client_max_window_bits=16', 'Invalid value for parameter "client_max_window_bits": 16'],
      [{}, 'permessage-deflate; x_param', 'Unknown parameter "x_param"'],
      [{}, 'permessage-deflate; =', 'Unexpected character at index 20'],
      [{}, 'permessage-deflate,', 'Unexpected end of input'],
    ];
    for (const [opts, offer, reason] of rejected) {
      it(`${JSON.stringify(opts)}: ${offer} → 400 (${reason})`, function () {
        assert.throws(
          () => negotiateServer(offer, { perMessageDeflate: opts }),
          (err) => err.message === SERVER_EXTENSION_ERROR && err.statusCode === 400 && err.cause.message === reason,
        );
      });
    }
  });

  describe('differential against ws.PerMessageDeflate', function () {
    it('offer() for every option set', function () {
      const sets = [...ALL_OPTIONS, { clientMaxWindowBits: 0 }, { clientMaxWindowBits: null }, { serverMaxWindowBits: 0 }];
      for (const opts of sets) {
        for (const isServer of [false, true]) {
          const mine = new PerMessageDeflate({ ...opts, isServer }).offer();
          const theirs = new ws.PerMessageDeflate({ ...opts, isServer }).offer();
          assert.deepStrictEqual(Object.keys(mine), Object.keys(theirs), JSON.stringify(opts));
          assert.strictEqual(format({ 'permessage-deflate': mine }), ws.extension.format({ 'permessage-deflate': theirs }));
        }
      }
    });

    it('accept() as a server: every option combination × every offer', function () {
      let compared = 0;
      for (const opts of ALL_OPTIONS) {
        for (const header of HEADERS) {
          const o = { ...opts, isServer: true };
          assert.deepStrictEqual(outcome(PerMessageDeflate, o, header), outcome(ws.PerMessageDeflate, o, header), `${JSON.stringify(opts)} ${header}`);
          compared++;
        }
      }
      assert.strictEqual(compared, ALL_OPTIONS.length * HEADERS.length);
    });

    it('accept() as a client: every option combination × every response', function () {
      for (const opts of ALL_OPTIONS) {
        for (const header of HEADERS) {
          const o = { ...opts, isServer: false };
          assert.deepStrictEqual(outcome(PerMessageDeflate, o, header), outcome(ws.PerMessageDeflate, o, header), `${JSON.stringify(opts)} ${header}`);
        }
      }
    });

    it('rejects what ws rejects with the same error class and message (spot checks)', function () {
      const cases = [
        [{ isServer: false, clientNoContextTakeover: false }, 'permessage-deflate; client_no_context_takeover', 'Error', 'Unexpected parameter "client_no_context_takeover"'],
        [{ isServer: false, clientMaxWindowBits: 10 }, 'permessage-deflate; client_max_window_bits=12', 'Error', 'Unexpected or invalid parameter "client_max_window_bits"'],
        [{ isServer: false }, 'permessage-deflate; client_max_window_bits', 'TypeError', 'Invalid value for parameter "client_max_window_bits": true'],
        [{ isServer: true }, 'permessage-deflate; server_max_window_bits', 'TypeError', 'Invalid value for parameter "server_max_window_bits": true'],
      ];
      for (const [opts, header, name, message] of cases) {
        assert.deepStrictEqual(outcome(PerMessageDeflate, opts, header), { error: name, message });
        assert.deepStrictEqual(outcome(ws.PerMessageDeflate, opts, header), { error: name, message });
      }
    });
  });

  describe('PerMessageDeflate shape', function () {
    it('has ws\'s static name, defaults and public members', function () {
      assert.strictEqual(PerMessageDeflate.extensionName, 'permessage-deflate');
      const p = new PerMessageDeflate();
      assert.strictEqual(p.params, null);
      assert.strictEqual(p._isServer, false);
      assert.strictEqual(p._threshold, 1024);
      assert.strictEqual(p._maxPayload, 0);
      for (const m of ['offer', 'accept', 'cleanup', 'compress', 'decompress', 'codec', 'shouldCompress']) {
        assert.strictEqual(typeof p[m], 'function', m);
      }
      assert.strictEqual(p.codec(), p);
      assert.strictEqual(p._inflate, null);
      assert.strictEqual(p._deflate, null);
    });
  });

  describe('handshake helpers', function () {
    it('server: off by default, off without the header, null without a permessage-deflate offer', function () {
      assert.strictEqual(negotiateServer('permessage-deflate', {}), null);
      assert.strictEqual(negotiateServer('permessage-deflate', { perMessageDeflate: false }), null);
      assert.strictEqual(negotiateServer(undefined, { perMessageDeflate: true }), null);
      assert.strictEqual(negotiateServer('x-webkit-deflate-frame', { perMessageDeflate: true }), null);
    });

    it('server: a malformed header is a 400 even when it offers nothing we know (as ws)', function () {
      assert.throws(() => negotiateServer('x-foo; ', { perMessageDeflate: true }), (e) => e.statusCode === 400 && e.message === SERVER_EXTENSION_ERROR);
      assert.throws(() => negotiateServer('', { perMessageDeflate: true }), (e) => e.statusCode === 400);
    });

    it('server: role and maxPayload come from the server options (default 100 MiB), not the extension options', function () {
      const r = negotiateServer('permessage-deflate', { perMessageDeflate: { isServer: false, maxPayload: 5, threshold: 7 } });
      assert.strictEqual(r.extension._isServer, true);
      assert.strictEqual(r.extension._maxPayload, 100 * 1024 * 1024);
      assert.strictEqual(r.extension._threshold, 7);
      const r2 = negotiateServer('permessage-deflate', { perMessageDeflate: {}, maxPayload: 1000 });
      assert.strictEqual(r2.extension._maxPayload, 1000);
      // As ws's spread: an explicit undefined overrides the default (and means no limit).
      const r3 = negotiateServer('permessage-deflate', { perMessageDeflate: {}, maxPayload: undefined });
      assert.strictEqual(r3.extension._maxPayload, 0);
    });

    it('client: on by default; off with a falsy option; the offer is ws\'s', function () {
      const on = clientOffer({});
      assert.strictEqual(on.header, 'permessage-deflate; client_max_window_bits');
      assert.strictEqual(on.extension._isServer, false);
      assert.strictEqual(on.extension._maxPayload, 100 * 1024 * 1024);
      assert.strictEqual(clientOffer({ perMessageDeflate: false }), null);
      assert.strictEqual(clientOffer({ perMessageDeflate: undefined }), null);
      const custom = clientOffer({ perMessageDeflate: { serverNoContextTakeover: true, clientMaxWindowBits: 10 }, maxPayload: 64 });
      assert.strictEqual(custom.header, 'permessage-deflate; server_no_context_takeover; client_max_window_bits=10');
      assert.strictEqual(custom.extension._maxPayload, 64);
    });

    it('client: accepts the server\'s response, or throws ws\'s messages', function () {
      const mk = () => clientOffer({}).extension;
      assert.strictEqual(acceptClientResponse(undefined, mk()), null);
      const ext = mk();
      assert.strictEqual(acceptClientResponse('permessage-deflate; server_max_window_bits=10', ext), ext);
      assert.strictEqual(ext.params.server_max_window_bits, 10);
      const bad = [
        ['permessage-deflate', null, 'Server sent a Sec-WebSocket-Extensions header but no extension was requested'],
        ['permessage-deflate; ', mk(), 'Invalid Sec-WebSocket-Extensions header'],
        ['x-foo', mk(), 'Server indicated an extension that was not requested'],
        ['permessage-deflate, x-foo', mk(), 'Server indicated an extension that was not requested'],
        ['permessage-deflate; foo', mk(), 'Invalid Sec-WebSocket-Extensions header'],
        ['permessage-deflate; client_max_window_bits', mk(), 'Invalid Sec-WebSocket-Extensions header'],
      ];
      for (const [header, offered, message] of bad) {
        assert.throws(() => acceptClientResponse(header, offered), (e) => e.message === message, header);
      }
    });

    it('a weft offer is accepted by ws, and a ws response by weft (and the other way round)', function () {
      for (const clientOpts of CLIENT_OPTIONS) {
        for (const serverOpts of SERVER_OPTIONS) {
          // weft client → ws server.
          const offer = clientOffer({ perMessageDeflate: clientOpts });
          const theirs = new ws.PerMessageDeflate({ ...serverOpts, isServer: true });
          let response;
          try {
            response = ws.extension.format({ 'permessage-deflate': [theirs.accept(ws.extension.parse(offer.header)['permessage-deflate'])] });
          } catch (err) {
            // Then weft's server declines the same offer too.
            assert.throws(() => negotiateServer(offer.header, { perMessageDeflate: serverOpts }));
            continue;
          }
          // weft server answers the same.
          assert.strictEqual(negotiateServer(offer.header, { perMessageDeflate: serverOpts }).header, response);
          // ws's client and weft's client agree on the response.
          const wsClient = new ws.PerMessageDeflate({ ...clientOpts });
          let wsErr = null;
          try { wsClient.accept(ws.extension.parse(response)['permessage-deflate']); } catch (e) { wsErr = e.message; }
          let mineErr = null;
          try { acceptClientResponse(response, offer.extension); } catch (e) { mineErr = e.cause.message; }
          assert.strictEqual(mineErr, wsErr, `${JSON.stringify(clientOpts)} / ${JSON.stringify(serverOpts)}`);
          if (!wsErr) assert.strictEqual(JSON.stringify(offer.extension.params), JSON.stringify(wsClient.params));
        }
      }
    });

    it('an offer with __proto__ is rejected as an unknown parameter and pollutes nothing', function () {
      assert.throws(
        () => negotiateServer('permessage-deflate; __proto__=1, permessage-deflate', { perMessageDeflate: {} }),
        (e) => e.statusCode === 400 && e.cause.message === 'Unknown parameter "__proto__"',
      );
      assert.strictEqual({}.server_no_context_takeover, undefined);
      assert.strictEqual(Object.getPrototypeOf(parse('permessage-deflate; a')['permessage-deflate'][0]), null);
    });
  });
});
