'use strict';
/**
 * Medians, the Markdown tables and the SVG chart of weft/ws ratios. Pure functions of the samples
 * collected by run.js, so a table can be re-rendered from bench/results/latest.json.
 */

const { FLOORS } = require('./workloads');

function median(xs) {
  const v = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return NaN;
  const m = v.length >> 1;
  return v.length % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
}

/** Median of every numeric field over one implementation's samples of one row. */
function summarize(samples) {
  const ok = samples.filter((s) => s && !s.failed);
  if (ok.length === 0) {
    const why = samples.find((s) => s && s.failed);
    return { n: 0, failed: why ? why.failed : 'not run' };
  }
  const out = { n: ok.length, errors: 0 };
  for (const key of Object.keys(ok[0])) {
    if (typeof ok[0][key] === 'number') out[key] = median(ok.map((s) => s[key]));
  }
  out.errors = ok.reduce((a, s) => a + (s.errors || 0), 0);
  out.firstError = (ok.find((s) => s.firstError) || {}).firstError || '';
  return out;
}

function fmtUs(us) {
  if (!Number.isFinite(us)) return 'n/a';
  if (us >= 10000) return `${(us / 1000).toFixed(1)} ms`;
  if (us >= 1000) return `${(us / 1000).toFixed(2)} ms`;
  if (us >= 100) return `${us.toFixed(0)} µs`;
  if (us >= 10) return `${us.toFixed(1)} µs`;
  return `${us.toFixed(2)} µs`;
}

function fmtRate(x) {
  if (!Number.isFinite(x)) return 'n/a';
  if (x >= 1e6) return `${(x / 1e6).toFixed(2)}M`;
  if (x >= 1e4) return `${(x / 1e3).toFixed(0)}k`;
  if (x >= 1e3) return `${(x / 1e3).toFixed(1)}k`;
  return x.toFixed(0);
}

function fmtBytes(b) {
  if (!Number.isFinite(b)) return 'n/a';
  if (Math.abs(b) >= 1024 * 1024) return `${(b / 1024 / 1024).toFixed(1)} MiB`;
  return `${(b / 1024).toFixed(2)} KiB`;
}

function ratio(a, b) {
  return Number.isFinite(a) && Number.isFinite(b) && b > 0 ? a / b : NaN;
}

function fmtRatio(r) {
  return Number.isFinite(r) ? r.toFixed(2) : 'n/a';
}

/** A cell for one implementation's figure, or why it is missing. */
function cell(sum, key, fmt) {
  if (!sum) return '—';
  if (sum.n === 0) return 'n/a';
  return fmt(sum[key]) + (sum.errors ? ' (!)' : '');
}

/** Ratios weft/ws (and weft/ws-js) per row, for the chart and the JSON record. */
function ratios(row, sums) {
  if (row.kind === 'memory') {
    return {
      rss: ratio(sums.weft?.rssPerConn, sums.ws?.rssPerConn),
      heap: ratio(sums.weft?.heapPerConn, sums.ws?.heapPerConn),
    };
  }
  return {
    cpu: ratio(sums.weft?.cpuPerOpUs, sums.ws?.cpuPerOpUs),
    cpuJs: ratio(sums.weft?.cpuPerOpUs, sums['ws-js']?.cpuPerOpUs),
    // The C floor against ws: about how low weft/ws could go if weft cost nothing beyond its syscalls.
    cFloor: ratio(sums.c?.cpuPerOpUs, sums.ws?.cpuPerOpUs),
  };
}

/**
 * Range of the per-round ratios weft/ws (round i of weft against round i of ws, measured moments
 * apart): how far one round can be trusted, beside the ratio of medians.
 */
function pairedRange(entry, key, other = 'ws') {
  const a = entry.samples?.weft || [];
  const b = entry.samples?.[other] || [];
  const rs = [];
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const r = ratio(a[i] && a[i][key], b[i] && b[i][key]);
    if (Number.isFinite(r)) rs.push(r);
  }
  if (rs.length < 2) return '';
  return ` (${Math.min(...rs).toFixed(2)}–${Math.max(...rs).toFixed(2)})`;
}

