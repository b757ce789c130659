'use strict';

// Sec-WebSocket-Extensions parse/format (RFC 6455 §9.1, RFC 7692 examples), checked rule by rule
// and differentially against ws 8.23's `extension.parse` / `extension.format`.

const assert = require('assert');
const ws = require('ws');
const { parse, format } = require('../../dist/lib/protocol/extension');

const { prng } = require('../support/prng');

/** `{ name: [{ param: [values] }] }` written as plain objects, rebuilt with null prototypes as parse returns. */
function offers(plain) {
  const result = Object.create(null);
  for (const name of Object.keys(plain)) {
    result[name] = plain[name].map((params) => Object.assign(Object.create(null), params));
  }
  return result;
}

/** What a parser did with `input`: its result, or the class and message of its error. */
function outcome(fn, input) {
  try {
    return { value: fn(input) };
  } catch (err) {
    return { error: `${err.constructor.name}: ${err.message}` };
  }
}

/** `deepStrictEqual` also compares prototypes, so equal outcomes have null prototypes in the same places. */
function assertSameOutcome(input) {
  const expected = outcome(ws.extension.parse, input);
  assert.deepStrictEqual(outcome(parse, input), expected, JSON.stringify(input));
  return expected;
}

describe('extension (RFC 6455 §9.1 Sec-WebSocket-Extensions)', () => {
  describe('parse: accepted values', () => {
    const cases = [
      // RFC 6455 §9.1 examples.
      ['foo', { foo: [{}] }],
      ['foo, bar; baz=2', { foo: [{}], bar: [{ baz: ['2'] }] }],
      ['deflate-stream', { 'deflate-stream': [{}] }],
      ['mux; max-channels=4; flow-control, deflate-stream', { mux: [{ 'max-channels': ['4'], 'flow-control': [true] }], 'deflate-stream': [{}] }],
      ['private-extension', { 'private-extension': [{}] }],
      // RFC 7692 §5 / §7.1 offers.
      ['permessage-deflate; client_max_window_bits', { 'permessage-deflate': [{ client_max_window_bits: [true] }] }],
      ['permessage-deflate; client_max_window_bits="10"', { 'permessage-deflate': [{ client_max_window_bits: ['10'] }] }],
      [
        'permessage-deflate; client_max_window_bits; server_max_window_bits=10, permessage-deflate; client_max_window_bits',
        { 'permessage-deflate': [{ client_max_window_bits: [true], server_max_window_bits: ['10'] }, { client_max_window_bits: [true] }] },
      ],
      // The same extension offered twice keeps both offers, in order.
      ['a,a', { a: [{}, {}] }],
      ['a;b, a;c', { a: [{ b: [true] }, { c: [true] }] }],
      // A repeated parameter keeps every value, in order.
      ['a;b;b', { a: [{ b: [true, true] }] }],
      ['a;b=1;b=2', { a: [{ b: ['1', '2'] }] }],
      ['a; b=1; b', { a: [{ b: ['1', true] }] }],
      // Optional whitespace around ; and , and after values.
      ['a ;b', { a: [{ b: [true] }] }],
      ['a\t;\tb', { a: [{ b: [true] }] }],
      ['a , b', { a: [{}], b: [{}] }],
      ['a; b=1 ,c', { a: [{ b: ['1'] }], c: [{}] }],
      ['a;b="x" ;c', { a: [{ b: ['x'], c: [true] }] }],
      ['a;b="x",c', { a: [{ b: ['x'] }], c: [{}] }],
      // Quoted values are unquoted, and escapes of token characters removed.
      ['a; b="1"', { a: [{ b: ['1'] }] }],
      ['a;b="\\1"', { a: [{ b: ['1'] }] }],
      ['a;b="x\\yz"', { a: [{ b: ['xyz'] }] }],
      ['a;b="\\x\\y\\z"', { a: [{ b: ['xyz'] }] }],
      // Every tchar in names and values.
      ["!#$%&'*+-.^_`|~09AZaz; !#$%&'*+-.^_`|~=!#$%&'*+-.^_`|~", { "!#$%&'*+-.^_`|~09AZaz": [{ "!#$%&'*+-.^_`|~": ["!#$%&'*+-.^_`|~"] }] }],
      // Names that are Object.prototype members are plain keys (computed keys make `__proto__` an own key).
      ['__proto__', { ['__proto__']: [{}] }],
      ['constructor; hasOwnProperty=1; __proto__', { constructor: [{ hasOwnProperty: ['1'], ['__proto__']: [true] }] }],
    ];
    for (const [input, expected] of cases) {
      it(`${JSON.stringify(input)}`, () => {
        assert.deepStrictEqual(parse(input), offers(expected));
      });
    }

    it('returns objects with a null prototype at both levels, and arrays for the lists', () => {
      const result = parse('a; b=1, a');
      assert.strictEqual(Object.getPrototypeOf(result), null);
      assert.ok(Array.isArray(result.a));
      assert.strictEqual(Object.getPrototypeOf(result.a[0]), null);
      assert.strictEqual(Object.getPrototypeOf(result.a[1]), null);
      assert.ok(Array.isArray(result.a[0].b));
      assert.notStrictEqual(result.a[0], result.a[1]);
    });
  });

  describe('parse: rejected values', () => {
    const cases = [
      ['', 'Unexpected end of input'],
      ['a,', 'Unexpected end of input'],
      ['a;', 'Unexpected end of input'],
      ['a ', 'Unexpected end of input'],
      ['a\t', 'Unexpected end of input'],
      ['a; b=', 'Unexpected end of input'],
      ['a; b="', 'Unexpected end of input'],
      ['a;b="x', 'Unexpected end of input'],
      ['a;b="x\\', 'Unexpected end of input'],
      ['a; b=1 ', 'Unexpected end of input'],
      ['a;b="x"\t', 'Unexpected end of input'],
      ['a; b="1",', 'Unexpected end of input'],
      // No whitespace at index 0.
      [' ', 'Unexpected character at index 0'],
      [' a', 'Unexpected character at index 0'],
      ['\t', 'Unexpected character at index 0'],
      // A separator with no name before it.
      [',a', 'Unexpected character at index 0'],
      ['a,,b', 'Unexpected character at index 2'],
      ['a;;b', 'Unexpected character at index 2'],
      // Whitespace inside a name or value.
      ['a b', 'Unexpected character at index 2'],
      ['a;b c', 'Unexpected character at index 4'],
      ['a;b=1 x', 'Unexpected character at index 6'],
      // `=` after an extension name, or after whitespace; whitespace after `=`.
      ['a=b', 'Unexpected character at index 1'],
      ['a; b =1', 'Unexpected character at index 5'],
      ['a; b= 1', 'Unexpected character at index 5'],
      // Quotes: only as a whole value, not empty, only token characters inside, escapes of tokens.
      ['"a"', 'Unexpected character at index 0'],
      ['a;"b"', 'Unexpected character at index 2'],
      ['a;b=x"', 'Unexpected character at index 5'],
      ['a;b="x"y', 'Unexpected character at index 7'],
      ['a; b=""', 'Unexpected character at index 6'],
      ['a;b=""x"', 'Unexpected character at index 5'],
      ['a; b="1 2"', 'Unexpected character at index 7'],
      ['a; b="\\"', 'Unexpected character at index 7'],
      ['a;b="a\\"b"', 'Unexpected character at index 7'],
      ['a;b="é"', 'Unexpected character at index 5'],
      // Anything beyond ASCII.
      ['é', 'Unexpected character at index 0'],
    ];
    for (const [input, message] of cases) {
      it(`${JSON.stringify(input)} throws SyntaxError ${JSON.stringify(message)}`, () => {
        assert.throws(() => parse(input), (err) => err instanceof SyntaxError && err.message === message);
      });
    }
  });

  describe('parse: differential against ws', () => {
    it('matches ws on a table of inputs', () => {
      const inputs = [
        '', ' ', 'a', 'a,', 'a, b', 'a;b', 'a; b=1', 'a; b="1"', 'a; b="1 2"', 'a; b=""', 'a; b="', 'a; b="\\1"',
        'a; b="\\"', 'a;b;b', 'a;b=1;b=2', 'a,a', 'a;b, a;c', ' a', 'a ', 'a\t;\tb', 'a ;b', 'a; b =1', 'a; b= 1',
        'a;b="x"y', 'a;b="x" ;c', 'a;;b', ',a', 'a,,b', 'a;', 'a; b=', 'a=b', '"a"', 'a;"b"', 'a;b="a\\"b"',
        'a;b="\\a"', 'a;b=x"', 'a;b="x', 'constructor', 'a;__proto__', '__proto__', 'a;hasOwnProperty=1',
        'a; b="1",', 'a;b="x",c', 'a\t', '\t', 'a,\t', 'a; b=1 ', 'a;b=1 x', 'a b', 'a;b c', 'a;b=1 ,c', 'é',
        'a;b="é"', 'a;b="x"\t', 'a;b=""x"', 'a;b="x\\', 'a;b="x\\y"', 'a;b=x;c="y", d ;e=f',
      ];
      for (const input of inputs) assertSameOutcome(input);
    });

    it('matches ws on 20000 seeded random strings over a small alphabet', () => {
      const random = prng(0xe87);
      const alphabet = ['a', 'b', 'x', '1', '=', ';', ',', ' ', '\t', '"', '\\', 'é', '/', ';', '='];
      const seen = { ok: 0, character: 0, end: 0 };
      for (let n = 0; n < 20000; n++) {
        let input = '';
        const length = Math.floor(random() * 12);
        for (let i = 0; i < length; i++) input += alphabet[Math.floor(random() * alphabet.length)];
        const expected = assertSameOutcome(input);
        if (!expected.error) seen.ok++;
        else if (expected.error.includes('character')) seen.character++;
        else seen.end++;
      }
      assert.ok(seen.ok > 200 && seen.character > 200 && seen.end > 200, JSON.stringify(seen));
    });

    it('matches ws on 20000 seeded grammar-built headers with up to two mutations', () => {
      const random = prng(7);
      const pick = (list) => list[Math.floor(random() * list.length)];
      const ows = () => pick(['', '', '', ' ', '\t', '  ']);
      const token = () => pick(['a', 'b', 'x1', '__proto__', 'permessage-deflate', "!#$%&'*+-.^_`|~"]);
      const value = () => pick([token(), `"${token()}"`, '"\\ab"', '"a\\b\\c"', '"\\a"', '15']);
      const junk = ['a', '=', ';', ',', ' ', '\t', '"', '\\', 'é'];
      const seen = { ok: 0, error: 0 };
      for (let n = 0; n < 20000; n++) {
        const elements = [];
        for (let e = 0, count = 1 + Math.floor(random() * 3); e < count; e++) {
          let element = token();
          for (let p = 0, params = Math.floor(random() * 3); p < params; p++) {
            element += ows() + ';' + ows() + token() + (random() < 0.5 ? '=' + value() : '');
          }
          elements.push(element);
        }
        let input = elements.map((element, i) => (i ? ows() : '') + element).join(ows() + ',');
        for (let m = 0, mutations = Math.floor(random() * 3); m < mutations; m++) {
          const at = Math.floor(random() * (input.length + 1));
          const op = random();
          if (op < 0.4) input = input.slice(0, at) + pick(junk) + input.slice(at);
          else if (op < 0.7) input = input.slice(0, at) + input.slice(at + 1);
          else input = input.slice(0, at) + pick(junk) + input.slice(at + 1);
        }
        const expected = assertSameOutcome(input);
        seen[expected.error ? 'error' : 'ok']++;
        if (!expected.error) assert.strictEqual(format(expected.value), ws.extension.format(expected.value));
      }
      assert.ok(seen.ok > 5000 && seen.error > 5000, JSON.stringify(seen));
    });
  });

  describe('format', () => {
    const cases = [
      [{}, ''],
      [{ a: [{}] }, 'a'],
      [{ a: {} }, 'a'],
      [{ a: [{}, {}] }, 'a, a'],
      [{ a: [] }, ''],
      [{ a: [], b: [{}] }, ', b'],
      [{ a: { b: 1 } }, 'a; b=1'],
      [{ a: [{ b: true, c: 'x' }, { d: 2 }], e: [{}] }, 'a; b; c=x, a; d=2, e'],
      [{ a: [{ b: [true, true] }] }, 'a; b; b'],
      [{ a: [{ b: [true, 'x', 1, false, null, undefined] }] }, 'a; b; b=x; b=1; b=false; b=null; b=undefined'],
      [{ a: [{ b: [] }] }, 'a; '],
      [{ a: [{ b: [], c: [1] }] }, 'a; ; c=1'],
      [{ a: [{ b: [[1, 2]] }] }, 'a; b=1,2'],
      // Values are never quoted.
      [{ a: [{ b: ['x y'] }] }, 'a; b=x y'],
      [
        { 'permessage-deflate': [{ server_no_context_takeover: [true], client_max_window_bits: [10] }] },
        'permessage-deflate; server_no_context_takeover; client_max_window_bits=10',
      ],
    ];
    for (const [input, expected] of cases) {
      it(`${JSON.stringify(input)} -> ${JSON.stringify(expected)} (same as ws)`, () => {
        assert.strictEqual(format(input), expected);
        assert.strictEqual(ws.extension.format(input), expected);
      });
    }

    it('formats what parse returns so that parsing it again gives the same offers', () => {
      const header = 'a; b="1"; c, a;b=2 , d;e="\\f"';
      const parsed = parse(header);
      assert.strictEqual(format(parsed), 'a; b=1; c, a; b=2, d; e=f');
      assert.deepStrictEqual(parse(format(parsed)), parsed);
    });
  });
});
