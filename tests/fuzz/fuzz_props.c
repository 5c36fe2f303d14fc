/* libFuzzer target: the librdkafka properties file parser (common/props). Every property it
 * hands on has a valid name and a value without NUL or newline, inside the input. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../common/props.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
check_cb(void *arg, unsigned line, const char *name, const char *value)
{
	size_t i, n = strlen(name);

	(void)arg;
	if (line == 0 || n == 0 || n > PROPS_NAME_MAX)
		abort();
	for (i = 0; i < n; i++)
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-", name[i]))
			abort();
	if (strchr(value, '\n') || strlen(value) > PROPS_LINE_MAX)
		abort();
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[256];

	(void)props_parse((const char *)data, size, check_cb, NULL, err, sizeof(err));
	return 0;
}
