// furrow inspect's UI: plain JavaScript over the Micro-compatible API of the same server.
// Live updates use the wait primitive: /micro/stats?since=G&wait_ms=… is held by the server
// until the store changes, so an idle page costs nothing and a new event shows at once.
'use strict';

const FAILURE = 'contexts_com_snowplowanalytics_snowplow_failure_1';
const BUCKET_MS = 2000, BUCKETS = 90;
const BASE_COLUMNS = [
  { key: 'collector_tstamp', label: 'Time', cls: 't' },
  { key: '_status', label: 'Status', sort: false, cls: 'st' },
  { key: 'event', label: 'Event' },
  { key: 'app_id', label: 'App', opt: true },
  { key: 'schema', label: 'Schema', sort: false, opt: true },
  { key: '_detail', label: 'Detail', cls: 'd', sort: false },
];

const $ = (s) => document.querySelector(s);
const el = (tag, attrs, ...kids) => {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === 'class') e.className = v;
    else if (k === 'text') e.textContent = v;
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v);
  }
  for (const k of kids) if (k != null) e.append(k);
  return e;
};

const state = {
  token: localStorage.getItem('inspect.token') || '',
  collector: localStorage.getItem('inspect.collector') || '',
  extraCols: JSON.parse(localStorage.getItem('inspect.columns') || '[]'),
  valid: null, event: '', app: '', schema: '', search: '',
  page: 1, pageSize: 50, sort: null,
  generation: 0, events: [], total: 0, selected: null, flashId: null,
  allColumns: [],
};

// ---------- the API ----------
async function api(path, body) {
  const opt = { method: body === undefined ? 'GET' : 'POST', headers: { Accept: 'application/json' } };
  if (body !== undefined) { opt.headers['Content-Type'] = 'application/json'; opt.body = JSON.stringify(body); }
  if (state.token) opt.headers.Authorization = 'Bearer ' + state.token;
  const r = await fetch(path, opt);
  if (r.status === 401) { askToken(); throw new Error('an access token is needed'); }
  if (!r.ok) throw new Error(path + ': HTTP ' + r.status);
  return r.json();
}

function askToken() {
  const d = $('#token-dialog');
  if (d.open) return;
  d.showModal();
  d.addEventListener('close', () => {
    state.token = $('#token-input').value.trim();
    localStorage.setItem('inspect.token', state.token);
    refresh();
  }, { once: true });
}

function toast(msg) {
  const t = $('#toast');
  t.textContent = msg;
  t.classList.add('show');
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => t.classList.remove('show'), 2600);
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const fmtNum = (n) => n.toLocaleString();
const fmtBytes = (b) => (b >= 1048576 ? `${(b / 1048576).toFixed(b >= 10485760 ? 0 : 1)} MiB` : `${Math.ceil(b / 1024)} KiB`);

// ---------- live ----------
async function live() {
  let first = true;
  for (;;) {
    try {
      // the first call answers at once (the page needs the counts); then the server holds
      // each call until the store's generation moves past the one we have
      const s = await api(first ? '/micro/stats' : `/micro/stats?since=${state.generation}&wait_ms=25000`);
      first = false;
      $('#live').className = 'live on';
      $('#live').textContent = 'live';
      showCounts(s);
      if (s.generation !== state.generation) {
        state.generation = s.generation;
        scheduleRefresh();
      }
    } catch (e) {
      $('#live').className = 'live off';
      $('#live').textContent = 'offline';
      await sleep(2000);
    }
  }
}

function showCounts(s) {
  $('#c-good').textContent = fmtNum(s.good);
  $('#c-bad').textContent = fmtNum(s.bad);
  const notes = [];
  if (s.evicted.good + s.evicted.bad) notes.push(`${fmtNum(s.evicted.good + s.evicted.bad)} oldest evicted (cap ${fmtNum(s.maxEvents)} events)`);
  if (s.rejected.good + s.rejected.bad) notes.push(`${fmtNum(s.rejected.good + s.rejected.bad)} unreadable lines skipped`);
  notes.push(`${fmtBytes(s.bytes)} of ${fmtBytes(s.maxBytes)} used`);
  $('#store-note').textContent = notes.join(' · ');
}

