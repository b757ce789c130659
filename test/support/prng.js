'use strict';
// The one seeded random source of the test suites (mulberry32): the same seed gives the same sequence
// everywhere, so a failing fuzz or property case can be replayed from the seed it prints.

/**
 * `prng(seed)` returns `next()` → a float in [0, 1), with `next.int(n)` (0 .. n-1), `next.pick(list)`
 * and `next.bytes(n)` (a Buffer of n random bytes).
 */
function prng(seed) {
  let s = seed | 0;
  const next = () => {
    s = (s + 0x6d2b79f5) | 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  next.int = (n) => Math.floor(next() * n);
  next.pick = (list) => list[Math.floor(next() * list.length)];
  next.bytes = (n) => {
    const b = Buffer.alloc(n);
    for (let i = 0; i < n; i++) b[i] = Math.floor(next() * 256);
    return b;
  };
  return next;
}

module.exports = { prng };
