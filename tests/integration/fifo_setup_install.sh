#!/bin/bash
# After `make install PREFIX=...` (issue 10 §1): the launcher is installed under the one name its
# man page and cli.md give it, fifo-setup.sh; every .Xr in the installed man pages resolves; and
# the installed launcher, started from elsewhere with PATH=/usr/bin:/bin and nothing else set but
# its port and data directory, runs the stages installed beside it with the schemas and
# enrichments under share/furrow, carries an event to good.tsv and stops cleanly.
. "$(dirname "$0")/../lib.sh"

prefix=$T_TMP/prefix
# The binaries this suite tests (make sanitize: build/san/bin), installed without rebuilding.
build=$FURROW_ROOT/build
[ "$FURROW_BIN" = "$FURROW_ROOT/bin" ] || build=$(dirname "$FURROW_BIN")
env -u MAKEFLAGS -u MAKELEVEL -u MFLAGS -u MAKEOVERRIDES \
	make -s -C "$FURROW_ROOT" install PREFIX="$prefix" BIN="$FURROW_BIN" BUILD="$build" >"$T_TMP/install.log" 2>&1
eq "make install PREFIX=$prefix" 0 $?
for f in bin/collector bin/enrich bin/es-sink bin/s3-sink bin/fifo-setup.sh share/man/man1/fifo-setup.sh.1 \
	share/man/man7/furrow.7 share/furrow/schemas/com.snowplowanalytics.snowplow \
	share/furrow/enrichments/default share/furrow/systemd/furrow-enrich.service; do
	check "installed: $f" test -e "$prefix/$f"
done
eq "the launcher has one name" "fifo-setup.sh" "$(ls "$prefix/bin" | grep -i -E 'fifo|setup|launch')"
check "man fifo-setup.sh finds the installed page" sh -c \
	"MANPATH='$prefix/share/man' man -w fifo-setup.sh | grep -qx '$prefix/share/man/man1/fifo-setup.sh.1'"
unresolved=""
for page in "$prefix"/share/man/man*/*; do
	while read -r _ name sec _; do
		sec=${sec%%[!0-9]*}
		[ -e "$prefix/share/man/man$sec/$name.$sec" ] && continue
		MANPATH=/usr/share/man man -w "$sec" "$name" >/dev/null 2>&1 && continue
		unresolved="$unresolved $(basename "$page"):$name($sec)"
	done < <(grep '^\.Xr ' "$page")
done
eq "every .Xr resolves (installed beside them, or a system page)" "" "$unresolved"
for page in fifo-setup.sh.1 furrow.7; do
	eq "$page: groff -ww -mdoc is clean" "" "$(groff -ww -mdoc -Tutf8 "$FURROW_ROOT/man/$page" 2>&1 >/dev/null)"
done
eq "fifo-setup.sh.1 has its sections" "NAME SYNOPSIS DESCRIPTION OPTIONS ENVIRONMENT FILES EXIT STATUS EXAMPLES SEE ALSO" \
	"$(sed -n 's/^\.Sh //p' "$FURROW_ROOT/man/fifo-setup.sh.1" | tr '\n' ' ' | sed 's/ $//')"

# ---- the installed launcher, from elsewhere, with a minimal PATH ----
port=$(free_port)
data=$T_TMP/data
iport=$(free_port) gport=$(free_port)
user() { (cd "$T_TMP" && env -i PATH=/usr/bin:/bin HOME="$T_TMP" FURROW_PORT="$port" \
	FURROW_INSPECT_PORT="$iport" FURROW_IGLU_PORT="$gport" \
	FURROW_BIND=127.0.0.1 FURROW_DATA_DIR="$data" "$prefix/bin/fifo-setup.sh" "$@"); }
user start >"$T_TMP/launcher.log" 2>&1 &
lpid=$!
T_PIDS="$T_PIDS $lpid"
if wait_for 60 test -f "$data/run/ready"; then ok "the installed launcher starts the pipeline"
else fail "the installed launcher starts the pipeline"; sed 's/^/# /' "$T_TMP/launcher.log" "$data"/run/*.log; done_testing; exit; fi
for s in collector enrich; do
	eq "$s is the installed one" "$prefix/bin/$s" "$(readlink "/proc/$(cat "$data/run/$s.pid")/exe")"
done
cmdline=$(tr '\0' ' ' <"/proc/$(cat "$data/run/enrich.pid")/cmdline")
check "enrich uses the installed schemas" sh -c "echo '$cmdline' | grep -q -- '--schemas $prefix/share/furrow/schemas '"
check "enrich uses the installed default enrichments" sh -c "echo '$cmdline' | grep -q -- '--enrichments $prefix/share/furrow/enrichments/default '"
eq "an event" 200 "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/i?e=pv&p=web&tv=i-1&url=https%3A%2F%2Fexample.com%2Finstalled")"
check "it is in good.tsv" wait_for 10 grep -q 'https://example.com/installed' "$data/good.tsv"
check "the default enrichments ran (ua_parser_context)" grep -q ua_parser_context "$data/good.tsv"
user status >"$T_TMP/status.log" 2>&1
eq "status" 0 $?
user stop >>"$T_TMP/launcher.log" 2>&1
eq "stop" 0 $?
wait "$lpid"
eq "the launcher exits 0" 0 $?
done_testing
