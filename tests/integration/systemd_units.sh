#!/bin/sh
# The systemd units in systemd/: systemd-analyze verify accepts them (with the paths pointed at
# this build), and every flag a unit passes to a stage is one that stage's --help documents.
. "$(dirname "$0")/../lib.sh"

if ! command -v systemd-analyze >/dev/null 2>&1; then
	skip "systemd-analyze verify" "systemd-analyze not installed"
	done_testing; exit
fi
mkdir -p "$T_TMP/units" "$T_TMP/bin"
cp "$FURROW_ROOT"/systemd/* "$T_TMP/units/"
for u in "$T_TMP"/units/*.service; do
	sed -i "s|/usr/local/bin/|$FURROW_BIN/|g; s|/usr/local/share/furrow/tools|$FURROW_ROOT/tools|g" "$u"
done
for u in "$T_TMP"/units/*.service "$T_TMP"/units/furrow.target; do
	name=$(basename "$u")
	stage=$(sed -n "s|^ExecStart=$FURROW_BIN/\([a-z0-9-]*\) .*|\1|p" "$u")
	if [ -n "$stage" ] && [ ! -x "$FURROW_BIN/$stage" ]; then
		skip "$name verifies" "$stage not built"
		continue
	fi
	out=$(cd "$T_TMP/units" && systemd-analyze verify --man=no "./$name" 2>&1)
	rc=$?
	if [ $rc -eq 0 ] && [ -z "$out" ]; then ok "$name verifies"; else fail "$name verifies"; diag "$out"; fi
	[ -n "$stage" ] || continue
	flags=$(sed -n 's/^ExecStart=[^ ]* //p' "$u" | tr ' ' '\n' | grep '^--' | sort -u)
	help=$("$FURROW_BIN/$stage" --help 2>&1)
	missing=""
	for f in $flags; do
		echo "$help" | grep -q -- "$f" || missing="$missing $f"
	done
	eq "$name: flags known to $stage --help" "" "$missing"
done
done_testing
