/* libFuzzer target: the collector's query-string and redirect-URI parsing (collector/col_query)
 * and the percent-decoder (common/pct) in every mode. The input is split at its first NUL into
 * a query and a name. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../collector/col_query.h"
#include "pct.h"
#include "utf8.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	const char *nul = memchr(s, '\0', size);
	size_t qlen = nul ? (size_t)(nul - s) : size;
	char name[32] = "nuid";
	struct buf b;
	const char *host;
	size_t hlen;
	int rc;

	if (nul && size - qlen - 1 < sizeof(name)) {
		memcpy(name, nul + 1, size - qlen - 1);
		name[size - qlen - 1] = '\0';
	}
	buf_init(&b, 1 << 20);
	rc = col_query_get(s, qlen, name, &b);
	if (rc == 1 && b.len > qlen)
		abort();                       /* decoding never grows */
	buf_reset(&b);
	rc = pct_decode(&b, s, size, PCT_STRICT);
	if ((rc == 0 && b.len > size) || (rc == -2 && b.len != 0))
		abort();
	buf_reset(&b);
	if (pct_decode(&b, s, size, PCT_PLUS) != 0 || b.len > size)
		abort();                       /* lenient decoding never fails nor grows */
	buf_reset(&b);
	if (pct_decode(&b, s, size, PCT_UTF8) != 0 || utf8_valid_prefix(b.data, b.len) != b.len)
		abort();
	if (col_query_uri_parse(s, size, &host, &hlen) && host &&
	    (host < s || host + hlen > s + size))
		abort();
	buf_free(&b);
	return 0;
}
