/* libFuzzer target: the collector's HTTP request-head parser (common/httpd). Every view
 * it returns must lie inside the input. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "httpd.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
inside(const char *b, size_t n, const char *p, size_t len)
{
	if (p < b || p + len > b + n)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct httpd_limits lim = { 2048, 4096, 1 << 20 };
	static struct httpd_request r;
	const char *b = (const char *)data;
	size_t i;
	int rc = httpd_parse_head(b, size, &lim, &r);

	if (rc != 0)
		return 0;
	if (r.head_len > size)
		abort();
	inside(b, size, r.method, r.method_len);
	inside(b, size, r.target, r.target_len);
	for (i = 0; i < r.n_headers; i++) {
		inside(b, size, r.headers[i].name, r.headers[i].name_len);
		inside(b, size, r.headers[i].value, r.headers[i].value_len);
	}
	return 0;
}
