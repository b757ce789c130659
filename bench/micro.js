'use strict';
/**
 * Micro-benchmark of the byte helpers: mask (into another buffer), unmask (in place) and UTF-8
 * validation (ASCII and mixed text) at 16 B .. 1 MiB, for weft's addon, weft's JS fallback, weft's
 * size dispatcher (lib/util/buffer.ts), bufferutil, utf-8-validate and Node's buffer.isUtf8, with
 * Buffer.prototype.copy (memcpy) as the reference for masking. Prints ns/op and GB/s as Markdown.
 *
 *   npm run bench:micro                  the table (~50 s)
 *   node bench/micro.js --crossover      JS vs native per size from 0 to 128 B: where the dispatch
 *                                        thresholds in lib/util/buffer.ts come from
 *   BENCH_MS=40 node bench/micro.js      shorter/longer timing slices (default 60 ms)
 *
 * Implementations are interleaved (A B C A B C ...) over several rounds and the median is reported,
 * so a noisy neighbour skews all columns alike. Requires `npm run build` first (uses dist/).
 */
const path = require('path');
const { isUtf8 } = require('buffer');

const root = path.join(__dirname, '..');
const dispatch = require(path.join(root, 'dist/lib/util/buffer'));
const fallback = require(path.join(root, 'dist/lib/util/fallback'));

function optional(load) {
  try {
    return load();
  } catch {
    return null;
  }
}
// The addon is loaded directly (not through native.ts) so it is measured even under WS_NO_* variables.
const addon = optional(() => require('node-gyp-build')(root));
const bufferutil = optional(() => require('bufferutil'));
const utf8validate = optional(() => require('utf-8-validate'));

const SLICE_MS = Number(process.env.BENCH_MS) || 60;
const ROUNDS = process.argv.includes('--crossover') ? 7 : 5;
const SIZES = [16, 64, 256, 1024, 16 * 1024, 64 * 1024, 1024 * 1024];

/** mulberry32: deterministic bytes, so runs compare. */
function prng(seed) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = seed;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function randomBytes(n, seed) {
  const rnd = prng(seed);
  const b = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) b[i] = (rnd() * 256) | 0;
  return b;
}

/** Text of `n` bytes cut at a character boundary (so it stays valid). */
function text(n, sample) {
  const big = Buffer.from(sample.repeat(Math.ceil((n + 8) / Buffer.byteLength(sample))));
  let end = n;
  while (end > 0 && (big[end] & 0xc0) === 0x80) end--;
  const out = Buffer.alloc(n, 0x20); // pad with spaces up to exactly n bytes
  big.copy(out, 0, 0, end);
  if (!isUtf8(out)) throw new Error('bench text is not valid UTF-8');
  return out;
}
const ASCII_SAMPLE = 'The quick brown fox jumps over the lazy dog; {"id":42,"ok":true} 0123456789\n';
const MIXED_SAMPLE = 'Grüße, Jürgen! Привет, мир. 你好，世界。 Καλημέρα κόσμε 🎉🚀 naïve café — ok.\n';

let loopId = 0;
/**
 * A timing loop of its own for each case (built with new Function), so every call site sees one
 * function only and the comparison is not skewed by megamorphic calls. The source carries a unique id
 * because V8 caches `new Function` by source text and identical loops would share type feedback.
 */
function makeLoop(body) {
  const id = ++loopId;
  // eslint-disable-next-line no-new-func
  return new Function('fn', 'a', 'b', 'c', 'len', 'n', `/* loop ${id} */ let r = 0; for (let i = 0; i < n; i++) { ${body} } return r;`);
}

function makeCase(kind, fn, size) {
  let loop;
  let args;
  const key = Buffer.from([0x9a, 0x4f, 0x01, 0xe3]);
  if (kind === 'mask') {
    loop = makeLoop('fn(a, b, c, 0, len);');
    args = [randomBytes(size, size), key, Buffer.allocUnsafe(size)];
  } else if (kind === 'copy') {
    loop = makeLoop('a.copy(c, 0, 0, len);');
    args = [randomBytes(size, size), key, Buffer.allocUnsafe(size)];
  } else if (kind === 'unmask') {
    loop = makeLoop('fn(a, b);');
    args = [randomBytes(size, size), key, null];
  } else {
    loop = makeLoop('if (fn(a)) r++;');
    args = [text(size, kind === 'ascii' ? ASCII_SAMPLE : MIXED_SAMPLE), null, null];
    if (!fn(args[0])) throw new Error(`validator rejected valid ${kind} text`);
  }
  return { loop, fn, args, size, n: 1, samples: [] };
}

/** Grows the iteration count until one slice takes about SLICE_MS. */
function calibrate(c) {
  const [a, b, d] = c.args;
  for (;;) {
    const t0 = process.hrtime.bigint();
    c.loop(c.fn, a, b, d, c.size, c.n);
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    if (ms >= SLICE_MS / 4) {
      c.n = Math.max(1, Math.round((c.n * SLICE_MS) / ms / 2));
      return;
    }
    c.n *= ms < 1 ? 16 : 2;
  }
}

function sample(c) {
  const [a, b, d] = c.args;
  const t0 = process.hrtime.bigint();
  c.loop(c.fn, a, b, d, c.size, c.n);
  c.samples.push(Number(process.hrtime.bigint() - t0) / c.n);
}

