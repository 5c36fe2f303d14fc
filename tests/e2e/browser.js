// Loads Snowplow's real browser tracker (@snowplow/browser-tracker + the link click plugin) in
// headless Chromium (Debian's /usr/bin/chromium driven by playwright-core) on a page served
// from a different origin than the collector, then tracks a page view, a real link click and a
// self-describing event. This exercises the CORS preflight, POST with credentials and the sp
// cookie. Prints {"nuid": <sp cookie value>, "posts": N, "statuses": [...], ...} on stdout.
//   node browser.js http://127.0.0.1:COLLECTOR_PORT APP_ID
// The collector may be https://: Chromium then trusts what its NSS database ($HOME/.pki/nssdb)
// trusts. SCREENSHOT=FILE.png saves the page at the end; PAGE_TLS_CERT and PAGE_TLS_KEY serve
// the page over HTTPS.
'use strict';
const http = require('http');
const fs = require('fs');
const path = require('path');
const { chromium } = require('playwright-core');

const [collector, appId] = process.argv.slice(2);
const mod = (p) => require.resolve(p);
const files = {
	'/tracker.js': mod('@snowplow/browser-tracker/dist/index.umd.min.js'),
	'/link.js': mod('@snowplow/browser-plugin-link-click-tracking/dist/index.umd.min.js'),
};
const page = `<!doctype html><html><head><title>furrow e2e</title>
<script src="/tracker.js"></script><script src="/link.js"></script></head><body>
<a id="go" href="#section-2">Section 2</a>
<script>
const sp = window.snowplowBrowserTracking, lc = window.snowplowLinkClickTracking;
sp.newTracker('sp', ${JSON.stringify(collector)}, { appId: ${JSON.stringify(appId)},
	eventMethod: 'post', bufferSize: 1, credentials: 'include',
	plugins: [lc.LinkClickTrackingPlugin()], contexts: { webPage: true } });
window.trackPv = () => sp.trackPageView();
window.trackRest = () => {
	lc.enableLinkClickTracking({ pseudoClicks: false });
	sp.trackSelfDescribingEvent({ event: {
		schema: 'iglu:com.snowplowanalytics.snowplow/site_search/jsonschema/1-0-0',
		data: { terms: ['furrow', 'pipeline'], filters: { lang: 'en' } } } });
};
</script></body></html>`;

// PAGE_TLS_CERT/PAGE_TLS_KEY: serve the page over HTTPS too (https://localhost:PORT), as a site
// that sends to an HTTPS collector is served
const pageTls = process.env.PAGE_TLS_CERT ? { cert: fs.readFileSync(process.env.PAGE_TLS_CERT),
	key: fs.readFileSync(process.env.PAGE_TLS_KEY) } : null;
const server = (pageTls ? (h) => require('https').createServer(pageTls, h) : http.createServer)((req, res) => {
	const f = files[req.url];
	if (f) { res.writeHead(200, { 'Content-Type': 'application/javascript' }); fs.createReadStream(f).pipe(res); return; }
	res.writeHead(200, { 'Content-Type': 'text/html' });
	res.end(page);
});

(async () => {
	await new Promise((r) => server.listen(0, '127.0.0.1', r));
	const origin = pageTls ? `https://localhost:${server.address().port}` : `http://127.0.0.1:${server.address().port}`;
	const browser = await chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
		args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
			'--disable-background-networking', '--disable-component-update', '--disable-sync'] });
	const ctx = await browser.newContext();
	const p = await ctx.newPage();
	const statuses = [];
	let preflights = 0;
	p.on('response', (r) => {
		if (!r.url().startsWith(collector)) return;
		if (r.request().method() === 'POST') statuses.push(r.status());
	});
	p.on('request', (r) => { if (r.url().startsWith(collector) && r.method() === 'OPTIONS') preflights++; });
	await p.goto(origin + '/page.html');
	const isPost = (r) => r.url().startsWith(collector) && r.request().method() === 'POST';
	// the first POST sets the sp cookie; the rest must carry it back
	await Promise.all([p.waitForResponse(isPost, { timeout: 15000 }), p.evaluate(() => window.trackPv())]);
	await p.evaluate(() => window.trackRest());
	await Promise.all([p.waitForResponse(isPost, { timeout: 15000 }), p.click('#go')]);
	const deadline = Date.now() + 15000;
	while (statuses.length < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
	const cookies = await ctx.cookies(collector);
	const sp = cookies.find((c) => c.name === 'sp');
	const result = { origin, nuid: sp ? sp.value : null, posts: statuses.length, statuses, preflights,
		cookieSecure: sp ? sp.secure : null, cookieSameSite: sp ? sp.sameSite : null };
	if (process.env.SCREENSHOT) {
		// the page, with what the browser saw of the collector written on it
		await p.evaluate((text) => { const pre = document.createElement('pre'); pre.textContent = text;
			document.body.appendChild(pre); }, `collector ${collector}\n${JSON.stringify(result, null, 2)}`);
		await p.screenshot({ path: process.env.SCREENSHOT });
	}
	console.log(JSON.stringify(result));
	await browser.close();
	server.close();
	process.exit(statuses.length >= 3 && statuses.every((s) => s === 200) ? 0 : 1);
})().catch((e) => { console.error(e); process.exit(1); });
