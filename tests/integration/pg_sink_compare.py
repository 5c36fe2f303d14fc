#!/usr/bin/env python3
"""Column-by-column check of atomic.events against the enriched TSV it was loaded from.

    pg_sink_compare.py EVENTS.tsv TYPES ROWS

TYPES: "name<TAB>data_type" per column of atomic.events, in table order (information_schema).
ROWS: COPY (SELECT * FROM atomic.events) TO STDOUT, PostgreSQL's text format.

Every TSV line must have exactly one row (by event_id) and every one of its 128 atomic columns
must hold the TSV's value read by the column's type: empty is NULL; a timestamp
("2023-11-14 22:13:01.007") the same instant; 1/0 true/false; integers and doubles the same
number ("1.0E7" is 10000000); a UUID the same UUID in lower case; text the same characters
(CHAR(n) padded with blanks). The TSV column order is enriched-event.md §3. Prints one line per
difference and exits 1 if there is any.
"""
import datetime, os, re, sys

# the TSV's columns, from the one table that defines them (common/event.c)
EVENT_C = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "common", "event.c")
COLS = re.findall(r'\{ "(\w+)", EVT_', open(EVENT_C, encoding="utf-8").read())
assert len(COLS) == 131


def unescape(field):
    if field == "\\N":
        return None
    out, i = [], 0
    esc = {"t": "\t", "n": "\n", "r": "\r", "\\": "\\", "b": "\b", "f": "\f", "v": "\v"}
    while i < len(field):
        c = field[i]
        if c == "\\" and i + 1 < len(field):
            out.append(esc.get(field[i + 1], field[i + 1]))
            i += 2
        else:
            out.append(c)
            i += 1
    return "".join(out)


def ts(s):
    for fmt in ("%Y-%m-%d %H:%M:%S.%f", "%Y-%m-%d %H:%M:%S"):
        try:
            return datetime.datetime.strptime(s, fmt)
        except ValueError:
            pass
    raise ValueError("not a timestamp: %r" % s)


def same(kind, want, got):
    if want == "":
        return got is None
    if got is None:
        return False
    if kind.startswith("timestamp"):
        return ts(want) == ts(got)
    if kind == "boolean":
        return {"1": "t", "0": "f"}[want] == got
    if kind in ("integer", "bigint"):
        return int(want) == int(got)
    if kind == "double precision":
        return float(want) == float(got)
    if kind == "uuid":
        return want.lower() == got
    if kind == "character":
        return want == got.rstrip(" ")
    return want == got


def main():
    tsv, types_file, rows_file = sys.argv[1:4]
    types = [l.rstrip("\n").split("\t") for l in open(types_file, encoding="utf-8") if l.strip()]
    names = [t[0] for t in types]
    rows = {}
    for l in open(rows_file, encoding="utf-8"):
        f = [unescape(x) for x in l.rstrip("\n").split("\t")]
        if len(f) != len(names):
            print("# a row has %d columns, the table %d" % (len(f), len(names)))
            return 1
        r = dict(zip(names, f))
        rows[r["event_id"]] = r
    bad, n = 0, 0
    for l in open(tsv, encoding="utf-8"):
        e = dict(zip(COLS, l.rstrip("\n").split("\t")))
        n += 1
        r = rows.pop(e["event_id"].lower(), None)
        if r is None:
            print("# event %s: no row" % e["event_id"])
            bad += 1
            continue
        for name, kind in types:
            if not same(kind, e[name], r[name]):
                print("# event %s column %s (%s): TSV %r, PostgreSQL %r" %
                      (e["event_id"], name, kind, e[name], r[name]))
                bad += 1
    for k in rows:
        print("# row %s is not in the TSV" % k)
        bad += 1
    print("# %d events, %d columns each, %d differences" % (n, len(types), bad))
    return 1 if bad else 0


sys.exit(main())
