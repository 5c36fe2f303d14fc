/*
 * httpd_parse: the pure half of httpd (see httpd.h): the request line and headers of an HTTP/1.x
 * request parsed from a byte buffer, with the limits and semantic checks (Host, framing,
 * methods) applied, and the reason phrases. No sockets, no allocation, no clock: the server
 * (httpd.c) calls it, and the unit tests and the fuzz target call it directly.
 */
#include "httpd.h"

#include <stdint.h>
#include <string.h>
#include <strings.h>

static const unsigned char httpd_tchar[256] = {
	['!'] = 1, ['#'] = 1, ['$'] = 1, ['%'] = 1, ['&'] = 1, ['\''] = 1, ['*'] = 1, ['+'] = 1,
	['-'] = 1, ['.'] = 1, ['^'] = 1, ['_'] = 1, ['`'] = 1, ['|'] = 1, ['~'] = 1,
	['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1, ['5'] = 1, ['6'] = 1, ['7'] = 1,
	['8'] = 1, ['9'] = 1,
	['A'] = 1, ['B'] = 1, ['C'] = 1, ['D'] = 1, ['E'] = 1, ['F'] = 1, ['G'] = 1, ['H'] = 1,
	['I'] = 1, ['J'] = 1, ['K'] = 1, ['L'] = 1, ['M'] = 1, ['N'] = 1, ['O'] = 1, ['P'] = 1,
	['Q'] = 1, ['R'] = 1, ['S'] = 1, ['T'] = 1, ['U'] = 1, ['V'] = 1, ['W'] = 1, ['X'] = 1,
	['Y'] = 1, ['Z'] = 1,
	['a'] = 1, ['b'] = 1, ['c'] = 1, ['d'] = 1, ['e'] = 1, ['f'] = 1, ['g'] = 1, ['h'] = 1,
	['i'] = 1, ['j'] = 1, ['k'] = 1, ['l'] = 1, ['m'] = 1, ['n'] = 1, ['o'] = 1, ['p'] = 1,
	['q'] = 1, ['r'] = 1, ['s'] = 1, ['t'] = 1, ['u'] = 1, ['v'] = 1, ['w'] = 1, ['x'] = 1,
	['y'] = 1, ['z'] = 1,
};

/* Is there a byte below n (n <= 128) in w? Exact (unlike a search for the first such byte). */
#define SWAR_ONES8 0x0101010101010101ULL
#define HAS_BELOW(w, n) (((w) - SWAR_ONES8 * (n)) & ~(w) & (SWAR_ONES8 * 0x80))
#define HAS_7F(w) ((((w) ^ (SWAR_ONES8 * 0x7f)) - SWAR_ONES8) & ~((w) ^ (SWAR_ONES8 * 0x7f)) & \
    (SWAR_ONES8 * 0x80))

/* Does [p, e) hold a control character or DEL? below is 0x21 for a request-target (space is a
 * control there: it ends the target), 0x20 for a field value (where a tab is allowed too).
 * Long request-targets and values go 8 bytes a step. */
static int
has_ctl(const char *p, const char *e, unsigned below)
{
	for (; e - p >= 8; p += 8) {
		uint64_t w;

		memcpy(&w, p, 8);
		if (HAS_BELOW(w, below) | HAS_7F(w))
			break;
	}
	for (; p < e; p++) {
		unsigned char c = (unsigned char)*p;

		if ((c < below && !(below == 0x20 && c == '\t')) || c == 0x7f)
			return 1;
	}
	return 0;
}

static int
ieq(const char *a, size_t alen, const char *b)
{
	size_t blen = strlen(b);

	return alen == blen && strncasecmp(a, b, blen) == 0;
}

/* Does the comma-separated list value contain token tok (case-insensitive)? */
static int
list_has(const char *v, size_t len, const char *tok)
{
	size_t i = 0, s, e;

	while (i < len) {
		while (i < len && (v[i] == ' ' || v[i] == '\t' || v[i] == ','))
			i++;
		s = i;
		while (i < len && v[i] != ',')
			i++;
		e = i;
		while (e > s && (v[e - 1] == ' ' || v[e - 1] == '\t'))
			e--;
		if (e > s && ieq(v + s, e - s, tok))
			return 1;
	}
	return 0;
}

/* A Host field value: uri-host [ ":" port ] (RFC 9110 §7.2, RFC 3986 §3.2.2): reg-name and
 * IP-literal characters only; empty is allowed (a target without an authority). */
static int
host_value_ok(const char *v, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)v[i];

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
			continue;
		if (strchr("-._~%!$&'()*+,;=:[]", c) == NULL || c == '\0')
			return 0;
	}
	return 1;
}