function cpuTable(rows, results, peerTitle) {
  const head =
    `| workload | weft CPU/op | ws CPU/op | **weft/ws** | ws-js CPU/op | weft/ws-js | net.Socket floor CPU/op | C epoll floor CPU/op | C floor/ws ` +
    `| weft ops/s | ws ops/s | weft p50 / p99 | ws p50 / p99 | ${peerTitle} (weft / ws runs) |\n` +
    '|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n';
  const lines = rows.map((row) => {
    const s = results[row.name].sums;
    const r = ratios(row, s);
    const lat = (x) => (x && x.n ? `${fmtUs(x.p50Us)} / ${fmtUs(x.p99Us)}` : x ? 'n/a' : '—');
    const peer = (x) => (x && x.n ? `${x.peerCpuPct.toFixed(0)}%` : '—');
    return (
      `| ${row.label} (per ${row.unit}) | ${cell(s.weft, 'cpuPerOpUs', fmtUs)} | ${cell(s.ws, 'cpuPerOpUs', fmtUs)} ` +
      `| **${fmtRatio(r.cpu)}**${pairedRange(results[row.name], 'cpuPerOpUs')} | ${cell(s['ws-js'], 'cpuPerOpUs', fmtUs)} | ${s['ws-js'] ? fmtRatio(r.cpuJs) : '—'} ` +
      `| ${cell(s.net, 'cpuPerOpUs', fmtUs)} | ${cell(s.c, 'cpuPerOpUs', fmtUs)} | ${s.c ? fmtRatio(r.cFloor) : '—'} ` +
      `| ${cell(s.weft, 'opsPerS', fmtRate)} | ${cell(s.ws, 'opsPerS', fmtRate)} | ${lat(s.weft)} | ${lat(s.ws)} ` +
      `| ${peer(s.weft)} / ${peer(s.ws)} |`
    );
  });
  return head + lines.join('\n') + '\n';
}

/** min–max of one field over an implementation's rounds, with the median in the middle. */
function span(samples, key, fmt) {
  const v = (samples || []).filter((x) => x && !x.failed).map((x) => x[key]).filter(Number.isFinite);
  if (v.length === 0) return 'n/a';
  v.sort((a, b) => a - b);
  if (v.length === 1) return fmt(v[0]);
  return `${fmt(v[0])} · **${fmt(median(v))}** · ${fmt(v[v.length - 1])}`;
}

/** min–max of one field over the rounds ('—' when never measured, e.g. client rows). */
function range(samples, key, fmt) {
  const v = (samples || []).filter((x) => x && !x.failed).map((x) => x[key]).filter(Number.isFinite);
  if (v.length === 0) return '—';
  const lo = Math.min(...v);
  const hi = Math.max(...v);
  return lo === hi ? fmt(lo) : `${fmt(lo)}–${fmt(hi)}`;
}
const pct = (x) => `${Math.round(x * 100)}%`;
const kib = (x) => `${Math.round(x / 1024)} KiB`;
const int = (x) => String(Math.round(x));

/**
 * Rows marked `spread`: every implementation's spread over the rounds (lowest · median · highest),
 * and how the work arrived: read syscalls per operation and operations per wakeup (the measured
 * process's voluntary context switches, about one per event-loop sleep) — one message per read and per
 * wakeup is the independent pacing's worst case for Node. Server rows add the system share of the CPU and
 * a look at the server's sockets mid-window (`ss`): the median receive buffer and how many sockets hold
 * unread data — a slow round with small buffers and full queues is TCP flow control, not the library.
 */
function spreadTable(rows, results) {
  const head =
    '| workload | impl | CPU/op (min · **median** · max) | p50 latency (min · **median** · max) | reads/op | ops/wakeup | page faults/op (min–max) | system share of CPU (min–max) | server rcvbuf, median socket (min–max over rounds) | sockets with > 64 KiB unread (min–max) |\n' +
    '|---|---|--:|--:|--:|--:|--:|--:|--:|--:|\n';
  const f1 = (x) => (Number.isFinite(x) ? x.toFixed(1) : 'n/a');
  const lines = [];
  for (const row of rows) {
    const e = results[row.name];
    for (const impl of row.impls) {
      const sum = e.sums[impl];
      if (!sum || sum.n === 0) continue;
      lines.push(
        `| ${row.label} | ${impl} | ${span(e.samples[impl], 'cpuPerOpUs', fmtUs)} | ${span(e.samples[impl], 'p50Us', fmtUs)} ` +
          `| ${f1(sum.readsPerOp)} | ${f1(sum.opsPerWakeup)} | ${range(e.samples[impl], 'faultsPerOp', int)} | ${range(e.samples[impl], 'sysShare', pct)} ` +
          `| ${range(e.samples[impl], 'rcvBufMedian', kib)} | ${range(e.samples[impl], 'fullRecvQ', int)} |`,
      );
    }
  }
  return head + lines.join('\n') + '\n';
}

