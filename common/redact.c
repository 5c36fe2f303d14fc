/*
 * redact: mask the userinfo of URLs in a message (see redact.h).
 */
#include "redact.h"

#include <string.h>

#define REDACT_MASK "***"

/* End of the authority that starts at p: RFC 3986 §3.2 ends it at '/', '?' or '#'; in a message
 * a blank or a quote ends the URL itself. */
static const char *
redact_authority_end(const char *p)
{
	while (*p && strchr("/?# \t\r\n\"'<>", *p) == NULL)
		p++;
	return p;
}

char *
redact_urls(const char *text, char *out, size_t outlen)
{
	size_t o = 0;
	const char *p = text;

	if (outlen == 0)
		return out;
	while (*p && o + 1 < outlen) {
		if (p[0] == ':' && p[1] == '/' && p[2] == '/') {
			const char *auth = p + 3, *end = redact_authority_end(auth), *at = NULL, *q;

			for (q = auth; q < end; q++)
				if (*q == '@')
					at = q;
			if (at != NULL) {
				/* "://" + mask, then go on from the '@'; stop rather than cut the mask */
				if (o + 3 + sizeof(REDACT_MASK) - 1 >= outlen)
					break;
				memcpy(out + o, "://" REDACT_MASK, 3 + sizeof(REDACT_MASK) - 1);
				o += 3 + sizeof(REDACT_MASK) - 1;
				p = at;
				continue;
			}
		}
		out[o++] = *p++;
	}
	out[o] = '\0';
	return out;
}
