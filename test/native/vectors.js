'use strict';
// UTF-8 test vectors and generators shared by utf8.test.js and stream.test.js.

const hex = (s) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

/** Boundary code points (Markus Kuhn's test file, sections 2.1-2.3, plus noncharacters). */
const VALID = [
  '', '00', '7f', 'c2 80', 'df bf', 'e0 a0 80', 'e0 bf bf', 'e1 80 80', 'ec bf bf', 'ed 80 80', 'ed 9f bf',
  'ee 80 80', 'ef bf bd', 'ef bf be', 'ef bf bf', 'f0 90 80 80', 'f0 bf bf bf', 'f1 80 80 80', 'f3 bf bf bf',
  'f4 80 80 80', 'f4 8f bf bf', 'ef bb bf' /* BOM */, 'ef b7 90' /* U+FDD0 noncharacter */,
  '48 c3 a9 6c 6c 6f 20 e2 82 ac 20 f0 9d 84 9e', // "Héllo € 𝄞"
];

/** Each must be rejected wherever it appears (Kuhn sections 3-5 and RFC 3629 section 10). */
const INVALID = [
  // unexpected continuation bytes
  '80', 'bf', '80 bf', '80 bf 80 bf', 'c2 80 80', 'e2 82 ac 80', 'f0 9f 98 80 80',
  // lead bytes that never appear
  'c0', 'c1', 'f5', 'f7', 'f8', 'fb', 'fc', 'fd', 'fe', 'ff', 'fe fe ff ff',
  // overlong forms
  'c0 80', 'c0 af', 'c1 bf', 'e0 80 80', 'e0 80 af', 'e0 9f bf', 'f0 80 80 80', 'f0 80 80 af', 'f0 8f bf bf',
  'f8 80 80 80 af', 'fc 80 80 80 80 af', 'f8 87 bf bf bf', 'fc 83 bf bf bf bf',
  // UTF-16 surrogates, single and paired (CESU-8)
  'ed a0 80', 'ed ad bf', 'ed ae 80', 'ed af bf', 'ed b0 80', 'ed be 80', 'ed bf bf', 'ed a0 80 ed b0 80', 'ed af bf ed bf bf',
  // above U+10FFFF
  'f4 90 80 80', 'f4 bf bf bf', 'f5 80 80 80', 'f7 bf bf bf', 'f8 88 80 80 80', 'fc 84 80 80 80 80',
  // truncated sequences, at the end and followed by something else
  'c2', 'df', 'e0', 'e0 a0', 'e1 80', 'ef bf', 'f0', 'f0 90', 'f0 90 80', 'f4 8f bf', 'f1 80 80',
  'c2 41', 'e1 80 41', 'f0 90 80 41', 'c2 c2 80', 'e1 e1 80 80', 'f1 f1 80 80 80', 'e1 80 c2 80',
  // all the last-byte-missing sequences concatenated (Kuhn 3.4)
  'c0 e0 80 f0 80 80 f8 80 80 80 fc 80 80 80 80 df ef bf f7 bf bf fb bf bf bf fd bf bf bf bf',
];

/** The same bytes preceded/followed by text, so they land at every position of a SIMD block. */
const contextCache = new Map();
function contexts(bytes, nonAscii) {
  const cacheKey = `${bytes.toString('hex')}/${nonAscii}`;
  const cached = contextCache.get(cacheKey);
  if (cached) return cached;
  const out = [];
  const filler = (n) => {
    if (!nonAscii) return Buffer.alloc(n, 0x61);
    const b = Buffer.from('é'.repeat(Math.ceil(n / 2) + 1)).subarray(0, n - (n % 2));
    return n % 2 ? Buffer.concat([b, Buffer.from('a')]) : b;
  };
  for (let pre = 0; pre <= 70; pre++) out.push(Buffer.concat([filler(pre), bytes]));
  for (const pre of [0, 13, 31, 32, 63, 64]) {
    for (const post of [1, 2, 3, 15, 16, 33, 64, 100]) out.push(Buffer.concat([filler(pre), bytes, filler(post)]));
  }
  contextCache.set(cacheKey, out);
  return out;
}

/** A random string as UTF-8, weighted towards realistic text, optionally with random damage. */
function randomText(rnd, len) {
  const cps = [];
  let bytes = 0;
  while (bytes < len) {
    const r = rnd();
    let cp;
    if (r < 0.55) cp = 0x20 + rnd.int(0x5f);
    else if (r < 0.7) cp = 0x80 + rnd.int(0x780);
    else if (r < 0.85) {
      cp = 0x800 + rnd.int(0xf800);
      if (cp >= 0xd800 && cp <= 0xdfff) cp = 0xfffd;
    } else if (r < 0.95) cp = 0x10000 + rnd.int(0x100000);
    else cp = [0x80, 0x7ff, 0x800, 0xffff, 0x10000, 0x10ffff, 0xd7ff, 0xe000][rnd.int(8)];
    cps.push(cp);
    bytes += cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
  }
  return Buffer.from(String.fromCodePoint(...cps));
}

function damage(rnd, buf) {
  const b = Buffer.from(buf);
  const n = 1 + rnd.int(3);
  const patches = [[0xed, 0xa0, 0x80], [0xc0, 0x80], [0xe0, 0x80, 0x80], [0xf4, 0x90, 0x80, 0x80], [0xf8], [0x80], [0xc2], [0xf0, 0x90]];
  let out = b;
  for (let k = 0; k < n && out.length > 0; k++) {
    const at = rnd.int(out.length);
    const kind = rnd.int(4);
    if (kind === 0) out[at] = rnd.int(256);
    else if (kind === 1) out[at] ^= 1 << rnd.int(8);
    else if (kind === 2) out = Buffer.concat([out.subarray(0, at), Buffer.from(patches[rnd.int(patches.length)]), out.subarray(at)]);
    else out = out.subarray(0, at);
  }
  return out;
}

module.exports = { hex, VALID, INVALID, contexts, randomText, damage };