/* Framing and connection semantics from the parsed headers. Returns 0 or an HTTP status. */
static int
httpd_semantics(struct httpd_request *req, const struct httpd_limits *lim)
{
	size_t i, k;
	int have_te = 0, n_host = 0;

	req->content_length = -1;
	req->chunked = 0;
	req->expect_continue = 0;
	req->keep_alive = req->minor >= 1;
	for (i = 0; i < req->n_headers; i++) {
		const struct httpd_header *h = &req->headers[i];

		if (ieq(h->name, h->name_len, "content-length")) {
			int64_t v = 0;

			if (h->value_len == 0)
				return 400;
			for (k = 0; k < h->value_len; k++) {
				if (h->value[k] < '0' || h->value[k] > '9')
					return 400;
				if (v > (INT64_MAX - 9) / 10)
					return 413;
				v = v * 10 + (h->value[k] - '0');
			}
			if (req->content_length >= 0 && req->content_length != v)
				return 400;
			req->content_length = v;
		} else if (ieq(h->name, h->name_len, "transfer-encoding")) {
			have_te = 1;
			if (ieq(h->value, h->value_len, "chunked"))
				req->chunked = 1;
			else
				return 501;
		} else if (ieq(h->name, h->name_len, "connection")) {
			if (list_has(h->value, h->value_len, "close"))
				req->keep_alive = 0;
			else if (list_has(h->value, h->value_len, "keep-alive"))
				req->keep_alive = 1;
		} else if (ieq(h->name, h->name_len, "expect")) {
			if (ieq(h->value, h->value_len, "100-continue"))
				req->expect_continue = req->minor >= 1;
		} else if (ieq(h->name, h->name_len, "host")) {
			n_host++;
			if (!host_value_ok(h->value, h->value_len))
				return 400;
		}
	}
	/* Both framings at once is a request-smuggling shape: refuse it. */
	if (have_te && req->content_length >= 0)
		return 400;
	if (req->content_length > 0 && (uint64_t)req->content_length > lim->max_body)
		return 413;
	/* RFC 9112 §3.2: 400 for an HTTP/1.1 request without Host, and for any request with more
	 * than one */
	if (n_host > 1 || (n_host == 0 && req->minor >= 1))
		return 400;
	return 0;
}

int
httpd_parse_head(const char *buf, size_t len, const struct httpd_limits *lim,
    struct httpd_request *req)
{
	const char *p = buf, *end = buf + len, *eol, *sp1, *sp2, *line_end, *hstart;
	size_t line_len;

	req->n_headers = 0;
	req->head_len = 0;
	eol = memchr(p, '\n', len);
	if (eol == NULL)
		return len > lim->max_request_line + 1 ? 414 : HTTPD_INCOMPLETE;
	line_end = eol;
	if (line_end > p && line_end[-1] == '\r')
		line_end--;
	line_len = (size_t)(line_end - p);
	if (line_len > lim->max_request_line)
		return 414;
	/* method SP request-target SP HTTP-version */
	sp1 = memchr(p, ' ', line_len);
	if (sp1 == NULL || sp1 == p)
		return 400;
	/* a method is a token, and case-sensitive (RFC 9110 §9.1): "get" is not GET but a malformed
	 * request line (nginx answers 400 too), not a request for an unknown route */
	for (const char *q = p; q < sp1; q++)
		if (!httpd_tchar[(unsigned char)*q] || (*q >= 'a' && *q <= 'z'))
			return 400;
	sp2 = memchr(sp1 + 1, ' ', (size_t)(line_end - sp1 - 1));
	if (sp2 == NULL || sp2 == sp1 + 1)
		return 400;
	if (has_ctl(sp1 + 1, sp2, 0x21))
		return 400;
	if (line_end - sp2 - 1 != 8 || memcmp(sp2 + 1, "HTTP/", 5) != 0 ||
	    sp2[6] < '0' || sp2[6] > '9' || sp2[7] != '.' || sp2[8] < '0' || sp2[8] > '9')
		return 400;
	if (sp2[6] != '1')
		return 505;
	req->method = p;
	req->method_len = (size_t)(sp1 - p);
	req->target = sp1 + 1;
	req->target_len = (size_t)(sp2 - sp1 - 1);
	req->minor = sp2[8] - '0';

	/* header fields, each "name: value" CRLF, until an empty line */
	hstart = p = eol + 1;
	for (;;) {
		const char *colon, *v, *ve, *le;

		eol = memchr(p, '\n', (size_t)(end - p));
		if (eol == NULL)
			return (size_t)(end - hstart) > lim->max_headers ? 431 : HTTPD_INCOMPLETE;
		if ((size_t)(eol + 1 - hstart) > lim->max_headers)
			return 431;
		le = eol;
		if (le > p && le[-1] == '\r')
			le--;
		if (le == p) {
			req->head_len = (size_t)(eol + 1 - buf);
			break;
		}
		if (*p == ' ' || *p == '\t')
			return 400;        /* obsolete line folding */
		if (req->n_headers == HTTPD_MAX_HEADERS)
			return 431;
		colon = memchr(p, ':', (size_t)(le - p));
		if (colon == NULL || colon == p)
			return 400;
		for (const char *q = p; q < colon; q++)
			if (!httpd_tchar[(unsigned char)*q])
				return 400;
		v = colon + 1;
		ve = le;
		if (has_ctl(v, ve, 0x20))
			return 400;
		while (v < ve && (*v == ' ' || *v == '\t'))
			v++;
		while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
			ve--;
		req->headers[req->n_headers].name = p;
		req->headers[req->n_headers].name_len = (size_t)(colon - p);
		req->headers[req->n_headers].value = v;
		req->headers[req->n_headers].value_len = (size_t)(ve - v);
		req->n_headers++;
		p = eol + 1;
	}
	return httpd_semantics(req, lim);
}

const struct httpd_header *
httpd_header_get(const struct httpd_request *req, const char *name)
{
	size_t i, n = strlen(name);

	for (i = 0; i < req->n_headers; i++)
		if (req->headers[i].name_len == n && strncasecmp(req->headers[i].name, name, n) == 0)
			return &req->headers[i];
	return NULL;
}

const char *
httpd_reason(int status)
{
	switch (status) {
	case 100: return "Continue";
	case 200: return "OK";
	case 204: return "No Content";
	case 301: return "Moved Permanently";
	case 302: return "Found";
	case 303: return "See Other";
	case 307: return "Temporary Redirect";
	case 308: return "Permanent Redirect";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 408: return "Request Timeout";
	case 411: return "Length Required";
	case 413: return "Payload Too Large";
	case 414: return "URI Too Long";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 501: return "Not Implemented";
	case 503: return "Service Unavailable";
	case 505: return "HTTP Version Not Supported";
	default: return "Unknown";
	}
}