let refreshTimer = null, refreshing = false, again = false;
function scheduleRefresh() {
  if (refreshTimer) return;
  refreshTimer = setTimeout(() => { refreshTimer = null; refresh(); }, 120);
}

async function refresh() {
  if (refreshing) { again = true; return; }
  refreshing = true;
  try {
    await Promise.all([loadEvents(), loadChart(), loadFilterValues()]);
  } catch (e) {
    console.warn(e);
  } finally {
    refreshing = false;
    if (again) { again = false; scheduleRefresh(); }
  }
}

// ---------- the chart ----------
async function loadChart() {
  const now = Date.now();
  const end = Math.ceil(now / BUCKET_MS) * BUCKET_MS;
  const buckets = [];
  for (let i = BUCKETS; i > 0; i--) {
    buckets.push({ start: new Date(end - i * BUCKET_MS).toISOString(), end: new Date(end - (i - 1) * BUCKET_MS).toISOString() });
  }
  const t = await api('/micro/timeline', { buckets });
  drawChart(t.points);
}

function drawChart(points) {
  const svg = $('#chart');
  // drawn at the element's own size, so text is never stretched
  const W = Math.max(200, Math.round(svg.clientWidth || 900)), H = Math.max(80, Math.round(svg.clientHeight || 140));
  const top = 8, bottom = 18, left = 34;
  svg.setAttribute('viewBox', `0 0 ${W} ${H}`);
  state.lastPoints = points;
  const rates = points.map((p) => ({ g: p.validEvents * 1000 / BUCKET_MS, b: p.failedEvents * 1000 / BUCKET_MS }));
  const max = Math.max(1, ...rates.map((r) => r.g + r.b));
  const nice = niceMax(max);
  const bw = (W - left) / rates.length;
  const y = (v) => H - bottom - (v / nice) * (H - top - bottom);
  const parts = [];
  for (let i = 0; i <= 2; i++) {
    const v = nice * i / 2, yy = y(v);
    parts.push(`<line class="grid" x1="${left}" x2="${W}" y1="${yy}" y2="${yy}"/>`);
    parts.push(`<text class="axis" x="${left - 6}" y="${yy + 4}" text-anchor="end">${fmtRate(v)}</text>`);
  }
  rates.forEach((r, i) => {
    const x = left + i * bw + 1, w = Math.max(1, bw - 2);
    if (r.g) parts.push(`<rect class="g" x="${x}" y="${y(r.g)}" width="${w}" height="${y(0) - y(r.g)}" rx="1.5"/>`);
    if (r.b) parts.push(`<rect class="b" x="${x}" y="${y(r.g + r.b)}" width="${w}" height="${y(r.g) - y(r.g + r.b)}" rx="1.5"/>`);
  });
  for (const [i, label] of [[0, '-3 min'], [30, '-2 min'], [60, '-1 min'], [89, 'now']]) {
    parts.push(`<text class="axis" x="${left + i * bw + bw / 2}" y="${H - 4}" text-anchor="${i === 89 ? 'end' : 'middle'}">${label}</text>`);
  }
  svg.innerHTML = parts.join('');
  const last = rates.slice(-3).reduce((a, r) => a + r.g + r.b, 0) / 3;
  $('#c-rate').textContent = fmtRate(last);
}
const niceMax = (m) => { const p = Math.pow(10, Math.floor(Math.log10(m))); for (const s of [1, 2, 5, 10]) if (m <= s * p) return s * p; return 10 * p; };
const fmtRate = (v) => (v >= 10 || v === 0 ? Math.round(v).toString() : v.toFixed(1));

// ---------- filters ----------
async function loadFilterValues() {
  const stats = await api('/micro/columnStats', { columns: ['event', 'app_id', 'schema'] });
  fillSelect($('#f-event'), stats.event, state.event);
  fillSelect($('#f-app'), stats.app_id, state.app);
  fillSelect($('#f-schema'), stats.schema, state.schema);
}

function fillSelect(sel, stat, current) {
  const values = ((stat && stat.values) || []).filter((v) => v !== 'null').sort();
  if (current && !values.includes(current)) values.unshift(current);
  const want = ['', ...values].join('\n');
  if (sel.dataset.values === want) return;
  sel.dataset.values = want;
  sel.replaceChildren(el('option', { value: '', text: 'any' }), ...values.map((v) => el('option', { value: v, text: v })));
  sel.value = current;
}

