#!/bin/bash
# es-sink against a real OpenSearch (integ-test-zip from Maven Central, tests/setup-es.sh).
export FURROW_ES_ENGINE=opensearch
. "$(dirname "$0")/es_sink_suite.bash"