function memTable(rows, results) {
  const head =
    '| workload | weft RSS/conn | ws RSS/conn | **weft/ws** | weft heap/conn | ws heap/conn | **weft/ws** |\n' +
    '|---|--:|--:|--:|--:|--:|--:|\n';
  const lines = rows.map((row) => {
    const s = results[row.name].sums;
    const r = ratios(row, s);
    return (
      `| ${row.label} | ${cell(s.weft, 'rssPerConn', fmtBytes)} | ${cell(s.ws, 'rssPerConn', fmtBytes)} ` +
      `| **${fmtRatio(r.rss)}**${pairedRange(results[row.name], 'rssPerConn')} | ${cell(s.weft, 'heapPerConn', fmtBytes)} ` +
      `| ${cell(s.ws, 'heapPerConn', fmtBytes)} | **${fmtRatio(r.heap)}**${pairedRange(results[row.name], 'heapPerConn')} |`
    );
  });
  return head + lines.join('\n') + '\n';
}

/** The figures a row is read by, as [key, what, format]: RSS and heap per connection, or CPU per operation. */
function figuresOf(row) {
  if (row.kind === 'memory') return [['rssPerConn', 'RSS/conn', fmtBytes], ['heapPerConn', 'heap/conn', fmtBytes]];
  return [['cpuPerOpUs', `CPU/${row.unit}`, fmtUs]];
}

/**
 * weft against uWebSockets.js (`--impls=...,uws` with UWS_PATH: bench/servers/uws-echo.js), for the rows
 * it ran in: CPU per operation, or RSS and heap per connection for the memory rows; ws beside both.
 */
function uwsTable(rows, results) {
  const head =
    '| workload | weft | uWS.js | **weft/uWS.js** (per round: min–max) | ws | uWS.js/ws |\n' +
    '|---|--:|--:|--:|--:|--:|\n';
  const lines = [];
  for (const row of rows) {
    const e = results[row.name];
    const s = e.sums;
    const keys = figuresOf(row);
    for (const [key, what, fmt] of keys) {
      const vs = ratio(s.weft?.[key], s.uws?.[key]);
      lines.push(
        `| ${row.label} (${what}) | ${cell(s.weft, key, fmt)} | ${cell(s.uws, key, fmt)} | **${fmtRatio(vs)}**${pairedRange(e, key, 'uws')} ` +
          `| ${cell(s.ws, key, fmt)} | ${s.ws ? fmtRatio(ratio(s.uws?.[key], s.ws?.[key])) : '—'} |`,
      );
    }
  }
  return head + lines.join('\n') + '\n';
}

/**
 * The connect and idle rows against the floors asked for with --impls (net, handle): what Node's stream
 * layer (net.Socket) and its accept path cost per connection, beside weft and ws.
 */
function floorTable(rows, results) {
  const head =
    '| workload | weft | ws | net.Socket floor | TCP-handle floor | **weft/ws** | net floor/ws | handle floor/ws |\n' +
    '|---|--:|--:|--:|--:|--:|--:|--:|\n';
  const lines = [];
  for (const row of rows) {
    const s = results[row.name].sums;
    const keys = figuresOf(row);
    for (const [key, what, fmt] of keys) {
      const vs = (impl) => (s[impl] ? fmtRatio(ratio(s[impl]?.[key], s.ws?.[key])) : '—');
      lines.push(
        `| ${row.label} (${what}) | ${cell(s.weft, key, fmt)} | ${cell(s.ws, key, fmt)} | ${cell(s.net, key, fmt)} | ${cell(s.handle, key, fmt)} ` +
          `| **${vs('weft')}** | ${vs('net')} | ${vs('handle')} |`,
      );
    }
  }
  return head + lines.join('\n') + '\n';
}