function eventsRequest() {
  const filters = [];
  if (state.event) filters.push({ column: 'event', values: [state.event] });
  if (state.app) filters.push({ column: 'app_id', values: [state.app] });
  if (state.schema) filters.push({ column: 'schema', values: [state.schema] });
  const req = { filters, page: state.page, pageSize: state.pageSize };
  if (state.valid !== null) req.validEvents = state.valid;
  if (state.search) req.search = state.search;
  if (state.sort) req.sorting = state.sort;
  return req;
}

// ---------- the table ----------
function columns() {
  return [...BASE_COLUMNS, ...state.extraCols.map((k) => ({ key: k, label: k, extra: true }))];
}

async function loadEvents() {
  const r = await api('/micro/events', eventsRequest());
  state.events = r.events;
  state.total = r.totalItems;
  const pages = r.totalPages;
  if (state.page > pages) { state.page = pages; return loadEvents(); }
  drawTable();
  $('#total').textContent = `${fmtNum(r.totalItems)} event${r.totalItems === 1 ? '' : 's'}`;
  $('#page').textContent = `page ${state.page} of ${pages}`;
  $('#prev').disabled = state.page <= 1;
  $('#next').disabled = state.page >= pages;
}

const isFailed = (e) => Array.isArray(e[FAILURE]) && e[FAILURE].length > 0;
const schemaOf = (e) => (e.event_vendor && e.event_name ? `${e.event_name} ${e.event_version || ''}` : '');
const fullSchema = (e) => (e.event_vendor ? `iglu:${e.event_vendor}/${e.event_name}/${e.event_format}/${e.event_version}` : null);

function detailOf(e) {
  if (isFailed(e)) {
    const errs = e[FAILURE][0].errors || [];
    // "iglu:com.acme/checkout/jsonschema/1-0-0: …" reads as "checkout 1-0-0: …" in a table cell
    const msg = errs.length ? errs[0].message.replace(/iglu:[^/\s]+\/([^/\s]+)\/jsonschema\/(\d+-\d+-\d+)/g, '$1 $2') : '';
    return errs.length ? msg + (errs.length > 1 ? ` (+${errs.length - 1} more)` : '') : e[FAILURE][0].failureType;
  }
  if (e.event === 'struct') return [e.se_category, e.se_action, e.se_label].filter(Boolean).join(' · ');
  const ue = Object.keys(e).find((k) => k.startsWith('unstruct_event_'));
  if (ue) return short(JSON.stringify(e[ue]), 140);
  return e.page_url || e.page_title || '';
}

const short = (s, n) => (s.length > n ? s.slice(0, n - 1) + '…' : s);
function fmtTime(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  if (isNaN(d)) return iso;
  const p = (n, w = 2) => String(n).padStart(w, '0');
  const today = new Date().toDateString() === d.toDateString();
  return (today ? '' : `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} `) +
    `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${p(d.getMilliseconds(), 3)}`;
}

function cellValue(e, key) {
  const v = e[key];
  if (v === undefined || v === null) return '';
  return typeof v === 'object' ? short(JSON.stringify(v), 120) : String(v);
}

