#!/bin/bash
# Benchmark: enriched TSV lines (131 columns, generated here) through s3-sink into a local S3 API
# server (S3Proxy, tests/setup-s3.sh), against `gzip -1 > file; curl --aws-sigv4 -T file` of the
# same data in the same run. Prints MB/s of input for each, the ratio, and s3-sink's peak RSS.
#   bench/s3-sink.sh [MB]          (default 200 MB of input)
# S3 requires a Content-Length, so the baseline compresses to a file and then uploads it with
# x-amz-content-sha256: UNSIGNED-PAYLOAD (no hashing: the cheapest upload S3 accepts); s3-sink
# hashes the body (SHA-256 and MD5) and spools it durably. Timings are wall clock.
set -eu
cd "$(dirname "$0")/.."
MB=${1:-200}
ROOT=$(pwd)
W=$(mktemp -d "${TMPDIR:-/tmp}/furrow-bench-s3.XXXXXX")
S3_WORKDIR=$W/s3
FURROW_ROOT=$ROOT
. tests/setup-s3.sh
trap 's3_stop; rm -rf "$W"' EXIT
[ -x bin/s3-sink ] || make -s bin/s3-sink

# Realistic enriched events: 131 tab-separated columns with page views, contexts and UAs.
gen() {
	awk -v want=$((MB * 1024 * 1024)) 'function hex(n,  s) { s = ""; while (n-- > 0) s = s substr("0123456789abcdef", int(rand() * 16) + 1, 1); return s }
	function uuid() { return hex(8) "-" hex(4) "-4" hex(3) "-a" hex(3) "-" hex(12) }
	BEGIN {
		srand(42); total = 0
		split("Chrome Firefox Safari Edge", br, " "); split("Windows Linux macOS Android iOS", os, " ")
		split("/ /pricing /docs/getting-started /blog/2024/ten-tips /product/42 /cart /checkout", pages, " ")
		while (total < want) {
			ts = sprintf("2024-0%d-%02d %02d:%02d:%02d.%03d", 1 + int(rand() * 9), 1 + int(rand() * 28), int(rand() * 24), int(rand() * 60), int(rand() * 60), int(rand() * 1000))
			p = pages[1 + int(rand() * 7)]; b = br[1 + int(rand() * 4)]; o = os[1 + int(rand() * 5)]
			ctx = "{\"schema\":\"iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-0\",\"data\":[{\"schema\":\"iglu:com.snowplowanalytics.snowplow/web_page/jsonschema/1-0-0\",\"data\":{\"id\":\"" uuid() "\"}},{\"schema\":\"iglu:org.w3/PerformanceTiming/jsonschema/1-0-0\",\"data\":{\"navigationStart\":" int(rand() * 1e12) ",\"domComplete\":" int(rand() * 1e12) ",\"loadEventEnd\":" int(rand() * 1e12) "}}]}"
			dctx = "{\"schema\":\"iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-0\",\"data\":[{\"schema\":\"iglu:com.snowplowanalytics.snowplow/ua_parser_context/jsonschema/1-0-0\",\"data\":{\"useragentFamily\":\"" b "\",\"useragentMajor\":\"" int(90 + rand() * 30) "\",\"osFamily\":\"" o "\",\"deviceFamily\":\"Other\"}}]}"
			ua = "Mozilla/5.0 (" o "; x64) AppleWebKit/537.36 (KHTML, like Gecko) " b "/" int(90 + rand() * 30) ".0.0.0 Safari/537.36"
			n = 0
			c[++n] = "shop"; c[++n] = "web"; c[++n] = ts; c[++n] = ts; c[++n] = ts; c[++n] = "page_view"; c[++n] = uuid(); c[++n] = ""
			c[++n] = "sp1"; c[++n] = "js-3.17.0"; c[++n] = "furrow-collector-0.1.0-stdout"; c[++n] = "furrow-enrich-0.1.0"
			c[++n] = "user" int(rand() * 100000) "@example.com"; c[++n] = int(rand() * 223) "." int(rand() * 255) "." int(rand() * 255) ".x"
			c[++n] = int(rand() * 2e9); c[++n] = uuid(); c[++n] = int(1 + rand() * 40); c[++n] = uuid()
			c[++n] = "GB"; c[++n] = "ENG"; c[++n] = "London"; c[++n] = "EC1A"; c[++n] = sprintf("%.4f", 51 + rand()); c[++n] = sprintf("%.4f", -rand()); c[++n] = "England"
			for (i = 0; i < 4; i++) c[++n] = ""
			c[++n] = "https://shop.example.com" p "?utm_source=news&id=" int(rand() * 1e6); c[++n] = "Example shop: " p; c[++n] = "https://www.google.com/"
			c[++n] = "https"; c[++n] = "shop.example.com"; c[++n] = "443"; c[++n] = p; c[++n] = "utm_source=news&id=" int(rand() * 1e6); c[++n] = ""
			c[++n] = "https"; c[++n] = "www.google.com"; c[++n] = "443"; c[++n] = "/"; c[++n] = ""; c[++n] = ""
			c[++n] = "search"; c[++n] = "Google"; c[++n] = "shoes"; c[++n] = "email"; c[++n] = "news"; c[++n] = "spring"; c[++n] = ""; c[++n] = "newsletter"
			c[++n] = ctx
			while (n < 76) c[++n] = ""
			c[++n] = ua
			while (n < 122) c[++n] = (rand() < 0.3 ? int(rand() * 2000) : "")
			c[++n] = dctx; c[++n] = uuid(); c[++n] = ts; c[++n] = "com.snowplowanalytics.snowplow"; c[++n] = "page_view"; c[++n] = "jsonschema"; c[++n] = "1-0-0"; c[++n] = hex(32); c[++n] = ""
			line = c[1]; for (i = 2; i <= 131; i++) line = line "\t" c[i]
			print line; total += length(line) + 1
		}
	}'
}

