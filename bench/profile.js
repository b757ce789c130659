'use strict';
/**
 * Summarises a V8 .cpuprofile (from `node --cpu-prof`) as the top functions by self time, which is
 * where performance work starts. run.js calls it for `--profile`; it also works alone:
 *
 *   node bench/profile.js bench/.build/prof/<file>.cpuprofile [--top=20]
 *
 * Self time of a node = the sum of the sample intervals (timeDeltas) attributed to it. Functions are
 * merged by name + file + line (one function appears as many nodes, one per call path). '(idle)'
 * is left out of the percentages: it is time the server waited for the load generator.
 */
const fs = require('fs');
const path = require('path');

function summarize(file, top = 20) {
  const prof = JSON.parse(fs.readFileSync(file, 'utf8'));
  const byId = new Map(prof.nodes.map((n) => [n.id, n]));
  const selfUs = new Map();
  for (let i = 0; i < prof.samples.length; i++) {
    const dt = prof.timeDeltas[i] || 0;
    selfUs.set(prof.samples[i], (selfUs.get(prof.samples[i]) || 0) + dt);
  }
  const fns = new Map();
  let busy = 0;
  let idle = 0;
  for (const [id, us] of selfUs) {
    const cf = byId.get(id).callFrame;
    const name = cf.functionName || '(anonymous)';
    if (name === '(idle)') {
      idle += us;
      continue;
    }
    busy += us;
    const where = cf.url ? `${shorten(cf.url)}:${cf.lineNumber + 1}` : '';
    const key = `${name} ${where}`;
    const f = fns.get(key) || { name, where, us: 0 };
    f.us += us;
    fns.set(key, f);
  }
  const rows = [...fns.values()].sort((a, b) => b.us - a.us).slice(0, top);
  return { busyMs: busy / 1000, idleMs: idle / 1000, rows: rows.map((r) => ({ ...r, pct: (r.us / busy) * 100 })) };
}

/** node:internal paths and this repo's paths, without the noise in front. */
function shorten(url) {
  const u = url.replace(/^file:\/\//, '');
  const i = u.indexOf('/node_modules/');
  if (i >= 0) return u.slice(i + 1);
  const root = path.join(__dirname, '..') + '/';
  return u.startsWith(root) ? u.slice(root.length) : u;
}

function toMarkdown(sum, title) {
  let md = `### ${title}\n\n`;
  md += `busy ${sum.busyMs.toFixed(0)} ms, idle ${sum.idleMs.toFixed(0)} ms\n\n`;
  md += '| self % | self ms | function | where |\n|--:|--:|---|---|\n';
  for (const r of sum.rows) md += `| ${r.pct.toFixed(1)} | ${(r.us / 1000).toFixed(1)} | \`${r.name}\` | ${r.where} |\n`;
  return md;
}

if (require.main === module) {
  const file = process.argv[2];
  const topArg = process.argv.find((a) => a.startsWith('--top='));
  if (!file) {
    console.error('usage: node bench/profile.js <file.cpuprofile> [--top=20]');
    process.exit(2);
  }
  process.stdout.write(toMarkdown(summarize(file, topArg ? Number(topArg.slice(6)) : 20), path.basename(file)));
}

module.exports = { summarize, toMarkdown };
