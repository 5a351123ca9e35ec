// Runs Lighthouse on a few pages of a running board, three times each, and
// gates on the median score of each category. Called by lighthouse-check.sh,
// which serves the board; usable alone against any board:
//
//   node e2e/lighthouse-check.mjs BASE_URL OUT_DIR name=path...
//
// Environment: CHROME_PATH (default /usr/bin/chromium), LH_RUNS (runs per page
// on mobile, default 3), LH_DESKTOP_RUNS (default 1: desktop is the easier
// target, so one run keeps the gate short), LH_FORM_FACTORS (default
// "mobile desktop").
//
// Targets: accessibility, best practices and SEO 100, performance 95 or more.
// Scores are Lighthouse's own: no audit is left out of any category.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as chromeLauncher from 'chrome-launcher';
import lighthouse from 'lighthouse';
import desktopConfig from 'lighthouse/core/config/desktop-config.js';

const [base, outDir, ...pageArgs] = process.argv.slice(2);
if (!base || !outDir || pageArgs.length === 0) {
  console.error('usage: node lighthouse-check.mjs BASE_URL OUT_DIR name=path...');
  process.exit(2);
}
const pages = pageArgs.map((a) => {
  const i = a.indexOf('=');
  return { name: a.slice(0, i), path: a.slice(i + 1) };
});
const RUNS = { mobile: Number(process.env.LH_RUNS || 3), desktop: Number(process.env.LH_DESKTOP_RUNS || 1) };
const FORM_FACTORS = (process.env.LH_FORM_FACTORS || 'mobile desktop').split(/\s+/).filter(Boolean);
const TARGETS = { performance: 95, accessibility: 100, 'best-practices': 100, seo: 100 };
const CATEGORIES = Object.keys(TARGETS);
const CHROME_FLAGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
};

/** A category's score (0–100) in one report. */
function categoryScore(lhr, cat) {
  return Math.round(lhr.categories[cat].score * 100);
}

/** What a failing audit points at: nodes, URLs, or its display value. */
function auditDetail(audit) {
  // Nested tables (the LCP element's phases) are left to perfDiagnosis.
  const items = (audit.details?.items ?? []).filter((it) => it.type !== 'table');
  const lines = items.slice(0, 5).map((it) => {
    if (it.node) return `${it.node.snippet} ${it.node.explanation ? `— ${it.node.explanation.split('\n').slice(1).join(' ').trim()}` : ''}`;
    if (it.description) return `${it.description}${it.sourceLocation?.url ? ` (${it.sourceLocation.url})` : ''}`;
    if (it.href !== undefined) return `<a href="${it.href}">${it.text ?? ''}</a>`;
    if (it.url) return `${it.url}${it.wastedMs ? ` (${Math.round(it.wastedMs)} ms)` : ''}${it.wastedBytes ? ` (${Math.round(it.wastedBytes / 1024)} KiB)` : ''}`;
    if (it.source?.snippet) return it.source.snippet;
    if (it.groupLabel) return `${it.groupLabel}: ${Math.round(it.duration)} ms`;
    return JSON.stringify(it).slice(0, 200);
  });
  if (items.length > 5) lines.push(`… and ${items.length - 5} more`);
  return lines;
}

/** The audits that cost a category points in one report. */
function failingAudits(lhr, cat) {
  const out = [];
  for (const ref of lhr.categories[cat].auditRefs) {
    const a = lhr.audits[ref.id];
    if (a.score === null || a.score >= 1) continue;
    if (ref.weight === 0 && cat !== 'performance') continue;
    if (ref.weight === 0 && a.scoreDisplayMode !== 'metricSavings') continue;
    out.push({ id: a.id, title: a.title, score: a.score, value: a.displayValue ?? '', detail: auditDetail(a) });
  }
  return out;
}

/** Why a page loads as fast as it does: the metrics and their causes. */
function perfDiagnosis(lhr) {
  const a = lhr.audits;
  const lines = [];
  for (const id of ['first-contentful-paint', 'largest-contentful-paint', 'total-blocking-time', 'cumulative-layout-shift', 'speed-index']) {
    lines.push(`${a[id].title}: ${a[id].displayValue} (score ${a[id].score})`);
  }
  const lcp = a['largest-contentful-paint-element']?.details?.items?.[0]?.items?.[0]?.node;
  if (lcp) lines.push(`LCP element: ${lcp.snippet}`);
  for (const id of ['render-blocking-insight', 'cls-culprits-insight', 'document-latency-insight']) {
    if (a[id] && a[id].score !== null && a[id].score < 1) lines.push(`${a[id].title}: ${a[id].displayValue ?? ''}`);
  }
  return lines;
}

