#!/usr/bin/env node
'use strict';
/**
 * weft vs ws, side by side, in one run (how performance is judged: bench/README.md).
 *
 *   npm run bench                  all rows, 5 interleaved rounds (prints an estimate first)
 *   npm run bench:quick            all rows, 2 rounds, shorter windows
 *   node bench/run.js --only=echo-32,connect   rows by name (a prefix works: --only=client, --only=echo)
 *   node bench/run.js --rounds=7 --window=2 --warmup=0.5 --impls=weft,ws
 *   node bench/run.js --large                      the large-message rows, 7 rounds, with their spread
 *   node bench/run.js --large --malloc=fixed       ...with glibc's malloc thresholds fixed (MALLOC_*_THRESHOLD_)
 *                                                   for every measured process: no page-fault-bound rounds
 *   node bench/run.js --only=paced                 the independent pacing (a thread per connection)
 *   node bench/run.js --only=paced --impls=weft,ws,net,c   ...with both floors: net (a bare net.Socket
 *                                                   echo) and c (the C epoll echo server)
 *   node bench/run.js --only=echo-32 --profile     ...then one more weft round under --cpu-prof,
 *                                                   summarised as the top self-time functions
 *   node bench/run.js --only=fanout --publish      weft broadcasts with server.publish() (when it has one)
 *   node bench/run.js --render                     re-render latest.md, ratios.svg and the README table
 *                                                   from bench/results/latest.json (no measuring)
 *
 * For every row, implementations are interleaved A B C A B C ... for R rounds; each cell is the
 * median over rounds; the ratio weft/ws is computed from the medians. Full runs write
 * bench/results/latest.{json,md} and ratios.svg; --only runs write to bench/.build/partial.* so the
 * committed record always holds a whole table. Requires `npm run build` first (npm run bench does).
 */
const { execFileSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');
const P = require('./lib/proc');
const R = require('./lib/report');
const { ROWS, LARGE, overhead } = require('./lib/workloads');
const profile = require('./profile');

/** weft on one transport or the other, whatever its default: measured only when --impls names them. */
const WEFT_VARIANTS = ['weft-stream', 'weft-native', 'weft-accept'];

const BENCH = __dirname;
const ROOT = path.join(BENCH, '..');
const RESULTS = path.join(BENCH, 'results');

// ---- options ----

function parseArgs(argv) {
  const o = {};
  for (const a of argv) {
    const m = /^--([^=]+)(?:=(.*))?$/.exec(a);
    if (!m) throw new Error(`unknown argument ${a}`);
    o[m[1]] = m[2] === undefined ? true : m[2];
  }
  return o;
}

const args = parseArgs(process.argv.slice(2));
if (args.large) {
  // The large-message rows, 7 rounds: their spread between runs is the point (see the Spread table).
  if (!args.only) args.only = LARGE.join(',');
  if (!args.rounds) args.rounds = '7';
}
const quick = !!args.quick;
if (args.malloc === 'fixed') P.setFixedMalloc(true);
else if (args.malloc !== undefined) throw new Error('--malloc takes one value: fixed');
const opt = {
  rounds: args.rounds ? Number(args.rounds) : quick ? 2 : 5,
  window: Number(args.window || 1.0),
  warmup: Number(args.warmup || (quick ? 0.25 : 0.3)),
  impls: args.impls ? String(args.impls).split(',') : null,
};

function selected(row) {
  if (!args.only) return true;
  return String(args.only)
    .split(',')
    .some((t) => row.name === t || row.name.startsWith(`${t}-`));
}

/**
 * The reference columns (ws without bufferutil, the net.Socket and C floors) are not what a ratio is
 * taken of: unless --rounds is given, they run in the first REFERENCE_ROUNDS rounds only, which keeps a
 * whole `npm run bench` well under 10 minutes.
 */
const REFERENCE = new Set(['ws-js', 'net', 'c', 'handle']);
const REFERENCE_ROUNDS = 3;

/**
 * uWebSockets.js (bench/servers/uws-echo.js, from UWS_PATH) runs only when --impls names it, in the plain
 * echo, connect and idle-memory rows: not compressed (its deflate is not ws's), not broadcast, not client.
 */
const takesUws = (row) => row.server === 'echo' && !row.deflate && row.kind !== 'client';

/** The server script of `impl` in `row`: the floors and uWS.js have their own. */
function scriptOf(row, impl) {
  // The floors: 'net', a bare net.Socket echo with no library (bench/servers/net-echo.js), and
  // 'c', the C epoll echo server (bench/loadgen/server.c behind bench/servers/c-echo.js).
  if (impl === 'net') return 'net-echo';
  if (impl === 'handle') return 'handle-echo';
  if (impl === 'c') return 'c-echo';
  if (impl === 'uws') return 'uws-echo';
  return row.server;
}

const rows = ROWS.filter(selected).map((row) => {
  const rounds = args.rounds ? opt.rounds : quick ? Math.min(opt.rounds, row.rounds || opt.rounds) : row.rounds || opt.rounds;
  return {
    ...row,
    // weft-stream (weft on net.Socket's stream layer) and weft-native (the TCP-handle transport asked for
    // explicitly: weft's default) run only when asked for, wherever weft runs.
    impls: opt.impls ? opt.impls.filter((i) => row.impls.includes(i) || (WEFT_VARIANTS.includes(i) && row.impls.includes('weft')) || (i === 'uws' && takesUws(row)) || (row.onRequest || []).includes(i)) : row.impls,
    rounds,
    referenceRounds: args.rounds ? rounds : Math.min(rounds, REFERENCE_ROUNDS),
  };
});

/** How many rounds `impl` runs in `row`. */
const roundsOf = (row, impl) => (REFERENCE.has(impl) ? row.referenceRounds : row.rounds);
if (rows.length === 0) {
  console.error(`no row matches --only=${args.only}; rows: ${ROWS.map((r) => r.name).join(', ')}`);
  process.exit(2);
}

const log = (...a) => console.error(...a);

// ---- one measurement of one implementation ----

/**
 * A row's warmup: --warmup when given, else the row's own (`warmupS`, the 1 MiB rows: their first second
 * is the burst of every connection's first messages and malloc growing its heap, not the steady state the
 * row is about), else the default.
 */
const warmupOf = (row) => (args.warmup || quick ? opt.warmup : (row.warmupS ?? opt.warmup));
const secs = (row) => [`--warmup=${warmupOf(row)}`, `--duration=${opt.window}`, `--max-time=${warmupOf(row) + opt.window + 60}`];

async function measureServer(row, impl, server) {
  const box = {};
  let peek = null;
  const lg = await P.runLoadgen([...row.lg, `--port=${server.port}`, ...secs(row)], async (ev) => {
    if (ev.event === 'start') {
      box.start = await server.request('start');
      // Rows with a spread: one look at the server's sockets mid-window (receive buffers, queues).
      if (row.spread) peek = setTimeout(() => (box.tcp = P.serverSockets(server.port)), (opt.window * 1000) / 2);
    } else if (ev.event === 'end') box.win = await server.request('stop');
  });
  if (peek) clearTimeout(peek);
  const win = box.win;
  if (!win || win.error) return { failed: win ? win.error : `no window (loadgen: ${lg.first_error || 'no start event'})` };
  let ops = win[row.opsField];
  if (win.opsFrom === 'loadgen') {
    // The C floor (servers/c-echo.js) counts nothing itself, so the ops are the load generator's:
    // the echoes it received whole and checked during its window. For an echo that is the same
    // quantity as the messages the server echoed: every message in produces exactly one echo out,
    // so the two counts differ only by the messages in flight at the window edges (at most conns x
    // inflight: 200 at 32 B against ~10^5 in a 1 s window). What differs from a Node server counting
    // its own is that the CPU window (the server's, opened and closed when the harness has heard the
    // loadgen's 'start'/'end' lines and asked over IPC) is not exactly the counting window: on this
    // 2-core VM under load the two lengths differed by -12..+10 ms of 1000, i.e. about 1% either way,
    // well inside the round-to-round spread. Other modes count other things (cycles, deliveries),
    // hence echo rows only (the last --mode= wins: echo() puts '--mode=echo' first).
    const mode = row.lg.filter((a) => a.startsWith('--mode=')).pop();
    if (mode !== '--mode=echo' || row.opsField !== 'ops') return { failed: `${impl} counts no ops and the load generator's count is not this row's` };
    ops = lg.messages;
  }
  if (!ops) return { failed: `server counted no ${row.opsField} (loadgen: ${lg.first_error || 'ok'})` };
  return {
    cpuPerOpUs: win.cpuUs / ops,
    readsPerOp: win.reads / ops,
    faultsPerOp: win.faults / ops,
    opsPerWakeup: win.sleeps > 0 ? ops / win.sleeps : NaN,
    opsPerS: lg.msg_per_s,
    serverOpsPerS: ops / (win.wallMs / 1000),
    p50Us: lg.p50_us,
    p99Us: lg.p99_us,
    peerCpuPct: lg.cpu_pct,
    serverCpuPct: (win.cpuUs / 1000 / win.wallMs) * 100,
    sysShare: win.cpuUs > 0 ? win.systemUs / win.cpuUs : NaN,
    rcvBufMedian: box.tcp ? box.tcp.rcvBufMedian : NaN,
    fullRecvQ: box.tcp ? box.tcp.fullRecvQ : NaN,
    errors: lg.errors,
    firstError: lg.first_error,
  };
}

async function measureMemory(row, impl) {
  const server = await P.startServer(scriptOf(row, impl), impl, row.serverArgs || []);
  try {
    const m0 = await server.request('mem');
    let m1 = null;
    const lg = await P.runLoadgen([...row.lg, `--port=${server.port}`, '--max-time=180'], async (ev) => {
      if (ev.event === 'ready') m1 = await server.request('mem');
    });
    if (!m1 || m1.error) return { failed: `no reading (loadgen: ${lg.first_error || 'never ready'})` };
    if (m1.clients !== row.conns) return { failed: `server held ${m1.clients} of ${row.conns} clients` };
    return {
      rssPerConn: (m1.rss - m0.rss) / row.conns,
      heapPerConn: (m1.heapUsed - m0.heapUsed) / row.conns,
      externalPerConn: (m1.external - m0.external) / row.conns,
      errors: lg.errors,
      firstError: lg.first_error,
    };
  } finally {
    await server.stop();
  }
}

async function measureClient(row, impl, cserver, nodeFlags = []) {
  const box = {};
  const res = await P.runClient(
    impl,
    [`--port=${cserver.port}`, ...secs(row).slice(0, 2), ...row.client],
    async (ev) => {
      box[ev.event] = { cpu: P.procCpuSeconds(cserver.pid), t: performance.now() };
    },
    nodeFlags,
  );
  if (!res.messages) return { failed: `client counted no messages (${res.first_error || 'no error'})` };
  const peer = box.start && box.end ? ((box.end.cpu - box.start.cpu) / ((box.end.t - box.start.t) / 1000)) * 100 : NaN;
  return {
    cpuPerOpUs: res.cpu_us / res.messages,
    readsPerOp: res.reads / res.messages,
    faultsPerOp: res.faults / res.messages,
    opsPerWakeup: res.sleeps > 0 ? res.messages / res.sleeps : NaN,
    opsPerS: res.msg_per_s,
    p50Us: res.p50_us,
    p99Us: res.p99_us,
    peerCpuPct: peer,
    clientCpuPct: res.cpu_pct,
    errors: res.errors,
    firstError: res.first_error,
  };
}

// ---- probes: what weft can do today ----

async function probe() {
  const out = { weftServer: null, weftDeflate: null };
  try {
    const s = await P.startServer('echo', 'weft');
    await s.stop();
  } catch (err) {
    out.weftServer = `weft server does not start: ${String(err.message).split('\n')[0].slice(0, 200)}`;
    out.weftDeflate = out.weftServer;
    return out;
  }
  if (!rows.some((r) => r.deflate)) return out;
  let s;
  try {
    s = await P.startServer('echo', 'weft', ['--deflate']);
    const lg = await P.runLoadgen(['--mode=idle', '--conns=1', '--deflate', `--port=${s.port}`, '--max-time=10']);
    if (lg.errors || !/permessage-deflate/.test(lg.extensions)) {
      out.weftDeflate = `weft server does not negotiate permessage-deflate (${lg.first_error || 'no extension in 101'})`;
    }
  } catch (err) {
    out.weftDeflate = `weft deflate server: ${String(err.message).slice(0, 200)}`;
  } finally {
    if (s) await s.stop();
  }
  return out;
}

// ---- one row ----

function short(s) {
  if (s.failed) return `n/a (${String(s.failed).slice(0, 80)})`;
  if ('rssPerConn' in s) return `RSS ${R.fmtBytes(s.rssPerConn)}/conn heap ${R.fmtBytes(s.heapPerConn)}/conn`;
  const peer = Number.isFinite(s.peerCpuPct) ? ` peer ${s.peerCpuPct.toFixed(0)}%` : '';
  const wake = Number.isFinite(s.opsPerWakeup) ? ` ${s.opsPerWakeup.toFixed(1)} ops/wakeup` : '';
  return `${R.fmtUs(s.cpuPerOpUs)}/op ${R.fmtRate(s.opsPerS)}/s p50 ${R.fmtUs(s.p50Us)}${wake}${peer}${s.errors ? ` errors ${s.errors}: ${s.firstError}` : ''}`;
}

async function runRow(row, ctx) {
  const samples = Object.fromEntries(row.impls.map((i) => [i, []]));
  const unavailable = {};
  if (row.impls.includes('weft')) {
    if (row.kind !== 'client' && ctx.probe.weftServer) unavailable.weft = ctx.probe.weftServer;
    else if (row.deflate && ctx.probe.weftDeflate) unavailable.weft = ctx.probe.weftDeflate;
  }
  const servers = {};
  try {
    if (row.kind === 'server') {
      for (const impl of row.impls) {
        if (unavailable[impl]) continue;
        try {
          // --publish: weft's broadcast server uses server.publish() (ws has none: README loop), on
          // either transport.
          const extra = publishArgs(row, impl);
          servers[impl] = await P.startServer(scriptOf(row, impl), impl, [...(row.serverArgs || []), ...extra]);
          if (extra.length) log(`  ${impl} broadcast server mode: ${servers[impl].info.mode}`);
        } catch (err) {
          unavailable[impl] = String(err.message).split('\n')[0].slice(0, 200);
        }
      }
    }
    for (let round = 0; round < row.rounds; round++) {
      for (const impl of row.impls) {
        if (round >= roundsOf(row, impl)) continue;
        let s;
        if (unavailable[impl]) s = { failed: unavailable[impl] };
        else {
          try {
            if (row.kind === 'server') s = await measureServer(row, impl, servers[impl]);
            else if (row.kind === 'memory') s = await measureMemory(row, impl);
            else s = await measureClient(row, impl, ctx.cserver);
          } catch (err) {
            s = { failed: String(err.message).split('\n')[0].slice(0, 300) };
          }
        }
        samples[impl].push(s);
        if (!unavailable[impl] || round === 0) log(`  [${row.name} ${round + 1}/${roundsOf(row, impl)}] ${impl.padEnd(5)} ${short(s)}`);
      }
    }
  } finally {
    for (const s of Object.values(servers)) await s.stop();
  }
  const sums = Object.fromEntries(Object.entries(samples).map(([i, xs]) => [i, R.summarize(xs)]));
  const ratios = R.ratios(row, sums);
  const r = row.kind === 'memory' ? `RSS ${R.fmtRatio(ratios.rss)} heap ${R.fmtRatio(ratios.heap)}` : R.fmtRatio(ratios.cpu);
  log(`  => ${row.name}: weft/ws ${r}`);
  return { samples, sums, ratios };
}

/** `--publish` for weft's broadcast server (either transport) when the run asks for it. */
function publishArgs(row, impl) {
  return row.server === 'broadcast' && args.publish && (impl === 'weft' || WEFT_VARIANTS.includes(impl)) ? ['--publish'] : [];
}

// ---- profile: one more weft round under --cpu-prof ----

async function runProfile(name, ctx) {
  const row = ROWS.find((r) => r.name === name);
  if (!row || row.kind === 'memory') throw new Error(`--profile needs a server or client row, not ${name}`);
  const dir = path.join(P.BUILD, 'prof');
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  const flags = ['--cpu-prof', `--cpu-prof-dir=${dir}`];
  // --profile-impl=weft-accept (or another weft variant) profiles that one instead.
  const impl = args['profile-impl'] ? String(args['profile-impl']) : 'weft';
  log(`\nprofiling ${impl} on ${name} (one round under --cpu-prof)...`);
  let s;
  if (row.kind === 'server') {
    const server = await P.startServer(row.server, impl, [...(row.serverArgs || []), ...publishArgs(row, impl)], flags);
    try {
      s = await measureServer(row, impl, server);
    } finally {
      await server.stop();
    }
  } else {
    s = await measureClient(row, 'weft', ctx.cserver, flags);
  }
  log(`  ${short(s)} (profiling adds overhead)`);
  const files = fs.readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'));
  if (files.length === 0) throw new Error('no .cpuprofile written');
  const file = path.join(dir, files[0]);
  const md = profile.toMarkdown(profile.summarize(file, 25), `weft, ${name}: top self time (${path.relative(ROOT, file)})`);
  fs.writeFileSync(path.join(dir, `summary-${name}.md`), md);
  console.log(`\n${md}`);
}

// ---- main ----

function meta() {
  let commit = 'unknown';
  try {
    commit = execFileSync('git', ['-C', ROOT, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['-C', ROOT, 'status', '--porcelain', '--untracked-files=no', '--', 'lib', 'index.ts', 'native'], { encoding: 'utf8' }).trim();
    if (dirty) commit += '+dirty';
  } catch {
    /* not a git checkout */
  }
  const cmd = process.argv.slice(2).join(' ');
  return {
    date: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
    commit,
    node: process.versions.node,
    cpu: (os.cpus()[0] || {}).model || 'unknown CPU',
    cores: os.cpus().length,
    rounds: opt.rounds,
    // Rounds of the reference columns (ws-js, net.Socket and C floors), when fewer than a row's.
    referenceRounds: args.rounds ? opt.rounds : Math.min(opt.rounds, REFERENCE_ROUNDS),
    window: opt.window,
    warmup: opt.warmup,
    // Rows measured with a warmup of their own (warmupOf): name -> seconds.
    rowWarmup: Object.fromEntries(rows.filter((r) => warmupOf(r) !== opt.warmup).map((r) => [r.name, warmupOf(r)])),
    command: quick && !args.only ? 'npm run bench:quick' : `npm run bench${cmd ? ` -- ${cmd}` : ''}`,
    malloc: args.malloc === 'fixed' ? 'fixed thresholds (MALLOC_MMAP_THRESHOLD_=32 MiB, MALLOC_TRIM_THRESHOLD_=256 MiB)' : 'glibc defaults',
    ws: require('ws/package.json').version,
    bufferutil: (() => {
      try {
        return require('bufferutil/package.json').version;
      } catch {
        return null;
      }
    })(),
  };
}

/** Puts the latest table and chart into bench/README.md, between its markers. */
function updateReadme(md) {
  const file = path.join(BENCH, 'README.md');
  const text = fs.readFileSync(file, 'utf8');
  const start = '<!-- bench:latest:start -->';
  const end = '<!-- bench:latest:end -->';
  const i = text.indexOf(start);
  const j = text.indexOf(end);
  if (i < 0 || j < i) return;
  const body = md.replace(/^# .*\n\n/, '').replace(/^## /gm, '### ');
  const section = `${start}\n![weft/ws ratios](results/ratios.svg)\n\n${body}${end}`;
  fs.writeFileSync(file, text.slice(0, i) + section + text.slice(j + end.length));
}

/** --render: the tables and the chart again from the recorded samples. */
function render() {
  const record = JSON.parse(fs.readFileSync(path.join(RESULTS, 'latest.json'), 'utf8'));
  const recRows = record.rows.map((r) => ({ ...(ROWS.find((x) => x.name === r.name) || {}), ...r }));
  const results = Object.fromEntries(record.rows.map((r) => [r.name, r]));
  const md = R.markdown(record.meta, recRows, results);
  fs.writeFileSync(path.join(RESULTS, 'latest.md'), md);
  fs.writeFileSync(path.join(RESULTS, 'ratios.svg'), R.svg(record.meta, recRows, results));
  updateReadme(md);
  console.log(md);
}

async function main() {
  if (args.render) return render();
  P.buildLoadgen(log);
  const measurements = (r) => r.impls.reduce((n, impl) => n + roundsOf(r, impl), 0);
  const estimate = rows.reduce((t, r) => t + measurements(r) * (warmupOf(r) + opt.window + overhead(r)), 0);
  log(`bench: ${rows.length} rows, ${opt.rounds} rounds by default, ${opt.warmup}s warmup + ${opt.window}s window;`);
  log(`bench: estimated ${Math.round(estimate)} s (~${(estimate / 60).toFixed(1)} min)`);
  const started = Date.now();
  const ctx = { probe: await probe() };
  if (ctx.probe.weftServer) log(`bench: ${ctx.probe.weftServer} -> weft server columns are n/a`);
  else if (ctx.probe.weftDeflate && rows.some((r) => r.deflate)) log(`bench: ${ctx.probe.weftDeflate} -> compressed rows are n/a for weft`);
  if (rows.some((r) => r.kind === 'client') || String(args.profile || '').startsWith('client')) ctx.cserver = await P.startCServer();
  const results = {};
  try {
    for (const row of rows) {
      log(`\n${row.name}: ${row.label}`);
      results[row.name] = await runRow(row, ctx);
    }
    const m = meta();
    const md = R.markdown(m, rows, results);
    const record = {
      meta: m,
      rows: rows.map(({ name, label, kind, unit, impls, rounds }) => ({ name, label, kind, unit, impls, rounds, ...results[name] })),
    };
    const partial = !!args.only || !!args.impls;
    const dir = partial ? P.BUILD : RESULTS;
    const base = partial ? 'partial' : 'latest';
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, `${base}.json`), JSON.stringify(record, null, 1) + '\n');
    fs.writeFileSync(path.join(dir, `${base}.md`), md);
    fs.writeFileSync(path.join(dir, partial ? 'partial-ratios.svg' : 'ratios.svg'), R.svg(m, rows, results));
    if (!partial) updateReadme(md);
    console.log(`\n${md}`);
    log(`bench: wrote ${path.relative(ROOT, dir)}/${base}.{json,md} and the ratio chart in ${((Date.now() - started) / 1000).toFixed(0)} s`);
    if (args.profile) await runProfile(args.profile === true ? 'echo-32' : String(args.profile), ctx);
  } finally {
    if (ctx.cserver) ctx.cserver.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
