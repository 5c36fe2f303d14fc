#!/bin/bash
# Benchmark: s3-sink against plain zlib deflate at the same level, in CPU-seconds.
#
#   bench/s3-sink.sh [MB] [REPS]          (defaults 100 MB of input, 3 repetitions)
#
# Input: enriched TSV lines (131 columns, generated here). Compared, interleaved in each
# repetition, each process's CPU time (user + sys, /usr/bin/time):
#   - s3-sink --compression-level L into a local S3 API server (S3Proxy, tests/setup-s3.sh), one
#     object per run: gzip, SHA-256 and MD5 of the body, durable spool, signed upload;
#   - zdeflate L (bench/zdeflate.c): zlib deflate with s3-sink's own settings (gzip wrapper,
#     windowBits 15 + 16, memLevel 8, 64 KiB buffers) to a file, nothing else: the bound;
#   - zdeflate L then curl --aws-sigv4 -T of its output (UNSIGNED-PAYLOAD: the cheapest upload S3
#     accepts), the CPU of both processes summed: the transport-included baseline.
# L is s3-sink's default 6, and 1. Prints the exact commands, min and median CPU-seconds of each,
# the ratios bound / s3-sink (1.0 = as cheap as plain zlib), wall-clock medians for reference,
# and s3-sink's peak RSS. Everything is written under a mktemp directory (BENCH_DIR to choose).
set -eu
cd "$(dirname "$0")/.."
MB=${1:-100}
REPS=${2:-3}
ROOT=$(pwd)
W=${BENCH_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/furrow-bench-s3.XXXXXX")}
mkdir -p "$W"
S3_WORKDIR=$W/s3
FURROW_ROOT=$ROOT
. tests/setup-s3.sh
if [ -n "${BENCH_DIR:-}" ]; then trap 's3_stop || :' EXIT; else trap 's3_stop || :; rm -rf "$W"' EXIT; fi
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
cc -O2 -o "$W/zdeflate" bench/zdeflate.c -lz
s3_start >/dev/null
s3_mb bench

# run NAME CMD...: one timed run of CMD (stdin from the input), "user+sys wall maxrss" appended
# to $W/t.NAME.
run() {
	name=$1; shift
	/usr/bin/time -f '%U %S %e %M' -o "$W/time" "$@" <"$W/in.tsv" >/dev/null
	awk '{ printf "%.3f %.3f %d\n", $1 + $2, $3, $4 }' "$W/time" >>"$W/t.$name"
}
sink() {   # sink LEVEL
	rm -rf "$W/spool"
	run "sink$1" bin/s3-sink --bucket bench --endpoint "$S3_ENDPOINT" --path-style \
	    --spool "$W/spool" --prefix "sink-l$1/" --compression-level "$1" \
	    --rotate-bytes 0 --multipart-threshold 0 -q
}
zlib() {   # zlib LEVEL: zdeflate alone, then its upload with curl (CPU of both summed)
	run "zlib$1" sh -c '"$1" "$2" >"$3"' sh "$W/zdeflate" "$1" "$W/base.gz"
	/usr/bin/time -f '%U %S %e' -o "$W/time.curl" curl -sS -o /dev/null -w '%{http_code}' \
	    --aws-sigv4 "aws:amz:$S3_REGION:s3" -u "$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY" \
	    -H "x-amz-content-sha256: UNSIGNED-PAYLOAD" -T "$W/base.gz" \
	    "$S3_ENDPOINT/bench/base/x$1.gz" >"$W/code"
	[ "$(cat "$W/code")" = 200 ] || { echo "baseline upload failed: $(cat "$W/code")" >&2; exit 1; }
	tail -n1 "$W/t.zlib$1" | awk -v f="$W/time.curl" 'BEGIN { getline c <f; split(c, a, " ") }
	    { printf "%.3f %.3f %d\n", $1 + a[1] + a[2], $2 + a[3], $3 }' >>"$W/t.zcurl$1"
	stat -c %s "$W/base.gz" >"$W/size.zlib$1"
}
echo "commands (stdin: $W/in.tsv, $MB MB; L = 6 and 1):"
echo "  bin/s3-sink --bucket bench --endpoint $S3_ENDPOINT --path-style --spool $W/spool --prefix sink-lL/ --compression-level L --rotate-bytes 0 --multipart-threshold 0 -q"
echo "  $W/zdeflate L >$W/base.gz          (cc -O2 -o $W/zdeflate bench/zdeflate.c -lz)"
echo "  curl -sS --aws-sigv4 aws:amz:$S3_REGION:s3 -u KEY:SECRET -H 'x-amz-content-sha256: UNSIGNED-PAYLOAD' -T $W/base.gz $S3_ENDPOINT/bench/base/xL.gz"
# Warm up the server's JIT and the page cache (not counted).
sink 1; zlib 1; rm -f "$W"/t.*
for rep in $(seq "$REPS"); do
	# alternate the order between repetitions so neither side always runs first
	if [ $((rep % 2)) = 1 ]; then sink 6; zlib 6; sink 1; zlib 1; else zlib 6; sink 6; zlib 1; sink 1; fi
done
stats() {   # stats NAME: "min median wallmedian maxrss" over the repetitions
	sort -n "$W/t.$1" | awk '{ c[NR] = $1; w[NR] = $2; if ($3 > m) m = $3 }
	    END { n = NR; med = (n % 2) ? c[(n + 1) / 2] : (c[n / 2] + c[n / 2 + 1]) / 2
	          printf "%.3f %.3f %.3f %d\n", c[1], med, w[int((n + 1) / 2)], m }'
}
echo "CPU-seconds over $REPS interleaved repetitions (min / median; wall median):"
for l in 6 1; do
	read -r smin smed swall srss <<<"$(stats "sink$l")"
	read -r zmin zmed zwall _ <<<"$(stats "zlib$l")"
	read -r cmin cmed cwall _ <<<"$(stats "zcurl$l")"
	printf '  level %d  s3-sink             %6.3f / %6.3f s  (wall %.3f s, peak RSS %d KiB)\n' "$l" "$smin" "$smed" "$swall" "$srss"
	printf '  level %d  zlib deflate        %6.3f / %6.3f s  (wall %.3f s, %d bytes out)\n' "$l" "$zmin" "$zmed" "$zwall" "$(cat "$W/size.zlib$l")"
	printf '  level %d  zlib deflate + curl %6.3f / %6.3f s\n' "$l" "$cmin" "$cmed"
	awk -v l="$l" -v s="$smed" -v z="$zmed" -v c="$cmed" -v sm="$smin" -v zm="$zmin" 'BEGIN {
	    printf "  level %d  ratio zlib / s3-sink: %.2f (medians), %.2f (mins); zlib+curl / s3-sink: %.2f\n",
	        l, z / s, zm / sm, c / s }'
done
