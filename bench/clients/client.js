'use strict';
/**
 * Client-side rows: a Node WebSocket client (weft or ws) against the fixed C echo server
 * (`loadgen --mode=server`), measuring THIS process's CPU per message.
 *
 *   node bench/clients/client.js --impl=weft|ws|ws-js --port=P --mode=echo
 *        [--conns=50 --inflight=4 --size=32 --text --warmup=0.3 --duration=1.5]
 *   node bench/clients/client.js --impl=... --port=P --mode=connect [--conns=20]
 *
 * The client code is what a user writes (new WebSocket(url); on 'message' send the next one), the
 * same for every implementation. Every echo is checked (type, length, bytes) and timed from its
 * send. Prints {"event":"start"} and {"event":"end"} at the window edges, then one JSON line: messages, msg_per_s, cpu_us (process.cpuUsage over the window),
 * reads (read syscalls), sleeps (voluntary context switches, about one per event-loop wakeup) and
 * faults (minor page faults) over the window, p50_us, p99_us, errors.
 *
 * With --inflight=1 every connection sends its next message as soon as its own echo is back, on its
 * own: the client-side counterpart of the load generator's --pacing=threads.
 */
const { load, parseArgs, readSyscalls } = require('../servers/common');

const args = parseArgs(process.argv.slice(2));
const WebSocket = load(args.impl);
const url = `ws://127.0.0.1:${args.port}/`;
const conns = Number(args.conns || (args.mode === 'connect' ? 20 : 50));
const inflight = Number(args.inflight || 4);
const size = Number(args.size || 32);
const text = !!args.text;
const warmupMs = Number(args.warmup || 0.3) * 1000;
const durationMs = Number(args.duration || 1.5) * 1000;
const POOL = 8;

let measuring = false;
let sending = false;
let messages = 0;
let errors = 0;
let firstError = '';
const samples = new Float64Array(1 << 22); // latencies in ms; fixed, allocated once
let nsamples = 0;

function error(what) {
  if (errors++ === 0) firstError = String(what);
}

function record(ms) {
  if (nsamples < samples.length) samples[nsamples++] = ms;
}

function makePayload() {
  const b = Buffer.allocUnsafe(size);
  for (let i = 0; i < size; i++) b[i] = text ? 32 + ((Math.random() * 95) | 0) : (Math.random() * 256) | 0;
  return b;
}

function pct(sorted, p) {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))];
}

let cpu0;
let t0 = 0;
let reads0 = 0;
let sleeps0 = 0;
let faults0 = 0;
let result = null;

function startWindow() {
  measuring = true;
  messages = 0;
  nsamples = 0;
  t0 = performance.now();
  reads0 = readSyscalls();
  const ru = process.resourceUsage();
  sleeps0 = ru.voluntaryContextSwitches;
  faults0 = ru.minorPageFault;
  cpu0 = process.cpuUsage();
  event('start');
}

/** Window edges go to stdout at once, so the harness can read the C server's CPU at the same moments. */
function event(name) {
  process.stdout.write(`{"event":"${name}"}\n`);
}

function endWindow() {
  const cpu = process.cpuUsage(cpu0);
  const secs = (performance.now() - t0) / 1000;
  const ru = process.resourceUsage();
  const sleeps = ru.voluntaryContextSwitches - sleeps0;
  const faults = ru.minorPageFault - faults0;
  const reads = readSyscalls() - reads0;
  measuring = false;
  sending = false;
  event('end');
  const lat = samples.slice(0, nsamples).sort();
  result = {
    impl: args.impl,
    mode: args.mode,
    seconds: secs,
    messages,
    msg_per_s: messages / secs,
    cpu_us: cpu.user + cpu.system,
    reads,
    sleeps,
    faults,
    cpu_pct: ((cpu.user + cpu.system) / 1e6 / secs) * 100,
    p50_us: pct(lat, 0.5) * 1000,
    p99_us: pct(lat, 0.99) * 1000,
    errors,
    first_error: firstError,
  };
}

function finish(sockets) {
  for (const ws of sockets) if (ws && ws.readyState === WebSocket.OPEN) ws.close();
  if (!result) endWindow();
  result.errors = errors;
  result.first_error = firstError;
  process.stdout.write(JSON.stringify(result) + '\n', () => process.exit(0));
}

function runEcho() {
  const payloads = Array.from({ length: POOL }, makePayload);
  const sockets = [];
  let opened = 0;
  let outstanding = 0;

  function connect(i) {
    const ws = new WebSocket(url);
    const sentAt = new Float64Array(inflight); // send time per message in flight (FIFO by seq)
    let sendSeq = 0;
    let recvSeq = 0;
    const sendOne = () => {
      sentAt[sendSeq % inflight] = performance.now();
      ws.send(payloads[sendSeq % POOL], { binary: !text });
      sendSeq++;
      outstanding++;
    };
    ws.on('open', () => {
      if (++opened === conns) begin();
    });
    ws.on('message', (data, isBinary) => {
      const seq = recvSeq++;
      outstanding--;
      if (isBinary === text || !payloads[seq % POOL].equals(data)) error('echo differs');
      if (measuring) {
        messages++;
        record(performance.now() - sentAt[seq % inflight]);
      }
      if (sending) sendOne();
    });
    ws.on('error', error);
    ws.on('close', () => {
      if (sending) error('closed during the run');
    });
    ws.sendOne = sendOne;
    sockets[i] = ws;
  }

  function begin() {
    sending = true;
    for (const ws of sockets) for (let k = 0; k < inflight; k++) ws.sendOne();
    setTimeout(() => {
      startWindow();
      setTimeout(() => {
        endWindow();
        const deadline = Date.now() + 10000;
        const wait = () => (outstanding === 0 || Date.now() > deadline ? finish(sockets) : setTimeout(wait, 5));
        wait();
      }, durationMs);
    }, warmupMs);
  }

  for (let i = 0; i < conns; i++) connect(i);
}

function runConnect() {
  const live = new Set();
  function cycle() {
    const t = performance.now();
    const ws = new WebSocket(url);
    live.add(ws);
    ws.on('open', () => ws.close());
    ws.on('error', error);
    ws.on('close', (code) => {
      live.delete(ws);
      if (code !== 1000 && code !== 1005) error(`close code ${code}`); // close() sends no code: 1005
      if (measuring) {
        messages++;
        record(performance.now() - t);
      }
      if (sending) cycle();
    });
  }
  sending = true;
  for (let i = 0; i < conns; i++) cycle();
  setTimeout(() => {
    startWindow();
    setTimeout(() => {
      endWindow();
      const deadline = Date.now() + 5000;
      const wait = () => (live.size === 0 || Date.now() > deadline ? finish([...live]) : setTimeout(wait, 5));
      wait();
    }, durationMs);
  }, warmupMs);
}

// Hard stop: a stuck run must end by itself.
setTimeout(() => {
  error('client timed out');
  finish([]);
}, warmupMs + durationMs + 30000).unref();

if (args.mode === 'connect') runConnect();
else runEcho();
