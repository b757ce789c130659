#!/usr/bin/env node
'use strict';
/**
 * What an idle connection costs a server: RSS and heap per connection, weft against ws and a bare
 * net.Socket server, and (--breakdown) which objects one weft connection keeps.
 *
 *   node bench/idle.js [--conns=10000] [--rounds=5] [--impls=weft,ws,net[,handle]]
 *   node bench/idle.js --base=../other-checkout      adds `base`: weft built in another checkout (before/after)
 *   node bench/idle.js --breakdown [--conns=2000] [--impl=weft|ws|net|handle|base] [--top=40]
 *   node bench/idle.js --semi-space=1 ...            every server with --max-semi-space-size=1 (MiB): V8's
 *                                                    young generation no longer grows with the connections
 *
 * Each measurement is a fresh server process (bench/servers/echo.js, or net-echo.js for `net`: the
 * upgrade answered by hand, one small object and three listeners per socket, no library; handle-echo.js
 * for `handle`: the same on Node's bare TCP handles, no net.Socket at all) started with
 * --expose-gc; the clients are the C load generator in its own process (`--mode=idle`: upgrade, then
 * hold). The server reports `process.memoryUsage()` after several GCs with no connection and with all
 * N of them open; the difference ÷ N is the figure. Implementations run interleaved (A B C A B C …), and
 * each figure is the median over rounds, with the lowest and highest beside it.
 *
 * --breakdown takes two heap snapshots of one server: before the clients connect and with N of them
 * open. Objects whose snapshot ids are new in the second (after GC: what the connections retain) are
 * grouped by type and constructor/function name, with the edge that holds them (`Owner.field`), and
 * divided by N: per connection, how many of each and their shallow bytes. What V8 does not see (kernel
 * socket buffers, libuv's handles, malloc overhead) is the gap between that total and RSS.
 */
const fs = require('fs');
const os = require('os');
const path = require('path');
const P = require('./lib/proc');

const args = {};
for (const a of process.argv.slice(2)) {
  const m = /^--([^=]+)(?:=(.*))?$/.exec(a);
  if (!m) throw new Error(`unknown argument ${a}`);
  args[m[1]] = m[2] === undefined ? true : m[2];
}

const SERVER = { weft: 'echo', 'weft-stream': 'echo', 'weft-native': 'echo', 'weft-accept': 'echo', base: 'echo', ws: 'echo', 'ws-js': 'echo', net: 'net-echo', handle: 'handle-echo' };

/**
 * Starts `impl`'s server; `base` is weft loaded from the --base checkout (its own dist/), `base-native` the
 * same on the native transport.
 */
