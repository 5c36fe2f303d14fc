/*
 * uuid: v4 UUIDs from a block of getrandom(2) bytes (see uuid.h).
 */
#include "uuid.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/random.h>

#define UUID_POOL 4096

static uint8_t uuid_pool[UUID_POOL];
static size_t uuid_pool_left;

static int
uuid_fill(void)
{
	size_t got = 0;
	ssize_t n;

	while (got < UUID_POOL) {
		n = getrandom(uuid_pool + got, UUID_POOL - got, 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		got += (size_t)n;
	}
	uuid_pool_left = UUID_POOL;
	return 0;
}

int
uuid_v4(char out[UUID_STR_LEN + 1])
{
	static const char hex[] = "0123456789abcdef";
	uint8_t b[16];
	int i, o = 0;

	if (uuid_pool_left < 16 && uuid_fill() == -1)
		return -1;
	memcpy(b, uuid_pool + UUID_POOL - uuid_pool_left, 16);
	memset(uuid_pool + UUID_POOL - uuid_pool_left, 0, 16);
	uuid_pool_left -= 16;
	b[6] = (uint8_t)((b[6] & 0x0f) | 0x40);
	b[8] = (uint8_t)((b[8] & 0x3f) | 0x80);
	for (i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			out[o++] = '-';
		out[o++] = hex[b[i] >> 4];
		out[o++] = hex[b[i] & 15];
	}
	out[o] = '\0';
	return 0;
}

int
uuid_is_valid(const char *s, size_t len)
{
	size_t i;

	static const unsigned char hex[256] = {
		['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1, ['5'] = 1, ['6'] = 1, ['7'] = 1,
		['8'] = 1, ['9'] = 1, ['a'] = 1, ['b'] = 1, ['c'] = 1, ['d'] = 1, ['e'] = 1, ['f'] = 1,
		['A'] = 1, ['B'] = 1, ['C'] = 1, ['D'] = 1, ['E'] = 1, ['F'] = 1,
	};
	const unsigned char *u = (const unsigned char *)s;
	unsigned ok = 1;

	if (len != UUID_STR_LEN || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-')
		return 0;
	for (i = 0; i < len; i++)
		if (i != 8 && i != 13 && i != 18 && i != 23)
			ok &= hex[u[i]];
	return (int)ok;
}
