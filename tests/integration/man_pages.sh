#!/bin/bash
# The man pages in man/ (STYLE.md 11, cli.md "Exit status"): every page is groff -ww -mdoc clean
# (at the default width and at 65 columns);
# a program's page has NAME, SYNOPSIS, DESCRIPTION, OPTIONS, ENVIRONMENT, FILES, EXIT STATUS,
# EXAMPLES and SEE ALSO in that order (furrow(7): NAME, DESCRIPTION, FILES, EXAMPLES, SEE ALSO);
# EXIT STATUS is a tagged list of cli.md's codes (the launcher adds its 1 and 3), and it names
# every sysexits.h code the program's C code returns; every .Xr names a page in man/ or on the
# system. (fifo_setup_install.sh checks the installed set.)
. "$(dirname "$0")/../lib.sh"

man=$FURROW_ROOT/man
cli_codes=" 0 64 65 66 69 70 74 78 "

# The section names of a page, one line.
sections() { sed -n 's/^\.Sh //p' "$1" | tr '\n' '|'; }
# 1 when the words of $2 (separated by |) appear in $1 in that order.
in_order() {
	local have=$1 want=$2 w rest=$1
	IFS='|' read -ra ws <<<"$want"
	for w in "${ws[@]}"; do
		case "|$rest" in
		*"|$w|"*) rest=${rest#*"$w|"} ;;
		*) return 1 ;;
		esac
	done
	[ -n "$have" ]
}
# The .It tags of the EXIT STATUS section.
exit_codes() { awk '/^\.Sh EXIT STATUS/{on=1; next} /^\.Sh /{on=0} on && /^\.It [0-9]/{print $2}' "$1"; }

for page in "$man"/*.[17]; do
	pname=$(basename "$page")
	eq "$pname: groff -ww -mdoc is clean" "" "$(groff -ww -mdoc -Tutf8 "$page" 2>&1 >/dev/null)"
	# man(1) in a narrower terminal: long schema URIs need break points (\:), or troff
	# warns "can't break line" and the text runs past the margin
	eq "$pname: clean at 65 columns too" "" \
	    "$(groff -ww -mdoc -Tutf8 -rLL=65n "$page" 2>&1 >/dev/null)"
	case "$pname" in
	*.7) want="NAME|DESCRIPTION|FILES|EXAMPLES|SEE ALSO" ;;
	*)   want="NAME|SYNOPSIS|DESCRIPTION|OPTIONS|ENVIRONMENT|FILES|EXIT STATUS|EXAMPLES|SEE ALSO" ;;
	esac
	check "$pname: has its sections in order" in_order "$(sections "$page")" "$want"
	unresolved=""
	while read -r xname xsec; do
		[ -e "$man/$xname.$xsec" ] && continue
		MANPATH=/usr/share/man man -w "$xsec" "$xname" >/dev/null 2>&1 && continue
		unresolved="$unresolved $xname($xsec)"
	done < <(grep -o 'Xr [A-Za-z0-9._-]* [0-9]' "$page" | sed 's/^Xr //' | sort -u)
	eq "$pname: every .Xr resolves" "" "$unresolved"
	[[ $pname == *.1 ]] || continue
	check "$pname: EXIT STATUS is a tagged list" sh -c \
		"sed -n '/^\.Sh EXIT STATUS/{n;p;}' '$page' | grep -q '^\.Bl -tag'"
	codes=" $(exit_codes "$page" | tr '\n' ' ')"
	extra=""
	for c in $codes; do
		case "$cli_codes" in *" $c "*) continue ;; esac
		[ "$pname" = fifo-setup.sh.1 ] && { [ "$c" = 1 ] || [ "$c" = 3 ]; } && continue
		extra="$extra $c"
	done
	eq "$pname: its exit codes are cli.md's" "" "$extra"
	prog=${pname%.1}
	[ -d "$FURROW_ROOT/$prog" ] || continue
	missing=""
	for ex in $(cat "$FURROW_ROOT/$prog"/*.c | grep -ow 'EX_[A-Z]*' | sort -u); do
		n=$(awk -v n="$ex" '$1 == "#define" && $2 == n {print $3}' /usr/include/sysexits.h)
		[ -n "$n" ] || { missing="$missing $ex(?)"; continue; }
		case "$codes" in *" $n "*) ;; *) missing="$missing $ex=$n" ;; esac
	done
	eq "$pname: lists every code $prog's code returns" "" "$missing"
done
done_testing
