// Drives inspect's web UI in headless Chromium (Debian's /usr/bin/chromium with playwright-core)
// the way a person would: load it, send example events with the buttons, watch them appear
// without a reload, filter, search, pick a column, open a good event and a bad row, follow a
// schema link, and look at it on a phone. Screenshots go to OUTDIR. Prints one JSON object of
// named checks (true/false) on stdout.
//   node inspect-ui.js http://127.0.0.1:PORT OUTDIR
'use strict';
const { chromium } = require('playwright-core');

const [base, out] = process.argv.slice(2);
const checks = {};
const errors = [];

async function rows(p) {
  return p.$$eval('#tbody tr', (trs) => trs.map((tr) => ({ text: tr.textContent, failed: tr.classList.contains('failed') })));
}

async function waitRows(p, pred, timeout = 10000) {
  const t0 = Date.now();
  for (;;) {
    const r = await rows(p);
    if (pred(r)) return r;
    if (Date.now() - t0 > timeout) return r;
    await p.waitForTimeout(50);
  }
}

(async () => {
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'] });
  const ctx = await browser.newContext({ viewport: { width: 1366, height: 850 } });
  const p = await ctx.newPage();
  p.on('pageerror', (e) => errors.push(e.message));
  let loads = 0;
  p.on('load', () => loads++);
  await p.goto(base + '/micro/ui');
  await p.waitForSelector('#live.on', { timeout: 10000 });
  checks.loads = true;
  checks.empty_state = await p.isVisible('#empty');
  await p.screenshot({ path: `${out}/01-laptop-empty.png` });

  // example events, seen without a reload
  await p.click('[data-send="pv"]');
  let r = await waitRows(p, (x) => x.some((t) => t.text.includes('inspect-ui')));
  checks.page_view_appears = r.length === 1 && r[0].text.includes('page_view');
  checks.count_updates = (await p.textContent('#c-good')).trim() === '1';
  await p.click('[data-send="se"]');
  await p.click('[data-send="ue"]');
  r = await waitRows(p, (x) => x.length >= 3);
  checks.three_events = r.length === 3 && !r.some((t) => t.failed);
  checks.no_reload = loads === 1;
  checks.chart_has_bars = (await p.$$('#chart rect.g')).length > 0;

  // filters: event type, then free text
  await p.waitForFunction(() => [...document.querySelectorAll('#f-event option')].some((o) => o.value === 'struct'));
  await p.selectOption('#f-event', 'struct');
  r = await waitRows(p, (x) => x.length === 1);
  checks.filter_event_type = r.length === 1 && r[0].text.includes('struct');
  await p.screenshot({ path: `${out}/02-laptop-filtered.png` });
  await p.selectOption('#f-event', '');
  await waitRows(p, (x) => x.length === 3);
  await p.fill('#f-search', 'docs-link');
  r = await waitRows(p, (x) => x.length === 1);
  checks.free_text = r.length === 1 && r[0].text.includes('unstruct');
  await p.fill('#f-search', '');
  await waitRows(p, (x) => x.length === 3);

  // a bad row: readable reasons first
  await p.click('[data-send="bad"]');
  r = await waitRows(p, (x) => x.some((t) => t.failed));
  checks.bad_row_appears = r.some((t) => t.failed && t.text.includes('link_click 1-0-1: $.targetUrl'));
  await p.click('#tbody tr.failed');
  await p.waitForSelector('.reasons li', { timeout: 5000 });
  const first = await p.$eval('#p-body', (b) => b.firstElementChild.textContent);
  const reasons = await p.$$eval('.reasons li', (li) => li.map((x) => x.textContent));
  checks.reasons_first = first === 'Why it failed';
  checks.reason_readable = reasons.some((t) => /link_click\/jsonschema\/1-0-1: \$\.targetUrl: .*required/.test(t));
  checks.bad_row_json_shown = (await p.textContent('#p-body')).includes('schema_violations');
  await p.screenshot({ path: `${out}/03-laptop-bad-row.png` });
  await p.click('#p-close');

  // failed only
  await p.click('[data-valid="false"]');
  r = await waitRows(p, (x) => x.length === 1);
  checks.failed_only = r.length === 1 && r[0].failed;
  await p.click('[data-valid=""]');
  await waitRows(p, (x) => x.length === 4);

  // the column picker
  await p.click('#cols-btn');
  await p.fill('#cols-filter', 'page_title');
  await p.click('#cols-list label:has-text("page_title") input');
  await p.click('h2');
  checks.column_added = (await p.$$eval('#thead th', (th) => th.map((x) => x.textContent))).includes('page_title');
  checks.column_shown = (await p.textContent('#tbody')).includes('furrow inspect demo');

  // a good event, its schemas, one opened through /micro/iglu
  await p.click('#tbody tr:not(.failed) >> text=unstruct');
  await p.waitForSelector('.links a', { timeout: 5000 });
  const links = await p.$$eval('.links a', (a) => a.map((x) => x.textContent));
  checks.schema_links = links.includes('com.snowplowanalytics.snowplow/link_click/jsonschema/1-0-1') &&
    links.includes('com.snowplowanalytics.snowplow/web_page/jsonschema/1-0-0');
  await p.click('.links a >> text=link_click');
  await p.waitForFunction(() => document.querySelector('#p-body').textContent.includes('"self"'), null, { timeout: 5000 });
  checks.schema_opens = true;
  await p.screenshot({ path: `${out}/04-laptop-event-schema.png` });
  await p.click('#p-close');
  await p.screenshot({ path: `${out}/05-laptop.png`, fullPage: true });
  await ctx.close();

  // a phone
  const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 });
  const q = await phone.newPage();
  q.on('pageerror', (e) => errors.push(e.message));
  await q.goto(base + '/micro/ui');
  await q.waitForSelector('#tbody tr');
  checks.phone_no_horizontal_scroll = await q.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth + 1);
  await q.screenshot({ path: `${out}/06-phone.png` });
  await q.screenshot({ path: `${out}/07-phone-full.png`, fullPage: true });
  await q.tap('#tbody tr.failed');
  await q.waitForSelector('.reasons li', { timeout: 5000 });
  const box = await q.$eval('#panel', (e) => e.getBoundingClientRect().width);
  checks.phone_panel_full_width = Math.abs(box - 390) < 2;
  await q.screenshot({ path: `${out}/08-phone-bad-row.png` });
  await phone.close();
  await browser.close();
  checks.no_page_errors = errors.length === 0;
  console.log(JSON.stringify({ checks, errors }));
})().catch((e) => { console.log(JSON.stringify({ checks, errors, fatal: String(e) })); process.exit(1); });
