/* libFuzzer target: common/redact (URL credentials masked in messages) and common/flagval (flag
 * values). The masked text is always terminated and within its buffer, and a mask is always
 * followed by its '@': no byte of a userinfo the scan found is shown. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "flagval.h"
#include "redact.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *in = malloc(size + 1), out[512], small[16], err[256], *at;
	long long v;

	if (in == NULL)
		return 0;
	memcpy(in, data, size);
	in[size] = '\0';
	redact_urls(in, out, sizeof(out));
	if (strlen(out) >= sizeof(out))
		abort();
	redact_urls(in, small, sizeof(small));
	if (strlen(small) >= sizeof(small))
		abort();
	/* a mask is followed by its '@' (or by the end, when cut), unless the input itself held
	 * the mask's text */
	if (strstr(in, "***") == NULL)
		for (at = strstr(out, ":/" "/***"); at != NULL; at = strstr(at + 1, ":/" "/***"))
			if (at[6] != '@' && at[6] != '\0')
				abort();
	(void)flagval_num("--n", in, -1000, 1LL << 40, &v, err, sizeof(err));
	(void)flagval_str("--s", in, 0, 64, "-_.", err, sizeof(err));
	(void)flagval_http_url("--u", in, 300, err, sizeof(err));
	if (strlen(err) >= sizeof(err))
		abort();
	free(in);
	return 0;
}
