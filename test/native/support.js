'use strict';
// Shared by the test/native suites: the implementations under test, a seeded PRNG and reference
// (obviously-correct, slow) versions of the helpers.
const path = require('path');

const root = path.join(__dirname, '..', '..');
const buffer = require(path.join(root, 'dist/lib/util/buffer'));
const native = require(path.join(root, 'dist/lib/util/native'));

const { prng } = require('../support/prng');

function optional(load) {
  try {
    return load();
  } catch {
    return null;
  }
}

/** Reference mask: one byte at a time, straight from RFC 6455 section 5.3. */
function refMask(source, key, output, offset, length) {
  for (let i = 0; i < length; i++) output[offset + i] = source[i] ^ key[i % 4];
}

/**
 * Reference UTF-8 check written from the WHATWG decoder algorithm (bytes needed, lower/upper
 * boundary), independent of the implementations' code. Returns the index of the first byte that
 * proves the input invalid, `bytes.length` if the input is valid, or -1 if it is a valid prefix that
 * ends inside a character (truncated).
 */
function refFirstError(bytes) {
  let needed = 0;
  let seen = 0;
  let lower = 0x80;
  let upper = 0xbf;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i];
    if (needed === 0) {
      if (b <= 0x7f) continue;
      if (b >= 0xc2 && b <= 0xdf) needed = 1;
      else if (b >= 0xe0 && b <= 0xef) {
        if (b === 0xe0) lower = 0xa0;
        if (b === 0xed) upper = 0x9f;
        needed = 2;
      } else if (b >= 0xf0 && b <= 0xf4) {
        if (b === 0xf0) lower = 0x90;
        if (b === 0xf4) upper = 0x8f;
        needed = 3;
      } else return i;
      continue;
    }
    if (b < lower || b > upper) return i;
    lower = 0x80;
    upper = 0xbf;
    seen++;
    if (seen === needed) {
      needed = 0;
      seen = 0;
    }
  }
  return needed === 0 ? bytes.length : -1;
}

const refValid = (bytes) => refFirstError(bytes) === bytes.length;

const bufferutil = optional(() => require('bufferutil'));
const utf8validate = optional(() => require('utf-8-validate'));
const { isUtf8 } = require('buffer');

/**
 * Every implementation to run the suites against, as [name, {mask?, unmask?, isValidUTF8?}, opts].
 * weft's addon appears once per SIMD kernel set this CPU runs (`before` switches the set, `after`
 * restores the best one). `strict` marks implementations that must validate their arguments.
 */
function implementations() {
  const list = [['weft JS fallback', buffer.implementations.js, { strict: true }]];
  const weft = buffer.implementations.weft;
  const addon = native.weftAddon;
  if (weft && addon) {
    const best = addon.simd();
    for (const level of ['scalar', 'sse2', 'neon', 'avx2']) {
      // setSimd returns false for sets this CPU or build cannot run; the best one is restored below.
      if (!addon.setSimd(level)) continue;
      list.push([
        `weft addon (${level})`,
        weft,
        { strict: true, before: () => addon.setSimd(level), after: () => addon.setSimd(best) },
      ]);
    }
    addon.setSimd(best);
  }
  list.push(['weft dispatcher (lib/util/buffer)', { mask: buffer.mask, unmask: buffer.unmask, isValidUTF8: buffer.isValidUTF8 }, {}]);
  if (bufferutil) list.push(['bufferutil (reference)', { mask: bufferutil.mask, unmask: bufferutil.unmask }, {}]);
  if (typeof utf8validate === 'function') list.push(['utf-8-validate (reference)', { isValidUTF8: utf8validate }, {}]);
  if (typeof isUtf8 === 'function') list.push(['buffer.isUtf8 (reference)', { isValidUTF8: isUtf8 }, {}]);
  return list;
}

/** describe() once per implementation that has `fn`, with the SIMD switch hooks in place. */
function forEachImplementation(fn, body) {
  for (const [name, impl, opts] of implementations()) {
    if (typeof impl[fn] !== 'function') continue;
    describe(name, function () {
      if (opts.before) before(opts.before);
      if (opts.after) after(opts.after);
      body(impl, opts);
    });
  }
}

module.exports = { root, buffer, native, prng, refMask, refFirstError, refValid, implementations, forEachImplementation };
