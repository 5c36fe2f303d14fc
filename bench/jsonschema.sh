#!/bin/sh
# Validation throughput of the Iglu resolver + draft-04 validator on typical tracker entities.
# usage: sh bench/jsonschema.sh [ITERATIONS]   (from the repository root; builds with make first)
set -eu
cd "$(dirname "$0")/.."
make -s build/libfurrow.a
out=build/bench/jsonschema_bench
mkdir -p build/bench
PKGS="jansson libcurl libpcre2-8"
cc -std=c11 -D_GNU_SOURCE -O2 -g -Icommon $(pkg-config --cflags $PKGS) -o "$out" \
    bench/jsonschema_bench.c build/libfurrow.a $(pkg-config --libs $PKGS) -lm
"$out" "${1:-1000000}" schemas