async function startServer(impl) {
  const flags = args['semi-space'] ? [`--max-semi-space-size=${Number(args['semi-space'])}`] : [];
  if (impl !== 'base' && impl !== 'base-native') return P.startServer(SERVER[impl], impl, [], flags);
  if (!args.base) throw new Error(`impl ${impl} needs --base=<checkout>`);
  process.env.WEFT_ROOT = path.resolve(String(args.base));
  try {
    return await P.startServer('echo', impl === 'base' ? 'weft' : 'weft-native', [], flags);
  } finally {
    delete process.env.WEFT_ROOT;
  }
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  return n === 0 ? NaN : n % 2 ? s[n >> 1] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

const kib = (b) => `${(b / 1024).toFixed(2)} KiB`;

/** Opens `conns` idle connections to a fresh `impl` server; `atFull(server)` runs while they are open. */
async function withConnections(impl, conns, atFull) {
  const server = await startServer(impl);
  try {
    const before = await server.request('mem');
    let full = null;
    let after = null;
    const lg = await P.runLoadgen(['--mode=idle', `--conns=${conns}`, `--port=${server.port}`, '--max-time=300'], async (ev) => {
      if (ev.event !== 'ready') return;
      after = await server.request('mem');
      full = await atFull(server);
    });
    if (!after || after.error) throw new Error(`${impl}: no reading (loadgen: ${lg.first_error || 'never ready'})`);
    if (after.clients !== conns) throw new Error(`${impl}: server held ${after.clients} of ${conns} clients`);
    return { before, after, full };
  } finally {
    await server.stop();
  }
}

async function measure() {
  const conns = Number(args.conns || 10000);
  const rounds = Number(args.rounds || 5);
  const impls = String(args.impls || (args.base ? 'base,weft,ws,net' : 'weft,ws,net')).split(',');
  const samples = Object.fromEntries(impls.map((i) => [i, []]));
  console.log(`idle connections: ${conns}, ${rounds} interleaved rounds, fresh server per measurement (Node ${process.version})`);
  for (let r = 0; r < rounds; r++) {
    for (const impl of impls) {
      const { before, after } = await withConnections(impl, conns, async () => null);
      const s = {
        rss: (after.rss - before.rss) / conns,
        heap: (after.heapUsed - before.heapUsed) / conns,
        external: (after.external - before.external) / conns,
        // Where the RSS went: V8's young generation (grown while the connections arrived, emptied by the
        // GCs but still committed), the rest of the V8 heap as committed, and what lies outside it.
        young: (after.newSpace - before.newSpace) / conns,
        heapRest: (after.heapTotal - after.newSpace - (before.heapTotal - before.newSpace)) / conns,
        outside: (after.rss - after.heapTotal - (before.rss - before.heapTotal)) / conns,
      };
      samples[impl].push(s);
      console.error(
        `  round ${r + 1} ${impl}: RSS ${kib(s.rss)} heap ${kib(s.heap)} external ${s.external.toFixed(0)} B;` +
          ` RSS = young generation ${kib(s.young)} + rest of V8 heap ${kib(s.heapRest)} + outside it ${kib(s.outside)}`,
      );
    }
  }
  console.log('| impl | RSS/conn (median) | lowest–highest | heap/conn (median) | lowest–highest | external/conn |');
  console.log('|---|--:|--:|--:|--:|--:|');
  const med = {};
  for (const impl of impls) {
    const xs = samples[impl];
    const col = (k) => xs.map((s) => s[k]);
    med[impl] = { rss: median(col('rss')), heap: median(col('heap')) };
    const lh = (k) => `${kib(Math.min(...col(k)))}–${kib(Math.max(...col(k)))}`;
    console.log(`| ${impl} | ${kib(med[impl].rss)} | ${lh('rss')} | ${kib(med[impl].heap)} | ${lh('heap')} | ${median(col('external')).toFixed(0)} B |`);
  }
  console.log('');
  console.log('Where the RSS per connection is (medians; V8 heap spaces as committed, after the same GCs):');
  console.log('');
  console.log('| impl | V8 young generation | rest of the V8 heap | outside the V8 heap (Node, libuv, malloc) |');
  console.log('|---|--:|--:|--:|');
  for (const impl of impls) {
    const m = (k) => kib(median(samples[impl].map((s) => s[k])));
    console.log(`| ${impl} | ${m('young')} | ${m('heapRest')} | ${m('outside')} |`);
  }
  console.log('');
  for (const other of ['base', 'ws', 'net', 'handle']) {
    if (!med.weft || !med[other]) continue;
    const paired = samples.weft.map((s, i) => s.rss / samples[other][i].rss);
    console.log(
      `weft/${other}: RSS ${(med.weft.rss / med[other].rss).toFixed(3)} (rounds ${Math.min(...paired).toFixed(2)}–${Math.max(...paired).toFixed(2)}),` +
        ` heap ${(med.weft.heap / med[other].heap).toFixed(3)}`,
    );
  }
}

// ---- --breakdown: heap snapshots ----

/** The parts of a V8 heap snapshot this needs, flattened. */
function readSnapshot(file) {
  const snap = JSON.parse(fs.readFileSync(file, 'utf8'));
  const meta = snap.snapshot.meta;
  const nf = meta.node_fields.length;
  const ef = meta.edge_fields.length;
  const N = { type: meta.node_fields.indexOf('type'), name: meta.node_fields.indexOf('name'), id: meta.node_fields.indexOf('id') };
  N.size = meta.node_fields.indexOf('self_size');
  N.edges = meta.node_fields.indexOf('edge_count');
  const E = { type: meta.edge_fields.indexOf('type'), name: meta.edge_fields.indexOf('name_or_index'), to: meta.edge_fields.indexOf('to_node') };
  return { snap, nf, ef, N, E, nodeTypes: meta.node_types[0], edgeTypes: meta.edge_types[0], strings: snap.strings };
}

function idsOf(s) {
  const ids = new Set();
  const nodes = s.snap.nodes;
  for (let i = 0; i < nodes.length; i += s.nf) ids.add(nodes[i + s.N.id]);
  return ids;
}

/** Groups the nodes of `s` whose ids are not in `oldIds` by kind and holder. */
function newObjects(s, oldIds) {
  const { snap, nf, ef, N, E, nodeTypes, edgeTypes, strings } = s;
  const nodes = snap.nodes;
  const edges = snap.edges;
  const count = nodes.length / nf;
  const isNew = new Uint8Array(count);
  for (let n = 0; n < count; n++) if (!oldIds.has(nodes[n * nf + N.id])) isNew[n] = 1;
  const label = (n) => {
    const t = nodeTypes[nodes[n * nf + N.type]];
    const name = strings[nodes[n * nf + N.name]];
    if (t === 'object' || t === 'closure' || t === 'hidden' || t === 'native') return `${t}:${name}`;
    if (t === 'string' || t === 'concatenated string' || t === 'sliced string') return t;
    return `${t}:${name}`;
  };
  // The holder of each new node: the first strong edge to it from another new node (else from any node).
  const holderFrom = new Int32Array(count).fill(-1);
  const holderEdge = new Array(count);
  const fromOld = new Uint8Array(count);
  let e = 0;
  for (let n = 0; n < count; n++) {
    const ne = nodes[n * nf + N.edges];
    for (let k = 0; k < ne; k++, e += ef) {
      const et = edgeTypes[edges[e + E.type]];
      if (et === 'weak' || et === 'shortcut') continue;
      const to = edges[e + E.to] / nf;
      if (!isNew[to]) continue;
      if (holderFrom[to] !== -1 && !(fromOld[to] && isNew[n])) continue;
      const raw = edges[e + E.name];
      holderFrom[to] = n;
      holderEdge[to] = et === 'element' || et === 'hidden' ? `[${raw}]` : String(strings[raw]);
      fromOld[to] = isNew[n] ? 0 : 1;
    }
  }
  // `Owner.field`, walking up through generic holders (plain objects, arrays, property stores).
  const GENERIC = /^(Object|Array|\(object properties\)|\(object elements\)|system \/ .*|)$/;
  const nameOf = (n) => strings[nodes[n * nf + N.name]] || nodeTypes[nodes[n * nf + N.type]];
  const holderPath = (n) => {
    let text = '';
    for (let depth = 0; depth < 4; depth++) {
      const from = holderFrom[n];
      if (from === -1) return text === '' ? '(root)' : text;
      const edgeName = /^\[\d+\]$/.test(holderEdge[n]) ? '[i]' : holderEdge[n];
      text = `${edgeName}${text === '' ? '' : '.'}${text}`;
      if (!GENERIC.test(nameOf(from)) || fromOld[n]) return `${fromOld[n] ? '(old) ' : ''}${nameOf(from)}.${text}`;
      n = from;
    }
    return `….${text}`;
  };
  const groups = new Map();
  for (let n = 0; n < count; n++) {
    if (!isNew[n]) continue;
    const via = holderPath(n);
    const kind = label(n);
    // A class instance is one row whatever holds it; a plain object, array or closure is told apart by its holder.
    const named = /^object:/.test(kind) && !GENERIC.test(kind.slice(7));
    const key = named ? kind : `${kind}\u0000${via}`;
    let g = groups.get(key);
    if (g === undefined) groups.set(key, (g = { kind, via: new Map(), count: 0, bytes: 0 }));
    g.count++;
    g.bytes += nodes[n * nf + N.size];
    g.via.set(via, (g.via.get(via) || 0) + 1);
  }
  for (const g of groups.values()) g.via = [...g.via.entries()].sort((a, b) => b[1] - a[1])[0][0];
  return groups;
}

async function breakdown() {
  const conns = Number(args.conns || 2000);
  const impl = String(args.impl || 'weft');
  const top = Number(args.top || 40);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'weft-idle-'));
  const f0 = path.join(dir, 'before.heapsnapshot');
  const f1 = path.join(dir, 'after.heapsnapshot');
  const server = await startServer(impl);
  let mem0;
  let mem1;
  try {
    // One connection first, closed again: code compiled and pools filled on the first connection are
    // then in the "before" snapshot and not counted as per-connection state.
    await P.runLoadgen(['--mode=idle', '--conns=1', `--port=${server.port}`, '--max-time=30']);
    await new Promise((r) => setTimeout(r, 200));
    mem0 = await server.request('mem');
    await server.request('snapshot', { file: f0 });
    await P.runLoadgen(['--mode=idle', `--conns=${conns}`, `--port=${server.port}`, '--max-time=300'], async (ev) => {
      if (ev.event !== 'ready') return;
      mem1 = await server.request('mem');
      const r = await server.request('snapshot', { file: f1 });
      if (r.clients !== conns) throw new Error(`server held ${r.clients} of ${conns} clients`);
    });
  } finally {
    await server.stop();
  }
  const s0 = readSnapshot(f0);
  const oldIds = idsOf(s0);
  s0.snap = null;
  const groups = [...newObjects(readSnapshot(f1), oldIds).values()];
  fs.rmSync(dir, { recursive: true, force: true });
  groups.sort((a, b) => b.bytes - a.bytes);
  let total = 0;
  let totalCount = 0;
  for (const g of groups) {
    total += g.bytes;
    totalCount += g.count;
  }
  console.log(`${impl}: what ${conns} idle server connections retain (new heap objects after GC), per connection`);
  console.log(`heapUsed/conn ${kib((mem1.heapUsed - mem0.heapUsed) / conns)}, RSS/conn ${kib((mem1.rss - mem0.rss) / conns)};` +
    ` snapshot: ${(totalCount / conns).toFixed(1)} objects, ${(total / conns).toFixed(0)} B shallow`);
  console.log('| objects/conn | bytes/conn | kind | held by |');
  console.log('|--:|--:|---|---|');
  for (const g of groups.slice(0, top)) {
    console.log(`| ${(g.count / conns).toFixed(2)} | ${(g.bytes / conns).toFixed(0)} | ${g.kind} | ${g.via.replace(/\|/g, '\\|')} |`);
  }
  const rest = groups.slice(top);
  if (rest.length > 0) {
    const b = rest.reduce((a, g) => a + g.bytes, 0);
    const c = rest.reduce((a, g) => a + g.count, 0);
    console.log(`| ${(c / conns).toFixed(2)} | ${(b / conns).toFixed(0)} | (${rest.length} other kinds) | |`);
  }
}

async function main() {
  P.buildLoadgen();
  if (args.breakdown) await breakdown();
  else await measure();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
