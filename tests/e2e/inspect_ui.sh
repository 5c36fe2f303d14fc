#!/bin/bash
# End to end for inspect's web UI in headless Chromium: load it, send example events with its
# buttons to the real collector, see them appear without a reload, filter, search, pick a
# column, open a bad row (reasons first) and a schema, and look at it on a phone. Screenshots
# are kept for a reviewer in $FURROW_TEST_OUT/inspect_ui (build/test-output/inspect_ui).
. "$(dirname "$0")/../lib.sh"
. "$FURROW_ROOT/tests/tools/inspect.sh"
. "$FURROW_ROOT/tests/setup-npm.sh"

unavailable() {
	if [ "${CI:-}" = true ]; then fail "$1: $2"; else skip "$1" "$2"; fi
	done_testing; exit
}
npm_setup >"$T_TMP/npm.log" 2>&1 || unavailable "npm test clients" "npm install failed"
[ -x "${CHROMIUM:-/usr/bin/chromium}" ] || unavailable "headless chromium" "chromium not installed"
out=${FURROW_TEST_OUT:-$FURROW_ROOT/build/test-output}/inspect_ui
rm -rf "$out"
mkdir -p "$out"
start_pipeline || { fail "the pipeline starts"; done_testing; exit; }
ok "collector, enrich and inspect start"

node "$FURROW_ROOT/tests/e2e/inspect-ui.js" "$IURL" "$out" >"$T_TMP/ui.json" 2>"$T_TMP/ui.err"
rc=$?
[ "$rc" -eq 0 ] && ok "the browser session ran" || { fail "the browser session ran"; diag "$(jq -r .fatal "$T_TMP/ui.json" 2>/dev/null) $(tail -n 5 "$T_TMP/ui.err")"; }
for c in loads empty_state page_view_appears count_updates three_events no_reload chart_has_bars \
    filter_event_type free_text bad_row_appears reasons_first reason_readable bad_row_json_shown \
    failed_only column_added column_shown schema_links schema_opens phone_no_horizontal_scroll \
    phone_panel_full_width no_page_errors; do
	eq "ui: $c" true "$(jq -r ".checks.$c" "$T_TMP/ui.json" 2>/dev/null)"
done
[ "$(jq -r '.errors | length' "$T_TMP/ui.json" 2>/dev/null)" = 0 ] || diag "page errors: $(jq -c .errors "$T_TMP/ui.json")"
n=$(ls "$out"/*.png 2>/dev/null | wc -l)
eq "eight screenshots saved" 8 "$n"
diag "screenshots: $out"
done_testing