/** One Lighthouse run in a Chrome of its own, with a fresh profile. */
async function runOnce(url, formFactor) {
  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'lighthouse-chrome-'));
  const chrome = await chromeLauncher.launch({
    chromePath: process.env.CHROME_PATH || '/usr/bin/chromium',
    chromeFlags: CHROME_FLAGS,
    userDataDir,
  });
  try {
    // The full-page screenshot only illustrates the HTML report (1.7 s a run).
    const flags = { port: chrome.port, output: ['json', 'html'], logLevel: 'error', disableFullPageScreenshot: true };
    return await lighthouse(url, flags, formFactor === 'desktop' ? desktopConfig : undefined);
  } finally {
    await chrome.kill();
    fs.rmSync(userDataDir, { recursive: true, force: true });
  }
}

const started = Date.now();
const results = {}; // formFactor → page → [{lhr, scores}]
for (const formFactor of FORM_FACTORS) {
  results[formFactor] = {};
  const dir = path.join(outDir, formFactor);
  fs.mkdirSync(dir, { recursive: true });
  // Pages take turns, so a moment of load on the machine falls on one run of
  // each page rather than on every run of one page.
  for (let run = 1; run <= RUNS[formFactor]; run++) {
    for (const page of pages) {
      const url = base + page.path;
      let result;
      // A trace Chrome failed to record (NO_NAVSTART and the like) is
      // Lighthouse's own hiccup, not the page's: it gets two more tries.
      for (let attempt = 1; ; attempt++) {
        result = await runOnce(url, formFactor);
        const error = result ? result.lhr.runtimeError : { message: 'no result' };
        if (!error) break;
        if (attempt === 3) throw new Error(`${formFactor} ${page.name} run ${run}: ${error.code ?? ''} ${error.message}`);
        console.error(`lighthouse: ${formFactor} ${page.name} run ${run}: ${error.code ?? error.message}; again`);
      }
      const [json, html] = result.report;
      fs.writeFileSync(path.join(dir, `${page.name}-${run}.report.json`), json);
      fs.writeFileSync(path.join(dir, `${page.name}-${run}.report.html`), html);
      const scores = {};
      for (const cat of CATEGORIES) scores[cat] = categoryScore(result.lhr, cat);
      (results[formFactor][page.name] ??= []).push({ lhr: result.lhr, scores });
      for (const w of result.lhr.runWarnings) console.error(`lighthouse: ${formFactor} ${page.name}: ${w}`);
    }
  }
}

// The table of medians, then what is under target.
const failures = [];
const summary = { targets: TARGETS, runs: RUNS, load: os.loadavg(), pages: {} };
const pad = (s, n) => String(s).padEnd(n);
console.log(`\nLighthouse, median of the runs in brackets (targets: performance ≥ ${TARGETS.performance}, others ${TARGETS.accessibility}); load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
console.log(`${pad('form factor', 12)}${pad('page', 10)}${CATEGORIES.map((c) => pad(c, 19)).join('')}LCP      TBT     CLS`);
for (const formFactor of FORM_FACTORS) {
  for (const page of pages) {
    const runs = results[formFactor][page.name];
    const row = {};
    const cells = CATEGORIES.map((cat) => {
      const all = runs.map((r) => r.scores[cat]);
      const med = median(all);
      row[cat] = { median: med, runs: all };
      const ok = med >= TARGETS[cat];
      if (!ok) failures.push({ formFactor, page, cat, med });
      return pad(`${med}${ok ? '' : ' ✗'} (${all.join('/')})`, 19);
    });
    const metric = (id) => median(runs.map((r) => r.lhr.audits[id].numericValue));
    const lcp = metric('largest-contentful-paint');
    const tbt = metric('total-blocking-time');
    const cls = metric('cumulative-layout-shift');
    row.metrics = { lcp_ms: Math.round(lcp), tbt_ms: Math.round(tbt), cls };
    summary.pages[`${formFactor}/${page.name}`] = { path: page.path, ...row };
    console.log(`${pad(formFactor, 12)}${pad(page.name, 10)}${cells.join('')}${pad(`${(lcp / 1000).toFixed(1)} s`, 9)}${pad(`${Math.round(tbt)} ms`, 8)}${cls.toFixed(3)}`);
  }
}
for (const f of failures) {
  // The run whose score is the median shows what cost the points.
  const runs = results[f.formFactor][f.page.name];
  const run = runs.find((r) => r.scores[f.cat] === f.med) ?? runs[0];
  console.log(`\n${f.formFactor} ${f.page.name} (${f.page.path}): ${f.cat} ${f.med}, target ${TARGETS[f.cat]}`);
  for (const a of failingAudits(run.lhr, f.cat)) {
    console.log(`  ${a.id} (${a.score}): ${a.title} ${a.value}`);
    for (const d of a.detail) console.log(`      ${d}`);
  }
  if (f.cat === 'performance') for (const l of perfDiagnosis(run.lhr)) console.log(`  ${l}`);
}
fs.writeFileSync(path.join(outDir, 'summary.json'), JSON.stringify(summary, null, 2));
console.log(`\nlighthouse: reports in ${outDir} (${((Date.now() - started) / 1000).toFixed(0)} s)`);
if (failures.length) {
  console.error(`lighthouse: ${failures.length} score(s) under target`);
  process.exit(1);
}
console.log('lighthouse: every page meets its targets');
