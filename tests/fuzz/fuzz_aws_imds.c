/* libFuzzer target: the instance metadata service's role credentials (common/aws:
 * aws_creds_from_imds_json, the JSON and its Expiration time). Accepted credentials have both
 * keys, NUL-terminated within their fields, and an expiry; the input is wiped either way. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../common/aws.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct aws_creds c;
	char msg[256], *copy = malloc(size + 1);
	size_t i;

	if (copy == NULL)
		return 0;
	memcpy(copy, data, size);
	copy[size] = '\0';
	memset(&c, 0, sizeof(c));
	if (aws_creds_from_imds_json(&c, copy, size, msg, sizeof(msg)) == 0) {
		if (c.akid[0] == '\0' || c.secret[0] == '\0' || c.expires == 0 ||
		    memchr(c.akid, '\0', sizeof(c.akid)) == NULL ||
		    memchr(c.secret, '\0', sizeof(c.secret)) == NULL ||
		    memchr(c.token, '\0', sizeof(c.token)) == NULL)
			abort();
	} else if (memchr(msg, '\0', sizeof(msg)) == NULL) {
		abort();
	}
	for (i = 0; i < size; i++)
		if (copy[i] != '\0')
			abort();
	free(copy);
	return 0;
}
