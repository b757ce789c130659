'use strict';
// `node scripts/check-addon.js <file.node>`: loads one built addon and checks that every kernel set it
// offers on this CPU (scalar, sse2/avx2 or neon) masks, unmasks and validates UTF-8 exactly as the
// pure-JS twins in dist/lib/util/fallback.js do, over sizes and alignments that reach every loop tail.
// Plain CommonJS with no dependencies, so it runs on any Node under qemu. Exits 1 on any difference.
const path = require('path');
const crypto = require('crypto');

const file = path.resolve(process.argv[2] || '');
const addon = require(file);
const js = require(path.join(__dirname, '..', 'dist', 'lib', 'util', 'fallback.js'));

const failures = [];
const fail = (what) => {
  if (failures.length < 10) console.error(`  FAIL ${what}`);
  failures.push(what);
};

// UTF-8 cases whose verdict is known independently of either implementation.
const utf8Cases = [
  ['ascii', Buffer.from('hello, weft'), true],
  ['2-byte', Buffer.from('ünïcödé'), true],
  ['3-byte', Buffer.from('€ ✓ 日本'), true],
  ['4-byte', Buffer.from('😀 𝄞'), true],
  ['overlong C0 80', Buffer.from([0xc0, 0x80]), false],
  ['overlong E0 80 80', Buffer.from([0xe0, 0x80, 0x80]), false],
  ['surrogate ED A0 80', Buffer.from([0xed, 0xa0, 0x80]), false],
  ['above U+10FFFF', Buffer.from([0xf4, 0x90, 0x80, 0x80]), false],
  ['truncated', Buffer.from([0xe2, 0x82]), false],
  ['stray continuation', Buffer.from([0x80]), false],
  ['F5', Buffer.from([0xf5, 0x80, 0x80, 0x80]), false],
];

const kernels = ['scalar', 'sse2', 'avx2', 'neon'].filter((name) => addon.setSimd(name));
const sizes = [0, 1, 3, 4, 7, 15, 16, 17, 31, 32, 33, 63, 64, 65, 127, 128, 129, 255, 1000, 4096, 65537];
let checks = 0;
for (const kernel of kernels) {
  addon.setSimd(kernel);
  for (const size of sizes) {
    for (const shift of [0, 1, 3]) {
      const key = crypto.randomBytes(4);
      const source = crypto.randomBytes(size + shift).subarray(shift);
      const a = Buffer.alloc(size + 5);
      const b = Buffer.alloc(size + 5);
      addon.mask(source, key, a, shift, size);
      js.mask(source, key, b, shift, size);
      if (!a.equals(b)) fail(`${kernel} mask size=${size} shift=${shift}`);
      const c = Buffer.from(source);
      const d = Buffer.from(source);
      addon.unmask(c, key);
      js.unmask(d, key);
      if (!c.equals(d)) fail(`${kernel} unmask size=${size}`);
      // Text long enough to reach the vector loops, with one bad byte at every position class.
      const text = Buffer.from('weft ünïcödé € 😀 '.repeat(Math.ceil(size / 20) + 1)).subarray(0, size);
      if (addon.isValidUTF8(text) !== js.isValidUTF8(text)) fail(`${kernel} utf8 text size=${size}`);
      if (size > 0) {
        const bad = Buffer.from(text);
        bad[size - 1 - (shift % size)] = 0xff;
        if (addon.isValidUTF8(bad) !== false) fail(`${kernel} utf8 0xff at ${size - 1 - (shift % size)} of ${size}`);
      }
      checks += 4;
    }
  }
  for (const [name, bytes, valid] of utf8Cases) {
    for (const pad of [0, 40]) {
      const buf = Buffer.concat([Buffer.alloc(pad, 0x61), bytes]);
      if (addon.isValidUTF8(buf) !== valid) fail(`${kernel} utf8 ${name} pad=${pad}`);
      checks++;
    }
  }
}

const where = `${process.arch} node ${process.version} ${path.basename(path.dirname(file))}/${path.basename(file)}`;
if (failures.length > 0) {
  console.error(`${where}: ${failures.length} of ${checks} checks failed`);
  process.exit(1);
}
console.log(`${where}: kernels ${kernels.join(', ')}: ${checks} checks agree with the JS fallback`);