function drawTable() {
  const cols = columns();
  $('#thead').replaceChildren(...cols.map((c) => {
    const th = el('th', { text: c.label, class: c.opt ? 'opt' : (c.cls === 'st' ? 'st' : '') });
    if (c.sort !== false) {
      if (state.sort && state.sort.column === c.key) th.classList.add('sorted', ...(state.sort.desc ? [] : ['asc']));
      th.addEventListener('click', () => {
        if (!state.sort || state.sort.column !== c.key) state.sort = { column: c.key, desc: true };
        else if (state.sort.desc) state.sort = { column: c.key, desc: false };
        else state.sort = null;
        state.page = 1;
        refresh();
      });
    } else {
      th.style.cursor = 'default';
    }
    return th;
  }));
  const rows = state.events.map((e) => {
    const failed = isFailed(e);
    const tr = el('tr', { class: failed ? 'failed' : '' });
    tr.dataset.id = e.event_id;
    for (const c of cols) {
      let td;
      if (c.key === '_status') td = el('td', { class: 'st' }, el('span', { class: 'badge ' + (failed ? 'bad' : 'good'), text: failed ? 'failed' : 'good' }));
      else if (c.key === 'collector_tstamp') td = el('td', { class: 't', text: fmtTime(e.collector_tstamp), title: e.collector_tstamp || '' });
      else if (c.key === 'schema') td = el('td', { class: 'schema opt', text: schemaOf(e), title: fullSchema(e) || '' });
      else if (c.key === '_detail') td = el('td', { class: 'd', text: short(detailOf(e), 220) });
      else td = el('td', { class: c.opt ? 'opt' : '', text: cellValue(e, c.key) });
      tr.append(td);
    }
    if (state.selected && state.selected.event_id === e.event_id) tr.classList.add('sel');
    if (state.flashId && state.flashId === e.event_id) { tr.classList.add('flash'); state.flashId = null; }
    tr.addEventListener('click', () => openPanel(e));
    return tr;
  });
  $('#tbody').replaceChildren(...rows);
  $('#empty').hidden = rows.length > 0;
}

// ---------- the column picker ----------
async function openPicker() {
  const pop = $('#cols');
  if (!pop.hidden) { pop.hidden = true; $('#cols-btn').setAttribute('aria-expanded', 'false'); return; }
  state.allColumns = await api('/micro/columns');
  pop.hidden = false;
  $('#cols-btn').setAttribute('aria-expanded', 'true');
  drawPicker();
  $('#cols-filter').focus();
}

function drawPicker() {
  const q = $('#cols-filter').value.toLowerCase();
  const base = new Set(BASE_COLUMNS.map((c) => c.key));
  const list = state.allColumns.filter((c) => !base.has(c) && c.toLowerCase().includes(q));
  $('#cols-list').replaceChildren(...list.slice(0, 400).map((c) => {
    const box = el('input', { type: 'checkbox' });
    box.checked = state.extraCols.includes(c);
    box.addEventListener('change', () => {
      state.extraCols = box.checked ? [...state.extraCols, c] : state.extraCols.filter((x) => x !== c);
      localStorage.setItem('inspect.columns', JSON.stringify(state.extraCols));
      drawTable();
    });
    return el('label', {}, box, c);
  }));
}

// ---------- the side panel ----------
function highlight(json) {
  const text = JSON.stringify(json, null, 2);
  const esc = (s) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  return esc(text).replace(/("(?:\\.|[^"\\])*")(\s*:)?|\b(true|false|null)\b|-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/g,
    (m, str, colon, lit) => {
      if (str) return colon ? `<span class="k">${str}</span>${colon}` : `<span class="s">${str}</span>`;
      if (lit) return `<span class="l">${lit}</span>`;
      return `<span class="n">${m}</span>`;
    });
}

const jsonBlock = (obj) => { const pre = el('pre', { class: 'json' }); pre.innerHTML = highlight(obj); return pre; };

function schemaLinks(uris) {
  const box = el('div', { class: 'links' });
  for (const uri of [...new Set(uris)]) {
    const m = /^iglu:([^/]+)\/([^/]+)\/jsonschema\/(\d+-\d+-\d+)$/.exec(uri);
    if (!m) continue;
    const href = `/micro/iglu/${m[1]}/${m[2]}/jsonschema/${m[3]}`;
    box.append(el('a', { href, target: '_blank', rel: 'noopener', title: 'open the schema', onclick: (ev) => { ev.preventDefault(); showSchema(uri, href); } }, uri.slice(5)));
  }
  return box;
}

async function showSchema(uri, href) {
  const body = $('#p-body');
  try {
    const s = await api(href);
    body.prepend(el('h3', { text: 'Schema ' + uri.slice(5) }), jsonBlock(s));
  } catch (e) {
    toast('Schema not found: ' + uri);
  }
  body.scrollTop = 0;
}

