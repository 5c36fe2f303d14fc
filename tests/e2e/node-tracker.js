// Sends a fixed set of events to a furrow collector with Snowplow's real Node tracker
// (@snowplow/node-tracker) and prints what it sent as JSON on stdout.
//   node node-tracker.js http://127.0.0.1:PORT APP_ID [get|post]
// Events: 2 page views, 1 page ping, 2 structured events, 1 self-describing event with two
// contexts, 1 ecommerce transaction with 2 items (1 + 2 events), i.e. 9 events.
'use strict';
const { newTracker, buildPageView, buildPagePing, buildStructEvent, buildSelfDescribingEvent,
	buildEcommerceTransaction, buildEcommerceTransactionItem } = require('@snowplow/node-tracker');

const [endpoint, appId, method] = process.argv.slice(2);
if (!endpoint || !appId) {
	console.error('usage: node-tracker.js ENDPOINT APP_ID [get|post]');
	process.exit(64);
}
let failures = 0;
const tracker = newTracker({ namespace: 'e2e', appId, encodeBase64: true }, {
	endpoint,
	eventMethod: method || 'post',
	bufferSize: 1,
	retryFailedRequests: true,
	onRequestFailure: (f) => { failures++; console.error('request failed', f && f.status); },
});
tracker.setDomainUserId('8c4a6d2e-0f0b-4f6e-9c1b-5a7f3e2d1c00');

const webPage = { schema: 'iglu:com.snowplowanalytics.snowplow/web_page/jsonschema/1-0-0',
	data: { id: '1b7f3c52-4b8a-4a61-9bb4-0c2de6a91f10' } };
const geo = { schema: 'iglu:com.snowplowanalytics.snowplow/geolocation_context/jsonschema/1-0-0',
	data: { latitude: 51.5, longitude: -0.12 } };

const sent = [];
function track(kind, builder, context) {
	tracker.track(builder, context);
	sent.push(kind);
}

track('page_view', buildPageView({ pageUrl: 'https://shop.example/home?utm_source=news&utm_medium=email',
	pageTitle: 'Home', referrer: 'https://www.google.com/search?q=furrow' }), [webPage]);
track('page_view', buildPageView({ pageUrl: 'https://shop.example/cart', pageTitle: 'Cart' }));
track('page_ping', buildPagePing({ pageUrl: 'https://shop.example/cart', minXOffset: 1, maxXOffset: 10,
	minYOffset: 5, maxYOffset: 600 }));
track('struct', buildStructEvent({ category: 'video', action: 'play', label: 'intro', property: 'hd',
	value: 12.5 }));
track('struct', buildStructEvent({ category: 'video', action: 'pause' }));
track('unstruct', buildSelfDescribingEvent({ event: {
	schema: 'iglu:com.snowplowanalytics.snowplow/link_click/jsonschema/1-0-1',
	data: { targetUrl: 'https://shop.example/sale', elementId: 'banner' } } }), [webPage, geo]);
track('transaction', buildEcommerceTransaction({ orderId: 'order-1', total: 42.5, affiliation: 'web',
	tax: 2.5, shipping: 5, city: 'London', country: 'UK', currency: 'GBP' }));
track('transaction_item', buildEcommerceTransactionItem({ orderId: 'order-1', sku: 'sku-1',
	name: 'Mug', category: 'kitchen', price: 10, quantity: 2, currency: 'GBP' }));
track('transaction_item', buildEcommerceTransactionItem({ orderId: 'order-1', sku: 'sku-2',
	name: 'Tea', category: 'food', price: 17.5, quantity: 1, currency: 'GBP' }));

tracker.flush().then(() => {
	console.log(JSON.stringify({ sent, failures }));
	process.exit(failures ? 1 : 0);
}, (e) => { console.error(e); process.exit(1); });
