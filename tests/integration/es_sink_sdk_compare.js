// Compare es-sink's documents (--dump) with what the JavaScript Analytics SDK
// (npm snowplow-analytics-sdk) makes of the same enriched TSV lines.
//   node es_sink_sdk_compare.js SDK_DIR INPUT.tsv OURS.jsonl
// Prints one line per event, "ok <n>" or "diff <n> <key>: ours=<..> sdk=<..>", and exits 1 on
// any difference. Documented differences are normalised away first (es-sink(1), SDK COMPARISON):
//  1. es-sink writes every atomic key (null when empty, SDK 2.1.0); the JS SDK omits empty ones.
//  2. timestamps: es-sink writes Java Instant.toString (2023-11-14T22:13:20Z, fraction trimmed);
//     the JS SDK appends "Z" to the TSV text (2023-11-14T22:13:20.000Z). Compared as instants.
//  3. the JS SDK names column 121 refr_device_tstamp; SDK 2.1.0 and es-sink refr_dvce_tstamp.
//  4. se_value: a string in the JS SDK, a double in SDK 2.1.0 and es-sink. Compared as numbers.
//  5. event_id: es-sink lower-cases it (SDK 2.1.0 parses a UUID); the JS SDK keeps the case.
//  6. geo_location: the JS SDK joins the raw column texts, es-sink the parsed doubles
//     ("40" vs "40.0"). Compared as numbers.
const fs = require('fs');
const sdk = require(require('path').resolve(process.argv[2], 'node_modules/snowplow-analytics-sdk'));
const lines = fs.readFileSync(process.argv[3], 'utf8').split('\n').filter(l => l.length);
const ours = fs.readFileSync(process.argv[4], 'utf8').split('\n').filter(l => l.length).map(JSON.parse);
const TS = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/;
let bad = 0;
if (lines.length !== ours.length) { console.log(`count differs: ${lines.length} vs ${ours.length}`); process.exit(1); }

function norm(doc, isSdk) {
  const out = {};
  for (const [k0, v0] of Object.entries(doc)) {
    let k = k0, v = v0;
    if (v === null) continue;                                   // 1
    if (k === 'refr_device_tstamp') k = 'refr_dvce_tstamp';     // 3
    if (typeof v === 'string' && TS.test(v)) v = new Date(v).toISOString();   // 2 (ms precision)
    if (k === 'se_value') v = Number(v);                        // 4
    if (k === 'event_id') v = v.toLowerCase();                  // 5
    if (k === 'geo_location') v = v.split(',').map(Number).join(',');          // 6
    out[k] = v;
  }
  return out;
}
function canon(v) {
  if (Array.isArray(v)) return '[' + v.map(canon).join(',') + ']';
  if (v && typeof v === 'object') return '{' + Object.keys(v).sort().map(k => JSON.stringify(k) + ':' + canon(v[k])).join(',') + '}';
  return JSON.stringify(v);
}
lines.forEach((line, i) => {
  const a = norm(ours[i], false), b = norm(sdk.transform(line), true);
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  const diffs = [...keys].filter(k => canon(a[k]) !== canon(b[k]));
  if (diffs.length === 0) { console.log(`ok ${i + 1}`); return; }
  bad++;
  for (const k of diffs) console.log(`diff ${i + 1} ${k}: ours=${canon(a[k])} sdk=${canon(b[k])}`);
});
process.exit(bad ? 1 : 0);
