'use strict';

// Sec-WebSocket-Protocol parsing (RFC 6455 §4.1, §4.2.1 item 8, §11.3.4), checked rule by rule and
// differentially against ws 8.23's `subprotocol.parse`.

const assert = require('assert');
const ws = require('ws');
const { parse, isToken, isTokenChar, TOKEN_CHARS } = require('../../dist/lib/protocol/subprotocol');

const { prng } = require('../support/prng');

/** What a parser did with `input`: its result as an array, or the class and message of its error. */
function outcome(fn, input) {
  try {
    return { value: [...fn(input)] };
  } catch (err) {
    return { error: `${err.constructor.name}: ${err.message}` };
  }
}

const TCHAR_SPECIALS = "!#$%&'*+-.^_`|~";

describe('subprotocol (RFC 6455 §4.1 / §4.2.1 Sec-WebSocket-Protocol)', () => {
  describe('token characters (RFC 7230 §3.2.6)', () => {
    it('accepts exactly ALPHA, DIGIT and !#$%&\'*+-.^_`|~ among the 128 ASCII codes', () => {
      for (let code = 0; code < 128; code++) {
        const c = String.fromCharCode(code);
        const expected = /^[A-Za-z0-9]$/.test(c) || TCHAR_SPECIALS.includes(c);
        assert.strictEqual(isTokenChar(code), expected, `code ${code}`);
        assert.strictEqual(TOKEN_CHARS[code] === 1, expected, `table ${code}`);
      }
    });

    it('rejects every code unit above ASCII', () => {
      for (const code of [0x80, 0xe9, 0xff, 0x100, 0x2028, 0xd83d, 0xffff]) {
        assert.strictEqual(isTokenChar(code), false, `code ${code}`);
      }
    });

    const tokens = [
      ['chat', true],
      ['v1.chat.example.com', true],
      [TCHAR_SPECIALS, true],
      ['', false],
      ['a b', false],
      ['a,b', false],
      ['"a"', false],
      ['é', false],
    ];
    for (const [value, expected] of tokens) {
      it(`isToken(${JSON.stringify(value)}) is ${expected}`, () => {
        assert.strictEqual(isToken(value), expected);
      });
    }
  });

  describe('parse: accepted values', () => {
    const cases = [
      // RFC 6455 §1.2 / §4.1 examples.
      ['chat', ['chat']],
      ['chat, superchat', ['chat', 'superchat']],
      ['a,b', ['a', 'b']],
      ['a ,b', ['a', 'b']],
      ['a , b', ['a', 'b']],
      ['a\t,b', ['a', 'b']],
      ['a,\tb', ['a', 'b']],
      ['a,  b', ['a', 'b']],
      ['a  ,b', ['a', 'b']],
      ['a, b ,c', ['a', 'b', 'c']],
      ['b, a', ['b', 'a']],
      // Names are case-sensitive, so these are not duplicates.
      ['a, A', ['a', 'A']],
      [TCHAR_SPECIALS + '09AZaz', [TCHAR_SPECIALS + '09AZaz']],
      ['__proto__, constructor', ['__proto__', 'constructor']],
    ];
    for (const [input, expected] of cases) {
      it(`${JSON.stringify(input)} -> ${JSON.stringify(expected)}`, () => {
        const result = parse(input);
        assert.ok(result instanceof Set);
        assert.deepStrictEqual([...result], expected);
      });
    }
  });

  describe('parse: rejected values', () => {
    const cases = [
      ['', 'Unexpected end of input'],
      ['a,', 'Unexpected end of input'],
      ['a ', 'Unexpected end of input'],
      ['a,\t', 'Unexpected end of input'],
      [' ', 'Unexpected character at index 0'],
      [' a', 'Unexpected character at index 0'],
      ['\ta', 'Unexpected character at index 0'],
      [',a', 'Unexpected character at index 0'],
      ['a,,b', 'Unexpected character at index 2'],
      ['a b', 'Unexpected character at index 2'],
      ['a;b', 'Unexpected character at index 1'],
      ['"a"', 'Unexpected character at index 0'],
      ['é', 'Unexpected character at index 0'],
      ['a,b/c', 'Unexpected character at index 3'],
      ['a,a', 'The "a" subprotocol is duplicated'],
      ['a, a', 'The "a" subprotocol is duplicated'],
      ['a,b,a', 'The "a" subprotocol is duplicated'],
      // The duplicate is reported when its comma is reached, before a later bad character.
      ['a,a,;', 'The "a" subprotocol is duplicated'],
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
        '', ' ', 'a', 'a,b', 'a, b', 'a ,b', 'a,', ',a', 'a,,b', 'a,a', 'a b', ' a', 'a ', 'a\t,b', '"a"',
        'a;b', 'é', 'a,b,a', 'a,a,;', 'a,a ', 'a , a', 'x\t', '\t', 'a,\t,b', '__proto__,__proto__',
      ];
      for (const input of inputs) {
        assert.deepStrictEqual(outcome(parse, input), outcome(ws.subprotocol.parse, input), JSON.stringify(input));
      }
    });

    it('matches ws on 20000 seeded random strings over a small alphabet', () => {
      const random = prng(0x5eed);
      const alphabet = ['a', 'b', 'x', ',', ' ', '\t', ';', '"', '=', '\\', 'é', '/'];
      const seen = { ok: 0, error: 0 };
      for (let n = 0; n < 20000; n++) {
        let input = '';
        const length = Math.floor(random() * 10);
        for (let i = 0; i < length; i++) input += alphabet[Math.floor(random() * alphabet.length)];
        const expected = outcome(ws.subprotocol.parse, input);
        assert.deepStrictEqual(outcome(parse, input), expected, JSON.stringify(input));
        seen[expected.error ? 'error' : 'ok']++;
      }
      // The sample exercises both outcomes.
      assert.ok(seen.ok > 200 && seen.error > 200, JSON.stringify(seen));
    });

    it('matches ws on 20000 seeded lists of names with random whitespace and one mutation', () => {
      const random = prng(42);
      const pick = (list) => list[Math.floor(random() * list.length)];
      const names = ['a', 'b', 'chat', 'v2.x', '__proto__'];
      const ows = ['', '', ' ', '\t', '  '];
      const junk = ['a', ',', ' ', '\t', ';', '"', 'é'];
      const seen = { ok: 0, duplicated: 0, other: 0 };
      for (let n = 0; n < 20000; n++) {
        const count = 1 + Math.floor(random() * 4);
        let input = pick(names);
        for (let i = 1; i < count; i++) input += pick(ows) + ',' + pick(ows) + pick(names);
        if (random() < 0.5) {
          const at = Math.floor(random() * (input.length + 1));
          input = input.slice(0, at) + pick(junk) + input.slice(at + (random() < 0.5 ? 1 : 0));
        }
        const expected = outcome(ws.subprotocol.parse, input);
        assert.deepStrictEqual(outcome(parse, input), expected, JSON.stringify(input));
        if (!expected.error) seen.ok++;
        else if (expected.error.includes('duplicated')) seen.duplicated++;
        else seen.other++;
      }
      assert.ok(seen.ok > 1000 && seen.duplicated > 1000 && seen.other > 1000, JSON.stringify(seen));
    });
  });
});