/** Footnotes: why a cell is n/a, and any errors the load generators or clients saw. */
function notes(rows, results) {
  const out = [];
  for (const row of rows) {
    for (const [impl, s] of Object.entries(results[row.name].sums)) {
      if (s.n === 0) out.push(`- ${row.name} / ${impl}: n/a — ${s.failed}`);
      else if (s.errors) out.push(`- ${row.name} / ${impl}: ${s.errors} errors (first: ${s.firstError})`);
      // The other side is one thread: near 100% of a core it, not the measured process, sets the pace.
      if (s.n && s.peerCpuPct > 85) out.push(`- ${row.name} / ${impl}: the other side ran at ${s.peerCpuPct.toFixed(0)}% of a core: it may have been the bottleneck`);
    }
    // Text rows: the floors echo text frames without checking their UTF-8, which weft and ws must do.
    const floors = FLOORS.filter((i) => results[row.name].sums[i]?.n);
    if (floors.length && (row.lg || []).includes('--text')) {
      const which = floors.length > 1 ? 'the floors validate' : 'the floor validates';
      out.push(`- ${row.name} / ${floors.join(', ')}: ${which} no UTF-8: less work per text message than weft and ws do`);
    }
  }
  return out.length ? `\nNotes:\n${out.join('\n')}\n` : '';
}

/** ' (a 1 s warmup for echo-1m, …)': the rows whose warmup was their own (none in records before it existed). */
function rowWarmups(meta) {
  const by = new Map();
  for (const [name, s] of Object.entries(meta.rowWarmup || {})) by.set(s, [...(by.get(s) || []), name]);
  return [...by].map(([s, names]) => ` (a ${s} s warmup for ${names.join(', ')})`).join('');
}

/** The whole Markdown report. */
function markdown(meta, rows, results) {
  const by = (k) => rows.filter((r) => results[r.name] && r.kind === k);
  let md = `# weft vs ws — benchmark\n\n`;
  md += `${meta.date} · ${meta.commit} · Node ${meta.node} · ${meta.cpu} (${meta.cores} cores) · `;
  md += `${meta.rounds} interleaved rounds, ${meta.warmup} s warmup + ${meta.window} s window each${rowWarmups(meta)} · \`${meta.command}\`\n\n`;
  md += 'Figures are medians over rounds; **ratios below 1 mean weft is cheaper** (in brackets: the lowest and ';
  md += 'highest ratio of one round of weft to the round of ws that ran next to it). CPU/op is the measured ';
  md += "process's user+system CPU over the window divided by the operations it counted. The last column is ";
  md += 'the CPU use of the other side (the C load generator, or the C echo server for client rows): ';
  md += 'at 100% it would be the bottleneck. weft = weft with its defaults (plain TCP on the TCP-handle transport); ';
  md += 'ws = ws 8.23 + bufferutil (+ buffer.isUtf8); ';
  md += 'ws-js = ws with `WS_NO_BUFFER_UTIL=1 WS_NO_UTF_8_VALIDATE=1`; net.Socket floor = a bare `net.Socket` echo with no library (`bench/servers/net-echo.js`); ';
  md += 'C epoll floor = the C echo server (`bench/loadgen/server.c`, one epoll thread, no UTF-8 validation; its CPU from `/proc`, ';
  md += "its ops the load generator's count), and C floor/ws its CPU/op ÷ ws's: roughly the lowest weft/ws a server making the same syscalls could reach; ";
  if (meta.referenceRounds !== undefined && meta.referenceRounds < meta.rounds) {
    md += `ws-js and the two floors are reference columns, measured in the first ${meta.referenceRounds} rounds only; `;
  }
  md += '"—" = not run for that row, ';
  md += '"(!)" = errors, see notes.\n';
  if (by('server').length) md += `\n## Server side (server CPU per operation)\n\n${cpuTable(by('server'), results, 'loadgen CPU')}`;
  if (by('client').length) md += `\n## Client side (client CPU per operation, against a fixed C echo server)\n\n${cpuTable(by('client'), results, 'C server CPU')}`;
  if (by('memory').length) md += `\n## Memory per connection (server, after GC)\n\n${memTable(by('memory'), results)}`;
  const uws = rows.filter((r) => results[r.name]?.sums.uws);
  if (uws.length) {
    md += '\n## Against uWebSockets.js (reference)\n\n';
    md += 'uWS.js = the uWebSockets.js build named by `UWS_PATH` (`bench/servers/uws-echo.js`: the same echo, ';
    md += "its payload and backpressure limits raised past the rows' sizes, idle timeout off); in the server and ";
    md += 'memory tables above it has no column. Ratios below 1 mean weft is cheaper.\n\n';
    md += uwsTable(uws, results);
  }
  const floored = rows.filter((r) => results[r.name] && r.onRequest && r.onRequest.some((i) => results[r.name].sums[i]));
  if (floored.length) {
    md += "\n## Below Node's stream layer (connect and idle floors, reference)\n\n";
    md += 'net.Socket floor as above; TCP-handle floor = the same bare echo on Node\'s TCP handles, with no net.Server, ';
    md += 'net.Socket or http.Server (`bench/servers/handle-echo.js`, Node internals, a reference only). ';
    md += 'Run only when `--impls` names them.\n\n';
    md += floorTable(floored, results);
  }
  const spread = rows.filter((r) => results[r.name] && r.spread && r.kind !== 'memory');
  if (spread.length) md += `\n## Spread over rounds, reads and wakeups\n\n${spreadTable(spread, results)}`;
  md += notes(rows.filter((r) => results[r.name]), results);
  return md;
}

