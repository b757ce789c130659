'use strict';
/**
 * The transport under the echo, alone: a raw echo (no WebSocket, no framing) served over
 *   (a) net.Socket — 'data' + write(), Node's stream layer
 *   (b) the adopted libuv handle — lib/transport/tcp-handle.ts, read: 'copy' (the default: one shared
 *       256 KiB read buffer, each read copied out) and 'alloc' (Node's own 64 KiB buffer per read);
 *       --variants=…,copy64 adds 'copy' with a 64 KiB shared buffer, …,view the zero-copy view
 * driven by the C load generator with the independent pacing (`--pacing=threads --raw`: one blocking
 * thread per connection, one message in flight, the next sent the moment its echo is back), so that
 * the server reads about one message per read syscall: the per-read and per-write cost is what shows.
 *
 *   npm run build && node bench/transport.js [--sizes=32,1024,65536] [--rounds=5] [--conns=50]
 *                                           [--window=1] [--warmup=0.3] [--variants=stream,copy,alloc,copy64,view]
 *
 * Figures: the server's CPU (user + system, process.cpuUsage over the window) per echoed message, the
 * median over rounds with the lowest and highest; rounds are interleaved (stream, copy, alloc, stream,
 * …) and each handle/stream ratio is taken against the stream run next to it in the same round, so a
 * noisy neighbour moves both. Read syscalls per message (/proc/self/io) and messages per wakeup show
 * whether the two sides did the same I/O. Nothing here asserts timings.
 */
const P = require('./lib/proc');
const { median } = require('./lib/report');

const args = {};
for (const a of process.argv.slice(2)) {
  const m = /^--([^=]+)(?:=(.*))?$/.exec(a);
  if (m) args[m[1]] = m[2] === undefined ? true : m[2];
}
const sizes = String(args.sizes || '32,1024,65536').split(',').map(Number);
const rounds = Number(args.rounds || 5);
const conns = Number(args.conns || 50);
const window = Number(args.window || 1);
const warmup = Number(args.warmup || 0.3);
const VARIANTS = {
  stream: { title: 'net.Socket', serverArgs: ['--transport=stream'] },
  copy: { title: "handle, read: 'copy'", serverArgs: ['--transport=handle', '--read=copy'] },
  copy64: { title: "handle, read: 'copy', 64 KiB read buffer", serverArgs: ['--transport=handle', '--read=copy', '--read-buffer=65536'] },
  alloc: { title: "handle, read: 'alloc'", serverArgs: ['--transport=handle', '--read=alloc'] },
  view: { title: "handle, read: 'view' (write() copies the view)", serverArgs: ['--transport=handle', '--read=view'] },
};
const variants = String(args.variants || 'stream,copy,alloc').split(',');
for (const v of variants) if (!VARIANTS[v]) throw new Error(`unknown variant ${v}`);
if (variants[0] !== 'stream') throw new Error('the first variant is the reference: stream');

const log = (...a) => console.error(...a);

async function measure(server, size) {
  const box = {};
  const lg = await P.runLoadgen(
    ['--mode=echo', '--pacing=threads', '--raw', `--conns=${conns}`, `--size=${size}`, `--port=${server.port}`, `--warmup=${warmup}`, `--duration=${window}`, `--max-time=${warmup + window + 60}`],
    async (ev) => {
      if (ev.event === 'start') box.start = await server.request('start');
      else if (ev.event === 'end') box.win = await server.request('stop');
    },
  );
  const win = box.win;
  if (!win || win.error || lg.errors) return { failed: (win && win.error) || lg.first_error || 'no window' };
  const msgs = win.ops / size; // the server counts echoed bytes
  if (!msgs) return { failed: 'no messages' };
  return {
    cpuUs: win.cpuUs / msgs,
    userUs: win.userUs / msgs,
    sysUs: win.systemUs / msgs,
    readsPerMsg: win.reads / msgs,
    faultsPerMsg: win.faults / msgs,
    msgsPerWakeup: win.sleeps > 0 ? msgs / win.sleeps : NaN,
    msgsPerS: lg.msg_per_s,
    p50Us: lg.p50_us,
    lgCpuPct: lg.cpu_pct,
  };
}

const fmt = (x, d = 2) => (Number.isFinite(x) ? x.toFixed(d) : '—');

async function main() {
  P.buildLoadgen(log);
  const servers = {};
  for (const v of variants) servers[v] = await P.startServer('transport-echo', v, VARIANTS[v].serverArgs);
  const results = {};
  const estimate = sizes.length * rounds * variants.length * (warmup + window + 0.4);
  log(`bench/transport: ${sizes.join(', ')} B × ${rounds} rounds × ${variants.join('/')}, ${conns} connections — about ${Math.round(estimate)} s`);
  try {
    for (const size of sizes) {
      results[size] = Object.fromEntries(variants.map((v) => [v, []]));
      for (let r = 0; r < rounds; r++) {
        for (const v of variants) {
          const s = await measure(servers[v], size);
          results[size][v].push(s);
          if (s.failed) log(`  ${size} B ${v} round ${r + 1}: failed: ${s.failed}`);
        }
      }
    }
  } finally {
    for (const v of variants) await servers[v].stop();
  }

  console.log(`\nNode ${process.version} · ${require('os').cpus()[0].model} (${require('os').cpus().length} cores) · raw echo, --pacing=threads, ${conns} connections, ${rounds} interleaved rounds of ${warmup} s warmup + ${window} s\n`);
  console.log('| size | transport | server CPU/msg (median, lowest–highest) | vs net.Socket (median of paired rounds, range) | user / system per msg | reads/msg | faults/msg | msgs/wakeup | msgs/s | p50 | loadgen CPU |');
  console.log('|--:|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|');
  const json = {};
  for (const size of sizes) {
    json[size] = {};
    const ref = results[size].stream;
    for (const v of variants) {
      const ok = results[size][v].filter((s) => !s.failed);
      const cpu = ok.map((s) => s.cpuUs);
      const paired = results[size][v]
        .map((s, i) => (s.failed || ref[i].failed ? NaN : s.cpuUs / ref[i].cpuUs))
        .filter(Number.isFinite);
      const m = (k) => median(ok.map((s) => s[k]));
      json[size][v] = { cpuUs: cpu, ratio: paired };
      const ratioCell = v === 'stream' ? '1' : `**${fmt(median(paired))}** (${fmt(Math.min(...paired))}–${fmt(Math.max(...paired))})`;
      console.log(
        `| ${size} B | ${VARIANTS[v].title} | ${fmt(median(cpu))} µs (${fmt(Math.min(...cpu))}–${fmt(Math.max(...cpu))}) | ${ratioCell} | ${fmt(m('userUs'))} / ${fmt(m('sysUs'))} µs | ${fmt(m('readsPerMsg'))} | ${fmt(m('faultsPerMsg'))} | ${fmt(m('msgsPerWakeup'))} | ${fmt(m('msgsPerS') / 1000, 1)}k | ${fmt(m('p50Us'), 0)} µs | ${fmt(m('lgCpuPct'), 0)}% |`,
      );
    }
  }
  if (args.json) console.log(JSON.stringify(json));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