const median = (xs) => xs.slice().sort((x, y) => x - y)[xs.length >> 1];

/** Runs the cases of one row interleaved; returns median ns/op per case. */
function measureRow(cases) {
  for (const c of cases) calibrate(c);
  for (let r = 0; r < ROUNDS; r++) for (const c of cases) sample(c);
  return cases.map((c) => median(c.samples));
}

function columns(kind) {
  const cols = [];
  const add = (name, fn, k = kind) => {
    if (typeof fn === 'function') cols.push({ name, fn, kind: k });
  };
  if (kind === 'mask') {
    add('weft addon', addon && addon.mask);
    add('weft JS', fallback.mask);
    add('weft dispatch', dispatch.mask);
    add('bufferutil', bufferutil && bufferutil.mask);
    add('memcpy (Buffer#copy)', Buffer.prototype.copy, 'copy');
  } else if (kind === 'unmask') {
    add('weft addon', addon && addon.unmask);
    add('weft JS', fallback.unmask);
    add('weft dispatch', dispatch.unmask);
    add('bufferutil', bufferutil && bufferutil.unmask);
  } else {
    add('weft addon', addon && addon.isValidUTF8);
    add('weft JS', fallback.isValidUTF8);
    add('weft dispatch', dispatch.isValidUTF8);
    add('utf-8-validate', utf8validate);
    add('buffer.isUtf8', isUtf8);
  }
  return cols;
}

const fmtSize = (n) => (n >= 1 << 20 ? `${n >> 20} MiB` : n >= 1024 ? `${n >> 10} KiB` : `${n} B`);
const fmtNs = (ns) => (ns >= 1e5 ? ns.toFixed(0) : ns >= 100 ? ns.toFixed(0) : ns.toFixed(1));
const fmtGbs = (size, ns) => {
  const g = size / ns;
  return g >= 10 ? g.toFixed(0) : g >= 1 ? g.toFixed(1) : g.toFixed(2);
};

function table(title, kind) {
  const cols = columns(kind);
  const lines = [`**${title}** — ns/op (GB/s)`, '', `| size | ${cols.map((c) => c.name).join(' | ')} |`];
  lines.push(`|---|${cols.map(() => '---:').join('|')}|`);
  for (const size of SIZES) {
    const cases = cols.map((c) => makeCase(c.kind, c.fn, size));
    const ns = measureRow(cases);
    lines.push(`| ${fmtSize(size)} | ${ns.map((x) => `${fmtNs(x)} (${fmtGbs(size, x)})`).join(' | ')} |`);
    process.stderr.write('.');
  }
  return lines.join('\n');
}

/** ns/op per size for JS vs native, to place the dispatch thresholds. */
function crossover() {
  const rows = [];
  const sizes = [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 128, 192, 256];
  const spec = [
    ['mask', 'mask', [['JS', fallback.mask], ['weft', addon && addon.mask], ['bufferutil', bufferutil && bufferutil.mask]]],
    ['unmask', 'unmask', [['JS', fallback.unmask], ['weft', addon && addon.unmask], ['bufferutil', bufferutil && bufferutil.unmask]]],
    ['utf8 ascii', 'ascii', [['JS', fallback.isValidUTF8], ['weft', addon && addon.isValidUTF8], ['isUtf8', isUtf8], ['utf-8-validate', utf8validate]]],
    ['utf8 mixed', 'mixed', [['JS', fallback.isValidUTF8], ['weft', addon && addon.isValidUTF8], ['isUtf8', isUtf8], ['utf-8-validate', utf8validate]]],
  ];
  for (const [title, kind, impls] of spec) {
    const avail = impls.filter(([, fn]) => typeof fn === 'function');
    rows.push(`\n**${title}** — ns/op`, '', `| size | ${avail.map(([n]) => n).join(' | ')} |`, `|---|${avail.map(() => '---:').join('|')}|`);
    for (const size of sizes) {
      const ns = measureRow(avail.map(([, fn]) => makeCase(kind, fn, size)));
      const best = ns.indexOf(Math.min(...ns));
      rows.push(`| ${size} | ${ns.map((x, i) => (i === best ? `**${fmtNs(x)}**` : fmtNs(x))).join(' | ')} |`);
      process.stderr.write('.');
    }
  }
  return rows.join('\n');
}

function main() {
  const started = Date.now();
  const head = `Node ${process.version}, ${process.arch}; weft addon: ${addon ? `yes (${addon.simd()})` : 'no'}; ` +
    `dispatch paths: mask=${dispatch.nativePaths.mask}, utf8=${dispatch.nativePaths.utf8}`;
  let out;
  if (process.argv.includes('--crossover')) {
    out = crossover();
  } else {
    out = [
      table('mask (into a second buffer)', 'mask'),
      table('unmask (in place)', 'unmask'),
      table('UTF-8 validation, ASCII text', 'ascii'),
      table('UTF-8 validation, mixed text (Latin, Cyrillic, CJK, Greek, emoji)', 'mixed'),
    ].join('\n\n');
  }
  process.stderr.write('\n');
  console.log(`${head}\n\n${out}\n\n(${((Date.now() - started) / 1000).toFixed(0)} s)`);
}

main();
