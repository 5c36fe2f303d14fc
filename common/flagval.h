/*
 * flagval: checks of command-line flag values, shared by every stage (cli.md: a value out of
 * range is a usage error, exit 64). Every number has a lower and an upper bound (so that, say,
 * seconds * 1000 cannot overflow), every string a length bound and, where it ends up in a
 * header, a URL, a file name or a fixed buffer, a character set.
 *
 * Library code: these only check and fill err with "--flag: what was expected, not 'value'";
 * the stage prints it (prog: ...) and exits 64. The flagval_x forms do just that themselves, for
 * a main() parsing its flags (STYLE.md 4: a helper that dies says so in its name, and runs only
 * at startup).
 */
#ifndef FURROW_FLAGVAL_H
#define FURROW_FLAGVAL_H

#include <stddef.h>

/* The longest path or stream spec a flag takes. */
#define FLAGVAL_PATH_MAX 4096

/* A decimal integer in [min, max] (no sign unless min < 0, no blanks, no suffix). 0 or -1. */
int flagval_num(const char *flag, const char *s, long long min, long long max, long long *out,
    char *err, size_t errlen);

/*
 * A string of minlen to maxlen bytes. With chars NULL any printable byte is allowed (no control
 * characters: nothing that could split a header or a log line); otherwise only ASCII letters,
 * digits and the bytes in chars. 0 or -1.
 */
int flagval_str(const char *flag, const char *s, size_t minlen, size_t maxlen, const char *chars,
    char *err, size_t errlen);

/* A size: a decimal integer, optionally followed by K, M or G (times 1024, 1024^2, 1024^3), in
 * [min, max] once multiplied. 0 or -1. */
int flagval_size(const char *flag, const char *s, long long min, long long max, long long *out,
    char *err, size_t errlen);

/* An http:// or https:// URL of at most maxlen bytes, printable, without blanks. 0 or -1. */
int flagval_http_url(const char *flag, const char *s, size_t maxlen, char *err, size_t errlen);

/* The same checks for main(): the value, or "prog: <err>" on stderr and exit 64 (EX_USAGE). */
long long flagval_xnum(const char *flag, const char *s, long long min, long long max);
long long flagval_xsize(const char *flag, const char *s, long long min, long long max);
char *flagval_xstr(const char *flag, char *s, size_t minlen, size_t maxlen, const char *chars);
/* Any other usage error: "prog: <message>" on stderr, exit 64. */
void flagval_xusage(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

#endif
