// Loads an Outflow report.html headless in Debian's chromium and fails (exit 1) when:
//   - the page logs a console error or throws,
//   - it requests anything but itself and data: URIs (the report must be self-contained),
//   - a figure of the issue's list is missing, skipped, or has a zero-size SVG,
//   - any <figure> is empty, a table has no rows, or the embedded font did not load.
// Saves a full-page screenshot.
//
// usage: node tools/browser/report_check.mjs RUN_DIR/report.html [SCREENSHOT.png]
// env:   CHROMIUM (default /usr/bin/chromium)

import { chromium } from 'playwright-core';
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const EXPECTED = [
  'pca-clusters', 'score-map', 'probability-map', 'tsne-clusters', 'tsne-scores', 'umap-clusters', 'umap-scores', 'score-histogram', 'cluster-sizes', 'condensed-tree',
  'silhouette', 'cluster-distances', 'elbow', 'silhouette-k', 'gap', 'correlation', 'importance', 'shap',
  'entity-bytes', 'beacon-intervals',
];
const TABLES = ['cluster-profiles', 'top-anomalies'];

const [reportArg, shotArg = 'target/report-screenshot.png'] = process.argv.slice(2);
if (!reportArg) {
  console.error('usage: node report_check.mjs REPORT.html [SCREENSHOT.png]');
  process.exit(2);
}
const report = resolve(reportArg);
if (!existsSync(report)) {
  console.error(`report_check: ${report} does not exist`);
  process.exit(2);
}
const shot = resolve(shotArg);
const url = pathToFileURL(report).href;

const failures = [];
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  // The flags that work on this project's machines (no GPU, closed network); playwright adds a new,
  // empty --user-data-dir itself.
  args: [
    '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
  ],
});
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.on('console', (m) => {
    if (m.type() === 'error') failures.push(`console error: ${m.text()}`);
  });
  page.on('pageerror', (e) => failures.push(`page error: ${e.message}`));
  page.on('request', (r) => {
    const u = r.url();
    if (u !== url && !u.startsWith('data:')) failures.push(`external request: ${u}`);
  });
  page.on('requestfailed', (r) => failures.push(`request failed: ${r.url()}`));

  const resp = await page.goto(url, { waitUntil: 'load' });
  if (resp && !resp.ok()) failures.push(`loading the report: status ${resp.status()}`);
  await page.evaluate(() => document.fonts.ready);

  const result = await page.evaluate(({ expected, tables }) => {
    const box = (el) => {
      const r = el.getBoundingClientRect();
      return { w: r.width, h: r.height };
    };
    const figures = expected.map((id) => {
      const fig = document.getElementById(`fig-${id}`);
      if (!fig) return { id, problem: 'missing' };
      if (fig.dataset.skipped) return { id, problem: `skipped: ${fig.textContent.trim()}` };
      const svg = fig.querySelector('svg');
      if (!svg) return { id, problem: 'no <svg>' };
      const b = box(svg);
      if (!(b.w > 0 && b.h > 0)) return { id, problem: `zero size ${b.w}×${b.h}` };
      if (svg.querySelectorAll('*').length < 10) return { id, problem: 'almost empty <svg>' };
      return { id, w: b.w, h: b.h };
    });
    const empty = [...document.querySelectorAll('figure')].filter((f) => {
      const b = box(f);
      return !(b.w > 0 && b.h > 0);
    }).map((f) => f.id);
    const rows = Object.fromEntries(tables.map((t) => {
      const el = document.getElementById(t);
      return [t, el ? el.querySelectorAll('tbody tr').length : -1];
    }));
    return {
      figures,
      empty,
      rows,
      allFigures: document.querySelectorAll('figure').length,
      font: document.fonts.check('16px OutflowSans'),
      title: document.title,
    };
  }, { expected: EXPECTED, tables: TABLES });

  for (const f of result.figures) if (f.problem) failures.push(`figure ${f.id}: ${f.problem}`);
  for (const id of result.empty) failures.push(`figure ${id || '(no id)'} has zero size`);
  for (const [t, n] of Object.entries(result.rows)) {
    if (n < 0) failures.push(`table ${t}: missing`);
    else if (n === 0) failures.push(`table ${t}: no rows`);
  }
  if (!result.font) failures.push('the embedded font (OutflowSans) did not load');

  mkdirSync(dirname(shot), { recursive: true });
  await page.screenshot({ path: shot, fullPage: true });

  const ok = result.figures.filter((f) => !f.problem);
  console.log(`report_check: ${result.title}`);
  for (const f of ok) console.log(`  fig-${f.id.padEnd(18)} ${Math.round(f.w)}×${Math.round(f.h)} px`);
  console.log(`  tables: ${Object.entries(result.rows).map(([t, n]) => `${t} ${n} rows`).join(', ')}`);
  console.log(`  ${ok.length}/${EXPECTED.length} figures, ${result.allFigures} <figure> elements, font loaded: ${result.font}`);
  console.log(`  screenshot: ${shot}`);
} finally {
  await browser.close();
}

if (failures.length) {
  console.error(`report_check: FAILED (${failures.length})`);
  for (const f of failures) console.error(`  - ${f}`);
  process.exit(1);
}
console.log('report_check: ok (no console errors, no external requests)');
