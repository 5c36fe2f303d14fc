#!/bin/sh
# contrib/prometheus: the scrape configuration and the alerting rules are valid for the real
# Prometheus from Debian, and the rules behave as their unit tests say (promtool test rules).
. "$(dirname "$0")/../lib.sh"

P=$FURROW_ROOT/contrib/prometheus
if ! command -v promtool >/dev/null 2>&1; then
	fail "promtool installed (apt-get install prometheus; tests/install-deps.sh test)"
	done_testing
	exit
fi
check "promtool check config prometheus.yml" promtool check config "$P/prometheus.yml"
check "promtool check rules furrow-alerts.yml" promtool check rules "$P/furrow-alerts.yml"
(cd "$P" && promtool test rules furrow-alerts.test.yml) >"$T_TMP/rules.out" 2>&1
check "promtool test rules furrow-alerts.test.yml" [ $? -eq 0 ]
# the tests can fail: a rule test that expects the wrong alert is reported as a failure
sed 's/summary: "furrow enrich cannot write its output for over a minute"/summary: "wrong"/' \
    "$P/furrow-alerts.test.yml" >"$T_TMP/broken.test.yml"
cp "$P/furrow-alerts.yml" "$T_TMP/"
(cd "$T_TMP" && promtool test rules broken.test.yml) >/dev/null 2>&1
check "a wrong expectation fails promtool test rules" [ $? -ne 0 ]
done_testing
