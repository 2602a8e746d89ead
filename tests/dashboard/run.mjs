// The township dashboard in a real browser: Debian's Chromium, headless, driven by
// playwright-core (no browser download), against a running cunjie-server with real data.
//
// Usage: node run.mjs [--url-file FILE] [--out DIR]
//   FILE holds four lines (what `cunjie-demo --print-url-file` writes): the server's URL, the
//   user, the password and the period (YYYY-MM). Or set DASHBOARD_URL, DASHBOARD_USER,
//   DASHBOARD_PASSWORD, DASHBOARD_PERIOD. CHROMIUM overrides /usr/bin/chromium; VILLAGES is how
//   many villages the ranking must list (4 for the demo township).
// Every check runs even when an earlier one failed; a full-page screenshot of every page goes
// to the output folder (default target/e2e-dashboard). Exits 1 if any check failed.

import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import ExcelJS from 'exceljs';

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const arg = (name) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};

let [url, user, password, period] = [
  process.env.DASHBOARD_URL,
  process.env.DASHBOARD_USER ?? 'admin',
  process.env.DASHBOARD_PASSWORD,
  process.env.DASHBOARD_PERIOD,
];
const urlFile = arg('--url-file');
if (urlFile) {
  const lines = readFileSync(urlFile, 'utf8').split('\n').map((l) => l.trim());
  [url, user, password, period] = [lines[0], lines[1] || user, lines[2], lines[3] || period];
}
if (!url || !password) {
  console.error('usage: node run.mjs --url-file FILE  (or DASHBOARD_URL and DASHBOARD_PASSWORD)');
  process.exit(2);
}
url = url.replace(/\/+$/, '');
period ??= new Date().toISOString().slice(0, 7);
const villages = Number(process.env.VILLAGES ?? 4);
const out = resolve(arg('--out') ?? join(here, '..', '..', 'target', 'e2e-dashboard'));
mkdirSync(out, { recursive: true });

const results = [];
let shot = 0;
const started = Date.now();

function assert(cond, message) {
  if (!cond) throw new Error(message);
}

async function check(name, fn) {
  const t = Date.now();
  try {
    await fn();
    results.push({ name, ok: true, ms: Date.now() - t });
    console.log(`ok   ${name} (${Date.now() - t} ms)`);
  } catch (e) {
    results.push({ name, ok: false, ms: Date.now() - t, error: String(e?.message ?? e) });
    console.log(`FAIL ${name}: ${String(e?.message ?? e).split('\n')[0]}`);
  }
}

async function screenshot(page, name) {
  shot += 1;
  const file = join(out, `${String(shot).padStart(2, '0')}-${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

/** Opens a dashboard path, checks it answered 200 with the page's own section, screenshots. */
async function open(page, path, testid, name) {
  const res = await page.goto(url + path, { waitUntil: 'load' });
  assert(res, `no response for ${path}`);
  const status = res.status();
  await screenshot(page, name);
  assert(status === 200, `${path} answered ${status}`);
  assert(!page.url().includes('/dashboard/login'), `${path} sent us back to the login page`);
  await page.getByTestId(testid).first().waitFor({ state: 'visible', timeout: 5000 });
  return res;
}

const count = (page, testid) => page.getByTestId(testid).count();
const texts = (page, testid) => page.getByTestId(testid).allTextContents();
const hasHan = (s) => /[\u4e00-\u9fff]/.test(s);

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking'],
});
const context = await browser.newContext({
  viewport: { width: 1280, height: 900 },
  locale: 'zh-CN',
  acceptDownloads: true,
});
const page = await context.newPage();
const pageErrors = [];
page.on('pageerror', (e) => pageErrors.push(String(e)));

console.log(`dashboard ${url} · period ${period} · screenshots in ${out}`);

await check('a wrong password shows the Chinese error', async () => {
  await page.goto(`${url}/dashboard/login`);
  await page.getByTestId('login-username').fill(user);
  await page.getByTestId('login-password').fill(`${password}-wrong`);
  await Promise.all([page.waitForLoadState('load'), page.getByTestId('login-submit').click()]);
  const error = page.getByTestId('login-error');
  await error.waitFor({ state: 'visible', timeout: 5000 });
  const text = await error.textContent();
  await screenshot(page, 'login-wrong-password');
  assert(hasHan(text) && text.includes('密码'), `the error is in Chinese and names the password: ${text}`);
  assert(page.url().includes('/dashboard/login'), 'still on the login page');
});

await check('login with the right password lands on the overview', async () => {
  await page.goto(`${url}/dashboard/login`);
  await page.getByTestId('login-username').fill(user);
  await page.getByTestId('login-password').fill(password);
  await Promise.all([
    page.waitForURL((u) => !u.pathname.endsWith('/login'), { timeout: 10000 }),
    page.getByTestId('login-submit').click(),
  ]);
  const cookies = await context.cookies();
  assert(
    cookies.some((c) => c.name === 'cunjie_session' && c.httpOnly),
    `an HttpOnly session cookie: ${cookies.map((c) => c.name)}`,
  );
  assert(new URL(page.url()).pathname === '/dashboard/', `redirected to /dashboard/, not ${page.url()}`);
});

await check('overview', async () => {
  await open(page, '/dashboard/', 'overview', 'overview');
  for (const t of ['tile-rounds', 'tile-inspections', 'tile-rect-open', 'tile-rect-overdue', 'tile-devices', 'tile-photos']) {
    assert((await count(page, t)) === 1, `tile ${t}`);
  }
  const name = await page.getByTestId('township-name').textContent();
  assert(name.includes('桐木镇'), `the township's name in the top bar: ${name}`);
});

