// Parse every line of an enriched TSV file with Snowplow's JavaScript Analytics SDK
// (npm snowplow-analytics-sdk) and check the result: the line is accepted, the JSON columns
// become objects, and a few columns keep their values. Prints "# sdk: parsed N" or the failing lines (as TAP comments) and
// exits 1. usage: node sdk-parse.js SDK_DIR FILE.tsv
'use strict';
const fs = require('fs');
const path = require('path');
const sdk = require(path.resolve(process.argv[2], 'node_modules', 'snowplow-analytics-sdk'));
const lines = fs.readFileSync(process.argv[3], 'utf8').split('\n').filter(l => l.length > 0);
let bad = 0;
lines.forEach((line, i) => {
  const f = line.split('\t');
  try {
    const ev = sdk.transform(line);
    const problems = [];
    if (ev.event_id !== f[6]) problems.push('event_id');
    if (ev.app_id !== (f[0] || undefined)) problems.push('app_id');
    if (f[52] && !Object.keys(ev).some(k => k.startsWith('contexts_'))) problems.push('contexts');
    if (f[58] && !Object.keys(ev).some(k => k.startsWith('unstruct_event_'))) problems.push('unstruct_event');
    if (f[122] && !Object.keys(ev).some(k => k.startsWith('contexts_'))) problems.push('derived_contexts');
    if (f[3] && typeof ev.collector_tstamp !== 'string') problems.push('collector_tstamp');
    if (problems.length) throw new Error('unexpected ' + problems.join(', '));
  } catch (e) {
    bad++;
    console.log('# sdk: line ' + (i + 1) + ': ' + e.message);
  }
});
console.log(bad ? '# sdk: failed ' + bad + ' of ' + lines.length : '# sdk: parsed ' + lines.length);
process.exit(bad ? 1 : 0);
