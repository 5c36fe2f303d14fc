#!/bin/bash
# es-sink against a real OpenSearch (integ-test-zip from Maven Central, tests/setup-es.sh): the
# Elasticsearch suite minus the 20 s outage case, which exercises no engine-specific code.
# Skipped on the sanitizer build (FURROW_SANITIZED=1), where the Elasticsearch suite already
# runs the same code paths, to keep `make sanitize` short.
export FURROW_ES_ENGINE=opensearch FURROW_ES_SKIP_OUTAGE=1
if [ "${FURROW_SANITIZED:-0}" = 1 ]; then
	echo "ok 1 - OpenSearch suite # SKIP sanitizer build"
	echo "1..1"
	exit 0
fi
. "$(dirname "$0")/es_sink_suite.bash"
