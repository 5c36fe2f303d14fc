// Load generator and latency probe for bench/e2e.sh (not a test).
//   node e2e-load.js --collector URL --es URL [--rate N] [--duration S] [--batch N]
//        [--conns N] [--poll-ms N] [--drain S] [--app-id ID] [--index NAME]
// Sends structured events at a steady rate to a furrow collector over keep-alive HTTP:
// --batch 1 sends one GET /i per event (a web tracker), --batch N > 1 sends tp2 POSTs of N
// events. Every event has a unique eid, its send time in dtm/stm and its sequence number in
// se_va. Meanwhile it polls Elasticsearch every --poll-ms for documents of this run
// (app_id = --app-id) above the highest sequence number below which all have been seen, and
// records when each event first becomes searchable. Prints one JSON summary on stdout.
'use strict';
const http = require('http');
const crypto = require('crypto');

const opt = { rate: 1000, duration: 60, batch: 1, conns: 8, pollMs: 50, drain: 30, index: 'good' };
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i += 2) {
	const k = argv[i].replace(/^--/, '').replace(/-([a-z])/g, (_, c) => c.toUpperCase());
	const v = argv[i + 1];
	if (v === undefined) { console.error(`e2e-load: ${argv[i]}: missing value`); process.exit(64); }
	opt[k] = /^[0-9.]+$/.test(v) ? Number(v) : v;
}
if (!opt.collector || !opt.es) {
	console.error('usage: e2e-load.js --collector URL --es URL [--rate N] [--duration S] [--batch N] ' +
		'[--conns N] [--poll-ms N] [--drain S] [--app-id ID] [--index NAME]');
	process.exit(64);
}
opt.appId = String(opt.appId || `bench-${process.pid}-${Date.now()}`);

const col = new URL(opt.collector);
const es = new URL(opt.es);
const agent = new http.Agent({ keepAlive: true, maxSockets: opt.conns });
const esAgent = new http.Agent({ keepAlive: true, maxSockets: 2 });

const total = Math.round(opt.rate * opt.duration);
const sendAt = new Float64Array(total);   // ms, performance clock
const seenAt = new Float64Array(total);
const rejected = new Uint8Array(total);
let sent = 0, inflight = 0, okResp = 0, errResp = 0, netErr = 0, s503 = 0, dropped = 0;
let seen = 0, W = -1;                       // every seq <= W has been seen

const ctx = Buffer.from(JSON.stringify({
	schema: 'iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-0',
	data: [{ schema: 'iglu:com.snowplowanalytics.snowplow/web_page/jsonschema/1-0-0',
		data: { id: '1b7f3c52-4b8a-4a61-9bb4-0c2de6a91f10' } }],
})).toString('base64url');
const ua = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) ' +
	'Chrome/120.0.0.0 Safari/537.36';
const t0wall = Date.now(), t0 = performance.now();
const wallOf = (t) => Math.round(t0wall + (t - t0));

function event(seq, now) {
	const ms = String(wallOf(now));
	return {
		e: 'se', se_ca: 'bench', se_ac: 'e2e', se_la: `event-${seq}`, se_pr: 'furrow',
		se_va: String(seq), eid: crypto.randomUUID(), dtm: ms, stm: ms, tv: 'js-3.24.0',
		p: 'web', aid: opt.appId, tna: 'bench', lang: 'en-GB', cs: 'UTF-8', res: '1920x1080',
		vp: '1280x720', ds: '1280x4000', cd: '24', tz: 'Europe/London', cookie: '1',
		duid: '8c4a6d2e-0f0b-4f6e-9c1b-5a7f3e2d1c00', vid: '3', sid: crypto.randomUUID(),
		url: `https://shop.example/product/${seq % 500}?utm_source=news&utm_medium=email`,
		page: 'Product', refr: 'https://www.google.com/search?q=furrow', cx: ctx,
	};
}

function request(method, path, body, first, seqs) {
	const reject = () => { dropped += seqs; for (let i = first; i < first + seqs; i++) rejected[i] = 1; };
	inflight++;
	const headers = { 'User-Agent': ua, Referer: 'https://shop.example/' };
	if (body) { headers['Content-Type'] = 'application/json; charset=UTF-8';
		headers['Content-Length'] = Buffer.byteLength(body); }
	const req = http.request({ host: col.hostname, port: col.port, method, path, agent, headers }, (res) => {
		res.resume();
		res.on('end', () => {
			inflight--;
			if (res.statusCode >= 200 && res.statusCode < 300) okResp++;
			else { errResp++; if (res.statusCode === 503) s503++; reject(); }
		});
	});
	req.on('error', () => { inflight--; netErr++; reject(); });
	req.end(body);
}