await check(`ranking ${period}: a row per village, ranks 1..n`, async () => {
  await open(page, `/dashboard/ranking?period=${period}`, 'ranking-table', 'ranking');
  const rows = page.getByTestId('ranking-row');
  const n = await rows.count();
  assert(n === villages, `${villages} villages ranked, found ${n}`);
  const ranks = [];
  for (let i = 0; i < n; i += 1) ranks.push(Number(await rows.nth(i).getAttribute('data-rank')));
  assert(ranks.every((r, i) => r === i + 1), `ranks are 1..${n} in order (the field month has no ties): ${ranks}`);
  const scores = (await texts(page, 'ranking-score')).map((s) => Number(s.replace(/[^0-9.-]/g, '')));
  assert(scores.every((s, i) => i === 0 || s <= scores[i - 1]), `scores never rise down the table: ${scores}`);
  const table = await page.getByTestId('ranking-table').textContent();
  assert(hasHan(table) && table.includes('村'), 'village names in Chinese');
});

await check('ranking in English (?lang=en)', async () => {
  await open(page, `/dashboard/ranking?period=${period}&lang=en`, 'ranking-table', 'ranking-en');
  const lang = await page.getByTestId('page').getAttribute('data-lang');
  assert(lang === 'en', `the page is in English: ${lang}`);
  await page.goto(`${url}/dashboard/ranking?period=${period}&lang=zh`);
});

await check('notice page prints on A4', async () => {
  await open(page, `/dashboard/notice?period=${period}`, 'notice', 'notice');
  const title = await page.getByTestId('notice-title').textContent();
  assert(title.includes('桐木镇'), `the notice names the township: ${title}`);
  assert((await count(page, 'ranking-row')) === villages, 'the notice lists every village');
  await page.emulateMedia({ media: 'print' });
  const pdf = await page.pdf({ format: 'A4', printBackground: true });
  await page.emulateMedia({ media: 'screen' });
  writeFileSync(join(out, 'notice.pdf'), pdf);
  assert(pdf.subarray(0, 5).toString() === '%PDF-', 'a PDF');
  const pages = (pdf.toString('latin1').match(/\/Type\s*\/Page[^s]/g) ?? []).length;
  assert(pages >= 1 && pages <= 3, `one to three A4 pages: ${pages}`);
});

await check('cleaners', async () => {
  await open(page, `/dashboard/cleaners?month=${period}`, 'cleaners-table', 'cleaners');
  const n = await count(page, 'cleaner-row');
  assert(n >= 1, `cleaners listed: ${n}`);
  const coverage = await texts(page, 'cleaner-coverage');
  assert(coverage.some((c) => /\d/.test(c)), `coverage figures: ${coverage.slice(0, 3)}`);
});

