/* libFuzzer target: the collector's Cookie and Origin parsing (collector/col_cookie) and the
 * Content-Type normalisation (collector/col_mime). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../collector/col_cookie.h"
#include "../../collector/col_mime.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char *domains[] = { "acme.com", "b.org", "" };
	const char *s = (const char *)data, *v;
	struct col_origin o;
	struct buf b;
	size_t vl, pos = 0, i;
	long n;

	buf_init(&b, 1 << 20);
	n = col_cookie_rerender(s, size, &b);
	if (n < 0 || (size_t)n > size)
		abort();
	for (i = 0; i < b.len; i++)
		if (b.data[i] == ' ' || (unsigned char)b.data[i] < 0x21 || (unsigned char)b.data[i] > 0x7e)
			abort();                 /* only cookie-octets and ';' survive */
	if (col_cookie_find(s, size, "sp", &v, &vl) && (v < s || v + vl > s + size))
		abort();
	while (col_cookie_origin_next(s, size, &pos, &o)) {
		if (o.host < s || o.host + o.host_len > s + size || o.host_len == 0)
			abort();
		if (pos > size)
			abort();
	}
	(void)col_cookie_domain(domains, 3, s, size, NULL);
	buf_reset(&b);
	if (col_mime_normalise(s, size, &b) != 0)
		abort();
	buf_free(&b);
	return 0;
}
