#!/bin/bash
# es-sink against a real Elasticsearch (integ-test-zip from Maven Central, tests/setup-es.sh).
export FURROW_ES_ENGINE=elasticsearch
. "$(dirname "$0")/es_sink_suite.bash"