let evidenceFromHousehold = null;
await check('households: search, then one household with its inspections', async () => {
  await open(page, '/dashboard/households', 'households-table', 'households');
  await page.getByTestId('household-search-input').fill('1组');
  await Promise.all([page.waitForLoadState('load'), page.getByTestId('household-search-submit').click()]);
  await page.getByTestId('households-table').waitFor();
  assert(new URL(page.url()).searchParams.get('q') === '1组', `searched by ?q=: ${page.url()}`);
  const links = page.getByTestId('household-link');
  const n = await links.count();
  assert(n >= 1, 'the search finds households');
  await screenshot(page, 'households-search');
  const hrefs = [];
  for (let i = 0; i < Math.min(n, 12); i += 1) hrefs.push(await links.nth(i).getAttribute('href'));
  // The first result with an inspection on record (nearly every household has one).
  let found = false;
  for (const [i, href] of hrefs.entries()) {
    if (i === 0) {
      await Promise.all([page.waitForLoadState('load'), links.first().click()]);
    } else {
      await page.goto(new URL(href, url).href);
    }
    await page.getByTestId('household-detail').waitFor();
    if ((await count(page, 'household-inspection')) > 0) {
      found = true;
      break;
    }
  }
  await screenshot(page, 'household');
  assert(found, 'a household with an inspection');
  const plate = await page.getByTestId('household-plate').textContent();
  assert(plate.includes('1组'), `the household found by the search: ${plate}`);
  evidenceFromHousehold = await page.getByTestId('evidence-link').first().getAttribute('href');
});

await check('evidence page reached from a household', async () => {
  assert(evidenceFromHousehold, 'the household page links its evidence');
  await Promise.all([page.waitForLoadState('load'), page.getByTestId('evidence-link').first().click()]);
  await page.getByTestId('evidence').waitFor();
  await screenshot(page, 'evidence-household');
  const pending = await page.getByTestId('evidence-pending').textContent();
  assert(pending.trim() === '0', `no photo still pending after the sync: ${pending}`);
});

await check('door-plate QR sheet: a card per household and business, printable on A4', async () => {
  await open(page, '/dashboard/households', 'plates-link', 'households');
  await Promise.all([page.waitForLoadState('load'), page.getByTestId('plates-link').click()]);
  await page.getByTestId('plates').waitFor();
  const cards = await count(page, 'plate-card');
  const qr = await page.locator('[data-testid="plate-card"] svg path').count();
  assert(cards >= 4 && qr === cards, `a QR code on every card: ${qr} of ${cards}`);
  await screenshot(page, 'plates');
  await page.emulateMedia({ media: 'print' });
  const pdf = await page.pdf({ format: 'A4', printBackground: true });
  await page.emulateMedia({ media: 'screen' });
  writeFileSync(join(out, 'plates.pdf'), pdf);
  assert(pdf.subarray(0, 5).toString() === '%PDF-', 'a PDF');
});

await check('rectifications, every tab', async () => {
  await open(page, '/dashboard/rectifications', 'rectifications', 'rectifications');
  const tabs = page.locator('[data-testid="rectification-tabs"] a');
  const hrefs = [];
  for (let i = 0; i < (await tabs.count()); i += 1) {
    hrefs.push([await tabs.nth(i).getAttribute('data-testid'), await tabs.nth(i).getAttribute('href')]);
  }
  assert(hrefs.length >= 2, `tabs by state: ${hrefs.map((h) => h[0])}`);
  const seen = {};
  for (const [tab, href] of hrefs) {
    await page.goto(new URL(href, url).href);
    await page.getByTestId('rectifications').waitFor();
    seen[tab] = await count(page, 'rectification-row');
    await screenshot(page, `rectifications-${tab.replace('tab-', '')}`);
  }
  const total = Math.max(...Object.values(seen));
  assert(total >= 1, `the field month's orders are listed: ${JSON.stringify(seen)}`);
});

await check('map: an SVG with zones, households and findings; a finding opens its evidence', async () => {
  await open(page, '/dashboard/map', 'map', 'map');
  const svg = page.getByTestId('map');
  assert((await svg.evaluate((e) => e.tagName.toLowerCase())) === 'svg', 'the map is an SVG');
  const zones = await count(page, 'map-zone');
  const houses = await count(page, 'map-household');
  const findings = await count(page, 'map-finding');
  assert(zones >= 1 && houses >= 1, `shapes on the map: ${zones} zones, ${houses} households`);
  assert(findings >= 1, `findings on the map: ${findings}`);
  const box = await svg.boundingBox();
  assert(box && box.width > 200 && box.height > 150, `the map has a size: ${JSON.stringify(box)}`);
  await Promise.all([page.waitForLoadState('load'), page.getByTestId('map-finding').first().click()]);
  await page.getByTestId('evidence').waitFor();
  await screenshot(page, 'evidence-finding');
  const photos = page.getByTestId('evidence-photo');
  assert((await photos.count()) >= 1, 'a finding has its photos');
  const hash = await texts(page, 'hash-check');
  const sig = await texts(page, 'signature-check');
  assert(hash.length >= 1 && sig.length >= 1, `hash and signature checked: ${hash} ${sig}`);
  const img = page.locator('[data-testid="evidence-photo"] img').first();
  if ((await img.count()) > 0) {
    await img.waitFor();
    const w = await img.evaluate((e) => (e.complete ? e.naturalWidth : 0));
    assert(w > 0, 'the photo loads in the browser');
  }
});

