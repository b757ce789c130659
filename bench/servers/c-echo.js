'use strict';
/**
 * The C floor for the echo rows: the load generator's own epoll WebSocket echo server
 * (`loadgen --mode=server`, bench/loadgen/server.c), behind the same IPC protocol as the Node servers.
 *
 *   node bench/servers/c-echo.js        (bench/.build/loadgen must exist: run.js builds it)
 *
 * This process only relays: it starts the C server, passes its port on, and at the window edges reads
 * the C server's counters from /proc — the figures are the child's, never this process's own:
 *
 *   CPU         /proc/<pid>/task/<tid>/schedstat, first field (time on CPU in ns), summed over threads.
 *               /proc/<pid>/stat's utime/stime count 10 ms ticks, too coarse for a 1 s window at a
 *               fraction of a core; they are used only for the split, i.e. the system share.
 *   reads       /proc/<pid>/io syscr (read-type syscalls, like /proc/self/io for the Node servers)
 *   sleeps      voluntary_ctxt_switches of /proc/<pid>/task/<tid>/status, summed (each thread's own)
 *   faults      /proc/<pid>/stat minflt (the whole process)
 *
 * The C server counts no messages. Its 'stop' reply says so (ops: null, opsFrom: 'loadgen'), and
 * bench/run.js takes the load generator's message count for the window instead (see measureServer).
 *
 * What the C server does (and does not): frame by frame as bytes arrive, one thread, epoll, up to 8
 * reads of 256 KiB per ready connection then one write of everything it owes that connection; a header
 * is echoed as soon as it is parsed and payload bytes are unmasked straight into the output buffer, so
 * a 1 MiB message is never held whole. It validates no UTF-8 in text frames and negotiates no
 * extension (no compressed rows).
 */
const fs = require('fs');
const path = require('path');
const { spawn } = require('child_process');
const { parseArgs, serve } = require('./common');

const args = parseArgs(process.argv.slice(2));
const LOADGEN = path.join(__dirname, '..', '.build', 'loadgen');

function read(file) {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return null; // a thread that ended between readdir and read, or no /proc
  }
}

function tasks(pid) {
  try {
    return fs.readdirSync(`/proc/${pid}/task`);
  } catch {
    return [];
  }
}

/** /proc/<pid>/stat fields after the command name: [0] is field 3 of proc(5). */
function statFields(pid) {
  const s = read(`/proc/${pid}/stat`);
  return s === null ? null : s.slice(s.lastIndexOf(')') + 2).split(' ');
}

/** Time on CPU of all the process's threads, in µs (schedstat: ns, exact), or NaN. */
function cpuUs(pid) {
  let ns = 0;
  let seen = 0;
  for (const tid of tasks(pid)) {
    const s = read(`/proc/${pid}/task/${tid}/schedstat`);
    if (s === null) continue;
    ns += Number(s.split(' ')[0]);
    seen++;
  }
  return seen ? ns / 1000 : NaN;
}

/** Everything but the CPU time: read at the window edges, outside the CPU readings. */
function counters(pid) {
  const f = statFields(pid);
  const io = read(`/proc/${pid}/io`);
  const syscr = io && /^syscr:\s*(\d+)/m.exec(io);
  let sleeps = 0;
  for (const tid of tasks(pid)) {
    const st = read(`/proc/${pid}/task/${tid}/status`);
    const m = st && /^voluntary_ctxt_switches:\s*(\d+)/m.exec(st);
    if (m) sleeps += Number(m[1]);
  }
  return {
    utime: f ? Number(f[11]) : NaN, // fields 14 and 15 of proc(5), clock ticks
    stime: f ? Number(f[12]) : NaN,
    faults: f ? Number(f[7]) : NaN, // field 10, minflt
    reads: syscr ? Number(syscr[1]) : NaN,
    sleeps,
  };
}

/** The C server's counters over a window (common.js serve()'s meter protocol). */
function childMeter(pid) {
  let c0 = null;
  let cpu0 = 0;
  return {
    start() {
      c0 = counters(pid);
      cpu0 = cpuUs(pid);
    },
    stop() {
      const cpu = cpuUs(pid) - cpu0;
      const c1 = counters(pid);
      const ticks = c1.utime - c0.utime + (c1.stime - c0.stime);
      // The ticks only split the exact total: at 10 ms each, a 1 s window at half a core has ~50.
      const systemUs = ticks > 0 ? (cpu * (c1.stime - c0.stime)) / ticks : NaN;
      return {
        cpuUs: cpu,
        userUs: cpu - systemUs,
        systemUs,
        reads: c1.reads - c0.reads,
        sleeps: c1.sleeps - c0.sleeps,
        faults: c1.faults - c0.faults,
        // The C server counts no messages: run.js takes the load generator's count (measureServer).
        ops: null,
        opsFrom: 'loadgen',
      };
    },
  };
}

if (args.deflate) {
  console.error('c-echo: the C server negotiates no extension (no --deflate)');
  process.exit(1);
}
if (!fs.existsSync(LOADGEN)) {
  console.error(`c-echo: ${LOADGEN} is missing (bench/run.js builds it: bench/lib/proc.js buildLoadgen())`);
  process.exit(1);
}

// stdin stays an open pipe: the C server exits on its EOF, i.e. when this process goes away.
const child = spawn(LOADGEN, ['--mode=server', `--port=${Number(args.port || 0)}`, '--max-time=86400'], {
  stdio: ['pipe', 'pipe', 'inherit'],
});
let closing = false;
child.on('exit', (code, signal) => {
  if (closing) return;
  console.error(`c-echo: the C server exited (${code ?? signal})`);
  process.exit(1);
});

let out = '';
let ready = false;
child.stdout.on('data', (d) => {
  if (ready) return; // nothing else is expected; keep the pipe drained
  out += d;
  const m = /\{"event":"listening","port":(\d+)\}/.exec(out);
  if (!m) return;
  ready = true;
  serve(
    { port: Number(m[1]), impl: 'c', pid: child.pid },
    () => NaN, // connections are the C server's; it does not say how many it holds
    () => {
      closing = true;
      child.kill('SIGTERM');
    },
    childMeter(child.pid),
  );
});