echo "generating ${MB} MB of enriched events..." >&2
gen >"$W/in.tsv"
cols=$(head -n1 "$W/in.tsv" | awk -F'\t' '{print NF}')
bytes=$(stat -c %s "$W/in.tsv"); lines=$(wc -l <"$W/in.tsv")
echo "input: $lines lines, $bytes bytes, $cols columns" >&2
s3_start >/dev/null
s3_mb bench
mbps() { awk -v b="$1" -v s="$2" 'BEGIN { printf "%.1f", b / 1048576 / s }'; }

# s3-sink, one object per run (rotation far above the input size), default level 6 and level 1.
run_sink() {
	rm -rf "$W/spool"
	/usr/bin/time -f '%e %M' -o "$W/time" bin/s3-sink --bucket bench --endpoint "$S3_ENDPOINT" \
	    --path-style --spool "$W/spool" --prefix "sink-l$1/" --compression-level "$1" \
	    --rotate-bytes 0 --multipart-threshold 0 -q <"$W/in.tsv"
	read -r secs rss_kb <"$W/time"
	echo "$secs $rss_kb"
}
# Baseline: gzip -1 then one signed PUT of the file.
run_base() {
	start=$(date +%s.%N)
	gzip -1 <"$W/in.tsv" >"$W/base.gz"
	code=$(curl -sS -o /dev/null -w '%{http_code}' --aws-sigv4 "aws:amz:$S3_REGION:s3" \
	    -u "$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY" -H "x-amz-content-sha256: UNSIGNED-PAYLOAD" \
	    -T "$W/base.gz" "$S3_ENDPOINT/bench/base/x.gz")
	end=$(date +%s.%N)
	[ "$code" = 200 ] || { echo "baseline upload failed: $code" >&2; exit 1; }
	awk -v a="$start" -v b="$end" 'BEGIN { printf "%.3f", b - a }'
}
# Warm up the server's JIT and the page cache, then measure.
run_base >/dev/null; run_sink 1 >/dev/null
base=$(run_base)
read -r s1 r1 <<<"$(run_sink 1)"
read -r s6 r6 <<<"$(run_sink 6)"
base2=$(run_base)
bavg=$(awk -v a="$base" -v b="$base2" 'BEGIN { printf "%.3f", (a + b) / 2 }')
printf 'baseline gzip -1 | curl --aws-sigv4:  %s MB/s (%s s, mean of 2 runs)\n' "$(mbps "$bytes" "$bavg")" "$bavg"
printf 's3-sink --compression-level 1:       %s MB/s (%s s), ratio %.2f, peak RSS %d KiB\n' \
    "$(mbps "$bytes" "$s1")" "$s1" "$(awk -v a="$bavg" -v b="$s1" 'BEGIN { print a / b }')" "$r1"
printf 's3-sink default (level 6):           %s MB/s (%s s), ratio %.2f, peak RSS %d KiB\n' \
    "$(mbps "$bytes" "$s6")" "$s6" "$(awk -v a="$bavg" -v b="$s6" 'BEGIN { print a / b }')" "$r6"
printf 'compressed: gzip -1 %d bytes\n' "$(stat -c %s "$W/base.gz")"