function sendDue() {
	const now = performance.now();
	let due = Math.min(total, Math.floor((now - t0) * opt.rate / 1000));
	// A generator that cannot keep up is visible in the summary (achieved rate, backlog):
	// never more than 4 requests per connection wait in the agent's queue.
	while (sent < due && inflight < opt.conns * 4) {
		const n = Math.min(opt.batch, due - sent);
		if (opt.batch === 1) {
			sendAt[sent] = now;
			const q = new URLSearchParams(event(sent, now)).toString();
			sent++;
			request('GET', `/i?${q}`, null, sent - 1, 1);
		} else {
			const data = [], first = sent;
			for (let i = 0; i < n; i++) { sendAt[sent] = now; data.push(event(sent, now)); sent++; }
			request('POST', '/com.snowplowanalytics.snowplow/tp2', JSON.stringify({
				schema: 'iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4', data }), first, n);
		}
	}
	if (sent < total) setTimeout(sendDue, 2);
	else sendEnd = performance.now();
}
let sendEnd = 0;

let polls = 0, pollErr = 0, pollBusy = false, maxBacklog = 0;
function poll() {
	if (pollBusy) return;
	pollBusy = true;
	const body = JSON.stringify({
		size: 10000, _source: false, docvalue_fields: ['se_value'], track_total_hits: false,
		query: { bool: { filter: [{ term: { app_id: opt.appId } }, { range: { se_value: { gt: W } } }] } },
		sort: [{ se_value: 'asc' }],
	});
	const req = http.request({ host: es.hostname, port: es.port, method: 'POST', agent: esAgent,
		path: `/${opt.index}/_search?filter_path=hits.hits.fields&ignore_unavailable=true`,
		headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) } }, (res) => {
		const chunks = [];
		res.on('data', (c) => chunks.push(c));
		res.on('end', () => {
			const now = performance.now();
			pollBusy = false; polls++;
			if (res.statusCode !== 200) { pollErr++; return; }
			let hits = [];
			try { hits = (JSON.parse(Buffer.concat(chunks)).hits || {}).hits || []; } catch (e) { pollErr++; }
			for (const h of hits) {
				const seq = Math.round(h.fields.se_value[0]);
				if (seq >= 0 && seq < total && seenAt[seq] === 0) { seenAt[seq] = now; seen++; }
			}
			while (W + 1 < total && (seenAt[W + 1] !== 0 || rejected[W + 1])) W++;
			maxBacklog = Math.max(maxBacklog, sent - 1 - W);
		});
	});
	req.on('error', () => { pollBusy = false; pollErr++; });
	req.end(body);
}

const pollTimer = setInterval(poll, opt.pollMs);
sendDue();

// Lag over time: each second, the age of the oldest event sent but not yet searchable.
const lagSamples = [];
const lagTimer = setInterval(() => {
	const now = performance.now();
	const oldest = W + 1 < sent ? now - sendAt[W + 1] : 0;
	lagSamples.push(Math.round(oldest));
}, 1000);

function pct(sorted, p) {
	if (!sorted.length) return null;
	return Math.round(sorted[Math.min(sorted.length - 1, Math.ceil(p / 100 * sorted.length) - 1)]);
}

const check = setInterval(() => {
	const now = performance.now();
	const finished = sent === total && inflight === 0 && (seen + dropped >= total ||
		now - sendEnd > opt.drain * 1000);
	if (!finished) return;
	clearInterval(check); clearInterval(pollTimer); clearInterval(lagTimer);
	const lat = [];
	for (let i = 0; i < total; i++) if (seenAt[i]) lat.push(seenAt[i] - sendAt[i]);
	lat.sort((a, b) => a - b);
	const sendSecs = (sendEnd - t0) / 1000;
	const out = {
		app_id: opt.appId, rate: opt.rate, duration: opt.duration, batch: opt.batch, conns: opt.conns,
		events: total, send_seconds: +sendSecs.toFixed(2), achieved_rate: Math.round(total / sendSecs),
		responses_ok: okResp, responses_error: errResp, responses_503: s503, network_errors: netErr,
		events_rejected: dropped, searchable: seen, missing: total - seen - dropped,
		latency_ms: { p50: pct(lat, 50), p95: pct(lat, 95), p99: pct(lat, 99), max: pct(lat, 100),
			min: pct(lat, 0.0001) },
		lag_ms_per_second: lagSamples, max_backlog_events: maxBacklog, polls, poll_errors: pollErr,
	};
	console.log(JSON.stringify(out));
	agent.destroy(); esAgent.destroy();
}, 100);