await check('charts', async () => {
  await open(page, '/dashboard/charts', 'charts', 'charts');
  for (const t of ['chart-trend', 'chart-items', 'chart-coverage']) {
    assert((await count(page, t)) === 1, `chart ${t}`);
  }
  assert((await count(page, 'trend-line')) >= 1, 'a trend line');
  assert((await count(page, 'item-bar')) >= 1, 'deductions by item');
  assert((await count(page, 'coverage-bar')) >= 1, 'coverage by cleaner');
});

await check('audit log with an intact chain', async () => {
  await open(page, '/dashboard/audit', 'audit', 'audit');
  const ok = await page.getByTestId('audit-chain').getAttribute('data-ok');
  assert(ok === 'true', `the hash chain verifies: ${ok}`);
  assert((await count(page, 'audit-row')) >= 1, 'entries (at least the logins)');
});

await check('XLSX export: a row per village, Chinese names', async () => {
  await page.goto(`${url}/dashboard/ranking?period=${period}`);
  const [download] = await Promise.all([
    page.waitForEvent('download', { timeout: 10000 }),
    page.getByTestId('export-xlsx').click(),
  ]);
  const file = join(out, `ranking-${period}.xlsx`);
  await download.saveAs(file);
  assert(download.suggestedFilename().endsWith('.xlsx'), `an .xlsx: ${download.suggestedFilename()}`);
  const wb = new ExcelJS.Workbook();
  await wb.xlsx.readFile(file);
  const sheet = wb.worksheets[0];
  assert(sheet, 'a worksheet');
  const rows = [];
  sheet.eachRow((row) => rows.push(row.values.slice(1).map((v) => (v && typeof v === 'object' && 'result' in v ? v.result : v))));
  const villageRows = rows.filter((r) => r.some((c) => typeof c === 'string' && /^.+村$/.test(c.trim())));
  assert(villageRows.length === villages, `${villages} village rows, found ${villageRows.length}: ${JSON.stringify(rows.slice(0, 8))}`);
  for (const name of ['太平村', '山门村', '左垅村', '灰山村'].slice(0, villages)) {
    assert(villageRows.some((r) => r.some((c) => c === name)), `${name} in the spreadsheet`);
  }
});

await check('CSV export starts with a UTF-8 BOM', async () => {
  const res = await context.request.get(`${url}/dashboard/export/ranking.csv?period=${period}`);
  assert(res.status() === 200, `status ${res.status()}`);
  const body = await res.body();
  writeFileSync(join(out, `ranking-${period}.csv`), body);
  assert(body[0] === 0xef && body[1] === 0xbb && body[2] === 0xbf, `BOM: ${body.subarray(0, 3).toString('hex')}`);
  const text = body.subarray(3).toString('utf8');
  const lines = text.split(/\r?\n/).filter((l) => l.includes('村'));
  assert(lines.length >= villages, `a line per village: ${lines.length}`);
});

await check('GeoJSON exports', async () => {
  for (const name of ['findings', 'zones']) {
    const res = await context.request.get(`${url}/dashboard/export/${name}.geojson`);
    assert(res.status() === 200, `${name}: status ${res.status()}`);
    const json = await res.json();
    assert(json.type === 'FeatureCollection' && json.features.length >= 1, `${name}: features`);
  }
});

await check('no script errors on any page', async () => {
  assert(pageErrors.length === 0, pageErrors.join('\n'));
});

await browser.close();
const failed = results.filter((r) => !r.ok);
const seconds = ((Date.now() - started) / 1000).toFixed(1);
writeFileSync(join(out, 'results.json'), JSON.stringify({ url, period, seconds, results }, null, 2));
console.log(`\n${results.length - failed.length}/${results.length} checks passed in ${seconds} s; ${shot} screenshots in ${out}`);
for (const f of failed) console.log(`  FAIL ${f.name}: ${f.error}`);
process.exit(failed.length ? 1 : 0);