async function openPanel(e) {
  state.selected = e;
  document.querySelectorAll('#tbody tr').forEach((tr) => tr.classList.toggle('sel', tr.dataset.id === e.event_id));
  const failed = isFailed(e);
  $('#p-title').replaceChildren(el('span', { class: 'badge ' + (failed ? 'bad' : 'good'), text: failed ? 'failed' : 'good' }),
    el('span', { text: e.event || (failed ? e[FAILURE][0].failureType : 'event') }));
  $('#p-sub').textContent = `${e.event_id} · ${e.collector_tstamp || ''}`;
  const body = $('#p-body');
  body.replaceChildren(el('p', { class: 'note', text: 'loading…' }));
  $('#panel').hidden = false;
  $('#scrim').hidden = false;
  try {
    if (failed) {
      const [bad] = await api(`/micro/bad?event_id=${encodeURIComponent(e.event_id)}&limit=1`);
      body.replaceChildren();
      if (!bad) { body.append(el('p', { text: 'This event is no longer stored.' })); return; }
      body.append(el('h3', { text: 'Why it failed' }),
        el('ul', { class: 'reasons' }, ...bad.summary.map((s) => el('li', { text: s }))));
      const uris = JSON.stringify(bad.badRow).match(/iglu:[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+\/jsonschema\/\d+-\d+-\d+/g) || [];
      // the schemas the event used, not the envelopes around them
      const own = uris.filter((u) => !u.includes('.badrows/') &&
        !/^iglu:com\.snowplowanalytics\.snowplow\/(contexts|unstruct_event|payload_data)\//.test(u));
      if (own.length) body.append(el('h3', { text: 'Schemas' }), schemaLinks(own));
      body.append(el('h3', { text: `Bad row · ${bad.type}` }), jsonBlock(bad.badRow));
      if (bad.rawEvent) body.append(el('details', {}, el('summary', { text: 'Tracker parameters' }), jsonBlock(bad.rawEvent.parameters)));
    } else {
      const [good] = await api(`/micro/good?event_id=${encodeURIComponent(e.event_id)}&limit=1`);
      body.replaceChildren();
      const uris = good ? [good.schema, ...good.contexts].filter(Boolean) : [fullSchema(e)].filter(Boolean);
      if (uris.length) body.append(el('h3', { text: 'Schemas' }), schemaLinks(uris));
      const dl = el('dl', { class: 'kv' });
      for (const [k, v] of [['app', e.app_id], ['platform', e.platform], ['tracker', e.v_tracker], ['page', e.page_url], ['user', e.user_id || e.domain_userid]]) {
        if (v) dl.append(el('dt', { text: k }), el('dd', { text: v }));
      }
      body.append(el('h3', { text: 'Summary' }), dl, el('h3', { text: 'Event (Analytics SDK JSON)' }), jsonBlock(e));
      if (good) body.append(el('details', {}, el('summary', { text: 'Tracker parameters (derived)' }), jsonBlock(good.rawEvent.parameters)));
    }
  } catch (err) {
    body.replaceChildren(el('p', { text: String(err) }));
  }
}

function closePanel() {
  $('#panel').hidden = true;
  $('#scrim').hidden = true;
  state.selected = null;
  document.querySelectorAll('#tbody tr.sel').forEach((tr) => tr.classList.remove('sel'));
}

// ---------- example events ----------
const uuid = () => (crypto.randomUUID ? crypto.randomUUID() : 'xxxxxxxx-xxxx-4xxx-8xxx-xxxxxxxxxxxx'.replace(/x/g, () => (Math.random() * 16 | 0).toString(16)));
const collectorUrl = () => (state.collector || `${location.protocol}//${location.hostname}:8080`).replace(/\/+$/, '');

function examplePayload(kind, id) {
  const now = Date.now().toString();
  const p = { e: 'pv', eid: id, aid: 'inspect-ui', p: 'web', tv: 'furrow-inspect-ui', tna: 'inspect', dtm: now, stm: now,
    url: 'https://shop.example/inspect-demo', page: 'furrow inspect demo', lang: navigator.language || 'en', res: `${screen.width}x${screen.height}` };
  const page = { schema: 'iglu:com.snowplowanalytics.snowplow/web_page/jsonschema/1-0-0', data: { id: uuid() } };
  const ctx = { schema: 'iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-0', data: [page] };
  if (kind === 'se') Object.assign(p, { e: 'se', se_ca: 'demo', se_ac: 'click', se_la: 'send-button', se_va: '1' });
  if (kind === 'ue' || kind === 'bad') {
    const data = kind === 'ue' ? { targetUrl: 'https://shop.example/docs', elementId: 'docs-link' } : { elementId: 42 };
    Object.assign(p, { e: 'ue', ue_pr: JSON.stringify({ schema: 'iglu:com.snowplowanalytics.snowplow/unstruct_event/jsonschema/1-0-0',
      data: { schema: 'iglu:com.snowplowanalytics.snowplow/link_click/jsonschema/1-0-1', data } }), co: JSON.stringify(ctx) });
  }
  return p;
}

async function sendExample(kind, button) {
  const id = uuid();
  const names = { pv: 'a page view', se: 'a structured event', ue: 'a self-describing event', bad: 'an invalid event' };
  button.disabled = true;
  try {
    await fetch(`${collectorUrl()}/i?${new URLSearchParams(examplePayload(kind, id))}`, { mode: 'no-cors', credentials: 'include', cache: 'no-store' });
    state.flashId = id;
    toast(`Sent ${names[kind]} to ${collectorUrl()}`);
    // read-after-write: wait (server side) until it is stored, good or failed
    const r = await api(`/micro/events?search=${id}&min=1&wait_ms=5000`);
    if (r.totalItems === 0) toast(`Sent ${names[kind]}, but it has not arrived yet: is the pipeline running?`);
  } catch (e) {
    toast(`Could not reach the collector at ${collectorUrl()}`);
  } finally {
    button.disabled = false;
  }
}

// ---------- wiring ----------
function bind() {
  document.querySelectorAll('[data-send]').forEach((b) => b.addEventListener('click', () => sendExample(b.dataset.send, b)));
  document.querySelectorAll('[data-valid]').forEach((b) => b.addEventListener('click', () => {
    document.querySelectorAll('[data-valid]').forEach((x) => x.classList.toggle('on', x === b));
    state.valid = b.dataset.valid === '' ? null : b.dataset.valid === 'true';
    state.page = 1;
    refresh();
  }));
  const onSel = (id, key) => $(id).addEventListener('change', (ev) => { state[key] = ev.target.value; state.page = 1; refresh(); });
  onSel('#f-event', 'event');
  onSel('#f-app', 'app');
  onSel('#f-schema', 'schema');
  let typing;
  $('#f-search').addEventListener('input', (ev) => {
    clearTimeout(typing);
    typing = setTimeout(() => { state.search = ev.target.value.trim(); state.page = 1; refresh(); }, 250);
  });
  $('#prev').addEventListener('click', () => { state.page--; refresh(); });
  $('#next').addEventListener('click', () => { state.page++; refresh(); });
  $('#cols-btn').addEventListener('click', openPicker);
  $('#cols-filter').addEventListener('input', drawPicker);
  document.addEventListener('click', (ev) => {
    if (!ev.target.closest('.picker')) { $('#cols').hidden = true; $('#cols-btn').setAttribute('aria-expanded', 'false'); }
  });
  $('#p-close').addEventListener('click', closePanel);
  $('#scrim').addEventListener('click', closePanel);
  document.addEventListener('keydown', (ev) => { if (ev.key === 'Escape') closePanel(); });
  $('#reset').addEventListener('click', async () => {
    if (!confirm('Forget every stored event?')) return;
    await api('/micro/reset', {});
    closePanel();
    toast('Store reset');
    refresh();
  });
  $('#collector').addEventListener('click', () => {
    const v = prompt('Collector URL for example events', collectorUrl());
    if (v === null) return;
    state.collector = v.trim();
    localStorage.setItem('inspect.collector', state.collector);
    showCollector();
  });
}

function showCollector() {
  $('#collector').textContent = `to ${collectorUrl()}`;
}

async function start() {
  bind();
  try {
    const cfg = await fetch('/micro/config').then((r) => r.json());
    if (cfg.collector && !state.collector) state.collector = cfg.collector;
    document.title = `furrow inspect ${cfg.version}`;
  } catch (e) { /* older server: guess */ }
  showCollector();
  drawChart(Array.from({ length: BUCKETS }, () => ({ validEvents: 0, failedEvents: 0 })));
  refresh();
  setInterval(() => { if (!document.hidden) loadChart().catch(() => {}); }, BUCKET_MS);
  window.addEventListener('resize', () => { if (state.lastPoints) drawChart(state.lastPoints); });
  live();
}

start();