function esc(s) {
  return String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;');
}

/** Horizontal bars of weft/ws per row (CPU/op; RSS and heap for memory rows), 1.0 marked. */
function svg(meta, rows, results) {
  const bars = [];
  for (const row of rows) {
    if (!results[row.name]) continue;
    const r = ratios(row, results[row.name].sums);
    if (row.kind === 'memory') {
      bars.push({ label: `${row.name}: RSS/conn`, v: r.rss });
      bars.push({ label: `${row.name}: heap/conn`, v: r.heap });
    } else {
      bars.push({ label: `${row.name}: CPU/${row.unit}`, v: r.cpu });
    }
  }
  const labelW = 240;
  const plotW = 420;
  const rowH = 22;
  const top = 46;
  const max = Math.max(2, ...bars.map((b) => (Number.isFinite(b.v) ? Math.ceil(b.v * 2) / 2 : 0)));
  const x = (v) => labelW + (Math.min(v, max) / max) * plotW;
  const h = top + bars.length * rowH + 30;
  const W = labelW + plotW + 70;
  let out = `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${h}" font-family="sans-serif" font-size="12">\n`;
  out += `<rect width="100%" height="100%" fill="#fff"/>\n`;
  out += `<text x="10" y="18" font-size="14" font-weight="bold">weft / ws — lower is better (1.0 = same as ws; grey = within 2%)</text>\n`;
  out += `<text x="10" y="34" fill="#555">${esc(`${meta.date} · ${meta.commit} · Node ${meta.node} · medians of ${meta.rounds} interleaved rounds`)}</text>\n`;
  for (let t = 0; t <= max + 1e-9; t += 0.5) {
    out += `<line x1="${x(t)}" y1="${top - 4}" x2="${x(t)}" y2="${h - 24}" stroke="${t === 1 ? '#333' : '#ddd'}" stroke-width="${t === 1 ? 1.5 : 1}"/>\n`;
    out += `<text x="${x(t)}" y="${h - 10}" text-anchor="middle" fill="#555">${t.toFixed(1)}</text>\n`;
  }
  bars.forEach((b, i) => {
    const y = top + i * rowH;
    out += `<text x="${labelW - 8}" y="${y + 15}" text-anchor="end">${esc(b.label)}</text>\n`;
    if (!Number.isFinite(b.v)) {
      out += `<text x="${labelW + 4}" y="${y + 15}" fill="#999">n/a</text>\n`;
      return;
    }
    // within ±2% of ws is drawn grey: closer than these machines can tell apart in one run
    const color = b.v < 0.98 ? '#2e7d32' : b.v > 1.02 ? '#c62828' : '#9e9e9e';
    out += `<rect x="${labelW}" y="${y + 4}" width="${Math.max(1, x(b.v) - labelW)}" height="${rowH - 8}" fill="${color}"/>\n`;
    out += `<text x="${x(b.v) + 4}" y="${y + 15}">${b.v.toFixed(2)}${b.v > max ? ' →' : ''}</text>\n`;
  });
  out += '</svg>\n';
  return out;
}

module.exports = { median, summarize, ratios, markdown, svg, fmtUs, fmtRate, fmtBytes, fmtRatio };
