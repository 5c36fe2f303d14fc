/*
 * fnv: the one string hash of furrow's hash tables and caches (FNV-1a, 64 bits): fast on short
 * keys, no setup, good enough spread for power-of-two tables. Not for anything an attacker
 * could use to flood a table without a bound on its size.
 */
#ifndef FURROW_FNV_H
#define FURROW_FNV_H

#include <stddef.h>
#include <stdint.h>

#define FNV_OFFSET 1469598103934665603ULL
#define FNV_PRIME  1099511628211ULL

/* Hash n bytes at p, continuing from h (FNV_OFFSET to start). */
static inline uint64_t
fnv_bytes(uint64_t h, const void *p, size_t n)
{
	const unsigned char *s = p;
	size_t i;

	for (i = 0; i < n; i++)
		h = (h ^ s[i]) * FNV_PRIME;
	return h;
}

/* The same with ASCII letters lower-cased (case-blind keys). */
static inline uint64_t
fnv_bytes_lower(uint64_t h, const void *p, size_t n)
{
	const unsigned char *s = p;
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned char c = s[i];
		if (c >= 'A' && c <= 'Z')
			c = (unsigned char)(c + 32);
		h = (h ^ c) * FNV_PRIME;
	}
	return h;
}

/* Hash a NUL-terminated string. */
static inline uint64_t
fnv_str(const char *s)
{
	uint64_t h = FNV_OFFSET;

	while (*s)
		h = (h ^ (unsigned char)*s++) * FNV_PRIME;
	return h;
}

#endif
